"""Prescribe (method step 2, [S1]): from the diagnosis' findings to treatment plans A–E and SMART tasks.

The rules are data, in ``prescriptions.yaml``: a finding's metric -> a treatment plan -> task
templates with an owner department, a weekly KPI, a way to set the target and a deadline [S0]. Targets
always start from the clinic's own baseline (its last 13 weeks) plus a step the method cites, such as
the [S0] arrival-rate step 15% -> 18%; a constant alone never makes a target.

The consultant's judgement lives in ``clinic.yaml`` (``interview_findings``, ``prescriptions``,
``tasks``, ``plan_start``); a re-run applies it, and the tables mark every value the consultant set.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import yaml

from . import i18n, sentences
from .clinic import Clinic
from .diagnosis import diagnose
from .metrics import DEPARTMENTS, METRICS, Metric, MetricError, format_number, metric_label, parse_metric
from .plotting import ACTION_RED, PALETTE
from .jsonsafe import scalar
from .results import RED, AnalysisResult, Finding
from .tables import BASELINE_WEEKS, MetricTables, clinic_tables
from .thresholds import Threshold

RULES_FILE = Path(__file__).with_name("prescriptions.yaml")
LETTERS = ("A", "B", "C", "D", "E")
TASK_COLUMNS = ["prescription", "task_id", "task", "owner_department", "owner", "metric", "baseline", "target",
                "start", "deadline", "finding", "changed"]

# A prescription's status: chosen (a red finding calls for it, or the consultant chose it), watch (only
# yellow findings), rejected (by the consultant).
CHOSEN, WATCH, REJECTED = "chosen", "watch", "rejected"
_STATUS = {CHOSEN: ("执行", "do"), WATCH: ("观察", "watch"), REJECTED: ("不采用", "not taken")}


@dataclass(frozen=True)
class TaskTemplate:
    zh: str
    en: str
    owner: str  # a key of the rules' departments
    weeks: int
    metric: str | None = None
    target: str | None = None  # step | relative | close_gap
    step: str | None = None  # the threshold giving the step, for target: step


@dataclass(frozen=True)
class Rule:
    id: str
    metric: str  # a flag metric, or a glob such as ticket_effect_*
    prescription: str
    why_zh: str
    why_en: str
    tasks: tuple[TaskTemplate, ...]
    threshold: str | None = None

    def fires(self, flag: Finding) -> bool:
        return fnmatch(flag.metric, self.metric) and (self.threshold is None or flag.threshold == self.threshold)


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    prescriptions: dict  # letter -> {zh, en}
    departments: dict  # key -> (zh, en): playbook.metrics.DEPARTMENTS
    per_rule: int


@cache
def rulebook(path: Path = RULES_FILE) -> RuleBook:
    """The rules table, read once."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rules = tuple(
        Rule(id=r["id"], metric=r["when"]["metric"], threshold=r["when"].get("threshold"),
             prescription=r["prescription"], why_zh=r["why"]["zh"], why_en=r["why"]["en"],
             tasks=tuple(TaskTemplate(**t) for t in r["tasks"]))
        for r in raw["rules"])
    return RuleBook(rules, raw["prescriptions"], DEPARTMENTS, int(raw["per_rule"]))


@dataclass
class PrescriptionPlan(AnalysisResult):
    """The treatment plans the findings call for, their SMART tasks, and the consultant's changes."""

    prescriptions: pd.DataFrame = None  # one row per plan A–E that a finding or the consultant raised
    tasks: pd.DataFrame = None  # TASK_COLUMNS, one row per task of a chosen plan
    notes: list[str] = field(default_factory=list)  # consultant changes that could not be applied, zh
    notes_en: list[str] = field(default_factory=list)
    interviews: pd.DataFrame = None  # the consultant's interview findings: who, text
    gap_closed: Threshold = field(kw_only=True)  # ``target_gap_closed``: the share of each gap the targets close

    @property
    def available(self) -> bool:
        """No finding called for a plan: the chapter shows its sentence, without an empty chart."""
        return not self.prescriptions.empty

    @property
    def chosen(self) -> pd.DataFrame:
        return self.prescriptions[self.prescriptions["status"] == CHOSEN]

    def prescriptions_for(self, lang: str = "zh") -> pd.DataFrame:
        """The plans table: letter and name, decision, expected revenue effect (the why follows per plan)."""
        p = self.prescriptions
        return pd.DataFrame({
            i18n.pick(lang, "处方", "Plan"): p["prescription"] + " " + p[f"name_{lang}"],
            i18n.pick(lang, "决定", "Decision"): [self._decision(row, lang) for row in p.itertuples()],
            i18n.pick(lang, "预计每年营收影响", "Expected revenue effect a year"): i18n.money_column(
                p["revenue_effect"].where(p["revenue_effect"] > 0), lang, missing="—"),
        })

    def effect(self, row, lang: str = "zh") -> str:
        """A chosen plan's expected revenue effect a year, with its assumption."""
        share = sentences.line(self.gap_closed)
        return i18n.pick(lang, f"预计每年营收影响约{i18n.money(row.revenue_effect, lang)}（假设目标按期达成、弥补诊断差距的{share}）。",
                         f"Expected effect about {i18n.money(row.revenue_effect, lang)} a year, assuming the targets are "
                         f"met and close {share} of the diagnosed gap.")

    @staticmethod
    def _decision(row, lang: str) -> str:
        zh, en = _STATUS[row.status]
        text = i18n.pick(lang, zh, en)
        if row.by_consultant:
            text += i18n.pick(lang, "（顾问决定", " (consultant's decision")
            text += (f"：{row.reason}）" if lang == "zh" else f": {row.reason})") if row.reason else (
                "）" if lang == "zh" else ")")
        return text

    def tasks_for(self, lang: str = "zh", prescription: str | None = None, *, ids: bool = False) -> pd.DataFrame:
        """The SMART rows: what, who, which KPI, from what baseline to what target, by when.

        ``ids`` adds the task ids the consultant uses in clinic.yaml (the notebook shows them; the
        owner's report does not). The consultant's changes get a column when there are any.
        """
        t = self.tasks if prescription is None else self.tasks[self.tasks["prescription"] == prescription]
        table = pd.DataFrame({
            i18n.pick(lang, "任务", "Task"): t["task"],
            i18n.pick(lang, "负责", "Owner"): [_owner(r, lang) for r in t.itertuples()],
            i18n.pick(lang, "考核指标", "KPI"): t["metric"].map(
                lambda m: metric_label(m, lang) if isinstance(m, str) else "—"),
            i18n.pick(lang, "基线→目标", "Baseline → target"): [_baseline_target(r, lang) for r in t.itertuples()],
            i18n.pick(lang, "期限", "Deadline"): t["deadline"].map(lambda d: i18n.day(d, lang)),
        })
        if ids:
            table.insert(0, i18n.pick(lang, "任务编号", "Task id"), t["task_id"])
        if t["changed"].map(bool).any():
            table[i18n.pick(lang, "顾问调整", "Changed by the consultant")] = t["changed"].map(lambda c: _changed(c, lang))
        return table

    def metrics(self) -> dict:
        plans = {row.prescription: {"status": row.status, "by_consultant": bool(row.by_consultant),
                                    "tasks": int((self.tasks["prescription"] == row.prescription).sum()),
                                    "revenue_effect": round(float(row.revenue_effect), 2)}
                 for row in self.prescriptions.itertuples()}
        tasks = [{"task_id": r.task_id, "prescription": r.prescription, "metric": scalar(r.metric),
                  "owner_department": r.owner_department, "baseline": scalar(r.baseline), "target": scalar(r.target),
                  "start": r.start.isoformat(), "deadline": r.deadline.isoformat()} for r in self.tasks.itertuples()]
        return {"kpis": {"prescriptions_chosen": len(self.chosen)}, "prescriptions": plans, "tasks": tasks}

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Expected revenue effect a year of each plan (万元 in zh); red for the plans to carry out."""
        ax = ax if ax is not None else plt.gca()
        p = self.prescriptions.iloc[::-1]
        scale, unit = (1e4, "万元/年") if lang == "zh" else (1e3, "¥ thousand a year")
        labels = (p["prescription"] + " " + p[f"name_{lang}"]).tolist()
        colors = [ACTION_RED if s == CHOSEN else PALETTE[4] for s in p["status"]]
        ax.barh(labels, p["revenue_effect"] / scale, color=colors, **kwargs)
        ax.set_xlabel(i18n.pick(lang, f"预计每年营收影响（{unit}）", f"Expected revenue effect ({unit})"))
        best = self.prescriptions.sort_values("revenue_effect", ascending=False).iloc[0]
        ax.set_title(i18n.pick(
            lang, f"处方{best.prescription}「{best.name_zh}」预计带回的营收最多；红色为要执行的处方",
            f"Plan {best.prescription} ({best.name_en.lower()}) is worth the most; red: plans to carry out"))
        ax.grid(axis="y", visible=False)
        return ax


def prescribe(clinic: Clinic, *, ranking=None, rules: RuleBook | None = None) -> PrescriptionPlan:
    """The treatment plans and SMART tasks for a clinic, its consultant's judgement applied.

    Parameters
    ----------
    clinic : the loaded clinic; its ``clinic.yaml`` carries the consultant's decisions.
    ranking : the bottleneck ranking (default: ``diagnose(clinic).ranking``), whose flags fire the rules.
    rules : the rules table (default: ``prescriptions.yaml``).
    """
    if ranking is None and rules is None:
        # The prescriptions chapter, the summary and the weekly pack ask for the same plan: compute it once.
        if getattr(clinic, "_prescriptions", None) is None:
            clinic._prescriptions = _prescribe(clinic, diagnose(clinic).ranking, rulebook())
        return clinic._prescriptions
    return _prescribe(clinic, ranking if ranking is not None else diagnose(clinic).ranking, rules or rulebook())


def _prescribe(clinic: Clinic, ranking, rules: RuleBook) -> PrescriptionPlan:
    diagnosis = diagnose(clinic)
    config = clinic.config
    start = config.plan_start_day
    fired = _fire(rules, ranking.flags)
    lang = config.lang
    baseline_end = min(start - dt.timedelta(days=1), config.period.end)
    data = clinic_tables(clinic, as_of=baseline_end) if fired else None
    rows, effects = [], {}
    gap_closed = diagnosis.thresholds["target_gap_closed"]
    share_closed = gap_closed.value
    for rule, flags in fired:
        for n, template in enumerate(rule.tasks, start=1):
            for flag in flags:
                rows.append(_task(data, baseline_end, rule, template, n, flag, start, rules, diagnosis.thresholds,
                                  lang))
        for flag in flags:
            # A finding treated by several plans counts in each: the sum across plans is an upper bound.
            effects.setdefault(rule.prescription, {})[(flag.metric, flag.subject)] = flag.revenue_at_stake * share_closed
    tasks = pd.DataFrame(rows, columns=TASK_COLUMNS).drop_duplicates("task_id")
    tasks, notes_zh, notes_en = _apply_task_changes(tasks, config, start, rules, lang)
    plans = _plans(fired, effects, config, rules, tasks)
    tasks = tasks[tasks["prescription"].isin(plans.loc[plans["status"] == CHOSEN, "prescription"])]
    tasks = tasks.sort_values(["prescription"], kind="stable").reset_index(drop=True)
    interviews = pd.DataFrame([{"who": f.who or "", "text": f.text} for f in config.interview_findings],
                              columns=["who", "text"])
    zh, en = _sentences(plans, tasks, share_closed)
    return PrescriptionPlan("prescriptions", tasks, zh, en, prescriptions=plans, tasks=tasks, notes=notes_zh,
                            notes_en=notes_en, interviews=interviews, gap_closed=gap_closed)


def _fire(rules: RuleBook, flags: list[Finding]) -> list[tuple[Rule, list[Finding]]]:
    """Each rule with the flags it fires on, strongest first, at most ``per_rule`` subjects."""
    fired = []
    for rule in rules.rules:
        hits = [f for f in flags if rule.fires(f)]  # flags arrive ranked: best evidence first
        if any(f.severity == RED for f in hits):  # red findings get tasks; yellow ones are watched
            hits = [f for f in hits if f.severity == RED]
        subjects: dict = {}
        for flag in hits:
            subjects.setdefault(flag.subject, flag)
        if subjects:
            fired.append((rule, list(subjects.values())[: rules.per_rule]))
    return fired


def _task(data, baseline_end: dt.date, rule: Rule, template: TaskTemplate, n: int, flag: Finding, start: dt.date,
          rules: RuleBook, thresholds, lang: str) -> dict:
    subject = sentences.segment(flag.segment, lang) if flag.segment else ""
    metric = template.metric.format(subject=flag.subject) if template.metric else None
    baseline = target = None
    if metric:
        baseline = _baseline(data, metric, start, baseline_end)
        target = _target(template, metric, baseline, flag, thresholds)
    suffix = f"@{flag.subject}" if flag.subject and "{subject}" in (template.zh + (template.metric or "")) else ""
    owner = rules.departments[template.owner][0 if lang == "zh" else 1]
    return {"prescription": rule.prescription, "task_id": f"{rule.id}.{n}{suffix}",
            "task": (template.zh if lang == "zh" else template.en).format(subject=subject,
                                                                          line=sentences.line(thresholds[flag.threshold])),
            "owner_department": owner, "owner": None, "metric": metric if target is not None else None,
            "baseline": baseline if target is not None else None, "target": target, "start": start,
            "deadline": start + dt.timedelta(weeks=template.weeks), "finding": flag, "changed": ()}


def _baseline(data: MetricTables, metric: str, start: dt.date, end: dt.date) -> float | None:
    """The clinic's own level over its last 13 weeks before the plan starts.

    Counts and totals are per week (the span's total over its weeks); ratios are pooled over the span.
    """
    name, scope = parse_metric(metric)
    spec = METRICS[name]
    # A conversion needs 30 days to settle: the last weeks' patients have not all decided yet.
    last = min(pd.Timestamp(end), data.as_of - pd.Timedelta(days=spec.settle_days))
    first = max(last - pd.Timedelta(weeks=BASELINE_WEEKS) + pd.Timedelta(days=1), data.data_start)
    if not spec.available(data) or last < first:
        return None
    value = spec.value(data, first, last, scope)
    if value is None or pd.isna(value):
        return None
    return float(value) / (((last - first).days + 1) / 7) if spec.additive else float(value)


def _target(template: TaskTemplate, metric: str, baseline: float | None, flag: Finding, thresholds) -> float | None:
    """A step from the baseline in the metric's good direction, never past the method's line."""
    if baseline is None:
        return None
    spec = METRICS[metric.split(":")[0]]
    up = 1 if spec.higher_is_better else -1
    line = thresholds[flag.threshold].value
    kind = template.target
    if kind in ("step", "close_gap") and (baseline - line) * up >= 0:
        # The finding was about a part (a time slot, a doctor) while the whole already meets the line:
        # moving "toward the line" would be a step back, so the whole improves by the relative step.
        kind = "relative"
    if kind == "step":
        target = baseline + up * thresholds[template.step].value
    elif kind == "relative":
        target = baseline * (1 + up * thresholds["target_step_relative"].value)
    elif kind == "close_gap":
        target = baseline + thresholds["target_gap_closed"].value * (line - baseline)
    else:
        raise ValueError(f"unknown target rule {template.target!r} in {RULES_FILE.name}")
    if spec.unit == "rate":
        # The flag's line is in the metric's own unit for rate metrics: a target never overshoots it.
        if kind in ("step", "close_gap"):
            target = min(target, line) if up > 0 else max(target, line)
        target = min(max(target, 0.0), 1.0)
    return float(target)


def _apply_task_changes(tasks: pd.DataFrame, config, start: dt.date, rules: RuleBook, lang: str):
    """The consultant's ``tasks:`` of clinic.yaml: overrides by id, removals, and tasks of their own."""
    notes_zh, notes_en = [], []
    tasks = tasks.reset_index(drop=True)
    for task_id, change in config.tasks.items():
        where = tasks.index[tasks["task_id"] == task_id]
        if len(where) == 0:
            if change.prescription and change.task:
                added = {"prescription": change.prescription, "task_id": task_id, "task": change.task,
                         "owner_department": change.owner_department or "", "owner": change.owner,
                         "metric": change.metric, "baseline": None, "target": change.target, "start": start,
                         "deadline": change.deadline or start + dt.timedelta(weeks=8), "finding": None,
                         "changed": ("added",)}
                tasks = pd.concat([tasks, pd.DataFrame([added], columns=TASK_COLUMNS)], ignore_index=True)
            else:
                notes_zh.append(f"clinic.yaml 中的任务“{task_id}”不在本次处方里（数据变化后任务可能不再需要）；"
                                "如要保留，请补上 prescription 和 task。")
                notes_en.append(f"Task '{task_id}' of clinic.yaml is not among this run's tasks (the data may no "
                                "longer call for it); to keep it, give it a prescription and a task.")
            continue
        i = where[0]
        if change.drop:
            tasks = tasks.drop(index=i)
            continue
        changed = []
        for key in ("task", "owner", "owner_department", "metric", "target", "deadline"):
            value = getattr(change, key)
            if value is not None:
                tasks.at[i, key] = value
                changed.append(key)
        tasks.at[i, "changed"] = tuple(changed)
    return tasks, notes_zh, notes_en


def _plans(fired, effects: dict, config, rules: RuleBook, tasks: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for rule, flags in fired:
        row = rows.setdefault(rule.prescription, {"red": False, "findings": []})
        row["red"] |= any(f.severity == RED for f in flags)
        row["findings"] += flags
    added = set(tasks.loc[tasks["changed"].map(lambda c: "added" in c), "prescription"])
    for letter in set(config.prescriptions) | added:
        rows.setdefault(letter, {"red": False, "findings": []})
    table = []
    for letter in sorted(rows):
        row = rows[letter]
        choice = config.prescriptions.get(letter)
        # Red findings call for the plan; a task the consultant added is a decision to carry it out.
        status = choice.status if choice else (CHOSEN if row["red"] or letter in added else WATCH)
        table.append({"prescription": letter, "name_zh": rules.prescriptions[letter]["zh"],
                      "name_en": rules.prescriptions[letter]["en"], "status": status,
                      "by_consultant": choice is not None, "reason": choice.reason if choice else None,
                      "why_zh": _why(row["findings"], "zh"), "why_en": _why(row["findings"], "en"),
                      "revenue_effect": float(sum(effects.get(letter, {}).values()))})
    order = {CHOSEN: 0, WATCH: 1, REJECTED: 2}
    frame = pd.DataFrame(table, columns=["prescription", "name_zh", "name_en", "status", "by_consultant", "reason",
                                         "why_zh", "why_en", "revenue_effect"])
    return (frame.assign(_o=frame["status"].map(order))
            .sort_values(["_o", "revenue_effect"], ascending=[True, False]).drop(columns="_o").reset_index(drop=True))


def _why(findings: list[Finding], lang: str) -> str:
    """The numbers of the findings a plan treats (their short form: the tasks carry the advice)."""
    if not findings:
        return i18n.pick(lang, "顾问根据访谈加入", "added by the consultant from the interviews")
    return sentences.clauses(findings, lang)


def _sentences(plans: pd.DataFrame, tasks: pd.DataFrame, share_closed: float) -> tuple[str, str]:
    chosen = plans[plans["status"] == CHOSEN]
    if chosen.empty:
        return ("诊断没有发现需要立即处理的问题，本期不开处方；保持每周复盘，指标回落时再开。",
                "The diagnosis found nothing that needs action now: no plan this period; keep the weekly review "
                "and prescribe when a metric slips.")
    names_zh = "、".join(f"{r.prescription}「{r.name_zh}」" for r in chosen.itertuples())
    names_en = ", ".join(f"{r.prescription} ({r.name_en.lower()})" for r in chosen.itertuples())
    total = float(chosen["revenue_effect"].sum())
    share = f"{share_closed:.0%}"
    zh = (f"执行处方{names_zh}，共{len(tasks)}项任务，每项有负责部门、指标、目标和期限；"
          f"若各项目标弥补诊断差距的{share}，每年约可带回营收{i18n.money(total, 'zh')}（各发现可能重叠，按上限估算）。")
    en = (f"Carry out {i18n.plural(len(chosen), 'plan')} {names_en}: {i18n.counted(len(tasks), 'task')}, each with an owner, a KPI, a target and a deadline; "
          f"if the targets close {share} of the diagnosed gaps, they bring back about {i18n.money(total, 'en')} "
          "of revenue a year (findings may overlap: an upper bound).")
    return zh, en


def format_value(metric: str | None, value, lang: str = "zh") -> str:
    """A metric's value in the owner's conventions (as the weekly pack prints it): %, 万元, counts."""
    if not isinstance(metric, str):
        return "—"
    spec = _spec(metric)
    return format_number(value, spec.unit if spec else "count", lang)


def _spec(metric: str) -> Metric | None:
    """The registry's metric a task names (an id, a Chinese or an English name), None when it names none."""
    try:
        return METRICS[parse_metric(metric)[0]]
    except MetricError:
        return None


def _baseline_target(row, lang: str) -> str:
    if not isinstance(row.metric, str) or row.target is None or pd.isna(row.target):
        return i18n.pick(lang, "按期完成", "done by the deadline")
    suffix = i18n.pick(lang, "/周", " a week") if _per_week(row.metric) else ""
    return f"{format_value(row.metric, row.baseline, lang)} → {format_value(row.metric, row.target, lang)}{suffix}"


def _per_week(metric: str) -> bool:
    """A count's or a total's target is stated per week; a ratio's (a rate, an average ticket) as it is."""
    spec = _spec(metric)
    return spec is not None and spec.additive


def _owner(row, lang: str) -> str:
    return f"{row.owner_department}（{row.owner}）" if row.owner and lang == "zh" else (
        f"{row.owner_department} ({row.owner})" if row.owner else row.owner_department)


_CHANGED = {"task": ("任务", "task"), "owner": ("负责人", "owner"), "owner_department": ("部门", "department"),
            "metric": ("指标", "KPI"), "target": ("目标", "target"), "deadline": ("期限", "deadline"),
            "added": ("顾问新增", "added")}


def _changed(changed: tuple, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(i18n.pick(lang, *_CHANGED[c]) for c in changed) if changed else ""

"""Prescribe (method step 2, [S1]): from the diagnosis' findings to treatment plans A–E and SMART tasks.

The rules are data, in ``prescriptions.yaml``: a finding's metric -> a treatment plan -> task
templates with an owner department, a weekly KPI, a way to set the target and a deadline [S0]. Targets
always start from the clinic's own baseline (its last 13 weeks) plus a step the method cites, such as
the [S0] arrival-rate step 15% -> 18%; a constant alone never makes a target.

Plans an owner can hand out: a task never goes to a doctor who has left (a template whose subject does
the work, ``by_subject``, is skipped for a departed doctor); every target states its unit and period (a
rate, yuan per paying day, a count per week); tasks that share a KPI share one target, that of the
best-ranked finding; a target short of the method's line says why (`PrescriptionPlan.targets_note`).

Expected effect, counted once. Each finding the story counts (`playbook.story`) is treated by one plan,
the first chosen plan whose rule fires on it; its effect is its revenue at stake × the share of its gap
its target closes: (target − baseline) / (line − baseline) when a task measures the finding's own metric
on its own segment, else ``target_gap_closed``. The effect recovers the fall first (up to the finding's
decline part), the rest is beyond it; over the chosen plans the part that recovers the fall is never more
than the fall (``story.recovery`` in kpis.json). A cost above its range is profit, never revenue.

The consultant's judgement lives in ``clinic.yaml`` (``interview_findings``, ``prescriptions``,
``tasks``, ``plan_start``); a re-run applies it, and the tables mark every value the consultant set.
Tasks start on ``config.plan_start_day``: ``plan_start``, else the Monday after the report date.
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
from .results import MERGED, RED, SYMPTOM, AnalysisResult, Finding
from .story import CONVERSION_KINDS, departed_doctors
from .tables import BASELINE_WEEKS, MetricTables, clinic_tables
from .thresholds import Threshold

RULES_FILE = Path(__file__).with_name("prescriptions.yaml")
LETTERS = ("A", "B", "C", "D", "E")
TASK_COLUMNS = ["prescription", "task_id", "task", "owner_department", "owner", "metric", "baseline", "target",
                "start", "deadline", "finding", "changed", "rule"]
EFFECT_COLUMNS = ["key", "prescription", "share", "revenue", "decline", "beyond", "profit"]
_END = {"zh": "。", "en": "."}

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
    by_subject: bool = False  # the finding's subject (a doctor) does the task: never for one who has left


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
    effects: pd.DataFrame = None  # one row per finding with an effect: EFFECT_COLUMNS
    recovery: dict = field(default_factory=dict)  # decline_part, beyond_part, profit (yuan a year), decline
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (task, departed doctor) not given to one who left
    thresholds: dict = field(default_factory=dict, repr=False)

    @property
    def available(self) -> bool:
        """No finding called for a plan: the chapter shows its sentence, without an empty chart."""
        return not self.prescriptions.empty

    @property
    def chosen(self) -> pd.DataFrame:
        return self.prescriptions[self.prescriptions["status"] == CHOSEN]

    def prescriptions_for(self, lang: str = "zh") -> pd.DataFrame:
        """The plans table: letter and name, decision, expected effect a year on revenue (recovering the fall,
        beyond it) and on profit (the why follows per plan)."""
        p = self.prescriptions
        table = pd.DataFrame({
            i18n.pick(lang, "处方", "Plan"): p["prescription"] + " " + p[f"name_{lang}"],
            i18n.pick(lang, "决定", "Decision"): [self._decision(row, lang) for row in p.itertuples()]})
        if (p["decline_effect"] > 0).any():  # revenue fell: what recovers it, and what goes beyond
            table[i18n.pick(lang, "每年找回下降", "Recovers of the fall a year")] = i18n.money_column(
                p["decline_effect"].where(p["decline_effect"] > 0), lang, missing="—")
            table[i18n.pick(lang, "每年超出下降", "Beyond the fall a year")] = i18n.money_column(
                p["beyond_effect"].where(p["beyond_effect"] > 0), lang, missing="—")
        else:
            table[i18n.pick(lang, "预计每年营收影响", "Expected revenue effect a year")] = i18n.money_column(
                p["revenue_effect"].where(p["revenue_effect"] > 0), lang, missing="—")
        if (p["profit_effect"] > 0).any():
            table[i18n.pick(lang, "每年多留利润", "Profit kept a year")] = i18n.money_column(
                p["profit_effect"].where(p["profit_effect"] > 0), lang, missing="—")
        return table

    def effect(self, row, lang: str = "zh") -> str:
        """A chosen plan's expected effect a year, split as the recovery is, with its assumption."""
        parts = []
        if row.revenue_effect > 0:
            split = [i18n.pick(lang, f"{name_zh}{i18n.money(v, lang)}", f"{i18n.money(v, lang)} {name_en}")
                     for v, name_zh, name_en in ((row.decline_effect, "找回下降", "recovering the fall"),
                                                 (row.beyond_effect, "超出下降", "beyond it")) if v > 0.5]
            parts.append(i18n.pick(
                lang, f"预计每年营收约多{i18n.money(row.revenue_effect, lang)}（{'，'.join(split)}）",
                f"expected revenue about {i18n.money(row.revenue_effect, lang)} a year more ({', '.join(split)})"))
        if row.profit_effect > 0:
            parts.append(i18n.pick(lang, f"每年多留利润约{i18n.money(row.profit_effect, lang)}（成本节省，不计入营收）",
                                   f"about {i18n.money(row.profit_effect, lang)} a year more profit (a cost saving, "
                                   "not revenue)"))
        if not parts:
            return ""
        text = ("；" if lang == "zh" else "; ").join(parts)
        return i18n.pick(lang, text + "；假设目标按期达成、所治发现的差距按目标弥补的比例收回。",
                         text[0].upper() + text[1:] + ", assuming the targets are met and each finding's gap closes "
                         "as far as its target does.")

    def targets_note(self, prescription: str, lang: str = "zh") -> str:
        """Why a target of the plan stops short of the method's line, or has none in its unit."""
        t = self.tasks[(self.tasks["prescription"] == prescription) & self.tasks["target"].notna()]
        notes = list(dict.fromkeys(note for note in (_short_of_line(r, self.thresholds, lang) for r in t.itertuples())
                                   if note))
        if not notes:
            return ""
        return i18n.pick(lang, "目标没有一步定到方法的线：", "Targets short of the method's line: ") + (
            "；" if lang == "zh" else "; ").join(notes) + _END[lang]

    def skipped_note(self, lang: str = "zh") -> str:
        """The tasks not given to a doctor who has left, and who takes the patients over instead."""
        doctors = list(dict.fromkeys(doctor for _, doctor in self.skipped))
        if not doctors:
            return ""
        names = "、".join(doctors) if lang == "zh" else ", ".join(doctors)
        return i18n.pick(lang, f"{names}已离开，不再给其派任务；其患者和未完成的治疗计划由接手的医生跟进（见处方{_departure_plan(self)}）。",
                         f"{names} has left and gets no task; the doctor who takes over follows up the patients and "
                         f"unfinished plans (plan {_departure_plan(self)}).")

    def recovery_sentence(self, lang: str = "zh") -> str:
        """What the chosen plans are worth a year: the part that recovers the fall, the part beyond it, profit."""
        r = self.recovery
        if not r or not (r["decline_part"] or r["beyond_part"] or r["profit"]):
            return ""
        text = []
        if r["decline"] > 0:
            text.append(i18n.pick(
                lang, f"每年约找回下降的{i18n.money(r['decline_part'], lang)}（下降共每年{i18n.money(r['decline'], lang)}；"
                      "假设各原因的损失按其目标弥补差距的比例收回）",
                f"about {i18n.money(r['decline_part'], lang)} a year of the fall comes back (the fall is "
                f"{i18n.money(r['decline'], lang)} a year; assuming each cause's loss returns as far as its target closes "
                "its gap)"))
        if r["beyond_part"] > 0:
            text.append(i18n.pick(
                lang, f"另有每年约{i18n.money(r['beyond_part'], lang)}超出下降（长期短板和新问题按目标改善）" if r["decline"] > 0
                else f"营收每年约多{i18n.money(r['beyond_part'], lang)}（各短板按目标改善）",
                f"about {i18n.money(r['beyond_part'], lang)} beyond it (standing weaknesses and new problems improving to "
                "their targets)" if r["decline"] > 0 else
                f"about {i18n.money(r['beyond_part'], lang)} a year more revenue (the weaknesses improving to their targets)"))
        if r["profit"] > 0:
            text.append(i18n.pick(lang, f"成本控制每年多留利润约{i18n.money(r['profit'], lang)}（利润，不计入营收）",
                                  f"cost control keeps about {i18n.money(r['profit'], lang)} a year more profit (not revenue)"))
        joined = ("；" if lang == "zh" else "; ").join(text)
        return i18n.pick(lang, f"若各项目标按期达成：{joined}。",
                         f"If the targets are met: {joined}.")

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
            i18n.pick(lang, "基线（最近13周）→目标", "Baseline (last 13 weeks) → target"): [
                target_text(r.metric, r.baseline, r.target, lang) for r in t.itertuples()],
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
                                    "revenue_effect": round(float(row.revenue_effect), 2),
                                    "decline_effect": round(float(row.decline_effect), 2),
                                    "beyond_effect": round(float(row.beyond_effect), 2),
                                    "profit_effect": round(float(row.profit_effect), 2)}
                 for row in self.prescriptions.itertuples()}
        tasks = [{"task_id": r.task_id, "prescription": r.prescription, "metric": scalar(r.metric),
                  "owner_department": r.owner_department, "baseline": scalar(r.baseline), "target": scalar(r.target),
                  "start": r.start.isoformat(), "deadline": r.deadline.isoformat()} for r in self.tasks.itertuples()]
        metrics = {"kpis": {"prescriptions_chosen": len(self.chosen)}, "prescriptions": plans, "tasks": tasks}
        if self.recovery:
            metrics["story"] = {"recovery": {k: round(float(self.recovery[k]), 2)
                                             for k in ("decline_part", "beyond_part", "profit")}}
        return metrics

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Expected revenue a year of each plan (万元 in zh): the part that recovers the fall (red) and the
        part beyond it (grey), stacked; plans only watched or not taken are pale."""
        ax = ax if ax is not None else plt.gca()
        p = self.prescriptions.iloc[::-1]
        scale, unit = (1e4, "万元/年") if lang == "zh" else (1e3, "¥ thousand a year")
        labels = (p["prescription"] + " " + p[f"name_{lang}"]).tolist()
        alpha = [1.0 if s == CHOSEN else 0.35 for s in p["status"]]
        decline, beyond = (p["decline_effect"] / scale).to_numpy(), (p["beyond_effect"] / scale).to_numpy()
        for i, label in enumerate(labels):
            ax.barh(label, beyond[i], left=decline[i], color=PALETTE[4], alpha=alpha[i], **kwargs)
            if decline[i] > 0:  # red only where a plan recovers part of the fall
                ax.barh(label, decline[i], color=ACTION_RED, alpha=alpha[i], **kwargs)
        colours = i18n.pick(lang, "红色：找回下降，灰色：超出下降；", "red: recovers the fall, grey: beyond it; ") \
            if decline.any() else ""
        ax.set_xlabel(i18n.pick(lang, f"预计每年营收影响（{unit}）；{colours}浅色：只观察或不采用",
                                f"Expected revenue effect ({unit}); {colours}pale: watched or not taken"))
        best = self.prescriptions.sort_values("revenue_effect", ascending=False).iloc[0]
        if best.revenue_effect <= 0:
            ax.set_title(i18n.pick(lang, "处方没有可估算的营收影响（作用在利润、风险或管理上）",
                                   "No plan has a revenue effect to estimate (they act on profit, risk or management)"))
            ax.grid(axis="y", visible=False)
            return ax
        ax.set_title(i18n.pick(
            lang, f"处方{best.prescription}「{best.name_zh}」预计每年带回的营收最多（{i18n.money(best.revenue_effect, 'zh')}）",
            f"Plan {best.prescription} ({best.name_en.lower()}) is worth the most: {i18n.money(best.revenue_effect, 'en')} "
            "a year"))
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
    thresholds = diagnosis.thresholds
    start = config.plan_start_day
    story = getattr(ranking, "story", None)
    departed = departed_doctors(ranking.flags)
    fired = _fire(rules, [f for f in ranking.flags if _treated(f, story)])
    home = _home(fired)
    lang = config.lang
    baseline_end = min(start - dt.timedelta(days=1), config.period.end)
    data = clinic_tables(clinic, as_of=baseline_end) if fired else None
    rows, skipped = [], []
    for rule, flags in fired:
        for n, template in enumerate(rule.tasks, start=1):
            for flag in flags:
                if template.by_subject and flag.subject in departed:
                    skipped.append(((template.zh if lang == "zh" else template.en).format(
                        subject=flag.subject, line=sentences.line(thresholds[flag.threshold])), flag.subject))
                    continue
                rows.append({**_task(data, baseline_end, rule, template, n, flag, start, rules, thresholds, lang),
                             "prescription": home(rule, flag)})
    tasks = pd.DataFrame(rows, columns=TASK_COLUMNS).drop_duplicates("task_id")
    tasks, notes_zh, notes_en = _apply_task_changes(tasks, config, start, rules, lang)
    tasks = _share_targets(tasks, ranking.flags)
    plans = _plans(fired, home, config, rules, tasks)
    gap_closed = thresholds["target_gap_closed"]
    effects = _effects(fired, home, plans, tasks, gap_closed.value)
    plans, effects, recovery = _recovery(plans, effects, story)
    tasks = tasks[tasks["prescription"].isin(plans.loc[plans["status"] == CHOSEN, "prescription"])]
    tasks = tasks.sort_values(["prescription"], kind="stable").reset_index(drop=True)
    interviews = pd.DataFrame([{"who": f.who or "", "text": f.text} for f in config.interview_findings],
                              columns=["who", "text"])
    result = PrescriptionPlan("prescriptions", tasks, "", "", prescriptions=plans, tasks=tasks, notes=notes_zh,
                              notes_en=notes_en, interviews=interviews, gap_closed=gap_closed, effects=effects,
                              recovery=recovery, skipped=skipped, thresholds=thresholds)
    result.zh, result.en = (_sentence(result, lang) for lang in ("zh", "en"))
    return result


def _treated(finding: Finding, story) -> bool:
    """Whether a finding calls for tasks: every one but the driver tree's own, whose loss the causes carry
    (unless the story names no cause: then the driver that moved is all there is to treat)."""
    return finding.role != SYMPTOM or story is None or not story.causes


def _home(fired: list[tuple[Rule, list[Finding]]]):
    """The plan that takes a finding's tasks: its rule's, except for a finding counted in another one
    (a departed doctor's overdue patients), whose tasks join the plan of the finding that counts it."""
    first: dict[str, str] = {}
    for rule, flags in fired:
        for flag in flags:
            first.setdefault(flag.key, rule.prescription)

    def home(rule: Rule, flag: Finding) -> str:
        if flag.role == MERGED and flag.stake.counted_in in first:
            return first[flag.stake.counted_in]
        return rule.prescription
    return home


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
            "deadline": start + dt.timedelta(weeks=template.weeks), "finding": flag, "changed": (),
            "rule": _target_rule(template, metric, baseline, flag, thresholds) if target is not None else None}


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


def _target_rule(template: TaskTemplate, metric: str, baseline: float | None, flag: Finding, thresholds) -> str:
    """How the target is set: the template's rule, or ``relative`` where moving toward the line is a step back."""
    spec = METRICS[metric.split(":")[0]]
    up = 1 if spec.higher_is_better else -1
    kind = template.target
    if kind in ("step", "close_gap") and baseline is not None and (baseline - thresholds[flag.threshold].value) * up >= 0:
        # The finding was about a part (a time slot, a doctor) while the whole already meets the line:
        # moving "toward the line" would be a step back, so the whole improves by the relative step.
        kind = "relative"
    return kind


def _target(template: TaskTemplate, metric: str, baseline: float | None, flag: Finding, thresholds) -> float | None:
    """A step from the baseline in the metric's good direction, never past the method's line."""
    if baseline is None:
        return None
    spec = METRICS[metric.split(":")[0]]
    up = 1 if spec.higher_is_better else -1
    line = thresholds[flag.threshold].value
    kind = _target_rule(template, metric, baseline, flag, thresholds)
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
                         "changed": ("added",), "rule": "consultant"}
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
        if change.target is not None:
            tasks.at[i, "rule"] = "consultant"
        tasks.at[i, "changed"] = tuple(changed)
    return tasks, notes_zh, notes_en


def _plans(fired, home, config, rules: RuleBook, tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per plan a finding or the consultant raised: its status and its why (effects come after)."""
    rows = {}
    for rule, flags in fired:
        for flag in flags:
            row = rows.setdefault(home(rule, flag), {"red": False, "findings": []})
            row["red"] |= flag.severity == RED
            row["findings"].append(flag)
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
                      "why_zh": _why(row["findings"], "zh"), "why_en": _why(row["findings"], "en")})
    return pd.DataFrame(table, columns=["prescription", "name_zh", "name_en", "status", "by_consultant", "reason",
                                        "why_zh", "why_en"])


def _why(findings: list[Finding], lang: str) -> str:
    """The numbers of the findings a plan treats (their short form: the tasks carry the advice)."""
    if not findings:
        return i18n.pick(lang, "顾问根据访谈加入", "added by the consultant from the interviews")
    return sentences.clauses(findings, lang)


def _share_targets(tasks: pd.DataFrame, ranked: list[Finding]) -> pd.DataFrame:
    """Tasks that measure one KPI get one baseline and one target: the consultant's where they set one,
    else the task of the best-ranked finding."""
    measured = tasks[tasks["metric"].map(lambda m: isinstance(m, str)) & tasks["target"].notna()]
    if measured.empty:
        return tasks
    position = {id(f): i for i, f in enumerate(ranked)}
    tasks = tasks.copy()
    for _, group in measured.groupby("metric", sort=False):
        if len(group) < 2:
            continue
        lead = min(group.index, key=lambda i: (tasks.at[i, "rule"] != "consultant",
                                               position.get(id(tasks.at[i, "finding"]), len(position))))
        for i in group.index:
            if i != lead:
                tasks.loc[i, ["baseline", "target", "rule"]] = tasks.loc[lead, ["baseline", "target", "rule"]].to_numpy()
    return tasks


def _finding_metric(finding: Finding) -> str | None:
    """The registry's metric (with its scope) that measures the finding itself, when there is one."""
    if finding.kind in CONVERSION_KINDS:
        return f"first_visit_conversion:{finding.subject}"
    if finding.kind in ("no_show_rate_channel", "no_show_rate_slot"):
        return f"no_show_rate:{finding.subject}"
    if finding.kind == "doctor_first_visit_conversion":
        return f"first_visit_conversion:{finding.subject}"
    if finding.kind.startswith("referral_share"):
        return "referral_share"
    return None


def _closed_share(finding: Finding, tasks: pd.DataFrame, default: float) -> float:
    """The share of the finding's gap its target closes: (target − baseline) / (line − baseline), when a task
    measures the finding's own metric on its own segment; else ``default`` (``target_gap_closed``)."""
    metric = _finding_metric(finding)
    own = tasks[(tasks["metric"] == metric) & tasks["target"].notna() & tasks["baseline"].notna()] if metric else ()
    if not len(own):
        return default
    task = own.iloc[0]
    gap = finding.line - float(task["baseline"])
    if gap == 0:
        return 1.0
    return min(max((float(task["target"]) - float(task["baseline"])) / gap, 0.0), 1.0)


def _effects(fired, home, plans: pd.DataFrame, tasks: pd.DataFrame, default: float) -> pd.DataFrame:
    """Each counted finding's expected effect a year, in the one plan that treats it (the first chosen one
    whose rule fires on it): revenue (its stake × the share its target closes), and profit for a cost."""
    status = dict(zip(plans["prescription"], plans["status"]))
    plan_of: dict[int, tuple[str, Finding]] = {}
    for rule, flags in fired:
        for flag in flags:
            held, letter = plan_of.get(id(flag)), home(rule, flag)
            if held is None or (status.get(held[0]) != CHOSEN and status.get(letter) == CHOSEN):
                plan_of[id(flag)] = (letter, flag)
    rows = []
    for letter, flag in plan_of.values():
        if flag.role in (MERGED, SYMPTOM) or not (flag.revenue_at_stake > 0 or flag.stake.profit > 0):
            continue
        share = _closed_share(flag, tasks[tasks["finding"].map(lambda f: f is flag)], default)
        revenue = share * flag.revenue_at_stake
        decline = min(revenue, flag.stake.decline)
        rows.append({"key": flag.key, "prescription": letter, "share": share, "revenue": revenue, "decline": decline,
                     "beyond": revenue - decline, "profit": share * flag.stake.profit})
    return pd.DataFrame(rows, columns=EFFECT_COLUMNS)


def _recovery(plans: pd.DataFrame, effects: pd.DataFrame, story) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The chosen plans' promise: the part that recovers the fall (never more than the fall) and the part
    beyond it; each plan's effects, and the plans in the order of what they are worth."""
    fall = story.decline if story is not None else 0.0
    chosen = set(plans.loc[plans["status"] == CHOSEN, "prescription"])
    effects = effects.copy()
    mine = effects["prescription"].isin(chosen)
    claimed = float(effects.loc[mine, "decline"].sum())
    if claimed > fall:  # a cause's own recovery can pass the net fall when other changes rose: the rest is beyond
        effects.loc[mine, "decline"] *= fall / claimed
        effects.loc[mine, "beyond"] = effects.loc[mine, "revenue"] - effects.loc[mine, "decline"]
    per_plan = effects.groupby("prescription")[["revenue", "decline", "beyond", "profit"]].sum()
    plans = plans.assign(**{f"{column}_effect": plans["prescription"].map(per_plan[column]).fillna(0.0).astype(float)
                            for column in ("revenue", "decline", "beyond", "profit")})
    order = {CHOSEN: 0, WATCH: 1, REJECTED: 2}
    plans = (plans.assign(_o=plans["status"].map(order), _v=plans["revenue_effect"] + plans["profit_effect"])
             .sort_values(["_o", "revenue_effect", "_v"], ascending=[True, False, False])
             .drop(columns=["_o", "_v"]).reset_index(drop=True))
    taken = effects[mine]
    decline_part = float(taken["decline"].sum())
    recovery = {"decline_part": decline_part, "beyond_part": float(taken["revenue"].sum()) - decline_part,
                "profit": float(taken["profit"].sum()), "decline": fall}
    return plans, effects, recovery


def _sentence(plan: PrescriptionPlan, lang: str) -> str:
    chosen = plan.chosen
    if chosen.empty:
        return i18n.pick(lang, "诊断没有发现需要立即处理的问题，本期不开处方；保持每周复盘，指标回落时再开。",
                         "The diagnosis found nothing that needs action now: no plan this period; keep the weekly "
                         "review and prescribe when a metric slips.")
    n = len(plan.tasks)
    if lang == "zh":
        names = "、".join(f"{r.prescription}「{r.name_zh}」" for r in chosen.itertuples())
        head = f"执行处方{names}，共{n}项任务，每项有负责部门、指标、目标和期限。"
    else:
        names = ", ".join(f"{r.prescription} ({r.name_en.lower()})" for r in chosen.itertuples())
        head = (f"Carry out {i18n.plural(len(chosen), 'plan')} {names}: {i18n.counted(n, 'task')}, "
                "each with an owner, a KPI, a target and a deadline.")
    recovery = plan.recovery_sentence(lang)
    return head + (recovery if lang == "zh" else (" " + recovery if recovery else ""))


def tasks_sentence(plan: PrescriptionPlan, lang: str = "zh") -> str:
    """The plan in one sentence without the plans' names (a page that lists them): the tasks and what the
    targets are worth, split as the recovery is."""
    n = len(plan.tasks)
    if plan.chosen.empty:
        return plan.finding(lang)
    head = i18n.pick(lang, f"共{n}项任务，每项有负责部门、指标、目标和期限。",
                     f"{i18n.counted(n, 'task')}, each with an owner, a KPI, a target and a deadline.")
    recovery = plan.recovery_sentence(lang)
    return head + (recovery if lang == "zh" else (" " + recovery if recovery else ""))


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


def target_text(metric, baseline, target, lang: str = "zh") -> str:
    """Baseline → target with its unit and period: a rate (19.7% → 23.6%), yuan per paying day for the
    average ticket (1,933元 → 2,319元), a count or a total per week (每周129 → 155人次 / 129 → 155 a week)."""
    if not isinstance(metric, str) or target is None or pd.isna(target):
        return i18n.pick(lang, "按期完成", "done by the deadline")
    spec = _spec(metric)
    if spec is not None and spec.unit == "count" and not pd.isna(baseline):
        # a few a week: both with one decimal (5.8 → 7.0), never a whole number beside a fraction
        digits = 0 if min(abs(baseline), abs(target)) >= 10 else 1
        text = f"{baseline:,.{digits}f} → {target:,.{digits}f}"
    else:
        text = f"{format_value(metric, baseline, lang)} → {format_value(metric, target, lang)}"
    if spec is None or not spec.additive:
        return text
    return i18n.pick(lang, f"每周{text}{spec.count_zh if spec.unit == 'count' else ''}", f"{text} a week")


_RULE_WORDS = {  # how a target was set, as a phrase: the method's step
    "relative": ("比基线{way}{step}（方法的步长，如[S0]到店率15%→18%）", "{step} on the baseline (the method's step, as [S0]'s 15% → 18%)"),
    "close_gap": ("先弥补到线差距的{share}（方法的步长）", "half way: {share} of the gap to the line (the method's step)"),
    "step": ("提高{points}个百分点（[S0]的步长）", "{points} points up ([S0]'s step)"),
    "consultant": ("由顾问设定", "set by the consultant"),
}


def _short_of_line(row, thresholds, lang: str) -> str | None:
    """Why a task's target is not the method's line: the step it takes, or that its KPI has no line."""
    finding, spec = row.finding, _spec(row.metric) if isinstance(row.metric, str) else None
    if spec is None or pd.isna(row.target) or row.rule not in _RULE_WORDS:
        return None
    up = spec.higher_is_better
    words = i18n.pick(lang, *_RULE_WORDS[row.rule]).format(
        way="提高" if up else "降低", step=sentences.line(thresholds["target_step_relative"]),
        share=sentences.line(thresholds["target_gap_closed"]),
        points=f"{thresholds['arrival_rate_step'].value * 100:g}")
    label = metric_label(row.metric, lang)
    if isinstance(finding, Finding) and spec.unit == "rate" and finding.threshold in spec.thresholds:
        line = finding.line
        if (row.target - line) * (1 if up else -1) >= -1e-9:
            return None  # at the line
        return i18n.pick(lang, f"{label}目标{format_value(row.metric, row.target, lang)}，方法的线为"
                               f"{format_value(row.metric, line, lang)}：这一轮{words}，达到后下一轮再向线靠近",
                         f"{label} aims at {format_value(row.metric, row.target, lang)} against the method's "
                         f"{format_value(row.metric, line, lang)}: {words}, and the next cycle moves on toward the line")
    return i18n.pick(lang, f"{label}没有方法给出的线：目标{words}", f"{label} has no line in the method: the target is {words}")


def _departure_plan(plan: PrescriptionPlan) -> str:
    taken = plan.tasks.loc[plan.tasks["task_id"].str.startswith("doctor_departure"), "prescription"]
    return taken.iloc[0] if len(taken) else "E"


def _owner(row, lang: str) -> str:
    return f"{row.owner_department}（{row.owner}）" if row.owner and lang == "zh" else (
        f"{row.owner_department} ({row.owner})" if row.owner else row.owner_department)


_CHANGED = {"task": ("任务", "task"), "owner": ("负责人", "owner"), "owner_department": ("部门", "department"),
            "metric": ("指标", "KPI"), "target": ("目标", "target"), "deadline": ("期限", "deadline"),
            "added": ("顾问新增", "added")}


def _changed(changed: tuple, lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(i18n.pick(lang, *_CHANGED[c]) for c in changed) if changed else ""

"""The weekly review pack [S0]: the "three tables and one chart" a clinic prepares before its weekly meeting.

method.md, "Weekly review meeting" [S0] (seeds/000): 会前需准备「三表一图」 — target progress (指标, 周目标,
完成情况, 偏差率, 责任部门), channel effect (各获客渠道ROI、到店成本、转化周期), customer tiers (RFM, with the
high-value churn-warning list) and the trend of the last 8 weeks with the campaigns and policy events
marked (近8周业绩波动曲线叠加市场活动节点). The task board the meeting fills and the next week's
"three-effect" review are in `playbook.taskboard`; `playbook.weekly_pack` writes the pack's files.

Weeks are ISO weeks, Monday to Sunday, written ``2025-W48``. A pack shows what its meeting can know on
the Monday after the week: every number is computed on the exports cut at the week's Sunday, so the
pack of an old week shows what that meeting saw, whatever was exported later (except the states the
exports only give as of their day: a lead's "arrived" and a treatment plan's status).

Weekly metrics (``WEEKLY_METRICS``, the registry's weekly view, `playbook.metrics.WEEKLY`; ids are
``name`` or ``name:scope``, a scope being a source channel or a department as written in the data).
Each is counted over the week exactly as the registry defines it over any window: new patients, first-
visit arrivals, first-visit conversion, revenue, average ticket, no-show rate, referral share, lead
arrival rate, high-value revenue, plan acceptance, return visits, arrived visits.

A rate whose outcome comes later (conversion and arrival within 30 days, plan acceptance) is
*provisional* until 30 days after the week; it can only rise, so a provisional value is never red: it
is green when it already meets its target, else yellow ("so far").

Deviation and colour [S0] (seeds/000: 偏差率; 任务看板 红色=进度滞后超20%): deviation = (actual −
target) / target, rounded to the 0.1% the tables show, so that the colour follows the number printed.
A metric is *behind* by its deviation against its direction (−deviation when higher is better, e.g.
−10% new patients; +deviation when lower is better, e.g. a no-show rate 10% above target). Red: behind
by more than 20% (``deviation_red``, the consultant may change it; exactly 20% is not red); yellow:
behind by up to 20%; green: on target or beyond it.

Targets (`weekly_targets`): the clinic's ``targets`` table (period ``2025-W48``, ``2025-11`` or a day,
meaning its week; metric as an id or its Chinese or English name; target; owner department). A week's
own row wins over its months'; a month's counts and money are spread evenly over its days (a week
across two months takes each day's share of its month), a month's rates and average ticket apply to
its days as they are; a rate written above 1 is read as a percentage (35 → 35%). A metric the table
does not set for the week takes the prescriptions' task on it (`playbook.prescribe`): a straight line
from the baseline at the task's start to the target at its deadline, read at the week's Sunday, held
after the deadline; several tasks on one metric: the most ambitious.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import transforms

from . import cohorts, funnel, i18n, parsing, sentences
from .clinic import Clinic
from .costs import classify_costs
from .errors import PlaybookError
from .kpis import channel_name
from .metrics import DEPARTMENTS, WEEKLY, METRICS, Metric, MetricError, format_number, metric_label, parse_metric
from .plotting import ACTION_RED, PALETTE
from .prescribe import prescribe
from .results import GREEN, RED, YELLOW, AnalysisResult, Unavailable
from .tables import ROI_WEEKS, SETTLE_DAYS, MetricTables, daily_spend, new_patient_economics
from .thresholds import DEFAULTS, resolve as resolve_thresholds
from .workbook import Sheet

__all__ = ["WEEKLY_METRICS", "Week", "WeekError", "MetricError", "WeekData", "Targets",
           "TargetProgress", "ChannelEffect", "Trend", "Benefit", "WeeklyPack", "week_data", "week_value",
           "parse_metric", "metric_label", "weekly_targets", "deviation", "traffic_light", "target_progress",
           "channel_effect", "customer_tiers", "trend", "plot_trend", "benefit", "weekly_pack", "last_full_week",
           "status_values", "status_cell", "format_number"]

TREND_WEEKS = 8  # [S0] 近8周
BEFORE_WEEKS = 4  # without a target, a week is set against the 4 weeks before it
# A change becomes a practice to keep (固化为常规 [S0]) only once it has held this many weeks: one good
# week (a holiday, a year-end rush, one large case) is not a practice.
SUSTAINED_WEEKS = 3
STOP_LOSS_LOOKBACK_WEEKS = 26  # how far back the stop-loss streaks are traced
TIERS_DAYS = 365  # customer tiers over the 12 months to the week's end
BENEFIT_BASE_WEEKS = 4  # cost per patient compared with the 4 weeks before
MARGIN_WEEKS = 4  # the high-value margin is counted over 4 weeks (see Benefit)
INVENTORY = "inventory"  # a stock level, not a cost of the week (playbook.costs)

STATUS_WORDS = {RED: ("红", "red"), YELLOW: ("黄", "yellow"), GREEN: ("绿", "green")}

# The registry's weekly view: what the pack tracks and a target may name (playbook.metrics).
WEEKLY_METRICS: dict[str, Metric] = {name: METRICS[name] for name in WEEKLY}


class WeekError(PlaybookError):
    """A week that is not written as an ISO week, or that the data does not cover."""


# --------------------------------------------------------------------------------------------------
# Weeks


_WEEK = re.compile(r"^\s*(\d{4})\s*-?\s*[wW]\s*(\d{1,2})\s*$")
_WEEK_ZH = re.compile(r"^\s*(\d{4})\s*年\s*第?\s*(\d{1,2})\s*周\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*(?:-|/|\.|年)\s*(\d{1,2})\s*月?\s*$")


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week (Monday to Sunday)."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Week":
        """``2025-W48`` (also ``2025W48``, ``2025年第48周``) → Week; anything else is a `WeekError`."""
        match = _WEEK.match(str(text)) or _WEEK_ZH.match(parsing.normalize_text(str(text)))
        if match:
            year, number = int(match.group(1)), int(match.group(2))
            if 1 <= number <= dt.date(year, 12, 28).isocalendar().week:
                return cls(year, number)
        raise WeekError(f"{text!r} is not an ISO week", fix="write the week like 2025-W48 (year, W, week number 1-53)",
                        zh=f"{text!r} 不是周次，请写成 2025-W48 的形式")

    @classmethod
    def containing(cls, day) -> "Week":
        year, number, _ = pd.Timestamp(day).date().isocalendar()
        return cls(year, number)

    @property
    def start(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> dt.date:
        return dt.date.fromisocalendar(self.year, self.number, 7)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    def shift(self, weeks: int) -> "Week":
        return Week.containing(self.start + dt.timedelta(weeks=weeks))

    def text(self, lang: str = "zh") -> str:
        """2025年第48周（11月24日–11月30日） / 2025-W48 (24–30 Nov 2025)."""
        a, b = self.start, self.end
        if lang == "zh":
            return f"{self.year}年第{self.number}周（{a.month}月{a.day}日–{b.month}月{b.day}日）"
        return f"{self.label} ({a:%d %b} – {b:%d %b %Y})"

    def short(self, lang: str = "zh") -> str:
        return f"第{self.number}周" if lang == "zh" else f"W{self.number}"

    def __str__(self) -> str:
        return self.label


def _ts(day) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def last_full_week(day) -> Week:
    """The last week that ends on or before ``day`` (a Sunday is the end of its own week)."""
    week = Week.containing(day)
    return week if week.end <= pd.Timestamp(day).date() else week.shift(-1)


# --------------------------------------------------------------------------------------------------
# The clinic as its meeting knows it: the exports cut at a day


class WeekData(MetricTables):
    """A clinic's tables as known at the end of ``as_of`` (None: the end of the data): the metric tables
    (`playbook.tables`), the campaigns and the costs."""

    def __init__(self, clinic: Clinic, as_of=None):
        visits, charges = clinic.visits, clinic.charges
        if not (visits["scheduled_at"].notna().any() or charges["paid_at"].notna().any()):
            raise WeekError("the exports hold no visit or charge with a date", path=clinic.folder,
                            fix="check the visits and charges exports", zh="导出数据中没有带日期的到诊或收费记录")
        super().__init__(clinic.patients, visits, charges, referral=clinic.config.referral, as_of=as_of,
                         leads=clinic.table("leads"), plans=clinic.table("treatment_plans"),
                         has_visit_type=clinic.has("visits", "visit_type"),
                         has_lead_arrived=clinic.has("leads", "arrived"),
                         has_lead_patient=clinic.has("leads", "patient_id"))
        self.clinic = clinic
        self.has_channel = clinic.has("patients", "source_channel")
        cut = self.as_of + pd.Timedelta(days=1)
        campaigns = clinic.table("campaigns")
        self.campaigns = None if campaigns is None else campaigns[campaigns["start"] < cut]  # started by as_of
        costs = clinic.table("costs")  # month, kind (playbook.costs key or None), amount
        self.costs = None if costs is None else pd.DataFrame(
            {"month": costs["month"].dt.to_period("M"), "kind": classify_costs(costs["category"]),
             "amount": costs["amount"].fillna(0.0)})

    def covered_days(self, week: Week) -> int:
        """Days of the week inside the data (a week at either end of the exports may be partial)."""
        first, last = max(_ts(week.start), self.data_start), min(_ts(week.end), self.as_of)
        return max((last - first).days + 1, 0)


def week_data(clinic: Clinic, as_of=None) -> WeekData:
    """The clinic's tables as known at the end of ``as_of`` (None: the end of the data)."""
    return WeekData(clinic, as_of)


def week_value(data: WeekData, metric: Metric | str, week: Week, scope: str | None = None) -> float | None:
    """A metric for ``week`` (and ``scope``), None when it has no value (no data, nothing to divide)."""
    metric = METRICS[metric] if isinstance(metric, str) else metric
    if not metric.available(data) or data.covered_days(week) == 0:
        return None
    return metric.value(data, _ts(week.start), _ts(week.end), scope)


# What the target table shows when the clinic has set no target at all.
DEFAULT_SHOWN = ("revenue", "new_patients", "first_visit_conversion", "no_show_rate", "referral_share",
                 "average_ticket", "high_value_revenue")


# --------------------------------------------------------------------------------------------------
# Targets


@dataclass
class Targets:
    """The week's targets: one row per metric id, with where each came from."""

    week: Week
    table: pd.DataFrame  # metric_id, metric, scope, target, owner_department, origin ("table"|"task"), source
    problems: list[PlaybookError] = field(default_factory=list)


TARGET_COLUMNS = ["metric_id", "metric", "scope", "target", "owner_department", "origin", "source"]


def _period(text) -> tuple[str, object] | None:
    """A targets row's period: ("week", Week) or ("month", pandas Period), None when unreadable."""
    value = parsing.normalize_text(str(text)).strip()
    try:
        return "week", Week.parse(value)
    except WeekError:
        pass
    month = _MONTH.match(value)
    if month and 1 <= int(month.group(2)) <= 12:
        return "month", pd.Period(year=int(month.group(1)), month=int(month.group(2)), freq="M")
    day, bad = parsing.parse_dates(pd.Series([value], dtype=object))
    if not bad.iloc[0] and pd.notna(day.iloc[0]):
        return "week", Week.containing(day.iloc[0])
    return None


def _scope_problem(data: WeekData, metric: Metric, scope: str) -> str | None:
    """Why a scope cannot be counted (unknown channel or department), or None."""
    try:
        metric.scope_kind(data, scope)
    except MetricError as exc:
        return exc.message
    return None


def weekly_targets(clinic: Clinic, week: Week, tasks: pd.DataFrame | None = None, *,
                   data: WeekData | None = None) -> Targets:
    """The targets of ``week``: the clinic's targets table first, the prescriptions' tasks for the rest.

    Parameters
    ----------
    clinic : the loaded clinic (its ``targets`` table, when it has one).
    week : the week.
    tasks : the prescriptions' tasks (`playbook.prescribe.prescribe(clinic).tasks`, columns task_id,
        owner_department, metric, baseline, target, start, deadline); None asks `playbook.prescribe`.
    data : the clinic's `WeekData`, to check channel and department names (made when not given).

    Problems (an unreadable period, an unknown metric, channel or department) are collected on the
    result, naming the file, row and fix; the rows with problems are left out.
    """
    data = data if data is not None else week_data(clinic)
    problems: list[PlaybookError] = []
    rows = _table_targets(clinic, week, data, problems)
    if tasks is None:
        tasks = _prescribed_tasks(clinic, problems)
    taken = {r["metric_id"] for r in rows}
    rows += [r for r in _task_targets(tasks, week, data, problems) if r["metric_id"] not in taken]
    table = pd.DataFrame(rows, columns=TARGET_COLUMNS)
    return Targets(week, table, problems)


def _table_targets(clinic: Clinic, week: Week, data: WeekData, problems: list[PlaybookError]) -> list[dict]:
    load = clinic.loads.get("targets")
    if load is None or not load.found:
        return []
    problems.extend(_percent_hint(p) for p in [*load.errors, *load.warnings])
    frame = load.data
    if frame is None or frame.empty:
        return []
    path = load.path
    week_rows: dict[str, dict] = {}
    month_rows: dict[tuple[str, pd.Period], dict] = {}
    repeated: dict[str, list[int]] = {}
    days = pd.period_range(week.start, week.end, freq="D")
    months = set(days.asfreq("M"))
    for row in frame.itertuples(index=False):
        period = _period(row.period)
        if period is None:
            problems.append(PlaybookError(
                f"period {row.period!r} is not a week, a month or a day", path=path, column="周期", rows=[row.source_row],
                fix="write the period as 2025-W48 (a week), 2025-11 (a month) or a date (its week)",
                zh=f"第{row.source_row}行的周期“{row.period}”不是周、月或日期：请写成 2025-W48、2025-11 或日期"))
            continue
        kind, when = period
        if (kind == "week" and when != week) or (kind == "month" and when not in months):
            continue
        try:
            name, scope = parse_metric(row.metric)
        except MetricError as exc:
            exc.path, exc.column, exc.rows = path, "指标", [row.source_row]
            problems.append(exc)
            continue
        metric = WEEKLY_METRICS[name]
        reason = _scope_problem(data, metric, scope) if scope else None
        if reason:
            problems.append(PlaybookError(reason, path=path, column="指标", rows=[row.source_row],
                                          fix="write the channel or department as the exports write it",
                                          zh=f"第{row.source_row}行：数据中没有“{scope}”；请按导出数据中的写法填写渠道或科室"))
            continue
        target = float(row.target)
        if metric.unit == "rate" and 1 < target <= 100:  # 35 written for 35%
            target /= 100
        metric_id = f"{name}:{scope}" if scope else name
        entry = {"target": target, "owner": row.owner_department if isinstance(row.owner_department, str)
                 and row.owner_department.strip() and row.owner_department != "nan" else None,
                 "row": row.source_row, "metric": metric}
        key = metric_id if kind == "week" else (metric_id, when)
        book = week_rows if kind == "week" else month_rows
        if key in book:
            repeated.setdefault(metric_id, [book[key]["row"]]).append(row.source_row)
        book[key] = entry
    for metric_id, numbers in repeated.items():
        problems.append(PlaybookError(
            f"{metric_id} has {len(numbers)} targets for the same period; the last one is used", path=path,
            column="指标", rows=numbers, fix="keep one row per metric and period",
            zh=f"{metric_label(metric_id)}在同一周期有{len(numbers)}个目标（第{'、'.join(map(str, numbers))}行），"
               f"已采用最后一个；请每个指标每个周期只留一行"))

    rows = []
    for metric_id in dict.fromkeys([*week_rows, *(k[0] for k in month_rows)]):
        name, _, scope = metric_id.partition(":")
        metric = WEEKLY_METRICS[name]
        if metric_id in week_rows:
            entry = week_rows[metric_id]
            target, owner, source = entry["target"], entry["owner"], [entry["row"]]
        else:
            per_day, owners, source = [], [], []
            for day in days:
                entry = month_rows.get((metric_id, day.asfreq("M")))
                if entry is None:
                    continue
                per_day.append(entry["target"] / day.asfreq("M").days_in_month if metric.additive else entry["target"])
                owners.append(entry["owner"])
                source.append(entry["row"])
            # rounded off the float noise of the mean: seven days of 0.8 are a target of 0.8
            target = round(float(np.mean(per_day)) * (7 if metric.additive else 1), 9)
            owner = next((o for o in owners if o), None)
        rows.append({"metric_id": metric_id, "metric": name, "scope": scope or None, "target": target,
                     "owner_department": owner, "origin": "table",
                     "source": f"{path.name}:{','.join(str(r) for r in dict.fromkeys(source))}"})
    return rows


def _percent_hint(problem: PlaybookError) -> PlaybookError:
    """A target written "80%" is not an amount to the loader: say how to write a rate instead."""
    examples = getattr(problem, "examples", [])
    if not any(str(e).strip().endswith("%") for e in examples):
        return problem
    return PlaybookError(problem.message, path=problem.path, column=problem.column, rows=problem.rows,
                         fix="write a rate as a number: 0.8 or 80 (read as 80%), or use a percent cell in Excel",
                         zh=f"{problem.zh}；比率请写成数字：0.8 或 80（按80%读），或在Excel中用百分比格式的单元格")


def _prescribed_tasks(clinic: Clinic, problems: list[PlaybookError], *, until: dt.date | None = None
                      ) -> pd.DataFrame | None:
    """The prescriptions' tasks, when the prescribe step is installed and can run on this clinic.

    ``until``: the last day the caller needs targets for. The plan starts on ``plan_start``, by default
    the Monday after the analysis period (`playbook.prescribe`); a pack of an earlier week needs no
    tasks, and skips the diagnosis they come from (over a second of a pack's few).
    """
    if until is not None and clinic.config.plan_start_day > until:
        return None
    try:
        return prescribe(clinic).tasks
    except PlaybookError as exc:
        problems.append(exc)
        return None


def _task_targets(tasks: pd.DataFrame | None, week: Week, data: WeekData,
                  problems: list[PlaybookError]) -> list[dict]:
    """Targets read off the tasks' straight lines at the week's Sunday (see the module docstring)."""
    if tasks is None or tasks.empty or "metric" not in tasks:
        return []
    day = _ts(week.end)
    best: dict[str, dict] = {}
    for task in tasks.itertuples(index=False):
        if not isinstance(task.metric, str) or not task.metric.strip() or pd.isna(task.target):
            continue  # a milestone task: done or not done, no weekly number
        start, deadline = _ts(task.start), _ts(task.deadline)
        if day < start:
            continue
        try:
            name, scope = parse_metric(task.metric)
        except MetricError as exc:
            exc.message = f"task {task.task_id}: {exc.message}"
            problems.append(exc)
            continue
        metric = WEEKLY_METRICS[name]
        reason = _scope_problem(data, metric, scope) if scope else None
        if reason:
            problems.append(PlaybookError(f"task {task.task_id}: {reason}", fix="correct the task's metric in clinic.yaml",
                                          zh=f"任务{task.task_id}的指标“{task.metric}”在数据中找不到对应的渠道或科室"))
            continue
        span = (deadline - start).days
        share = 1.0 if span <= 0 else min(max((day - start).days / span, 0.0), 1.0)
        baseline = task.baseline if pd.notna(task.baseline) else task.target
        target = float(baseline + (task.target - baseline) * share)
        metric_id = f"{name}:{scope}" if scope else name
        entry = {"metric_id": metric_id, "metric": name, "scope": scope, "target": target,
                 "owner_department": task.owner_department, "origin": "task", "source": str(task.task_id)}
        held = best.get(metric_id)
        if held is None:
            best[metric_id] = entry
            continue
        more = target > held["target"] if metric.higher_is_better else target < held["target"]
        ids = f"{held['source']},{task.task_id}"
        owners = "、".join(dict.fromkeys(o for o in (held["owner_department"], task.owner_department) if o))
        best[metric_id] = {**(entry if more else held), "source": ids, "owner_department": owners or None}
    return list(best.values())


# --------------------------------------------------------------------------------------------------
# Target progress: deviation and colour [S0]


def deviation(actual: float | None, target: float | None) -> float | None:
    """(actual − target) / target [S0], rounded to the 0.1% a table shows; None without a target to divide by."""
    if actual is None or target is None or pd.isna(actual) or pd.isna(target) or target == 0:
        return None
    return round((float(actual) - float(target)) / float(target), 3)


def traffic_light(actual: float | None, target: float | None, *, higher_is_better: bool = True,
                  red_line: float = DEFAULTS["deviation_red"].value) -> str | None:
    """Red when behind the target by more than 20% [S0], yellow when behind by less, green when on or past it.

    ``red_line`` is the threshold ``deviation_red`` (−0.20): behind by exactly 20% is yellow. None when
    there is no actual or no target.
    """
    if actual is None or target is None or pd.isna(actual) or pd.isna(target):
        return None
    if target == 0:
        met = actual >= 0 if higher_is_better else actual <= 0
        return GREEN if met else RED
    dev = deviation(actual, target)
    behind = -dev if higher_is_better else dev
    if behind <= 0:
        return GREEN
    return RED if behind > -red_line else YELLOW


def _signed(value) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:+.1f}%"


def status_cell(status, lang: str = "zh") -> str | None:
    """A colour as the workbooks write it (红 / red), the word their conditional formats look for."""
    return None if status is None or (isinstance(status, float) and pd.isna(status)) else \
        STATUS_WORDS[status][0 if lang == "zh" else 1]


def status_values(lang: str) -> dict[str, str]:
    """The status words of the workbooks, for their conditional formats."""
    return {words[0 if lang == "zh" else 1]: status for status, words in STATUS_WORDS.items()}


@dataclass
class TargetProgress(AnalysisResult):
    """目标进度表 [S0]: each target of the week, the actual, the deviation, the colour and the owner.

    Without a target, each metric of the week beside the ``BEFORE_WEEKS`` weeks before it (``before``,
    ``change``), so that the page shows the trend instead of empty columns.
    """

    week: Week = None
    has_targets: bool = True
    partial_days: int = 7  # days of the week the data covers
    red_line: float = field(kw_only=True)  # the threshold ``deviation_red`` in force (−0.20: behind by 20%)

    def _actuals(self, lang: str) -> list[str]:
        t = self.table
        return [format_number(v, k, lang) + (i18n.pick(lang, "（暂计）", " (so far)") if p and pd.notna(v) else "")
                for v, k, p in zip(t["actual"], t["unit"], t["provisional"])]

    def _labels(self, lang: str) -> dict[str, str]:
        return {c: i18n.pick(lang, zh, en) for c, zh, en in (
            ("metric", "指标", "Metric"), ("target", "周目标", "Weekly target"), ("actual", "完成情况", "Actual"),
            ("deviation", "偏差率", "Deviation"), ("status", "状态", "Status"), ("provisional", "暂计", "So far"),
            ("owner", "责任部门", "Owner"), ("source", "目标来源", "Target from"), ("this", "本周", "This week"),
            ("before", f"前{BEFORE_WEEKS}周平均", f"Average of the {BEFORE_WEEKS} weeks before"),
            ("change", "变化", "Change"))}

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t, label = self.table, self._labels(lang)
        metrics = [metric_label(m, lang) for m in t["metric_id"]]
        if not self.has_targets:
            return pd.DataFrame({label["metric"]: metrics, label["this"]: self._actuals(lang),
                                 label["before"]: [format_number(v, u, lang) for v, u in zip(t["before"], t["unit"])],
                                 label["change"]: [change_text(c, u, lang) for c, u in zip(t["change"], t["unit"])],
                                 label["owner"]: self.owners(lang)})
        return pd.DataFrame({
            label["metric"]: metrics,
            label["target"]: [format_number(v, u, lang) for v, u in zip(t["target"], t["unit"])],
            label["actual"]: self._actuals(lang),
            label["deviation"]: [_signed(v) for v in t["deviation"]],
            label["status"]: [status_cell(s, lang) or "—" for s in t["status"]],
            label["owner"]: self.owners(lang),
            label["source"]: [_source_text(o, s, lang) for o, s in zip(t["origin"], t["source"])],
        })

    def owners(self, lang: str = "zh") -> list[str]:
        """Each target's department: the one the target names, else the metric's usual one."""
        return [department_name(o, lang) if isinstance(o, str) and o else WEEKLY_METRICS[m].owner_name(lang)
                for o, m in zip(self.table["owner_department"], self.table["metric"])]

    def sheet(self, lang: str = "zh"):
        t, label = self.table, self._labels(lang)
        kinds = [WEEKLY_METRICS[m].sheet_format for m in t["metric"]]
        provisional = [i18n.pick(lang, "是", "yes") if p else "" for p in t["provisional"]]
        name = i18n.pick(lang, "目标进度", "Target progress")
        if not self.has_targets:
            frame = pd.DataFrame({
                label["metric"]: [metric_label(m, lang) for m in t["metric_id"]], label["this"]: t["actual"].to_numpy(),
                label["before"]: t["before"].to_numpy(), label["change"]: change_numbers(t["change"], t["unit"]),
                label["provisional"]: provisional, label["owner"]: self.owners(lang)})
            return Sheet(name, frame, formats={label["this"]: kinds, label["before"]: kinds,
                                               label["change"]: change_formats(t["unit"])},
                         note=i18n.pick(lang, f"{self.week.text('zh')}　没有目标：本周与前{BEFORE_WEEKS}周平均比较"
                                              f"（比率的变化为百分点）", f"{self.week.text('en')}. No targets: the week "
                                              f"against the average of the {BEFORE_WEEKS} weeks before (a rate's "
                                              f"change in points)"))
        frame = pd.DataFrame({
            label["metric"]: [metric_label(m, lang) for m in t["metric_id"]],
            label["target"]: t["target"].to_numpy(), label["actual"]: t["actual"].to_numpy(),
            label["deviation"]: t["deviation"].to_numpy(),
            label["status"]: [status_cell(s, lang) for s in t["status"]],
            label["provisional"]: provisional,
            label["owner"]: self.owners(lang),
            label["source"]: [_source_text(o, s, lang) for o, s in zip(t["origin"], t["source"])],
        })
        return Sheet(name, frame,
                     formats={label["target"]: kinds, label["actual"]: kinds, label["deviation"]: "percent"},
                     status=label["status"], status_values=status_values(lang),
                     note=i18n.pick(lang, f"{self.week.text('zh')}　偏差率 =（完成 − 目标）/ 目标；红 = 落后超过"
                                          f"{behind(self.red_line)} [S0]",
                                    f"{self.week.text('en')}. Deviation = (actual − target) / target; red = behind by "
                                    f"more than {behind(self.red_line)} [S0]"))


_DEPARTMENTS_EN = {zh: en for zh, en in DEPARTMENTS.values()}


def department_name(text, lang: str = "zh"):
    """A department as a target or a task writes it (市场部, 前台、客服部) in the pack's language: the
    registry's departments in English for an English pack, any other name as written."""
    if lang == "zh" or not isinstance(text, str):
        return text
    return ", ".join(_DEPARTMENTS_EN.get(part.strip(), part.strip()) for part in text.split("、"))


def behind(red_line: float) -> str:
    """The red line (``deviation_red``) as the pack and the task board state it: −0.20 → 20% (behind by
    more than that is red)."""
    return f"{-red_line * 100:g}%"


def change_of(now, before, unit: str) -> float | None:
    """A week against the weeks before it: a rate's change in points (0.032 = 3.2 points), else relative."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    if unit == "rate":
        return float(now) - float(before)
    return float(now) / float(before) - 1 if before else None


def change_text(change, unit: str, lang: str = "zh") -> str:
    """+3.2个百分点 / +3.2 points for a rate, +12.5% otherwise; "—" when there is nothing to compare."""
    if change is None or pd.isna(change):
        return "—"
    if unit == "rate":
        return i18n.pick(lang, f"{change * 100:+.1f}个百分点", f"{change * 100:+.1f} points")
    return _signed(change)


def change_numbers(changes, units) -> list:
    """Changes as the workbooks store them: a rate's in points (3.2), any other as a fraction (0.125)."""
    return [None if c is None or pd.isna(c) else c * 100 if u == "rate" else c for c, u in zip(changes, units)]


def change_formats(units) -> list[str]:
    return ["points" if u == "rate" else "change" for u in units]


def _source_text(origin, source, lang: str) -> str:
    if origin == "table":
        return i18n.pick(lang, f"目标表 第{source.split(':')[1]}行", f"targets, row {source.split(':')[1]}")
    if origin == "task":
        return i18n.pick(lang, f"处方任务 {source}", f"task {source}")
    return "—"


def span_value(data: WeekData, metric: Metric, first: Week, last: Week, scope: str | None = None) -> float | None:
    """A metric over the weeks ``first``..``last`` as a week reads it: a count or total per week of the days
    the data covers, a rate or an average pooled over them (the registry's count over the whole span)."""
    start, end = max(_ts(first.start), data.data_start), min(_ts(last.end), data.as_of)
    if not metric.available(data) or end < start:
        return None
    value = metric.value(data, start, end, scope)
    if value is None or pd.isna(value):
        return None
    return value * 7 / ((end - start).days + 1) if metric.additive else value


def target_progress(data: WeekData, targets: Targets, *, red_line: float = DEFAULTS["deviation_red"].value,
                    history: Callable[[Week], Targets] | None = None) -> TargetProgress:
    """The target progress table of ``targets.week``: actual, deviation and colour of each target.

    ``history`` gives another week's targets (the pack's), to tell a target beaten for
    ``SUSTAINED_WEEKS`` weeks running, a practice worth keeping, from one good week. Without any
    target, each metric is set against the ``BEFORE_WEEKS`` weeks before.
    """
    week = targets.week
    t = targets.table
    has_targets = not t.empty
    if not has_targets:
        shown = [m for m in DEFAULT_SHOWN if WEEKLY_METRICS[m].available(data)]
        t = pd.DataFrame({"metric_id": shown, "metric": shown, "scope": None, "target": np.nan,
                          "owner_department": None, "origin": None,
                          "source": None})
    covered = data.covered_days(week)
    settled = _ts(week.end) + pd.Timedelta(days=SETTLE_DAYS) <= data.as_of
    rows = []
    for row in t.itertuples(index=False):
        metric = WEEKLY_METRICS[row.metric]
        scope = row.metric_id.partition(":")[2] or None
        target = _week_target(row.target, metric, covered)
        actual = week_value(data, metric, week, scope)
        before = span_value(data, metric, week.shift(-BEFORE_WEEKS), week.shift(-1), scope)
        provisional = metric.settle_days > 0 and not settled
        rows.append({"metric_id": row.metric_id, "metric": row.metric, "unit": metric.unit, "target": target,
                     "actual": actual, "deviation": deviation(actual, target),
                     "status": _status(actual, target, metric, provisional, red_line), "provisional": provisional,
                     "higher_is_better": metric.higher_is_better, "owner_department": row.owner_department,
                     "origin": row.origin, "source": row.source, "before": before,
                     "change": change_of(actual, before, metric.unit)})
    table = pd.DataFrame(rows)
    best = _best(table)
    streak = _green_streak(data, week, best, history, red_line) if best is not None else 0
    zh, en = (_progress_sentence(table, has_targets, week, covered, red_line, streak=streak,
                                 plan_start=data.clinic.config.plan_start_day, lang=lang) for lang in ("zh", "en"))
    return TargetProgress("target_progress", table, zh, en, week=week, has_targets=has_targets, partial_days=covered,
                          red_line=red_line)


def _week_target(target, metric: Metric, covered: int) -> float | None:
    """A week's target as it is judged: a count or money target cut to the days the data covers."""
    if target is None or pd.isna(target):
        return None
    return float(target) * covered / 7 if metric.additive and covered < 7 else float(target)


def _status(actual, target, metric: Metric, provisional: bool, red_line: float) -> str | None:
    status = traffic_light(actual, target, higher_is_better=metric.higher_is_better, red_line=red_line)
    return YELLOW if provisional and status == RED else status  # it can still rise: never red before it is known


def _best(table: pd.DataFrame) -> str | None:
    """The target beaten by the widest margin this week, None when none was met."""
    green = table[table["status"] == GREEN]
    return None if green.empty else green.loc[green["deviation"].abs().idxmax(), "metric_id"]


def _green_streak(data: WeekData, week: Week, metric_id: str, history, red_line: float) -> int:
    """Weeks in a row, this one included, that ``metric_id`` met its target (at most SUSTAINED_WEEKS)."""
    name, _, scope = metric_id.partition(":")
    metric = WEEKLY_METRICS[name]
    weeks = 1
    while history is not None and weeks < SUSTAINED_WEEKS:
        earlier = week.shift(-weeks)
        found = history(earlier).table
        found = found[found["metric_id"] == metric_id]
        if found.empty or data.covered_days(earlier) < 7:
            break
        target = _week_target(found["target"].iloc[0], metric, 7)
        if traffic_light(week_value(data, metric, earlier, scope or None), target,
                         higher_is_better=metric.higher_is_better, red_line=red_line) != GREEN:
            break
        weeks += 1
    return weeks


def _names(table: pd.DataFrame, lang: str) -> str:
    return i18n.pick(lang, "、", ", ").join(metric_label(m, lang) for m in table["metric_id"])


def _progress_sentence(t: pd.DataFrame, has_targets: bool, week: Week, covered: int, red_line: float, *,
                       streak: int, plan_start: dt.date, lang: str) -> str:
    part = ""
    if covered < 7:
        part = i18n.pick(lang, f"（数据只覆盖本周{covered}天，数量和金额目标按天数折算）",
                         f" (the data covers {covered} days of the week; count and money targets are cut to those days)")
    if not has_targets:
        return _no_target_sentence(t, week, plan_start, lang) + part
    line = behind(red_line)
    pending = t[t["provisional"] & (t["status"] != GREEN)]
    settled = t.drop(pending.index)
    red, yellow, green = (settled[settled["status"] == s] for s in (RED, YELLOW, GREEN))
    if lang == "zh":
        text = f"本周{len(t)}项目标：{len(green)}项达标，{len(yellow)}项落后{line}以内，{len(red)}项落后超过{line}"
        text += f"（{_names(red, 'zh')}）" if len(red) else ""
        if len(pending):
            text += (f"，另有{len(pending)}项还没有结果（{_pending(pending, 'zh')}，30天内还会上升，暂不判红黄）")
        text += part
    else:
        text = (f"Of this week's {i18n.counted(len(t), 'target')}, {len(green)} {i18n.plural(len(green), 'is', 'are')} "
                f"met, {len(yellow)} behind by up to {line} and {len(red)} by more than {line}")
        text += f" ({_names(red, 'en')})" if len(red) else ""
        if len(pending):
            text += (f"; {len(pending)} more {i18n.plural(len(pending), 'is', 'are')} not settled yet "
                     f"({_pending(pending, 'en')}, still rising for 30 days, so not judged red or yellow)")
        text += part
    if len(red):
        return text + i18n.pick(lang, "：会上对红色指标逐项用5Why追查原因，由责任部门认领补救任务。",
                                f": at the meeting, ask 'why' five times for each red metric and have its department "
                                f"take on a task to recover it.")
    best = _best(t)
    if best is None:
        return text + i18n.pick(lang, "。", ".")
    name = metric_label(best, lang)
    if streak >= SUSTAINED_WEEKS:
        return text + i18n.pick(lang, f"；{name}超额最多，已连续{streak}周达标：拆解成功要素并固化为常规做法。",
                                f"; {name} beat its target most, {streak} weeks running: find out why and make it "
                                f"routine.")
    return text + i18n.pick(lang, f"；{name}超额最多，但只有{streak}周：连续{SUSTAINED_WEEKS}周达标后再总结做法。",
                            f"; {name} beat its target most, but for {i18n.counted(streak, 'week')} only: sum up what "
                            f"worked once it holds for {SUSTAINED_WEEKS} weeks.")


def in_sentence(label: str) -> str:
    """An English label inside a sentence: 'First-visit conversion' → 'first-visit conversion' (ROI stays)."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _pending(t: pd.DataFrame, lang: str) -> str:
    """Provisional targets named with their deviation so far: 初诊成交率暂计−51.4%."""
    return i18n.pick(lang, "、", ", ").join(
        i18n.pick(lang, f"{metric_label(m, 'zh')}暂计{_signed(d)}", f"{metric_label(m, 'en')} {_signed(d)} so far")
        for m, d in zip(t["metric_id"], t["deviation"]))


def _no_target_sentence(t: pd.DataFrame, week: Week, plan_start: dt.date, lang: str) -> str:
    """How to set targets, and the week against the weeks before it (the table's trend)."""
    step, gap = DEFAULTS["target_step_relative"].value, DEFAULTS["target_gap_closed"].value
    if plan_start > week.end:
        why = i18n.pick(lang, f"（处方任务从{i18n.day(plan_start)}开始）",
                        f" (the prescribed tasks start on {i18n.day(plan_start, 'en')})")
    else:
        why = i18n.pick(lang, "（目标表中没有本周或本月的目标）", " (the targets table has none for its week or month)")
    how = i18n.pick(lang, f"本周还没有目标{why}。设目标时以近13周的平均为基线，按方法加一步（新患者、成交率等提高"
                          f"{step:.0%}，爽约率等向方法线收回{gap:.0%}），按周或按月写进目标表（targets）后重新生成，"
                          f"即可看到偏差率和红黄绿。",
                    f"No target covers this week yet{why}. Set each from its average of the last 13 weeks plus the "
                    f"method's step (new patients, conversion and the like {step:.0%} higher; no-shows and the like "
                    f"{gap:.0%} of the way to the method's line), write them by week or month in the targets table "
                    f"and build the pack again to see deviations and colours.")
    # the metric that moved most against its direction, relative to its own level
    moves = [(-(c if hb else -c) / (b if u == "rate" and b else 1), m, c, u) for m, c, b, u, hb in
             zip(t["metric_id"], t["change"], t["before"], t["unit"], t["higher_is_better"])
             if c is not None and pd.notna(c) and (c < 0 if hb else c > 0)]
    if not moves:
        return how + i18n.pick(lang, f"与前{BEFORE_WEEKS}周平均相比，没有哪项变差。",
                               f" Against the average of the {BEFORE_WEEKS} weeks before, nothing got worse.")
    _, metric_id, change, unit = max(moves)
    return how + i18n.pick(lang, f"与前{BEFORE_WEEKS}周平均相比，变差最多的是{metric_label(metric_id, 'zh')}"
                                 f"（{change_text(change, unit, 'zh')}）。",
                           f" Against the average of the {BEFORE_WEEKS} weeks before, "
                           f"{in_sentence(metric_label(metric_id, 'en'))} moved most the wrong way "
                           f"({change_text(change, unit, 'en')}).")



# --------------------------------------------------------------------------------------------------
# Channel effect [S0]


@dataclass
class ChannelEffect(AnalysisResult):
    """渠道效果表 [S0]: per source channel, the week's spend, leads, arrivals and cost, and ROI with the stop-loss."""

    week: Week = None
    has_spend: bool = False
    has_leads: bool = False
    line: float = field(kw_only=True)  # the stop-loss line in force (``channel_roi_stop_loss``)
    weeks: int = field(kw_only=True)  # weeks in a row under it (``channel_roi_stop_loss_weeks``)
    judged_week: pd.Timestamp | None = None  # the latest week with 90 days of revenue behind it (its Monday)
    min_patients: int = funnel.MIN_ROI_PATIENTS  # fewer new patients in a week's 13 weeks: not judged

    def judged_label(self, lang: str = "zh") -> str:
        """The column of the judged week's ROI, named by its week: ROI（9月22日那周）/ ROI, week of 2025-09-22."""
        if self.judged_week is None:
            return i18n.pick(lang, "ROI（可评估周）", "ROI, judged week")
        return i18n.pick(lang, f"ROI（{self.judged_week.month}月{self.judged_week.day}日那周）",
                         f"ROI, week of {self.judged_week:%d %b}")

    def _columns(self, lang: str) -> dict:
        t = self.table
        out = {i18n.pick(lang, "渠道", "Channel"): [channel_name(c, lang) for c in t.index]}
        if self.has_spend:
            out[i18n.pick(lang, "本周投放", "Spend")] = [format_number(v, "yuan", lang) if v else "—" for v in t["spend"]]
        if self.has_leads:
            out[i18n.pick(lang, "线索", "Leads")] = [format_number(v, "count", lang) for v in t["leads"]]
            out[i18n.pick(lang, "到店率", "Arrived")] = [format_number(v, "rate", lang) for v in t["arrival_rate"]]
        out[i18n.pick(lang, "新患者", "New")] = [format_number(v, "count", lang) for v in t["new_patients"]]
        if self.has_spend:
            out[i18n.pick(lang, "到店成本", "Cost each")] = [format_number(v, "yuan", lang) for v in t["cost_per_arrival"]]
        out[i18n.pick(lang, "成交率", "Converted")] = [format_number(v, "rate", lang) for v in t["conversion"]]
        out[i18n.pick(lang, "转化周期", "Days to deal")] = [
            "—" if pd.isna(v) else i18n.pick(lang, f"{v:.0f}天", f"{v:.0f}") for v in t["conversion_days"]]
        if self.has_spend:
            out[i18n.pick(lang, "ROI近13周（暂计）", "ROI, 13 wk so far")] = [
                "—" if pd.isna(v) else f"{v:.2f}" for v in t["roi_13w"]]
            out[self.judged_label(lang)] = ["—" if pd.isna(v) else f"{v:.2f}" for v in t["roi_judged"]]
            out[i18n.pick(lang, "止损判断", "Stop-loss")] = [self.judgement(r, lang) for r in t.itertuples()]
        return out

    def note(self, lang: str = "zh") -> str:
        """What the columns mean, printed above the table."""
        judged_zh = (f"{self.judged_week.month}月{self.judged_week.day}日那周" if self.judged_week is not None
                     else "最近一个已满90天的周")
        judged_en = f"the week of {self.judged_week:%d %b}" if self.judged_week is not None else "the latest week"
        spend_zh = ("到店成本 = 本周投放 ÷ 本周新患者；ROI = 13周内投放日首诊新患者90天内的消费 ÷ 投放。截至本周的ROI"
                    f"还在上升（暂计）；止损看{judged_zh}的ROI，它之后90天的消费已经齐全，连续{self.weeks}周低于"
                    f"{self.line:g}即止损 [S0]。") if self.has_spend else ""
        spend_en = ("Cost each = the week's spend / its new patients; ROI = revenue within 90 days of the new "
                    "patients of the 13 weeks' spending days / spend. The ROI to this week is still rising (so far); "
                    f"the stop-loss judges the ROI of {judged_en}, whose 90 days of revenue are in, and stops a "
                    f"channel under {self.line:g} for {self.weeks} weeks running [S0]. ") if self.has_spend else ""
        rising_zh = "、".join(w for w, shown in (("到店率", self.has_leads), ("成交率", True), ("ROI", self.has_spend)) if shown)
        rising_en = ", ".join(w for w, shown in (("arrival rate", self.has_leads), ("conversion", True),
                                                 ("ROI", self.has_spend)) if shown)
        missing_zh = "、".join(w for w, gone in (("营销活动表（投放、到店成本、ROI与止损）", not self.has_spend),
                                                ("线索表（线索与到店率）", not self.has_leads)) if gone)
        missing_en = " and ".join(w for w, gone in (("the campaigns table (spend, cost, ROI and stop-loss)", not self.has_spend),
                                                ("the leads table (leads and arrival rate)", not self.has_leads)) if gone)
        return i18n.pick(lang, f"{self.week.text('zh')}各来源渠道的获客效果。{spend_zh}{rising_zh}在之后30–90天内还会上升（暂计）；"
                               f"转化周期 = 近13周新患者从首诊到首次高值项目付费的天数（中位数）。"
                               + (f"提供{missing_zh}后，表中会加上相应的列。" if missing_zh else ""),
                         f"How each source channel brought patients in {self.week.text('en')}. {spend_en}"
                         f"{rising_en[0].upper()}{rising_en[1:]} can still rise over the next 30–90 days (so far); days to deal = median "
                         f"days from first visit to the first high-value payment, new patients of the last 13 weeks."
                         + (f" Give {missing_en} to see more columns." if missing_en else ""))

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        return pd.DataFrame(self._columns(lang))

    def sheet(self, lang: str = "zh"):
        t = self.table
        cols = {i18n.pick(lang, "渠道", "Channel"): [channel_name(c, lang) for c in t.index]}
        formats = {}
        spec = [("spend", "本周投放", "Spend", "money", self.has_spend), ("leads", "线索", "Leads", "count", self.has_leads),
                ("lead_arrivals", "线索到店", "Leads arrived", "count", self.has_leads),
                ("arrival_rate", "到店率（暂计）", "Arrival rate (so far)", "percent", self.has_leads),
                ("new_patients", "新患者到店", "New patients", "count", True),
                ("cost_per_arrival", "到店成本", "Cost per arrival", "money", self.has_spend),
                ("conversion", "初诊成交率（暂计）", "Conversion (so far)", "percent", True),
                ("conversion_days", "转化周期（天）", "Days to high-value deal", "count", True),
                ("roi_13w", "ROI（近13周，暂计）", "ROI (13 weeks, so far)", "ratio", self.has_spend),
                ("roi_judged", self.judged_label("zh"), self.judged_label("en"), "ratio", self.has_spend)]
        for key, zh, en, kind, shown in spec:
            if shown:
                label = i18n.pick(lang, zh, en)
                cols[label] = t[key].to_numpy()
                formats[label] = kind
        status = None
        if self.has_spend:
            status = i18n.pick(lang, "止损", "Stop-loss")
            cols[status] = [status_cell(RED, lang) if s else None for s in t["stop_loss"]]
            cols[i18n.pick(lang, "止损判断", "Judgement")] = [self.judgement(r, lang) for r in t.itertuples()]
        return Sheet(i18n.pick(lang, "渠道效果", "Channel effect"), pd.DataFrame(cols), formats=formats, status=status,
                     status_values=status_values(lang),
                     note=i18n.pick(lang, f"{self.week.text('zh')}　ROI连续{self.weeks}周低于{self.line:g}即止损 [S0]",
                                    f"{self.week.text('en')}. Stop-loss: ROI under {self.line:g} for {self.weeks} weeks "
                                    f"[S0]"))


    def judgement(self, row, lang: str = "zh") -> str:
        """The stop-loss rule on a channel's row, in words: stopped, passed, or why it is not judged."""
        if row.stop_loss:
            return i18n.pick(lang, f"止损（连续{int(row.streak_weeks)}周<{self.line:g}）",
                             f"stop ({int(row.streak_weeks)} wk under {self.line:g})")
        if pd.notna(row.roi_judged):
            return i18n.pick(lang, f"不止损（≥{self.line:g}）", f"keep (≥{self.line:g})") \
                if row.roi_judged >= self.line else i18n.pick(lang, f"低于{self.line:g}，未连续{self.weeks}周",
                                                              f"under {self.line:g}, not {self.weeks} wk running")
        if pd.isna(row.judged_spend):
            return i18n.pick(lang, "无投放", "no spend")
        if not row.judged_spend:
            return i18n.pick(lang, "该周无投放", "no spend that week")
        return i18n.pick(lang, f"新患者不足{self.min_patients}人，不评估",
                         f"under {self.min_patients} new patients: not judged")


def channel_effect(data: WeekData, week: Week, *, thresholds=None) -> ChannelEffect | Unavailable:
    """The channel-effect table of ``week`` [S0], built on the funnel chapter's definitions (`playbook.funnel`).

    Per source channel: the week's campaign spend (spread over each campaign's days), leads and the
    share that arrived so far, new patients (first arrivals), cost per arrival (spend / new patients),
    conversion so far; the conversion cycle (median days from first arrival to the first high-value
    payment, new patients of the 13 weeks to the week who made one); ROI of the 13 weeks to the week
    (their spend-day new patients' revenue within 90 days so far / spend: provisional until 90 days
    have passed) and the [S0] stop-loss as the funnel chapter judges it at the latest week it can
    (ROI under 1.5 for 2 weeks in a row, with 90 days of revenue behind it).
    """
    clinic = data.clinic
    if not data.has_channel:
        return Unavailable.because("channels", ["patients.source_channel"],
                                   zh_reason="患者档案中没有来源渠道，渠道效果表无法生成；请在患者导出中加上来源渠道。",
                                   en_reason="The patients export has no source channel, so there is no channel table; "
                                             "add the source channel to the patients export.")
    start, end = _ts(week.start), _ts(week.end)
    window = start - pd.Timedelta(weeks=ROI_WEEKS - 1)
    cut = data.as_of + pd.Timedelta(days=1)
    visits = clinic.visits[clinic.visits["scheduled_at"] < cut]
    charges = clinic.charges[clinic.charges["paid_at"] < cut]
    lookback = start - pd.Timedelta(weeks=STOP_LOSS_LOOKBACK_WEEKS + ROI_WEEKS)
    economics = new_patient_economics(clinic.patients, visits, charges, start=lookback.date(),
                                             end=data.as_of.date(), last_day=data.as_of)
    recent = economics[economics["first_arrival"].between(window, end)]
    this = recent[recent["first_arrival"] >= start]
    has_spend = data.campaigns is not None and clinic.has("campaigns", "spend")
    has_leads = data.leads is not None
    table = pd.DataFrame({"new_patients": this.groupby("source_channel").size(),
                          "conversion": this.groupby("source_channel")["converted"].mean(),
                          "conversion_days": recent.groupby("source_channel")["days_to_high_value"].median()})
    lines = thresholds or resolve_thresholds()
    stop_zh = stop_en = ""
    if has_leads:
        leads = data.leads[data.leads["day"].between(start, end)]
        g = leads.groupby("channel")["arrived"]
        table = table.reindex(table.index.union(pd.Index(list(g.groups))))
        table["leads"], table["lead_arrivals"] = g.size(), g.sum()
        table["arrival_rate"] = table["lead_arrivals"] / table["leads"].where(table["leads"] > 0)
    if has_spend:
        spend = daily_spend(data.campaigns)
        week_spend = spend[spend["day"].between(start, end)].groupby("channel")["spend"].sum()
        table = table.reindex(table.index.union(week_spend.index))
        table["spend"] = week_spend
        stop = funnel.channel_stop_loss(clinic.patients, visits, charges, data.campaigns,
                                        start=(start - pd.Timedelta(weeks=STOP_LOSS_LOOKBACK_WEEKS)).date(),
                                        end=end.date(), thresholds=thresholds, economics=economics)
        weekly = stop.table
        now = weekly[weekly["week"] == start].set_index("channel")
        table["roi_13w"] = now["roi"]
        at_judged = weekly[weekly["week"] == stop.latest_week].set_index("channel")
        table["roi_judged"] = at_judged["roi"].where(at_judged["judged"])
        table["judged_spend"] = at_judged["spend"]  # the judged week's own spend: none, none judged
        current = stop.streaks[stop.streaks["current"]].set_index("channel")
        table["stop_loss"] = table.index.isin(current.index)
        table["streak_weeks"] = current["weeks"]
        table["cost_per_arrival"] = table["spend"] / table["new_patients"].where(table["new_patients"] > 0)
        stop_zh, stop_en = stop.finding("zh"), stop.finding("en")  # the funnel chapter's stop-loss result
    for column in ("new_patients", "leads", "lead_arrivals"):
        if column in table:
            table[column] = table[column].fillna(0)
    if "spend" in table:
        table["spend"] = table["spend"].fillna(0.0)
        table["stop_loss"] = table["stop_loss"].fillna(False).astype(bool)
    table = table.sort_values("new_patients", ascending=False, kind="stable")
    table.index.name = "channel"
    zh, en = _channel_sentence(table, has_spend, "zh"), _channel_sentence(table, has_spend, "en")
    return ChannelEffect("channel_effect", table, zh + stop_zh, f"{en} {stop_en}".strip(), week=week,
                         has_spend=has_spend, has_leads=has_leads, line=lines["channel_roi_stop_loss"].value,
                         weeks=int(lines["channel_roi_stop_loss_weeks"].value),
                         judged_week=stop.latest_week if has_spend else None)


def _channel_sentence(t: pd.DataFrame, has_spend: bool, lang: str) -> str:
    """The week's new patients, the channel most came from, the dearest: channels named as the table names them."""
    if t["new_patients"].sum() == 0 and not has_spend:
        return i18n.pick(lang, "本周没有新患者到店。", "No new patient arrived this week.")
    total = int(t["new_patients"].sum())
    top = t["new_patients"].idxmax()
    n, name = int(t.loc[top, "new_patients"]), i18n.term(top, lang)
    text = i18n.pick(lang, f"本周新患者{total}人，最多来自{name}（{n}人）",
                     f"This week {total} new patients arrived, most from {name} ({n})")
    if has_spend and t["cost_per_arrival"].notna().any():
        dear = t["cost_per_arrival"].idxmax()
        cost, name = i18n.money(t.loc[dear, "cost_per_arrival"], lang), i18n.term(dear, lang)
        text += i18n.pick(lang, f"；到店成本最高的是{name}（每人{cost}）",
                          f"; the dearest arrivals came from {name} ({cost} each)")
    return text + i18n.pick(lang, "。", ".")


# --------------------------------------------------------------------------------------------------
# Customer tiers [S0]


def customer_tiers(data: WeekData, week: Week, *, thresholds=None):
    """客户分层表 [S0]: RFM tiers and the high-value churn-warning list over the 12 months to the week's end.

    `playbook.cohorts.rfm` and `playbook.cohorts.churn_warning` as the loyalty chapter computes them,
    on the data as of the week's end (names are masked at load). Returns (rfm, warning).
    """
    clinic = data.clinic
    end = data.as_of
    start = end - pd.Timedelta(days=TIERS_DAYS - 1)
    cut = end + pd.Timedelta(days=1)
    visits = clinic.visits[clinic.visits["scheduled_at"] < cut]
    charges = clinic.charges[clinic.charges["paid_at"] < cut]
    customers = cohorts.period_customers(visits, charges, start=start, end=end)
    rfm = cohorts.rfm(visits, charges, start=start, end=end, customers=customers)
    abc = cohorts.abc_classes(visits, charges, start=start, end=end, customers=customers)
    warning = cohorts.churn_warning(clinic.patients, visits, charges, start=start, end=end, thresholds=thresholds,
                                    abc=abc if abc.available else None)
    return rfm, warning


# --------------------------------------------------------------------------------------------------
# The 8-week trend [S0]


TREND_METRICS = ("revenue", "high_value_revenue", "new_patients", "arrived_visits", "first_visit_conversion",
                 "no_show_rate", "referral_share", "average_ticket", "arrival_rate", "plan_acceptance")
TREND_CHANGE = 0.10  # a week more than 10% off the weeks before it is worth a sentence
TREND_SHOWN = ("revenue", "high_value_revenue", "new_patients", "arrived_visits", "first_visit_conversion",
               "no_show_rate")  # the pages' table; the workbook has them all


@dataclass
class Trend(AnalysisResult):
    """近8周趋势 [S0]: the weekly numbers of the last 8 weeks, with the campaigns and events to mark."""

    week: Week = None
    as_of: pd.Timestamp = None  # the last day of the data counted
    campaigns: pd.DataFrame = None  # name, start, end (those overlapping the weeks)
    events: pd.DataFrame = None  # label, date, end
    missing: int = 0  # weeks of the 8 before the data starts
    lines: dict = field(default_factory=dict)  # metric name -> the method's line in force (playbook.thresholds)

    @property
    def settled(self) -> list[bool]:
        """Each week: its conversions have had their 30 days (an unsettled rate can still rise)."""
        return [pd.Timestamp(s) + pd.Timedelta(days=6 + SETTLE_DAYS) <= self.as_of for s in self.table["week_start"]]

    def past_line(self, name: str) -> list[bool]:
        """Each week: the metric is past the method's line (a settled value only: one still rising is not judged)."""
        line, metric = self.lines.get(name), WEEKLY_METRICS[name]
        return [line is not None and pd.notna(v) and (ok or not metric.settle_days) and bool(line.breached(v))
                for v, ok in zip(self.table[name], self.settled)]

    def cell_status(self, lang: str = "zh") -> list[dict[str, str]]:
        """Per row of `table_for`, the cells past the method's line, red: {column label: "red"}."""
        shown = self.table_for(lang).columns
        marks = [{} for _ in range(len(self.table))]
        for name in TREND_SHOWN:
            label = WEEKLY_METRICS[name].label(lang)
            if label in shown:
                for row, past in zip(marks, self.past_line(name)):
                    if past:
                        row[label] = RED
        return marks

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Revenue by week, its target when set, red for a week behind by more than 20%; campaigns and events marked."""
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        t = self.table.assign(revenue=self.table["revenue"] / scale, revenue_target=self.table["revenue_target"] / scale)
        plot_trend(t, x="week_start", y="revenue", target="revenue_target", status="revenue_status",
                   campaigns=self.campaigns, events=self.events, highlight=_ts(self.week.start), lang=lang, ax=ax,
                   **kwargs)
        ax.set_ylabel(i18n.pick(lang, f"实收（{unit}）", f"Revenue ({unit})"))
        ax.set_title(self.title(lang), loc="left", fontsize="medium")
        return ax

    def title(self, lang: str = "zh") -> str:
        t = self.table
        now = t["revenue"].iloc[-1]
        before = t["revenue"].iloc[:-1]
        if before.empty or not before.mean():
            return i18n.pick(lang, f"本周实收{i18n.money(now)}", f"Revenue this week {i18n.money(now, 'en')}")
        change = now / before.mean() - 1
        return i18n.pick(lang, f"本周实收{i18n.money(now)}，比前{len(before)}周平均{'高' if change >= 0 else '低'}"
                               f"{abs(change) * 100:.0f}%",
                         f"Revenue this week {i18n.money(now, 'en')}, {abs(change) * 100:.0f}% "
                         f"{'above' if change >= 0 else 'below'} the {len(before)} weeks before")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """The chart's weeks with the numbers behind it (the workbook's sheet has every metric)."""
        t = self.table
        out = {i18n.pick(lang, "周", "Week"): [Week.parse(w).short(lang) + f" {pd.Timestamp(s):%m.%d}"
                                              for w, s in zip(t["week"], t["week_start"])]}
        settled = self.settled
        for name in TREND_SHOWN:
            if name in t and t[name].notna().any():
                m = WEEKLY_METRICS[name]
                out[m.label(lang)] = [m.format(v, lang) + ("*" if m.settle_days and not ok and pd.notna(v) else "")
                                      for v, ok in zip(t[name], settled)]
        return pd.DataFrame(out)

    @property
    def provisional_note(self) -> dict[str, str]:
        zh, en = "带 * 的成交率还会上升：这些周的新患者还没满30天。", \
            "Conversions marked * will still rise: those weeks' new patients have not had their 30 days."
        if any(any(self.past_line(n)) for n in TREND_SHOWN if n in self.lines):
            zh += "红色：超过方法线（见上）。"
            en += " Red: past the method's line (see above)."
        return {"zh": zh, "en": en}

    def sheet(self, lang: str = "zh"):
        t = self.table
        cols = {i18n.pick(lang, "周", "Week"): t["week"].to_numpy(),
                i18n.pick(lang, "周一", "Monday"): [pd.Timestamp(s).date() for s in t["week_start"]]}
        formats = {i18n.pick(lang, "周一", "Monday"): "date"}
        for name in TREND_METRICS:
            if name in t and t[name].notna().any():
                m = WEEKLY_METRICS[name]
                cols[m.label(lang)] = t[name].to_numpy()
                formats[m.label(lang)] = m.sheet_format
        if t["revenue_target"].notna().any():
            label = i18n.pick(lang, "实收周目标", "Revenue target")
            cols[label] = t["revenue_target"].to_numpy()
            formats[label] = "money"
        note = i18n.pick(lang, "近8周每周数据 [S0]；成交率、到店率、方案接受率在30天内仍会上升",
                         "The last 8 weeks [S0]; conversion, arrival rate and plan acceptance still rise for 30 days")
        if self.missing:
            note += i18n.pick(lang, f"；数据开始前的{self.missing}周没有数据", f"; {i18n.counted(self.missing, 'week falls', 'weeks fall')} before the data")
        return Sheet(i18n.pick(lang, "近8周趋势", "8-week trend"), pd.DataFrame(cols), formats=formats, note=note)


def trend(data: WeekData, week: Week, *, targets: Callable[[Week], Targets] | None = None,
          weeks: int = TREND_WEEKS, red_line: float = DEFAULTS["deviation_red"].value, thresholds=None) -> Trend:
    """The last ``weeks`` weeks to ``week``: every unscoped metric, the revenue target, campaigns and events.

    Weeks before the data starts are left out and counted in ``missing`` (the sentence says so).
    ``targets``: a function giving a week's `Targets`, for the revenue target line. ``thresholds``: the
    clinic's lines in force (`playbook.thresholds.resolve`); a settled week past a shown metric's line
    (no-shows over 15%, conversion under 80%) is named and coloured.
    """
    wanted = [week.shift(-k) for k in range(weeks - 1, -1, -1)]
    shown = [w for w in wanted if data.covered_days(w) > 0]
    rows = []
    for w in shown:
        row = {"week": w.label, "week_start": _ts(w.start)}
        for name in TREND_METRICS:
            metric = WEEKLY_METRICS[name]
            row[name] = week_value(data, metric, w)
        target = None
        if targets is not None:
            found = targets(w).table
            found = found[found["metric_id"] == "revenue"]
            target = float(found["target"].iloc[0]) if len(found) else None
        row["revenue_target"] = target
        row["revenue_status"] = traffic_light(row["revenue"], target, red_line=red_line)
        rows.append(row)
    table = pd.DataFrame(rows)
    first, last = _ts(shown[0].start), _ts(week.end)
    campaigns = _campaigns_between(data, first, last)
    events = _events_between(data, first, last)
    in_force = thresholds or resolve_thresholds()
    lines = {name: in_force[WEEKLY_METRICS[name].line] for name in TREND_SHOWN if WEEKLY_METRICS[name].line}
    result = Trend("trend", table, "", "", week=week, as_of=data.as_of, campaigns=campaigns, events=events,
                   missing=len(wanted) - len(shown), lines=lines)
    result.zh, result.en = (
        _trend_sentence(result, data.data_start, lang) for lang in ("zh", "en"))
    return result


def _campaigns_between(data: WeekData, first, last) -> pd.DataFrame:
    c = data.campaigns
    if c is None or c.empty:
        return pd.DataFrame(columns=["name", "start", "end"])
    end = c["end"].fillna(c["start"])
    on = c[(c["start"] <= last) & (end >= first)]
    names = (on["name"] if "name" in on else on["campaign_id"]).fillna(on["campaign_id"]).astype(str)
    return pd.DataFrame({"name": names.to_numpy(), "start": on["start"].dt.normalize().to_numpy(),
                         "end": end[on.index].dt.normalize().to_numpy()}).sort_values("start", kind="stable")


def _events_between(data: WeekData, first, last) -> pd.DataFrame:
    rows = [{"label": e.label, "date": _ts(e.date), "end": _ts(e.end or e.date)} for e in data.clinic.config.events]
    frame = pd.DataFrame(rows, columns=["label", "date", "end"])
    return frame[(frame["date"] <= last) & (frame["end"] >= first)].reset_index(drop=True)


def _run(values: pd.Series, sign: int) -> int:
    """How many weeks at the end each stood more than 10% above (sign 1) or below (−1) the mean of the weeks
    before them all: 1 for one week's jump, 3 or more for a change that held."""
    weeks = 0
    for k in range(1, len(values) - 1):  # at least two weeks stay before the run
        base = values.iloc[:-k].mean()
        if not base or not all(sign * (v / base - 1) > TREND_CHANGE for v in values.iloc[-k:]):
            break
        weeks = k
    return weeks


def _trend_sentence(trend: Trend, data_start, lang: str) -> str:
    t = trend.table
    now, before = t["revenue"].iloc[-1], t["revenue"].iloc[:-1]
    if before.empty:
        text = i18n.pick(lang, "本周是数据的第一周，还没有趋势可比。", "This is the first week of the data: no trend to compare yet.")
    else:
        change = now / before.mean() - 1 if before.mean() else 0.0
        worst = Week.parse(t.loc[t["revenue"].idxmin(), "week"])
        if change > TREND_CHANGE:
            text = _rise_sentence(t["revenue"], change, lang)
        elif change < -TREND_CHANGE:
            weeks = _run(t["revenue"], -1)
            held = (i18n.pick(lang, f"已连续{weeks}周低于之前的水平，", f"It has been low for {weeks} weeks running: ")
                    if weeks >= SUSTAINED_WEEKS else "")
            text = i18n.pick(lang, f"本周实收比前{len(before)}周平均低{abs(change) * 100:.0f}%：{held}对照图中同期的活动和事件，"
                                   f"在会上查明是哪项业务下滑（新患者、成交还是客单价），再定补救任务。",
                             f"Revenue this week is {abs(change) * 100:.0f}% below the average of the {len(before)} "
                             f"weeks before. {held}check the campaigns and events of the chart and find at the meeting "
                             f"which part fell (new patients, conversion or ticket) before agreeing the tasks to "
                             f"recover it.")
        else:
            text = i18n.pick(lang, f"本周实收与前{len(before)}周平均相差不到10%，最低的是{worst.short('zh')}：业绩平稳，"
                                   f"重点看目标进度表中的红色指标。",
                             f"Revenue this week is within 10% of the {len(before)} weeks before (lowest: "
                             f"{worst.short('en')}): steady; focus on the red metrics of the target table.")
    text += _line_sentence(trend, lang)
    marks = [*trend.campaigns["name"], *trend.events["label"]]
    if marks:
        text += i18n.pick(lang, f"图中标出了同期的活动和事件：{'、'.join(marks)}。",
                          f" The chart marks the campaigns and events of these weeks: {', '.join(marks)}.")
    if trend.missing:
        text += i18n.pick(lang, f"数据从{i18n.day(data_start.date())}开始，前{trend.missing}周没有数据，图中只有{len(t)}周。",
                          f" The data starts on {i18n.day(data_start.date(), 'en')}: {trend.missing} of the 8 weeks "
                          f"fall before it, so the chart shows {len(t)}.")
    return text


def _rise_sentence(revenue: pd.Series, change: float, lang: str) -> str:
    """A rise to keep only when it held [S0]: one week up (a holiday, a year-end rush, one large case) is
    not yet a practice."""
    n, weeks = len(revenue) - 1, _run(revenue, 1)
    if weeks >= SUSTAINED_WEEKS:
        base = revenue.iloc[:-weeks].mean()
        low = min(v / base - 1 for v in revenue.iloc[-weeks:])
        return i18n.pick(lang, f"实收已连续{weeks}周比之前{len(revenue) - weeks}周的平均高{low * 100:.0f}%以上："
                               f"找出带来增长的活动或做法，固化为常规。",
                         f"Revenue has been at least {low * 100:.0f}% above the average of the "
                         f"{len(revenue) - weeks} weeks before for {weeks} weeks running: find the campaign or "
                         f"practice behind it and make it routine.")
    only = i18n.pick(lang, "只此一周" if weeks <= 1 else f"只有{weeks}周",
                     "one week only" if weeks <= 1 else f"{weeks} weeks only")
    return i18n.pick(lang, f"本周实收比前{n}周平均高{change * 100:.0f}%，但{only}：先查明原因（节假日、年末集中付款或"
                           f"一两笔大额治疗），连续{SUSTAINED_WEEKS}周以上再作为做法固化。",
                     f"Revenue this week is {change * 100:.0f}% above the average of the {n} weeks before, but for "
                     f"{only}: find out why first (a holiday, a year-end rush of payments, one or two large cases); "
                     f"make it a practice only once it holds for {SUSTAINED_WEEKS} weeks or more.")


def _line_sentence(trend: Trend, lang: str) -> str:
    """The settled weeks past the method's line, per metric: 第50、51周爽约率超过15%的警戒线（18.3%、18.3%）."""
    parts = []
    for name, line in trend.lines.items():
        past = trend.past_line(name)
        if not any(past):
            continue
        m = WEEKLY_METRICS[name]
        rows = trend.table[past]
        weeks = [Week.parse(w).short(lang) for w in rows["week"]]
        values = [m.format(v, lang) for v in rows[name]]
        # the line's kind as its name ends: 复盘线 / review line, 警戒线 / alert line
        kind_zh, kind_en = line.zh[-3:], " ".join(line.en.lower().split()[-2:])
        if lang == "zh":
            parts.append(f"{'、'.join(weeks)}{m.zh}{'超过' if line.direction == 'max' else '低于'}"
                         f"{sentences.line(line)}的{kind_zh}（{'、'.join(values)}）")
        else:
            parts.append(f"{in_sentence(m.en)} was {'over' if line.direction == 'max' else 'under'} the "
                         f"{sentences.line(line)} {kind_en} in {', '.join(weeks)} ({', '.join(values)})")
    if not parts:
        return ""
    return i18n.pick(lang, "；".join(parts) + "（表中红色）。",
                     " " + "; ".join(parts)[0].upper() + "; ".join(parts)[1:] + " (red in the table).")


def plot_trend(data: pd.DataFrame, *, x: str = "week_start", y: str = "revenue", target: str | None = None,
               status: str | None = None, campaigns: pd.DataFrame | None = None, events: pd.DataFrame | None = None,
               highlight=None, lang: str = "zh", ax: plt.Axes | None = None, **kwargs) -> plt.Axes:
    """Weekly bars with the campaigns and events of the weeks marked above them [S0].

    Parameters
    ----------
    data : DataFrame
        One row per week.
    x, y : column names
        The week's Monday (a date) and the value.
    target : column name, optional
        The week's target, drawn as a dashed step.
    status : column name, optional
        Each week's colour against its target (``"red"`` draws the bar in red: behind by more than 20%).
    campaigns : DataFrame, optional
        ``name``, ``start``, ``end``: drawn as labelled spans over the bars.
    events : DataFrame, optional
        ``label``, ``date``, ``end``: policy or market events, drawn as dashed lines (spans when they last).
    highlight : date, optional
        The week under review (its bar is drawn darker).
    lang : {"zh", "en"}
    ax : matplotlib Axes, optional
        Axes to draw in; the current Axes when None.
    kwargs
        Passed to ``Axes.bar``.

    Returns
    -------
    matplotlib Axes
    """
    ax = ax if ax is not None else plt.gca()
    weeks = pd.to_datetime(data[x])
    centre = weeks + pd.Timedelta(days=3.5)
    colours = []
    for w, s in zip(weeks, data[status] if status else [None] * len(data)):
        colours.append(ACTION_RED if s == RED else PALETTE[0] if highlight is not None and w == _ts(highlight)
                       else PALETTE[5])
    ax.bar(centre, data[y].fillna(0), width=5.5, color=colours, **kwargs)
    for c, v in zip(centre, data[y]):
        if pd.notna(v):
            ax.annotate(f"{v:,.1f}" if abs(v) < 100 else f"{v:,.0f}", (c, v), xytext=(0, 2),
                        textcoords="offset points", ha="center", va="bottom", fontsize=8)
    if target and data[target].notna().any():
        ax.step(list(weeks) + [weeks.iloc[-1] + pd.Timedelta(days=7)], list(data[target]) + [data[target].iloc[-1]],
                where="post", color=PALETTE[0], linestyle="--", linewidth=1.2,
                label=i18n.pick(lang, "周目标", "weekly target"))
        ax.legend(loc="lower left", fontsize="small")
    first, last = weeks.iloc[0], weeks.iloc[-1] + pd.Timedelta(days=7)
    top = float(np.nanmax([data[y].max(), data[target].max() if target else np.nan, 0]))
    marks = [(r.name, _ts(r.start), _ts(r.end) + pd.Timedelta(days=1), PALETTE[2]) for r in
             (campaigns.itertuples() if campaigns is not None else [])]
    marks += [(r.label, _ts(r.date), _ts(r.end) + pd.Timedelta(days=1), PALETTE[3]) for r in
              (events.itertuples() if events is not None else [])]
    lane = 0.085  # axes fraction per label lane above the bars
    room = lane * len(marks)
    ax.set_ylim(0, top * 1.12 / max(1 - room, 0.35) if top > 0 else 1)
    blend = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for i, (label, a, b, colour) in enumerate(marks):
        a, b = max(a, first), min(b, last)
        level = 1 - lane * (i + 0.6)
        ax.plot([a, b], [level, level], transform=blend, color=colour, linewidth=5, solid_capstyle="butt")
        if colour == PALETTE[3]:
            ax.axvline(a, color=colour, linestyle=":", linewidth=1.2)
        # on a white ground: a gridline running through the lanes would strike the label through
        ax.text(a, level - lane * 0.15, f" {label}", transform=blend, va="top", ha="left", fontsize=8, color="#333333",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0}, zorder=3)
    ax.set_xlim(first - pd.Timedelta(days=1), last + pd.Timedelta(days=1))
    ax.set_xticks(centre, [f"{Week.containing(w).short(lang)}\n{w:%m.%d}" for w in weeks])
    ax.grid(axis="x", visible=False)
    return ax


# --------------------------------------------------------------------------------------------------
# Benefit: cost per patient and high-value margin (the three-effect review's 效益 [S0])


@dataclass
class Benefit:
    """Cost per patient of a week and of the 4 weeks before it, and the high-value margin of the 4 weeks to
    the week against the 4 before those [S0].

    ``cost_per_patient``: the week's costs (the costs table's monthly amounts spread evenly over their
    days, inventory left out: it is a stock, not a cost) / patients with an arrived visit in the week;
    without a costs table, campaign spend / new patients (``basis`` "acquisition"). ``high_value_margin``
    (playbook reading of 高值项目利润率): (high-value revenue − lab fees − consumables × the high-value
    share of revenue) / high-value revenue; lab fees go to crowns, implants and aligners, the high-value
    tier, and consumables are shared by revenue. It is counted over ``MARGIN_WEEKS`` weeks: the costs are
    booked by the month and spread by day, while one implant case moves a week's high-value revenue, so
    one week's margin would swing by tens of points with no change in how the clinic works. None when
    the costs table does not cover the weeks.
    """

    week: Week
    basis: str | None  # "costs", "acquisition" or None (no data)
    cost_per_patient: float | None
    cost_per_patient_before: float | None
    high_value_margin: float | None
    high_value_margin_before: float | None

    @property
    def cost_change(self) -> float | None:
        if self.cost_per_patient is None or not self.cost_per_patient_before:
            return None
        return self.cost_per_patient / self.cost_per_patient_before - 1

    @property
    def margin_change(self) -> float | None:
        if self.high_value_margin is None or self.high_value_margin_before is None:
            return None
        return self.high_value_margin - self.high_value_margin_before


def _week_costs(data: WeekData, week: Week) -> dict | None:
    if data.costs is None:
        return None
    days = pd.period_range(week.start, week.end, freq="D")
    months = pd.Series(days.asfreq("M"))
    recorded = set(data.costs["month"])
    if not set(months) <= recorded:
        return None
    per_month = data.costs.groupby(["month", data.costs["kind"].fillna("other")])["amount"].sum().unstack(fill_value=0.0)
    share = months.value_counts() / [m.days_in_month for m in months.value_counts().index]
    spread = per_month.reindex(share.index).mul(share, axis=0).sum()
    return {"total": float(spread.drop(INVENTORY, errors="ignore").sum()), "lab": float(spread.get("lab", 0.0)),
            "consumables": float(spread.get("consumables", 0.0)), "has_lab": "lab" in per_month.columns}


def _cost_of(data: WeekData, week: Week) -> tuple[str | None, float | None]:
    """(basis, cost per patient) of one week: the costs table's, else the campaigns' per new patient."""
    start, end = _ts(week.start), _ts(week.end)
    costs = _week_costs(data, week)
    v = data.visits
    if costs is not None:
        patients = v.loc[v["day"].between(start, end) & v["status"].eq("arrived"), "patient_id"].nunique()
        return "costs", (costs["total"] / patients if patients else None)
    if data.campaigns is not None and data.clinic.has("campaigns", "spend"):
        spend = daily_spend(data.campaigns)
        new = METRICS["new_patients"].value(data, start, end)
        return "acquisition", (float(spend.loc[spend["day"].between(start, end), "spend"].sum()) / new if new else None)
    return None, None


def _margin_of(data: WeekData, last: Week, weeks: int = MARGIN_WEEKS) -> float | None:
    """The high-value margin of the ``weeks`` weeks to ``last`` (see `Benefit`); None without lab fees for them all."""
    span = [last.shift(-k) for k in range(weeks)]
    costs = [_week_costs(data, w) for w in span]
    if any(c is None or not c["has_lab"] for c in costs) or any(data.covered_days(w) < 7 for w in span):
        return None
    start, end = _ts(span[-1].start), _ts(last.end)
    revenue = METRICS["revenue"].value(data, start, end)
    high = METRICS["high_value_revenue"].value(data, start, end)
    if not high or high <= 0 or not revenue or revenue <= 0:
        return None
    lab, consumables = sum(c["lab"] for c in costs), sum(c["consumables"] for c in costs)
    return (high - lab - consumables * high / revenue) / high


def benefit(data: WeekData, week: Week, *, weeks_before: int = BENEFIT_BASE_WEEKS) -> Benefit:
    """The week's cost per patient against the ``weeks_before`` weeks before it, and the high-value margin of
    the `MARGIN_WEEKS` weeks to it against the weeks before those."""
    basis, cost = _cost_of(data, week)
    before = [_cost_of(data, week.shift(-k)) for k in range(1, weeks_before + 1)
              if data.covered_days(week.shift(-k)) == 7]
    costs = [c for b, c in before if c is not None and b == basis]
    return Benefit(week, basis, cost, float(np.mean(costs)) if costs else None, _margin_of(data, week),
                   _margin_of(data, week.shift(-MARGIN_WEEKS)))


# --------------------------------------------------------------------------------------------------
# The pack


@dataclass
class WeeklyPack:
    """Everything the pack of one week shows, computed once; `build_weekly` writes it out."""

    clinic: Clinic
    week: Week
    lang: str
    data: WeekData
    targets: Targets
    progress: TargetProgress
    channels: AnalysisResult
    rfm: AnalysisResult
    warning: AnalysisResult
    trend: Trend
    benefit: Benefit
    tasks: pd.DataFrame | None = None  # the prescriptions' tasks the targets came from
    problems: list[PlaybookError] = field(default_factory=list)

    def targets_of(self, week: Week) -> Targets:
        """Another week's targets from the same sources (the task board's coming week)."""
        return weekly_targets(self.clinic, week, self.tasks if self.tasks is not None else pd.DataFrame(),
                              data=self.data)


def weekly_pack(clinic: Clinic, week: Week | str | None = None, *, tasks: pd.DataFrame | None = None,
                lang: str | None = None) -> WeeklyPack:
    """Compute the pack of ``week`` (None: the last full week of the data) for a loaded clinic.

    A week the data does not reach is a `WeekError` naming the weeks it covers.
    """
    lang = lang or clinic.config.lang
    full = week_data(clinic)
    week = last_full_week(full.data_end) if week is None else week if isinstance(week, Week) else Week.parse(week)
    _check_week(week, full)
    data = week_data(clinic, as_of=week.end)
    thresholds = resolve_thresholds(clinic.config.thresholds)
    red_line = thresholds["deviation_red"].value
    problems: list[PlaybookError] = []
    if tasks is None:
        tasks = _prescribed_tasks(clinic, problems, until=week.shift(1).end)
    cache: dict[Week, Targets] = {}

    def targets_of(w: Week) -> Targets:
        if w not in cache:
            cache[w] = weekly_targets(clinic, w, tasks if tasks is not None else pd.DataFrame(), data=data)
        return cache[w]

    targets = targets_of(week)
    problems += targets.problems
    progress = target_progress(data, targets, red_line=red_line, history=targets_of)
    channels = channel_effect(data, week, thresholds=thresholds)
    rfm, warning = customer_tiers(data, week, thresholds=thresholds)
    return WeeklyPack(clinic, week, lang, data, targets, progress, channels, rfm, warning,
                      trend(data, week, targets=targets_of, red_line=red_line, thresholds=thresholds),
                      benefit(data, week), tasks,
                      list(dict.fromkeys(problems)))


def _check_week(week: Week, data: WeekData) -> None:
    first, last = Week.containing(data.data_start), Week.containing(data.data_end)
    if _ts(week.end) < data.data_start or _ts(week.start) > data.data_end:
        side = "before the data starts" if _ts(week.end) < data.data_start else "after the data ends"
        raise WeekError(
            f"week {week.label} is {side} (the exports run from {data.data_start.date()} to {data.data_end.date()})",
            path=data.clinic.folder, fix=f"choose a week from {first.label} to {last.label}, or export newer data",
            zh=f"{week.label}不在数据范围内（数据从{i18n.day(data.data_start.date())}到{i18n.day(data.data_end.date())}）；"
               f"请选择{first.label}到{last.label}之间的周")

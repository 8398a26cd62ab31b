"""The metric registry: each metric of the clinic defined once, read by everything that shows it.

One `Metric` per metric: its name (the id a targets table, a task or an intervention writes; the
kpis.json name unless ``kpis_key`` says otherwise), its Chinese and English labels, its unit, which way
is better, the window it is measured over, the thresholds stated in its unit, its definition in
words, and the one computation that counts it from the canonical tables (`playbook.tables`) in a
window, for the whole clinic or one channel or department.

Views of the registry (a selection and an order, never a copy):

- `HEADLINE`: the seven headline KPIs of the contract (kpis.json ``kpis``; `playbook.kpis`), whose
  definitions the appendix prints (`playbook.definitions`);
- `WEEKLY`: what the weekly pack tracks and a target may name (`playbook.weekly`);
- `SERIES`: the KPIs an intervention can be evaluated on, per day, week or month (`playbook.evaluate`);
- `PORTFOLIO`: what a chain owner compares across clinics (`playbook.portfolio`);
- the prescriptions' targets (`playbook.prescribe`) name metrics of `WEEKLY`.

A metric is a count, a total or a ratio of rows of one event table (new patients, visits, payments,
leads, treatment plans) placed in a window by one date. A ratio whose numerator and denominator add up
over disjoint windows is *pooled*: its value over 13 weeks is the sum of the weeks' numerators over
the sum of their denominators. Sources are cited where each metric's line is applied: [S0]..[S4] of
method.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from . import i18n, parsing
from .catalogue import HIGH_VALUE
from .errors import PlaybookError
from .tables import (BASELINE_WEEKS, CONVERSION_WINDOW_DAYS, RETURN_WINDOW_DAYS, REVENUE_WINDOW_DAYS, ROI_WEEKS,
                     SETTLE_DAYS, TREATMENT_TIERS, MetricTables)

__all__ = ["Metric", "METRICS", "HEADLINE", "WEEKLY", "SERIES", "PORTFOLIO", "DEPARTMENTS", "MetricError",
           "parse_metric", "metric_label", "format_number", "period_start", "CONVERSION_WINDOW_DAYS", "SETTLE_DAYS",
           "REVENUE_WINDOW_DAYS", "RETURN_WINDOW_DAYS", "ROI_WEEKS", "BASELINE_WEEKS"]

UNITS = ("yuan", "count", "rate")
SCOPES = ("channel", "department", "doctor", "consultant", "slot")

# The departments that answer for a metric or a task (prescriptions.yaml's owners), zh / en.
DEPARTMENTS = {
    "marketing": ("市场部", "Marketing"),
    "front_desk": ("前台", "Front desk"),
    "customer_service": ("客服部", "Customer service"),
    "medical": ("医务部", "Medical team"),
    "consulting": ("咨询部", "Treatment coordinators"),
    "purchasing": ("采购与财务", "Purchasing and finance"),
    "management": ("院长办公室", "Owner's office"),
}


class MetricError(PlaybookError):
    """A metric name the registry does not know, or a split the metric does not have."""


Rows = pd.DataFrame
ROWS = "rows"  # a part that counts the rows; any other name sums that column (True counts 1)
# What places a row of each table in a window, zh / en.
_EVENTS = {"new": ("首次到诊日在窗口内", "first arrival in the window"),
           "returns": ("首次到诊日在窗口内", "first arrival in the window"),
           "visits": ("预约日在窗口内", "visit scheduled in the window"),
           "paid": ("收费日在窗口内", "charge paid in the window"),
           "leads": ("线索建立日在窗口内", "lead created in the window"),
           "plans": ("方案建立日在窗口内", "plan created in the window")}
Part = str | Callable[[Rows], float]  # a column to sum, ROWS to count, or a function of the rows


@dataclass(frozen=True)
class Metric:
    """One metric: names, unit, direction, window, thresholds, definition, and how it is counted."""

    name: str  # the id targets, tasks and interventions write; kpis.json's name unless kpis_key is set
    zh: str
    en: str
    unit: str  # "yuan", "count" or "rate" (a ratio of two amounts, e.g. yuan per paying day, is "yuan")
    higher_is_better: bool
    definition_zh: str
    definition_en: str
    table: str | None  # the MetricTables frame counted: new, returns, visits, paid, leads, plans (None: computed_by)
    numerator: Part | None = None  # a column summed, ROWS counted, or a function of the rows
    denominator: Part | None = None  # a ratio's; None: a count or a total
    rows: Callable[[Rows], pd.Series] | None = field(default=None, repr=False)  # which rows count (None: all)
    date: str = "day"  # the column that places a row in a window
    pooled: bool = True  # numerator and denominator add up over disjoint windows
    settle_days: int = 0  # days after an event its outcome is counted (the value only rises meanwhile)
    cohort_shift_days: int = 0  # the window's cohort ends this long before its end, so its value is final
    scopes: tuple[str, ...] = ()  # what ``name:scope`` may name: "channel", "department", "doctor", "consultant", "slot"
    line: str | None = None  # the threshold its level is judged against (drawn on charts)
    thresholds: tuple[str, ...] = ()  # every line of playbook.thresholds stated in its unit
    needs: str | None = None  # an optional table it needs: "leads" or "treatment_plans"
    owner: str = "management"  # the department (a key of DEPARTMENTS) that usually answers for it
    count_zh: str = ""  # a count's word in Chinese text: 人, 人次
    aliases: tuple[str, ...] = ()  # other names a targets table may write
    kpis_key: str | None = None  # its kpis.json name when it differs from ``name``
    computed_by: str | None = None  # the module that computes it, for a metric no table counts directly

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    def definition(self, lang: str = "zh") -> str:
        return self.definition_zh if lang == "zh" else self.definition_en

    def window(self, lang: str = "zh") -> str:
        """The window a value is measured over, in words: which date places a row in it, and how long
        after it the outcome is counted."""
        zh, en = _EVENTS[self.table] if self.table else ("见" + self.computed_by, "see " + str(self.computed_by))
        if self.cohort_shift_days:
            zh += f"，截至窗口结束前{self.cohort_shift_days}天"
            en += f", up to {self.cohort_shift_days} days before the window's end"
        if self.settle_days or self.cohort_shift_days:
            days = self.settle_days or self.cohort_shift_days
            zh += f"；结果看其后{days}天"
            en += f"; outcome counted over the {days} days after"
        return zh if lang == "zh" else en

    def owner_name(self, lang: str = "zh") -> str:
        return DEPARTMENTS[self.owner][0 if lang == "zh" else 1]

    @property
    def json_key(self) -> str:
        """The metric's name in kpis.json ``kpis``."""
        return self.kpis_key or self.name

    @property
    def additive(self) -> bool:
        """A count or a total: adds up over days, so a month's target spreads over them and a target is
        stated per week; a ratio's target is stated as the ratio."""
        return self.denominator is None

    @property
    def sheet_format(self) -> str:
        """The workbooks' number format (`playbook.workbook`)."""
        return {"rate": "percent", "yuan": "money", "count": "count"}[self.unit]

    def format(self, value, lang: str = "zh") -> str:
        return format_number(value, self.unit, lang)

    def available(self, tables: MetricTables) -> bool:
        return self.table is not None and tables.frame(self.table) is not None

    # -- counting -------------------------------------------------------------------------------------

    def _window(self, frame: Rows, start, end) -> pd.Series:
        last = pd.Timestamp(end) - pd.Timedelta(days=self.cohort_shift_days)
        mask = frame[self.date].between(pd.Timestamp(start), last)
        return mask & self.rows(frame) if self.rows is not None else mask

    def _rows(self, tables: MetricTables, start, end, scope: str | None, exclude: str | None) -> Rows:
        frame = tables.frame(self.table)
        mask = self._window(frame, start, end)
        for name, keep in ((scope, True), (exclude, False)):
            if name is not None:
                mask &= frame[self.scope_kind(tables, name)].eq(name).fillna(False).astype(bool) == keep
        return frame[mask]

    def _parts(self, rows: Rows) -> tuple[float, float | None]:
        return _part(self.numerator, rows), (None if self.denominator is None else _part(self.denominator, rows))

    def parts(self, tables: MetricTables, start, end, scope: str | None = None, *,
              exclude: str | None = None) -> tuple[float, float | None]:
        """(numerator, denominator) over ``start``..``end`` (both days included); denominator None for a
        count or a total. ``scope``: one channel or department; ``exclude``: all but one."""
        return self._parts(self._rows(tables, start, end, scope, exclude))

    def of(self, frame: Rows, start, end) -> float | None:
        """The metric over ``start``..``end`` on rows of its table given directly (the whole clinic)."""
        return ratio(*self._parts(frame[self._window(frame, start, end)]))

    def value(self, tables: MetricTables, start, end, scope: str | None = None, *,
              exclude: str | None = None) -> float | None:
        """The metric over ``start``..``end``; None when there is nothing to divide by or no table."""
        if not self.available(tables):
            return None
        numerator, denominator = self.parts(tables, start, end, scope, exclude=exclude)
        return ratio(numerator, denominator)

    def per_period(self, tables: MetricTables, frequency: str, scope: str | None = None, *,
                   exclude: str | None = None) -> pd.DataFrame:
        """numerator, denominator and value per day, week (Monday) or month ("D", "W", "M") with rows,
        indexed by the period's first day."""
        rows = self._rows(tables, tables.data_start, tables.as_of + pd.Timedelta(days=self.cohort_shift_days),
                          scope, exclude)
        return self._table(rows, period_start(rows[self.date], frequency).rename("period"))

    def of_periods(self, frame: Rows, frequency: str, start, end) -> pd.DataFrame:
        """`per_period` over ``start``..``end`` on rows of its table given directly (the whole clinic)."""
        rows = frame[self._window(frame, start, end)]
        return self._table(rows, period_start(rows[self.date], frequency).rename("period"))

    def per_segment(self, tables: MetricTables, start, end, kind: str) -> pd.DataFrame:
        """numerator, denominator and value per channel or department over ``start``..``end``."""
        rows = self._rows(tables, start, end, None, None)
        return self._table(rows, rows[kind])

    def _table(self, rows: Rows, key: pd.Series) -> pd.DataFrame:
        numerator = _grouped(self.numerator, rows, key)
        frame = pd.DataFrame({"numerator": numerator, "denominator": (
            float("nan") if self.denominator is None else _grouped(self.denominator, rows, key))}).astype("float64")
        frame["value"] = frame["numerator"] if self.denominator is None else \
            (frame["numerator"] / frame["denominator"]).where(frame["denominator"] != 0)
        return frame

    def scope_kind(self, tables: MetricTables, name: str) -> str:
        """Whether ``name`` is one of the data's channels or departments (a channel when both), for
        this metric; a `MetricError` when it is neither, or a split the metric does not have."""
        for kind in SCOPES:
            if kind in self.scopes and name in known_segments(tables, kind):
                return kind
        kinds = " or ".join(self.scopes) or "nothing"
        known = "; ".join(f"{k}s: {', '.join(sorted(known_segments(tables, k))) or 'none'}" for k in self.scopes)
        raise MetricError(f"{name!r} is not a {kinds} of the data for {self.en} ({self.name}); {known}",
                          fix="write the channel or department exactly as the exports write it",
                          zh=f"“{name}”不是数据中可用于{self.zh}的渠道或科室")


def _part(part: Part, rows: Rows) -> float:
    if part == ROWS:
        return float(len(rows))
    return float(rows[part].sum()) if isinstance(part, str) else part(rows)


def _grouped(part: Part, rows: Rows, key: pd.Series) -> pd.Series:
    """A part per group of ``key`` (a period or a segment), in the order the groups first appear."""
    groups = rows.groupby(key, sort=False)
    if part == ROWS:
        return groups.size().astype("float64")
    if isinstance(part, str):
        return groups[part].sum().astype("float64")
    return pd.Series({name: part(group) for name, group in groups}, dtype="float64")


def ratio(numerator: float, denominator: float | None) -> float | None:
    """A total as it is, a ratio when there is something to divide by (never NaN or inf)."""
    if denominator is None:
        return float(numerator)
    return float(numerator) / float(denominator) if denominator else None


def known_segments(tables: MetricTables, kind: str) -> frozenset[str]:
    """The channels, departments, doctors and coordinators (of new patients' first arrivals) or time slots of
    the data."""
    return {"channel": tables.channels, "department": tables.departments, "doctor": tables.doctors,
            "consultant": tables.consultants, "slot": tables.slots}[kind]


def period_start(days: pd.Series, frequency: str) -> pd.Series:
    """The first day of each day's period: the day ("D"), its week's Monday ("W"), its month ("M")."""
    days = days.dt.normalize()
    if frequency == "D":
        return days
    if frequency == "W":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    return days.dt.to_period("M").dt.to_timestamp()


# --- how each metric counts its rows -----------------------------------------------------------------

def _arrived(frame: Rows) -> pd.Series:
    return frame["status"].eq("arrived")


def _paying_days(rows: Rows) -> float:
    """Days on which a treated patient (paid, amount > 0, for a profit or high-value item in the
    window) paid anything, once per patient and day: the driver tree's D [S2]."""
    paying = rows[rows["amount"] > 0]
    treated = paying.loc[paying["tier"].isin(TREATMENT_TIERS), "patient_id"].unique()
    return float(len(paying.loc[paying["patient_id"].isin(treated), ["patient_id", "day"]].drop_duplicates()))


_C, _Y = CONVERSION_WINDOW_DAYS, RETURN_WINDOW_DAYS


def _m(name, zh, en, unit, table, numerator, denominator=None, *, higher_is_better=True, definition, **kw) -> Metric:
    return Metric(name, zh, en, unit, higher_is_better, definition[0], definition[1], table, numerator, denominator,
                  **kw)


METRICS: dict[str, Metric] = {m.name: m for m in (
    _m("revenue", "实收营业额", "Revenue", "yuan", "paid", "amount",
       definition=("收费日期落在期间内的实收金额之和，退费（负数）计入。",
                   "Sum of the amounts paid on charges dated in the period, refunds (negative amounts) included."),
       scopes=("department", "channel"), owner="management", aliases=("实收", "营业额", "业绩", "收入")),
    _m("new_patients", "新患者数", "New patients", "count", "new", ROWS, date="first_arrival",
       definition=("首次到诊日落在期间内的患者；首次到诊按全部数据中最早的一次到诊计，不只看期间内。",
                   "Patients whose first arrived visit in all the data falls in the period."),
       scopes=("channel", "department"), owner="marketing", count_zh="人", aliases=("新患者", "新客", "新客数")),
    _m("arrived_visits", "到诊人次", "Arrived visits", "count", "visits", ROWS, rows=_arrived,
       definition=("期间内预约且状态为已到诊的就诊次数。", "Visits scheduled in the period whose status is arrived."),
       scopes=("department", "channel"), owner="front_desk", count_zh="人次", aliases=("到诊量",)),
    _m("no_show_rate", "爽约率", "No-show rate", "rate", "visits", "no_show", ROWS,
       rows=lambda f: f["status"].isin(["arrived", "no_show"]), higher_is_better=False,
       definition=("期间内预约的爽约次数 ÷（到诊 + 爽约）；取消的预约不计入。",
                   "No-shows / (arrivals + no-shows) among visits scheduled in the period; cancellations are "
                   "left out."),
       scopes=("channel", "department", "slot"), line="no_show_rate", thresholds=("no_show_rate",),
       owner="front_desk"),
    _m("first_visit_conversion", "初诊成交率", "First-visit conversion", "rate", "new", "converted", ROWS,
       date="first_arrival", settle_days=_C,
       definition=(f"新患者中，首次到诊当天起{_C}天内（含）为利润类或高值类项目付费（金额大于0）的比例 [S2]。",
                   f"Share of new patients who paid for a profit or high-value item within {_C} days of their "
                   "first arrival, both days included [S2]."),
       scopes=("channel", "department", "doctor", "consultant"), line="first_visit_conversion_review",
       thresholds=("first_visit_conversion_review",), owner="consulting", aliases=("成交率",)),
    _m("referral_share", "转介绍占比", "Referral share", "rate", "new", "referral", ROWS,
       date="first_arrival",
       definition=("新患者中来源渠道为转介绍（老带新）的比例 [S3]。",
                   "Share of new patients whose source channel is referral [S3]."),
       line="referral_share_healthy", thresholds=("referral_share_healthy", "referral_share_act"),
       owner="customer_service", aliases=("转介绍率",)),
    _m("return_within_12m", "12个月复诊率", "Return within 12 months", "rate", "returns", "returned", ROWS,
       date="first_arrival", cohort_shift_days=_Y,
       definition=(f"首次到诊在期间开始至期间结束前{_Y}天之间的患者中，{_Y}天内另有一天到诊的比例；没有这样的患者时不计算。",
                   f"Of the patients first seen between the period's start and {_Y} days before its end, the "
                   f"share with another arrived visit on a later day within {_Y} days; absent when there are none."),
       thresholds=("return_12m_fall",), owner="customer_service"),
    _m("first_visit_arrivals", "初诊到诊人次", "First-visit arrivals", "count", "visits", ROWS,
       rows=lambda f: _arrived(f) & f["first_visit"],
       definition=("期间内到诊且为初诊的就诊次数（没有初复诊字段时：患者首次到诊当天的到诊）。",
                   "Arrived visits of type first visit in the period (without a visit type: arrivals on the "
                   "patient's first-arrival day)."),
       scopes=("channel", "department"), owner="marketing", count_zh="人次",
       aliases=("新客到店量", "初诊到店", "初诊人次")),
    _m("return_visits", "复诊人次", "Return visits", "count", "visits", ROWS,
       rows=lambda f: _arrived(f) & ~f["first_visit"],
       definition=("期间内到诊且为复诊的就诊次数（没有初复诊字段时：首次到诊日之后的到诊）。",
                   "Arrived visits of type return in the period (without a visit type: arrivals after the "
                   "patient's first-arrival day)."),
       scopes=("department", "channel"), owner="customer_service", count_zh="人次", aliases=("复诊量", "老客到店量")),
    _m("average_ticket", "客单价", "Average ticket", "yuan", "paid", "amount", _paying_days, pooled=False,
       definition=("期间实收 ÷ 付费人次：成交患者（期间内为利润类或高值类项目付费）付费的天数，同一患者同一天计一次 [S2]。",
                   "Revenue of the period / paying days: days on which a treated patient (one who paid for a "
                   "profit or high-value item in the period) paid, once per patient and day [S2]."),
       scopes=("department", "channel"), owner="consulting"),
    _m("high_value_revenue", "高值项目收入", "High-value revenue", "yuan", "paid", "amount",
       rows=lambda f: f["tier"].eq(HIGH_VALUE),
       definition=("期间内高值项目（种植、正畸、修复 [S0]）的实收金额，退费计入。",
                   "Amounts paid in the period for high-value items (implants, orthodontics, crowns [S0]), "
                   "refunds included."),
       scopes=("department", "channel"), owner="medical", aliases=("高值收入",)),
    _m("arrival_rate", "线索到店率", "Lead arrival rate", "rate", "leads", "arrived", ROWS, settle_days=_C,
       definition=("期间内新建的线索中已到店的比例 [S0]。", "Share of the leads created in the period that arrived [S0]."),
       scopes=("channel",), thresholds=("arrival_rate_step", "arrival_rate_fall"), needs="leads", owner="marketing",
       aliases=("到店率",), kpis_key="lead_arrival_rate"),
    _m("plan_acceptance", "治疗方案接受率", "Plan acceptance", "rate", "plans", "accepted", ROWS,
       settle_days=_C,
       definition=("期间内新建的治疗方案中被接受（之后接受、完成或中断）的比例。",
                   "Share of the treatment plans created in the period that were accepted (accepted, completed "
                   "or interrupted later)."),
       needs="treatment_plans", owner="consulting", aliases=("方案接受率",)),
    # Computed by the chapters' own analyses (no one table counts them): here for their names, so that a
    # sentence names each metric apart from its neighbours (治疗转化率 is not 初诊成交率).
    _m("treatment_conversion", "治疗转化率", "Treatment conversion", "rate", None, None,
       definition=("到诊患者（不只新患者）中，为利润或高值项目付费的比例：营收驱动因素之一 [S2]；与只看新患者30天内的初诊成交率不同。",
                   "Share of arriving patients (not only new ones) who paid for a profit or high-value treatment: a "
                   "driver of revenue [S2]; not the first-visit conversion, which follows new patients for 30 days."),
       computed_by="playbook.drivers"),
    _m("first_month_return", "首月复诊率", "Month-1 return", "rate", None, None,
       definition=("首诊患者中，首诊后一个月（365/12天）内另有一天到诊的比例，按首诊月份的队列合计。",
                   "Share of first-visit patients with another arrived visit within a month (365/12 days) of the "
                   "first, pooled over the cohorts of first-visit months."),
       computed_by="playbook.cohorts"),
    _m("churn_rate", "每月流失率", "Monthly churn", "rate", None, None, higher_is_better=False,
       definition=("每月初尚未流失的老患者中，当月超过3次未按期复诊（算作流失 [S3]）的比例，按月合计。",
                   "Of the established patients not lost at a month's start, the share who pass more than 3 missed "
                   "returns in the month (lost, [S3]), pooled over the months."),
       thresholds=("churn_ideal", "churn_recoverable"), computed_by="playbook.cohorts"),
    _m("overdue_share", "逾期比例", "Overdue share", "rate", None, None, higher_is_better=False,
       definition=("期末尚未流失的老患者中，已超过自己平时复诊间隔未再来的比例。",
                   "Of the established patients not lost at the period's end, the share past their own usual return "
                   "interval."),
       computed_by="playbook.cohorts"),
    _m("designation_rate", "指定率", "Designation rate", "rate", None, None, higher_is_better=False,
       definition=("医生的收费中患者指定该医生的比例 [S3]。", "Share of a doctor's charges where the patient chose "
                   "that doctor [S3]."),
       thresholds=("designation_key_person",), computed_by="playbook.doctors"),
    _m("plan_completion", "完诊率", "Plan completion", "rate", None, None,
       definition=("已结束的治疗计划中完成的比例 [S3][S4]。", "Share of ended treatment plans that were completed [S3][S4]."),
       thresholds=("plan_completion",), computed_by="playbook.doctors"),
    _m("operating_margin", "经营利润率", "Operating margin", "rate", None, None,
       definition=("（实收 − 期间内各月的成本，库存不计）÷ 实收 [S1][S2]。",
                   "(Revenue − the costs of the months in the period, inventory left out) / revenue [S1][S2]."),
       computed_by="playbook.profit"),
    _m("revenue_change_recent", "近期营收变化", "Recent revenue change", "rate", None, None,
       definition=("期间最后6个月（不足一年时为3个月）的实收与紧接其前同样长度月份相比的变化 [S2]。",
                   "Revenue of the period's last 6 months (3 when the period is under a year) against the months "
                   "just before them [S2]."),
       line=None, thresholds=("revenue_change_alert",), computed_by="playbook.drivers"),
)}

HEADLINE = ("revenue", "new_patients", "arrived_visits", "no_show_rate", "first_visit_conversion", "referral_share",
            "return_within_12m")
WEEKLY = ("new_patients", "first_visit_arrivals", "first_visit_conversion", "revenue", "average_ticket",
          "no_show_rate", "referral_share", "arrival_rate", "high_value_revenue", "plan_acceptance", "return_visits",
          "arrived_visits")
SERIES = ("revenue", "new_patients", "arrived_visits", "no_show_rate", "first_visit_conversion", "referral_share")
PORTFOLIO = ("revenue", "new_patients", "arrived_visits", "first_visit_conversion", "no_show_rate",
             "referral_share", "return_within_12m", "revenue_change_recent")


# --- names, labels and numbers as people write and read them ----------------------------------------

def _key(text: str) -> str:
    return parsing.normalize_text(str(text)).strip().lower().replace(" ", "").replace("_", "")


_NAMES = {_key(alias): name for name in WEEKLY
          for alias in (name, METRICS[name].zh, METRICS[name].en, *METRICS[name].aliases)}


def parse_metric(text: str) -> tuple[str, str | None]:
    """``"初诊成交率:抖音"`` → ``("first_visit_conversion", "抖音")``: an id, a Chinese or an English name.

    A scope follows a colon (``:`` or ``：``); a metric that takes no scope, or an unknown name, is a
    `MetricError` whose fix lists the names.
    """
    raw = parsing.normalize_text(str(text)).strip()  # NFKC turns the full-width colon into ":"
    head, _, scope = raw.partition(":")
    name = _NAMES.get(_key(head))
    known = "、".join(METRICS[m].zh for m in WEEKLY)
    if name is None:
        raise MetricError(f"{raw!r} is not a weekly metric", column=None,
                          fix=f"write one of {known} (or {', '.join(WEEKLY)}), with a channel or department "
                              f"after a colon where it applies, e.g. 新患者数:抖音",
                          zh=f"“{raw}”不是周会指标；请写 {known} 之一，需要时在冒号后写渠道或科室，如 新患者数:抖音")
    scope = scope.strip() or None
    metric = METRICS[name]
    if scope and not metric.scopes:
        raise MetricError(f"{metric.en} ({name}) is not split by channel or department, so {raw!r} has no meaning",
                          fix=f"write {metric.zh} without ':{scope}'",
                          zh=f"{metric.zh}不按渠道或科室拆分，请去掉“:{scope}”")
    return name, scope


def metric_label(metric_id: str, lang: str = "zh", *, as_written: bool = False) -> str:
    """新患者数 · 抖音 / New patients · Douyin: the channel or department in English where i18n knows it,
    or ``as_written`` in the data (what a file read back must keep)."""
    name, _, scope = metric_id.partition(":")
    label = METRICS[name].label(lang)
    return f"{label} · {scope if as_written else i18n.term(scope, lang)}" if scope else label


def format_number(value, unit: str, lang: str = "zh") -> str:
    """A value as the pages print it: a rate 38.9%, yuan 8.0万元, a count 18; "—" when missing."""
    if value is None or pd.isna(value):
        return "—"
    if unit == "rate":
        return i18n.rate(value, lang)
    if unit == "yuan":
        return i18n.money(value, lang)
    return f"{value:,.0f}" if abs(value - round(value)) < 0.05 or abs(value) >= 100 else f"{value:,.1f}"


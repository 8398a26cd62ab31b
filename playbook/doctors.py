"""Doctors and operations: who brings the revenue, who the clinic depends on, and where chair time is lost.

Method step 1 looks at the team as well as the patients [S1]. The rules applied here:

- Doctor designation 指定率 = charge lines where the patient chose the doctor (``designated``) / the
  doctor's charge lines in the period. Above 60% the doctor is a key person: if they leave, their
  patients leave too, so partner them with a second doctor or make them a partner [S3].
- A doctor who stops working is that risk come true: a regular doctor (at least
  ``MIN_WORKING_DAYS`` working days in the period) with no arrived visit in the last
  ``doctor_inactive_weeks`` weeks of the data (playbook default 8) is flagged, with the revenue they
  brought in their last twelve months.
- Doctor load = arrived visits / working days (days with at least one arrived visit of the doctor),
  against the capacity of the staff table (``daily_capacity``) or the attending doctor's 12 a day; a
  chief doctor (the staff table's 职称 主任, 副主任) also against 5 surgeries a day [S0]. Both lines are
  daily: the share of working days over each is shown beside the averages.
- First-visit conversion per doctor: the contract's definition (`playbook.tables.new_patient_table`)
  over the new patients whose first arrived visit was with that doctor; below 80% review it with the
  doctor [S2].
- Plan completion 完诊率 = completed / ended accepted plans per doctor (optional treatment_plans);
  low completion means the doctor's plans need review by the medical director [S3][S4].
- No-show rate 爽约率 = no-shows / (arrivals + no-shows) among visits scheduled in the period
  (cancelled left out, as the contract's ``no_show_rate``), against the playbook's 15% alert line:
  by weekday × hour and by time slot (`no_show_times`), and by source channel over the last six
  months of the period, leaving out the slots already over the line (`no_show_channels`).
- Chair vacancy 椅位空置率 by department and hour is `playbook.chairs`' [S0]; waiting times `playbook.waits`'.

kpis.json, under ``"kpis"`` (add, never rename):

- ``designation_rate_max``: the highest designation rate among doctors with at least
  ``MIN_CHARGE_LINES`` charge lines in the period (null without a ``designated`` column).
- ``doctors_departed``: doctors who stopped working inside the period (see above).
- ``doctor_revenue_top_share``: the share of the period's revenue brought by the top-earning doctor.
- ``doctor_load_max``: the highest arrived visits per working day among doctors.
- ``doctor_utilisation_max``: the highest load / capacity among doctors.
- ``chief_surgeries_per_day_max``: the highest surgeries per working day among chief doctors (null
  without a staff table naming a 主任).
- ``doctor_conversion_min``: the lowest first-visit conversion among doctors with at least
  ``MIN_NEW_PATIENTS`` new patients.
- ``plan_completion_rate``: completed / ended accepted plans created in the period, whole clinic.
- ``plans_in_progress``: accepted plans created in the period and still in treatment.
- ``no_show_rate_recent``: the no-show rate of the last six months of the period (the whole period
  when it is shorter than a year).
- ``no_show_rate_max_channel``: the highest recent no-show rate (outside the slots over the line)
  among channels with at least ``MIN_BOOKED`` booked visits.
- ``no_show_rate_max_slot``: the highest no-show rate among the six time slots (weekday/weekend ×
  morning/afternoon/evening) with at least ``MIN_BOOKED`` booked visits.

Under ``"doctors"``, one entry per doctor as written in the data: revenue, revenue_share,
designation_rate, designated_revenue, working_days, last_active_day, weeks_inactive, departed,
arrived_visits, load_per_day, capacity, utilisation, days_over_capacity, surgeries_per_day, surgery_days_over,
new_patients, first_visit_conversion, plans_completed, plans_interrupted, plans_in_progress,
plan_completion. Under ``"operations"``: ``no_show_by_channel`` (channel → booked, no_shows, rate,
rate_before, rate_recent, booked_recent, rate_recent_other_slots) and ``no_show_by_slot`` (slot → booked,
no_shows, rate).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import i18n, sentences
from .clinic import Clinic
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .kpis import channel_name
from .plotting import ACTION_RED, PALETTE, SEQUENTIAL, month_ticks, no_data, reference_line, set_title
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window, rate_or_none
from .tables import (SLOT_HOURS, UNKNOWN_CHANNEL, first_doctors, new_patient_table, revenue_per_arrived_visit,
                     time_slots)
from .thresholds import DEFAULTS, Threshold

# Fewer observations than these make a rate noise, not evidence: no flag is raised below them
# (playbook defaults; the rates are still shown).
MIN_CHARGE_LINES = 30
MIN_WORKING_DAYS = 20
MIN_NEW_PATIENTS = 20
MIN_ENDED_PLANS = 10
MIN_BOOKED = 30
MIN_HEATMAP_CELL = 20  # a weekday × hour cell with fewer booked visits is left blank
RECENT_MONTHS = 6  # "now" for no-shows: the last six months of the period
CHIEF_TITLE = "主任"  # 主任医师 and 副主任医师 [S0]: surgeries per day
# Items that are surgery when a chief doctor performs them [S0 "主任医师日手术不超过5台"].
SURGERY_KEYWORDS = ("种植", "拔牙", "拔除", "植骨", "上颌窦", "手术")
SLOTS = {  # name -> (中文, English, first hour, last hour + 1): the slots of playbook.tables.SLOT_HOURS
    "morning": ("上午", "morning", *SLOT_HOURS["morning"]),
    "afternoon": ("下午", "afternoon", *SLOT_HOURS["afternoon"]),
    "evening": ("傍晚", "evening", *SLOT_HOURS["evening"]),
}
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
SURGERY_DOCTOR_NOTE = {"zh": "主任", "en": "chief"}


# --------------------------------------------------------------------------------------------------
# Small helpers shared by the analyses.

def _days(series: pd.Series) -> pd.Series:
    return series.dt.normalize()


def _in_period(series: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    return _days(series).between(pd.Timestamp(start), pd.Timestamp(end))


def _years(start: dt.date, end: dt.date) -> float:
    return max((pd.Timestamp(end) - pd.Timestamp(start)).days + 1, 1) / 365.0


def _line(thresholds: dict[str, Threshold] | None, name: str) -> Threshold:
    return (thresholds or DEFAULTS)[name]


def _bar_colors(flagged: pd.Series) -> list[str]:
    return [ACTION_RED if f else PALETTE[1] for f in flagged]


def _rate_bars(ax: plt.Axes, labels: list[str], rates: pd.Series, colours: list[str], notes: list[str], *,
               line: float, line_label: str, xmax: float, title: str, lang: str, **kwargs) -> plt.Axes:
    """One horizontal bar per doctor for a rate (%), each labelled, with its threshold line."""
    ax.barh(labels, rates * 100, color=colours, **kwargs)
    for y, (rate, note) in enumerate(zip(rates, notes)):
        ax.text(rate * 100, y, f" {note}", va="center", fontsize="small")
    reference_line(ax, line * 100, f"{line_label}{i18n.pick(lang, '', ' ')}{line:.0%}", y=len(labels) - 0.4)
    ax.set_xlim(0, xmax)
    ax.set_xlabel("%")
    set_title(ax, title, lang)
    ax.grid(axis="y", visible=False)
    return ax


def _too_few(names, what_zh: str, what_en: str, n: int) -> tuple[str, str]:
    """The clause for entities past a line on too little data: named, not judged (zh, en)."""
    names = [str(x) for x in names]
    if not names:
        return "", ""
    return (f"；{'、'.join(names)}的{what_zh}不足{n}，暂不判断",
            f"; {', '.join(names)}: fewer than {n} {what_en}, not judged")


def _with_others(flags: list[Finding], zh_tail: str, en_tail: str) -> tuple[str, str]:
    """The first finding's sentence, then the segments of the others: "…; B is under the line too."."""
    zh, en = sentences.render(flags[0], "zh", end=False), sentences.render(flags[0], "en", end=False)
    if len(flags) == 1:
        return zh + "。", en + "."
    others = {lang: [sentences.segment(f.segment, lang) for f in flags[1:]] for lang in ("zh", "en")}
    verb = "is" if len(flags) == 2 else "are"
    return (f"{zh}；{'、'.join(others['zh'])}{zh_tail}。", f"{en}; {', '.join(others['en'])} {verb} {en_tail}.")


# --------------------------------------------------------------------------------------------------
# Revenue, designation and departures.

@dataclass
class DoctorPerformance(AnalysisResult):
    """Revenue per doctor and month, designation (key-person risk [S3]) and doctors who stopped working."""

    monthly: pd.DataFrame = None  # month start x doctor -> revenue in the period
    designation_line: float = field(kw_only=True)  # the threshold in force
    data_end: pd.Timestamp | None = None

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", kind: str = "revenue", **kwargs) -> plt.Axes:
        """``kind="revenue"``: monthly revenue per doctor, red for the doctors flagged (key person or
        departed); ``kind="designation"``: designation rate per doctor against the 60% line."""
        ax = ax if ax is not None else plt.gca()
        if kind == "designation":
            return self._plot_designation(ax, lang, **kwargs)
        title = self.title(lang)
        if self.monthly is None or self.monthly.empty:
            return no_data(ax, lang, title)
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        flagged = {f.subject for f in self.flags}
        x = np.arange(len(self.monthly))
        colours = iter(PALETTE)
        for doctor in self.monthly.columns:
            red = doctor in flagged
            label = doctor + (i18n.pick(lang, "（已离开）", " (left)") if self._departed(doctor) else "")
            ax.plot(x, self.monthly[doctor].to_numpy() / scale, label=label, marker="o", markersize=3,
                    color=ACTION_RED if red else next(colours, PALETTE[-1]), linewidth=2.2 if red else 1.4, **kwargs)
        month_ticks(ax, self.monthly.index, lang)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        set_title(ax, title, lang)
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
        return ax

    def title(self, lang: str = "zh") -> str:
        """The revenue chart's finding: a doctor who left and what they took, else the largest share."""
        t = self.table
        if t.empty:
            return i18n.pick(lang, "各医生每月实收", "Revenue by doctor and month")
        departed = t[t["departed"]].sort_values("revenue", ascending=False)
        if len(departed):
            doctor, row = departed.index[0], departed.iloc[0]
            when = i18n.month(row["last_active_day"].date(), lang) if not pd.isna(row["last_active_day"]) else ""
            return i18n.pick(lang, f"{doctor}在{when}之后停诊，分析期内占全院实收的{i18n.rate(_num(row['revenue_share']), lang)}（红色）",
                             f"{doctor} stopped seeing patients after {when}, having taken "
                             f"{i18n.rate(_num(row['revenue_share']), lang)} of the period's revenue (red)")
        flagged = [f.subject for f in self.flags if f.subject in t.index]
        if flagged:  # a key person [S3]: most of their patients chose them
            doctor = flagged[0]
            share, rate = i18n.rate(_num(t.loc[doctor, "revenue_share"]), lang), i18n.rate(_num(t.loc[doctor, "designation_rate"]), lang)
            return i18n.pick(lang, f"{doctor}实收占全院{share}，指定率{rate}，是关键人风险（红色）",
                             f"{doctor} earns {share} of revenue with {rate} designation: a key-person risk (red)")
        top = t["revenue_share"].idxmax()
        return i18n.pick(lang, f"{top}实收占全院{i18n.rate(_num(t.loc[top, 'revenue_share']), lang)}，是收入最高的医生",
                         f"{top} earns the most: {i18n.rate(_num(t.loc[top, 'revenue_share']), lang)} of revenue")

    def designation_title(self, lang: str = "zh") -> str:
        """The designation chart's finding: the doctors past the key-person line [S3]."""
        rates = self.table["designation_rate"].dropna()
        line = f"{self.designation_line:.0%}"
        over = rates[rates > self.designation_line].sort_values(ascending=False)
        if rates.empty:
            return i18n.pick(lang, "各医生指定率（数据中没有“是否指定”）", "Designation rate by doctor (no 'designated' column)")
        if over.empty:
            return i18n.pick(lang, f"各医生指定率都不超过{line}关键人风险线，最高{i18n.rate(float(rates.max()), lang)}",
                             f"No doctor is past the {line} key-person line; highest {i18n.rate(float(rates.max()), lang)}")
        doctor = over.index[0]
        return i18n.pick(lang, f"{doctor}指定率{i18n.rate(float(over.iloc[0]), lang)}，超过{line}关键人风险线（红色）",
                         f"{doctor}'s designation rate is {i18n.rate(float(over.iloc[0]), lang)}, past the {line} "
                         f"key-person line (red)")

    def _plot_designation(self, ax: plt.Axes, lang: str, **kwargs) -> plt.Axes:
        title = self.designation_title(lang)
        data = self.table["designation_rate"].dropna().sort_values()
        if data.empty:
            return no_data(ax, lang, title)
        over = data > self.designation_line
        labels = [d + (i18n.pick(lang, "（已离开）", " (left)") if self._departed(d) else "") for d in data.index]
        ax.barh(labels, data.to_numpy() * 100, color=_bar_colors(over), **kwargs)
        for y, rate in enumerate(data):
            ax.text(rate * 100, y, f" {i18n.rate(float(rate), lang)}", va="center", fontsize="small")
        reference_line(ax, self.designation_line * 100,
                       i18n.pick(lang, f"关键人风险线{self.designation_line:.0%}", f"key-person line {self.designation_line:.0%}"),
                       y=len(data) - 0.4)
        ax.set_xlim(0, 100)
        ax.set_xlabel("%")
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def designation_finding(self, lang: str = "zh") -> str:
        """The designation chart's sentence: who is past the key-person line, and the spread of the rest."""
        rates = self.table["designation_rate"].dropna()
        line = self.designation_line
        if rates.empty:
            return i18n.pick(lang, "数据中没有“是否指定”，无法计算指定率；建议收费时记录患者是否指定医生。",
                             "The data has no 'designated' column: record at checkout whether the patient chose the doctor.")
        over, rest = rates[rates > line], rates[rates <= line]
        spread = (f"{i18n.rate(float(rest.min()), lang)}–{i18n.rate(float(rest.max()), lang)}" if len(rest) > 1
                  else i18n.rate(float(rest.iloc[0]), lang) if len(rest) else "")
        if over.empty:
            return i18n.pick(lang, f"各医生指定率在{spread}之间，都不超过{line:.0%}的关键人风险线。",
                             f"Designation rates run {spread}, all under the {line:.0%} key-person line.")
        names = "、".join(f"{d}（{i18n.rate(float(v), 'zh')}{'，已离开' if self._departed(d) else ''}）" for d, v in over.items())
        names_en = ", ".join(f"{d} ({i18n.rate(float(v), 'en')}{', left' if self._departed(d) else ''})"
                             for d, v in over.items())
        rest_zh = f"，其他医生在{spread}之间" if spread else ""
        rest_en = f"; the others run {spread}" if spread else ""
        return i18n.pick(lang, f"超过{line:.0%}关键人风险线的是{names}{rest_zh}：患者认的是医生而不是诊所，让每位患者也认识第二位医生。",
                         f"Past the {line:.0%} key-person line: {names_en}{rest_en}. Patients follow the doctor, not the "
                         f"clinic: make sure each of them also knows a second doctor.")

    def _departed(self, doctor: str) -> bool:
        return bool(doctor in self.table.index and self.table.loc[doctor, "departed"])

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        status = t["departed"].map(lambda d: i18n.pick(lang, "已离开", "left") if d else i18n.pick(lang, "在职", "active"))
        return pd.DataFrame({
            i18n.pick(lang, "医生", "Doctor"): t.index,
            i18n.pick(lang, "实收", "Revenue"): i18n.money_column([_num(v) for v in t["revenue"]], lang),
            i18n.pick(lang, "占全院", "Share"): [i18n.rate(_num(v), lang) for v in t["revenue_share"]],
            i18n.pick(lang, "指定率", "Designation"): [i18n.rate(_num(v), lang) for v in t["designation_rate"]],
            i18n.pick(lang, "最后出诊", "Last working day"): [
                i18n.day(v.date(), lang) if not pd.isna(v) else i18n.NO_DATA[lang] for v in t["last_active_day"]],
            i18n.pick(lang, "状态", "Status"): status,
        })

    def metrics(self) -> dict:
        t = self.table
        counted = t.loc[t["charge_lines"] >= MIN_CHARGE_LINES, "designation_rate"].dropna()
        per_doctor = {
            str(d): {"revenue": _json(r.revenue), "revenue_share": _json(r.revenue_share),
                     "designation_rate": _json(r.designation_rate), "designated_revenue": _json(r.designated_revenue),
                     "working_days": _json(r.working_days), "last_active_day": _json(r.last_active_day),
                     "weeks_inactive": _json(r.weeks_inactive), "departed": _json(r.departed)}
            for d, r in t.iterrows()}
        return {"kpis": {"designation_rate_max": _json(counted.max()) if len(counted) else None,
                         "doctors_departed": int(t["departed"].sum()),
                         "doctor_revenue_top_share": _json(t["revenue_share"].max()) if len(t) else None},
                "doctors": per_doctor}


@dataclass
class Designation(AnalysisResult):
    """The designation side of `DoctorPerformance` as its own chart and sentence (its flags stay there)."""

    performance: DoctorPerformance = None

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Designation rate per doctor against the 60% key-person line [S3]; red past it."""
        return self.performance.plot(ax, lang=lang, kind="designation", **kwargs)

    @classmethod
    def of(cls, performance: DoctorPerformance) -> "Designation":
        table = performance.table[["charge_lines", "designation_rate", "designated_revenue"]]
        return cls("designation", table, performance.designation_finding("zh"), performance.designation_finding("en"),
                   performance=performance)


def doctor_performance(charges: pd.DataFrame, visits: pd.DataFrame, *, start: dt.date, end: dt.date,
                       thresholds: dict[str, Threshold] | None = None) -> DoctorPerformance:
    """Revenue and designation per doctor, and the doctors who stopped working in the period.

    Parameters
    ----------
    charges : canonical charges with ``doctor_id`` (and ``designated`` when the export has it; an
        all-missing ``designated`` column means the clinic does not record it).
    visits : canonical visits with ``doctor_id``: working days and the last day each doctor worked.
    start, end : the analysis period, both days included.
    thresholds : the thresholds in force (``designation_key_person`` [S3], ``doctor_inactive_weeks``).

    Notes
    -----
    ``revenue_at_stake`` of a key-person flag is the doctor's designated revenue per year: what would
    leave with them. Of a departure flag, the revenue the doctor brought in the twelve months up to
    their last day (annualised when they worked less than a year in the data): what the clinic has
    to win back. A departed doctor gets the departure flag only, which names the designation, so the
    loss is not counted twice.
    """
    designation = _line(thresholds, "designation_key_person")
    inactive = _line(thresholds, "doctor_inactive_weeks")
    charges = charges[charges["doctor_id"].notna()]
    arrived = visits[(visits["status"] == "arrived") & visits["doctor_id"].notna()]
    in_period = charges[_in_period(charges["paid_at"], start, end)]
    period_visits = arrived[_in_period(arrived["scheduled_at"], start, end)]

    designated = (in_period["designated"].astype("boolean") if "designated" in in_period
                  else pd.Series(pd.NA, index=in_period.index, dtype="boolean"))
    lines = pd.DataFrame({"doctor_id": in_period["doctor_id"].astype("str"), "revenue": in_period["amount_paid"],
                          "designated": designated,
                          "designated_revenue": in_period["amount_paid"].where(designated.fillna(False), 0.0)})
    by_doctor = lines.groupby("doctor_id").agg(
        revenue=("revenue", "sum"), charge_lines=("revenue", "size"), designated_lines=("designated", "count"),
        designated_sum=("designated", "sum"), designated_revenue=("designated_revenue", "sum"))
    work = pd.DataFrame({"doctor_id": period_visits["doctor_id"].astype("str"), "day": _days(period_visits["scheduled_at"])})
    days = work.groupby("doctor_id")["day"].agg(working_days="nunique", last_active_day="max")
    table = by_doctor.join(days, how="outer")
    table.index.name = "doctor_id"
    table[["revenue", "designated_revenue"]] = table[["revenue", "designated_revenue"]].fillna(0.0)
    table[["charge_lines", "working_days"]] = table[["charge_lines", "working_days"]].fillna(0).astype(int)
    total = float(in_period["amount_paid"].sum())
    table["revenue_share"] = table["revenue"] / total if total > 0 else np.nan
    table["designation_rate"] = (table["designated_sum"] / table["designated_lines"]).where(table["designated_lines"] > 0)
    table = table.drop(columns=["designated_lines", "designated_sum"])

    # Departures: silence measured to the last day the data covers, so an early export is no departure.
    data_end = work["day"].max() if len(work) else None
    table["weeks_inactive"] = ((data_end - table["last_active_day"]).dt.days / 7.0) if data_end is not None else np.nan
    table["departed"] = [bool(inactive.breached(_num(w)) and n >= MIN_WORKING_DAYS)
                         for w, n in zip(table["weeks_inactive"], table["working_days"])]
    table["revenue_last_year"] = _revenue_before_leaving(charges, table)
    table = table.sort_values("revenue", ascending=False)

    months = pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), pd.Timestamp(end), freq="MS")
    monthly = (lines.assign(month=_days(in_period["paid_at"]).dt.to_period("M").dt.to_timestamp())
               .pivot_table(index="month", columns="doctor_id", values="revenue", aggfunc="sum")
               .reindex(index=months, columns=list(table.index)).fillna(0.0))

    years = _years(start, end)
    flags = []
    for doctor, row in table.iterrows():
        rate = _num(row.designation_rate)
        if row.departed:
            flags.append(_departure_flag(doctor, row, inactive, designation, rate, data_end))
        elif designation.breached(rate) and row.charge_lines >= MIN_CHARGE_LINES:
            flags.append(_designation_flag(doctor, row, designation, rate, row.designated_revenue / years, start, end))
    zh, en = _performance_sentences(table, flags, designation, has_designation=designated.notna().any())
    return DoctorPerformance("doctors", table, zh, en, flags, monthly=monthly, designation_line=designation.value,
                             data_end=data_end)


def _revenue_before_leaving(charges: pd.DataFrame, table: pd.DataFrame) -> pd.Series:
    """Each doctor's revenue in the 365 days up to their last working day, per year (all the data)."""
    out = pd.Series(np.nan, index=table.index, dtype="float64")
    last = table["last_active_day"].dropna()
    if last.empty:
        return out
    lines = pd.DataFrame({"doctor_id": charges["doctor_id"].astype("str"), "day": _days(charges["paid_at"]),
                          "amount": charges["amount_paid"]})
    lines = lines[lines["doctor_id"].isin(last.index)].join(last.rename("last"), on="doctor_id")
    first = lines.groupby("doctor_id")["day"].min()
    window = lines[(lines["day"] > lines["last"] - pd.Timedelta(days=365)) & (lines["day"] <= lines["last"])]
    revenue = window.groupby("doctor_id")["amount"].sum()
    span = ((last - first.reindex(last.index)).dt.days + 1).clip(upper=365)
    out.loc[last.index] = (revenue.reindex(last.index).fillna(0.0) * 365 / span).to_numpy()
    return out


def _departure_flag(doctor, row, inactive: Threshold, designation: Threshold, rate: float | None,
                    data_end: pd.Timestamp) -> Finding:
    return Finding.past(
        inactive, float(row.weeks_inactive), kind="doctor_weeks_inactive", problem_class="management",
        segment=Segment("doctor", doctor), window=Window(row.last_active_day.date(), data_end.date()),
        stake=Stake(_num(row.revenue_last_year) or 0.0, "departed_revenue"),
        facts={"last_day": row.last_active_day.date(), "designation": rate if designation.breached(rate) else None,
               "designation_line": designation.value,
               # the window of the revenue at stake: the 365 days up to the last working day
               "before_leaving": Window((row.last_active_day - pd.Timedelta(days=364)).date(),
                                        row.last_active_day.date())})


def _designation_flag(doctor, row, designation: Threshold, rate: float, at_stake: float, start, end) -> Finding:
    return Finding.past(designation, rate, kind="designation_rate", problem_class="management",
                        segment=Segment("doctor", doctor), window=Window(start, end),
                        stake=Stake(float(at_stake), "designated_revenue"))


def _performance_sentences(table: pd.DataFrame, flags: list[Finding], designation: Threshold, *,
                           has_designation: bool) -> tuple[str, str]:
    if table.empty or table["revenue"].abs().sum() == 0:
        return ("分析期内没有按医生记录的收费，无法比较医生业绩。",
                "No charges by doctor in the period: doctors cannot be compared.")
    top, top_row = table.index[0], table.iloc[0]
    share_zh, share_en = i18n.rate(_num(top_row.revenue_share), "zh"), i18n.rate(_num(top_row.revenue_share), "en")
    departed = [f for f in flags if f.metric == "doctor_weeks_inactive"]
    keyed = [f for f in flags if f.metric == "designation_rate"]
    if departed or keyed:
        first = (departed or keyed)[0]
        zh, en = sentences.render(first, "zh", end=False), sentences.render(first, "en", end=False)
        others = [f.subject for f in keyed if f is not first]
        if others:
            line = sentences.line(designation)
            zh += f"；{'、'.join(others)}的指定率也超过{line}，应为其配搭档医生"
            en += f"; {', '.join(others)} also exceed the {line} line and need a partner doctor"
        return zh + "。", en + "."
    if not has_designation:
        return (f"收入最高的是{top}（占全院{share_zh}）；数据中没有“是否指定”，无法判断关键人风险，建议收费时记录患者是否指定医生。",
                f"{top} brings the most revenue ({share_en} of the clinic's); the data has no 'designated' column, so "
                f"key-person risk cannot be judged: record at checkout whether the patient chose the doctor.")
    judged = table.loc[table["charge_lines"] >= MIN_CHARGE_LINES, "designation_rate"].dropna()
    few = table.index[(table["charge_lines"] < MIN_CHARGE_LINES) & (table["designation_rate"] > designation.value)]
    few_zh, few_en = _too_few(few, "收费记录", "charge lines", MIN_CHARGE_LINES)
    if judged.empty:
        return (f"收入最高的是{top}（占全院{share_zh}）；各医生的收费记录都不足{MIN_CHARGE_LINES}条，暂不判断关键人风险。",
                f"{top} brings the most revenue ({share_en} of the clinic's); every doctor has fewer than "
                f"{MIN_CHARGE_LINES} charge lines, so key-person risk is not judged.")
    highest = float(judged.max())
    return (f"收入最高的是{top}（占全院{share_zh}）；各医生指定率都不超过{designation.value:.0%}"
            f"（最高{i18n.rate(highest, 'zh')}），没有关键人风险{few_zh}。",
            f"{top} brings the most revenue ({share_en} of the clinic's); no doctor's designation rate exceeds "
            f"{designation.value:.0%} (highest {i18n.rate(highest, 'en')}): no key-person risk{few_en}.")


# --------------------------------------------------------------------------------------------------
# Load against capacity.

@dataclass
class DoctorLoad(AnalysisResult):
    """Arrived visits per working day against each doctor's capacity; chief doctors' surgeries [S0]."""

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.sort_values("load_per_day")
        if t.empty:
            return no_data(ax, lang, title)
        y = np.arange(len(t))
        ax.barh(y, t["load_per_day"], height=0.6, color=_bar_colors(t["load_per_day"] > t["capacity"]), **kwargs)
        ax.vlines(t["capacity"], y - 0.4, y + 0.4, color=PALETTE[0], linewidth=2.5)
        for yy, load in zip(y, t["load_per_day"]):
            ax.text(load, yy, f" {load:.1f}", va="center", fontsize="small")
        ax.set_yticks(y, list(t.index))
        ax.set_xlim(0, max(float(t["capacity"].max()), float(t["load_per_day"].max())) * 1.1)
        ax.set_xlabel(i18n.pick(lang, "人次/出诊日（竖线为该医生的日接诊上限）", "patients per working day (tick: the doctor's capacity)"))
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: a doctor over capacity [S0], else the busiest against their capacity."""
        t = self.table
        if t.empty:
            return i18n.pick(lang, "每个出诊日接诊人次与上限", "Patients per working day against capacity")
        over = t[t["load_per_day"] > t["capacity"]].sort_values("load_per_day", ascending=False)
        doctor = over.index[0] if len(over) else t["utilisation"].idxmax()
        load, capacity = f"{t.loc[doctor, 'load_per_day']:.1f}", f"{t.loc[doctor, 'capacity']:g}"
        if len(over):
            return i18n.pick(lang, f"{doctor}每个出诊日接诊{load}人次，超过上限{capacity}（红色）",
                             f"{doctor} sees {load} patients a working day, over the {capacity} capacity (red)")
        # the closest to capacity is not the one with the most patients a day (capacities differ): say which
        return i18n.pick(lang, f"各医生接诊量都在上限以内；离上限最近的{doctor}每日{load}人次（上限{capacity}人次）",
                         f"Every doctor is within capacity; the nearest to it, {doctor}, sees {load} a day "
                         f"(capacity {capacity})")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        surgery = [f"{v:.1f}" if not pd.isna(v) else "—" for v in t["surgeries_per_day"]]
        return pd.DataFrame({
            i18n.pick(lang, "医生", "Doctor"): t.index,
            i18n.pick(lang, "职称", "Title"): t["title"].map(lambda v: i18n.term(v, lang) if isinstance(v, str) else "—"),
            i18n.pick(lang, "出诊天数", "Working days"): [i18n.count(v, lang) for v in t["working_days"]],
            i18n.pick(lang, "人次/出诊日", "Patients/day"): [f"{v:.1f}" for v in t["load_per_day"]],
            i18n.pick(lang, "上限", "Capacity"): [f"{v:g}" for v in t["capacity"]],
            i18n.pick(lang, "负荷率", "Utilisation"): [i18n.rate(_num(v), lang) for v in t["utilisation"]],
            i18n.pick(lang, "超上限天数占比", "Days over capacity"): [i18n.rate(_num(v), lang) for v in t["days_over_capacity"]],
            i18n.pick(lang, "手术/出诊日（主任）", "Surgeries/day (chief)"): surgery,
            i18n.pick(lang, "手术超上限天数占比", "Days over the surgery line"): [
                i18n.rate(_num(v), lang) if not pd.isna(v) else "—" for v in t["surgery_days_over"]],
        })

    def metrics(self) -> dict:
        t = self.table
        chief = t["surgeries_per_day"].dropna()
        return {"kpis": {"doctor_load_max": _json(t["load_per_day"].max()) if len(t) else None,
                         "doctor_utilisation_max": _json(t["utilisation"].max()) if len(t) else None,
                         "chief_surgeries_per_day_max": _json(chief.max()) if len(chief) else None},
                "doctors": {str(d): {"arrived_visits": _json(r.arrived_visits), "load_per_day": _json(r.load_per_day),
                                     "capacity": _json(r.capacity), "utilisation": _json(r.utilisation),
                                     "days_over_capacity": _json(r.days_over_capacity),
                                     "surgeries_per_day": _json(r.surgeries_per_day),
                                     "surgery_days_over": _json(r.surgery_days_over)}
                            for d, r in t.iterrows()}}


def doctor_load(visits: pd.DataFrame, charges: pd.DataFrame | None = None, *, staff: pd.DataFrame | None = None,
                start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None) -> DoctorLoad:
    """Arrived visits per working day of each doctor, against capacity [S0].

    Parameters
    ----------
    visits : canonical visits with ``doctor_id``.
    charges : canonical charges with ``doctor_id``; their surgical items (``SURGERY_KEYWORDS``) give a
        chief doctor's surgeries: one per doctor, patient and day. Optional.
    staff : canonical staff; ``daily_capacity`` of the row whose ``staff_id`` (or ``staff_name``) is the
        doctor's id, and ``title`` (主任 = chief). Without it every doctor gets the attending line.
    start, end : the analysis period, both days included.
    thresholds : ``doctor_load_attending`` (12/day) and ``doctor_surgeries_chief`` (5/day) [S0].

    Notes
    -----
    A working day is a day with at least one arrived visit of the doctor. A flag's ``revenue_at_stake``
    is 0: an overloaded doctor is a quality and waiting-time risk, not revenue the data can price.
    """
    attending = _line(thresholds, "doctor_load_attending")
    chief_line = _line(thresholds, "doctor_surgeries_chief")
    arrived = visits[(visits["status"] == "arrived") & visits["doctor_id"].notna()
                     & _in_period(visits["scheduled_at"], start, end)]
    daily = (pd.DataFrame({"doctor_id": arrived["doctor_id"].astype("str"), "day": _days(arrived["scheduled_at"])})
             .groupby(["doctor_id", "day"]).size().rename("visits").reset_index())
    table = daily.groupby("doctor_id").agg(arrived_visits=("visits", "sum"), working_days=("day", "size"))
    table["load_per_day"] = table["arrived_visits"] / table["working_days"]
    info = _staff_info(staff, table.index)
    table["title"] = info["title"]
    # staff.daily_capacity when given, else the attending doctor's 12 a day [S0]
    table["capacity"] = info["capacity"].fillna(attending.value).astype(float)
    table["utilisation"] = table["load_per_day"] / table["capacity"]
    over = daily.join(table["capacity"], on="doctor_id")
    table["days_over_capacity"] = (over["visits"] > over["capacity"]).groupby(over["doctor_id"]).mean()
    table["chief"] = table["title"].fillna("").str.contains(CHIEF_TITLE)
    table["surgeries_per_day"] = table["surgery_days_over"] = np.nan
    if charges is not None and table["chief"].any():
        per_day, over = _surgeries(charges, table, start, end, chief_line.value)
        table.loc[table["chief"], "surgeries_per_day"], table.loc[table["chief"], "surgery_days_over"] = per_day, over
    table = table.sort_values("load_per_day", ascending=False)

    flags = []
    for doctor, row in table.iterrows():
        if row.working_days < MIN_WORKING_DAYS:
            continue
        if row.load_per_day > row.capacity:  # the doctor's own capacity, or the attending line [S0]
            # the doctor's own line: a capacity in the staff table replaces the attending line
            own = dataclasses.replace(attending, value=float(row.capacity))
            flags.append(Finding.past(own, float(row.load_per_day), kind="doctor_load_per_day", problem_class="efficiency",
                                      segment=Segment("doctor", doctor), window=Window(start, end)))
        if chief_line.breached(_num(row.surgeries_per_day)):
            flags.append(Finding.past(chief_line, float(row.surgeries_per_day), kind="chief_surgeries_per_day",
                                      problem_class="efficiency", segment=Segment("doctor", doctor),
                                      window=Window(start, end)))
    zh, en = _load_sentences(table, flags, chief_line)
    return DoctorLoad("doctor_load", table.drop(columns=["chief"]), zh, en, flags)


def _staff_info(staff: pd.DataFrame | None, doctors: pd.Index) -> pd.DataFrame:
    """Title and daily capacity of each doctor, matched by staff_id, then by staff_name."""
    out = pd.DataFrame({"title": pd.Series(None, index=doctors, dtype="object"),
                        "capacity": pd.Series(np.nan, index=doctors, dtype="float64")})
    if staff is None or staff.empty:
        return out
    for key in ("staff_name", "staff_id"):  # staff_id last: it wins where both match
        if key not in staff:
            continue
        rows = staff[staff[key].notna()].drop_duplicates(key)
        rows = rows.set_index(rows[key].astype("str")).reindex(doctors)
        title = rows["title"] if "title" in rows else pd.Series(None, index=doctors)
        capacity = pd.to_numeric(rows["daily_capacity"], errors="coerce") if "daily_capacity" in rows else None
        out["title"] = title.astype("object").where(title.notna(), out["title"])
        if capacity is not None:
            out["capacity"] = capacity.astype("float64").where(capacity.notna() & (capacity > 0), out["capacity"])
    return out


def _surgeries(charges: pd.DataFrame, table: pd.DataFrame, start: dt.date, end: dt.date,
               line: float) -> tuple[pd.Series, pd.Series]:
    """Each chief's surgeries per working day, and the share of working days with more than ``line`` [S0]."""
    chiefs = table.index[table["chief"]]
    lines = charges[charges["doctor_id"].isin(chiefs) & _in_period(charges["paid_at"], start, end)
                    & (charges["amount_paid"] > 0)]
    items = pd.Series(pd.unique(lines["item"].dropna()))
    is_surgery = dict(zip(items, items.astype("str").str.contains("|".join(SURGERY_KEYWORDS), regex=True)))
    surgical = lines["item"].map(is_surgery).fillna(False).astype(bool)
    daily = (pd.DataFrame({"doctor_id": lines["doctor_id"].astype("str"), "patient_id": lines["patient_id"],
                           "day": _days(lines["paid_at"])})[surgical]
             .drop_duplicates().groupby(["doctor_id", "day"]).size())
    days = table.loc[chiefs, "working_days"]
    per_day = (daily.groupby(level="doctor_id").sum().reindex(chiefs).fillna(0) / days).astype(float)
    over = ((daily > line).groupby(level="doctor_id").sum().reindex(chiefs).fillna(0) / days).astype(float)
    return per_day, over


def _load_sentences(table: pd.DataFrame, flags: list[Finding], chief_line: Threshold) -> tuple[str, str]:
    if table.empty:
        return ("分析期内没有按医生记录的到诊，无法计算医生负荷。",
                "No arrived visits by doctor in the period: doctor load cannot be computed.")
    if flags:
        first = flags[0]
        more_zh = f"（另有{len(flags) - 1}项超限）" if len(flags) > 1 else ""
        more_en = f" ({len(flags) - 1} more over the limit)" if len(flags) > 1 else ""
        return (sentences.render(first, "zh", end=False) + more_zh + "。",
                sentences.render(first, "en", end=False) + more_en + ".")
    judged = table[table["working_days"] >= MIN_WORKING_DAYS]
    few_zh, few_en = _too_few(table.index[(table["working_days"] < MIN_WORKING_DAYS) & (table["utilisation"] > 1)],
                              "出诊天数", "working days", MIN_WORKING_DAYS)
    if judged.empty:
        return (f"各医生在分析期内的出诊天数都不足{MIN_WORKING_DAYS}天，暂不判断负荷。",
                f"Every doctor worked fewer than {MIN_WORKING_DAYS} days in the period: load is not judged.")
    low, high = float(judged["load_per_day"].min()), float(judged["load_per_day"].max())
    util = float(judged["utilisation"].max())
    span = f"{low:.1f}" if abs(high - low) < 0.05 else f"{low:.1f}–{high:.1f}"
    days_over = pd.concat([judged["days_over_capacity"], judged["surgery_days_over"]], axis=1).max(axis=1).dropna()
    days_over = days_over[days_over > 0]
    if len(days_over):  # within the line on average, over it on some days [S0]: the days say where to rebook
        busiest = days_over.idxmax()
        few_zh = (f"；但{busiest}有{i18n.rate(float(days_over.max()), 'zh')}的出诊日超过上限，这些日子的预约要分给其他医生"
                  + few_zh)
        few_en = (f"; but {busiest} is over the line on {i18n.rate(float(days_over.max()), 'en')} of working days: "
                  f"move those days' bookings to other doctors" + few_en)
    chief = judged["surgeries_per_day"].dropna()
    chief = chief[chief > 0]  # a chief doctor who performs no surgery (a children's clinic) says nothing here
    chief_zh = f"；主任医师平均每日手术最多{chief.max():.1f}台，低于{chief_line.value:g}台" if len(chief) else ""
    chief_en = (f"; chief doctors perform at most {chief.max():.1f} surgeries a day, under {chief_line.value:g}"
                if len(chief) else "")
    if util < 0.6:
        return (f"医生每个出诊日平均接诊{span}人，最忙的医生也只用到上限的{i18n.rate(util, 'zh')}{chief_zh}："
                f"医生产能有富余，瓶颈不在人手，应把精力放在引流和成交上{few_zh}。",
                f"Doctors see {span} patients per working day; the busiest uses {i18n.rate(util, 'en')} of capacity"
                f"{chief_en}: there is spare capacity, so the bottleneck is patients, not doctors{few_en}.")
    return (f"医生每个出诊日平均接诊{span}人，都在上限以内（最高用到{i18n.rate(util, 'zh')}）{chief_zh}；增加患者前先看排班"
            f"{few_zh}。",
            f"Doctors see {span} patients per working day, all within capacity (the busiest at {i18n.rate(util, 'en')})"
            f"{chief_en}; check the rota before adding patients{few_en}.")


# --------------------------------------------------------------------------------------------------
# First-visit conversion per doctor.

@dataclass
class DoctorConversion(AnalysisResult):
    """First-visit conversion of each doctor's new patients, against the 80% review line [S2]."""

    line: float = field(kw_only=True)  # the threshold in force

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.sort_values("first_visit_conversion")
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        notes = [i18n.pick(lang, f"{i18n.rate(rate, lang)}（{n}人）", f"{i18n.rate(rate, lang)} (n={n})")
                 for rate, n in zip(t["first_visit_conversion"], t["new_patients"])]
        return _rate_bars(ax, list(t.index), t["first_visit_conversion"], _bar_colors(t.index.isin(flagged)), notes,
                          line=self.line, line_label=i18n.pick(lang, "复盘线", "review line"), xmax=115, title=title,
                          lang=lang, **kwargs)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the doctors under the 80% review line [S2], the lowest first."""
        line = f"{self.line:.0%}"
        flagged = [f.subject for f in sorted(self.flags, key=lambda f: f.value) if f.subject in self.table.index]
        rates = self.table["first_visit_conversion"].dropna()
        if rates.empty:
            return i18n.pick(lang, "各医生初诊成交率", "First-visit conversion by doctor")
        if not flagged:
            low = rates.idxmin()
            return i18n.pick(lang, f"各医生初诊成交率都不低于{line}复盘线，最低{low}{i18n.rate(float(rates[low]), lang)}",
                             f"Every doctor converts {line} or more; lowest {low} {i18n.rate(float(rates[low]), lang)}")
        rate = i18n.rate(float(self.table.loc[flagged[0], "first_visit_conversion"]), lang)
        if len(flagged) == 1:
            return i18n.pick(lang, f"{flagged[0]}初诊成交率{rate}，低于{line}复盘线（红色）",
                             f"{flagged[0]} converts {rate} of first visits, under the {line} review line (red)")
        names = i18n.pick(lang, "、".join(flagged[:3]), ", ".join(flagged[:3]))
        return i18n.pick(lang, f"{names}的初诊成交率低于{line}复盘线（红色），最低{rate}",
                         f"{names} convert under the {line} review line (red); lowest {rate}")

    def metrics(self) -> dict:
        t = self.table
        counted = t.loc[t["new_patients"] >= MIN_NEW_PATIENTS, "first_visit_conversion"]
        return {"kpis": {"doctor_conversion_min": _json(counted.min()) if len(counted) else None},
                "doctors": {str(d): {"new_patients": _json(r.new_patients),
                                     "first_visit_conversion": _json(r.first_visit_conversion)}
                            for d, r in t.iterrows()}}


def doctor_conversion(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date,
                      end: dt.date, thresholds: dict[str, Threshold] | None = None) -> DoctorConversion:
    """First-visit conversion (the contract's definition) per doctor of the new patient's first arrival.

    Parameters
    ----------
    patients, visits, charges : canonical tables; visits with ``doctor_id``, charges with ``tier``.
    start, end : the analysis period, both days included.
    thresholds : ``first_visit_conversion_review`` (80%) [S2].

    Notes
    -----
    ``revenue_at_stake`` = (80% − the doctor's conversion) × the doctor's new patients per year × what a
    converted new patient of the clinic pays in the conversion window (first arrival + 30 days): the
    revenue the missing conversions would bring in their first month, not their lifetime.
    """
    line = _line(thresholds, "first_visit_conversion_review")
    new = new_patient_table(patients, visits, charges, start=start, end=end)
    first = first_doctors(visits)
    new["doctor_id"] = first.reindex(new.index)
    new = new[new["doctor_id"].notna()]
    table = new.groupby("doctor_id").agg(new_patients=("converted", "size"), converted=("converted", "sum"))
    table["first_visit_conversion"] = table["converted"] / table["new_patients"]
    table = table.sort_values("first_visit_conversion")
    value = _value_of_a_conversion(new, charges)
    years = _years(start, end)

    # The channel bringing most of a doctor's unconverted new patients: the first thing to check.
    lost = new[~new["converted"]]
    top_channel = lost.groupby("doctor_id")["source_channel"].agg(lambda s: s.value_counts().index[0])
    top_share = lost.groupby("doctor_id")["source_channel"].agg(lambda s: s.value_counts(normalize=True).iloc[0])
    flags = []
    for doctor, row in table.iterrows():
        rate = float(row.first_visit_conversion)
        if row.new_patients < MIN_NEW_PATIENTS or not line.breached(rate):
            continue
        at_stake = (line.value - rate) * row.new_patients / years * value
        channel, share = top_channel.get(doctor), top_share.get(doctor)
        hinted = channel is not None and channel != UNKNOWN_CHANNEL and share >= 0.4
        flags.append(Finding.past(
            line, rate, kind="doctor_first_visit_conversion", problem_class="management",
            segment=Segment("doctor", doctor), window=Window(start, end),
            stake=Stake(float(at_stake), "doctor_conversion_gap"),
            facts={"new_patients": int(row.new_patients), "hint_channel": channel if hinted else None,
                   "hint_share": float(share) if hinted else None}))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    if table.empty:
        zh, en = ("分析期内没有可归到医生的新患者。", "No new patients in the period can be traced to a doctor.")
    elif flags:
        zh, en = _with_others(flags, "也低于复盘线", "under the line too")
    else:
        judged = table[table["new_patients"] >= MIN_NEW_PATIENTS]
        few_zh, few_en = _too_few(
            table.index[(table["new_patients"] < MIN_NEW_PATIENTS) & (table["first_visit_conversion"] < line.value)],
            "新患者", "new patients", MIN_NEW_PATIENTS)
        if judged.empty:
            zh = f"各医生接诊的新患者都不足{MIN_NEW_PATIENTS}位，暂不按医生判断初诊成交率。"
            en = f"Every doctor saw fewer than {MIN_NEW_PATIENTS} new patients: conversion is not judged by doctor."
        else:
            lowest, rate = judged.index[0], float(judged.iloc[0]["first_visit_conversion"])
            zh = (f"各医生的初诊成交率都不低于{line.value:.0%}的复盘线（最低为{lowest}，{i18n.rate(rate, 'zh')}）"
                  f"{few_zh}。")
            en = (f"Every doctor converts at or above the {line.value:.0%} review line (lowest {lowest}, "
                  f"{i18n.rate(rate, 'en')}){few_en}.")
    return DoctorConversion("doctor_conversion", table, zh, en, flags, line=line.value)


def _value_of_a_conversion(new: pd.DataFrame, charges: pd.DataFrame) -> float:
    """What a converted new patient pays from the first arrival to 30 days after it, on average."""
    converted = new[new["converted"]]
    if converted.empty:
        return 0.0
    paid = charges[charges["patient_id"].isin(converted.index)]
    paid = pd.DataFrame({"patient_id": paid["patient_id"], "day": _days(paid["paid_at"]), "amount": paid["amount_paid"]})
    paid = paid.join(converted["first_arrival"], on="patient_id")
    window = paid[(paid["day"] >= paid["first_arrival"]) & (paid["day"] <= paid["first_arrival"] + pd.Timedelta(days=30))]
    return max(float(window["amount"].sum()) / len(converted), 0.0)


# --------------------------------------------------------------------------------------------------
# Treatment-plan completion.

@dataclass
class PlanCompletion(AnalysisResult):
    """Completed / ended accepted plans per doctor, against the playbook's review line [S3][S4]."""

    line: float = field(kw_only=True)  # the threshold in force

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.dropna(subset=["plan_completion"]).sort_values("plan_completion")
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        labels = [_doctor_label(d, lang) for d in t.index]
        colours = [PALETTE[4] if d == ALL_DOCTORS else c for d, c in zip(t.index, _bar_colors(t.index.isin(flagged)))]
        notes = [i18n.pick(lang, f"{i18n.rate(rate, lang)}（结束{n}个，治疗中{open_}个）",
                           f"{i18n.rate(rate, lang)} ({n} ended, {open_} in treatment)")
                 for rate, n, open_ in zip(t["plan_completion"], t["plans_ended"], t["plans_in_progress"])]
        return _rate_bars(ax, labels, t["plan_completion"], colours, notes, line=self.line,
                          line_label=i18n.pick(lang, "复核线", "review line"), xmax=135, title=title, lang=lang,
                          **kwargs)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the doctors under the review line, against the whole clinic."""
        line = f"{self.line:.0%}"
        t = self.table.dropna(subset=["plan_completion"])
        if t.empty:
            return i18n.pick(lang, "各医生完诊率", "Plan completion by doctor")
        clinic = i18n.rate(_num(t.loc[ALL_DOCTORS, "plan_completion"]), lang) if ALL_DOCTORS in t.index else None
        flagged = [f.subject for f in sorted(self.flags, key=lambda f: f.value) if f.subject in t.index]
        if flagged:
            rate = i18n.rate(float(t.loc[flagged[0], "plan_completion"]), lang)
            tail = i18n.pick(lang, f"，全院{clinic}", f"; clinic {clinic}") if clinic else ""
            return i18n.pick(lang, f"{flagged[0]}的治疗计划完诊率只有{rate}，低于{line}复核线（红色）{tail}",
                             f"{flagged[0]} completes only {rate} of treatment plans, under the {line} review line "
                             f"(red){tail}")
        doctors = t.drop(index=ALL_DOCTORS, errors="ignore")["plan_completion"]
        low = doctors.idxmin() if len(doctors) else None
        if low is None:
            return i18n.pick(lang, f"全院完诊率{clinic}", f"Plan completion: {clinic} clinic-wide")
        return i18n.pick(lang, f"各医生完诊率都不低于{line}，最低{low}{i18n.rate(float(doctors[low]), lang)}",
                         f"Every doctor completes {line} or more of plans; lowest {low} {i18n.rate(float(doctors[low]), lang)}")

    def metrics(self) -> dict:
        t = self.table
        total = t.loc[ALL_DOCTORS] if ALL_DOCTORS in t.index else None
        doctors = t.drop(index=ALL_DOCTORS, errors="ignore")
        return {"kpis": {"plan_completion_rate": _json(total["plan_completion"]) if total is not None else None,
                         "plans_in_progress": int(total["plans_in_progress"]) if total is not None else None},
                "doctors": {str(d): {"plans_completed": _json(r.plans_completed),
                                     "plans_interrupted": _json(r.plans_interrupted),
                                     "plans_in_progress": _json(r.plans_in_progress),
                                     "plan_completion": _json(r.plan_completion)} for d, r in doctors.iterrows()}}


ALL_DOCTORS = "__all__"


def _doctor_label(doctor: str, lang: str) -> str:
    return i18n.pick(lang, "全院", "whole clinic") if doctor == ALL_DOCTORS else doctor


def plan_completion(plans: pd.DataFrame, *, start: dt.date, end: dt.date,
                    thresholds: dict[str, Threshold] | None = None) -> PlanCompletion:
    """Completion of accepted treatment plans created in the period, per doctor and for the clinic.

    Parameters
    ----------
    plans : canonical treatment_plans (``status`` proposed/accepted/declined/completed/interrupted;
        ``doctor_id`` when the export has it, else only the whole clinic is shown).
    start, end : the plans created in this period, both days included.
    thresholds : ``plan_completion`` (playbook default 70%; [S3][S4] give no number).

    Notes
    -----
    Accepted plans are those the patient accepted: ``accepted`` (still in treatment), ``completed`` and
    ``interrupted``. Completion = completed / (completed + interrupted): a plan still in treatment has
    not ended, and counting it as not completed would mark every long orthodontic plan a failure; the
    count in treatment is shown beside the rate. ``revenue_at_stake`` = (the line − the rate) × ended
    plans per year × the doctor's mean planned amount of accepted plans: the planned treatment that
    would be delivered at the line (0 when plans carry no amount).
    """
    line = _line(thresholds, "plan_completion")
    plans = plans[_in_period(plans["created_at"], start, end) & plans["status"].isin(["accepted", "completed", "interrupted"])]
    doctor = plans["doctor_id"].astype("str").where(plans["doctor_id"].notna(), None) if "doctor_id" in plans else None
    frame = pd.DataFrame({"doctor_id": doctor if doctor is not None else pd.Series(None, index=plans.index, dtype="object"),
                          "completed": plans["status"] == "completed", "interrupted": plans["status"] == "interrupted",
                          "open": plans["status"] == "accepted",
                          "amount": pd.to_numeric(plans.get("planned_amount"), errors="coerce") if "planned_amount" in plans
                          else np.nan})

    def summarise(groups) -> pd.DataFrame:
        return groups.agg(plans_completed=("completed", "sum"), plans_interrupted=("interrupted", "sum"),
                          plans_in_progress=("open", "sum"), mean_amount=("amount", "mean"))

    per_doctor = summarise(frame[frame["doctor_id"].notna()].groupby("doctor_id"))
    whole = summarise(frame.assign(doctor_id=ALL_DOCTORS).groupby("doctor_id"))
    table = pd.concat([per_doctor, whole]).astype({"plans_completed": int, "plans_interrupted": int,
                                                    "plans_in_progress": int})
    table["plans_ended"] = table["plans_completed"] + table["plans_interrupted"]
    table["plan_completion"] = (table["plans_completed"] / table["plans_ended"]).where(table["plans_ended"] > 0)
    table = pd.concat([table.drop(index=ALL_DOCTORS).sort_values("plan_completion"), table.loc[[ALL_DOCTORS]]])
    years = _years(start, end)

    flags = []
    for doctor, row in table.drop(index=ALL_DOCTORS).iterrows():
        rate = _num(row.plan_completion)
        if row.plans_ended < MIN_ENDED_PLANS or not line.breached(rate):
            continue
        amount = _num(row.mean_amount) or 0.0
        at_stake = (line.value - rate) * row.plans_ended / years * amount
        flags.append(Finding.past(
            line, rate, kind="plan_completion", problem_class="medical_quality", segment=Segment("doctor", doctor),
            window=Window(start, end), stake=Stake(float(at_stake), "plan_completion_gap"),
            facts={"ended": int(row.plans_ended), "interrupted": int(row.plans_interrupted)}))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    total = table.loc[ALL_DOCTORS]
    rate = _num(total.plan_completion)
    if rate is None:
        zh, en = ("分析期内没有已结束的治疗计划，暂无法计算完诊率。", "No treatment plan ended in the period: completion cannot be computed.")
    elif flags:
        zh, en = _with_others(flags, "也低于复核线", "under the line too")
    elif per_doctor.empty:
        zh = (f"全院已结束的治疗计划完诊率{i18n.rate(rate, 'zh')}；导出中没有医生列，无法按医生复核。")
        en = (f"The clinic completed {i18n.rate(rate, 'en')} of its ended plans; the export names no doctor, so "
              f"plans cannot be reviewed per doctor.")
    else:
        doctors_only = table.drop(index=ALL_DOCTORS)
        few_zh, few_en = _too_few(
            doctors_only.index[(doctors_only["plans_ended"] < MIN_ENDED_PLANS)
                               & (doctors_only["plan_completion"] < line.value)],
            "已结束计划", "ended plans", MIN_ENDED_PLANS)
        zh = (f"全院已结束的治疗计划完诊率{i18n.rate(rate, 'zh')}，计划足够多的医生都不低于{line.value:.0%}的复核线"
              f"{few_zh}；另有{int(total.plans_in_progress)}个计划仍在治疗中。")
        en = (f"The clinic completed {i18n.rate(rate, 'en')} of its ended plans and every doctor with enough plans is at "
              f"or above the {line.value:.0%} review line{few_en}; {int(total.plans_in_progress)} plans are still in "
              f"treatment.")
    return PlanCompletion("plan_completion", table, zh, en, flags, line=line.value)


# --------------------------------------------------------------------------------------------------
# No-shows by time slot and by channel.

def _booked(visits: pd.DataFrame, patients: pd.DataFrame | None, *, start: dt.date, end: dt.date,
            recent_months: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """One row per visit scheduled in the period that arrived or was missed (cancelled left out):
    missed, weekday, hour, slot, recent (in the last ``recent_months`` months) and channel."""
    booked = visits[visits["status"].isin(["arrived", "no_show"]) & _in_period(visits["scheduled_at"], start, end)]
    when = booked["scheduled_at"]
    frame = pd.DataFrame({"missed": (booked["status"] == "no_show").to_numpy(),
                          "weekday": when.dt.day_of_week.to_numpy(), "hour": when.dt.hour.to_numpy()},
                         index=booked.index)
    recent_start = pd.Timestamp(end) + pd.Timedelta(days=1) - pd.DateOffset(months=recent_months)
    if recent_start - pd.DateOffset(months=recent_months) < pd.Timestamp(start):
        recent_start = pd.Timestamp(start)  # too short a period to split: judge the whole of it
    frame["recent"] = (_days(when) >= recent_start).to_numpy()
    frame["slot"] = time_slots(when)
    if patients is not None and patients["source_channel"].notna().any():
        channel = patients.drop_duplicates("patient_id").set_index("patient_id")["source_channel"]
        frame["channel"] = channel.reindex(booked["patient_id"]).fillna(UNKNOWN_CHANNEL).astype("str").to_numpy()
    else:
        frame["channel"] = None
    return frame, recent_start


def _rates(data: pd.DataFrame, by) -> pd.DataFrame:
    out = data.groupby(by)["missed"].agg(booked="size", no_shows="sum")
    out["rate"] = out["no_shows"] / out["booked"]
    return out


def _hour_name(weekday: int, hour: int, lang: str) -> str:
    """A heatmap cell as the owner names it: 周一18点 / Mon 18:00."""
    return i18n.pick(lang, f"{WEEKDAYS_ZH[weekday]}{hour}点", f"{WEEKDAYS_EN[weekday]} {hour}:00")


def _peak_cell(heatmap: pd.DataFrame | None) -> tuple[int, int, float] | None:
    """(weekday, hour, rate) of a weekday × hour table's highest cell, or None when it has none."""
    if heatmap is None or heatmap.isna().all().all():
        return None
    cells = heatmap.stack().dropna()
    (day, hour), rate = cells.idxmax(), float(cells.max())
    return int(day), int(hour), rate


def _slot_name(slot: str, lang: str) -> str:
    day, part = slot.split("_")
    zh, en, first, last = SLOTS[part]
    day_zh, day_en = ("工作日", "weekday") if day == "weekday" else ("周末", "weekend")
    return i18n.pick(lang, f"{day_zh}{zh}（{first}–{last}点）", f"{day_en} {en}s ({first}:00–{last}:00)")


@dataclass
class NoShowTimes(AnalysisResult):
    """No-show rate by weekday × hour (heatmap) and by time slot, against the 15% alert line."""

    heatmap: pd.DataFrame = None  # weekday (0 = Monday) x hour -> rate (NaN where too few bookings)
    line: float = field(kw_only=True)  # the threshold in force
    overall: float | None = None
    recent_rate: float | None = None  # the whole clinic's no-show rate in the recent window
    busy_slots: list[str] = field(default_factory=list)  # slots above the line (flagged)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Heatmap weekday × hour, darker = more no-shows; the cells of a time slot above the line are
        framed in red (needs action)."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        if self.heatmap is None or self.heatmap.isna().all().all():
            return no_data(ax, lang, title)
        data = self.heatmap * 100
        cmap = SEQUENTIAL
        names = WEEKDAYS_ZH if lang == "zh" else WEEKDAYS_EN
        hours = list(data.columns)
        shown = data.copy()
        shown.index = [names[d] for d in data.index]
        shown.columns = [f"{h}:00" for h in hours]
        sns.heatmap(shown, ax=ax, cmap=cmap, vmin=0, vmax=max(float(np.nanmax(data.to_numpy())), self.line * 200),
                    annot=True, fmt=".0f", cbar=False, linewidths=0.5, linecolor="white",
                    annot_kws={"fontsize": "x-small"}, **kwargs)
        for slot in self.busy_slots:  # frame the flagged slot's cells in red
            day, part = slot.split("_")
            first, last = SLOTS[part][2], SLOTS[part][3]
            for row, weekday in enumerate(data.index):
                if (weekday >= 5) != (day == "weekend"):
                    continue
                for col, hour in enumerate(hours):
                    if first <= hour < last and not np.isnan(data.iloc[row, col]):
                        ax.add_patch(plt.Rectangle((col, row), 1, 1, fill=False, edgecolor=ACTION_RED, linewidth=1.6))
        frame = i18n.pick(lang, "；红框为超过警戒线的时段", "; red frame: a slot above the line")
        ax.set_xlabel(i18n.pick(lang, f"数字为爽约率%（警戒线{self.line:.0%}）；空白为预约太少",
                                f"numbers: no-show % (alert line {self.line:.0%}); blank: too few bookings")
                      + (frame if self.busy_slots else ""))
        ax.set_ylabel("")
        ax.tick_params(axis="y", rotation=0)
        return set_title(ax, title, lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding, of what it draws: the time slots above the 15% alert line (framed), else
        the weekday and hour with the most no-shows, against the line."""
        line = f"{self.line:.0%}"
        if self.busy_slots:
            slot = max(self.busy_slots, key=lambda s: self.table.loc[s, "rate"] if s in self.table.index else 0)
            rate = i18n.rate(_num(self.table.loc[slot, "rate"]), lang) if slot in self.table.index else ""
            return i18n.pick(lang, f"{i18n.term(slot, lang)}爽约率{rate}，超过{line}警戒线（红框）",
                             f"No-shows on {i18n.term(slot, lang)} run at {rate}, above the {line} alert line (red frame)")
        peak = self.peak()
        if peak is None:
            return i18n.pick(lang, f"各钟点预约不足{MIN_HEATMAP_CELL}人次，暂不判断；全院爽约率{i18n.rate(self.overall, lang)}",
                             f"Too few bookings per hour to judge; clinic-wide no-show rate {i18n.rate(self.overall, lang)}")
        day, hour, rate = peak
        when = _hour_name(day, hour, lang)
        if rate > self.line:
            return i18n.pick(lang, f"爽约最多的钟点是{when}（{i18n.rate(rate, lang)}），超过{line}警戒线；按时段合计未超过",
                             f"The hour with most no-shows is {when} ({i18n.rate(rate, lang)}), above the {line} alert "
                             f"line; no time slot as a whole is")
        return i18n.pick(lang, f"各钟点爽约率都在{line}警戒线以下，最高为{when}的{i18n.rate(rate, lang)}",
                         f"Every hour is under the {line} alert line; highest {when} at {i18n.rate(rate, lang)}")

    def peak(self) -> tuple[int, int, float] | None:
        """(weekday, hour, rate) of the heatmap's highest cell (cells with enough bookings), or None."""
        return _peak_cell(self.heatmap)

    def metrics(self) -> dict:
        slots = self.table
        counted = slots.loc[slots["booked"] >= MIN_BOOKED, "rate"].dropna()
        return {"kpis": {"no_show_rate_recent": _json(self.recent_rate),
                         "no_show_rate_max_slot": _json(counted.max()) if len(counted) else None},
                "operations": {"no_show_by_slot": {str(s): {"booked": _json(r.booked), "no_shows": _json(r.no_shows),
                                                            "rate": _json(r.rate)} for s, r in slots.iterrows()}}}


def no_show_times(visits: pd.DataFrame, *, start: dt.date, end: dt.date,
                  thresholds: dict[str, Threshold] | None = None, recent_months: int = RECENT_MONTHS,
                  revenue_per_visit: float = 0.0) -> NoShowTimes:
    """No-show rate by weekday and hour, and by time slot, among visits scheduled in the period.

    Parameters
    ----------
    visits : canonical visits (``status``, ``scheduled_at``); cancelled visits are left out.
    start, end : the analysis period, both days included.
    thresholds : ``no_show_rate`` (playbook default 15%).
    recent_months : the window of the ``no_show_rate_recent`` KPI (the last months of the period).
    revenue_per_visit : the clinic's revenue per arrived visit in the period (`diagnose` passes it).

    Notes
    -----
    A time slot is weekday or weekend × morning (before 12:00), afternoon (12:00–16:59) or evening
    (17:00 on); a slot is flagged when its rate over the period is above the line with at least
    ``MIN_BOOKED`` bookings. ``revenue_at_stake`` = the no-shows above the line per year ×
    ``revenue_per_visit``: each is a booked chair slot that would have earned an average visit. An
    upper bound, since some no-shows rebook; 0 when ``revenue_per_visit`` is not given.
    """
    line = _line(thresholds, "no_show_rate")
    frame, _ = _booked(visits, None, start=start, end=end, recent_months=recent_months)
    slots = _rates(frame, "slot")
    years = _years(start, end)
    flags = []
    for slot, row in slots.iterrows():
        rate = float(row.rate)
        if row.booked < MIN_BOOKED or not line.breached(rate):
            continue
        excess = (rate - line.value) * row.booked / years
        _, _, first_hour, last_hour = SLOTS[slot.split("_")[1]]
        flags.append(Finding.past(
            line, rate, kind="no_show_rate_slot", problem_class="efficiency", segment=Segment("slot", slot),
            window=Window(start, end), stake=Stake(float(excess * revenue_per_visit), "no_show_excess"),
            facts={"first_hour": first_hour, "last_hour": last_hour,
                   "school_hours": slot in ("weekday_morning", "weekday_afternoon")}))
    flags.sort(key=lambda f: (f.severity != "red", -f.revenue_at_stake, -f.gap))
    cells = _rates(frame, ["weekday", "hour"])
    heatmap = cells["rate"].where(cells["booked"] >= MIN_HEATMAP_CELL).unstack("hour") if len(cells) else None
    overall = rate_or_none(frame["missed"].sum(), len(frame))
    recent = frame[frame["recent"]]
    if frame.empty:
        zh, en = "分析期内没有到诊或爽约的预约记录。", "No arrived or missed bookings in the period."
    elif flags:
        zh, en = sentences.join(flags, "zh"), sentences.join(flags, "en")
    else:
        judged = slots[slots["booked"] >= MIN_BOOKED]
        few_zh, few_en = _too_few([_slot_name(x, "zh") for x in slots.index[(slots["booked"] < MIN_BOOKED)
                                                                           & (slots["rate"] > line.value)]],
                                  "预约人次", "bookings", MIN_BOOKED)
        side_zh = "高于" if line.breached(overall) else "不高于"
        side_en = "above" if line.breached(overall) else "at or under"
        if judged.empty:
            zh = (f"全院爽约率{i18n.rate(overall, 'zh')}（{side_zh}{line.value:.0%}的警戒线），各时段的预约都不足"
                  f"{MIN_BOOKED}人次，暂不按时段判断。")
            en = (f"The clinic's no-show rate is {i18n.rate(overall, 'en')} ({side_en} the {line.value:.0%} alert line); "
                  f"every time slot has fewer than {MIN_BOOKED} bookings, so slots are not judged.")
        else:
            high = judged["rate"].idxmax()
            zh = (f"全院爽约率{i18n.rate(overall, 'zh')}；按时段合计（工作日、周末的上午、下午、傍晚），爽约最多的是"
                  f"{_slot_name(high, 'zh')}，爽约率{i18n.rate(float(judged.loc[high, 'rate']), 'zh')}，没有超过"
                  f"{line.value:.0%}的警戒线{few_zh}")
            en = (f"The clinic's no-show rate is {i18n.rate(overall, 'en')}; of the time slots with enough bookings "
                  f"(weekday and weekend mornings, afternoons and evenings), {_slot_name(high, 'en')} miss most, "
                  f"{i18n.rate(float(judged.loc[high, 'rate']), 'en')}, within the {line.value:.0%} alert line{few_en}")
            peak = _peak_cell(heatmap)
            if peak is not None and line.breached(peak[2]):
                day, hour, rate = peak
                booked = int(cells.loc[(day, hour), "booked"])
                zh += (f"；单看钟点，{_hour_name(day, hour, 'zh')}的爽约率{i18n.rate(rate, 'zh')}，超过警戒线，"
                       f"但只有{i18n.count(booked, 'zh')}人次预约，先按周观察")
                en += (f"; hour by hour, {_hour_name(day, hour, 'en')} is at {i18n.rate(rate, 'en')}, above the "
                       f"line, on only {i18n.count(booked, 'en')} bookings: watch it week by week")
            zh += "；保持到诊前一天提醒。"
            en += "; keep the day-before reminders."
    return NoShowTimes("no_show_times", slots, zh, en, flags, heatmap=heatmap, line=line.value, overall=overall,
                       recent_rate=rate_or_none(recent["missed"].sum(), len(recent)),
                       busy_slots=[f.subject for f in flags])


@dataclass
class NoShowChannels(AnalysisResult):
    """No-show rate by source channel, before and in the last months of the period, against 15%."""

    line: float = field(kw_only=True)  # the threshold in force
    recent_months: int = RECENT_MONTHS
    busy_slots: list[str] = field(default_factory=list)  # left out of the recent rates judged
    recent: Window | None = None  # the window judged ("recently"), and the one before it in the period
    before: Window | None = None

    def _names(self, lang: str) -> tuple[str, str]:
        """The recent window and the one before, as the chart and the table name them."""
        if self.recent is None or self.before is None:
            return i18n.pick(lang, "分析期", "the period"), i18n.pick(lang, "此前", "before")
        return (i18n.window(self.recent.start, self.recent.end, lang),
                i18n.window(self.before.start, self.before.end, lang))

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Per channel: the rate before (grey) and recently (blue; red when flagged), with the line."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.dropna(subset=["rate_judged"]).sort_values("rate_judged")
        t = t[t.index != UNKNOWN_CHANNEL] if (t.index != UNKNOWN_CHANNEL).any() else t
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        y = np.arange(len(t))
        recent, before = self._names(lang)
        if self.busy_slots:  # both bars leave out the slots already over the line
            recent += i18n.pick(lang, "（不含超警戒线时段）", " (other slots)")
            before += i18n.pick(lang, "（不含超警戒线时段）", " (other slots)")
        ax.barh(y + 0.2, t["rate_before_judged"].fillna(0) * 100, height=0.4, color=PALETTE[4],
                label=before)
        ax.barh(y - 0.2, t["rate_judged"] * 100, height=0.4, color=_bar_colors(t.index.isin(flagged)), label=recent,
                **kwargs)
        for yy, rate in zip(y, t["rate_judged"]):
            ax.text(rate * 100, yy - 0.2, f" {i18n.rate(float(rate), lang)}", va="center", fontsize="small")
        reference_line(ax, self.line * 100, i18n.pick(lang, f"警戒线{self.line:.0%}", f"alert line {self.line:.0%}"),
                       y=len(t) - 0.45)
        ax.set_yticks(y, [channel_name(c, lang) for c in t.index])
        before_max = t["rate_before_judged"].max(skipna=True)
        ax.set_xlim(0, max(float(t["rate_judged"].max()), 0.0 if pd.isna(before_max) else float(before_max),
                           self.line) * 130)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}%"))
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(0, -0.08), ncol=2, fontsize="small")
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the channel whose patients miss most bookings lately, against 15%."""
        line = f"{self.line:.0%}"
        t = self.table.dropna(subset=["rate_judged"])
        t = t[t.index != UNKNOWN_CHANNEL]
        flagged = [f.subject for f in sorted(self.flags, key=lambda f: -f.value) if f.subject in t.index]
        recent, before = self._names(lang)
        if flagged:
            name, row = flagged[0], t.loc[flagged[0]]
            return i18n.pick(lang, f"{channel_name(name, lang)}患者{recent}爽约率{i18n.rate(_num(row['rate_judged']), lang)}，"
                                   f"超过{line}警戒线（红色），{before}为{i18n.rate(_num(row['rate_before_judged']), lang)}",
                             f"{channel_name(name, lang)} patients' no-show rate was "
                             f"{i18n.rate(_num(row['rate_judged']), lang)} in {recent}, above the {line} alert line "
                             f"(red); {before}: {i18n.rate(_num(row['rate_before_judged']), lang)}")
        t = t[t["booked_judged"] >= MIN_BOOKED]
        if t.empty:
            return i18n.pick(lang, f"{recent}各渠道预约不足{MIN_BOOKED}人次，暂不判断爽约率",
                             f"Too few bookings per channel in {recent} (under {MIN_BOOKED}) to judge no-shows")
        high = t["rate_judged"].idxmax()
        return i18n.pick(lang, f"{recent}各渠道爽约率都在{line}警戒线以下，最高为{channel_name(high, lang)}"
                               f"{i18n.rate(_num(t.loc[high, 'rate_judged']), lang)}",
                         f"Every channel is under the {line} alert line in {recent}; highest "
                         f"{channel_name(high, lang)} {i18n.rate(_num(t.loc[high, 'rate_judged']), lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        recent, before = self._names(lang)
        out = pd.DataFrame({
            i18n.pick(lang, "来源渠道", "Channel"): [channel_name(c, lang) for c in t.index],
            i18n.pick(lang, "预约人次", "Booked"): [i18n.count(v, lang) for v in t["booked"]],
            i18n.pick(lang, "分析期爽约率", "No-show rate, period"): [i18n.rate(_num(v), lang) for v in t["rate"]],
            before: [i18n.rate(_num(v), lang) for v in t["rate_before"]],
            recent: [i18n.rate(_num(v), lang) for v in t["rate_recent"]],
        })
        if self.busy_slots:
            out[i18n.pick(lang, f"{recent}（不含超警戒线时段）", f"{recent}, other slots")] = [
                i18n.rate(_num(v), lang) for v in t["rate_judged"]]
        return out

    def metrics(self) -> dict:
        t = self.table
        counted = t.loc[(t["booked_judged"] >= MIN_BOOKED) & (t.index != UNKNOWN_CHANNEL), "rate_judged"].dropna()
        return {"kpis": {"no_show_rate_max_channel": _json(counted.max()) if len(counted) else None},
                "operations": {"no_show_by_channel": {
                    str(c): {"booked": _json(r.booked), "no_shows": _json(r.no_shows), "rate": _json(r.rate),
                             "rate_before": _json(r.rate_before), "rate_recent": _json(r.rate_recent),
                             "booked_recent": _json(r.booked_recent), "rate_recent_other_slots": _json(r.rate_judged)}
                    for c, r in t.iterrows()}}}


def no_show_channels(visits: pd.DataFrame, patients: pd.DataFrame, *, start: dt.date, end: dt.date,
                     thresholds: dict[str, Threshold] | None = None, recent_months: int = RECENT_MONTHS,
                     busy_slots: list[str] | tuple[str, ...] = (), revenue_per_visit: float = 0.0) -> NoShowChannels:
    """No-show rate of each source channel's patients, over the period, before and recently.

    Parameters
    ----------
    visits : canonical visits (``status``, ``scheduled_at``); cancelled visits are left out.
    patients : canonical patients with ``source_channel`` (patients not in it count as ``unknown``).
    start, end : the analysis period, both days included.
    thresholds : ``no_show_rate`` (playbook default 15%).
    recent_months : a channel is judged on its last ``recent_months`` months of the period ("now"),
        when the period is at least twice as long; otherwise on the whole period.
    busy_slots : time slots already over the line (`NoShowTimes.busy_slots`): left out when judging a
        channel, so a time-of-day problem (children in school hours) is not blamed on every channel.
    revenue_per_visit : the clinic's revenue per arrived visit in the period (`diagnose` passes it).

    Notes
    -----
    ``revenue_at_stake`` = the channel's no-shows above the line per year × ``revenue_per_visit`` (an
    upper bound, as some no-shows rebook).
    """
    line = _line(thresholds, "no_show_rate")
    frame, recent_start = _booked(visits, patients, start=start, end=end, recent_months=recent_months)
    frame = frame[frame["channel"].notna()]
    table = _rates(frame, "channel")
    before = _rates(frame[~frame["recent"]], "channel")
    recent = _rates(frame[frame["recent"]], "channel")
    other_slots = ~frame["slot"].isin(list(busy_slots))
    judged = _rates(frame[frame["recent"] & other_slots], "channel")
    judged_before = _rates(frame[~frame["recent"] & other_slots], "channel")
    table["rate_before"] = before["rate"].reindex(table.index)
    table["rate_recent"] = recent["rate"].reindex(table.index)
    table["booked_recent"] = recent["booked"].reindex(table.index).fillna(0).astype(int)
    table["rate_judged"] = judged["rate"].reindex(table.index)
    table["booked_judged"] = judged["booked"].reindex(table.index).fillna(0).astype(int)
    table["rate_before_judged"] = judged_before["rate"].reindex(table.index)
    table = table.sort_values(["rate_judged", "booked"], ascending=False)
    years_recent = _years(recent_start.date(), end)
    months = recent_months if recent_start > pd.Timestamp(start) else None

    flags = []
    for name, row in table.iterrows():
        rate = _num(row.rate_judged)
        if row.booked_judged < MIN_BOOKED or not line.breached(rate) or name == UNKNOWN_CHANNEL:
            continue
        excess = (rate - line.value) * row.booked_judged / years_recent
        flags.append(Finding.past(
            line, rate, kind="no_show_rate_channel", problem_class="acquisition", segment=Segment("channel", name),
            window=Window(max(recent_start, pd.Timestamp(start)).date(), end),
            reference=_num(row.rate_before_judged), reference_window=Window(start, (recent_start - pd.Timedelta(days=1)).date()) if months else None,
            stake=Stake(float(excess * revenue_per_visit), "no_show_excess"),
            facts={"months": months, "outside_slots": bool(busy_slots)}))
    flags.sort(key=lambda f: (f.severity != "red", -f.revenue_at_stake, -f.gap))
    known = table[table.index != UNKNOWN_CHANNEL]
    if known.empty:
        zh, en = "分析期内没有可按来源渠道比较的预约记录。", "No bookings in the period can be compared by channel."
    elif flags:
        zh, en = _with_others(flags, "也超过警戒线", "above the line too")
    else:
        judged = known[known["booked_judged"] >= MIN_BOOKED]
        few_zh, few_en = _too_few(
            [channel_name(c, "zh") for c in known.index[(known["booked_judged"] < MIN_BOOKED)
                                                        & (known["rate_judged"] > line.value)]],
            "最近预约人次", "recent bookings", MIN_BOOKED)
        when_zh, when_en = ((i18n.window(recent_start.date(), end, "zh"), i18n.window(recent_start.date(), end, "en"))
                            if months else ("分析期", "the period"))
        if judged.empty:
            zh = f"{when_zh}各渠道的预约都不足{MIN_BOOKED}人次，暂不按渠道判断爽约率。"
            en = f"Every channel has fewer than {MIN_BOOKED} bookings in {when_en}: no-shows are not judged by channel."
        else:
            worst = judged["rate_judged"].idxmax()
            rate = _num(judged.loc[worst, "rate_judged"])
            outside_zh = "（不含高爽约时段）" if busy_slots else ""
            outside_en = "Outside the high no-show slots, every" if busy_slots else "Every"
            zh = (f"预约足够多的渠道，{when_zh}爽约率{outside_zh}都在{line.value:.0%}的警戒线以下（最高为"
                  f"{channel_name(worst, 'zh')}，{i18n.rate(rate, 'zh')}）{few_zh}"
                  + ("：爽约问题在时段，不在渠道。" if busy_slots else "。"))
            en = (f"{outside_en} channel with enough bookings was under the {line.value:.0%} alert line in {when_en} "
                  f"(highest: {channel_name(worst, 'en')}, {i18n.rate(rate, 'en')}){few_en}"
                  + (": the problem is the time slot, not the channel." if busy_slots else "."))
    windows = dict(recent=Window(recent_start.date(), end), before=Window(start, (recent_start - pd.Timedelta(days=1)).date())) \
        if months else {}
    return NoShowChannels("no_show_channels", table, zh, en, flags, line=line.value,
                          recent_months=months or 0, busy_slots=list(busy_slots), **windows)


# --------------------------------------------------------------------------------------------------
# The section.

@dataclass
class DoctorsSection(Section):
    doctors: AnalysisResult = field(default=None)
    designation: AnalysisResult = field(default=None)
    load: AnalysisResult = field(default=None)
    conversion: AnalysisResult = field(default=None)
    plans: AnalysisResult = field(default=None)
    no_show_times: AnalysisResult = field(default=None)
    no_show_channels: AnalysisResult = field(default=None)


_NO_DOCTOR = {"zh_reason": "本分析需要预约记录或收费明细中的医生列（如“医生”“主治医生”），当前数据中没有；请导出含医生的记录后重新运行。",
              "en_reason": "This analysis needs the doctor column of the visits or charges export (医生, 主治医生), which "
                           "the data lacks; export them with the doctor and run again."}


def diagnose(clinic: Clinic, thresholds: dict[str, Threshold]) -> DoctorsSection:
    """Wire the clinic's tables into the analyses of this chapter."""
    start, end = clinic.config.period.start, clinic.config.period.end
    visits, charges, patients = clinic.visits, clinic.charges, clinic.patients
    has_visit_doctor = clinic.has("visits", "doctor_id")
    if not clinic.has("charges", "doctor_id") and has_visit_doctor and clinic.has("charges", "visit_id"):
        # the doctor of the visit the charge belongs to
        charges = charges.assign(doctor_id=charges["visit_id"].map(
            visits.drop_duplicates("visit_id").set_index("visit_id")["doctor_id"]))
    has_charge_doctor = clinic.has("charges", "doctor_id") or charges["doctor_id"].notna().any()
    staff = clinic.table("staff")

    section = DoctorsSection()
    if has_charge_doctor or has_visit_doctor:
        section.doctors = doctor_performance(charges, visits, start=start, end=end, thresholds=thresholds)
        section.designation = Designation.of(section.doctors)
    else:
        section.doctors = Unavailable.because("doctors", needs=["charges.doctor_id", "visits.doctor_id"], **_NO_DOCTOR)
        section.designation = Unavailable.because("designation", needs=["charges.doctor_id", "charges.designated"],
                                              **_NO_DOCTOR)
    if has_visit_doctor:
        section.load = doctor_load(visits, charges if has_charge_doctor else None, staff=staff, start=start, end=end,
                                   thresholds=thresholds)
        section.conversion = doctor_conversion(patients, visits, charges, start=start, end=end, thresholds=thresholds)
    else:
        section.load = Unavailable.because("doctor_load", needs=["visits.doctor_id"], **_NO_DOCTOR)
        section.conversion = Unavailable.because("doctor_conversion", needs=["visits.doctor_id"], **_NO_DOCTOR)
    plans = clinic.table("treatment_plans")
    if plans is not None:
        section.plans = plan_completion(plans, start=start, end=end, thresholds=thresholds)
    else:
        section.plans = Unavailable.because(
            "plan_completion", needs=["treatment_plans"],
            zh_reason="本分析需要治疗计划表（计划状态：已接受/已完成/中断），当前数据中没有；请向诊所索取后重新运行。",
            en_reason="This analysis needs the treatment plans export (accepted/completed/interrupted), which the clinic "
                      "has not given; ask for it and run again.")

    per_visit = revenue_per_arrived_visit(visits, charges, start, end)
    section.no_show_times = no_show_times(visits, start=start, end=end, thresholds=thresholds,
                                          revenue_per_visit=per_visit)
    if clinic.has("patients", "source_channel"):
        section.no_show_channels = no_show_channels(visits, patients, start=start, end=end, thresholds=thresholds,
                                                    busy_slots=section.no_show_times.busy_slots,
                                                    revenue_per_visit=per_visit)
    else:
        section.no_show_channels = Unavailable.because(
            "no_show_channels", needs=["patients.source_channel"],
            zh_reason="患者档案中没有来源渠道，无法按渠道比较爽约率；请导出含“来源渠道”的患者档案。",
            en_reason="The patients export has no source channel, so no-shows cannot be compared by channel; export "
                      "patients with their source channel.")
    return section

"""Cohorts and loyalty: do patients come back, who is leaving, who brings others, who is worth most.

Method: the return/loyalty problem class [S1]; churn, referral share, ABC classes and child → family
conversion [S3]; the RFM customer-tier table with its churn-warning list of high-value patients [S0];
referral below 30% of first visits calls for action [S2]. Every date rule below is "as of" the end of
the analysis period: visits after it are ignored, history before its start is used.

Definitions (all are playbook choices where the sources give no formula; each says so)
--------------------------------------------------------------------------------------
arrival day
    A day on which the patient had an arrived visit (several visits on one day count once).
first arrival
    The contract's (`playbook.tables.first_arrivals`): the patient's earliest arrival day in all data.
usual return interval
    How long this patient usually stays away between returns: the median of their own gaps between
    arrival days of at least ``RECALL_MIN_GAP_DAYS`` (60) days (shorter gaps are steps of one course
    of treatment, not returns), capped at ``MAX_RETURN_INTERVAL_DAYS`` (365: a patient is expected back
    at least once a year). A patient with no such gap gets the clinic's: the median of all such gaps
    (``DEFAULT_RETURN_INTERVAL_DAYS``, 182, when the clinic has none).
missed returns
    As of a date: the number of whole usual intervals elapsed since the last arrival day, or the
    number of no-show visits since it, whichever is larger.
established patient (老患者)
    A patient with at least two arrival days: "a patient who had come back before".
churned (流失) [S3]
    The source's rule is "no reply to two WeChat/SMS/phone contacts, or more than three missed returns"
    (两次微信、短信不回复，或者电话不接；超过三次不复诊). Exports carry no contact log, so the playbook applies the
    data side only: an established patient with more than ``churn_missed_returns`` (3) missed returns.
    A patient who comes back afterwards was churned and has been won back.
overdue (逾期未复诊, 可约回)
    1 to 3 missed returns: not lost yet, the recall list.

kpis.json names added (under ``"kpis"``)
----------------------------------------
churn_rate
    Monthly churn over the last 12 months of the period (fewer if the period is shorter): established
    patients who crossed the churn line in a month, over the established patients not churned at the
    start of that month, pooled over the months; months with less than (3 + 1) usual intervals of
    history before them are left out (nobody could have crossed the line yet), and the rate is null
    when none is left. The playbook reads [S3]'s "2–3% ideal, 7–8% recoverable" as monthly rates
    (Chinese clinics track 流失率 in their daily/monthly reports [S2]); a yearly reading would put
    almost every clinic past the line through ordinary attrition.
churned_patients_12m
    The number of churn events counted in ``churn_rate``.
overdue_share
    At the period end, established patients with 1–3 missed returns over established patients not
    churned (active or overdue).
overdue_patients
    Their number: the size of the recall list.
usual_return_interval_days
    The clinic's usual return interval (median recall gap, see above).
return_within_12m_recent, return_within_12m_before
    The contract's return_within_12m rule on two cohorts: patients first arriving in the last six
    months of ``start``..``end − 365 days``, and in the months before them. Null when a cohort has
    fewer than ``MIN_COHORT`` (20) patients.
return_within_12m_change
    (recent − before) / before: the relative change of the 12-month return.
referral_share_recent, referral_share_before
    The contract's referral_share on the new patients of the last six months of the period, and of
    the months before them (null when a part has fewer than ``MIN_COHORT`` new patients).
referral_share_trend
    referral_share_recent − referral_share_before, in share points (−0.10 = ten points lower).
a_class_patients, a_class_revenue_share
    ABC classes [S3]: patients sorted by what they paid in the period; A = those who make up the first
    70% of the period's revenue, B the next 20%, C the rest (and everyone who paid nothing). The share
    of revenue A-class patients paid.
high_value_overdue_patients, high_value_overdue_spend
    The churn-warning list [S0]: A-class patients with at least one missed return at the period end;
    their number and what they paid in the period.
child_family_ratio
    Children's clinics only (else null): family members brought by the period's child patients, per
    child patient [S3, about 1:1]. A child patient = first arrival in the period and aged under
    ``CHILD_MAX_AGE`` (16) at the period end (from birth_year). A family member = a patient with an
    arrival up to the period end whose referrer_patient_id is one of those children. A children's
    clinic: children are a third or more of the patients with a birth year, or 儿牙 a third or more of
    the arrived visits.

Under the top-level key ``"loyalty"``: ``cohorts`` (first-arrival month → size, return_12m),
``doctors`` (last doctor → established_patients, overdue_share), ``referral_by_quarter`` (quarter →
new_patients, referral_share), ``rfm_segments`` and ``abc`` (segment or class → patients, revenue).

Flags (each function's docstring states its revenue at stake, in yuan a year)
-----------------------------------------------------------------------------
referral share under ``referral_share_healthy`` (yellow) or ``referral_share_act`` (red), class
experience; churn above ``churn_recoverable``, a doctor's patients overdue more than
``overdue_doctor_ratio`` times the others', the 12-month return falling past ``return_12m_fall``,
child → family under ``child_family_ratio``: class loyalty.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import i18n, sentences
from .clinic import Clinic
from .jsonsafe import scalar as _num
from .kpis import return_within_12m
from .plotting import ACTION_RED, GREY, PALETTE, SEQUENTIAL, month_ticks, note, set_title
from .results import RED, YELLOW, AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window, rate_or_none
from .schema import REFERRAL_CHANNELS
from .tables import RETURN_WINDOW_DAYS, first_arrivals
from .thresholds import DEFAULTS, Threshold

__all__ = ["LoyaltySection", "diagnose", "return_curves", "churn", "overdue_by_doctor", "referral_trend", "rfm",
           "abc_classes", "churn_warning", "child_family", "patient_status", "first_year_revenue",
           "departed_doctors", "child_patients", "is_children_clinic", "period_customers"]

RECALL_MIN_GAP_DAYS = 60  # playbook default: gaps shorter than two months are steps of one treatment
MAX_RETURN_INTERVAL_DAYS = 365  # playbook default: a patient is expected back at least once a year
DEFAULT_RETURN_INTERVAL_DAYS = 182  # playbook default: the usual six-month check-up, when data has no recall
MONTH_DAYS = 365 / 12  # "month k after the first arrival" = days (k−1)·365/12 < d ≤ k·365/12
COHORT_MONTHS = 12
CHURN_WINDOW_MONTHS = 12
RECENT_MONTHS = 6  # the "recent" half-year of the trends
MIN_COHORT = 20  # playbook default: fewer patients than this make a share too noisy to compare
MIN_DOCTOR_PATIENTS = 30  # playbook default: a doctor with fewer established patients is not compared
DEPARTED_DAYS = 56  # fallback for thresholds without doctor_inactive_weeks (8 weeks): the doctor has left
ABC_SHARES = (0.70, 0.90)  # playbook reading of [S3] ABC: A = first 70% of revenue, B next 20%, C rest
RFM_HIGH_SCORE = 3  # an RFM quintile score of 3 or more counts as "high" (the upper three fifths)
CHILD_MAX_AGE = 16
CHILDREN_CLINIC_SHARE = 1 / 3  # children ≥ 1/3 of patients, or 儿牙 ≥ 1/3 of visits: a children's clinic
CHILD_DEPARTMENT = "儿牙"
WARNING_ROWS = 15  # rows of the warning list the report shows (the full list is on the result)

SEGMENTS = {  # RFM segment (R, F, M high?) -> id, 中文, English; the usual Chinese 客户分层 [S0]
    (True, True, True): ("important_value", "重要价值客户", "Champions"),
    (True, False, True): ("important_develop", "重要发展客户", "High spenders to develop"),
    (False, True, True): ("important_keep", "重要保持客户", "Loyal high spenders slipping away"),
    (False, False, True): ("important_win_back", "重要挽留客户", "High spenders to win back"),
    (True, True, False): ("general_value", "一般价值客户", "Regulars"),
    (True, False, False): ("general_develop", "一般发展客户", "New and occasional"),
    (False, True, False): ("general_keep", "一般保持客户", "Former regulars"),
    (False, False, False): ("general_win_back", "一般挽留客户", "Lapsed, low value"),
}
ACTION_SEGMENTS = ("important_keep", "important_win_back")  # high value, not seen lately: act
REFERRAL_NAMES = ("referral_share_recent", "referral_share_before", "referral_share_trend")


def _thresholds(thresholds: dict[str, Threshold] | None) -> dict[str, Threshold]:
    return DEFAULTS if thresholds is None else thresholds


def _ts(day) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def _quarter_label(period: pd.Period, lang: str, *, with_year: bool = True) -> str:
    """2025年第3季度 / Q3 2025; without the year (a chart's later quarters of one year): 第3季度 / Q3."""
    if lang == "zh":
        return f"{period.year}年第{period.quarter}季度" if with_year else f"第{period.quarter}季度"
    return f"Q{period.quarter} {period.year}" if with_year else f"Q{period.quarter}"


def _half_label(period: pd.Period, lang: str) -> str:
    half = 1 if period.quarter <= 2 else 2
    return (f"{period.year}年{'上' if half == 1 else '下'}半年" if lang == "zh" else f"H{half} {period.year}")


def _line(ax, value: float, color: str, label: str) -> None:
    """A dashed reference line with its label just outside the plot, at its right end."""
    ax.axhline(value, color=color, linestyle="--", linewidth=1, zorder=1)
    ax.annotate(label, xy=(1, value), xycoords=("axes fraction", "data"), xytext=(3, 0), textcoords="offset points",
                ha="left", va="center", fontsize=8, color=color, annotation_clip=False)


def _pct(value: float) -> str:
    """A threshold as the owner reads it: 0.03 -> '3%', 0.075 -> '7.5%'."""
    return f"{value * 100:g}%"


def _no_chart(ax, lang: str, zh: str, en: str):
    ax.text(0.5, 0.5, i18n.pick(lang, zh, en), ha="center", va="center", transform=ax.transAxes)
    set_title(ax, i18n.pick(lang, zh, en), lang)
    ax.set_axis_off()
    return ax


# --------------------------------------------------------------------------------------------------
# Shared building blocks: arrival days, usual intervals, each patient's status at a date.

def _arrival_days(visits: pd.DataFrame, end) -> pd.DataFrame:
    """One row per patient and arrival day up to ``end``, sorted, with the day's (last) doctor."""
    arrived = visits[(visits["status"] == "arrived") & (visits["scheduled_at"] < _ts(end) + pd.Timedelta(days=1))]
    days = pd.DataFrame({"patient_id": arrived["patient_id"].to_numpy(),
                         "day": arrived["scheduled_at"].dt.normalize().to_numpy(),
                         "at": arrived["scheduled_at"].to_numpy(),
                         "doctor_id": arrived["doctor_id"].to_numpy() if "doctor_id" in arrived else None})
    days = days.sort_values(["patient_id", "at"], kind="stable")
    days = days.drop_duplicates(["patient_id", "day"], keep="last").drop(columns="at").reset_index(drop=True)
    days["gap"] = days.groupby("patient_id", sort=False)["day"].diff().dt.days
    return days


def _intervals(days: pd.DataFrame) -> tuple[pd.Series, float]:
    """Each patient's usual return interval in days (index patient_id), and the clinic's."""
    recalls = days.loc[days["gap"] >= RECALL_MIN_GAP_DAYS, ["patient_id", "gap"]]
    clinic = float(recalls["gap"].median()) if len(recalls) else float(DEFAULT_RETURN_INTERVAL_DAYS)
    clinic = min(clinic, MAX_RETURN_INTERVAL_DAYS)
    own = recalls.groupby("patient_id")["gap"].median().clip(upper=MAX_RETURN_INTERVAL_DAYS)
    patients = pd.Index(days["patient_id"].unique(), name="patient_id")
    return own.reindex(patients).fillna(clinic).astype(float), clinic


def _no_shows(visits: pd.DataFrame, end) -> pd.DataFrame:
    missed = visits[(visits["status"] == "no_show") & (visits["scheduled_at"] < _ts(end) + pd.Timedelta(days=1))]
    return pd.DataFrame({"patient_id": missed["patient_id"].to_numpy(),
                         "day": missed["scheduled_at"].dt.normalize().to_numpy()})


def patient_status(visits: pd.DataFrame, *, end, missed_line: float = 3) -> pd.DataFrame:
    """Every patient's loyalty status at ``end``: one row per patient with an arrival up to ``end``.

    Columns: first_arrival, last_arrival, arrival_days, interval (usual return interval, days),
    missed (missed returns), established (two or more arrival days), state ("active", "overdue" for
    1..``missed_line`` missed returns, "churned" beyond [S3]) and last_doctor (when visits have doctors).
    """
    days = _arrival_days(visits, end)
    if days.empty:
        empty = pd.DataFrame({"first_arrival": pd.Series(dtype="datetime64[us]"),
                              "last_arrival": pd.Series(dtype="datetime64[us]"), "arrival_days": pd.Series(dtype=int),
                              "last_doctor": pd.Series(dtype=object), "interval": pd.Series(dtype=float),
                              "missed": pd.Series(dtype=int), "established": pd.Series(dtype=bool),
                              "state": pd.Series(dtype=object)})
        return empty.rename_axis("patient_id")
    interval, _ = _intervals(days)
    grouped = days.groupby("patient_id", sort=False)
    status = pd.DataFrame({"first_arrival": grouped["day"].min(), "last_arrival": grouped["day"].max(),
                           "arrival_days": grouped.size()})
    status["last_doctor"] = grouped["doctor_id"].last()
    status["interval"] = interval.reindex(status.index)
    elapsed = (_ts(end) - status["last_arrival"]).dt.days
    by_time = np.floor(elapsed / status["interval"]).astype(int)
    missed = _no_shows(visits, end)
    last = missed["patient_id"].map(status["last_arrival"])
    since = missed.loc[missed["day"] > last, "patient_id"].value_counts()
    status["missed"] = np.maximum(by_time, since.reindex(status.index, fill_value=0)).astype(int)
    status["established"] = status["arrival_days"] >= 2
    status["state"] = np.select([status["missed"] > missed_line, status["missed"] >= 1],
                                ["churned", "overdue"], "active")
    status.index.name = "patient_id"
    return status


def _annual_value(visits: pd.DataFrame, charges: pd.DataFrame, *, end) -> float | None:
    """Average yuan an established patient pays in a year: the 12 months to ``end``, over the
    established patients who came in them."""
    end = _ts(end)
    since = end - pd.Timedelta(days=RETURN_WINDOW_DAYS - 1)
    days = _arrival_days(visits, end)
    counts = days.groupby("patient_id").size()
    recent = days.loc[days["day"] >= since, "patient_id"].unique()
    established = counts.index[counts >= 2].intersection(pd.Index(recent))
    if len(established) == 0:
        return None
    paid = charges[charges["paid_at"].dt.normalize().between(since, end) & charges["patient_id"].isin(established)]
    return float(paid["amount_paid"].sum()) / len(established)


def first_year_revenue(visits: pd.DataFrame, charges: pd.DataFrame, *, end, patients=None) -> float | None:
    """Average yuan a new patient pays in the 365 days from their first arrival (first day included).

    Over the patients (or the given subset) whose first arrival falls in the three years up to
    ``end − 365 days``, so every one has a whole first year in the data. None for fewer than 10.
    """
    end = _ts(end)
    first = first_arrivals(visits)
    last_start = end - pd.Timedelta(days=RETURN_WINDOW_DAYS)
    cohort = first[(first <= last_start) & (first > last_start - pd.Timedelta(days=3 * RETURN_WINDOW_DAYS))]
    if patients is not None:
        cohort = cohort[cohort.index.isin(patients)]
    if len(cohort) < 10:
        return None
    paid = charges[charges["patient_id"].isin(cohort.index)]
    paid = pd.DataFrame({"patient_id": paid["patient_id"], "day": paid["paid_at"].dt.normalize(),
                         "amount": paid["amount_paid"]}).join(cohort, on="patient_id")
    in_year = (paid["day"] >= paid["first_arrival"]) & (
        paid["day"] < paid["first_arrival"] + pd.Timedelta(days=RETURN_WINDOW_DAYS))
    return float(paid.loc[in_year, "amount"].sum()) / len(cohort)


# --------------------------------------------------------------------------------------------------
# 1. Return curves of monthly first-arrival cohorts.

@dataclass
class ReturnCurves(AnalysisResult):
    """Monthly first-arrival cohorts of the period and the share returning in month 1..12 after."""

    return_12m: float | None = None  # the contract's return_within_12m
    recent: float | None = None  # the 12-month return of the latest half-year of complete cohorts …
    before: float | None = None  # … and of the cohorts before it
    change: float | None = None  # (recent − before) / before
    windows: dict = field(default_factory=dict)  # name -> Window: "year", "recent", "before" (first arrivals)
    first_month: dict = field(default_factory=dict)  # the month-1 return: "recent", "before", "change", windows
    level: float = DEFAULTS["return_12m_fall"].value  # the fall that counts (return_12m_fall): smaller is "level"

    def metrics(self) -> dict:
        cohorts = {f"{m:%Y-%m}": {"size": int(row["size"]), "return_12m": _num(row["return_12m"])}
                   for m, row in self.table.iterrows()}
        return {"kpis": {"return_within_12m_recent": _num(self.recent), "return_within_12m_before": _num(self.before),
                         "return_within_12m_change": _num(self.change)},
                "loyalty": {"cohorts": cohorts}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Heatmap: a row per first-arrival month (the last 24), a column per month after it; blank =
        not yet observable."""
        ax = ax if ax is not None else plt.gca()
        shares = self.table[list(range(1, COHORT_MONTHS + 1))].tail(24) * 100
        if shares.empty:
            return _no_chart(ax, lang, "分析期内没有首诊患者", "No first visits in the period")
        shares.index = [i18n.month(m, lang) for m in shares.index]
        shares.columns = [i18n.pick(lang, f"第{k}月", f"M{k}") for k in shares.columns]
        options = dict(cmap=SEQUENTIAL, vmin=0, vmax=max(float(np.nanmax(shares.to_numpy(dtype=float))), 1.0)
                       if shares.notna().any().any() else 1.0,
                       annot=True, fmt=".0f", annot_kws={"fontsize": 7}, cbar=False, linewidths=0.5, linecolor="white")
        sns.heatmap(shares.astype(float), ax=ax, **{**options, **kwargs})
        ax.grid(False)
        ax.set_xlabel(i18n.pick(lang, "首诊后第几个月（格中数字为当月再次到诊的患者占比 %）",
                                "Month after the first visit (cells: % of the cohort coming back that month)"))
        ax.set_ylabel(i18n.pick(lang, "首诊月份", "First-visit month"))
        ax.tick_params(axis="y", labelsize=8, rotation=0)
        ax.tick_params(axis="x", labelsize=8, rotation=0)
        if self.first_month.get("recent") is not None and self.first_month.get("before") is not None:
            # the title's two figures are pooled over rows, which no single cell shows: written under the chart
            ax.text(0, -0.16, self._first_month_note(lang), transform=ax.transAxes, fontsize=8, va="top",
                    color=GREY)
        return set_title(ax, self.title(lang), lang)

    def _first_month_note(self, lang: str) -> str:
        fm = self.first_month
        recent, before = fm["recent_window"], fm["before_window"]
        return i18n.pick(
            lang, f"第1月合计：{_cohorts(before, lang)}{i18n.rate(fm['before'], lang)}，"
                  f"{_cohorts(recent, lang)}{i18n.rate(fm['recent'], lang)}",
            f"Month 1, pooled: {_cohorts(before, lang)} {i18n.rate(fm['before'], lang)}, "
            f"{_cohorts(recent, lang)} {i18n.rate(fm['recent'], lang)}")

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the first month after the first visit, the latest cohorts against the
        earlier ones (the first place a change shows), else the 12-month return of the cohorts."""
        fm = self.first_month
        if fm.get("recent") is not None and fm.get("before") is not None:
            recent, before = fm["recent_window"], fm["before_window"]
            if self._fell(fm["change"]):
                return i18n.pick(lang, f"首月复诊率下降：{_cohorts(recent, lang)}{i18n.rate(fm['recent'], lang)}，"
                                       f"{_cohorts(before, lang)}为{i18n.rate(fm['before'], lang)}",
                                 f"Month-1 return fell: {i18n.rate(fm['recent'], lang)} for "
                                 f"{_cohorts(recent, lang)}, against {i18n.rate(fm['before'], lang)} for "
                                 f"{_cohorts(before, lang)}")
            return i18n.pick(lang, f"首月复诊率持平：{_cohorts(recent, lang)}{i18n.rate(fm['recent'], lang)}，"
                                   f"{_cohorts(before, lang)}为{i18n.rate(fm['before'], lang)}",
                             f"Month-1 return is level: {i18n.rate(fm['recent'], lang)} for {_cohorts(recent, lang)}, "
                             f"{i18n.rate(fm['before'], lang)} for {_cohorts(before, lang)}")
        if self.return_12m is None:
            return i18n.pick(lang, "首诊后各月复诊比例（还没有满12个月的首诊患者）",
                             "Coming back after the first visit (no cohort has had 12 months yet)")
        year = self.windows["year"]
        return i18n.pick(lang, f"{_cohorts(year, lang)}12个月复诊率{i18n.rate(self.return_12m, lang)}",
                         f"12-month return of {_cohorts(year, lang)}: {i18n.rate(self.return_12m, lang)}")

    def _fell(self, change: float | None) -> bool:
        """The stated rule for "level": a relative change smaller than the return_12m_fall line (5%)."""
        return change is not None and change <= self.level

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        table = self.table[["size", "return_12m"]].reset_index()
        return pd.DataFrame({i18n.pick(lang, "首诊月份", "First-visit month"): table["cohort"].map(lambda m: i18n.month(m, lang)),
                             i18n.pick(lang, "首诊人数", "Patients"): table["size"].map(lambda v: i18n.count(v, lang)),
                             i18n.pick(lang, "12个月复诊率", "Returned within 12 months"):
                                 table["return_12m"].map(lambda v: i18n.rate(None if pd.isna(v) else v, lang))})


def _cohorts(window: Window, lang: str) -> str:
    """Patients by the window of their first visit: 2024年首诊的患者 / patients first seen in 2024."""
    return i18n.pick(lang, f"{i18n.window(window.start, window.end, lang)}首诊的患者",
                     f"patients first seen in {i18n.window(window.start, window.end, lang)}")


def _first_month(shares: pd.DataFrame, size: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """The month-1 return of the cohorts of the period's last six months (those whose month 1 has been
    seen) against the cohorts before them: the first place a change in returns shows, half a year or
    more before the 12-month return can. Pooled over the cohorts' patients."""
    seen = shares[1].dropna()
    recent_from = (end + pd.Timedelta(days=1) - pd.DateOffset(months=RECENT_MONTHS)).normalize()
    parts = {"recent": seen[seen.index >= recent_from], "before": seen[seen.index < recent_from]}
    out = {}
    for name, part in parts.items():
        n = size.reindex(part.index)
        if n.sum() < MIN_COHORT or part.empty:
            return {}
        out[name] = float((part * n).sum() / n.sum())
        out[f"{name}_window"] = Window(part.index.min().date(), (part.index.max() + pd.offsets.MonthEnd(0)).date())
    out["change"] = rate_or_none(out["recent"] - out["before"], out["before"])
    return out


def _returned_within(first: pd.Series, days: pd.DataFrame, window_days: int = RETURN_WINDOW_DAYS) -> pd.Index:
    later = days[days["patient_id"].isin(first.index)].join(first.rename("first"), on="patient_id")
    delta = (later["day"] - later["first"]).dt.days
    return pd.Index(later.loc[(delta > 0) & (delta <= window_days), "patient_id"].unique())


def _share_returned(first: pd.Series, days: pd.DataFrame) -> float | None:
    if len(first) < MIN_COHORT:
        return None
    return rate_or_none(len(_returned_within(first, days)), len(first))


def return_curves(visits: pd.DataFrame, *, start, end, charges: pd.DataFrame | None = None,
                  thresholds: dict[str, Threshold] | None = None) -> ReturnCurves:
    """Return curves of the period's monthly first-arrival cohorts, and the 12-month return trend.

    A patient "comes back in month k" when they have an arrival day d days after their first arrival
    with (k−1)·365/12 < d ≤ k·365/12, so months 1..12 together are exactly the contract's
    return_within_12m window (1..365 days). A cell is left blank until every patient of the cohort has
    been observable for the whole month (cohort month end + k·365/12 ≤ ``end``).

    The trend compares the contract's rule on the last six months of first arrivals whose year is
    complete (``end − 365 days`` and the six months before) against the earlier ones of the period;
    a relative fall past ``return_12m_fall`` is a loyalty flag. Revenue at stake (a year): the lost
    share × new patients a year × what a returning patient pays in their first year after the first day.
    """
    t = _thresholds(thresholds)
    start, end = _ts(start), _ts(end)
    first = first_arrivals(visits)
    days = _arrival_days(visits, end)
    cohort = first[first.between(start, end)]
    return_12m = return_within_12m(visits, start=start.date(), end=end.date()) if len(cohort) else None

    rows = days[days["patient_id"].isin(cohort.index)].join(cohort.rename("first"), on="patient_id")
    delta = (rows["day"] - rows["first"]).dt.days
    rows = rows.assign(k=np.ceil(delta / MONTH_DAYS), cohort=rows["first"].dt.to_period("M").dt.to_timestamp())
    rows = rows[(delta > 0) & (delta <= RETURN_WINDOW_DAYS)]
    months = pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")
    size = cohort.groupby(cohort.dt.to_period("M").dt.to_timestamp()).size().reindex(months, fill_value=0)
    came = rows.groupby(["cohort", "k"])["patient_id"].nunique().unstack("k")
    came = came.reindex(index=months, columns=range(1, COHORT_MONTHS + 1)).fillna(0)
    shares = came.div(size.replace(0, np.nan), axis=0)
    month_end = months + pd.offsets.MonthEnd(0)
    offsets = np.array([math.ceil(k * MONTH_DAYS) for k in range(1, COHORT_MONTHS + 1)], dtype="timedelta64[D]")
    seen = (month_end.to_numpy()[:, None] + offsets[None, :]) <= end.to_datetime64()
    shares = shares.where(seen)
    returned = rows.groupby("cohort")["patient_id"].nunique().reindex(months, fill_value=0)
    complete = month_end + pd.Timedelta(days=RETURN_WINDOW_DAYS) <= end
    table = shares.copy()
    table.insert(0, "size", size)
    table["return_12m"] = (returned / size.replace(0, np.nan)).where(complete)
    table = table[table["size"] > 0]
    table.index.name = "cohort"

    last_start = end - pd.Timedelta(days=RETURN_WINDOW_DAYS)
    split = last_start - pd.DateOffset(months=RECENT_MONTHS)
    recent = _share_returned(cohort[(cohort > split) & (cohort <= last_start)], days)
    before = _share_returned(cohort[cohort <= split], days)
    change = rate_or_none(recent - before, before) if recent is not None and before is not None else None

    flags = []
    line = t["return_12m_fall"]
    windows = {"year": Window(start.date(), last_start.date()),
               "recent": Window((split + pd.Timedelta(days=1)).date(), last_start.date()),
               "before": Window(start.date(), split.date())}
    if line.breached(change):
        per_year = len(cohort[cohort <= last_start]) / max((last_start - start).days + 1, 1) * 365
        value = _returner_value(cohort[cohort <= last_start], charges) if charges is not None else None
        at_stake = (before - recent) * per_year * value if value else 0.0
        flags.append(Finding.past(
            line, change, kind="return_within_12m_change", problem_class="loyalty", reference=before,
            window=windows["recent"], reference_window=windows["before"],
            stake=Stake(round(float(at_stake), 2), "returning_patients"), facts={"recent": recent}))
    result = ReturnCurves("return_curves", table, "", "", flags, return_12m=return_12m, recent=recent,
                          before=before, change=change, windows=windows,
                          first_month=_first_month(shares, size, start, end), level=line.value)
    result.zh, result.en = _returns_sentences(result)
    return result


def _returner_value(cohort: pd.Series, charges: pd.DataFrame) -> float | None:
    """Average yuan a returning patient pays after the first day and within the first year."""
    paid = charges[charges["patient_id"].isin(cohort.index)]
    paid = pd.DataFrame({"patient_id": paid["patient_id"], "day": paid["paid_at"].dt.normalize(),
                         "amount": paid["amount_paid"]}).join(cohort.rename("first"), on="patient_id")
    delta = (paid["day"] - paid["first"]).dt.days
    later = paid[(delta > 0) & (delta <= RETURN_WINDOW_DAYS)]
    returners = later["patient_id"].nunique()
    return float(later["amount"].sum()) / returners if returners else None


def _returns_sentences(r: ReturnCurves) -> tuple[str, str]:
    """The chapter's first sentence: which measure says what. The 12-month return of the cohorts that
    have had their year (level or not, by the stated rule), then the month-1 return of the latest
    cohorts, where a change shows first; then what to do."""
    table = r.table
    if table.empty:
        return ("分析期内没有首诊患者，无法观察复诊。", "No patient had a first visit in the period: returns cannot be followed.")
    pct = f"{-r.level * 100:g}%"
    fm = r.first_month
    if r.flags:  # the fall and what to do, then the first month as it stands
        zh, en = (sentences.render(r.flags[0], lang, "full") for lang in ("zh", "en"))
        if not fm:
            return zh, en
        recent, before = fm["recent_window"], fm["before_window"]
        trend_zh, trend_en = ("也在下降", "fell too") if r._fell(fm["change"]) else ("变化不到" + pct, f"moved less than {pct}")
        return (zh + f"首诊后第1个月的复诊{trend_zh}：{_cohorts(recent, 'zh')}首月复诊率{i18n.rate(fm['recent'])}，"
                     f"{_cohorts(before, 'zh')}为{i18n.rate(fm['before'])}。",
                en + f" The month-1 return {trend_en}: {i18n.rate(fm['recent'], 'en')} for {_cohorts(recent, 'en')}, "
                     f"{i18n.rate(fm['before'], 'en')} for {_cohorts(before, 'en')}.")
    if r.return_12m is None:
        zh, en = ("还没有首诊满12个月的患者，12个月复诊率尚无法计算",
                  "No patient has had 12 months since the first visit yet, so the 12-month return cannot be computed")
        if not fm:
            month1 = table[1].dropna()
            m1 = ((table.loc[month1.index, "size"] * month1).sum() / table.loc[month1.index, "size"].sum()
                  if len(month1) else None)
            return (zh + f"；首诊后第1个月再次到诊的占{i18n.rate(m1)}，请确保每位首诊患者离院前预约下次复诊。",
                    en + f"; {i18n.rate(m1, 'en')} came back in the first month: make sure every first-visit patient "
                         f"books the next visit before leaving.")
    else:
        year = r.windows["year"]
        zh = f"{_cohorts(year, 'zh')}12个月复诊率{i18n.rate(r.return_12m)}"
        en = f"The 12-month return of {_cohorts(year, 'en')} was {i18n.rate(r.return_12m, 'en')}"
        if r.change is not None:
            recent, before = r.windows["recent"], r.windows["before"]
            zh += (f"（{_cohorts(before, 'zh')}{i18n.rate(r.before)}，{_cohorts(recent, 'zh')}{i18n.rate(r.recent)}，"
                   f"变化不到{pct}，视为持平）")
            en += (f" ({i18n.rate(r.before, 'en')} for {_cohorts(before, 'en')}, {i18n.rate(r.recent, 'en')} for "
                   f"{_cohorts(recent, 'en')}: a change under {pct}, taken as level)")
        if not fm:
            return (zh + "；保持首诊当场预约复诊、按期回访的做法。",
                    en + "; keep booking the next visit at the first one and calling on time.")
    recent, before = fm["recent_window"], fm["before_window"]
    if r._fell(fm["change"]):
        return (zh + f"。首诊后第1个月就回来的患者在减少：{_cohorts(recent, 'zh')}首月复诊率{i18n.rate(fm['recent'])}，"
                     f"比{_cohorts(before, 'zh')}的{i18n.rate(fm['before'])}低{i18n.rate(-fm['change'])}，超过{pct}；"
                     f"这些患者还没满12个月，12个月复诊率还看不出来：检查首诊后是否当场预约下次复诊，并由客服在首诊后两周内回访。",
                en + f". Fewer patients come back in the first month: the month-1 return of {_cohorts(recent, 'en')} "
                     f"was {i18n.rate(fm['recent'], 'en')}, {i18n.rate(-fm['change'], 'en')} below the "
                     f"{i18n.rate(fm['before'], 'en')} of {_cohorts(before, 'en')}, past {pct}; they have not had their "
                     f"12 months yet, so the 12-month return cannot show it: check that every first visit books the "
                     f"next one and that the front desk calls within two weeks.")
    return (zh + f"；首诊后第1个月的复诊持平（{_cohorts(recent, 'zh')}{i18n.rate(fm['recent'])}，{_cohorts(before, 'zh')}"
                 f"{i18n.rate(fm['before'])}，变化不到{pct}）：保持首诊当场预约复诊、按期回访的做法。",
            en + f"; the month-1 return is level ({i18n.rate(fm['recent'], 'en')} for {_cohorts(recent, 'en')}, "
                 f"{i18n.rate(fm['before'], 'en')} for {_cohorts(before, 'en')}, a change under {pct}): keep booking the "
                 f"next visit at the first one and calling on time.")


# --------------------------------------------------------------------------------------------------
# 2. Churn [S3].

@dataclass
class Churn(AnalysisResult):
    """Monthly churn of established patients by the data side of [S3]'s rule, and the recall list."""

    rate: float | None = None
    churned: int = 0
    overdue: int = 0
    overdue_share: float | None = None
    interval: float | None = None
    ideal: float = field(kw_only=True)  # the threshold in force
    recoverable: float = field(kw_only=True)  # the threshold in force

    def metrics(self) -> dict:
        return {"kpis": {"churn_rate": _num(self.rate), "churned_patients_12m": int(self.churned),
                         "overdue_patients": int(self.overdue), "overdue_share": _num(self.overdue_share),
                         "usual_return_interval_days": _num(self.interval)}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Monthly churn against the ideal and recoverable lines [S3]; red bars past the recoverable line."""
        ax = ax if ax is not None else plt.gca()
        if self.table.empty:
            return _no_chart(ax, lang, "历史数据不足，无法计算流失率", "Too little history to measure churn")
        rates = self.table["rate"].fillna(0) * 100
        colors = [ACTION_RED if r > self.recoverable * 100 else PALETTE[1] for r in rates]
        ax.bar(range(len(rates)), rates, color=colors, **kwargs)
        month_ticks(ax, self.table.index, lang)
        for value, color, zh, en in ((self.ideal, PALETTE[2], "理想线", "ideal"),
                                     (self.recoverable, GREY, "可约回线", "recoverable line")):
            _line(ax, value * 100, color, f"{i18n.pick(lang, zh, en)} {_pct(value)}")
        ax.set_ylim(0, max(self.recoverable * 100 * 1.25, float(rates.max()) * 1.15))
        ax.set_ylabel(i18n.pick(lang, "当月流失的老患者 %", "% of established patients lost that month"))
        if self.overdue:
            note(ax, i18n.pick(lang, f"逾期待约回：{i18n.count(self.overdue, lang)}人（老患者的{i18n.rate(self.overdue_share, lang)}）",
                               f"overdue now: {i18n.count(self.overdue, lang)} ({i18n.rate(self.overdue_share, lang)} of "
                               f"established patients)"), corner="upper left")
        ax.grid(axis="x", visible=False)
        return set_title(ax, self.title(lang), lang)

    @property
    def window(self) -> Window | None:
        """The months the churn rate pools (the last 12 of the period with history enough to judge)."""
        if self.table.empty:
            return None
        return Window(self.table.index[0].date(), (self.table.index[-1] + pd.offsets.MonthEnd(0)).date())

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: monthly churn against the method's lines [S3], and the recall list beside
        it (churn counts a patient only after more than three missed returns: it shows late)."""
        if self.rate is None:
            return i18n.pick(lang, "每月流失率（历史数据不足）", "Churn by month (too little history)")
        rate = i18n.rate(self.rate, lang)
        if self.rate > self.recoverable:
            where = i18n.pick(lang, f"超过{_pct(self.recoverable)}可约回线（红色）", f"above the {_pct(self.recoverable)} recoverable line (red)")
        elif self.rate > self.ideal:
            where = i18n.pick(lang, f"高于{_pct(self.ideal)}理想线", f"above the {_pct(self.ideal)} ideal")
        else:
            where = i18n.pick(lang, f"在{_pct(self.ideal)}理想线以内", f"within the {_pct(self.ideal)} ideal")
        red_months = int((self.table["rate"] > self.recoverable).sum())
        if red_months and self.rate <= self.recoverable:
            where += i18n.pick(lang, f"，{red_months}个月超过{_pct(self.recoverable)}（红色）",
                               f", {i18n.counted(red_months, 'month')} above {_pct(self.recoverable)} (red)")
        when = i18n.window(self.window.start, self.window.end, lang)
        overdue = i18n.count(self.overdue, lang)
        if not self.overdue:
            return i18n.pick(lang, f"{when}每月流失率{rate}，{where}", f"Monthly churn in {when}: {rate}, {where}")
        return i18n.pick(lang, f"{when}每月流失率{rate}，{where}；但已有{overdue}人（老患者的"
                               f"{i18n.rate(self.overdue_share, lang)}）逾期待约回",
                         f"Monthly churn in {when}: {rate}, {where}; but {overdue} established patients "
                         f"({i18n.rate(self.overdue_share, lang)}) are overdue")


def _episodes(visits: pd.DataFrame, *, end, missed_line: float) -> pd.DataFrame:
    """Each stay-away between two arrival days, with the day it crosses the churn line (NaT if never)."""
    days = _arrival_days(visits, end)
    interval, clinic = _intervals(days)
    ep = days[["patient_id", "day"]].copy()
    ep["number"] = ep.groupby("patient_id", sort=False).cumcount()
    ep["next"] = ep.groupby("patient_id", sort=False)["day"].shift(-1)
    ep["interval"] = interval.reindex(ep["patient_id"]).to_numpy()
    cross = ep["day"] + pd.to_timedelta(np.floor(missed_line + 1) * ep["interval"], unit="D")
    # The other half of "missed returns": the (line+1)-th no-show since the arrival day.
    ns = _no_shows(visits, end).sort_values("day", kind="stable")
    if len(ns) and len(ep):
        anchor = ep[["patient_id", "day", "number"]].rename(columns={"day": "since"}).sort_values("since")
        ns = pd.merge_asof(ns, anchor, left_on="day", right_on="since", by="patient_id", allow_exact_matches=False)
        ns = ns.dropna(subset=["since"])  # no-shows before the first arrival are no missed returns
        ns["k"] = ns.groupby(["patient_id", "number"]).cumcount()
        nth = ns.loc[ns["k"] == int(math.floor(missed_line)), ["patient_id", "number", "day"]]
        by_ns = ep[["patient_id", "number"]].merge(nth.astype({"number": "int64"}), on=["patient_id", "number"],
                                                     how="left")["day"].set_axis(ep.index)
        cross = cross.where(by_ns.isna() | (cross <= by_ns), by_ns)
    ep["cross"] = cross.where(ep["next"].isna() | (cross < ep["next"]))
    return ep, clinic


def churn(visits: pd.DataFrame, charges: pd.DataFrame | None = None, *, start, end,
          thresholds: dict[str, Threshold] | None = None, status: pd.DataFrame | None = None) -> Churn:
    """Monthly churn over the last 12 months of the period, against [S3]'s lines, and who is overdue.

    Only months with at least (3 + 1) usual return intervals of history before them count: with
    less, nobody could have passed the line yet. Month by month, of the established patients not churned at the month's start, the share whose
    missed returns pass ``churn_missed_returns`` (3) during the month; pooled over the months. Rated
    against ``churn_ideal`` (3%) and ``churn_recoverable`` (8%) [S3]; above the recoverable line is a
    loyalty flag. Revenue at stake (a year): the patients lost above the line (rate − line × 12 months
    × the active base) × what an established patient pays in a year. ``status``: `patient_status` at
    ``end``, when already computed.
    """
    t = _thresholds(thresholds)
    start, end = _ts(start), _ts(end)
    line_missed = t["churn_missed_returns"].value
    ep, clinic_interval = _episodes(visits, end=end, missed_line=line_missed)
    established = ep[ep["number"] >= 1]
    first_month = max(start.to_period("M"), end.to_period("M") - (CHURN_WINDOW_MONTHS - 1))
    # Nobody can pass the line before (line + 1) usual intervals of history: a shorter history would
    # read as "no churn". Such months are left out; with none left the rate is unknown.
    needed = pd.Timedelta(days=math.floor(line_missed + 1) * clinic_interval)
    history_from = ep["day"].min() if len(ep) else end
    judged_from = max(first_month.start_time, (history_from + needed).to_period("M").start_time)
    months = pd.period_range(judged_from.to_period("M"), end.to_period("M"), freq="M") if judged_from <= end else []
    rows = []
    for month in months:
        m0 = max(month.start_time.normalize(), start)
        m1 = min(month.end_time.normalize(), end)
        active = (established["day"] < m0) & (established["next"].isna() | (established["next"] >= m0)) & (
            established["cross"].isna() | (established["cross"] >= m0))
        lost = active & (established["cross"] <= m1)
        rows.append({"month": month.start_time, "active": int(active.sum()), "churned": int(lost.sum())})
    table = pd.DataFrame(rows, columns=["month", "active", "churned"]).set_index("month")
    table = table[table["active"] > 0]
    table["rate"] = table["churned"] / table["active"]
    rate = rate_or_none(table["churned"].sum(), table["active"].sum())
    churned = int(table["churned"].sum())

    status = status if status is not None else patient_status(visits, end=end, missed_line=line_missed)
    est = status[status["established"] & (status["state"] != "churned")]
    overdue = int((est["state"] == "overdue").sum())
    overdue_share = rate_or_none(overdue, len(est))

    ideal, recoverable = t["churn_ideal"], t["churn_recoverable"]
    flags = []
    if recoverable.breached(rate):
        value = _annual_value(visits, charges, end=end) if charges is not None else None
        base = float(table["active"].mean())
        at_stake = (rate - recoverable.value) * 12 * base * value if value else 0.0
        flags.append(Finding.past(
            recoverable, rate, kind="churn_rate", problem_class="loyalty",
            window=Window(max(table.index[0], start).date(), end.date()),
            stake=Stake(round(float(at_stake), 2), "churn_excess"), facts={"months": len(table)}))
    result = Churn("churn", table, "", "", flags, rate=rate, churned=churned, overdue=overdue,
                   overdue_share=overdue_share, interval=clinic_interval, ideal=ideal.value,
                   recoverable=recoverable.value)
    result.zh, result.en = _churn_sentences(result, ideal, recoverable, line_missed, end)
    return result


def _churn_sentences(c: Churn, ideal: Threshold, recoverable: Threshold, missed: float, end) -> tuple[str, str]:
    """Churn and the recall list side by side, each saying what it measures: churn [S3] counts a patient
    only after more than three missed returns, so it shows a loss late; the overdue patients (past their
    usual interval at the period's end) are the ones to call now."""
    if c.rate is None:
        return ("还无法判断流失：到诊记录的历史太短（需要约四个复诊周期），或期内没有老患者；积累更长的记录后再看。",
                "Churn cannot be judged yet: the visit history is too short (about four return intervals are "
                "needed) or there are no established patients; look again with a longer history.")
    when_zh, when_en = i18n.window(c.window.start, c.window.end, "zh"), i18n.window(c.window.start, c.window.end, "en")
    if c.flags:
        zh, en = (sentences.render(c.flags[0], lang, "full", end=False) for lang in ("zh", "en"))
    else:
        if ideal.breached(c.rate):
            where_zh = f"高于{_pct(ideal.value)}的理想线、仍在{_pct(recoverable.value)}的可约回线以内"
            where_en = f"above the {_pct(ideal.value)} ideal but within the {_pct(recoverable.value)} recoverable line"
        else:
            where_zh, where_en = f"在{_pct(ideal.value)}的理想线以内", f"within the {_pct(ideal.value)} ideal"
        zh = f"{when_zh}每月流失率{i18n.rate(c.rate)}（超过{missed:g}次未按期复诊才算流失），{where_zh}"
        en = (f"Monthly churn in {when_en} was {i18n.rate(c.rate, 'en')} (lost = more than {missed:g} missed returns), "
              f"{where_en}")
    day_zh, day_en = i18n.day(pd.Timestamp(end).date(), "zh"), i18n.day(pd.Timestamp(end).date(), "en")
    if not c.overdue:
        return (zh + f"；截至{day_zh}没有逾期未复诊的老患者，保持按期提醒。",
                en + f"; on {day_en} no established patient is overdue: keep the reminders going.")
    people_zh, share = f"{i18n.count(c.overdue, 'zh')}人", c.overdue_share
    return (zh + f"。但流失要等患者错过{missed:g}次以上复诊才算，反映得晚：截至{day_zh}，已有{people_zh}"
                 f"（老患者的{i18n.rate(share)}）超过自己平时的复诊间隔未再来，这些人还能约回：请客服按名单回访。",
            en + f". Churn counts a patient only after more than {missed:g} missed returns, so it shows late: on "
                 f"{day_en}, {i18n.count(c.overdue, 'en')} established patients ({i18n.rate(share, 'en')}) were past "
                 f"their usual return interval and can still be won back: have the front desk call them.")


# --------------------------------------------------------------------------------------------------
# 3. Overdue patients by their last doctor.

@dataclass
class DoctorRetention(AnalysisResult):
    """Established patients not yet churned, by the doctor of their last visit: how many are overdue."""

    clinic_share: float | None = None
    departed: list[str] = field(default_factory=list)

    def metrics(self) -> dict:
        doctors = {str(d): {"established_patients": int(r["patients"]), "overdue_share": _num(r["overdue_share"])}
                   for d, r in self.table.iterrows()}
        return {"loyalty": {"doctors": doctors}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Share overdue per doctor; red where the doctor's patients are overdue far more than the rest."""
        ax = ax if ax is not None else plt.gca()
        table = self.table.sort_values("overdue_share")
        if table.empty:
            return _no_chart(ax, lang, "没有老患者", "No established patients")
        flagged = {f.subject for f in self.flags}
        labels = [f"{d}{i18n.pick(lang, '（已离开）', ' (left)') if d in self.departed else ''}" for d in table.index]
        colors = [ACTION_RED if d in flagged else PALETTE[1] for d in table.index]
        ax.barh(labels, table["overdue_share"] * 100, color=colors, **kwargs)
        for y, (share, n) in enumerate(zip(table["overdue_share"], table["patients"])):
            ax.text(share * 100 + 1, y, f"{i18n.rate(share, lang)}（{i18n.count(n, lang)}人）" if lang == "zh"
                    else f"{i18n.rate(share, lang)} (of {int(n)})", va="center", fontsize=8, zorder=3,
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
        if self.clinic_share is not None:
            ax.axvline(self.clinic_share * 100, color=GREY, linestyle="--", linewidth=1, zorder=1)
        ax.set_xlim(0, max(100, float(table["overdue_share"].max()) * 115))
        ax.set_xlabel(i18n.pick(lang, "老患者中已逾期未复诊的比例 %（虚线：全院）",
                                "% of established patients overdue (dashed: whole clinic)"))
        ax.grid(axis="y", visible=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the doctor whose patients are overdue far more than the clinic's."""
        clinic = i18n.rate(self.clinic_share, lang)
        flagged = [f.subject for f in self.flags if f.subject in self.table.index]
        if flagged:
            doctor = flagged[0]
            share = i18n.rate(float(self.table.loc[doctor, "overdue_share"]), lang)
            left = i18n.pick(lang, "（已离开）", " (left)") if doctor in self.departed else ""
            return i18n.pick(lang, f"{doctor}{left}的老患者{share}逾期未复诊，全院为{clinic}（红色）",
                             f"{doctor}{left}: {share} of established patients overdue, against {clinic} "
                             f"clinic-wide (red)")
        return i18n.pick(lang, f"各医生老患者的逾期比例都接近全院的{clinic}",
                         f"Every doctor's patients are overdue about as often as the clinic's {clinic}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table.sort_values("overdue_share", ascending=False).reset_index()
        return pd.DataFrame({
            i18n.pick(lang, "最后接诊医生", "Last doctor"): t["doctor"].map(
                lambda d: f"{d}{i18n.pick(lang, '（已离开）', ' (left)')}" if d in self.departed else d),
            i18n.pick(lang, "老患者", "Established patients"): t["patients"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "逾期未复诊", "Overdue"): t["overdue"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "逾期比例", "Share overdue"): t["overdue_share"].map(lambda v: i18n.rate(v, lang))})


def _inactive_days(t: dict[str, Threshold]) -> int:
    inactive = t.get("doctor_inactive_weeks")
    return int(inactive.value * 7) if inactive is not None else DEPARTED_DAYS


def departed_doctors(visits: pd.DataFrame, *, end, days: int = DEPARTED_DAYS) -> list[str]:
    """Doctors with at least 30 arrivals up to ``end`` but none in its last ``days`` days (the
    ``doctor_inactive_weeks`` threshold, 8 weeks), while the clinic had arrivals then: they have left
    (or are away), and their patients need another doctor."""
    arrived = visits[(visits["status"] == "arrived") & visits["doctor_id"].notna()
                     & (visits["scheduled_at"] < _ts(end) + pd.Timedelta(days=1))]
    recent = arrived["scheduled_at"] >= _ts(end) - pd.Timedelta(days=days - 1)
    if not recent.any():
        return []
    counts = arrived.groupby("doctor_id").size()
    active = set(arrived.loc[recent, "doctor_id"])
    return sorted(d for d, n in counts.items() if n >= MIN_DOCTOR_PATIENTS and d not in active)


def overdue_by_doctor(visits: pd.DataFrame, charges: pd.DataFrame | None = None, *, end,
                      thresholds: dict[str, Threshold] | None = None,
                      status: pd.DataFrame | None = None) -> DoctorRetention:
    """The established, not-churned patients of each last doctor, and the share overdue at ``end``.

    A doctor with at least 30 such patients whose share overdue is more than ``overdue_doctor_ratio``
    (1.5) times the rest of the clinic's is a loyalty flag: the patients are leaving with or because of
    the doctor (a departed doctor's patients who did not move to a colleague show here). Revenue at
    stake (a year): the overdue patients above the rest's share × what an established patient pays in
    a year. ``status``: `patient_status` at ``end``, when already computed.
    """
    t = _thresholds(thresholds)
    end = _ts(end)
    if status is None:
        status = patient_status(visits, end=end, missed_line=t["churn_missed_returns"].value)
    est = status[status["established"] & (status["state"] != "churned") & status["last_doctor"].notna()]
    table = est.assign(is_overdue=est["state"] == "overdue").groupby("last_doctor").agg(
        patients=("is_overdue", "size"), overdue=("is_overdue", "sum"))
    table = table.astype({"patients": "int64", "overdue": "int64"})
    table.index.name = "doctor"
    table["overdue_share"] = table["overdue"] / table["patients"]
    table = table.sort_values("patients", ascending=False)
    total, total_overdue = int(table["patients"].sum()), int(table["overdue"].sum())
    clinic_share = rate_or_none(total_overdue, total)
    departed = departed_doctors(visits, end=end, days=_inactive_days(t))
    line = t["overdue_doctor_ratio"]
    flags, value = [], None
    for doctor, row in table.iterrows():
        rest = rate_or_none(total_overdue - row["overdue"], total - row["patients"])
        ratio = rate_or_none(row["overdue_share"], rest) if rest else None
        table.loc[doctor, "ratio"] = ratio if ratio is not None else np.nan
        if row["patients"] < MIN_DOCTOR_PATIENTS or not line.breached(ratio):
            continue
        if value is None and charges is not None:
            value = _annual_value(visits, charges, end=end) or 0.0
        excess = row["overdue"] - rest * row["patients"]
        flags.append(Finding.past(
            line, ratio, kind="overdue_share_by_doctor", problem_class="loyalty", segment=Segment("doctor", str(doctor)),
            reference=rest, window=Window(end.date(), end.date()),
            stake=Stake(round(float(excess * (value or 0.0)), 2), "overdue_excess"),
            facts={"patients": int(row["patients"]), "share": float(row["overdue_share"]),
                   "departed": doctor in departed}))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    if table.empty:
        zh, en = "没有可比较的老患者。", "No established patients to compare."
    elif flags:
        zh, en = flags[0].sentence("zh"), flags[0].sentence("en")
    elif len(table) == 1:
        only = table.index[0]
        zh = f"老患者都由{only}接诊，其中{i18n.rate(clinic_share)}已逾期未复诊；没有其他医生可比较。"
        en = (f"All established patients were last seen by {only}; {i18n.rate(clinic_share, 'en')} are overdue. "
              f"No other doctor to compare.")
    else:
        worst = table["overdue_share"].idxmax()
        zh = (f"各医生老患者的逾期比例相近（全院{i18n.rate(clinic_share)}，最高为{worst}的"
              f"{i18n.rate(table.loc[worst, 'overdue_share'])}）：没有哪位医生的患者明显在流走。")
        en = (f"Doctors' patients are overdue at similar rates (clinic {i18n.rate(clinic_share, 'en')}, highest "
              f"{worst} at {i18n.rate(table.loc[worst, 'overdue_share'], 'en')}): no doctor's patients stand out.")
    return DoctorRetention("overdue_by_doctor", table, zh, en, flags, clinic_share=clinic_share, departed=departed)


# --------------------------------------------------------------------------------------------------
# 4. Referral share and its trend [S3][S2].

@dataclass
class ReferralTrend(AnalysisResult):
    """Referral share of new patients by quarter of first arrival, against the 40% and 30% lines."""

    share: float | None = None
    recent: float | None = None
    before: float | None = None
    trend: float | None = None
    healthy: float = field(kw_only=True)  # the threshold in force
    act: float = field(kw_only=True)  # the threshold in force
    window: Window | None = None  # the period (first arrivals)
    recent_window: Window | None = None  # its last six months

    def metrics(self) -> dict:
        quarters = {str(q): {"new_patients": int(r["new_patients"]), "referral_share": _num(r["share"])}
                    for q, r in self.table.iterrows()}
        return {"kpis": {"referral_share_recent": _num(self.recent), "referral_share_before": _num(self.before),
                         "referral_share_trend": _num(self.trend)},
                "loyalty": {"referral_by_quarter": quarters}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Bars by quarter; red below the action line (30%), muted below the healthy line (40%), blue above."""
        ax = ax if ax is not None else plt.gca()
        if self.table.empty:
            return _no_chart(ax, lang, "分析期内没有新患者", "No new patients in the period")
        shares = self.table["share"].fillna(0) * 100
        years = [q.year for q in self.table.index]
        # the year once, under its first quarter: 第1季度 / 2024年, 第2季度 … (Q1 / 2024, Q2 …)
        labels = [_quarter_label(q, lang, with_year=False) + (f"\n{i18n.pick(lang, f'{q.year}年', str(q.year))}"
                                                               if i == 0 or years[i - 1] != q.year else "")
                  for i, q in enumerate(self.table.index)]
        colors = [ACTION_RED if s < self.act * 100 else PALETTE[3] if s < self.healthy * 100 else PALETTE[1]
                  for s in shares]
        ax.bar(range(len(shares)), shares, color=colors, **kwargs)
        ax.set_xticks(range(len(shares)), labels)
        for x, s in enumerate(shares):
            ax.text(x, s, i18n.rate(s / 100, lang), ha="center", va="bottom", fontsize=8)
        for value, color, zh, en in ((self.healthy, PALETTE[2], "健康线", "healthy line"),
                                     (self.act, GREY, "行动线", "action line")):
            _line(ax, value * 100, color, f"{i18n.pick(lang, zh, en)} {_pct(value)}")
        if self.recent is not None and self.recent_window is not None:  # the title's half-year, over its quarters
            inside = [x for x, q in enumerate(self.table.index) if q.start_time.date() >= self.recent_window.start]
            if inside:
                ax.plot([inside[0] - 0.4, inside[-1] + 0.4], [self.recent * 100] * 2, color=PALETTE[0], lw=1.6,
                        linestyle="--")
                when = i18n.window(self.recent_window.start, self.recent_window.end, lang)
                note(ax, i18n.pick(lang, f"虚线：{when}合计{i18n.rate(self.recent, lang)}",
                                   f"dashed: {when} together, {i18n.rate(self.recent, lang)}"))
        ax.set_ylim(0, max(60.0, float(shares.max()) * 1.2))
        ax.set_ylabel(i18n.pick(lang, "新患者中转介绍占比 %", "% of new patients referred"))
        ax.grid(axis="x", visible=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the recent referral share against the 40% and 30% lines [S3][S2]."""
        value = self.recent if self.recent is not None else self.share
        window = self.recent_window if self.recent is not None else self.window
        when = i18n.window(window.start, window.end, lang) if window is not None else ""
        if value is None:
            return i18n.pick(lang, "每季度转介绍占比", "Referral share by quarter")
        rate = i18n.rate(value, lang)
        if value < self.act:
            where = i18n.pick(lang, f"低于{_pct(self.act)}行动线（红色）", f"under the {_pct(self.act)} action line (red)")
        elif value < self.healthy:
            where = i18n.pick(lang, f"低于{_pct(self.healthy)}健康线", f"under the {_pct(self.healthy)} healthy line")
        else:
            where = i18n.pick(lang, f"达到{_pct(self.healthy)}健康线", f"at or above the {_pct(self.healthy)} healthy line")
        if value >= self.act and (self.table["share"].fillna(0) < self.act).any():
            where += i18n.pick(lang, f"；红色季度低于{_pct(self.act)}", f"; red quarters under {_pct(self.act)}")
        return i18n.pick(lang, f"{when}转介绍占比{rate}，{where}", f"Referral share in {when}: {rate}, {where}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table.reset_index()
        return pd.DataFrame({
            i18n.pick(lang, "季度", "Quarter"): t["quarter"].map(lambda q: _quarter_label(q, lang)),
            i18n.pick(lang, "新患者", "New patients"): t["new_patients"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "其中转介绍", "Referred"): t["referred"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "转介绍占比", "Referral share"): t["share"].map(lambda v: i18n.rate(v, lang))})


def referral_trend(patients: pd.DataFrame, visits: pd.DataFrame, *, start, end,
                   referral_channels=REFERRAL_CHANNELS, thresholds: dict[str, Threshold] | None = None,
                   first_year_value: float | None = None) -> ReferralTrend | Unavailable:
    """The contract's referral_share by quarter of first arrival, over the period and its last half-year.

    Below ``referral_share_healthy`` (40%) [S3] is a service/experience flag, red when also below
    ``referral_share_act`` (30% of first visits: act) [S2], yellow otherwise. When the period as a whole
    is above the line but its last six months are not, the flag is on the recent share. No flag on
    fewer than 20 new patients; none at all when no patient has a referral channel (the clinic's
    system probably does not record it: `Unavailable`). Revenue at
    stake (a year): the referral patients missing to reach 40% with the other channels unchanged,
    (0.4·(N − R)/0.6 − R) a year, × what a new patient pays in their first year (``first_year_value``).
    """
    t = _thresholds(thresholds)
    start, end = _ts(start), _ts(end)
    first = first_arrivals(visits)
    new = first[first.between(start, end)].to_frame()
    channel = patients.drop_duplicates("patient_id").set_index("patient_id")["source_channel"]
    new["referred"] = channel.reindex(new.index).isin(list(referral_channels)).to_numpy()
    new["quarter"] = new["first_arrival"].dt.to_period("Q")
    table = new.groupby("quarter").agg(new_patients=("referred", "size"), referred=("referred", "sum"))
    table["share"] = table["referred"] / table["new_patients"]
    share = rate_or_none(new["referred"].sum(), len(new))
    split = end - pd.DateOffset(months=RECENT_MONTHS)
    recent_part, before_part = new[new["first_arrival"] > split], new[new["first_arrival"] <= split]
    recent = rate_or_none(recent_part["referred"].sum(), len(recent_part)) if len(recent_part) >= MIN_COHORT else None
    before = rate_or_none(before_part["referred"].sum(), len(before_part)) if len(before_part) >= MIN_COHORT else None
    trend = recent - before if recent is not None and before is not None else None

    if not channel.isin(list(referral_channels)).any():
        what = "、".join(referral_channels)
        return Unavailable.because(
            "referral_share", ["patients.source_channel"], REFERRAL_NAMES,
            zh_reason=f"患者档案的来源渠道中没有任何“{what}”：请确认诊所系统是否记录转介绍来源后再计算转介绍占比。",
            en_reason=f"No patient's source channel is referral ({', '.join(referral_channels)}): check that the "
                      f"clinic's system records referrals before judging the referral share.")
    healthy, act = t["referral_share_healthy"], t["referral_share_act"]
    recent_window = Window((split + pd.Timedelta(days=1)).date(), end.date())
    # The period's share first, then the last six months'; the first below the action line wins (red
    # [S2]), else the first below the healthy line (yellow [S3]). Parts under MIN_COHORT are not judged.
    candidates = [(m, v, p) for m, v, p in (("referral_share", share, new), ("referral_share_recent", recent, recent_part))
                  if len(p) >= MIN_COHORT and v is not None]
    chosen = next(((c, act) for c in candidates if act.breached(c[1])), None) or next(
        ((c, healthy) for c in candidates if healthy.breached(c[1])), None)
    flags = []
    if chosen is not None:
        (metric, value, part), line = chosen
        years = max((part["first_arrival"].max() - part["first_arrival"].min()).days + 1, 91) / 365
        per_year, referred = len(part) / years, part["referred"].sum() / years
        missing = max(0.0, healthy.value * (per_year - referred) / (1 - healthy.value) - referred)
        dropped = metric == "referral_share" and trend is not None and trend <= -0.05
        flags.append(Finding.past(
            line, value, kind=metric, problem_class="experience", severity=RED if line is act else YELLOW,
            segment=Segment("channel", str(referral_channels[0])) if len(referral_channels) else None,
            window=Window(start.date(), end.date()) if metric == "referral_share" else recent_window,
            reference=before if metric == "referral_share_recent" else None,
            reference_window=Window(start.date(), split.date()) if metric == "referral_share_recent" else None,
            stake=Stake(round(float(missing * (first_year_value or 0.0)), 2), "referral_missing"),
            facts={"dropped_to": recent if dropped else None, "recent_window": recent_window,
                   "acting": line is act or act.breached(recent), "healthy_line": healthy.value, "act_line": act.value}))
    if share is None:
        zh, en = "分析期内没有新患者，无法计算转介绍占比。", "No new patients in the period: no referral share."
    elif len(new) < MIN_COHORT:
        zh = f"本期只有{i18n.count(len(new))}位新患者，转介绍占{i18n.rate(share)}，人数太少，暂不下结论。"
        en = f"Only {i18n.counted(len(new), 'new patient')} in the period ({i18n.rate(share, 'en')} referred): too few to judge."
    elif flags:
        zh, en = flags[0].sentence("zh"), flags[0].sentence("en")
    else:
        now_zh, now_en = i18n.window(recent_window.start, recent_window.end, "zh"), i18n.window(recent_window.start, recent_window.end, "en")
        trend_zh = f"，{now_zh}为{i18n.rate(recent)}" if recent is not None else ""
        trend_en = f" ({i18n.rate(recent, 'en')} in {now_en})" if recent is not None else ""
        zh = (f"{i18n.window(start, end, 'zh')}新患者的转介绍占比{i18n.rate(share)}{trend_zh}，达到{_pct(healthy.value)}的健康线，"
              f"说明患者满意、愿意推荐；保持老带新的做法。")
        en = (f"The referral share of new patients was {i18n.rate(share, 'en')} in {i18n.window(start, end, 'en')}"
              f"{trend_en}, at or above the {_pct(healthy.value)} healthy line: patients are satisfied and recommend "
              f"the clinic; keep the referral programme going.")
    return ReferralTrend("referral_trend", table, zh, en, flags, share=share, recent=recent, before=before,
                         trend=trend, healthy=healthy.value, act=act.value, window=Window(start.date(), end.date()),
                         recent_window=recent_window)


# --------------------------------------------------------------------------------------------------
# 5. RFM [S0] and 6. ABC classes [S3].

def period_customers(visits: pd.DataFrame, charges: pd.DataFrame, *, start, end) -> pd.DataFrame:
    """Patients who came or paid in the period: recency (days to ``end``), frequency, monetary."""
    start, end = _ts(start), _ts(end)
    days = _arrival_days(visits, end)
    in_period = days[days["day"] >= start]
    paid = charges[charges["paid_at"].dt.normalize().between(start, end)]
    monetary = paid.groupby("patient_id")["amount_paid"].sum()
    frequency = in_period.groupby("patient_id").size()
    last_paid = paid.groupby("patient_id")["paid_at"].max().dt.normalize()
    last_seen = days.groupby("patient_id")["day"].max()
    ids = frequency.index.union(monetary.index)
    last = pd.concat([last_seen.reindex(ids), last_paid.reindex(ids)], axis=1).max(axis=1)
    frame = pd.DataFrame({"recency_days": (end - last).dt.days, "frequency": frequency.reindex(ids, fill_value=0),
                          "monetary": monetary.reindex(ids, fill_value=0.0)}, index=ids)
    frame.index.name = "patient_id"
    return frame


def _quintile(values: pd.Series) -> pd.Series:
    return np.ceil(values.rank(pct=True, method="average") * 5).clip(1, 5).astype(int)


@dataclass
class Rfm(AnalysisResult):
    """RFM quintile scores of the period's patients and the eight customer tiers [S0] (客户分层表)."""

    patients: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def metrics(self) -> dict:
        return {"loyalty": {"rfm_segments": {seg: {"patients": int(r["patients"]), "revenue": _num(r["revenue"])}
                                             for seg, r in self.table.iterrows()}}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Revenue share per tier; red for high spenders who have not come lately (act on them)."""
        ax = ax if ax is not None else plt.gca()
        table = self.table[self.table["patients"] > 0]
        labels = [_segment_name(s, lang) for s in table.index]
        colors = [ACTION_RED if s in ACTION_SEGMENTS else PALETTE[1] if s.startswith("important") else PALETTE[4]
                  for s in table.index]
        ax.barh(labels[::-1], (table["revenue_share"] * 100).to_numpy()[::-1], color=colors[::-1], **kwargs)
        for y, (share, n) in enumerate(zip(table["revenue_share"][::-1], table["patients"][::-1])):
            ax.text(share * 100, y, f" {i18n.rate(share, lang)}，{i18n.count(n, lang)}人" if lang == "zh"
                    else f" {i18n.rate(share, lang)}, {int(n)}", va="center", fontsize=8)
        ax.set_xlim(0, max(float(table["revenue_share"].max()) * 125, 10))
        ax.set_xlabel(i18n.pick(lang, "占期内收入 %（标注：收入占比，人数）", "% of the period's revenue (labels: share, patients)"))
        n, share = self._warning()
        note(ax, i18n.pick(lang, f"红色合计：{i18n.count(n, lang)}人，占收入{i18n.rate(share, lang)}",
                           f"red together: {i18n.count(n, lang)} patients, {i18n.rate(share, lang)} of revenue"),
             corner="lower right")
        ax.grid(axis="y", visible=False)
        return set_title(ax, self.title(lang), lang)

    def _warning(self) -> tuple[int, float]:
        """Patients and revenue share of the churn-warning tiers together (the red bars)."""
        act = self.table.loc[list(ACTION_SEGMENTS)]
        return int(act["patients"].sum()), float(act["revenue_share"].sum())

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the high spenders not seen lately (the churn-warning tiers [S0])."""
        n, share = self._warning()
        return i18n.pick(lang, f"高价值流失预警{i18n.count(n, lang)}人，占期内收入{i18n.rate(share, lang)}（红色）",
                         f"{i18n.count(n, lang)} high spenders not seen lately paid {i18n.rate(share, lang)} of revenue (red)")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table[self.table["patients"] > 0].reset_index()
        return pd.DataFrame({
            i18n.pick(lang, "客户分层", "Tier"): t["segment"].map(lambda s: _segment_name(s, lang)),
            i18n.pick(lang, "人数", "Patients"): t["patients"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "期内收入", "Revenue"): i18n.money_column(t["revenue"], lang),
            i18n.pick(lang, "收入占比", "Share of revenue"): t["revenue_share"].map(lambda v: i18n.rate(v, lang)),
            i18n.pick(lang, "距今天数（中位）", "Days since last visit (median)"):
                t["recency_days"].map(lambda v: i18n.count(v, lang))})


def _segment_name(segment: str, lang: str) -> str:
    names = {sid: (zh, en) for sid, zh, en in SEGMENTS.values()}
    zh, en = names[segment]
    return zh if lang == "zh" else en


def rfm(visits: pd.DataFrame, charges: pd.DataFrame, *, start, end,
        customers: pd.DataFrame | None = None) -> Rfm | Unavailable:
    """RFM scores (quintiles 1..5) of patients who came or paid in the period, and their tiers [S0].

    Recency = days from the last arrival or payment to ``end`` (5 = most recent fifth), frequency =
    arrival days in the period, monetary = amount paid in the period (ties share a score). A score of 3
    or more is "high"; the three highs give the eight usual tiers (重要价值 … 一般挽留). High spenders
    with low recency (重要保持, 重要挽留) are the churn-warning tiers. ``customers``: the period's
    recency/frequency/monetary table when already computed (`period_customers`).
    """
    frame = (customers if customers is not None else period_customers(visits, charges, start=start, end=end)).copy()
    if frame.empty:
        return Unavailable.because("rfm", ["visits", "charges"],
                                   zh_reason="分析期内没有到诊或收费记录，无法做客户分层。",
                                   en_reason="No visits or payments in the period: no customer tiers.")
    frame["r"] = _quintile(-frame["recency_days"])
    frame["f"] = _quintile(frame["frequency"])
    frame["m"] = _quintile(frame["monetary"])
    keys = list(zip(frame["r"] >= RFM_HIGH_SCORE, frame["f"] >= RFM_HIGH_SCORE, frame["m"] >= RFM_HIGH_SCORE))
    frame["segment"] = [SEGMENTS[k][0] for k in keys]
    order = [sid for sid, _, _ in SEGMENTS.values()]
    table = frame.groupby("segment").agg(patients=("m", "size"), revenue=("monetary", "sum"),
                                         recency_days=("recency_days", "median")).reindex(order)
    table["patients"] = table["patients"].fillna(0).astype(int)
    table["revenue"] = table["revenue"].fillna(0.0)
    total = float(frame["monetary"].sum())
    table["revenue_share"] = table["revenue"] / total if total > 0 else 0.0
    table.index.name = "segment"
    top, act = table.loc["important_value"], table.loc[list(ACTION_SEGMENTS)]
    act_n, act_share = int(act["patients"].sum()), float(act["revenue_share"].sum())
    zh = (f"重要价值客户{i18n.count(top['patients'])}人贡献了{i18n.rate(top['revenue_share'])}的收入；"
          f"消费高但近期未再来的重要保持与挽留客户有{i18n.count(act_n)}人（占收入{i18n.rate(act_share)}），应列入流失预警名单优先回访。")
    en = (f"{i18n.counted(top['patients'], 'champion')} paid {i18n.rate(top['revenue_share'], 'en')} of revenue; "
          f"{i18n.counted(act_n, 'high spender')} who have not come lately (share {i18n.rate(act_share, 'en')}) belong "
          f"on the churn-warning list and should be called first.")
    return Rfm("rfm", table, zh, en, patients=frame)


@dataclass
class AbcClasses(AnalysisResult):
    """ABC classes [S3] by what each patient paid in the period."""

    patients: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def metrics(self) -> dict:
        a = self.table.loc["A"] if "A" in self.table.index else None
        return {"kpis": {"a_class_patients": int(a["patients"]) if a is not None else 0,
                         "a_class_revenue_share": _num(a["revenue_share"]) if a is not None else None},
                "loyalty": {"abc": {c: {"patients": int(r["patients"]), "revenue": _num(r["revenue"])}
                                    for c, r in self.table.iterrows()}}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Share of patients against share of revenue, per class."""
        ax = ax if ax is not None else plt.gca()
        x = np.arange(len(self.table))
        width = 0.38
        ax.bar(x - width / 2, self.table["patient_share"] * 100, width, color=PALETTE[4],
               label=i18n.pick(lang, "患者占比", "share of patients"), **kwargs)
        ax.bar(x + width / 2, self.table["revenue_share"] * 100, width, color=PALETTE[0],
               label=i18n.pick(lang, "收入占比", "share of revenue"), **kwargs)
        for xi, (p, r) in enumerate(zip(self.table["patient_share"], self.table["revenue_share"])):
            ax.text(xi - width / 2, p * 100, i18n.rate(p, lang), ha="center", va="bottom", fontsize=8)
            ax.text(xi + width / 2, r * 100, i18n.rate(r, lang), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [i18n.pick(lang, f"{c}类", f"Class {c}") for c in self.table.index])
        ax.set_ylabel("%")
        ax.set_ylim(0, 100)
        ax.legend()
        ax.grid(axis="x", visible=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: how few A-class patients pay how much [S3]."""
        a = self.table.loc["A"]
        n, patients, revenue = int(a["patients"]), i18n.rate(a["patient_share"], lang), i18n.rate(a["revenue_share"], lang)
        return i18n.pick(lang, f"A类客户{i18n.count(n, lang)}人，只占患者的{patients}，贡献了{revenue}的收入",
                         f"{i18n.count(n, lang)} A-class patient{'s' if n != 1 else ''}, {patients} of patients, paid "
                         f"{revenue} of revenue")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table.reset_index()
        return pd.DataFrame({
            i18n.pick(lang, "类别", "Class"): t["abc"].map(lambda c: i18n.pick(lang, f"{c}类", f"Class {c}")),
            i18n.pick(lang, "人数", "Patients"): t["patients"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "患者占比", "Share of patients"): t["patient_share"].map(lambda v: i18n.rate(v, lang)),
            i18n.pick(lang, "期内收入", "Revenue"): i18n.money_column(t["revenue"], lang),
            i18n.pick(lang, "收入占比", "Share of revenue"): t["revenue_share"].map(lambda v: i18n.rate(v, lang)),
            i18n.pick(lang, "人均消费", "Average spend"): i18n.money_column(t["average"], lang)})


def abc_classes(visits: pd.DataFrame, charges: pd.DataFrame, *, start, end,
                shares: tuple[float, float] = ABC_SHARES, customers: pd.DataFrame | None = None
                ) -> AbcClasses | Unavailable:
    """ABC classes of the period's patients [S3]: A = most treatment, ability and willingness to pay.

    The source gives no cut-off; the playbook ranks patients by what they paid in the period and puts
    in A those who make up the first ``shares[0]`` (70%) of revenue (the patient who crosses 70% is
    still A), in B the next part up to ``shares[1]`` (90%), in C the rest and everyone who paid nothing.
    ``customers``: as for `rfm`.
    """
    frame = customers if customers is not None else period_customers(visits, charges, start=start, end=end)
    total = float(frame["monetary"].clip(lower=0).sum()) if len(frame) else 0.0
    if total <= 0:
        return Unavailable.because("abc_classes", ["charges"], ("a_class_patients", "a_class_revenue_share"),
                                   zh_reason="分析期内没有收入，无法划分ABC类客户。",
                                   en_reason="No revenue in the period: no ABC classes.")
    frame = frame.sort_values("monetary", ascending=False, kind="stable")
    before = frame["monetary"].clip(lower=0).cumsum().shift(fill_value=0.0) / total
    frame["abc"] = np.where(frame["monetary"] <= 0, "C", np.where(before < shares[0], "A",
                                                                  np.where(before < shares[1], "B", "C")))
    table = frame.groupby("abc").agg(patients=("monetary", "size"), revenue=("monetary", "sum")).reindex(
        ["A", "B", "C"], fill_value=0)
    table.index.name = "abc"
    table["patient_share"] = table["patients"] / table["patients"].sum()
    table["revenue_share"] = table["revenue"] / float(frame["monetary"].sum())
    table["average"] = (table["revenue"] / table["patients"].replace(0, np.nan)).fillna(0.0)
    a = table.loc["A"]
    zh = (f"A类客户{i18n.count(a['patients'])}人，只占患者的{i18n.rate(a['patient_share'])}，却贡献了"
          f"{i18n.rate(a['revenue_share'])}的收入（人均{i18n.money(a['average'])}）：由固定的医生和咨询师一对一维护，按期提醒复诊。")
    en = (f"{i18n.counted(a['patients'], 'A-class patient')}, {i18n.rate(a['patient_share'], 'en')} of patients, paid "
          f"{i18n.rate(a['revenue_share'], 'en')} of revenue ({i18n.money(a['average'], 'en')} each): give each a "
          f"named doctor and consultant and remind them of every return.")
    return AbcClasses("abc_classes", table, zh, en, patients=frame)


# --------------------------------------------------------------------------------------------------
# 7. The high-value churn-warning list [S0].

ACTIONS = {  # why -> (中文, English)
    "departed": ("原医生已离开，由其他医生致电接手", "Doctor has left: a colleague calls and takes over"),
    "churned": ("院长或医生致电，了解流失原因", "Owner or doctor calls to learn why they left"),
    "late": ("医生亲自致电，预约复查", "Doctor calls and books a check-up"),
    "due": ("客服回访并预约复查", "Front desk calls and books a check-up"),
}


@dataclass
class ChurnWarning(AnalysisResult):
    """A-class patients past their usual return interval: who to call, and who should call [S0]."""

    spend: float = 0.0

    def metrics(self) -> dict:
        return {"kpis": {"high_value_overdue_patients": len(self.table),
                         "high_value_overdue_spend": _num(round(self.spend, 2))}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """What the listed patients paid in the period, by their last doctor (red: the doctor has left)."""
        ax = ax if ax is not None else plt.gca()
        if self.table.empty:
            return _no_chart(ax, lang, "没有逾期的A类客户", "No overdue A-class patients")
        doctor = self.table["last_doctor"].fillna(i18n.pick(lang, "未记录", "not recorded"))
        by = self.table.groupby(doctor).agg(spend=("spend", "sum"), n=("spend", "size")).sort_values("spend")
        departed = set(self.table.loc[self.table["why"] == "departed", "last_doctor"].dropna())
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        colors = [ACTION_RED if d in departed else PALETTE[1] for d in by.index]
        labels = [f"{d}{i18n.pick(lang, '（已离开）', ' (left)')}" if d in departed else str(d) for d in by.index]
        ax.barh(labels, by["spend"] / scale, color=colors, **kwargs)
        for y, (s, n) in enumerate(zip(by["spend"], by["n"])):  # the label states the bar's own figure first
            people = i18n.pick(lang, f"（{i18n.count(n, lang)}人）", f" ({i18n.count(n, lang)} patient{'s' if n != 1 else ''})")
            ax.text(s / scale, y, f" {i18n.money(s, lang)}{people}", va="center", fontsize=8)
        ax.set_xlim(0, float(by["spend"].max()) / scale * 1.35)
        note(ax, i18n.pick(lang, f"合计{i18n.count(len(self.table), lang)}人，期内消费{i18n.money(self.spend, lang)}",
                           f"in all {i18n.count(len(self.table), lang)} patients, {i18n.money(self.spend, lang)} paid"),
             corner="lower right")
        ax.set_xlabel(i18n.pick(lang, f"逾期A类客户期内消费（{unit}），按最后接诊医生",
                                f"Period spend of overdue A-class patients ({unit}), by last doctor"))
        ax.grid(axis="y", visible=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: how many A-class patients are overdue, what they pay, whose doctor left."""
        n, spend = len(self.table), i18n.money(self.spend, lang)
        departed = int((self.table["why"] == "departed").sum()) if n else 0
        head = i18n.pick(lang, f"{i18n.count(n, lang)}位A类客户逾期未复诊，期内消费{spend}",
                         f"{i18n.count(n, lang)} A-class patient{'s are' if n != 1 else ' is'} overdue, "
                         f"with {spend} paid in the period")
        if departed:
            head += i18n.pick(lang, f"；其中{departed}人的医生已离开（红色）", f"; {departed} of them lost their doctor (red)")
        return head

    def table_for(self, lang: str = "zh", rows: int = WARNING_ROWS) -> pd.DataFrame:
        t = self.table.head(rows)
        return pd.DataFrame({
            i18n.pick(lang, "姓名", "Name"): t["name"].fillna("—"),
            i18n.pick(lang, "病历号", "Patient ID"): t["patient_id"],
            i18n.pick(lang, "最后到诊", "Last visit"): t["last_visit"].map(lambda d: i18n.day(d, lang)),
            i18n.pick(lang, "期内消费", "Period spend"): i18n.money_column(t["spend"], lang),
            i18n.pick(lang, "逾期次数", "Missed returns"): t["missed"].map(lambda v: i18n.count(v, lang)),
            i18n.pick(lang, "最后接诊医生", "Last doctor"): t["last_doctor"].fillna("—"),
            i18n.pick(lang, "建议行动", "Action"): t["why"].map(lambda w: ACTIONS[w][0 if lang == "zh" else 1])})


def churn_warning(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *, start, end,
                  thresholds: dict[str, Threshold] | None = None, abc: AbcClasses | None = None,
                  status: pd.DataFrame | None = None) -> ChurnWarning | Unavailable:
    """The high-value churn-warning list [S0]: A-class patients [S3] with a missed return at ``end``.

    Each row: masked name (as loaded; the playbook never unmasks), patient id, last arrival day, what
    they paid in the period, missed returns, last doctor and the action, chosen in this order: their
    doctor has left → a colleague calls; churned (more than 3 missed returns) → the owner or doctor
    calls to learn why [S3]; 2–3 missed → the doctor calls; 1 missed → the front desk calls. Sorted by
    spend. No flag: the churn and doctor analyses flag the same patients. ``abc`` and ``status``: the
    `abc_classes` result and `patient_status` at ``end``, when already computed.
    """
    t = _thresholds(thresholds)
    abc = abc if abc is not None else abc_classes(visits, charges, start=start, end=end)
    if not abc.available:
        return Unavailable.because("churn_warning", ["charges"], ("high_value_overdue_patients", "high_value_overdue_spend"),
                        zh_reason=abc.zh, en_reason=abc.en)
    line = t["churn_missed_returns"].value
    status = status if status is not None else patient_status(visits, end=end, missed_line=line)
    a_class = abc.patients[abc.patients["abc"] == "A"]
    listed = status.join(a_class["monetary"].rename("spend"), how="inner")
    listed = listed[listed["missed"] >= 1]
    departed = set(departed_doctors(visits, end=end, days=_inactive_days(t)))
    listed["why"] = np.select([listed["last_doctor"].isin(departed), listed["missed"] > line, listed["missed"] >= 2],
                              ["departed", "churned", "late"], "due")
    names = patients.drop_duplicates("patient_id").set_index("patient_id")["name"] if "name" in patients else None
    table = pd.DataFrame({
        "name": names.reindex(listed.index).to_numpy() if names is not None else None,
        "patient_id": listed.index.to_numpy(),
        "last_visit": listed["last_arrival"].dt.date.to_numpy(),
        "spend": listed["spend"].to_numpy(), "missed": listed["missed"].to_numpy(),
        "last_doctor": listed["last_doctor"].to_numpy(), "why": listed["why"].to_numpy()})
    table = table.sort_values(["spend", "patient_id"], ascending=[False, True], kind="stable").reset_index(drop=True)
    spend = float(table["spend"].sum())
    a_total = len(a_class)
    n_gone = int((table["why"] == "departed").sum())
    if table.empty:
        zh = f"{i18n.count(a_total)}位A类客户都在按期复诊，暂无流失预警；继续按期提醒。"
        en = f"All {i18n.count(a_total, 'en')} A-class patients are returning on time: no warning; keep reminding them."
    else:
        gone_doctors = "、".join(sorted({str(d) for d in table.loc[table["why"] == "departed", "last_doctor"]}))
        zh_gone = f"，其中{i18n.count(n_gone)}位的医生（{gone_doctors}）已离开" if n_gone else ""
        en_gone = (f", {i18n.count(n_gone, 'en')} of them {i18n.plural(n_gone, 'a patient', 'patients')} of a doctor "
                   f"who has left ({gone_doctors.replace('、', ', ')})" if n_gone else "")
        zh = (f"{i18n.count(a_total)}位A类客户中有{i18n.count(len(table))}位已超过平时的复诊间隔未再来（期内共消费{i18n.money(spend)}）{zh_gone}："
              f"本周按下表逐一致电，先打消费最高的。")
        en = (f"{i18n.count(len(table), 'en')} of {i18n.counted(a_total, 'A-class patient')} "
              f"{i18n.plural(len(table), 'is', 'are')} past their usual return interval (they paid "
              f"{i18n.money(spend, 'en')} in the period){en_gone}: call each this week, highest spend first.")
    return ChurnWarning("churn_warning", table, zh, en, spend=spend)


# --------------------------------------------------------------------------------------------------
# 8. Child → family conversion (children's clinics) [S3].

@dataclass
class ChildFamily(AnalysisResult):
    """Family members brought by child patients, per child, by half-year of the child's first arrival."""

    ratio: float | None = None
    line: float = field(kw_only=True)  # the threshold in force

    def metrics(self) -> dict:
        return {"kpis": {"child_family_ratio": _num(self.ratio)}}

    def plot(self, ax=None, *, lang: str = "zh", **kwargs):
        """Family members per child patient, by half-year; red below the 1:1 line [S3]."""
        ax = ax if ax is not None else plt.gca()
        labels = [_half_label(p, lang) for p in self.table.index]
        ratios = self.table["ratio"].fillna(0)
        colors = [ACTION_RED if r < self.line else PALETTE[1] for r in ratios]
        ax.bar(labels, ratios, color=colors, **kwargs)
        for x, (r, kids, fam) in enumerate(zip(ratios, self.table["children"], self.table["family"])):
            ax.text(x, r, f"{r:.2f}\n({int(fam)}/{int(kids)})", ha="center", va="bottom", fontsize=8)
        _line(ax, self.line, GREY, f"{self.line:g}:1 {i18n.pick(lang, '方法线', 'method line')}")
        ax.set_ylim(0, max(self.line * 1.4, float(ratios.max()) * 1.3 if len(ratios) else 1.4))
        ax.set_ylabel(i18n.pick(lang, "每位儿童带来的家庭成员", "Family members per child"))
        ax.grid(axis="x", visible=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: family members per child patient against about 1:1 [S3]."""
        if self.ratio is None:
            return i18n.pick(lang, "儿童带动家庭就诊", "Children bringing their families")
        ratio = f"{self.ratio:.2f}"
        # a ratio, never "0.37 family members": people come whole
        if self.ratio < self.line:
            return i18n.pick(lang, f"儿童患者与所带家人之比只有{ratio}:1，低于约{self.line:g}:1的参考线（红色）",
                             f"Child patients brought family members at only {ratio}:1, under about {self.line:g}:1 (red)")
        red = "" if not (self.table["ratio"].fillna(0) < self.line).any() else i18n.pick(lang, "；红色半年低于参考线",
                                                                                        "; red half-years under it")
        return i18n.pick(lang, f"儿童患者与所带家人之比{ratio}:1，达到约{self.line:g}:1的参考线{red}",
                         f"Child patients brought family members at {ratio}:1, about {self.line:g}:1 or better{red}")


def child_patients(patients: pd.DataFrame, visits: pd.DataFrame, *, end) -> tuple[pd.Index, float]:
    """Patients aged under 16 at ``end`` who arrived up to it, and their share of arrived patients."""
    arrived = pd.Index(first_arrivals(visits[visits["scheduled_at"] < _ts(end) + pd.Timedelta(days=1)]).index)
    born = patients.drop_duplicates("patient_id").set_index("patient_id")["birth_year"].reindex(arrived)
    known = born.dropna()
    child = known.index[(_ts(end).year - known.astype(int)) < CHILD_MAX_AGE]
    return child, rate_or_none(len(child), len(known)) or 0.0


def is_children_clinic(patients: pd.DataFrame, visits: pd.DataFrame, *, end) -> bool:
    """Children are a third or more of the patients, or 儿牙 a third or more of the arrived visits."""
    _, share = child_patients(patients, visits, end=end)
    arrived = visits[visits["status"] == "arrived"]
    dept = rate_or_none((arrived["department"] == CHILD_DEPARTMENT).sum(), arrived["department"].notna().sum()) \
        if "department" in arrived else None
    return share >= CHILDREN_CLINIC_SHARE or (dept or 0.0) >= CHILDREN_CLINIC_SHARE


def child_family(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame | None = None, *, start, end,
                 thresholds: dict[str, Threshold] | None = None, children_clinic: bool | None = None
                 ) -> ChildFamily | Unavailable:
    """Child → family conversion of a children's clinic [S3]: about one family member per child.

    Children = patients under 16 at ``end`` whose first arrival is in the period; family members =
    patients (of any age: parents, grandparents, siblings) with an arrival up to ``end`` whose
    referrer_patient_id is one of those children. Children first seen late in the period have had
    less time to bring their family, so the last half-year reads low. Below ``child_family_ratio`` is a
    loyalty flag. Revenue at stake (a year): the family members missing to 1:1 a year × what a family
    member pays in their first year (a new patient's, when fewer than 10 family members have a year).
    """
    t = _thresholds(thresholds)
    start, end = _ts(start), _ts(end)
    if children_clinic is None:
        children_clinic = is_children_clinic(patients, visits, end=end)
    if not children_clinic:
        return Unavailable.because("child_family", [], ("child_family_ratio",), zh_reason="本诊所不是儿童门诊（儿童患者不到三分之一），不计算儿童带动家庭的比例。",
                                   en_reason="Not a children's clinic (children are under a third of patients): "
                                             "child → family conversion is not computed.")
    child, _ = child_patients(patients, visits, end=end)
    first = first_arrivals(visits)
    kids = first[first.index.isin(child) & first.between(start, end)]
    referrer = patients.drop_duplicates("patient_id").set_index("patient_id")["referrer_patient_id"]
    arrived = pd.Index(first[first <= end].index)
    family = referrer[referrer.isin(kids.index) & referrer.index.isin(arrived)]
    by_child = family.value_counts()
    halves = kids.dt.to_period("Q").map(lambda q: pd.Period(f"{q.year}Q{1 if q.quarter <= 2 else 3}", "Q"))
    table = pd.DataFrame({"half": halves, "family": by_child.reindex(kids.index, fill_value=0).to_numpy()},
                         index=kids.index).groupby("half").agg(children=("family", "size"), family=("family", "sum"))
    table["ratio"] = table["family"] / table["children"]
    ratio = rate_or_none(len(family), len(kids))
    line = t["child_family_ratio"]
    flags = []
    if line.breached(ratio):
        years = max((end - start).days + 1, 1) / 365
        missing = (line.value * len(kids) - len(family)) / years
        value = None
        if charges is not None:
            value = first_year_revenue(visits, charges, end=end, patients=referrer[referrer.isin(child)].index) or \
                first_year_revenue(visits, charges, end=end)
        flags.append(Finding.past(
            line, ratio, kind="child_family_ratio", problem_class="loyalty", window=Window(start.date(), end.date()),
            stake=Stake(round(float(max(missing, 0.0) * (value or 0.0)), 2), "family_missing"),
            facts={"children": len(kids), "family": len(family)}))
    if ratio is None:
        zh, en = "分析期内没有新的儿童患者。", "No new child patients in the period."
    elif flags:
        zh, en = flags[0].sentence("zh"), flags[0].sentence("en")
    else:
        zh = f"本期{i18n.count(len(kids))}位儿童患者带来{i18n.count(len(family))}位家人就诊（{ratio:.2f}:1），达到约{line.value:g}:1的常态；继续做好家庭会员。"
        en = (f"The period's {i18n.counted(len(kids), 'child patient')} brought {i18n.counted(len(family), 'family member')} ({ratio:.2f}:1), at the "
              f"usual {line.value:g}:1: keep the family membership going.")
    return ChildFamily("child_family", table, zh, en, flags, ratio=ratio, line=line.value)


# --------------------------------------------------------------------------------------------------
# The section.

@dataclass
class LoyaltySection(Section):
    returns: AnalysisResult
    churn: AnalysisResult
    doctors: AnalysisResult
    referral: AnalysisResult
    rfm: AnalysisResult
    abc: AnalysisResult
    warning: AnalysisResult
    family: AnalysisResult
    missed_line: float = 3  # churn_missed_returns in force

    def measures(self, lang: str = "zh") -> str:
        """What each of the chapter's return measures says, so that a high 12-month return, a low churn and
        a long recall list read as one story: each looks at different patients, and sees a change at a
        different time."""
        missed = f"{self.missed_line:g}"
        return i18n.pick(
            lang,
            "本章用四个指标看患者回不回来，各说一件事：**12个月复诊率**看新患者首诊后一年内有没有再来过，要满一年才知道；"
            "**首月复诊率**看首诊后一个月内有没有再来，最早反映变化；**逾期未复诊**看老患者现在是否已超过自己平时的复诊间隔，"
            f"是要约回的名单；**月流失率**按 [S3] 的规则，超过{missed}次未按期复诊才算流失，反映得最晚。",
            "This chapter reads returns with four measures, each answering its own question: the **12-month return** "
            "asks whether new patients came back at all within a year of their first visit, known only once the year "
            "is over; the **month-1 return** asks whether they came back within a month, the first place a change "
            "shows; **overdue** established patients are past their own usual return interval now, the list to "
            f"call; **monthly churn** counts, by [S3]'s rule, only patients past more than {missed} missed returns, "
            "and shows a loss last.")


def diagnose(clinic: Clinic, thresholds: dict[str, Threshold]) -> LoyaltySection:
    """The loyalty section of a clinic's diagnosis, over its configured period."""
    start, end = clinic.config.period.start, clinic.config.period.end
    patients, visits, charges = clinic.patients, clinic.visits, clinic.charges
    status = patient_status(visits, end=end, missed_line=thresholds["churn_missed_returns"].value)
    returns = return_curves(visits, start=start, end=end, charges=charges, thresholds=thresholds)
    lost = churn(visits, charges, start=start, end=end, thresholds=thresholds, status=status)
    if clinic.has("visits", "doctor_id"):
        doctors = overdue_by_doctor(visits, charges, end=end, thresholds=thresholds, status=status)
    else:
        doctors = Unavailable.because("overdue_by_doctor", ["visits.doctor_id"])
    if clinic.has("patients", "source_channel"):
        referral = referral_trend(patients, visits, start=start, end=end, referral_channels=clinic.config.referral,
                                  thresholds=thresholds, first_year_value=first_year_revenue(visits, charges, end=end))
    else:
        referral = Unavailable.because("referral_share", ["patients.source_channel"], REFERRAL_NAMES)
    customers = period_customers(visits, charges, start=start, end=end)
    segments = rfm(visits, charges, start=start, end=end, customers=customers)
    abc = abc_classes(visits, charges, start=start, end=end, customers=customers)
    warning = churn_warning(patients, visits, charges, start=start, end=end, thresholds=thresholds, abc=abc,
                            status=status)
    needs = [f"patients.{c}" for c in ("birth_year", "referrer_patient_id") if not clinic.has("patients", c)]
    if needs:
        family = Unavailable.because("child_family", needs, ("child_family_ratio",))
    else:
        family = child_family(patients, visits, charges, start=start, end=end, thresholds=thresholds)
    return LoyaltySection(returns, lost, doctors, referral, segments, abc, warning, family,
                          missed_line=thresholds["churn_missed_returns"].value)

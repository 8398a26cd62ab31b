"""The acquisition funnel by source channel: leads → arrivals → first-visit conversion → high-value deal.

method.md, "Metrics" and "Weekly review meeting" [S0]: the channel-effect table of the weekly review
(ROI, cost per new patient, conversion cycle per channel), the channel arrival rate (到店率, "抖音渠道上月
到店率15%，本周目标提升至18%"), the stop-loss rule ("当某渠道ROI连续2周低于1:1.5时，启动渠道止损机制"), and the
first-visit conversion review line [S2] ("初诊成交低于80%沟通医生").

Definitions (the period is ``start``..``end``, both days included; a timestamp counts on its day; the
*data end* is the last day with a visit or a charge in the data, the *data start* the first):

- new patient, first arrival, converted: exactly the contract's (``playbook.tables.new_patient_table``),
  keyed by the patient's source channel as written in the data.
- revenue in 90 days: what a new patient paid (refunds included) from the day of the first arrival up
  to 90 days after it, both included. Complete when first arrival + 90 days ≤ data end.
- high-value deal: a new patient who paid (amount > 0) for a high-value item (tier of [S0],
  ``playbook.catalogue``) within those 90 days; conversion cycle (转化周期) = days from the first arrival
  to that first high-value payment.
- spend: a campaign's spend spread evenly over its days (``start``..``end``; a campaign without an end
  spends on its start day), summed per channel and day.
- ROI (渠道ROI [S0]) = revenue in 90 days of the channel's new patients who first arrived on a day the
  channel spent / the channel's spend, both over the days from the data start whose new patients'
  90 days lie in the data (so the last 90 days never drag ROI down); none with fewer than 28 such days.
  Organic patients of a spending day cannot be told apart and count; patients of days without spend
  do not. A channel of the campaigns that no patient's source channel names gets no ROI (the sentence
  asks for one spelling of channel names).
- cost per new patient (获客成本) = spend in the period / the channel's new patients in the period.
- lead arrival rate (到店率) = leads that arrived / leads, by the day the lead was created. Without an
  ``arrived`` column, a lead arrived when it names a patient with an arrived visit.

Judging only what the data can show. Patients first seen in the last 30 days before the data end
have not had their 30 days yet, and their conversion looks low: the conversion flag judges only new
patients whose 30 days are in the data, and the monthly chart shows only months whose every new patient
had them. A lead month is judged once 30 days have passed since its last day.

Flags:

- ``first_visit_conversion_recent`` (threshold ``first_visit_conversion_review``, [S2]): a channel whose
  conversion over the last 6 months of the period (the whole period when it is under a year), among
  new patients with complete 30 days, is under the line; judged with at least 20 such patients. Problem
  class ``acquisition`` when the channel's new patients per month rose by 20% or more on the months
  before while its conversion fell (the channel brings the wrong patients), else ``experience``.
  Revenue at stake: the channel's new patients a year at the recent pace × (line − conversion) × the
  revenue in 90 days of a converted new patient of that channel (the clinic's when the channel has
  none) — what coming back to the line would bring in, counted over the first 90 days only.
- ``roi_weekly_latest`` (thresholds ``channel_roi_stop_loss`` and ``channel_roi_stop_loss_weeks``, [S0]):
  a channel with spend whose weekly ROI is below 1.5 in the latest week the data can judge and the
  weeks before it (2 consecutive weeks in all). A week holds a handful of new patients and one implant case
  swings its revenue tenfold, so each week (Monday to Sunday) is judged on the 13 weeks ending with it
  (playbook default): ROI of week w = revenue in 90 days of the channel's new patients first arriving
  in those of weeks w−12..w in which the channel spent / the channel's spend in weeks w−12..w. A week
  is judged when the channel spent in it, its 13 weeks hold at least 10 such new patients, lie after
  the data start, and their 90 days lie in the data. Only the streak still running at the latest
  judged week is flagged: a stop-loss stops spending that goes on; earlier streaks are listed in the
  table and the sentence. Problem class ``acquisition``. Revenue at stake: (1.5 − ROI) × the channel's
  spend a year at the pace of those 13 weeks — what its spend would bring back at the stop-loss line.
- ``arrival_rate_fall`` (threshold ``arrival_rate_fall``, playbook default built on the [S0] step of
  3 points): a channel whose lead arrival rate over the last 6 complete lead months fell by more than
  the line against the (up to) 12 complete months before, beyond chance (two-proportion z ≥ 1.96);
  judged when there are at least 12 complete lead months. Problem class ``acquisition``. Revenue at
  stake: the channel's leads a year × the fall × the revenue in 90 days of one of its new patients.

kpis.json names added. Under ``kpis`` (the period):

- ``campaign_spend``: campaign spend on the days of the period.
- ``campaign_roi_90d``: the ROI above over all the channels with spend together.
- ``cost_per_new_patient``: their spend / their new patients in the period (channels with spend).
- ``lead_arrival_rate``: leads created in the period that arrived / leads created in the period.
- ``high_value_deal_rate_90d``: of the period's new patients whose 90 days lie in the data, the share
  with a high-value deal within 90 days.
- ``days_to_high_value_median``: median conversion cycle (days) of the period's high-value deals.
- ``stop_loss_channels``: channels in a stop-loss streak at the latest judged week (0 when none).

Under ``channels`` (per channel as written in the data; the headline's ``new_patients`` and
``first_visit_conversion`` are left to it): ``high_value_deals`` (new patients of the period with a
high-value deal within 90 days), ``revenue_90d`` (revenue in 90 days of its new patients of the period
whose 90 days lie in the data), ``conversion_days_median``, ``first_visit_conversion_recent`` (the
conversion the flag judges; null when not judged); with leads ``leads``, ``arrivals``, ``arrival_rate``
(leads created in the period), ``arrival_rate_recent`` and ``arrival_rate_fall`` (the flag's numbers;
null without a year of complete lead months); with campaigns ``spend``, ``cost_per_new_patient``,
``roi`` (the definition above) and ``roi_weekly_latest`` (the 13-week ROI of the latest judged week,
for a channel judged in it).

Under ``channel_months``: channel → ``YYYY-MM`` (month of the first arrival, of the lead, of the spend) →
``new_patients``, ``first_visit_conversion`` (the contract's, over the month's new patients),
``complete_30d`` (each of them has had 30 days), ``high_value_deals``, ``revenue_90d``, ``complete_90d``;
with campaigns ``spend``, ``cost_per_new_patient``, ``roi`` (null unless ``complete_90d``); with leads
``leads``, ``arrivals``, ``arrival_rate``.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n, kpis
from .clinic import Clinic
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, GREY, PALETTE, month_axis, month_ticks, no_data, set_title
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window, rate_or_none
from .tables import (CONVERSION_WINDOW_DAYS, REVENUE_WINDOW_DAYS, ROI_WEEKS, SETTLE_DAYS, UNKNOWN_CHANNEL, daily_spend,
                     data_end, data_start, lead_arrived, new_patient_economics)
from .thresholds import DEFAULTS, Threshold

__all__ = ["ChannelConversion", "ChannelEconomics", "StopLoss", "LeadArrival", "CampaignRoi", "FunnelSection",
           "new_patient_economics", "daily_spend", "channel_conversion", "channel_economics", "channel_stop_loss",
           "lead_arrival", "campaign_roi", "data_end", "diagnose"]

RECENT_MONTHS = 6  # the judged window of the conversion and arrival flags (a period of a year or more)
BEFORE_MONTHS = 12  # the arrival flag compares with up to this many complete lead months before
MIN_JUDGED = 20  # fewer complete new patients than this: a channel's conversion is shown, not judged
VOLUME_RISE = 1.20  # new patients a month up by 20% or more: "its volume rose" (playbook default)
PLOT_WEEKS = 26  # the weekly ROI chart shows the last half-year that can be judged
MIN_ROI_DAYS = 28  # ROI needs at least 4 weeks of spend whose new patients had their 90 days
MIN_ROI_PATIENTS = 10  # a week's 13-week window with fewer new patients of the channel is not judged
ARRIVAL_Z = 1.96  # a fall in arrival rate counts when beyond chance (two-proportion z-test, 5%)
LEAD_SETTLE_DAYS = SETTLE_DAYS  # a lead month is complete when its last day is this long before the data end

CONVERSION_LINE = "first_visit_conversion_review"
STOP_LOSS_LINE = "channel_roi_stop_loss"
STOP_LOSS_WEEKS = "channel_roi_stop_loss_weeks"
ARRIVAL_LINE = "arrival_rate_fall"


# ---------------------------------------------------------------------------------------------------
# Small helpers


def _day(series: pd.Series) -> pd.Series:
    return series.dt.normalize()


def _ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _monday(days):
    """The Monday of each day's week (weeks run Monday to Sunday)."""
    if isinstance(days, pd.Timestamp):
        return days.normalize() - pd.Timedelta(days=days.day_of_week)
    days = days.dt.normalize()
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _ratio(part, whole) -> float | None:
    whole = _num(whole)
    return None if not whole else rate_or_none(float(part), whole)


def _line(thresholds: dict[str, Threshold] | None, name: str) -> Threshold:
    return (thresholds or DEFAULTS)[name]


def _channel(name: str, lang: str) -> str:
    return kpis.channel_name(name, lang)


def _roi_text(value, lang: str) -> str:
    value = _num(value)
    return i18n.NO_DATA[lang] if value is None else f"{value:.2f}"


def _span(first, last, lang: str) -> str:
    """Two days as the owner reads a stretch of time: 2025年8月11日–9月28日 / 2025-08-11 – 2025-09-28."""
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    if lang == "zh":
        tail = f"{last.month}月{last.day}日" if last.year == first.year else i18n.day(last, lang)
        return f"{i18n.day(first, lang)}–{tail}"
    return f"{first.isoformat()} – {last.isoformat()}"


def _names(channels: list[str], lang: str) -> str:
    """One or two channels named, more counted: 抖音、美团 / Douyin and Meituan / 抖音等3个渠道."""
    names = [_channel(c, lang) for c in channels]
    if len(names) <= 2:
        return i18n.pick(lang, "、".join(names), " and ".join(names))
    return i18n.pick(lang, f"{names[0]}等{len(names)}个渠道", f"{names[0]} and {len(names) - 1} more channels")


def _colors(names, flagged) -> dict[str, str]:
    """Red for the channels that need action, the calm palette (never red) for the others."""
    calm = [c for c in PALETTE]
    out, i = {}, 0
    for name in names:
        if name in flagged:
            out[name] = ACTION_RED
        else:
            out[name] = calm[i % len(calm)]
            i += 1
    return out


def _patient_channels(patients: pd.DataFrame) -> set[str]:
    """Every source channel the patients export names (and the placeholder for none)."""
    return set(patients["source_channel"].dropna().astype("str")) | {UNKNOWN_CHANNEL}


def _judged_days(first, last) -> int:
    return max((_ts(last) - _ts(first)).days + 1, 0)


def _months(start, end) -> pd.DatetimeIndex:
    return pd.date_range(_ts(start).to_period("M").to_timestamp(), _ts(end), freq="MS")


def _recent_window(start, end) -> tuple[pd.Timestamp, pd.Timestamp | None]:
    """The first day of the judged window, and of the comparison window (None when there is none)."""
    months = _months(start, end)
    if len(months) >= 2 * RECENT_MONTHS:
        return months[-RECENT_MONTHS], _ts(start)
    return _ts(start), None


# ---------------------------------------------------------------------------------------------------
# The tidy tables every analysis of the chapter starts from


def _lead_frame(leads: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame({"channel": leads["channel"].fillna(UNKNOWN_CHANNEL).astype("str"),
                          "day": _day(leads["created_at"]),
                          "arrived": leads["arrived"].fillna(False).astype(bool)})
    return frame[frame["day"].notna()]


# ---------------------------------------------------------------------------------------------------
# First-visit conversion by channel and month [S2]


@dataclass
class ChannelConversion(AnalysisResult):
    """Conversion by channel and month, and each channel's judged recent conversion against the 80% line."""

    summary: pd.DataFrame = None  # per channel: recent and before conversion and volume, judged, flagged
    line: float = field(kw_only=True)  # the threshold in force
    recent_from: pd.Timestamp = None
    last_day: pd.Timestamp = None
    before_from: pd.Timestamp | None = None  # the comparison window's first day (None: no comparison)
    end: pd.Timestamp | None = None  # the period's last day

    def windows(self, lang: str) -> tuple[str, str]:
        """The recent window and the one before it, as the title and the table name them."""
        recent = i18n.window(self.recent_from, self.end, lang)
        if self.before_from is None:
            return recent, i18n.pick(lang, "此前", "before")
        return recent, i18n.window(self.before_from, self.recent_from - pd.Timedelta(days=1), lang)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Monthly conversion per channel, months whose new patients all had their 30 days; red = flagged."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        shown = self.table[self.table["complete_30d"] & (self.table["new_patients"] > 0)]
        if shown.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        order = self.summary.index.tolist()
        colors = _colors(order, flagged)
        months = sorted(shown["month"].unique())
        x = {m: i for i, m in enumerate(months)}
        for name in order[::-1]:  # the biggest channel drawn last, on top; red drawn over all
            if name in flagged:
                continue
            rows = shown[shown["source_channel"] == name]
            ax.plot([x[m] for m in rows["month"]], rows["first_visit_conversion"], color=colors[name], lw=1.2,
                    alpha=0.75, label=_channel(name, lang), **kwargs)
        for name in order:
            if name in flagged:
                rows = shown[shown["source_channel"] == name]
                ax.plot([x[m] for m in rows["month"]], rows["first_visit_conversion"], color=ACTION_RED, lw=2.6,
                        marker="o", ms=3.5, label=_channel(name, lang), **kwargs)
        ax.axhline(self.line, color=GREY, ls="--", lw=1,
                   label=i18n.pick(lang, f"复盘线 {self.line:.0%}", f"review line {self.line:.0%}"))
        month_ticks(ax, months, lang)
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_xlabel(i18n.pick(lang, "首诊月份（首诊满30天的月份）", "month of the first visit (months with 30 days since)"))
        set_title(ax, title, lang)
        ax.legend(loc="lower left", ncol=min(len(order) + 1, 4), fontsize="small")
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the channels under the review line, with their recent conversion."""
        flagged = [f.subject for f in self.flags if f.subject in self.summary.index]
        line = f"{self.line:.0%}"
        when = self.windows(lang)[0]
        if flagged:
            rate = i18n.rate(_num(self.summary.loc[flagged[0], "recent"]), lang)
            if len(flagged) == 1:
                return i18n.pick(lang, f"{_names(flagged, lang)}{when}初诊成交率{rate}，低于{line}复盘线（红色）",
                                 f"{_names(flagged, lang)}'s first-visit conversion was {rate} in {when}, under the "
                                 f"{line} review line (red)")
            return i18n.pick(lang, f"{_names(flagged, lang)}{when}初诊成交率低于{line}复盘线（红色），最低{rate}",
                             f"{_names(flagged, lang)} convert under the {line} review line in {when} (red); "
                             f"lowest {rate}")
        judged = self.summary[self.summary["judged"]]["recent"].dropna()
        if judged.empty:
            return i18n.pick(lang, "各渠道初诊成交率（新患者太少，暂不判断）",
                             "First-visit conversion by channel (too few new patients to judge)")
        low = judged.idxmin()
        return i18n.pick(lang, f"{when}各渠道初诊成交率都不低于{line}，最低为{_channel(low, lang)}{i18n.rate(judged[low], lang)}",
                         f"Every channel converts {line} or more in {when}; lowest {_channel(low, lang)} "
                         f"{i18n.rate(judged[low], lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        s = self.summary
        recent, before = self.windows(lang)
        return pd.DataFrame({
            i18n.pick(lang, "来源渠道", "Channel"): [_channel(c, lang) for c in s.index],
            i18n.pick(lang, f"初诊成交率（{before}）", f"First-visit conversion, {before}"):
                [i18n.rate(_num(v), lang) for v in s["before"]],
            i18n.pick(lang, f"初诊成交率（{recent}）", f"First-visit conversion, {recent}"):
                [i18n.rate(_num(v), lang) for v in s["recent"]],
            i18n.pick(lang, f"每月新患者（{before}）", f"New patients a month, {before}"):
                [i18n.NO_DATA[lang] if _num(v) is None else f"{v:.1f}" for v in s["per_month_before"]],
            i18n.pick(lang, f"每月新患者（{recent}）", f"New patients a month, {recent}"):
                [i18n.NO_DATA[lang] if _num(v) is None else f"{v:.1f}" for v in s["per_month_recent"]],
        })

    def metrics(self) -> dict:
        return {"channels": {name: {"first_visit_conversion_recent": _json(row.recent) if row.judged else None}
                             for name, row in self.summary.iterrows()}}


def channel_conversion(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date,
                       end: dt.date, thresholds: dict[str, Threshold] | None = None,
                       min_patients: int = MIN_JUDGED, economics: pd.DataFrame | None = None) -> ChannelConversion:
    """First-visit conversion (the contract's) by source channel and month, judged against the [S2] line.

    Parameters
    ----------
    patients, visits, charges : canonical tables; charges carry ``tier``.
    start, end : the analysis period, both days included.
    thresholds : the clinic's thresholds (`playbook.thresholds.resolve`); defaults when None.
    min_patients : a channel is judged with at least this many recent new patients who had their 30 days.
    economics : `new_patient_economics` of the period, when the caller has it already.
    """
    line = _line(thresholds, CONVERSION_LINE)
    last_day = data_end(visits, charges) or _ts(end)
    new = economics if economics is not None else new_patient_economics(
        patients, visits, charges, start=start, end=end, last_day=last_day)
    new = new[new["first_arrival"].between(_ts(start), _ts(end))]
    month = new["first_arrival"].dt.to_period("M").dt.to_timestamp()
    monthly = new.groupby([new["source_channel"], month.rename("month")]).agg(
        new_patients=("converted", "size"), converted=("converted", "sum"), complete=("complete_30d", "all"))
    monthly["first_visit_conversion"] = monthly["converted"] / monthly["new_patients"]
    monthly = monthly.rename(columns={"complete": "complete_30d"}).reset_index()
    # a month is complete when its last day + 30 days lies in the data (every new patient had 30 days)
    month_end = monthly["month"] + pd.offsets.MonthEnd(0)
    monthly["complete_30d"] = month_end.clip(upper=_ts(end)) + pd.Timedelta(days=CONVERSION_WINDOW_DAYS) <= last_day

    recent_from, before_from = _recent_window(start, end)
    n_recent = len(_months(recent_from, end))
    n_before = len(_months(before_from, recent_from - pd.Timedelta(days=1))) if before_from is not None else 0
    recent = new[new["first_arrival"] >= recent_from]
    before = new[new["first_arrival"] < recent_from] if before_from is not None else new.iloc[0:0]
    judged = recent[recent["complete_30d"]]
    summary = pd.DataFrame({
        "new_patients": new.groupby("source_channel").size(),
        "recent_patients": recent.groupby("source_channel").size(),
        "judged_patients": judged.groupby("source_channel").size(),
        "recent": judged.groupby("source_channel")["converted"].mean(),
        "before": before.groupby("source_channel")["converted"].mean(),
        "per_month_recent": recent.groupby("source_channel").size() / max(n_recent, 1),
        "per_month_before": before.groupby("source_channel").size() / n_before if n_before else np.nan,
    })
    summary[["new_patients", "recent_patients", "judged_patients"]] = (
        summary[["new_patients", "recent_patients", "judged_patients"]].fillna(0).astype(int))
    if n_before:
        summary["per_month_before"] = summary["per_month_before"].fillna(0.0)
    summary["per_month_recent"] = summary["per_month_recent"].fillna(0.0)
    summary = summary.sort_values(["new_patients"], ascending=False, kind="stable")
    summary["judged"] = summary["judged_patients"] >= max(min_patients, 1)
    value = _value_of_a_conversion(new)

    flags = []
    for name, row in summary.iterrows():
        if not (row.judged and line.breached(row.recent)):
            continue
        rose = (n_before and row.per_month_before > 0 and row.per_month_recent >= VOLUME_RISE * row.per_month_before
                and _num(row.before) is not None and row.recent < row.before)
        per_converted = value.get(name, value.get(None, 0.0))
        at_stake = max(row.per_month_recent * 12 * (line.value - row.recent) * per_converted, 0.0)
        flags.append(_conversion_flag(name, row, line, bool(rose), at_stake, recent_from, _ts(end), before_from))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    summary["flagged"] = summary.index.isin([f.subject for f in flags])
    zh, en = _conversion_sentences(summary, flags, line, recent_from, _ts(end), new.empty, min_patients)
    return ChannelConversion("channels", monthly, zh, en, flags, summary=summary, line=line.value,
                             recent_from=recent_from, last_day=last_day, before_from=before_from, end=_ts(end))


def _value_of_a_conversion(new: pd.DataFrame) -> dict:
    """Revenue in 90 days of a converted new patient (complete 90 days), per channel; None = the clinic's."""
    done = new[new["converted"] & new["complete_90d"]]
    value = done.groupby("source_channel")["revenue_90d"].mean().to_dict()
    value[None] = float(done["revenue_90d"].mean()) if len(done) else 0.0
    return {k: float(v) for k, v in value.items() if _num(v) is not None}


def _conversion_flag(name, row, line: Threshold, rose: bool, at_stake: float, first, last, before_from) -> Finding:
    """A channel converting under the review line: an acquisition problem when its volume rose meanwhile
    (it brings people who do not mean to be treated), else the first-visit experience."""
    return Finding.past(
        line, float(row.recent), kind="channel_conversion_volume" if rose else "channel_conversion",
        metric="first_visit_conversion_recent", problem_class="acquisition" if rose else "experience",
        segment=Segment("channel", name), window=Window(first.date(), last.date()), reference=_num(row.before),
        reference_window=Window(before_from.date(), (first - pd.Timedelta(days=1)).date()) if before_from is not None
        else None,
        stake=Stake(round(at_stake, 2), "channel_conversion_gap"),
        facts={"per_month_before": _num(row.per_month_before), "per_month_recent": float(row.per_month_recent)})


def _conversion_sentences(summary, flags, line, first, last, empty, min_patients) -> tuple[str, str]:
    if empty:
        return ("分析期内没有新患者，无法按渠道看初诊成交率。",
                "No new patients in the period: conversion by channel cannot be shown.")
    zh_when, en_when = i18n.window(first, last, "zh"), i18n.window(first, last, "en")
    if flags:
        worst = flags[0]
        more_zh = f"另有{len(flags) - 1}个渠道也低于复盘线。" if len(flags) > 1 else "其他渠道都在复盘线以上。"
        more_en = (f" {len(flags) - 1} more {i18n.plural(len(flags) - 1, 'channel is', 'channels are')} under the "
                   "line too." if len(flags) > 1
                   else " The other channels are above the line.")
        return worst.sentence("zh") + more_zh, worst.sentence("en") + more_en
    judged = summary[summary["judged"]]
    if judged.empty:
        return (f"{zh_when}每个渠道完成30天观察的新患者都不足{min_patients}人，成交率只作参考，暂不评判。",
                f"In {en_when} no channel has {min_patients} new patients who have had their 30 days: the rates are "
                f"shown, not judged.")
    low = judged["recent"].idxmin()
    rate = judged.loc[low, "recent"]
    return (f"{zh_when}各主要渠道初诊成交率都不低于{line.value:.0%}的复盘线，最低的是{_channel(low, 'zh')}"
            f"（{i18n.rate(rate, 'zh')}）：保持按月跟踪。",
            f"In {en_when} every sizeable channel's first-visit conversion is {line.value:.0%} or more; the lowest is "
            f"{_channel(low, 'en')} ({i18n.rate(rate, 'en')}): keep tracking it monthly.")


# ---------------------------------------------------------------------------------------------------
# The channel-effect table of the weekly review [S0]


@dataclass
class ChannelEconomics(AnalysisResult):
    """Per channel: leads → arrivals → new patients → conversion → high-value deals, spend, cost, ROI."""

    monthly: pd.DataFrame = None  # channel × month
    scalars: dict = field(default_factory=dict)
    has_leads: bool = False
    has_spend: bool = False
    line: float = field(kw_only=True)  # the threshold in force

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Cost per new patient against what a new patient pays in 90 days, per channel with spend."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        if not self.has_spend or self.table["spend"].fillna(0).eq(0).all():
            return no_data(ax, lang, title)
        t = self.table[self.table["spend"].fillna(0) > 0]
        per = t["revenue_90d"] / t["complete_patients"].where(t["complete_patients"] > 0)
        y = np.arange(len(t))
        low = t["roi"].fillna(np.inf) < self.line
        ax.barh(y + 0.2, t["cost_per_new_patient"].fillna(0), height=0.4, color=PALETTE[4],
                label=i18n.pick(lang, "获客成本", "cost per new patient"), **kwargs)
        ax.barh(y - 0.2, per.fillna(0), height=0.4, color=[ACTION_RED if v else PALETTE[1] for v in low],
                label=i18n.pick(lang, "90天内人均消费", "revenue in 90 days"))
        ax.set_yticks(y, [_channel(c, lang) for c in t.index])
        ax.invert_yaxis()
        ax.set_xlabel(i18n.pick(lang, "元/人", "yuan per new patient"))
        set_title(ax, title, lang)
        ax.legend(loc="lower right", fontsize="small")
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the channel whose 90-day revenue returns least of its spend."""
        roi = self.table["roi"].where(self.table["spend"].fillna(0) > 0).dropna() if self.has_spend else pd.Series()
        if roi.empty:
            return i18n.pick(lang, "每位新患者：获客成本与90天消费（没有投放记录）",
                             "Per new patient: cost and 90-day revenue (no spend recorded)")
        low = roi.idxmin()
        times = f"{roi[low]:.2f}"
        if roi[low] < self.line:
            return i18n.pick(lang, f"{_channel(low, lang)}新患者90天消费只有投放的{times}倍，低于止损线{self.line:g}（红色）",
                             f"{_channel(low, lang)}'s new patients paid back only {times} times its spend in 90 days, "
                             f"under the {self.line:g} stop-loss line (red)")
        return i18n.pick(lang, f"各渠道新患者90天消费都超过投放的{self.line:g}倍，最低为{_channel(low, lang)}（{times}倍）",
                         f"Every channel's new patients paid back over {self.line:g} times its spend in 90 days; "
                         f"lowest {_channel(low, lang)} ({times})")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        out = {i18n.pick(lang, "来源渠道", "Channel"): [_channel(c, lang) for c in t.index],
               i18n.pick(lang, "新患者", "New patients"): [i18n.count(v, lang) for v in t["new_patients"]],
               i18n.pick(lang, "初诊成交率", "Conversion"): [i18n.rate(_num(v), lang) for v in t["first_visit_conversion"]],
               i18n.pick(lang, "90天高值成交", "High-value deals in 90 days"):
                   [i18n.count(v, lang) for v in t["high_value_deals"]],
               i18n.pick(lang, "高值成交天数", "Days to high-value deal"):
                   [i18n.NO_DATA[lang] if _num(v) is None else f"{v:.0f}" for v in t["conversion_days_median"]]}
        if self.has_leads:
            out[i18n.pick(lang, "线索到店率", "Lead arrival rate")] = [i18n.rate(_num(v), lang) for v in t["arrival_rate"]]
        if self.has_spend:
            out[i18n.pick(lang, "投放", "Spend")] = i18n.money_column([_num(v) or None for v in t["spend"]], lang,
                                                                    missing="—")
            out[i18n.pick(lang, "获客成本", "Cost per new patient")] = i18n.money_column(
                [_num(v) for v in t["cost_per_new_patient"]], lang, missing="—")
            out[i18n.pick(lang, "投入产出比（ROI，90天）", "ROI (90 days)")] = [
                _roi_text(v, lang) if _num(v) is not None else "—" for v in t["roi"]]
        return pd.DataFrame(out)

    def metrics(self) -> dict:
        keys = ["high_value_deals", "revenue_90d", "conversion_days_median"]
        if self.has_leads:
            keys = ["leads", "arrivals", "arrival_rate"] + keys
        if self.has_spend:
            keys += ["spend", "cost_per_new_patient", "roi"]
        channels = {name: {k: _json(row[k]) for k in keys} for name, row in self.table.to_dict("index").items()}
        months: dict = {}
        month_keys = ["new_patients", "first_visit_conversion", "complete_30d", "high_value_deals", "revenue_90d",
                      "complete_90d"]
        if self.has_spend:
            month_keys += ["spend", "cost_per_new_patient", "roi"]
        if self.has_leads:
            month_keys += ["leads", "arrivals", "arrival_rate"]
        for row in self.monthly.to_dict("records"):
            months.setdefault(row["channel"], {})[f"{row['month']:%Y-%m}"] = {k: _json(row[k]) for k in month_keys}
        return {"kpis": {k: _json(v) for k, v in self.scalars.items()}, "channels": channels, "channel_months": months}


def channel_economics(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date,
                      end: dt.date, leads: pd.DataFrame | None = None, campaigns: pd.DataFrame | None = None,
                      thresholds: dict[str, Threshold] | None = None,
                      economics: pd.DataFrame | None = None) -> ChannelEconomics:
    """The channel-effect table [S0]: per channel and per channel-month, from leads to ROI.

    Parameters
    ----------
    patients, visits, charges : canonical tables; charges carry ``tier``.
    start, end : the analysis period, both days included.
    leads : the optional leads table (``channel``, ``created_at``, ``arrived``); None leaves out leads,
        arrivals and arrival rate.
    campaigns : the optional campaigns table (``channel``, ``start``, ``end``, ``spend``); None leaves out
        spend, cost per new patient and ROI.
    thresholds : the clinic's thresholds; ``channel_roi_stop_loss`` is quoted in the sentence.
    economics : `new_patient_economics` of the period, when the caller has it already.
    """
    line = _line(thresholds, STOP_LOSS_LINE)
    first_day, last_period_day = _ts(start), _ts(end)
    last_day = data_end(visits, charges) or last_period_day
    judged_from = max(first_day, data_start(visits, charges) or first_day)
    new = economics if economics is not None else new_patient_economics(
        patients, visits, charges, start=start, end=end, last_day=last_day)
    new = new[new["first_arrival"].between(first_day, last_period_day)]
    judged_until = min(last_day - pd.Timedelta(days=REVENUE_WINDOW_DAYS), last_period_day)  # 90 days in the data
    roi_possible = _judged_days(judged_from, judged_until) >= MIN_ROI_DAYS
    known = _patient_channels(patients)
    unmatched: dict[str, float] = {}
    done = new[new["complete_90d"]]
    g = new.groupby("source_channel")
    table = pd.DataFrame({
        "new_patients": g.size(),
        "first_visit_conversion": g["converted"].mean(),
        "high_value_deals": g["high_value_deal"].sum(),
        "conversion_days_median": g["days_to_high_value"].median(),
        "complete_patients": done.groupby("source_channel").size(),
        "revenue_90d": done.groupby("source_channel")["revenue_90d"].sum(),
    })
    month = new["first_arrival"].dt.to_period("M").dt.to_timestamp().rename("month")
    gm = new.groupby([new["source_channel"].rename("channel"), month])
    monthly = pd.DataFrame({
        "new_patients": gm.size(), "first_visit_conversion": gm["converted"].mean(),
        "high_value_deals": gm["high_value_deal"].sum(), "revenue_90d": gm["revenue_90d"].sum(),
    })

    spend_days = None
    if campaigns is not None:
        spend_days = daily_spend(campaigns)
        spend_days = spend_days[spend_days["day"].between(first_day, last_period_day)]
        by_channel = spend_days.groupby("channel")["spend"].sum()
        unmatched = {k: float(v) for k, v in by_channel.items() if k not in known}
        table = table.reindex(table.index.union(pd.Index(list(by_channel.index))))
        table["spend"] = by_channel
        # only the new patients who first arrived on a day the channel spent are attributed to its spend
        spent_days = spend_days.groupby(["channel", "day"]).size().index
        on_spend = done.set_index(["source_channel", "first_arrival"]).index.isin(spent_days)
        attributed = done[on_spend & (done["first_arrival"] >= judged_from).to_numpy()]
        table["revenue_attributed"] = attributed.groupby("source_channel")["revenue_90d"].sum()
        judged_spend = spend_days[spend_days["day"].between(judged_from, judged_until)].groupby("channel")["spend"].sum()
        sm = spend_days.groupby([spend_days["channel"], spend_days["day"].dt.to_period("M").dt.to_timestamp()
                                 .rename("month")])["spend"].sum()
        monthly = monthly.join(sm.rename("spend"), how="outer")
        am = attributed.groupby([attributed["source_channel"].rename("channel"),
                                 attributed["first_arrival"].dt.to_period("M").dt.to_timestamp().rename("month")])
        monthly = monthly.join(am["revenue_90d"].sum().rename("revenue_attributed"), how="left")
    lead_frame = None
    if leads is not None:
        lead_frame = _lead_frame(leads)
        lead_frame = lead_frame[lead_frame["day"].between(first_day, last_period_day)]
        gl = lead_frame.groupby("channel")
        table = table.reindex(table.index.union(pd.Index(list(gl.groups))))
        table["leads"], table["arrivals"] = gl.size(), gl["arrived"].sum()
        glm = lead_frame.groupby([lead_frame["channel"], lead_frame["day"].dt.to_period("M").dt.to_timestamp()
                                  .rename("month")])["arrived"]
        monthly = monthly.join(pd.DataFrame({"leads": glm.size(), "arrivals": glm.sum()}), how="outer")

    counts = [c for c in ("new_patients", "high_value_deals", "complete_patients", "leads", "arrivals") if c in table]
    table[counts] = table[counts].fillna(0).astype(int)
    table["revenue_90d"] = table["revenue_90d"].fillna(0.0)
    if campaigns is not None:
        table["spend"] = table["spend"].fillna(0.0)
        table["cost_per_new_patient"] = [_ratio(s, n) if s > 0 else None for s, n in zip(table["spend"],
                                                                                        table["new_patients"])]
        judged_spend = judged_spend.reindex(table.index).fillna(0.0)
        table["revenue_attributed"] = table["revenue_attributed"].fillna(0.0)
        table["roi"] = [_ratio(r, s) if roi_possible and name not in unmatched else None
                        for name, r, s in zip(table.index, table["revenue_attributed"], judged_spend)]
    if leads is not None:
        table["arrival_rate"] = [_ratio(a, n) for a, n in zip(table["arrivals"], table["leads"])]
    table = table.sort_values(["new_patients"], ascending=False, kind="stable")
    table.index.name = "source_channel"
    table["conversion_days_median"] = table["conversion_days_median"].astype("float64")

    monthly = monthly.reset_index()
    monthly_counts = [c for c in ("new_patients", "high_value_deals", "leads", "arrivals") if c in monthly]
    monthly[monthly_counts] = monthly[monthly_counts].fillna(0).astype(int)
    monthly["revenue_90d"] = monthly["revenue_90d"].fillna(0.0)
    month_end = (monthly["month"] + pd.offsets.MonthEnd(0)).clip(upper=last_period_day)
    monthly["complete_30d"] = month_end + pd.Timedelta(days=CONVERSION_WINDOW_DAYS) <= last_day
    monthly["complete_90d"] = (month_end <= judged_until) & (monthly["month"] >= judged_from)
    if campaigns is not None:
        monthly["spend"] = monthly["spend"].fillna(0.0)
        monthly["cost_per_new_patient"] = [_ratio(s, n) if s > 0 else None
                                           for s, n in zip(monthly["spend"], monthly["new_patients"])]
        monthly["revenue_attributed"] = monthly["revenue_attributed"].fillna(0.0)
        monthly["roi"] = [_ratio(r, s) if c and name not in unmatched else None for name, r, s, c in
                          zip(monthly["channel"], monthly["revenue_attributed"], monthly["spend"],
                              monthly["complete_90d"])]
    if leads is not None:
        monthly["arrival_rate"] = [_ratio(a, n) for a, n in zip(monthly["arrivals"], monthly["leads"])]
    monthly = monthly.sort_values(["channel", "month"], kind="stable").reset_index(drop=True)

    scalars = {
        "high_value_deal_rate_90d": _ratio(done["high_value_deal"].sum(), len(done)),
        "days_to_high_value_median": _num(new["days_to_high_value"].median()) if new["high_value_deal"].any() else None,
    }
    if campaigns is not None:
        paid_channels = [c for c in table.index[table["spend"] > 0] if c not in unmatched]
        total = float(table["spend"].sum())
        matched = float(table.loc[paid_channels, "spend"].sum())
        scalars["campaign_spend"] = round(total, 2)
        scalars["campaign_roi_90d"] = _ratio(table.loc[paid_channels, "revenue_attributed"].sum(),
                                             judged_spend.loc[paid_channels].sum()) if roi_possible else None
        scalars["cost_per_new_patient"] = (_ratio(matched, table.loc[paid_channels, "new_patients"].sum())
                                           if matched else None)
    if leads is not None:
        scalars["lead_arrival_rate"] = _ratio(lead_frame["arrived"].sum(), len(lead_frame))
    zh, en = _economics_sentences(table, campaigns is not None, new.empty, line.value)
    more_zh = [w for w, missing in (("营销活动表可加上投放、获客成本和ROI", campaigns is None),
                                    ("线索表可加上到店率", leads is None)) if missing]
    more_en = [w for w, missing in (("the campaigns table would add spend, cost per new patient and ROI",
                                     campaigns is None), ("the leads table the arrival rate", leads is None)) if missing]
    if more_zh and not new.empty:
        zh += f"（提供{'，'.join(more_zh)}。）"
        text = "; ".join(more_en)
        en += f" ({text[0].upper()}{text[1:]}.)"
    if unmatched:
        names = "、".join(unmatched)
        zh += (f"营销活动表中的渠道「{names}」在患者档案里找不到同名来源渠道，其投放{i18n.money(sum(unmatched.values()), 'zh')}"
               f"没有算入回报：请把两份导出的渠道名称统一。")
        en += (f" The campaigns name {i18n.plural(len(unmatched), 'a channel', 'channels')} {', '.join(unmatched)} that "
               f"no patient's source channel matches, so "
               f"their spend ({i18n.money(sum(unmatched.values()), 'en')}) is left out of ROI: use the same channel "
               f"names in both exports.")
    return ChannelEconomics("channels", table, zh, en, monthly=monthly, scalars=scalars,
                            has_leads=leads is not None, has_spend=campaigns is not None, line=line.value)


def _economics_sentences(table: pd.DataFrame, has_spend: bool, empty: bool, line: float) -> tuple[str, str]:
    if empty or table.empty:
        return ("分析期内没有新患者，渠道效果表为空。", "No new patients in the period: the channel table is empty.")
    paid = table[(table["spend"] > 0) & table["roi"].notna()] if has_spend else table.iloc[0:0]
    paid = paid[paid["cost_per_new_patient"].notna()] if has_spend else paid
    if not paid.empty:
        cost = paid["cost_per_new_patient"].astype("float64")
        cheap, dear = cost.idxmin(), cost.idxmax()
        best, worst = paid["roi"].idxmax(), paid["roi"].idxmin()
        b, w = paid.loc[best, "roi"], paid.loc[worst, "roi"]
        span_zh = (f"分析期内每位新患者的获客成本从{_channel(cheap, 'zh')}的{i18n.money(cost[cheap], 'zh')}到"
                   f"{_channel(dear, 'zh')}的{i18n.money(cost[dear], 'zh')}")
        span_en = (f"Over the period a new patient cost from {i18n.money(cost[cheap], 'en')} ({_channel(cheap, 'en')}) "
                   f"to {i18n.money(cost[dear], 'en')} ({_channel(dear, 'en')})")
        if len(paid) == 1:
            span_zh = f"分析期内{_channel(cheap, 'zh')}每位新患者的获客成本{i18n.money(cost[cheap], 'zh')}"
            span_en = f"Over the period a new patient from {_channel(cheap, 'en')} cost {i18n.money(cost[cheap], 'en')}"
        if w < line:
            return (f"{span_zh}；{_channel(worst, 'zh')}的新患者90天内只带回投放的{w:.2f}倍，低于{line:g}的止损线：把预算从它移向"
                    f"回报高的渠道（{_channel(best, 'zh')}为{b:.2f}倍）。",
                    f"{span_en}; {_channel(worst, 'en')}'s new patients paid back only {w:.2f} times its spend in 90 "
                    f"days, under the {line:g} stop-loss line: move budget from it to channels that return more "
                    f"({_channel(best, 'en')}: {b:.2f}).")
        range_zh = f"各渠道90天回报在{w:.2f}到{b:.2f}倍之间" if len(paid) > 1 else f"90天回报为{w:.2f}倍"
        range_en = (f"every channel paid back {w:.2f} to {b:.2f} times its spend in 90 days" if len(paid) > 1 else
                    f"it paid back {w:.2f} times its spend in 90 days")
        return (f"{span_zh}；整段时期看，{range_zh}，在{line:g}的止损线以上，但活动期间要按周看回报，才能及时止损（见下）。",
                f"{span_en}; taken as a whole, {range_en}, above the {line:g} stop-loss line, yet campaigns must "
                f"be watched week by week to stop losses in time (see below).")
    deals = table[table["high_value_deals"] > 0]
    if not deals.empty:
        slow = deals["conversion_days_median"].idxmax()
        cycle = deals.loc[slow, "conversion_days_median"]
        return (f"分析期内的新患者中有{i18n.count(deals['high_value_deals'].sum())}位在90天内做了高值项目；{_channel(slow, 'zh')}"
                f"的成交周期最长（中位{cycle:.0f}天）：对它的新患者跟进要更早更密。",
                f"Over the period {i18n.count(deals['high_value_deals'].sum(), 'en')} of the new patients bought a high-value treatment "
                f"within 90 days; {_channel(slow, 'en')} takes longest (median {cycle:.0f} days): follow its new "
                f"patients up sooner and more often.")
    return ("分析期内新患者在90天内没有高值项目成交：检查高值项目的咨询与报价流程。",
            "No new patient of the period bought a high-value treatment within 90 days: check how high-value "
            "treatments are consulted and priced.")


# ---------------------------------------------------------------------------------------------------
# Weekly ROI and the stop-loss rule [S0]


@dataclass
class StopLoss(AnalysisResult):
    """Weekly ROI per channel with spend (13 weeks ending with the week) and the [S0] stop-loss streaks."""

    streaks: pd.DataFrame = None  # channel, first_week, last_week, weeks, roi_min, current
    line: float = field(kw_only=True)  # the threshold in force
    latest_week: pd.Timestamp | None = None

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", weeks: int = PLOT_WEEKS, **kwargs) -> plt.Axes:
        """Each channel's weekly ROI over the last ``weeks`` weeks that can be judged; red = the stop-loss streak."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        if self.latest_week is None or not self.table["judged"].any():
            return no_data(ax, lang, title)
        first = self.latest_week - pd.Timedelta(weeks=weeks - 1)
        t = self.table[self.table["week"].between(first, self.latest_week)]
        shown = t[t["judged"]]
        if shown.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        channels = list(dict.fromkeys(shown["channel"]))
        colors = _colors(channels, set())  # calm colours; only the streak itself is drawn in red
        top = max(self.line * 3, min(float(shown["roi"].quantile(0.9)) * 1.15, self.line * 5))
        for name in channels:
            rows = t[t["channel"] == name]
            roi = rows["roi"].where(rows["judged"]).clip(upper=top)
            ax.plot(rows["week"], roi, color=colors[name], lw=2.0 if name in flagged else 1.4,
                    label=_channel(name, lang), **kwargs)
            streak = rows[rows["in_current_streak"]]
            if len(streak):
                ax.plot(streak["week"], streak["roi"].clip(upper=top), color=ACTION_RED, lw=2.8, marker="o", ms=3.5,
                        label=i18n.pick(lang, f"{_channel(name, lang)}：连续低于止损线",
                                        f"{_channel(name, lang)}: under the line"))
        ax.axhline(self.line, color=GREY, ls="--", lw=1)
        ax.text(first, self.line, i18n.pick(lang, f"止损线 {self.line:g}", f"stop-loss line {self.line:g}"),
                va="bottom", ha="left", fontsize="small", color=GREY)
        ax.set_ylim(0, top * 1.05)
        ax.set_ylabel(i18n.pick(lang, "近13周新患者90天消费 ÷ 投放", "90-day revenue / spend, 13 weeks"))
        month_axis(ax, lang, first=first, last=self.latest_week)
        set_title(ax, title, lang)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the channels still under the stop-loss line, for how many weeks."""
        current = self.streaks[self.streaks["current"]] if len(self.streaks) else self.streaks
        if len(current):
            row = current.sort_values("weeks", ascending=False).iloc[0]
            name, weeks = _channel(row["channel"], lang), int(row["weeks"])
            return i18n.pick(lang, f"{name}投放回报连续{weeks}周低于止损线{self.line:g}（红色），最近"
                                   f"{_roi_text(row['roi_last'], lang)}，应止损",
                             f"{name}'s ROI has been under the {self.line:g} stop-loss line for {weeks} weeks (red), "
                             f"latest {_roi_text(row['roi_last'], lang)}: stop the loss")
        return i18n.pick(lang, f"没有渠道的投放回报连续低于止损线{self.line:g}",
                         f"No channel's ROI is running under the {self.line:g} stop-loss line")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        s = self.streaks
        return pd.DataFrame({
            i18n.pick(lang, "渠道", "Channel"): [_channel(c, lang) for c in s["channel"]],
            i18n.pick(lang, "低于止损线的周", "Weeks under the line"): [
                _span(a, b + pd.Timedelta(days=6), lang) for a, b in zip(s["first_week"], s["last_week"])],
            i18n.pick(lang, "连续周数", "Weeks"): [str(int(v)) for v in s["weeks"]],
            i18n.pick(lang, "最低回报", "Lowest ROI"): [_roi_text(v, lang) for v in s["roi_min"]],
            i18n.pick(lang, "状态", "Status"): [i18n.pick(lang, "仍在持续：止损", "still running: stop-loss") if c else
                                              i18n.pick(lang, "已结束", "ended") for c in s["current"]],
        })

    def metrics(self) -> dict:
        latest = self.table[self.table["judged"] & (self.table["week"] == self.latest_week)]
        channels = {row.channel: {"roi_weekly_latest": _json(row.roi)} for row in latest.itertuples()}
        return {"kpis": {"stop_loss_channels": int(self.streaks["current"].sum()) if len(self.streaks) else 0},
                "channels": channels}


def channel_stop_loss(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, campaigns: pd.DataFrame,
                      *, start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None,
                      weeks: int = ROI_WEEKS, min_patients: int = MIN_ROI_PATIENTS,
                      economics: pd.DataFrame | None = None) -> StopLoss:
    """Weekly channel ROI and the [S0] stop-loss rule: ROI under 1.5 for 2 consecutive weeks.

    Parameters
    ----------
    patients, visits, charges : canonical tables; charges carry ``tier``.
    campaigns : the campaigns table (``channel``, ``start``, ``end``, ``spend``).
    start, end : the analysis period, both days included; weeks run Monday to Sunday.
    thresholds : the clinic's thresholds; ``channel_roi_stop_loss`` and ``channel_roi_stop_loss_weeks``.
    weeks : each week's ROI is that of the ``weeks`` weeks ending with it (13, a quarter).
    min_patients : a week is judged when its ``weeks`` weeks hold at least this many attributed new patients.
    economics : `new_patient_economics` from ``weeks`` weeks before ``start`` to ``end``, when the caller has it.
    """
    line, run_weeks = _line(thresholds, STOP_LOSS_LINE), int(_line(thresholds, STOP_LOSS_WEEKS).value)
    last_day = data_end(visits, charges) or _ts(end)
    first_week = _monday(_ts(start))
    lead_in = first_week - pd.Timedelta(weeks=weeks - 1)
    new = economics if economics is not None else new_patient_economics(
        patients, visits, charges, start=lead_in.date(), end=end, last_day=last_day)
    new = new[new["first_arrival"].between(lead_in, _ts(end))]
    spend = daily_spend(campaigns)
    spend = spend[spend["day"].between(lead_in, _ts(end))]
    all_weeks = pd.date_range(lead_in, _ts(end), freq="7D")  # Mondays
    channels = list(spend.groupby("channel")["spend"].sum().sort_values(ascending=False).index)
    known = _patient_channels(patients)
    unmatched = [c for c in channels if c not in known]
    channels = [c for c in channels if c in known]
    first_data_day = data_start(visits, charges) or lead_in

    def by_week(values: pd.Series, days: pd.Series, keys: pd.Series) -> pd.DataFrame:
        frame = values.groupby([keys.to_numpy(), _monday(days).to_numpy()]).sum().unstack(0)
        return frame.reindex(index=all_weeks, columns=channels).fillna(0.0)

    week_spend = by_week(spend["spend"], spend["day"], spend["channel"])
    week_revenue = by_week(new["revenue_90d"], new["first_arrival"], new["source_channel"])
    week_patients = by_week(pd.Series(1.0, index=new.index), new["first_arrival"], new["source_channel"])
    # only the new patients of weeks the channel spent in are attributed to its spend
    spent = week_spend > 0
    window_spend = week_spend.rolling(weeks, min_periods=1).sum()
    window_revenue = week_revenue.where(spent, 0.0).rolling(weeks, min_periods=1).sum()
    window_patients = week_patients.where(spent, 0.0).rolling(weeks, min_periods=1).sum()
    week_end = all_weeks + pd.Timedelta(days=6)
    judgeable = pd.Series((week_end + pd.Timedelta(days=REVENUE_WINDOW_DAYS) <= last_day) & (week_end <= _ts(end))
                          & (all_weeks >= first_week) & (all_weeks - pd.Timedelta(weeks=weeks - 1) >= first_data_day),
                          index=all_weeks)
    latest = all_weeks[judgeable.to_numpy()].max() if judgeable.any() else None

    rows = []
    for name in channels:
        roi = window_revenue[name] / window_spend[name].where(window_spend[name] > 0)
        judged = judgeable & (week_spend[name] > 0) & (window_patients[name] >= min_patients)
        below = judged & (roi < line.value)
        run = (~below).cumsum()
        run_length = below.groupby(run).transform("sum")
        rows.append(pd.DataFrame({
            "channel": name, "week": all_weeks, "spend": week_spend[name].to_numpy(),
            "spend_13w": window_spend[name].to_numpy(), "revenue_13w": window_revenue[name].to_numpy(),
            "new_patients_13w": window_patients[name].to_numpy().astype(int), "roi": roi.to_numpy(),
            "judged": judged.to_numpy(), "below": below.to_numpy(), "run": run.to_numpy(),
            "streak": (below & (run_length >= run_weeks)).to_numpy()}))
    cols = ["channel", "week", "spend", "spend_13w", "revenue_13w", "new_patients_13w", "roi", "judged", "below",
            "run", "streak"]
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        {c: pd.Series(dtype="bool" if c in ("judged", "below", "streak") else "datetime64[us]" if c == "week"
                      else "str" if c == "channel" else "float64") for c in cols})
    table = table[table["week"] >= first_week].reset_index(drop=True)

    streak_rows = []
    for (name, _), g in table.loc[table["streak"].astype(bool)].groupby(["channel", "run"], sort=False):
        current = latest is not None and g["week"].iloc[-1] == latest
        streak_rows.append({"channel": name, "first_week": g["week"].iloc[0], "last_week": g["week"].iloc[-1],
                            "weeks": len(g), "roi_min": float(g["roi"].min()), "roi_last": float(g["roi"].iloc[-1]),
                            "spend_13w": float(g["spend_13w"].iloc[-1]), "current": bool(current)})
    streaks = pd.DataFrame(streak_rows, columns=["channel", "first_week", "last_week", "weeks", "roi_min", "roi_last",
                                                 "spend_13w", "current"])
    table["in_current_streak"] = False
    for s in streaks[streaks["current"]].itertuples():
        table.loc[(table["channel"] == s.channel) & table["week"].between(s.first_week, s.last_week),
                  "in_current_streak"] = True
    table = table.drop(columns=["run"])

    running = _running_campaigns(campaigns, latest)
    flags = [_stop_loss_flag(s, line, weeks, running.get(s.channel, [])) for s in streaks[streaks["current"]].itertuples()]
    flags.sort(key=lambda f: -f.revenue_at_stake)
    zh, en = _stop_loss_sentences(streaks, flags, latest, line, bool(channels or unmatched), running)
    if unmatched:
        zh += f"活动表中的渠道「{'、'.join(unmatched)}」在患者档案里没有同名来源渠道，未能评判：请统一渠道名称。"
        en += (f" {i18n.plural(len(unmatched), 'Campaign channel', 'Campaign channels')} {', '.join(unmatched)} "
               f"{i18n.plural(len(unmatched), 'matches', 'match')} no patient's source channel and "
               f"{i18n.plural(len(unmatched), 'is', 'are')} not judged: "
               f"use the same channel names in both exports.")
    return StopLoss("campaign_roi", table, zh, en, flags, streaks=streaks, line=line.value, latest_week=latest)


def _running_campaigns(campaigns: pd.DataFrame, week) -> dict[str, list[str]]:
    if week is None:
        return {}
    on = campaigns[(campaigns["start"] <= week + pd.Timedelta(days=6))
                   & (campaigns["end"].fillna(campaigns["start"]) >= week) & campaigns["spend"].fillna(0).gt(0)]
    label = (on["name"] if "name" in on else on["campaign_id"]).fillna(on["campaign_id"]).astype("str")
    return label.groupby(on["channel"].fillna(UNKNOWN_CHANNEL).astype("str")).agg(list).to_dict()


def _stop_loss_flag(s, line: Threshold, weeks: int, running: list[str]) -> Finding:
    first, last = pd.Timestamp(s.first_week), pd.Timestamp(s.last_week)
    return Finding.past(
        line, float(s.roi_last), kind="roi_weekly_latest", problem_class="acquisition",
        segment=Segment("channel", s.channel), window=Window(first.date(), (last + pd.Timedelta(days=6)).date()),
        stake=Stake(round(max((line.value - s.roi_last) * s.spend_13w * 52 / weeks, 0.0), 2), "roi_gap"),
        facts={"weeks": int(s.weeks), "first_week": first.date(), "last_week": last.date(), "running": list(running)})


def _stop_loss_sentences(streaks, flags, latest, line, any_spend, running) -> tuple[str, str]:
    if not any_spend:
        return ("分析期内没有营销活动的投放记录，无法按周计算渠道回报；如有投放，请在营销活动表中补充投放金额。",
                "No campaign spend is recorded in the period, so weekly channel ROI cannot be computed; if the clinic "
                "spent on marketing, add each campaign's spend to the campaigns table.")
    if latest is None:
        return ("分析期内还没有哪一周的新患者满90天，暂不能按周评判投放回报；数据再积累三个月后重新运行。",
                "No week of the period has new patients with 90 days behind them yet, so weekly ROI cannot be "
                "judged; run again when three more months of data are in.")
    past = streaks[~streaks["current"]]
    past_zh = past_en = ""
    if len(past):
        names = list(dict.fromkeys(past["channel"]))
        past_zh = f"此前{'、'.join(_channel(n, 'zh') for n in names)}也曾连续低于止损线，重复类似活动前先复盘。"
        past_en = (f" Earlier, {', '.join(_channel(n, 'en') for n in names)} also spent weeks under the line: review "
                   f"before repeating those campaigns.")
    if flags:
        more_zh = f"另有{len(flags) - 1}个渠道也在止损区。" if len(flags) > 1 else ""
        more_en = (f" {len(flags) - 1} more {i18n.plural(len(flags) - 1, 'channel is', 'channels are')} in stop-loss "
                   "too." if len(flags) > 1 else "")
        return flags[0].sentence("zh") + more_zh + past_zh, flags[0].sentence("en") + more_en + past_en
    return (f"最近可评估的一周（{i18n.week_of(latest, 'zh')}，新患者已满90天）各投放渠道回报都不低于{line.value:g}，"
            f"无需止损。" + past_zh,
            f"In the latest week that can be judged ({i18n.week_of(latest, 'en')}, its new patients have had their "
            f"90 days) every channel with spend returns {line.value:g} or more: no stop-loss." + past_en)


# ---------------------------------------------------------------------------------------------------
# Lead arrival rate [S0]


@dataclass
class LeadArrival(AnalysisResult):
    """Lead arrival rate (到店率) by channel and month, and each channel's recent change."""

    summary: pd.DataFrame = None  # per channel: leads and rate recently and before, fall, z
    step: float = field(kw_only=True)  # the [S0] arrival-rate step in force (``arrival_rate_step``)
    period: Window | None = None  # the leads' window (``rate``), the judged recent months and the months before
    recent: Window | None = None
    before: Window | None = None

    def _name(self, window: Window | None, lang: str, default: tuple[str, str]) -> str:
        return i18n.window(window.start, window.end, lang) if window is not None else i18n.pick(lang, *default)

    def target(self, lang: str = "zh") -> str:
        """The target the table's last column holds and the sentence asks for: one step [S0] above the
        recent months' rate (not a step each month)."""
        points = f"{self.step * 100:g}"
        recent = self._name(self.recent, lang, ("最近", "lately"))
        return i18n.pick(lang, f"比{recent}提升{points}个百分点", f"{points} points above {recent}")

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Monthly arrival rate per channel (complete lead months); red = a fall that needs action."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table[self.table["complete"]]
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        channels = self.summary.index.tolist()
        colors = _colors(channels, flagged)
        months = sorted(t["month"].unique())
        x = {m: i for i, m in enumerate(months)}
        for name in channels:
            rows = t[t["channel"] == name]
            ax.plot([x[m] for m in rows["month"]], rows["arrival_rate"], color=colors[name],
                    lw=2.6 if name in flagged else 1.4, marker="o" if name in flagged else None, ms=3.5,
                    label=_channel(name, lang), **kwargs)
        month_ticks(ax, months, lang)
        ax.set_ylim(0, min(1.0, max(0.1, float(t["arrival_rate"].max()) * 1.25)))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_xlabel(i18n.pick(lang, "线索月份", "month of the lead"))
        set_title(ax, title, lang)
        ax.legend(loc="upper left", ncol=min(len(channels), 6), fontsize="small")
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the channel whose leads arrive less than before, or the lowest rate."""
        flagged = [f.subject for f in self.flags if f.subject in self.summary.index]
        now = self._name(self.recent, lang, ("最近", "lately"))
        then = self._name(self.before, lang, ("此前", "before"))
        if flagged:
            row = self.summary.loc[flagged[0]]
            return i18n.pick(lang, f"{_channel(flagged[0], lang)}{now}线索到店率{i18n.rate(_num(row['recent']), lang)}，"
                                   f"{then}为{i18n.rate(_num(row['before']), lang)}（红色）",
                             f"{_channel(flagged[0], lang)}'s lead arrival rate was {i18n.rate(_num(row['recent']), lang)} "
                             f"in {now} against {i18n.rate(_num(row['before']), lang)} in {then} (red)")
        recent = self.summary["recent"].dropna()
        if recent.empty:
            return i18n.pick(lang, "各渠道线索到店率", "Lead arrival rate by channel")
        low = recent.idxmin()
        return i18n.pick(lang, f"{now}各渠道线索到店率没有明显下降；最低的{_channel(low, lang)}为{i18n.rate(recent[low], lang)}",
                         f"No channel's lead arrival rate fell in {now}; the lowest, {_channel(low, lang)}, is "
                         f"{i18n.rate(recent[low], lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        s = self.summary
        return pd.DataFrame({
            i18n.pick(lang, "渠道", "Channel"): [_channel(c, lang) for c in s.index],
            i18n.pick(lang, "线索数", "Leads"): [i18n.count(v, lang) for v in s["leads"]],
            self._name(self.period, lang, ("分析期", "Period")): [i18n.rate(_num(v), lang) for v in s["rate"]],
            self._name(self.before, lang, ("此前", "Before")): [i18n.rate(_num(v), lang) for v in s["before"]],
            self._name(self.recent, lang, ("最近", "Recently")): [i18n.rate(_num(v), lang) for v in s["recent"]],
            i18n.pick(lang, f"目标（{self.target(lang)}）", f"Target ({self.target(lang)})"):
                [i18n.rate(min(_num(v) + self.step, 1.0), lang) if _num(v) is not None else i18n.NO_DATA[lang]
                 for v in s["recent"]],
        })

    def metrics(self) -> dict:
        return {"channels": {name: {"arrival_rate_recent": _json(row.recent), "arrival_rate_fall": _json(row.fall)}
                             for name, row in self.summary.iterrows()}}




def lead_arrival(leads: pd.DataFrame, *, start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None,
                 last_day: pd.Timestamp | None = None, value_per_patient: dict | None = None) -> LeadArrival:
    """Lead arrival rate (到店率 = arrivals / leads [S0]) by channel and month, and its recent fall.

    Parameters
    ----------
    leads : the leads table (``channel``, ``created_at``, ``arrived``).
    start, end : the analysis period, both days included (leads by the day they were created).
    thresholds : the clinic's thresholds; ``arrival_rate_fall`` and ``arrival_rate_step``.
    last_day : the data end (default: the last lead); a lead month is judged once 30 days have passed.
    value_per_patient : revenue in 90 days of one new patient, per channel (None key: the clinic's), for
        the revenue at stake; without it the flags carry 0.
    """
    line, step = _line(thresholds, ARRIVAL_LINE), _line(thresholds, "arrival_rate_step")
    frame = _lead_frame(leads)
    last_day = last_day if last_day is not None else (frame["day"].max() if len(frame) else _ts(end))
    frame = frame[frame["day"].between(_ts(start), _ts(end))]
    month = frame["day"].dt.to_period("M").dt.to_timestamp().rename("month")
    g = frame.groupby([frame["channel"], month])["arrived"]
    table = pd.DataFrame({"leads": g.size(), "arrivals": g.sum().astype(int)}).reset_index()
    table["arrival_rate"] = table["arrivals"] / table["leads"]
    month_end = (table["month"] + pd.offsets.MonthEnd(0)).clip(upper=_ts(end))
    table["complete"] = month_end + pd.Timedelta(days=LEAD_SETTLE_DAYS) <= last_day

    complete_months = sorted(table.loc[table["complete"], "month"].unique())
    recent_months = complete_months[-RECENT_MONTHS:] if len(complete_months) >= 2 * RECENT_MONTHS else []
    before_months = complete_months[-RECENT_MONTHS - BEFORE_MONTHS:-RECENT_MONTHS] if recent_months else []
    by_channel = frame.groupby("channel")["arrived"]

    def window(months):
        sel = table[table["month"].isin(months)].groupby("channel")[["leads", "arrivals"]].sum()
        return sel["leads"], sel["arrivals"]

    n1, a1 = window(recent_months)
    n0, a0 = window(before_months)
    summary = pd.DataFrame({"leads": by_channel.size(), "arrivals": by_channel.sum(),
                            "recent_leads": n1, "recent_arrivals": a1, "before_leads": n0, "before_arrivals": a0})
    summary = summary.fillna(0).astype(int).sort_values("leads", ascending=False, kind="stable")
    summary["rate"] = [_ratio(a, n) for a, n in zip(summary["arrivals"], summary["leads"])]
    summary["recent"] = [_ratio(a, n) for a, n in zip(summary["recent_arrivals"], summary["recent_leads"])]
    summary["before"] = [_ratio(a, n) for a, n in zip(summary["before_arrivals"], summary["before_leads"])]
    summary["fall"] = [None if r is None or b is None else b - r for r, b in zip(summary["recent"], summary["before"])]
    summary["z"] = [_z(*row) for row in summary[["recent_arrivals", "recent_leads", "before_arrivals",
                                                  "before_leads"]].itertuples(index=False)]
    value = value_per_patient or {}
    flags = []
    for name, row in summary.iterrows():
        if row.fall is None or not line.breached(row.fall) or row.z is None or row.z < ARRIVAL_Z:
            continue
        per_patient = value.get(name, value.get(None, 0.0))
        at_stake = row.recent_leads * 12 / max(len(recent_months), 1) * row.fall * per_patient
        flags.append(_arrival_flag(name, row, line, step, at_stake, recent_months, before_months))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    windows = {"period": Window(_ts(start).date(), _ts(end).date())}
    if recent_months:
        windows["recent"] = _month_window(recent_months)
        windows["before"] = _month_window(before_months)
    result = LeadArrival("leads_funnel", table, "", "", flags, summary=summary, step=step.value, **windows)
    result.zh, result.en = _arrival_sentences(result, frame.empty)
    return result


def _month_window(months) -> Window:
    """The window of consecutive months (first days), from the first's first day to the last's last."""
    return Window(pd.Timestamp(months[0]).date(), (pd.Timestamp(months[-1]) + pd.offsets.MonthEnd(0)).date())


def _z(a1, n1, a0, n0) -> float | None:
    """Two-proportion z for a fall from a0/n0 to a1/n1 (positive = fell); None without both windows."""
    if not n1 or not n0:
        return None
    pooled = (a1 + a0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return None if se == 0 else (a0 / n0 - a1 / n1) / se


def _arrival_flag(name, row, line: Threshold, step: Threshold, at_stake: float, months, before_months) -> Finding:
    return Finding.past(
        line, float(row.fall), kind="arrival_rate_fall", problem_class="acquisition", segment=Segment("channel", name),
        window=_month_window(months), reference=float(row.before), reference_window=_month_window(before_months),
        stake=Stake(round(max(at_stake, 0.0), 2), "arrival_fall"),
        facts={"recent": float(row.recent), "step": step.value})


def _arrival_sentences(result: LeadArrival, empty: bool) -> tuple[str, str]:
    if empty:
        return ("分析期内没有线索记录，无法计算到店率。", "No leads in the period: the arrival rate cannot be computed.")
    flags, summary = result.flags, result.summary
    if flags:
        more_zh = f"另有{len(flags) - 1}个渠道到店率也在下降。" if len(flags) > 1 else ""
        more_en = f" {i18n.counted(len(flags) - 1, 'more channel')} fell too." if len(flags) > 1 else ""
        return flags[0].sentence("zh") + more_zh, flags[0].sentence("en") + more_en
    top = summary.index[0]
    rate = summary.loc[top, "rate"]
    if result.recent is not None:
        now_zh, now_en = result._name(result.recent, "zh", ("", "")), result._name(result.recent, "en", ("", ""))
        trend_zh, trend_en = f"{now_zh}各渠道线索到店率没有明显下降", f"no channel's lead arrival rate fell in {now_en}"
        aim_zh, aim_en = f"以{result.target('zh')}为目标跟踪（见表）", f"aim for {result.target('en')} (see the table)"
    else:
        trend_zh, trend_en = "线索记录不足一年，暂不判断趋势", "under a year of leads, so no trend is judged"
        aim_zh, aim_en = "按月跟踪", "track it monthly"
    return (f"分析期内线索最多的{_channel(top, 'zh')}线索到店率{i18n.rate(rate, 'zh')}；{trend_zh}：{aim_zh}。",
            f"Over the period {_channel(top, 'en')}, the channel with most leads, had a lead arrival rate of "
            f"{i18n.rate(rate, 'en')}; {trend_en}: {aim_en}.")


# ---------------------------------------------------------------------------------------------------
# ROI of each campaign


@dataclass
class CampaignRoi(AnalysisResult):
    """Each campaign of the period: spend, the new patients of its channel while it ran, their 90-day ROI."""

    line: float = field(kw_only=True)  # the threshold in force

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """ROI per campaign (days with complete 90 days), red under the stop-loss line."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table[self.table["roi"].notna()]
        if t.empty:
            return no_data(ax, lang, title)
        labels = [_campaign_label(n, a, b, lang) for n, a, b in zip(t["name"], t["start"], t["end"])]
        colors = [ACTION_RED if r < self.line else PALETTE[1] for r in t["roi"]]
        y = np.arange(len(t))
        ax.barh(y, t["roi"], color=colors, **kwargs)
        ax.set_yticks(y, labels)
        ax.axvline(self.line, color=GREY, ls="--", lw=1)
        ax.invert_yaxis()
        ax.set_xlabel(i18n.pick(lang, f"90天消费 ÷ 投放（虚线为止损线{self.line:g}）",
                                f"90-day revenue / spend (dashed: stop-loss {self.line:g})"))
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: how many campaigns returned under the stop-loss line, and the worst."""
        t = self.table[self.table["roi"].notna()]
        if t.empty:
            return i18n.pick(lang, "各营销活动的90天回报（还没有满90天的活动）", "90-day ROI of each campaign (none has 90 days yet)")
        under = t[t["roi"] < self.line]
        worst = t.loc[t["roi"].idxmin()]
        if under.empty:
            return i18n.pick(lang, f"{len(t)}个活动的90天回报都不低于止损线{self.line:g}，最低{_roi_text(worst['roi'], lang)}",
                             f"All {len(t)} campaigns returned at least {self.line:g} times their spend in 90 days; "
                             f"lowest {_roi_text(worst['roi'], lang)}")
        return i18n.pick(lang, f"{len(t)}个活动中{len(under)}个的90天回报低于止损线{self.line:g}（红色），最低"
                               f"{_roi_text(worst['roi'], lang)}",
                         f"{len(under)} of {len(t)} campaigns returned under the {self.line:g} stop-loss line in 90 days "
                         f"(red); lowest {_roi_text(worst['roi'], lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        return pd.DataFrame({
            i18n.pick(lang, "活动", "Campaign"): t["name"],
            i18n.pick(lang, "渠道", "Channel"): [_channel(c, lang) for c in t["channel"]],
            i18n.pick(lang, "时间", "Dates"): [i18n.span(a, b) for a, b in zip(t["start"], t["end"])],
            i18n.pick(lang, "投放", "Spend"): i18n.money_column([_num(v) for v in t["spend"]], lang),
            i18n.pick(lang, "新患者", "New patients"): [f"{v:.0f}" for v in t["new_patients"]],
            i18n.pick(lang, "获客成本", "Cost per new patient"): i18n.money_column(
                [_num(v) for v in t["cost_per_new_patient"]], lang, missing="—"),
            i18n.pick(lang, "投入产出比（ROI，90天）", "ROI (90 days)"): [_roi_text(v, lang) if _num(v) is not None else "—"
                                                             for v in t["roi"]],
        })


def _campaign_label(name: str, first: pd.Timestamp, last: pd.Timestamp, lang: str) -> str:
    """A campaign as the chart names it: its name and months, so that two runs of one campaign differ."""
    if lang == "zh":
        if (first.year, first.month) == (last.year, last.month):
            months = f"{first.month}月"
        elif first.year == last.year:
            months = f"{first.month}–{last.month}月"
        else:
            months = f"{i18n.month(first, lang)}–{i18n.month(last, lang)}"
        return f"{name}（{months}）"
    months = f"{first:%b}" if (first.year, first.month) == (last.year, last.month) else f"{first:%b}–{last:%b}"
    return f"{name} ({months})"


def campaign_roi(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, campaigns: pd.DataFrame, *,
                 start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None,
                 economics: pd.DataFrame | None = None) -> CampaignRoi:
    """ROI of each campaign that ran in the period.

    A campaign's new patients are its channel's new patients first arriving on its days; on a day when
    several campaigns of the channel spend, each gets the share of the day's spend it paid. ROI = their
    revenue in 90 days / the spend, both over the campaign's days whose 90 days lie in the data (and
    that the data covers); a campaign with fewer than 28 such days (or, when shorter, all its days) has
    no ROI yet. A campaign whose channel matches no patient's source channel gets none either.
    """
    line = _line(thresholds, STOP_LOSS_LINE)
    last_day = data_end(visits, charges) or _ts(end)
    judged_until = last_day - pd.Timedelta(days=REVENUE_WINDOW_DAYS)
    judged_from = data_start(visits, charges) or _ts(start)
    known = _patient_channels(patients)
    scope = campaigns[(campaigns["start"] <= _ts(end)) & (campaigns["end"].fillna(campaigns["start"]) >= _ts(start))
                      & campaigns["spend"].fillna(0).gt(0)]
    days = daily_spend(scope)
    first = days["day"].min() if len(days) else _ts(start)
    new = economics if economics is not None else new_patient_economics(
        patients, visits, charges, start=first.date(), end=max(days["day"].max(), _ts(end)).date() if len(days) else end,
        last_day=last_day)
    if len(days):
        share = days["spend"] / days.groupby(["channel", "day"])["spend"].transform("sum")
        g = new.groupby([new["source_channel"], new["first_arrival"]])
        per_day = pd.DataFrame({"n": g.size(), "revenue": g["revenue_90d"].sum()})
        per_day.index.names = ["channel", "day"]
        joined = days.join(per_day, on=["channel", "day"]).fillna({"n": 0.0, "revenue": 0.0})
        judged = joined["day"].between(judged_from, judged_until)
        per = pd.DataFrame({
            "new_patients": (joined["n"] * share).groupby(joined["campaign_id"]).sum(),
            "revenue_90d": (joined["revenue"] * share)[judged].groupby(joined.loc[judged, "campaign_id"]).sum(),
            "spend_judged": joined.loc[judged].groupby("campaign_id")["spend"].sum(),
            "days": joined.groupby("campaign_id").size(),
            "days_judged": joined.loc[judged].groupby("campaign_id").size(),
        })
    else:
        per = pd.DataFrame(columns=["new_patients", "revenue_90d", "spend_judged", "days", "days_judged"],
                           index=pd.Index([], dtype="str", name="campaign_id"), dtype="float64")
    table = pd.DataFrame({
        "campaign_id": scope["campaign_id"].astype("str"),
        "name": (scope["name"] if "name" in scope else scope["campaign_id"]).fillna(scope["campaign_id"]).astype("str"),
        "channel": scope["channel"].fillna(UNKNOWN_CHANNEL).astype("str"),
        "start": _day(scope["start"]), "end": _day(scope["end"].fillna(scope["start"])),
        "spend": scope["spend"].astype("float64"),
        "offer_price": scope["offer_price"] if "offer_price" in scope else np.nan,
        "units_sold": scope["units_sold"] if "units_sold" in scope else pd.NA,
    }).join(per, on="campaign_id")
    numbers = ["new_patients", "revenue_90d", "spend_judged", "days", "days_judged"]
    table[numbers] = table[numbers].astype("float64").fillna(0.0)
    table["matched"] = table["channel"].isin(known)
    table["cost_per_new_patient"] = [_ratio(s, n) if n >= 0.5 else None for s, n in zip(table["spend"],
                                                                                      table["new_patients"])]
    enough = (table["days_judged"] >= np.minimum(MIN_ROI_DAYS, table["days"])) & (table["days_judged"] > 0)
    table["roi"] = [_ratio(r, s) if ok and m else None
                    for r, s, ok, m in zip(table["revenue_90d"], table["spend_judged"], enough, table["matched"])]
    table["judged_share"] = [_ratio(j, s) for j, s in zip(table["spend_judged"], table["spend"])]
    table = table.sort_values("start", kind="stable").reset_index(drop=True)
    zh, en = _campaign_sentences(table, line)
    unmatched = list(dict.fromkeys(table.loc[~table["matched"], "channel"]))
    if unmatched:
        zh += f"活动表中的渠道「{'、'.join(unmatched)}」在患者档案里没有同名来源渠道，这些活动无法计算回报：请统一渠道名称。"
        en += (f" {i18n.plural(len(unmatched), 'Campaign channel', 'Campaign channels')} {', '.join(unmatched)} "
               f"{i18n.plural(len(unmatched), 'matches', 'match')} no patient's source channel, so those campaigns have "
               f"no ROI: use the same channel names in both exports.")
    return CampaignRoi("campaign_roi", table, zh, en, line=line.value)


def _campaign_sentences(table: pd.DataFrame, line: Threshold) -> tuple[str, str]:
    judged = table[table["roi"].notna()]
    if table.empty:
        return ("分析期内没有记录投放金额的营销活动。", "No campaign with recorded spend ran in the period.")
    if judged.empty:
        return ("分析期内的活动还没有新患者满90天，暂不能计算回报。",
                "No campaign of the period has new patients with 90 days behind them yet: no ROI so far.")
    low = judged[judged["roi"] < line.value]
    if low.empty:
        return (f"分析期内{len(judged)}个活动的90天回报都不低于{line.value:g}：保留效果好的活动做成常规。",
                f"All {len(judged)} campaigns of the period returned {line.value:g} or more in 90 days: keep the best "
                f"as routine.")
    big = low.sort_values("spend", ascending=False).iloc[0]
    partial_zh = "，只计新患者已满90天的部分" if (_num(big.judged_share) or 0) < 0.999 else ""
    partial_en = ", counting only the days whose new patients had 90 days" if (_num(big.judged_share) or 0) < 0.999 else ""
    return (f"分析期内{len(judged)}个活动中有{len(low)}个的90天回报低于{line.value:g}的止损线；投入最多的是{big['name']}"
            f"（{i18n.money(big.spend, 'zh')}，回报{big.roi:.2f}{partial_zh}）：这类活动停止或改方案后再做。",
            f"{len(low)} of the period's {len(judged)} campaigns returned under the {line.value:g} stop-loss line in 90 days; the "
            f"largest is {big['name']} ({i18n.money(big.spend, 'en')}, ROI {big.roi:.2f}{partial_en}): stop such "
            f"campaigns or redesign them before running them again.")


# ---------------------------------------------------------------------------------------------------
# The section


@dataclass
class FunnelSection(Section):
    conversion: AnalysisResult = field(default=None)
    channels: AnalysisResult = field(default=None)
    stop_loss: AnalysisResult = field(default=None)
    campaigns: AnalysisResult = field(default=None)
    arrival: AnalysisResult = field(default=None)


_NO_CHANNEL = dict(
    zh_reason="患者档案中没有来源渠道（来源渠道/客户来源），无法按渠道分析新患者、成交与投放回报；请在患者导出中加上来源渠道。",
    en_reason="The patients export has no source channel, so new patients, conversion and ROI cannot be split by "
              "channel; add the source channel to the patients export.")
_NO_CAMPAIGNS = dict(
    zh_reason="没有营销活动表（含各渠道投放金额），无法按周计算渠道回报，也就无法按止损规则判断；请提供营销活动的投放记录"
              "（渠道、起止日期、投放金额）。",
    en_reason="There is no campaigns table with each channel's spend, so weekly channel ROI and the stop-loss rule "
              "cannot be computed; ask for the campaign records (channel, start and end, spend).")
_NO_CAMPAIGN_ROI = dict(
    zh_reason="同样因为没有营销活动表，无法评估每个活动的投入产出。",
    en_reason="Without the campaigns table, the return of each campaign cannot be assessed either.")
_NO_LEADS = dict(
    zh_reason="没有线索表（咨询/线索记录），无法计算各渠道到店率；请提供线索导出（渠道、咨询时间、是否到店）。",
    en_reason="There is no leads table, so the arrival rate of each channel cannot be computed; ask for the leads "
              "export (channel, time of the enquiry, arrived or not).")


def diagnose(clinic: Clinic, thresholds: dict[str, Threshold]) -> FunnelSection:
    """Wire the clinic's tables into the analyses of the funnel chapter."""
    start, end = clinic.config.period.start, clinic.config.period.end
    patients, visits, charges = clinic.patients, clinic.visits, clinic.charges
    last_day = data_end(visits, charges) or _ts(end)
    has_channel = clinic.has("patients", "source_channel")
    has_spend = clinic.has("campaigns", "spend")
    leads = clinic.table("leads")
    if leads is not None and not clinic.has("leads", "arrived"):
        # no arrived column: a lead arrived when it names a patient who has an arrived visit
        arrived = lead_arrived(leads, visits, has_arrived=False, has_patient=clinic.has("leads", "patient_id"))
        leads = None if arrived is None else leads.assign(arrived=arrived)

    section = FunnelSection()
    value = None
    if has_channel:
        lead_in = _monday(_ts(start)) - pd.Timedelta(weeks=ROI_WEEKS - 1)
        first = lead_in
        if has_spend:
            c = clinic.table("campaigns")
            c_first = c.loc[(c["end"].fillna(c["start"]) >= _ts(start)) & (c["start"] <= _ts(end)), "start"].min()
            first = min(first, _ts(c_first)) if pd.notna(c_first) else first
        economics = new_patient_economics(patients, visits, charges, start=first.date(),
                                          end=max(_ts(end), last_day).date(), last_day=last_day)
        period = economics[economics["first_arrival"].between(_ts(start), _ts(end))]
        section.conversion = channel_conversion(patients, visits, charges, start=start, end=end,
                                                thresholds=thresholds, economics=period)
        section.channels = channel_economics(patients, visits, charges, start=start, end=end, leads=leads,
                                             campaigns=clinic.table("campaigns") if has_spend else None,
                                             thresholds=thresholds, economics=period)
        done = period[period["complete_90d"]]
        value = {k: float(v) for k, v in done.groupby("source_channel")["revenue_90d"].mean().items()}
        value[None] = float(done["revenue_90d"].mean()) if len(done) else 0.0
        if has_spend:
            campaigns = clinic.table("campaigns")
            section.stop_loss = channel_stop_loss(patients, visits, charges, campaigns, start=start, end=end,
                                                  thresholds=thresholds, economics=economics)
            section.campaigns = campaign_roi(patients, visits, charges, campaigns, start=start, end=end,
                                             thresholds=thresholds, economics=economics)
        else:
            section.stop_loss = Unavailable.because("campaign_roi", needs=["campaigns.spend"], **_NO_CAMPAIGNS)
            section.campaigns = Unavailable.because("campaign_roi", needs=["campaigns.spend"], **_NO_CAMPAIGN_ROI)
    else:
        section.conversion = Unavailable.because("channels", needs=["patients.source_channel"], **_NO_CHANNEL)
        section.channels = Unavailable.because("channels", needs=["patients.source_channel"],
                                           zh_reason="没有来源渠道，渠道效果表无法生成。",
                                           en_reason="Without the source channel there is no channel table.")
        section.stop_loss = Unavailable.because("campaign_roi", needs=["patients.source_channel", "campaigns.spend"],
                                            zh_reason="没有来源渠道，也无法按渠道计算投放回报和止损。",
                                            en_reason="Without the source channel, ROI and stop-loss by channel "
                                                      "cannot be computed either.")
        section.campaigns = Unavailable.because("campaign_roi", needs=["patients.source_channel", "campaigns.spend"],
                                            zh_reason="同样因为没有来源渠道，无法评估每个活动的投入产出。",
                                            en_reason="Without the source channel, the return of each campaign "
                                                      "cannot be assessed either.")
    if leads is not None:
        section.arrival = lead_arrival(leads, start=start, end=end, thresholds=thresholds, last_day=last_day,
                                       value_per_patient=value)
    else:
        section.arrival = Unavailable.because("leads_funnel", needs=["leads"], **_NO_LEADS)
    return section

"""The headline KPIs: the seven numbers every engagement starts from, exactly as the contract defines them.

Source: method.md, "The definitions the playbook computes (its contract)". Thresholds quoted in the
findings, each metric's ``line`` in the registry as the clinic has it in force: first-visit conversion
below ``first_visit_conversion_review`` (80%) means "review with the doctor" [S2, seeds/002];
referral share below ``referral_share_healthy`` (40%) points to a service problem [S3, seeds/003].

The period is ``start``..``end`` with both days included; a timestamp counts on its day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from . import i18n, sentences
from .metrics import HEADLINE as HEADLINE_NAMES
from .metrics import METRICS
from .plotting import ACTION_RED, GREY, PALETTE, month_ticks, set_title
from .schema import REFERRAL_CHANNELS
from .tables import UNKNOWN_CHANNEL, MetricTables, clinic_tables, first_arrivals, new_patient_table, returned_within_year
from .thresholds import Threshold, resolve

# first_arrivals, new_patient_table and UNKNOWN_CHANNEL live in playbook.tables; their names here still work.
__all__ = ["HEADLINE", "HeadlineKpis", "headline_kpis", "clinic_kpis", "channel_name", "return_within_12m",
           "first_arrivals", "new_patient_table", "UNKNOWN_CHANNEL"]

WEAK = ("first_visit_conversion", "referral_share")  # the headline sentence judges these by their line

# name -> (中文, English, unit): the registry's headline view (playbook.metrics); the names are a
# contract other tools read (kpis.json): add, never rename.
HEADLINE = {name: (METRICS[name].zh, METRICS[name].en, METRICS[name].unit) for name in HEADLINE_NAMES}


def _share(part: float, whole: float) -> float | None:
    return None if whole == 0 else float(part) / float(whole)


def return_within_12m(visits: pd.DataFrame, *, start: dt.date, end: dt.date) -> float | None:
    """Of patients first arriving in start..end−365 days, the share with another arrived visit on a
    later day no more than 365 days after the first arrival (`playbook.metrics`). None when that
    cohort is empty."""
    first = first_arrivals(visits)
    return METRICS["return_within_12m"].of(
        first.to_frame().assign(returned=returned_within_year(visits, first)), start, end)


# The headline sentence in each language; {line} is the threshold in force ([S2] 80%, [S3] 40% by default).
_FINDING = {
    "zh": {"head": "分析期（{window}）实收{revenue}，新患者{new}人，初诊成交率{conversion}，转介绍占比{referral}",
           "healthy": "，两项均在方法的健康线以上。", "sep": "；", "end": "。",
           "first_visit_conversion": "初诊成交率低于{line}，应与医生逐例复盘初诊沟通",
           "referral_share": "转介绍占比低于{line}，说明服务体验与口碑需要改进"},
    "en": {"head": "In the period ({window}) the clinic took revenue of {revenue} and saw {new} new patients; "
                   "first-visit conversion was {conversion} and referral share {referral}",
           "healthy": ", both above the method's healthy lines.", "sep": "; ", "end": ".",
           "first_visit_conversion": "conversion below {line} calls for a case-by-case review with the doctors",
           "referral_share": "referral share below {line} points to a service and word-of-mouth problem"},
}


@dataclass
class HeadlineKpis:
    """The seven headline KPIs of a period, the per-channel view, and what they say."""

    start: dt.date
    end: dt.date
    values: dict[str, float | int | None]
    channels: pd.DataFrame  # index source_channel; new_patients, first_visit_conversion
    monthly_revenue: pd.Series = field(repr=False)  # month start -> revenue, within the period
    thresholds: Mapping[str, Threshold] = field(repr=False)  # in force: the lines its sentences judge by

    def line(self, metric: str) -> Threshold:
        """The threshold ``metric`` is judged against (its registry ``line``), as the clinic has it."""
        return self.thresholds[METRICS[metric].line]

    @property
    def table(self) -> pd.DataFrame:
        rows = [{"kpi": k, "zh": zh, "en": en, "unit": unit, "value": self.values[k]}
                for k, (zh, en, unit) in HEADLINE.items()]
        return pd.DataFrame(rows).set_index("kpi")

    def formatted(self, lang: str = "zh") -> pd.DataFrame:
        """The KPI table as the owner reads it: labels in the report's language, numbers formatted."""
        fmt = {"yuan": i18n.money, "count": i18n.count, "rate": i18n.rate}
        rows = [(zh if lang == "zh" else en, fmt[unit](self.values[k], lang)) for k, (zh, en, unit) in HEADLINE.items()]
        return pd.DataFrame(rows, columns=[i18n.pick(lang, "指标", "KPI"), i18n.pick(lang, "数值", "Value")])

    def channel_table(self, lang: str = "zh") -> pd.DataFrame:
        table = self.channels.reset_index()
        table["source_channel"] = table["source_channel"].map(lambda c: channel_name(c, lang))
        table["first_visit_conversion"] = table["first_visit_conversion"].map(lambda v: i18n.rate(v, lang))
        table["new_patients"] = table["new_patients"].map(lambda v: i18n.count(v, lang))
        return table.rename(columns={
            "source_channel": i18n.pick(lang, "来源渠道", "Channel"),
            "new_patients": i18n.pick(lang, "新患者数", "New patients"),
            "first_visit_conversion": i18n.pick(lang, "初诊成交率", "First-visit conversion")})

    def to_dict(self) -> dict:
        """The kpis.json fragment: ``kpis`` and ``channels`` keyed by the channel as written in the data."""
        channels = {name: {"new_patients": int(row.new_patients),
                           "first_visit_conversion": _round(row.first_visit_conversion)}
                    for name, row in self.channels.iterrows()}
        return {"kpis": {k: _round(v) for k, v in self.values.items()}, "channels": channels}

    def finding(self, lang: str = "zh") -> str:
        """One sentence: where the clinic stands, and the first thing to look at."""
        v = self.values
        weak = [k for k in WEAK if self.line(k).breached(v[k])]
        words = _FINDING[lang]
        head = words["head"].format(window=i18n.window(self.start, self.end, lang),
                                    revenue=i18n.money(v["revenue"], lang), new=i18n.count(v["new_patients"], lang),
                                    conversion=i18n.rate(v["first_visit_conversion"], lang),
                                    referral=i18n.rate(v["referral_share"], lang))
        if not weak:
            return head + words["healthy"]
        return head + words["sep"] + words["sep"].join(
            words[k].format(line=sentences.line(self.line(k))) for k in weak) + words["end"]

    def trend_finding(self, lang: str = "zh") -> str:
        """The revenue chart's sentence: the last two quarters against the two before them."""
        window, recent, change = self._trend()
        if not window:
            return i18n.pick(lang, "分析期不足半年，暂不比较趋势。", "The period is under 6 months: no trend is compared.")
        if change is None:
            return i18n.pick(lang, "此前没有收入，无法比较趋势。", "No revenue before: the trend cannot be compared.")
        now, then = self._trend_windows(window, lang)
        if lang == "zh":
            direction = "低" if change < 0 else "高"
            todo = "下一步先分解是到诊、成交、客单价还是复购在下降。" if change < -0.05 else "保持当前节奏，按周跟踪。"
            return f"{now}月均实收{i18n.money(recent, lang)}，比{then}{direction}{i18n.rate(abs(change), lang)}；{todo}"
        direction = "below" if change < 0 else "above"
        todo = ("next, decompose whether arrivals, conversion, ticket size or repurchase fell." if change < -0.05
                else "keep the pace and track it weekly.")
        return (f"In {now} the clinic's monthly revenue averaged {i18n.money(recent, lang)}, "
                f"{i18n.rate(abs(change), lang)} {direction} {then}; {todo}")

    def _trend_windows(self, window: int, lang: str) -> tuple[str, str]:
        """The recent months and the months before them, named: 2025年下半年, 2025年上半年."""
        months = self.monthly_revenue.index
        recent_end = min(pd.Timestamp(self.end), months[-1] + pd.offsets.MonthEnd(0))
        return (i18n.window(months[-window], recent_end, lang),
                i18n.window(months[-2 * window], months[-window] - pd.Timedelta(days=1), lang))

    def channel_finding(self, lang: str = "zh") -> str:
        """The channel table's sentence: the largest channel, and the weakest converter among sizeable ones."""
        channels = self.channels
        if channels.empty:
            return i18n.pick(lang, "分析期内没有新患者。", "No new patients in the period.")
        sizeable = channels[channels["new_patients"] >= 0.1 * channels["new_patients"].sum()]
        weakest = sizeable["first_visit_conversion"].idxmin()
        rate, count = sizeable.loc[weakest, "first_visit_conversion"], i18n.count(sizeable.loc[weakest, "new_patients"], lang)
        weakest = channel_name(weakest, lang)
        review = self.line("first_visit_conversion")
        line = sentences.line(review)
        if not review.breached(rate):
            return i18n.pick(lang, f"分析期内各主要渠道的初诊成交率都不低于{line}，最低的是{weakest}（{i18n.rate(rate, lang)}）。",
                             f"Over the period every sizeable channel's first-visit conversion was {line} or more; the "
                             f"lowest is {weakest} ({i18n.rate(rate, lang)}).")
        return i18n.pick(
            lang,
            f"分析期内{weakest}带来{count}位新患者，初诊成交率只有{i18n.rate(rate, lang)}，低于{line}的复盘线：先与医生复盘"
            f"这个渠道的初诊，并检查它引来的是否是目标客户。",
            f"Over the period {weakest} brought {count} new patients, but its first-visit conversion was only "
            f"{i18n.rate(rate, lang)}, under the {line} review line: review its first visits with the doctors and check "
            f"whether it brings the right patients.")

    def _trend(self) -> tuple[int, float | None, float | None]:
        """(months compared, mean of the recent months, their change against the months before)."""
        monthly = self.monthly_revenue
        window = 6 if len(monthly) >= 12 else 3 if len(monthly) >= 6 else 0
        if not window:
            return 0, None, None
        recent, before = monthly.iloc[-window:].mean(), monthly.iloc[-2 * window:-window].mean()
        return window, float(recent), _share(recent - before, before)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Monthly revenue in the period, as bars (万元 in Chinese); the recent months in red when they
        fell more than 5% below the months before them (the driver chapter explains the fall)."""
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        window, recent, change = self._trend()
        falling = change is not None and change < -0.05
        colors = [PALETTE[0]] * len(self.monthly_revenue)
        if falling:
            colors[-window:] = [ACTION_RED] * window
        ax.bar(range(len(self.monthly_revenue)), self.monthly_revenue.to_numpy() / scale,
               **{"color": colors, **kwargs})
        if change is not None:  # the two monthly averages the title compares, each over its months
            n = len(self.monthly_revenue)
            before = float(self.monthly_revenue.iloc[-2 * window:-window].mean())
            for first, level in ((n - 2 * window, before), (n - window, recent)):
                ax.plot([first - 0.4, first + window - 0.6], [level / scale] * 2, color=GREY, linestyle="--", lw=1.2)
            now, then = self._trend_windows(window, lang)
            sign = "-" if change < 0 else "+"
            ax.set_xlabel(i18n.pick(lang, f"虚线为月均：{then}{i18n.money(before, lang)}，{now}{i18n.money(recent, lang)}"
                                          f"（{sign}{i18n.rate(abs(change), lang)}）",
                                    f"dashed: monthly average, {i18n.money(before, lang)} in {then}, "
                                    f"{i18n.money(recent, lang)} in {now} ({sign}{i18n.rate(abs(change), lang)})"),
                          fontsize="small", color=GREY)
        month_ticks(ax, self.monthly_revenue.index, lang)
        ax.set_ylabel(unit)
        ax.grid(axis="x", visible=False)
        if change is None:
            title = i18n.pick(lang, f"分析期实收{i18n.money(self.values['revenue'], lang)}",
                              f"Revenue in the period: {i18n.money(self.values['revenue'], lang)}")
        elif lang == "zh":
            now, then = self._trend_windows(window, lang)
            title = (f"{now}月均实收{i18n.money(recent, lang)}，比{then}"
                     f"{'低' if change < 0 else '高'}{i18n.rate(abs(change), lang)}" + ("（红色）" if falling else ""))
        else:
            now, then = self._trend_windows(window, lang)
            title = (f"Monthly revenue averaged {i18n.money(recent, lang)} in {now}, "
                     f"{i18n.rate(abs(change), lang)} {'below' if change < 0 else 'above'} {then}"
                     + (" (red)" if falling else ""))
        return set_title(ax, title, lang)


def channel_name(channel: str, lang: str = "zh") -> str:
    """A channel as the report prints it: as written in the data, in English where the playbook knows
    the word (i18n.term: 抖音 → Douyin), and the placeholder for none as 未知渠道 / unknown channel."""
    return i18n.term(channel, lang)


def _round(value):
    if value is None:
        return None
    return round(float(value), 6) if isinstance(value, float) else int(value)


def headline_kpis(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *,
                  start: dt.date, end: dt.date, referral_channels=REFERRAL_CHANNELS,
                  thresholds: Mapping[str, Threshold] | None = None) -> HeadlineKpis:
    """Compute the headline KPIs of the contract on canonical tables.

    Parameters
    ----------
    patients, visits, charges : canonical tables (see playbook.schema); charges need a ``tier`` column
        (playbook.catalogue.classify_items), which `load_clinic` adds.
    start, end : the analysis period, both days included.
    referral_channels : source-channel values that count as referral (转介绍).
    thresholds : the thresholds in force (`playbook.thresholds.resolve`; default: the method's), whose
        lines the sentences state.
    """
    return headline_from_tables(MetricTables(patients, visits, charges, referral=tuple(referral_channels)),
                                start=start, end=end, thresholds=thresholds)


def headline_from_tables(tables: MetricTables, *, start: dt.date, end: dt.date,
                         thresholds: Mapping[str, Threshold] | None = None) -> HeadlineKpis:
    """The headline KPIs of ``start``..``end``, each computed by its registry entry (`playbook.metrics`)."""
    values = {}
    for name in HEADLINE_NAMES:
        metric = METRICS[name]
        value = metric.value(tables, start, end)
        if value is not None and metric.unit == "count":
            value = int(value)
        elif value is not None and metric.unit == "yuan":
            value = round(value, 2)
        values[name] = value

    new, conversion = METRICS["new_patients"], METRICS["first_visit_conversion"]
    channels = pd.DataFrame({
        "new_patients": new.per_segment(tables, start, end, "channel")["value"].astype(int),
        "first_visit_conversion": conversion.per_segment(tables, start, end, "channel")["value"].astype(float)})
    channels.index.name = "source_channel"
    channels = channels.sort_values(["new_patients", "first_visit_conversion"], ascending=False)

    months = pd.date_range(pd.Timestamp(start).to_period("M").to_timestamp(), pd.Timestamp(end), freq="MS")
    monthly = METRICS["revenue"].per_period(tables, "M")["value"]
    monthly = monthly[monthly.index <= pd.Timestamp(end)].reindex(months, fill_value=0.0)
    return HeadlineKpis(start, end, values, channels, monthly, thresholds or resolve())


def clinic_kpis(clinic) -> HeadlineKpis:
    """`headline_kpis` of a loaded clinic over its configured period."""
    period = clinic.config.period
    return headline_from_tables(clinic_tables(clinic), start=period.start, end=period.end,
                                thresholds=resolve(clinic.config.thresholds))

"""Costs: consumables, lab fees and inventory as shares of revenue, against the method's ranges [S3].

[S3] (seeds/003): 耗材占流水的5-7%，库存占流水的3-5%（新店可能会低一点），加工费占流水的7-8% — within
these a clinic runs normally at a low cost, and controlling them "raises the profit margin by at least
1-3 points". Above the range is money the clinic can keep; below it usually means costs that are not
all recorded (or, for inventory, a new clinic that holds little stock).

Computed on the optional ``costs`` table (month, category, amount), revenue being the charges paid in
the same months of the period (`playbook.kpis` revenue, refunds included). A category's share is its
amount summed over the months it is recorded, divided by the revenue of those months; inventory is a
stock, so its share is the average stock value over the average monthly revenue, the same quotient.
The export's category names are matched by keyword (`playbook.profit.CATEGORIES`).

kpis.json, under ``"kpis"`` (add, never rename):

- ``consumables_share``, ``lab_share``, ``inventory_share``: the shares above over the period (null
  when the costs table has no row of that category in the period).
- ``cost_excess_per_year``: the profit per year the clinic would keep if every category above its
  range came back to the top of the range: Σ (share − high) × revenue per year.

Under ``"costs"``: ``categories`` (consumables/lab/inventory → share, amount, revenue, months, low, high,
profit_gain_per_year) and ``monthly`` ("YYYY-MM" → revenue and each category's share).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n, sentences
from .clinic import Clinic
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .metrics import METRICS
from .plotting import ACTION_RED, PALETTE, month_labels, set_title
from .profit import CATEGORIES as COST_CATEGORIES
from .profit import classify_costs, cost_lines, profit_view
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window
from .tables import payments
from .thresholds import DEFAULTS, Threshold

# The categories [S3] gives a range for: key -> the two thresholds of its range. The keyword catalogue
# of cost categories is `playbook.profit.CATEGORIES`, shared with the profit view.
RANGES = {
    "inventory": ("inventory_share_low", "inventory_share_high"),
    "lab": ("lab_share_low", "lab_share_high"),
    "consumables": ("consumables_share_low", "consumables_share_high"),
}
ORDER = ("consumables", "lab", "inventory")  # how the report lists them


def _name(key: str, lang: str) -> str:
    return COST_CATEGORIES[key].zh if lang == "zh" else COST_CATEGORIES[key].en


def _in_sentence(key: str, lang: str) -> str:
    """A category inside a sentence: 耗材 / consumables (lower case mid-sentence in English)."""
    return _name(key, lang) if lang == "zh" else _name(key, lang).lower()


def _range(low: float, high: float) -> str:
    return f"{low * 100:g}–{high * 100:g}%"


@dataclass
class CostRatios(AnalysisResult):
    """Consumables, lab fees and inventory over revenue, by month and over the period [S3]."""

    monthly: pd.DataFrame = None  # month start -> revenue and each category's share
    ranges: dict = field(default_factory=dict)  # category -> (low, high)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """One strip per category, stacked in ``ax``: its monthly share as a line over its range (a band);
        a category outside its range over the period is drawn in red. Returns ``ax``."""
        ax = ax if ax is not None else plt.gca()
        set_title(ax, self.title(lang), lang)
        ax.set_axis_off()
        monthly = self.monthly
        keys = [k for k in ORDER if k in monthly and not monthly[k].isna().all()]
        x = np.arange(len(monthly))
        flagged = {f.subject for f in self.flags}
        positions, labels = month_labels(monthly.index, lang)
        height = 1 / max(len(keys), 1)
        for i, key in enumerate(keys):
            strip = ax.inset_axes([0, 1 - (i + 1) * height + 0.04, 1, height - 0.08])
            low, high = self.ranges[key]
            values = monthly[key].to_numpy() * 100
            red = key in flagged
            strip.axhspan(low * 100, high * 100, color=PALETTE[2], alpha=0.25, linewidth=0)
            strip.plot(x, values, color=ACTION_RED if red else PALETTE[0], marker="o", markersize=2.5,
                       linewidth=2 if red else 1.4, **kwargs)
            top, bottom = np.nanmax([np.nanmax(values), high * 100]), np.nanmin([np.nanmin(values), low * 100])
            pad = max((top - bottom) * 0.25, 0.5)
            strip.set_ylim(max(bottom - pad, 0), top + pad)
            strip.set_xlim(-0.5, len(x) - 0.5)
            strip.yaxis.set_label_position("right")
            strip.set_ylabel(f"{_name(key, lang)}\n{i18n.pick(lang, '范围', 'range')} {_range(low, high)}", rotation=0,
                             ha="left", va="center", fontsize="small", color=ACTION_RED if red else PALETTE[0])
            strip.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}%"))
            strip.tick_params(axis="y", labelsize="x-small")
            strip.grid(axis="x", visible=False)
            strip.set_xticks(positions, labels if i == len(keys) - 1 else [], fontsize="small")
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: a category above its range [S3] and the profit coming back would keep."""
        t = self.table.dropna(subset=["share"])
        above = t[t["status"] == "above"].sort_values("profit_gain_per_year", ascending=False)
        if len(above):
            key, row = above.index[0], above.iloc[0]
            gain = float(above["profit_gain_per_year"].sum())
            return i18n.pick(lang, f"{_name(key, lang)}占实收{i18n.rate(row['share'], lang)}，高于{_range(row['low'], row['high'])}"
                                   f"的范围（红色）；回到范围每年多留{i18n.money(gain, lang)}",
                             f"{_name(key, lang)} take {i18n.rate(row['share'], lang)} of revenue, above the "
                             f"{_range(row['low'], row['high'])} range (red); back in range keeps {i18n.money(gain, lang)} a year")
        below = t[t["status"] == "below"]
        if len(below):
            key = below.index[0]
            return i18n.pick(lang, f"成本都不高于方法的范围；{_name(key, lang)}只占{i18n.rate(t.loc[key, 'share'], lang)}，"
                                   f"低于范围（红色），核对是否记全",
                             f"No cost runs above the method's range; {_in_sentence(key, lang)} at "
                             f"{i18n.rate(t.loc[key, 'share'], lang)} is below it (red): check it is all recorded")
        shares = [(_in_sentence(key, lang), i18n.rate(_num(row["share"]), lang)) for key, row in t.iterrows()]
        if not shares:
            return i18n.pick(lang, "成本占实收比例", "Costs as a share of revenue")
        return i18n.pick(lang, "、".join(f"{name}{share}" for name, share in shares) + "，都在方法的合理范围内",
                         ", ".join(f"{name} {share}" for name, share in shares) + ": all within the method's ranges")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        status = {"above": ("高于范围", "above"), "below": ("低于范围", "below"), "within": ("在范围内", "within")}
        return pd.DataFrame({
            i18n.pick(lang, "类别", "Category"): [_name(k, lang) for k in t.index],
            i18n.pick(lang, "金额", "Amount"): i18n.money_column([_num(v) for v in t["amount"]], lang),
            i18n.pick(lang, "占实收", "Share of revenue"): [i18n.rate(_num(v), lang) for v in t["share"]],
            i18n.pick(lang, "合理范围", "Range"): [_range(lo, hi) for lo, hi in zip(t["low"], t["high"])],
            i18n.pick(lang, "判断", "Verdict"): [i18n.pick(lang, *status[s]) if isinstance(s, str) else i18n.NO_DATA[lang]
                                              for s in t["status"]],
            i18n.pick(lang, "回到范围每年多留利润", "Profit kept a year in range"): i18n.money_column(
                [v if v > 0 else None for v in t["profit_gain_per_year"]], lang, missing="—"),
        })

    def metrics(self) -> dict:
        t = self.table
        kpis = {f"{key}_share": _json(_num(t.loc[key, "share"])) if key in t.index else None for key in ORDER}
        kpis["cost_excess_per_year"] = _json(float(t["profit_gain_per_year"].sum()))
        categories = {key: {"share": _json(_num(r.share)), "amount": _json(float(r.amount)), "revenue": _json(float(r.revenue)),
                            "months": int(r.months), "low": _json(r.low), "high": _json(r.high),
                            "profit_gain_per_year": _json(float(r.profit_gain_per_year))} for key, r in t.iterrows()}
        monthly = {f"{m:%Y-%m}": {k: _json(_num(v)) for k, v in row.items()} for m, row in self.monthly.iterrows()}
        return {"kpis": kpis, "costs": {"categories": categories, "monthly": monthly}}


def cost_ratios(costs: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date, end: dt.date,
                thresholds: dict[str, Threshold] | None = None) -> CostRatios | Unavailable:
    """Consumables, lab fees and inventory as shares of revenue in the period's months [S3].

    Parameters
    ----------
    costs : canonical costs (``month``, ``category``, ``amount``); categories are matched by keyword
        (耗材 / 加工费 / 库存 and their English names), other categories (rent, labour …) are ignored.
    charges : canonical charges (``paid_at``, ``amount_paid``): revenue by month, refunds included.
    start, end : the analysis period; the months it touches are used.
    thresholds : ``consumables_share_low/high``, ``lab_share_low/high``, ``inventory_share_low/high``.

    Notes
    -----
    ``revenue_at_stake`` of a category above its range = (share − the top of the range) × revenue per
    year: the profit a year the clinic keeps by bringing it back to the range, revenue unchanged. A
    category below its range gets a flag with 0 at stake (check the records; nothing to gain).
    """
    th = thresholds or DEFAULTS
    first_month = pd.Timestamp(start).to_period("M").to_timestamp()
    months = pd.date_range(first_month, pd.Timestamp(end), freq="MS")
    revenue = METRICS["revenue"].of_periods(payments(charges), "M", start, end)["value"].reindex(months, fill_value=0.0)

    rows = cost_lines(costs, months)
    rows = rows[rows["key"].isin(ORDER)]
    if rows.empty:
        return Unavailable.because(
            "cost_ratios", needs=["costs: 耗材/加工费/库存"],
            zh_reason="成本表中没有分析期内的耗材、加工费或库存记录，无法计算成本占比；请补充按月的这三类成本。",
            en_reason="The costs table has no consumables, lab or inventory rows in the period: cost shares cannot be "
                      "computed; ask for these three categories by month.")
    by_month = rows.pivot_table(index="month", columns="key", values="amount", aggfunc="sum").reindex(months)
    usable = by_month.notna() & (revenue > 0).to_numpy()[:, None]  # months with both the cost and revenue
    monthly = pd.DataFrame({"revenue": revenue})
    table_rows, flags = [], []
    for key in ORDER:
        if key not in by_month:
            continue
        low, high = th[RANGES[key][0]], th[RANGES[key][1]]
        ok = usable[key]
        monthly[key] = (by_month[key] / revenue).where(ok)
        amount, base, n = float(by_month.loc[ok, key].sum()), float(revenue[ok].sum()), int(ok.sum())
        share = amount / base if base > 0 else None
        per_year = base / n * 12 if n else 0.0
        status = None if share is None else "above" if high.breached(share) else "below" if low.breached(share) else "within"
        gain = (share - high.value) * per_year if status == "above" else 0.0
        table_rows.append({"category": key, "amount": amount, "revenue": base, "months": n, "share": share,
                           "low": low.value, "high": high.value, "status": status, "profit_gain_per_year": gain})
        if status == "above":
            flags.append(_flag(key, share, high, gain, low, start, end))
        elif status == "below":
            flags.append(_flag(key, share, low, 0.0, high, start, end))
    table = pd.DataFrame(table_rows).set_index("category")
    flags.sort(key=lambda f: (f.severity != "red", -f.revenue_at_stake, -f.gap))
    zh, en = _sentences(table, flags)
    ranges = {key: (float(table.loc[key, "low"]), float(table.loc[key, "high"])) for key in table.index}
    return CostRatios("cost_ratios", table, zh, en, flags, monthly=monthly, ranges=ranges)


def _flag(key: str, share: float, line: Threshold, gain: float, other: Threshold, start, end) -> Finding:
    low, high = sorted((line.value, other.value))
    above = line.direction == "max"
    return Finding.past(line, share, kind=f"{key}_share_high" if above else "cost_share_low", metric=f"{key}_share",
                        problem_class="efficiency" if above else "management", segment=Segment("cost", key),
                        window=Window(start, end), stake=Stake(float(gain), "cost_excess" if above else "none"),
                        facts={"low": low, "high": high})


def _sentences(table: pd.DataFrame, flags: list[Finding]) -> tuple[str, str]:
    above = [f for f in flags if f.threshold.endswith("_high")]
    if flags:
        zh, en = sentences.join(flags, "zh"), sentences.join(flags, "en")
        if len(above) > 1:
            total = sum(f.revenue_at_stake for f in above)
            zh += f"合计每年约{i18n.money(total, 'zh')}。"
            en += f" Together about {i18n.money(total, 'en')} a year."
        return zh, en
    known = table.dropna(subset=["share"])
    parts_zh = "、".join(f"{_name(k, 'zh')}{i18n.rate(float(r.share), 'zh')}" for k, r in known.iterrows())
    parts_en = ", ".join(f"{_name(k, 'en').lower()} {i18n.rate(float(r.share), 'en')}" for k, r in known.iterrows())
    return (f"成本占实收：{parts_zh}，都在方法的合理范围内；按月跟踪，防止回升。",
            f"Costs over revenue: {parts_en}, all within the method's ranges; track them monthly to catch a rise.")


@dataclass
class CostsSection(Section):
    profit: AnalysisResult = field(default=None)
    ratios: AnalysisResult = field(default=None)


def diagnose(clinic: Clinic, thresholds: dict[str, Threshold]) -> CostsSection:
    """Wire the clinic's costs and charges into the cost analysis."""
    costs = clinic.table("costs")
    period = clinic.config.period
    if costs is None:
        profit = Unavailable.because("profit", needs=["costs"],
                                     zh_reason="本分析需要按月的成本表（人工、房租、营销、水电物业、耗材、加工费），当前数据中没有；"
                                               "请向诊所索取后重新运行。",
                                     en_reason="This analysis needs the monthly costs table (labour, rent, marketing, "
                                               "utilities, consumables, lab fees), which the clinic has not given; ask for "
                                               "it and run again.")
        ratios = Unavailable.because("cost_ratios", needs=["costs"],
                                     zh_reason="本分析需要按月的成本表（耗材、加工费、库存），当前数据中没有；请向诊所索取后重新运行。",
                                     en_reason="This analysis needs the monthly costs table (consumables, lab fees, "
                                               "inventory), which the clinic has not given; ask for it and run again.")
    else:
        profit = profit_view(costs, clinic.charges, start=period.start, end=period.end)
        ratios = cost_ratios(costs, clinic.charges, start=period.start, end=period.end, thresholds=thresholds)
    return CostsSection(profit=profit, ratios=ratios)

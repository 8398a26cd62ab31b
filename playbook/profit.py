"""Profit: does the clinic make money, and how much of each yuan does every cost take?

[S2] (seeds/002) asks the manager to "数据驱动盈利：根据客流量、客单价、转化率、购买频次、毛利率、成本来核算门诊利润":
the revenue driver tree explains revenue (chapter 02); this module adds the costs and shows the profit.
[S1] (seeds/001) lists the cost indicators of the first health check: 获客成本、人力成本占比、耗材成本、场地租金占比.
[S3] (seeds/003) gives ranges for three of them: 耗材占流水的5-7%，库存占流水的3-5%，加工费占流水的7-8%
(`playbook.costs` judges those); the sources give no range for labour, rent, marketing or utilities, so
their shares are shown without a verdict.

Computed on the optional ``costs`` table (month, category, amount). Every export category is matched
by keyword to one of `CATEGORIES`; one the playbook does not know counts as "other" (a cost all the
same). Inventory (库存) is a stock, not a month's spending: it is shown and never subtracted.

Months: a month is inside the period when its first day is. Revenue is `playbook.kpis` revenue
(charges paid, refunds included).

kpis.json, under ``"kpis"`` (add, never rename):

- ``operating_margin``: (revenue − the costs of the months inside the period, every category except
  库存) / revenue; null without costs or revenue.
- ``labour_share``, ``rent_share``, ``marketing_share``, ``utilities_share``: a category's cost over the
  revenue of the months it is recorded in (null when the table has none of it).
- ``break_even_revenue_per_month``: the monthly revenue at which revenue pays every cost, taking
  consumables and lab fees as moving with revenue (their share of it) and every other cost as fixed
  (its monthly average): fixed / (1 − variable share). An assumption, stated as such in the chapter.

Under ``"profit"``: ``months_in_period``, ``months_with_costs``, ``categories`` (key → amount, share,
kind) and ``monthly`` ("YYYY-MM" → revenue, costs, margin).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n
from .plotting import ACTION_RED, GREY, PALETTE, month_labels, set_title
from .jsonsafe import scalar as _rounded
from .metrics import METRICS
from .results import AnalysisResult, Unavailable
from .tables import payments

# Cost kinds: "variable" costs move with the treatments done (materials and lab work per case);
# "fixed" ones are paid whatever the month brings; "stock" is a balance, not a spending.
VARIABLE, FIXED, STOCK = "variable", "fixed", "stock"


@dataclass(frozen=True)
class CostCategory:
    key: str
    keywords: tuple[str, ...]  # matched in the export's category name, lower case
    zh: str
    en: str
    kind: str


# First match wins, in this order: 耗材库存 is inventory, 营销人员工资 is labour.
CATEGORIES: dict[str, CostCategory] = {c.key: c for c in (
    CostCategory("inventory", ("库存", "存货", "inventory", "stock"), "库存", "Inventory", STOCK),
    CostCategory("lab", ("加工费", "加工", "技工", "义齿", "lab"), "加工费", "Lab fees", VARIABLE),
    CostCategory("consumables", ("耗材", "材料", "consumable"), "耗材", "Consumables", VARIABLE),
    CostCategory("labour", ("人工", "工资", "薪酬", "薪资", "人力", "社保", "提成", "奖金", "labour", "labor", "salar",
                            "payroll", "wage"), "人工", "Labour", FIXED),
    CostCategory("rent", ("房租", "租金", "场地", "rent"), "房租", "Rent", FIXED),
    CostCategory("marketing", ("营销", "推广", "广告", "市场", "投放", "marketing", "advertis"), "营销", "Marketing", FIXED),
    CostCategory("utilities", ("水电", "物业", "能耗", "电费", "水费", "utilit"), "水电物业", "Utilities and property fees",
                 FIXED),
    CostCategory("other", (), "其他", "Other", FIXED),
)}
# How the report lists them: the largest costs of a clinic first, the stock last.
ORDER = ("labour", "rent", "marketing", "utilities", "consumables", "lab", "other", "inventory")
SHARE_KPIS = ("labour", "rent", "marketing", "utilities")  # the [S3] three are costs.py's kpis


def classify_costs(category: pd.Series) -> pd.Series:
    """The playbook's cost category of each export category; "other" for a name it does not know."""
    def key_of(name) -> str:
        text = str(name).lower()
        return next((c.key for c in CATEGORIES.values() if any(k in text for k in c.keywords)), "other")

    lookup = {name: key_of(name) for name in pd.unique(category.dropna())}
    keys = category.map(lookup).astype("object")
    return keys.where(category.notna(), None)


def cost_lines(costs: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    """The costs table's rows in ``months``: month start, category key (`classify_costs`), amount."""
    rows = costs[costs["month"].notna() & costs["amount"].notna()]
    rows = pd.DataFrame({"month": rows["month"].dt.to_period("M").dt.to_timestamp(),
                         "key": classify_costs(rows["category"]), "amount": rows["amount"]})
    return rows[rows["month"].isin(months)]


def months_inside(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """The months whose first day lies in start..end."""
    first = pd.Timestamp(start).to_period("M").to_timestamp()
    months = pd.date_range(first, pd.Timestamp(end), freq="MS")
    return months[months >= pd.Timestamp(start)]


def _name(key: str, lang: str) -> str:
    return CATEGORIES[key].zh if lang == "zh" else CATEGORIES[key].en


@dataclass
class ProfitView(AnalysisResult):
    """Revenue, costs and operating margin by month; each cost category as a share of revenue."""

    monthly: pd.DataFrame = None  # month start -> revenue, one column per cost category, costs, margin
    revenue: float = 0.0  # the period's revenue (kpis.revenue)
    operating_margin: float | None = None
    break_even_per_month: float | None = None
    months_in_period: int = 0
    months_with_costs: int = 0

    @property
    def complete(self) -> bool:
        """Costs are recorded for every month inside the period: the margin is not overstated."""
        return self.months_with_costs == self.months_in_period

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Monthly costs stacked by category under the month's revenue (a line); the months where
        costs exceed revenue (a loss) in red; the break-even revenue as a dashed line."""
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        m = self.monthly
        x = np.arange(len(m))
        bottom = np.zeros(len(m))
        keys = [k for k in ORDER if k in m and CATEGORIES[k].kind != STOCK and m[k].fillna(0).any()]
        for i, key in enumerate(keys):
            values = m[key].fillna(0).to_numpy() / scale
            ax.bar(x, values, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=_name(key, lang), width=0.8,
                   **kwargs)
            bottom += values
        loss = (m["margin"] < 0).to_numpy()
        ax.plot(x, m["revenue"].to_numpy() / scale, color=PALETTE[0], linewidth=2, marker="o", markersize=3,
                label=i18n.pick(lang, "实收", "Revenue"))
        if loss.any():
            ax.scatter(x[loss], m["revenue"].to_numpy()[loss] / scale, color=ACTION_RED, zorder=5, s=28,
                       label=i18n.pick(lang, "红色：亏损的月份", "red: months at a loss"))
        if self.break_even_per_month:
            ax.axhline(self.break_even_per_month / scale, color=GREY, linestyle="--", linewidth=1.3,
                       label=i18n.pick(lang, "保本实收", "Break-even revenue"))
        positions, labels = month_labels(m.index, lang)
        ax.set_xticks(positions, labels)
        ax.set_xlim(-0.6, len(m) - 0.4)
        ax.set_ylabel(unit)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        ax.set_xlabel(self._margins(lang), fontsize="small", color=GREY)  # the margins the title states, which no bar shows
        return set_title(ax, self.title(lang), lang)

    def _margins(self, lang: str) -> str:
        """The period's margin and the recent months' (named): what the title states and the chart notes."""
        text = i18n.pick(lang, f"分析期经营利润率{i18n.rate(self.operating_margin, lang)}",
                         f"Operating margin {i18n.rate(self.operating_margin, lang)} over the period")
        recent = self.recent_margin
        if recent is not None and len(self.monthly) >= 12:
            last = self.monthly.index[-6:]
            when = i18n.window(last[0], last[-1] + pd.offsets.MonthEnd(0), lang)  # the six months, named
            text += i18n.pick(lang, f"，{when}{i18n.rate(recent, lang)}", f", {i18n.rate(recent, lang)} in {when}")
        return text

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the period's margin, the recent months' margin, the break-even revenue."""
        head = self._margins(lang)
        if self.break_even_per_month:
            head += i18n.pick(lang, f"；每月实收{i18n.money(self.break_even_per_month, lang)}才能保本",
                              f"; break-even at {i18n.money(self.break_even_per_month, lang)} of revenue a month")
        return head

    @property
    def recent_margin(self) -> float | None:
        """The margin of the last six months inside the period, costs and revenue pooled."""
        last = self.monthly.tail(6)
        revenue = float(last["revenue"].sum())
        return None if revenue <= 0 else float((revenue - last["costs"].sum()) / revenue)

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        kind = {VARIABLE: ("随业务量变动", "moves with treatments"), FIXED: ("固定", "fixed"),
                STOCK: ("库存（存量，不计入成本）", "stock (a balance, not a cost)")}
        return pd.DataFrame({
            i18n.pick(lang, "类别", "Category"): [_name(k, lang) for k in t.index],
            i18n.pick(lang, "金额", "Amount"): i18n.money_column(t["amount"], lang),
            i18n.pick(lang, "占实收", "Share of revenue"): [i18n.rate(v, lang) for v in t["share"]],
            i18n.pick(lang, "性质", "Kind"): [i18n.pick(lang, *kind[CATEGORIES[k].kind]) for k in t.index],
        })

    def metrics(self) -> dict:
        t = self.table
        kpis = {"operating_margin": _rounded(self.operating_margin),
                "break_even_revenue_per_month": _rounded(self.break_even_per_month, 2)}
        kpis |= {f"{key}_share": _rounded(t.loc[key, "share"]) if key in t.index else None for key in SHARE_KPIS}
        categories = {key: {"amount": _rounded(row.amount, 2), "share": _rounded(row.share),
                            "kind": CATEGORIES[key].kind} for key, row in t.iterrows()}
        monthly = {f"{m:%Y-%m}": {"revenue": _rounded(row.revenue, 2), "costs": _rounded(row.costs, 2),
                                  "margin": _rounded(row.margin)} for m, row in self.monthly.iterrows()}
        return {"kpis": kpis, "profit": {"months_in_period": self.months_in_period,
                                         "months_with_costs": self.months_with_costs,
                                         "categories": categories, "monthly": monthly}}


def profit_view(costs: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date, end: dt.date) -> ProfitView | Unavailable:
    """Revenue against every cost of the costs table, month by month, and the period's operating margin.

    Parameters
    ----------
    costs : canonical costs (``month``, ``category``, ``amount``).
    charges : canonical charges (``paid_at``, ``amount_paid``): revenue, refunds included.
    start, end : the analysis period; the months whose first day lies in it are used.
    """
    months = months_inside(start, end)
    paid, revenue = payments(charges), METRICS["revenue"]
    revenue_total = revenue.of(paid, start, end)
    by_month = revenue.of_periods(paid, "M", start, end)["value"]
    rows = cost_lines(costs, months)
    if rows.empty or len(months) == 0 or revenue_total <= 0:
        return Unavailable.because(
            "profit", needs=["costs"],
            zh_reason="成本表中没有分析期内各月的成本（人工、房租、营销、耗材、加工费等），无法计算利润；请补充按月的全部成本。",
            en_reason="The costs table has no costs for the months of the period (labour, rent, marketing, consumables, "
                      "lab fees …): profit cannot be computed; ask for every cost by month.")
    spent = rows.pivot_table(index="month", columns="key", values="amount", aggfunc="sum").reindex(months)
    monthly = spent.copy()
    monthly.insert(0, "revenue", by_month.reindex(months, fill_value=0.0))
    cost_keys = [k for k in spent.columns if CATEGORIES[k].kind != STOCK]
    recorded = spent[cost_keys].notna().any(axis=1)
    monthly["costs"] = spent[cost_keys].sum(axis=1, min_count=1)
    monthly["margin"] = ((monthly["revenue"] - monthly["costs"]) / monthly["revenue"].where(monthly["revenue"] > 0))
    costs_total = float(spent[cost_keys].sum().sum())

    table_rows = []
    for key in (k for k in ORDER if k in spent.columns):
        seen = spent[key].notna()
        base = float(monthly.loc[seen, "revenue"].sum())
        amount = float(spent.loc[seen, key].sum())
        # a stock's share is its average balance over the average month's revenue, the same quotient
        table_rows.append({"category": key, "amount": amount, "share": amount / base if base > 0 else None})
    table = pd.DataFrame(table_rows).set_index("category")

    variable = [k for k in cost_keys if CATEGORIES[k].kind == VARIABLE]
    fixed = [k for k in cost_keys if CATEGORIES[k].kind == FIXED]
    seen_revenue = float(monthly.loc[recorded, "revenue"].sum())
    variable_share = float(spent.loc[recorded, variable].sum().sum()) / seen_revenue if seen_revenue > 0 else None
    fixed_per_month = float(spent.loc[recorded, fixed].sum().sum()) / max(int(recorded.sum()), 1)
    break_even = (fixed_per_month / (1 - variable_share)
                  if variable_share is not None and variable_share < 1 and fixed else None)

    result = ProfitView("profit", table, "", "", monthly=monthly, revenue=revenue_total,
                        operating_margin=(revenue_total - costs_total) / revenue_total, break_even_per_month=break_even,
                        months_in_period=len(months), months_with_costs=int(recorded.sum()))
    result.zh, result.en = _sentences(result)
    return result


def _sentences(view: ProfitView) -> tuple[str, str]:
    t = view.table
    costs = t.drop(index=[k for k in t.index if CATEGORIES[k].kind == STOCK])
    largest = costs["share"].idxmax()
    margin_zh, margin_en = i18n.rate(view.operating_margin, "zh"), i18n.rate(view.operating_margin, "en")
    largest_zh = f"最大的成本是{_name(largest, 'zh')}，占实收{i18n.rate(costs.loc[largest, 'share'], 'zh')}"
    largest_en = (f"the largest cost is {_name(largest, 'en').lower()}, {i18n.rate(costs.loc[largest, 'share'], 'en')} "
                  f"of revenue")
    zh = f"分析期经营利润率{margin_zh}（实收减去各项成本，库存不计）；{largest_zh}。"
    en = f"The operating margin over the period was {margin_en} (revenue less every cost, stock left out); {largest_en}."
    if view.break_even_per_month:
        zh += (f"按耗材和加工费随业务量变动、其他成本固定估算，每月实收约{i18n.money(view.break_even_per_month, 'zh')}"
               f"才能保本。")
        en += (f" Taking consumables and lab fees as moving with revenue and every other cost as fixed, the clinic "
               f"breaks even at about {i18n.money(view.break_even_per_month, 'en')} of revenue a month.")
    if not view.complete:
        missing = view.months_in_period - view.months_with_costs
        zh += f"注意：分析期有{missing}个月没有成本记录，利润率偏高，需补齐这些月份的成本。"
        en += (f" Note: {missing} month{'s' if missing > 1 else ''} of the period have no costs recorded, so the margin "
               f"is overstated until they are added.")
    absent = [k for k in SHARE_KPIS if k not in t.index]
    if absent:
        zh += f"成本表中没有{'、'.join(_name(k, 'zh') for k in absent)}，如有这些支出请补充。"
        en += (f" The costs table has no {', '.join(_name(k, 'en').lower() for k in absent)}: add them if the clinic "
               f"pays any.")
    return zh, en

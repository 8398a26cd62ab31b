"""Loss-leader campaign break-even: how many 9.9-yuan cards, and what conversion, make a campaign pay.

method.md, "Loss-leader campaign break-even" [S3]. A clinic sells N cards at price p (the sellers keep a
share k of it), a share r of them is redeemed (the holder comes in), each redeemed card costs c to
deliver, the campaign has fixed costs F (design, advertising, staff time), and a share q of the patients
who come buy a high-value case (implant, orthodontics, crowns) of contribution margin m:

    profit(q)  = N·p·(1 − k) − N·r·c − F + N·r·q·m
    q*         = (N·r·c + F − N·p·(1 − k)) / (N·r·m)          the break-even conversion
    N*(q)      = F / (p·(1 − k) − r·c + r·q·m)                 the cards to sell at conversion q

N*(q) exists only when the per-card contribution p(1 − k) − r·c + r·q·m is positive: otherwise every card
sold loses money and selling more only loses more. q* ≤ 0 means the card income alone covers the costs;
q* > 1 (or m·r = 0 with a loss) means no conversion can make the campaign pay.

From the clinic's history: its *campaign patients* are the new patients (first arrived visit, the
contract's definition in `playbook.kpis`) whose source channel is a campaign's channel and who first
arrived between the campaign's start and end (a patient matching two campaigns counts for the earlier).
Their *high-value conversion* is the share who paid (amount > 0) for a high-value item
(`playbook.catalogue`) within 90 days of the first arrival, counted over patients whose 90 days lie in the
data (`playbook.tables.new_patient_economics`). statsmodels gives its interval
(``proportion_confint``, Wilson by default); the probability that a planned campaign breaks even is
P(q > q*) under the Beta posterior of the conversion (Jeffreys prior Beta(½, ½), scipy.stats.beta),
assuming the campaign's patients convert like the past campaign patients it is compared with. It is the
uncertainty of the conversion *rate*; the chance variation of the count in one campaign comes on top.

kpis.json names added. Under ``kpis``: ``campaign_high_value_conversion`` (all campaign patients of the
data with 90 days behind them; null without campaigns). Under ``breakeven``: ``history`` (``trials``,
``successes``, ``rate``, ``ci_low``, ``ci_high``, ``method``, ``alpha``, ``value_per_deal`` and
``campaigns``: campaign_id → patients, judged, deals, rate, ci_low, ci_high) and ``planned`` (the campaign
analysed: ``inputs``, ``status``, ``breakeven_conversion``, ``breakeven_cases``, ``conversion``,
``breakeven_cards``, ``profit``, ``contribution_per_card``, ``probability_breakeven`` and its history).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import i18n
from .catalogue import HIGH_VALUE
from .errors import PlaybookError
from .jsonsafe import scalar as _r
from .results import AnalysisResult, Section, Unavailable, Window, deep_merge
from .tables import REVENUE_WINDOW_DAYS, data_end, new_patient_economics

# `playbook breakeven` imports this module in 0.5 s; statsmodels (+1.3 s) and the plotting stack (+1.2 s)
# are imported where an interval or a chart is made, which that command never does.
if TYPE_CHECKING:
    import matplotlib.pyplot as plt

    from .clinic import Clinic

__all__ = ["Campaign", "CampaignInputError", "BreakevenResult", "CampaignHistory", "BreakevenSection", "breakeven",
           "campaign_history", "clinic_breakeven", "fixed_cost_grid", "REACHABLE", "ALWAYS", "NEVER"]

REACHABLE, ALWAYS, NEVER = "reachable", "always", "never"
# Playbook default, not from a source: about half of a high-value case's price is left after materials,
# lab fees and the doctor's commission. A clinic that knows its own margin passes margin_rate=.
MARGIN_RATE = 0.5
MIN_HISTORY = 30  # fewer judged patients in campaigns like the planned one: compare with a wider set
MIN_SHOWN = 20  # the history sentence names the lowest and highest campaign among those with this many
GRID_STEPS = 8  # the sensitivity grid: 8 card counts × 9 conversions


# ---------------------------------------------------------------------------------------------------
# The model


class CampaignInputError(PlaybookError):
    """An input of the break-even model that cannot be right: names the option and the fix (exit 2)."""

    def __init__(self, parameter: str, value, rule: str, fix: str):
        self.parameter = parameter
        self.value = value
        option = "--" + parameter.replace("_", "-")
        shown = f"{value:g}" if isinstance(value, (int, float)) else repr(value)
        super().__init__(f"{option} {shown}: {rule}", fix=fix)


# parameter -> (low, high, rule, fix); None: no bound on that side. A share is a fraction of 1.
_RULES = {
    "cards": (0, None, "the number of cards sold must be more than 0",
              "give the cards the campaign sells (or plans to sell), e.g. --cards 3560"),
    "card_price": (0, None, "the card price cannot be negative", "give the price a buyer pays, e.g. --card-price 9.9"),
    "seller_share": (0, 1, "the sellers' share of the card price must be between 0 and 1",
                     "give it as a fraction: 1 when the sellers keep the whole price, 0 when the clinic keeps it"),
    "redemption": (0, 1, "the redemption rate must be a share between 0 and 1",
                   "give it as a fraction: 0.8 when 80% of the cards are used"),
    "delivery_cost": (0, None, "the delivery cost of a redeemed card cannot be negative",
                      "give what serving one card holder costs the clinic (materials, chair time), e.g. 60"),
    "fixed_cost": (0, None, "the fixed cost cannot be negative",
                   "give what the campaign costs whatever it sells (design, ads, prizes), or 0"),
    "margin": (0, None, "the margin of a high-value case cannot be negative",
               "give the contribution of one high-value case after its variable costs, e.g. 10000"),
    "conversion": (0, 1, "the conversion must be a share between 0 and 1",
                   "give it as a fraction of the patients who come: 0.01 for 1%"),
}


def _check(parameter: str, value) -> float:
    low, high, rule, fix = _RULES[parameter]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CampaignInputError(parameter, value, "must be a number", fix) from None
    bad = not math.isfinite(number) or number < low or (high is not None and number > high)
    if parameter == "cards":
        bad = bad or number <= 0
    if bad:
        raise CampaignInputError(parameter, value, rule, fix)
    return number


@dataclass(frozen=True)
class Campaign:
    """A loss-leader card campaign, planned or past: the inputs of the [S3] model.

    Parameters
    ----------
    cards : N, cards sold (> 0).
    card_price : p, what a buyer pays for a card (yuan, ≥ 0).
    seller_share : k, share of the card price kept by whoever sold it (0..1; 1 in the [S3] case).
    redemption : r, share of the cards redeemed, i.e. whose holder comes in (0..1).
    delivery_cost : c, what serving one redeemed card costs the clinic (yuan, ≥ 0).
    fixed_cost : F, what the campaign costs whatever it sells (yuan, ≥ 0).
    margin : m, contribution of one high-value case after its variable costs (yuan, ≥ 0).
    name : how sentences name the campaign (optional).

    Raises `CampaignInputError` (a `PlaybookError`, exit 2 on the command line) for an input that
    cannot be right: a share outside 0..1, a negative price or cost, no cards.
    """

    cards: float
    card_price: float
    seller_share: float
    redemption: float
    delivery_cost: float
    fixed_cost: float
    margin: float
    name: str | None = None

    def __post_init__(self):
        for f in fields(self):
            if f.name in _RULES:
                object.__setattr__(self, f.name, _check(f.name, getattr(self, f.name)))

    @property
    def redeemed(self) -> float:
        """N·r: the card holders who come in."""
        return self.cards * self.redemption

    @property
    def base_profit(self) -> float:
        """Profit with no high-value case: N·p·(1 − k) − N·r·c − F."""
        return self.cards * self.card_price * (1 - self.seller_share) - self.redeemed * self.delivery_cost - self.fixed_cost

    def inputs(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in _RULES}

    def profit(self, conversion: float, cards: float | None = None) -> float:
        """profit(q) of ``cards`` (default: the campaign's N) at conversion q of the patients who come."""
        q = _check("conversion", conversion)
        n = self.cards if cards is None else _check("cards", cards)
        return (n * self.card_price * (1 - self.seller_share) - n * self.redemption * self.delivery_cost
                - self.fixed_cost + n * self.redemption * q * self.margin)

    def contribution_per_card(self, conversion: float) -> float:
        """What one more card sold adds to profit at conversion q: p·(1 − k) − r·c + r·q·m."""
        q = _check("conversion", conversion)
        return (self.card_price * (1 - self.seller_share) - self.redemption * self.delivery_cost
                + self.redemption * q * self.margin)

    def breakeven_conversion(self) -> float | None:
        """q* of the formula, which may be ≤ 0 (pays anyway) or > 1 (never pays); None when conversion
        does not move profit (no card is redeemed, or a high-value case has no margin)."""
        slope = self.redeemed * self.margin
        return None if slope == 0 else -self.base_profit / slope

    def breakeven_cards(self, conversion: float) -> float | None:
        """N*(q) = F / (per-card contribution), unrounded; None when a card contributes nothing or loses
        (then no number of cards breaks even at that conversion)."""
        unit = self.contribution_per_card(conversion)
        cards = self.fixed_cost / unit if unit > 0 else math.inf
        return cards if math.isfinite(cards) else None  # a contribution of a hair above 0 is none at all

    def affordable_fixed_cost(self, conversion: float) -> float:
        """The fixed cost F at which the campaign's N cards exactly break even at conversion q."""
        return self.cards * self.contribution_per_card(conversion)

    def status(self) -> str:
        """``always`` (pays with no conversion), ``never`` (not even at 100%), or ``reachable``."""
        q = self.breakeven_conversion()
        if q is None:
            return ALWAYS if self.base_profit >= 0 else NEVER
        return ALWAYS if q <= 0 else NEVER if q > 1 else REACHABLE


def fixed_cost_grid(campaign: Campaign, *, conversion: float, margins, delivery_costs, lang: str = "zh") -> pd.DataFrame:
    """The fixed cost F that makes ``campaign.cards`` the break-even number of cards at ``conversion``,
    for each delivery cost (rows) and high-value margin (columns): "what must be true for the claim".

    A cell where a card loses money at that conversion whatever F is (r·q·m + p(1 − k) ≤ r·c) reads
    "无法回本" / "never pays". Money in the report's conventions (`playbook.i18n.money`).
    """
    costs = pd.DataFrame([[_replace(campaign, delivery_cost=c, margin=m).affordable_fixed_cost(conversion)
                           for m in margins] for c in delivery_costs])
    # one unit for the whole grid, so that the cells compare across rows and columns
    cells = iter(i18n.money_column(costs.where(costs > 0).to_numpy().ravel(), lang,
                                   missing=i18n.pick(lang, "无法回本", "never pays")))
    frame = pd.DataFrame([[next(cells) for _ in margins] for _ in delivery_costs],
                         index=i18n.money_column(delivery_costs, lang), columns=i18n.money_column(margins, lang))
    frame.index.name = i18n.pick(lang, "履约成本 c ＼ 大项目贡献 m", "delivery cost c \\ margin m")
    return frame.reset_index()


def _replace(campaign: Campaign, **changes) -> Campaign:
    return Campaign(**{**campaign.inputs(), "name": campaign.name, **changes})


# ---------------------------------------------------------------------------------------------------
# Formatting


def _pct(value: float, lang: str = "zh") -> str:
    """A conversion as the owner reads it: two decimals under 1% (0.71%), one above (12.3%)."""
    if value is None or not math.isfinite(value):
        return i18n.NO_DATA[lang]
    percent = value * 100
    if abs(percent - round(percent)) < 1e-9:
        return f"{round(percent):.0f}%"
    return f"{percent:.2f}%" if abs(percent) < 1 else f"{percent:.1f}%"


def _money(value: float, lang: str = "zh") -> str:
    """Yuan as `playbook.i18n.money` writes them, but a card price keeps its jiao: 9.9元, not 10元."""
    if abs(value) < 100 and value != round(value):
        return f"{value:,.2f}".rstrip("0") + "元" if lang == "zh" else "¥" + f"{value:,.2f}".rstrip("0")
    return i18n.money(value, lang)


def _chance(p: float, lang: str) -> str:
    """A probability in words: "约4%" / "about 4%", "不到1%" / "under 1%", "超过99%" / "over 99%"."""
    if p < 0.01:
        return i18n.pick(lang, "不到1%", "under 1%")
    if p > 0.99:
        return i18n.pick(lang, "超过99%", "over 99%")
    return i18n.pick(lang, f"约{p * 100:.0f}%", f"about {p * 100:.0f}%")


def _signed_money(value: float, lang: str) -> str:
    text = i18n.money(abs(value), lang)
    return text if value >= 0 else i18n.pick(lang, f"亏损{text}", f"a loss of {text}")


# ---------------------------------------------------------------------------------------------------
# The clinic's history of campaign patients


@dataclass
class CampaignHistory(AnalysisResult):
    """High-value conversion of past campaign patients: per campaign and pooled, with its interval.

    ``table``: one row per campaign (``campaign_id``, ``name``, ``channel``, ``start``, ``end``,
    ``loss_leader``, ``patients``, ``judged``, ``deals``, ``rate``, ``ci_low``, ``ci_high``,
    ``used``: counted in the pooled estimate). ``successes`` of ``trials`` judged patients of the used
    campaigns converted; ``rate``, ``ci_low``, ``ci_high`` are the pooled estimate and its interval.
    """

    successes: int = 0
    trials: int = 0
    alpha: float = 0.05
    method: str = "wilson"
    value_per_deal: float | None = None  # mean high-value payments within 90 days of one converted patient
    scope_zh: str = "营销活动期间的首诊患者"
    scope_en: str = "patients who first came during the campaigns"

    @property
    def rate(self) -> float:
        return self.successes / self.trials

    def conf_int(self, alpha: float | None = None) -> tuple[float, float]:
        """The interval of the pooled conversion (statsmodels ``proportion_confint``)."""
        from statsmodels.stats.proportion import proportion_confint

        low, high = proportion_confint(self.successes, self.trials, alpha=self.alpha if alpha is None else alpha,
                                       method=self.method)
        return float(low), float(high)

    @property
    def ci_low(self) -> float:
        return self.conf_int()[0]

    @property
    def ci_high(self) -> float:
        return self.conf_int()[1]

    def posterior(self):
        """Beta(successes + ½, failures + ½): the conversion after the history, from a Jeffreys prior."""
        from scipy.stats import beta

        return beta(self.successes + 0.5, self.trials - self.successes + 0.5)

    def prob_above(self, conversion: float) -> float:
        """P(q > conversion) under the posterior: 1 at or below 0, 0 above 1."""
        if conversion <= 0:
            return 1.0
        if conversion > 1:
            return 0.0
        return float(self.posterior().sf(conversion))

    @property
    def params(self) -> pd.Series:
        low, high = self.conf_int()
        return pd.Series({"successes": self.successes, "trials": self.trials, "rate": self.rate, "ci_low": low,
                          "ci_high": high})

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Each campaign's conversion with its interval (campaigns with judged patients), the pooled
        estimate as a line and band. Campaigns left out of the pooled estimate are grey. Returns ``ax``."""
        import matplotlib.pyplot as plt

        from .plotting import GREY, PALETTE, set_title

        ax = ax if ax is not None else plt.gca()
        t = self.shown()
        y = np.arange(len(t))
        colors = [PALETTE[1] if used else "#b0b7bf" for used in t["used"]]
        low, high = self.conf_int()
        ax.axvspan(low * 100, high * 100, color=PALETTE[5], alpha=0.35, linewidth=0)
        ax.axvline(self.rate * 100, color=GREY, ls="--", lw=1)
        ax.hlines(y, t["ci_low"] * 100, t["ci_high"] * 100, colors=colors, lw=1.6)
        ax.scatter(t["rate"] * 100, y, c=colors, s=[12 + 0.5 * n for n in t["judged"]], zorder=3, **kwargs)
        labels = [f"{n}（{j:.0f}人）" if lang == "zh" else f"{n} ({j:.0f})" for n, j in zip(t["name"], t["judged"])]
        ax.set_yticks(y, labels, fontsize="small")
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}%"))
        ax.set_xlim(left=0)
        hidden = int((self.table["judged"] > 0).sum()) - len(t)
        note = i18n.pick(lang, f"；另有{hidden}个活动不足{MIN_SHOWN}人未列出", f"; {hidden} campaigns under {MIN_SHOWN} "
                               f"patients not shown") if hidden else ""
        ax.set_xlabel(i18n.pick(lang, f"90天内成交大项目的比例（线段为{1 - self.alpha:.0%}区间，虚线与色带为合计{note}）",
                                f"Share buying a high-value case within 90 days (bars: {1 - self.alpha:.0%} "
                                f"intervals; dashed line and band: pooled{note})"))
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="y", visible=False)
        return ax

    def shown(self) -> pd.DataFrame:
        """The campaigns the chart draws and the sentence compares: those with at least ``MIN_SHOWN``
        patients who have had their 90 days (fewer give an interval too wide to read), or every campaign
        with any when none has that many."""
        judged = self.table[self.table["judged"] > 0]
        enough = judged[judged["judged"] >= MIN_SHOWN]
        return enough if len(enough) else judged

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the pooled high-value conversion of campaign patients, with its interval."""
        low, high = self.conf_int()
        level = f"{1 - self.alpha:.0%}"
        return i18n.pick(lang, f"活动患者90天内成交大项目的比例为{_pct(self.rate, lang)}（{level}区间{_pct(low, lang)}–"
                               f"{_pct(high, lang)}）",
                         f"{_pct(self.rate, lang)} of campaign patients bought a high-value case within 90 days "
                         f"({level} interval {_pct(low, lang)}–{_pct(high, lang)})")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        return pd.DataFrame({
            i18n.pick(lang, "活动", "Campaign"): t["name"],
            i18n.pick(lang, "渠道", "Channel"): t["channel"].map(lambda c: i18n.term(c, lang)),
            i18n.pick(lang, "时间", "Dates"): [i18n.span(a, b) for a, b in zip(t["start"], t["end"])],
            i18n.pick(lang, "首诊患者", "New patients"): [f"{v:.0f}" for v in t["patients"]],
            i18n.pick(lang, "已满90天", "With 90 days"): [f"{v:.0f}" for v in t["judged"]],
            i18n.pick(lang, "成交大项目", "High-value deals"): [f"{v:.0f}" for v in t["deals"]],
            i18n.pick(lang, "成交率", "Conversion"): [_pct(v, lang) if j else "—" for v, j in zip(t["rate"], t["judged"])],
            i18n.pick(lang, f"{1 - self.alpha:.0%}区间", f"{1 - self.alpha:.0%} interval"): [
                f"{_pct(lo, lang)}–{_pct(hi, lang)}" if j else "—"
                for lo, hi, j in zip(t["ci_low"], t["ci_high"], t["judged"])],
        })

    def as_dict(self) -> dict:
        low, high = self.conf_int()
        return {"trials": int(self.trials), "successes": int(self.successes), "rate": _r(self.rate),
                "ci_low": _r(low), "ci_high": _r(high), "method": self.method, "alpha": self.alpha,
                "value_per_deal": _r(self.value_per_deal, 2), "scope": self.scope_en,
                "campaigns": {str(r.campaign_id): {"patients": int(r.patients), "judged": int(r.judged), "deals": int(r.deals),
                                                   "rate": _r(r.rate) if r.judged else None,
                                                   "ci_low": _r(r.ci_low) if r.judged else None,
                                                   "ci_high": _r(r.ci_high) if r.judged else None,
                                                   "used": bool(r.used)}
                              for r in self.table.itertuples()}}

    def metrics(self) -> dict:
        return {"kpis": {"campaign_high_value_conversion": _r(self.rate)}, "breakeven": {"history": self.as_dict()}}


def _history_sentences(h: CampaignHistory) -> tuple[str, str]:
    low, high = h.conf_int()
    level = f"{1 - h.alpha:.0%}"
    zh = (f"{h.scope_zh}中，已满90天的{h.trials:,}人里有{h.successes:,}人在90天内成交了大项目（种植、正畸、修复等），"
          f"成交率{_pct(h.rate, 'zh')}（{level}区间{_pct(low, 'zh')}–{_pct(high, 'zh')}）")
    en = (f"{h.successes:,} of the {h.trials:,} {h.scope_en} (those with 90 days behind them) bought a high-value case "
          f"(implant, orthodontics, crowns) within 90 days: {_pct(h.rate, 'en')} ({level} interval {_pct(low, 'en')}–"
          f"{_pct(high, 'en')})")
    shown = h.shown()  # the campaigns the chart draws: the highest named is the highest drawn
    if len(shown) >= 2:
        lo, hi = shown.loc[shown["rate"].idxmin()], shown.loc[shown["rate"].idxmax()]
        if hi["rate"] - lo["rate"] >= 0.05:
            zh += (f"；活动之间差别很大，最低的是{lo['name']}（{_pct(lo['rate'], 'zh')}），最高的是{hi['name']}"
                   f"（{_pct(hi['rate'], 'zh')}）：测算新活动时，用同类活动的成交率，而不是全体的平均")
            en += (f"; campaigns differ widely, from {lo['name']} ({_pct(lo['rate'], 'en')}) to {hi['name']} "
                   f"({_pct(hi['rate'], 'en')}): plan a new campaign on the conversion of campaigns like it, not on "
                   f"the average")
    return zh + "。", en + "."


def campaign_history(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame,
                     campaigns: pd.DataFrame | None, *, campaign_ids=None, alpha: float = 0.05,
                     method: str = "wilson", last_day: pd.Timestamp | None = None) -> CampaignHistory | Unavailable:
    """High-value conversion of the clinic's past campaign patients, with its interval.

    Parameters
    ----------
    patients, visits, charges : canonical tables (charges with its ``tier``, as `load_clinic` adds it).
    campaigns : the campaigns table (``campaign_id``, ``name``, ``channel``, ``start``, ``end``); None
        returns `Unavailable` naming it.
    campaign_ids : the campaigns pooled into the estimate (default: all); the table lists every campaign.
    alpha : 1 − the interval's level.
    method : ``proportion_confint``'s method: "wilson" (default) or "beta" (Clopper–Pearson).
    last_day : the data end (default: the last day with a visit or a charge); patients whose 90 days
        end after it are not judged.
    """
    nulls = ("campaign_high_value_conversion",)
    if campaigns is None:
        return Unavailable.because(
            "campaign_breakeven", ["campaigns"], nulls,
            zh_reason="没有营销活动表，无法估计过去活动患者的大项目成交率；请诊所提供活动表（活动编号、渠道、"
                      "开始和结束日期、投放金额、优惠价、单次成本、售出数量）。",
            en_reason="There is no campaigns table, so the high-value conversion of past campaign patients cannot be "
                      "estimated; ask the clinic for it (campaign id, channel, start and end dates, spend, offer price, "
                      "delivery cost, units sold).")
    c = campaigns[campaigns["start"].notna()].copy()
    c["end"] = c["end"].fillna(c["start"])
    c = c.sort_values("start", kind="stable").reset_index(drop=True)
    c["campaign_id"] = c["campaign_id"].astype("str")
    c["name"] = (c["name"] if "name" in c else c["campaign_id"]).fillna(c["campaign_id"]).astype("str")
    if c.empty:
        return Unavailable.because("campaign_breakeven", ["campaigns: start"], nulls,
                                   zh_reason="营销活动表中没有带开始日期的活动，无法找到活动患者。",
                                   en_reason="No campaign in the campaigns table has a start date: no campaign patients.")
    last_day = last_day if last_day is not None else data_end(visits, charges)
    new = new_patient_economics(patients, visits, charges, start=c["start"].min().date(),
                                end=c["end"].max().date(), last_day=last_day)
    # a patient belongs to the earliest campaign of their channel running on their first arrival
    pairs = new.reset_index().merge(c[["campaign_id", "channel", "start", "end"]], left_on="source_channel",
                                    right_on="channel")
    pairs = pairs[(pairs["first_arrival"] >= pairs["start"].dt.normalize())
                  & (pairs["first_arrival"] <= pairs["end"].dt.normalize())]
    pairs = pairs.sort_values(["start", "campaign_id"], kind="stable").drop_duplicates("patient_id")
    judged = pairs[pairs["complete_90d"]]
    per = pd.DataFrame({"patients": pairs.groupby("campaign_id").size(), "judged": judged.groupby("campaign_id").size(),
                        "deals": judged.groupby("campaign_id")["high_value_deal"].sum()})
    table = c[["campaign_id", "name", "channel", "start", "end"]].join(per.astype("float64"), on="campaign_id")
    table[["patients", "judged", "deals"]] = table[["patients", "judged", "deals"]].fillna(0.0)
    price, cost = (c[col] if col in c else pd.Series(np.nan, index=c.index) for col in ("offer_price", "offer_cost"))
    # a card sold below what serving it costs; a free screening (price 0) sells no card
    table["loss_leader"] = ((price > 0) & (price < cost)).fillna(False).astype(bool).to_numpy()
    ids = set(table["campaign_id"]) if campaign_ids is None else {str(i) for i in campaign_ids}
    table["used"] = table["campaign_id"].isin(ids)

    from statsmodels.stats.proportion import proportion_confint

    n, k = table["judged"].to_numpy(), table["deals"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rate"] = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    low, high = proportion_confint(k, np.where(n > 0, n, 1), alpha=alpha, method=method)
    table["ci_low"], table["ci_high"] = np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)

    used = table[table["used"]]
    trials, successes = int(used["judged"].sum()), int(used["deals"].sum())
    if trials == 0:
        return Unavailable.because(
            "campaign_breakeven", ["campaigns", "patients: source_channel"], nulls,
            zh_reason="营销活动期间，对应渠道没有已满90天的首诊患者（请核对活动表的渠道名称与患者来源渠道是否一致），"
                      "无法估计活动患者的大项目成交率。",
            en_reason="No new patient of a campaign's channel first came during a campaign and has had 90 days (check "
                      "that the campaigns' channel names match the patients' source channels): no conversion estimate.")
    value = _value_per_deal(charges, pairs[pairs["campaign_id"].isin(ids)] if ids else pairs)
    if value is None:
        value = _value_per_deal(charges, pairs)
    result = CampaignHistory("campaign_breakeven", table, "", "", successes=successes, trials=trials, alpha=alpha,
                             method=method, value_per_deal=value)
    if campaign_ids is not None:
        names = "、".join(used["name"]) if len(used) <= 3 else f"{len(used)}个活动"
        result.scope_zh = f"{names}期间的首诊患者"
        result.scope_en = (f"patients who first came during {', '.join(used['name'])}" if len(used) <= 3
                           else f"patients who first came during {len(used)} campaigns")
    else:  # all the campaigns of the data, named by the years they ran (not the analysis period's)
        years = Window(dt.date(int(used["start"].min().year), 1, 1), dt.date(int(used["end"].max().year), 12, 31))
        result.scope_zh = f"{i18n.window(years.start, years.end, 'zh')}{len(used)}个营销活动期间的首诊患者"
        result.scope_en = (f"patients who first came during the {len(used)} campaigns of "
                           f"{i18n.window(years.start, years.end, 'en')}")
    result.zh, result.en = _history_sentences(result)
    return result


def _value_per_deal(charges: pd.DataFrame, pairs: pd.DataFrame) -> float | None:
    """Mean high-value payments within 90 days of one judged, converted campaign patient."""
    deals = pairs[pairs["complete_90d"] & pairs["high_value_deal"]].set_index("patient_id")["first_arrival"]
    if deals.empty:
        return None
    paid = charges[charges["patient_id"].isin(deals.index) & (charges["tier"] == HIGH_VALUE)]
    lag = (paid["paid_at"].dt.normalize() - paid["patient_id"].map(deals)).dt.days
    total = paid.loc[(lag >= 0) & (lag <= REVENUE_WINDOW_DAYS), "amount_paid"].sum()
    return float(total) / len(deals) if total > 0 else None


# ---------------------------------------------------------------------------------------------------
# The break-even result


@dataclass
class BreakevenResult(AnalysisResult):
    """q*, N* at a conversion, profit at a conversion, and the sensitivity grid of a campaign [S3].

    ``table``: the key numbers (``quantity`` → ``value``). ``grid``: profit (yuan) by conversion (rows,
    highest first) and cards (columns). ``breakeven_conversion`` is q* where it lies in (0, 1], 0.0
    when the campaign pays with no conversion (``status`` "always") and None when it never pays
    ("never"); ``breakeven_cards`` is the smallest whole number of cards that breaks even at
    ``conversion`` (None when no number does).
    """

    campaign: Campaign = None
    status: str = REACHABLE
    conversion: float | None = None
    grid: pd.DataFrame = None
    history: CampaignHistory | None = None
    sources: dict = field(default_factory=dict)  # input -> (zh, en): where its value comes from

    @property
    def breakeven_conversion(self) -> float | None:
        if self.status == NEVER:
            return None
        return 0.0 if self.status == ALWAYS else self.campaign.breakeven_conversion()

    @property
    def breakeven_cases(self) -> float | None:
        q = self.breakeven_conversion
        return None if q is None else q * self.campaign.redeemed

    @property
    def breakeven_whole_cases(self) -> int | None:
        """The cases the campaign needs, whole: a patient buys a case or does not (39.1 → 40)."""
        cases = self.breakeven_cases
        return None if cases is None else math.ceil(round(cases, 9))

    @property
    def breakeven_cards(self) -> int | None:
        if self.conversion is None:
            return None
        n = self.campaign.breakeven_cards(self.conversion)
        return None if n is None else int(math.ceil(round(n, 6)))

    @property
    def profit(self) -> float | None:
        return None if self.conversion is None else self.campaign.profit(self.conversion)

    @property
    def probability(self) -> float | None:
        """P(q > q*) under the history's posterior: the chance the campaign breaks even."""
        if self.history is None:
            return None
        if self.status != REACHABLE:
            return 1.0 if self.status == ALWAYS else 0.0
        return self.history.prob_above(self.breakeven_conversion)

    @property
    def params(self) -> pd.Series:
        return pd.Series({"breakeven_conversion": self.breakeven_conversion, "breakeven_cards": self.breakeven_cards,
                          "profit": self.profit, "probability_breakeven": self.probability})

    def as_dict(self) -> dict:
        """What ``playbook breakeven --json`` prints and kpis.json keeps."""
        c = self.campaign
        inputs = {k: int(v) if k == "cards" and v == int(v) else _r(v) for k, v in c.inputs().items()}
        out = {"inputs": inputs, "status": self.status,
               "breakeven_conversion": _r(self.breakeven_conversion), "breakeven_cases": _r(self.breakeven_cases, 2)}
        if c.name:
            out["name"] = c.name
        if self.conversion is not None:
            out.update(conversion=_r(self.conversion), breakeven_cards=self.breakeven_cards,
                       profit=_r(self.profit, 2), contribution_per_card=_r(c.contribution_per_card(self.conversion), 4))
        if self.history is not None:
            out["probability_breakeven"] = _r(self.probability)
            out["history"] = {k: v for k, v in self.history.as_dict().items() if k != "campaigns"}
        return out

    def metrics(self) -> dict:
        return {"breakeven": {"planned": self.as_dict()}}

    def as_text(self) -> str:
        """A few lines for the terminal (English, as the command line speaks)."""
        c, lang = self.campaign, "en"
        lines = [f"{c.cards:,.0f} cards at {_money(c.card_price, lang)} (sellers keep {c.seller_share:.0%}), "
                 f"{c.redemption:.1%} redeemed = {c.redeemed:,.0f} patients; delivery {i18n.money(c.delivery_cost, lang)} "
                 f"a redeemed card; fixed cost {i18n.money(c.fixed_cost, lang)}; margin {i18n.money(c.margin, lang)} "
                 f"a high-value case"]
        if self.status == REACHABLE:
            lines.append(f"break-even conversion: {_pct(self.breakeven_conversion, lang)} of the patients who come "
                         f"(at least {self.breakeven_whole_cases:,} high-value cases)")
        elif self.status == ALWAYS:
            lines.append("break-even conversion: 0% - the card income covers the delivery and fixed costs, so the "
                         "campaign pays even if no one buys a high-value case")
        else:
            lines.append(f"break-even conversion: none - {_never_reason(self, 'en')}")
        if self.conversion is not None:
            cards = self.breakeven_cards
            need = (f"{cards:,} cards break even" if cards is not None
                    else f"no number of cards breaks even (each card "
                         f"{_signed_money(c.contribution_per_card(self.conversion), lang)})")
            lines.append(f"at {_pct(self.conversion, lang)} conversion: {need}; {c.cards:,.0f} cards make "
                         f"{_signed_money(self.profit, lang)}")
        if self.history is not None:
            lines.append(f"chance of breaking even: {_chance(self.probability, lang)} "
                         f"(history {_pct(self.history.rate, lang)})")
        return "\n".join(lines)

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """The inputs with where each comes from, then the answers."""
        c = self.campaign
        rows = [
            (("卖出卡数 N", "Cards sold N"), f"{c.cards:,.0f}", "cards"),
            (("卡价 p", "Card price p"), _money(c.card_price, lang), "card_price"),
            (("卖卡人分成 k", "Sellers' share k"), f"{c.seller_share:.0%}", "seller_share"),
            (("到店率 r", "Redemption r"), f"{c.redemption:.1%}", "redemption"),
            (("每位到店者履约成本 c", "Delivery cost per redeemed card c"), i18n.money(c.delivery_cost, lang), "delivery_cost"),
            (("固定成本 F", "Fixed cost F"), i18n.money(c.fixed_cost, lang), "fixed_cost"),
            (("每个大项目贡献 m", "Margin of a high-value case m"), i18n.money(c.margin, lang), "margin"),
        ]
        q = self.breakeven_conversion
        answers = [(("保本转化率 q*", "Break-even conversion q*"),
                    _pct(q, lang) if q is not None else i18n.pick(lang, "无法回本", "never pays"), None)]
        if self.conversion is not None:
            cards = self.breakeven_cards
            answers += [(("按转化率 q", "At conversion q"), _pct(self.conversion, lang), "conversion"),
                        (("需要卖出的卡数 N*", "Cards to sell N*"),
                         f"{cards:,}" if cards is not None else i18n.pick(lang, "卖多少都不回本", "none breaks even"), None),
                        (("利润", "Profit"), _signed_money(self.profit, lang), None)]
        if self.history is not None:
            answers.append((("回本概率", "Chance of breaking even"), _chance(self.probability, lang), None))
        out = pd.DataFrame({
            i18n.pick(lang, "项目", "Item"): [i18n.pick(lang, *label) for label, _, _ in rows + answers],
            i18n.pick(lang, "数值", "Value"): [value for _, value, _ in rows + answers],
        })
        if self.sources:
            out[i18n.pick(lang, "来源", "Source")] = [
                i18n.pick(lang, *self.sources[key]) if key in self.sources else "" for _, _, key in rows + answers]
        return out

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", annot: bool = True, **kwargs) -> plt.Axes:
        """The sensitivity grid as a heatmap: losses in red, profits in blue, the break-even line drawn,
        and the campaign's own point (its cards at ``conversion``) marked. kwargs go to seaborn.heatmap."""
        import matplotlib.pyplot as plt
        import seaborn as sns
        from matplotlib.colors import TwoSlopeNorm

        from .plotting import DIVERGING, PALETTE, set_title

        ax = ax if ax is not None else plt.gca()
        grid = self.grid
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        # red below zero and blue above, each side on its own scale: the sign is what the owner reads
        cmap = DIVERGING
        values = grid.to_numpy() / scale
        norm = TwoSlopeNorm(0.0, vmin=min(values.min(), -1e-6), vmax=max(values.max(), 1e-6))
        small = 100 if lang == "zh" else 10  # 万元 keep one decimal below 100, thousands below 10
        labels = np.vectorize(lambda v: f"{v:,.1f}" if abs(v) < small else f"{v:,.0f}")(values)
        options = dict(cmap=cmap, norm=norm, linewidths=0.5, linecolor="white",
                       cbar_kws={"label": i18n.pick(lang, f"利润（{unit}；红色为亏损）", f"Profit ({unit}; red: loss)")})
        if annot:
            options.update(annot=labels, fmt="", annot_kws={"fontsize": 7})
        sns.heatmap(grid / scale, ax=ax, **{**options, **kwargs})
        ax.set_xticks(np.arange(grid.shape[1]) + 0.5, [f"{n:,.0f}" for n in grid.columns], rotation=0, fontsize="small")
        ax.set_yticks(np.arange(grid.shape[0]) + 0.5, [f"{q * 100:.4g}%" for q in grid.index], rotation=0, fontsize="small")
        ax.set_xlabel(i18n.pick(lang, "卖出卡数", "Cards sold"))
        ax.set_ylabel(i18n.pick(lang, "到店者成交大项目的比例", "Share of patients who come buying a high-value case"))
        # cell centres sit at index + 0.5 and the grid is evenly spaced: map values to axes coordinates
        cards, qs = grid.columns.to_numpy(dtype=float), grid.index.to_numpy(dtype=float)
        dn, dq = cards[1] - cards[0], qs[0] - qs[1]
        x_of = lambda n: (n - cards[0]) / dn + 0.5  # noqa: E731
        y_of = lambda q: (qs[0] - q) / dq + 0.5  # noqa: E731
        c = self.campaign
        n = np.linspace(max(cards[0] - dn / 2, 1e-9), cards[-1] + dn / 2, 400)
        if c.redemption * c.margin > 0:
            line = (n * c.redemption * c.delivery_cost + c.fixed_cost - n * c.card_price * (1 - c.seller_share)) / (
                n * c.redemption * c.margin)
            inside = (line >= qs[-1] - dq / 2) & (line <= qs[0] + dq / 2)
            if inside.any():
                ax.plot(x_of(n[inside]), y_of(line[inside]), color=PALETTE[0], lw=2,
                        label=i18n.pick(lang, "保本线", "Break-even"))
        if self.conversion is not None and qs[-1] - dq / 2 <= self.conversion <= qs[0] + dq / 2:
            ax.plot([x_of(c.cards)], [y_of(self.conversion)], marker="o", ms=8, mfc="white", mec=PALETTE[0], mew=2,
                    ls="none", label=i18n.pick(lang, f"本次：{c.cards:,.0f}张、{_pct(self.conversion, lang)}",
                                                f"This campaign: {c.cards:,.0f} cards, {_pct(self.conversion, lang)}"))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), ncols=2, fontsize="small", frameon=False)
        return set_title(ax, self.title(lang), lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the conversion that breaks even, and the cards needed at ``conversion``."""
        if self.status == NEVER:
            return i18n.pick(lang, "成交率再高也无法回本（红色为亏损）", "No conversion makes this campaign pay (red: loss)")
        if self.status == ALWAYS:
            return i18n.pick(lang, "卡费已覆盖成本，没有人成交大项目也能回本", "The card income covers the costs: it pays with no conversion")
        head = i18n.pick(lang, f"到店者中至少{_pct(self.breakeven_conversion, lang)}成交大项目才能回本",
                         f"It pays only if {_pct(self.breakeven_conversion, lang)} of the patients who come buy a "
                         f"high-value case")
        cards = self.breakeven_cards
        if self.conversion is None:
            return head
        if cards is None:
            return head + i18n.pick(lang, f"；按{_pct(self.conversion, lang)}卖多少张都亏（红色）",
                                    f"; at {_pct(self.conversion, lang)} no number of cards pays (red)")
        return head + i18n.pick(lang, f"；按{_pct(self.conversion, lang)}需卖{cards:,}张卡",
                                f"; at {_pct(self.conversion, lang)} it needs {cards:,} cards")


def _never_reason(result: BreakevenResult, lang: str) -> str:
    c = result.campaign
    if c.redemption * c.margin == 0:
        return i18n.pick(lang, "没有人到店或大项目没有利润，成交再多也弥补不了成本",
                         "no one comes or a high-value case has no margin, so no conversion covers the costs")
    loss = c.profit(1.0)
    return i18n.pick(lang, f"即使每位到店者都成交大项目（100%），仍{_signed_money(loss, 'zh')}",
                     f"even if every patient who comes bought a high-value case (100%), the campaign would make "
                     f"{_signed_money(loss, 'en')}")


def _sentences(result: BreakevenResult) -> tuple[str, str]:
    c = result.campaign
    head_zh = f"{c.name}：" if c.name else "这次活动"
    head_en = f"{c.name}: " if c.name else ""
    if result.status == REACHABLE:
        q = result.breakeven_conversion
        zh = (f"{head_zh}至少要有{_pct(q, 'zh')}的到店者成交大项目才能回本（{c.redeemed:,.0f}位到店者中至少"
              f"{result.breakeven_whole_cases:,}例）")
        en = (f"{head_en}the campaign pays only if at least {_pct(q, 'en')} of the patients who come buy a high-value case "
              f"(at least {result.breakeven_whole_cases:,} of {c.redeemed:,.0f})")
    elif result.status == ALWAYS:
        zh = f"{head_zh}即使没有人成交大项目也能回本：卡费收入已覆盖履约和固定成本，每个大项目都是利润"
        en = (f"{head_en}the campaign pays even if no one buys a high-value case: the card income covers the delivery and "
              f"fixed costs, so every high-value case is profit")
    else:
        zh = (f"{head_zh}无法回本：{_never_reason(result, 'zh')}；要回本只能降低固定成本或履约成本，或提高卡价、"
              f"大项目利润")
        en = (f"{head_en}the campaign can never break even: {_never_reason(result, 'en')}; only lower fixed or delivery "
              f"costs, a higher card price or a higher margin can change that")
    if result.conversion is not None:
        q, cards, unit = result.conversion, result.breakeven_cards, c.contribution_per_card(result.conversion)
        if cards is None:
            zh += (f"；按{_pct(q, 'zh')}的大项目成交率，每卖一张卡{_signed_money(unit, 'zh')}，卖得越多亏得越多，"
                   f"卖多少张都不能回本")
            en += (f"; at a high-value conversion of {_pct(q, 'en')} each card sold makes {_signed_money(unit, 'en')}, "
                   f"so selling more only loses more and no number of cards breaks even")
        elif cards == 0:
            zh += f"；按{_pct(q, 'zh')}的大项目成交率，没有固定成本要摊，卖多少张都回本"
            en += (f"; at a high-value conversion of {_pct(q, 'en')} there is no fixed cost to cover, so any number of "
                   f"cards pays")
        else:
            zh += (f"；按{_pct(q, 'zh')}的大项目成交率，需要卖出{cards:,}张卡（卖{c.cards:,.0f}张时"
                   f"{'利润' if result.profit >= 0 else ''}{_signed_money(result.profit, 'zh')}）")
            en += (f"; at a high-value conversion of {_pct(q, 'en')} it must sell {cards:,} cards ({c.cards:,.0f} cards "
                   f"make {_signed_money(result.profit, 'en')})")
    zh, en = zh + "。", en + "."
    h = result.history
    if h is not None:
        low, high = h.conf_int()
        level = f"{1 - h.alpha:.0%}"
        p = _chance(result.probability, "zh")
        zh += (f"按{h.scope_zh}的大项目成交率{_pct(h.rate, 'zh')}（{level}区间{_pct(low, 'zh')}–{_pct(high, 'zh')}，"
               f"{h.trials:,}人中{h.successes:,}人）估计，回本的概率{p}（假设这次的到店者像过去活动患者一样成交）。")
        en += (f" Judged on the high-value conversion of {h.scope_en}, {_pct(h.rate, 'en')} ({level} interval "
               f"{_pct(low, 'en')}–{_pct(high, 'en')}, {h.successes:,} of {h.trials:,}), the chance that it breaks even is "
               f"{_chance(result.probability, 'en')} (assuming its patients convert like past campaign patients).")
    return zh, en


def _nice_step(raw: float) -> float:
    """The smallest step of 1, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten that is at least ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= raw * (1 - 1e-9))


def _grid(campaign: Campaign, reference: float) -> pd.DataFrame:
    """Profit over 8 card counts (up to about 2N) × 9 conversions (0 up to about twice the reference,
    and past q*), highest conversion first; round steps, so the labels read well."""
    cards = _nice_step(2 * campaign.cards / GRID_STEPS) * np.arange(1, GRID_STEPS + 1)
    q_star = campaign.breakeven_conversion()
    top = max(2 * reference, 1.25 * q_star if q_star is not None and 0 < q_star <= 1 else 0)
    step = min(_nice_step(top / GRID_STEPS) if top > 0 else 0.0025, 1 / GRID_STEPS)
    qs = (step * np.arange(GRID_STEPS + 1))[::-1]
    profit = [[campaign.profit(q, n) for n in cards] for q in qs]
    return pd.DataFrame(profit, index=pd.Index(qs, name="conversion"), columns=pd.Index(cards, name="cards"))


def breakeven(campaign: Campaign, *, conversion: float | None = None, history: CampaignHistory | None = None,
              sources: dict | None = None) -> BreakevenResult:
    """The break-even of a loss-leader campaign [S3]: q*, N* and profit at a conversion, the grid.

    Parameters
    ----------
    campaign : the model's inputs (`Campaign`).
    conversion : q, the share of the patients who come that buys a high-value case, to answer "how many
        cards at this conversion, and what profit" (0..1). Default: the history's rate when a history
        is given, else none.
    history : past campaign patients (`campaign_history`): adds the chance of breaking even, P(q > q*).
    sources : input name → (zh, en): where each input comes from, shown by ``table_for``.

    Returns
    -------
    BreakevenResult
    """
    if conversion is None and history is not None:
        conversion = history.rate
    if conversion is not None:
        conversion = _check("conversion", conversion)
    status = campaign.status()
    q_star = campaign.breakeven_conversion() if status == REACHABLE else None
    reference = conversion if conversion else q_star if q_star else 0.01
    result = BreakevenResult("campaign_breakeven", pd.DataFrame(), "", "", campaign=campaign, status=status,
                             conversion=conversion, grid=_grid(campaign, reference), history=history,
                             sources=dict(sources or {}))
    params = result.params
    result.table = pd.DataFrame({"value": params}).rename_axis("quantity")
    result.zh, result.en = _sentences(result)
    return result


# ---------------------------------------------------------------------------------------------------
# The clinic's own campaign


@dataclass
class BreakevenSection(Section):
    history: AnalysisResult = None  # all campaign patients (the kpi and the chart)
    planned: AnalysisResult = None  # the latest loss-leader campaign, judged on campaigns like it

    def metrics(self) -> dict:
        """kpis.json always holds ``breakeven.history`` and ``breakeven.planned``: null when not analysed."""
        return deep_merge({"breakeven": {"history": None, "planned": None}}, super().metrics())


def clinic_breakeven(clinic: Clinic, *, campaign_id: str | None = None, seller_share: float = 0.0,
                     margin_rate: float = MARGIN_RATE, alpha: float = 0.05) -> BreakevenSection:
    """The clinic's campaign history and, for its latest loss-leader campaign, break-even and its chance.

    The campaign analysed is ``campaign_id`` or the latest card campaign sold below its delivery cost
    (0 < ``offer_price`` < ``offer_cost``, a *loss-leader*; a free screening sells no card) with units
    sold. Its inputs come from the data:
    N = units sold, p = offer price, c = offer cost, F = spend (0 when not recorded), r = its channel's
    new patients during it / N (capped at 1), m = the mean high-value payments within 90 days of a
    converted campaign patient × ``margin_rate``; k = ``seller_share`` (the clinic keeps the card price
    unless told). Its conversion is judged on campaigns like it: loss-leaders of its channel; with fewer
    than 30 judged patients, all loss-leaders; then all campaigns.
    """
    campaigns = clinic.table("campaigns")
    history = campaign_history(clinic.patients, clinic.visits, clinic.charges, campaigns, alpha=alpha)
    if not history.available:
        return BreakevenSection(history=history, planned=Unavailable.because(
            "campaign_breakeven", ["campaigns"],
            zh_reason="没有可用的活动记录，无法检查引流卡活动能否回本；策划9.9元卡之类的活动之前，请顾问按本章的方法先算保本转化率和"
                      "需要卖出的卡数。",
            en_reason="With no usable campaign record, no loss-leader card can be checked; before planning a 9.9-yuan "
                      "card, have the consultant work out its break-even conversion and the cards it must sell, as this "
                      "chapter does."))
    table = history.table
    raw = campaigns.assign(campaign_id=campaigns["campaign_id"].astype("str")).set_index("campaign_id")
    if campaign_id is None:
        sold = raw.reindex(table["campaign_id"])["units_sold"].fillna(0).astype("float64").to_numpy() > 0
        candidates = table[table["loss_leader"].to_numpy() & sold]
        if candidates.empty:
            return BreakevenSection(history=history, planned=Unavailable.because(
                "campaign_breakeven", ["campaigns: offer_price, offer_cost, units_sold"],
                zh_reason="活动表中没有低价引流卡活动（优惠价高于0、低于单次成本，且记录了售出数量），暂无需保本测算；"
                          "策划9.9元卡之类的活动之前，请顾问先算保本转化率和需要卖出的卡数。",
                en_reason="The campaigns table has no loss-leader card campaign (an offer price above 0 and below its "
                          "delivery cost, with units sold) to check; before planning a 9.9-yuan card, have the consultant "
                          "work out its break-even conversion and the cards it must sell."))
        campaign_id = candidates.iloc[-1]["campaign_id"]
    row, info = raw.loc[str(campaign_id)], table.set_index("campaign_id").loc[str(campaign_id)]
    if pd.isna(row.get("offer_cost")) or pd.isna(row.get("offer_price")) or pd.isna(row.get("units_sold")):
        return BreakevenSection(history=history, planned=Unavailable.because(
            "campaign_breakeven", ["campaigns: offer_price, offer_cost, units_sold"],
            zh_reason=f"活动{info['name']}缺少优惠价、单次成本或售出数量，无法做保本测算；请在活动表中补上。",
            en_reason=f"Campaign {info['name']} lacks its offer price, delivery cost or units sold: no break-even; add "
                      f"them to the campaigns table."))

    like = table[table["loss_leader"] & (table["channel"] == info["channel"])]
    scope = "channel"
    if like["judged"].sum() < MIN_HISTORY:
        like, scope = table[table["loss_leader"]], "loss_leader"
    if like["judged"].sum() < MIN_HISTORY:
        like, scope = table, "all"
    similar = campaign_history(clinic.patients, clinic.visits, clinic.charges, campaigns, alpha=alpha,
                               campaign_ids=list(like["campaign_id"]))
    if not similar.available:
        similar = history
    value = history.value_per_deal  # a case's value varies less between campaigns than conversion does
    if value is None:
        return BreakevenSection(history=history, planned=Unavailable.because(
            "campaign_breakeven", ["charges: high-value items"],
            zh_reason="过去的活动患者在90天内没有成交大项目，无法估计一个大项目的贡献。",
            en_reason="No past campaign patient bought a high-value case within 90 days: the margin of one cannot be "
                      "estimated."))
    cards = float(row["units_sold"])
    patients = float(info["patients"])
    redemption = min(patients / cards, 1.0)
    spend = float(row["spend"]) if pd.notna(row.get("spend")) else 0.0
    campaign = Campaign(cards=cards, card_price=float(row["offer_price"]), seller_share=seller_share,
                        redemption=redemption, delivery_cost=float(row["offer_cost"]), fixed_cost=spend,
                        margin=value * margin_rate, name=info["name"])
    table_zh, table_en = "活动表", "campaigns table"
    capped_zh = "（首诊患者多于卖出的卡，按100%计）" if patients > cards else ""
    capped_en = " (more new patients than cards: taken as 100%)" if patients > cards else ""
    scope_zh = {"channel": "同渠道的低价引流活动", "loss_leader": "所有低价引流活动", "all": "所有活动"}[scope]
    scope_en = {"channel": "loss-leader campaigns of its channel", "loss_leader": "all loss-leader campaigns",
                "all": "all campaigns"}[scope]
    sources = {
        "cards": (f"{table_zh}：售出数量", f"{table_en}: units sold"),
        "card_price": (f"{table_zh}：优惠价", f"{table_en}: offer price"),
        "seller_share": ("假设：卡费归诊所（[S3]案例中卡费全归卖卡人，k = 1）" if seller_share == 0 else "给定",
                         "assumed: the clinic keeps the card price ([S3]: the sellers kept it all, k = 1)"
                         if seller_share == 0 else "given"),
        "redemption": (f"活动期间{info['channel']}首诊患者{patients:,.0f}人 ÷ {cards:,.0f}张{capped_zh}",
                       f"{patients:,.0f} new {i18n.term(info['channel'], 'en')} patients during it / {cards:,.0f} "
                       f"cards{capped_en}"),
        "delivery_cost": (f"{table_zh}：单次成本", f"{table_en}: delivery cost"),
        "fixed_cost": (f"{table_zh}：投放金额" if spend else "活动表未记录投放，按0计",
                       f"{table_en}: spend" if spend else "no spend recorded: taken as 0"),
        "margin": (f"所有活动患者90天内大项目平均实收{i18n.money(value, 'zh')} × 毛利率{margin_rate:.0%}（假设：扣除材料、"
                   f"加工和医生提成后约剩一半；诊所知道自己的毛利率时以它为准）",
                   f"all campaign patients' mean high-value payments within 90 days {i18n.money(value, 'en')} × margin "
                   f"{margin_rate:.0%} (assumed: about half is left after materials, lab fees and the doctor's share; "
                   f"use the clinic's own margin when it is known)"),
        "conversion": (f"{scope_zh}的首诊患者：{similar.successes:,}/{similar.trials:,}",
                       f"patients of {scope_en}: {similar.successes:,} of {similar.trials:,}"),
    }
    planned = breakeven(campaign, history=similar, sources=sources)
    return BreakevenSection(history=history, planned=planned)

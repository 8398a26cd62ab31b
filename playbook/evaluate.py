"""Did what the clinic changed work, and what did it return? Method step 4, "evaluate" [S1].

A plain before/after comparison of means confuses the effect of an intervention with the trend and
the season the KPI had anyway. This module compares the KPI after the intervention with a
**counterfactual**: what the same model, fitted on the whole series, says the KPI would have done
without it. The models are in `playbook.counterfactual` (numbers only); this module reads the series,
builds the design, runs the checks and words the result.

**The series** — one row per day, week, month, quarter or year (dated by the period's first day;
the frequency is inferred from the dates). Periods with no value — missing from the file, or a blank
cell — are listed in the result and left out of the fit (the error model knows how far apart two
periods are), never filled in. A long file (one row per unit and period) works with ``by=`` and
``treated=``: the treated unit's series is evaluated and every other unit is a control.

**The effect's shape, stated in advance** (``effect=``; Bernal, Cummins & Gasparrini 2017 ask for it
before looking):

- ``step`` (the default): the level changes from the intervention on and stays changed. The number
  is that level change, per period.
- ``slope``: the KPI starts growing (or shrinking) faster from the intervention on. The number is the
  average gap over the post-period; the gap at its last period is given too.
- ``both``: a level change and a change of slope. The number is the average gap over the post-period.

**The counterfactual** (``model=``):

- ``trend``: y_t = b0 + b1·t + season_t + Σ w_j·control_j,t + intervention terms + AR(1) errors, fitted by
  REML with Satterthwaite's small-sample intervals (`playbook.counterfactual.fit_trend`).
- ``local``: a local level (a random walk) + season + controls + intervention terms, the state-space
  intervention analysis of Harvey & Durbin (`playbook.counterfactual.fit_local`). It carries the level
  on instead of extrapolating a straight line.
- ``auto`` (the default): ``trend`` unless the post-period is longer than the pre-period, where a line
  fitted on the pre-period would be extrapolated further than the history it was learnt from; then
  ``local``. Choosing ``trend`` there anyway adds a warning.

**Season**, whenever the pre-period allows it, at any frequency (`counterfactual.choose_seasons`): a
cycle covered once before the intervention gets two pairs of Fourier terms (one pair for a quarterly
year), a cycle covered three times gets one dummy per position (weekday, month, quarter); a daily
series carries both the week and the year. Exactly one year is enough (104 weekly points are two
years, not "fewer than two cycles"). ``season=False`` leaves season out; ``season=True`` keeps one
Fourier pair even where the pre-period is shorter than a cycle (with a warning).

**Controls** (``control=`` one or more columns, or ``by=``/``treated=``): series the intervention did not
touch (another channel, department or branch). They enter the model as regressors, so each gets its
own weight: a control four times the treated series' size is scaled by about a quarter, never
subtracted one for one (CausalImpact's idea, Brodersen et al. 2015, in a regression the effect terms
share: the post-period's change goes into the effect, not into the weights). The weights are shown.
With more controls than one per ``ROWS_PER_CONTROL`` pre-period rows their sum is the single control.

**Effect** = the gap between the fitted series and its counterfactual (the same model with the
intervention terms at zero), averaged over the post-period, with its interval and p-value.
**Relative effect** = effect ÷ the counterfactual's mean over the post-period; its interval maps the
effect's interval through the same ratio (the post-period's fitted mean held fixed), so it includes
the counterfactual's uncertainty.

**Naive** before/after: mean(post) − mean(pre) of the treated series; the result says how much of it
the trend (or the level's drift), the season and the controls explain.

**Reliability** — `reliable` is False, with the reasons in the finding, when any check fails:

- the pre-period has fewer than ``MIN_PRE`` periods;
- placebo dates: the same model on the pre-period alone, with fake intervention dates at 1, 2 and 3
  placebo horizons before the real one (the horizon: the post-period's length, at most a quarter of
  the pre-period), as long as half the pre-period stays before each. Under a correct model each
  finds an "effect" 5% of the time; two or more that do are more than chance explains;
- autocorrelation left in the model's white residuals (Ljung–Box, p < ``CHECK_P``);
- a bent pre-period trend (trend model): a quadratic term on the pre-period alone, p < ``CHECK_P``;
- a wandering level (trend model): the errors' AR(1) coefficient at ``MAX_RHO`` or above;
- more than ``MAX_MISSING_SHARE`` of the periods without a value.

Calibration: ``benchmarks/evaluate_calibration.py`` runs the whole function on simulated weekly series
(60, 104 and 156 weeks before, 26 after; trend, yearly season, AR(1) noise 0 and 0.5; no control, a
same-size and a 4× control) and prints coverage, false alarms and power; the table is in
benchmarks/README.md. ``tests/test_evaluate.py`` checks a published effect: the Nile's level drop of
1899 (Cobb 1978).

**ROI** = (incremental gross profit − cost) / cost, incremental gross profit = effect × number of
post periods × margin (the gross profit per unit of the KPI: a share of revenue for a money KPI);
its interval follows from the effect's, which it is a linear function of.

Sources: [S1] (seeds/001: evaluate with before/after and ROI); Wagner, Soumerai, Zhang &
Ross-Degnan (2002), *J Clin Pharm Ther* 27 (segmented regression); Bernal, Cummins & Gasparrini
(2017), *Int J Epidemiol* 46 (interrupted time series); Turner et al. (2021), *BMC Med Res Methodol*
21:181 (REML and Satterthwaite on short series); Brodersen et al. (2015), *Ann Appl Stat* 9
(CausalImpact); Harvey & Durbin (1986), *J R Stat Soc A* 149 (intervention analysis); Ljung & Box
(1978), *Biometrika* 65.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import counterfactual as cf
from . import i18n
from .errors import PlaybookError
from .jsonsafe import number as _num
from .jsonsafe import scalar as _round
from .metrics import METRICS, SERIES, period_start
from .parsing import parse_amounts, parse_dates
from .results import AnalysisResult, Unavailable
from .tables import clinic_tables, data_end, data_start

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

    from .clinic import Clinic
    from .config import Intervention

__all__ = ["EvaluationResult", "EvaluationInputError", "Placebo", "Check", "Note", "evaluate", "kpi_series",
           "evaluate_intervention", "clinic_evaluations", "demonstrations", "how_to_add", "read_series",
           "KPI_SERIES", "EFFECTS", "MODELS"]

MIN_PRE = 8  # fewer pre-period points than this: a warning, not a confident number
MIN_FIT_PRE, MIN_FIT_POST = 3, 2  # fewer than this: no model at all (an error)
MIN_SLOPE_POST = 3  # a change of slope needs this many post periods
MAX_PLACEBOS = 3
MIN_PLACEBO_POST = 4  # a placebo's fake post-period is at least this long
CHECK_P = 0.01  # the residual and curvature checks fail below this p-value
PLACEBO_ALARMS = 2  # this many placebo dates with an "effect" is more than chance explains
MAX_MISSING_SHARE = 0.2
MAX_RHO = 0.9  # errors this persistent: a wandering level, which a straight trend describes badly
ROWS_PER_CONTROL = 10  # pre-period rows per control weight; with fewer, the controls' sum is the control
EFFECTS = ("step", "slope", "both")
MODELS = ("auto", "trend", "local")
SERIES_FREQUENCIES = ("D", "W", "M", "Q", "A")
SHOW_PRE = {"D": 28, "W": 52, "M": 12, "Q": 8, "A": 10}  # the chart shows at least this much of the pre-period
FREQUENCIES = ("D", "W", "M")
# frequency -> (每X, per X, X 期的量词, periods)
PERIOD_WORDS = {"D": ("每天", "per day", "天", "days"), "W": ("每周", "per week", "周", "weeks"),
                "M": ("每月", "per month", "个月", "months"), "Q": ("每季度", "per quarter", "个季度", "quarters"),
                "A": ("每年", "per year", "年", "years")}
ONE_PERIOD = {"D": "day", "W": "week", "M": "month", "Q": "quarter", "A": "year"}
CYCLE_WORDS = {"week": ("星期几", "weekday"), "year": ("一年中的季节", "time of year")}
KPI_SERIES = SERIES  # the registry's view: the KPIs an intervention can be evaluated on (playbook.metrics)
COUNT_WORDS = {name: (METRICS[name].count_zh, "") for name in SERIES if METRICS[name].count_zh}
LOWER_IS_BETTER = {name for name in SERIES if not METRICS[name].higher_is_better}  # a rise is bad (red in the chart)
RESERVED = {"date", "t", "y", "present", "post", "const", "trend", "trend2", "step", "ramp", "control_sum"}
OTHERS = ("others", "其他", "其他渠道", "其他科室", "其他分院", "其他门店")


class EvaluationInputError(PlaybookError):
    """A series that cannot be evaluated: missing column, unreadable dates, intervention outside, too short."""


# ---------------------------------------------------------------------------------------------------
# Small helpers


def _sig(value) -> float | None:
    """A p-value to 3 significant figures (a tiny one stays visible, not 0.0)."""
    value = _num(value)
    return None if value is None else float(f"{value:.3g}")


def _fmt(value, unit: str | None, lang: str, *, change: bool = False, digits: int | None = None) -> str:
    """A KPI value or a change of it, in the owner's units, ``digits`` decimals for a plain number; never NaN."""
    value = _num(value)
    if value is None:
        return i18n.NO_DATA[lang]
    if unit == "yuan":
        return ("-" if value < 0 else "") + i18n.money(abs(value), lang)
    if unit == "rate":
        if change:
            return i18n.pick(lang, f"{value * 100:.1f}个百分点", f"{value * 100:.1f} percentage points")
        return i18n.rate(value, lang)
    if unit == "count":
        return f"{value:,.1f}"
    if digits is None:
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 3
    return f"{value:,.{digits}f}"


def _digits(width: float) -> int:
    """Decimals that show an interval of this width with two or three significant figures."""
    if not math.isfinite(width) or width <= 0:
        return 2
    return int(min(4, max(0, 2 - math.floor(math.log10(width)))))


def _money(value, lang: str) -> str:
    value = _num(value)
    return i18n.NO_DATA[lang] if value is None else ("-" if value < 0 else "") + i18n.money(abs(value), lang)


def _ci_text(low, high, unit, lang, digits: int | None = None) -> str:
    if unit == "rate" and _num(low) is not None and _num(high) is not None:  # the unit once, after both ends
        return i18n.pick(lang, f"{low * 100:.1f}至{high * 100:.1f}个百分点",
                         f"{low * 100:.1f} to {high * 100:.1f} percentage points")
    low, high = (_fmt(v, unit, lang, change=True, digits=digits) for v in (low, high))
    return i18n.pick(lang, f"{low}至{high}", f"{low} to {high}")


def _pct(value, *, signed: bool = True) -> str:
    value = _num(value)
    if value is None:
        return "—"
    return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"


def _p_text(value) -> str:
    value = _num(value)
    return "—" if value is None else "<0.001" if value < 0.001 else f"{value:.3f}"


def _ratio_text(value) -> str:
    value = _num(value)
    return "—" if value is None else f"{value:.2f}"


def _join(items: Sequence[str], lang: str) -> str:
    items = [i for i in items if i]
    if lang == "zh":
        return "、".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _period_day(period: pd.Timestamp, frequency: str, lang: str) -> str:
    """A period as an owner names it: a day, a week's Monday, a month, a quarter, a year."""
    if frequency == "A":
        return i18n.pick(lang, f"{period.year}年", str(period.year))
    if frequency == "Q":
        return i18n.pick(lang, f"{period.year}年第{period.quarter}季度", f"{period.year} Q{period.quarter}")
    if frequency == "M":
        return i18n.month(period.date(), lang)
    return i18n.day(period.date(), lang)


# ---------------------------------------------------------------------------------------------------
# The result


@dataclass
class Placebo:
    """The same model on the pre-period only, with a fake intervention date inside it."""

    date: pd.Timestamp
    effect: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    def to_dict(self) -> dict:
        return {"date": self.date.date().isoformat(), "effect": _round(self.effect), "ci_low": _round(self.ci_low),
                "ci_high": _round(self.ci_high), "p_value": _sig(self.p_value)}


@dataclass(frozen=True)
class Check:
    """One reliability check: its name, whether it passed, and the numbers its sentence is made from."""

    name: str  # "pre_length", "placebo", "autocorrelation", "wandering", "curvature" or "missing"
    passed: bool
    value: float | None = None  # the p-value, the count or the share the check looked at
    of: int | None = None  # placebo: how many dates; pre_length: the minimum

    def to_dict(self) -> dict:
        return {"passed": self.passed, "value": _round(self.value), "of": self.of}


@dataclass(frozen=True)
class Note:
    """Something the finding must say before the number: data, rendered by `_note_words`."""

    kind: str  # "missing", "controls_summed", "extrapolation", "season_rough", "season_dropped",
    # "branch_short" (a branch covering too few periods, left out), "branch_failed" (branches with input problems)
    subject: str | None = None  # the cycle or the branch
    value: float | None = None  # how many periods or controls; a branch's coverage
    items: tuple = ()  # the first missing periods; the branches left out


@dataclass
class EvaluationResult(AnalysisResult):
    """The effect of one intervention on one KPI series, with its interval, the naive view and the checks."""

    intervention: str = ""
    start: pd.Timestamp | None = None
    method: str = "its"  # "its" (interrupted time series) or "controls" (a counterfactual from control series)
    model: str = "trend"  # "trend" or "local" (`playbook.counterfactual`)
    effect_kind: str = "step"  # "step", "slope" or "both"
    fit: cf.ModelFit | None = field(default=None, repr=False)
    contrast: np.ndarray | None = field(default=None, repr=False)
    alpha: float = 0.05
    effect: float = 0.0  # step: the level change; slope, both: the average gap over the post-period
    se: float = 0.0
    df: float = 0.0  # degrees of freedom of the effect's t interval
    ci_low: float = 0.0
    ci_high: float = 0.0
    p_value: float = 1.0
    effect_last: float | None = None  # slope, both: the gap at the last post period, with its interval
    effect_last_ci: tuple[float, float] | None = None
    counterfactual_mean: float | None = None  # over the post-period
    relative_effect: float | None = None
    relative_ci_low: float | None = None
    relative_ci_high: float | None = None
    naive_effect: float = 0.0
    naive_trend: float = 0.0  # the part of the naive difference the trend (or the level's drift) explains
    naive_season: float = 0.0  # the part the season explains
    control_change: float | None = None  # the part the controls explain (their change, weighted)
    controls: list[str] = field(default_factory=list)
    control_weights: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # weight, ci_low, ci_high
    placebos: list[Placebo] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    frequency: str = "W"
    n_pre: int = 0
    n_post: int = 0
    seasons: list[cf.Season] = field(default_factory=list)
    missing: list[pd.Timestamp] = field(default_factory=list)  # periods without a value, left out
    cost: float | None = None
    margin: float | None = None
    roi: float | None = None
    roi_ci_low: float | None = None
    roi_ci_high: float | None = None
    incremental_profit: float | None = None
    kpi: str | None = None  # a registry name (playbook.metrics), for labels and units
    segment: str | None = None  # the channel or department the KPI is restricted to
    label_zh: str = "指标"
    label_en: str = "the KPI"
    unit: str | None = None  # "yuan", "count", "rate" or None
    control_label: tuple[str, str] | None = None
    data: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    notes: list[Note] = field(default_factory=list)
    demonstration: bool = False  # shown on a sample clinic for the trainer, never in a clinic's report
    digits: int = 2  # decimals of a plain-number KPI, from the width of the effect's interval

    # statsmodels-style access ----------------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """The model's coefficients, then ``effect``."""
        return pd.concat([self.fit.params, pd.Series({"effect": self.effect})])

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Intervals of the coefficients and of the effect (columns lower, upper), t with the effect's df."""
        alpha = self.alpha if alpha is None else alpha
        rows = {}
        for i, name in enumerate(self.fit.columns):
            contrast = np.zeros(len(self.fit.columns))
            contrast[i] = 1.0
            rows[name] = self.fit.test(contrast).interval(alpha)
        rows["effect"] = cf.Test(self.effect, self.se, self.df).interval(alpha)
        return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])

    def summary(self):
        """The statsmodels summary of the fitted model (as_text, as_html, shown in notebooks)."""
        return self.fit.summary()

    @property
    def warnings(self) -> list[tuple[str, str]]:
        """The notes as (zh, en) sentences, in the order the finding says them."""
        return [(_note_words(self, note, "zh"), _note_words(self, note, "en")) for note in self.notes]

    @property
    def placebo(self) -> Placebo | None:
        """The placebo date nearest the intervention."""
        return self.placebos[0] if self.placebos else None

    @property
    def season(self) -> str | None:
        """The season terms used, in words (English), or None."""
        return _season_words(self.seasons, "en") or None

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def harmful(self) -> bool:
        """A significant change in the bad direction (down, or up for a KPI where lower is better)."""
        worse = self.effect > 0 if self.kpi in LOWER_IS_BETTER else self.effect < 0
        return self.significant and worse

    @property
    def reliable(self) -> bool:
        """Every check passed (`checks`); the finding names those that did not."""
        return all(check.passed for check in self.checks)

    # words --------------------------------------------------------------------------------------------
    def _label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def _control_words(self, lang: str) -> str:
        if self.control_label:
            return self.control_label[0 if lang == "zh" else 1]
        return _join([i18n.term(c, lang) for c in self.controls], lang)

    def method_name(self, lang: str = "zh") -> str:
        model = i18n.pick(lang, "局部水平模型", "local level") if self.model == "local" else \
            i18n.pick(lang, "分段回归", "segmented regression")
        if self.method == "controls":
            return i18n.pick(lang, f"对照序列推算（对照：{self._control_words(lang)}；{model}）",
                             f"counterfactual from controls ({self._control_words(lang)}; {model})")
        return i18n.pick(lang, f"间断时间序列（{model}）", f"interrupted time series ({model})")

    def effect_meaning(self, lang: str = "zh") -> str:
        """What the number is: the level change, or the average gap over the post-period."""
        per_zh, per_en, n_zh, n_en = PERIOD_WORDS[self.frequency]
        if self.effect_kind == "step":
            return i18n.pick(lang, f"干预后{per_zh}水平的变化（假定干预后各期效果相同）",
                             f"the change of level {per_en} after the intervention (the same in every period after)")
        return i18n.pick(lang, f"干预后{self.n_post}{n_zh}里与反事实差距的平均（效果随时间变化）",
                         f"the average gap to the counterfactual over the {self.n_post} {n_en} after "
                         f"(the effect changes over time)")

    def to_dict(self) -> dict:
        """The JSON object of ``playbook evaluate --json`` and of kpis.json's ``evaluations``."""
        placebo = self.placebo
        out = {
            "method": self.method, "model": self.model, "effect_kind": self.effect_kind,
            "effect_means": "level change" if self.effect_kind == "step" else "average over the post-period",
            "effect": _round(self.effect), "ci_low": _round(self.ci_low), "ci_high": _round(self.ci_high),
            "relative_effect": _round(self.relative_effect), "relative_ci_low": _round(self.relative_ci_low),
            "relative_ci_high": _round(self.relative_ci_high), "counterfactual_mean": _round(self.counterfactual_mean),
            "p_value": _sig(self.p_value), "alpha": self.alpha, "df": _round(self.df),
            "significant": bool(self.significant), "reliable": bool(self.reliable),
            "reliability": {c.name: c.to_dict() for c in self.checks},
            "naive_effect": _round(self.naive_effect), "naive_trend_part": _round(self.naive_trend),
            "naive_season_part": _round(self.naive_season), "control_change": _round(self.control_change),
            "start": self.start.date().isoformat() if self.start is not None else None,
            "kpi": self.kpi, "segment": self.segment,
            "control": self.control_label[1] if self.control_label else (", ".join(self.controls) or None),
            "controls": list(self.controls),
            "control_weights": {name: _round(w[0]) for name, w in self.control_weights.items()},
            "frequency": self.frequency, "n_pre": self.n_pre, "n_post": self.n_post,
            "missing_periods": [d.date().isoformat() for d in self.missing],
            "season": self.season, "rho": _round(self.fit.rho) if self.fit is not None else None,
            "hac_maxlags": None,  # kept for readers of older kpis.json: HAC errors are no longer used
            "errors": "REML AR(1), Satterthwaite df" if self.model == "trend" else "local level (Kalman smoother)",
            "placebo_date": placebo.date.date().isoformat() if placebo else None,
            "placebo_effect": _round(placebo.effect) if placebo else None,
            "placebo_ci_low": _round(placebo.ci_low) if placebo else None,
            "placebo_ci_high": _round(placebo.ci_high) if placebo else None,
            "placebo_p_value": _sig(placebo.p_value) if placebo else None,
            "placebos": [p.to_dict() for p in self.placebos],
            "warnings": [en for _, en in self.warnings],
        }
        if self.effect_last is not None:
            out.update({"effect_last": _round(self.effect_last), "effect_last_ci_low": _round(self.effect_last_ci[0]),
                        "effect_last_ci_high": _round(self.effect_last_ci[1])})
        if self.cost is not None:
            out.update({"cost": _round(self.cost), "margin": _round(self.margin),
                        "incremental_gross_profit": _round(self.incremental_profit), "roi": _round(self.roi),
                        "roi_ci_low": _round(self.roi_ci_low), "roi_ci_high": _round(self.roi_ci_high)})
        return out

    def metrics(self) -> dict:
        return {"evaluations": {self.intervention or "intervention": self.to_dict()}}

    def as_json(self, lang: str = "zh") -> str:
        """`to_dict` plus the finding, as ``playbook evaluate --json`` prints it."""
        import json

        return json.dumps({**self.to_dict(), "finding": self.finding(lang)}, ensure_ascii=False, indent=2)

    def as_text(self, lang: str = "zh") -> str:
        """The model in one line, the estimates table and the finding, for a terminal."""
        _, _, n_zh, n_en = PERIOD_WORDS[self.frequency]
        errors = (i18n.pick(lang, f"AR(1)误差（ρ={self.fit.rho:.2f}，REML），小样本t区间（自由度{self.df:.0f}）",
                            f"AR(1) errors (rho {self.fit.rho:.2f}, REML), small-sample t interval ({self.df:.0f} df)")
                  if self.model == "trend" else
                  i18n.pick(lang, f"随机游走的水平（卡尔曼平滑），t区间（自由度{self.df:.0f}）",
                            f"random-walk level (Kalman smoother), t interval ({self.df:.0f} df)"))
        seasons = _season_words(self.seasons, lang) or i18n.pick(lang, "无", "none")
        head = i18n.pick(lang, f"{self.method_name(lang)}：干预前{self.n_pre}{n_zh}，干预后{self.n_post}{n_zh}，"
                               f"{errors}，季节项：{seasons}；效果指{self.effect_meaning(lang)}",
                         f"{self.method_name(lang)}: {self.n_pre} {n_en} before, {self.n_post} after, {errors}, "
                         f"season: {seasons}; the effect is {self.effect_meaning(lang)}")
        with pd.option_context("display.width", 160, "display.max_columns", 10, "display.unicode.east_asian_width",
                               True):
            table = self.table_for(lang).to_string(index=False)
        return "\n".join([head, "", table, "", self.finding(lang)])

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """The estimates side by side as the owner reads them: each number with its interval."""
        unit = self.unit
        level = int(round((1 - self.alpha) * 100))
        relative = (i18n.pick(lang, f"{_pct(self.relative_effect)}（{_pct(self.relative_ci_low)}至"
                                    f"{_pct(self.relative_ci_high)}）",
                              f"{_pct(self.relative_effect)} ({_pct(self.relative_ci_low)} to "
                              f"{_pct(self.relative_ci_high)})")
                    if self.relative_effect is not None else "—")
        rows = [(i18n.pick(lang, f"效果：{self.method_name(lang)}", f"Effect: {self.method_name(lang)}"),
                 self.effect, self.ci_low, self.ci_high, self.p_value, relative)]
        if self.effect_last is not None:
            rows.append((i18n.pick(lang, "其中干预后最后一期的差距", "of which the gap in the last period after"),
                         self.effect_last, *self.effect_last_ci, None, "—"))
        rows.append((i18n.pick(lang, "简单前后对比（均值之差）", "Plain before/after (difference of means)"),
                     self.naive_effect, None, None, None, "—"))
        for placebo in self.placebos:
            rows.append((i18n.pick(lang, f"安慰剂检验（假日期{_period_day(placebo.date, self.frequency, lang)}）",
                                   f"Placebo (fake date {_period_day(placebo.date, self.frequency, lang)})"),
                         placebo.effect, placebo.ci_low, placebo.ci_high, placebo.p_value, "—"))
        table = pd.DataFrame({
            i18n.pick(lang, "估计", "Estimate"): [row[0] for row in rows],
            i18n.pick(lang, f"效果（{PERIOD_WORDS[self.frequency][0]}）", f"Effect ({PERIOD_WORDS[self.frequency][1]})"):
                [_fmt(row[1], unit, lang, change=True, digits=self.digits) for row in rows],
            i18n.pick(lang, f"{level}%置信区间", f"{level}% interval"):
                [_ci_text(row[2], row[3], unit, lang, self.digits) if row[2] is not None else "—" for row in rows],
            i18n.pick(lang, "相对反事实（区间）", "Relative to counterfactual (interval)"): [row[5] for row in rows],
            i18n.pick(lang, "p值", "p-value"): [_p_text(row[4]) for row in rows],
        })
        for name, (weight, low, high) in self.control_weights.items():
            name = i18n.term(name, lang)
            table.loc[len(table)] = [i18n.pick(lang, f"对照权重：{name}", f"Control weight: {name}"), f"{weight:.3g}",
                                     i18n.pick(lang, f"{low:.3g}至{high:.3g}", f"{low:.3g} to {high:.3g}"), "—", "—"]
        if self.roi is not None:
            table.loc[len(table)] = [i18n.pick(lang, "投资回报率 ROI", "Return on investment (ROI)"),
                                     _ratio_text(self.roi), i18n.pick(
                                         lang, f"{_ratio_text(self.roi_ci_low)}至{_ratio_text(self.roi_ci_high)}",
                                         f"{_ratio_text(self.roi_ci_low)} to {_ratio_text(self.roi_ci_high)}"), "—", "—"]
        return table

    # plot ---------------------------------------------------------------------------------------------
    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """The series, the model, the counterfactual with its interval band, and the gap, shaded.

        The chart shows the post-period and the periods just before it (twice the post-period, at least
        ``SHOW_PRE``); the model is fitted on the whole series, which the axis label says. The band is
        the counterfactual's pointwise interval: where the actual series leaves it, the gap is more than
        the model's uncertainty.
        """
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt

        from .plotting import ACTION_RED, GREY, PALETTE, month_axis, set_title

        ax = ax if ax is not None else plt.gca()
        label = self._label(lang)
        scale, ylabel = 1.0, label
        if self.unit == "yuan":
            scale, ylabel = (1e4, f"{label}（万元）") if lang == "zh" else (1e3, f"{label} (¥ thousand)")
        elif self.unit == "rate":
            scale, ylabel = 0.01, f"{label} (%)"
        shown_pre = max(2 * self.n_post, SHOW_PRE[self.frequency])
        d = self.data.iloc[max(0, self.n_pre - shown_pre):]
        post = d["post"].to_numpy()
        x = d["date"]
        ax.plot(x, d["y"] / scale, color=PALETTE[0], lw=0.8, marker="o", ms=2.4, alpha=0.8,
                label=i18n.pick(lang, "实际", "actual"), **kwargs)
        ax.plot(x[~post], d.loc[~post, "fitted"] / scale, color=PALETTE[1], lw=1.6,
                label=i18n.pick(lang, "模型（干预前）", "model (before)"))
        gap_color = ACTION_RED if self.harmful else PALETTE[1]
        ax.plot(x[post], d.loc[post, "fitted"] / scale, color=gap_color, lw=1.8,
                label=i18n.pick(lang, "模型（干预后）", "model (after)"))
        ax.plot(x[post], d.loc[post, "counterfactual"] / scale, color=PALETTE[0], lw=1.4, ls="--",
                label=i18n.pick(lang, "若没有干预（反事实）", "without the intervention (counterfactual)"))
        ax.fill_between(x[post], d.loc[post, "cf_low"] / scale, d.loc[post, "cf_high"] / scale, color=PALETTE[4],
                        alpha=0.18, lw=0, label=i18n.pick(lang, "反事实的置信区间", "counterfactual's interval"))
        ax.fill_between(x[post], d.loc[post, "counterfactual"] / scale, d.loc[post, "fitted"] / scale,
                        color=gap_color, alpha=0.22, lw=0)
        ax.axvline(self.start, color=GREY, lw=1, ls="-")
        ax.annotate(i18n.pick(lang, "干预开始", "intervention"), (self.start, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -10), textcoords="offset points", fontsize="small", color=GREY)
        shown_placebos = [p.date for p in self.placebos if p.date >= x.iloc[0]]
        for day in shown_placebos:
            ax.axvline(day, color=PALETTE[4], lw=1, ls=":")
        if shown_placebos:
            ax.annotate(i18n.pick(lang, "安慰剂日期", "placebo dates"), (min(shown_placebos), 1),
                        xycoords=("data", "axes fraction"), xytext=(3, -10), textcoords="offset points",
                        fontsize="small", color=PALETTE[4])
        ax.set_ylabel(ylabel)
        _, _, n_zh, n_en = PERIOD_WORDS[self.frequency]
        shown = min(shown_pre, self.n_pre)
        ax.set_xlabel(i18n.pick(lang, f"图中为干预前最近{shown}{n_zh}及之后；模型用干预前全部{self.n_pre}{n_zh}拟合",
                                f"shown: the last {shown} {n_en} before and all after; the model uses all "
                                f"{self.n_pre} {n_en} before"), fontsize="small", color=GREY)
        set_title(ax, self.title(lang), lang)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize="small")
        ax.margins(x=0.01)
        first, last = x.iloc[0], x.iloc[-1]
        if (last - first).days > 8 * 366:  # decades of quarters or years: a year axis
            ax.xaxis.set_major_locator(mdates.YearLocator(base=max(1, round((last.year - first.year) / 8))))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        else:
            month_axis(ax, lang, first=first, last=last)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the effect per period with its relative size and interval, or that the data show none."""
        per_zh, per_en, _, _ = PERIOD_WORDS[self.frequency]
        label = self._label(lang)
        if lang == "en" and self.kpi in METRICS:  # "New patients (Douyin)" → "new patients (Douyin)" mid-sentence
            label = label[0].lower() + label[1:]
        count_word = COUNT_WORDS.get(self.kpi, ("", ""))[0] if lang == "zh" else ""
        level = int(round((1 - self.alpha) * 100))
        interval = _ci_text(self.ci_low, self.ci_high, self.unit, lang, self.digits) + count_word
        relative = f"（{_pct(self.relative_effect)}）" if lang == "zh" else f" ({_pct(self.relative_effect)})"
        relative = relative if self.relative_effect is not None else ""
        average = "" if self.effect_kind == "step" else i18n.pick(lang, "平均", " on average")
        if not self.significant:
            signed = _fmt(self.effect, self.unit, lang, change=True, digits=self.digits) + count_word
            return i18n.pick(lang, f"干预后{per_zh}{label}{average}变化{signed}，{level}%区间{interval}含0：看不出效果",
                             f"{label} {per_en}: {signed}{average} since the intervention; the {level}% interval "
                             f"{interval} includes 0")
        effect = _fmt(abs(self.effect), self.unit, lang, change=True, digits=self.digits) + count_word
        up = self.effect > 0
        verb = (("提高了" if up else "降低了") if self.unit == "rate" else ("多了" if up else "少了"))
        red = i18n.pick(lang, "（红色）", " (red)") if self.harmful else ""
        return i18n.pick(lang, f"干预后{per_zh}{label}{average}{verb}{effect}{relative}{red}，{level}%区间{interval}",
                         f"{label} {per_en} {'rose' if up else 'fell'} by {effect}{relative}{average} since the "
                         f"intervention{red}; {level}% interval {interval}")


def _season_words(seasons: list[cf.Season], lang: str) -> str:
    words = []
    for s in seasons:
        zh, en = CYCLE_WORDS[s.cycle]
        words.append(i18n.pick(lang, f"{zh}（{s.pairs}对傅里叶项）" if s.kind == "fourier" else f"{zh}（虚拟变量）",
                               f"{en} ({s.pairs} Fourier pair{'s' if s.pairs > 1 else ''})" if s.kind == "fourier"
                               else f"{en} (dummies)"))
    return _join(words, lang)


# ---------------------------------------------------------------------------------------------------
# Sentences


def _sentences(r: EvaluationResult) -> tuple[str, str]:
    return _sentence(r, "zh"), _sentence(r, "en")


def _sentence(r: EvaluationResult, lang: str) -> str:
    per_zh, per_en, n_zh, n_en = PERIOD_WORDS[r.frequency]
    unit, label = r.unit, r._label(lang)
    if lang == "en" and r.kpi in METRICS:
        label = label[0].lower() + label[1:]
    count_word = COUNT_WORDS.get(r.kpi, ("", ""))[0] if lang == "zh" else ""
    effect = _fmt(abs(r.effect), unit, lang, change=True, digits=r.digits) + count_word
    signed = _fmt(r.effect, unit, lang, change=True, digits=r.digits) + count_word
    interval = _ci_text(r.ci_low, r.ci_high, unit, lang, r.digits) + count_word
    level = int(round((1 - r.alpha) * 100))
    who = r.intervention or i18n.pick(lang, "干预", "the intervention")
    parts: list[str] = [_note_words(r, note, lang) for note in r.notes]
    up = r.effect > 0
    relative = ""
    if r.relative_effect is not None:
        relative = i18n.pick(lang, f"，相对没有干预时为{_pct(r.relative_effect)}（区间{_pct(r.relative_ci_low)}至"
                                   f"{_pct(r.relative_ci_high)}）",
                             f", {_pct(r.relative_effect)} against what it would have been without it (interval "
                             f"{_pct(r.relative_ci_low)} to {_pct(r.relative_ci_high)})")
    if lang == "zh":
        how = (f"与按对照（{r._control_words(lang)}）推算的走势相比" if r.method == "controls" else
               "与干预前的水平延续下去相比" if r.model == "local" else
               "扣除干预前的趋势和季节后" if r.seasons else "扣除干预前的趋势后")
        what = "水平" if r.effect_kind == "step" else f"干预后{r.n_post}{n_zh}平均"
        verb = ("提高了" if up else "降低了") if unit == "rate" else ("多了" if up else "少了")
        if r.significant:
            parts.append(f"{how}，{who}之后{label}{per_zh}{what}{verb}{effect}（{level}%置信区间{interval}）{relative}。")
        else:
            parts.append(f"{how}，{who}之后{label}{per_zh}{what}变化{signed}，{level}%置信区间{interval}包含0{relative}："
                         f"数据不足以说明它有效果。")
    else:
        how = (f"against the counterfactual built from the controls ({r._control_words(lang)})" if r.method == "controls"
               else "against the pre-period level carried on" if r.model == "local" else
               "net of the pre-period trend and season" if r.seasons else "net of the pre-period trend")
        subject = f"the level of {label} {per_en}" if r.effect_kind == "step" else f"{label} {per_en}"
        over = "" if r.effect_kind == "step" else f" on average over the {r.n_post} {n_en} after"
        if r.significant:
            parts.append(f"After {who}, {subject} {'rose' if up else 'fell'} by {effect}{over}, {how} "
                         f"({level}% interval {interval}){relative}.")
        else:
            parts.append(f"After {who}, {subject} changed by {signed}{over}, {how}, but the {level}% "
                         f"interval {interval} includes 0{relative}: the data do not show an effect.")
    if r.effect_last is not None:
        last = _fmt(r.effect_last, unit, lang, change=True, digits=r.digits) + count_word
        last_interval = _ci_text(*r.effect_last_ci, unit, lang, r.digits) + count_word
        parts.append(i18n.pick(lang, f"效果随时间变化：干预后最后一{n_zh.lstrip('个')}的差距为{last}（区间{last_interval}）。",
                               f"The effect changes over time: in the last {ONE_PERIOD[r.frequency]} the gap "
                               f"was {last} (interval {last_interval})."))
    if r.control_weights:
        parts.append(_weights_sentence(r, lang))
    parts.append(_naive_sentence(r, lang, count_word))
    parts.append(_placebo_sentence(r, lang, count_word))
    if r.roi is not None:
        parts.append(_roi_sentence(r, lang))
    if not r.reliable:
        reasons = _join([_check_words(r, c, lang) for c in r.checks if not c.passed], lang)
        parts.append(i18n.pick(lang, f"注意：这个估计不可靠，因为{reasons}。以上数字只作参考，不能据此下结论。",
                               f"Caution: this estimate is not reliable: {reasons}. Take these numbers as a "
                               f"pointer only, not as a conclusion."))
    sep = "" if lang == "zh" else " "
    return sep.join(p for p in parts if p)


def _note_words(r: EvaluationResult, note: Note, lang: str) -> str:
    """A note as the sentence the finding opens with."""
    _, _, n_zh, n_en = PERIOD_WORDS[r.frequency]
    if note.kind == "missing":
        count = int(note.value)
        shown = _join([_period_day(d, r.frequency, lang) for d in note.items], lang)
        return i18n.pick(lang, f"有{count}{n_zh}没有数值（如{shown}），已从拟合中略去，没有补值。",
                         f"{count} {n_en if count > 1 else ONE_PERIOD[r.frequency]} without a value (e.g. {shown}) "
                         f"{'are' if count > 1 else 'is'} left out of the fit, not filled in.")
    if note.kind == "controls_summed":
        return i18n.pick(lang, f"对照有{int(note.value)}个，而干预前只有{r.n_pre}{n_zh}，不足以给每个对照单独估权重：改用它们的合计作为一个对照。",
                         f"{int(note.value)} controls but only {r.n_pre} {n_en} before: too few to weight each, so "
                         f"their sum is the control.")
    if note.kind == "extrapolation":
        return i18n.pick(lang, f"干预后（{r.n_post}{n_zh}）比干预前（{r.n_pre}{n_zh}）还长：反事实把干预前的直线趋势外推得比它所依据的历史还远，"
                               f"可改用局部水平模型（model: local）。",
                         f"The post-period ({r.n_post} {n_en}) is longer than the pre-period ({r.n_pre}): the "
                         f"counterfactual extrapolates a straight trend further than the history it was learnt from; "
                         f"consider the local-level model (model: local).")
    if note.kind in ("season_rough", "season_dropped"):
        zh, en = CYCLE_WORDS[note.subject]
        if note.kind == "season_rough":
            return i18n.pick(lang, f"干预前不足一个完整周期（{zh}），季节项只能粗略估计。",
                             f"The pre-period covers less than one full cycle ({en}): the season terms are rough.")
        return i18n.pick(lang, f"干预前不足一个完整周期（{zh}），模型没有纳入这一季节，季节变化可能混入估计。",
                         f"The pre-period covers less than one full cycle ({en}), so the model leaves that season "
                         f"out and seasonal swings may blur the estimate.")
    if note.kind == "branch_short":
        return i18n.pick(lang, f"分院“{note.subject}”的数据只覆盖{_pct(note.value, signed=False)}的周期，没有用作对照。",
                         f"Branch {note.subject} covers only {_pct(note.value, signed=False)} of the periods and is "
                         f"not used as a control.")
    return i18n.pick(lang, f"分院{_join(list(note.items), lang)}的数据有问题，没有用作对照。",
                     f"{i18n.plural(len(note.items), 'Branch', 'Branches')} {_join(list(note.items), lang)} "
                     f"{i18n.plural(len(note.items), 'has', 'have')} input problems and {i18n.plural(len(note.items), 'is', 'are')} "
                     f"not used as controls.")


def _check_words(r: EvaluationResult, check: Check, lang: str) -> str:
    """Why a failed check matters, in a clause."""
    _, _, n_zh, n_en = PERIOD_WORDS[r.frequency]
    if check.name == "pre_length":
        return i18n.pick(lang, f"干预前只有{r.n_pre}{n_zh}数据（少于{check.of}{n_zh}），趋势估计不可靠",
                         f"there are only {r.n_pre} {n_en} before the intervention (fewer than {check.of}), too "
                         f"few to estimate a trend")
    if check.name == "placebo":
        return i18n.pick(lang, f"在没有任何干预的{check.of}个假日期中有{int(check.value)}个也估出了“效果”，"
                               f"说明这条序列有模型没有描述的波动",
                         f"{int(check.value)} of {check.of} placebo dates, when nothing happened, show an "
                         f"\"effect\" too: the series moves in ways the model does not describe")
    if check.name == "autocorrelation":
        return i18n.pick(lang, f"模型的残差仍有自相关（Ljung–Box检验p={_p_text(check.value)}），区间可能偏窄",
                         f"the model's residuals are still autocorrelated (Ljung–Box p = {_p_text(check.value)}), "
                         f"so the interval may be too narrow")
    if check.name == "wandering":
        return i18n.pick(lang, f"误差前后高度相关（ρ={check.value:.2f}），序列的水平在漂移，直线趋势的反事实不可靠，"
                               f"可改用局部水平模型（model: local）",
                         f"the errors are highly persistent (rho = {check.value:.2f}): the level wanders, so a "
                         f"straight-trend counterfactual is not reliable; consider the local-level model (model: local)")
    if check.name == "curvature":
        return i18n.pick(lang, f"干预前的趋势是弯的（二次项p={_p_text(check.value)}），直线外推的反事实不可靠",
                         f"the pre-period trend bends (quadratic term p = {_p_text(check.value)}), so a straight-line "
                         f"counterfactual is not reliable")
    return i18n.pick(lang, f"{_pct(check.value, signed=False)}的{n_zh.lstrip('个')}没有数值",
                     f"{_pct(check.value, signed=False)} of the {n_en} have no value")


def _weights_sentence(r: EvaluationResult, lang: str) -> str:
    """How the controls were scaled: one weight each, fitted with the model."""
    weights = [(i18n.term(name, lang), w) for name, (w, _, _) in r.control_weights.items()]
    listed = _join([f"{name}×{w:.3g}" if w >= 0 else f"{name}×({w:.3g})" for name, w in weights], lang)
    return i18n.pick(lang, f"反事实中对照的权重（按干预前后共同的关系估计，而不是一比一相减）：{listed}。",
                     f"The controls' weights in the counterfactual (estimated from how they moved with the KPI, "
                     f"not subtracted one for one): {listed}.")


def _naive_sentence(r: EvaluationResult, lang: str, count_word: str) -> str:
    unit = r.unit
    naive = _fmt(r.naive_effect, unit, lang, change=True, digits=r.digits) + count_word
    gap = r.naive_effect - r.effect
    if abs(gap) <= 0.5 * r.se or abs(gap) < 1e-12:
        return i18n.pick(lang, f"简单前后对比的均值之差为{naive}，与模型估计相近：干预前后的趋势、季节和对照的变化都不大。",
                         f"A plain before/after difference of means gives {naive}, close to the model's estimate: "
                         f"trend, season and controls moved little between the two stretches.")
    over = (gap > 0) == (r.effect >= 0) if abs(r.effect) > 1e-12 else gap > 0
    reasons_zh, reasons_en = [], []

    def moved(value: float) -> tuple[str, str]:
        amount = _fmt(abs(value), unit, lang, change=True, digits=r.digits) + count_word
        return (("增加" if value > 0 else "减少") + amount, ("up" if value > 0 else "down") + f" by {amount}")

    # name the parts that matter: each at least a tenth of the gap (the largest one always)
    parts = [abs(v) for v in (r.control_change or 0.0, r.naive_trend, r.naive_season)]
    floor = min(0.1 * abs(gap), max(parts))
    if r.control_change is not None and abs(r.control_change) >= floor and abs(r.control_change) > 1e-12:
        zh, en = moved(r.control_change)
        reasons_zh.append(f"对照序列同期的变化（按权重）本身就对应{zh}（共同的季节、市场或冲击）")
        reasons_en.append(f"the controls' own change over the same time (weighted) accounts for {en} (shared "
                          f"season, market or shocks)")
    if abs(r.naive_trend) >= floor and abs(r.naive_trend) > 1e-12:
        zh, en = moved(r.naive_trend)
        if r.model == "local":
            reasons_zh.append(f"序列水平本身的漂移使均值{zh}")
            reasons_en.append(f"the series' own drift moves the average {en}")
        else:
            reasons_zh.append(f"干预前的趋势延续下去本身就会使均值{zh}")
            reasons_en.append(f"the pre-period trend alone moves the average {en}")
    if abs(r.naive_season) >= floor and abs(r.naive_season) > 1e-12:
        zh, en = moved(r.naive_season)
        reasons_zh.append(f"前后两段所处季节不同使均值{zh}")
        reasons_en.append(f"the different seasons of the two stretches move it {en}")
    opposite = r.naive_effect * r.effect < 0 and abs(r.naive_effect) > 0.5 * r.se
    if lang == "zh":
        word = "得出方向相反的结论" if opposite else "高估效果" if over else "低估效果"
        why = "，".join(reasons_zh) or "干预前后的序列本身就不同"
        return f"简单前后对比的均值之差为{naive}，会{word}，因为{why}。"
    word = "point the wrong way" if opposite else "overstate the effect" if over else "understate the effect"
    why = (", ".join(reasons_en[:-1]) + " and " + reasons_en[-1] if len(reasons_en) > 1 else
           reasons_en[0] if reasons_en else "the series differed before and after anyway")
    return f"A plain before/after difference of means gives {naive} and would {word}, because {why}."


def _placebo_sentence(r: EvaluationResult, lang: str, count_word: str) -> str:
    _, _, n_zh, n_en = PERIOD_WORDS[r.frequency]
    if not r.placebos:
        return i18n.pick(lang, f"干预前的数据太短（{r.n_pre}{n_zh}），无法做安慰剂检验。",
                         f"The pre-period ({r.n_pre} {n_en}) is too short for a placebo check.")
    days = _join([_period_day(p.date, r.frequency, lang) for p in r.placebos], lang)
    fired = [p for p in r.placebos if p.significant]
    k = len(r.placebos)
    if not fired:
        return i18n.pick(
            lang, f"安慰剂检验：假设干预发生在{days}（实际没有），只用干预前的数据，同一模型{'都' if k > 1 else ''}估不出效果"
                  f"（区间包含0），说明这个方法不会凭空造出效果。",
            f"Placebo check: pretending the intervention happened {'on' if r.frequency in 'DW' else 'in'} {days} "
            f"(it did not), the same model on the "
            f"pre-period alone finds no effect (the interval includes 0): the method does not invent effects.")
    p = fired[0]
    effect = _fmt(p.effect, r.unit, lang, change=True, digits=r.digits) + count_word
    interval = _ci_text(p.ci_low, p.ci_high, r.unit, lang, r.digits) + count_word
    day = _period_day(p.date, r.frequency, lang)
    if len(fired) < PLACEBO_ALARMS:
        return i18n.pick(
            lang, f"安慰剂检验：{k}个假日期（{days}）中有1个（{day}）估出了{effect}（区间{interval}）；"
                  f"每个假日期偶然“显著”的机会约为{int(round(r.alpha * 100))}%，一个还在偶然范围内。",
            f"Placebo check: 1 of {k} fake dates ({days}) finds {effect} (interval {interval}, at {day}); each "
            f"fake date has a {int(round(r.alpha * 100))}% chance of this by luck, so one is within chance.")
    return i18n.pick(
        lang, f"安慰剂检验：{k}个假日期（{days}）中有{len(fired)}个估出了“效果”（例如{day}：{effect}，区间{interval}），"
              f"超出偶然能解释的范围，上面的效果要打折看待；最好找同期没有变化的对照序列。",
        f"Placebo check: {len(fired)} of {k} fake dates ({days}) find an \"effect\" (e.g. {effect} at {day}, "
        f"interval {interval}), more than chance explains: discount the effect above and prefer a control series "
        f"that nothing else changed.")


def _roi_sentence(r: EvaluationResult, lang: str) -> str:
    _, _, n_zh, n_en = PERIOD_WORDS[r.frequency]
    margin = (i18n.pick(lang, f"毛利率{i18n.rate(r.margin, lang)}", f"a gross margin of {i18n.rate(r.margin, lang)}")
              if r.unit == "yuan" else
              i18n.pick(lang, f"每单位毛利{r.margin:g}", f"a gross profit of {r.margin:g} per unit"))
    head = i18n.pick(
        lang, f"按成本{_money(r.cost, lang)}、{margin}计算，干预后{r.n_post}{n_zh}的增量毛利约{_money(r.incremental_profit, lang)}，"
              f"ROI为{_ratio_text(r.roi)}（区间{_ratio_text(r.roi_ci_low)}至{_ratio_text(r.roi_ci_high)}）",
        f"With a cost of {_money(r.cost, lang)} and {margin}, the {r.n_post} {n_en} after brought about "
        f"{_money(r.incremental_profit, lang)} of incremental gross profit: ROI {_ratio_text(r.roi)} (interval "
        f"{_ratio_text(r.roi_ci_low)} to {_ratio_text(r.roi_ci_high)})")
    if r.roi_ci_low is not None and r.roi_ci_low > 0:
        tail = i18n.pick(lang, "，已经收回成本：可以做成常规。", "; it has paid for itself: make it routine.")
    elif r.roi_ci_high is not None and r.roi_ci_high < 0:
        tail = i18n.pick(lang, "，没有收回成本：停止或改方案。", "; it has not paid for itself: stop or redesign it.")
    else:
        tail = i18n.pick(lang, "，是否收回成本尚不能确定：继续观察再决定。",
                         "; whether it paid for itself is not yet clear: keep watching before deciding.")
    return head + tail


# ---------------------------------------------------------------------------------------------------
# Reading a series


def _column(frame: pd.DataFrame, name: str, what: str, path) -> pd.Series:
    if name not in frame.columns:
        found = ", ".join(map(str, frame.columns)) or "none"
        raise EvaluationInputError(f"{what} column {name!r} not found; columns found: {found}", path=path,
                                   fix=f"give --{what} one of the columns found, written exactly as in the file")
    return frame[name]


def _rows(mask: pd.Series) -> list[int]:
    """File row numbers (header = row 1) of the rows flagged by mask."""
    return [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]


PERIOD_LABELS = (  # what exports write for a month, a quarter or a year instead of its first day
    (re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月$"), lambda m: (int(m[1]), int(m[2]))),
    (re.compile(r"^(\d{4})\s*(?:年\s*第|-?\s*Q|年\s*Q)\s*([1-4])\s*(?:季度?)?$", re.I), lambda m: (int(m[1]), 3 * int(m[2]) - 2)),
    (re.compile(r"^(\d{4})\s*年?$"), lambda m: (int(m[1]), 1)),
)


def _period_label(text) -> pd.Timestamp | None:
    """2025年7月 → 2025-07-01, 2025Q3 or 2025年第3季度 → 2025-07-01, 2025年 or 2025 → 2025-01-01."""
    text = str(text).strip()
    for pattern, first_month in PERIOD_LABELS:
        match = pattern.match(text)
        if match:
            year, month = first_month(match)
            return pd.Timestamp(year=year, month=month, day=1) if 1 <= month <= 12 else None
    return None


def _dates(raw: pd.Series, column: str, path) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed, invalid = pd.to_datetime(raw), pd.Series(False, index=raw.index)
    else:
        labels = raw.map(_period_label)
        parsed, invalid = parse_dates(raw.where(labels.isna(), None))
        parsed = parsed.where(labels.isna(), pd.to_datetime(labels))
        invalid = invalid & labels.isna()
    if invalid.any():
        examples = ", ".join(repr(str(v)) for v in raw[invalid].head(3))
        raise EvaluationInputError(f"{i18n.counted(int(invalid.sum()), 'value')} cannot be read as dates, e.g. {examples}",
                                   path=path, column=column, rows=_rows(invalid),
                                   fix="write dates like 2025-07-01, 2025/7/1 or 2025年7月1日 (a month 2025年7月, "
                                       "a quarter 2025Q3, a year 2025)")
    return parsed.dt.normalize()


def _values(raw: pd.Series, column: str, path) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    parsed, invalid = parse_amounts(raw)
    if invalid.any():
        examples = ", ".join(repr(str(v)) for v in raw[invalid].head(3))
        raise EvaluationInputError(f"{i18n.counted(int(invalid.sum()), 'value is', 'values are')} not numbers, e.g. {examples}", path=path,
                                   column=column, rows=_rows(invalid),
                                   fix="write numbers such as 12, 0.35 or ¥1,234.50; leave a cell empty when unknown")
    return parsed.astype("float64")


def read_series(path: Path | str) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030) or Excel file of a series, as raw text cells; errors name the file."""
    from .errors import FileFormatError

    path = Path(path)
    if not path.is_file():
        raise EvaluationInputError("file not found", path=path, fix="give the path of a .csv or .xlsx file")
    try:
        if path.suffix.lower() in (".xlsx", ".xls"):
            return pd.read_excel(path, dtype=object)
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise FileFormatError("the text encoding is not UTF-8 or GB18030", path=path,
                                  fix="save the file again as 'CSV UTF-8'")
        import io as _io

        return pd.read_csv(_io.StringIO(text), dtype=str, skip_blank_lines=True)
    except PlaybookError:
        raise
    except Exception as exc:  # pandas' parser errors: an unreadable file, not a bug
        raise FileFormatError(f"cannot be read as a table: {exc}", path=path,
                              fix="give a CSV with a header row, one row per period") from None


def infer_frequency(dates: pd.Series, *, path=None, column=None) -> str:
    """D, W, M, Q or A from the median spacing of sorted, distinct dates."""
    gaps = dates.drop_duplicates().diff().dt.days.dropna()
    if gaps.empty:
        raise EvaluationInputError("a series needs at least two dates", path=path, column=column)
    median = float(gaps.median())
    for frequency, (low, high) in {"D": (0, 1.5), "W": (6, 8), "M": (27, 32), "Q": (85, 95),
                                   "A": (360, 370)}.items():
        if low <= median <= high:
            return frequency
    raise EvaluationInputError(
        f"dates are {median:g} days apart (median): not a daily, weekly, monthly, quarterly or annual series",
        path=path, column=column,
        fix="give one row per day, week, month, quarter or year (dated by the period's first day)")


def _period_index(dates: pd.Series, frequency: str) -> np.ndarray:
    """Periods since the first date: days, weeks, months, quarters or years."""
    first = dates.iloc[0]
    months = (dates.dt.year - first.year) * 12 + dates.dt.month - first.month
    if frequency == "M":
        return months.to_numpy(dtype=float)
    if frequency == "Q":
        return ((dates.dt.year - first.year) * 4 + dates.dt.quarter - first.quarter).to_numpy(dtype=float)
    if frequency == "A":
        return (dates.dt.year - first.year).to_numpy(dtype=float)
    days = (dates - first).dt.days.to_numpy(dtype=float)
    return days / 7 if frequency == "W" else days


def _period_date(first: pd.Timestamp, t: float, frequency: str) -> pd.Timestamp:
    """The date of the period t periods after the first one."""
    if frequency in ("D", "W"):
        return first + pd.Timedelta(days=int(t) * (7 if frequency == "W" else 1))
    months = {"M": 1, "Q": 3, "A": 12}[frequency] * int(t)
    return first + pd.DateOffset(months=months)


def _post_mask(dates: pd.Series, start: pd.Timestamp, frequency: str) -> np.ndarray:
    """A period is post when it contains the intervention day or comes after it."""
    if frequency in ("D", "W"):
        return (dates + pd.Timedelta(days=7 if frequency == "W" else 1) > start).to_numpy()
    code = {"M": "M", "Q": "Q", "A": "Y"}[frequency]
    return (dates.dt.to_period(code) >= start.to_period(code)).to_numpy()


def _wide(series: pd.DataFrame, *, date: str, value: str, by: str, treated: str, path) -> tuple[pd.DataFrame, list[str]]:
    """A long file (one row per unit and period) as one column per unit; the controls are the other units."""
    units = _column(series, by, "unit", path).astype("str").str.strip()
    known = sorted(set(units.dropna()) - {"", "nan"})
    if treated not in known:
        raise EvaluationInputError(f"treated unit {treated!r} is not in column {by!r}; units found: "
                                   f"{', '.join(known) or 'none'}", path=path, column=by,
                                   fix="give --treated one of the units found, written exactly as in the file")
    if len(known) < 2:
        raise EvaluationInputError(f"column {by!r} names only {treated!r}: a long file needs other units as controls",
                                   path=path, column=by, fix="add the other units' rows, or drop --unit")
    frame = pd.DataFrame({"date": _column(series, date, "date", path), "unit": units,
                          "value": _column(series, value, "value", path)})
    repeated = frame.duplicated(["date", "unit"], keep=False) & frame["date"].notna()
    if repeated.any():
        raise EvaluationInputError("a unit has two rows for the same date", path=path, column=by,
                                   rows=_rows(repeated), fix="add up each unit's rows of the same period first")
    wide = frame.pivot(index="date", columns="unit", values="value").reset_index()
    wide.columns.name = None
    wide = wide.rename(columns={"date": date, treated: value})
    return wide, [u for u in known if u != treated]


@dataclass
class _Series:
    """A series on its full grid of periods: rows with every value are ``present``, the others are gaps."""

    grid: pd.DataFrame  # date, t, y, the control columns, present, post
    frequency: str
    controls: list[str]  # the control columns' names
    missing: list[pd.Timestamp]

    @property
    def rows(self) -> pd.DataFrame:
        return self.grid[self.grid["present"]]


def _prepare(series: pd.DataFrame, *, date: str, value: str, controls: list[str], start: pd.Timestamp,
             frequency: str | None, path) -> _Series:
    """Parse, check and grid a series; gaps and blank values become ``missing`` periods, never filled in."""
    frame = pd.DataFrame({"date_raw": _column(series, date, "date", path),
                          "y_raw": _column(series, value, "value", path)})
    for i, name in enumerate(controls):
        frame[f"c{i}"] = _column(series, name, "control", path)
    blank = frame.apply(lambda col: col.isna() | col.astype("str").str.strip().isin(["", "nan", "NaN"])).all(axis=1)
    frame = frame[~blank]  # an empty row between tables is formatting, not a period
    dates = _dates(frame["date_raw"], date, path)
    if dates.isna().any():
        raise EvaluationInputError(f"{i18n.counted(int(dates.isna().sum()), 'row has', 'rows have')} a value but no date", path=path,
                                   column=date, rows=[int(i) + 2 for i in frame.index[dates.isna()]],
                                   fix="give every row its period's date, or delete the row")
    data = pd.DataFrame({"date": dates, "y": _values(frame["y_raw"], value, path)})
    for i, name in enumerate(controls):
        data[name] = _values(frame[f"c{i}"], name, path)
    data = data.sort_values("date", kind="stable")
    if data.empty:
        raise EvaluationInputError("the series has no row with both a date and a value", path=path, column=value)
    frequency = frequency or infer_frequency(data["date"], path=path, column=date)
    t = _period_index(data["date"], frequency)
    if frequency == "W" and not np.allclose(t, np.round(t)):
        off = pd.Series(~np.isclose(t, np.round(t)), index=data.index).reindex(frame.index, fill_value=False)
        raise EvaluationInputError("the dates are not one week apart (weeks dated by different weekdays)", path=path,
                                   column=date, rows=_rows(off), fix="date every week by the same weekday, e.g. its Monday")
    data["t"] = np.round(t)
    repeated = data["t"].duplicated(keep=False)
    if repeated.any():
        shown = ", ".join(sorted({d.date().isoformat() for d in data.loc[repeated, "date"]})[:3])
        raise EvaluationInputError(f"dates repeat (e.g. {shown}): a series has one row per period", path=path,
                                   column=date, fix="add up the rows of each day, week, month, quarter or year first")
    columns = ["y", *controls]
    data["present"] = data[columns].notna().all(axis=1)
    if not data["present"].any():
        raise EvaluationInputError("the series has no row with both a date and a value", path=path, column=value)
    kept = data.loc[data["present"], "t"]
    data = data[(data["t"] >= kept.min()) & (data["t"] <= kept.max())]  # blank rows before or after: not the series
    first = data["date"].iloc[0]
    grid = pd.DataFrame({"t": np.arange(data["t"].iloc[0], data["t"].iloc[-1] + 1)})
    grid = grid.merge(data, on="t", how="left")
    grid["t"] = grid["t"] - grid["t"].iloc[0]
    grid["present"] = grid["present"].fillna(False).astype(bool)
    absent = grid["date"].isna()
    grid.loc[absent, "date"] = [_period_date(first, t, frequency) for t in grid.loc[absent, "t"]]
    grid = grid[["date", "t", *columns, "present"]]
    grid["post"] = _post_mask(grid["date"], start, frequency)
    missing = list(grid.loc[~grid["present"], "date"])
    return _Series(grid, frequency, controls, missing)


# ---------------------------------------------------------------------------------------------------
# The estimate


def evaluate(series: pd.DataFrame, *, date: str, value: str, intervention, control: str | Sequence[str] | None = None,
             by: str | None = None, treated: str | None = None, effect: str = "step", model: str = "auto",
             cost: float | None = None, margin: float | None = None, alpha: float = 0.05,
             season: bool | None = None, frequency: str | None = None, name: str = "", kpi: str | None = None,
             label: tuple[str, str] | None = None, unit: str | None = None,
             control_label: tuple[str, str] | None = None, path=None) -> EvaluationResult:
    """The effect of an intervention on a KPI series, with its interval, beside the naive view.

    Parameters
    ----------
    series : DataFrame, one row per period (day, week, month, quarter or year), dated by the period's
        first day. Dates and values may be text as exports write them (2025年7月1日, ¥1,234.50).
    date, value : its date column and the KPI column.
    intervention : the day the intervention started (date, Timestamp or text).
    control : one or more columns of comparison series (other channels, departments or branches
        the intervention did not touch); each gets its own weight in the counterfactual.
    by, treated : for a long file, the column naming each row's unit (a branch, a state) and the
        treated unit; every other unit is a control.
    effect : "step" (default: the level changes and stays changed; the number is that change),
        "slope" or "both" (the number is the average gap over the post-period).
    model : "auto" (default), "trend" (segmented regression) or "local" (local level); see the module.
    cost, margin : for ROI. ``margin`` is the gross profit per unit of the KPI: a share of revenue
        (0–1] for a money KPI, yuan per patient for a count. Both or neither.
    alpha : 1 − the confidence level of the intervals.
    season : None uses the season terms the pre-period supports; False never; True keeps them even
        where the pre-period is shorter than a cycle (with a warning).
    frequency : "D", "W", "M", "Q" or "A"; None infers it from the dates.
    name, kpi, label, unit, control_label : how the sentences name the intervention, the KPI and the
        controls (``kpi``: a headline KPI name, which sets ``label`` and ``unit``).
    path : the file the series came from, for error messages.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    EvaluationInputError : a missing column, unreadable dates or values, repeated dates, an
        intervention outside the series, or too few periods before or after it to fit.
    """
    _check_arguments(alpha=alpha, cost=cost, margin=margin, frequency=frequency, effect=effect, model=model,
                     by=by, treated=treated, control=control)
    controls = [control] if isinstance(control, str) else list(control or [])
    if by is not None:
        series, controls = _wide(series, date=date, value=value, by=by, treated=treated, path=path)
    clash = [c for c in controls if c in RESERVED or str(c).startswith(("week_", "year_")) or c == value]
    if clash:
        raise EvaluationInputError(f"{i18n.plural(len(clash), 'control name', 'control names')} {', '.join(map(repr, clash))} {i18n.plural(len(clash), 'clashes', 'clash')} with the KPI or the model's "
                                   f"own terms", path=path, fix="rename the column (or unit), e.g. to branch_2")
    start = _intervention_day(intervention)
    s = _prepare(series, date=date, value=value, controls=controls, start=start, frequency=frequency, path=path)
    n_pre, n_post = _period_counts(s, start, effect, path)
    notes, design_controls, chosen, seasons = _choices(s, controls, n_pre, n_post, model, season)
    fit, X, seasons = _fit_model(s, chosen, seasons, design_controls, effect, path)
    estimates = _estimates(s, fit, X, seasons, design_controls, controls, effect, alpha)
    placebos = _placebos(s, chosen, seasons, design_controls, effect, n_post, alpha)
    checks = _checks(s, fit, chosen, seasons, design_controls, n_pre, placebos)
    roi = roi_low = roi_high = profit = None
    if cost is not None:
        profit = estimates["effect"] * n_post * margin
        roi, roi_low, roi_high = ((v * n_post * margin - cost) / cost
                                  for v in (estimates["effect"], estimates["ci_low"], estimates["ci_high"]))
    label_zh, label_en = label or ((METRICS[kpi].zh, METRICS[kpi].en) if kpi in METRICS else (value, value))
    unit = unit or (METRICS[kpi].unit if kpi in METRICS else None)
    if unit is None and series[value].astype("str").str.contains("[¥￥元]", regex=True).any():
        unit = "yuan"  # amounts written as money: word them as money
    result = EvaluationResult(
        "evaluation", pd.DataFrame(), "", "", intervention=name, start=start, method="controls" if controls else "its",
        model=chosen, effect_kind=effect, fit=fit, alpha=alpha, controls=controls, placebos=placebos, checks=checks,
        frequency=s.frequency, n_pre=n_pre, n_post=n_post, seasons=seasons, missing=s.missing, cost=cost,
        margin=margin, roi=roi, roi_ci_low=roi_low, roi_ci_high=roi_high, incremental_profit=profit, kpi=kpi,
        label_zh=label_zh, label_en=label_en, unit=unit, control_label=control_label, notes=notes,
        digits=_digits(estimates["ci_high"] - estimates["ci_low"]), **estimates)
    result.table = _table(result)
    result.zh, result.en = _sentences(result)
    return result


def _period_counts(s: _Series, start: pd.Timestamp, effect: str, path) -> tuple[int, int]:
    """Periods with values before and after the intervention; an error when the model cannot be fitted."""
    rows = s.rows
    post = rows["post"].to_numpy()
    first, last = rows["date"].iloc[0].date(), rows["date"].iloc[-1].date()
    if post.all() or not post.any():
        raise EvaluationInputError(
            f"the intervention {start.date().isoformat()} is outside the series ({first} to {last})", path=path,
            fix="give a date after the series' first period and within its last",
            zh=f"干预日期{start.date().isoformat()}不在数据范围（{first}至{last}）之内")
    n_pre, n_post = int((~post).sum()), int(post.sum())
    need_post = MIN_SLOPE_POST if effect != "step" else MIN_FIT_POST
    if n_pre < MIN_FIT_PRE or n_post < need_post:
        raise EvaluationInputError(
            f"too few points to fit: {i18n.counted(n_pre, 'period')} before the intervention and {n_post} after "
            f"(at least {MIN_FIT_PRE} before and {need_post} after are needed for a {effect} effect, {MIN_PRE} "
            f"before for a reliable estimate)", path=path, fix="give a longer series, or a finer frequency (weekly, daily)",
            zh=f"数据太短，无法估计：干预前只有{n_pre}期、干预后{n_post}期（至少需要干预前{MIN_FIT_PRE}期、干预后"
               f"{need_post}期，干预前{MIN_PRE}期以上才可信）")
    return n_pre, n_post


def _choices(s: _Series, controls: list[str], n_pre: int, n_post: int, model: str,
             season: bool | None) -> tuple[list[Note], list[str], str, list[cf.Season]]:
    """The design's choices (controls weighted or summed, model, seasons) and the notes they call for."""
    notes = [Note("missing", value=len(s.missing), items=tuple(s.missing[:3]))] if s.missing else []
    design_controls = controls
    if len(controls) > 1 and n_pre < ROWS_PER_CONTROL * len(controls):
        s.grid["control_sum"] = s.grid[controls].sum(axis=1, min_count=len(controls))
        notes.append(Note("controls_summed", value=len(controls)))
        design_controls = ["control_sum"]
    chosen = ("local" if n_post > n_pre else "trend") if model == "auto" else model
    if chosen == "trend" and n_post > n_pre:
        notes.append(Note("extrapolation"))
    pre_span = float(s.grid.loc[s.grid["post"], "t"].min())  # periods before the intervention's, gaps included
    seasons, uncovered = cf.choose_seasons(s.frequency, pre_span, season)
    notes += [Note("season_rough" if season else "season_dropped", subject=cycle) for cycle in uncovered]
    return notes, design_controls, chosen, seasons


def _estimates(s: _Series, fit: cf.ModelFit, X: pd.DataFrame, seasons, design_controls: list[str],
               controls: list[str], effect: str, alpha: float) -> dict:
    """The effect (mean gap, and last gap for a slope), its relative size, the naive parts, the weights, the chart data."""
    rows, present = s.rows, s.grid["present"].to_numpy()
    post = rows["post"].to_numpy()
    Xp = (X[present] if fit.kind == "local" else X).reset_index(drop=True)
    mean_c, last_c = cf.effect_contrasts(Xp, post)
    test = fit.test(mean_c)
    ci_low, ci_high = test.interval(alpha)
    effect_last = effect_last_ci = None
    if effect != "step":
        last_test = fit.test(last_c)
        effect_last, effect_last_ci = last_test.estimate, last_test.interval(alpha)
    X_full = X if fit.kind == "local" else _design(s, "trend", seasons, design_controls, effect, rows_only=False)
    X_cf = X_full.copy()
    X_cf[[c for c in cf.INTERVENTION_COLUMNS if c in X_cf]] = 0.0
    fitted, counterfactual = fit.predict(X_full)[present], fit.predict(X_cf)[present]
    half = cf.Test(0.0, 1.0, test.df).interval(alpha)[1] * fit.predict_se(X_cf)[present]
    cf_mean = float(counterfactual[post].mean())
    relative = _relative(test.estimate, ci_low, ci_high, cf_mean)
    parts = _naive_parts(fit, Xp, post, design_controls, fit.level[present] if fit.kind == "local" else None)
    data = pd.DataFrame({"date": rows["date"].to_numpy(), "y": rows["y"].to_numpy(), "fitted": fitted,
                         "counterfactual": counterfactual, "cf_low": counterfactual - half,
                         "cf_high": counterfactual + half, "post": post})
    for name in controls:
        data[name] = rows[name].to_numpy()
    weights = {}
    for column in design_controls:
        weight = fit.test(np.eye(len(fit.columns))[fit.columns.index(column)])
        weights["+".join(controls) if column == "control_sum" else column] = (weight.estimate, *weight.interval(alpha))
    return dict(contrast=mean_c, effect=test.estimate, se=test.se, df=test.df, ci_low=ci_low, ci_high=ci_high,
                p_value=test.p_value(), effect_last=effect_last, effect_last_ci=effect_last_ci,
                counterfactual_mean=cf_mean, relative_effect=relative[0], relative_ci_low=relative[1],
                relative_ci_high=relative[2],
                naive_effect=float(rows.loc[post, "y"].mean() - rows.loc[~post, "y"].mean()),
                naive_trend=parts["trend"], naive_season=parts["season"],
                control_change=parts["control"] if controls else None, control_weights=weights, data=data)


def _check_arguments(*, alpha, cost, margin, frequency, effect, model, by, treated, control) -> None:
    if not 0 < alpha < 1:
        raise EvaluationInputError(f"alpha must be between 0 and 1, not {alpha}")
    if (cost is None) != (margin is None):
        raise EvaluationInputError("ROI needs both the cost and the margin", fix="give both --cost and --margin, or neither")
    if cost is not None and (not math.isfinite(cost) or cost <= 0):
        raise EvaluationInputError(f"cost must be a positive amount, not {cost}", fix="give the yuan spent, e.g. --cost 20000")
    if margin is not None and (not math.isfinite(margin) or margin <= 0):
        raise EvaluationInputError(f"margin must be positive, not {margin}",
                                   fix="give the gross profit per unit of the KPI, e.g. 0.6 of revenue")
    if frequency is not None and frequency not in SERIES_FREQUENCIES:
        raise EvaluationInputError(f"frequency must be one of {SERIES_FREQUENCIES}, not {frequency!r}")
    if effect not in EFFECTS:
        raise EvaluationInputError(f"effect must be one of {EFFECTS}, not {effect!r}",
                                   fix="step: the level changes; slope: the growth changes; both")
    if model not in MODELS:
        raise EvaluationInputError(f"model must be one of {MODELS}, not {model!r}")
    if (by is None) != (treated is None):
        raise EvaluationInputError("a long file needs both the unit column and the treated unit",
                                   fix="give both --unit COLUMN and --treated NAME, or neither")
    if by is not None and control:
        raise EvaluationInputError("--control and --unit exclude each other: with --unit every other unit is a control",
                                   fix="drop --control, or give a wide file without --unit")


def _intervention_day(intervention) -> pd.Timestamp:
    if not isinstance(intervention, str):
        return pd.Timestamp(intervention).normalize()
    parsed, bad = parse_dates(pd.Series([intervention], dtype=object))
    if bad.any() or parsed.isna().all():
        raise EvaluationInputError(f"the intervention date {intervention!r} cannot be read", fix="write it like 2025-07-01")
    return parsed.iloc[0].normalize()


def _design(s: _Series, model: str, seasons: list[cf.Season], controls: list[str], effect: str | None, *,
            rows_only: bool, post: np.ndarray | None = None, grid: pd.DataFrame | None = None) -> pd.DataFrame:
    """The regressors: (trend model) constant and trend, season, controls, intervention terms.

    The trend model uses the rows with values (its error model spans the gaps); the local model uses
    the whole grid (the Kalman filter skips the gaps). ``grid`` and ``post`` default to the series'.
    """
    grid = s.grid if grid is None else grid
    frame = grid[grid["present"]] if rows_only else grid
    frame = frame.reset_index(drop=True)
    post = frame["post"].to_numpy() if post is None else post
    t = frame["t"].to_numpy(dtype=float)
    parts = []
    if model == "trend":
        parts.append(pd.DataFrame({"const": 1.0, "trend": t}))
    parts.append(cf.season_columns(frame["date"], t, s.frequency, seasons))
    parts.append(frame[controls].fillna(0.0).reset_index(drop=True))  # a gap's control is never used: y is missing
    if effect is not None:
        t0 = float(grid.loc[grid["post"].to_numpy(), "t"].min())  # the intervention's period, present or not
        parts.append(cf.intervention_columns(t, post, effect, t0))
    return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def _fit_model(s: _Series, model: str, seasons: list[cf.Season], controls: list[str], effect: str, path):
    """Fit the chosen model; season terms that cannot be told apart from the rest are dropped (and said)."""
    X = _design(s, model, seasons, controls, effect, rows_only=model == "trend")
    if seasons and not _full_rank(X):
        seasons = []
        X = _design(s, model, seasons, controls, effect, rows_only=model == "trend")
    n = int(s.grid["present"].sum())
    if not _full_rank(X) or n - X.shape[1] - (1 if model == "trend" else 2) < 2:
        raise EvaluationInputError(f"too few points for the model ({n} periods for {X.shape[1]} terms), or a control "
                                   f"that never changes", path=path, fix="give a longer series, or other controls",
                                   zh=f"数据太短或对照序列没有变化，无法估计：{n}期数据不够估计{X.shape[1]}个参数")
    if model == "trend":
        rows = s.rows
        return cf.fit_trend(rows["y"].to_numpy(), X, rows["t"].to_numpy()), X, seasons
    y = s.grid["y"].where(s.grid["present"]).to_numpy()
    return cf.fit_local(y, X), X, seasons


def _full_rank(X: pd.DataFrame) -> bool:
    return X.shape[1] == 0 or np.linalg.matrix_rank(X.to_numpy(dtype=float)) == X.shape[1]


def _relative(effect: float, low: float, high: float, cf_mean: float) -> tuple[float | None, ...]:
    """effect ÷ the counterfactual's post mean; the interval maps effect → effect / (fitted mean − effect)."""
    fitted_mean = cf_mean + effect
    if cf_mean <= 0 or fitted_mean - high <= 0 or fitted_mean - low <= 0:
        return None, None, None  # a counterfactual at or below zero: a share of it means nothing
    return effect / cf_mean, low / (fitted_mean - low), high / (fitted_mean - high)


def _naive_parts(fit: cf.ModelFit, X: pd.DataFrame, post: np.ndarray, controls: list[str],
                 level: np.ndarray | None) -> dict[str, float]:
    """How much of the naive before/after difference the trend (or the level), the season and the controls explain."""
    def shift(columns: list[str]) -> float:
        if not columns:
            return 0.0
        part = X[columns].to_numpy(dtype=float) @ fit.params[columns].to_numpy()
        return float(part[post].mean() - part[~post].mean())

    trend = float(level[post].mean() - level[~post].mean()) if level is not None else shift(["trend"])
    season_columns = [c for c in X.columns if c.startswith(("week_", "year_"))]
    return {"trend": trend, "season": shift(season_columns), "control": shift([c for c in controls if c in X])}


def _placebos(s: _Series, model: str, seasons, controls, effect: str, n_post: int, alpha: float) -> list[Placebo]:
    """The same model on the pre-period alone, with fake intervention dates inside it (see the module)."""
    pre = s.grid[~s.grid["post"]].reset_index(drop=True)
    present = pre["present"].to_numpy()
    n_pre = int(present.sum())
    horizon = min(n_post, max(MIN_PLACEBO_POST, n_pre // 4))
    positions = np.flatnonzero(present)
    out = []
    for k in range(1, MAX_PLACEBOS + 1):
        fake_rows = n_pre - k * horizon  # present rows before the fake date
        if fake_rows < max(MIN_PRE, math.ceil(n_pre / 2)):
            break
        fake_at = positions[fake_rows]
        fake_post = np.arange(len(pre)) >= fake_at
        grid = pre.assign(post=fake_post)
        X = _design(s, model, seasons, controls, effect, rows_only=model == "trend", grid=grid)
        if not _full_rank(X):
            continue
        rows = grid[grid["present"]]
        if model == "trend":
            fit = cf.fit_trend(rows["y"].to_numpy(), X, rows["t"].to_numpy())
            contrast, _ = cf.effect_contrasts(X, rows["post"].to_numpy())
        else:
            fit = cf.fit_local(grid["y"].where(grid["present"]).to_numpy(), X)
            contrast, _ = cf.effect_contrasts(X[present].reset_index(drop=True), rows["post"].to_numpy())
        test = fit.test(contrast)
        low, high = test.interval(alpha)
        out.append(Placebo(pre["date"].iloc[fake_at], test.estimate, low, high, test.p_value()))
    return out


def _checks(s: _Series, fit: cf.ModelFit, model: str, seasons, controls, n_pre: int,
            placebos: list[Placebo]) -> list[Check]:
    """The reliability checks of the module docstring, each with the number its sentence needs."""
    checks = [Check("pre_length", n_pre >= MIN_PRE, float(n_pre), MIN_PRE)]
    if placebos:
        fired = sum(p.significant for p in placebos)
        checks.append(Check("placebo", fired < PLACEBO_ALARMS, float(fired), len(placebos)))
    box = cf.ljung_box(fit.resid, model_df=1 if model == "trend" else 0)
    if box is not None:
        checks.append(Check("autocorrelation", box[1] >= CHECK_P, box[1], box[0]))
    if model == "trend":
        checks.append(Check("wandering", fit.rho < MAX_RHO, fit.rho))
    if model == "trend" and n_pre >= MIN_PRE:
        curvature = _curvature_p(s, seasons, controls)
        if curvature is not None:
            checks.append(Check("curvature", curvature >= CHECK_P, curvature))
    share = len(s.missing) / len(s.grid)
    checks.append(Check("missing", share <= MAX_MISSING_SHARE, share))
    return checks


def _curvature_p(s: _Series, seasons, controls) -> float | None:
    """p-value of a quadratic trend term on the pre-period alone: is the trend a straight line?"""
    pre = s.grid[~s.grid["post"]]
    rows = pre[pre["present"]].reset_index(drop=True)
    X = _design(s, "trend", seasons, controls, None, rows_only=True, grid=pre)
    t = rows["t"].to_numpy(dtype=float)
    X["trend2"] = ((t - t.mean()) / max(t.std(), 1.0)) ** 2
    if not _full_rank(X) or len(X) - X.shape[1] < 3:
        return None
    fit = cf.fit_trend(rows["y"].to_numpy(), X, t)
    return fit.test(np.eye(X.shape[1])[-1]).p_value()


def _table(r: EvaluationResult) -> pd.DataFrame:
    """The estimates as numbers: the model, the naive difference and each placebo."""
    rows = [{"estimate": "model", "method": r.method, "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "p_value": r.p_value, "relative": r.relative_effect},
            {"estimate": "naive", "method": "before_after", "effect": r.naive_effect, "ci_low": None,
             "ci_high": None, "p_value": None, "relative": None}]
    for i, placebo in enumerate(r.placebos):
        rows.append({"estimate": f"placebo{i + 1}" if i else "placebo", "method": r.method, "effect": placebo.effect,
                     "ci_low": placebo.ci_low, "ci_high": placebo.ci_high, "p_value": placebo.p_value,
                     "relative": None})
    return pd.DataFrame(rows).set_index("estimate").astype({"effect": "float64", "ci_low": "float64",
                                                            "ci_high": "float64", "p_value": "float64",
                                                            "relative": "float64"})


# ---------------------------------------------------------------------------------------------------
# KPI series from a clinic's tables


def _grid(first: pd.Timestamp, last: pd.Timestamp, frequency: str) -> pd.DatetimeIndex:
    """The whole periods between the data's first and last day (partial edge periods left out)."""
    start = period_start(pd.Series([first]), frequency).iloc[0]
    if start < first:
        start = start + (pd.DateOffset(months=1) if frequency == "M" else pd.Timedelta(days=7))
    periods = pd.date_range(start, last, freq={"D": "D", "W": "W-MON", "M": "MS"}[frequency])
    return pd.DatetimeIndex([p for p in periods if _period_end(p, frequency) <= last])


def _period_end(period: pd.Timestamp, frequency: str) -> pd.Timestamp:
    """The last day of the period that starts on ``period``."""
    if frequency == "M":
        return period + pd.DateOffset(months=1) - pd.Timedelta(days=1)
    return period + pd.Timedelta(days=6 if frequency == "W" else 0)


def parse_kpi(spec: str) -> tuple[str, str | None]:
    """``"new_patients:抖音"`` → ("new_patients", "抖音"); ``"revenue"`` → ("revenue", None)."""
    kpi, _, segment = str(spec).replace("：", ":").partition(":")
    kpi, segment = kpi.strip(), segment.strip() or None
    if kpi not in KPI_SERIES:
        raise EvaluationInputError(f"unknown KPI {kpi!r}; KPIs that can be evaluated: {', '.join(KPI_SERIES)}",
                                   fix="in clinic.yaml, interventions: kpi: one of those, optionally ':<channel or "
                                       "department>', e.g. new_patients:抖音",
                                   zh=f"不认识的指标“{kpi}”，可评估的指标：{'、'.join(KPI_SERIES)}（可加“:渠道或科室”）")
    return kpi, segment


def _segments(clinic: Clinic) -> tuple[set[str], set[str]]:
    channels = set(clinic.patients["source_channel"].dropna().astype("str"))
    departments = set(clinic.visits["department"].dropna().astype("str")) if clinic.has("visits", "department") else set()
    return channels, departments


def _segment_kind(clinic: Clinic, segment: str) -> str:
    channels, departments = _segments(clinic)
    if segment in channels:
        return "channel"
    if segment in departments:
        return "department"
    raise EvaluationInputError(
        f"{segment!r} is neither a source channel nor a department of the data; channels: "
        f"{', '.join(sorted(channels)) or 'none'}; departments: {', '.join(sorted(departments)) or 'none'}",
        fix="write the channel or department exactly as the exports write it",
        zh=f"“{segment}”既不是数据中的来源渠道，也不是科室；渠道有：{'、'.join(sorted(channels)) or '无'}；"
           f"科室有：{'、'.join(sorted(departments)) or '无'}")


def kpi_series(clinic: Clinic, kpi: str, frequency: str = "W", *, segment: str | None = None,
               exclude: str | None = None) -> pd.Series:
    """A headline KPI per day, week (Monday–Sunday) or month, over the whole periods the data covers.

    Each period's value is the registry's (`playbook.metrics`), the contract's definition applied to
    the period: revenue = payments made in it; new_patients = patients whose first arrival falls in it;
    arrived_visits; no_show_rate = no-shows / (arrivals + no-shows); first_visit_conversion = of its new
    patients, the share who paid for treatment within 30 days (periods whose 30 days run past the
    data's end are left out); referral_share = of its new patients, the share from referral. A rate
    is missing (NaN) for a period with nothing to divide by.

    Parameters
    ----------
    clinic : a loaded clinic.
    kpi : one of `KPI_SERIES`, optionally with a segment, ``"new_patients:抖音"``.
    frequency : "D", "W" or "M".
    segment : a source channel (patients, by their channel) or a department (visits; charges by their
        own department, else their visit's; new patients by their first arrival's) to restrict the KPI to.
    exclude : a channel or department to leave out (all but it: the control "others").
    """
    kpi, inline = parse_kpi(kpi)
    segment = segment or inline
    if frequency not in FREQUENCIES:
        raise EvaluationInputError(f"frequency must be one of {FREQUENCIES}, not {frequency!r}")
    first_day, last_day = data_start(clinic.visits, clinic.charges), data_end(clinic.visits, clinic.charges)
    if first_day is None:
        raise EvaluationInputError("the clinic has no visits or charges to build a series from",
                                   zh="没有预约或收费数据，无法生成指标序列")
    grid = _grid(first_day, last_day, frequency)
    if grid.empty:
        _, _, n_zh, n_en = PERIOD_WORDS[frequency]
        raise EvaluationInputError(f"the data ({first_day.date()} to {last_day.date()}) cover no whole "
                                   f"{n_en[:-1]}", fix="choose a finer frequency: W or D",
                                   zh=f"数据（{first_day.date()}至{last_day.date()}）不足一个完整的{n_zh.lstrip('个')}")
    for name in (segment, exclude):
        if name is not None:
            _segment_kind(clinic, name)  # an unknown segment: the error names the channels and departments
    metric = METRICS[kpi]
    parts = metric.per_period(clinic_tables(clinic), frequency, segment, exclude=exclude).reindex(grid)
    if metric.additive:
        series = parts["numerator"].fillna(0.0)
    else:
        series = (parts["numerator"] / parts["denominator"]).where(parts["denominator"] > 0)
    if metric.settle_days:  # only periods whose every patient has had their 30 days in the data
        settled = pd.Timedelta(days=metric.settle_days)
        series = series[[_period_end(p, frequency) + settled <= last_day for p in series.index]]
    series.index.name = "period"
    return series.rename(kpi)


# ---------------------------------------------------------------------------------------------------
# The chapter: configured interventions, or the demonstration


def _labels(kpi: str, segment: str | None) -> tuple[str, str, str]:
    metric = METRICS[kpi]
    zh, en, unit = metric.zh, metric.en, metric.unit
    if segment:
        return f"{zh}（{segment}）", f"{en} ({i18n.term(segment, 'en')})", unit
    return zh, en, unit


def branches(clinic: Clinic) -> tuple[dict[str, Clinic], list[str]]:
    """The chain's other branches: the clinic folders beside this one (a chain run as ``playbook run CHAIN/``).

    Returns the loaded branches by name, and the names of sibling folders that could not be loaded
    (their own input problems), which the finding mentions.
    """
    from .clinic import load_clinic
    from .config import CONFIG_NAME

    found, failed = {}, []
    for folder in sorted(p for p in clinic.folder.parent.iterdir() if p.is_dir() and p != clinic.folder):
        if not (folder / CONFIG_NAME).exists():
            continue
        try:
            branch = load_clinic(folder)
        except PlaybookError:
            failed.append(folder.name)
            continue
        found[branch.config.name or branch.config.clinic_id] = branch
    return found, failed


def _controls(clinic: Clinic, intervention: Intervention, kpi: str, segment: str | None,
              y: pd.Series) -> tuple[pd.DataFrame, tuple[str, str] | None, list[Note]]:
    """The control series an intervention names, aligned on the KPI's periods, their label, and notes."""
    wanted = intervention.control
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    frame, notes = pd.DataFrame(index=y.index), []
    if not names:
        return frame, None, notes
    if len(names) == 1 and names[0].strip().lower() in OTHERS:
        if segment:  # the clinic's other channels or departments, together
            kind = _segment_kind(clinic, segment)
            frame[names[0]] = kpi_series(clinic, kpi, intervention.frequency, exclude=segment)
            label = ("其他渠道", "other channels") if kind == "channel" else ("其他科室", "other departments")
            return frame, label, notes
        found, failed = branches(clinic)
        if not found:
            raise EvaluationInputError(
                f"control 'others' for the whole clinic means the chain's other branches, but no other clinic folder "
                f"is beside {clinic.folder.name}", fix="put the branches' folders in one chain folder, or name a "
                "channel or department as the KPI's segment (kpi: new_patients:抖音)",
                zh=f"对照写 others、指标不限渠道时，对照是连锁的其他分院，但{clinic.folder.name}旁边没有其他门店的文件夹")
        for name, branch in found.items():
            series = kpi_series(branch, kpi, intervention.frequency, segment=segment).reindex(y.index)
            share = float(series.isna().mean())
            if share > MAX_MISSING_SHARE:
                notes.append(Note("branch_short", subject=name, value=1 - share))
                continue
            frame[name] = series
        if failed:
            notes.append(Note("branch_failed", items=tuple(failed)))
        if frame.empty:
            raise EvaluationInputError("no other branch covers the KPI's periods", fix="check the branches' data",
                                       zh="没有其他分院的数据覆盖这段时间")
        return frame, ("其他分院", "other branches"), notes
    for name in names:
        frame[name] = kpi_series(clinic, kpi, intervention.frequency, segment=name)
    return frame, None, notes


def evaluate_intervention(clinic: Clinic, intervention: Intervention, *, alpha: float = 0.05,
                          name: str | None = None) -> EvaluationResult | Unavailable:
    """Evaluate one intervention of clinic.yaml on the clinic's own KPI series.

    ``control`` names one or more channels or departments, or ``others``: with a KPI for one channel
    or department, all the clinic's other ones together; with a KPI for the whole clinic, the chain's
    other branches (`branches`), each a control with its own weight. ROI is computed for a money KPI
    (revenue), whose ``margin`` is a gross margin; for other KPIs the sentence says ROI needs the
    revenue KPI.
    """
    name = name or intervention.name
    try:
        kpi, segment = parse_kpi(intervention.kpi)
        y = kpi_series(clinic, kpi, intervention.frequency, segment=segment)
        controls, control_label, notes = _controls(clinic, intervention, kpi, segment, y)
        frame = controls.assign(y=y)
        label_zh, label_en, unit = _labels(kpi, segment)
        roi = unit == "yuan" and intervention.cost is not None and intervention.margin is not None
        result = evaluate(frame.rename_axis("period").reset_index(), date="period", value="y",
                          control=list(controls.columns) or None, intervention=intervention.start,
                          effect=intervention.effect, model=intervention.model,
                          cost=intervention.cost if roi else None, margin=intervention.margin if roi else None,
                          alpha=alpha, frequency=intervention.frequency, name=name, kpi=kpi,
                          label=(label_zh, label_en), unit=unit, control_label=control_label)
        result.segment = segment
    except PlaybookError as error:
        return Unavailable.because(
            "evaluation", [name], zh_reason=f"无法评估「{name}」：{error.zh or error.message}。请检查 clinic.yaml 中的 interventions 设置。",
            en_reason=f"{name} cannot be evaluated: {error.message}. Check interventions in clinic.yaml.")
    if notes:
        result.notes = notes + result.notes
        result.zh, result.en = _sentences(result)
    if intervention.cost is not None and intervention.margin is not None and unit != "yuan":
        result.zh += f"投资回报率需要以营收为指标才能计算：{label_zh}不是金额。"
        result.en += f" ROI needs the revenue KPI: {label_en} is not an amount of money."
    return result


def heading(result: EvaluationResult | Unavailable, lang: str = "zh") -> str:
    """The Markdown heading a chapter puts above one evaluation."""
    if not result.available:
        return f"### {result.needs[0] if result.needs else i18n.pick(lang, '干预', 'Intervention')}"
    what = f"{result.intervention}：{result.label_zh}" if lang == "zh" else f"{result.intervention}: {result.label_en}"
    method = i18n.pick(lang, "对照序列推算", "counterfactual from controls") if result.method == "controls" else \
        i18n.pick(lang, "间断时间序列", "interrupted time series")
    if result.demonstration:
        return i18n.pick(lang, f"### 示范 · {what}（{method}）", f"### Demonstration · {what} ({method})")
    return i18n.pick(lang, f"### {what}（{method}）", f"### {what} ({method})")


def clinic_evaluations(clinic: Clinic, *, alpha: float = 0.05) -> list[EvaluationResult | Unavailable]:
    """Every intervention of clinic.yaml, evaluated (an empty list when none is configured)."""
    return [evaluate_intervention(clinic, i, alpha=alpha) for i in clinic.config.interventions]


def metrics(results: list) -> dict:
    """kpis.json's ``evaluations``: one object per configured intervention, by name (empty when none)."""
    out: dict = {"evaluations": {}}
    for result in results:
        if result.available:
            out["evaluations"].update(result.metrics()["evaluations"])
        else:
            out["evaluations"][result.needs[0]] = None
    return out


DEMO_CAMPAIGN = "2025抖音9.9元洁牙卡"  # the general sample's campaign from 2025-07-01 (playbook.synth)
DEMO_CONTROL = "大众点评"  # a platform channel of similar size that nothing else changed in July 2025
DEMO_MARGIN = 0.5  # an assumed gross margin, stated in the chapter


def demonstrations(clinic: Clinic | None = None) -> list[EvaluationResult | Unavailable]:
    """The method shown on a general sample clinic's 9.9-yuan Douyin card campaign (from 2025-07-01).

    Three weekly evaluations: Douyin new patients by interrupted time series; the same with
    大众点评's new patients as the control; and revenue from Douyin patients against 大众点评's, with
    the campaign's spend (from the campaigns table) as cost and an assumed 50% gross margin, for ROI.
    Each result has ``demonstration=True``.

    ``clinic``: the clinic a chapter runs on. The lesson runs on it when it is a general sample clinic
    (its campaigns table holds the campaign), and is empty otherwise, so a real clinic's run never
    loads a second clinic or fits models it does not show. None: the bundled general sample.
    """
    from .config import SAMPLES_DIR, Intervention

    if clinic is None:
        from .clinic import load_clinic

        folder = SAMPLES_DIR / "general_clinic"
        if not (folder / "clinic.yaml").exists():
            return [Unavailable.because("evaluation", ["data_samples/general_clinic"])]
        clinic = load_clinic(folder)
    campaigns = clinic.table("campaigns")
    row = campaigns[campaigns["name"] == DEMO_CAMPAIGN] if campaigns is not None and "name" in campaigns else None
    if row is None or row.empty:
        return []
    start, cost = row["start"].iloc[0].date(), float(row["spend"].iloc[0])
    specs = [Intervention(name=DEMO_CAMPAIGN, start=start, kpi="new_patients:抖音"),
             Intervention(name=DEMO_CAMPAIGN, start=start, kpi="new_patients:抖音", control=DEMO_CONTROL),
             Intervention(name=DEMO_CAMPAIGN, start=start, kpi="revenue:抖音", control=DEMO_CONTROL, cost=cost,
                          margin=DEMO_MARGIN)]
    results = [evaluate_intervention(clinic, spec) for spec in specs]
    for result in results:
        if result.available:
            result.demonstration = True
    return results


def how_to_add(lang: str = "zh") -> str:
    """The sentence a chapter shows when clinic.yaml lists no intervention: how to add one."""
    example = ("```yaml\ninterventions:\n  - name: 抖音9.9元洁牙卡\n    start: 2025-07-01\n    kpi: \"new_patients:抖音\"\n"
               "    control: 大众点评\n  - name: 前台提前一天电话确认\n    start: 2025-03-01\n    kpi: no_show_rate\n"
               "  - name: 种植周末门诊\n    start: 2025-05-01\n    kpi: \"revenue:种植\"\n    cost: 30000\n"
               "    margin: 0.6\n    frequency: M\n  - name: 老带新奖励\n    start: 2025-09-01\n    kpi: new_patients\n"
               "    control: others\n    effect: slope\n```")
    return i18n.pick(
        lang,
        "clinic.yaml 里还没有登记要评估的干预（活动、流程或价格调整）。登记方法：在 clinic.yaml 末尾加上 interventions，"
        "每项写名称、开始日期、指标（revenue、new_patients、arrived_visits、no_show_rate、first_visit_conversion、"
        "referral_share，可加“:渠道或科室”），可选：对照（另一个或几个渠道、科室；others 表示其他全部渠道或科室，"
        "指标不限渠道时表示连锁的其他分院，即同一文件夹里的其他门店）、成本和毛利率（仅营收指标可算ROI）、"
        "频率（D/W/M，默认W）、效果形状（effect：step 水平一次性变化，默认；slope 逐渐变化；both 两者都有），例如：\n\n"
        + example,
        "clinic.yaml lists no intervention to evaluate yet (a campaign, a process or a price change). To add one, put "
        "interventions at the end of clinic.yaml: a name, the start date, the KPI (revenue, new_patients, "
        "arrived_visits, no_show_rate, first_visit_conversion, referral_share, optionally followed by a colon and a "
        "channel or department, as in new_patients:抖音), and optionally a control (one or more channels or "
        "departments; others for all the rest, or, for a whole-clinic KPI, the chain's other branches: the other "
        "clinic folders beside this one), cost and margin (ROI, for the revenue KPI), frequency (D/W/M, default W) "
        "and the effect's shape (effect: step, a change of level, the default; slope, a gradual change; both), "
        "e.g.:\n\n" + example)

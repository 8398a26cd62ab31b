"""Did what the clinic changed work, and what did it return? Method step 4, "evaluate" [S1].

A plain before/after comparison of means confuses the effect of an intervention with the trend and
the season the KPI had anyway. This module estimates the effect by **interrupted time series**
(segmented regression) and, when a comparison series is given (another channel or department), by
**difference in differences** on the difference between the two series. statsmodels does the
estimation (regression with AR(1) errors and HAC standard errors); this module only builds the
design and words the result.

The model, for a KPI series y_t (daily, weekly or monthly; t counts periods from the first)::

    y_t = b0 + b1·t + b2·post_t + b3·post_t·(t − t0) + season_t + e_t

- ``post_t`` is 1 from the period that contains the intervention on (dates label the first day of
  their period), ``t0`` that period's index. b2 is the level step, b3 the change of slope; the slope
  term is left out when the post-period has fewer than 3 periods.
- ``season_t``: weekday dummies for a daily series, month dummies for a monthly one, two pairs of
  52-week Fourier terms (sin/cos of 2πk·t/52.18, k = 1, 2) for a weekly one. Season is used only when
  the pre-period spans at least two seasonal cycles (14 days, 104 weeks, 24 months); otherwise it is
  left out and the result says so.
- Fit and errors: the model is fitted by statsmodels' ``GLSAR`` (feasible GLS with AR(1) errors,
  ``iterative_fit``: Cochrane–Orcutt), so week-to-week persistence of the noise is modelled rather
  than ignored; independent noise gives rho ≈ 0 and the OLS estimate. The covariance is HAC
  (Newey–West, Bartlett kernel), ``cov_type="HAC"``, on the whitened model, with maxlags =
  floor(4·(n/100)^(2/9)) (Newey & West 1994's rule of thumb, n the number of periods fitted), the
  small-sample factor n/(n − k) (``use_correction=True``) and t intervals (``use_t=True``). HAC is
  biased downward in short series when a trend is extrapolated (Turner et al. 2021), so where the
  classical standard error of the effect is larger, the interval uses it (the wider of the two;
  ``errors`` says which). Why not plain OLS + HAC: in a simulation of this design (weekly, 3 years,
  112 weeks before) it called 7–13% of no-effect series significant at 5% with independent noise,
  and covered a planted step only 88% of the time with AR(1) noise of 0.2; this fit gives 6–7%
  false alarms and 91–94% coverage for AR 0 to 0.4 (tests/test_evaluate.py checks it).
- **Effect** = the average over the post-period of the fitted series minus its counterfactual (the
  same model with b2 = b3 = 0): the linear contrast b2 + b3·mean(t − t0 over the post periods),
  estimated with its interval and p-value by ``results.t_test``.
- **Difference in differences** (``control=``): the same model on d_t = treated_t − control_t. What
  both series share (season, market, a shock) cancels; the effect is the treated series' change
  beyond the control's.
- **Naive** before/after: mean(post) − mean(pre) of the treated series. It equals effect + what the
  counterfactual moved (trend part b1·Δmean(t) + season part; plus, in difference in differences,
  the control's own change) + noise (exactly zero with OLS, whose residuals average to zero before
  and after; small with the GLS fit). The result words that gap.
- **Placebo**: the same model, fitted on the pre-period only, with a fake intervention inside it: as
  many periods before the real date as the post-period is long (the same extrapolation as the real
  estimate), but not before the pre-period's middle. It should find nothing; when it does, the series
  moves in ways the model does not describe.
- **ROI** = (incremental gross profit − cost) / cost, incremental gross profit = effect × number of
  post periods × margin (the gross profit per unit of the KPI: a share of revenue for a money KPI);
  its interval follows from the effect's, which it is a linear function of.

Sources: [S1] (seeds/001: evaluate with before/after and ROI); Wagner, Soumerai, Zhang &
Ross-Degnan (2002), *J Clin Pharm Ther* 27 (segmented regression); Bernal, Cummins & Gasparrini
(2017), *Int J Epidemiol* 46 (interrupted time series); Newey & West (1994), *Rev Econ Stud* 61
(lag rule); Turner et al. (2021), *BMC Med Res Methodol* 21:181 (how the methods behave on short
series).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

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

__all__ = ["EvaluationResult", "EvaluationInputError", "Placebo", "evaluate", "kpi_series", "evaluate_intervention",
           "clinic_evaluations", "demonstrations", "how_to_add", "read_series", "KPI_SERIES"]

MIN_PRE = 8  # fewer pre-period points than this: a warning, not a confident number
MIN_FIT_PRE, MIN_FIT_POST = 3, 2  # fewer than this: no model at all (an error)
MIN_SLOPE_POST = 3  # the change of slope is estimated from this many post periods on
MIN_PLACEBO_PRE = 16  # the placebo needs 8 pre-period points on each side of its fake date
SEASON_CYCLES = 2  # the pre-period must span this many seasonal cycles for season terms
WEEKS_PER_YEAR = 365.25 / 7
CYCLE = {"D": 7, "W": WEEKS_PER_YEAR, "M": 12}  # periods per seasonal cycle: a week of days, a year
FOURIER_PAIRS = 2
SHOW_PRE = {"D": 28, "W": 52, "M": 12}  # the chart shows at least this much of the pre-period
AR_ITERATIONS = 8  # Cochrane–Orcutt iterations of GLSAR.iterative_fit (it stops earlier once converged)
FREQUENCIES = ("D", "W", "M")
# frequency -> (每X, per X, X 期的量词, periods)
PERIOD_WORDS = {"D": ("每天", "per day", "天", "days"), "W": ("每周", "per week", "周", "weeks"),
                "M": ("每月", "per month", "个月", "months")}
SEASON_WORDS = {"D": ("星期几", "weekday"), "W": ("一年中的季节（52周傅里叶项）", "time of year (52-week Fourier terms)"),
                "M": ("月份", "month of year")}
KPI_SERIES = SERIES  # the registry's view: the KPIs an intervention can be evaluated on (playbook.metrics)
COUNT_WORDS = {name: (METRICS[name].count_zh, "") for name in SERIES if METRICS[name].count_zh}
LOWER_IS_BETTER = {name for name in SERIES if not METRICS[name].higher_is_better}  # a rise is bad (red in the chart)
OTHERS = ("others", "其他", "其他渠道", "其他科室")


class EvaluationInputError(PlaybookError):
    """A series that cannot be evaluated: missing column, unreadable dates, intervention outside, too short."""


# ---------------------------------------------------------------------------------------------------
# Small helpers


def _sig(value) -> float | None:
    """A p-value to 3 significant figures (a tiny one stays visible, not 0.0)."""
    value = _num(value)
    return None if value is None else float(f"{value:.3g}")


def hac_maxlags(n: int) -> int:
    """Newey & West (1994) rule of thumb: floor(4·(n/100)^(2/9)), at least 1."""
    return max(1, int(math.floor(4 * (n / 100) ** (2 / 9))))


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


def _p_text(value) -> str:
    value = _num(value)
    return "—" if value is None else "<0.001" if value < 0.001 else f"{value:.3f}"


def _ratio_text(value) -> str:
    value = _num(value)
    return "—" if value is None else f"{value:.2f}"


def _period_index(dates: pd.Series, frequency: str) -> np.ndarray:
    """Periods since the first date: days, weeks (days / 7) or months."""
    first = dates.iloc[0]
    if frequency == "M":
        return ((dates.dt.year - first.year) * 12 + dates.dt.month - first.month).to_numpy(dtype=float)
    days = (dates - first).dt.days.to_numpy(dtype=float)
    return days / 7 if frequency == "W" else days


def infer_frequency(dates: pd.Series, *, path=None, column=None) -> str:
    """D, W or M from the median spacing of sorted, distinct dates."""
    gaps = dates.diff().dt.days.dropna()
    if gaps.empty:
        raise EvaluationInputError("a series needs at least two dates", path=path, column=column)
    median = float(gaps.median())
    if median <= 1.5:
        return "D"
    if 6 <= median <= 8:
        return "W"
    if 27 <= median <= 32:
        return "M"
    raise EvaluationInputError(
        f"dates are {median:g} days apart (median): not a daily, weekly or monthly series", path=path, column=column,
        fix="give one row per day, per week or per month (dated by the period's first day)")


def _post_mask(dates: pd.Series, start: pd.Timestamp, frequency: str) -> np.ndarray:
    """A period is post when it contains the intervention day or comes after it."""
    if frequency == "M":
        return (dates.dt.to_period("M") >= start.to_period("M")).to_numpy()
    length = pd.Timedelta(days=7 if frequency == "W" else 1)
    return (dates + length > start).to_numpy()


def _season_columns(dates: pd.Series, t: np.ndarray, frequency: str) -> pd.DataFrame:
    index = dates.index
    if frequency == "W":
        columns = {}
        for k in range(1, FOURIER_PAIRS + 1):
            angle = 2 * np.pi * k * t / WEEKS_PER_YEAR
            columns[f"sin{k}"], columns[f"cos{k}"] = np.sin(angle), np.cos(angle)
        return pd.DataFrame(columns, index=index)
    codes = dates.dt.month if frequency == "M" else dates.dt.day_of_week
    prefix = "month" if frequency == "M" else "weekday"
    dummies = pd.get_dummies(codes, prefix=prefix, dtype=float)
    return dummies.iloc[:, 1:] if dummies.shape[1] > 1 else dummies.iloc[:, :0]


def _design(dates: pd.Series, post: np.ndarray, frequency: str, *, season: bool, slope: bool) -> pd.DataFrame:
    t = _period_index(dates, frequency)
    t0 = t[post].min()
    X = pd.DataFrame({"const": 1.0, "trend": t, "step": post.astype(float)}, index=dates.index)
    if slope:
        X["slope_change"] = np.where(post, t - t0, 0.0)
    if season:
        X = X.join(_season_columns(dates, t, frequency))
    return X


def _full_rank(X: pd.DataFrame) -> bool:
    return np.linalg.matrix_rank(X.to_numpy()) == X.shape[1]


def _fit(y: pd.Series, X: pd.DataFrame, alpha: float):
    """The model fitted by feasible GLS with AR(1) errors, HAC (or classical, where wider) errors.

    Returns (results, effect contrast, t_test of the effect, maxlags, errors) with errors "HAC" or
    "classical": the results object is the one whose covariance gave the interval.
    """
    import statsmodels.api as sm

    maxlags = hac_maxlags(len(y))
    contrast = np.zeros(X.shape[1])
    contrast[X.columns.get_loc("step")] = 1.0
    if "slope_change" in X:
        post = X["step"].to_numpy() > 0
        contrast[X.columns.get_loc("slope_change")] = X.loc[post, "slope_change"].mean()
    model = sm.GLSAR(y, X, rho=1)
    hac = model.iterative_fit(maxiter=AR_ITERATIONS, cov_type="HAC",
                              cov_kwds={"maxlags": maxlags, "use_correction": True}, use_t=True)
    classical = model.fit(use_t=True)  # the same whitening (the model keeps the estimated rho)
    hac_test, classical_test = hac.t_test(contrast), classical.t_test(contrast)
    if float(np.asarray(classical_test.sd).ravel()[0]) > float(np.asarray(hac_test.sd).ravel()[0]):
        return classical, contrast, classical_test, maxlags, "classical"
    return hac, contrast, hac_test, maxlags, "HAC"


def _test_numbers(test, alpha: float) -> tuple[float, float, float, float]:
    """effect, ci_low, ci_high, p-value of a one-row statsmodels t_test."""
    low, high = np.asarray(test.conf_int(alpha=alpha)).ravel()
    return float(np.asarray(test.effect).ravel()[0]), float(low), float(high), float(np.asarray(test.pvalue).ravel()[0])


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
    fit: object = field(repr=False, default=None)

    @property
    def significant(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


@dataclass
class EvaluationResult(AnalysisResult):
    """The effect of one intervention on one KPI series, with its interval, the naive view and a placebo."""

    intervention: str = ""
    start: pd.Timestamp | None = None
    method: str = "its"  # "its" (interrupted time series) or "did" (difference in differences)
    fit: object = field(default=None, repr=False)  # statsmodels GLSAR results whose covariance gave the interval
    contrast: np.ndarray | None = field(default=None, repr=False)
    alpha: float = 0.05
    effect: float = 0.0
    se: float = 0.0  # the effect's standard error (of the errors named in ``errors``)
    ci_low: float = 0.0
    ci_high: float = 0.0
    p_value: float = 1.0
    naive_effect: float = 0.0
    naive_trend: float = 0.0  # the part of the naive difference the trend explains
    naive_season: float = 0.0  # the part the season explains
    control_change: float | None = None  # DiD: the control series' own before/after change
    placebo: Placebo | None = None
    frequency: str = "W"
    n_pre: int = 0
    n_post: int = 0
    season: str | None = None  # the season terms used, or None
    maxlags: int = 1
    errors: str = "HAC"  # the standard errors of the interval: "HAC", or "classical" where those are wider
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
    warnings: list[tuple[str, str]] = field(default_factory=list)
    demonstration: bool = False  # shown on the bundled sample, not the clinic's own data
    digits: int = 2  # decimals of a plain-number KPI, from the width of the effect's interval

    # statsmodels-style access ----------------------------------------------------------------------
    @property
    def params(self) -> pd.Series:
        """The model's coefficients, then ``effect`` (the average post-period gap)."""
        return pd.concat([self.fit.params, pd.Series({"effect": self.effect})])

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Intervals of the coefficients and of the effect (columns lower, upper)."""
        alpha = self.alpha if alpha is None else alpha
        table = self.fit.conf_int(alpha=alpha)
        table.columns = ["lower", "upper"]
        low, high = np.asarray(self.fit.t_test(self.contrast).conf_int(alpha=alpha)).ravel()
        table.loc["effect"] = [low, high]
        return table

    def summary(self):
        """The statsmodels summary of the fitted model (as_text, as_html, shown in notebooks)."""
        return self.fit.summary(alpha=self.alpha)

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
        """False when the pre-period is too short for a confident number."""
        return self.n_pre >= MIN_PRE

    # words --------------------------------------------------------------------------------------------
    def _label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def method_name(self, lang: str = "zh") -> str:
        if self.method == "did":
            other = self.control_label[0 if lang == "zh" else 1] if self.control_label else ""
            return i18n.pick(lang, f"双重差分（对照：{other}）", f"difference in differences (control: {other})")
        return i18n.pick(lang, "间断时间序列（分段回归）", "interrupted time series (segmented regression)")

    def to_dict(self) -> dict:
        """The JSON object of ``playbook evaluate --json`` and of kpis.json's ``evaluations``."""
        out = {
            "method": self.method, "effect": _round(self.effect), "ci_low": _round(self.ci_low),
            "ci_high": _round(self.ci_high), "p_value": _sig(self.p_value), "alpha": self.alpha,
            "significant": bool(self.significant), "reliable": bool(self.reliable),
            "naive_effect": _round(self.naive_effect), "naive_trend_part": _round(self.naive_trend),
            "naive_season_part": _round(self.naive_season), "control_change": _round(self.control_change),
            "start": self.start.date().isoformat() if self.start is not None else None,
            "kpi": self.kpi, "segment": self.segment,
            "control": self.control_label[1] if self.control_label else None, "frequency": self.frequency, "n_pre": self.n_pre, "n_post": self.n_post,
            "season": self.season, "hac_maxlags": self.maxlags, "errors": self.errors,
            "placebo_date": self.placebo.date.date().isoformat() if self.placebo else None,
            "placebo_effect": _round(self.placebo.effect) if self.placebo else None,
            "placebo_ci_low": _round(self.placebo.ci_low) if self.placebo else None,
            "placebo_ci_high": _round(self.placebo.ci_high) if self.placebo else None,
            "placebo_p_value": _sig(self.placebo.p_value) if self.placebo else None,
            "warnings": [en for _, en in self.warnings],
        }
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
        """The estimates table and the finding, for a terminal."""
        _, _, n_zh, n_en = PERIOD_WORDS[self.frequency]
        errors = (i18n.pick(lang, f"HAC（滞后{self.maxlags}期）", f"HAC (maxlags {self.maxlags})") if self.errors == "HAC"
                  else i18n.pick(lang, "普通标准误（比HAC宽）", "classical (wider than HAC)"))
        head = i18n.pick(lang, f"{self.method_name(lang)}：干预前{self.n_pre}{n_zh}，干预后{self.n_post}{n_zh}，"
                               f"AR(1)误差，标准误{errors}，季节项：{SEASON_WORDS[self.frequency][0] if self.season else '无'}",
                         f"{self.method_name(lang)}: {self.n_pre} {n_en} before, {self.n_post} after, AR(1) errors, "
                         f"standard errors {errors}, season: {self.season or 'none'}")
        with pd.option_context("display.width", 160, "display.max_columns", 10, "display.unicode.east_asian_width",
                               True):
            table = self.table_for(lang).to_string(index=False)
        return "\n".join([head, "", table, "", self.finding(lang)])

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """The estimates side by side as the owner reads them."""
        unit = self.unit
        level = int(round((1 - self.alpha) * 100))
        rows = [(self.method_name(lang), self.effect, self.ci_low, self.ci_high, self.p_value),
                (i18n.pick(lang, "简单前后对比（均值之差）", "Plain before/after (difference of means)"),
                 self.naive_effect, None, None, None)]
        if self.placebo is not None:
            rows.append((i18n.pick(lang, f"安慰剂检验（假日期{i18n.day(self.placebo.date.date(), lang)}）",
                                   f"Placebo (fake date {self.placebo.date.date().isoformat()})"),
                         self.placebo.effect, self.placebo.ci_low, self.placebo.ci_high, self.placebo.p_value))
        table = pd.DataFrame({
            i18n.pick(lang, "估计", "Estimate"): [row[0] for row in rows],
            i18n.pick(lang, f"效果（{PERIOD_WORDS[self.frequency][0]}）", f"Effect ({PERIOD_WORDS[self.frequency][1]})"):
                [_fmt(row[1], unit, lang, change=True, digits=self.digits) for row in rows],
            i18n.pick(lang, f"{level}%置信区间", f"{level}% interval"):
                [_ci_text(row[2], row[3], unit, lang, self.digits) if row[2] is not None else "—" for row in rows],
            i18n.pick(lang, "p值", "p-value"): [_p_text(row[4]) for row in rows],
        })
        if self.roi is not None:
            table.loc[len(table)] = [i18n.pick(lang, "投资回报率 ROI", "Return on investment (ROI)"),
                                     _ratio_text(self.roi), i18n.pick(
                                         lang, f"{_ratio_text(self.roi_ci_low)}至{_ratio_text(self.roi_ci_high)}",
                                         f"{_ratio_text(self.roi_ci_low)} to {_ratio_text(self.roi_ci_high)}"), "—"]
        return table

    # plot ---------------------------------------------------------------------------------------------
    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """The series, the model, the counterfactual (the pre-period carried on) and the gap, shaded.

        The chart shows the post-period and the periods just before it (twice the post-period, at least a
        seasonal cycle); the model is fitted on the whole series, which the axis label says. In
        difference in differences the series drawn is the one the model fits: treated minus control.
        """
        import matplotlib.pyplot as plt

        from .plotting import ACTION_RED, GREY, PALETTE, month_axis, set_title

        ax = ax if ax is not None else plt.gca()
        did = self.method == "did" and "control" in self.data
        label = self._label(lang)
        if did:
            other = self.control_label[0 if lang == "zh" else 1]
            label = i18n.pick(lang, f"{label} − {other}", f"{label} − {other}")
        scale, ylabel = 1.0, label
        if self.unit == "yuan":
            scale, ylabel = (1e4, f"{label}（万元）") if lang == "zh" else (1e3, f"{label} (¥ thousand)")
        elif self.unit == "rate":
            scale, ylabel = 0.01, f"{label} (%)"
        shown_pre = max(2 * self.n_post, SHOW_PRE[self.frequency])
        d = self.data.iloc[max(0, self.n_pre - shown_pre):].copy()
        if did:  # the model's own series: the gap between treated and control
            d[["y", "fitted", "counterfactual"]] = d[["y", "fitted", "counterfactual"]].sub(d["control"], axis=0)
        post = d["post"].to_numpy()
        x = d["date"]
        ax.plot(x, d["y"] / scale, color=PALETTE[0], lw=0.8, marker="o", ms=2.4, alpha=0.8,
                label=i18n.pick(lang, "实际", "actual"), **kwargs)
        ax.plot(x[~post], d.loc[~post, "fitted"] / scale, color=PALETTE[1], lw=1.6,
                label=i18n.pick(lang, "模型（干预前的趋势与季节）", "model (pre-period trend and season)"))
        gap_color = ACTION_RED if self.harmful else PALETTE[1]
        ax.plot(x[post], d.loc[post, "fitted"] / scale, color=gap_color, lw=1.8,
                label=i18n.pick(lang, "模型（干预后）", "model (after)"))
        ax.plot(x[post], d.loc[post, "counterfactual"] / scale, color=PALETTE[0], lw=1.4, ls="--",
                label=i18n.pick(lang, "若没有干预（反事实）", "without the intervention (counterfactual)"))
        ax.fill_between(x[post], d.loc[post, "counterfactual"] / scale, d.loc[post, "fitted"] / scale,
                        color=gap_color, alpha=0.22, lw=0)
        if did:
            ax.axhline(0, color="#999999", lw=0.8)
        ax.axvline(self.start, color=GREY, lw=1, ls="-")
        ax.annotate(i18n.pick(lang, "干预开始", "intervention"), (self.start, 1), xycoords=("data", "axes fraction"),
                    xytext=(3, -10), textcoords="offset points", fontsize="small", color=GREY)
        if self.placebo is not None and self.placebo.date >= x.iloc[0]:
            ax.axvline(self.placebo.date, color=PALETTE[4], lw=1, ls=":")
            ax.annotate(i18n.pick(lang, "安慰剂日期", "placebo date"), (self.placebo.date, 1),
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
        month_axis(ax, lang, first=x.iloc[0], last=x.iloc[-1])
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the effect per period with its interval, or that the data show none."""
        per_zh, per_en, _, _ = PERIOD_WORDS[self.frequency]
        label = self._label(lang)
        if lang == "en" and self.kpi in METRICS:  # "New patients (Douyin)" → "new patients (Douyin)" mid-sentence
            label = label[0].lower() + label[1:]
        count_word = COUNT_WORDS.get(self.kpi, ("", ""))[0] if lang == "zh" else ""
        level = int(round((1 - self.alpha) * 100))
        interval = _ci_text(self.ci_low, self.ci_high, self.unit, lang, self.digits) + count_word
        versus = ""
        if self.method == "did" and self.control_label:
            versus = i18n.pick(lang, f"（对照{self.control_label[0]}）", f" (against {self.control_label[1]})")
        if not self.significant:
            signed = _fmt(self.effect, self.unit, lang, change=True, digits=self.digits) + count_word
            return i18n.pick(lang, f"干预后{per_zh}{label}变化{signed}{versus}，{level}%区间{interval}含0：看不出效果",
                             f"{label} {per_en}: {signed} since the intervention{versus}; the {level}% interval "
                             f"{interval} includes 0")
        effect = _fmt(abs(self.effect), self.unit, lang, change=True, digits=self.digits) + count_word
        up = self.effect > 0
        verb = (("提高了" if up else "降低了") if self.unit == "rate" else ("多了" if up else "少了"))
        red = i18n.pick(lang, "（红色）", " (red)") if self.harmful else ""
        return i18n.pick(lang, f"干预后{per_zh}{label}{verb}{effect}{versus}{red}，{level}%区间{interval}",
                         f"{label} {per_en} {'rose' if up else 'fell'} by {effect} since the intervention{versus}{red}; "
                         f"{level}% interval {interval}")


# ---------------------------------------------------------------------------------------------------
# Sentences


def _sentences(r: EvaluationResult) -> tuple[str, str]:
    return _sentence(r, "zh"), _sentence(r, "en")


def _sentence(r: EvaluationResult, lang: str) -> str:
    per_zh, per_en, _, _ = PERIOD_WORDS[r.frequency]
    unit, label = r.unit, r._label(lang)
    if lang == "en" and r.kpi in METRICS:
        label = label[0].lower() + label[1:]
    count_word = COUNT_WORDS.get(r.kpi, ("", ""))[0] if lang == "zh" else ""
    effect = _fmt(abs(r.effect), unit, lang, change=True, digits=r.digits) + count_word
    interval = _ci_text(r.ci_low, r.ci_high, unit, lang, r.digits) + count_word
    level = int(round((1 - r.alpha) * 100))
    who = r.intervention or i18n.pick(lang, "干预", "the intervention")
    parts: list[str] = []
    for zh, en in r.warnings:
        parts.append(zh if lang == "zh" else en)
    up = r.effect > 0
    if lang == "zh":
        verb = ("提高了" if up else "降低了") if unit == "rate" else ("多了" if up else "少了")
        how = "与对照组同期的变化相比" if r.method == "did" else \
            "扣除干预前的趋势和季节后" if r.season else "扣除干预前的趋势后"
        if r.significant:
            parts.append(f"{how}，{who}之后{per_zh}{label}平均{verb}{effect}（{level}%置信区间{interval}）。")
        else:
            signed = _fmt(r.effect, unit, lang, change=True, digits=r.digits) + count_word
            parts.append(f"{how}，{who}之后{per_zh}{label}平均变化{signed}，但{level}%置信区间{interval}包含0：数据不足以"
                         f"说明它有效果。")
    else:
        verb = "rose" if up else "fell"
        how = "against the control's change over the same time" if r.method == "did" else \
            "net of the pre-period trend and season" if r.season else "net of the pre-period trend"
        if r.significant:
            parts.append(f"After {who}, {label} {per_en} {verb} by {effect} on average, {how} ({level}% interval "
                         f"{interval}).")
        else:
            signed = _fmt(r.effect, unit, lang, change=True, digits=r.digits)
            parts.append(f"After {who}, {label} {per_en} changed by {signed} on average, {how}, but the {level}% "
                         f"interval {interval} includes 0: the data do not show an effect.")
    parts.append(_naive_sentence(r, lang, count_word))
    parts.append(_placebo_sentence(r, lang, count_word))
    if r.roi is not None:
        parts.append(_roi_sentence(r, lang))
    if not r.reliable:
        parts.append(i18n.pick(lang, "以上数字只作参考，不能据此下结论。",
                               "Take these numbers as a pointer only, not as a conclusion."))
    sep = "" if lang == "zh" else " "
    return sep.join(p for p in parts if p)


def _naive_sentence(r: EvaluationResult, lang: str, count_word: str) -> str:
    unit = r.unit
    naive = _fmt(r.naive_effect, unit, lang, change=True, digits=r.digits) + count_word
    gap = r.naive_effect - r.effect
    if abs(gap) <= 0.5 * r.se or abs(gap) < 1e-12:
        if r.method == "did":
            return i18n.pick(lang, f"简单前后对比的均值之差为{naive}，与双重差分的估计相近：对照序列同期变化不大，两条序列之差也没有明显的趋势。",
                             f"A plain before/after difference of means gives {naive}, close to the difference in "
                             f"differences: the control hardly moved and the gap between the series had no marked trend.")
        return i18n.pick(lang, f"简单前后对比的均值之差为{naive}，与模型估计相近：这条序列在干预前没有明显的趋势和季节变化。",
                         f"A plain before/after difference of means gives {naive}, close to the model's estimate: the "
                         f"series had no marked trend or season before the intervention.")
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
        reasons_zh.append(f"对照序列同期自己也{zh}（共同的季节、市场或冲击）")
        reasons_en.append(f"the control series itself went {en} over the same time (shared season, market or shocks)")
    if abs(r.naive_trend) >= floor and abs(r.naive_trend) > 1e-12:
        zh, en = moved(r.naive_trend)
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
    if r.placebo is None:
        return i18n.pick(lang, f"干预前不足{MIN_PLACEBO_PRE}{n_zh}，无法做安慰剂检验。",
                         f"The pre-period has fewer than {MIN_PLACEBO_PRE} {n_en}: no placebo check is possible.")
    p = r.placebo
    effect = _fmt(p.effect, r.unit, lang, change=True, digits=r.digits) + count_word
    interval = _ci_text(p.ci_low, p.ci_high, r.unit, lang, r.digits) + count_word
    day = i18n.day(p.date.date(), lang)
    if not p.significant:
        return i18n.pick(
            lang, f"安慰剂检验：假设干预发生在{day}（实际没有），只用干预前的数据估出{effect}（区间{interval}，包含0），"
                  f"说明这个方法不会凭空造出效果。",
            f"Placebo check: pretending the intervention happened on {day} (it did not), the pre-period alone gives "
            f"{effect} (interval {interval}, which includes 0): the method does not invent effects.")
    return i18n.pick(
        lang, f"注意：安慰剂检验在没有任何干预的{day}也估出了{effect}（区间{interval}，不含0），说明这条序列有模型没有描述的"
              f"波动，上面的效果要打折看待，最好找一个对照序列做双重差分。",
        f"Caution: the placebo check finds {effect} (interval {interval}, excluding 0) at {day}, when nothing "
        f"happened: the series moves in ways the model does not describe, so discount the effect above and prefer "
        f"a control series (difference in differences).")


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


def _dates(raw: pd.Series, column: str, path) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed, invalid = pd.to_datetime(raw), pd.Series(False, index=raw.index)
    else:
        parsed, invalid = parse_dates(raw)
    if invalid.any():
        examples = ", ".join(repr(str(v)) for v in raw[invalid].head(3))
        raise EvaluationInputError(f"{int(invalid.sum())} value(s) cannot be read as dates, e.g. {examples}",
                                   path=path, column=column, rows=_rows(invalid),
                                   fix="write dates like 2025-07-01, 2025/7/1 or 2025年7月1日")
    return parsed.dt.normalize()


def _values(raw: pd.Series, column: str, path) -> pd.Series:
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    parsed, invalid = parse_amounts(raw)
    if invalid.any():
        examples = ", ".join(repr(str(v)) for v in raw[invalid].head(3))
        raise EvaluationInputError(f"{int(invalid.sum())} value(s) are not numbers, e.g. {examples}", path=path,
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


# ---------------------------------------------------------------------------------------------------
# The estimate


def evaluate(series: pd.DataFrame, *, date: str, value: str, intervention, control: str | None = None,
             cost: float | None = None, margin: float | None = None, alpha: float = 0.05,
             season: bool | None = None, frequency: str | None = None, name: str = "", kpi: str | None = None,
             label: tuple[str, str] | None = None, unit: str | None = None,
             control_label: tuple[str, str] | None = None, path=None) -> EvaluationResult:
    """The effect of an intervention on a KPI series, with its interval, beside the naive view.

    Parameters
    ----------
    series : DataFrame, one row per period (day, week or month), dated by the period's first day.
        Dates and values may be text as exports write them (2025年7月1日, ¥1,234.50).
    date, value : its date column and the KPI column.
    intervention : the day the intervention started (date, Timestamp or text).
    control : a column with a comparison series (another channel, department or branch that the
        intervention did not touch): the estimate is then difference in differences.
    cost, margin : for ROI. ``margin`` is the gross profit per unit of the KPI: a share of revenue
        (0–1] for a money KPI, yuan per patient for a count. Both or neither.
    alpha : 1 − the confidence level of the intervals.
    season : None uses season terms when the pre-period spans two cycles; False never; True asks for
        them (and warns when the pre-period is too short).
    frequency : "D", "W" or "M"; None infers it from the dates.
    name, kpi, label, unit, control_label : how the sentences name the intervention and the KPI
        (``kpi``: a headline KPI name, which sets ``label`` and ``unit``).
    path : the file the series came from, for error messages.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    EvaluationInputError : a missing column, unreadable dates or values, repeated dates, an
        intervention outside the series, or too few periods before (3) or after (2) it to fit.
    """
    if not 0 < alpha < 1:
        raise EvaluationInputError(f"alpha must be between 0 and 1, not {alpha}")
    if (cost is None) != (margin is None):
        raise EvaluationInputError("ROI needs both the cost and the margin", fix="give both --cost and --margin, or neither")
    if cost is not None and (not math.isfinite(cost) or cost <= 0):
        raise EvaluationInputError(f"cost must be a positive amount, not {cost}", fix="give the yuan spent, e.g. --cost 20000")
    if margin is not None and (not math.isfinite(margin) or margin <= 0):
        raise EvaluationInputError(f"margin must be positive, not {margin}",
                                   fix="give the gross profit per unit of the KPI, e.g. 0.6 of revenue")
    if frequency is not None and frequency not in FREQUENCIES:
        raise EvaluationInputError(f"frequency must be one of {FREQUENCIES}, not {frequency!r}")

    frame = pd.DataFrame({"date_raw": _column(series, date, "date", path),
                          "y_raw": _column(series, value, "value", path)})
    if control is not None:
        frame["c_raw"] = _column(series, control, "control", path)
    blank = frame.apply(lambda col: col.isna() | col.astype("str").str.strip().eq("")).all(axis=1)
    frame = frame[~blank]
    dates = _dates(frame["date_raw"], date, path)
    missing_date = dates.isna()
    if missing_date.any():
        raise EvaluationInputError(f"{int(missing_date.sum())} row(s) have a value but no date", path=path,
                                   column=date, rows=[int(i) + 2 for i in frame.index[missing_date]],
                                   fix="give every row its period's date, or delete the row")
    data = pd.DataFrame({"date": dates, "y": _values(frame["y_raw"], value, path)})
    if control is not None:
        data["control"] = _values(frame["c_raw"], control, path)
    data = data.dropna().sort_values("date", kind="stable").reset_index(drop=True)
    if data.empty:
        raise EvaluationInputError("the series has no row with both a date and a value", path=path, column=value)
    repeated = data["date"].duplicated(keep=False)
    if repeated.any():
        shown = ", ".join(sorted({d.date().isoformat() for d in data.loc[repeated, "date"]})[:3])
        raise EvaluationInputError(f"dates repeat (e.g. {shown}): a series has one row per period", path=path,
                                   column=date, fix="add up the rows of each day, week or month first")
    frequency = frequency or infer_frequency(data["date"], path=path, column=date)

    start = pd.Timestamp(intervention).normalize() if not isinstance(intervention, str) else None
    if start is None:
        parsed, bad = parse_dates(pd.Series([intervention], dtype=object))
        if bad.any() or parsed.isna().all():
            raise EvaluationInputError(f"the intervention date {intervention!r} cannot be read",
                                       fix="write it like 2025-07-01")
        start = parsed.iloc[0].normalize()
    post = _post_mask(data["date"], start, frequency)
    first, last = data["date"].iloc[0].date(), data["date"].iloc[-1].date()
    if post.all() or not post.any():
        raise EvaluationInputError(
            f"the intervention {start.date().isoformat()} is outside the series ({first} to {last})", path=path,
            fix="give a date after the series' first period and within its last",
            zh=f"干预日期{start.date().isoformat()}不在数据范围（{first}至{last}）之内")
    n_pre, n_post = int((~post).sum()), int(post.sum())
    if n_pre < MIN_FIT_PRE or n_post < MIN_FIT_POST:
        raise EvaluationInputError(
            f"too few points to fit: {n_pre} period(s) before the intervention and {n_post} after "
            f"(at least {MIN_FIT_PRE} before and {MIN_FIT_POST} after are needed, {MIN_PRE} before for a "
            f"reliable estimate)", path=path, fix="give a longer series, or a finer frequency (weekly, daily)",
            zh=f"数据太短，无法估计：干预前只有{n_pre}期、干预后{n_post}期（至少需要干预前{MIN_FIT_PRE}期、干预后"
               f"{MIN_FIT_POST}期，干预前{MIN_PRE}期以上才可信）")

    label_zh, label_en = label or ((METRICS[kpi].zh, METRICS[kpi].en) if kpi in METRICS else (value, value))
    unit = unit or (METRICS[kpi].unit if kpi in METRICS else None)
    if unit is None and frame["y_raw"].astype("str").str.contains("[¥￥元]", regex=True).any():
        unit = "yuan"  # amounts written as money: word them as money
    warnings: list[tuple[str, str]] = []
    _, _, n_zh, n_en = PERIOD_WORDS[frequency]
    if n_pre < MIN_PRE:
        warnings.append((f"注意：干预前只有{n_pre}{n_zh}数据（少于{MIN_PRE}{n_zh}），趋势估计不可靠。",
                         f"Caution: only {n_pre} {n_en} before the intervention (fewer than {MIN_PRE}): the trend "
                         f"cannot be estimated reliably."))

    t = _period_index(data["date"], frequency)
    pre_span = t[post].min() - t[0]
    cycles = pre_span / CYCLE[frequency]
    want_season = season is not False
    use_season = want_season and cycles >= SEASON_CYCLES - 1e-9
    if want_season and not use_season:
        need_zh = {"D": "两周", "W": "两年", "M": "两年"}[frequency]
        need_en = {"D": "two weeks", "W": "two years", "M": "two years"}[frequency]
        warnings.append((f"干预前不足两个完整的季节周期（{need_zh}），模型没有纳入季节项，季节变化可能混入估计。",
                         f"The pre-period spans fewer than two seasonal cycles ({need_en}), so the model leaves "
                         f"season out and seasonal swings may blur the estimate."))
    slope = n_post >= MIN_SLOPE_POST

    target = data["y"] - data["control"] if control is not None else data["y"]
    X = _design(data["date"], post, frequency, season=use_season, slope=slope)
    if use_season and not _full_rank(X):
        X = _design(data["date"], post, frequency, season=False, slope=slope)
        use_season = False
        warnings.append(("季节项与其他项无法区分，已去掉。", "Season terms could not be told apart from the rest and were left out."))
    if not _full_rank(X) or len(X) - X.shape[1] < 3:  # GLSAR's whitening costs one period
        raise EvaluationInputError(f"too few points for the model ({len(X)} periods for {X.shape[1]} terms)",
                                   path=path, fix="give a longer series",
                                   zh=f"数据太短，无法估计：{len(X)}期数据不够估计{X.shape[1]}个参数")
    fit, contrast, test, maxlags, errors = _fit(target, X, alpha)
    effect, ci_low, ci_high, p_value = _test_numbers(test, alpha)

    X_cf = X.copy()
    X_cf[[c for c in ("step", "slope_change") if c in X_cf]] = 0.0
    fitted, counterfactual = fit.predict(X), fit.predict(X_cf)
    season_cols = [c for c in X.columns if c not in ("const", "trend", "step", "slope_change")]
    season_part = X[season_cols].to_numpy() @ fit.params[season_cols].to_numpy() if season_cols else np.zeros(len(X))
    naive = float(data.loc[post, "y"].mean() - data.loc[~post, "y"].mean())
    naive_trend = float(fit.params["trend"] * (t[post].mean() - t[~post].mean()))
    naive_season = float(season_part[post].mean() - season_part[~post].mean())
    control_change = None
    if control is not None:
        control_change = float(data.loc[post, "control"].mean() - data.loc[~post, "control"].mean())
        fitted, counterfactual = fitted + data["control"], counterfactual + data["control"]

    placebo = _placebo(target[~post], data.loc[~post, "date"], frequency, use_season, alpha, n_post)

    roi = roi_low = roi_high = profit = None
    if cost is not None:
        profit = effect * n_post * margin
        roi, roi_low, roi_high = ((v * n_post * margin - cost) / cost for v in (effect, ci_low, ci_high))

    out = pd.DataFrame({"date": data["date"], "y": data["y"], "fitted": fitted, "counterfactual": counterfactual,
                        "post": post})
    if control is not None:
        out["control"] = data["control"]
    result = EvaluationResult(
        "evaluation", pd.DataFrame(), "", "", intervention=name, start=start, method="did" if control else "its",
        fit=fit, contrast=contrast, alpha=alpha, effect=effect, se=float(np.asarray(test.sd).ravel()[0]),
        ci_low=ci_low, ci_high=ci_high, p_value=p_value,
        naive_effect=naive, naive_trend=naive_trend, naive_season=naive_season, control_change=control_change,
        placebo=placebo, frequency=frequency, n_pre=n_pre, n_post=n_post,
        season=SEASON_WORDS[frequency][1] if use_season else None, maxlags=maxlags, errors=errors, cost=cost, margin=margin,
        roi=roi, roi_ci_low=roi_low, roi_ci_high=roi_high, incremental_profit=profit, kpi=kpi, label_zh=label_zh,
        label_en=label_en, unit=unit, control_label=control_label or ((control, control) if control else None),
        data=out, warnings=warnings, digits=_digits(ci_high - ci_low))
    result.table = _table(result)
    result.zh, result.en = _sentences(result)
    return result


def _placebo(target: pd.Series, dates: pd.Series, frequency: str, season: bool, alpha: float,
             n_post: int) -> Placebo | None:
    """The model on the pre-period alone, with a fake intervention inside it.

    The fake date lies as many periods before the real one as the post-period is long (so the placebo
    extrapolates the trend as far as the real estimate does), but never before the pre-period's middle.
    """
    if len(target) < MIN_PLACEBO_PRE:
        return None
    target, dates = target.reset_index(drop=True), dates.reset_index(drop=True)
    fake = dates.iloc[max(len(dates) - n_post, len(dates) // 2)]
    post = (dates >= fake).to_numpy()
    slope = post.sum() >= MIN_SLOPE_POST
    X = _design(dates, post, frequency, season=season, slope=slope)
    if season and not _full_rank(X):
        X = _design(dates, post, frequency, season=False, slope=slope)
    if not _full_rank(X):
        return None
    fit, _, test, _, _ = _fit(target, X, alpha)
    effect, low, high, p = _test_numbers(test, alpha)
    return Placebo(fake, effect, low, high, p, fit)


def _table(r: EvaluationResult) -> pd.DataFrame:
    """The estimates as numbers: one row each for the model, the naive difference and the placebo."""
    rows = [{"estimate": "model", "method": r.method, "effect": r.effect, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "p_value": r.p_value},
            {"estimate": "naive", "method": "before_after", "effect": r.naive_effect, "ci_low": None,
             "ci_high": None, "p_value": None}]
    if r.placebo is not None:
        rows.append({"estimate": "placebo", "method": r.method, "effect": r.placebo.effect,
                     "ci_low": r.placebo.ci_low, "ci_high": r.placebo.ci_high, "p_value": r.placebo.p_value})
    return pd.DataFrame(rows).set_index("estimate").astype({"effect": "float64", "ci_low": "float64",
                                                            "ci_high": "float64", "p_value": "float64"})


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


def evaluate_intervention(clinic: Clinic, intervention: Intervention, *, alpha: float = 0.05,
                          name: str | None = None) -> EvaluationResult | Unavailable:
    """Evaluate one intervention of clinic.yaml on the clinic's own KPI series.

    ``control`` names a channel or department (or ``others``: all but the KPI's segment). ROI is
    computed for a money KPI (revenue), whose ``margin`` is a gross margin; for other KPIs the
    sentence says ROI needs the revenue KPI.
    """
    name = name or intervention.name
    try:
        kpi, segment = parse_kpi(intervention.kpi)
        y = kpi_series(clinic, kpi, intervention.frequency, segment=segment)
        frame = y.rename("y").to_frame()
        control_label = None
        if intervention.control:
            if intervention.control.strip().lower() in OTHERS:
                if not segment:
                    raise EvaluationInputError("control 'others' needs a KPI for one channel or department, "
                                               "e.g. kpi: new_patients:抖音",
                                               zh="对照写 others 时，指标须限定一个渠道或科室，例如 kpi: new_patients:抖音")
                kind = _segment_kind(clinic, segment)
                control_label = ("其他渠道", "other channels") if kind == "channel" else ("其他科室", "other departments")
                frame["control"] = kpi_series(clinic, kpi, intervention.frequency, exclude=segment)
            else:
                control_label = (intervention.control, i18n.term(intervention.control, "en"))
                frame["control"] = kpi_series(clinic, kpi, intervention.frequency, segment=intervention.control)
        label_zh, label_en, unit = _labels(kpi, segment)
        roi = unit == "yuan" and intervention.cost is not None and intervention.margin is not None
        result = evaluate(frame.reset_index(), date="period", value="y",
                          control="control" if intervention.control else None, intervention=intervention.start,
                          cost=intervention.cost if roi else None, margin=intervention.margin if roi else None,
                          alpha=alpha, frequency=intervention.frequency, name=name, kpi=kpi,
                          label=(label_zh, label_en), unit=unit, control_label=control_label)
        result.segment = segment
    except PlaybookError as error:
        return Unavailable.because(
            "evaluation", [name], zh_reason=f"无法评估「{name}」：{error.zh or error.message}。请检查 clinic.yaml 中的 interventions 设置。",
            en_reason=f"{name} cannot be evaluated: {error.message}. Check interventions in clinic.yaml.")
    if intervention.cost is not None and intervention.margin is not None and unit != "yuan":
        result.zh += f"投资回报率需要以营收为指标才能计算：{label_zh}不是金额。"
        result.en += f" ROI needs the revenue KPI: {label_en} is not an amount of money."
    return result


def heading(result: EvaluationResult | Unavailable, lang: str = "zh") -> str:
    """The Markdown heading a chapter puts above one evaluation."""
    if not result.available:
        return f"### {result.needs[0] if result.needs else i18n.pick(lang, '干预', 'Intervention')}"
    what = f"{result.intervention}：{result.label_zh}" if lang == "zh" else f"{result.intervention}: {result.label_en}"
    method = i18n.pick(lang, "双重差分", "difference in differences") if result.method == "did" else \
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


def demonstrations() -> list[EvaluationResult | Unavailable]:
    """The method shown on the bundled general sample's 9.9-yuan Douyin card campaign (from 2025-07-01).

    Three weekly evaluations: Douyin new patients by interrupted time series; the same against
    大众点评's new patients (difference in differences); and revenue from Douyin patients against
    大众点评's, with the campaign's spend (from the campaigns table) as cost and an assumed 50% gross
    margin, for ROI. Each result has ``demonstration=True``.
    """
    from .clinic import load_clinic
    from .config import SAMPLES_DIR, Intervention

    folder = SAMPLES_DIR / "general_clinic"
    if not (folder / "clinic.yaml").exists():
        return [Unavailable.because("evaluation", ["data_samples/general_clinic"])]
    sample = load_clinic(folder)
    campaigns = sample.table("campaigns")
    row = campaigns[campaigns["name"] == DEMO_CAMPAIGN] if campaigns is not None else None
    if row is None or row.empty:
        return [Unavailable.because("evaluation", [DEMO_CAMPAIGN])]
    start, cost = row["start"].iloc[0].date(), float(row["spend"].iloc[0])
    specs = [Intervention(name=DEMO_CAMPAIGN, start=start, kpi="new_patients:抖音"),
             Intervention(name=DEMO_CAMPAIGN, start=start, kpi="new_patients:抖音", control=DEMO_CONTROL),
             Intervention(name=DEMO_CAMPAIGN, start=start, kpi="revenue:抖音", control=DEMO_CONTROL, cost=cost,
                          margin=DEMO_MARGIN)]
    results = [evaluate_intervention(sample, spec) for spec in specs]
    for result in results:
        if result.available:
            result.demonstration = True
    return results


def how_to_add(lang: str = "zh") -> str:
    """The sentence a chapter shows when clinic.yaml lists no intervention: how to add one."""
    example = ("```yaml\ninterventions:\n  - name: 抖音9.9元洁牙卡\n    start: 2025-07-01\n    kpi: \"new_patients:抖音\"\n"
               "    control: 大众点评\n  - name: 前台提前一天电话确认\n    start: 2025-03-01\n    kpi: no_show_rate\n"
               "  - name: 种植周末门诊\n    start: 2025-05-01\n    kpi: \"revenue:种植\"\n    cost: 30000\n"
               "    margin: 0.6\n    frequency: M\n```")
    return i18n.pick(
        lang,
        "clinic.yaml 里还没有登记要评估的干预（活动、流程或价格调整）。登记方法：在 clinic.yaml 末尾加上 interventions，"
        "每项写名称、开始日期、指标（revenue、new_patients、arrived_visits、no_show_rate、first_visit_conversion、"
        "referral_share，可加“:渠道或科室”），可选对照（另一个渠道或科室，或 others 表示其他全部）、成本和毛利率（仅营收指标可算ROI）"
        "、频率（D/W/M，默认W），例如：\n\n" + example,
        "clinic.yaml lists no intervention to evaluate yet (a campaign, a process or a price change). To add one, put "
        "interventions at the end of clinic.yaml: a name, the start date, the KPI (revenue, new_patients, "
        "arrived_visits, no_show_rate, first_visit_conversion, referral_share, optionally followed by a colon and a "
        "channel or department, as in new_patients:抖音), "
        "and optionally a control (another channel or department, or others for all the rest), cost and margin "
        "(ROI, for the revenue KPI) and frequency (D/W/M, default W), e.g.:\n\n" + example)

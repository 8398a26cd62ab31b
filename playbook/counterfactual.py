"""What a KPI would have done without the intervention: the two models behind `playbook.evaluate`.

Numbers only, no words and no charts: `playbook.evaluate` reads the series, builds the design with
the helpers below and words the result. Both models answer through one interface (`ModelFit`):
``params``, ``cov``, ``test(contrast)`` (estimate, standard error, degrees of freedom),
``predict(X)``, ``predict_se(X)`` and ``resid`` (residuals that should be white noise).

**trend** — regression with AR(1) errors, y = Xβ + u, u_t = ρ·u_{t−1} + e_t. X holds a constant, a
linear trend, season terms, any control series and the intervention terms; the model is fitted on the
whole series, so the intervention terms take the change after the intervention and the rest describe
what both stretches share. ρ is estimated by restricted maximum likelihood (REML) and β by GLS at that
ρ; an effect's interval uses a t distribution with Satterthwaite's degrees of freedom, which carry the
uncertainty of ρ and of the noise variance. Why: feasible GLS (Cochrane–Orcutt) and ML estimates of ρ
are biased towards 0 in short series with a trend and season terms, so their intervals are too narrow;
Turner et al. (2021) found REML with the Satterthwaite correction the best-calibrated of the common
interrupted-time-series methods. statsmodels has no REML for AR errors, hence the short profile
likelihood below; the regression at the estimated ρ is statsmodels' OLS on the whitened data (its
``summary()`` is the model's). Missing periods are handled exactly: the AR(1) correlation of two
periods s and t apart is ρ^|t−s|, so a gap is a gap, never filled.

**local** — a local-level state-space model (statsmodels ``UnobservedComponents``): the level is a
random walk, so the counterfactual carries the level on where the series had it, with an
uncertainty that grows with the horizon, instead of a straight line fitted across years. Season,
control and intervention coefficients are time-invariant states, estimated by the Kalman smoother with
their covariance (``mle_regression=False``); the two variances are estimated by maximum likelihood.
This is the intervention analysis of Harvey & Durbin (1986) and Durbin & Koopman (2012, ch. 2 on the
Nile); it serves better than a trend line when the period after the intervention is longer than the
one before it.

Sources: Turner, Forbes, Karahalios, Taljaard & McKenzie (2021), *BMC Med Res Methodol* 21:181;
Satterthwaite (1946), *Biometrics Bulletin* 2; Harvey & Durbin (1986), *J R Stat Soc A* 149;
Durbin & Koopman (2012), *Time Series Analysis by State Space Methods*, 2nd ed.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.statespace.structural import UnobservedComponents

# The cycles a series of each frequency can carry: (name, periods per cycle).
CYCLES = {"D": (("week", 7.0), ("year", 365.25)), "W": (("year", 365.25 / 7),), "M": (("year", 12.0),),
          "Q": (("year", 4.0),), "A": ()}
FOURIER_PAIRS = 2  # sin/cos pairs of a cycle learnt from one to three cycles of data
DUMMY_CYCLES = 3  # a dummy per position in the cycle once the pre-period spans this many cycles
MAX_DUMMIES = 11  # never more dummies than a month-of-year set (a weekly cycle keeps Fourier terms)
RHO_BOUNDS = (-0.95, 0.99)
INTERVENTION_COLUMNS = ("step", "ramp")


# ---------------------------------------------------------------------------------------------------
# Design


@dataclass(frozen=True)
class Season:
    """One seasonal cycle in the model: Fourier pairs or one dummy per position in the cycle."""

    cycle: str  # "week" (weekdays of a daily series) or "year"
    period: float  # periods per cycle
    kind: str  # "fourier" or "dummies"
    pairs: int = 0


def choose_seasons(frequency: str, pre_span: float, season: bool | None) -> tuple[list[Season], list[str]]:
    """The season terms the pre-period supports, and the cycles left out for lack of data.

    One full cycle before the intervention gives Fourier terms; ``DUMMY_CYCLES`` give dummies (for
    cycles of at most ``MAX_DUMMIES + 1`` positions). ``season=False`` uses none; ``season=True`` keeps
    one Fourier pair for a cycle the pre-period does not cover (``evaluate`` warns).
    """
    used, missing = [], []
    if season is False:
        return used, missing
    for cycle, period in CYCLES[frequency]:
        whole = round(period)
        pairs = max(1, min(FOURIER_PAIRS, int((period - 1) // 2)))
        if pre_span >= DUMMY_CYCLES * whole and float(period).is_integer() and period <= MAX_DUMMIES + 1:
            used.append(Season(cycle, period, "dummies"))
        elif pre_span >= whole:
            used.append(Season(cycle, period, "fourier", pairs))
        elif season:
            used.append(Season(cycle, period, "fourier", 1))
            missing.append(cycle)
        else:
            missing.append(cycle)
    return used, missing


def season_columns(dates: pd.Series, t: np.ndarray, frequency: str, seasons: list[Season]) -> pd.DataFrame:
    """The columns of the season terms; t counts periods (days for a daily series)."""
    columns: dict[str, np.ndarray] = {}
    for s in seasons:
        if s.kind == "fourier":
            for k in range(1, s.pairs + 1):
                angle = 2 * np.pi * k * t / s.period
                columns[f"{s.cycle}_sin{k}"], columns[f"{s.cycle}_cos{k}"] = np.sin(angle), np.cos(angle)
            continue
        position = {"week": dates.dt.day_of_week, "year": dates.dt.month if frequency == "M" else dates.dt.quarter}
        codes = position[s.cycle].to_numpy()
        for level in sorted(set(codes))[1:]:  # the first position is the reference
            columns[f"{s.cycle}_{level}"] = (codes == level).astype(float)
    return pd.DataFrame(columns, index=dates.index)


def intervention_columns(t: np.ndarray, post: np.ndarray, effect: str, t0: float) -> pd.DataFrame:
    """``step`` (1 after) and/or ``ramp`` (periods since t0, the intervention's period, after)."""
    columns = {}
    if effect in ("step", "both"):
        columns["step"] = post.astype(float)
    if effect in ("slope", "both"):
        columns["ramp"] = np.where(post, t - t0, 0.0)
    return pd.DataFrame(columns)


def effect_contrasts(X: pd.DataFrame, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contrasts of the gap between the model and its counterfactual: its mean over the post rows, its last value."""
    mean, last = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    for name in INTERVENTION_COLUMNS:
        if name in X:
            i = X.columns.get_loc(name)
            mean[i] = X.loc[post, name].mean()
            last[i] = X.loc[post, name].iloc[-1]
    return mean, last


# ---------------------------------------------------------------------------------------------------
# Fits


@dataclass(frozen=True)
class Test:
    """A linear combination of coefficients: estimate, standard error, degrees of freedom of its t interval."""

    estimate: float
    se: float
    df: float

    def interval(self, alpha: float) -> tuple[float, float]:
        half = float(stats.t.ppf(1 - alpha / 2, self.df)) * self.se if self.se > 0 else 0.0
        return self.estimate - half, self.estimate + half

    def p_value(self) -> float:
        if self.se <= 0:
            return 1.0 if self.estimate == 0 else 0.0
        return float(2 * stats.t.sf(abs(self.estimate / self.se), self.df))


@dataclass
class ModelFit:
    """What both models give: coefficients, their covariance, tests, predictions and white residuals."""

    kind: str  # "trend" or "local"
    columns: list[str]
    params: pd.Series
    cov: pd.DataFrame
    resid: np.ndarray  # should be white noise if the model holds
    nobs: int
    results: object = field(repr=False, default=None)  # the statsmodels results object
    rho: float | None = None  # trend: the AR(1) coefficient of the errors

    def test(self, contrast: np.ndarray) -> Test:
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def predict_se(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError

    def summary(self):
        return self.results.summary()


def _whiten(y: np.ndarray, X: np.ndarray, t: np.ndarray, rho: float):
    """Exact AR(1) whitening on a grid with gaps (Prais–Winsten for the first row); also log|R|."""
    r = rho ** np.diff(t)
    scale = np.sqrt((1 - r ** 2) / (1 - rho ** 2))
    first = math.sqrt(1 - rho ** 2)
    ys = np.concatenate([[first * y[0]], (y[1:] - r * y[:-1]) / scale])
    Xs = np.vstack([first * X[:1], (X[1:] - r[:, None] * X[:-1]) / scale[:, None]])
    return ys, Xs, -math.log(1 - rho ** 2) + 2 * float(np.log(scale).sum())


@dataclass
class _Reml:
    """The REML pieces at one ρ: GLS coefficients, whitened residual sum of squares, log-determinants."""

    beta: np.ndarray
    rss: float
    logdet_r: float
    logdet_xx: float
    r_factor: np.ndarray  # R of the QR of the whitened X: (X'V⁻¹X) = R'R
    ys: np.ndarray
    Xs: np.ndarray

    @classmethod
    def at(cls, y, X, t, rho) -> _Reml:
        ys, Xs, logdet_r = _whiten(y, X, t, rho)
        q, r = np.linalg.qr(Xs)
        beta = np.linalg.solve(r, q.T @ ys)
        resid = ys - Xs @ beta
        return cls(beta, float(resid @ resid), logdet_r, 2 * float(np.log(np.abs(np.diag(r))).sum()), r, ys, Xs)

    def loglik(self, sigma2: float, n: int, k: int) -> float:
        """The restricted log-likelihood (up to a constant)."""
        return -0.5 * ((n - k) * math.log(sigma2) + self.logdet_r + self.logdet_xx + self.rss / sigma2)

    def quad(self, contrast: np.ndarray) -> float:
        """c'(X'V⁻¹X)⁻¹c with V the correlation matrix (σ² = 1)."""
        z = np.linalg.solve(self.r_factor.T, contrast)
        return float(z @ z)


@dataclass
class TrendFit(ModelFit):
    """Regression with AR(1) errors by REML; effects tested with Satterthwaite degrees of freedom."""

    sigma2: float = 0.0
    _y: np.ndarray = field(repr=False, default=None)
    _X: np.ndarray = field(repr=False, default=None)
    _t: np.ndarray = field(repr=False, default=None)
    _theta_cov: np.ndarray | None = field(repr=False, default=None)  # covariance of (σ², ρ) estimates

    def test(self, contrast: np.ndarray) -> Test:
        n, k = self._X.shape
        at = _Reml.at(self._y, self._X, self._t, self.rho)
        w = at.quad(contrast)
        variance = self.sigma2 * w
        df = float(n - k)
        if self._theta_cov is not None and variance > 0:
            step = 1e-4
            up = _Reml.at(self._y, self._X, self._t, self.rho + step).quad(contrast)
            down = _Reml.at(self._y, self._X, self._t, self.rho - step).quad(contrast)
            gradient = np.array([w, self.sigma2 * (up - down) / (2 * step)])
            spread = float(gradient @ self._theta_cov @ gradient)
            if spread > 0:
                df = float(np.clip(2 * variance ** 2 / spread, 1.0, n - k))
        return Test(float(contrast @ self.params.to_numpy()), math.sqrt(max(variance, 0.0)), df)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return X[self.columns].to_numpy(dtype=float) @ self.params.to_numpy()

    def predict_se(self, X: pd.DataFrame) -> np.ndarray:
        A = X[self.columns].to_numpy(dtype=float)
        return np.sqrt(np.einsum("ij,jk,ik->i", A, self.cov.to_numpy(), A))


def fit_trend(y: np.ndarray, X: pd.DataFrame, t: np.ndarray) -> TrendFit:
    """Regression of y on X with AR(1) errors on the (possibly gapped) integer periods t, by REML."""
    y, A, t = np.asarray(y, dtype=float), X.to_numpy(dtype=float), np.asarray(t, dtype=float)
    n, k = A.shape

    def minus_profile(rho: float) -> float:
        at = _Reml.at(y, A, t, rho)
        return 0.5 * ((n - k) * math.log(max(at.rss, 1e-300) / (n - k)) + at.logdet_r + at.logdet_xx)

    rho = float(optimize.minimize_scalar(minus_profile, bounds=RHO_BOUNDS, method="bounded",
                                         options={"xatol": 1e-5}).x)
    at = _Reml.at(y, A, t, rho)
    sigma2 = at.rss / (n - k)
    results = OLS(at.ys, pd.DataFrame(at.Xs, columns=X.columns)).fit()  # the GLS regression at ρ̂
    theta_cov = _theta_cov(y, A, t, sigma2, rho) if sigma2 > 0 else None
    cov = pd.DataFrame(sigma2 * np.linalg.inv(at.r_factor.T @ at.r_factor), index=X.columns, columns=X.columns)
    resid = (at.ys - at.Xs @ at.beta) / math.sqrt(sigma2) if sigma2 > 0 else np.zeros(n)
    return TrendFit("trend", list(X.columns), pd.Series(at.beta, index=X.columns), cov, resid, n, results, rho,
                    sigma2, y, A, t, theta_cov)


def _theta_cov(y, A, t, sigma2, rho) -> np.ndarray | None:
    """Inverse of the observed restricted information of (σ², ρ): numerical second derivatives."""
    n, k = A.shape
    h = np.array([sigma2 * 1e-3, 1e-3])
    if rho + 2 * h[1] >= 1 or rho - 2 * h[1] <= -1:
        return None

    def ll(s2, r):
        return _Reml.at(y, A, t, r).loglik(s2, n, k)

    theta = np.array([sigma2, rho])
    H = np.empty((2, 2))
    for i in range(2):
        for j in range(i, 2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            H[i, j] = H[j, i] = (ll(*(theta + ei + ej)) - ll(*(theta + ei - ej)) - ll(*(theta - ei + ej))
                                 + ll(*(theta - ei - ej))) / (4 * h[i] * h[j])
    information = -H
    if not np.all(np.isfinite(information)) or np.linalg.eigvalsh(information).min() <= 0:
        return None  # ρ at the edge of its range: only σ²'s uncertainty is counted (df = n − k)
    return np.linalg.inv(information)


@dataclass
class LocalFit(ModelFit):
    """Local level plus regression: smoothed states give the coefficients and the level path."""

    level: np.ndarray = field(repr=False, default=None)  # smoothed level at each row
    _state_cov: np.ndarray = field(repr=False, default=None)  # (1 + k, 1 + k, n): level and coefficients

    def test(self, contrast: np.ndarray) -> Test:
        variance = float(contrast @ self.cov.to_numpy() @ contrast)
        df = max(1.0, float(self.nobs - len(self.columns) - 2))  # two variances estimated
        return Test(float(contrast @ self.params.to_numpy()), math.sqrt(max(variance, 0.0)), df)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.level + X[self.columns].to_numpy(dtype=float) @ self.params.to_numpy()

    def predict_se(self, X: pd.DataFrame) -> np.ndarray:
        A = np.column_stack([np.ones(len(X)), X[self.columns].to_numpy(dtype=float)])
        return np.sqrt(np.einsum("ij,jki,ik->i", A, self._state_cov, A))


def fit_local(y: np.ndarray, X: pd.DataFrame) -> LocalFit:
    """A local level with X as regressors; y may hold NaN for missing periods (the filter skips them)."""
    y = np.asarray(y, dtype=float)
    exog = X.to_numpy(dtype=float) if X.shape[1] else None
    model = UnobservedComponents(y, level="llevel", exog=exog, mle_regression=False)
    with warnings.catch_warnings():  # a variance estimated at 0 (a level that does not move) is an answer
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = model.fit(disp=False)
    k = X.shape[1]
    states = results.smoothed_state  # level first, the regression coefficients last
    coefficients = states[-k:, -1] if k else np.zeros(0)
    cov = results.smoothed_state_cov[-k:, -k:, -1] if k else np.zeros((0, 0))
    keep = [0, *range(states.shape[0] - k, states.shape[0])]
    state_cov = results.smoothed_state_cov[np.ix_(keep, keep, range(len(y)))]
    burn = results.loglikelihood_burn
    resid = np.asarray(results.standardized_forecasts_error[0][burn:], dtype=float)
    return LocalFit("local", list(X.columns), pd.Series(coefficients, index=X.columns),
                    pd.DataFrame(cov, index=X.columns, columns=X.columns), resid[np.isfinite(resid)],
                    int(np.isfinite(y).sum()), results, None, states[0], state_cov)


def ljung_box(resid: np.ndarray, *, model_df: int) -> tuple[int, float] | None:
    """Ljung–Box test of autocorrelation left in white residuals: (lags, p-value), None when too short."""
    resid = np.asarray(resid, dtype=float)
    lags = min(10, len(resid) // 5)
    if lags <= model_df:
        return None
    table = acorr_ljungbox(resid, lags=[lags], model_df=model_df)
    return lags, float(table["lb_pvalue"].iloc[0])

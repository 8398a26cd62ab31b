"""The revenue driver tree [S2]: which driver moved revenue, and how much of the change each explains.

method.md, "Revenue driver tree [S2]": revenue = arrivals × conversion × average ticket × purchase
frequency. When revenue falls, the first question is which driver moved, and by how much of the fall:
a decomposition whose parts add up exactly to the change.

Definitions (a window is ``start``..``end``, both days included; a timestamp counts on its day):

- revenue ``R`` (实收营业额): the amounts paid in the window, refunds included (the contract's revenue).
- arrivals ``A`` (到诊人数): distinct patients with an arrived visit scheduled in the window.
- treated patients ``P`` (成交患者): distinct patients who paid (amount > 0) for a profit or high-value
  item in the window (tiers of [S0], ``playbook.catalogue``): the contract's "paid for treatment".
- paying days ``D`` (付费人次): days on which a treated patient paid (amount > 0) for anything, counted
  once per patient and day.
- conversion ``C = P / A`` (成交率): the share of arriving patients who paid for treatment.
- purchase frequency ``F = D / P`` (复购频次): paying days per treated patient.
- average ticket ``T = R / D`` (客单价): revenue per paying day. The little revenue of patients who
  bought no treatment (check-ups, cleanings, registration) is counted in it, so that
  ``A × C × T × F = R`` exactly in every window.

Segments. The same identity inside each segment, so that a consultant reads e.g. "high-value
conversion fell":

- tier (``charges.tier``: high_value / profit / traffic / other): ``A`` is the clinic's arrivals;
  ``P`` the patients who paid for an item of the tier (so tier conversion = the share of arriving
  patients who bought from the tier); ``D`` the days they paid for one; ``T`` = the tier's revenue / ``D``.
- department: ``A`` the patients with an arrived visit in the department; ``P`` those who paid for
  treatment charged to it; ``D`` the days they paid for anything in it; ``T`` = its revenue / ``D``.
  A charge's department is ``charges.department`` when the export has it, else the department of its
  visit (``visit_id`` → ``visits.department``), else "unknown".
  Each charge belongs to one segment, so the segments' revenue changes add up to the clinic's change.

Undefined factors. A ratio with a zero denominator has no value, yet the product must stay exact:
a zero arrivals count takes the other window's value (or 1 when both are zero); with no treated
patient, frequency and ticket take the other window's values (or 1) and conversion absorbs what is
left (``C = R / (A·F·T)``, which is 0 when there is no revenue either). A borrowed factor shows no
effect.

Decomposition. LMDI-I, additive form (Ang 2004, "Decomposition analysis for policymaking in energy:
which is the preferred method?", Energy Policy 32:1131–1139)::

    effect_k = L(R1, R0) · ln(x_k1 / x_k0),   L(a, b) = (a − b) / (ln a − ln b),  L(a, a) = a

The effects sum exactly to ``R1 − R0`` because the log-ratios of the factors sum to ln(R1 / R0). The
log-mean is undefined when a factor is zero or changes sign (a conversion of zero, a negative ticket
when refunds exceed payments); then the Shapley decomposition is used instead (Ang, Liu & Chew 2003,
"Perfect decomposition techniques in energy and environmental analysis", Energy Policy 31:1561–1566;
Sun 1998's refined Laspeyres): each factor's effect is its average marginal contribution over every
order of changing the factors, also exact. The ``method`` column says which one a row used.

Comparisons. The previous window of the same length ends the day before the window starts (whole
calendar months when the window is whole months, else the same number of days). The same window a
year earlier is shifted by one year. A comparison needs data that reaches back: the first charge or
arrived visit in the base window's first month or earlier; otherwise it is `Unavailable`.

Flags (threshold ``revenue_change_alert``, a fall of more than 5% calls for diagnosis, playbook default
[S1]): a revenue change below the line raises ``revenue_change_<key>`` (problem class of the driver
that lost most; revenue at stake = what bringing revenue back to the line would be worth, annualised:
``(R0·(1 + line) − R1) · 365 / days``). When it does, every driver whose effect alone is past the same
line (effect / R0 < −5%) raises ``<driver>_effect_<key>`` with its problem class (arrivals →
acquisition, conversion → experience, ticket → price_value, frequency → loyalty) and revenue at stake =
the yuan its effect lost, annualised (``−effect · 365 / days``). The driver flags are parts of the
revenue flag's loss; the bottleneck ranking takes the largest per class, never the sum.

kpis.json names added (under ``kpis``; the analysis period unless said):

- ``arriving_patients``: A; ``treated_patients``: P; ``paying_days``: D (definitions above).
- ``treatment_conversion``: C = P / A; ``purchase_frequency``: F = D / P; ``average_ticket``: T = R / D.
- ``revenue_change_vs_previous``: (R − R_prev) / R_prev against the previous period of the same length.
- ``revenue_change_recent``: the same for the last 6 months of the period (3 when the period is under
  a year) against the months just before them.
- ``revenue_change_vs_year_earlier``: the last 6 (or 3) months — the whole period when it is under six
  months — against the same months a year earlier.

The rates and changes are null when their data is missing. Under the top-level ``drivers`` key:
``period``, ``recent`` and ``year_earlier`` (windows, method, revenue, and per driver previous,
current, effect, share), and ``tiers`` and ``departments`` (per segment: revenue before and after,
and the four effects).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import i18n, sentences
from .catalogue import HIGH_VALUE, OTHER, PROFIT, TRAFFIC, classify_items
from .jsonsafe import number as _none
from .jsonsafe import scalar as _f
from .plotting import ACTION_RED, DIVERGING, PALETTE, set_title, waterfall
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window, rate_or_none
from .tables import TREATMENT_TIERS, charge_departments
from .thresholds import DEFAULTS, Threshold

__all__ = ["DRIVERS", "DriverTree", "SegmentDrivers", "DriversSection", "decompose", "driver_counts",
           "driver_factors", "driver_tree", "definitions", "segment_drivers", "cell_effects", "previous_window", "year_earlier_window",
           "recent_window", "diagnose"]

DRIVERS = ("arrivals", "conversion", "ticket", "frequency")  # the order of method.md [S2]
REVENUE_NAME = ("实收营业额", "Revenue")
# Problem classes of [S1] each driver points to when it drives a fall.
PROBLEM_CLASS = {"arrivals": "acquisition", "conversion": "experience", "ticket": "price_value",
                 "frequency": "loyalty"}
TIER_ORDER = (HIGH_VALUE, PROFIT, TRAFFIC, OTHER)
UNKNOWN = "unknown"
ALL = "all"
ALERT = "revenue_change_alert"  # playbook default [S1]: a fall of more than 5% calls for diagnosis
BY = ("tier", "department")
LMDI, SHAPLEY = "lmdi", "shapley"
COMPARISONS = ("previous", "year_earlier")
RECENT_MONTHS = ((12, 6), (6, 3))  # a period of 12+ months: the last 6; of 6+ months: the last 3 (as kpis)

# What to look at next when a driver lost revenue: one clause per driver.


# ---------------------------------------------------------------------------------------------------
# Windows


def _ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def previous_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The window of the same length that ends the day before ``start`` (calendar months when whole)."""
    months = i18n.whole_months(start, end)
    if months:
        base_start = _ts(start) - pd.DateOffset(months=months)
    else:
        base_start = _ts(start) - pd.Timedelta(days=(_ts(end) - _ts(start)).days + 1)
    return base_start.date(), (_ts(start) - pd.Timedelta(days=1)).date()


def year_earlier_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same window one year earlier (a month end stays a month end; 29 February becomes the 28th)."""
    base_start = _ts(start) - pd.DateOffset(years=1)
    if i18n.whole_months(start, end):
        base_end = _ts(end) + pd.Timedelta(days=1) - pd.DateOffset(years=1) - pd.Timedelta(days=1)
    else:
        base_end = _ts(end) - pd.DateOffset(years=1)
    return base_start.date(), base_end.date()


def recent_window(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date] | None:
    """The last 6 months of a period of a year or more, the last 3 of one of six months or more, else None.

    The same windows as the revenue-trend sentence of the headline chapter (``kpis.trend_finding``).
    """
    first, last = _ts(start).to_period("M"), _ts(end).to_period("M")
    months = (last - first).n + 1
    size = next((size for at_least, size in RECENT_MONTHS if months >= at_least), 0)
    if not size:
        return None
    return max((last - size + 1).start_time, _ts(start)).date(), _ts(end).date()


def _days(start: dt.date, end: dt.date) -> int:
    return (_ts(end) - _ts(start)).days + 1


# ---------------------------------------------------------------------------------------------------
# Counts and factors


@dataclass
class _Data:
    """Charge lines and arrivals as integer arrays (patients, days, segments coded once)."""

    pid: np.ndarray  # lines: patient code
    day: np.ndarray  # day number (days since 1970-01-01)
    amount: np.ndarray
    tier: np.ndarray  # code into tiers
    dept: np.ndarray  # code into depts
    paid: np.ndarray  # amount > 0
    treatment: np.ndarray  # paid for a profit or high-value item
    a_pid: np.ndarray  # arrivals: patient code, day, department code
    a_day: np.ndarray
    a_dept: np.ndarray
    tiers: np.ndarray
    depts: np.ndarray
    n_pid: int

    @property
    def first_day(self) -> int | None:
        days = np.concatenate([self.day, self.a_day])
        return int(days.min()) if len(days) else None


def _dayno(value) -> int:
    return int(np.datetime64(_ts(value).date(), "D").astype(np.int64))


def _day_numbers(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).dt.normalize().to_numpy("datetime64[D]").astype(np.int64)


def _prepare(charges: pd.DataFrame, visits: pd.DataFrame | None) -> _Data:
    """Charge lines and arrivals reduced to what the driver tree needs, departments resolved."""
    charges = charges[charges["paid_at"].notna()]
    amount = pd.to_numeric(charges["amount_paid"], errors="coerce").fillna(0.0).to_numpy(float)
    tier = (charges["tier"] if "tier" in charges else classify_items(charges["item"])).astype(object).fillna(OTHER)
    department = charge_departments(charges, visits)
    if visits is None:
        arrived = pd.DataFrame({"patient_id": pd.Series(dtype=object),
                                "scheduled_at": pd.Series(dtype="datetime64[us]")})
    else:
        arrived = visits[(visits["status"] == "arrived") & visits["scheduled_at"].notna()]
    a_dept = (arrived["department"].astype(object) if "department" in arrived
              else pd.Series(None, index=arrived.index, dtype=object))
    pids, patients = pd.factorize(pd.concat(
        [charges["patient_id"].astype(object), arrived["patient_id"].astype(object)], ignore_index=True))
    depts_all = pd.concat([department, a_dept], ignore_index=True)
    dept_codes, depts = pd.factorize(depts_all.where(depts_all.notna(), UNKNOWN).astype(str))
    tier_codes, tiers = pd.factorize(tier.astype(str))
    n = len(charges)
    paid = amount > 0
    return _Data(pid=pids[:n], day=_day_numbers(charges["paid_at"]), amount=amount, tier=tier_codes,
                 dept=dept_codes[:n], paid=paid, treatment=paid & tier.isin(TREATMENT_TIERS).to_numpy(),
                 a_pid=pids[n:], a_day=_day_numbers(arrived["scheduled_at"]), a_dept=dept_codes[n:],
                 tiers=np.asarray(tiers, dtype=object), depts=np.asarray(depts, dtype=object),
                 n_pid=max(len(patients), 1))


def _per_segment(keys: np.ndarray, divisor: int, n: int) -> np.ndarray:
    """How many distinct keys each segment holds (a key is segment · divisor + rest)."""
    return np.bincount(np.unique(keys) // divisor, minlength=n).astype(float)


def _counts(data: _Data, start: dt.date, end: dt.date, by: str | None) -> pd.DataFrame:
    """Per segment: arrivals, treated (payers), paying_days, revenue of one window."""
    s, e = _dayno(start), _dayno(end)
    m = (data.day >= s) & (data.day <= e)
    am = (data.a_day >= s) & (data.a_day <= e)
    if by is None:
        labels, seg, aseg = np.array([ALL], dtype=object), np.zeros(len(data.day), int), np.zeros(len(data.a_day), int)
    elif by == "tier":
        labels, seg, aseg = data.tiers, data.tier, None
    else:
        labels, seg, aseg = data.depts, data.dept, data.a_dept
    n, npid = len(labels), np.int64(data.n_pid)
    pid, sg, day, paid = data.pid[m].astype(np.int64), seg[m].astype(np.int64), data.day[m] - s, data.paid[m]
    span = np.int64(e - s + 1)
    revenue = np.bincount(sg, weights=data.amount[m], minlength=n)
    has_lines = np.bincount(sg, minlength=n) > 0
    key = sg * npid + pid  # segment and patient
    if by == "tier":
        # tier conversion: arriving patients who bought from the tier; the clinic's arrivals for each tier
        payers = _per_segment(key[paid], npid, n)
        days = _per_segment(key[paid] * span + day[paid], npid * span, n)
        arrivals = np.full(n, float(len(np.unique(data.a_pid[am]))))
        keep = has_lines
    else:
        akey = aseg[am].astype(np.int64) * npid + data.a_pid[am].astype(np.int64)
        arrivals = _per_segment(akey, npid, n)
        treated = np.unique(key[data.treatment[m]])
        payers = _per_segment(treated, npid, n)
        mine = paid & np.isin(key, treated)
        days = _per_segment(key[mine] * span + day[mine], npid * span, n)
        keep = has_lines | (arrivals > 0) if by else np.ones(n, bool)
    counts = pd.DataFrame({"arrivals": arrivals, "treated": payers, "paying_days": days, "revenue": revenue},
                          index=pd.Index(labels, name=by or "segment"))
    return counts[keep]


def driver_counts(charges: pd.DataFrame, visits: pd.DataFrame | None, *, start: dt.date, end: dt.date,
                  by: str | None = None) -> pd.DataFrame:
    """The counts behind the four drivers in one window: arrivals, treated, paying_days, revenue.

    Parameters
    ----------
    charges, visits : canonical tables (playbook.schema); charges with a ``tier`` column (the loader
        adds it) or an ``item`` column to classify.
    start, end : the window, both days included.
    by : None for the clinic, ``"tier"`` or ``"department"`` for one row per segment.
    """
    return _counts(_prepare(charges, visits), start, end, by)


def _factors(counts0: pd.DataFrame, counts1: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The four factors of each segment in both windows, exact products (see the module's rules)."""
    index = counts0.index.union(counts1.index, sort=False)
    c0, c1 = counts0.reindex(index, fill_value=0.0), counts1.reindex(index, fill_value=0.0)

    def own(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    raw = []
    for c in (c0, c1):
        a, p, d, r = (c[k].to_numpy(float) for k in ("arrivals", "treated", "paying_days", "revenue"))
        raw.append({"a": np.where(a > 0, a, np.nan), "f": own(d, p), "t": own(r, d), "p": p, "r": r})
    out = []
    for mine, other in ((raw[0], raw[1]), (raw[1], raw[0])):
        a = np.where(np.isnan(mine["a"]), np.where(np.isnan(other["a"]), 1.0, other["a"]), mine["a"])
        f = np.where(np.isnan(mine["f"]), np.where(np.isnan(other["f"]), 1.0, other["f"]), mine["f"])
        t = np.where(np.isnan(mine["t"]), np.where(np.isnan(other["t"]), 1.0, other["t"]), mine["t"])
        c = np.where(mine["p"] > 0, mine["p"] / a, mine["r"] / (a * f * t))
        out.append(pd.DataFrame({"arrivals": a, "conversion": c, "ticket": t, "frequency": f}, index=index))
    return out[0], out[1]


def _factor_values(c: pd.Series) -> dict[str, float | int | None]:
    return {"arriving_patients": int(c["arrivals"]), "treated_patients": int(c["treated"]),
            "paying_days": int(c["paying_days"]), "revenue": round(float(c["revenue"]), 2),
            "treatment_conversion": rate_or_none(c["treated"], c["arrivals"]),
            "purchase_frequency": rate_or_none(c["paying_days"], c["treated"]),
            "average_ticket": rate_or_none(c["revenue"], c["paying_days"])}


def driver_factors(charges: pd.DataFrame, visits: pd.DataFrame | None, *, start: dt.date,
                   end: dt.date) -> dict[str, float | int | None]:
    """The clinic's four drivers in one window, with their counts (None where a ratio has no value)."""
    return _factor_values(driver_counts(charges, visits, start=start, end=end).iloc[0])


# ---------------------------------------------------------------------------------------------------
# Decomposition


def _logmean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """L(a, b) = (a − b) / (ln a − ln b), L(a, a) = a; for positive a, b."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.log(a) - np.log(b)
        return np.where(np.isclose(a, b, rtol=1e-12, atol=0.0), a, (a - b) / np.where(log == 0, 1.0, log))


def _shapley(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Shapley effects of each factor of a product, rows independent (Ang, Liu & Chew 2003)."""
    n = x0.shape[1]
    effects = np.zeros_like(x0, dtype=float)
    for k in range(n):
        others = [j for j in range(n) if j != k]
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for chosen in combinations(others, size):
                level = np.ones(len(x0))
                for j in others:
                    level = level * (x1[:, j] if j in chosen else x0[:, j])
                effects[:, k] += weight * level * (x1[:, k] - x0[:, k])
    return effects


def decompose(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Split the change of a product of factors into one additive effect per factor, exactly.

    LMDI-I (Ang 2004) where every factor is positive in both windows; Shapley (Ang, Liu & Chew 2003)
    where one is zero or negative. Rows are independent (segments).

    Parameters
    ----------
    previous, current : one row per segment, one column per factor, the same labels.

    Returns
    -------
    DataFrame with one column per factor (the effects, in the product's unit) and ``method``. For
    each row the effects sum to ``prod(current) − prod(previous)``.
    """
    columns = list(previous.columns)
    x0 = previous[columns].to_numpy(float)
    x1 = current.reindex(previous.index)[columns].to_numpy(float)
    v0, v1 = x0.prod(axis=1), x1.prod(axis=1)
    positive = (x0 > 0).all(axis=1) & (x1 > 0).all(axis=1)
    effects = np.zeros_like(x0)
    if positive.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.log(x1[positive] / x0[positive])
        effects[positive] = _logmean(v1[positive], v0[positive])[:, None] * ratio
    if (~positive).any():
        effects[~positive] = _shapley(x0[~positive], x1[~positive])
    out = pd.DataFrame(effects, index=previous.index, columns=columns)
    out["method"] = np.where(positive, LMDI, SHAPLEY)
    return out


# ---------------------------------------------------------------------------------------------------
# Results


def _signed_money(value: float, lang: str) -> str:
    if value is None or not math.isfinite(value):
        return i18n.NO_DATA[lang]
    return ("+" if value > 0 else "-" if value < 0 else "") + i18n.money(abs(value), lang)


def _signed_rate(value: float | None, lang: str) -> str:
    if value is None or not math.isfinite(value):
        return i18n.NO_DATA[lang]
    return ("+" if value > 0 else "") + i18n.rate(value, lang)


def _driver_values(values: pd.Series, lang: str) -> list[str]:
    """A column of the drivers table: each driver in its own kind and unit (the average ticket in yuan,
    1,696元, never beside revenue's 万元 as "0.2万元")."""
    kinds = {"arrivals": lambda v: i18n.count(round(v), lang), "conversion": lambda v: i18n.rate(v, lang),
             "frequency": lambda v: f"{v:.2f}", "ticket": lambda v: i18n.money(v, lang)}
    sums = iter(i18n.money_column(values[[d not in kinds for d in values.index]], lang))
    return [next(sums) if d not in kinds else i18n.NO_DATA[lang] if _none(v) is None else kinds[d](v)
            for d, v in values.items()]


def _driver_name(driver: str, lang: str) -> str:
    """A driver as a table or chart heads it (i18n.TERMS; Capitalised in English)."""
    if driver not in DRIVERS:
        return i18n.pick(lang, *REVENUE_NAME)
    name = i18n.term(driver, lang)
    return name if lang == "zh" else name[0].upper() + name[1:]


def _segment_name(segment: str, by: str, lang: str, *, short: bool = False) -> str:
    """A segment in a sentence (种植科, the 种植 department) or, ``short``, in a table or chart (种植)."""
    return sentences.segment(Segment(by, segment), lang, short=short)


def _comparison_name(comparison: str, lang: str) -> str:
    return i18n.pick(lang, "去年同期", "the same months a year earlier") if comparison == "year_earlier" else \
        i18n.pick(lang, "上期", "the previous period")


@dataclass
class DriverTree(AnalysisResult):
    """The change of revenue between two windows, split into arrivals, conversion, ticket and frequency.

    ``table``: one row per driver and one for revenue; columns ``previous``, ``current``, ``change``
    (relative change of the factor), ``effect`` (yuan of the revenue change it explains) and ``share``
    (effect / revenue change). The effects sum exactly to the revenue change.
    """

    key: str = "period"  # the metric-name suffix: period, recent, year_earlier
    comparison: str = "previous"  # previous | year_earlier
    start: dt.date | None = None
    end: dt.date | None = None
    base_start: dt.date | None = None
    base_end: dt.date | None = None
    method: str = LMDI
    tiers: AnalysisResult | None = field(default=None, repr=False)
    departments: AnalysisResult | None = field(default=None, repr=False)

    @property
    def revenue_previous(self) -> float:
        return float(self.table.loc["revenue", "previous"])

    @property
    def revenue_current(self) -> float:
        return float(self.table.loc["revenue", "current"])

    @property
    def revenue_change(self) -> float | None:
        """(R1 − R0) / R0, None when the base window took nothing."""
        return rate_or_none(self.revenue_current - self.revenue_previous, self.revenue_previous) \
            if self.revenue_previous > 0 else None

    @property
    def effects(self) -> pd.Series:
        return self.table.loc[list(DRIVERS), "effect"]

    def label(self, lang: str = "zh") -> str:
        """'2025年下半年对比2025年上半年' / 'H2 2025 vs H1 2025'."""
        return _versus(self, lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: how much revenue moved, and the driver that moved it most."""
        change = self.revenue_change
        now, then = i18n.window(self.start, self.end, lang), i18n.window(self.base_start, self.base_end, lang)
        if change is None:
            return i18n.pick(lang, f"营收变化分解：{self.label(lang)}", f"What moved revenue: {self.label(lang)}")
        effects = self.effects.astype(float)
        driver = effects.idxmin() if change < 0 else effects.idxmax()
        effect = float(effects[driver])
        fell = change < 0
        if lang == "zh":
            head = f"{now}营收比{then}{'下降' if fell else '增长'}{i18n.rate(abs(change), lang)}"
            if (effect < 0) == fell and effect:
                head += f"，{_driver_name(driver, lang)}{'拖累' if fell else '贡献'}最大（{_signed_money(effect, lang)}）"
            return head
        head = f"Revenue {'fell' if fell else 'rose'} {i18n.rate(abs(change), lang)} in {now} against {then}"
        if (effect < 0) == fell and effect:
            head += (f"; {_driver_name(driver, lang).lower()} {'cost' if fell else 'added'} the most "
                     f"({_signed_money(effect, lang)})")
        return head

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        return pd.DataFrame({
            i18n.pick(lang, "驱动因素", "Driver"): [_driver_name(d, lang) for d in t.index],
            i18n.window(self.base_start, self.base_end, lang): _driver_values(t["previous"], lang),
            i18n.window(self.start, self.end, lang): _driver_values(t["current"], lang),
            i18n.pick(lang, "变化", "Change"): [_signed_rate(_none(v), lang) for v in t["change"]],
            i18n.pick(lang, "对营收的影响", "Effect on revenue"): i18n.money_column(t["effect"], lang, signed=True),
            i18n.pick(lang, "占变化的比例", "Share of the change"): [i18n.rate(_none(v), lang) for v in t["share"]],
        })

    def metrics(self) -> dict:
        fragment = {
            "start": self.start.isoformat(), "end": self.end.isoformat(),
            "base_start": self.base_start.isoformat(), "base_end": self.base_end.isoformat(),
            "method": self.method, "revenue_previous": _f(self.revenue_previous),
            "revenue_current": _f(self.revenue_current), "revenue_change": _f(self.revenue_change),
            "drivers": {d: {c: _f(_none(self.table.loc[d, c])) for c in ("previous", "current", "effect", "share")}
                        for d in DRIVERS},
        }
        name = {"period": "revenue_change_vs_previous", "recent": "revenue_change_recent",
                "year_earlier": "revenue_change_vs_year_earlier"}.get(self.key)
        kpis = {name: _f(self.revenue_change)} if name else {}
        return {"kpis": kpis, "drivers": {self.key: fragment}}

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """A waterfall: the base window's revenue, one bar per driver effect, the window's revenue.

        Falls are ACTION_RED; the axis starts above zero when the effects would be too thin to see,
        and says so.
        """
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        r0, r1 = self.revenue_previous / scale, self.revenue_current / scale
        effects = self.effects.to_numpy(float) / scale
        labels = ([i18n.window(self.base_start, self.base_end, lang)]
                  + [_driver_name(d, lang).replace(" ", "\n") for d in DRIVERS]
                  + [i18n.window(self.start, self.end, lang)])
        waterfall(r0, effects, r1, labels=labels, colors=[ACTION_RED if e < 0 else PALETTE[1] for e in effects],
                  lang=lang, ax=ax, **kwargs)
        ax.set_ylabel(unit)
        if (effects < 0).any():  # say what red means where it is drawn
            ax.set_xlabel(i18n.pick(lang, "红色：减少营收的因素；蓝色：增加营收的因素",
                                    "red: drivers that cost revenue; blue: drivers that added to it"),
                          fontsize="small", color=PALETTE[4])
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="x", visible=False)
        return ax


def _versus(result, lang: str) -> str:
    """The two windows compared, in the report's language: no "vs" in a Chinese report."""
    now, then = i18n.window(result.start, result.end, lang), i18n.window(result.base_start, result.base_end, lang)
    return i18n.pick(lang, f"{now}对比{then}", f"{now} vs {then}")


@dataclass
class SegmentDrivers(AnalysisResult):
    """The driver tree inside each segment (tier or department) between two windows.

    ``table``: one row per segment; ``revenue_previous``, ``revenue_current``, ``revenue_change`` and
    one effect column per driver (yuan), ``method``. A row's effects sum to its revenue change; the
    rows' changes sum to the clinic's. ``factors``: the four factors per segment and window (long).
    """

    by: str = "tier"
    comparison: str = "previous"
    start: dt.date | None = None
    end: dt.date | None = None
    base_start: dt.date | None = None
    base_end: dt.date | None = None
    factors: pd.DataFrame = field(default=None, repr=False)

    def worst(self, driver: str | None = None) -> tuple[str, str, float] | None:
        """(segment, driver, effect) of the largest loss, optionally for one driver; None if nothing fell."""
        effects = self.table[list(DRIVERS) if driver is None else [driver]]
        if effects.empty:
            return None
        stacked = effects.stack()
        segment, name = stacked.idxmin()
        value = float(stacked.min())
        return (segment, name, value) if value < 0 else None

    def label(self, lang: str = "zh") -> str:
        return _versus(self, lang)

    def title(self, lang: str = "zh") -> str:
        """The heatmap's finding: the segment and driver that lost the most revenue."""
        worst = self.worst()
        where = i18n.pick(lang, "各档次", "any tier") if self.by == "tier" else i18n.pick(lang, "各科室", "any department")
        if worst is None:
            return i18n.pick(lang, f"{self.label(lang)}：{where}都没有哪个因素减少营收",
                             f"{self.label(lang)}: no driver lost revenue in {where}")
        segment, driver, value = worst
        name = _segment_name(segment, self.by, lang, short=lang != "zh")  # 种植科 / Implants
        return i18n.pick(lang, f"{name}的{_driver_name(driver, lang)}少收最多（{_signed_money(value, lang)}），{self.label(lang)}",
                         f"{name}: {_driver_name(driver, lang).lower()} lost the most ({_signed_money(value, lang)}), "
                         f"{self.label(lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        head = i18n.pick(lang, "项目档次", "Tier") if self.by == "tier" else i18n.pick(lang, "科室", "Department")
        t = self.table
        return pd.DataFrame({
            head: [_segment_name(s, self.by, lang, short=True) for s in t.index],
            i18n.window(self.base_start, self.base_end, lang): i18n.money_column(t["revenue_previous"], lang),
            i18n.window(self.start, self.end, lang): i18n.money_column(t["revenue_current"], lang),
            i18n.pick(lang, "变化", "Change"): i18n.money_column(t["revenue_change"], lang, signed=True),
            **{_driver_name(d, lang): i18n.money_column(t[d], lang, signed=True) for d in DRIVERS},
        })

    def metrics(self) -> dict:
        segments = {str(segment): {"revenue_previous": _f(row["revenue_previous"]),
                                   "revenue_current": _f(row["revenue_current"]),
                                   "effects": {d: _f(row[d]) for d in DRIVERS}}
                    for segment, row in self.table.iterrows()}
        key = "tiers" if self.by == "tier" else "departments"
        return {"drivers": {key: {"start": self.start.isoformat(), "end": self.end.isoformat(),
                                  "base_start": self.base_start.isoformat(), "base_end": self.base_end.isoformat(),
                                  "segments": segments}}}

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """A heatmap: segments × drivers, each cell the yuan the driver added (blue) or lost (red)."""
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        # rounded as annotated, and + 0.0 so that a tiny loss never reads "-0.0"
        data = (self.table[list(DRIVERS) + ["revenue_change"]] / scale).astype(float).round(1) + 0.0
        data.index = [_segment_name(s, self.by, lang, short=True) for s in data.index]
        data.columns = [_driver_name(d, lang).replace(" ", "\n") for d in DRIVERS] + [
            i18n.pick(lang, "合计变化", "Total\nchange")]
        # the colours follow the drivers' cells; a larger total saturates
        bound = max(float(np.abs(data.iloc[:, :-1].to_numpy()).max()), 0.1)
        options = dict(annot=True, fmt="+,.1f", cmap=DIVERGING, vmin=-bound, vmax=bound, center=0, linewidths=0.6,
                       linecolor="white", cbar_kws={"label": i18n.pick(lang, f"{unit}（红色为减少）", f"{unit} (red: lost)")},
                       ax=ax)
        sns.heatmap(data, **{**options, **kwargs})
        ax.set_ylabel("")
        ax.tick_params(axis="y", rotation=0)
        ax.tick_params(axis="x", rotation=0)
        set_title(ax, self.title(lang), lang)
        return ax


# ---------------------------------------------------------------------------------------------------
# Sentences


def _segment_hint(found: tuple[str, str, float] | None, lang: str) -> str:
    if not found:
        return ""
    return i18n.pick(lang, f"，主要在{_segment_name(found[0], found[1], 'zh')}",
                     f", mostly in {_segment_name(found[0], found[1], 'en')}")


def _tree_sentences(tree: DriverTree, where: dict[str, tuple[str, str, float] | None],
                    line: Threshold) -> tuple[str, str]:
    r0, r1 = tree.revenue_previous, tree.revenue_current
    delta, change = r1 - r0, tree.revenue_change
    effects = tree.effects
    now_zh, now_en = i18n.window(tree.start, tree.end, "zh"), i18n.window(tree.start, tree.end, "en")
    then_zh, then_en = (i18n.window(tree.base_start, tree.base_end, "zh"),
                        i18n.window(tree.base_start, tree.base_end, "en"))
    base_zh = f"{_comparison_name(tree.comparison, 'zh')}（{then_zh}）"
    base_en = then_en + (", a year earlier" if tree.comparison == "year_earlier" else "")
    if r0 == 0 and r1 == 0:
        return (f"{now_zh}和{base_zh}都没有收费记录，无法分解。",
                f"Neither {now_en} nor {base_en} has any charge: nothing to decompose.")
    pct_zh = f"（{_signed_rate(change, 'zh')}）" if change is not None else ""
    pct_en = f" ({_signed_rate(change, 'en')})" if change is not None else ""
    falls = effects[effects < 0].sort_values()
    rises = effects[effects > 0].sort_values(ascending=False)
    head_zh = f"{now_zh}实收{i18n.money(r1, 'zh')}，比{base_zh}"
    head_en = f"In {now_en} the clinic took {i18n.money(r1, 'en')}, "
    if delta < 0:
        top = falls.index[0]
        zh = (head_zh + f"下降{i18n.money(-delta, 'zh')}{pct_zh}，其中{_driver_name(top, 'zh')}下降贡献了"
              f"{i18n.money(-falls.iloc[0], 'zh')}，是最大的原因{_segment_hint(where.get(top), 'zh')}")
        en = (head_en + f"{i18n.money(-delta, 'en')}{pct_en} less than in {base_en}; the fall in "
              f"{sentences.driver_phrase(top, 'en')} explains {i18n.money(-falls.iloc[0], 'en')} of it, the largest "
              f"cause{_segment_hint(where.get(top), 'en')}")
        if len(falls) > 1 and falls.iloc[1] < 0.2 * delta:
            second = falls.index[1]
            zh += (f"；其次是{_driver_name(second, 'zh')}（少收{i18n.money(-falls.iloc[1], 'zh')}）"
                   f"{_segment_hint(where.get(second), 'zh')}")
            en += (f"; then {sentences.driver_phrase(second, 'en')} ({i18n.money(-falls.iloc[1], 'en')})"
                   f"{_segment_hint(where.get(second), 'en')}")
        return (zh + f"。下一步：{sentences.DRIVER_ADVICE['zh'][top]}。",
                en + f". Next: {sentences.DRIVER_ADVICE['en'][top]}.")
    if delta > 0:
        top = rises.index[0]
        zh = (head_zh + f"增加{i18n.money(delta, 'zh')}{pct_zh}，主要来自{_driver_name(top, 'zh')}"
              f"（{_signed_money(rises.iloc[0], 'zh')}）")
        en = (head_en + f"{i18n.money(delta, 'en')}{pct_en} more than in {base_en}, mostly from "
              f"{sentences.driver_phrase(top, 'en')} ({_signed_money(rises.iloc[0], 'en')})")
        if len(falls) and (r0 <= 0 or line.breached(falls.iloc[0] / r0)):
            low = falls.index[0]
            zh += (f"；但{_driver_name(low, 'zh')}下降抵消了{i18n.money(-falls.iloc[0], 'zh')}"
                   f"{_segment_hint(where.get(low), 'zh')}，值得留意：{sentences.DRIVER_ADVICE['zh'][low]}。")
            en += (f"; but the fall in {sentences.driver_phrase(low, 'en')} offset {i18n.money(-falls.iloc[0], 'en')}"
                   f"{_segment_hint(where.get(low), 'en')}, worth watching: {sentences.DRIVER_ADVICE['en'][low]}.")
        else:
            zh += "；没有哪个驱动因素明显拖累营收，保持当前做法并按周跟踪。"
            en += "; no driver holds revenue back: keep the pace and track it weekly."
        return zh, en
    return head_zh + "持平。", head_en + f"the same as in {base_en}."


def _segment_sentences(result: SegmentDrivers, line: Threshold) -> tuple[str, str]:
    what_zh, what_en = ("按项目档次看", "By tier") if result.by == "tier" else ("按科室看", "By department")
    label_zh, label_en = result.label("zh"), result.label("en")
    worst = result.worst()
    if worst is None:
        return (f"{what_zh}（{label_zh}），四个驱动因素在各{'档次' if result.by == 'tier' else '科室'}都没有拖累营收。",
                f"{what_en} ({label_en}), no driver lost revenue in any segment.")
    segment, driver, value = worst
    name_zh, name_en = _segment_name(segment, result.by, "zh"), _segment_name(segment, result.by, "en")
    total = float(result.table["revenue_previous"].sum())
    cell_zh = f"{name_zh}的{_driver_name(driver, 'zh')}"
    cell_en = f"the {_driver_name(driver, 'en').lower()} of {name_en}"
    if total > 0 and not line.breached(value / total):
        limit_zh, limit_en = i18n.rate(-line.value, "zh"), i18n.rate(-line.value, "en")
        return (f"{what_zh}（{label_zh}），没有哪一项让营收少收超过上期的{limit_zh}；最大的一项是{cell_zh}"
                f"（少收{i18n.money(-value, 'zh')}），按周留意即可。",
                f"{what_en} ({label_en}), no segment's driver cost more than {limit_en} of the earlier revenue; the "
                f"largest loss is {cell_en} ({i18n.money(-value, 'en')}): watch it weekly.")
    zh = f"{what_zh}（{label_zh}），损失最大的一项是{cell_zh}，少收{i18n.money(-value, 'zh')}"
    en = f"{what_en} ({label_en}), the largest loss is {cell_en}: {i18n.money(-value, 'en')}"
    stacked = result.table[list(DRIVERS)].stack().sort_values()
    if len(stacked) > 1 and stacked.iloc[1] < 0.3 * value:
        (seg2, drv2), val2 = stacked.index[1], float(stacked.iloc[1])
        zh += (f"，其次是{_segment_name(seg2, result.by, 'zh')}的{_driver_name(drv2, 'zh')}"
               f"（少收{i18n.money(-val2, 'zh')}）")
        en += (f", then the {_driver_name(drv2, 'en').lower()} of {_segment_name(seg2, result.by, 'en')} "
               f"({i18n.money(-val2, 'en')})")
    return (zh + f"。下一步先看{name_zh}：{sentences.DRIVER_ADVICE['zh'][driver]}。",
            en + f". Start with {name_en}: {sentences.DRIVER_ADVICE['en'][driver]}.")


# ---------------------------------------------------------------------------------------------------
# Flags


def _flags(tree: DriverTree, line: Threshold, where: dict[str, tuple[str, str, float] | None]) -> list[Finding]:
    """The revenue change past the alert line, and each driver whose effect alone is past it [S1]."""
    change = tree.revenue_change
    if not line.breached(change):
        return []
    r0, r1 = tree.revenue_previous, tree.revenue_current
    year = 365 / _days(tree.start, tree.end)  # annualise the window's yuan
    effects = tree.effects
    worst = effects.idxmin()
    windows = {"window": Window(tree.start, tree.end), "reference_window": Window(tree.base_start, tree.base_end)}
    flags = [Finding.past(
        line, change, kind="revenue_change", metric=f"revenue_change_{tree.key}", problem_class=PROBLEM_CLASS[worst],
        evidence="symptom", reference=float(r0), **windows,
        # coming back to the line: revenue of at least R0 · (1 + line), a year long
        stake=Stake(float(max(0.0, r0 * (1 + line.value) - r1) * year), "revenue_to_line"),
        facts={"driver": worst, "driver_loss": float(-effects[worst])})]
    for driver in DRIVERS:
        share = float(effects[driver] / r0)
        if not line.breached(share):
            continue
        found = where.get(driver)
        flags.append(Finding.past(
            line, share, kind=f"{driver}_effect", metric=f"{driver}_effect_{tree.key}",
            problem_class=PROBLEM_CLASS[driver], evidence="symptom", **windows,
            segment=Segment(found[1], found[0]) if found else None,
            stake=Stake(float(-effects[driver] * year), "driver_loss"),  # the yuan the effect lost, a year long
            facts={"driver": driver, "loss": float(-effects[driver])}))
    return flags


# ---------------------------------------------------------------------------------------------------
# Public analyses


def _base(start, end, base_start, base_end, comparison):
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {COMPARISONS}, not {comparison!r}")
    if base_start is not None and base_end is not None:
        return _ts(base_start).date(), _ts(base_end).date()
    return (year_earlier_window if comparison == "year_earlier" else previous_window)(start, end)


def _not_reached(data: _Data, name: str, base_start: dt.date, base_end: dt.date, comparison: str) -> Unavailable | None:
    """Unavailable when the data does not reach back to the base window's first month, else None."""
    first = data.first_day
    if first is None:
        return Unavailable.because(name, needs=["charges", "visits"],
                                   zh_reason="没有收费或到诊记录，无法分解营收。",
                                   en_reason="There is no charge and no arrived visit: nothing to decompose.")
    first = pd.Timestamp(np.datetime64(first, "D"))
    if first.to_period("M") <= _ts(base_start).to_period("M"):
        return None
    then_zh, then_en = i18n.window(base_start, base_end, "zh"), i18n.window(base_start, base_end, "en")
    return Unavailable.because(
        name, needs=[f"charges {base_start}..{base_end}"],
        zh_reason=(f"数据从{i18n.day(first.date(), 'zh')}开始，覆盖不到{_comparison_name(comparison, 'zh')}"
                   f"（{then_zh}），所以不做这项比较；若诊所有更早的导出，补上后重新运行。"),
        en_reason=(f"The data starts on {i18n.day(first.date(), 'en')} and does not reach back to "
                   f"{_comparison_name(comparison, 'en')} ({then_en}), so this comparison is skipped; add "
                   f"older exports if the clinic has them and run again."))


def _segments(data: _Data, by: str, windows, comparison: str, line: Threshold) -> SegmentDrivers | Unavailable:
    (s0, e0), (s1, e1) = windows
    name = f"drivers_{'tiers' if by == 'tier' else 'departments'}"
    c0, c1 = _counts(data, s0, e0, by), _counts(data, s1, e1, by)
    x0, x1 = _factors(c0, c1)
    if by == "department" and set(x0.index) <= {UNKNOWN}:
        return Unavailable.because(name, needs=["visits.department"])
    effects = decompose(x0, x1)
    r0 = c0["revenue"].reindex(x0.index, fill_value=0.0)
    r1 = c1["revenue"].reindex(x0.index, fill_value=0.0)
    table = pd.concat([pd.DataFrame({"revenue_previous": r0, "revenue_current": r1, "revenue_change": r1 - r0}),
                       effects], axis=1)
    if by == "tier":
        order = [t for t in TIER_ORDER if t in table.index] + [t for t in table.index if t not in TIER_ORDER]
    else:  # the biggest departments first, the unknown one last
        size = (table["revenue_previous"] + table["revenue_current"]).sort_values(ascending=False).index
        order = [s for s in size if s != UNKNOWN] + ([UNKNOWN] if UNKNOWN in size else [])
    table = table.reindex(order)
    # a segment with no revenue in either window (arrivals only) has nothing to explain
    table = table[(table["revenue_previous"] != 0) | (table["revenue_current"] != 0)]
    table.index.name = by
    factors = pd.concat([x0.assign(window="previous"), x1.assign(window="current")]).rename_axis(by).reset_index()
    factors = factors.melt(id_vars=[by, "window"], value_vars=list(DRIVERS), var_name="driver")
    result = SegmentDrivers(name, table, "", "", by=by, comparison=comparison, start=s1, end=e1,
                            base_start=s0, base_end=e0, factors=factors)
    result.zh, result.en = _segment_sentences(result, line)
    return result


MOSTLY = 0.5  # "mostly in" a segment: its own loss of the driver is at least half the clinic's


def _where(tree: DriverTree) -> dict[str, tuple[str, str, float] | None]:
    """For each driver that lost revenue, the tier or department where it lost the most (departments only
    for arrivals), when that segment's own loss of the driver is at least half the clinic's loss of it.

    The segments' splits are decompositions of their own: a clinic-wide fall of the average ticket can
    be a shift of the mix (fewer high-value buyers), which the tier split shows as the high-value tier's
    conversion, not as its ticket. Saying "mostly in high-value items" of the ticket would then contradict
    the tier table beside it, so a driver whose loss no segment holds most of names no segment.
    """
    where = {}
    for driver in DRIVERS:
        clinic = float(tree.effects[driver])
        # every tier shares the clinic's arrivals, so only departments say where arrivals fell
        splits = (tree.departments,) if driver == "arrivals" else (tree.tiers, tree.departments)
        found = None
        for split in splits:
            worst = split.worst(driver) if isinstance(split, SegmentDrivers) else None
            if worst is not None and (found is None or worst[2] < found[2]):
                found = (worst[0], split.by, worst[2])
        where[driver] = found if found is not None and clinic < 0 and found[2] <= MOSTLY * clinic else None
    return where


def _tree(data: _Data, start, end, base_start, base_end, comparison: str, key: str,
          thresholds: dict[str, Threshold]) -> DriverTree | Unavailable:
    start, end = _ts(start).date(), _ts(end).date()
    base_start, base_end = _base(start, end, base_start, base_end, comparison)
    name = f"drivers_{key}"
    missing = _not_reached(data, name, base_start, base_end, comparison)
    if missing is not None:
        return missing
    line = thresholds[ALERT]
    c0, c1 = _counts(data, base_start, base_end, None), _counts(data, start, end, None)
    x0, x1 = _factors(c0, c1)
    effects = decompose(x0, x1).iloc[0]
    r0, r1 = float(c0["revenue"].iloc[0]), float(c1["revenue"].iloc[0])
    delta = r1 - r0
    rows = {}
    for driver in DRIVERS:
        p, c = float(x0[driver].iloc[0]), float(x1[driver].iloc[0])
        rows[driver] = {"previous": p, "current": c, "change": c / p - 1 if p > 0 else np.nan,
                        "effect": float(effects[driver]), "share": float(effects[driver]) / delta if delta else np.nan}
    rows["revenue"] = {"previous": r0, "current": r1, "change": r1 / r0 - 1 if r0 > 0 else np.nan,
                       "effect": delta, "share": 1.0 if delta else np.nan}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "driver"
    windows = ((base_start, base_end), (start, end))
    tree = DriverTree(name, table, "", "", key=key, comparison=comparison, start=start, end=end,
                      base_start=base_start, base_end=base_end, method=str(effects["method"]),
                      tiers=_segments(data, "tier", windows, comparison, line),
                      departments=_segments(data, "department", windows, comparison, line))
    where = _where(tree)
    tree.zh, tree.en = _tree_sentences(tree, where, line)
    tree.flags = _flags(tree, line, where)
    return tree


def driver_tree(charges: pd.DataFrame, visits: pd.DataFrame | None, *, start: dt.date, end: dt.date,
                base_start: dt.date | None = None, base_end: dt.date | None = None,
                comparison: str = "previous", key: str = "period",
                thresholds: dict[str, Threshold] | None = None) -> DriverTree | Unavailable:
    """Decompose the change of revenue between a base window and ``start``..``end`` into its four drivers.

    Parameters
    ----------
    charges, visits : canonical tables (playbook.schema); charges with ``tier`` (the loader adds it,
        else ``item`` is classified). ``visits`` may be None (no arrivals: conversion absorbs them).
    start, end : the window, both days included.
    base_start, base_end : the window to compare with; by default the previous window of the same
        length (``comparison="previous"``) or the same window a year earlier (``"year_earlier"``).
    key : the suffix of the metric and flag names (``period``, ``recent``, ``year_earlier``).
    thresholds : the thresholds in force (``revenue_change_alert``); the defaults when omitted.

    Returns
    -------
    DriverTree, with the same decomposition by tier and by department in ``.tiers`` and
    ``.departments``; `Unavailable` when the data does not reach back to the base window.
    """
    return _tree(_prepare(charges, visits), start, end, base_start, base_end, comparison, key,
                 thresholds or DEFAULTS)


def segment_drivers(charges: pd.DataFrame, visits: pd.DataFrame | None, *, by: str = "tier", start: dt.date,
                    end: dt.date, base_start: dt.date | None = None, base_end: dt.date | None = None,
                    comparison: str = "previous", thresholds: dict[str, Threshold] | None = None
                    ) -> SegmentDrivers | Unavailable:
    """The driver tree inside each tier (``by="tier"``) or department (``by="department"``).

    Parameters as `driver_tree`. Each segment's effects sum to its revenue change, and the segments'
    changes to the clinic's.
    """
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, not {by!r}")
    start, end = _ts(start).date(), _ts(end).date()
    base_start, base_end = _base(start, end, base_start, base_end, comparison)
    data = _prepare(charges, visits)
    missing = _not_reached(data, f"drivers_{by}", base_start, base_end, comparison)
    if missing is not None:
        return missing
    return _segments(data, by, ((base_start, base_end), (start, end)), comparison, (thresholds or DEFAULTS)[ALERT])


def cell_effects(charges: pd.DataFrame, visits: pd.DataFrame | None, *, charge_cell: pd.Series,
                 visit_cell: pd.Series | None, start: dt.date, end: dt.date, base_start: dt.date,
                 base_end: dt.date) -> pd.DataFrame:
    """The driver tree inside any partition of the clinic into cells (e.g. doctor × channel).

    Each charge belongs to the cell ``charge_cell`` names (aligned with ``charges``), each arrived
    visit to the cell of ``visit_cell`` (aligned with ``visits``); a cell's factors follow the
    department rules of the module docstring. Returns one row per cell with revenue in some window:
    the counts of both windows (``arrivals_previous`` … ``revenue_current``), ``revenue_change`` and
    the four effects, which add up to the cell's change; the cells' changes add up to the clinic's.
    """
    charges = charges.assign(department=charge_cell.astype(str).to_numpy())
    if visits is not None:
        cells = visit_cell.astype(str).to_numpy() if visit_cell is not None else UNKNOWN
        visits = visits.assign(department=cells)
    data = _prepare(charges, visits)
    c0 = _counts(data, _ts(base_start).date(), _ts(base_end).date(), "department")
    c1 = _counts(data, _ts(start).date(), _ts(end).date(), "department")
    x0, x1 = _factors(c0, c1)
    effects = decompose(x0, x1)
    counts = pd.concat([c0.reindex(x0.index, fill_value=0.0).add_suffix("_previous"),
                        c1.reindex(x0.index, fill_value=0.0).add_suffix("_current")], axis=1)
    table = pd.concat([counts, effects], axis=1)
    table["revenue_change"] = table["revenue_current"] - table["revenue_previous"]
    table = table[(table["revenue_previous"] != 0) | (table["revenue_current"] != 0)]
    table.index.name = "cell"
    return table


def definitions(lang: str = "zh") -> pd.DataFrame:
    """The four drivers as the report defines them: one row each, for the owner."""
    rows = {
        "arrivals": ("期内有到诊记录的患者人数（同一人只算一次）",
                     "patients with an arrived visit in the period, each counted once"),
        "conversion": ("到诊患者（不只新患者）中，为利润或高值项目付费的比例；与只看新患者30天内的初诊成交率不同",
                       "share of arriving patients (not only new ones) who paid for a profit or high-value "
                       "treatment; not the first-visit conversion, which follows new patients for 30 days"),
        "ticket": ("实收营业额 ÷ 付费人次（成交患者付费的天数）",
                   "revenue ÷ paying days (days on which a treated patient paid)"),
        "frequency": ("每位成交患者在期内付费的天数", "paying days per treated patient in the period"),
    }
    return pd.DataFrame({i18n.pick(lang, "驱动因素", "Driver"): [_driver_name(d, lang) for d in DRIVERS],
                         i18n.pick(lang, "定义", "Definition"): [i18n.pick(lang, *rows[d]) for d in DRIVERS]})


# ---------------------------------------------------------------------------------------------------
# The section


@dataclass
class DriversSection(Section):
    """The revenue driver tree of a clinic: the whole period, the recent months, and by segment."""

    period: AnalysisResult  # the analysis period vs the previous period of the same length
    recent: AnalysisResult  # the last 6 (or 3) months vs the months just before
    year_earlier: AnalysisResult  # the recent months (or the period) vs the same months a year earlier
    tiers: AnalysisResult  # the recent comparison (else the period's) by tier
    departments: AnalysisResult  # … and by department
    factors: dict = field(default_factory=dict)  # the four drivers of the analysis period (kpis)

    def metrics(self) -> dict:
        merged = super().metrics()
        kpis = merged.setdefault("kpis", {})
        for name in ("revenue_change_vs_previous", "revenue_change_recent", "revenue_change_vs_year_earlier"):
            kpis.setdefault(name, None)
        kpis.update({k: _f(v) if isinstance(v, float) else v for k, v in self.factors.items() if k != "revenue"})
        merged.setdefault("drivers", {})
        return merged


def _seasonal(recent: DriverTree, year_earlier: DriverTree) -> DriverTree:
    """A recent fall that is not there against a year earlier looks seasonal: say so, raise no flag."""
    recent.flags = []
    recent.zh += (f"与去年同期相比营收{_signed_rate(year_earlier.revenue_change, 'zh')}，没有超过警戒线，"
                  f"这次下降可能是季节性的。")
    recent.en += (f" Against the same months a year earlier revenue is "
                  f"{_signed_rate(year_earlier.revenue_change, 'en')}, within the alert line: "
                  f"the fall may be seasonal.")
    return recent


def _no_split(name: str, by_zh: str, by_en: str, source: AnalysisResult) -> Unavailable:
    return Unavailable.because(name, needs=getattr(source, "needs", []),
                               zh_reason=f"没有可比较的时期，不按{by_zh}拆分。",
                               en_reason=f"No period to compare with: no split by {by_en}.")


def diagnose(clinic, thresholds: dict[str, Threshold]) -> DriversSection:
    """The driver tree of a loaded clinic over its configured period (``playbook.diagnosis`` calls this).

    ``period``: the analysis period against the previous period of the same length. ``recent``: its
    last 6 months (3 when it is under a year; none under six months) against the months before.
    ``year_earlier``: the recent months (or the whole period) against the same months a year earlier.
    ``tiers``, ``departments``: the recent comparison split by segment (the period's when there is no
    recent window). Flags come from ``period`` and ``recent``, never from ``year_earlier`` (it sees the
    same loss); a recent fall that the year-earlier comparison does not show is taken as seasonal and
    raises no flag.
    """
    start, end = clinic.config.period.start, clinic.config.period.end
    data = _prepare(clinic.charges, clinic.visits)
    period = _tree(data, start, end, None, None, "previous", "period", thresholds)
    window = recent_window(start, end)
    if window is None:
        recent = Unavailable.because(
            "drivers_recent", needs=["a period of six months or more"],
            zh_reason="分析期不足半年，最近几个月的变化就是整个分析期的比较。",
            en_reason="The period is under 6 months: the recent change is the comparison of the whole period.")
    else:
        recent = _tree(data, window[0], window[1], None, None, "previous", "recent", thresholds)
    focus = window or (start, end)
    year_earlier = _tree(data, focus[0], focus[1], None, None, "year_earlier", "year_earlier", thresholds)
    if isinstance(year_earlier, DriverTree):
        year_earlier.flags = []
        if (isinstance(recent, DriverTree) and recent.flags
                and not thresholds[ALERT].breached(year_earlier.revenue_change)):
            recent = _seasonal(recent, year_earlier)
    source = recent if isinstance(recent, DriverTree) else period
    if isinstance(source, DriverTree):
        tiers, departments = source.tiers, source.departments
    else:
        tiers = _no_split("drivers_tiers", "项目档次", "tier", source)
        departments = _no_split("drivers_departments", "科室", "department", source)
    factors = _factor_values(_counts(data, start, end, None).iloc[0])
    return DriversSection(period=period, recent=recent, year_earlier=year_earlier, tiers=tiers,
                          departments=departments, factors=factors)

"""The clinic's story: what changed between two windows, what made revenue fall, and what else holds it back.

A consultant answers first and then gives three to five reasons with their evidence. This module turns
the findings of every analysis into that answer, with every yuan counted once.

Windows. The current window is the driver tree's recent one (`playbook.drivers`: the last 6 months of a
period of a year or more, the last 3 of a shorter one) and the baseline the months just before it; a
period under six months compares with the period before it. The same months a year earlier are named
beside them. The revenue change a year is ``(R1 − R0) · 365 / days of the current window``.

Did revenue fall? When the change is past the alert line (``revenue_change_alert``) and the same months a
year earlier do not call it seasonal, as the driver tree decides.

Cells. Every charge belongs to one cell, its doctor × its patient's source channel (the charge's doctor,
else its visit's; "unknown" where the export gives none), and so does every arrived visit. The driver
tree inside each cell (LMDI, exact: `drivers.cell_effects`) splits the revenue change into cells ×
drivers (arrivals, conversion, ticket, frequency) that add up exactly to the clinic's change.

Claims. A finding the driver tree can trace (``LEVERS``) claims the cells of its segment (a doctor's, a
channel's, the referral channels', the whole clinic's) and the driver its metric moves; a departed doctor
claims all four drivers of the doctor's cells. A cell's driver belongs to one finding only: departed
doctors claim first, then the findings in the order of their evidence, the whole-clinic ones last. What
no cause claims is "other changes", so that the causes and the other changes add up to the change.

Revenue at stake, one method for every finding (the appendix states it): the driver tree with the
finding's driver moved, in yuan a year.
- decline part: the loss of what the finding claims, between the windows (only when revenue fell);
- beyond part: the units its metric is short of the line now (patients, treated patients, visits) ×
  what one unit brought in its cells in the current window, less the decline part, never below 0; cells
  another finding claimed for the same driver are left out, in proportion to their revenue;
- a cost above its range is profit (the costs analysis' own excess), never revenue;
- a departed doctor's other findings, and a channel's ROI where the channel's conversion is a finding,
  are counted in that finding; the driver tree's own findings are the fall itself, split here.

Roles (`playbook.results.ROLES`): a *cause* explains at least ``cause_share_of_fall`` of the fall; a
*standing* weakness was past its line before the fall too (its value over a window that covers the
baseline, or its own earlier value); *upside* is new and cost no revenue between the windows; *profit*,
*risk* (no revenue estimate), *symptom* and *merged* as above.

kpis.json: ``story`` (``revenue_change``: the windows, the change and the change a year; ``causes``: each
cause's part of the change; ``other``), and per ranked finding its role and parts (`playbook.bottleneck`).
The prescriptions add ``story.recovery`` (`playbook.prescribe`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n, sentences
from .drivers import ALERT, DRIVERS, DriverTree, cell_effects
from .jsonsafe import scalar as _json
from .metrics import METRICS, MetricError
from .plotting import ACTION_RED, PALETTE, set_title, waterfall
from .results import (CAUSE, MERGED, PROFIT, RISK, STANDING, SYMPTOM, UPSIDE, AnalysisResult, Finding, Stake,
                      Window)
from .tables import UNKNOWN_CHANNEL, clinic_tables, first_coordinators, patient_channels

__all__ = ["Story", "tell", "LEVERS", "departed_doctors"]

UNKNOWN_DOCTOR = "unknown"
_SEP = "\x1f"  # between a cell's doctor, channel and coordinator
UNKNOWN_COORDINATOR = "unknown"
DEPARTURE = "doctor_weeks_inactive"
CONVERSION_KINDS = ("channel_conversion", "channel_conversion_volume")


# ---------------------------------------------------------------------------------------------------
# Levers: how a finding's metric reaches the driver tree


@dataclass(frozen=True)
class Lever:
    """Which cells and drivers a kind of finding moves, and how far short of its line it is now.

    ``scope``: "segment" (the finding's doctor, channel or coordinator), "referral" (the referral channels) or
    "clinic" (every cell). ``unit``: what the metric counts, valued at what one brought in the cells:
    "treated" (revenue per treated patient), "patient" (per arriving patient), "visit" (per arrived
    visit); None: nothing beyond the fall (a change, or a doctor who left). ``short``: the units short
    of the line a year, from the finding and the story's counts. ``change``: the metric is a fall
    against an earlier value, never a standing level.
    """

    drivers: tuple[str, ...]
    scope: str = "segment"
    unit: str | None = None
    short: Callable[[Finding, "_Counts"], float | None] | None = None
    change: bool = False


def _years(window: Window | None) -> float:
    return ((window.end - window.start).days + 1) / 365.0 if window else 1.0


def _short_converted(f: Finding, counts: "_Counts") -> float | None:
    """A channel's new patients a year × (line − conversion): treated patients missing."""
    new = counts.metric("new_patients", f.subject)
    return None if new is None else new / counts.years * max(f.line - f.value, 0.0)


def _per_year_past_line(fact: str) -> Callable[[Finding, "_Counts"], float | None]:
    """The units short of the line a year: the finding's own count ``fact`` over its window, a year, times how
    far past its line it is (a doctor's or coordinator's new patients, a doctor's ended plans, a coordinator's
    visits)."""
    def short(f: Finding, counts: "_Counts") -> float | None:
        units = f.facts.get(fact)
        return None if units is None else units / _years(f.window) * abs(f.value - f.line)
    return short


def _short_channel_visits(f: Finding, counts: "_Counts") -> float | None:
    """Bookings a year × (no-show rate − line): arrived visits missing."""
    parts = counts.parts("no_show_rate", f.subject)
    return None if parts is None else parts[1] / counts.years * max(f.value - f.line, 0.0)


def _short_slot_visits(f: Finding, counts: "_Counts") -> float | None:
    booked = counts.slot_booked(f.subject)
    return None if booked is None else booked / _years(f.window) * max(f.value - f.line, 0.0)


def _short_referrals(f: Finding, counts: "_Counts") -> float | None:
    """Referral new patients a year missing to reach the line: (line · new − referral) / (1 − line)."""
    parts = counts.parts("referral_share")
    if parts is None or f.line >= 1:
        return None
    referral, new = parts
    return max(f.line * new - referral, 0.0) / (1 - f.line) / counts.years


def _short_family(f: Finding, counts: "_Counts") -> float | None:
    children, family = f.facts.get("children"), f.facts.get("family")
    if children is None or family is None:
        return None
    return max(f.line * children - family, 0.0) / _years(f.window)


def _short_overdue(f: Finding, counts: "_Counts") -> float | None:
    """Overdue patients above the line's multiple of the others' share (a stock, counted as a year)."""
    patients, share = f.facts.get("patients"), f.facts.get("share")
    if patients is None or share is None or f.reference is None:
        return None
    return patients * max(share - f.line * f.reference, 0.0)


def _short_prime_visits(f: Finding, counts: "_Counts") -> float | None:
    """The visits the prime chair hours above the vacancy line could hold, a year (the chairs analysis)."""
    return f.facts.get("visits_idle")


LEVERS: dict[str, Lever] = {
    DEPARTURE: Lever(DRIVERS),
    "channel_conversion": Lever(("conversion",), unit="treated", short=_short_converted),
    "channel_conversion_volume": Lever(("conversion",), unit="treated", short=_short_converted),
    "doctor_first_visit_conversion": Lever(("conversion",), unit="treated", short=_per_year_past_line("new_patients")),
    "no_show_rate_channel": Lever(("arrivals",), unit="visit", short=_short_channel_visits),
    "no_show_rate_slot": Lever(("arrivals",), scope="clinic", unit="visit", short=_short_slot_visits),
    "arrival_rate_fall": Lever(("arrivals",), change=True),
    "referral_share": Lever(("arrivals",), scope="referral", unit="patient", short=_short_referrals),
    "referral_share_recent": Lever(("arrivals",), scope="referral", unit="patient", short=_short_referrals),
    "child_family_ratio": Lever(("arrivals",), scope="referral", unit="patient", short=_short_family),
    "overdue_share_by_doctor": Lever(("arrivals",), unit="patient", short=_short_overdue),
    "plan_completion": Lever(("frequency",), unit="treated", short=_per_year_past_line("ended")),
    "churn_rate": Lever(("arrivals",), scope="clinic"),
    # [S4]: a coordinator's patients (those whose first arrived visit the coordinator received)
    "consultant_conversion": Lever(("conversion",), unit="treated", short=_per_year_past_line("new_patients")),
    "consultant_reappointment": Lever(("frequency",), unit="visit", short=_per_year_past_line("visits")),
    # [S0]: idle prime chair hours are visits the clinic could have seen; after the segment levers
    "chair_vacancy_prime": Lever(("arrivals",), scope="clinic", unit="visit", short=_short_prime_visits),
    "return_within_12m_change": Lever(("arrivals",), scope="clinic", change=True),
}


def _is_cost(f: Finding) -> bool:
    return f.kind.endswith("_share_high")


# ---------------------------------------------------------------------------------------------------
# Counts the levers need, in the current window


class _Counts:
    """The registry's counts in the current window, for the levers (computed on demand)."""

    def __init__(self, clinic, diagnosis, window: Window):
        self.clinic, self.diagnosis, self.window = clinic, diagnosis, window
        self.years = _years(window)
        self._tables = None

    @property
    def tables(self):
        if self._tables is None:
            self._tables = clinic_tables(self.clinic)
        return self._tables

    def parts(self, metric: str, scope: str | None = None) -> tuple[float, float] | None:
        spec = METRICS[metric]
        if not spec.available(self.tables):
            return None
        try:
            numerator, denominator = spec.parts(self.tables, self.window.start, self.window.end, scope)
        except MetricError:
            return None
        return numerator, (denominator if denominator is not None else 0.0)

    def metric(self, metric: str, scope: str | None = None) -> float | None:
        parts = self.parts(metric, scope)
        return None if parts is None else parts[0]

    def slot_booked(self, slot: str | None) -> float | None:
        times = getattr(self.diagnosis.doctors, "no_show_times", None)
        table = getattr(times, "table", None)
        if table is None or slot not in getattr(table, "index", ()):
            return None
        return float(table.loc[slot, "booked"])


# ---------------------------------------------------------------------------------------------------
# Cells


def _cells(clinic) -> tuple[pd.Series, pd.Series | None]:
    """Each charge's and each visit's cell: doctor × the patient's source channel × the coordinator who
    received the patient's first arrived visit (the patient's coordinator, as the coordinators analysis counts)."""
    charges, visits = clinic.charges, clinic.visits
    channel = patient_channels(clinic.patients)
    coordinator = first_coordinators(visits).dropna() if visits is not None else pd.Series(dtype=object)
    doctor = charges["doctor_id"].astype(object) if "doctor_id" in charges else pd.Series(
        None, index=charges.index, dtype=object)
    if visits is not None and "visit_id" in charges and "visit_id" in visits and "doctor_id" in visits:
        by_visit = visits.drop_duplicates("visit_id").set_index("visit_id")["doctor_id"]
        doctor = doctor.where(doctor.notna(), charges["visit_id"].map(by_visit).astype(object))

    def label(doctors: pd.Series, patients: pd.Series) -> pd.Series:
        return (doctors.where(doctors.notna(), UNKNOWN_DOCTOR).astype(str) + _SEP
                + patients.map(channel).fillna(UNKNOWN_CHANNEL).astype(str) + _SEP
                + patients.map(coordinator).fillna(UNKNOWN_COORDINATOR).astype(str))

    charge_cell = label(doctor, charges["patient_id"])
    if visits is None:
        return charge_cell, None
    visit_doctor = visits["doctor_id"].astype(object) if "doctor_id" in visits else pd.Series(
        None, index=visits.index, dtype=object)
    return charge_cell, label(visit_doctor, visits["patient_id"])


def _arrived_visits(visits: pd.DataFrame | None, cell: pd.Series | None, window: Window, index) -> np.ndarray:
    if visits is None or cell is None:
        return np.zeros(len(index))
    day = visits["scheduled_at"].dt.normalize()
    inside = (visits["status"] == "arrived") & day.between(pd.Timestamp(window.start), pd.Timestamp(window.end))
    return cell[inside].value_counts().reindex(index, fill_value=0).to_numpy(float)


def departed_doctors(flags: list[Finding]) -> set[str]:
    """The doctors the doctors analysis found gone (its departure findings)."""
    return {f.subject for f in flags if f.metric == DEPARTURE and f.subject}


# ---------------------------------------------------------------------------------------------------
# The story


@dataclass
class Story(AnalysisResult):
    """What changed between the baseline and the current window, split by cause; every finding counted once.

    ``table``: one row per cause and one for the other changes: ``finding`` (its key, or "other"),
    ``change`` (yuan over the current window; the rows add up to the revenue change) and ``per_year``.
    ``findings``: every finding of the diagnosis, re-counted (`Stake` decline / beyond / profit) and
    placed (`Finding.role`), in the diagnosis' order.
    """

    findings: list[Finding] = field(default_factory=list)
    baseline: Window | None = None
    current: Window | None = None
    year_earlier: Window | None = None
    revenue_baseline: float | None = None
    revenue_current: float | None = None
    revenue_year_earlier: float | None = None
    fell: bool = False
    seasonal: bool = False
    cause_share: float = 0.10

    @property
    def available(self) -> bool:
        """The waterfall only when revenue fell: otherwise the story is its sentence."""
        return self.fell

    @property
    def change(self) -> float | None:
        """R1 − R0 over the current window, yuan; None without a baseline."""
        if self.revenue_baseline is None or self.revenue_current is None:
            return None
        return self.revenue_current - self.revenue_baseline

    @property
    def change_rate(self) -> float | None:
        change = self.change
        return None if change is None or not self.revenue_baseline else change / self.revenue_baseline

    @property
    def per_year(self) -> float | None:
        change = self.change
        return None if change is None else change / _years(self.current)

    @property
    def year_earlier_change(self) -> float | None:
        if self.revenue_year_earlier is None or self.revenue_current is None:
            return None
        return self.revenue_current - self.revenue_year_earlier

    @property
    def decline(self) -> float:
        """The fall a year (positive yuan), 0 when revenue did not fall."""
        return max(-(self.per_year or 0.0), 0.0) if self.fell else 0.0

    @property
    def causes(self) -> list[Finding]:
        return sorted((f for f in self.findings if f.role == CAUSE), key=lambda f: -f.stake.decline)

    @property
    def other_per_year(self) -> float:
        """The change a year that no cause explains (so that the causes and this add up to the change)."""
        return (self.per_year or 0.0) + sum(f.stake.decline for f in self.causes)

    def label(self, finding: Finding, lang: str = "zh") -> str:
        return sentences.label(finding, lang)

    def metrics(self) -> dict:
        window = lambda w: {"start": w.start.isoformat(), "end": w.end.isoformat()} if w else None  # noqa: E731
        change = {"baseline": window(self.baseline), "current": window(self.current),
                  "year_earlier": window(self.year_earlier),
                  "revenue_baseline": _json(self.revenue_baseline), "revenue_current": _json(self.revenue_current),
                  "revenue_year_earlier": _json(self.revenue_year_earlier),
                  "change": _json(self.change), "change_rate": _json(self.change_rate),
                  "per_year": _json(self.per_year), "fell": self.fell, "seasonal": self.seasonal}
        causes = [{"finding": f.key, "metric": f.metric, "subject": f.subject, "per_year": _json(-f.stake.decline)}
                  for f in self.causes]
        return {"story": {"revenue_change": change, "causes": causes,
                          "other_per_year": _json(self.other_per_year if self.fell else None)}}

    # -- what the owner reads -------------------------------------------------------------------------

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """The fall split by cause: each cause's part over the current window and a year, and its share; the
        other changes; the total."""
        if not self.fell:
            return pd.DataFrame()
        causes = self.causes
        years = _years(self.current)
        names = [sentences.label(f, lang) for f in causes] + [
            i18n.pick(lang, "其他变化（合计）", "Other changes (net)"), i18n.pick(lang, "营收变化", "Revenue change")]
        per_year = [-f.stake.decline for f in causes] + [self.other_per_year, self.per_year]
        total = self.per_year
        return pd.DataFrame({
            i18n.pick(lang, "原因", "Cause"): names,
            _versus(self, lang): i18n.money_column([v * years for v in per_year], lang, signed=True),
            i18n.pick(lang, "按年计", "A year"): i18n.money_column(per_year, lang, signed=True),
            i18n.pick(lang, "占下降", "Share of the fall"): [i18n.rate(v / total, lang) if total else "—"
                                                          for v in per_year],
        })

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """A waterfall over the windows: the baseline's revenue, each cause, the other changes, the current
        revenue (万元 in zh), so that the bars are the revenues the owner knows."""
        ax = ax if ax is not None else plt.gca()
        scale, unit = (1e4, "万元") if lang == "zh" else (1e3, "¥ thousand")
        years = _years(self.current)
        r0, r1 = self.revenue_baseline / scale, self.revenue_current / scale
        parts = [-f.stake.decline * years / scale for f in self.causes] + [self.other_per_year * years / scale]
        labels = ([i18n.window(self.baseline.start, self.baseline.end, lang)]
                  + [_wrap(sentences.label(f, lang, short=True), lang) for f in self.causes]
                  + [i18n.pick(lang, "其他变化", "Other\nchanges"), i18n.window(self.current.start, self.current.end, lang)])
        waterfall(r0, parts, r1, labels=labels, colors=[ACTION_RED] * len(self.causes) + [PALETTE[4]], lang=lang, ax=ax,
                  **kwargs)
        ax.set_ylabel(unit)
        ax.set_xlabel(i18n.pick(lang, "红色：营收下降的原因（驱动树分解，各部分相加等于变化）",
                                "red: causes of the fall (the driver tree: the parts add up to the change)"),
                      fontsize="small", color=PALETTE[4])
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="x", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        causes = self.causes
        if not causes:
            return i18n.pick(lang, "营收变化按原因分解", "The revenue change by cause")
        first = causes[0]
        share = first.stake.decline / self.decline if self.decline else None
        return i18n.pick(
            lang, f"营收下降最大的原因是{sentences.label(first, 'zh', short=True)}，占下降的{i18n.rate(share, 'zh')}",
            f"The largest cause of the fall: {sentences.label(first, 'en', short=True)}, {i18n.rate(share, 'en')} of it")


def _versus(story: Story, lang: str) -> str:
    """'2025年下半年比上半年' / 'H2 2025 vs H1 2025': the two windows, as a column heads them."""
    now = i18n.window(story.current.start, story.current.end, lang)
    then = i18n.window(story.baseline.start, story.baseline.end, lang)
    return i18n.pick(lang, f"{now}比{then}", f"{now} vs {then}")


def _wrap(text: str, lang: str, width: int = 8) -> str:
    if lang != "zh":
        words, lines, line = text.split(), [], ""
        for word in words:
            if line and len(line) + len(word) > 14:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        return "\n".join([*lines, line])
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


# ---------------------------------------------------------------------------------------------------
# Telling it


def _windows(drivers) -> tuple[DriverTree | None, DriverTree | None]:
    recent, period, year_earlier = drivers.recent, drivers.period, drivers.year_earlier
    tree = recent if isinstance(recent, DriverTree) else period if isinstance(period, DriverTree) else None
    earlier = year_earlier if isinstance(year_earlier, DriverTree) else None
    if tree is not None and earlier is not None and (earlier.start, earlier.end) != (tree.start, tree.end):
        earlier = None
    return tree, earlier


def _current_window(clinic, tree: DriverTree | None) -> Window:
    if tree is not None:
        return Window(tree.start, tree.end)
    period = clinic.config.period
    return Window(period.start, period.end)


def _evidence_order(flags: list[Finding]) -> list[Finding]:
    """The analyses' own order of evidence: red first, causes before symptoms, their own estimates."""
    return sorted(flags, key=lambda f: (f.severity != "red", f.evidence == "symptom", -f.revenue_at_stake, -f.gap))


def _standing(f: Finding, lever: Lever | None, baseline: Window | None, thresholds) -> bool:
    """Past its line before the fall too: its own earlier value, or a value over a window covering the baseline."""
    if lever is not None and lever.change:
        return False
    if f.reference_window is not None and f.reference is not None and f.threshold in thresholds:
        return thresholds[f.threshold].breached(f.reference)
    if baseline is None or f.window is None:
        return False
    return f.window.start <= baseline.start and f.window.end >= baseline.end


def _merged_into(f: Finding, flags: list[Finding], departed: set[str]) -> Finding | None:
    """The finding that already holds this one's loss: the departure of its doctor, its channel's conversion."""
    if f.metric == DEPARTURE:
        return None
    if f.segment is not None and f.segment.kind == "doctor" and f.subject in departed:
        return next(g for g in flags if g.metric == DEPARTURE and g.subject == f.subject)
    if f.metric == "roi_weekly_latest":
        return next((g for g in flags if g.kind in CONVERSION_KINDS and g.subject == f.subject), None)
    return None


def tell(diagnosis) -> Story:
    """The story of a diagnosed clinic (`playbook.diagnosis.Diagnosis`): its windows, the fall split by
    cause, and every finding re-counted by the driver tree and placed."""
    clinic, thresholds = diagnosis.clinic, diagnosis.thresholds
    flags = _evidence_order(diagnosis.flags())
    tree, earlier = _windows(diagnosis.drivers)
    current = _current_window(clinic, tree)
    baseline = Window(tree.base_start, tree.base_end) if tree is not None else None
    alert = thresholds[ALERT]
    fell = bool(tree is not None and tree.revenue_change is not None and alert.breached(tree.revenue_change))
    seasonal = bool(fell and earlier is not None and not alert.breached(earlier.revenue_change))
    fell = fell and not seasonal
    cause_share = thresholds["cause_share_of_fall"].value
    story = Story("story", pd.DataFrame(), "", "", baseline=baseline, current=current,
                  year_earlier=Window(earlier.base_start, earlier.base_end) if earlier is not None else None,
                  revenue_baseline=tree.revenue_previous if tree is not None else None,
                  revenue_current=tree.revenue_current if tree is not None else None,
                  revenue_year_earlier=earlier.revenue_previous if earlier is not None else None,
                  fell=fell, seasonal=seasonal, cause_share=cause_share)
    valued = _count(clinic, diagnosis, flags, story, thresholds)
    story.findings = [valued[id(f)] for f in diagnosis.flags()]  # the diagnosis' order; the ranking sorts
    story.table = pd.DataFrame(
        [{"finding": f.key, "change": -f.stake.decline * _years(current), "per_year": -f.stake.decline}
         for f in story.causes]
        + ([{"finding": "other", "change": story.other_per_year * _years(current), "per_year": story.other_per_year}]
           if fell else []), columns=["finding", "change", "per_year"])
    story.zh, story.en = _sentences(story)
    return story


def _count(clinic, diagnosis, flags: list[Finding], story: Story, thresholds) -> dict[int, Finding]:
    """Every finding re-counted by the driver tree and placed in the story; keyed by the original's id."""
    departed = departed_doctors(flags)
    current = story.current
    cells = effects = None
    if clinic.charges is not None and len(clinic.charges):
        charge_cell, visit_cell = _cells(clinic)
        base = story.baseline or current
        effects = cell_effects(clinic.charges, clinic.visits, charge_cell=charge_cell, visit_cell=visit_cell,
                               start=current.start, end=current.end, base_start=base.start, base_end=base.end)
        split = effects.index.to_series().str.split(_SEP, n=2, expand=True)
        cells = pd.DataFrame({"doctor": split[0], "channel": split[1], "coordinator": split[2]}, index=effects.index)
        cells["visits"] = _arrived_visits(clinic.visits, visit_cell, current, effects.index)
    counts = _Counts(clinic, diagnosis, current)
    referral = set(clinic.config.referral)
    per_year = 1 / _years(current)
    # claims: one owner (an index into ``flags``) per cell and driver; -1 is unclaimed
    owner = np.full((0 if cells is None else len(cells), len(DRIVERS)), -1)
    masks: dict[int, np.ndarray] = {}
    order = sorted(range(len(flags)), key=lambda i: (flags[i].metric != DEPARTURE,
                                                    LEVERS.get(flags[i].kind, Lever(())).scope == "clinic"))
    merged = {i: _merged_into(f, flags, departed) for i, f in enumerate(flags)}
    for i in order:
        f, lever = flags[i], LEVERS.get(flags[i].kind)
        if lever is None or cells is None or merged[i] is not None or f.evidence == "symptom":
            continue
        mask = _select(f, lever, cells, referral)
        masks[i] = mask
        for driver in lever.drivers:
            column = DRIVERS.index(driver)
            owner[mask & (owner[:, column] == -1), column] = i
    valued: dict[int, Finding] = {}
    for i, f in enumerate(flags):
        valued[id(f)] = _place(i, f, flags, merged[i], masks.get(i), owner, effects, cells, counts, story, thresholds,
                               per_year)
    return valued


def _select(f: Finding, lever: Lever, cells: pd.DataFrame, referral: set[str]) -> np.ndarray:
    if lever.scope == "clinic" or f.segment is None and lever.scope == "segment":
        return np.ones(len(cells), bool)
    if lever.scope == "referral":
        return cells["channel"].isin(referral).to_numpy()
    column = {"doctor": "doctor", "channel": "channel", "consultant": "coordinator"}.get(f.segment.kind)
    if column is None:
        return np.ones(len(cells), bool)
    return (cells[column] == f.subject).to_numpy()


def _place(i: int, f: Finding, flags, merged: Finding | None, mask, owner, effects, cells, counts: _Counts,
           story: Story, thresholds, per_year: float) -> Finding:
    lever = LEVERS.get(f.kind)
    facts = {**f.facts, "estimate": f.stake.amount}  # the analysis' own number, which some sentences state
    if f.evidence == "symptom":
        return replace(f, role=SYMPTOM, stake=Stake(0.0, "story"), facts=facts)
    if merged is not None:
        return replace(f, role=MERGED, stake=Stake(0.0, "merged", counted_in=merged.key), facts=facts)
    if _is_cost(f):
        return replace(f, role=PROFIT, stake=Stake(0.0, "cost_excess", profit=f.stake.amount), facts=facts)
    if lever is None or mask is None:
        return replace(f, role=RISK, stake=Stake(0.0, "none"), facts=facts)
    mine = owner == i
    held = owner[mask][owner[mask] >= 0]
    if mask.any() and not mine[mask].any() and len(held):  # every cell and driver it moves is another's
        holder = flags[int(np.bincount(held).argmax())]
        return replace(f, role=MERGED, stake=Stake(0.0, "merged", counted_in=holder.key), facts=facts)
    decline = 0.0
    if story.fell:
        lost = -float(effects[list(DRIVERS)].to_numpy()[mine].sum())
        decline = max(lost, 0.0) * per_year
    beyond = 0.0
    short = lever.short(f, counts) if lever.short is not None and lever.unit else None
    if short:
        revenue = effects["revenue_current"].to_numpy()
        column = DRIVERS.index(lever.drivers[0])
        own = revenue[mask & mine[:, column]].sum()
        whole = revenue[mask].sum()
        units = {"treated": effects["treated_current"], "patient": effects["arrivals_current"],
                 "visit": cells["visits"]}[lever.unit].to_numpy()[mask].sum()
        if units > 0 and whole > 0:
            beyond = max(short * whole / units * (own / whole) - decline, 0.0)
    amount = decline + beyond
    if story.fell and decline >= story.cause_share * story.decline and decline > 0:
        role = CAUSE
    elif _standing(f, lever, story.baseline, thresholds):
        role = STANDING
    elif amount > 0:
        role = UPSIDE
    else:
        role = RISK
    method = "driver_tree" if amount > 0 else "none"
    return replace(f, role=role, stake=Stake(round(amount, 2), method, decline=round(decline, 2),
                                             beyond=round(beyond, 2)), facts=facts)


# ---------------------------------------------------------------------------------------------------
# Sentences


def _sentences(story: Story) -> tuple[str, str]:
    return sentences.story(story, "zh"), sentences.story(story, "en")

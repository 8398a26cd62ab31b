"""The treatment coordinator's scorecard (咨询师) [S4]: who turns first visits into treatment, and how.

[S4] sets the coordinator's targets in this order: conversion of the patients received each day (成交),
whether each leaves with the next visit booked (留存), completion of the whole treatment plan and its
interruptions (复购), referrals (推荐), and only then the month's revenue; and their pay: a high base
with 40–50% tied to these targets, plus a lower commission per deal. A coordinator paid on commission
"picks cases" (挑单): takes the implant, orthodontic and prosthetic complaints and neglects the basic
ones, and the whole clinic's conversion falls.

Each patient belongs to the coordinator on their first arrived visit (the visits export's
``consultant_id``, 咨询师); patients whose first arrived visit names none are left out. Per
coordinator, over the new patients of the period:

- ``new_patients``, ``first_visit_conversion``: the contract's definition (`playbook.tables.new_patient_table`);
- ``conversion_basic`` / ``conversion_high_value``: the same, split by the complaint the patient came
  with: high-value when the first visit's department is an implant, orthodontic or prosthetic one
  ([S0]'s high-value keywords, `playbook.catalogue`) or a high-value item was charged that day; basic
  otherwise. A coordinator behind only on the basic complaints is the signature of 挑单;
- ``next_visit_booked``: `playbook.reappointment` over the visits the coordinator attended;
- ``plans_completed``, ``plans_interrupted``, ``plan_completion``: their patients' accepted plans created
  in the period (completed / ended, as `playbook.doctors.plan_completion` counts them);
- ``referrals``: new patients of the period referred (``referrer_patient_id``) by one of their patients;
- ``revenue``: what their patients paid in the period.

Flag: a coordinator with at least ``MIN_NEW_PATIENTS`` new patients whose conversion is
``consultant_conversion_gap`` (10 points, playbook default) or more below the other coordinators'
pooled conversion. Its revenue at stake: the gap × their new patients a year × what a converted new
patient of the clinic pays in the conversion window (the style of `playbook.doctors.doctor_conversion`).

kpis.json: ``consultants`` (name → the numbers above, shaped like ``channels``); ``kpis.consultant_conversion_min``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import numpy as np
import pandas as pd

from . import diagnosis, i18n, sentences
from .catalogue import HIGH_VALUE, classify_items
from .doctors import _value_of_a_conversion
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, PALETTE, no_data, reference_line, set_title
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window
from .tables import ACCEPTED_PLAN, first_arrived_visits, first_coordinators, new_patient_table
from .thresholds import DEFAULTS, Threshold

MIN_NEW_PATIENTS = 20  # fewer make a coordinator's conversion noise (playbook default, as for doctors)
BASIC, HIGH = "basic", HIGH_VALUE
COMPLAINTS = {BASIC: ("基础主诉", "basic complaints"), HIGH: ("高值主诉", "high-value complaints")}


@dataclass
class CoordinatorScorecard(AnalysisResult):
    """Per coordinator, [S4]'s scorecard; ``by_department``: conversion by the first visit's department."""

    by_department: pd.DataFrame = None  # coordinator x department -> new patients, conversion
    line: float = field(kw_only=True, default=DEFAULTS["consultant_conversion_gap"].value)
    window: Window | None = None

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Conversion per coordinator, split by complaint (basic, high-value), the flagged coordinator red."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.sort_values("first_visit_conversion")
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        y = np.arange(len(t))
        ax.barh(y + 0.2, t["conversion_basic"].fillna(0) * 100, height=0.4,
                color=[ACTION_RED if n in flagged else PALETTE[1] for n in t.index],
                label=i18n.pick(lang, *COMPLAINTS[BASIC]), **kwargs)
        ax.barh(y - 0.2, t["conversion_high_value"].fillna(0) * 100, height=0.4, color=PALETTE[4],
                label=i18n.pick(lang, *COMPLAINTS[HIGH]))
        for yy, (basic, high) in enumerate(zip(t["conversion_basic"], t["conversion_high_value"])):
            ax.text(_num(basic) * 100 if _num(basic) is not None else 0, yy + 0.2, f" {i18n.rate(_num(basic), lang)}",
                    va="center", fontsize="small")
            ax.text(_num(high) * 100 if _num(high) is not None else 0, yy - 0.2, f" {i18n.rate(_num(high), lang)}",
                    va="center", fontsize="small")
        picking = next((f for f in self.flags if f.facts.get("cherry_picking")), None)
        if picking is not None:  # the title compares her basic complaints with the others': draw that line
            others = picking.facts["basic_others"]
            reference_line(ax, others * 100, i18n.pick(lang, f"其他咨询师的基础主诉{i18n.rate(others, lang)}",
                                                       f"the others' basic complaints {i18n.rate(others, lang)}"),
                           y=len(t) - 0.45)
        else:
            overall = self.table["converted"].sum() / self.table["new_patients"].sum()
            reference_line(ax, overall * 100, i18n.pick(lang, f"全部咨询师{i18n.rate(overall, lang)}",
                                                        f"all coordinators {i18n.rate(overall, lang)}"), y=len(t) - 0.45)
        ax.set_yticks(y, list(t.index))
        ax.set_xlim(0, 118)
        ax.set_xlabel(i18n.pick(lang, "初诊成交率（%），按新患者首次就诊的主诉", "first-visit conversion (%), by the complaint"))
        ax.legend(handles=[Patch(color=PALETTE[1], label=i18n.pick(lang, *COMPLAINTS[BASIC])),
                           Patch(color=PALETTE[4], label=i18n.pick(lang, *COMPLAINTS[HIGH]))],
                  loc="upper left", bbox_to_anchor=(0, -0.2), ncol=2, fontsize="small")
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the coordinator far behind the others (and whether it is 挑单), else the spread."""
        when = i18n.window(self.window.start, self.window.end, lang) if self.window else ""
        if self.flags:
            f = self.flags[0]
            if f.facts.get("cherry_picking"):
                return i18n.pick(lang, f"{when}{f.subject}的基础主诉患者只成交{i18n.rate(f.facts['basic_own'], lang)}，"
                                       f"其他咨询师{i18n.rate(f.facts['basic_others'], lang)}；高值主诉相当：挑单（红色）",
                                 f"In {when} {f.subject} converted {i18n.rate(f.facts['basic_own'], lang)} of basic "
                                 f"complaints against {i18n.rate(f.facts['basic_others'], lang)} for the others, and "
                                 f"high-value ones alike: case-picking (red)")
            return i18n.pick(lang, f"{when}{f.subject}初诊成交率{i18n.rate(f.facts['conversion'], lang)}，"
                                   f"落后其他咨询师（{i18n.rate(f.reference, lang)}）（红色）",
                             f"In {when} {f.subject} converted {i18n.rate(f.facts['conversion'], lang)}, behind the "
                             f"others' {i18n.rate(f.reference, lang)} (red)")
        t = self.table
        if t.empty:
            return i18n.pick(lang, "各咨询师初诊成交率", "First-visit conversion by coordinator")
        low, high = t["first_visit_conversion"].min(), t["first_visit_conversion"].max()
        if len(t) == 1:
            return i18n.pick(lang, f"{when}{t.index[0]}接待的新患者初诊成交率{i18n.rate(low, lang)}",
                             f"In {when} {t.index[0]} converted {i18n.rate(low, lang)} of new patients")
        return i18n.pick(lang, f"{when}各咨询师初诊成交率在{i18n.rate(low, lang)}–{i18n.rate(high, lang)}之间，没有人明显落后",
                         f"In {when} coordinators converted {i18n.rate(low, lang)}–{i18n.rate(high, lang)}; none is far behind")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        return pd.DataFrame({
            i18n.pick(lang, "咨询师", "Coordinator"): t.index,
            i18n.pick(lang, "接诊新患者", "New patients"): [i18n.count(v, lang) for v in t["new_patients"]],
            i18n.pick(lang, "初诊成交率", "Conversion"): [i18n.rate(_num(v), lang) for v in t["first_visit_conversion"]],
            i18n.pick(lang, "基础主诉成交", "Basic complaints"): [i18n.rate(_num(v), lang) for v in t["conversion_basic"]],
            i18n.pick(lang, "高值主诉成交", "High-value complaints"): [i18n.rate(_num(v), lang) for v in t["conversion_high_value"]],
            i18n.pick(lang, "约好下次就诊", "Next visit booked"): [i18n.rate(_num(v), lang) for v in t["next_visit_booked"]],
            i18n.pick(lang, "完诊率（中断）", "Plans completed (interrupted)"): [
                _rate_of(r, n, lang) for r, n in zip(t["plan_completion"], t["plans_interrupted"])],
            i18n.pick(lang, "带来转介绍", "Referrals"): [i18n.count(v, lang) for v in t["referrals"]],
            i18n.pick(lang, "患者实收", "Revenue"): i18n.money_column([_num(v) for v in t["revenue"]], lang),
        })

    def departments_for(self, lang: str = "zh") -> pd.DataFrame:
        """Conversion by the first visit's department, one column per coordinator: where the gap is."""
        d = self.by_department
        if d is None or d.empty:
            return pd.DataFrame()
        rates = d.pivot_table(index="department", columns="consultant_id", values="conversion")
        counts = d.pivot_table(index="department", columns="consultant_id", values="new_patients")
        out = pd.DataFrame({i18n.pick(lang, "首诊科室", "First visit's department"):
                            [sentences.segment(Segment("department", x), lang, short=True) for x in rates.index]})
        for name in rates.columns:
            out[name] = [_rate_of(r, n, lang) for r, n in zip(rates[name], counts[name])]
        return out

    def metrics(self) -> dict:
        t = self.table
        keys = ("new_patients", "first_visit_conversion", "conversion_basic", "conversion_high_value",
                "next_visit_booked", "plans_completed", "plans_interrupted", "plan_completion", "referrals", "revenue")
        judged = t.loc[t["new_patients"] >= MIN_NEW_PATIENTS, "first_visit_conversion"]
        counts = ("new_patients", "plans_completed", "plans_interrupted", "referrals")
        return {"kpis": {"consultant_conversion_min": _json(judged.min()) if len(judged) else None},
                "consultants": {str(name): {k: _json(int(row[k]) if k in counts else row[k]) for k in keys}
                                for name, row in t.iterrows()}}


def _rate_of(rate, n, lang: str) -> str:
    """A rate and its count in brackets, as a table cell: 56.9%（146）; a dash where there is none."""
    if pd.isna(n):
        return "—"
    return i18n.pick(lang, f"{i18n.rate(_num(rate), lang)}（{int(n)}）", f"{i18n.rate(_num(rate), lang)} ({int(n)})")


def complaint_tiers(first: pd.DataFrame, charges: pd.DataFrame) -> pd.Series:
    """patient → ``high_value`` or ``basic``: the complaint of the first visit (its department's name holds a
    high-value keyword of [S0], or a high-value item was charged on its day)."""
    department = first["department"].astype("str").where(first["department"].notna(), "")
    by_department = classify_items(department) == HIGH_VALUE
    paid = charges[(charges["tier"] == HIGH_VALUE) & (charges["amount_paid"] > 0)]
    paid = pd.DataFrame({"patient_id": paid["patient_id"], "day": paid["paid_at"].dt.normalize()}).drop_duplicates()
    day = first["scheduled_at"].dt.normalize()
    keys = pd.MultiIndex.from_arrays([first.index, day])
    by_item = keys.isin(pd.MultiIndex.from_frame(paid))
    return pd.Series(np.where(by_department.to_numpy() | by_item, HIGH, BASIC), index=first.index)


def scorecard(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *, start: dt.date, end: dt.date,
              plans: pd.DataFrame | None = None, next_booked: pd.Series | None = None,
              thresholds: dict[str, Threshold] | None = None) -> CoordinatorScorecard:
    """[S4]'s scorecard per coordinator of the first arrived visit, over the new patients of ``start``..``end``.

    Parameters
    ----------
    patients, visits, charges : canonical tables; visits with ``consultant_id``, charges with ``tier``.
    plans : canonical treatment_plans (optional): completion and interruptions of the coordinators' patients.
    next_booked : coordinator → share of their visits after which the next was booked (`playbook.reappointment`).
    thresholds : ``consultant_conversion_gap`` (10 points, playbook default).
    """
    line = (thresholds or DEFAULTS)["consultant_conversion_gap"]
    first = first_arrived_visits(visits)
    coordinator = first_coordinators(visits)
    new = new_patient_table(patients, visits, charges, start=start, end=end)
    new["consultant_id"] = coordinator.reindex(new.index)
    new = new[new["consultant_id"].notna()]
    window = Window(start, end)
    if new.empty:
        return Unavailable.because(
            "coordinators", needs=["visits.consultant_id"], nulls=("consultant_conversion_min",),
            zh_reason="分析期内没有新患者的首次就诊记下了咨询师，无法按咨询师考核；请在预约到诊记录中登记接待的咨询师。",
            en_reason="No new patient's first visit in the period names a coordinator: record the coordinator who "
                      "received each patient in the visits.")
    new["complaint"] = complaint_tiers(first.loc[new.index], charges)
    new["department"] = first.loc[new.index, "department"].astype("str").where(first.loc[new.index, "department"].notna(),
                                                                              "unknown")
    grouped = new.groupby("consultant_id")
    table = grouped.agg(new_patients=("converted", "size"), converted=("converted", "sum"))
    table["first_visit_conversion"] = table["converted"] / table["new_patients"]
    for tier, column in ((BASIC, "conversion_basic"), (HIGH, "conversion_high_value")):
        part = new[new["complaint"] == tier].groupby("consultant_id")["converted"]
        table[column] = part.mean().reindex(table.index)
        table[f"new_{tier}"] = part.size().reindex(table.index).fillna(0).astype(int)
    table["next_visit_booked"] = (next_booked if next_booked is not None else pd.Series(dtype=float)).reindex(table.index)
    table = table.join(_plans(plans, coordinator, start, end), how="left")
    table[["plans_completed", "plans_interrupted"]] = table[["plans_completed", "plans_interrupted"]].fillna(0).astype(int)
    table["referrals"] = _referrals(patients, coordinator, new.index).reindex(table.index).fillna(0).astype(int)
    table["revenue"] = _revenue(charges, coordinator, start, end).reindex(table.index).fillna(0.0)
    table = table.sort_values("first_visit_conversion")
    by_department = (new.groupby(["consultant_id", "department"])["converted"].agg(new_patients="size", conversion="mean")
                     .reset_index())

    value = _value_of_a_conversion(new, charges)
    years = max((end - start).days + 1, 1) / 365.0
    flags = []
    for name, row in table.iterrows():
        others = table.drop(index=name)
        if row.new_patients < MIN_NEW_PATIENTS or others["new_patients"].sum() < MIN_NEW_PATIENTS:
            continue
        rest = others["converted"].sum() / others["new_patients"].sum()
        gap = rest - row.first_visit_conversion
        if not line.breached(gap):
            continue
        facts = {"new_patients": int(row.new_patients), "conversion": float(row.first_visit_conversion),
                 **_complaint_gaps(new, name, line)}
        flags.append(Finding.past(
            line, gap, kind="consultant_conversion", problem_class="management", segment=Segment("consultant", name),
            window=window, reference=float(rest),
            stake=Stake(float(gap * row.new_patients / years * value), "consultant_conversion_gap"), facts=facts))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    zh, en = _sentences(table, flags, window)
    return CoordinatorScorecard("coordinators", table, zh, en, flags, by_department=by_department, line=line.value,
                                window=window)


def _complaint_gaps(new: pd.DataFrame, name: str, line: Threshold) -> dict:
    """The coordinator's conversion and the others' by complaint, and whether the gap sits in the basic
    complaints only ([S4]'s 挑单)."""
    out = {}
    for tier, key in ((BASIC, "basic"), (HIGH, "high")):
        part = new[new["complaint"] == tier]
        own, rest = part[part["consultant_id"] == name], part[part["consultant_id"] != name]
        out[f"{key}_own"] = float(own["converted"].mean()) if len(own) >= MIN_NEW_PATIENTS else None
        out[f"{key}_others"] = float(rest["converted"].mean()) if len(rest) >= MIN_NEW_PATIENTS else None
    basic_gap = None if None in (out["basic_own"], out["basic_others"]) else out["basic_others"] - out["basic_own"]
    high_gap = None if None in (out["high_own"], out["high_others"]) else out["high_others"] - out["high_own"]
    out["cherry_picking"] = bool(basic_gap is not None and line.breached(basic_gap)
                                 and (high_gap is None or not line.breached(high_gap)))
    return out


def _plans(plans: pd.DataFrame | None, coordinator: pd.Series, start: dt.date, end: dt.date) -> pd.DataFrame:
    columns = ["plans_completed", "plans_interrupted", "plan_completion"]
    if plans is None or plans.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    made = plans["created_at"].dt.normalize().between(pd.Timestamp(start), pd.Timestamp(end))
    accepted = plans[made & plans["status"].isin(ACCEPTED_PLAN)]
    owner = coordinator.reindex(accepted["patient_id"]).to_numpy()
    frame = pd.DataFrame({"consultant_id": owner, "completed": (accepted["status"] == "completed").to_numpy(),
                          "interrupted": (accepted["status"] == "interrupted").to_numpy()}).dropna(subset=["consultant_id"])
    out = frame.groupby("consultant_id").agg(plans_completed=("completed", "sum"), plans_interrupted=("interrupted", "sum"))
    ended = out["plans_completed"] + out["plans_interrupted"]
    out["plan_completion"] = (out["plans_completed"] / ended).where(ended > 0)
    return out


def _referrals(patients: pd.DataFrame, coordinator: pd.Series, new: pd.Index) -> pd.Series:
    """New patients of the period referred by a patient of each coordinator."""
    if "referrer_patient_id" not in patients or patients["referrer_patient_id"].isna().all():
        return pd.Series(dtype=int)
    referred = patients[patients["patient_id"].isin(new) & patients["referrer_patient_id"].notna()]
    return coordinator.reindex(referred["referrer_patient_id"]).dropna().value_counts()


def _revenue(charges: pd.DataFrame, coordinator: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    paid = charges[charges["paid_at"].dt.normalize().between(pd.Timestamp(start), pd.Timestamp(end))]
    return paid["amount_paid"].groupby(coordinator.reindex(paid["patient_id"]).to_numpy()).sum()


def _sentences(table: pd.DataFrame, flags: list[Finding], window: Window) -> tuple[str, str]:
    when_zh, when_en = i18n.window(window.start, window.end, "zh"), i18n.window(window.start, window.end, "en")
    if flags:
        return sentences.render(flags[0], "zh"), sentences.render(flags[0], "en")
    if len(table) == 1:
        name, row = table.index[0], table.iloc[0]
        return (f"{when_zh}只有一位咨询师（{name}）登记在初诊上，接待的{i18n.count(row.new_patients, 'zh')}位新患者初诊成交率"
                f"{i18n.rate(row.first_visit_conversion, 'zh')}；没有可比较的同事，按[S4]的考核表逐月看他自己的变化。",
                f"In {when_en} one coordinator ({name}) is named on first visits, converting "
                f"{i18n.rate(row.first_visit_conversion, 'en')} of {i18n.count(row.new_patients, 'en')} new patients; with "
                f"no colleague to compare, follow [S4]'s scorecard month by month.")
    low, high = table["first_visit_conversion"].min(), table["first_visit_conversion"].max()
    return (f"{when_zh}各咨询师接待的新患者初诊成交率在{i18n.rate(low, 'zh')}–{i18n.rate(high, 'zh')}之间，没有人落后其他咨询师"
            f"超过{DEFAULTS['consultant_conversion_gap'].value * 100:g}个百分点；继续按[S4]的考核表（成交、预约下次、完诊、推荐，最后才是业绩）每月考核。",
            f"In {when_en} coordinators converted {i18n.rate(low, 'en')}–{i18n.rate(high, 'en')} of their new patients, "
            f"none more than {DEFAULTS['consultant_conversion_gap'].value * 100:g} points behind the others; keep scoring "
            f"them monthly on [S4]'s card (conversion, next visit booked, completion, referrals, then revenue).")


@dataclass
class CoordinatorsSection(Section):
    scorecard: AnalysisResult = field(default=None)


def diagnose(clinic, thresholds: dict[str, Threshold]) -> CoordinatorsSection:
    """Wire the clinic's tables into the scorecard (chapter 05)."""
    start, end = clinic.config.period.start, clinic.config.period.end
    if not clinic.has("visits", "consultant_id"):
        return CoordinatorsSection(scorecard=Unavailable.because(
            "coordinators", needs=["visits.consultant_id"], nulls=("consultant_conversion_min",),
            zh_reason="预约到诊记录中没有“咨询师”列，无法按[S4]考核咨询师的成交、预约下次复诊、完诊与推荐；请导出含接待咨询师的预约记录。",
            en_reason="The visits export has no coordinator (咨询师) column, so [S4]'s coordinator scorecard cannot be "
                      "made; export the visits with the coordinator who received each patient."))
    rebooked = diagnosis.diagnose(clinic).section("reappointment").reappointment  # computed once per clinic
    next_booked = rebooked.shares("consultant")["rate"] if rebooked.available else None
    return CoordinatorsSection(scorecard=scorecard(
        clinic.patients, clinic.visits, clinic.charges, start=start, end=end, plans=clinic.table("treatment_plans"),
        next_booked=next_booked, thresholds=thresholds))

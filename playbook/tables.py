"""The canonical tables reduced to what the metrics count, and the windows they count over.

Every chapter, the weekly pack, the prescriptions' baselines and the evaluation series start from the
same building blocks, defined here once (method.md, "The definitions the playbook computes"):

- the **data start** and **data end**: the first and last day with a visit or a charge;
- the **first arrival** of a patient: the day of the earliest arrived visit in all the data;
- the **new-patient table**: one row per patient first arriving in a window, with the source channel
  and whether they converted (paid, amount > 0, for a profit or high-value item on a day from the
  first arrival up to ``CONVERSION_WINDOW_DAYS`` after it, both included);
- the **new-patient economics**: that table plus what ``REVENUE_WINDOW_DAYS`` brought;
- a **charge's department**: the charge's own, else its visit's (``visit_id``);
- a **lead's arrival**: the export's ``arrived`` column, else a lead naming a patient with an arrived visit;
- **daily spend**: a campaign's spend spread evenly over its days;
- `MetricTables`: the tables cut at a day, one frame per kind of event (new patients, their returns,
  visits, payments, leads, plans), which `playbook.metrics` counts in any window.

A timestamp counts on its day; windows are ``start``..``end`` with both days included.
"""
from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from .catalogue import HIGH_VALUE, PROFIT

# The windows of the method, one definition each.
CONVERSION_WINDOW_DAYS = 30  # contract: paid "from their first arrival up to 30 days after it" [S2]
SETTLE_DAYS = CONVERSION_WINDOW_DAYS  # a conversion, a lead's arrival, a plan's acceptance: known after 30 days
REVENUE_WINDOW_DAYS = 90  # revenue of a new patient "within 90 days of first arrival" (funnel, break-even)
RETURN_WINDOW_DAYS = 365  # contract: return_within_12m; the loyalty chapter's year
ROI_WEEKS = 13  # a channel's weekly ROI is that of the 13 weeks ending with the week (playbook default)
BASELINE_WEEKS = 13  # a task's baseline: the clinic's own last three months (13 weeks) before the plan [S0]

UNKNOWN_CHANNEL = "unknown"  # the source channel of a patient the export gives none for
# A booking's time slot: weekday or weekend × the part of the day its hour falls in (first hour, last + 1).
SLOT_HOURS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
TREATMENT_TIERS = (PROFIT, HIGH_VALUE)  # "paid for treatment" (the contract's conversion) [S0] tiers
ACCEPTED_PLAN = ("accepted", "completed", "interrupted")  # a plan the patient said yes to, whatever came later


def _ts(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _day(series: pd.Series) -> pd.Series:
    return series.dt.normalize()


def data_start(visits: pd.DataFrame, charges: pd.DataFrame) -> pd.Timestamp | None:
    """The first day with a visit or a charge: before it, the data cannot show who came."""
    days = [s.min() for s in (visits["scheduled_at"], charges["paid_at"]) if s.notna().any()]
    return _ts(min(days)) if days else None


def data_end(visits: pd.DataFrame, charges: pd.DataFrame) -> pd.Timestamp | None:
    """The last day with a visit or a charge: what is after it has not happened in the data yet."""
    days = [s.max() for s in (visits["scheduled_at"], charges["paid_at"]) if s.notna().any()]
    return _ts(max(days)) if days else None


RECENT_MONTHS = 6  # "now" for a metric judged lately: the last six months of the period (playbook default)


def recent_window(start: dt.date, end: dt.date, months: int = RECENT_MONTHS) -> tuple[dt.date, dt.date | None]:
    """The first day of the period's last ``months`` months, and the last day before it; when the period is
    shorter than twice that, the whole period is "recent" and there is no before (None)."""
    recent = (pd.Timestamp(end) + pd.Timedelta(days=1) - pd.DateOffset(months=months)).date()
    if (pd.Timestamp(recent) - pd.DateOffset(months=months)).date() < start:
        return start, None
    return recent, recent - dt.timedelta(days=1)


def revenue_per_arrived_visit(visits: pd.DataFrame, charges: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """The period's revenue / its arrived visits: what an average visit earns, for a revenue at stake (0 when
    the period has no arrivals)."""
    arrivals = int(((visits["status"] == "arrived") & _day(visits["scheduled_at"]).between(_ts(start), _ts(end))).sum())
    revenue = float(charges.loc[_day(charges["paid_at"]).between(_ts(start), _ts(end)), "amount_paid"].sum())
    return max(revenue / arrivals, 0.0) if arrivals else 0.0


def first_arrived_visits(visits: pd.DataFrame) -> pd.DataFrame:
    """Each patient's first arrived visit (the earliest, by time, then visit id): its row, indexed by patient."""
    arrived = visits[visits["status"] == "arrived"]
    order = ["scheduled_at", "visit_id"] if "visit_id" in arrived else ["scheduled_at"]
    return arrived.sort_values(order, kind="stable").drop_duplicates("patient_id").set_index("patient_id")


def first_arrivals(visits: pd.DataFrame) -> pd.Series:
    """The day of each patient's earliest arrived visit in all the data (not only the period)."""
    arrived = visits[visits["status"] == "arrived"]
    return _day(arrived["scheduled_at"]).groupby(arrived["patient_id"]).min().rename("first_arrival")


def time_slots(when: pd.Series) -> pd.Series:
    """Each booking's time slot: ``weekday_morning`` … ``weekend_evening`` (`SLOT_HOURS`), from its time."""
    weekend = np.where(when.dt.day_of_week >= 5, "weekend", "weekday")
    hour = when.dt.hour
    part = np.select([hour < SLOT_HOURS["morning"][1], hour < SLOT_HOURS["afternoon"][1]], ["morning", "afternoon"],
                     "evening")
    return pd.Series(weekend, index=when.index).str.cat(pd.Series(part, index=when.index), sep="_")


def first_doctors(visits: pd.DataFrame) -> pd.Series:
    """The doctor of each patient's earliest arrived visit (first arrival, earliest time that day); the
    doctor a new patient is counted for."""
    return _of_first_visit(visits, "doctor_id")


def first_coordinators(visits: pd.DataFrame) -> pd.Series:
    """The treatment coordinator (咨询师) who received each patient's earliest arrived visit: the coordinator
    a patient is counted for [S4]; None where that visit names none."""
    return _of_first_visit(visits, "consultant_id")


def _of_first_visit(visits: pd.DataFrame, column: str) -> pd.Series:
    first = first_arrived_visits(visits)
    person = first[column] if column in first else pd.Series(None, index=first.index, dtype=object)
    return person.astype("str").where(person.notna())


def patient_channels(patients: pd.DataFrame) -> pd.Series:
    """patient_id → source channel as written in the data (``unknown`` where the export gives none)."""
    channel = patients.drop_duplicates("patient_id").set_index("patient_id")["source_channel"]
    return channel.fillna(UNKNOWN_CHANNEL).astype("str")


def new_patient_table(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *,
                      start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per new patient of the window: first arrival, source channel, and whether they converted.

    Converted: paid (amount > 0) for a profit or high-value item on a day from the first arrival up to
    30 days after it, both included.
    """
    first = first_arrivals(visits)
    new = first[first.between(_ts(start), _ts(end))].to_frame()
    new["source_channel"] = patient_channels(patients).reindex(new.index).fillna(UNKNOWN_CHANNEL).astype("str")

    paid = charges[(charges["amount_paid"] > 0) & charges["tier"].isin(TREATMENT_TIERS)]
    paid = pd.DataFrame({"patient_id": paid["patient_id"], "day": _day(paid["paid_at"])})
    paid = paid[paid["patient_id"].isin(new.index)].join(new["first_arrival"], on="patient_id")
    in_window = (paid["day"] >= paid["first_arrival"]) & (
        paid["day"] <= paid["first_arrival"] + pd.Timedelta(days=CONVERSION_WINDOW_DAYS))
    new["converted"] = new.index.isin(paid.loc[in_window, "patient_id"])
    new.index.name = "patient_id"
    return new


def returned_within_year(visits: pd.DataFrame, first: pd.Series) -> pd.Series:
    """Per patient of ``first`` (patient_id → first arrival): another arrived visit on a later day no
    more than ``RETURN_WINDOW_DAYS`` after the first arrival (the contract's return_within_12m)."""
    arrived = visits[(visits["status"] == "arrived") & visits["patient_id"].isin(first.index)]
    later = pd.DataFrame({"patient_id": arrived["patient_id"], "day": _day(arrived["scheduled_at"])})
    later = later.join(first.rename("first_arrival"), on="patient_id")
    back = later[(later["day"] > later["first_arrival"])
                 & (later["day"] <= later["first_arrival"] + pd.Timedelta(days=RETURN_WINDOW_DAYS))]
    return pd.Series(first.index.isin(back["patient_id"]), index=first.index, name="returned")


def new_patient_economics(patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *,
                          start: dt.date, end: dt.date, last_day: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per new patient of ``start``..``end``: the contract's columns plus what 90 days brought.

    Columns: ``first_arrival``, ``source_channel``, ``converted`` (the contract's, via
    `new_patient_table`), ``revenue_90d``, ``high_value_deal``, ``days_to_high_value`` (NaN without a
    deal), ``complete_30d`` and ``complete_90d`` (the window lies in the data, i.e. ends on or before
    ``last_day``, by default the data end).
    """
    new = new_patient_table(patients, visits, charges, start=start, end=end)
    last_day = last_day if last_day is not None else data_end(visits, charges)
    last_day = last_day if last_day is not None else _ts(end)
    paid = charges.loc[charges["patient_id"].isin(new.index), ["patient_id", "paid_at", "amount_paid", "tier"]]
    paid = paid.join(new["first_arrival"], on="patient_id")
    lag = (_day(paid["paid_at"]) - paid["first_arrival"]).dt.days
    window = (lag >= 0) & (lag <= REVENUE_WINDOW_DAYS)
    new["revenue_90d"] = paid.loc[window].groupby("patient_id")["amount_paid"].sum().reindex(new.index).fillna(0.0)
    deal = window & (paid["tier"] == HIGH_VALUE) & (paid["amount_paid"] > 0)
    days = lag[deal].groupby(paid.loc[deal, "patient_id"]).min()
    new["days_to_high_value"] = days.reindex(new.index).astype("float64")
    new["high_value_deal"] = new["days_to_high_value"].notna()
    new["complete_30d"] = new["first_arrival"] + pd.Timedelta(days=CONVERSION_WINDOW_DAYS) <= last_day
    new["complete_90d"] = new["first_arrival"] + pd.Timedelta(days=REVENUE_WINDOW_DAYS) <= last_day
    return new


def daily_spend(campaigns: pd.DataFrame) -> pd.DataFrame:
    """Each campaign's spend spread evenly over its days: one row per campaign and day.

    Columns ``campaign_id``, ``channel`` ("unknown" when not given), ``day``, ``spend``. A campaign
    without an end spends on its start day; one without a start or a spend is left out.
    """
    c = campaigns[campaigns["start"].notna() & campaigns["spend"].notna() & (campaigns["spend"] != 0)]
    if c.empty:
        return pd.DataFrame({"campaign_id": pd.Series(dtype="str"), "channel": pd.Series(dtype="str"),
                             "day": pd.Series(dtype="datetime64[us]"), "spend": pd.Series(dtype="float64")})
    first = _day(c["start"])
    last = _day(c["end"].fillna(c["start"]))
    last = last.where(last >= first, first)
    n = ((last - first).dt.days + 1).to_numpy()
    row = np.repeat(np.arange(len(c)), n)
    offset = np.arange(len(row)) - np.repeat(np.cumsum(n) - n, n)
    days = first.to_numpy()[row] + offset.astype("timedelta64[D]")
    return pd.DataFrame({
        "campaign_id": c["campaign_id"].astype("str").to_numpy()[row],
        "channel": c["channel"].fillna(UNKNOWN_CHANNEL).astype("str").to_numpy()[row],
        "day": pd.to_datetime(days),
        "spend": (c["spend"].to_numpy(dtype="float64") / n)[row],
    })


def charge_departments(charges: pd.DataFrame, visits: pd.DataFrame | None) -> pd.Series:
    """Each charge's department: its own, else its visit's (``visit_id`` → ``visits.department``), else None."""
    department = (charges["department"].astype(object) if "department" in charges
                  else pd.Series(None, index=charges.index, dtype=object))
    if visits is not None and "visit_id" in charges and "visit_id" in visits and "department" in visits:
        by_visit = visits.drop_duplicates("visit_id").set_index("visit_id")["department"]
        department = department.where(department.notna(), charges["visit_id"].map(by_visit).astype(object))
    return department


def payments(charges: pd.DataFrame, visits: pd.DataFrame | None = None, channels: pd.Series | None = None
             ) -> pd.DataFrame:
    """The charges as the revenue metrics count them: day, patient_id, amount (refunds negative), tier,
    department (the charge's, else its visit's) and channel (``channels``: patient_id → source channel).
    Revenue needs only ``paid_at`` and ``amount_paid``: a column the charges lack is left empty."""
    def column(name: str) -> pd.Series:
        return charges[name] if name in charges else pd.Series(None, index=charges.index, dtype=object)

    patient = column("patient_id")
    channel = patient.map(channels) if channels is not None else pd.Series(None, index=charges.index, dtype=object)
    return pd.DataFrame({"day": _day(charges["paid_at"]), "patient_id": patient,
                         "amount": charges["amount_paid"].fillna(0.0), "tier": column("tier"),
                         "department": charge_departments(charges, visits),
                         "channel": channel.fillna(UNKNOWN_CHANNEL).astype(object)})


def lead_arrived(leads: pd.DataFrame, visits: pd.DataFrame, *, has_arrived: bool,
                 has_patient: bool) -> pd.Series | None:
    """Whether each lead arrived: the export's ``arrived`` column, else a lead naming a patient with an
    arrived visit; None when the export gives neither."""
    if has_arrived:
        return leads["arrived"].fillna(False).astype(bool)
    if has_patient:
        return leads["patient_id"].isin(first_arrivals(visits).index)
    return None


class MetricTables:
    """A clinic's tables as known at the end of ``as_of``, one frame per kind of event a metric counts.

    Each frame has a ``day`` (``first_arrival`` for new patients) that places a row in a window, and
    the columns a metric may be split by: ``channel`` (the patient's source channel) and
    ``department``. A frame is built the first time a metric asks for it (a revenue series needs
    only the payments).

    Parameters
    ----------
    patients, visits, charges : canonical tables (charges with their ``tier``).
    referral : the source channels that count as referral.
    as_of : the last day counted (None: the end of the data).
    leads, plans : the optional leads and treatment_plans tables.
    has_visit_type : whether the visits export says 初诊/复诊 (None: whether any row does); without it
        a first visit is a visit on the patient's first-arrival day.
    has_lead_arrived, has_lead_patient : which of a lead's arrival columns the export has.
    """

    def __init__(self, patients: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, *,
                 referral: tuple[str, ...], as_of=None, leads: pd.DataFrame | None = None,
                 plans: pd.DataFrame | None = None, has_visit_type: bool | None = None,
                 has_lead_arrived: bool = False, has_lead_patient: bool = False):
        start, end = data_start(visits, charges), data_end(visits, charges)
        if start is None:  # no dated visit or charge: every frame is empty, every count 0
            start = end = _ts(as_of) if as_of is not None else pd.Timestamp.today().normalize()
        self.data_start, self.data_end = start, end  # first and last day with a visit or a charge
        self.as_of = end if as_of is None else min(_ts(as_of), end)
        cut = self.as_of + pd.Timedelta(days=1)
        self.referral = tuple(referral)
        self._patients = patients
        self._visits = visits[visits["scheduled_at"] < cut]
        self._charges = charges[charges["paid_at"] < cut]
        self._leads = None if leads is None else leads[leads["created_at"] < cut]
        self._plans = None if plans is None else plans[plans["created_at"] < cut]
        self._has_visit_type = ("visit_type" in visits and visits["visit_type"].notna().any()
                                if has_visit_type is None else has_visit_type)
        self._lead_columns = (has_lead_arrived, has_lead_patient)

    def frame(self, name: str) -> pd.DataFrame | None:
        return getattr(self, name)

    @cached_property
    def _channel(self) -> pd.Series:
        return patient_channels(self._patients)

    @cached_property
    def new(self) -> pd.DataFrame:
        """Per new patient (first arrival up to as_of): first_arrival, channel, department, doctor and
        coordinator (of the first arrived visit), converted, referral."""
        new = new_patient_table(self._patients, self._visits, self._charges, start=self.data_start.date(),
                                end=self.as_of.date())
        first = first_arrived_visits(self._visits)
        new["channel"] = new["source_channel"]
        new["department"] = first["department"].reindex(new.index).astype(object)
        new["doctor"] = first_doctors(self._visits).reindex(new.index).astype(object)
        new["consultant"] = first_coordinators(self._visits).reindex(new.index).astype(object)
        new["referral"] = new["source_channel"].isin(self.referral)
        return new

    @cached_property
    def returns(self) -> pd.DataFrame:
        """Per patient with a first arrival: first_arrival, channel, returned (within 365 days)."""
        first = self.new["first_arrival"]
        return pd.DataFrame({"first_arrival": first, "channel": self.new["channel"],
                             "returned": returned_within_year(self._visits, first)})

    @cached_property
    def visits(self) -> pd.DataFrame:
        """day, patient_id, status, no_show, first_visit, department, channel, slot (`time_slots`)."""
        visits = self._visits
        day = _day(visits["scheduled_at"])
        if self._has_visit_type:
            first_visit = visits["visit_type"].eq("first").fillna(False).astype(bool)
        else:
            first_visit = (day == visits["patient_id"].map(first_arrivals(visits))).fillna(False).astype(bool)
        return pd.DataFrame({"day": day, "patient_id": visits["patient_id"], "status": visits["status"],
                             "no_show": visits["status"].eq("no_show").to_numpy(),
                             "first_visit": first_visit.to_numpy(), "department": visits["department"].astype(object),
                             "channel": visits["patient_id"].map(self._channel).fillna(UNKNOWN_CHANNEL).astype(object),
                             "slot": time_slots(visits["scheduled_at"]).to_numpy()})

    @cached_property
    def paid(self) -> pd.DataFrame:
        """`payments`: day, patient_id, amount, tier, department, channel."""
        return payments(self._charges, self._visits, self._channel)

    @cached_property
    def leads(self) -> pd.DataFrame | None:
        """day, channel, arrived; None without a leads table or a way to tell arrivals."""
        if self._leads is None:
            return None
        arrived = lead_arrived(self._leads, self._visits, has_arrived=self._lead_columns[0],
                               has_patient=self._lead_columns[1])
        return None if arrived is None else pd.DataFrame(
            {"day": _day(self._leads["created_at"]), "arrived": arrived.to_numpy(),
             "channel": self._leads["channel"].fillna(UNKNOWN_CHANNEL).astype(object)})

    @cached_property
    def plans(self) -> pd.DataFrame | None:
        """day, accepted; None without a treatment_plans table."""
        if self._plans is None:
            return None
        return pd.DataFrame({"day": _day(self._plans["created_at"]),
                             "accepted": self._plans["status"].isin(ACCEPTED_PLAN).to_numpy()})

    @cached_property
    def channels(self) -> frozenset[str]:
        """The source channels of the patients export and the leads."""
        leads = self._leads["channel"].dropna().unique() if self._leads is not None else ()
        return frozenset({*self._channel.unique(), UNKNOWN_CHANNEL, *leads})

    @cached_property
    def doctors(self) -> frozenset[str]:
        """The doctors new patients are counted for (`first_doctors`)."""
        return frozenset(str(d) for d in self.new["doctor"].dropna().unique())

    @cached_property
    def consultants(self) -> frozenset[str]:
        """The treatment coordinators new patients are counted for (who received the first arrived visit)."""
        return frozenset(str(c) for c in self.new["consultant"].dropna().unique())

    @cached_property
    def slots(self) -> frozenset[str]:
        """The time slots of the bookings (`time_slots`)."""
        return frozenset(self.visits["slot"].dropna().unique())

    @cached_property
    def departments(self) -> frozenset[str]:
        """The departments of the visits and the charges."""
        return frozenset({str(d) for d in (*self.visits["department"].dropna().unique(),
                                           *self.paid["department"].dropna().unique())})


def clinic_tables(clinic, as_of=None) -> MetricTables:
    """`MetricTables` of a loaded clinic (`playbook.clinic.Clinic`), its optional tables included."""
    return MetricTables(clinic.patients, clinic.visits, clinic.charges, referral=clinic.config.referral, as_of=as_of,
                        leads=clinic.table("leads"), plans=clinic.table("treatment_plans"),
                        has_visit_type=clinic.has("visits", "visit_type"),
                        has_lead_arrived=clinic.has("leads", "arrived"),
                        has_lead_patient=clinic.has("leads", "patient_id"))

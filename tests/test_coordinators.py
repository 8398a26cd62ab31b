"""The treatment coordinator's scorecard (playbook/coordinators.py) [S4], on a clinic worked out by hand."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from playbook import catalogue, coordinators, thresholds
from playbook.results import RED

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
TH = thresholds.resolve()


@pytest.fixture()
def clinic():
    """
    coordinator  new patients (first visit in March)                          converted
    P            40 basic (综合): 20 convert; 20 high-value (种植): 20 convert  40 / 60 = 0.667
    Q            40 basic: 36 convert;            20 high-value: 20 convert     56 / 60 = 0.933
    Q also has r0 (basic, not converted): 56 / 61. P is 25.1 points behind, all of it on basic complaints
    (0.5 against 36 / 41): 挑单. The high-value patients
    pay 种植牙 10,000 at the first visit; basic converts pay 树脂补牙 500 ten days later. A converted new patient
    pays (40 × 10,000 + 56 × 500) / 96 = 4,458.33 in 30 days, so P's gap to the others' pooled 56 / 61 is worth
    0.2514 × 60 × 365 / 366 × 4,458.33 = 67,057 a year.
    Also: one patient of P's (p0) refers r0, a new patient of Q's; P's patients have plans: 3 completed, 1
    interrupted; a patient whose first visit names no coordinator is left out.
    """
    visits, charges, patients = [], [], []
    for who, basic_converts in (("P", 20), ("Q", 36)):
        for i in range(60):
            pid = f"{who.lower()}{i}"
            day = pd.Timestamp("2024-03-01") + pd.Timedelta(days=i % 28)
            high = i >= 40
            visits.append((pid, day + pd.Timedelta(hours=9), "arrived", "种植" if high else "综合", who))
            patients.append((pid, None))
            if high:
                charges.append((pid, day, "种植牙", 10000.0))
            elif i < basic_converts:
                charges.append((pid, day + pd.Timedelta(days=10), "树脂补牙", 500.0))
    visits.append(("r0", pd.Timestamp("2024-05-01 09:00"), "arrived", "综合", "Q"))
    patients.append(("r0", "p0"))
    visits.append(("n0", pd.Timestamp("2024-05-01 10:00"), "arrived", "综合", None))
    patients.append(("n0", None))
    v = pd.DataFrame(visits, columns=["patient_id", "scheduled_at", "status", "department", "consultant_id"])
    v["visit_id"], v["doctor_id"] = [f"V{i}" for i in range(len(v))], "D"
    c = pd.DataFrame(charges, columns=["patient_id", "paid_at", "item", "amount_paid"])
    c["tier"] = catalogue.classify_items(c["item"])
    p = pd.DataFrame(patients, columns=["patient_id", "referrer_patient_id"])
    p["source_channel"] = "美团"
    plans = pd.DataFrame({"plan_id": ["J1", "J2", "J3", "J4", "J5"], "patient_id": ["p40", "p41", "p42", "p43", "q40"],
                          "created_at": pd.to_datetime(["2024-03-02"] * 5),
                          "status": ["completed", "completed", "completed", "interrupted", "accepted"]})
    return p, v, c, plans


def test_scorecard_per_coordinator_of_the_first_visit(clinic):
    patients, visits, charges, plans = clinic
    result = coordinators.scorecard(patients, visits, charges, start=START, end=END, plans=plans,
                                    next_booked=pd.Series({"P": 0.5, "Q": 0.8}), thresholds=TH)
    t = result.table
    assert list(t.index) == ["P", "Q"]  # n0 names no coordinator: left out
    assert t.loc["P", "new_patients"] == 60 and t.loc["Q", "new_patients"] == 61
    assert t.loc["P", "first_visit_conversion"] == pytest.approx(40 / 60)
    assert t.loc["P", "conversion_basic"] == pytest.approx(0.5) and t.loc["P", "conversion_high_value"] == 1.0
    assert t.loc["Q", "conversion_basic"] == pytest.approx(36 / 41)  # r0 is basic and did not convert
    assert (t.loc["P", "plans_completed"], t.loc["P", "plans_interrupted"]) == (3, 1)
    assert t.loc["P", "plan_completion"] == pytest.approx(0.75)
    assert t.loc["P", "referrals"] == 1 and t.loc["Q", "referrals"] == 0
    assert t.loc["P", "revenue"] == pytest.approx(20 * 10000 + 20 * 500)
    assert t.loc["P", "next_visit_booked"] == 0.5
    kpis = result.metrics()
    assert kpis["consultants"]["P"]["new_patients"] == 60 and isinstance(kpis["consultants"]["P"]["new_patients"], int)
    assert kpis["kpis"]["consultant_conversion_min"] == pytest.approx(40 / 60, abs=1e-6)


def test_a_coordinator_behind_on_basic_complaints_only_is_case_picking_with_its_stake(clinic):
    patients, visits, charges, plans = clinic
    result = coordinators.scorecard(patients, visits, charges, start=START, end=END, plans=plans, thresholds=TH)
    [flag] = result.flags
    assert (flag.subject, flag.metric, flag.severity, flag.problem_class) == ("P", "consultant_conversion", RED,
                                                                              "management")
    others = 56 / 61
    assert flag.value == pytest.approx(others - 40 / 60) and flag.reference == pytest.approx(others)
    assert flag.facts["cherry_picking"] is True
    value = (40 * 10000 + 56 * 500) / 96
    years = 366 / 365  # 2024 has 366 days
    assert flag.revenue_at_stake == pytest.approx((others - 40 / 60) * 60 / years * value)
    assert "挑单" in result.zh and "40–50%" in result.zh and "case-picking" in result.en
    assert "挑单" in result.title("zh")


def test_coordinators_alike_raise_nothing(clinic):
    patients, visits, charges, plans = clinic
    same = visits.assign(consultant_id=visits["consultant_id"].replace({"Q": "P"}))
    assert coordinators.scorecard(patients, same, charges, start=START, end=END, thresholds=TH).flags == []
    line = thresholds.resolve({"consultant_conversion_gap": 0.3})  # the consultant's line: 25.1 points is within it
    assert coordinators.scorecard(patients, visits, charges, start=START, end=END, thresholds=line).flags == []

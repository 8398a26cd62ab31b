"""Known-answer tests of cohorts and loyalty (playbook/cohorts.py), worked out by hand, and the plants.

Churn and the recall list [S3]. Period 2024-01-01..2025-12-31, so everything is as of 2025-12-31.

patient  arrival days (A) and no-shows (N)                      usual interval        at 2025-12-31
P1       A 2023-01-01, 2023-06-30, 2023-12-27 (gaps 180, 180)    180 (own)             735 days: 4 missed → churned
P2       A 2024-06-01, 2024-06-10 (gap 9: a treatment step)      180 (clinic's)        569 days: 3 missed → overdue
P3       A 2025-06-01, 2025-12-01 (gap 183)                      183 (own)             30 days: active
P4       A 2024-01-10 only                                       180                   one arrival: not established
P5       A 2025-01-05, 2025-03-01 (gap 55), N 2025-04-01,        180 (clinic's)        4 no-shows since → churned
         05-01, 06-01, 07-01
The clinic's interval is the median of the gaps of 60 days or more: 180, 180, 183 → 180.

Monthly churn, 2025-01..2025-12 (history from 2023-01-01 + 4 × 180 days covers every month). Established
patients not churned at a month's start, and who passes the line (more than 3 missed returns) in it:
  P1 (last 2023-12-27, line 2023-12-27 + 4·180 = 2025-12-16): at risk Jan..Dec, lost in Dec
  P2 (last 2024-06-10, line 2026-05-31): at risk Jan..Dec, not lost
  P5 (last 2025-03-01, 4th no-show 2025-07-01): at risk Apr..Jul, lost in Jul
  P3's second arrival day is 2025-12-01, so nobody's last arrival is before any month's start: never at risk
at risk = 2·3 (Jan–Mar) + 3·4 (Apr–Jul) + 2·5 (Aug–Dec) = 28; lost = 2 → churn_rate = 2/28 = 7.1%,
above the 3% ideal, within the 8% recoverable line. Recall list: P2 of the established and not churned
P2, P3 → overdue_share = 1/2.
"""
from __future__ import annotations

import json
import datetime as dt
import math

import pandas as pd
import pytest

from playbook import cohorts, synth, thresholds
from playbook.clinic import clinic_from_tables
from playbook.results import RED

START, END = "2024-01-01", "2025-12-31"


def _visits(rows):
    """rows: (patient, day, status[, doctor])."""
    frame = pd.DataFrame([(r[0], pd.Timestamp(r[1]), r[2], r[3] if len(r) > 3 else "赵医生") for r in rows],
                         columns=["patient_id", "scheduled_at", "status", "doctor_id"])
    frame.insert(0, "visit_id", [f"V{i}" for i in range(len(frame))])
    return frame


def _charges(rows):
    """rows: (patient, day, amount)."""
    frame = pd.DataFrame([(p, pd.Timestamp(d), "树脂补牙", float(a)) for p, d, a in rows],
                         columns=["patient_id", "paid_at", "item", "amount_paid"])
    frame.insert(0, "charge_id", [f"C{i}" for i in range(len(frame))])
    return frame


CHURN_VISITS = _visits([
    ("P1", "2023-01-01", "arrived"), ("P1", "2023-06-30", "arrived"), ("P1", "2023-12-27", "arrived"),
    ("P2", "2024-06-01", "arrived"), ("P2", "2024-06-10", "arrived"),
    ("P3", "2025-06-01", "arrived"), ("P3", "2025-12-01", "arrived"),
    ("P4", "2024-01-10", "arrived"),
    ("P5", "2025-01-05", "arrived"), ("P5", "2025-03-01", "arrived"),
    ("P5", "2025-04-01", "no_show"), ("P5", "2025-05-01", "no_show"), ("P5", "2025-06-01", "no_show"),
    ("P5", "2025-07-01", "no_show"),
])


def _no_nan(*sentences):
    for s in sentences:
        assert "nan" not in s.lower() and "inf" not in s.lower().replace("info", ""), s


# -- churn [S3] ---------------------------------------------------------------------------------------

def test_patient_status_intervals_missed_returns_and_states():
    status = cohorts.patient_status(CHURN_VISITS, end=END)
    assert status.loc[["P1", "P2", "P3", "P5"], "interval"].tolist() == [180, 180, 183, 180]
    assert status["missed"].to_dict() == {"P1": 4, "P2": 3, "P3": 0, "P4": 4, "P5": 4}
    assert status["state"].to_dict() == {"P1": "churned", "P2": "overdue", "P3": "active", "P4": "churned",
                                         "P5": "churned"}
    assert status["established"].to_dict() == {"P1": True, "P2": True, "P3": True, "P4": False, "P5": True}


def test_monthly_churn_by_the_data_side_of_the_rule():
    result = cohorts.churn(CHURN_VISITS, start=START, end=END)
    months = result.table
    assert months["active"].tolist() == [2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 2]
    assert months.loc[months["churned"] > 0].index.strftime("%Y-%m").tolist() == ["2025-07", "2025-12"]
    assert result.rate == pytest.approx(2 / 28)
    assert result.overdue == 1 and result.overdue_share == pytest.approx(0.5)
    assert result.interval == 180
    assert result.flags == []  # 7.1% is under the 8% recoverable line
    assert "高于3%的理想线、仍在8%的可约回线以内" in result.zh and "已有1人（老患者的50.0%）超过自己平时的复诊间隔" in result.zh
    assert result.metrics()["kpis"]["churn_rate"] == round(2 / 28, 6)


def test_churn_above_the_recoverable_line_is_a_loyalty_flag():
    tight = thresholds.resolve({"churn_recoverable": 0.05})
    result = cohorts.churn(CHURN_VISITS, _charges([("P3", "2025-06-01", 1200)]), start=START, end=END,
                           thresholds=tight)
    [flag] = result.flags
    assert (flag.metric, flag.threshold, flag.problem_class) == ("churn_rate", "churn_recoverable", "loyalty")
    assert flag.gap == pytest.approx((2 / 28 - 0.05) / 0.05) and flag.severity == RED
    # An established patient pays 600 a year (P3 1200 + P5 0, the established patients seen in 2025).
    # (rate − line) × 12 months × the average base (28 / 12) × 600 = (2 − 0.05 · 28) × 600 = 360
    assert flag.revenue_at_stake == pytest.approx(360)


def test_too_short_a_history_is_not_read_as_no_churn():
    recent = CHURN_VISITS[CHURN_VISITS["scheduled_at"] >= "2025-01-01"]
    result = cohorts.churn(recent, start=START, end=END)
    assert result.rate is None and result.metrics()["kpis"]["churn_rate"] is None
    assert "还无法判断流失" in result.zh
    _no_nan(result.zh, result.en)


# -- return curves ------------------------------------------------------------------------------------

def test_return_curves_months_after_the_first_visit():
    """Q1 first 2024-01-10, back on day 10 (month 1), day 60 (month 2: 60/30.4 → 2) and day 365 (month 12);
    Q2 first 2024-01-15, again the same day (no return) and on day 371 (beyond the year); Q3 only 2024-02-01.
    Jan cohort: 2 patients, months 1, 2, 12 at 50%; Feb cohort: 1 patient, nothing.
    return_within_12m (first arrivals 2024-01-01..2024-12-31) = Q1 of Q1, Q2, Q3 = 1/3."""
    visits = _visits([
        ("Q1", "2024-01-10 09:00", "arrived"), ("Q1", "2024-01-20", "arrived"), ("Q1", "2024-03-10", "arrived"),
        ("Q1", "2025-01-09", "arrived"),
        ("Q2", "2024-01-15 09:00", "arrived"), ("Q2", "2024-01-15 15:00", "arrived"), ("Q2", "2025-01-20", "arrived"),
        ("Q3", "2024-02-01", "arrived"),
    ])
    result = cohorts.return_curves(visits, start=START, end=END)
    jan, feb = result.table.loc[pd.Timestamp("2024-01-01")], result.table.loc[pd.Timestamp("2024-02-01")]
    assert jan["size"] == 2 and feb["size"] == 1
    assert [jan[k] for k in range(1, 13)] == [0.5, 0.5] + [0.0] * 9 + [0.5]
    assert jan["return_12m"] == 0.5 and feb["return_12m"] == 0.0
    assert result.return_12m == pytest.approx(1 / 3)
    assert result.recent is None and result.change is None  # cohorts under 20 patients are not compared
    _no_nan(result.zh, result.en)


def test_return_curves_leave_unobserved_months_blank():
    visits = _visits([("R1", "2025-11-03", "arrived"), ("R1", "2025-11-20", "arrived")])
    result = cohorts.return_curves(visits, start=START, end=END)
    row = result.table.loc[pd.Timestamp("2025-11-01")]
    assert row[1] == 1.0 and all(math.isnan(row[k]) for k in range(2, 13)) and math.isnan(row["return_12m"])
    assert result.return_12m is None and "12个月复诊率尚无法计算" in result.zh


def test_a_falling_12_month_return_is_a_loyalty_flag():
    """20 patients first seen 2024-01-08..2024-06-10 (the 'before' cohort: first arrival up to
    end − 365 days − 6 months = 2024-06-30), 18 of them back 100 days later; 20 first seen
    2024-07-01..2024-12-02, only 10 back. Each return pays 500.
    before 0.9, recent 0.5 → change −44.4%, past the −5% alert line: gap (0.444 − 0.05) / 0.05.
    At stake: 0.4 × 40 patients per 366 days × 365 × 500 yuan per returning patient."""
    rows, pay = [], []
    for i, day in enumerate(pd.date_range("2024-01-08", periods=20, freq="7D")):
        rows.append((f"B{i}", day, "arrived"))
        if i < 18:
            rows.append((f"B{i}", day + pd.Timedelta(days=100), "arrived"))
            pay.append((f"B{i}", day + pd.Timedelta(days=100), 500))
    for i, day in enumerate(pd.date_range("2024-07-01", periods=20, freq="7D")):
        rows.append((f"R{i}", day, "arrived"))
        if i < 10:
            rows.append((f"R{i}", day + pd.Timedelta(days=100), "arrived"))
            pay.append((f"R{i}", day + pd.Timedelta(days=100), 500))
    result = cohorts.return_curves(_visits(rows), start=START, end=END, charges=_charges(pay))
    assert result.before == pytest.approx(0.9) and result.recent == pytest.approx(0.5)
    assert result.change == pytest.approx(-0.4 / 0.9)
    [flag] = result.flags
    assert (flag.threshold, flag.problem_class, flag.severity) == ("return_12m_fall", "loyalty", RED)
    assert flag.gap == pytest.approx((0.4 / 0.9 - 0.05) / 0.05)
    assert flag.revenue_at_stake == pytest.approx(round(0.4 * 40 / 366 * 365 * 500, 2))
    assert result.zh.startswith(flag.sentence("zh")) and "50.0%" in flag.sentence("zh") and "90.0%" in flag.sentence("zh")


def _month_one(returned_before: int, returned_recent: int):
    """30 patients first seen on 2025-03-03 (before the period's last six months), ``returned_before`` of them
    back on day 10 (month 1); 30 first seen on 2025-08-04, ``returned_recent`` back on day 10."""
    rows = []
    for cohort, day, back in (("B", "2025-03-03", returned_before), ("R", "2025-08-04", returned_recent)):
        for i in range(30):
            rows.append((f"{cohort}{i}", day, "arrived"))
            if i < back:
                rows.append((f"{cohort}{i}", pd.Timestamp(day) + pd.Timedelta(days=10), "arrived"))
    return _visits(rows)


def test_month_one_return_of_the_latest_cohorts_is_judged_by_the_stated_rule():
    """Before: 24/30 = 80% back in month 1; recently 18/30 = 60%: a fall of 25%, past the 5% line of the
    12-month return (return_12m_fall), so it is said to fall, with both windows named."""
    result = cohorts.return_curves(_month_one(24, 18), start=START, end=END)
    fm = result.first_month
    assert fm["before"] == pytest.approx(0.8) and fm["recent"] == pytest.approx(0.6)
    assert fm["change"] == pytest.approx(-0.25)
    assert (fm["before_window"].start, fm["recent_window"].start) == (dt.date(2025, 3, 1), dt.date(2025, 8, 1))
    assert result.title("zh") == "首月复诊率下降：2025年8月首诊的患者60.0%，2025年3月首诊的患者为80.0%"
    assert "2025年8月首诊的患者首月复诊率60.0%，比2025年3月首诊的患者的80.0%低25.0%，超过5%" in result.zh
    assert not result.flags  # a sentence for the chapter, not a finding of the ranking


def test_month_one_return_within_the_line_is_level_not_similar_by_eye():
    """80% → 76.7% is a fall of 4.2%, under the 5% line: level, and the sentence says by which rule."""
    result = cohorts.return_curves(_month_one(24, 23), start=START, end=END)
    assert result.first_month["change"] == pytest.approx(23 / 24 - 1)
    assert result.title("zh").startswith("首月复诊率持平")
    assert "变化不到5%" in result.zh and "持平" in result.zh and "相当" not in result.zh
    tight = cohorts.return_curves(_month_one(24, 23), start=START, end=END,
                                  thresholds=thresholds.resolve({"return_12m_fall": -0.03}))
    assert tight.title("zh").startswith("首月复诊率下降")  # the line in force decides


def test_churn_and_the_recall_list_are_told_as_one_story():
    result = cohorts.churn(CHURN_VISITS, start=START, end=END)
    assert result.title("zh") == "2025年每月流失率7.1%，高于3%理想线，2个月超过8%（红色）；但已有1人（老患者的50.0%）逾期待约回"
    assert "流失要等患者错过3次以上复诊才算，反映得晚" in result.zh and "截至2025年12月31日" in result.zh


# -- referral share [S3][S2] --------------------------------------------------------------------------

def _referral_clinic():
    """40 new patients in 2025, one on each of 40 days: Jan–Jun 20 (8 referred = 40%),
    Jul–Dec 20 (4 referred = 20%). Period share 12/40 = 30%: under the 40% line, not under 30%;
    the last six months are under the 30% action line, so the flag is on them, red [S2]."""
    before = pd.date_range("2025-01-01", periods=20, freq="9D")  # 2025-01-01 .. 2025-06-21
    recent = pd.date_range("2025-07-01", periods=20, freq="9D")  # 2025-07-01 .. 2025-12-19
    days = list(before) + list(recent)
    referred = set(range(8)) | {20, 21, 22, 23}
    patients = pd.DataFrame({"patient_id": [f"N{i}" for i in range(40)],
                             "source_channel": ["转介绍" if i in referred else "美团" for i in range(40)]})
    visits = _visits([(f"N{i}", d, "arrived") for i, d in enumerate(days)])
    return patients, visits


def test_referral_share_quarters_and_the_recent_half_year():
    patients, visits = _referral_clinic()
    result = cohorts.referral_trend(patients, visits, start="2025-01-01", end="2025-12-31", first_year_value=1000)
    assert result.share == pytest.approx(0.30) and result.recent == pytest.approx(0.20)
    assert result.before == pytest.approx(0.40) and result.trend == pytest.approx(-0.20)
    assert result.table["new_patients"].sum() == 40
    [flag] = result.flags
    assert (flag.metric, flag.threshold, flag.severity, flag.problem_class) == (
        "referral_share_recent", "referral_share_act", RED, "experience")
    assert flag.gap == pytest.approx((0.30 - 0.20) / 0.30)
    # recent part: 20 patients over 2025-07-01..2025-12-21 (174 days), 4 referred; to reach 40% with the
    # 16 others unchanged needs 0.4·16/0.6 = 10.67 referred: 6.67 more per 174 days, × 1000 yuan
    assert flag.revenue_at_stake == pytest.approx(round((0.4 * 16 / 0.6 - 4) * 365 / 172 * 1000, 2))
    assert "2025年下半年新患者的转介绍占比20.0%" in flag.sentence("zh") and "30%的行动线" in flag.sentence("zh")


def test_referral_share_without_any_referral_channel_is_not_judged():
    patients, visits = _referral_clinic()
    patients["source_channel"] = "美团"
    result = cohorts.referral_trend(patients, visits, start="2025-01-01", end="2025-12-31")
    assert not result.available and result.flags == [] and "转介绍" in result.zh


# -- ABC [S3] and RFM [S0] ----------------------------------------------------------------------------

def _spend_clinic():
    """Five patients, one arrival each on 2025-12-01 except as noted, paying in 2025:
    S1 500 (came 2025-01-10 and 2025-02-10, 2 arrival days), S2 300, S3 150, S4 50, S5 0.
    ABC (total 1000): before S1 0% → A; S2 50% → A (it crosses 70%); S3 80% → B; S4 95% → C; S5 pays 0 → C."""
    visits = _visits([("S1", "2025-01-10", "arrived"), ("S1", "2025-02-10", "arrived"),
                      ("S2", "2025-12-01", "arrived"), ("S3", "2025-11-01", "arrived"),
                      ("S4", "2025-10-01", "arrived"), ("S5", "2025-09-01", "arrived")])
    charges = _charges([("S1", "2025-01-10", 500), ("S2", "2025-12-01", 300), ("S3", "2025-11-01", 150),
                        ("S4", "2025-10-01", 50)])
    return visits, charges


def test_abc_classes_by_cumulative_revenue_share():
    visits, charges = _spend_clinic()
    result = cohorts.abc_classes(visits, charges, start="2025-01-01", end="2025-12-31")
    assert result.patients["abc"].to_dict() == {"S1": "A", "S2": "A", "S3": "B", "S4": "C", "S5": "C"}
    assert result.table["patients"].tolist() == [2, 1, 2]
    assert result.table.loc["A", "revenue_share"] == pytest.approx(0.8)
    assert result.metrics()["kpis"] == {"a_class_patients": 2, "a_class_revenue_share": 0.8}


def test_rfm_quintiles_and_tiers():
    """Recency (days to 2025-12-31): S1 324, S2 30, S3 60, S4 91, S5 121 → R 1, 5, 4, 3, 2.
    Frequency: S1 2, the others 1 (tie at the average rank 2.5 of 5 → 50% → score 3) → F 5, 3, 3, 3, 3.
    Monetary: 500, 300, 150, 50, 0 → M 5, 4, 3, 2, 1.
    S1: R low, F high, M high → 重要保持 (high spender slipping away); S2, S3: all high → 重要价值."""
    visits, charges = _spend_clinic()
    result = cohorts.rfm(visits, charges, start="2025-01-01", end="2025-12-31")
    frame = result.patients
    assert frame["r"].to_dict() == {"S1": 1, "S2": 5, "S3": 4, "S4": 3, "S5": 2}
    assert frame["f"].to_dict() == {"S1": 5, "S2": 3, "S3": 3, "S4": 3, "S5": 3}
    assert frame["m"].to_dict() == {"S1": 5, "S2": 4, "S3": 3, "S4": 2, "S5": 1}
    assert frame["segment"].to_dict() == {"S1": "important_keep", "S2": "important_value", "S3": "important_value",
                                          "S4": "general_value", "S5": "general_keep"}
    assert result.table.loc["important_keep", "revenue_share"] == pytest.approx(0.5)


def test_warning_list_names_the_action_and_never_an_unmasked_name():
    """S1 (A class) last came 2025-02-10, 324 days before the end; the clinic interval is 180 (no own
    gap of 60+ days: S1's gap is 31) → 1 missed return → the front desk calls. S2 (A) came 30 days ago."""
    visits, charges = _spend_clinic()
    patients = pd.DataFrame({"patient_id": ["S1", "S2", "S3", "S4", "S5"], "name": ["张**", "李*", "王*", "赵*", "钱*"]})
    result = cohorts.churn_warning(patients, visits, charges, start="2025-01-01", end="2025-12-31")
    assert result.table[["patient_id", "missed", "why"]].to_dict("records") == [
        {"patient_id": "S1", "missed": 1, "why": "due"}]
    shown = result.table_for("zh")
    assert shown["姓名"].tolist() == ["张**"] and shown["建议行动"].tolist() == ["客服回访并预约复查"]
    assert result.metrics()["kpis"] == {"high_value_overdue_patients": 1, "high_value_overdue_spend": 500.0}


# -- child → family [S3] ------------------------------------------------------------------------------

def test_child_family_ratio_of_a_childrens_clinic():
    """Four children born 2015-2020 first seen in 2025 (K1..K4), two parents referred by K1 and K2
    (one of whom never came: not counted), one adult referred by nobody.
    Children: 4 of 7 patients with a birth year → a children's clinic. Family = F1 (F2 never came) →
    1/4 = 0.25 against about 1:1 → red, gap 0.75."""
    patients = pd.DataFrame({
        "patient_id": ["K1", "K2", "K3", "K4", "F1", "F2", "A1"],
        "birth_year": pd.array([2015, 2016, 2018, 2020, 1985, 1987, 1970], dtype="Int64"),
        "referrer_patient_id": [None, None, None, None, "K1", "K2", None]})
    visits = _visits([(p, "2025-03-01", "arrived") for p in ("K1", "K2", "K3", "K4", "F1", "A1")])
    result = cohorts.child_family(patients, visits, start="2025-01-01", end="2025-12-31")
    assert result.ratio == pytest.approx(0.25)
    [flag] = result.flags
    assert (flag.threshold, flag.severity, flag.problem_class) == ("child_family_ratio", RED, "loyalty")
    assert flag.gap == pytest.approx(0.75)


def test_child_family_is_not_computed_for_a_general_clinic():
    """One child among four patients (under a third), no 儿牙 visits: not a children's clinic."""
    patients = pd.DataFrame({"patient_id": ["A1", "A2", "A3", "K1"],
                             "birth_year": pd.array([1970, 1980, 1990, 2018], dtype="Int64"),
                             "referrer_patient_id": [None, "K1", None, None]})
    visits = _visits([(p, "2025-03-01", "arrived") for p in ("A1", "A2", "A3", "K1")]).assign(department="综合")
    result = cohorts.child_family(patients, visits, start="2025-01-01", end="2025-12-31")
    assert not result.available and "不是儿童门诊" in result.zh


# -- the sample clinics: the plants are found, the healthy twins raise nothing red --------------------

@pytest.fixture(scope="module")
def general():
    generated = synth.generate("general")
    clinic = clinic_from_tables(generated.config, generated.tables)
    return generated, cohorts.diagnose(clinic, thresholds.resolve())


@pytest.fixture(scope="module")
def sections():
    out = {}
    for kind in ("general", "children"):
        for problems in (True, False):
            generated = synth.generate(kind, problems=problems)
            clinic = clinic_from_tables(generated.config, generated.tables)
            out[kind, problems] = cohorts.diagnose(clinic, thresholds.resolve())
    return out


def test_general_sample_low_and_falling_referral_is_red(sections):
    loyalty = sections["general", True]
    referral = loyalty.referral
    assert referral.share == pytest.approx(0.244, abs=0.005)
    assert referral.recent < 0.18 and referral.before > 0.26 and referral.trend < -0.10
    [flag] = referral.flags
    assert flag.severity == RED and flag.problem_class == "experience" and flag.revenue_at_stake > 0


def test_general_sample_departed_implant_doctors_patients_stop_coming(sections):
    loyalty = sections["general", True]
    assert loyalty.doctors.departed == ["王医生"]
    [flag] = loyalty.doctors.flags
    assert flag.subject == "王医生" and flag.severity == RED and flag.problem_class == "loyalty"
    assert loyalty.doctors.table.loc["王医生", "overdue_share"] > 0.75
    others = loyalty.doctors.table.drop("王医生")["overdue_share"]
    assert others.max() < 0.5
    # his high-value patients lead the warning list, with the hand-over action
    warning = loyalty.warning.table
    assert (warning["last_doctor"] == "王医生").mean() > 0.4
    assert set(warning.loc[warning["last_doctor"] == "王医生", "why"]) == {"departed"}
    assert "王医生" in loyalty.warning.zh


def test_general_sample_plants_lead_the_section(sections):
    flags = sorted(sections["general", True].flags(), key=lambda f: -f.revenue_at_stake)
    assert {f.metric for f in flags[:2]} == {"referral_share", "overdue_share_by_doctor"}


def test_childrens_sample_low_family_conversion_is_red(sections):
    family = sections["children", True].family
    assert family.ratio == pytest.approx(0.37, abs=0.05)
    [flag] = family.flags
    assert flag.severity == RED and flag.revenue_at_stake > 0


@pytest.mark.parametrize("kind", ["general", "children"])
def test_healthy_twins_raise_nothing_red(sections, kind):
    loyalty = sections[kind, False]
    assert [f for f in loyalty.flags() if f.severity == RED] == []
    assert loyalty.referral.share > 0.40
    assert loyalty.churn.rate < 0.03
    if kind == "children":
        assert loyalty.family.ratio > 0.95


def test_metrics_are_json_safe_and_name_the_contract(sections):
    for loyalty in sections.values():
        metrics = json.loads(json.dumps(loyalty.metrics(), allow_nan=False))
        kpis = metrics["kpis"]
        assert {"churn_rate", "overdue_share", "referral_share_trend", "return_within_12m_change",
                "a_class_revenue_share", "high_value_overdue_patients", "child_family_ratio"} <= set(kpis)
        assert not {"referral_share", "return_within_12m"} & set(kpis)  # the headline KPIs are not redefined
        assert set(metrics["loyalty"]) >= {"cohorts", "referral_by_quarter", "rfm_segments", "abc"}


def test_sample_warning_list_shows_only_masked_names(general):
    generated, loyalty = general
    raw = set(generated.tables["patients"]["name"])
    shown = loyalty.warning.table_for("zh")["姓名"]
    assert len(shown) == cohorts.WARNING_ROWS
    assert all("*" in name for name in shown) and not raw & set(shown)


# -- clinics with little data -------------------------------------------------------------------------

def _variants():
    generated = synth.generate("general", seed=11, scale=0.1)
    t = {name: generated.tables[name].copy() for name in ("patients", "visits", "charges")}
    config = generated.config
    one = {**t, "visits": t["visits"].assign(doctor_id="王医生"), "charges": t["charges"].assign(doctor_id="王医生"),
           "patients": t["patients"].assign(source_channel="美团")}
    no_referral = {**t, "patients": t["patients"].drop(columns=["source_channel", "referrer_patient_id"])}
    cut = pd.Timestamp("2025-10-01")
    three = {"patients": t["patients"], "visits": t["visits"][t["visits"]["scheduled_at"] >= cut],
             "charges": t["charges"][t["charges"]["paid_at"] >= cut]}
    return {
        "one doctor, one channel": (config, one),
        "no referral data": (config, no_referral),
        "three months": ({**config, "period": {"start": "2025-10-01", "end": "2025-12-31"}}, three),
        "empty period": ({**config, "period": {"start": "2030-01-01", "end": "2030-12-31"}}, t),
        "no visits at all": (config, {name: frame.iloc[:0] for name, frame in t.items()}),
    }


@pytest.mark.parametrize("case", list(_variants()))
def test_little_data_never_crashes_nor_shows_nan(case):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from playbook import plotting

    plotting.set_theme("zh")
    config, tables = _variants()[case]
    loyalty = cohorts.diagnose(clinic_from_tables(config, tables), thresholds.resolve())
    for result in loyalty.results():
        for lang in ("zh", "en"):
            _no_nan(result.finding(lang))
            result.table_for(lang) if hasattr(result, "table_for") else None
            if result.available:
                fig, ax = plt.subplots()
                result.plot(ax=ax, lang=lang)
                plt.close(fig)
        for flag in result.flags:
            _no_nan(flag.sentence("zh"), flag.sentence("en"))
            assert math.isfinite(flag.value) and math.isfinite(flag.revenue_at_stake)
    json.dumps(loyalty.metrics(), allow_nan=False)
    if case == "no referral data":
        assert not loyalty.referral.available and "来源渠道" in loyalty.referral.zh and "source_channel" in loyalty.referral.en
    if case == "one doctor, one channel":
        assert loyalty.doctors.flags == [] and not loyalty.referral.available
    if case == "three months":
        assert loyalty.churn.rate is None

"""Known-answer tests of the headline KPIs (method.md, contract section), worked out by hand.

The clinic below is small enough to check on paper. Period 2024-01-01..2025-06-30, so the
return_within_12m cohort is first arrivals 2024-01-01..2024-06-30 (end − 365 days).

patient  channel   visits (A arrived, N no-show, C cancelled)          charges
P1       美团      A 2024-01-10, A 2025-01-09 (=first+365: returns)   补牙 300 on 2024-02-09 (=first+30: converts)
P2       美团      A 2024-03-01, A 2025-03-02 (=first+366: no)        洁牙 200 same day (traffic: no),
                                                                     根管治疗 800 on 2024-04-01 (=first+31: no)
P3       转介绍    A 2024-05-05 09:00, A 2024-05-05 15:00 (same day:   种植牙 ¥10,000.00 on 2024-05-05 (converts)
                   not a return), N 2024-06-01
P4       转介绍    A 2023-12-20 (first arrival before the period:     洁牙 150 on 2023-12-20 (before period),
                   not new), A 2024-02-01                            拔牙 500 on 2024-02-01
P5       抖音      N 2024-07-01, A 2024-07-03 (first arrival)         全瓷冠 3000 on 2024-07-20 (converts),
                                                                     refund -3000 on 2024-08-01
P6       自然到店  C 2024-08-01 only: never arrived, not new
P7       (not in the patients export) A 2024-09-01                   检查 100 (traffic: no)
+ a charge of 999 on 2025-07-01, after the period, and a 合计 totals row.

revenue          = 300 + 200 + 800 + 10000 + 500 + 3000 − 3000 + 100 = 11,900
new_patients     = P1, P2, P3, P5, P7 = 5
arrived_visits   = P1 2 + P2 2 + P3 2 + P4 1 (2024) + P5 1 + P7 1 = 9
no_show_rate     = 2 / (9 + 2) (cancelled left out)
first_visit_conv = P1, P3, P5 of 5 = 0.6
referral_share   = P3 of 5 = 0.2
return_within_12m= cohort P1, P2, P3; P1 returns = 1/3
channels         = 美团 2 (0.5), 转介绍 1 (1.0), 抖音 1 (1.0), unknown 1 (0.0)
"""
from __future__ import annotations

import json

import pytest

from playbook import kpis, load_clinic

@pytest.fixture()
def headline(hand_clinic):
    return kpis.clinic_kpis(load_clinic(hand_clinic))


def test_revenue_counts_refunds_and_only_the_period(headline):
    assert headline.values["revenue"] == pytest.approx(11_900)


def test_new_patients_are_first_arrivals_in_the_period(headline):
    assert headline.values["new_patients"] == 5


def test_arrived_visits_in_the_period(headline):
    assert headline.values["arrived_visits"] == 9


def test_no_show_rate_leaves_cancelled_out(headline):
    assert headline.values["no_show_rate"] == pytest.approx(2 / 11)


def test_first_visit_conversion_30_day_window_and_tiers(headline):
    assert headline.values["first_visit_conversion"] == pytest.approx(0.6)


def test_referral_share_of_new_patients(headline):
    assert headline.values["referral_share"] == pytest.approx(0.2)


def test_return_within_12m_cohort_and_window(headline):
    assert headline.values["return_within_12m"] == pytest.approx(1 / 3)


def test_channels_keyed_as_written_in_the_data(headline):
    channels = headline.to_dict()["channels"]
    assert channels == {
        "美团": {"new_patients": 2, "first_visit_conversion": 0.5},
        "转介绍": {"new_patients": 1, "first_visit_conversion": 1.0},
        "抖音": {"new_patients": 1, "first_visit_conversion": 1.0},
        "unknown": {"new_patients": 1, "first_visit_conversion": 0.0},
    }


def test_return_within_12m_is_null_when_the_period_is_a_year_or_less(hand_clinic):
    clinic = load_clinic(hand_clinic)
    result = kpis.headline_kpis(clinic.patients, clinic.visits, clinic.charges,
                                start=clinic.config.period.start, end=clinic.config.period.start.replace(month=12, day=31))
    assert result.values["return_within_12m"] is None
    assert json.loads(json.dumps(result.to_dict()))["kpis"]["return_within_12m"] is None


def test_empty_period_gives_no_nan_in_sentences(hand_clinic):
    import datetime as dt

    clinic = load_clinic(hand_clinic)
    result = kpis.headline_kpis(clinic.patients, clinic.visits, clinic.charges,
                                start=dt.date(2030, 1, 1), end=dt.date(2030, 12, 31))
    assert result.values["new_patients"] == 0 and result.values["first_visit_conversion"] is None
    for lang in ("zh", "en"):
        sentence = result.finding(lang)
        assert "nan" not in sentence.lower() and "inf" not in sentence.lower()


def test_finding_names_the_weak_kpis_against_the_method_lines(headline):
    zh, en = headline.finding("zh"), headline.finding("en")
    assert "初诊成交率低于80%" in zh and "转介绍占比低于40%" in zh
    assert "below 80%" in en and "below 40%" in en


def test_the_sentences_state_the_lines_the_clinic_has_in_force(hand_clinic):
    """clinic.yaml's thresholds change the lines the sentences state and judge by (conversion 60%, referral 20%)."""
    config = hand_clinic / "clinic.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "thresholds: {first_visit_conversion_review: 0.75, "
                      "referral_share_healthy: 0.15}\n", encoding="utf-8")
    headline = kpis.clinic_kpis(load_clinic(hand_clinic))
    zh, en = headline.finding("zh"), headline.finding("en")
    assert "初诊成交率低于75%" in zh and "below 75%" in en
    assert "80%" not in zh + en
    assert "转介绍占比低于" not in zh and "referral share below" not in en  # 20% is above the 15% in force
    assert "75%" in headline.channel_finding("zh") + headline.channel_finding("en")

"""Re-appointment (playbook/reappointment.py): did the patient leave with the next visit booked? Known answers
worked out by hand, exact (booking times) and within the recall interval (without them)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from playbook import reappointment, thresholds
from playbook.results import RED, Unavailable

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
TH = thresholds.resolve()


def _visits(rows):
    """rows: (patient, scheduled 'YYYY-MM-DD HH:MM', status, booked_at or None, department, coordinator)."""
    frame = pd.DataFrame(rows, columns=["patient_id", "scheduled_at", "status", "booked_at", "department", "consultant_id"])
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"])
    frame["booked_at"] = pd.to_datetime(frame["booked_at"])
    frame["visit_id"] = [f"V{i}" for i in range(len(frame))]
    frame["doctor_id"] = "D"
    return frame


@pytest.fixture()
def hand():
    """
    patient  visits (综合: recall interval 180 days)                       exact          within recall
    A        Jan 10; Feb 20, booked on Jan 10 at 15:00 (at the visit)      Jan 10: yes    yes (41 days)
    B        Jan 10; Mar 1, booked on Jan 20 by phone; its booking at      Jan 10: no     yes (51 days)
             Mar 1 is a no-show on Mar 8 booked on Mar 1 (cancelled too)   Mar 1: yes     yes
    C        Jan 10 only                                                   no             no
    E        Dec 1 (only to carry the data to its last day)                not judged: Dec 1 + 180 is past the data
    A's Feb 20 and B's Mar 8 no-show: A Feb 20 has nothing later: no/no; no-shows are not visits left.
    Judged arrived visits: A Jan 10, A Feb 20, B Jan 10, B Mar 1, C Jan 10 (each + 180 days ≤ 2024-12-01? no:
    the data ends on Dec 1, so a visit counts when its day + 180 ≤ Dec 1, i.e. on or before Jun 4).
    exact: A Jan 10, B Mar 1 → 2 / 5; within recall: A Jan 10, B Jan 10, B Mar 1 → 3 / 5.
    """
    return _visits([
        ("A", "2024-01-10 09:00", "arrived", "2024-01-01 10:00", "综合", "X"),
        ("A", "2024-02-20 09:00", "arrived", "2024-01-10 15:00", "综合", "X"),
        ("B", "2024-01-10 10:00", "arrived", "2024-01-02 10:00", "综合", "Y"),
        ("B", "2024-03-01 10:00", "arrived", "2024-01-20 11:00", "综合", "Y"),
        ("B", "2024-03-08 10:00", "no_show", "2024-03-01 10:40", "综合", None),
        ("C", "2024-01-10 11:00", "arrived", "2024-01-05 10:00", "综合", "Y"),
        ("E", "2024-12-01 11:00", "arrived", "2024-11-05 10:00", "综合", None),
    ])


def test_exact_share_uses_the_booking_times(hand):
    result = reappointment.reappointment(hand, start=START, end=END, thresholds=TH)
    assert result.method == reappointment.EXACT
    assert result.rate == pytest.approx(2 / 5)
    shares = result.shares("consultant")
    assert shares.loc["X", "rate"] == pytest.approx(1 / 2) and shares.loc["Y", "rate"] == pytest.approx(1 / 3)
    assert result.metrics()["kpis"] == {"reappointment_rate": pytest.approx(0.4), "reappointment_method": "exact"}
    assert result.metrics()["consultants"]["X"]["next_visit_booked"] == pytest.approx(0.5)


def test_without_booking_times_a_later_booking_within_the_recall_interval_counts_and_is_said(hand):
    result = reappointment.reappointment(hand.drop(columns="booked_at"), start=START, end=END, thresholds=TH)
    assert result.method == reappointment.PROXY
    assert result.rate == pytest.approx(3 / 5)
    assert "近似值" in result.zh and "approximation" in result.en
    # a shorter recall interval (the consultant's override) leaves B's 51-day gap out: A Jan 10, B Mar 1
    short = thresholds.resolve({"recall_days_general": 45})
    assert reappointment.reappointment(hand.drop(columns="booked_at"), start=START, end=END,
                                       thresholds=short).rate == pytest.approx(2 / 5)


def test_a_coordinator_far_behind_the_others_is_a_finding_with_its_revenue_at_stake():
    """X: 60 visits, 48 followed by a booking made that day (0.8); Y: 60 visits, 24 (0.4): Y is 40 points
    behind X, past the 10-point line (red); 36 missing a year × 200 a visit... over the judged window."""
    rows = []
    for who, kept in (("X", 48), ("Y", 24)):
        for i in range(60):
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=i)
            rows.append((f"{who}{i}", f"{day:%Y-%m-%d} 09:00", "arrived", f"{day - pd.Timedelta(days=3):%Y-%m-%d} 09:00",
                         "正畸", who))
            booked = day if i < kept else day + pd.Timedelta(days=5)
            rows.append((f"{who}{i}", f"{day + pd.Timedelta(days=30):%Y-%m-%d} 09:00", "arrived",
                         f"{booked:%Y-%m-%d} 18:00", "正畸", None))
    rows.append(("Z", "2024-12-31 09:00", "arrived", "2024-12-01 09:00", "正畸", None))
    result = reappointment.reappointment(_visits(rows), start=START, end=END, thresholds=TH, revenue_per_visit=200.0)
    [flag] = result.flags
    assert (flag.subject, flag.metric, flag.severity) == ("Y", "consultant_reappointment", RED)
    assert flag.value == pytest.approx(0.4) and flag.reference == pytest.approx(0.8)
    window_years = ((flag.window.end - flag.window.start).days + 1) / 365
    assert flag.revenue_at_stake == pytest.approx(0.4 * 60 / window_years * 200)
    assert "Y" in result.zh and "40.0个百分点" in result.zh
    assert "Y" in result.title("zh")


def test_nothing_to_judge_says_so():
    visits = _visits([("A", "2024-12-30 09:00", "arrived", "2024-12-01 09:00", "综合", None)])
    result = reappointment.reappointment(visits, start=START, end=END, thresholds=TH)
    assert isinstance(result, Unavailable) and result.metrics() == {"kpis": {"reappointment_rate": None,
                                                                             "reappointment_method": None}}

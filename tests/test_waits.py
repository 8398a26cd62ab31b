"""Waiting time (playbook/waits.py) [S1], worked out by hand."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from playbook import thresholds, waits
from playbook.results import RED

START, END = dt.date(2024, 1, 1), dt.date(2024, 12, 31)


def _visits(rows):
    """rows: (doctor, scheduled, checked in, started)."""
    frame = pd.DataFrame(rows, columns=["doctor_id", "scheduled_at", "checked_in_at", "started_at"])
    for column in ("scheduled_at", "checked_in_at", "started_at"):
        frame[column] = pd.to_datetime(frame[column])
    frame["status"] = "arrived"
    return frame


def test_wait_counts_from_the_later_of_check_in_and_booking():
    """
    A (Tue 2024-01-02 09:00 booked): checked in 08:40, started 09:10 → 10 (the early arrival's own 20 do not count)
    A (09:30 booked): in 09:45, started 10:05 → 20; B (Sat 2024-01-06 15:00): in 14:55, started 14:58 → 0 (never
    below 0); B (15:30): in 15:20, started 21:00 → 330 minutes: a mistyped time, left out.
    """
    result = waits.wait_times(_visits([
        ("A", "2024-01-02 09:00", "2024-01-02 08:40", "2024-01-02 09:10"),
        ("A", "2024-01-02 09:30", "2024-01-02 09:45", "2024-01-02 10:05"),
        ("B", "2024-01-06 15:00", "2024-01-06 14:55", "2024-01-06 14:58"),
        ("B", "2024-01-06 15:30", "2024-01-06 15:20", "2024-01-06 21:00")]), start=START, end=END)
    assert result.mean == pytest.approx(10) and result.dropped == 1
    assert result.of("doctor").loc["A", "mean"] == 15 and result.of("doctor").loc["B", "mean"] == 0
    assert result.of("slot").loc["weekday_morning", "visits"] == 2
    assert "录入错误" in result.zh and result.flags == []


def test_a_slow_doctor_in_the_last_six_months_is_flagged_with_the_months_before():
    rows = []  # 40 weekday afternoons before July at a 5-minute wait, 40 after at 25 minutes
    for first, wait in (("2024-02-01", 5), ("2024-08-01", 25)):
        for day in pd.bdate_range(first, periods=40).strftime("%Y-%m-%d"):
            rows.append(("C", f"{day} 15:00", f"{day} 14:50", f"{day} 15:{wait:02d}"))
    result = waits.wait_times(_visits(rows), start=START, end=END, thresholds=thresholds.resolve())
    flags = {f.segment.kind: f for f in result.flags}
    assert set(flags) == {"doctor", "slot"}  # C is the only doctor: the slot is as slow
    assert flags["doctor"].value == pytest.approx(25) and flags["doctor"].reference == pytest.approx(5)
    assert flags["doctor"].severity == RED and flags["doctor"].revenue_at_stake == 0
    assert "C的患者平均候诊25分钟" in flags["doctor"].sentence("zh")
    assert result.metrics()["kpis"]["wait_minutes_max_doctor"] == pytest.approx(25)

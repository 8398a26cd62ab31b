"""Chair vacancy (playbook/chairs.py) [S0] and the week clinic.yaml writes (playbook/hours.py), worked out by hand."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pydantic import ValidationError

from playbook import chairs, hours, thresholds
from playbook.clinic import clinic_from_tables
from playbook.config import ClinicConfig
from playbook.results import Unavailable

START, END = dt.date(2024, 1, 1), dt.date(2024, 1, 31)
NO_TURNOVER = thresholds.resolve({"chair_turnover_minutes": 0})


def _visits(rows):
    """rows: (department, scheduled 'YYYY-MM-DD HH:MM', ended 'HH:MM' or None, status)."""
    frame = pd.DataFrame(rows, columns=["department", "scheduled_at", "ended", "status"])
    frame["scheduled_at"] = pd.to_datetime(frame["scheduled_at"])
    frame["ended_at"] = pd.to_datetime(frame["scheduled_at"].dt.strftime("%Y-%m-%d ") + frame["ended"].fillna("00:00"))
    frame.loc[frame["ended"].isna(), "ended_at"] = pd.NaT
    frame["started_at"] = frame["scheduled_at"]
    frame["visit_id"] = [f"V{i}" for i in range(len(frame))]
    frame["patient_id"] = [f"P{i}" for i in range(len(frame))]
    return frame.drop(columns="ended")


def test_weeks_are_read_as_clinic_yaml_writes_them():
    week = hours.parse({"mon-fri": "09:00-12:00, 13:30-18:00", "周六": "09:00-17:00", "sun": "closed"})
    assert week.minutes_in_hour(0, 13) == 30 and week.minutes_in_hour(0, 12) == 0 and week.hours(6) == []
    assert (week & hours.parse(hours.PRIME_DEFAULT)).days[5] == ((14 * 60, 17 * 60),)
    assert week.describe("zh") == "周一至周五 9:00–12:00, 13:30–18:00；周六 9:00–17:00"
    base = dict(clinic_id="c", name="c", period={"start": "2024-01-01", "end": "2024-01-31"})
    for bad, words in (({"mon-fri": "9-18"}, "not a time range"), ({"mon-fri": "09:00-18:00", "fri": "10:00-12:00"},
                        "given twice"), ({"someday": "09:00-12:00"}, "not a day")):
        with pytest.raises(ValidationError, match=words):
            ClinicConfig.model_validate({**base, "opening_hours": bad})
    with pytest.raises(ValidationError, match="positive count"):
        ClinicConfig.model_validate({**base, "chairs": 0})
    config = ClinicConfig.model_validate({**base, "opening_hours": {"mon-fri": "09:00-18:00"}, "chairs": {"种植": 1, "其他": 2}})
    assert config.prime_week.days[0] == ((14 * 60, 17 * 60),) and config.prime_week.days[5] == ()


def test_vacancy_by_hour_with_measured_and_default_lengths():
    """
    One chair, open Mondays 9:00-12:00, prime 10:00-12:00. 2024-01-01 (a Monday): a visit 9:00-10:00 (end in the
    export) and one booked at 10:30 with no end time (种植: the default 60 minutes, 10:30-11:30). 2024-01-08: one
    visit 9:00-9:30. Every other Monday of January no patient came: closed (a holiday), not counted.
    Used: Jan 1: 60 + 30 + 30 = 120 of 180; Jan 8: 30 of 180 → vacancy 1 − 150/360 = 0.583.
    Prime (10-12): Jan 1 60 of 120; Jan 8 0 of 120 → 0.75.
    """
    visits = _visits([("种植", "2024-01-01 09:00", "10:00", "arrived"), ("种植", "2024-01-01 10:30", None, "arrived"),
                      ("种植", "2024-01-08 09:00", "09:30", "arrived"), ("种植", "2024-01-15 09:00", "09:30", "no_show")])
    week = hours.parse({"mon": "09:00-12:00"})
    result = chairs.chair_vacancy(visits, week=week, prime=week & hours.parse({"mon": "10:00-12:00"}), chairs=1,
                                  start=START, end=END, thresholds=NO_TURNOVER)
    assert result.vacancy == pytest.approx(1 - 150 / 360)
    assert result.prime_vacancy == pytest.approx(0.75)
    assert result.measured == pytest.approx(2 / 3)
    grid = result.grid(window=None)
    assert grid.loc[0, 9] == pytest.approx(1 - 90 / 120) and grid.loc[0, 11] == pytest.approx(1 - 30 / 120)
    # with the default turnover of 10 minutes after each patient: + 10 + 10 (the 9:30 end) + 10 in hour 11
    turnover = chairs.chair_vacancy(visits, week=week, prime=week & hours.parse({"mon": "10:00-12:00"}), chairs=1,
                                    start=START, end=END, thresholds=thresholds.resolve())
    assert turnover.vacancy == pytest.approx(1 - (150 + 30) / 360)


def test_prime_vacancy_past_the_line_per_department_and_the_others():
    """
    Chairs {正畸: 1, 其他: 1}, open every day 14:00-17:00 (all prime). January 2024 (31 days, so the whole period is
    "recent"): 正畸 has a 3-hour visit every day (full); 综合 and 修复 share the other chair with one 90-minute visit
    a day: half empty, past 10%; a department on no chair (none here) would be named.
    """
    rows = []
    for day in pd.date_range("2024-01-01", "2024-01-31"):
        rows += [("正畸", f"{day:%Y-%m-%d} 14:00", "17:00", "arrived"),
                 ("综合" if day.day % 2 else "修复", f"{day:%Y-%m-%d} 14:00", "15:30", "arrived")]
    week = hours.parse({"mon-sun": "14:00-17:00"})
    result = chairs.chair_vacancy(_visits(rows), week=week, prime=week, chairs={"正畸科": 1, "其他": 1}, start=START,
                                  end=END, thresholds=NO_TURNOVER, revenue_per_visit=300.0)
    assert result.table.loc["正畸科", "vacancy_prime"] == 0 and result.table.loc["others", "vacancy_prime"] == 0.5
    [flag] = result.flags
    assert flag.subject == "others" and flag.value == pytest.approx(0.5) and flag.metric == "chair_vacancy_prime"
    # revenue per chair-hour: 300 a visit over (180 + 90) / 2 minutes = 2.25 h → 133.33; (0.5 − 0.1) × 93 h a year-ish
    hours_recent, years = 31 * 3, 31 / 365
    assert flag.revenue_at_stake == pytest.approx(0.4 * hours_recent / years * 300 / 2.25)
    # the same idle hours as visits a year (what the story values them at, if no earlier finding holds them)
    assert flag.facts["visits_idle"] == pytest.approx(0.4 * hours_recent / years / 2.25)
    assert "其他科室" in flag.sentence("zh") and "the other departments" in flag.sentence("en")
    assert result.metrics()["operations"]["chairs"]["others"]["vacancy_prime"] == 0.5


def test_without_opening_hours_or_chairs_the_report_names_the_facts_in_plain_words():
    tables = {"patients": pd.DataFrame({"patient_id": ["P0"]}),
              "visits": _visits([("综合", "2024-01-01 09:00", "10:00", "arrived")]),
              "charges": pd.DataFrame({"patient_id": ["P0"], "paid_at": pd.to_datetime(["2024-01-01"]),
                                       "item": ["洁牙"], "amount_paid": [100.0]})}
    clinic = clinic_from_tables({"clinic_id": "c", "name": "c", "period": {"start": START, "end": END}}, tables)
    result = chairs.diagnose(clinic, thresholds.resolve()).chair_vacancy
    assert isinstance(result, Unavailable)
    for text in (result.zh, result.en):
        assert "clinic.yaml" not in text and "opening_hours" not in text
    assert "营业" in result.zh and "牙椅" in result.zh and "opening hours" in result.en
    assert result.metrics() == {"kpis": {"chair_vacancy": None, "chair_vacancy_prime": None,
                                         "chair_vacancy_prime_recent": None}}

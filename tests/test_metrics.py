"""The metric registry: one definition per metric, and every path that shows a metric gives its number.

The agreement test computes each metric over one window through every path that exposes it — the
headline KPIs (and the kpis.json fragment they publish), the weekly pack week by week, evaluate's
weekly series, the portfolio reading kpis.json, the driver tree — and asserts they are equal, on both
bundled samples and on the clinic worked out by hand in test_kpis.py.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from conftest import write_hand_clinic
from playbook import coordinators, definitions, drivers, evaluate, kpis, portfolio, thresholds, weekly
from playbook.clinic import load_clinic
from playbook.config import SAMPLES_DIR
from playbook.metrics import HEADLINE, METRICS, PORTFOLIO, SERIES, WEEKLY, parse_metric, ratio
from playbook.tables import CONVERSION_WINDOW_DAYS, clinic_tables, data_end

CLINICS = ["general_clinic", "children_clinic", "hand_worked"]


WEEKS = 26  # a sample's window: its last half-year of settled weeks (the hand-worked clinic: its whole period)


@pytest.fixture(scope="module", params=CLINICS)
def case(request, tmp_path_factory):
    """A clinic, its window (whole weeks of the period whose new patients have had their 30 days), and
    each metric's value there as the registry defines it."""
    hand = request.param == "hand_worked"
    clinic = load_clinic(write_hand_clinic(tmp_path_factory.mktemp("hand")) if hand else SAMPLES_DIR / request.param)
    period = clinic.config.period
    settled = data_end(clinic.visits, clinic.charges).date() - dt.timedelta(days=CONVERSION_WINDOW_DAYS)
    last = weekly.last_full_week(min(period.end, settled))
    first = weekly.Week.containing(period.start)
    first = first if first.start >= period.start else first.shift(1)
    first = first if hand else max(first, last.shift(1 - WEEKS))
    weeks = [first.shift(k) for k in range((last.start - first.start).days // 7 + 1)]
    tables = clinic_tables(clinic)
    expected = {name: m.value(tables, first.start, last.end) for name, m in METRICS.items() if m.table}
    return clinic, weeks, expected


def _window(weeks):
    return weeks[0].start, weeks[-1].end


def test_the_headline_kpis_and_their_kpis_json_fragment_are_the_registrys(case):
    clinic, weeks, expected = case
    start, end = _window(weeks)
    headline = kpis.headline_kpis(clinic.patients, clinic.visits, clinic.charges, start=start, end=end,
                                  referral_channels=clinic.config.referral)
    published = headline.to_dict()["kpis"]
    for name in HEADLINE:
        assert headline.values[name] == pytest.approx(expected[name], abs=0.005), name
        assert published[name] == pytest.approx(expected[name], abs=1e-6 if METRICS[name].unit == "rate" else 0.005)
    # per channel: the same two definitions over the channel's new patients
    tables = clinic_tables(clinic)
    for channel, row in headline.channels.iterrows():
        for name in ("new_patients", "first_visit_conversion"):
            assert row[name] == pytest.approx(METRICS[name].value(tables, start, end, channel)), (channel, name)
    # and the whole period, where the 12-month return has its cohort
    period = clinic.config.period
    for name, value in kpis.clinic_kpis(clinic).values.items():
        assert value == pytest.approx(METRICS[name].value(tables, period.start, period.end), abs=0.005), name
    assert kpis.clinic_kpis(clinic).values["return_within_12m"] is not None


def test_the_weekly_pack_week_by_week_adds_up_to_the_window(case):
    clinic, weeks, expected = case
    data = weekly.week_data(clinic)  # the tables the pack counts, cut at the data's end
    start, end = _window(weeks)
    for name in WEEKLY:
        metric = weekly.WEEKLY_METRICS[name]
        if not metric.available(data):
            assert expected[name] is None
            continue
        parts = [metric.parts(data, w.start, w.end) for w in weeks]
        for w, (numerator, denominator) in zip(weeks, parts):
            assert weekly.week_value(data, metric, w) == pytest.approx(ratio(numerator, denominator), nan_ok=True)
        if metric.additive:
            total = sum(n for n, _ in parts)
        elif metric.pooled:
            total = ratio(sum(n for n, _ in parts), sum(d for _, d in parts))
        else:  # a ratio whose parts depend on the window (the average ticket): the pack's tables over it
            total = metric.value(data, start, end)
        assert total == pytest.approx(expected[name]), name


def test_evaluate_series_summed_or_pooled_over_the_weeks_is_the_window(case):
    clinic, weeks, expected = case
    data = weekly.week_data(clinic)
    for name in SERIES:
        series = evaluate.kpi_series(clinic, name, "W")
        metric = METRICS[name]
        values = [series.get(pd.Timestamp(w.start)) for w in weeks]
        assert all(v is not None for v in values), f"{name}: a week of the window is missing from the series"
        if metric.additive:
            assert sum(values) == pytest.approx(expected[name]), name
            continue
        denominators = [metric.parts(data, w.start, w.end)[1] for w in weeks]
        for w, value in zip(weeks, values):  # each week is the pack's week
            pack = weekly.week_value(data, metric, w)
            assert (pack is None and pd.isna(value)) or value == pytest.approx(pack), (name, w)
        pooled = sum(v * d for v, d in zip(values, denominators) if d) / sum(denominators)
        assert pooled == pytest.approx(expected[name]), name


def test_the_portfolio_reads_the_published_kpis_back(case, tmp_path):
    clinic, weeks, expected = case
    start, end = _window(weeks)
    headline = kpis.headline_kpis(clinic.patients, clinic.visits, clinic.charges, start=start, end=end,
                                  referral_channels=clinic.config.referral)
    for clinic_id in ("a", "b"):  # a portfolio needs two clinics; the same one twice is enough here
        folder = tmp_path / clinic_id
        folder.mkdir()
        payload = {"clinic_id": clinic_id, "clinic_name": clinic_id, "complete": True,
                   "period": {"start": start.isoformat(), "end": end.isoformat()}, **headline.to_dict(),
                   "doctors": {"甲医生": {"working_days": 20}, "乙医生": {"working_days": 30}}}
        (folder / "kpis.json").write_text(json.dumps(payload, allow_nan=False), encoding="utf-8")
    row = portfolio.read_portfolio(tmp_path).clinics.iloc[0]
    for measure in portfolio.MEASURES:
        if measure.metric.table is None:
            continue  # computed by the driver tree over its own windows: not in this fragment
        value = row[measure.name] * row["doctor_days"] if measure.per_doctor_day else row[measure.name]
        assert value == pytest.approx(expected[measure.metric.name], abs=1e-6, nan_ok=True), measure.name


def test_the_driver_tree_counts_the_same_revenue_and_ticket(case):
    clinic, weeks, expected = case
    start, end = _window(weeks)
    counts = drivers.driver_counts(clinic.charges, clinic.visits, start=start, end=end).iloc[0]
    assert counts["revenue"] == pytest.approx(expected["revenue"])
    assert counts["revenue"] / counts["paying_days"] == pytest.approx(expected["average_ticket"])


def test_a_metric_split_by_channel_or_department_adds_up_to_the_clinic():
    """Every row of the general sample has a channel and a department: the parts add up to the whole."""
    tables = clinic_tables(load_clinic(SAMPLES_DIR / "general_clinic"))
    start, end = dt.date(2025, 1, 1), dt.date(2025, 6, 30)
    for name, kind in (("revenue", "department"), ("revenue", "channel"), ("new_patients", "channel"),
                       ("new_patients", "department"), ("no_show_rate", "channel"), ("arrived_visits", "department")):
        metric = METRICS[name]
        split = metric.per_segment(tables, start, end, kind)
        assert len(split) > 1, (name, kind)
        numerator, denominator = metric.parts(tables, start, end)
        assert split["numerator"].sum() == pytest.approx(numerator), (name, kind)
        if denominator is not None:
            assert split["denominator"].sum() == pytest.approx(denominator), (name, kind)
        for segment, row in split.iterrows():  # one segment through the scope argument: the same number
            assert metric.value(tables, start, end, segment) == pytest.approx(row["value"]), (name, segment)


# --- the registry is the one definition -------------------------------------------------------------

def test_every_view_is_a_selection_of_the_registry():
    assert list(kpis.HEADLINE) == list(HEADLINE)
    assert all(weekly.WEEKLY_METRICS[n] is METRICS[n] for n in WEEKLY)
    assert [m.metric for m in portfolio.MEASURES] == [METRICS[n] for n in PORTFOLIO]
    assert evaluate.KPI_SERIES == SERIES and evaluate.LOWER_IS_BETTER == {"no_show_rate"}
    table = definitions.definitions_table("en")
    assert table["KPI"].tolist() == [METRICS[n].en for n in HEADLINE]
    assert table["Definition"].tolist() == [METRICS[n].definition_en for n in HEADLINE]


def test_a_coordinators_conversion_is_the_contracts_over_the_patients_she_received():
    """first_visit_conversion:周咨询师 in a task's target is the coordinators analysis' own figure for her
    (grouped by the coordinator of the first arrived visit)."""
    clinic = load_clinic(SAMPLES_DIR / "general_clinic")
    tables = clinic_tables(clinic)
    period = clinic.config.period
    card = coordinators.scorecard(clinic.patients, clinic.visits, clinic.charges, start=period.start, end=period.end)
    assert len(card.table) >= 2
    for name, row in card.table.iterrows():
        value = METRICS["first_visit_conversion"].value(tables, period.start, period.end, name)
        assert value == pytest.approx(row.first_visit_conversion, abs=1e-9), name


def test_each_metric_names_real_thresholds_units_and_scopes():
    for metric in METRICS.values():
        assert metric.unit in ("yuan", "count", "rate"), metric.name
        assert set(metric.thresholds) <= set(thresholds.DEFAULTS), metric.name
        assert metric.line is None or metric.line in metric.thresholds, metric.name
        assert set(metric.scopes) <= {"channel", "department", "doctor", "consultant", "slot"}, metric.name
        assert (metric.table is None) == (metric.computed_by is not None), metric.name
        if metric.line:  # the line's direction agrees with the metric's
            assert (thresholds.DEFAULTS[metric.line].direction == "min") == metric.higher_is_better, metric.name
    assert parse_metric("客单价") == ("average_ticket", None)


def test_the_windows_are_stated_in_the_definitions():
    assert f"{CONVERSION_WINDOW_DAYS}天内" in METRICS["first_visit_conversion"].definition_zh
    assert "365 days" in METRICS["return_within_12m"].definition_en
    assert METRICS["first_visit_conversion"].window("en") == (
        "first arrival in the window; outcome counted over the 30 days after")


def test_a_doctors_and_a_time_slots_scope_count_what_the_doctors_chapter_counts():
    """Targets aimed at the segment where the problem is (issue 14): a doctor's first-visit conversion and a
    time slot's no-show rate, as the registry counts them, are the doctors chapter's numbers."""
    from playbook.diagnosis import diagnose

    for sample, metric, kind in (("general_clinic", "first_visit_conversion", "doctor_first_visit_conversion"),
                                 ("children_clinic", "no_show_rate", "no_show_rate_slot")):
        clinic = load_clinic(SAMPLES_DIR / sample)
        tables, period = clinic_tables(clinic), clinic.config.period
        flags = [f for f in diagnose(clinic).flags() if f.kind == kind]
        assert flags, (sample, kind)
        for flag in flags:
            scoped = METRICS[metric].value(tables, period.start, period.end, flag.subject)
            assert scoped == pytest.approx(flag.value), (sample, flag.subject)

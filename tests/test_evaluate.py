"""Known-answer and simulation tests of the before/after evaluation (method.md, "Evaluate" [S1]).

The simulated series are what the chapter meets: weekly, a linear trend, a yearly season and noise,
with an effect planted at the intervention. Seeds are fixed, so each run sees the same series. The
published-series check is the Nile's level drop of 1899 (tests/results/README.md). The full
calibration grid is benchmarks/evaluate_calibration.py; the repeated simulation here is its hardest
cell (60 weeks before, AR(1) noise 0.5), 80 series an arm: a true 95% coverage lands in [0.90, 0.99]
about 95% of the time at that size, so the bounds asked for leave room for luck, not for a broken
interval (the old method covered 82% there).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from click.testing import CliRunner

from playbook import cli
from playbook import evaluate as ev
from playbook.clinic import clinic_from_tables
from playbook.config import Intervention

PLAYBOOK = [sys.executable, "-m", "playbook.cli"]
RESULTS = Path(__file__).parent / "results"
BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "evaluate_calibration.py"
WEEKS, AT = 160, 112
START = pd.Timestamp("2022-01-03")  # a Monday
STEP = 6.0
YEAR = 365.25 / 7


def weekly(rng, *, step=STEP, phi=0.2, sd=3.0, weeks=WEEKS, at=AT, shock=None, slope=0.0,
           level=50.0) -> tuple[pd.DataFrame, pd.Timestamp]:
    """A weekly series: level 50, trend +0.05 a week, a yearly season of ±5, AR(1) noise, a planted effect."""
    t = np.arange(weeks)
    season = 5 * np.sin(2 * np.pi * t / YEAR) + 2 * np.cos(4 * np.pi * t / YEAR)
    z = rng.normal(0, sd, weeks)
    noise = np.zeros(weeks)
    for i in range(weeks):
        noise[i] = (phi * noise[i - 1] if i else 0.0) + z[i]
    y = level + 0.05 * t + season + step * (t >= at) + slope * np.maximum(t - at, 0) + noise
    if shock is not None:
        y = y + shock
    dates = pd.date_range(START, periods=weeks, freq="7D")
    return pd.DataFrame({"week": dates, "y": y}), dates[at]


# --- one series, known answers ----------------------------------------------------------------------

def test_recovers_a_planted_step_despite_trend_and_season():
    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert result.method == "its" and result.model == "trend" and result.effect_kind == "step"
    assert result.frequency == "W" and result.season == "time of year (2 Fourier pairs)"
    assert result.n_pre == AT and result.n_post == WEEKS - AT
    assert result.ci_low < STEP < result.ci_high and result.significant and result.reliable
    assert result.effect == pytest.approx(STEP, abs=2.0)
    # the naive difference carries the trend: 0.05 a week × (mean week after − mean week before) = 4.0
    assert result.naive_effect - STEP == pytest.approx(0.05 * ((AT + WEEKS - 1) / 2 - (AT - 1) / 2), abs=2.0)
    assert result.naive_trend == pytest.approx(0.05 * 80, abs=1.0)
    # relative effect: the level change over what the KPI would have been (about 50 + 0.05·136 ≈ 57)
    assert result.relative_effect == pytest.approx(result.effect / result.counterfactual_mean)
    assert result.relative_ci_low < result.relative_effect < result.relative_ci_high
    assert result.relative_ci_low == pytest.approx(result.ci_low / (result.counterfactual_mean + result.effect
                                                                     - result.ci_low))
    assert "高估" in result.finding("zh") and "overstate" in result.finding("en")
    assert "水平" in result.finding("zh") and "相对没有干预时为+" in result.finding("zh")


def test_result_is_statsmodels_shaped():
    data, start = weekly(np.random.default_rng(12))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert {"const", "trend", "step", "year_sin1", "year_cos1", "effect"} <= set(result.params.index)
    ci = result.conf_int(0.05)
    assert ci.loc["effect"].tolist() == pytest.approx([result.ci_low, result.ci_high])
    wider = result.conf_int(0.01).loc["effect"]
    assert wider["lower"] < result.ci_low and wider["upper"] > result.ci_high
    assert "step" in result.summary().as_text()
    assert list(result.table.index) == ["model", "naive", "placebo", "placebo2"]  # 2 fake dates fit in 112 weeks
    assert result.metrics()["evaluations"]["intervention"]["effect"] == pytest.approx(result.effect, abs=1e-6)
    assert 0 < result.fit.rho < 0.5 and 5 < result.df <= WEEKS  # AR(1) 0.2 planted; Satterthwaite df


def test_calibrated_where_the_old_method_was_not():
    """60 weeks before, AR(1) 0.5, a year's season: the old GLSAR + HAC covered 82% and alarmed 13–16%."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("evaluate_calibration", BENCHMARK)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    simulate = benchmark.simulate  # the benchmark's own simulation
    rng = np.random.default_rng(2026)
    covered, alarms = [], []
    for _ in range(80):
        null, start = simulate(rng, pre=60, post=26, phi=0.5, scale=None, effect=0.0)
        alarms.append(ev.evaluate(null, date="week", value="y", intervention=start).significant)
        real, start = simulate(rng, pre=60, post=26, phi=0.5, scale=None, effect=3.0)
        result = ev.evaluate(real, date="week", value="y", intervention=start)
        covered.append(result.ci_low <= 3.0 <= result.ci_high)
    assert 0.90 <= np.mean(covered) <= 1.0 and np.mean(alarms) <= 0.10


def test_exactly_two_years_before_keep_the_season_and_one_year_is_enough():
    for weeks_before in (104, 52):
        data, start = weekly(np.random.default_rng(4), weeks=weeks_before + 26, at=weeks_before)
        result = ev.evaluate(data, date="week", value="y", intervention=start)
        assert result.season == "time of year (2 Fourier pairs)", weeks_before
        assert result.ci_low < STEP < result.ci_high
    short, start = weekly(np.random.default_rng(4), weeks=76, at=50)
    result = ev.evaluate(short, date="week", value="y", intervention=start)
    assert result.season is None and "不足一个完整周期" in result.finding("zh")
    forced = ev.evaluate(short, date="week", value="y", intervention=start, season=True)
    assert forced.season == "time of year (1 Fourier pair)" and "粗略" in forced.finding("zh")
    off = ev.evaluate(data, date="week", value="y", intervention=start, season=False)
    assert off.season is None and "季节" not in off.finding("zh")


def test_slope_and_both_say_what_the_number_is():
    # the KPI grows 0.2 a week faster after the intervention: no jump
    data, start = weekly(np.random.default_rng(31), step=0.0, slope=0.2, phi=0.0, sd=2.0)
    slope = ev.evaluate(data, date="week", value="y", intervention=start, effect="slope")
    post = WEEKS - AT
    assert slope.effect == pytest.approx(0.2 * (post - 1) / 2, abs=1.0)  # the average gap over the 48 weeks
    assert slope.ci_low < 0.2 * (post - 1) / 2 < slope.ci_high
    assert slope.effect_last_ci[0] < 0.2 * (post - 1) < slope.effect_last_ci[1]
    assert slope.to_dict()["effect_means"] == "average over the post-period"
    assert "平均" in slope.finding("zh") and "最后一周的差距" in slope.finding("zh")
    both = ev.evaluate(data, date="week", value="y", intervention=start, effect="both")
    assert both.ci_low < 0.2 * (post - 1) / 2 < both.ci_high and both.ci_high - both.ci_low > slope.ci_high - slope.ci_low
    step = ev.evaluate(data, date="week", value="y", intervention=start)
    assert step.to_dict()["effect_means"] == "level change" and step.effect_last is None


def test_monthly_daily_quarterly_series_with_chinese_dates_and_yuan_amounts():
    months = pd.date_range("2021-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(9)
    revenue = 200_000 + 1_000 * np.arange(48) + 20_000 * (months.month == 1) + 30_000 * (months >= "2024-07-01") \
        + rng.normal(0, 5_000, 48)
    raw = pd.DataFrame({"月份": [f"{m.year}年{m.month}月" for m in months], "实收": [f"¥{v:,.2f}" for v in revenue]})
    result = ev.evaluate(raw, date="月份", value="实收", intervention="2024-07-01")
    assert result.frequency == "M" and result.season == "time of year (dummies)" and result.unit == "yuan"
    assert result.ci_low < 30_000 < result.ci_high and "万元" in result.finding("zh")
    two_years = ev.evaluate(raw.iloc[:30], date="月份", value="实收", intervention="2022-07-01")
    assert two_years.season == "time of year (2 Fourier pairs)"  # 18 months before: one year covered, not three
    days = pd.DataFrame({"day": pd.date_range("2025-03-01", periods=60), "n": rng.poisson(10, 60)})
    daily = ev.evaluate(days, date="day", value="n", intervention="2025-04-10")
    assert daily.frequency == "D" and daily.season == "weekday (dummies)"
    quarters = pd.date_range("2015-01-01", periods=40, freq="QS")
    q = pd.DataFrame({"季度": [f"{d.year}Q{d.quarter}" for d in quarters],
                      "v": 100 + 8 * (quarters.quarter == 4) + 10 * (quarters >= "2022-01-01") + rng.normal(0, 2, 40)})
    quarterly = ev.evaluate(q, date="季度", value="v", intervention="2022-01-01")
    assert quarterly.frequency == "Q" and quarterly.season == "time of year (dummies)"
    assert quarterly.ci_low < 10 < quarterly.ci_high


def test_nile_level_drop_of_1899_matches_the_published_effect():
    """Cobb (1978); strucchange's one-break model: 1097.75 → 849.97, a drop of 247.8 (22.6%)."""
    result = ev.evaluate(ev.read_series(RESULTS / "nile.csv"), date="year", value="volume", intervention="1899-01-01")
    assert result.frequency == "A" and result.n_pre == 28 and result.n_post == 72
    assert result.model == "local"  # 72 years after, 28 before: no straight line carried 72 years on
    assert result.ci_low < -247.8 < result.ci_high < 0
    assert result.effect == pytest.approx(-247.8, rel=0.10)
    assert result.relative_effect == pytest.approx(-0.226, abs=0.02) and result.reliable
    naive = ev.evaluate(ev.read_series(RESULTS / "nile.csv"), date="year", value="volume", intervention="1899",
                        model="trend", effect="both")
    assert "longer than the pre-period" in naive.finding("en")  # what the old method did, now with a warning


def test_gaps_and_blank_values_are_reported_and_left_out_not_filled():
    data, start = weekly(np.random.default_rng(11))
    raw = data.assign(y=data["y"].round(2).astype(str))
    raw.loc[[10, 50], "y"] = ""  # two blank cells
    raw = raw.drop(index=[20, 21, 130])  # three weeks missing from the file
    result = ev.evaluate(raw, date="week", value="y", intervention=start)
    assert [d.date().isoformat() for d in result.missing] == [
        (START + pd.Timedelta(weeks=w)).date().isoformat() for w in (10, 20, 21, 50, 130)]
    assert result.n_pre == AT - 4 and result.n_post == WEEKS - AT - 1
    assert "有5周没有数值" in result.finding("zh") and "not filled in" in result.finding("en")
    assert result.ci_low < STEP < result.ci_high and result.reliable
    holes = data.assign(y=data["y"].where(np.arange(WEEKS) % 3 != 0))  # a third of the weeks blank
    patchy = ev.evaluate(holes, date="week", value="y", intervention=start)
    assert not patchy.reliable and "没有数值" in patchy.finding("zh")


# --- controls -----------------------------------------------------------------------------------------

def _with_control(seed: int, *, scale: float, step: float = STEP):
    """Treated and control share a market shock (AR 0.5, sd 3); the control is ``scale`` times as big."""
    rng = np.random.default_rng(seed)
    t = np.arange(WEEKS)
    market = np.zeros(WEEKS)
    for i in range(1, WEEKS):
        market[i] = 0.5 * market[i - 1] + rng.normal(0, 3)
    treated, start = weekly(rng, step=step, shock=market, sd=1.0, phi=0.0)
    control, _ = weekly(rng, step=0.0, shock=market, sd=1.0, phi=0.0, level=40)
    return treated.assign(control=scale * control["y"], t=t), start


def test_a_control_four_times_the_size_is_scaled_not_subtracted():
    data, start = _with_control(21, scale=4.0)
    alone = ev.evaluate(data, date="week", value="y", intervention=start)
    with_control = ev.evaluate(data, date="week", value="y", intervention=start, control="control")
    assert with_control.method == "controls" and with_control.ci_low < STEP < with_control.ci_high
    weight = with_control.control_weights["control"][0]
    assert 0.15 < weight < 0.3  # about 1/4 (the control's own noise pulls it a little towards 0)
    # the shared market shock is explained: the interval is much narrower than the series alone gives
    assert with_control.ci_high - with_control.ci_low < 0.6 * (alone.ci_high - alone.ci_low)
    assert "control" in with_control.finding("en") and "×0.2" in with_control.finding("zh")
    assert with_control.to_dict()["control_weights"]["control"] == pytest.approx(weight, abs=1e-6)


def test_several_controls_and_a_long_file_with_every_other_unit_as_control():
    data, start = _with_control(22, scale=1.0)
    rng = np.random.default_rng(5)
    wide = data.assign(other=data["control"] * 2 + rng.normal(0, 1, WEEKS))
    both = ev.evaluate(wide, date="week", value="y", intervention=start, control=["control", "other"])
    assert set(both.control_weights) == {"control", "other"} and both.ci_low < STEP < both.ci_high
    long = pd.concat([pd.DataFrame({"week": wide["week"], "branch": name, "kpi": wide[column]})
                      for name, column in (("城东店", "y"), ("城西店", "control"), ("南山店", "other"))])
    by_unit = ev.evaluate(long, date="week", value="kpi", by="branch", treated="城东店", intervention=start)
    assert by_unit.controls == ["南山店", "城西店"] and by_unit.effect == pytest.approx(both.effect, abs=1e-6)
    with pytest.raises(ev.EvaluationInputError, match="units found: 南山店, 城东店, 城西店"):
        ev.evaluate(long, date="week", value="kpi", by="branch", treated="北店", intervention=start)


# --- reliability --------------------------------------------------------------------------------------

def test_placebos_find_nothing_on_a_series_without_effect():
    data, start = weekly(np.random.default_rng(5), step=0.0)
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    # horizon: the post-period (48 weeks) but at most a quarter of the pre-period (28); half stays before
    assert [p.date for p in result.placebos] == [start - pd.Timedelta(weeks=28 * k) for k in (1, 2)]
    assert not any(p.significant for p in result.placebos) and result.reliable
    assert "不会凭空造出效果" in result.finding("zh")


def test_a_break_before_the_intervention_makes_the_result_unreliable_and_says_why():
    t = np.arange(WEEKS)
    shock = np.where((t >= 60) & (t < AT), 8.0, 0.0) + np.where(t >= 86, 6.0, 0.0)  # moves the model cannot describe
    data, start = weekly(np.random.default_rng(8), step=0.0, shock=shock)
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert not result.reliable
    failed = {c.name for c in result.checks if not c.passed}
    assert failed & {"placebo", "autocorrelation", "curvature"}
    assert "这个估计不可靠" in result.finding("zh") and "not reliable" in result.finding("en")
    assert result.to_dict()["reliable"] is False


def test_short_pre_period_warns_instead_of_a_confident_number():
    data, _ = weekly(np.random.default_rng(3), weeks=20, at=6)
    result = ev.evaluate(data, date="week", value="y", intervention=data["week"][6])
    assert not result.reliable and not result.placebos and result.season is None
    zh, en = result.finding("zh"), result.finding("en")
    assert "干预前只有6周数据" in zh and "不能据此下结论" in zh
    assert "only 6 weeks before" in en and "not as a conclusion" in en


def test_roi_on_a_hand_example():
    # effect per week × weeks after × margin = incremental gross profit; ROI = (profit − cost) / cost
    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start, cost=1000.0, margin=0.5, unit="yuan")
    assert result.incremental_profit == pytest.approx(result.effect * 48 * 0.5)
    assert result.roi == pytest.approx((result.effect * 48 * 0.5 - 1000) / 1000)
    assert result.roi_ci_low == pytest.approx((result.ci_low * 48 * 0.5 - 1000) / 1000)
    assert result.roi_ci_high == pytest.approx((result.ci_high * 48 * 0.5 - 1000) / 1000)
    assert (6 * 48 * 0.5 - 100) / 100 == pytest.approx(0.44)  # a hand-sized case: 144 profit on 100 spent
    assert "ROI" in result.finding("zh") and {"roi", "roi_ci_low", "roi_ci_high"} <= set(result.to_dict())


def test_sentences_never_show_nan_or_inf():
    flat = pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": [5.0] * 30})
    result = ev.evaluate(flat, date="week", value="y", intervention=flat["week"][20])
    for text in (result.finding("zh"), result.finding("en"), result.table_for("zh").to_string(),
                 result.as_text("en")):
        assert "nan" not in text.lower() and "inf" not in text.lower()
    json.dumps(result.to_dict(), allow_nan=False)


def test_kpis_json_evaluations_follow_the_documented_schema():
    """Every key an evaluation writes to kpis.json is in docs/kpis.schema.json, with its type."""
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "docs" / "kpis.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema["properties"]["evaluations"])
    data, start = _with_control(21, scale=4.0)
    holes = data.assign(y=data["y"].where(np.arange(WEEKS) % 9 != 0))
    results = [ev.evaluate(data, date="week", value="y", intervention=start, name="its"),
               ev.evaluate(holes, date="week", value="y", intervention=start, control="control", effect="both",
                           cost=500.0, margin=0.5, unit="yuan", name="controls"),
               ev.evaluate(ev.read_series(RESULTS / "nile.csv"), date="year", value="volume", intervention="1899",
                           name="local")]
    payload = json.loads(json.dumps(ev.metrics(results)["evaluations"] | {"unavailable": None}, allow_nan=False))
    validator.validate(payload)
    assert {"relative_effect", "reliability", "control_weights", "effect_last", "roi"} <= set(payload["controls"])


def test_plot_draws_series_counterfactual_band_and_intervention_line():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    fig, ax = plt.subplots()
    assert result.plot(ax=ax, lang="en") is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert "without the intervention (counterfactual)" in labels and "actual" in labels
    assert len(ax.collections) >= 2  # the counterfactual's band and the shaded gap
    plt.close(fig)


@pytest.mark.parametrize("frame, kwargs, message", [
    (pd.DataFrame({"week": ["2025-01-06"], "y": [1]}), {"date": "date", "value": "y"}, "columns found: week, y"),
    (pd.DataFrame({"week": ["not a date", "2025-01-13"], "y": [1, 2]}), {"date": "week", "value": "y"},
     "cannot be read as dates"),
    (pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": range(30)}),
     {"date": "week", "value": "y", "intervention": "2030-01-01"}, "outside the series"),
    (pd.DataFrame({"week": pd.date_range(START, periods=4, freq="7D"), "y": range(4)}),
     {"date": "week", "value": "y", "intervention": START + pd.Timedelta(weeks=1)}, "too few points"),
    (pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": range(30)}),
     {"date": "week", "value": "y", "cost": 100.0}, "both the cost and the margin"),
    (pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": range(30)}),
     {"date": "week", "value": "y", "effect": "jump"}, "effect must be one of"),
    (pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": range(30)}),
     {"date": "week", "value": "y", "by": "branch"}, "both the unit column and the treated unit"),
    (pd.DataFrame({"week": list(pd.date_range(START, periods=29, freq="7D")) + [START + pd.Timedelta(days=3)],
                   "y": range(30)}), {"date": "week", "value": "y"}, "not one week apart"),
    (pd.DataFrame({"week": pd.date_range(START, periods=30, freq="21D"), "y": range(30)}),
     {"date": "week", "value": "y"}, "not a daily, weekly, monthly, quarterly or annual series"),
])
def test_bad_input_is_a_clear_error(frame, kwargs, message):
    kwargs.setdefault("intervention", START + pd.Timedelta(weeks=20))
    with pytest.raises(ev.EvaluationInputError, match=message):
        ev.evaluate(frame, **kwargs)


# --- the clinic's own series ------------------------------------------------------------------------

def _tables(rows_per_week: dict[str, list[int]]) -> dict[str, pd.DataFrame]:
    """Patients who each arrive once (their first visit), channel by channel, week by week."""
    patients, visits = [], []
    for channel, counts in rows_per_week.items():
        for week, count in enumerate(counts):
            for k in range(count):
                pid = f"{channel}-{week}-{k}"
                day = START + pd.Timedelta(weeks=week, days=k % 7)
                patients.append({"patient_id": pid, "source_channel": channel})
                visits.append({"visit_id": f"V{pid}", "patient_id": pid, "scheduled_at": day, "status": "arrived",
                               "department": "综合"})
    weeks = max(len(counts) for counts in rows_per_week.values())
    last_sunday = START + pd.Timedelta(weeks=weeks) - pd.Timedelta(days=1)  # the data covers whole weeks
    # charges span the data too (a zero line on its first day): an export that stops early is a data-health stop
    charges = pd.DataFrame({"charge_id": ["C0", "C1"], "patient_id": [patients[0]["patient_id"]] * 2,
                            "paid_at": [START, last_sunday], "item": ["洁牙"] * 2, "amount_paid": [0.0, 100.0]})
    return {"patients": pd.DataFrame(patients), "visits": pd.DataFrame(visits), "charges": charges}


def _clinic(rows_per_week: dict[str, list[int]]):
    config = {"clinic_id": "weekly", "name": "周门诊", "period": {"start": "2022-01-03", "end": "2024-12-29"}}
    return clinic_from_tables(config, _tables(rows_per_week))


def test_kpi_series_counts_new_patients_per_week_by_channel():
    clinic = _clinic({"抖音": [1, 2, 3, 0], "美团": [4, 0, 1, 2]})
    series = ev.kpi_series(clinic, "new_patients:抖音", "W")
    assert series.tolist() == [1, 2, 3, 0] and series.index[0] == START
    assert ev.kpi_series(clinic, "new_patients", "W", exclude="抖音").tolist() == [4, 0, 1, 2]
    assert ev.kpi_series(clinic, "new_patients", "W").tolist() == [5, 2, 4, 2]
    with pytest.raises(ev.EvaluationInputError, match="channels: 抖音, 美团"):
        ev.kpi_series(clinic, "new_patients:快手", "W")
    with pytest.raises(ev.EvaluationInputError, match="unknown KPI"):
        ev.kpi_series(clinic, "profit", "W")


def test_configured_intervention_is_evaluated_with_a_control_channel():
    rng = np.random.default_rng(8)
    weeks = 120
    base = rng.poisson(6, weeks)
    douyin = (base + rng.poisson(2, weeks) + np.where(np.arange(weeks) >= 80, 6, 0)).tolist()
    meituan = (base + rng.poisson(2, weeks)).tolist()
    clinic = _clinic({"抖音": douyin, "美团": meituan})
    start = (START + pd.Timedelta(weeks=80)).date()
    result = ev.evaluate_intervention(clinic, Intervention(name="9.9卡", start=start, kpi="new_patients:抖音",
                                                           control="others"))
    assert result.available and result.method == "controls" and result.ci_low < 6 < result.ci_high
    assert result.control_label == ("其他渠道", "other channels")
    assert ev.metrics([result])["evaluations"]["9.9卡"]["method"] == "controls"
    slope = ev.evaluate_intervention(clinic, Intervention(name="9.9卡", start=start, kpi="new_patients:抖音",
                                                          effect="both"))
    assert slope.effect_kind == "both" and slope.effect_last is not None
    bad = ev.evaluate_intervention(clinic, Intervention(name="错", start=start, kpi="new_patients:快手"))
    assert not bad.available and "快手" in bad.finding("zh")
    assert ev.metrics([bad]) == {"evaluations": {"错": None}}
    assert ev.metrics([]) == {"evaluations": {}}


def _write_branch(folder: Path, clinic_id: str, counts: list[int], *, interventions: str = "") -> Path:
    folder.mkdir(parents=True)
    for name, table in _tables({"美团": counts}).items():
        table = table.assign(patient_id=clinic_id + table["patient_id"])
        if "visit_id" in table:
            table = table.assign(visit_id=clinic_id + table["visit_id"])
        table.to_csv(folder / f"{name}.csv", index=False)
    (folder / "clinic.yaml").write_text(
        f"clinic_id: {clinic_id}\nname: {clinic_id}店\nperiod: {{start: 2022-01-03, end: 2024-04-28}}\n"
        f"{interventions}", encoding="utf-8")
    return folder


def test_control_others_on_a_whole_clinic_kpi_uses_the_chains_other_branches(tmp_path):
    from playbook.clinic import load_clinic

    rng = np.random.default_rng(17)
    weeks, at = 104, 78
    market = rng.poisson(3, weeks)  # shared by the chain's branches
    start = (START + pd.Timedelta(weeks=at)).date()
    treated = _write_branch(tmp_path / "chain" / "a", "a", list(market + rng.poisson(4, weeks) + 5 *
                                                               (np.arange(weeks) >= at)),
                            interventions=f"interventions:\n  - {{name: 老带新, start: {start}, kpi: new_patients, "
                                          f"control: others}}\n")
    _write_branch(tmp_path / "chain" / "b", "b", list(market + rng.poisson(4, weeks)))
    _write_branch(tmp_path / "chain" / "c", "c", list(2 * market + rng.poisson(8, weeks)))
    clinic = load_clinic(treated)
    found, failed = ev.branches(clinic)
    assert sorted(found) == ["b店", "c店"] and failed == []
    (result,) = ev.clinic_evaluations(clinic)
    assert result.available and result.method == "controls" and sorted(result.control_weights) == ["b店", "c店"]
    assert result.control_label == ("其他分院", "other branches") and result.ci_low < 5 < result.ci_high
    alone = _write_branch(tmp_path / "solo" / "a", "a", list(market), interventions=(
        f"interventions:\n  - {{name: 老带新, start: {start}, kpi: new_patients, control: others}}\n"))
    (lonely,) = ev.clinic_evaluations(load_clinic(alone))
    assert not lonely.available and "其他分院" in lonely.finding("zh")


def test_how_to_add_shows_a_yaml_example_in_both_languages():
    for lang in ("zh", "en"):
        text = ev.how_to_add(lang)
        assert "interventions:" in text and "kpi:" in text and "start: 2025-07-01" in text and "effect:" in text


# --- the command line -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    data, start = _with_control(11, scale=4.0)
    path = tmp_path_factory.mktemp("cli") / "weekly.csv"
    other = data["control"] / 2 + np.random.default_rng(3).normal(0, 2, WEEKS)  # another branch, its own noise
    data.assign(week=data["week"].dt.strftime("%Y/%m/%d"), other=other).drop(columns="t") \
        .to_csv(path, index=False, encoding="gb18030")
    return path, start


def _run(*args):
    """The command in-process (click's runner: same exit code and streams, no interpreter start-up)."""
    return CliRunner().invoke(cli.main, ["evaluate", *map(str, args)])


def test_cli_json_has_the_keys(series_csv):
    path, start = series_csv
    done = _run(path, "--date", "week", "--value", "y", "--intervention", start.date(), "--control", "control",
                "--control", "other", "--cost", 2000, "--margin", 0.5, "--json")
    assert done.exit_code == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"effect", "ci_low", "ci_high", "relative_effect", "relative_ci_low", "relative_ci_high", "naive_effect",
            "method", "roi", "roi_ci_low", "roi_ci_high", "reliable", "control_weights", "placebos"} <= set(out)
    assert out["method"] == "controls" and out["ci_low"] < STEP < out["ci_high"]
    assert set(out["control_weights"]) == {"control", "other"}
    assert out["relative_ci_low"] < out["relative_effect"] < out["relative_ci_high"]
    text = _run(path, "--date", "week", "--value", "y", "--intervention", start.date(), "--lang", "en",
                "--effect", "both")
    assert text.exit_code == 0 and "interrupted time series" in text.stdout and "Placebo" in text.stdout
    assert "average gap" in text.stdout


def test_cli_long_file_with_unit_and_treated(series_csv, tmp_path):
    path, start = series_csv
    wide = pd.read_csv(path, encoding="gb18030")
    long = pd.concat([wide[["week", column]].rename(columns={column: "kpi"}).assign(branch=name)
                      for name, column in (("城东店", "y"), ("城西店", "control"))])
    long_path = tmp_path / "long.csv"
    long.to_csv(long_path, index=False)
    done = _run(long_path, "--date", "week", "--value", "kpi", "--unit", "branch", "--treated", "城东店",
                "--intervention", start.date(), "--json")
    assert done.exit_code == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["controls"] == ["城西店"] and out["ci_low"] < STEP < out["ci_high"]


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--date", "week", "--value", "y", "--intervention", "2024-02-05"], "file not found"),
    (["{csv}", "--date", "日期", "--value", "y", "--intervention", "2024-02-05"], "columns found: week, y, control"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "2031-01-01"], "outside the series"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "2022-01-10"], "too few points"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "next week"], "cannot be read"),
    (["{bad}", "--date", "week", "--value", "y", "--intervention", "2024-02-05"], "cannot be read as dates"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "2024-02-05", "--unit", "week"],
     "both the unit column and the treated unit"),
])
def test_cli_bad_input_exits_2_without_traceback(series_csv, tmp_path, args, message):
    path, _ = series_csv
    bad = tmp_path / "bad.csv"
    bad.write_text("week,y\n2024-01-01,1\n2024年13月45日,2\n2024-01-15,3\n", encoding="utf-8")
    done = _run(*[a.format(csv=path, bad=bad) for a in args])
    assert done.exit_code == 2 and (done.exception is None or isinstance(done.exception, SystemExit))
    assert message in done.stderr and "Traceback" not in done.stderr


def test_cli_as_a_real_process_exits_2_on_a_missing_file(tmp_path):
    done = subprocess.run([*PLAYBOOK, "evaluate", str(tmp_path / "none.csv"), "--date", "d", "--value", "v",
                           "--intervention", "2025-07-01"], capture_output=True, text=True)
    assert done.returncode == 2 and "file not found" in done.stderr and "Traceback" not in done.stderr


def test_kpi_series_hand_worked_rates_and_revenue():
    """Two weeks of patients, the data running to the end of week 7 (Sunday).

    week 1: A (美团) arrives Mon, pays 补牙 300 on Sat (converts); B (转介绍) arrives Tue, pays nothing;
            C (美团) misses a visit on Wed.                      → 2 new, 2 arrived, no-show 1/3
    week 2: C arrives Mon (first arrival), pays 洁牙 100 (traffic: not a conversion); D (转介绍) cancels.
                                                                → 1 new, 1 arrived, no-show 0/1
    week 7: A pays 洁牙 50 on Sunday: the data ends there, so every week is whole.
    first_visit_conversion needs 30 days after the week: weeks 1 and 2 only (1/2, 0/1).
    """
    day = lambda week, d: START + pd.Timedelta(weeks=week, days=d)  # noqa: E731
    patients = pd.DataFrame({"patient_id": ["A", "B", "C", "D"], "source_channel": ["美团", "转介绍", "美团", "转介绍"]})
    visits = pd.DataFrame({
        "visit_id": ["V1", "V2", "V3", "V4", "V5"], "patient_id": ["A", "B", "C", "C", "D"],
        "scheduled_at": [day(0, 0), day(0, 1), day(0, 2), day(1, 0), day(1, 3)],
        "status": ["arrived", "arrived", "no_show", "arrived", "cancelled"], "department": ["综合"] * 5})
    charges = pd.DataFrame({"charge_id": ["C1", "C2", "C3"], "patient_id": ["A", "C", "A"],
                            "paid_at": [day(0, 5), day(1, 0), day(6, 6)], "item": ["树脂补牙", "超声波洁牙", "超声波洁牙"],
                            "amount_paid": [300.0, 100.0, 50.0]})
    config = {"clinic_id": "hand", "name": "手算", "period": {"start": "2022-01-03", "end": "2022-02-20"}}
    clinic = clinic_from_tables(config, {"patients": patients, "visits": visits, "charges": charges})

    def values(kpi):
        return [None if pd.isna(v) else round(v, 6) for v in ev.kpi_series(clinic, kpi, "W")]

    assert values("new_patients") == [2, 1, 0, 0, 0, 0, 0]
    assert values("arrived_visits") == [2, 1, 0, 0, 0, 0, 0]
    assert values("revenue") == [300, 100, 0, 0, 0, 0, 50]
    assert values("no_show_rate") == [round(1 / 3, 6), 0, None, None, None, None, None]
    assert values("referral_share") == [0.5, 0, None, None, None, None, None]
    assert values("first_visit_conversion") == [0.5, 0]
    assert values("new_patients:美团") == [1, 1, 0, 0, 0, 0, 0]
    assert values("revenue:美团") == [300, 100, 0, 0, 0, 0, 50]
    with pytest.raises(ev.EvaluationInputError, match="cover no whole month"):  # 3 Jan – 20 Feb: no whole month
        ev.kpi_series(clinic, "new_patients", "M")


def test_demonstration_on_the_bundled_sample_is_labelled_and_finds_the_campaign():
    its, with_control, revenue = ev.demonstrations()
    assert all(r.available and r.demonstration for r in (its, with_control, revenue))
    assert ev.heading(with_control, "zh").startswith("### 示范") and ev.heading(with_control, "en").startswith(
        "### Demonstration")
    # the 9.9 card more than doubled Douyin's new patients (about 4 a week before it)
    assert its.method == "its" and its.ci_low > 2 and with_control.method == "controls" and with_control.ci_low > 2
    assert revenue.roi is not None and revenue.roi_ci_high < 0  # the campaign did not pay for itself
    # a clinic without the sample's campaign runs no lesson (no second clinic loaded, no model fitted)
    assert ev.demonstrations(_clinic({"抖音": [1, 2, 3, 0]})) == []

"""Known-answer and simulation tests of the before/after evaluation (method.md, "Evaluate" [S1]).

The simulated series are what the chapter meets: weekly, three years, a linear trend, a yearly season
and noise, with a step planted at the intervention. Seeds are fixed, so each run sees the same
series. The repeated simulations use 200 series each; with 200 draws a true 95% coverage lands in
[0.92, 0.98] about 95% of the time, so the bounds asked for ([0.90, 0.99], false alarms < 0.10 at
alpha 0.05) leave room for the method's known small-sample slack without hiding a broken interval.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from click.testing import CliRunner

from playbook import cli
from playbook import evaluate as ev
from playbook.clinic import clinic_from_tables
from playbook.config import Intervention

PLAYBOOK = [sys.executable, "-m", "playbook.cli"]
WEEKS, AT = 160, 112  # 112 weeks before the intervention: just over two yearly cycles, so season is used
START = pd.Timestamp("2022-01-03")  # a Monday
STEP = 6.0


def weekly(rng, *, step=STEP, phi=0.2, sd=3.0, weeks=WEEKS, at=AT, shock=None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """A weekly series: level 50, trend +0.05 a week, a yearly season of ±5, AR(1) noise, a planted step."""
    t = np.arange(weeks)
    season = 5 * np.sin(2 * np.pi * t / 52.18) + 2 * np.cos(4 * np.pi * t / 52.18)
    z = rng.normal(0, sd, weeks)
    noise = np.zeros(weeks)
    for i in range(weeks):
        noise[i] = (phi * noise[i - 1] if i else 0.0) + z[i]
    y = 50 + 0.05 * t + season + step * (t >= at) + noise
    if shock is not None:
        y = y + shock
    dates = pd.date_range(START, periods=weeks, freq="7D")
    return pd.DataFrame({"week": dates, "y": y}), dates[at]


# --- one series, known answers ----------------------------------------------------------------------

def test_recovers_a_planted_step_despite_trend_and_season():
    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert result.method == "its" and result.frequency == "W" and result.season is not None
    assert result.n_pre == AT and result.n_post == WEEKS - AT
    assert result.ci_low < STEP < result.ci_high
    assert result.significant and result.effect == pytest.approx(STEP, abs=2.0)
    # the naive difference carries the trend: 0.05 a week × (mean week after − mean week before) = 3.4
    assert result.naive_effect - STEP == pytest.approx(0.05 * ((AT + WEEKS - 1) / 2 - (AT - 1) / 2), abs=2.0)
    # naive = effect + trend part + season part, up to noise
    assert result.naive_effect == pytest.approx(result.effect + result.naive_trend + result.naive_season, abs=0.5)
    assert "高估" in result.finding("zh") and "overstate" in result.finding("en")


def test_result_is_statsmodels_shaped():
    data, start = weekly(np.random.default_rng(12))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert result.fit.cov_type in ("HAC", "nonrobust")
    assert {"const", "trend", "step", "slope_change", "sin1", "cos1", "effect"} <= set(result.params.index)
    ci = result.conf_int(0.05)
    assert ci.loc["effect"].tolist() == pytest.approx([result.ci_low, result.ci_high])
    wider = result.conf_int(0.01).loc["effect"]
    assert wider["lower"] < result.ci_low and wider["upper"] > result.ci_high
    assert list(result.table.index) == ["model", "naive", "placebo"]
    assert result.metrics()["evaluations"]["intervention"]["effect"] == pytest.approx(result.effect, abs=1e-6)
    assert result.maxlags == 4  # floor(4 · (160/100)^(2/9))


def test_interval_covers_the_true_effect_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    covered = []
    for _ in range(200):
        data, start = weekly(rng)
        result = ev.evaluate(data, date="week", value="y", intervention=start)
        covered.append(result.ci_low <= STEP <= result.ci_high)
    assert 0.90 <= np.mean(covered) <= 0.99


def test_no_effect_is_rarely_called_significant():
    rng = np.random.default_rng(7)
    calls = [ev.evaluate(d, date="week", value="y", intervention=s).significant
             for d, s in (weekly(rng, step=0.0) for _ in range(200))]
    assert np.mean(calls) < 0.10


def test_placebo_finds_nothing_on_a_series_without_effect():
    data, start = weekly(np.random.default_rng(5), step=0.0)
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    placebo = result.placebo
    assert placebo is not None and placebo.date < start
    # as far before the real date as the post-period is long (48 weeks)
    assert placebo.date == start - pd.Timedelta(weeks=WEEKS - AT)
    assert not placebo.significant and placebo.ci_low < 0 < placebo.ci_high
    assert "不会凭空造出效果" in result.finding("zh")


def test_difference_in_differences_removes_a_shock_both_series_share():
    rng = np.random.default_rng(21)
    weeks = np.arange(WEEKS)
    shock = np.where(weeks >= AT, -10.0, 0.0) + np.where((weeks >= 60) & (weeks < 70), 8.0, 0.0)
    treated, start = weekly(rng, shock=shock)
    control, _ = weekly(rng, step=0.0, shock=shock)
    data = treated.assign(control=control["y"] - 20)
    alone = ev.evaluate(data, date="week", value="y", intervention=start)
    did = ev.evaluate(data, date="week", value="y", control="control", intervention=start)
    assert not alone.ci_low < STEP < alone.ci_high  # the shared −10 shock swamps the interrupted time series
    assert did.method == "did" and did.ci_low < STEP < did.ci_high and did.significant
    # the control's own change: the shock (−10), its trend (0.05 × 80 weeks between the means), its blip
    assert did.control_change == pytest.approx(-10 + 0.05 * 80 - 8 * 10 / AT, abs=1.5)
    assert "对照" in did.finding("zh") and "control" in did.finding("en")


def test_roi_on_a_hand_example():
    # effect per week × weeks after × margin = incremental gross profit; ROI = (profit − cost) / cost
    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start, cost=1000.0, margin=0.5, unit="yuan")
    weeks_after = WEEKS - AT
    assert result.incremental_profit == pytest.approx(result.effect * weeks_after * 0.5)
    assert result.roi == pytest.approx((result.effect * 48 * 0.5 - 1000) / 1000)
    assert result.roi_ci_low == pytest.approx((result.ci_low * 48 * 0.5 - 1000) / 1000)
    assert result.roi_ci_high == pytest.approx((result.ci_high * 48 * 0.5 - 1000) / 1000)
    # a hand-sized case: 6 a week over 48 weeks at margin 0.5 is 144; with cost 100, ROI 0.44
    assert (6 * 48 * 0.5 - 100) / 100 == pytest.approx(0.44)
    assert "ROI" in result.finding("zh")
    assert {"roi", "roi_ci_low", "roi_ci_high"} <= set(result.to_dict())


def test_short_pre_period_warns_instead_of_a_confident_number():
    data, _ = weekly(np.random.default_rng(3), weeks=20, at=6)
    result = ev.evaluate(data, date="week", value="y", intervention=data["week"][6])
    assert not result.reliable and result.placebo is None and result.season is None
    zh, en = result.finding("zh"), result.finding("en")
    assert zh.startswith("注意：干预前只有6周") and "不能据此下结论" in zh
    assert "only 6 weeks before" in en and "not as a conclusion" in en
    assert result.to_dict()["warnings"]


def test_season_dropped_and_said_when_the_pre_period_is_under_two_years():
    data, start = weekly(np.random.default_rng(4), weeks=100, at=60)
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    assert result.season is None and "两个完整的季节周期" in result.finding("zh") and result.reliable


def test_monthly_and_daily_series_with_chinese_dates_and_yuan_amounts():
    months = pd.date_range("2021-01-01", periods=48, freq="MS")
    rng = np.random.default_rng(9)
    revenue = 200_000 + 1_000 * np.arange(48) + 20_000 * (months.month == 1) + 30_000 * (months >= "2024-07-01") \
        + rng.normal(0, 5_000, 48)
    raw = pd.DataFrame({"月份": [f"{m.year}年{m.month}月1日" for m in months], "实收": [f"¥{v:,.2f}" for v in revenue]})
    result = ev.evaluate(raw, date="月份", value="实收", intervention="2024-07-01")
    assert result.frequency == "M" and result.season == "month of year" and result.unit == "yuan"
    assert result.ci_low < 30_000 < result.ci_high
    assert "万元" in result.finding("zh")
    days = pd.DataFrame({"day": pd.date_range("2025-03-01", periods=60), "n": rng.poisson(10, 60)})
    daily = ev.evaluate(days, date="day", value="n", intervention="2025-04-10")
    assert daily.frequency == "D" and daily.season == "weekday"


def test_sentences_never_show_nan_or_inf():
    flat = pd.DataFrame({"week": pd.date_range(START, periods=30, freq="7D"), "y": [5.0] * 30})
    result = ev.evaluate(flat, date="week", value="y", intervention=flat["week"][20])
    for text in (result.finding("zh"), result.finding("en"), result.table_for("zh").to_string(),
                 result.as_text("en")):
        assert "nan" not in text.lower() and "inf" not in text.lower()


def test_plot_draws_series_counterfactual_and_intervention_line():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, start = weekly(np.random.default_rng(11))
    result = ev.evaluate(data, date="week", value="y", intervention=start)
    fig, ax = plt.subplots()
    assert result.plot(ax=ax, lang="en") is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert "without the intervention (counterfactual)" in labels and "actual" in labels
    assert len(ax.collections) >= 1  # the shaded gap
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
])
def test_bad_input_is_a_clear_error(frame, kwargs, message):
    kwargs.setdefault("intervention", "2025-01-13")
    with pytest.raises(ev.EvaluationInputError, match=message):
        ev.evaluate(frame, **kwargs)


# --- the clinic's own series ------------------------------------------------------------------------

def _clinic(rows_per_week: dict[str, list[int]]):
    """A clinic whose patients each arrive once (their first visit), channel by channel, week by week."""
    patients, visits = [], []
    for channel, counts in rows_per_week.items():
        for week, count in enumerate(counts):
            for k in range(count):
                pid = f"{channel}-{week}-{k}"
                day = START + pd.Timedelta(weeks=week, days=k % 7)
                patients.append({"patient_id": pid, "source_channel": channel})
                visits.append({"visit_id": f"V{pid}", "patient_id": pid, "scheduled_at": day, "status": "arrived",
                               "department": "综合"})
    config = {"clinic_id": "weekly", "name": "周门诊", "period": {"start": "2022-01-03", "end": "2024-12-29"}}
    weeks = max(len(counts) for counts in rows_per_week.values())
    last_sunday = START + pd.Timedelta(weeks=weeks) - pd.Timedelta(days=1)  # the data covers whole weeks
    charges = pd.DataFrame({"charge_id": ["C1"], "patient_id": [patients[0]["patient_id"]],
                            "paid_at": [last_sunday], "item": ["洁牙"], "amount_paid": [100.0]})
    return clinic_from_tables(config, {"patients": pd.DataFrame(patients), "visits": pd.DataFrame(visits),
                                       "charges": charges})


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
    assert result.available and result.method == "did" and result.ci_low < 6 < result.ci_high
    assert result.control_label == ("其他渠道", "other channels")
    assert ev.metrics([result])["evaluations"]["9.9卡"]["method"] == "did"
    bad = ev.evaluate_intervention(clinic, Intervention(name="错", start=start, kpi="new_patients:快手"))
    assert not bad.available and "快手" in bad.finding("zh")
    assert ev.metrics([bad]) == {"evaluations": {"错": None}}
    assert ev.metrics([]) == {"evaluations": {}}


def test_how_to_add_shows_a_yaml_example_in_both_languages():
    for lang in ("zh", "en"):
        text = ev.how_to_add(lang)
        assert "interventions:" in text and "kpi:" in text and "start: 2025-07-01" in text


# --- the command line -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def series_csv(tmp_path_factory):
    data, start = weekly(np.random.default_rng(11))
    path = tmp_path_factory.mktemp("cli") / "weekly.csv"
    control, _ = weekly(np.random.default_rng(12), step=0.0)
    data.assign(week=data["week"].dt.strftime("%Y/%m/%d"), control=control["y"]).to_csv(path, index=False,
                                                                                        encoding="gb18030")
    return path, start


def _run(*args):
    """The command in-process (click's runner: same exit code and streams, no interpreter start-up)."""
    return CliRunner().invoke(cli.main, ["evaluate", *map(str, args)])


def test_cli_json_has_the_keys(series_csv):
    path, start = series_csv
    done = _run(path, "--date", "week", "--value", "y", "--intervention", start.date(), "--control", "control",
                "--cost", 2000, "--margin", 0.5, "--json")
    assert done.exit_code == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"effect", "ci_low", "ci_high", "naive_effect", "method", "roi", "roi_ci_low", "roi_ci_high"} <= set(out)
    assert out["method"] == "did" and out["ci_low"] < STEP < out["ci_high"]
    text = _run(path, "--date", "week", "--value", "y", "--intervention", start.date(), "--lang", "en")
    assert text.exit_code == 0 and "interrupted time series" in text.stdout and "Placebo" in text.stdout


@pytest.mark.parametrize("args, message", [
    (["missing.csv", "--date", "week", "--value", "y", "--intervention", "2024-02-05"], "file not found"),
    (["{csv}", "--date", "日期", "--value", "y", "--intervention", "2024-02-05"], "columns found: week, y, control"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "2031-01-01"], "outside the series"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "2022-01-10"], "too few points"),
    (["{csv}", "--date", "week", "--value", "y", "--intervention", "next week"], "cannot be read"),
    (["{bad}", "--date", "week", "--value", "y", "--intervention", "2024-02-05"], "cannot be read as dates"),
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
    its, did, revenue = ev.demonstrations()
    assert all(r.available and r.demonstration for r in (its, did, revenue))
    assert ev.heading(did, "zh").startswith("### 示范") and ev.heading(did, "en").startswith("### Demonstration")
    # the 9.9 card more than doubled Douyin's new patients (about 4 a week before it)
    assert its.method == "its" and its.ci_low > 2 and did.method == "did" and did.ci_low > 2
    assert not its.placebo.significant and not did.placebo.significant
    assert revenue.roi is not None and revenue.roi_ci_high < 0  # the campaign did not pay for itself

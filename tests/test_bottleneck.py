"""The bottleneck ranking on hand-made flags: the order of evidence the prescribe step relies on."""
from __future__ import annotations

import re
import datetime as dt

import matplotlib

matplotlib.use("Agg")

from playbook import thresholds  # noqa: E402
from playbook.bottleneck import rank  # noqa: E402
from playbook.results import (CAUSE, MERGED, PROFIT, RED, RISK, STANDING, SYMPTOM, UPSIDE, YELLOW,  # noqa: E402
                              Finding, Segment, Stake, Window)

YEAR = Window(dt.date(2025, 1, 1), dt.date(2025, 12, 31))  # the window the churn sentence names


def _flag(metric, problem_class, severity, gap, at_stake, subject=None):
    """A finding rendered with the churn sentence (the ranking reads its numbers, never its words)."""
    return Finding(kind="churn_rate", metric=metric, value=0.5, threshold="churn_recoverable", line=0.08,
                   problem_class=problem_class, severity=severity, gap=gap,
                   stake=Stake(at_stake, "churn_excess" if at_stake else "none"),
                   segment=Segment("channel" if subject == "抖音" else "doctor", subject) if subject else None,
                   window=YEAR, facts={"months": 12})


FLAGS = [
    _flag("no_show_rate", "efficiency", YELLOW, 0.05, 900_000),  # yellow: after every red, however large
    _flag("channel_conversion", "acquisition", RED, 0.70, 1_200_000, "抖音"),
    _flag("referral_share", "experience", RED, 0.40, 600_000),
    _flag("conversion_effect", "acquisition", RED, 0.30, 1_100_000),  # same loss seen from the driver tree
    _flag("consumables_share", "efficiency", RED, 0.29, 0),  # no honest estimate: ranks by gap among equals
    _flag("designation_rate", "management", RED, 0.11, 0, "王医生"),
]


def test_red_first_then_revenue_at_stake_then_gap():
    ranking = rank(FLAGS)
    assert ranking.findings["metric"].tolist() == [
        "channel_conversion", "conversion_effect", "referral_share", "consumables_share", "designation_rate",
        "no_show_rate"]
    assert ranking.findings["rank"].tolist() == [1, 2, 3, 4, 5, 6]


def test_classes_ranked_by_their_strongest_finding_summing_their_findings():
    classes = rank(FLAGS).classes.set_index("problem_class")
    assert list(classes.index) == ["acquisition", "experience", "efficiency", "management"]
    # the story counts each yuan in one finding only, so a class's findings add up
    assert classes.loc["acquisition", "revenue_at_stake"] == 2_300_000
    assert classes.loc["efficiency", "red"] == 1 and classes.loc["efficiency", "findings"] == 2


def test_finding_names_the_first_finding_and_counts_every_row():
    ranking = rank(FLAGS)
    assert ranking.finding("zh").startswith("排在第一的是「获客与市场」：2025年每月流失率50.0%，高于8%的可约回线：")
    assert "全部6条发现（其中5条需要立即处理）" in ranking.finding("zh")
    assert "acquisition and market" in ranking.finding("en") and "all 6 findings in order (5 to act on now)" in ranking.finding("en")
    assert ranking.metrics()["kpis"] == {"red_flags": 5, "bottleneck_class": "acquisition"}
    assert len(ranking.table_for("zh")) == 6


def test_no_flags_says_so_and_has_no_nan():
    ranking = rank([])
    assert "没有发现需要处理的瓶颈" in ranking.finding("zh")
    assert ranking.metrics() == {"kpis": {"red_flags": 0, "bottleneck_class": None}, "bottlenecks": []}


def test_a_changed_threshold_is_said():
    changed = thresholds.resolve({"first_visit_conversion_review": 0.75})
    assert "顾问调整了1项阈值" in rank(FLAGS, changed).finding("zh")
    assert "顾问调整（原为80.0%）" in thresholds.as_table(changed, "zh").to_string()


def test_plot_draws_each_finding_with_revenue_at_stake_split_into_its_two_parts():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ranking = rank(PLACED)
    ranking.plot(ax=ax, lang="en")
    with_stake = [f for f in ranking.flags if f.revenue_at_stake > 0]
    assert len(ax.patches) == 2 * len(with_stake)  # the part beyond the fall, and the part of it (red)
    widths = [round(p.get_width()) for p in ax.patches]
    assert widths[-1] == 500  # rank 1 on top: the cause's ¥500k of the fall, in ¥ thousand
    assert "red: part of the fall" in ax.get_xlabel()
    plt.close(fig)


def test_symptoms_rank_after_the_causes_of_the_same_severity():
    symptom = Finding(kind="churn_rate", metric="revenue_change_recent", value=-0.2, threshold="revenue_change_alert",
                      line=-0.05, problem_class="price_value", severity=RED, gap=3.0, stake=Stake(5_000_000),
                      evidence="symptom", window=YEAR, facts={"months": 12})
    ranking = rank([symptom, *FLAGS])
    metrics = ranking.findings["metric"].tolist()
    assert metrics.index("revenue_change_recent") == 5  # after the five red causes, before the yellow one
    assert ranking.classes["problem_class"].iloc[0] == "acquisition"


def _placed(metric, role, severity=RED, *, decline=0.0, beyond=0.0, profit=0.0, counted_in=None, gap=0.2):
    return Finding(kind="churn_rate", metric=metric, value=0.5, threshold="churn_recoverable", line=0.08,
                   problem_class="loyalty", severity=severity, gap=gap, role=role, facts={"months": 12}, window=YEAR,
                   stake=Stake(decline + beyond, "driver_tree" if decline + beyond else "none", decline=decline,
                               beyond=beyond, profit=profit, counted_in=counted_in))


PLACED = [
    _placed("merged_one", MERGED, counted_in="cause_small"),
    _placed("risk_red", RISK, gap=0.9),
    _placed("standing_yellow", STANDING, YELLOW, beyond=900_000),
    _placed("cause_small", CAUSE, decline=200_000, beyond=800_000),
    _placed("profit_cost", PROFIT, profit=50_000),
    _placed("symptom", SYMPTOM),
    _placed("upside_red", UPSIDE, beyond=300_000),
    _placed("cause_large", CAUSE, YELLOW, decline=500_000),
    _placed("standing_red", STANDING, beyond=100_000),
]


def test_the_story_orders_causes_by_their_part_of_the_fall_then_upside_profit_risk_symptom_merged():
    ranking = rank(PLACED)
    assert ranking.findings["metric"].tolist() == [
        "cause_large", "cause_small", "upside_red", "standing_red", "standing_yellow", "profit_cost", "risk_red",
        "symptom", "merged_one"]
    assert ranking.findings.loc[0, ["role", "decline_part", "beyond_part"]].tolist() == ["cause", 500_000, 0.0]
    table = ranking.table_for("zh")
    assert table["性质"].tolist()[-1] == "已计入第2条"  # merged into the finding ranked 2nd
    assert table["每年下降部分"].tolist()[:2] == ["50.0万元", "20.0万元"]
    assert table["每年超出部分"].tolist()[5:] == ["—"] * 4  # profit, risk, symptom, merged: no revenue


def test_the_count_sentence_states_as_many_findings_as_the_table_shows():
    ranking = rank(PLACED)
    sentence = ranking.counts_sentence("zh")
    assert f"全部{len(ranking.table_for('zh'))}条发现" in sentence
    stated = [int(n) for n in re.findall(r"(\d+)条(?!发现)", sentence.split("：", 1)[1])]
    assert sum(stated) == len(ranking.table_for("zh")) == len(PLACED)
    english = ranking.counts_sentence("en")
    assert f"all {len(PLACED)} findings" in english and "2 causes of the fall" in english

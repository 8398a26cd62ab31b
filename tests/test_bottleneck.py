"""The bottleneck ranking on hand-made flags: the order of evidence the prescribe step relies on."""
from __future__ import annotations

import datetime as dt

import matplotlib

matplotlib.use("Agg")

from playbook import thresholds  # noqa: E402
from playbook.bottleneck import rank  # noqa: E402
from playbook.results import RED, YELLOW, Finding, Segment, Stake, Window  # noqa: E402

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


def test_classes_ranked_by_their_strongest_finding_without_double_counting():
    classes = rank(FLAGS).classes.set_index("problem_class")
    assert list(classes.index) == ["acquisition", "experience", "efficiency", "management"]
    # acquisition: the channel and the driver tree see the same loss: the max, not the sum
    assert classes.loc["acquisition", "revenue_at_stake"] == 1_200_000
    assert classes.loc["efficiency", "red"] == 1 and classes.loc["efficiency", "findings"] == 2


def test_finding_names_the_top_class_and_counts():
    ranking = rank(FLAGS)
    assert ranking.finding("zh").startswith("最主要的瓶颈在「获客与市场」：2025年每月流失率50.0%，高于8%的可约回线：")
    assert "5项需要立即处理" in ranking.finding("zh") and "1项需要关注" in ranking.finding("zh")
    assert "acquisition and market" in ranking.finding("en")
    assert ranking.metrics()["kpis"] == {"red_flags": 5, "bottleneck_class": "acquisition"}


def test_no_flags_says_so_and_has_no_nan():
    ranking = rank([])
    assert "没有发现需要处理的瓶颈" in ranking.finding("zh")
    assert ranking.metrics() == {"kpis": {"red_flags": 0, "bottleneck_class": None}, "bottlenecks": []}


def test_a_changed_threshold_is_said():
    changed = thresholds.resolve({"first_visit_conversion_review": 0.75})
    assert "顾问调整了1项阈值" in rank(FLAGS, changed).finding("zh")
    assert "顾问调整（原为80.0%）" in thresholds.as_table(changed, "zh").to_string()


def test_plot_draws_one_bar_per_top_finding_red_for_red():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    rank(FLAGS).plot(ax=ax, lang="en")
    assert len(ax.patches) == len(FLAGS)
    colours = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours[0] != "#c0392b" and colours[-1] == "#c0392b"  # yellow at the bottom, rank 1 on top
    plt.close(fig)


def test_symptoms_rank_after_the_causes_of_the_same_severity():
    symptom = Finding(kind="churn_rate", metric="revenue_change_recent", value=-0.2, threshold="revenue_change_alert",
                      line=-0.05, problem_class="price_value", severity=RED, gap=3.0, stake=Stake(5_000_000),
                      evidence="symptom", window=YEAR, facts={"months": 12})
    ranking = rank([symptom, *FLAGS])
    metrics = ranking.findings["metric"].tolist()
    assert metrics.index("revenue_change_recent") == 5  # after the five red causes, before the yellow one
    assert ranking.classes["problem_class"].iloc[0] == "acquisition"

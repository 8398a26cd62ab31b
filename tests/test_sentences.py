"""Findings in words (playbook.sentences): one template per kind and language, rendered from the numbers."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from playbook import i18n, sentences, thresholds
from playbook.results import RED, Finding, Segment, Stake, Window

DOUYIN_CONVERSION = Finding.past(
    thresholds.resolve()["first_visit_conversion_review"], 0.23, kind="channel_conversion_volume",
    metric="first_visit_conversion_recent", problem_class="acquisition", segment=Segment("channel", "抖音"),
    window=Window(dt.date(2025, 7, 1), dt.date(2025, 12, 31)), reference=0.62,
    stake=Stake(1_280_908.37, "channel_conversion_gap"), facts={"per_month_before": 14.0, "per_month_recent": 40.0})


def test_a_finding_renders_its_numbers_and_advice_in_each_language():
    assert DOUYIN_CONVERSION.sentence("zh") == (
        "抖音渠道2025年下半年初诊成交率23.0%，低于80%的复盘线，而新患者从每月14人增至40人："
        "这个渠道引来的多是不打算治疗的人，先调整它的活动和引流项目，再与医生复盘初诊。")
    assert DOUYIN_CONVERSION.sentence("en") == (
        "Douyin's first-visit conversion was 23.0% in H2 2025, under the 80% review line, while its new patients "
        "rose from 14 to 40 a month: it brings people who do not mean to be treated; change its offer first, then "
        "review first visits with the doctors.")


def test_the_short_form_is_a_rendering_of_its_own_not_a_cut_sentence():
    """The summary's form carries the numbers and no advice; nothing splits the full sentence at a colon."""
    short = DOUYIN_CONVERSION.sentence("zh", "short")
    assert short == "抖音渠道2025年下半年初诊成交率23.0%，低于80%的复盘线，而新患者从每月14人增至40人。"
    assert DOUYIN_CONVERSION.sentence("en", "short").endswith("from 14 to 40 a month.")
    assert sentences.render(DOUYIN_CONVERSION, "zh", "short", end=False) == short[:-1]
    with pytest.raises(ValueError):
        DOUYIN_CONVERSION.sentence("zh", "why")


def test_the_line_stated_is_the_line_the_finding_carries():
    changed = thresholds.resolve({"first_visit_conversion_review": 0.75})["first_visit_conversion_review"]
    finding = Finding.past(changed, 0.6, kind="doctor_first_visit_conversion", problem_class="management",
                           segment=Segment("doctor", "刘医生"), facts={"new_patients": 676, "hint_channel": None,
                                                                       "hint_share": None})
    assert finding.line == 0.75 and finding.gap == pytest.approx(0.2) and finding.severity == RED
    assert "低于75%的复盘线" in finding.sentence("zh") and "under the 75% review line" in finding.sentence("en")
    assert "676位新患者" in finding.sentence("zh") and "80%" not in finding.sentence("zh")


def test_segments_are_named_in_the_reports_language_by_their_kind():
    assert sentences.segment(Segment("channel", "美团"), "en") == "Meituan"
    assert sentences.segment(Segment("department", "种植"), "zh") == "种植科"
    assert sentences.segment(Segment("department", "种植"), "en") == "the Implants department"
    assert sentences.segment(Segment("department", "种植"), "en", short=True) == "Implants"
    assert sentences.segment(Segment("department", "unknown"), "zh") == "未注明科室"
    assert sentences.segment(Segment("tier", "high_value"), "en") == "high-value items"
    assert sentences.segment(Segment("doctor", "王医生"), "en") == "王医生"  # a name is printed as written


def test_every_kind_has_both_languages_and_every_stake_method_its_assumption():
    assert set(sentences.ZH) == set(sentences.EN)
    assert set(sentences.STAKES["zh"]) == set(sentences.STAKES["en"])
    for lang in ("zh", "en"):
        for kind, (fact, advice) in sentences.TEMPLATES[lang].items():
            assert fact and (advice is None or advice), kind
    assert "90天内的消费" in sentences.stake(DOUYIN_CONVERSION, "zh")
    assert "in 90 days" in sentences.stake(DOUYIN_CONVERSION, "en")


def test_a_missing_fact_is_an_error_not_a_blank():
    broken = Finding.past(thresholds.resolve()["churn_recoverable"], 0.1, kind="churn_rate", problem_class="loyalty")
    with pytest.raises(Exception, match="window"):
        broken.sentence("zh")


def test_several_findings_join_into_one_paragraph():
    low = Finding.past(thresholds.resolve()["inventory_share_low"], 0.01, kind="cost_share_low",
                       metric="inventory_share", problem_class="management", segment=Segment("cost", "inventory"),
                       facts={"low": 0.03, "high": 0.05})
    zh = sentences.join([DOUYIN_CONVERSION, low], "zh")
    assert zh.count("。") == 1 and zh.endswith("。") and "；库存占实收1.0%，低于3–5%的合理范围（新店库存偏低属正常）" in zh
    en = sentences.join([DOUYIN_CONVERSION, low], "en")
    assert "Inventory run at 1.0% of revenue, below the 3–5% range (a new clinic holds less stock)" in en
    assert not re.search(r"[\u4e00-\u9fff]", en)


def test_a_line_is_stated_as_its_source_writes_it():
    table = thresholds.resolve({"churn_recoverable": 0.075})
    assert sentences.line(table["first_visit_conversion_review"]) == "80%"
    assert sentences.line(table["churn_recoverable"]) == "7.5%"
    assert sentences.line(table["channel_roi_stop_loss"]) == "1.5"
    assert sentences.line(table["deviation_red"]) == "20%"  # behind by more than 20%
    assert sentences.line(table["doctor_load_attending"]) == "12"


def test_window_words():
    assert i18n.window(dt.date(2025, 7, 1), dt.date(2025, 12, 31), "zh") == "2025年下半年"
    assert i18n.months(dt.date(2025, 7, 1), dt.date(2025, 7, 31), "en") == "Jul 2025"
    assert i18n.months(dt.date(2024, 11, 1), dt.date(2025, 2, 28), "zh") == "2024年11月–2025年2月"
    assert i18n.week_of(dt.date(2025, 1, 20), "zh") == "2025年1月20日那周"

"""One story that adds up (issue 14), read off the rendered reports of both samples in both languages.

What an owner or a consultant about to sign checks, page against page: every number names its window;
a metric over one window has one value wherever it is stated; the appendix spells out the sources; the
owner never reads a file or configuration name, a count without its thousands separator, a fraction of a
patient, or a name run into a date. The statements are read back from the report's Markdown by
`report_statements` (a test helper: the playbook itself renders sentences from data and never parses
them), with hand-made text first, so that the reader is known to catch what it is meant to catch.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest

from playbook import i18n, load_clinic
from playbook.config import SAMPLES_DIR
from playbook.report import ReportMeta, build_markdown
from playbook.thresholds import SOURCES

from report_statements import segment_names, statements

SAMPLES = ("general_clinic", "children_clinic")
RUNS = [(sample, lang) for sample in SAMPLES for lang in ("zh", "en")]
PERIOD = (dt.date(2024, 1, 1), dt.date(2025, 12, 31))
H2_2025 = (dt.date(2025, 7, 1), dt.date(2025, 12, 31))


# --- the reader, on text made by hand ------------------------------------------------------------------

NAMES = ["抖音", "Douyin", "美团", "Meituan", "王医生"]


def _read(text: str, lang: str = "zh"):
    return statements(text, lang, period=PERIOD, segments=NAMES)


def test_the_reader_finds_metric_segment_window_and_value():
    [douyin, clinic] = _read("抖音渠道2025年下半年初诊成交率23.0%，低于80%的复盘线；全院初诊成交率79.7%。")
    assert (douyin.metric, douyin.segment, douyin.window, douyin.value) == (
        "first_visit_conversion", "抖音", H2_2025, pytest.approx(0.23))
    assert (clinic.segment, clinic.window, clinic.value) == (None, PERIOD, pytest.approx(0.797))
    [english] = _read("Douyin's first-visit conversion was 23.0% in H2 2025, under the 80% review line.", "en")
    assert (english.segment, english.window, english.value) == ("Douyin", H2_2025, pytest.approx(0.23))
    [count] = _read("分析期内抖音带来1,498位新患者。")
    assert (count.metric, count.segment, count.value) == ("new_patients", "抖音", 1498)
    [money] = _read("王医生离开前一年（2024年9月–2025年8月）带来实收130.5万元。")
    assert money.window == (dt.date(2024, 9, 1), dt.date(2025, 8, 31)) and money.value == pytest.approx(1_305_000)
    assert money.half_unit == pytest.approx(500)


def test_the_reader_catches_the_reviews_contradictions():
    # the review's p.2–3: Douyin at 41.0% and 23.0%, neither naming its window: one is stated for the
    # period by default (the page header's), the other names only "最近"
    text = "抖音带来498位新患者，初诊成交率只有41.0%。抖音最近初诊成交率23.0%，低于80%复盘线。"
    found = {round(s.value, 3): s for s in _read(text) if s.metric == "first_visit_conversion"}
    assert found[0.41].window == PERIOD and found[0.23].window is None
    # one window, two values: a contradiction the test below reports
    a, b = _read("2025年下半年美团患者爽约率25.8%。美团患者2025年下半年爽约率21.0%。")
    assert (a.segment, a.window) == (b.segment, b.window) and not a.agrees(b)
    same = _read("分析期（2024–2025年）实收1,370.6万元。2024–2025年实收13,706,345元。")
    assert len(same) == 2 and same[0].agrees(same[1])  # 1,370.6万元 prints 13,706,345 yuan


def test_targets_bounds_and_event_dates_are_not_statements():
    assert not _read("每月实收约35.4万元才能保本。")  # a target, not revenue
    assert not _read("Every sizeable channel's first-visit conversion was 80% or more.", "en")  # a bound
    [departed] = _read("王医生在2025年8月之后停诊，指定率65.2%。")
    assert departed.window == PERIOD  # the month he left is an event, not the window of his rate


# --- the reports ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reports(sample_run, english_runs):
    """(sample, lang) -> (Markdown of the report, its statements), each sample run once per language (the
    session's runs, shared with the other end-to-end tests)."""
    out = {}
    for sample, lang in RUNS:
        notebooks = (sample_run(sample).notebooks if lang == "zh"
                     else sorted(english_runs[sample][1].parent.glob("*.ipynb")))
        clinic = load_clinic(SAMPLES_DIR / sample)
        period = clinic.config.period
        meta = ReportMeta(clinic_id=clinic.config.clinic_id, clinic_name=clinic.config.name,
                          period_start=period.start, period_end=period.end, lang=lang)
        markdown, _ = build_markdown(notebooks, meta)
        out[sample, lang] = markdown, statements(markdown, lang, period=(period.start, period.end),
                                                 segments=segment_names(clinic))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_every_stated_value_names_its_window(reports, sample, lang):
    unnamed = [f"{s.text} | {s.sentence}" for s in reports[sample, lang][1] if s.window is None]
    assert not unnamed, "\n".join(unnamed)


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_a_metric_has_one_value_per_segment_and_window(reports, sample, lang):
    groups = defaultdict(list)
    for s in reports[sample, lang][1]:
        if s.window is not None:
            groups[s.metric, s.segment, s.window].append(s)
    contradictions = [f"{key}: " + " / ".join(f"{s.text} ({s.sentence})" for s in found)
                      for key, found in groups.items() if any(not a.agrees(b) for a in found for b in found)]
    assert not contradictions, "\n".join(contradictions)


@pytest.mark.slow
def test_the_reports_state_the_general_samples_figures(reports):
    """Known answers, so the checks above read real statements: the review's three Douyin figures now
    stand for three windows, and the retention chapter's measures are all stated."""
    found = {(s.metric, s.segment, s.window): s for s in reports["general_clinic", "zh"][1] if s.window}
    assert found["first_visit_conversion", "抖音", H2_2025].value == pytest.approx(0.23)
    assert found["first_visit_conversion", "抖音", PERIOD].value == pytest.approx(0.41)
    assert found["first_visit_conversion", None, PERIOD].value == pytest.approx(0.797)
    assert found["return_within_12m", None, (dt.date(2024, 1, 1), dt.date(2024, 12, 31))].value == pytest.approx(0.943)
    assert found["churn_rate", None, (dt.date(2025, 1, 1), dt.date(2025, 12, 31))].value == pytest.approx(0.013)
    assert found["first_month_return", None, (dt.date(2025, 7, 1), dt.date(2025, 11, 30))].value < 0.7
    assert found["campaigns", None, PERIOD].value == 16  # the funnel's campaigns of the period …
    assert found["campaigns", None, (dt.date(2022, 1, 1), dt.date(2025, 12, 31))].value == 32  # … and all the data's
    assert len(reports["general_clinic", "zh"][1]) >= 50 and len(reports["general_clinic", "en"][1]) >= 40


@pytest.mark.slow
@pytest.mark.parametrize("sample", SAMPLES)
def test_both_languages_state_the_same_figures(reports, sample):
    """A figure the Chinese and the English report both state is the same figure."""
    def keyed(lang):
        return {(s.metric, i18n.term(s.segment, "en") if s.segment else None, s.window): s
                for s in reports[sample, lang][1] if s.window}

    zh, en = keyed("zh"), keyed("en")
    shared = set(zh) & set(en)
    assert len(shared) >= 5
    assert not [(k, zh[k].text, en[k].text) for k in shared if not zh[k].agrees(en[k])]


# --- the owner's words ------------------------------------------------------------------------------


def _prose(markdown: str) -> str:
    return "\n".join(line for line in markdown.splitlines() if not line.lstrip().startswith("<"))


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_no_file_or_configuration_name_reaches_the_owner(reports, sample, lang):
    markdown = reports[sample, lang][0]
    named = re.findall(r"clinic\.yaml|kpis\.json|seeds/\d+|\.py\b|method\.md|本书默认值|本工具默认值", markdown)
    assert not named, named


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_the_appendix_lists_each_source_once_by_title(reports, sample, lang):
    markdown = reports[sample, lang][0]
    appendix = markdown[markdown.index(i18n.pick(lang, "## 资料来源", "## Sources")):]
    for tag, (title, _, english) in SOURCES.items():
        assert f"[{tag}]" in appendix
        assert (title if lang == "zh" else english.split("”")[0]) in appendix
        assert markdown.count(title if lang == "zh" else english) == 1


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_counts_read_as_the_owner_writes_them(reports, sample, lang):
    prose = _prose(reports[sample, lang][0])
    # thousands separated: 1,456人, never 1456位 (years, dates and names aside)
    bare = re.findall(r"(?<![\d,.年A-Za-z])\d{4,}(?=\s?(?:人次|人|位|例|名|张|个|new|patients|cards|cases))", prose)
    assert not bare, bare
    # whole patients and cases: never 约39.1例
    fractions = re.findall(r"\d+\.\d+\s?(?:例|位|名|张)|\d+\.\d+ (?:cases|cards)\b", prose)
    assert not fractions, fractions


@pytest.mark.slow
@pytest.mark.parametrize("sample, lang", RUNS)
def test_names_and_dates_stand_apart(reports, sample, lang):
    # "D032025年9月7日后不再出诊": a name that ends in a letter or digit run into a date
    run_together = re.findall(r"[A-Za-z0-9]\d{4}年\d{1,2}月\d{1,2}日|[A-Za-z]\d{4}-\d{2}-\d{2}", _prose(reports[sample, lang][0]))
    assert not run_together, run_together

"""Every chart and table of the report speaks the report's language, states its finding, and has no tofu.

What an owner would check on a page of the report (issue 7): each chart's title states the finding
with its number; a Chinese report's chart text holds no English word (bar ROI, RFM, ABC); an English
report's holds no Chinese except the clinic's own names (doctors, campaigns, masked patients); the
font has every glyph drawn; red is used for what needs action and nowhere else. Run on every result
of both sample clinics, in both languages.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import re
import struct

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from playbook import breakeven, chapter, evaluate, i18n, kpis, load_clinic, plotting  # noqa: E402
from playbook.config import SAMPLES_DIR  # noqa: E402
from playbook.diagnosis import SECTIONS, diagnose  # noqa: E402
from playbook.prescribe import prescribe  # noqa: E402

from chart_figures import axes_of  # noqa: E402

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
ZH_ALLOWED_WORDS = {"ROI", "RFM", "ABC", "NPS"}  # business abbreviations a Chinese owner reads as they are ([S1] writes NPS)
SAMPLES = ("general_clinic", "children_clinic")


def _results(clinic, with_demonstrations: bool):
    diagnosis = diagnose(clinic)
    for section in SECTIONS:
        for field, result in vars(diagnosis.section(section)).items():
            if hasattr(result, "plot"):
                yield f"{section}.{field}", result
    yield "story", diagnosis.story
    yield "bottleneck", diagnosis.ranking
    yield "prescriptions", prescribe(clinic)
    yield "kpis", kpis.clinic_kpis(clinic)
    campaign = breakeven.clinic_breakeven(clinic, margin_rate=breakeven.MARGIN_RATE, seller_share=0.0)
    yield "breakeven.history", campaign.history
    yield "breakeven.planned", campaign.planned
    if with_demonstrations:
        for i, result in enumerate(evaluate.demonstrations()):
            yield f"evaluate.demonstration{i}", result


def _own_names(clinic) -> list[str]:
    """What the clinic itself named and the report prints as written: doctors and campaigns."""
    names = set()
    for table, column in (("visits", "doctor_id"), ("charges", "doctor_id"), ("staff", "staff_id"),
                          ("staff", "name"), ("campaigns", "name")):
        frame = clinic.table(table)
        if frame is not None and column in frame:
            names |= {str(v) for v in frame[column].dropna().unique()}
    return sorted(names, key=len, reverse=True)  # longest first, so 王医生 goes before 王


@pytest.fixture(scope="module")
def charts(drawn_charts):
    """(sample, lang, name, title, texts, red_used, no_data, own names) of every chart (drawn once, conftest)."""
    out = []
    for chart in drawn_charts:
        figure, ax, result = chart["figure"], chart["ax"], chart["result"]
        texts = _texts(figure)
        out.append(dict(sample=chart["sample"], lang=chart["lang"], name=chart["name"],
                        title=plotting.chart_title(figure), title_lines=ax.get_title("left").splitlines(),
                        texts=texts, red=_uses_red(figure), tofu=[t for t in texts if set(t) - _glyphs() - {"\n"}],
                        no_data=any(t in i18n.NO_DATA.values() for t in texts),
                        flags=len(getattr(result, "flags", []) or []), own=chart["own"],
                        alt=chapter.alt_text(figure, chart["caption"])))
    return out


@functools.cache
def _glyphs() -> frozenset[str]:
    """Every character the chart fonts can draw: Noto Sans SC, then DejaVu Sans (the theme's fallback)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from playbook.fonts import font_path

    codes = set(FT2Font(str(font_path())).get_charmap())
    codes |= set(FT2Font(font_manager.findfont("DejaVu Sans")).get_charmap())
    return frozenset(map(chr, codes))


def _texts(figure) -> list[str]:
    out = []
    for ax in axes_of(figure):
        out += [ax.get_title(loc) for loc in ("left", "center", "right")]
        out += [ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        if ax.get_legend():
            out += [t.get_text() for t in ax.get_legend().get_texts()]
        out += [t.get_text() for t in ax.texts]
    return [t for t in out if t]


def _colours(figure):
    for ax in axes_of(figure):
        for patch in ax.patches:
            yield patch.get_facecolor()
            yield patch.get_edgecolor()
        for line in ax.lines:
            yield line.get_color()
        for collection in ax.collections:
            yield from collection.get_facecolors()
            yield from collection.get_edgecolors()


def _uses_red(figure) -> bool:
    return any(to_hex(colour) == plotting.ACTION_RED for colour in _colours(figure))


def _without(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, "")
    return text


def test_every_chart_is_drawn_for_both_samples_and_languages(charts):
    names = {(c["sample"], c["name"]) for c in charts}
    assert ("general_clinic", "bottleneck") in names and ("children_clinic", "loyalty.family") in names
    assert ("general_clinic", "evaluate.demonstration2") in names
    assert len(charts) >= 100


def test_titles_state_the_finding_with_its_number(charts):
    for chart in charts:
        where = f"{chart['sample']} {chart['lang']} {chart['name']}: {chart['title']!r}"
        assert chart["title"], where
        if not chart["no_data"]:
            assert re.search(r"\d", chart["title"]), where
        assert "nan" not in chart["title"].lower() and "inf" not in chart["title"].lower().split(), where
        limit = plotting.TITLE_WIDTH[chart["lang"]] * 1.15  # half-width units: a Chinese character counts 2
        assert 1 <= len(chart["title_lines"]) <= 2, where
        assert all(plotting._width(line) <= limit for line in chart["title_lines"]), where


def test_titles_fit_a_nine_inch_chart_in_at_most_two_lines():
    assert plotting.wrap_title("短标题", "zh") == "短标题"
    long = "转介绍占比降到24.4%，是最大的瓶颈；红色为需立即处理，本期共发现十二项需要立即处理的问题"
    lines = plotting.wrap_title(long, "zh").splitlines()
    assert len(lines) == 2 and "".join(lines) == long and lines[0].endswith("；")
    english = plotting.wrap_title("Revenue fell 21.4% in H2 2025 against H1 2025; average ticket cost the most", "en")
    assert english.splitlines()[0].endswith(";") and all(len(line) <= 70 for line in english.splitlines())


def test_english_charts_hold_no_chinese_but_the_clinics_own_names(charts):
    for chart in charts:
        if chart["lang"] != "en":
            continue
        for text in chart["texts"]:
            left = _without(text, chart["own"])
            assert not CJK.search(left), f"{chart['sample']} {chart['name']}: {text!r}"


def test_chinese_charts_hold_no_english_words(charts):
    for chart in charts:
        if chart["lang"] != "zh":
            continue
        for text in chart["texts"]:
            words = set(re.findall(r"[A-Za-z]{2,}", _without(text, chart["own"])))
            assert words <= ZH_ALLOWED_WORDS, f"{chart['sample']} {chart['name']}: {text!r}"


def test_no_chart_draws_tofu(charts):
    assert "万" in _glyphs() and "¥" in _glyphs() and "−" in _glyphs()
    assert not [c for c in charts if c["tofu"]], [c["tofu"] for c in charts if c["tofu"]][:3]


def test_red_is_drawn_exactly_where_the_chart_says_what_it_means(charts):
    # red is kept for what needs action, so a reader is always told what the red is: in the title,
    # the legend or the colour bar ("红色…", "red …", "红框"); and a chart that speaks of red draws it
    said = re.compile(r"红色|红框|\bred\b", re.IGNORECASE)
    for chart in charts:
        explained = any(said.search(text) for text in chart["texts"])
        assert chart["red"] == explained, f"{chart['sample']} {chart['lang']} {chart['name']}: {chart['title']!r}"
    assert sum(c["red"] for c in charts) >= 30 and sum(not c["red"] for c in charts) >= 20


def test_alt_text_is_the_title_then_the_sentence(charts):
    for chart in charts:
        assert chart["alt"].startswith(chart["title"]), chart["name"]
        assert len(chart["alt"]) > len(chart["title"]) + 10


# -------------------------------------------------------------------------------------------------
# The words of the exports, in the report's language (playbook.i18n.term)


@pytest.mark.parametrize("value, en", [
    ("美团", "Meituan"), ("抖音", "Douyin"), ("大众点评", "Dianping"), ("地推", "Street promotion"),
    ("转介绍", "Referral"), ("老带新", "Referral (patient brings patient)"), ("自然到店", "Walk-in"),
    ("unknown", "unknown channel"), ("种植", "Implants"), ("种植科", "Implants"), ("正畸", "Orthodontics"),
    ("修复", "Prosthodontics"), ("儿牙", "Children's dentistry"), ("牙周", "Periodontics"), ("综合", "General"),
    ("耗材", "consumables"), ("加工费", "lab fees"), ("库存", "inventory"), ("房租", "rent"), ("人工", "labour"),
    ("营销", "marketing"), ("high_value", "high-value items"), ("高值项目", "high-value items"),
    ("weekday_afternoon", "weekday afternoons"), ("周一", "Mon"), ("主任", "Chief"),
])
def test_term_translates_what_the_playbook_knows(value, en):
    assert i18n.term(value, "en") == en
    assert not CJK.search(i18n.term(value, "en"))
    assert i18n.term(value, "zh") == ("未知渠道" if value == "unknown" else {"high_value": "高值项目", "weekday_afternoon":
                                      "工作日下午"}.get(value, value))


def test_term_leaves_a_clinics_own_names_as_written():
    for own in ("王医生", "老客户回馈群", "2025抖音9.9元洁牙卡", None, 3):
        assert i18n.term(own, "en") == own and i18n.term(own, "zh") == own
    assert kpis.channel_name("抖音", "en") == "Douyin" and kpis.channel_name("unknown", "zh") == "未知渠道"


@pytest.fixture(scope="module")
def tables():
    """(sample, lang, name, text of the table, own names) of every result's table_for."""
    out = []
    for sample in SAMPLES:
        clinic = load_clinic(SAMPLES_DIR / sample)
        names = _own_names(clinic)
        for name, result in _results(clinic, sample == "general_clinic"):
            if not hasattr(result, "table_for") or not getattr(result, "available", True):
                continue
            for lang in ("zh", "en"):
                frame = result.table_for(lang)
                # a patient's (masked) name and record number identify, they are not words to translate
                frame = frame.drop(columns=[c for c in frame.columns if c in ("姓名", "Name", "病历号", "Patient ID")])
                cells = list(frame.columns.astype(str)) + [str(v) for v in frame.to_numpy().ravel()]
                out.append((sample, lang, name, cells, names))
    return out


def test_english_tables_hold_no_chinese_but_the_clinics_own_names(tables):
    for sample, lang, name, cells, names in tables:
        if lang == "en":
            bad = [c for c in cells if CJK.search(_without(c, names))]
            assert not bad, f"{sample} {name}: {bad[:3]}"


def test_chinese_tables_hold_no_english_words(tables):
    for sample, lang, name, cells, names in tables:
        if lang == "zh":
            bad = [c for c in cells if set(re.findall(r"[A-Za-z]{2,}", _without(c, names))) - ZH_ALLOWED_WORDS]
            assert not bad, f"{sample} {name}: {bad[:3]}"


def test_tables_and_titles_never_print_nan(tables, charts):
    for sample, lang, name, cells, _ in tables:
        assert not [c for c in cells if c in ("nan", "NaN", "inf", "None")], f"{sample} {lang} {name}"


# -------------------------------------------------------------------------------------------------
# Months on an axis: 2025年7月 where the year changes, then 8月


def test_month_labels_carry_the_year_on_the_first_and_on_january():
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    positions, labels = plotting.month_labels(months, "zh")
    assert labels == ["2024年1月", "4月", "7月", "10月", "2025年1月", "4月", "7月", "10月"]
    assert positions == [0, 3, 6, 9, 12, 15, 18, 21]
    _, english = plotting.month_labels(months[:6], "en")
    assert english == ["Jan 2024", "Feb", "Mar", "Apr", "May", "Jun"]
    _, late_start = plotting.month_labels(pd.date_range("2024-11-01", "2025-02-01", freq="MS"), "zh")
    assert late_start == ["2024年11月", "12月", "2025年1月", "2月"]


def test_date_axes_show_months_as_the_owner_writes_them():
    plotting.set_theme("zh")
    figure, ax = plt.subplots()
    days = pd.date_range("2025-03-03", "2025-09-29", freq="W-MON")
    ax.plot(days, range(len(days)))
    plotting.month_axis(ax, "zh", first=days[0], last=days[-1])
    figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    plt.close(figure)
    assert re.fullmatch(r"2025年[34]月", labels[0]) and len(labels) >= 6
    assert all(re.fullmatch(r"\d{1,2}月", label) for label in labels[1:])  # the year once, on the first
    assert plotting.MonthFormatter("en")(plt.matplotlib.dates.date2num(dt.date(2025, 7, 1))) == "Jul 2025"


# -------------------------------------------------------------------------------------------------
# The chart as the report receives it: a PNG with alt text (playbook.chapter.chart)


def test_chart_shows_a_report_sized_png_with_its_alt_text(monkeypatch):
    shown = []
    monkeypatch.setattr(chapter, "display", shown.append)
    plotting.set_theme("zh")
    figure, ax = plt.subplots(figsize=(9, 3.8))
    ax.bar(range(3), [3, 2, 1], color=plotting.ACTION_RED)
    plotting.set_title(ax, "抖音最近初诊成交率23.0%，低于80%复盘线（红色）", "zh")
    chapter.chart(figure, "**先与医生复盘**抖音渠道的初诊。")
    image, sentence = shown
    data, metadata = image._repr_png_()
    png = data if isinstance(data, bytes) else base64.b64decode(data)
    width = struct.unpack(">I", png[16:20])[0]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and 800 <= width <= 1100  # 9 in at the theme's 110 dpi, cropped
    assert len(png) < 150_000  # thirty charts stay far under the PDF's 5 MB
    assert metadata["alt"] == "抖音最近初诊成交率23.0%，低于80%复盘线（红色）。先与医生复盘抖音渠道的初诊。"
    assert sentence.data == "**先与医生复盘**抖音渠道的初诊。"
    assert not plt.fignum_exists(figure.number)


def test_alt_text_of_an_english_chart_keeps_its_spaces():
    plotting.set_theme("en")
    figure, ax = plt.subplots()
    plotting.set_title(ax, "Douyin converts only 23.0% of first visits lately, under the 80% review line (red)", "en")
    assert chapter.alt_text(figure, "Review its first visits.") == (
        "Douyin converts only 23.0% of first visits lately, under the 80% review line (red). Review its first visits.")
    plt.close(figure)

"""The client report as an owner receives it: what report.pdf and report.html show, and what they must not.

One small chapter notebook is executed once with a real kernel; the reports built from it are checked
the way an owner (and a careful consultant) would look at them.
"""
from __future__ import annotations

import base64
import datetime
import io
import re
import warnings

import matplotlib
import nbformat
import pytest
from matplotlib.figure import Figure
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from PIL import Image
from pypdf import PdfReader

from playbook import i18n, plotting, report
from playbook.report import ReportBuildError, ReportMeta, build_html, build_pdf, build_report

# Words that must never reach the client; each is printed, warned or tagged away in the notebook.
TRAINER_MARKER = "TRAINERONLY"
STDOUT_MARKER = "STDOUTLEAK"
WARNING_MARKER = "WARNINGLEAK"
METRICS_MARKER = "METRICSLEAK"
HIDDEN_OUTPUT_MARKER = "HIDDENOUTPUT"
PARAMETER_MARKER = "PARAMLEAK"
INJECTED_MARKER = "INJECTEDLEAK"
REMOVED_CELL_MARKER = "REMOVEDCELL"
ERROR_MARKER = "ERRORLEAK"
LEAKS = [
    TRAINER_MARKER, STDOUT_MARKER, WARNING_MARKER, METRICS_MARKER, HIDDEN_OUTPUT_MARKER, PARAMETER_MARKER,
    INJECTED_MARKER, REMOVED_CELL_MARKER, ERROR_MARKER,
    "import ", "print(", "In [", "In&nbsp;[", "Out[", "Traceback", "UserWarning", "ValueError", "<Axes",
]

CLINIC_NAME = "康美口腔"
START, END, GENERATED = datetime.date(2024, 1, 1), datetime.date(2024, 3, 31), datetime.date(2024, 4, 8)
A4_POINTS = (595.28, 841.89)

CHAPTER = [
    new_code_cell(f'clinic_id = "{PARAMETER_MARKER}"', metadata={"tags": ["parameters"]}),
    new_code_cell(f'clinic_id = "{INJECTED_MARKER}"\nclinic_id', metadata={"tags": ["injected-parameters"]}),
    new_markdown_cell("# 第一章 经营概况\n\n本章回顾报告期内的收入与就诊情况。"),
    new_markdown_cell(f"讲解要点：{TRAINER_MARKER} 先问院长最关心什么。", metadata={"tags": ["trainer"]}),
    new_code_cell(
        "import warnings\n"
        "import pandas as pd\n"
        "import matplotlib.pyplot as plt\n"
        "from IPython.display import display\n"
        "from playbook.plotting import set_theme\n"
        "set_theme('zh')\n"
        f"print('{STDOUT_MARKER}')\n"
        f"warnings.warn('{WARNING_MARKER}')"
    ),
    new_markdown_cell("## 收入概览\n\n报告期内**种植**收入最高。"),
    new_code_cell(
        "revenue = pd.DataFrame({'科室': ['种植', '正畸', '儿牙'], '收入（元）': [1250000, 980000, 310000],"
        " '就诊人次': [412, 655, 890]}).set_index('科室')\n"
        "revenue"
    ),
    # The last line leaves an `<Axes: ...>` text/plain repr beside the chart; only the PNG may show.
    new_code_cell(
        "fig, ax = plt.subplots()\n"
        "revenue['收入（元）'].plot.bar(ax=ax, rot=0)\n"
        "ax.set_title('各科室收入（元）')\n"
        "ax"
    ),
    # a table as playbook.chapter.table() shows it: bare <table> HTML, no index
    new_code_cell(
        "from IPython.display import HTML\n"
        "display(HTML(pd.DataFrame({'医生': ['张医生'], '复诊率': ['12.5%']}).to_html(index=False, border=0)))"
    ),
    new_code_cell(f"print('{HIDDEN_OUTPUT_MARKER}')\nrevenue", metadata={"tags": ["remove-output"]}),
    new_markdown_cell(f"{REMOVED_CELL_MARKER} 草稿", metadata={"tags": ["remove-cell"]}),
    new_code_cell(f"raise ValueError('{ERROR_MARKER}')", metadata={"tags": ["raises-exception"]}),
    # as playbook.chapter.publish() hands metrics to kpis.json: JSON plus a text/plain note
    new_code_cell(
        f"display({{'application/vnd.playbook+json': {{'kpi': '{METRICS_MARKER}'}},"
        f" 'text/plain': 'kpis.json <- {METRICS_MARKER}'}}, raw=True)"
    ),
]


def _meta(lang="zh", **kw):
    return ReportMeta(
        clinic_id="kangmei",
        clinic_name=CLINIC_NAME,
        period_start=START,
        period_end=END,
        lang=lang,
        generated=GENERATED,
        **{"consultant": "王顾问", **kw},
    )


def _html_body(path):
    """The part of the HTML a reader sees (JupyterLab's stylesheet in <head> has its own comments)."""
    html = path.read_text(encoding="utf-8")
    return html[html.index("<main>"):]


def _pdf_pages(path):
    return [page.extract_text() for page in PdfReader(path).pages]


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    nb = new_notebook(cells=CHAPTER, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    path = tmp_path_factory.mktemp("notebooks") / "01-owner-overview.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def chapter_bytes(chapter):
    return chapter.read_bytes()


@pytest.fixture(scope="module")
def zh(chapter, chapter_bytes, tmp_path_factory):
    return build_report([chapter], tmp_path_factory.mktemp("zh"), _meta("zh"))


@pytest.fixture(scope="module")
def en(chapter, chapter_bytes, tmp_path_factory):
    return build_report([chapter], tmp_path_factory.mktemp("en"), _meta("en"))


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_is_a4_with_cover_contents_and_page_numbers(zh):
    reader = PdfReader(zh.pdf)
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4_POINTS, abs=0.5)
    cover, contents, *chapters = _pdf_pages(zh.pdf)
    assert CLINIC_NAME in cover and "报告期间" in cover and "王顾问" in cover
    # one line a chapter: the contents of a 30-page report fit on one page
    assert "目录" in contents and "第一章 经营概况" in contents and "收入概览" not in contents
    assert "第 2 页" in chapters[0]
    # the running header names the clinic and the period on every page after the cover
    assert all(CLINIC_NAME in text and "2024" in text for text in [contents, *chapters])


def test_pdf_embeds_the_chinese_font(zh):
    fonts = [
        font.get_object()
        for page in PdfReader(zh.pdf).pages
        for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts and all("NotoSansSC" in font["/BaseFont"] for font in fonts)
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)


def test_pdf_shows_headings_tables_and_charts(zh):
    text = "\n".join(_pdf_pages(zh.pdf))
    assert "收入概览" in text
    assert "收入（元）" in text and "就诊人次" in text
    assert "种植" in text and "1250000" in text
    assert "复诊率" in text and "12.5%" in text
    images = [image for page in PdfReader(zh.pdf).pages for image in page.images]
    assert len(images) == 1  # the chart; the remove-output cell's table and outputs are gone


# --- HTML ---------------------------------------------------------------------------------------


def test_html_is_one_self_contained_file(zh):
    html = zh.html.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*https?://""", html)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert re.search(r'<meta[^>]+name="viewport"', html)
    assert "PingFang SC" in html and "Microsoft YaHei" in html  # CJK fonts the reader's device has


def test_html_has_a_cover(zh):
    html = zh.html.read_text(encoding="utf-8")
    cover = html[html.index('class="report-cover"'):]
    for words in (CLINIC_NAME, i18n.period(START, END, "zh"), "王顾问", i18n.day(GENERATED, "zh")):
        assert words in cover
    assert '<html lang="zh">' in html


# --- both files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["html", "pdf"])
def test_no_code_or_machinery_reaches_the_owner(zh, kind):
    text = _html_body(zh.html) if kind == "html" else "\n".join(_pdf_pages(zh.pdf))
    assert [leak for leak in LEAKS if leak in text] == []


def test_fixed_words_follow_the_language(zh, en):
    zh_pdf, en_pdf = "\n".join(_pdf_pages(zh.pdf)), "\n".join(_pdf_pages(en.pdf))
    assert "目录" in zh_pdf and "Contents" not in zh_pdf
    assert "Contents" in en_pdf and "Page 2 of" in en_pdf and "Consultant" in en_pdf and "目录" not in en_pdf
    assert i18n.period(START, END, "en") in en_pdf
    en_html = en.html.read_text(encoding="utf-8")
    assert "Clinic performance report" in en_html and "Period" in en_html and "报告期间" not in en_html


def test_cover_leaves_out_a_missing_consultant(chapter, tmp_path):
    html = _html_body(build_html([chapter], tmp_path, _meta(consultant=None)))
    assert CLINIC_NAME in html and "顾问" not in html


def test_input_notebooks_are_not_modified(chapter, chapter_bytes, zh, en):
    assert chapter.read_bytes() == chapter_bytes


# --- failures -----------------------------------------------------------------------------------


def test_unknown_pdf_font_fails_the_pdf_and_keeps_the_html(chapter, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "_PDF_FONT_FAMILY", "No Such Font Sans")
    with pytest.raises(ReportBuildError, match="No Such Font Sans|no such font sans") as error:
        build_report([chapter], tmp_path, _meta())
    assert error.value.stage == "pdf"
    assert (tmp_path / "report.html").exists() and not (tmp_path / "report.pdf").exists()


def test_a_character_missing_from_the_font_fails_instead_of_tofu(tmp_path):
    path = tmp_path / "emoji.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("## 本月亮点 😀")]), path)
    with pytest.raises(ReportBuildError, match="U\\+1F600") as error:
        build_pdf([path], tmp_path, _meta())
    assert error.value.stage == "pdf"
    assert build_html([path], tmp_path, _meta()).exists()  # the HTML can still show it


def test_symbols_with_a_variation_selector_pass(tmp_path):
    path = tmp_path / "symbols.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("⚠️ 复诊率低于目标 ✓ 已达标 ★ ①")]), path)
    assert build_pdf([path], tmp_path, _meta()).exists()  # U+FE0F is not drawn, so it is no tofu


def test_meta_rejects_an_unknown_language():
    with pytest.raises(ValueError, match="lang"):
        _meta("fr")


# --- chart theme --------------------------------------------------------------------------------


def test_charts_in_the_chapter_are_report_sized_png(chapter):
    nb = nbformat.read(chapter, as_version=4)
    pngs = [out.data["image/png"] for cell in nb.cells for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
    assert len(pngs) == 1
    data = base64.b64decode(pngs[0])
    assert len(data) < 150_000
    assert Image.open(io.BytesIO(data)).info["dpi"][0] == pytest.approx(110, abs=1)
    streams = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    assert "missing from font" not in streams  # matplotlib's word for tofu


def test_set_theme_draws_chinese_without_missing_glyphs():
    with matplotlib.rc_context():  # leave the session's matplotlib as it was
        plotting.set_theme("zh")
        assert matplotlib.rcParams["axes.unicode_minus"] is False
        assert matplotlib.rcParams["font.sans-serif"][0] == plotting.FONT_FAMILY
        figure = Figure()
        axes = figure.subplots()
        axes.bar(["种植", "正畸"], [-3, 5], color=[plotting.ACTION_RED, plotting.PALETTE[0]])
        axes.set_title("各科室收入（万元）")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would raise here
            figure.savefig(io.BytesIO(), format="png")
    assert plotting.ACTION_RED not in plotting.PALETTE


def test_set_theme_rejects_an_unknown_language():
    with pytest.raises(ValueError, match="lang"):
        plotting.set_theme("fr")

"""How figures and tables are set in the report: one money unit per column, true minus signs, number
columns right-aligned and unbroken, names kept whole, no hyphenated or justified table cells in the PDF."""
from __future__ import annotations

import datetime
import re

import nbformat
import pypandoc
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from playbook import i18n
from playbook.report import (PANDOC_FROM, PANDOC_TABLES_FILTER, ReportMeta, _set_html, build_html,
                             build_pdf)

MINUS = "\u2212"


# --- one money unit per column ----------------------------------------------------------------------


def test_a_money_column_takes_the_unit_of_its_largest_sum_for_every_row():
    # the review's column: "¥1.73m" beside "¥260,571"
    assert i18n.money_column([1_726_000, 1_310_000, 260_571, 241_629], "en") == [
        "¥1.73m", "¥1.31m", "¥0.26m", "¥0.24m"]
    assert i18n.money_column([1_726_000, 260_571, 8_000], "zh") == ["172.6万元", "26.1万元", "0.8万元"]


def test_a_column_of_small_sums_stays_in_yuan_and_a_unit_that_would_round_a_row_away_is_not_used():
    assert i18n.money_column([260_571, 241_629], "en") == ["¥260,571", "¥241,629"]
    assert i18n.money_column([9_800, 650], "zh") == ["9,800元", "650元"]
    # a row the unit would print as nothing: one more decimal in 万元, the whole column in yuan otherwise
    assert i18n.money_column([-126_838, 16_226, -360], "zh") == ["-12.68万元", "1.62万元", "-0.04万元"]
    assert i18n.money_column([2_370_000, 300], "en") == ["¥2,370,000", "¥300"]  # not "¥0.00m"
    assert i18n.money_column([1_726_000, 30], "zh") == ["1,726,000元", "30元"]


def test_signed_columns_mark_gains_and_losses_and_missing_values_read_as_asked():
    assert i18n.money_column([129_151, -828_401, 0, None], "en", signed=True) == [
        "+¥129,151", "-¥828,401", "¥0", "no data"]
    assert i18n.money_column([float("nan"), 20_000], "zh", missing="—") == ["—", "2.0万元"]


def test_a_single_sum_puts_its_sign_before_the_currency():
    assert i18n.money(-476_099, "en") == "-¥476,099" and i18n.money(-476_099, "zh") == "-47.6万元"


# --- true minus signs ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("fell -22.6% (-¥559,200)", f"fell {MINUS}22.6% ({MINUS}¥559,200)"),
    ("**-4.0%**, 变化-47.6万元", f"**{MINUS}4.0%**, 变化{MINUS}47.6万元"),
    ("-3 to 5", f"{MINUS}3 to 5"),
    # hyphens that are not signs
    ("2024-01-05, 5-7%, 18:00-20:00, COVID-19, H2-over-H1, 2025-W51", None),
    ("- 5 items\n---", None),
])
def test_negative_numbers_get_a_minus_sign_and_hyphens_stay_hyphens(text, expected):
    assert i18n.minus_signs(text) == (text if expected is None else expected)


def test_minus_signs_leave_html_tags_and_attributes_alone():
    html = '<p style="margin-left: -1px">-3%</p>'
    assert i18n.minus_signs(html) == f'<p style="margin-left: -1px">{MINUS}3%</p>'


# --- tables: number columns, names kept whole ------------------------------------------------------

FINDINGS = """<table class="dataframe playbook-table"><thead><tr><th>#</th><th>Finding</th><th>Campaign</th>
<th>Due</th><th>Revenue at stake</th></tr></thead><tbody>
<tr><td>1</td><td>Referral share fell to 16.1%, down -8.3 points</td><td>2024大众点评推广通</td><td>2026-03-30</td><td>¥1.73m</td></tr>
<tr><td>2</td><td>王医生 left on 31 Aug</td><td>王医生</td><td>—</td><td>-¥0.26m</td></tr>
</tbody></table>"""


def _cells(html: str) -> list[list[tuple[str, list[str]]]]:
    from bs4 import BeautifulSoup

    table = BeautifulSoup(html, "html.parser").table
    return [[(c.get_text(), c.get("class", [])) for c in row.find_all(["th", "td"])] for row in table.find_all("tr")]


def test_columns_of_figures_are_marked_and_text_and_names_are_not():
    head, first, second = _cells(_set_html(FINDINGS))
    numeric = ["num" in classes for _, classes in head]
    assert numeric == [True, False, False, False, True]
    assert [("num" in c) for _, c in first] == numeric and [("num" in c) for _, c in second] == numeric
    # short cells without a space are kept whole; a sentence may wrap
    assert [("keep" in c) for _, c in first] == [False, False, True, True, False]
    assert second[4][0] == f"{MINUS}¥0.26m" and first[1][0].endswith(f"down {MINUS}8.3 points")


def _typst_table(html: str) -> str:
    return pypandoc.convert_text(_set_html(html) + "\n", to="typst", format=PANDOC_FROM,
                                 extra_args=["--lua-filter", str(PANDOC_TABLES_FILTER), "--wrap=none"])


def test_the_pdf_aligns_figures_right_boxes_names_and_keeps_row_colours():
    coloured = FINDINGS.replace("<tr><td>2</td>", '<tr style="background-color: #F4C7C3"><td>2</td>')
    typst = _typst_table(coloured)
    assert "align: (right,left,left,left,right,)" in typst
    assert "#box[2024大众点评推广通]" in typst and "#box[2026-03-30]" in typst and "#box[¥1.73m]" in typst
    assert typst.count('fill: rgb("#F4C7C3")') == 5  # every cell of the coloured row
    assert "#box[Referral" not in typst  # a sentence still wraps


# --- the PDF: no hyphenation, no justification in tables --------------------------------------------

WIDE = ("<table><thead><tr><th>Channel</th><th>Conversion before</th><th>Conversion recently</th>"
        "<th>New patients a month before</th><th>New patients a month recently</th><th>High-value deals in 90 days</th>"
        "<th>Days to high-value deal</th><th>Lead arrival rate</th><th>Cost per new patient</th><th>Responsible doctor</th>"
        "</tr></thead><tbody>"
        + "".join(f"<tr><td>Street promotion</td><td>{v}%</td><td>94.9%</td><td>28.3</td><td>19.7</td><td>187</td>"
                  f"<td>8</td><td>14.9%</td><td>¥775</td><td>王医生</td></tr>" for v in (91.6, 59.5, 88.3))
        + "</tbody></table>")


CAMPAIGNS = ("<table><thead><tr><th>活动</th><th>渠道</th><th>时间</th><th>投放</th><th>新患者</th><th>获客成本</th>"
             "<th>投入产出比（ROI，90天）</th><th>说明</th></tr></thead><tbody>"
             + "".join(f"<tr><td>2024大众点评推广通</td><td>大众点评</td><td>2024.01.01–12.31</td><td>{v}万元</td>"
                       "<td>209</td><td>803元</td><td>5.27</td><td>整年投放，按月结算，效果稳定，建议下一年继续并扩大预算"
                       "</td></tr>" for v in ("16.8", "133.3", "7.2")) + "</tbody></table>")


def _table_chapter(folder, heading: str, html: str, lang: str):
    """A chapter of one heading and one table, and the meta of its report."""
    notebook = new_notebook(cells=[new_markdown_cell(f"# {heading}"), new_code_cell("")])
    notebook.cells[1].outputs = [new_output("display_data", data={"text/html": html})]
    path = folder / "chapter.ipynb"
    nbformat.write(notebook, path)
    return path, ReportMeta(clinic_id="t", clinic_name="Test clinic", period_start=datetime.date(2025, 1, 1),
                            period_end=datetime.date(2025, 12, 31), lang=lang, generated=datetime.date(2026, 1, 5))


def _pdf_text(path, folder, meta) -> str:
    """The text of the pages after the cover and the contents."""
    return "\n".join(page.extract_text() for page in PdfReader(build_pdf([path], folder, meta)).pages[2:])


def test_chinese_names_dates_and_sums_stay_whole_in_narrow_pdf_columns(tmp_path):
    path, meta = _table_chapter(tmp_path, "营销活动", CAMPAIGNS, "zh")
    lines = _pdf_text(path, tmp_path, meta)
    # on one line each (Typst sets a thin space between Chinese and figures, which the text keeps)
    assert len(re.findall(r"2024 ?大众点评推广通", lines)) == 3 and lines.count("2024.01.01–12.31") == 3, lines
    assert all(re.search(rf"{re.escape(v)} ?万元", lines) for v in ("16.8", "133.3", "7.2")), lines


def test_english_table_cells_are_never_hyphenated_or_stretched(tmp_path):
    path, meta = _table_chapter(tmp_path, "Funnel and channels", WIDE, "en")
    text = _pdf_text(path, tmp_path, meta)
    assert "Conversion" in text and "patients" in text
    broken = re.findall(r"(\w+)-\n(\w+)", text)  # a line that ends in a hyphen: only a word's own ("High-value")
    assert all(f"{a}-{b}" in WIDE for a, b in broken), broken  # never "con-\nversion", "pa-\ntients"
    assert text.count("王医生") == 3 and "王 医" not in text
    html = build_html([path], tmp_path, meta).read_text(encoding="utf-8")
    assert html.count('class="num"') == 3 * 8 + 8 and "keep" in html


# --- pages: no near-empty page at a chapter's end, no chart pushed over a page for want of a little room ----


def _chapters(folder, chapters: list[list], lang: str = "zh"):
    """Notebooks of Markdown cells and charts (PNG bytes with alt text, as playbook.chapter.chart shows them)."""
    paths = []
    for i, cells in enumerate(chapters):
        notebook = new_notebook()
        for cell in cells:
            if isinstance(cell, bytes):
                code = new_code_cell("")
                code.outputs = [new_output("display_data", data={"image/png": cell.decode("ascii")},
                                           metadata={"image/png": {"alt": "图表"}})]
                notebook.cells.append(code)
            else:
                notebook.cells.append(new_markdown_cell(cell))
        paths.append(folder / f"{i:02d}.ipynb")
        nbformat.write(notebook, paths[-1])
    meta = ReportMeta(clinic_id="t", clinic_name="Test clinic", period_start=datetime.date(2025, 1, 1),
                      period_end=datetime.date(2025, 12, 31), lang=lang, generated=datetime.date(2026, 1, 5))
    return paths, meta


def _png(width: int, height: int) -> bytes:
    """A plain chart-sized PNG, base64 as a notebook holds it."""
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (52, 73, 94)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue())


def _pages(paths, folder, meta) -> list[str]:
    """The text of each page after the cover and the contents."""
    return [page.extract_text() for page in PdfReader(build_pdf(paths, folder, meta)).pages[2:]]


PARAGRAPH = "诊所的营收在下半年下降，需要逐项查看到诊、成交、客单价和复购。" * 4


def test_a_short_chapter_end_shares_its_page_with_the_next_chapter(tmp_path):
    # the review's near-empty pages: every chapter opened a page, so a tail of two lines stood alone
    paths, meta = _chapters(tmp_path, [["# 第一章", PARAGRAPH], ["# 第二章", PARAGRAPH], ["# 第三章", PARAGRAPH]])
    pages = _pages(paths, tmp_path, meta)
    assert len(pages) == 1 and all(f"第{n}章" in pages[0] for n in "一二三")


def test_a_chapter_opens_a_new_page_when_the_page_is_well_filled(tmp_path):
    paths, meta = _chapters(tmp_path, [["# 第一章", *[PARAGRAPH] * 9], ["# 第二章", PARAGRAPH]])
    pages = _pages(paths, tmp_path, meta)
    assert len(pages) == 2 and "第二章" not in pages[0] and "第二章" in pages[1]


def _chart_after(folder, paragraphs: int, png: bytes) -> list[str]:
    folder.mkdir()
    paths, meta = _chapters(folder, [["# 第一章", *[PARAGRAPH] * paragraphs, "## 图", png, "图后的句子。"]])
    return _pages(paths, folder, meta)


def test_a_chart_a_little_too_tall_for_the_room_left_is_drawn_smaller_on_the_same_page(tmp_path):
    chart = _png(990, 600)  # about 290pt high on the 480pt-wide text area
    # below 7 paragraphs of text, the page has room for the whole chart; with 7, for 82% of it; with 9, 45%
    natural = _chart_after(tmp_path / "natural", 5, chart)
    shrunk = _chart_after(tmp_path / "shrunk", 7, chart)
    moved = _chart_after(tmp_path / "moved", 9, chart)
    assert len(natural) == 1
    assert len(shrunk) == 1 and "图后的句子" in shrunk[0]  # a little smaller: it stays under its heading
    assert len(moved) == 2 and "图后的句子" in moved[1]  # far too little room: heading and chart on the next page

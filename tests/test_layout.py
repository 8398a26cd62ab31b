"""What a reader sees: the weekly pack's PDF carries the task board's colours [S0], and the HTML report
fits a laptop and a phone (measured in headless Chromium by benchmarks/html_layout.py)."""
from __future__ import annotations

import base64
import datetime
import importlib.util
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output  # noqa: E402

from conftest import write_hand_clinic  # noqa: E402
from playbook import chapter, plotting  # noqa: E402
from playbook.config import PROJ_ROOT  # noqa: E402
from playbook.report import ReportMeta, build_html  # noqa: E402
from playbook.weekly_pack import _ROW_FILLS, build_weekly  # noqa: E402

# --- the weekly pack's PDF: red, yellow and green rows ----------------------------------------------

# 2024-W02 of the hand-worked clinic: 1 new patient, 1 arrived visit, 1 first-visit arrival.
TARGETS = "周期,指标,目标,责任部门\n2024-W02,新患者数,7,市场部\n2024-W02,到诊人次,1.1,前台\n2024-W02,初诊到诊人次,1,前台\n"
EXPECTED = {"新患者数": "red", "到诊人次": "yellow", "初诊到诊人次": "green"}  # −85.7%, −9.1%, met


@pytest.fixture(scope="module")
def weekly(tmp_path_factory):
    root = tmp_path_factory.mktemp("weekly")
    clinic = write_hand_clinic(root)
    (clinic / "targets.csv").write_text(TARGETS, encoding="utf-8")
    files = build_weekly(clinic, root / "out", "2024-W02")
    assert files.error is None and not files.problems
    return files


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _close(a, b, tolerance=6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def _colours_left_of(pdf, word: str, *, on_page_with: str, skip_after: str = "", scale: int = 3) -> list:
    """The colour just left of each occurrence of ``word`` (inside its table cell's padding: the row's fill,
    or the page's white) on the first page whose text holds ``on_page_with``; occurrences that follow
    ``skip_after`` (到诊人次 inside 初诊到诊人次) are left out."""
    pdfium = pytest.importorskip("pypdfium2")
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            text = page.get_textpage()
            if on_page_with in text.get_text_range():
                image, height, colours = page.render(scale=scale).to_pil().convert("RGB"), page.get_height(), []
                search = text.search(word)
                while (found := search.get_next()) is not None:
                    if skip_after and text.get_text_range(max(found[0] - len(skip_after), 0), len(skip_after)) == skip_after:
                        continue
                    left, bottom, _, top = text.get_charbox(found[0])
                    colours.append(image.getpixel((int((left - 2) * scale), int((height - (bottom + top) / 2) * scale))))
                search.close()
                text.close()
                return colours
            text.close()
    finally:
        document.close()
    raise AssertionError(f"no page of {pdf} holds {on_page_with!r}")


def test_each_target_row_of_the_weekly_pdf_is_filled_with_its_status_colour(weekly):
    """Rasterise the target-progress page and read the colour behind each metric's name in the table."""
    fills = {status: _rgb(colour) for status, colour in _ROW_FILLS.items()}
    for metric, status in EXPECTED.items():
        seen = _colours_left_of(weekly.pdf, metric, on_page_with="偏差率", skip_after="初诊")
        assert any(_close(colour, fills[status]) for colour in seen), f"{metric}: {seen}, expected {status}"
        others = [fills[s] for s in fills if s != status]
        assert not any(_close(colour, other) for colour in seen for other in others), f"{metric}: {seen}"


def test_the_weekly_html_fills_the_same_rows_with_the_same_colours(weekly):
    html = weekly.html.read_text(encoding="utf-8")
    for metric, status in EXPECTED.items():
        (row,) = re.findall(rf'<tr style="background-color: (#\w+)">\s*<td[^>]*>{metric}</td>', html)
        assert row == _ROW_FILLS[status], metric


# --- the HTML at 1280 px and 390 px -----------------------------------------------------------------


def _layout_module():
    spec = importlib.util.spec_from_file_location("html_layout", PROJ_ROOT / "benchmarks" / "html_layout.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("html_layout", module)
    spec.loader.exec_module(module)
    return module


def _chromium():
    """The layout module and a Chromium to drive, or a skip that says what is missing."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("HTML layout check needs the playwright package (pip install playwright) and a Chromium")
    layout = _layout_module()
    if layout.find_chromium() is None:
        pytest.skip("HTML layout check needs Chromium: apt-get install chromium, or set PLAYBOOK_CHROMIUM")
    return layout


# The tables the review found clipped: long findings beside a money column, a wide table of figures,
# Chinese campaign names and dates; and a chart drawn at the chapters' size.
FINDINGS = [
    "In the period only 24.4% of new patients came by referral, down to 16.1% in the last six months, now under "
    "the 30% action line.",
    "王医生's designation rate is 65.2%, above the 60% key-person line; he left on 31 Aug 2025.",
    "Douyin converted 23.0% of its new patients in Jul 2025 – Dec 2025, under the 80% review line, while its new "
    "patients rose from 14 to 40 a month.",
    "86.0% of 王医生's 250 established patients are overdue (no visits lately), 2.3 times the others' 36.9%.",
]


def _report_notebook(tmp_path):
    import pandas as pd

    plotting.set_theme("en")
    frames = [
        pd.DataFrame({"#": range(1, 5), "Finding": FINDINGS,
                      "Revenue at stake a year": ["¥1.73m", "¥1.31m", "¥1.28m", "¥0.26m"]}),
        pd.DataFrame({"Tier": ["high-value items", "profit items", "traffic items", "other charges"],
                      **{h: ["¥2,370,000", "¥648,158", "¥629,587", "¥68,613"] for h in
                         ("H1 2025", "H2 2025", "Change", "Arrivals", "Conversion", "Average ticket",
                          "Purchase frequency")}}),
        pd.DataFrame({"活动": ["2024大众点评推广通", "2025抖音9.9元洁牙卡", "2024社区义诊地推"],
                      "渠道": ["大众点评", "抖音", "地推"], "时间": ["2024.03.01–05.31", "2025.07.01–09.30",
                                                              "2024.09.01–2025.01.15"],
                      "投放": ["3.2万元", "20.5万元", "1.1万元"], "新患者": ["41", "318", "37"],
                      "投入产出比（ROI，90天）": ["2.10", "0.62", "3.05"]}),
    ]
    figure, ax = plt.subplots(figsize=(9, 3.8))
    ax.bar(range(12), range(12))
    plotting.set_title(ax, "Revenue by month: the last 6 months averaged ¥486,578, 21.4% below the 6 before", "en")
    cells = [new_markdown_cell("# Executive summary\n\nThe main bottleneck is service and experience.")]
    for frame in frames:
        cells.append(new_code_cell(""))
        cells[-1].outputs = [new_output("display_data", data={"text/html": frame.to_html(index=False, border=0)})]
    cells.append(new_code_cell(""))
    png = base64.b64encode(chapter.png(figure)).decode("ascii")
    cells[-1].outputs = [new_output("display_data", data={"image/png": png},
                                    metadata={"image/png": {"alt": "Revenue by month"}})]
    plt.close(figure)
    path = tmp_path / "chapter.ipynb"
    nbformat.write(new_notebook(cells=cells), path)
    return path


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("layout")
    meta = ReportMeta(clinic_id="t", clinic_name="示例综合口腔门诊", period_start=datetime.date(2024, 1, 1),
                      period_end=datetime.date(2025, 12, 31), lang="en", generated=datetime.date(2026, 1, 5))
    return build_html([_report_notebook(tmp)], tmp, meta)


def test_the_report_fits_a_laptop_without_any_table_scrolling(report_html, tmp_path):
    layout = _chromium()
    (desktop,) = layout.measure(report_html, [1280], shots=tmp_path)
    assert desktop.ok, desktop.problems
    tables = [item for item in desktop.items if item["kind"] == "table"]
    assert len(tables) == 3 and not any(t["scrolls"] for t in tables)  # the money column is in view
    (chart,) = [item for item in desktop.items if item["kind"] == "chart"]
    assert chart["width"] >= 0.85 * chart["natural"]


def test_on_a_phone_wide_tables_and_charts_scroll_in_their_own_box_and_the_page_does_not(report_html, tmp_path):
    layout = _chromium()
    (phone,) = layout.measure(report_html, [390], shots=tmp_path)
    assert phone.ok, phone.problems  # page width, boxes inside the page, sticky first column, chart scale
    assert phone.page_width <= 390
    tables = [item for item in phone.items if item["kind"] == "table"]
    assert sum(t["scrolls"] for t in tables) >= 1 and all(t["sticky_ok"] is not False for t in tables)
    (chart,) = [item for item in phone.items if item["kind"] == "chart"]
    assert chart["scrolls"] and chart["width"] >= layout.MIN_CHART_SCALE * chart["natural"] - 1


def test_the_weekly_pack_html_fits_a_phone(weekly, tmp_path):
    layout = _chromium()
    for found in layout.measure(weekly.html, shots=tmp_path):
        assert found.ok, (found.width, found.problems)

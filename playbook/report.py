"""Turn executed chapter notebooks into the client report: ``report.html`` and ``report.pdf``.

Both halves start from the same prepared notebook: the chapters merged in order, cells for the
trainer and the machinery dropped by tag, and only the outputs an owner reads kept.

* HTML: nbconvert's ``HTMLExporter`` with the template folder ``templates/nbconvert/clinic_report``;
  one self-contained file, nothing loaded from the network.
* PDF: nbconvert's ``MarkdownExporter`` -> pandoc (``pypandoc``) -> Typst markup -> ``typst``, set in
  Noto Sans SC from ``pylopdf-fonts-zh-cn`` with system fonts ignored, so every machine, CI included,
  makes the same PDF with pip packages alone.
"""
from __future__ import annotations

import base64
import datetime
import io
import json
import logging
import re
import shutil
import string
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .nbstack import nbformat  # before nbconvert: see playbook.nbstack

import jinja2  # noqa: E402
import pypandoc  # noqa: E402
import typst  # noqa: E402
from bs4 import BeautifulSoup, Comment, Doctype  # noqa: E402
from fontTools import subset  # noqa: E402
from fontTools.ttLib import TTFont  # noqa: E402
from nbconvert import HTMLExporter, MarkdownExporter  # noqa: E402
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor  # noqa: E402
from traitlets import List, Unicode  # noqa: E402
from traitlets.config import Config  # noqa: E402

from . import i18n  # noqa: E402
from .config import COURSE_TAGS, TEMPLATES_DIR  # noqa: E402
from .errors import ReportBuildError  # noqa: E402
from .fonts import FONT_FAMILY, font_path  # noqa: E402

__all__ = ["ReportBuildError", "ReportFiles", "ReportMeta", "build_html", "build_markdown", "build_pdf",
           "build_report"]

log = logging.getLogger(__name__)

NBCONVERT_TEMPLATE = "clinic_report"  # a folder under TEMPLATES_DIR / "nbconvert"
MARKDOWN_TEMPLATE = "clinic_report_md"  # the PDF's Markdown: charts keep their alt text
TYPST_TEMPLATE = TEMPLATES_DIR / "typst" / "report.typ"
PANDOC_TABLES_FILTER = TEMPLATES_DIR / "pandoc" / "html_tables.lua"

# The notebook contract: cells with these tags never reach the client (the course's cells included).
REMOVE_CELL_TAGS = frozenset({"parameters", "injected-parameters", "trainer", "consultant", "remove-cell", *COURSE_TAGS})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output"})
# Where a notebook goes in the report (its metadata ``playbook.report_part``; default "body"):
# cover, then the executive summary, the chapters in method order, the appendix.
REPORT_PARTS = ("summary", "body", "appendix")
# What an owner reads, in display priority: tables come as HTML, charts as PNG, prose as Markdown.
REPORT_MIMETYPES = ("text/html", "text/markdown", "image/png")

# Read with raw HTML kept as blocks (the Lua filter turns pandas tables into tables), and without
# implicit figures, which would caption every chart with nbconvert's alt text "png".
PANDOC_FROM = "markdown-markdown_in_html_blocks-implicit_figures"

# A chart in the HTML is never drawn below this share of its natural size (its labels, ~16 px at 110 dpi,
# stay about 9 px): on a phone it scrolls sideways in its box instead (benchmarks/html_layout.py checks).
MIN_CHART_SCALE = 0.6
EMBEDDED_FONT = "Playbook Noto Sans SC"  # the HTML's own subset, named apart from any installed Noto
_PDF_FONT_FAMILY = FONT_FAMILY  # a module attribute so tests can break it on purpose

_LABELS = {
    "zh": {
        "title": "诊所经营分析报告",
        "period": "报告期间",
        "consultant": "顾问",
        "generated": "报告日期",
        "contents": "目录",
        # {page} and {total} are filled in by the Typst template.
        "page": "第 {page} 页 / 共 {total} 页",
    },
    "en": {
        "title": "Clinic performance report",
        "period": "Period",
        "consultant": "Consultant",
        "generated": "Date",
        "contents": "Contents",
        "page": "Page {page} of {total}",
    },
}


@dataclass(frozen=True)
class ReportMeta:
    """What the cover, the running header and the fixed words of a report say."""

    clinic_id: str
    clinic_name: str
    period_start: datetime.date
    period_end: datetime.date
    lang: str = "zh"
    consultant: str | None = None
    generated: datetime.date | None = None  # None: today
    title: str | None = None  # None: the clinic report's title; the weekly pack and the portfolio give theirs

    def __post_init__(self):
        if self.lang not in _LABELS:
            raise ValueError(f"lang must be one of {tuple(_LABELS)}, not {self.lang!r}")
        if self.generated is None:
            object.__setattr__(self, "generated", datetime.date.today())
        if self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start {self.period_start}")

    @property
    def labels(self) -> dict[str, str]:
        labels = dict(_LABELS[self.lang])
        if self.title:
            labels["title"] = self.title
        return labels

    def template_values(self) -> dict:
        """What both templates print, formatted as the chapters write dates (``playbook.i18n``)."""
        return {
            "lang": self.lang,
            "clinic_name": self.clinic_name,
            "period": i18n.period(self.period_start, self.period_end, self.lang),
            "consultant": self.consultant,
            "generated": i18n.day(self.generated, self.lang),
            "labels": self.labels,
        }


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    pdf: Path


class ReportOutputsPreprocessor(Preprocessor):
    """Keep only the outputs an owner reads.

    Streams (prints, warnings, logging) and errors are dropped, and so is every mimetype outside
    ``mimetypes``: the machine-readable ``application/vnd.playbook+json`` metrics, and the
    ``text/plain`` reprs (``<Axes: ...>``) that a chart cell's last line leaves behind.
    """

    mimetypes = List(Unicode(), default_value=list(REPORT_MIMETYPES)).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            shown = [out for out in cell.outputs if out.output_type in ("display_data", "execute_result")]
            for out in shown:
                out.data = {mime: value for mime, value in out.data.items() if mime in self.mimetypes}
            cell.outputs = [out for out in shown if out.data]
        return cell, resources


# A cell that holds one figure: 1,250,000  −3.5%  ¥1.73m  12.5万元  +¥2,427  <0.001  2.5×. Such columns
# are compared down the page: right-aligned and never broken (a class the CSS and the PDF's Lua filter read).
_NUMBER_CELL = re.compile(r"^[+\-\u2212]?[<>≤≥]?[¥$]?\d[\d,]*(?:\.\d+)?\s?(?:%|万元|元|万|m|k|×|倍)?$")
_EMPTY_CELL = frozenset({"", "—", "–", "-", "nan", "NaN", "None", *i18n.NO_DATA.values()})
NUMBER_CLASS = "num"
# A short cell with no space (a name, a date, a campaign, an id) is kept on one line: "王医生" and
# "2026-03-30" read whole, never "王 / 医生" or "2026-03- / 30". Width in half-width units, a Chinese
# character counting two: 24 is twelve characters, which every column of the A4 page can hold.
KEEP_CLASS = "keep"
KEEP_WIDTH = 24
# A cell of running text (a finding, a task) gets a column wide enough to read on a phone, where the
# table scrolls anyway, instead of a few words a line.
LONG_CLASS = "long"
LONG_WIDTH = 60


class ReportTextPreprocessor(Preprocessor):
    """Set what both files print the same way: true minus signs, and number columns marked in tables.

    Negative numbers get U+2212 in prose and tables (`playbook.i18n.minus_signs`). In each table, a
    column whose cells are all figures (or empty) gets the class ``num`` on its header and cells: the
    HTML's CSS right-aligns it and keeps it on one line, the PDF's Lua filter right-aligns it; text
    columns read from the left and wrap. A short cell without a space gets the class ``keep``: one
    line in the HTML, an unbreakable box in the PDF; a cell of running text gets ``long``, a readable
    width in the HTML.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = i18n.minus_signs(cell.source)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/markdown" in data:
                data["text/markdown"] = i18n.minus_signs(data["text/markdown"])
            if "text/html" in data:
                data["text/html"] = _set_html(data["text/html"])
        return cell, resources


def _set_html(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    for text in soup.find_all(string=True):
        if "-" in text and not isinstance(text, (Comment, Doctype)):
            text.replace_with(i18n.minus_signs(str(text)))
    for table in soup.find_all("table"):
        _mark_number_columns(table)
        for cell in table.find_all(["td", "th"]):
            text, classes = cell.get_text(strip=True), cell.get("class", [])
            width = i18n.display_width(text)
            if text and (cell.name == "th" or NUMBER_CLASS not in classes) and not any(ch.isspace() for ch in text) \
                    and width <= KEEP_WIDTH:
                cell["class"] = [*classes, KEEP_CLASS]
            elif width > LONG_WIDTH and cell.name == "td":
                cell["class"] = [*classes, LONG_CLASS]
    return str(soup)


def _mark_number_columns(table) -> None:
    rows = [row.find_all(["td", "th"], recursive=False) for row in table.find_all("tr")]
    body = [cells for row, cells in zip(table.find_all("tr"), rows) if row.find_parent("thead") is None]
    width = max((len(cells) for cells in body), default=0)
    if any(len(cells) != width or any(c.get("colspan") or c.get("rowspan") for c in cells) for cells in body):
        return  # spans (MultiIndex): columns cannot be told apart cell by cell
    seen, numeric = [False] * width, [True] * width
    for cells in body:
        for i, cell in enumerate(cells):
            if cell.name == "th":  # an index column: labels, not figures
                numeric[i] = False
            text = cell.get_text(" ", strip=True)
            if text not in _EMPTY_CELL:
                seen[i] = True
                numeric[i] = numeric[i] and _NUMBER_CELL.match(text) is not None
    for cells in rows:
        if len(cells) == width and not any(c.get("colspan") for c in cells):
            for i, cell in enumerate(cells):
                if seen[i] and numeric[i]:
                    cell["class"] = [*cell.get("class", []), NUMBER_CLASS]


def build_report(notebooks: Sequence[Path], out_dir: Path, meta: ReportMeta, *, name: str = "report") -> ReportFiles:
    """Write ``report.html`` and then ``report.pdf`` for executed chapter notebooks.

    The HTML is written first, so it stays when the PDF fails (``ReportBuildError``, stage "pdf").

    Parameters
    ----------
    notebooks : sequence of Path
        Executed chapter notebooks in chapter order. They are read, never modified.
    out_dir : Path
        Directory for the two files; created if missing.
    meta : ReportMeta
        Clinic, period and language of the report.
    """
    return ReportFiles(html=build_html(notebooks, out_dir, meta, name=name),
                       pdf=build_pdf(notebooks, out_dir, meta, name=name))


def build_html(notebooks: Sequence[Path], out_dir: Path, meta: ReportMeta, *, name: str = "report") -> Path:
    """Write ``out_dir / f"{name}.html"``: one file, with its images and styles inside."""
    exporter = HTMLExporter(
        config=_export_config(),
        template_name=NBCONVERT_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")],
        embed_images=True,
        exclude_anchor_links=True,
        language_code=meta.lang,
    )
    exporter.register_filter("png_size", _png_size)
    notebook = _report_notebook(notebooks, meta)
    values = {**meta.template_values(), "font_css": _embedded_font_css(_visible_text(notebook, meta)),
              "min_chart_scale": MIN_CHART_SCALE}
    try:
        html, _ = exporter.from_notebook_node(notebook, resources={"report": values})
    except jinja2.TemplateError as err:
        raise ReportBuildError("html", f"nbconvert template {NBCONVERT_TEMPLATE!r}: {err}") from err
    return _write(out_dir / f"{name}.html", html.encode("utf-8"))


def build_pdf(notebooks: Sequence[Path], out_dir: Path, meta: ReportMeta, *, name: str = "report") -> Path:
    """Write ``out_dir / f"{name}.pdf"`` (A4, cover, contents, running header, page numbers)."""
    markdown, resources = build_markdown(notebooks, meta)
    body = _markdown_to_typst(markdown)
    settings = {**meta.template_values(), "font": _PDF_FONT_FAMILY}
    _check_glyphs(body + json.dumps(settings, ensure_ascii=False))
    # The charts go to a scratch directory, never to out_dir; it is the Typst root, so they are found.
    with tempfile.TemporaryDirectory(prefix="playbook-report-") as tmp:
        main = _write_typst_project(Path(tmp), body, settings, resources.get("outputs", {}))
        pdf = _compile_typst(main, meta.generated)
    return _write(out_dir / f"{name}.pdf", pdf)


def build_markdown(notebooks: Sequence[Path], meta: ReportMeta) -> tuple[str, dict]:
    """The report as the PDF sets it, in Markdown (each chart an image whose alt text is its title and
    sentence), and nbconvert's resources (``outputs``: the charts' PNGs by file name)."""
    return MarkdownExporter(
        config=_export_config(), template_name=MARKDOWN_TEMPLATE,
        extra_template_basedirs=[str(TEMPLATES_DIR / "nbconvert")],
    ).from_notebook_node(_report_notebook(notebooks, meta))


def _report_notebook(notebooks: Sequence[Path], meta: ReportMeta) -> nbformat.NotebookNode:
    """The chapters merged in memory, with what the client must not see removed.

    Tag removal and output filtering run here, once, before either exporter: both files then show
    the same cells, and nbconvert's output extraction only sees outputs that will be shown.
    """
    if not notebooks:
        raise ValueError("no notebooks to build a report from")
    merged = nbformat.v4.new_notebook()
    chapters = [nbformat.read(path, as_version=4) for path in notebooks]
    # The owner's order, not the run order: the summary (which runs last) first, the appendix last.
    ordered = sorted(enumerate(chapters), key=lambda item: REPORT_PARTS.index(_report_part(item[1])))
    for position, (number, chapter) in enumerate(ordered):
        if position == 0:
            merged.metadata = chapter.metadata
        for cell in chapter.cells:
            # Chapters made from one skeleton share cell ids; the HTML uses them as anchors.
            if "id" in cell:
                cell.id = f"c{number}-{cell.id}"[:64]
            merged.cells.append(cell)
    merged.metadata["title"] = f"{meta.clinic_name} · {meta.labels['title']}"
    config = _export_config()
    for preprocessor in (TagRemovePreprocessor(config=config), ReportOutputsPreprocessor(config=config),
                         ReportTextPreprocessor(config=config)):
        merged, _ = preprocessor.preprocess(merged, {})
    return merged


def _visible_text(notebook: nbformat.NotebookNode, meta: ReportMeta) -> str:
    """Every character the HTML can show: prose, tables, and the cover's words."""
    parts = [json.dumps(meta.template_values(), ensure_ascii=False)]
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts += [str(v) for mime, v in output.get("data", {}).items() if mime.startswith("text/")]
    return "".join(parts)


def _png_size(data: str) -> tuple[int, int] | None:
    """Width and height in pixels of a base64 PNG, from its header (IHDR); None if it is not one."""
    head = base64.b64decode("".join(data[:64].split())[:32])  # signature, IHDR length and type, width, height
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _embedded_font_css(text: str) -> str:
    """An @font-face rule with Noto Sans SC cut down to the characters of this report, as a data URL.

    Without it the HTML depends on the reader's system fonts, and a phone or a browser without a
    Chinese font shows boxes. The subset (WOFF, ~50–200 KB) keeps the file self-contained and small.
    """
    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False  # screens render CJK well without hints; they double the size
    options.layout_features = ["kern", "liga", "vert"]
    # recalcTimestamp off: the subset would record its build time, and the same input must give the same file.
    font = TTFont(font_path(), lazy=True, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text) | set(string.printable))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'@font-face {{ font-family: "{EMBEDDED_FONT}"; font-display: swap; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


def _report_part(notebook: nbformat.NotebookNode) -> str:
    part = notebook.metadata.get("playbook", {}).get("report_part", "body")
    if part not in REPORT_PARTS:
        raise ReportBuildError("html", f"notebook metadata playbook.report_part must be one of {REPORT_PARTS}, not {part!r}")
    return part


def _export_config() -> Config:
    config = Config()
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    config.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    # Code is the consultant's business: no inputs, no In/Out prompts.
    config.TemplateExporter.exclude_input = True
    config.TemplateExporter.exclude_input_prompt = True
    config.TemplateExporter.exclude_output_prompt = True
    config.NbConvertBase.display_data_priority = list(REPORT_MIMETYPES)
    return config


def _markdown_to_typst(markdown: str) -> str:
    try:
        return pypandoc.convert_text(
            markdown,
            to="typst",
            format=PANDOC_FROM,
            extra_args=["--lua-filter", str(PANDOC_TABLES_FILTER), "--wrap=none"],
        )
    except (RuntimeError, OSError) as err:
        raise ReportBuildError("pdf", f"pandoc: {err}") from err


def _write_typst_project(build_dir: Path, body: str, settings: dict, images: dict[str, bytes]) -> Path:
    """Lay out template, settings, body and chart PNGs in ``build_dir``; return the main file."""
    for name, data in images.items():
        (build_dir / name).write_bytes(data)
    shutil.copyfile(TYPST_TEMPLATE, build_dir / TYPST_TEMPLATE.name)
    (build_dir / "meta.json").write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
    main = build_dir / "main.typ"
    main.write_text(
        f'#import "{TYPST_TEMPLATE.name}": *\n#show: report.with(json("meta.json"))\n\n{body}',
        encoding="utf-8",
    )
    return main


# What Typst says when its layout did not settle within its passes: page numbers, the contents' page
# references and the places of measured elements may then be those of an earlier pass.
UNSETTLED = ("converge", "stabilize")


def _compile_typst(main: Path, generated: datetime.date) -> bytes:
    """The PDF, laid out with the fitting rules (charts drawn a little smaller to stay on their page, short
    chapter tails sharing a page with the next chapter); when that layout does not settle, with the chapter
    rule only, then with neither, so that its page numbers are right."""
    for fit in ("on", "breaks", "off"):
        pdf, warnings = _typst(main, generated, fit=fit)
        if not any(word in w.message for w in warnings for word in UNSETTLED):
            break
        log.info("typst: the layout (fit: %s) did not settle; laid out again with fewer fitting rules", fit)
    _fail_on_font_warnings(warnings)
    return pdf


def _typst(main: Path, generated: datetime.date, *, fit: str):
    try:
        return typst.compile_with_warnings(
            main,
            root=main.parent,
            font_paths=[font_path().parent],
            ignore_system_fonts=True,
            sys_inputs={"fit": fit},
            # The report date, not the build time, so the same inputs give the same PDF.
            timestamp=datetime.datetime.combine(generated, datetime.time(), datetime.timezone.utc),
        )
    except typst.TypstError as err:
        raise ReportBuildError("pdf", f"typst: {err.message}\n{err.diagnostic}") from err


def _fail_on_font_warnings(warnings: Sequence[typst.TypstWarning]) -> None:
    """Typst only warns when a font family is unknown, then silently falls back to another font."""
    for warning in warnings:
        if "font" in warning.message.lower():
            raise ReportBuildError("pdf", f"typst: {warning.message}")
        log.warning("typst: %s", warning.message)


def _check_glyphs(text: str) -> None:
    """Refuse text the PDF font cannot draw.

    The template sets ``fallback: false``, and Typst neither warns about a missing glyph nor fails:
    it draws an empty box (tofu). Emoji are the usual culprit.
    """
    cmap = _font_cmap()
    missing = sorted({ch for ch in text if ord(ch) not in cmap and not _invisible(ch)})
    if missing:
        listed = ", ".join(f"{ch!r} U+{ord(ch):04X}" for ch in missing)
        raise ReportBuildError("pdf", f"the PDF font {_PDF_FONT_FAMILY} has no glyph for {listed}")


def _invisible(ch: str) -> bool:
    # Not drawn, so never tofu: whitespace, format characters (zero-width joiner, BOM) and the
    # variation selectors that follow symbols such as "⚠️", which the shaper drops.
    code = ord(ch)
    return (
        ch.isspace()
        or unicodedata.category(ch) == "Cf"
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


@cache
def _font_cmap() -> frozenset[int]:
    return frozenset(TTFont(font_path(), lazy=True).getBestCmap())


def _write(path: Path, data: bytes) -> Path:
    """Replace ``path`` whole: a failed write never leaves the owner half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return path

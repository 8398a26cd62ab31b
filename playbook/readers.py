"""Reading one export file into grids of raw cells: the header found, the spreadsheet layout undone.

Files come as clinic systems write them and as people leave them after opening them in Excel or WPS:
text in UTF-8, GB18030 or UTF-16, separated by commas, tabs, semicolons or bars; .xlsx with title rows,
merged cells, hidden rows and one sheet per year or month; the old .xls format, or text saved under an
.xls name. Every sheet whose header row names the table's columns becomes a `Grid` with the file's own
row numbers (row 17 is row 17 in Excel). Merged cells are filled: a receipt-level value merged down
its item lines belongs to each line, and a blank header cell under a merged or grouped header takes
the header above it. Files are only ever opened for reading.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import python_calamine

from . import i18n, parsing
from .errors import FileFormatError

HEADER_SCAN_ROWS = 30
DELIMITERS = (",", "\t", ";", "|")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv")
# The unit a header gives its amounts in: 实收金额（万元）, 金额/千元, 费用(分).
AMOUNT_UNITS = {"万元": 10_000.0, "千元": 1_000.0, "百元": 100.0, "元": 1.0, "分": 0.01}
_UNIT = re.compile(r"[(（/_\-\s]*(?:单位[:：]?)?(万元|千元|百元|元|分|¥|￥|rmb|cny)[)）]?$", re.IGNORECASE)
_BRACKETS = re.compile(r"[(（][^)）]*[)）]$")
_OLE2, _ZIP = b"\xd0\xcf\x11\xe0", b"PK\x03\x04"
_HTML = re.compile(rb"^\s*<(?:!doctype|html|table|meta|head)", re.IGNORECASE)
_HIDDEN_ROW = re.compile(rb'<row\b[^>]*?\bhidden="(?:1|true)"[^>]*>')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def normalize_header(header: object) -> str:
    """A header as looked up: full-width folded, no spaces, no unit or note in brackets (实收金额（元） → 实收金额,
    推荐意愿（0-10分） → 推荐意愿)."""
    text = re.sub(r"\s+", "", parsing.normalize_text(str(header))).lower()
    return _UNIT.sub("", _BRACKETS.sub("", text)) or text


def amount_unit(header: object) -> tuple[str, float] | None:
    """The unit a header names for its amounts, and its factor to yuan: ('万元', 10000.0)."""
    match = _UNIT.search(re.sub(r"\s+", "", parsing.normalize_text(str(header))))
    if not match or match.group(1).lower() in ("¥", "￥", "rmb", "cny"):
        return None
    return match.group(1), AMOUNT_UNITS[match.group(1)]


def header_score(cells, aliases: dict[str, str]) -> int:
    """How many distinct canonical columns a row's cells name."""
    return len({aliases[h] for h in (normalize_header(c) for c in cells if isinstance(c, str) and c.strip())
                if h in aliases})


@dataclass
class Grid:
    """The cells under one header: a sheet, or a text file."""

    frame: pd.DataFrame  # object cells, empty ones NaN; columns are positions 0..n-1
    headers: list[str]  # the header's text at each position ("" where it has none)
    rows: np.ndarray  # the file row (1-based) of each frame row
    header_row: int  # 1-based
    encoding: str | None = None
    sheet: str | None = None
    hidden_sheet: bool = False
    hidden_rows: list[int] = field(default_factory=list)  # hidden in Excel, read as data all the same
    merged_cells: int = 0  # body cells filled from a merged range
    titles: list[str] = field(default_factory=list)  # text above the header: title, clinic, export time
    delimiter: str | None = None


@dataclass
class Skipped:
    """A sheet that was not read as the table, and why (the audit lists it)."""

    sheet: str
    reason: str
    zh: str


def read_grids(path: Path, aliases: dict[str, str]) -> tuple[list[Grid], list[Skipped]]:
    """Every sheet of ``path`` that has a header row naming at least two of the table's columns.

    Raises `FileFormatError` when the file cannot be read, or no sheet has such a header.
    """
    head = _head_bytes(path)
    if path.suffix.lower() in EXCEL_SUFFIXES and head.startswith((_OLE2, _ZIP)):
        return _read_workbook(path, aliases)
    if head.startswith((_OLE2, _ZIP)):
        raise FileFormatError("is a spreadsheet saved under a text file's name", path=path,
                              fix=f"rename it to {path.stem}.xlsx (or .xls), or save it again as CSV")
    if _HTML.match(head.lstrip(b"\xef\xbb\xbf")):
        raise FileFormatError("is a web page (HTML) saved under a spreadsheet's name, as some systems export", path=path,
                              fix="open it in Excel or WPS and save it as .xlsx, or export the table as CSV")
    return [_read_text(path, aliases)], []


def _head_bytes(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(512)


# --- text files ------------------------------------------------------------------------------------

def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "UTF-16"
    for encoding, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030")):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text, ("UTF-8 with BOM" if data.startswith(b"\xef\xbb\xbf") else label)
    raise FileFormatError("the text encoding is not UTF-8 or GB18030 (tried both)", path=path,
                          fix="save the file again as 'CSV UTF-8' or as .xlsx from Excel or the clinic system")


def _read_text(path: Path, aliases: dict[str, str]) -> Grid:
    text, encoding = _decode(path)
    if not text.strip():
        raise FileFormatError("the file is empty", path=path, fix="export the table again; it has no rows")
    head = text.replace("\x00", "").splitlines(keepends=True)[:HEADER_SCAN_ROWS]  # a quoted cell may hold a line break
    # The separator is the one under which a row reads as a header: commas, tabs, semicolons or bars.
    best = None
    for delimiter in [d for d in DELIMITERS if d in "".join(head)] or [","]:
        rows = list(csv.reader(head, delimiter=delimiter, strict=False))
        index, score = _best_header_row(rows, aliases)
        key = (score, len(rows[index]) if rows else 0)
        if best is None or key > best[0]:
            best = (key, delimiter, rows, index)
    (score, _), delimiter, head_rows, header_index = best
    _require_header(path, score, head_rows, aliases)
    headers = _header_cells(head_rows, header_index)
    frame = _read_body(path, text, delimiter, header_index, len(headers))
    headers += [""] * (frame.shape[1] - len(headers))
    rows = np.arange(header_index + 2, header_index + 2 + len(frame))
    titles = [" ".join(c for c in r if c.strip()) for r in head_rows[:header_index]]
    return Grid(frame, headers, rows, header_index + 1, encoding=encoding, titles=titles, delimiter=delimiter)


def _read_body(path: Path, text: str, delimiter: str, header_index: int, width: int) -> pd.DataFrame:
    # Positions, not the header's names: a header may repeat (two 手机号) or be blank, and a row with
    # one cell more than the header must not shift every cell (pandas would make it the index).
    def read(columns: int) -> pd.DataFrame:
        # Only truly empty cells are missing: "NA" or "null" in an export is text to be judged.
        return pd.read_csv(io.StringIO(text), sep=delimiter, skiprows=header_index + 1, header=None,
                           names=range(columns), index_col=False, dtype=str, keep_default_na=False,
                           na_values=[""], skip_blank_lines=False, engine="c")

    lines = text.splitlines(keepends=True)[header_index + 1:]
    widest = lambda rows: max((len(r) for r in csv.reader(rows, delimiter=delimiter)), default=width)  # noqa: E731
    try:
        try:
            frame = read(max(width, widest(lines[:HEADER_SCAN_ROWS])))
        except pd.errors.ParserError:  # a longer row further down: count them all (rare, slower)
            frame = read(max(width, widest(lines)))
    except (pd.errors.ParserError, csv.Error) as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise FileFormatError("the rows cannot be split into cells (an unclosed quote or a stray separator)",
                              path=path, rows=[int(line.group(1)) + header_index + 1] if line else [],
                              fix="open it in Excel or WPS and save it again as CSV, or export it again") from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=range(width))
    return frame.astype(object)


# --- workbooks ----------------------------------------------------------------------------------------

def _read_workbook(path: Path, aliases: dict[str, str]) -> tuple[list[Grid], list[Skipped]]:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheets = [(m.name, m.visible != python_calamine.SheetVisibleEnum.Visible, book.get_sheet_by_name(m.name))
                  for m in book.sheets_metadata if m.typ == python_calamine.SheetTypeEnum.WorkSheet]
        cells = {name: sheet.to_python(skip_empty_area=False) for name, _, sheet in sheets}
    except Exception as exc:  # calamine raises its own error types for corrupt or protected files
        raise FileFormatError(f"cannot be read as an Excel workbook ({type(exc).__name__})", path=path,
                              fix="open it in Excel and save it again as .xlsx (not password protected)") from None
    hidden_rows = _hidden_rows(path) if path.suffix.lower() != ".xls" else {}
    grids, skipped, shown = [], [], None
    for name, hidden, sheet in sheets:
        array = _cell_array(cells[name])
        if array is None:
            continue  # an empty sheet (Sheet2, Sheet3) says nothing
        merged = [r for r in (sheet.merged_cell_ranges or []) if r[0] != r[1]]
        top, _ = _fill_merged(array[:HEADER_SCAN_ROWS].copy(), merged)
        index, score = _best_header_row(top.tolist(), aliases)
        if score < 2:
            skipped.append(Skipped(name, "no header row naming the table's columns", "没有可识别的表头"))
            shown = shown or (name, array[:HEADER_SCAN_ROWS].tolist())
            continue
        array, merged_cells = _fill_merged(array, merged, body_from=index + 1)
        headers = _header_cells(array[:index + 1].tolist(), index)
        frame = pd.DataFrame(array[index + 1:])
        rows = np.arange(index + 2, index + 2 + len(frame))
        titles = [" ".join(str(c) for c in r if isinstance(c, str)) for r in array[:index].tolist()]
        grids.append(Grid(frame, headers, rows, index + 1, sheet=name, hidden_sheet=hidden,
                          hidden_rows=sorted(r for r in hidden_rows.get(name, ()) if r > index + 1),
                          merged_cells=merged_cells, titles=titles))
    if not grids:
        if shown is None:
            raise FileFormatError("the workbook is empty: no sheet has any cell", path=path,
                                  fix="export the table again; it has no rows")
        _require_header(path, 0, shown[1], aliases, sheet=shown[0])
    return grids, skipped


def _cell_array(rows: list[list]) -> np.ndarray | None:
    if not rows or not any(any(c != "" for c in r) for r in rows):
        return None
    array = np.array(rows, dtype=object)
    array[array == ""] = np.nan
    return array


def _fill_merged(array: np.ndarray, merged, body_from: int | None = None) -> tuple[np.ndarray, int]:
    """Each merged range's value copied into all its cells, and how many cells of the body (rows from
    ``body_from``) that filled."""
    filled = 0
    height, width = array.shape
    for (top, left), (bottom, right) in merged:
        if top >= height or left >= width:
            continue
        bottom, right = min(bottom, height - 1), min(right, width - 1)
        array[top:bottom + 1, left:right + 1] = array[top, left]
        if body_from is not None and bottom >= body_from:  # Excel keeps a merged value in its first cell only
            in_body = (bottom - max(top, body_from) + 1) * (right - left + 1)
            filled += in_body - (top >= body_from)
    return array, filled


def _hidden_rows(path: Path) -> dict[str, list[int]]:
    """Rows hidden in Excel, per sheet name (from the sheet XML, which calamine does not report)."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target") for r in rels}
            found = {}
            for sheet in book.iter("{*}sheet"):
                target = targets.get(sheet.get(_REL), "")
                part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                data = archive.read(part) if part in archive.namelist() else b""
                if b"hidden=" in data:
                    found[sheet.get("name")] = [int(_ROW_NUMBER.search(m.group(0)).group(1))
                                                for m in _HIDDEN_ROW.finditer(data) if _ROW_NUMBER.search(m.group(0))]
            return found
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError):
        return {}


# --- the header ----------------------------------------------------------------------------------------

def _best_header_row(rows: list[list], aliases: dict[str, str]) -> tuple[int, int]:
    scores = [header_score(r, aliases) for r in rows[:HEADER_SCAN_ROWS]]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else 0
    return best, (scores[best] if scores else 0)


def _header_cells(rows: list[list], index: int) -> list[str]:
    """The header's text per position; a blank cell takes the text above it (a two-row header whose
    upper row names the columns its lower row leaves blank)."""
    def text(cell) -> str:
        return "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell).strip()

    header = [text(c) for c in rows[index]]
    if index:
        above = rows[index - 1]
        header = [h or (text(above[i]) if i < len(above) else "") for i, h in enumerate(header)]
    return header


def _require_header(path: Path, score: int, rows: list[list], aliases: dict[str, str], sheet: str | None = None) -> None:
    """No header row: say where we looked, never what the rows hold (they may be a patient's name,
    phone number and address)."""
    if score >= 2:
        return
    first = next((i for i, r in enumerate(rows) if any(isinstance(c, str) and c.strip() for c in r)), None)
    where = f" of sheet {sheet!r}" if sheet else ""
    texts = 0 if first is None else sum(1 for c in rows[first] if isinstance(c, str) and c.strip())
    seen = "" if first is None else (f"; row {first + 1}, the first with text, has {i18n.counted(texts, 'text cell')}, "
                                     f"none of them a column name the playbook knows")
    expected = ", ".join(dict.fromkeys(h for h in aliases if not h.isascii()))
    raise FileFormatError(
        f"no header row found in the first {HEADER_SCAN_ROWS} rows{where}{seen}", path=path,
        fix=f"make sure the file has a header row with the column names (recognised: {expected[:160]}…), "
            f"or map your headers in clinic.yaml under headers:")

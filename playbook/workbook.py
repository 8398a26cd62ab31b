"""Excel workbooks for the people who live in Excel: owners and front desks.

One sheet a table, the header row frozen and bold, columns sized to their content, and colours as
Excel conditional formats (so they follow the numbers when someone edits the sheet), never as
painted cells. Written by openpyxl, atomically: a failed write never leaves half a workbook.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

# Traffic-light fills; red is reserved for what needs action, as in the charts (plotting.ACTION_RED).
FILLS = {
    "red": PatternFill("solid", start_color="F4C7C3", end_color="F4C7C3"),
    "yellow": PatternFill("solid", start_color="FCE8B2", end_color="FCE8B2"),
    "green": PatternFill("solid", start_color="D9EAD3", end_color="D9EAD3"),
}
ACTION_RED = "C0392B"  # plotting.ACTION_RED, without importing matplotlib for a workbook
HEADER_FILL = PatternFill("solid", start_color="EEEEEE", end_color="EEEEEE")
# Excel number formats by kind of column.
NUMBER_FORMATS = {"percent": "0.0%", "money": "#,##0", "money2": "#,##0.00", "count": "#,##0",
                  "ratio": "0.00", "date": "yyyy-mm-dd",
                  "change": "+0.0%;-0.0%;0.0%",  # a relative change, signed
                  "points": "+0.0;-0.0;0.0"}  # a rate's change in percentage points
MAX_WIDTH = 48


@dataclass
class Sheet:
    """One table of a workbook.

    Parameters
    ----------
    name : str
        The sheet's tab (Excel allows 31 characters, no ``[]:*?/\\``).
    frame : DataFrame
        The table; its column labels become the header row as they are (Chinese when ``zh``).
    formats : mapping of column label -> kind, or -> one kind per row
        Number formats by kind: percent, money, money2, count, ratio, date, change (a signed relative
        change), points (a rate's change in percentage points, stored as 3.2). A sequence gives each
        row its own kind (a column mixing counts, money and rates); None leaves a row as it is.
    status : column label, optional
        A column whose cells hold one of ``status_values``' keys; its whole row is coloured by a
        conditional format on that value.
    status_values : mapping of cell value -> colour
        e.g. ``{"红": "red", "黄": "yellow", "绿": "green"}``.
    note : str, optional
        A line above the table (what it shows, where the threshold comes from).
    choices : mapping of column label -> allowed values
        A drop-down list on the column's cells (Excel data validation), for the columns people fill
        in; a value outside the list is refused with a message naming the allowed ones.
    """

    name: str
    frame: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)
    status: str | None = None
    status_values: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)


def write_workbook(path: Path | str, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to ``path`` (.xlsx), replacing it whole; return the path."""
    path = Path(path)
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        _write_sheet(book.create_sheet(_safe_title(sheet.name)), sheet)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    book.save(partial)
    partial.replace(path)
    return path


def _write_sheet(ws, sheet: Sheet) -> None:
    frame = sheet.frame
    top = 1
    if sheet.note:
        ws.cell(row=1, column=1, value=sheet.note).font = Font(italic=True, color="666666")
        top = 2
    for col, label in enumerate(frame.columns, start=1):
        cell = ws.cell(row=top, column=col, value=str(label))
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(frame.itertuples(index=False), start=top + 1):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=_cell_value(value))
    for col, label in enumerate(frame.columns, start=1):
        letter = get_column_letter(col)
        kind = sheet.formats.get(label)
        if kind:
            kinds = [kind] * len(frame) if isinstance(kind, str) else list(kind)
            cells = ws.iter_rows(min_row=top + 1, max_row=top + len(frame), min_col=col, max_col=col)
            for (cell,), row_kind in zip(cells, kinds):
                if row_kind:
                    cell.number_format = NUMBER_FORMATS[row_kind]
        ws.column_dimensions[letter].width = _width(label, frame[label])
    ws.freeze_panes = ws.cell(row=top + 1, column=1)
    if len(frame):
        last = get_column_letter(max(len(frame.columns), 1))
        ws.auto_filter.ref = f"A{top}:{last}{top + len(frame)}"
    for label, allowed in sheet.choices.items():
        letter = get_column_letter(list(frame.columns).index(label) + 1)
        listed = ",".join(allowed)
        check = DataValidation(type="list", formula1=f'"{listed}"', allow_blank=True, showErrorMessage=True,
                               errorTitle=str(label), error=listed)
        # The rows below the table too, so a row someone adds gets the list as well.
        check.add(f"{letter}{top + 1}:{letter}{top + max(len(frame), 1) + 200}")
        ws.add_data_validation(check)
    if sheet.status is not None and len(frame):
        status_letter = get_column_letter(list(frame.columns).index(sheet.status) + 1)
        # A status people fill in colours the rows they add below the table too.
        extra = 200 if sheet.status in sheet.choices else 0
        rows = f"A{top + 1}:{get_column_letter(len(frame.columns))}{top + len(frame) + extra}"
        for value, colour in sheet.status_values.items():
            ws.conditional_formatting.add(
                rows, FormulaRule(formula=[f'${status_letter}{top + 1}="{value}"'], fill=FILLS[colour],
                                  font=Font(color=ACTION_RED) if colour == "red" else None))


def _cell_value(value):
    """What openpyxl can store: missing values as empty cells, numpy scalars as Python numbers."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _width(label, column: pd.Series) -> float:
    # East Asian characters take two columns of an Excel cell.
    def display(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    longest = max([display(str(label)), *(display(str(v)) for v in column.head(200).tolist())], default=8)
    return min(max(longest + 2, 8), MAX_WIDTH)


def _safe_title(name: str) -> str:
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31]

"""Errors a consultant can act on: each names the file, the column, the first offending rows and the fix.

Rows are given as the consultant sees them: the row number in the file (1-based, counting title rows
and the header), so that "row 17" is row 17 in Excel or a text editor; in a workbook, of the sheet
named.

No message ever shows a mobile number, whatever it quotes (an id, a cell): they are masked here, once.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from . import i18n
from .privacy import redact

MAX_ROWS_SHOWN = 5


class PlaybookError(Exception):
    """Base class: a problem with the clinic's input or configuration, reported without a traceback."""

    exit_code = 2

    def __init__(self, message: str, *, path: Path | str | None = None, column: str | None = None,
                 rows: Sequence[int] = (), fix: str | None = None, zh: str | None = None, sheet: str | None = None):
        self.message = redact(message)
        self.zh = zh and redact(zh)  # the message for a Chinese report (the audit chapter); the terminal shows `message`
        self.path = Path(path) if path is not None else None
        self.sheet = sheet
        self.column = column and redact(column)
        self.rows = list(rows)
        self.fix = fix and redact(fix)
        super().__init__(str(self))

    @property
    def place(self) -> str:
        """The file, and the sheet of a workbook: 'visits.xlsx, sheet 2024'."""
        if not self.path:
            return ""
        return f"{self.path.name}, sheet {self.sheet}" if self.sheet else self.path.name

    def __str__(self) -> str:
        where = [self.place or None, f"column {self.column!r}" if self.column else None]
        head = ", ".join(w for w in where if w)
        text = f"{head}: {self.message}" if head else self.message
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:MAX_ROWS_SHOWN])
            more = f" and {len(self.rows) - MAX_ROWS_SHOWN} more" if len(self.rows) > MAX_ROWS_SHOWN else ""
            text += f" (rows {shown}{more})"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class ConfigError(PlaybookError):
    """clinic.yaml is missing, unreadable or has a wrong value."""


class FileFormatError(PlaybookError):
    """A file cannot be read as a table: empty, unknown encoding, no header row, unsupported type."""


class MissingTableError(PlaybookError):
    """A table the playbook needs was not found in the clinic folder."""


class MissingColumnError(PlaybookError):
    """A required column is not among the file's headers."""

    def __init__(self, path, column: str, available: Sequence[str], *, table: str, header_hint: str,
                 sheet: str | None = None):
        # A header holds words; a cell with a long run of digits is data (an id, a phone) and is not shown.
        self.available = [h for h in available if not re.search(r"\d{5}", h)]
        super().__init__(
            f"required column {column!r} not found; headers found: {', '.join(self.available) or 'none'}",
            path=path, sheet=sheet,
            fix=(f"add a column headed {header_hint}, or map the file's own header to it in clinic.yaml: "
                 f"headers: {{{table}: {{<your header>: {column}}}}}"),
        )
        self.column = column


class InvalidValuesError(PlaybookError):
    """Cells of a column that cannot be read as the kind of value the column holds."""

    def __init__(self, path, column: str, rows: Sequence[int], examples: Sequence[str], *, expected: str, fix: str,
                 expected_zh: str = "可识别的值", sheet: str | None = None):
        self.examples = list(examples)
        shown = ", ".join(repr(e) for e in self.examples[:3])
        example, example_zh = (f", e.g. {shown}", f"，例如 {shown}") if shown else ("", "")
        super().__init__(f"{i18n.counted(len(rows), 'value is', 'values are')} not {expected}{example}", path=path, column=column,
                         rows=rows, fix=fix, zh=f"{len(rows)} 个值不是{expected_zh}{example_zh}", sheet=sheet)


class DuplicateIdError(PlaybookError):
    """An id column that must be unique repeats values."""

    def __init__(self, path, column: str, rows: Sequence[int], examples: Sequence[str], sheet: str | None = None):
        self.examples = list(examples)
        shown = ", ".join(repr(e) for e in self.examples[:3])
        super().__init__(
            f"{i18n.counted(len(rows), 'row repeats', 'rows repeat')} an id that must be unique, with different values, e.g. {shown}", path=path,
            column=column, rows=rows, sheet=sheet,
            fix="remove the repeated rows (or give each row its own id) in a corrected copy of the export",
            zh=f"{len(rows)} 行的编号重复且内容不同，例如 {shown}")


class ChapterError(PlaybookError):
    """A chapter notebook failed while running; what ran before it is kept."""

    exit_code = 1

    def __init__(self, chapter: str, reason: str, saved: Path | None):
        self.chapter = chapter
        self.saved = saved
        fix = f"open the saved notebook to see the failing cell: {saved}" if saved else None
        super().__init__(f"chapter {chapter} failed: {reason}", fix=fix)


class ReportBuildError(PlaybookError):
    """One half of the report (``stage`` "html" or "pdf") could not be made; the other may exist."""

    exit_code = 1

    def __init__(self, stage: str, message: str):
        self.stage = stage
        super().__init__(f"building report.{stage} failed: {message}")

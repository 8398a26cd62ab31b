"""Loading a clinic's exports into canonical tables, and recording everything done on the way.

Real exports are untidy (method.md, contract section): title rows above the header, a totals row at
the bottom, blank spacer rows, Chinese headers in several spellings, GB18030 or UTF-8 with a BOM. This
module finds the header row, drops totals and blank rows, maps headers to canonical columns, parses
values, masks personal data, and keeps a `TableLoad` record of what it did and what it found wrong,
which the intake audit shows. Input files are only ever opened for reading.
"""
from __future__ import annotations

import csv
import io as _io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n, parsing, privacy, schema
from .config import ClinicConfig
from .errors import (DuplicateIdError, FileFormatError, InvalidValuesError, MissingColumnError, MissingTableError,
                     PlaybookError)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = (".csv", ".txt", *EXCEL_SUFFIXES)
HEADER_SCAN_ROWS = 30
TOTAL_WORDS = ("合计", "总计", "小计", "总合计", "total")
# A file may also be named in Chinese, as systems export it.
FILE_STEMS: dict[str, tuple[str, ...]] = {
    "patients": ("patients", "患者档案", "患者", "客户档案"),
    "visits": ("visits", "预约到诊", "预约", "到诊", "就诊记录"),
    "charges": ("charges", "收费明细", "收费"),
    "treatment_plans": ("treatment_plans", "治疗计划"),
    "leads": ("leads", "线索", "咨询"),
    "campaigns": ("campaigns", "营销活动", "活动"),
    "costs": ("costs", "月度成本", "成本"),
    "staff": ("staff", "员工"),
    "targets": ("targets", "目标"),
}
_UNIT_SUFFIX = re.compile(r"[(（][^)）]*[)）]$")


@dataclass
class TableLoad:
    """What loading one table did: the audit's raw material."""

    table: str
    path: Path | None = None
    encoding: str | None = None
    sheet: str | None = None
    header_row: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # the file's header -> canonical column
    unrecognised: list[str] = field(default_factory=list)
    personal_data: dict[str, str] = field(default_factory=dict)  # the file's header -> "masked" | "dropped"
    dropped_rows: dict[str, list[int]] = field(default_factory=dict)  # reason -> file rows
    errors: list[PlaybookError] = field(default_factory=list)
    warnings: list[PlaybookError] = field(default_factory=list)
    data: pd.DataFrame | None = None

    @property
    def found(self) -> bool:
        return self.path is not None

    @property
    def usable(self) -> bool:
        return self.data is not None and not self.errors

    def has(self, column: str) -> bool:
        """The file had this column (not merely the empty one added for convenience)."""
        return column in self.mapping.values()


def normalize_header(header: object) -> str:
    text = parsing.normalize_text(str(header))
    text = _UNIT_SUFFIX.sub("", text)  # 实收金额(元) -> 实收金额
    return re.sub(r"\s+", "", text).lower()


def header_aliases(table: schema.Table, config: ClinicConfig | None) -> dict[str, str]:
    """normalized header -> canonical column; the clinic's own mapping comes first."""
    aliases: dict[str, str] = {}
    for header, column in ((config.headers.get(table.name, {}) if config else {}).items()):
        aliases.setdefault(normalize_header(header), column)
    for column in table.columns:
        for header in (*column.headers, column.name):
            aliases.setdefault(normalize_header(header), column.name)
    return aliases


def find_files(folder: Path, config: ClinicConfig) -> dict[str, Path]:
    """The export file of each table: listed under ``files:`` in clinic.yaml, or found by its name."""
    folder = Path(folder)
    found: dict[str, Path] = {}
    for table, name in config.files.items():
        found[table] = folder / name  # load_table reports it if the file is not there
    candidates = [p for p in sorted(folder.iterdir()) if p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", "."))]
    for table, stems in FILE_STEMS.items():
        if table in found:
            continue
        matches = [p for p in candidates if p.stem.lower() in stems]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches)
            raise MissingTableError(f"several files could be the {table} table: {names}", path=folder / "clinic.yaml",
                                    fix=f"name the one to use in clinic.yaml: files: {{{table}: {matches[0].name}}}")
        if matches:
            found[table] = matches[0]
    return found


# --- reading a file into a grid of raw cells -------------------------------------------------------

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


def _header_score(cells: list, aliases: dict[str, str]) -> int:
    return len({aliases[h] for h in (normalize_header(c) for c in cells if isinstance(c, str) and c.strip()) if h in aliases})


def _best_header_row(rows: list[list], aliases: dict[str, str]) -> tuple[int, int]:
    scores = [_header_score(r, aliases) for r in rows[:HEADER_SCAN_ROWS]]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i)) if scores else 0
    return best, (scores[best] if scores else 0)


@dataclass
class _Grid:
    frame: pd.DataFrame  # object cells under the header, columns = the header's cells
    rows: pd.Series  # the file row (1-based) of each frame row
    header_row: int
    encoding: str | None = None
    sheet: str | None = None


def _read_csv(path: Path, aliases: dict[str, str]) -> _Grid:
    text, encoding = _decode(path)
    if not text.strip():
        raise FileFormatError("the file is empty", path=path, fix="export the table again; it has no rows")
    head = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = "\t" if sum(l.count("\t") for l in head) > sum(l.count(",") for l in head) else ","
    first_rows = list(csv.reader(head, delimiter=delimiter))
    header_index, score = _best_header_row(first_rows, aliases)
    _require_header(path, score, first_rows, aliases)
    try:
        # Only truly empty cells are missing: "NA" or "null" in an export is text to be judged.
        frame = pd.read_csv(_io.StringIO(text), sep=delimiter, skiprows=header_index, header=0, dtype=str,
                            keep_default_na=False, na_values=[""], skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        line = re.search(r"line (\d+)", str(exc))
        rows = [int(line.group(1)) + header_index] if line else []
        raise FileFormatError(f"a row has more cells than the header: {exc}", path=path, rows=rows,
                              fix="remove the stray delimiters in that row, or quote the cell") from None
    frame = frame.astype(object)
    rows = pd.Series(range(header_index + 2, header_index + 2 + len(frame)), index=frame.index)
    return _Grid(frame, rows, header_index + 1, encoding=encoding)


def _read_excel(path: Path, aliases: dict[str, str]) -> _Grid:
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine", dtype=object)
    except Exception as exc:  # calamine raises its own error types for corrupt or protected files
        raise FileFormatError(f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})", path=path,
                              fix="open it in Excel and save it again as .xlsx (not password protected)") from None
    sheets = {name: s for name, s in sheets.items() if not s.dropna(how="all").empty}
    if not sheets:
        raise FileFormatError("the workbook is empty: no sheet has any cell", path=path,
                              fix="export the table again; it has no rows")
    # Any sheet name: the sheet whose header row matches most canonical columns is the table.
    scored = {name: _best_header_row(s.head(HEADER_SCAN_ROWS).values.tolist(), aliases) for name, s in sheets.items()}
    sheet = max(scored, key=lambda name: scored[name][1])
    header_index, score = scored[sheet]
    raw = sheets[sheet]
    _require_header(path, score, raw.head(HEADER_SCAN_ROWS).values.tolist(), aliases, sheet=sheet)
    header = [c if isinstance(c, str) else ("" if pd.isna(c) else str(c)) for c in raw.iloc[header_index]]
    frame = raw.iloc[header_index + 1:].copy()
    frame.columns = header
    rows = pd.Series(frame.index + 1, index=frame.index)  # pandas keeps Excel's row positions (0 = row 1)
    return _Grid(frame, rows, header_index + 1, sheet=str(sheet))


def _require_header(path: Path, score: int, rows: list[list], aliases: dict[str, str], sheet=None) -> None:
    if score >= 2:
        return
    expected = ", ".join(dict.fromkeys(h for h, c in aliases.items() if not h.isascii()))
    seen = next((r for r in rows if any(isinstance(c, str) and c.strip() for c in r)), [])
    where = f" of sheet {sheet!r}" if sheet else ""
    raise FileFormatError(
        f"no header row found in the first {HEADER_SCAN_ROWS} rows{where}; the first text row is "
        f"{[c for c in seen if isinstance(c, str)][:6]}", path=path,
        fix=f"make sure the file has a header row with the column names (recognised: {expected[:160]}…), "
            f"or map your headers in clinic.yaml under headers:")


# --- from raw cells to a canonical table -------------------------------------------------------------

_TOTAL = re.compile(r"\s*(" + "|".join(r"\s*".join(w) for w in TOTAL_WORDS) + ")", re.IGNORECASE)


def _is_total_row(frame: pd.DataFrame) -> pd.Series:
    """Rows with a cell that starts with 合计/总计/小计/total, looked up once per distinct cell value."""
    def column_is_total(cells: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(cells)
        hits = np.fromiter((isinstance(u, str) and bool(_TOTAL.match(u)) for u in uniques), bool, len(uniques))
        return np.append(hits, False)[codes]  # code -1 (empty) picks the appended False

    hits = np.column_stack([column_is_total(frame.iloc[:, i]) for i in range(frame.shape[1])])
    return pd.Series(hits.any(axis=1), index=frame.index)


def load_table(path: Path, table_name: str, config: ClinicConfig | None = None) -> TableLoad:
    """Read one export into its canonical table. Problems are recorded on the result, never raised."""
    table = schema.TABLES[table_name]
    load = TableLoad(table_name, path=Path(path))
    try:
        _load_into(load, table, config)
    except PlaybookError as exc:
        load.errors.append(exc)
        load.data = None
    return load


def _load_into(load: TableLoad, table: schema.Table, config: ClinicConfig | None) -> None:
    path = load.path
    aliases = header_aliases(table, config)
    if not path.is_file():
        raise MissingTableError(f"clinic.yaml lists {path.name} for the {table.name} table, but there is no such file",
                                path=path, fix="put the file in the clinic folder, or correct its name under files: "
                                               "in clinic.yaml")
    if path.stat().st_size == 0:
        raise FileFormatError("the file is empty (0 bytes)", path=path, fix="export the table again")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        grid = _read_excel(path, aliases)
    else:
        grid = _read_csv(path, aliases)
    load.encoding, load.sheet, load.header_row = grid.encoding, grid.sheet, grid.header_row
    frame, rows = grid.frame, grid.rows

    blank = frame.isna().all(axis=1)  # both readers give empty cells as NaN
    total = _is_total_row(frame) & ~blank
    for reason, mask in (("blank", blank), ("totals", total)):
        if mask.any():
            load.dropped_rows[reason] = rows[mask].tolist()
    keep = ~(blank | total)
    frame, rows = frame[keep], rows[keep]
    if frame.empty:
        raise FileFormatError("the file has a header but no data rows", path=path,
                              fix="export the table again with its rows")

    columns = _map_headers(load, frame.columns, aliases)
    for column in table.required:
        if column not in columns.values():
            header_hint = " or ".join(table.column(column).headers[:3])
            raise MissingColumnError(path, column, [str(h) for h in frame.columns if str(h).strip()],
                                     table=table.name, header_hint=header_hint)

    data = pd.DataFrame(index=frame.index)
    for header, column in columns.items():
        data[column] = _parse_column(load, table, config, frame[header], rows, column, header)
    for column in table.columns:  # absent optional columns exist, empty, so analyses can test .has()
        if column.name not in data:
            data[column.name] = pd.Series(None, index=data.index, dtype=EMPTY_DTYPE[column.kind])
    data["source_row"] = rows

    incomplete = data[table.required].isna().any(axis=1)
    if incomplete.any():
        missing_in = [c for c in table.required if data[c].isna().any()]
        load.warnings.append(PlaybookError(
            f"{i18n.counted(int(incomplete.sum()), 'row has', 'rows have')} no value in a required column ({', '.join(missing_in)}) and are "
            f"left out", path=path, rows=rows[incomplete].tolist(), fix="fill in the cells if those rows matter",
            zh=f"{int(incomplete.sum())} 行缺少必填列（{'、'.join(missing_in)}）的值，未计入分析"))
        data = data[~incomplete]
    if table.key:
        _check_unique(load, data, table.key, columns)
    load.data = data[[c.name for c in table.columns] + ["source_row"]].reset_index(drop=True)


EMPTY_DTYPE = {schema.ID: "str", schema.TEXT: "str", schema.STATUS: "str", schema.DATE: "datetime64[us]",
                schema.AMOUNT: "float64", schema.INT: "Int64", schema.FLAG: "boolean"}


def _map_headers(load: TableLoad, headers, aliases: dict[str, str]) -> dict[str, str]:
    columns: dict[str, str] = {}
    for header in headers:
        if not str(header).strip() or str(header).startswith("Unnamed:"):
            continue
        key = normalize_header(header)
        column = aliases.get(key)
        if column and column not in columns.values():
            columns[header] = column
        elif any(key == normalize_header(p) for p in schema.DROPPED_PII_HEADERS):
            load.personal_data[str(header)] = "dropped"
        else:
            load.unrecognised.append(str(header))
    load.mapping = {str(h): c for h, c in columns.items()}
    return columns


def _parse_column(load, table, config, raw, rows, column, header) -> pd.Series:
    spec = table.column(column)
    if spec.kind == schema.STATUS:
        values = {**table.values.get(column, {}), **(config.values.get(table.name, {}).get(column, {}) if config else {})}
        parsed, invalid = parsing.parse_status(raw, values)
    else:
        parsed, invalid = parsing.PARSERS[spec.kind](raw)
    if invalid.any():
        expected, expected_zh, fix = parsing.EXPECTED[spec.kind]
        if spec.kind == schema.STATUS:
            known = "、".join(dict.fromkeys(k for k in values if not k.isascii()))
            fix = f"use one of {known}, or map the other words in clinic.yaml: values: {{{table.name}: {{{column}: {{<word>: <value>}}}}}}"
        problem = InvalidValuesError(load.path, str(header), rows[invalid].tolist(),
                                     raw[invalid].astype(str).tolist(), expected=expected, fix=fix,
                                     expected_zh=expected_zh)
        # A bad cell in a column the playbook needs stops the run; elsewhere the cell is left empty.
        (load.errors if spec.required else load.warnings).append(problem)
    if spec.pii:
        load.personal_data[str(header)] = "masked"
        parsed = privacy.mask_column(parsed, column)
    return parsed


def _check_unique(load: TableLoad, data: pd.DataFrame, key: str, columns: dict[str, str]) -> None:
    repeated = data[key].notna() & data[key].duplicated(keep=False)
    if repeated.any():
        header = next(h for h, c in columns.items() if c == key)
        load.errors.append(DuplicateIdError(load.path, str(header), data.loc[repeated, "source_row"].tolist(),
                                            data.loc[repeated, key].drop_duplicates().tolist()))

"""Loading a clinic's exports into canonical tables, and recording everything done on the way.

Real exports are untidy (method.md, contract section). This module finds each table's files (one
table may be split over several files or sheets: they are stacked), reads them (`playbook.readers`),
drops the rows that are not data (`playbook.nondata`), maps the headers to canonical columns (units
such as 万元 honoured), parses values, masks personal data, folds refunds into the amounts, and drops
exact duplicates (the same receipt exported twice). A `TableLoad` keeps what it did and what it found
wrong, which the intake audit shows and `playbook.health` weighs. Input files are only ever read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n, nondata, parsing, privacy, readers, schema
from .config import ClinicConfig
from .errors import (DuplicateIdError, FileFormatError, InvalidValuesError, MissingColumnError, MissingTableError,
                     PlaybookError)
from .readers import EXCEL_SUFFIXES, TEXT_SUFFIXES, normalize_header

SUFFIXES = (*TEXT_SUFFIXES, *EXCEL_SUFFIXES)
# A file may also be named in Chinese, as systems export it, and carry a date or a copy number after
# the name (收费明细2024.csv, 收费明细_2025-01.xlsx, charges (1).csv): all such files are the table.
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
    "surveys": ("surveys", "满意度调查", "满意度", "问卷", "回访评价"),
    "reviews": ("reviews", "在线评价", "评价", "点评"),
}
_NAME_SUFFIX = re.compile(r"^[\s_\-.()（）\[\]【】0-9年月日至到~—表副本第页季度期份上下半]*(?:copy|副本)?[\s_\-.()（）0-9]*$",
                          re.IGNORECASE)
_GLOB = re.compile(r"[*?\[]")
EMPTY_DTYPE = {schema.ID: "str", schema.TEXT: "str", schema.STATUS: "str", schema.DATE: "datetime64[us]",
               schema.AMOUNT: "float64", schema.INT: "Int64", schema.FLAG: "boolean",
               schema.SCORE: "float64"}
# Rows of data left out, and why (playbook.health weighs them; the rows not data are nondata.REASONS).
LEFT_OUT = {
    "duplicate": ("exact duplicates of other rows (the same record exported twice), dropped",
                  "与其他行完全相同的重复记录（同一单据导出了两次），已剔除"),
    "incomplete": ("rows with no value in a required column, left out", "缺少必填列的值的行，未计入分析"),
    "implausible_date": ("rows with an implausible date (a 1900 placeholder, years before the rest of the data, or "
                         "after the export), left out of every KPI",
                         "日期不合理的行（1900年等占位日期、远早于其余数据、或晚于导出日期），不计入任何指标"),
}


@dataclass
class Part:
    """One file, or one sheet of a workbook, read into a table."""

    path: Path
    sheet: str | None = None
    encoding: str | None = None
    header_row: int | None = None
    rows: int = 0  # rows read as data
    hidden_sheet: bool = False
    hidden_rows: list[int] = field(default_factory=list)
    merged_cells: int = 0
    delimiter: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path.name}, sheet {self.sheet}" if self.sheet else self.path.name


@dataclass
class Dropped:
    """Rows dropped from one part: not data (a reason of `nondata.REASONS`) or data left out (`LEFT_OUT`)."""

    reason: str
    path: Path
    sheet: str | None
    rows: list[int]
    column: str | None = None
    fix: str | None = None  # when the rows show a precise cause (values written on a group's first row only)

    @property
    def left_out(self) -> bool:
        return self.reason in LEFT_OUT


@dataclass
class TableLoad:
    """What loading one table did: the audit's raw material."""

    table: str
    paths: list[Path] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    skipped: list[tuple[Path, readers.Skipped]] = field(default_factory=list)  # sheets not read, and why
    mapping: dict[str, str] = field(default_factory=dict)  # the file's header -> canonical column
    unrecognised: list[str] = field(default_factory=list)
    personal_data: dict[str, str] = field(default_factory=dict)  # the file's header -> "masked" | "dropped"
    units: dict[str, str] = field(default_factory=dict)  # the file's header -> the unit its amounts are in
    words: dict[str, dict[str, tuple[str, int]]] = field(default_factory=dict)  # column -> word -> (value, rows)
    dropped: list[Dropped] = field(default_factory=list)
    data_rows: int = 0  # rows read as data, before any was left out: the base of every share
    export_date: pd.Timestamp | None = None  # as a title or footer row states it
    notes: list[PlaybookError] = field(default_factory=list)  # what was done that the consultant should know
    errors: list[PlaybookError] = field(default_factory=list)
    warnings: list[PlaybookError] = field(default_factory=list)
    data: pd.DataFrame | None = None

    @property
    def path(self) -> Path | None:
        return self.paths[0] if self.paths else None

    @property
    def files(self) -> str | None:
        """The files read, as the audit names them (the sheets are in `parts`)."""
        return ", ".join(dict.fromkeys(p.name for p in self.paths)) or None

    @property
    def sheet(self) -> str | None:
        return self.parts[0].sheet if self.parts else None

    @property
    def encoding(self) -> str | None:
        return self.parts[0].encoding if self.parts else None

    @property
    def header_row(self) -> int | None:
        return self.parts[0].header_row if self.parts else None

    @property
    def dropped_rows(self) -> dict[str, list[int]]:
        """reason -> file rows, over every part."""
        out: dict[str, list[int]] = {}
        for d in self.dropped:
            out.setdefault(d.reason, []).extend(d.rows)
        return out

    @property
    def found(self) -> bool:
        return bool(self.paths)

    @property
    def usable(self) -> bool:
        return self.data is not None and not self.errors

    def has(self, column: str) -> bool:
        """The file had this column (not merely the empty one added for convenience)."""
        return column in self.mapping.values()

    def header_of(self, column: str) -> str:
        """The export's own header for a canonical column (its name if the file had none)."""
        return next((h for h, c in self.mapping.items() if c == column), column)

    def where(self, data: pd.DataFrame, mask: pd.Series) -> list[tuple[Part, list[int]]]:
        """The rows of ``data`` under ``mask``, grouped by the part (file or sheet) they come from."""
        picked = data.loc[mask, ["source_part", "source_row"]]
        return [(self.parts[int(part)], rows["source_row"].tolist()) for part, rows in picked.groupby("source_part")]

    def drop(self, reason: str, data: pd.DataFrame, mask: pd.Series, column: str | None = None,
             fix: str | None = None) -> pd.DataFrame:
        """Leave out the rows under ``mask``, recorded by part; returns the rows kept."""
        if mask.any():
            self.dropped += [Dropped(reason, part.path, part.sheet, rows, column, fix)
                             for part, rows in self.where(data, mask)]
        return data[~mask]


def header_aliases(table: schema.Table, config: ClinicConfig | None) -> dict[str, str]:
    """normalized header -> canonical column; the clinic's own mapping comes first."""
    aliases: dict[str, str] = {}
    for header, column in ((config.headers.get(table.name, {}) if config else {}).items()):
        aliases.setdefault(normalize_header(header), column)
    for column in table.columns:
        for header in (*column.headers, column.name):
            aliases.setdefault(normalize_header(header), column.name)
    return aliases


def find_files(folder: Path, config: ClinicConfig) -> tuple[dict[str, list[Path]], list[Path]]:
    """The export files of each table, and the data files no table claimed (the audit lists them).

    A table's files are those clinic.yaml names under ``files:`` (a name, or a pattern such as
    ``收费明细*.csv``), else every file named after the table, with a date or copy number allowed after
    the name. Several files for one table are stacked (`load_table`).
    """
    folder = Path(folder)
    candidates = [p for p in sorted(folder.iterdir())
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(("~$", "."))]
    found: dict[str, list[Path]] = {}
    for table, name in config.files.items():
        found[table] = sorted(folder.glob(name)) if _GLOB.search(name) else [folder / name]
        if not found[table]:
            found[table] = [folder / name]  # load_table says no file matches
    claimed = {p for paths in found.values() for p in paths}
    for table, stems in FILE_STEMS.items():
        if table in found:
            continue
        matches = [p for p in candidates if p not in claimed and _named_for(p.stem, stems)]
        if matches:
            found[table] = matches
            claimed.update(matches)
    return found, [p for p in candidates if p not in claimed]


def table_named(path: Path) -> str | None:
    """The table a file's name says it holds (收费明细2024.csv → charges), if any."""
    return next((table for table, stems in FILE_STEMS.items() if _named_for(path.stem, stems)), None)


def _named_for(stem: str, stems: tuple[str, ...]) -> bool:
    stem = stem.lower()
    return any(stem.startswith(s) and _NAME_SUFFIX.match(stem[len(s):]) for s in stems)


def load_table(paths: Path | str | list[Path], table_name: str, config: ClinicConfig | None = None) -> TableLoad:
    """Read a table's export files (or one) into its canonical table. Problems are recorded on the
    result, never raised."""
    table = schema.TABLES[table_name]
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    load = TableLoad(table_name, paths=[Path(p) for p in paths])
    try:
        _load_into(load, table, config)
    except PlaybookError as exc:
        load.errors.append(exc)
        load.data = None
    except OSError as exc:  # locked by Excel, no permission
        load.errors.append(FileFormatError(f"cannot be opened ({exc.strerror or type(exc).__name__})",
                                           path=exc.filename or load.path,
                                           fix="close the file in Excel or WPS, check it can be read, and run again"))
        load.data = None
    except Exception as exc:  # noqa: BLE001  a file shaped like nothing foreseen: exit 2 naming it, never a traceback
        load.errors.append(FileFormatError(
            f"cannot be read as the {table_name} table ({type(exc).__name__})", path=load.path,
            fix="open it in Excel, save it again as .xlsx or CSV, and run again; if it still fails, send the file's "
                "header row (not its data) to the playbook's maintainers"))
        load.data = None
    return load


def _load_into(load: TableLoad, table: schema.Table, config: ClinicConfig | None) -> None:
    aliases = header_aliases(table, config)
    frames = []
    for path in load.paths:
        _check_file(path, table)
        grids, skipped = readers.read_grids(path, aliases)
        load.skipped += [(path, s) for s in skipped]
        for grid in _table_grids(load, table, path, grids, aliases):
            frames.append(_read_part(load, table, config, path, grid, aliases))
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
    load.data_rows = len(data)
    data = _fold_refunds(load, data)
    incomplete = data[table.required].isna().any(axis=1)
    data = load.drop("incomplete", data, incomplete, fix=_first_row_only(load, table, data, incomplete),
                     column=", ".join(load.header_of(c) for c in table.required if data.loc[incomplete, c].isna().any()))
    data = _drop_duplicates(load, table, data)
    if table.key:
        _check_unique(load, data, table.key)
    load.data = data[[c.name for c in table.columns] + ["source_row", "source_part"]].reset_index(drop=True)


def _first_row_only(load: TableLoad, table: schema.Table, data: pd.DataFrame, incomplete: pd.Series) -> str | None:
    """The fix when the rows lack values their group's first row holds (a grouped print layout: a
    receipt's number, patient and time on its first line only), else None (the generic fix)."""
    if incomplete.mean() < 0.5:
        return None
    missing = [c for c in table.required if data.loc[incomplete, c].isna().all()]
    filled = [c for c in table.required if c not in missing]
    grouped = missing and filled and data.loc[incomplete, filled].notna().all(axis=None) and \
        data.loc[~incomplete, missing].notna().all(axis=None)
    if not grouped:
        return None
    headers = "、".join(load.header_of(c) for c in missing)
    return (f"{headers} are written only on the first row of each group (a grouped layout): fill them down to "
            f"every row (Excel: select the columns, Go To Special → Blanks, type = and the cell above, Ctrl+Enter), "
            f"or export the detail list from the clinic system without grouping")


def _check_file(path: Path, table: schema.Table) -> None:
    if not path.is_file():
        raise MissingTableError(f"clinic.yaml names {path.name} for the {table.name} table, but there is no such file",
                                path=path, fix="put the file in the clinic folder, or correct its name under files: "
                                               "in clinic.yaml")
    if path.stat().st_size == 0:
        raise FileFormatError("the file is empty (0 bytes)", path=path, fix="export the table again")


def _table_grids(load: TableLoad, table: schema.Table, path: Path, grids: list[readers.Grid],
                 aliases: dict[str, str]) -> list[readers.Grid]:
    """The sheets that hold the table (a header naming every required column); the others are listed
    as not read. With none, the best sheet's missing column is the error."""
    def missing(grid):
        named = {aliases.get(normalize_header(h)) for h in grid.headers}
        return [c for c in table.required if c not in named]

    full = [g for g in grids if not missing(g)]
    if not full:
        best = max(grids, key=lambda g: readers.header_score(g.headers, aliases))
        column = missing(best)[0]
        raise MissingColumnError(path, column, [h for h in best.headers if h], table=table.name,
                                 header_hint=" or ".join(table.column(column).headers[:3]), sheet=best.sheet)
    load.skipped += [(path, readers.Skipped(g.sheet, f"its header lacks {', '.join(missing(g))}",
                                            f"表头缺少{'、'.join(table.column(c).zh for c in missing(g))}"))
                     for g in grids if missing(g)]
    return full


def _read_part(load: TableLoad, table: schema.Table, config: ClinicConfig | None, path: Path, grid: readers.Grid,
               aliases: dict[str, str]) -> pd.DataFrame:
    part = Part(path, grid.sheet, grid.encoding, grid.header_row, hidden_sheet=grid.hidden_sheet,
                hidden_rows=grid.hidden_rows, merged_cells=grid.merged_cells, delimiter=grid.delimiter)
    index = len(load.parts)
    load.parts.append(part)
    columns, repeats, personal = _map_headers(load, part, grid, aliases)
    frame = grid.frame.drop(columns=personal)  # never read, not even to judge a row
    scan = [c for c in frame.columns if columns.get(c) is None or not table.column(columns[c]).pii]
    reasons, header_rows, footer_texts = nondata.classify(frame, grid.headers, scan)
    _check_pasted_headers(part, frame, grid, header_rows, scan)
    for reason, mask in reasons.items():
        if mask.any():
            load.dropped.append(Dropped(reason, path, grid.sheet, grid.rows[mask].tolist()))
    found = nondata.export_date(grid.titles + footer_texts)
    if found is not None:
        load.export_date = max(found, load.export_date) if load.export_date is not None else found
    keep = ~np.logical_or.reduce(list(reasons.values()))
    frame, rows = frame[keep], grid.rows[keep]
    if frame.empty:
        raise FileFormatError("the file has a header but no data rows", path=path, sheet=grid.sheet,
                              fix="export the table again with its rows")
    _check_repeated_columns(load, part, table, frame, rows, grid.headers, repeats, columns)

    data = pd.DataFrame(index=frame.index)
    for position, column in columns.items():
        data[column] = _parse_column(load, part, table, config, frame[position], rows, column, grid.headers[position])
    for column in table.columns:  # absent optional columns exist, empty, so analyses can test .has()
        if column.name not in data:
            data[column.name] = pd.Series(None, index=data.index, dtype=EMPTY_DTYPE[column.kind])
    data["source_row"] = rows
    data["source_part"] = index
    part.rows = len(data)
    return data


def _map_headers(load: TableLoad, part: Part, grid: readers.Grid, aliases: dict[str, str]):
    """position -> canonical column; the repeats of a column already mapped (position, first position);
    and the positions of personal data never read."""
    columns: dict[int, str] = {}
    repeats: list[tuple[int, int]] = []
    personal: list[int] = []
    for position, header in enumerate(grid.headers):
        if not header:
            values = int(grid.frame[position].notna().sum())
            if values:
                load.notes.append(PlaybookError(
                    f"column {_letter(position)} has no header; its {i18n.counted(values, 'value was', 'values were')} not read",
                    path=part.path, sheet=part.sheet, fix="give the column a header if it holds something the playbook "
                                                          "needs (see schema: 病历号, 预约时间, 实收金额 …)",
                    zh=f"第{_letter(position)}列没有表头，其中 {values} 个值未读取"))
            continue
        key = normalize_header(header)
        column = aliases.get(key)
        if column in columns.values():
            repeats.append((position, next(p for p, c in columns.items() if c == column)))
        elif column:
            columns[position] = column
            load.mapping.setdefault(header, column)
        elif key in {normalize_header(h) for h in schema.DROPPED_PII_HEADERS} or any(
                w in key for w in schema.PERSONAL_HEADER_WORDS):
            load.personal_data[header] = "dropped"
            personal.append(position)
        elif header not in load.unrecognised:
            load.unrecognised.append(header)
    return columns, repeats, personal


def _letter(position: int) -> str:
    """Excel's name of a column: 0 → A, 26 → AA."""
    name = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        name = chr(65 + rest) + name
    return name


def _check_pasted_headers(part: Part, frame: pd.DataFrame, grid: readers.Grid, header_rows: list[int], scan) -> None:
    """A header repeated inside the table (two exports pasted together) must name the same columns in
    the same places, or the rows under it would be read into the wrong columns."""
    for position in header_rows:
        cells = frame.iloc[position]
        moved = [c for c in scan if isinstance(cells[c], str) and grid.headers[c]
                 and normalize_header(cells[c]) != normalize_header(grid.headers[c])]
        if moved:
            row = int(grid.rows[position])
            raise FileFormatError(
                f"the header repeated at row {row} (an export pasted below another) has its columns in another order "
                f"(column {_letter(moved[0])} is {cells[moved[0]]!r} there, {grid.headers[moved[0]]!r} at the top)",
                path=part.path, sheet=part.sheet, rows=[row],
                fix="paste exports with the same columns in the same order, or keep each export in its own file "
                    "(收费明细2024.csv, 收费明细2025.csv): files of one table are stacked")


def _check_repeated_columns(load: TableLoad, part: Part, table: schema.Table, frame: pd.DataFrame, rows: np.ndarray,
                            headers: list[str], repeats: list[tuple[int, int]], columns: dict[int, str]) -> None:
    """A header that appears twice: a second personal-data column is never read; a second copy with the
    same values is read once; two columns that disagree are an error when the playbook needs them."""
    for position, first in repeats:
        column = table.column(columns[first])
        name = f"{headers[position]} ({_letter(position)})"
        if column.pii:
            load.personal_data[name] = "dropped"
            continue
        differ = ~(frame[position].eq(frame[first]) | (frame[position].isna() & frame[first].isna()))
        if not differ.any():
            load.notes.append(PlaybookError(
                f"the header {headers[position]!r} appears twice (columns {_letter(first)} and {_letter(position)}) "
                f"with the same values: read once", path=part.path, sheet=part.sheet, column=headers[position],
                zh=f"表头“{headers[position]}”出现两次（第{_letter(first)}列和第{_letter(position)}列），内容相同，只读取一次"))
            continue
        problem = PlaybookError(
            f"the header {headers[position]!r} appears twice (columns {_letter(first)} and {_letter(position)}) with "
            f"different values in {i18n.counted(int(differ.sum()), 'row')}; column {_letter(first)} is read",
            path=part.path, sheet=part.sheet, column=headers[position], rows=rows[differ.to_numpy()].tolist(),
            fix=f"delete the column that is wrong, or rename one and map it in clinic.yaml: "
                f"headers: {{{table.name}: {{<new header>: {column.name}}}}}",
            zh=f"表头“{headers[position]}”出现两次，且有 {int(differ.sum())} 行取值不同；请删除错误的一列或重命名")
        (load.errors if column.required else load.warnings).append(problem)


def _parse_column(load: TableLoad, part: Part, table: schema.Table, config: ClinicConfig | None, raw: pd.Series,
                  rows: np.ndarray, column: str, header: str) -> pd.Series:
    spec = table.column(column)
    if spec.kind == schema.STATUS:
        values = {**table.values.get(column, {}), **(config.values.get(table.name, {}).get(column, {}) if config else {})}
        parsed, invalid = parsing.parse_status(raw, values)
        _count_words(load, column, raw, parsed)
    elif spec.kind == schema.DATE:
        parsed, invalid = parsing.parse_dates(raw, config.timezone if config else parsing.DEFAULT_TIME_ZONE)
    else:
        parsed, invalid = parsing.PARSERS[spec.kind](raw)
    if invalid.any():
        expected, expected_zh, fix = parsing.EXPECTED[spec.kind]
        if spec.kind == schema.STATUS:
            known = "、".join(dict.fromkeys(k for k in values if not k.isascii()))
            fix = f"use one of {known}, or map the other words in clinic.yaml: values: {{{table.name}: {{{column}: {{<word>: <value>}}}}}}"
        examples = [] if spec.pii else raw[invalid].astype(str).drop_duplicates().tolist()
        problem = InvalidValuesError(part.path, header, rows[invalid.to_numpy()].tolist(), examples, expected=expected,
                                     fix=fix, expected_zh=expected_zh, sheet=part.sheet)
        # A bad cell in a column the playbook needs stops the run; elsewhere the cell is left empty.
        (load.errors if spec.required else load.warnings).append(problem)
    if spec.kind == schema.AMOUNT:
        unit = readers.amount_unit(header)
        if unit and unit[1] != 1.0:
            parsed = parsed * unit[1]
            if header not in load.units:
                load.notes.append(PlaybookError(
                    f"amounts in {unit[0]}, as the header says: read as yuan × {unit[1]:,g}", path=part.path,
                    sheet=part.sheet, column=header, zh=f"表头注明单位为{unit[0]}：已换算为元（× {unit[1]:,g}）"))
            load.units[header] = unit[0]
    if spec.pii:
        load.personal_data[header] = "masked"
        parsed = privacy.mask_column(parsed, column)
    return parsed


def _count_words(load: TableLoad, column: str, raw: pd.Series, parsed: pd.Series) -> None:
    """Which words of a status column were read as what, and how often (the audit lists them)."""
    counted = load.words.setdefault(column, {})
    for (word, value), n in pd.DataFrame({"word": raw, "value": parsed}).value_counts().items():
        word = parsing.normalize_text(str(word))
        counted[word] = (value, counted.get(word, ("", 0))[1] + int(n))


def _fold_refunds(load: TableLoad, data: pd.DataFrame) -> pd.DataFrame:
    """Refunds as the contract counts them, negative amounts: a 退费金额 column is subtracted from the
    line's 实收金额 (empty there: 0), and a line marked 退费 in a 收支类型 column is made negative."""
    if load.has("refund"):
        refund = data["refund"].abs()
        given = refund.fillna(0) > 0
        if given.any():
            data.loc[given & data["amount_paid"].isna(), "amount_paid"] = 0.0
            data["amount_paid"] = data["amount_paid"] - refund.fillna(0)
            total = float(refund[given].sum())
            load.notes.append(PlaybookError(
                f"{i18n.counted(int(given.sum()), 'refund')} in column {load.header_of('refund')!r}, {total:,.2f} yuan in all, "
                f"subtracted from {load.header_of('amount_paid')!r} (revenue counts refunds as negative amounts)",
                path=load.path, column=load.header_of("refund"),
                zh=f"“{load.header_of('refund')}”列有 {int(given.sum())} 笔退费，共 {total:,.2f} 元，已从"
                   f"“{load.header_of('amount_paid')}”中扣除（营业额按退费为负数计）"))
    if load.has("charge_kind"):
        refund_line = data["charge_kind"] == "refund"
        if refund_line.any():
            data.loc[refund_line, "amount_paid"] = -data.loc[refund_line, "amount_paid"].abs()
            load.notes.append(PlaybookError(
                f"{i18n.counted(int(refund_line.sum()), 'line')} marked as refunds in column {load.header_of('charge_kind')!r} "
                f"counted as negative amounts", path=load.path, column=load.header_of("charge_kind"),
                zh=f"“{load.header_of('charge_kind')}”列标为退费的 {int(refund_line.sum())} 行按负数计入"))
    return data


def _drop_duplicates(load: TableLoad, table: schema.Table, data: pd.DataFrame) -> pd.DataFrame:
    """Exact duplicates: the same record exported twice. A table with an id keeps one of the rows that
    repeat an id with the same content. Charges repeat receipts: a receipt whose lines come again, as a
    block of their own elsewhere in the file or in another file, is a second export of it; identical
    lines inside one receipt (two fillings at one price) are data. A file or sheet that holds only
    duplicates is the table given twice, an error.

    Rows are hashed only where a repeat is possible (a repeated id, a receipt in two places, two files),
    so a clean export costs next to nothing."""
    columns = [c.name for c in table.columns]
    repeated = pd.Series(False, index=data.index)
    if table.key:
        suspects = data[table.key].notna() & data[table.key].duplicated(keep=False)
    elif table.name == "charges":
        key, run = _receipt_runs(data)
        firsts = key[run.ne(run.shift())]
        suspects = key.isin(firsts[firsts.duplicated()])  # receipts in more than one run
    else:  # monthly costs, targets: only a row an earlier file or sheet already gave
        suspects = pd.Series(len(load.parts) > 1, index=data.index)
    if suspects.any():
        rows = data[suspects]
        content = pd.util.hash_pandas_object(rows[columns], index=False)
        if table.key:
            repeated[suspects] = content.duplicated().to_numpy()
        elif table.name == "charges":
            repeated[suspects] = _repeated_runs(key[suspects], run[suspects], content).to_numpy()
        else:
            earliest = rows.groupby(content.to_numpy())["source_part"].transform("min")
            repeated[suspects] = (content.duplicated().to_numpy() & (earliest < rows["source_part"]).to_numpy())
    if len(load.parts) > 1:
        for index, part in enumerate(load.parts):
            in_part = data["source_part"] == index
            if in_part.any() and repeated[in_part].all():
                others = ", ".join(p.label for p in load.parts if p is not part)
                raise FileFormatError(
                    f"every row of {part.label} is also in {others}: the {table.name} table is given twice",
                    path=part.path, sheet=part.sheet, rows=data.loc[in_part, "source_row"].head(5).tolist(),
                    fix=("delete the sheet that repeats the others" if part.sheet else
                         f"remove the copy from the clinic folder, or name the one file to read in clinic.yaml: "
                         f"files: {{{table.name}: {load.parts[0].path.name}}}"))
    return load.drop("duplicate", data, repeated)


def _receipt_runs(data: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each row's receipt (its number; without one, its patient and payment time) and run: a run is a
    block of consecutive rows of one receipt in one file."""
    key = pd.Series(pd.factorize(data["charge_id"])[0], index=data.index)
    missing = key < 0
    if missing.any():
        pairs = pd.factorize(pd.MultiIndex.from_frame(data.loc[missing, ["patient_id", "paid_at"]]))[0]
        key[missing] = -1 - pairs
    start = (key != key.shift()) | (data["source_part"] != data["source_part"].shift())
    return key, start.cumsum()


def _repeated_runs(key: pd.Series, run: pd.Series, content: pd.Series) -> pd.Series:
    """Rows of a receipt's second (third …) export: runs whose lines equal an earlier run's."""
    hashes = content.to_numpy()  # summed in two halves, so a run's sum cannot overflow
    low, high = (hashes & np.uint64(0xFFFFFFFF)).astype("int64"), (hashes >> np.uint64(32)).astype("int64")
    runs = pd.DataFrame({"key": key.to_numpy(), "low": low, "high": high}, index=key.index).groupby(run).agg(
        key=("key", "first"), n=("low", "size"), low=("low", "sum"), high=("high", "sum"))
    return run.map(runs.duplicated()).astype(bool)


def _check_unique(load: TableLoad, data: pd.DataFrame, key: str) -> None:
    repeated = data[key].notna() & data[key].duplicated(keep=False)
    if repeated.any():
        for part, rows in load.where(data, repeated):
            in_part = repeated & (data["source_row"].isin(rows)) & (data["source_part"] == load.parts.index(part))
            load.errors.append(DuplicateIdError(part.path, load.header_of(key), rows,
                                                data.loc[in_part, key].drop_duplicates().tolist(), sheet=part.sheet))

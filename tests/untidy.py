"""Untidy and broken exports of the general sample clinic, one quirk each, as clinic systems and people
editing exports in Excel or WPS make them (issue 13).

The clean source is the general sample as `playbook sample general` writes it (the same generator, seed
and export layout as data_samples/general_clinic), at 30% of its size so that some sixty loads stay fast.

Each `Variant` rewrites one thing in a copy of the sample's exports and says what the playbook must
do with it:

- ``same``: read right, the headline KPIs equal the clean sample's;
- ``stop``: exit 2 with the file, the fix and, where they exist, the column and the rows;
- ``flagged``: the KPIs are in doubt and the report's first page says so, with the size;
- ``warned``: the audit warns and shows the clinic.yaml line that fixes it.

As a script it writes every variant into a folder, to look at or to run:

    python tests/untidy.py /tmp/untidy          # one clinic folder per variant
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from playbook.synth import write_sample  # noqa: E402

SCALE = 0.3
# The headline KPIs need these; costs are here for the unit quirk.
BASE_FILES = ("patients.xlsx", "visits.csv", "charges.csv", "costs.xlsx")
CONFIG = """clinic_id: untidy
name: 示例综合口腔门诊
period:
  start: 2024-01-01
  end: 2025-12-31
lang: zh
"""
CHARGES, VISITS, PATIENTS = "charges.csv", "visits.csv", "patients.xlsx"
ENCODING = {CHARGES: "utf-8-sig", VISITS: "gb18030"}  # as data_samples/README.md says they are written
# charges: 收费单号,预约编号,病历号,收费时间,项目名称,标准价,实收金额,医生,是否指定
C_ID, C_VISIT, C_PATIENT, C_PAID, C_ITEM, C_LIST, C_AMOUNT = range(7)
# visits: 预约编号,病历号,预约时间,到诊状态,初复诊,科室,医生,咨询师,椅位
V_ID, V_PATIENT, V_AT, V_STATUS = range(4)
# patients.xlsx, row 3 is the header: 病历号,姓名,性别,出生年份,手机号,家庭住址,首诊日期,来源渠道,推荐人病历号,会员,客户等级
P_HEADER_ROW, P_ID, P_NAME, P_PHONE, P_ADDRESS, P_FIRST, P_CHANNEL, P_REFERRER = 3, 1, 2, 5, 6, 7, 8, 9


@dataclass(frozen=True)
class Variant:
    name: str
    quirk: str  # rows, layout, values, duplicates, coverage, health, personal, referral, files
    outcome: str  # same, stop, flagged, warned
    build: Callable[[Path], None]
    expect: tuple[str, ...] = ("path", "fix")  # for a stop: what the error must name besides
    slow: bool = False  # also run through the whole pipeline


VARIANTS: list[Variant] = []


def variant(quirk: str, outcome: str, expect: tuple[str, ...] = ("path", "fix")):
    def register(build):
        VARIANTS.append(Variant(build.__name__, quirk, outcome, build, expect))
        return build
    return register


def write_source(folder: Path) -> Path:
    """The clean general sample, exported as its generator exports it."""
    write_sample("general", folder, seed=7, scale=SCALE)
    return folder


def write_base(folder: Path, source: Path, *, files=BASE_FILES) -> Path:
    """A copy of the source's exports, found by their names (no ``files:`` in clinic.yaml)."""
    folder.mkdir(parents=True)
    for name in files:
        shutil.copy2(source / name, folder / name)
    (folder / "clinic.yaml").write_text(CONFIG, encoding="utf-8")
    return folder


# --- reading and writing the exports as they are ---------------------------------------------------

def read_rows(path: Path, encoding: str | None = None) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding=encoding or ENCODING[path.name]))))


def write_rows(path: Path, rows: list[list[str]], encoding: str, delimiter: str = ",") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding=encoding)


def split_export(rows: list[list[str]]) -> tuple[list, list, list, list]:
    """(title rows, header, data rows, rows after the data): the sample's charges end with a totals row."""
    header = next(i for i, r in enumerate(rows) if r and r[0] in ("收费单号", "预约编号"))
    data_end = max(i for i, r in enumerate(rows) if r and r[0][:2] in ("SF", "YY"))
    return rows[:header], rows[header], rows[header + 1:data_end + 1], rows[data_end + 1:]


def edit_csv(folder: Path, name: str, change: Callable[[list, list, list, list], list[list[str]]]) -> None:
    path = folder / name
    write_rows(path, change(*split_export(read_rows(path))), ENCODING[name])


def is_data(row: list[str]) -> bool:
    return bool(row) and row[0][:2] in ("SF", "YY")


def yuan(cell: str) -> float:
    """¥1,234.50, ¥-500.00 and ￥６００.００ (the sample has a few full-width ones) as a number."""
    return float(unicodedata.normalize("NFKC", cell).replace("¥", "").replace(",", ""))


def money(value: float) -> str:
    return f"¥{value:,.2f}"


def receipts(data: list[list[str]]) -> list[list[list[str]]]:
    """The charge lines grouped by receipt, in file order (the blank spacer row stays with its receipt)."""
    groups: list[list[list[str]]] = []
    for row in data:
        if groups and (not is_data(row) or row[C_ID] == groups[-1][0][C_ID]):
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def patients_book(folder: Path):
    return load_workbook(folder / PATIENTS)


def patient_rows(sheet) -> range:
    return range(P_HEADER_ROW + 1, sheet.max_row + 1)


def set_config(folder: Path, old: str, new: str) -> None:
    path = folder / "clinic.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# --- rows that are not data ---------------------------------------------------------------------------

@variant("rows", "same")
def subtotal_after_each_receipt(folder):
    """本单小计 after every receipt, with its receipt number, patient and time: counted, revenue doubles."""
    def change(titles, header, data, tail):
        out = []
        for lines in receipts(data):
            out += lines
            first = lines[0]
            total = sum(yuan(r[C_AMOUNT]) for r in lines if is_data(r))
            out.append([first[C_ID], "", first[C_PATIENT], first[C_PAID], "本单小计", "", money(total), "", ""])
        return titles + [header] + out + tail
    edit_csv(folder, CHARGES, change)


@variant("rows", "same")
def daily_subtotals_with_colon(folder):
    """小计： in the first column after each day's charges."""
    def change(titles, header, data, tail):
        out, day, total = [], None, 0.0
        for row in data:
            if is_data(row) and day and row[C_PAID][:10] != day:
                out.append(["小计：", "", "", "", "", "", money(total), "", ""])
                total = 0.0
            if is_data(row):
                day, total = row[C_PAID][:10], total + yuan(row[C_AMOUNT])
            out.append(row)
        return titles + [header] + out + [["小计：", "", "", "", "", "", money(total), "", ""]] + tail
    edit_csv(folder, CHARGES, change)


@variant("rows", "same")
def year_total_in_the_middle(folder):
    """2023年合计 between the 2023 and the 2024 charges."""
    def change(titles, header, data, tail):
        cut = next(i for i, r in enumerate(data) if is_data(r) and r[C_PAID] >= "2024")
        total = sum(yuan(r[C_AMOUNT]) for r in data[:cut] if is_data(r))
        return titles + [header] + data[:cut] + [["2023年合计", "", "", "", "", "", money(total), "", ""]] + data[cut:] + tail
    edit_csv(folder, CHARGES, change)


@variant("rows", "same")
def footer_rows(folder):
    """制表人：, 打印时间： and a page number under the totals row."""
    def change(titles, header, data, tail):
        return titles + [header] + data + tail + [["制表人：王会计", "", "", "", "", "", "", "", ""],
                                                  ["打印时间：2026-01-04 10:12", "", "", "", "", "", "", "", ""],
                                                  ["第1页/共1页"]]
    edit_csv(folder, CHARGES, change)


@variant("rows", "same")
def two_exports_pasted(folder):
    """2022-2023 and 2024-2025 exported apart and pasted into one file: the second export's title rows
    and header in the middle."""
    def change(titles, header, data, tail):
        cut = next(i for i, r in enumerate(data) if is_data(r) and r[C_PAID] >= "2024")
        return (titles + [header] + data[:cut] + [["收费明细表 2024年1月-2025年12月"] + [""] * 8] + [[""] * 9]
                + [header] + data[cut:] + tail)
    edit_csv(folder, CHARGES, change)


@variant("rows", "same")
def header_repeated_in_a_sheet(folder):
    """The patients' header row again halfway down the sheet."""
    book = patients_book(folder)
    sheet = book.active
    middle = sheet.max_row // 2
    header = [c.value for c in sheet[P_HEADER_ROW]]
    sheet.insert_rows(middle)
    for column, value in enumerate(header, start=1):
        sheet.cell(middle, column, value)
    book.save(folder / PATIENTS)


@variant("rows", "stop", ("path", "rows", "fix"))
def pasted_export_in_another_column_order(folder):
    """A second visits export pasted below the first, its columns in another order: it cannot be read
    into the first one's columns."""
    def change(titles, header, data, tail):
        cut = len(data) // 2
        swap = lambda r: [r[1], r[0], *r[2:]]  # noqa: E731
        return titles + [header] + data[:cut] + [swap(header)] + [swap(r) for r in data[cut:]] + tail
    edit_csv(folder, VISITS, change)


# --- layouts -----------------------------------------------------------------------------------------

@variant("layout", "same")
def receipts_merged_in_xlsx(folder):
    """charges.xlsx with each receipt's number, visit, patient and time merged down its item lines."""
    from openpyxl import Workbook
    from openpyxl.worksheet.cell_range import MultiCellRange

    titles, header, data, tail = split_export(read_rows(folder / CHARGES))
    (folder / CHARGES).unlink()
    book = Workbook()
    sheet = book.active
    sheet.title = "收费明细"
    sheet.append(titles[0][:1])
    sheet.append(header)
    merged, row = [], 3
    for lines in receipts(data):
        lines = [r for r in lines if is_data(r)]
        for i, line in enumerate(lines):  # a merged range keeps its value in its first cell only
            receipt = line[:C_ITEM] if i == 0 else [None] * C_ITEM
            sheet.append([*receipt, *line[C_ITEM:C_LIST], yuan(line[C_LIST]), yuan(line[C_AMOUNT]), *line[C_AMOUNT + 1:]])
        if len(lines) > 1:
            merged += [f"{letter}{row}:{letter}{row + len(lines) - 1}" for letter in "ABCD"]
        row += len(lines)
    sheet.merged_cells = MultiCellRange(merged)  # at once: openpyxl's merge_cells checks each against all
    book.save(folder / "charges.xlsx")


@variant("layout", "same")
def hidden_rows(folder):
    """Thirty patients' rows hidden in Excel: still data."""
    book = patients_book(folder)
    for row in range(100, 130):
        book.active.row_dimensions[row].hidden = True
    book.save(folder / PATIENTS)


def _patients_by_year(folder: Path, extra: Callable | None = None) -> None:
    book = patients_book(folder)
    sheet = book.active
    header = [c.value for c in sheet[P_HEADER_ROW]]
    years: dict[str, list] = {}
    for row in sheet.iter_rows(min_row=P_HEADER_ROW + 1, values_only=True):
        years.setdefault(str(row[P_FIRST - 1])[:4], []).append(row)
    for year in sorted(years):
        part = book.create_sheet(f"{year}年" if year[0].isdigit() else "首诊日期不详")
        part.append([f"患者档案 {part.title}"])
        part.append(header)
        for row in years[year]:
            part.append(row)
    book.remove(sheet)
    if extra:
        extra(book)
    book.save(folder / PATIENTS)


@variant("layout", "same")
def one_sheet_per_year(folder):
    """The patients workbook with one sheet per year of first visit, each with its own header."""
    _patients_by_year(folder)


@variant("layout", "same")
def sheets_per_year_and_a_summary(folder):
    """Year sheets, plus a summary sheet and a hidden lookup sheet that are not the table."""
    def extra(book):
        summary = book.create_sheet("汇总", 0)
        summary.append(["来源渠道", "患者数"])
        summary.append(["抖音", 862])
        lookup = book.create_sheet("字典")
        lookup.append(["性别"])
        lookup.append(["男"])
        lookup.sheet_state = "hidden"
    _patients_by_year(folder, extra)


@variant("layout", "same")
def one_file_per_year(folder):
    """收费明细2022.csv … 收费明细2025.csv, each with its own title rows and header."""
    titles, header, data, tail = split_export(read_rows(folder / CHARGES))
    (folder / CHARGES).unlink()
    rows = [r for r in data if is_data(r)]
    for year in ("2022", "2023", "2024", "2025"):
        write_rows(folder / f"收费明细{year}.csv", [[f"收费明细表 {year}年"] + [""] * 8, header]
                   + [r for r in rows if r[C_PAID].startswith(year)], "utf-8-sig")


@variant("layout", "stop", ("path", "rows", "fix"))
def the_same_table_twice(folder):
    """charges.csv and 收费明细.csv, the same export under two names."""
    shutil.copy2(folder / CHARGES, folder / "收费明细.csv")


@variant("layout", "same")
def overlapping_exports(folder):
    """Two exports whose dates overlap (2022-01..2024-06 and 2024-01..2025-12): the overlap's receipts are
    in both files."""
    titles, header, data, tail = split_export(read_rows(folder / CHARGES))
    (folder / CHARGES).unlink()
    rows = [r for r in data if is_data(r)]
    write_rows(folder / "收费明细2022-2024.csv", [header] + [r for r in rows if r[C_PAID] < "2024-07"], "utf-8-sig")
    write_rows(folder / "收费明细2024-2025.csv", [header] + [r for r in rows if r[C_PAID] >= "2024-01"], "utf-8-sig")


@variant("layout", "same")
def group_header_row_above_the_header(folder):
    """A group header over the real one, which leaves its first cell to the row above."""
    def change(titles, header, data, tail):
        group = ["收费单号", "单据信息", "", "", "收费信息", "", "", "医生信息", ""]
        return titles + [group, ["", *header[1:]]] + data + tail
    edit_csv(folder, CHARGES, change)


@variant("layout", "same")
def merged_group_header_in_xlsx(folder):
    """A merged group header (基本信息, 就诊信息) over the patients' header, 病历号 merged down both rows."""
    book = patients_book(folder)
    sheet = book.active
    sheet.insert_rows(P_HEADER_ROW)
    sheet.cell(P_HEADER_ROW, 1, "病历号")
    sheet.cell(P_HEADER_ROW + 1, 1, None)
    sheet.merge_cells(start_row=P_HEADER_ROW, start_column=1, end_row=P_HEADER_ROW + 1, end_column=1)
    sheet.cell(P_HEADER_ROW, 2, "基本信息")
    sheet.merge_cells(start_row=P_HEADER_ROW, start_column=2, end_row=P_HEADER_ROW, end_column=6)
    sheet.cell(P_HEADER_ROW, 7, "就诊信息")
    sheet.merge_cells(start_row=P_HEADER_ROW, start_column=7, end_row=P_HEADER_ROW, end_column=11)
    book.save(folder / PATIENTS)


@variant("layout", "same")
def two_phone_columns(folder):
    """A second 手机号 column (the family's contact), as some systems export it."""
    book = patients_book(folder)
    sheet = book.active
    column = sheet.max_column + 1
    sheet.cell(P_HEADER_ROW, column, "手机号")
    for i, row in enumerate(patient_rows(sheet)):
        sheet.cell(row, column, f"137{i:08d}")
    book.save(folder / PATIENTS)


@variant("layout", "stop", ("path", "column", "rows", "fix"))
def two_amount_columns_that_disagree(folder):
    """实收金额 twice, the second before a discount: which is revenue cannot be guessed."""
    def change(titles, header, data, tail):
        add = lambda r, v: r + [v]  # noqa: E731
        return (titles + [add(header, "实收金额")] + [add(r, r[C_LIST]) if is_data(r) else r for r in data] + tail)
    edit_csv(folder, CHARGES, change)


@variant("layout", "same")
def a_column_twice_with_the_same_values(folder):
    """到诊状态 twice, identical."""
    def change(titles, header, data, tail):
        return titles + [header + [header[V_STATUS]]] + [r + [r[V_STATUS]] for r in data] + tail
    edit_csv(folder, VISITS, change)


@variant("layout", "same")
def a_column_without_header(folder):
    """Notes typed in the column after the last header: rows one cell longer than the header."""
    def change(titles, header, data, tail):
        return titles + [header] + [r + (["改期"] if i % 50 == 0 else []) for i, r in enumerate(data)] + tail
    edit_csv(folder, VISITS, change)


@variant("layout", "same")
def tab_separated(folder):
    path = folder / VISITS
    write_rows(path, read_rows(path), ENCODING[VISITS], delimiter="\t")


@variant("layout", "same")
def semicolon_separated(folder):
    path = folder / CHARGES
    write_rows(path, read_rows(path), ENCODING[CHARGES], delimiter=";")


@variant("layout", "same")
def old_xls_format(folder):
    """patients.xls in the Excel 97-2003 format."""
    import xlwt

    source = patients_book(folder).active
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("患者档案")
    for r, row in enumerate(source.iter_rows(values_only=True)):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else value)
    (folder / PATIENTS).unlink()
    book.save(str(folder / "patients.xls"))


@variant("layout", "same")
def text_saved_as_xls(folder):
    """visits.xls that is UTF-16 tab-separated text, as some systems' 'Excel export' writes."""
    rows = read_rows(folder / VISITS)
    (folder / VISITS).unlink()
    write_rows(folder / "visits.xls", rows, "utf-16", delimiter="\t")


@variant("layout", "stop")
def web_page_saved_as_xls(folder):
    """charges.xls that is an HTML table: the message says how to save it as a workbook."""
    (folder / CHARGES).unlink()
    (folder / "charges.xls").write_text("<html><body><table><tr><td>收费单号</td><td>实收金额</td></tr></table></body></html>",
                                        encoding="utf-8")


# --- values ------------------------------------------------------------------------------------------

@variant("values", "same")
def costs_in_wan_yuan(folder):
    """Monthly costs headed 金额（万元）: 3.2 means 32,000 yuan."""
    book = load_workbook(folder / "costs.xlsx")
    sheet = book.active
    column = next(c.column for c in sheet[1] if c.value == "金额")
    sheet.cell(1, column, "金额（万元）")
    for row in range(2, sheet.max_row + 1):
        value = sheet.cell(row, column).value
        if isinstance(value, (int, float)):
            sheet.cell(row, column, value / 10_000)
    book.save(folder / "costs.xlsx")


@variant("values", "same")
def charges_in_thousand_yuan(folder):
    """标准价（千元） and 实收金额（千元）."""
    def change(titles, header, data, tail):
        header = [*header[:C_LIST], "标准价（千元）", "实收金额（千元）", *header[C_AMOUNT + 1:]]
        thousand = lambda c: repr(yuan(c) / 1000)  # noqa: E731
        data = [[*r[:C_LIST], thousand(r[C_LIST]), thousand(r[C_AMOUNT]), *r[C_AMOUNT + 1:]] if is_data(r) else r
                for r in data]
        return titles + [header] + data + tail[:-1]  # the totals row was in yuan
    edit_csv(folder, CHARGES, change)


@variant("values", "same")
def amounts_written_with_yuan(folder):
    """1234元 and 1,234.5 元."""
    def change(titles, header, data, tail):
        out = []
        for i, r in enumerate(data):
            if is_data(r):
                value = yuan(r[C_AMOUNT])
                r = [*r[:C_AMOUNT], f"{value:.2f}元" if i % 2 else f"{value:,.2f} 元", *r[C_AMOUNT + 1:]]
            out.append(r)
        return titles + [header] + out + tail
    edit_csv(folder, CHARGES, change)


@variant("values", "same")
def refunds_in_their_own_column(folder):
    """退费金额 holds the refunds (positive), 实收金额 is empty on those lines."""
    def change(titles, header, data, tail):
        out = []
        for r in data:
            if is_data(r):
                value = yuan(r[C_AMOUNT])
                r = [*r[:C_AMOUNT], "" if value < 0 else r[C_AMOUNT], *r[C_AMOUNT + 1:], money(-value) if value < 0 else ""]
            out.append(r)
        return titles + [header + ["退费金额"]] + out + tail
    edit_csv(folder, CHARGES, change)


@variant("values", "same")
def refunds_marked_by_kind(folder):
    """收支类型 收费/退费, every amount positive."""
    def change(titles, header, data, tail):
        out = []
        for r in data:
            if is_data(r):
                value = yuan(r[C_AMOUNT])
                r = [*r[:C_AMOUNT], money(abs(value)), *r[C_AMOUNT + 1:], "退费" if value < 0 else "收费"]
            out.append(r)
        return titles + [header + ["收支类型"]] + out + tail
    edit_csv(folder, CHARGES, change)


@variant("values", "same")
def ids_written_as_floats(folder):
    """病历号 100001.0 in visits, 100001 in patients."""
    def change(titles, header, data, tail):
        return titles + [header] + [[r[0], f"{r[1]}.0", *r[2:]] for r in data] + tail
    edit_csv(folder, VISITS, change)


@variant("values", "same")
def ids_with_leading_zeros(folder):
    """病历号 00100001 in charges, 100001 in patients."""
    def change(titles, header, data, tail):
        return titles + [header] + [[*r[:C_PATIENT], r[C_PATIENT].zfill(8), *r[C_PATIENT + 1:]] if is_data(r) else r
                                    for r in data] + tail
    edit_csv(folder, CHARGES, change)


@variant("health", "stop", ("path", "column", "rows", "fix"))
def ids_from_another_system(folder):
    """Visits keyed P100001 where patients say 100001: no visit finds its patient."""
    def change(titles, header, data, tail):
        return titles + [header] + [[r[0], f"P{r[1]}", *r[2:]] for r in data] + tail
    edit_csv(folder, VISITS, change)


@variant("values", "stop", ("path", "column", "rows", "fix"))
def ids_in_scientific_notation(folder):
    """Excel turned visits' 病历号 into 1.00044E+05 before the file was saved as CSV."""
    def change(titles, header, data, tail):
        return titles + [header] + [[r[0], f"{int(r[1]):.5E}", *r[2:]] for r in data] + tail
    edit_csv(folder, VISITS, change)


@variant("values", "same")
def iso_timestamps_with_offset(folder):
    """预约时间 2024-01-05T14:00:00+08:00."""
    def change(titles, header, data, tail):
        def iso(text):
            day, time = text.split(" ") if " " in text else (text, "00:00")
            y, m, d = day.split("/")
            return f"{y}-{int(m):02d}-{int(d):02d}T{time}:00+08:00"
        return titles + [header] + [[*r[:V_AT], iso(r[V_AT]), *r[V_AT + 1:]] for r in data] + tail
    edit_csv(folder, VISITS, change)


@variant("values", "same")
def chinese_am_pm_times(folder):
    """收费时间 2024/1/5 下午 2:05:09, as Chinese Excel writes a 12-hour clock."""
    def change(titles, header, data, tail):
        def ampm(text):
            day, time = text.split(" ")
            y, m, d = day.split("-")
            h, rest = int(time[:2]), time[2:]
            return f"{y}/{int(m)}/{int(d)} {'下午' if h >= 12 else '上午'} {h % 12 or 12}{rest}"
        return titles + [header] + [[*r[:C_PAID], ampm(r[C_PAID]), *r[C_PAID + 1:]] if is_data(r) else r
                                    for r in data] + tail
    edit_csv(folder, CHARGES, change)


@variant("values", "same")
def status_words_of_other_systems(folder):
    """已到店, 已结账 and 已离店 for arrivals, 失约 and 未到店 for no-shows, 改约 for cancellations."""
    words = {"已到诊": ("已到店", "已结账", "已离店"), "爽约": ("失约", "未到店"), "已取消": ("改约",)}

    def change(titles, header, data, tail):
        out = []
        for i, r in enumerate(data):
            choices = words[r[V_STATUS]]
            out.append([*r[:V_STATUS], choices[i % len(choices)], *r[V_STATUS + 1:]])
        return titles + [header] + out + tail
    edit_csv(folder, VISITS, change)


@variant("values", "stop", ("path", "column", "rows", "fix"))
def an_unknown_status_word(folder):
    def change(titles, header, data, tail):
        return titles + [header] + [[*r[:V_STATUS], "待回访", *r[V_STATUS + 1:]] if i % 997 == 5 else r
                                    for i, r in enumerate(data)] + tail
    edit_csv(folder, VISITS, change)


def _append_visits(folder: Path, when: str, count: int) -> None:
    def change(titles, header, data, tail):
        extra = [[f"YX{i:07d}", data[i * 7][V_PATIENT], when, "已到诊", "初诊", "综合", "陈医生", "赵咨询师", "1号椅"]
                 for i in range(count)]
        return titles + [header] + data + extra + tail
    edit_csv(folder, VISITS, change)


@variant("values", "same")
def visits_dated_1900(folder):
    """Twenty arrivals dated 1900-01-01, the placeholder of an empty date."""
    _append_visits(folder, "1900/1/1 00:00", 20)


@variant("values", "same")
def visits_years_before_the_rest(folder):
    """Five arrivals in 2003 (a typo for 2023), years before the rest of the data."""
    _append_visits(folder, "2003/5/6 10:00", 5)


@variant("values", "same")
def charges_dated_2052(folder):
    """Ten charges dated 2052, after the export."""
    def change(titles, header, data, tail):
        extra = [[f"SX{i:07d}", "", data[i * 11][C_PATIENT], "2052-05-06 10:00:00", "种植牙", "¥12,800.00", "¥12,800.00",
                  "李医生", "否"] for i in range(10)]
        return titles + [header] + data + extra + tail
    edit_csv(folder, CHARGES, change)


# --- duplicates --------------------------------------------------------------------------------------

@variant("duplicates", "same")
def receipts_exported_twice(folder):
    """3.5% of the receipts exported a second time, at the end (a re-export pasted on)."""
    def change(titles, header, data, tail):
        groups = receipts(data)
        again = [line for lines in groups[::28] for line in lines if is_data(line)]
        return titles + [header] + data + again + tail
    edit_csv(folder, CHARGES, change)


@variant("duplicates", "stop", ("path", "rows", "fix"))
def the_whole_export_twice_in_one_file(folder):
    """The same export pasted under itself: half the lines are copies."""
    def change(titles, header, data, tail):
        return titles + [header] + data + titles + [header] + data + tail
    edit_csv(folder, CHARGES, change)


@variant("duplicates", "same")
def patients_listed_twice(folder):
    """Fifty patients' rows exactly repeated at the end of the sheet."""
    book = patients_book(folder)
    sheet = book.active
    rows = [[c.value for c in sheet[r]] for r in range(P_HEADER_ROW + 1, P_HEADER_ROW + 51)]
    for row in rows:
        sheet.append(row)
    book.save(folder / PATIENTS)


# --- coverage ----------------------------------------------------------------------------------------

@variant("coverage", "same")
def period_past_the_data(folder):
    """clinic.yaml's period runs six months past the last export: trimmed, said on the first page."""
    set_config(folder, "end: 2025-12-31", "end: 2026-06-30")


@variant("coverage", "stop", ("path", "column", "fix"))
def period_outside_the_data(folder):
    set_config(folder, "start: 2024-01-01\n  end: 2025-12-31", "start: 2027-01-01\n  end: 2027-12-31")


# --- the data-health gate ------------------------------------------------------------------------------

@variant("health", "stop", ("path", "column", "rows", "fix"))
def receipt_cells_only_on_the_first_line(folder):
    """Receipt number, visit, patient and time written on a receipt's first line only (a grouped print
    layout saved as CSV): most lines lack a patient and a date."""
    def change(titles, header, data, tail):
        out = []
        for lines in receipts(data):
            out += [lines[0]] + [["", "", "", "", *r[C_ITEM:]] if is_data(r) else r for r in lines[1:]]
        return titles + [header] + out + tail
    edit_csv(folder, CHARGES, change)


def _keep_patients(folder: Path, keep: Callable[[int], bool]) -> None:
    book = patients_book(folder)
    sheet = book.active
    for row in reversed(patient_rows(sheet)):
        if not keep(row):
            sheet.delete_rows(row)
    book.save(folder / PATIENTS)


@variant("health", "stop", ("path", "column", "rows", "fix"))
def patients_export_of_one_year(folder):
    """A patients export holding only the patients first seen in 2025: most visits find no patient."""
    book = patients_book(folder)
    sheet = book.active
    first = {r: str(sheet.cell(r, P_FIRST).value)[:4] for r in patient_rows(sheet)}
    _keep_patients(folder, lambda r: first[r] == "2025")


@variant("health", "flagged")
def patients_missing_a_few(folder):
    """Every 25th patient missing from the patients export: their visits count with channel unknown."""
    _keep_patients(folder, lambda r: r % 25)


# --- personal data -----------------------------------------------------------------------------------

@variant("personal", "stop", ("path", "fix"))
def patients_without_a_header_row(folder):
    """Title rows and header deleted: the first row is a patient's name, mobile and address."""
    book = patients_book(folder)
    book.active.delete_rows(1, P_HEADER_ROW)
    book.save(folder / PATIENTS)


@variant("personal", "same")
def patient_ids_are_mobile_numbers(folder):
    """The clinic keys patients by their mobile number, in every table."""
    book = patients_book(folder)
    sheet = book.active
    phone = {str(sheet.cell(r, P_ID).value): str(sheet.cell(r, P_PHONE).value) for r in patient_rows(sheet)}
    assert len(set(phone.values())) == len(phone), "the sample's phones must be unique to key patients by them"
    for r in patient_rows(sheet):
        for column in (P_ID, P_REFERRER):
            value = sheet.cell(r, column).value
            if value is not None:
                sheet.cell(r, column, phone.get(str(value), value))
    book.save(folder / PATIENTS)
    edit_csv(folder, VISITS, lambda t, h, d, tail: t + [h] + [[r[0], phone.get(r[1], r[1]), *r[2:]] for r in d] + tail)
    edit_csv(folder, CHARGES, lambda t, h, d, tail: t + [h] + [
        [*r[:C_PATIENT], phone.get(r[C_PATIENT], r[C_PATIENT]), *r[C_PATIENT + 1:]] if is_data(r) else r for r in d] + tail)


@variant("personal", "same")
def id_card_and_contact_columns(folder):
    """身份证号 and 紧急联系人电话 columns: never read."""
    book = patients_book(folder)
    sheet = book.active
    base = sheet.max_column
    sheet.cell(P_HEADER_ROW, base + 1, "身份证号")
    sheet.cell(P_HEADER_ROW, base + 2, "紧急联系人电话")
    for i, row in enumerate(patient_rows(sheet)):
        sheet.cell(row, base + 1, f"11010119{80 + i % 20}0101{i % 10000:04d}")
        sheet.cell(row, base + 2, f"139{i:08d}")
    book.save(folder / PATIENTS)


# --- referral channels (issue 18) ----------------------------------------------------------------------

@variant("referral", "warned")
def referral_channel_under_another_name(folder):
    """转介绍 written 老客介绍: referral share falls unless clinic.yaml lists it."""
    book = patients_book(folder)
    sheet = book.active
    for row in patient_rows(sheet):
        if sheet.cell(row, P_CHANNEL).value == "转介绍":
            sheet.cell(row, P_CHANNEL, "老客介绍")
    book.save(folder / PATIENTS)


# --- file names -----------------------------------------------------------------------------------------

@variant("files", "same")
def chinese_file_names_with_dates(folder):
    """患者档案0105.xlsx, 预约到诊(1).csv, 收费明细表.csv: found by their names."""
    (folder / PATIENTS).rename(folder / "患者档案0105.xlsx")
    (folder / VISITS).rename(folder / "预约到诊(1).csv")
    (folder / CHARGES).rename(folder / "收费明细表.csv")


@variant("files", "same")
def an_unrelated_file_in_the_folder(folder):
    """回访记录.xlsx beside the exports: not read, and the audit says so."""
    shutil.copy2(folder / "costs.xlsx", folder / "回访记录.xlsx")


# Built together into one clinic that runs the whole pipeline (tests/test_untidy_exports.py, slow).
SLOW = ("patient_ids_are_mobile_numbers", "period_past_the_data")


def main(out: Path) -> None:
    source = write_source(out / "_source")
    for v in VARIANTS:
        v.build(write_base(out / v.name, source))
        print(f"{v.outcome:8} {v.quirk:10} {v.name}")
    print(f"{len(VARIANTS)} variants in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""The intake audit on broken copies of the bundled sample exports, one fault at a time.

Each fault is one a consultant meets in real exports. The audit must call the data unusable (or warn,
for faults the playbook can work around) and name the file, the column, the rows and the fix.
"""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from playbook import audit
from playbook.config import SAMPLES_DIR
from playbook.errors import DuplicateIdError, FileFormatError, InvalidValuesError, MissingColumnError

GENERAL = SAMPLES_DIR / "general_clinic"
VISITS_ENCODING = "gb18030"  # as data_samples/README.md says the general clinic's visits.csv is written


@pytest.fixture()
def clinic(tmp_path):
    folder = tmp_path / "general_clinic"
    shutil.copytree(GENERAL, folder)
    return folder


def _edit_visits(folder, change):
    path = folder / "visits.csv"
    lines = path.read_text(encoding=VISITS_ENCODING).splitlines()
    path.write_text("\n".join(change(lines)) + "\n", encoding=VISITS_ENCODING)


def _error(result, table):
    errors = result.clinic.loads[table].errors
    assert len(errors) == 1, errors
    return errors[0]


def test_the_bundled_samples_pass_the_audit():
    for folder in SAMPLES_DIR.iterdir():
        if folder.is_dir():
            result = audit(folder)
            assert result.usable and not (result.problems["severity"] == "error").any(), folder


def test_missing_required_column(clinic):
    def drop_scheduled_at(lines):
        index = lines[0].split(",").index("预约时间")
        return [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in lines]

    _edit_visits(clinic, drop_scheduled_at)
    result = audit(clinic)
    error = _error(result, "visits")
    assert not result.usable and isinstance(error, MissingColumnError)
    assert error.path.name == "visits.csv" and error.column == "scheduled_at" and "预约时间" in error.fix


def test_a_date_that_is_not_a_date(clinic):
    def break_row_10(lines):
        lines[9] = lines[9].replace(lines[9].split(",")[2], "下周二", 1)
        return lines

    _edit_visits(clinic, break_row_10)
    error = _error(audit(clinic), "visits")
    assert isinstance(error, InvalidValuesError)
    assert (error.column, error.rows, error.examples) == ("预约时间", [10], ["下周二"])
    assert "2024/1/5" in error.fix


def test_an_unknown_status_word(clinic):
    _edit_visits(clinic, lambda lines: lines[:5] + [lines[5].replace("已到诊", "待回访").replace("爽约", "待回访")] + lines[6:])
    error = _error(audit(clinic), "visits")
    assert error.column == "到诊状态" and error.rows == [6] and "values:" in error.fix


def test_duplicate_ids(clinic):
    # the same visit id with other content (an exact copy of the row is a duplicate export, dropped)
    _edit_visits(clinic, lambda lines: lines + [lines[3].replace("已到诊", "已取消").replace("爽约", "已取消")])
    error = _error(audit(clinic), "visits")
    assert isinstance(error, DuplicateIdError)
    assert error.column == "预约编号" and error.rows[0] == 4 and len(error.rows) == 2


def test_an_empty_file(clinic):
    (clinic / "charges.csv").write_bytes(b"")
    result = audit(clinic)
    error = _error(result, "charges")
    assert not result.usable and isinstance(error, FileFormatError) and "empty" in str(error)


def test_an_unknown_encoding(clinic):
    text = (GENERAL / "visits.csv").read_text(encoding=VISITS_ENCODING)
    (clinic / "visits.csv").write_bytes(text.encode("utf-16-le"))  # no BOM: neither UTF-8 nor GB18030
    error = _error(audit(clinic), "visits")
    assert isinstance(error, FileFormatError) and "encoding" in str(error)


def test_a_sheet_with_no_header_row(clinic):
    book = load_workbook(clinic / "patients.xlsx")
    sheet = book["患者档案"]
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value in ("病历号", "患者编号"))
    sheet.delete_rows(1, header)  # title rows and the header gone: only data remains
    book.save(clinic / "patients.xlsx")
    error = _error(audit(clinic), "patients")
    assert isinstance(error, FileFormatError) and "no header row" in str(error) and "病历号" in error.fix


def test_a_missing_table(clinic):
    (clinic / "charges.csv").unlink()
    result = audit(clinic)
    assert not result.usable
    assert "headline_kpis" in set(result.analyses.query("not can_run")["analysis"])
    # clinic.yaml lists charges.csv: the audit says the listed file is not there
    assert "no such file" in str(_error(result, "charges"))
    (clinic / "clinic.yaml").write_text((clinic / "clinic.yaml").read_text(encoding="utf-8")
                                        .replace("  charges: charges.csv\n", ""), encoding="utf-8")
    assert audit(clinic).tables.set_index("table").loc["charges", "status"] == "missing"


def test_an_amount_that_is_not_an_amount(clinic):
    path = clinic / "charges.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header = next(i for i, line in enumerate(lines) if "实收金额" in line)
    column = lines[header].split(",").index("实收金额")
    row = header + 5
    cells = lines[row].split(",")
    assert not cells[column].startswith('"'), "pick a row whose amount has no thousands separator"
    cells[column] = "待定"
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    error = _error(audit(clinic), "charges")
    assert error.column == "实收金额" and error.rows == [row + 1] and error.examples == ["待定"]


def test_orphan_visits_are_a_warning_not_an_error(clinic):
    _edit_visits(clinic, lambda lines: lines + [lines[1].split(",", 1)[0] + "X," + "NOBODY," +
                                                lines[1].split(",", 2)[2]])
    result = audit(clinic)
    assert result.usable
    problems = result.problems.query("table == 'visits' and severity == 'warning'")
    assert problems["message"].str.contains("not in the patients export").any()


def test_cli_audit_exits_2_on_a_broken_copy_and_leaves_the_files_alone(clinic):
    (clinic / "charges.csv").write_bytes(b"")
    before = {p.name: p.read_bytes() for p in clinic.iterdir()}
    done = subprocess.run([sys.executable, "-m", "playbook.cli", "audit", str(clinic)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert "charges" in done.stdout and "empty" in done.stdout
    assert {p.name: p.read_bytes() for p in clinic.iterdir()} == before


def test_visits_that_begin_inside_the_period_are_warned_about(clinic):
    (clinic / "clinic.yaml").write_text((clinic / "clinic.yaml").read_text(encoding="utf-8")
                                        .replace("start: 2024-01-01", "start: 2021-07-01"), encoding="utf-8")
    result = audit(clinic)
    assert result.usable
    warning = result.problems.query("table == 'visits' and severity == 'warning'")
    assert warning["message"].str.contains("count as new").any()
    assert warning["zh"].str.contains("老患者会被算作新患者").any()
    assert not audit(GENERAL).problems["message"].str.contains("count as new").any()


def test_a_coordinator_column_under_another_name_is_read_or_named_as_not_read(clinic):
    """Other systems head the coordinator 咨询顾问 (read as 咨询师) or something the playbook cannot know
    (现场咨询): then the scorecard is unavailable and the audit names the column it did not read."""
    _edit_visits(clinic, lambda lines: [lines[0].replace("咨询师", "咨询顾问"), *lines[1:]])
    known = audit(clinic)
    assert known.mapping.query("header == '咨询顾问'")["column"].tolist() == ["consultant_id"]
    assert known.analyses.set_index("analysis").loc["coordinators", "can_run"]

    _edit_visits(clinic, lambda lines: [lines[0].replace("咨询顾问", "现场咨询"), *lines[1:]])
    unknown = audit(clinic)
    assert not unknown.analyses.set_index("analysis").loc["coordinators", "can_run"]
    assert unknown.unread_columns["header"].tolist() == ["现场咨询"]
    assert "- visits, visits.csv: 现场咨询" in unknown.as_text()
    assert "家庭住址" not in unknown.as_text().split("Columns not read")[1].split("Refunds")[0]  # dropped, not unread

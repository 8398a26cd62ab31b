"""Reading real exports: the formats method.md says Chinese clinic systems produce, and the errors a
consultant gets when a file is wrong (file, column, rows and fix named)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook

from playbook import io, parsing
from playbook.errors import DuplicateIdError, FileFormatError, InvalidValuesError, MissingColumnError


def _dates(*values):
    parsed, invalid = parsing.parse_dates(pd.Series(values, dtype=object))
    return parsed.tolist(), invalid.tolist()


def test_dates_as_chinese_exports_write_them():
    parsed, invalid = _dates("2024/1/5", "2024-01-05 14:00", "2024年1月5日", 45296, "45296", "２０２４／１／５",
                             dt.datetime(2024, 1, 5, 9, 30), "20240105")
    assert not any(invalid)
    assert [p.date() for p in parsed] == [dt.date(2024, 1, 5)] * 8
    assert parsed[1] == pd.Timestamp("2024-01-05 14:00")


def test_a_date_that_is_not_a_date_is_invalid_and_an_empty_cell_is_missing():
    parsed, invalid = _dates("明天", "2024-13-45", "", None)
    assert invalid == [True, True, False, False]
    assert all(pd.isna(p) for p in parsed)


def test_amounts_with_currency_signs_separators_and_full_width_digits():
    parsed, invalid = parsing.parse_amounts(pd.Series(["¥1,234.50", "￥１２３４", "-80", "(80.00)", "1234元", 99.5]))
    assert parsed.tolist() == [1234.5, 1234.0, -80.0, -80.0, 1234.0, 99.5]
    assert not invalid.any()


def _write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_text(text, encoding=encoding)
    return path


VISITS = "预约编号,病历号,预约时间,到诊状态\nV1,P1,2024/1/5 10:00,已到诊\nV2,P2,2024/1/6,爽约\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_clinic_systems_use(tmp_path, encoding):
    load = io.load_table(_write(tmp_path, "visits.csv", VISITS, encoding), "visits")
    assert load.usable, load.errors
    assert load.data["status"].tolist() == ["arrived", "no_show"]
    assert load.mapping["预约时间"] == "scheduled_at"


def test_title_rows_totals_and_blank_rows_are_dropped_and_reported(tmp_path):
    text = ("收费明细表 2024年1月\n示例门诊\n收费单号,病历号,收费时间,收费项目,实收金额\n"
            "C1,P1,2024/1/5,树脂补牙,\"¥1,000.00\"\n,,,,\nC2,P2,2024/1/6,洁牙,200\n合计,,,,\"¥1,200.00\"\n")
    load = io.load_table(_write(tmp_path, "charges.csv", text), "charges")
    assert load.usable, load.errors
    assert load.header_row == 3
    assert load.data["amount_paid"].sum() == 1200  # the totals row never reaches revenue
    assert load.dropped_rows == {"blank": [5], "totals": [7]}
    assert load.data["source_row"].tolist() == [4, 6]


def test_excel_any_sheet_name_with_title_rows_and_date_cells(tmp_path):
    book = Workbook()
    book.active.title = "说明"
    book.active.append(["本文件由系统导出"])
    sheet = book.create_sheet("患者档案")
    sheet.append(["患者档案导出"])
    sheet.append([])
    sheet.append(["病历号", "姓名", "手机号", "首诊日期", "身份证号"])
    sheet.append([10023, "张三丰", "13812345678", dt.datetime(2024, 1, 5), "110101199001011234"])
    sheet.append(["10024", "李四", "139 1234 5678", 45296, "110101199001011235"])
    path = tmp_path / "patients.xlsx"
    book.save(path)
    load = io.load_table(path, "patients")
    assert load.usable, load.errors
    assert load.sheet == "患者档案" and load.header_row == 3
    assert load.data["patient_id"].tolist() == ["10023", "10024"]
    assert load.data["first_visit_date"].dt.date.tolist() == [dt.date(2024, 1, 5)] * 2
    # personal data: masked at load, the ID-card column never read
    assert load.data["name"].tolist() == ["张**", "李*"]
    assert load.data["phone"].tolist() == ["138****5678", "139****5678"]
    assert load.personal_data == {"姓名": "masked", "手机号": "masked", "身份证号": "dropped"}
    assert "110101199001011234" not in load.data.to_string()


def test_clinic_yaml_header_mapping_for_an_unrecognised_header(tmp_path):
    from playbook.config import ClinicConfig

    config = ClinicConfig.model_validate({"clinic_id": "x", "name": "x", "period": {"start": "2024-01-01", "end": "2024-12-31"},
                                          "headers": {"visits": {"到院日期": "scheduled_at"}},
                                          "values": {"visits": {"status": {"已到店": "arrived"}}}})
    text = "预约编号,病历号,到院日期,到诊状态\nV1,P1,2024/1/5,已到店\n"
    load = io.load_table(_write(tmp_path, "visits.csv", text), "visits", config)
    assert load.usable, load.errors
    assert load.data["status"].tolist() == ["arrived"]


# --- bad input: one clear error each ----------------------------------------------------------------

def _only_error(load):
    assert len(load.errors) == 1, load.errors
    return load.errors[0]


def test_missing_required_column_names_the_column_and_the_fix(tmp_path):
    text = "预约编号,病历号,到诊状态\nV1,P1,已到诊\n"
    error = _only_error(io.load_table(_write(tmp_path, "visits.csv", text), "visits"))
    assert isinstance(error, MissingColumnError)
    message = str(error)
    assert "visits.csv" in message and "scheduled_at" in message and "预约时间" in message
    assert "clinic.yaml" in message  # the fix: add the column or map the header


def test_a_date_that_is_not_a_date_names_file_column_rows_and_fix(tmp_path):
    text = VISITS + "V3,P3,明天,已到诊\nV4,P4,2024-13-45,已到诊\n"
    error = _only_error(io.load_table(_write(tmp_path, "visits.csv", text), "visits"))
    assert isinstance(error, InvalidValuesError)
    assert error.column == "预约时间" and error.rows == [4, 5]
    assert "'明天'" in str(error) and "fix:" in str(error) and "visits.csv" in str(error)


def test_unknown_status_word_names_the_known_ones(tmp_path):
    text = VISITS + "V3,P3,2024/1/7,待回访\n"  # a word no system in schema.VISIT_STATUS writes
    error = _only_error(io.load_table(_write(tmp_path, "visits.csv", text), "visits"))
    assert error.column == "到诊状态" and error.rows == [4]
    assert "已到诊" in error.fix and "values:" in error.fix


def test_empty_file(tmp_path):
    for text in ("", "\n\n"):
        error = _only_error(io.load_table(_write(tmp_path, "visits.csv", text), "visits"))
        assert isinstance(error, FileFormatError) and "empty" in str(error)


def test_header_without_rows(tmp_path):
    error = _only_error(io.load_table(_write(tmp_path, "visits.csv", "预约编号,病历号,预约时间,到诊状态\n"), "visits"))
    assert "no data rows" in str(error)


def test_duplicate_ids_name_the_rows(tmp_path):
    text = VISITS + "V1,P3,2024/1/7,已到诊\n"
    error = _only_error(io.load_table(_write(tmp_path, "visits.csv", text), "visits"))
    assert isinstance(error, DuplicateIdError)
    assert error.column == "预约编号" and error.rows == [2, 4] and "'V1'" in str(error)


def test_unknown_encoding(tmp_path):
    path = tmp_path / "visits.csv"
    path.write_bytes(VISITS.encode("gb18030") + b"\x81\x20\xff\xff")  # not UTF-8, not valid GB18030
    error = _only_error(io.load_table(path, "visits"))
    assert isinstance(error, FileFormatError)
    assert "encoding" in str(error) and "UTF-8" in error.fix


def test_sheet_with_no_header_row(tmp_path):
    book = Workbook()
    for row in (["V1", "P1", "2024/1/5", "已到诊"], ["V2", "P2", "2024/1/6", "爽约"]):
        book.active.append(row)
    path = tmp_path / "visits.xlsx"
    book.save(path)
    error = _only_error(io.load_table(path, "visits"))
    assert isinstance(error, FileFormatError)
    assert "no header row" in str(error) and "预约时间" in error.fix


def test_input_files_are_opened_read_only(tmp_path):
    path = _write(tmp_path, "visits.csv", VISITS)
    before = path.read_bytes(), path.stat().st_mtime_ns
    io.load_table(path, "visits")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


# --- never a traceback (issue 13) ---------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CELLS = st.sampled_from(["收费单号", "病历号", "收费时间", "项目名称", "实收金额", "C1", "P1", "2024/1/5", "2024-01-05T14:00:00+08:00",
                          "¥1,234.50", "1.2万", "(80)", "合计", "本单小计", "小计：", "制表人：张三", "第1页", "", " ", "\"",
                          "13812345678", "1.38E+10", "100001.0", "下午 2:05", "1900-01-01", "x" * 40, "退费", "０１２"])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELLS, min_size=0, max_size=8), min_size=0, max_size=12),
       header=st.booleans(), separator=st.sampled_from([",", "\t", ";"]))
def test_any_grid_of_export_cells_is_read_or_refused_with_a_message(tmp_path, rows, header, separator):
    path = tmp_path / "charges.csv"
    if header:
        rows = [["收费单号", "病历号", "收费时间", "项目名称", "实收金额"], *rows]
    path.write_text("\n".join(separator.join(r) for r in rows), encoding="utf-8")
    load = io.load_table(path, "charges")  # never raises
    for error in load.errors + load.warnings:
        assert "cannot be read as the charges table" not in str(error), error  # a specific message, not the net
        assert "13812345678" not in str(error)
    assert load.usable or load.errors

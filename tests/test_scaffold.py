"""`playbook new`: a clinic folder a consultant can fill, with intake templates the loader reads."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from playbook import audit, io, read_config, schema
from playbook.config import INTAKE_TEMPLATES_DIR
from playbook.errors import ConfigError
from playbook.scaffold import EXAMPLE_ROW, FIRST_DATA_ROW, HEADER_ROW, new_clinic, write_intake_templates


def _drop_downs(sheet) -> dict[str, tuple[list[str], str]]:
    """header -> (the drop-down's words, its error style), for the data validations of a data sheet."""
    headers = {cell.column_letter: cell.value for cell in sheet[HEADER_ROW]}
    found = {}
    for rule in sheet.data_validations.dataValidation:
        first = str(rule.sqref).split(":")[0]
        assert first == f"{first[0]}{FIRST_DATA_ROW}", rule.sqref  # from the first data row down
        found[headers[first[0]]] = (rule.formula1.strip('"').split(","), rule.errorStyle)
    return found


def test_committed_intake_templates_match_the_schema(tmp_path):
    """The templates in templates/intake are what write_intake_templates makes from playbook.schema today."""
    fresh = write_intake_templates(tmp_path)
    for path in fresh:
        committed = load_workbook(INTAKE_TEMPLATES_DIR / path.name)
        made = load_workbook(path)
        assert committed.sheetnames == made.sheetnames, path.name
        for name in made.sheetnames:
            assert [list(r) for r in committed[name].values] == [list(r) for r in made[name].values], path.name
        assert _drop_downs(committed.worksheets[0]) == _drop_downs(made.worksheets[0]), path.name


def test_every_required_column_is_in_its_template():
    for table in schema.TABLES.values():
        sheet = load_workbook(INTAKE_TEMPLATES_DIR / f"{table.name}.xlsx").worksheets[0]
        assert [c.headers[0] for c in table.columns] == [cell.value for cell in sheet[HEADER_ROW]]


def test_templates_have_drop_downs_for_statuses_yes_no_channels_and_cost_categories():
    books = {t: load_workbook(INTAKE_TEMPLATES_DIR / f"{t}.xlsx").worksheets[0] for t in schema.TABLES}
    visits = _drop_downs(books["visits"])
    assert visits["到诊状态"] == (["已到诊", "爽约", "已取消", "已预约"], "stop") and visits["初复诊"] == (["初诊", "复诊"], "stop")
    assert _drop_downs(books["treatment_plans"])["计划状态"][0] == ["已提出", "已接受", "已拒绝", "已完成", "中断"]
    for table, header in (("patients", "会员"), ("charges", "是否指定"), ("leads", "是否预约"), ("leads", "是否到店")):
        assert _drop_downs(books[table])[header] == (["是", "否"], "stop"), (table, header)
    for table, header in (("patients", "来源渠道"), ("leads", "渠道"), ("campaigns", "渠道")):
        words, style = _drop_downs(books[table])[header]
        assert words[0] == "转介绍" and style == "information"  # a clinic's own channel may still be typed
    assert _drop_downs(books["costs"])["类别"][0] == ["人工", "房租", "营销", "水电物业", "耗材", "加工费", "库存"]
    assert "新患者数" in _drop_downs(books["targets"])["指标"][0]
    # every word a status drop-down offers is one the loader reads
    for table in schema.TABLES.values():
        for column in table.columns:
            if column.kind == schema.STATUS:
                offered = _drop_downs(books[table.name])[column.headers[0]][0]
                assert set(offered) <= set(table.values[column.name]), column.name


def test_each_template_has_an_example_row_the_loader_never_reads(tmp_path):
    for table in schema.TABLES.values():
        path = INTAKE_TEMPLATES_DIR / f"{table.name}.xlsx"
        book = load_workbook(path)
        sheet = book.worksheets[0]
        example = [cell.value for cell in sheet[EXAMPLE_ROW]]
        assert all(example[i] is not None for i, c in enumerate(table.columns) if c.required), table.name
        assert sheet[f"A{EXAMPLE_ROW}"].font.color.rgb.endswith("808080")  # grey: an example, not data
        assert "必填" in sheet["A1"].value and sheet["A1"].fill.fgColor.rgb.endswith("FDE9D9")  # the pink legend
        assert "示例" in sheet["B1"].value
        # unfilled: the example is not data
        load = io.load_table(path, table.name)
        assert load.data is None and "no data rows" in str(load.errors[0]), table.name
        # filled with one row under the header: that row, and only that row, is read
        row = [example[i] for i in range(len(table.columns))]
        if table.key:
            row[[c.name for c in table.columns].index(table.key)] = "X-1"
        sheet.append(row)
        book.save(tmp_path / path.name)
        load = io.load_table(tmp_path / path.name, table.name)
        assert load.usable and len(load.data) == 1, (table.name, load.errors)
        assert load.data["source_row"].tolist() == [FIRST_DATA_ROW]
        if table.key:
            assert load.data[table.key].tolist() == ["X-1"]


def test_the_notes_state_formats_and_referral_and_the_costs_month_is_a_month():
    costs = load_workbook(INTAKE_TEMPLATES_DIR / "costs.xlsx")
    assert costs.worksheets[0][f"A{EXAMPLE_ROW}"].value == "2025-01"
    notes = {row[0]: row[2] for row in costs["填写说明"].values if row and row[0]}
    assert "2025-01" in notes["月份"] and "14:00" not in notes["月份"]
    assert all(word in notes["类别"] for word in ("人工", "房租", "营销", "水电物业", "耗材", "加工费", "库存"))
    patients = {row[0]: row[2] for row in load_workbook(INTAKE_TEMPLATES_DIR / "patients.xlsx")["填写说明"].values
                if row and row[0]}
    assert "转介绍" in patients["来源渠道"] and "referral_channels" in patients["来源渠道"]
    visits = {row[0]: row[2] for row in load_workbook(INTAKE_TEMPLATES_DIR / "visits.xlsx")["填写说明"].values
              if row and row[0]}
    assert "2025-01-05 14:00" in visits["预约时间"] and "已到诊" in visits["到诊状态"]


def test_new_clinic_then_filled_templates_pass_the_audit(tmp_path):
    folder = tmp_path / "城东诊所"
    written = new_clinic(folder, clinic_id="chengdong", name="城东口腔", start=dt.date(2025, 1, 1),
                         end=dt.date(2025, 12, 31))
    config = read_config(folder)
    assert (config.clinic_id, config.name, config.lang) == ("chengdong", "城东口腔", "zh")
    assert {p.name for p in written if p.parent == folder} == {"clinic.yaml", "patients.xlsx", "visits.xlsx",
                                                               "charges.xlsx"}
    # Empty templates are not data yet: the audit says so instead of crashing.
    assert not audit(folder).usable
    # the period's first and last weeks have data (a period running past the data is trimmed, issue 13)
    rows = {"patients": [["P1", "张三", "13800000000", "2025-01-02", "美团"]],
            "visits": [["V1", "P1", "2025/1/2 10:00", "已到诊", "初诊"], ["V2", "P1", "2025/12/30 10:00", "已到诊", "复诊"]],
            "charges": [["C1", None, "P1", "2025/1/2", "种植牙", None, None, None, 9800],
                        ["C2", None, "P1", "2025/12/30", "洁牙", None, None, None, 200]]}
    for table, data in rows.items():
        book = load_workbook(folder / f"{table}.xlsx")
        for row in data:
            book.worksheets[0].append(row)
        book.save(folder / f"{table}.xlsx")
    result = audit(folder)
    assert result.usable, result.problems


def test_new_refuses_a_folder_that_has_files(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        new_clinic(tmp_path)


def test_cli_new(tmp_path):
    done = subprocess.run([sys.executable, "-m", "playbook.cli", "new", str(tmp_path / "c1"), "--name", "测试门诊"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert read_config(tmp_path / "c1").name == "测试门诊"

"""`playbook new`: a clinic folder a consultant can fill, with intake templates the loader reads."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from playbook import audit, read_config, schema
from playbook.config import INTAKE_TEMPLATES_DIR
from playbook.errors import ConfigError
from playbook.scaffold import new_clinic, write_intake_templates


def test_committed_intake_templates_match_the_schema(tmp_path):
    """The templates in templates/intake are what write_intake_templates makes from playbook.schema today."""
    fresh = write_intake_templates(tmp_path)
    for path in fresh:
        committed = load_workbook(INTAKE_TEMPLATES_DIR / path.name)
        made = load_workbook(path)
        assert committed.sheetnames == made.sheetnames, path.name
        for name in made.sheetnames:
            assert [list(r) for r in committed[name].values] == [list(r) for r in made[name].values], path.name


def test_every_required_column_is_in_its_template():
    for table in schema.TABLES.values():
        header = next(load_workbook(INTAKE_TEMPLATES_DIR / f"{table.name}.xlsx").worksheets[0].values)
        assert [c.headers[0] for c in table.columns] == list(header)


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

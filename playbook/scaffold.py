"""Starting an engagement: a new clinic folder with clinic.yaml and Excel intake templates.

The intake templates in ``templates/intake/`` are made from `playbook.schema` by
`write_intake_templates`, so the headers a clinic is asked to fill are exactly the ones the loader
recognises (a test keeps the committed files and the schema in step).
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from . import schema
from .config import CONFIG_NAME, INTAKE_TEMPLATES_DIR
from .errors import ConfigError

_KIND_ZH = {schema.ID: "编号", schema.TEXT: "文字", schema.DATE: "日期，如 2025/1/5 或 2025-01-05 14:00",
            schema.AMOUNT: "金额，如 1234.50", schema.INT: "整数", schema.FLAG: "是 / 否",
            schema.STATUS: "状态词"}
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")


def write_intake_templates(folder: Path = INTAKE_TEMPLATES_DIR) -> list[Path]:
    """One workbook per table: a header row to fill (required columns shaded) and a 填写说明 sheet."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in schema.TABLES.values():
        book = Workbook()
        sheet = book.active
        sheet.title = table.zh
        sheet.append([c.headers[0] for c in table.columns])
        for index, column in enumerate(table.columns, start=1):
            cell = sheet.cell(row=1, column=index)
            cell.font = Font(bold=True)
            if column.required:
                cell.fill = _REQUIRED_FILL
            sheet.column_dimensions[get_column_letter(index)].width = max(12, 3 * len(column.headers[0]))
        sheet.freeze_panes = "A2"
        notes = book.create_sheet("填写说明")
        notes.append(["表头", "必填", "内容", "也可识别的表头", "标准字段"])
        for column in table.columns:
            values = "、".join(k for k in table.values.get(column.name, {}) if not k.isascii())
            content = _KIND_ZH[column.kind] + (f"（{values}）" if values else "")
            if column.pii:
                content += "；个人信息，读取时即脱敏"
            notes.append([column.headers[0], "是" if column.required else "", content,
                          "、".join(column.headers[1:]), column.name])
        for letter, width in zip("ABCDE", (14, 6, 44, 36, 22)):
            notes.column_dimensions[letter].width = width
        path = folder / f"{table.name}.xlsx"
        book.save(path)
        written.append(path)
    return written


def new_clinic(folder: Path, *, clinic_id: str | None = None, name: str | None = None,
               start: dt.date | None = None, end: dt.date | None = None, lang: str = "zh") -> list[Path]:
    """Create a clinic folder: clinic.yaml to edit and the intake templates to fill or replace with exports."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError("the folder exists and is not empty", path=folder,
                          fix="choose a new folder name; nothing was changed")
    folder.mkdir(parents=True, exist_ok=True)
    today = dt.date.today()
    end = end or dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
    after = end + dt.timedelta(days=1)
    start = start or dt.date(after.year - 1, after.month, 1)  # the twelve months up to end
    config = {
        "clinic_id": clinic_id or folder.name,
        "name": name or folder.name,
        "period": {"start": start, "end": end},
        "lang": lang,
        "consultant": None,
    }
    text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
    text += ("# Optional: files: {patients: 患者档案.xlsx}, headers: {visits: {到院时间: scheduled_at}},\n"
             "# values: {visits: {status: {已到店: arrived}}}, catalogue: {high_value: [种植套餐]}, items: {VIP卡: other}\n")
    written = [folder / CONFIG_NAME]
    written[0].write_text(text, encoding="utf-8")
    # The minimal tables go in the folder itself (fill them, or replace them with the system's exports);
    # the optional ones wait in optional/ until the clinic can give them.
    (folder / "optional").mkdir()
    for template in sorted(INTAKE_TEMPLATES_DIR.glob("*.xlsx")):
        target = folder if schema.TABLES[template.stem].minimal else folder / "optional"
        written.append(Path(shutil.copy2(template, target / template.name)))
    return written

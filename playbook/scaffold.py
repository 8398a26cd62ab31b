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
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from . import schema
from .config import CONFIG_NAME, INTAKE_TEMPLATES_DIR
from .errors import ConfigError
from .profit import CATEGORIES, ORDER as COST_ORDER
from .weekly import WEEKLY_METRICS

_KIND_ZH = {schema.ID: "编号", schema.TEXT: "文字", schema.DATE: "日期，如 2025-01-05 或 2025/1/5",
            schema.AMOUNT: "金额，如 1234.50", schema.INT: "整数", schema.FLAG: "是 / 否（下拉选择）",
            schema.STATUS: "状态（下拉选择）", schema.SCORE: "评分，如 9"}
_REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")
_EXAMPLE_FONT = Font(italic=True, color="808080")
# The layout of every data sheet: a legend, one example row and the header above the clinic's rows. The loader
# takes the row that best matches the known headers as the header and skips what is above it (title rows), so
# the example is never read as data, whether it is kept or deleted.
LEGEND_ROW, EXAMPLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4
VALIDATED_ROWS = 5000  # drop-downs cover this many data rows

# What a front desk writes where the playbook needs a known word. Referral must be written 转介绍 (or the
# clinic's word registered in clinic.yaml's referral_channels): it is how referral share is counted [S3].
CHANNELS = (schema.REFERRAL_CHANNELS[0], "美团", "抖音", "大众点评", "小红书", "地推", "自然到店", "其他")
COST_CATEGORIES = tuple(CATEGORIES[key].zh for key in COST_ORDER if key != "other")  # as playbook.profit reads them
GENDERS = ("男", "女")
YES_NO = ("是", "否")
CHANNEL_NOTE = ("来源渠道：从下拉列表选，或照系统的写法填；老客户、朋友介绍来的一律写“转介绍”（或把你们的写法，如 老客介绍，"
                "登记在 clinic.yaml 的 referral_channels 中），否则不计入转介绍占比")
# (table, column) -> what to write, where the kind's words are not enough.
HINTS = {
    ("patients", "source_channel"): CHANNEL_NOTE,
    ("patients", "referrer_patient_id"): "介绍人的患者编号（转介绍来的患者才填）",
    ("patients", "tier_tag"): "文字，如 A / B / C",
    ("visits", "scheduled_at"): "日期和时间，如 2025-01-05 14:00 或 2025/1/5 14:00（只有日期也可以）",
    ("charges", "paid_at"): "日期和时间，如 2025-01-05 15:20（只有日期也可以）",
    ("charges", "amount_paid"): "金额，如 1234.50；退费写负数，如 -500",
    ("leads", "created_at"): "日期和时间，如 2025-01-03 10:00",
    ("leads", "channel"): CHANNEL_NOTE,
    ("campaigns", "channel"): "投放渠道：从下拉列表选，或照系统的写法填",
    ("campaigns", "offer_price"): "金额：引流卡的优惠价，如 9.9",
    ("campaigns", "offer_cost"): "金额：服务一张卡的成本，如 45",
    ("costs", "month"): "月份，如 2025-01（每月每个类别一行）",
    ("costs", "category"): "类别：从下拉列表选（" + "、".join(COST_CATEGORIES) + "），其他类别照写",
    ("costs", "amount"): "金额，如 32000（该月该类别的合计）",
    ("staff", "staff_id"): "编号：其他表里写的医生名，如 王医生",
    ("staff", "daily_capacity"): "整数：每天最多接诊的患者数",
    ("targets", "period"): "周期：月份 2025-11、周 2025-W48 或某一天 2025-11-24",
    ("targets", "metric"): "指标：从下拉列表选，可加“:渠道”或“:科室”，如 新患者数:抖音",
    ("targets", "target"): "目标值：金额或人数写数字；比例写 0.35 或 35（即35%）",
    ("visits", "consultant_id"): "接待这位患者的咨询师（初诊和治疗时登记）",
    ("visits", "booked_at"): "这条预约是什么时候约的，如 2024-12-28 10:20（用来看患者离开前是否约好下次）",
    ("visits", "checked_in_at"): "患者到店签到的时间，如 2025-01-05 13:52",
    ("visits", "started_at"): "开始就诊的时间，如 2025-01-05 14:05",
    ("visits", "ended_at"): "就诊结束、患者离开椅位的时间，如 2025-01-05 15:10",
    ("surveys", "score"): "“您有多大可能把我们推荐给亲友”0–10分",
    ("surveys", "comment"): "患者的留言：只统计主题和条数，报告不会显示原文",
    ("reviews", "stars"): "星级1–5，如 4 或 4.5",
    ("reviews", "text"): "评价内容：只统计主题和条数，报告不会显示原文",
}
EXAMPLES = {
    "patients": {"patient_id": "P0001", "name": "张三", "phone": "13800001234", "first_visit_date": "2025-01-05",
                 "source_channel": "转介绍", "referrer_patient_id": "P0000", "birth_year": 1985, "gender": "女",
                 "member": "是", "tier_tag": "A"},
    "visits": {"visit_id": "V0001", "patient_id": "P0001", "scheduled_at": "2025-01-05 14:00", "status": "已到诊",
               "visit_type": "初诊", "department": "种植", "doctor_id": "王医生", "consultant_id": "李咨询师",
               "chair_id": "1号椅", "booked_at": "2024-12-28 10:20", "checked_in_at": "2025-01-05 13:52",
               "started_at": "2025-01-05 14:05", "ended_at": "2025-01-05 15:10"},
    "charges": {"charge_id": "C0001", "visit_id": "V0001", "patient_id": "P0001", "paid_at": "2025-01-05 15:20",
                "item": "种植牙", "category": "种植", "department": "种植", "list_price": 12800, "amount_paid": 11800,
                "doctor_id": "王医生", "designated": "是"},
    "treatment_plans": {"plan_id": "T0001", "patient_id": "P0001", "created_at": "2025-01-05", "planned_amount": 15000,
                        "status": "已接受", "doctor_id": "王医生"},
    "leads": {"lead_id": "L0001", "channel": "抖音", "campaign_id": "HD001", "created_at": "2025-01-03 10:00",
              "booked": "是", "arrived": "是", "patient_id": "P0001"},
    "campaigns": {"campaign_id": "HD001", "name": "抖音9.9元洁牙卡", "channel": "抖音", "start": "2025-07-01",
                  "end": "2025-09-30", "spend": 50000, "offer_price": 9.9, "offer_cost": 45, "units_sold": 600},
    "costs": {"month": "2025-01", "category": "耗材", "amount": 32000},
    "staff": {"staff_id": "王医生", "staff_name": "王建国", "role": "医生", "title": "主任医师", "daily_capacity": 8},
    "targets": {"period": "2025-11", "metric": "新患者数", "target": 110, "owner_department": "市场部"},
    "surveys": {"surveyed_at": "2025-01-06", "score": 9, "doctor_id": "王医生", "channel": "转介绍", "patient_id": "P0001",
                "comment": "医生讲得很清楚"},
    "reviews": {"platform": "大众点评", "reviewed_at": "2025-01-07 20:15", "stars": 5, "text": "环境干净，医生耐心"},
}
LEGEND = ("第2行（灰色斜体）是填写示例，不会被读入，可以保留；第3行是表头，请从第4行起每行填一条记录，表头不要改。"
          "带下拉箭头的列请从列表选择。日期写 2025-01-05 或 2025/1/5，时间写 2025-01-05 14:00，月份写 2025-01。"
          "每列怎么填见“填写说明”工作表。")


def choices(table: schema.Table, column: schema.Column) -> tuple[tuple[str, ...], bool] | None:
    """The drop-down of a column, and whether only its words are accepted (status and yes/no columns)."""
    if column.kind == schema.STATUS:
        words = {}
        for word, value in table.values.get(column.name, {}).items():
            if not word.isascii():
                words.setdefault(value, word)  # the first Chinese word of each status
        return tuple(words.values()), True
    if column.kind == schema.FLAG:
        return YES_NO, True
    listed = {"source_channel": CHANNELS, "channel": CHANNELS, "gender": GENDERS}
    if table.name == "costs" and column.name == "category":
        return COST_CATEGORIES, False
    if table.name == "targets" and column.name == "metric":
        return tuple(m.zh for m in WEEKLY_METRICS.values()), False
    return (listed[column.name], False) if column.name in listed else None


def write_intake_templates(folder: Path = INTAKE_TEMPLATES_DIR) -> list[Path]:
    """One workbook per table: a legend, an example row, the header (required columns shaded), drop-downs
    for the columns that take known words, and a 填写说明 sheet saying what each column takes."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in schema.TABLES.values():
        book = Workbook()
        sheet = book.active
        sheet.title = table.zh
        _legend(sheet, len(table.columns))
        example = EXAMPLES[table.name]
        for index, column in enumerate(table.columns, start=1):
            letter = get_column_letter(index)
            sample = sheet.cell(row=EXAMPLE_ROW, column=index, value=example.get(column.name))
            sample.font = _EXAMPLE_FONT
            header = sheet.cell(row=HEADER_ROW, column=index, value=column.headers[0])
            header.font = Font(bold=True)
            if column.required:
                header.fill = _REQUIRED_FILL
            sheet.column_dimensions[letter].width = max(12, 3 * len(column.headers[0]), 2 * len(str(sample.value or "")))
            listed = choices(table, column)
            if listed:
                _drop_down(sheet, f"{letter}{FIRST_DATA_ROW}:{letter}{VALIDATED_ROWS + FIRST_DATA_ROW - 1}",
                           column.headers[0], *listed)
        sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
        notes = book.create_sheet("填写说明")
        notes.append(["表头", "必填", "内容", "也可识别的表头", "标准字段"])
        for column in table.columns:
            content = HINTS.get((table.name, column.name), _KIND_ZH[column.kind])
            listed = choices(table, column)
            if listed and column.kind in (schema.STATUS, schema.FLAG):
                content += "：" + "、".join(listed[0])
            if column.pii:
                content += "；个人信息，读取时即脱敏"
            notes.append([column.headers[0], "是" if column.required else "", content,
                          "、".join(column.headers[1:]), column.name])
        notes.append([])
        notes.append(["粉色表头 = 必填列；数据表第2行是示例，不会被读入。"])
        notes.cell(row=notes.max_row, column=1).fill = _REQUIRED_FILL
        for letter, width in zip("ABCDE", (14, 6, 60, 36, 22)):
            notes.column_dimensions[letter].width = width
        path = folder / f"{table.name}.xlsx"
        book.save(path)
        written.append(path)
    return written


def _legend(sheet, width: int) -> None:
    swatch = sheet.cell(row=LEGEND_ROW, column=1, value="粉色 = 必填")
    swatch.fill, swatch.font = _REQUIRED_FILL, Font(bold=True)
    text = sheet.cell(row=LEGEND_ROW, column=2, value=LEGEND)
    text.alignment = Alignment(wrap_text=True, vertical="top")
    if width > 2:
        sheet.merge_cells(start_row=LEGEND_ROW, start_column=2, end_row=LEGEND_ROW, end_column=width)
    sheet.row_dimensions[LEGEND_ROW].height = 64


def _drop_down(sheet, cells: str, header: str, words: tuple[str, ...], strict: bool) -> None:
    rule = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True)
    rule.errorStyle = "stop" if strict else "information"  # status and yes/no words must be known ones
    rule.errorTitle, rule.error = header, f"请从列表中选择：{'、'.join(words)}"
    rule.promptTitle, rule.prompt = header, "从列表中选择" if strict else "从列表中选择，或照系统的写法填写"
    rule.showErrorMessage = rule.showInputMessage = True
    sheet.add_data_validation(rule)
    rule.add(cells)


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
             "# values: {visits: {status: {已到店: arrived}}}, catalogue: {high_value: [种植套餐]}, items: {VIP卡: other}\n"
             "# referral_channels: [老客介绍]   # channels that count as referral besides 转介绍\n"
             "# type: general   # general | children | orthodontic | implant (the portfolio's peer group; "
             "omitted: read from the data)\n"
             "# Chair vacancy [S0] needs when the clinic opens and how many chairs it has, e.g.\n"
             "#   opening_hours: {mon-fri: \"09:00-18:00\", sat-sun: \"09:00-17:00\"}\n"
             "#   chairs: 6                      # or per department: {种植: 2, 正畸: 1, 其他: 3}\n"
             "#   prime_hours: {mon-fri: \"14:00-17:00\"}   # omitted: 14:00-17:00 every open day [S0]\n"
             "opening_hours:\nchairs:\n")
    written = [folder / CONFIG_NAME]
    written[0].write_text(text, encoding="utf-8")
    # The minimal tables go in the folder itself (fill them, or replace them with the system's exports);
    # the optional ones wait in optional/ until the clinic can give them.
    (folder / "optional").mkdir()
    for template in sorted(INTAKE_TEMPLATES_DIR.glob("*.xlsx")):
        target = folder if schema.TABLES[template.stem].minimal else folder / "optional"
        written.append(Path(shutil.copy2(template, target / template.name)))
    return written

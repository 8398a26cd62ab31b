"""The intake data audit: before any diagnosis, what did the clinic give us and can we trust it?

Method step 1 starts with a full "check-up" of the data [S1, seeds/001]. The audit reports, for each
table of method.md: found or missing, the header mapping used, rows, date range, duplicate ids,
missing and invalid values, rows dropped (title, blank and totals rows), orphan keys, refunds, the
personal-data columns found (masked or dropped), and which analyses the data supports.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import i18n, schema
from .clinic import Clinic, load_clinic
from .errors import DuplicateIdError, InvalidValuesError, PlaybookError
from .results import _need_zh

# Which analyses the data supports: (name, 中文, English, needs [(table, column or None)]), in chapter
# order, named as the analyses name themselves (their `Unavailable` results say the same). A need
# ("clinic.yaml", key) is a setting the consultant adds to the configuration.
CONFIG_NEEDS_ZH = {"opening_hours": "营业时间", "chairs": "各科室椅位数", "interventions": "要评估的干预措施"}
CONFIG_NEEDS_EN = {"opening_hours": "opening hours", "chairs": "chairs per department",
                   "interventions": "the interventions to evaluate"}
MINIMAL = [("patients", None), ("visits", None), ("charges", None)]
ANALYSES: list[tuple[str, str, str, list[tuple[str, str | None]]]] = [
    ("headline_kpis", "核心指标", "Headline KPIs", MINIMAL),
    ("drivers", "营收驱动因素分解", "Revenue driver tree", MINIMAL),
    ("drivers_departments", "分科室驱动因素", "Drivers by department", [("visits", "department")]),
    ("channels", "渠道新客与初诊成交", "New patients and conversion by channel", [("patients", "source_channel")]),
    ("campaign_roi", "渠道投入产出与止损", "Channel ROI and stop-loss", [("patients", "source_channel"), ("campaigns", "spend")]),
    ("leads_funnel", "线索到店率", "Lead → arrival rate", [("leads", None)]),
    ("return_curves", "首诊队列复诊曲线", "Cohort return curves", MINIMAL),
    ("referral_share", "转介绍占比", "Referral share", [("patients", "source_channel")]),
    ("rfm", "RFM分层与ABC分类", "RFM segments and ABC classes", MINIMAL),
    ("churn_warning", "高价值客户流失预警", "High-value churn warnings", MINIMAL),
    ("child_family", "儿童带动家庭", "Child → family conversion", [("patients", "referrer_patient_id")]),
    ("doctors", "医生业绩", "Doctors: revenue and conversion", [("visits", "doctor_id")]),
    ("designation", "医生指定率", "Doctor designation", [("charges", "doctor_id"), ("charges", "designated")]),
    ("doctor_load", "医生负荷", "Doctor load against capacity", [("visits", "doctor_id")]),
    ("plan_completion", "治疗计划完诊率", "Treatment-plan completion", [("treatment_plans", None)]),
    ("no_show_times", "爽约时段", "No-shows by weekday and hour", MINIMAL),
    ("no_show_channels", "各渠道爽约率", "No-shows by channel", [("patients", "source_channel")]),
    ("chair_vacancy", "椅位空置率", "Chair vacancy", [("clinic.yaml", "opening_hours"), ("clinic.yaml", "chairs")]),
    ("profit", "利润与各项成本占比", "Profit and cost shares", [("costs", None)]),
    ("cost_ratios", "耗材、加工费与库存占比", "Consumables, lab and inventory shares", [("costs", None)]),
    ("bottleneck", "瓶颈排序", "Bottleneck ranking", MINIMAL),
    ("campaign_breakeven", "引流活动盈亏平衡", "Campaign break-even", [("campaigns", "offer_price")]),
    ("evaluation", "干预前后评估", "Before/after evaluation", [("clinic.yaml", "interventions")]),
]


def _first_date_column(table: schema.Table) -> str | None:
    return next((c.name for c in table.columns if c.kind == schema.DATE), None)


@dataclass
class AuditResult:
    """What the clinic's data is, and what it can support."""

    clinic: Clinic

    @property
    def usable(self) -> bool:
        """The minimal tables are there and readable: the playbook can run."""
        return all(self.clinic.loads[t].usable for t in schema.MINIMAL_TABLES)

    @property
    def tables(self) -> pd.DataFrame:
        rows = []
        for name, table in schema.TABLES.items():
            load = self.clinic.loads[name]
            data = load.data
            date_col = _first_date_column(table)
            dates = data[date_col].dropna() if data is not None and date_col else pd.Series(dtype="datetime64[us]")
            rows.append({
                "table": name, "zh": table.zh, "needed": table.minimal,
                "file": load.path.name if load.found else None,
                "read_as": load.sheet and f"sheet {load.sheet}" or load.encoding,
                "header_row": load.header_row,
                "rows": None if data is None else len(data),
                "from": dates.min().date() if len(dates) else None,
                "to": dates.max().date() if len(dates) else None,
                "dropped_rows": sum(len(r) for r in load.dropped_rows.values()),
                "duplicate_ids": sum(len(e.rows) for e in load.errors if isinstance(e, DuplicateIdError)),
                "invalid_values": sum(len(e.rows) for e in load.errors + load.warnings if isinstance(e, InvalidValuesError)),
                "missing_values": _missing_values(load, table),
                "status": _status(load, table),
            })
        return pd.DataFrame(rows)

    @property
    def mapping(self) -> pd.DataFrame:
        rows = [{"table": name, "header": header, "column": column}
                for name, load in self.clinic.loads.items() for header, column in load.mapping.items()]
        rows += [{"table": name, "header": header, "column": None}
                 for name, load in self.clinic.loads.items() for header in load.unrecognised]
        return pd.DataFrame(rows, columns=["table", "header", "column"])

    @property
    def problems(self) -> pd.DataFrame:
        rows = []
        for name, load in self.clinic.loads.items():
            warnings = load.warnings + self._orphans(name) + self._history(name)
            for severity, problems in (("error", load.errors), ("warning", warnings)):
                rows += [_problem_row(name, severity, p) for p in problems]
            for reason, dropped in load.dropped_rows.items():
                rows.append({"table": name, "severity": "info", "column": None, "rows": _rows(dropped),
                             "message": f"{len(dropped)} {reason} row(s) dropped", "fix": None,
                             "zh": f"删除{_DROPPED_ZH[reason]} {len(dropped)} 行"})
        return pd.DataFrame(rows, columns=["table", "severity", "column", "rows", "message", "fix", "zh"])

    @property
    def personal_data(self) -> pd.DataFrame:
        rows = [{"table": name, "header": header, "action": action}
                for name, load in self.clinic.loads.items() for header, action in load.personal_data.items()]
        return pd.DataFrame(rows, columns=["table", "header", "action"])

    @property
    def refunds(self) -> dict:
        charges = self.clinic.charges if self.clinic.has("charges") else None
        if charges is None:
            return {"count": 0, "amount": 0.0}
        negative = charges[charges["amount_paid"] < 0]
        return {"count": len(negative), "amount": round(float(negative["amount_paid"].sum()), 2)}

    @property
    def analyses(self) -> pd.DataFrame:
        rows = []
        for name, zh, en, needs in ANALYSES:
            absent = [(t, c) for t, c in needs if not self._has(t, c)]
            # in the owner's words: which data to add, never a file or a configuration key
            missing = [f"the clinic's {CONFIG_NEEDS_EN.get(c, c)}" if t == "clinic.yaml" else
                       f"the {t} table's “{c}” column" if c else f"the {t} table" for t, c in absent]
            missing_zh = [f"诊所的“{CONFIG_NEEDS_ZH.get(c, c)}”" if t == "clinic.yaml" else _need_zh(f"{t}.{c}" if c else t)
                          for t, c in absent]
            rows.append({"analysis": name, "zh": zh, "en": en, "can_run": not missing, "needs": ", ".join(missing),
                         "needs_zh": "、".join(missing_zh)})
        return pd.DataFrame(rows)

    def _has(self, table: str, column: str | None) -> bool:
        if table == "clinic.yaml":  # a setting, not a table: the configuration has no such key yet
            return bool(getattr(self.clinic.config, column, None))
        return self.clinic.has(table, column)

    def _history(self, name: str) -> list[PlaybookError]:
        """Visits that begin inside the period: a patient's first arrival in the data may not be their
        first ever, so new patients (the contract's first arrival) are overcounted."""
        if name != "visits" or not self.clinic.has("visits"):
            return []
        first = self.clinic.visits["scheduled_at"].min()
        start = self.clinic.config.period.start
        if pd.isna(first) or first.date() <= start:
            return []
        return [PlaybookError(
            f"the visits begin on {first.date()}, after the period starts ({start}): patients who came before "
            f"the export began count as new", path=self.clinic.loads[name].path, column="scheduled_at",
            fix="export visits from at least a year before the period, or start the period later in clinic.yaml",
            zh=f"预约到诊记录从{first.date()}才开始，晚于分析期起点{start}：此前来过的老患者会被算作新患者；"
               f"请导出分析期前至少一年的记录，或把分析期起点后移")]

    def _orphans(self, name: str) -> list[PlaybookError]:
        """Keys that point nowhere: a visit or charge whose patient is not in the patients export."""
        c = self.clinic
        if name not in ("visits", "charges") or not (c.has(name) and c.has("patients")):
            return []
        data, load = c.table(name), c.loads[name]
        unknown = ~data["patient_id"].isin(c.patients["patient_id"])
        found = []
        if unknown.any():
            found.append(PlaybookError(
                f"{int(unknown.sum())} row(s) name a patient who is not in the patients export "
                f"({data.loc[unknown, 'patient_id'].nunique()} patient id(s)); they count, with channel 'unknown'",
                path=load.path, column="patient_id", rows=data.loc[unknown, "source_row"].tolist(),
                fix="export patients again covering all years, or check the id format (leading zeros)",
                zh=f"{int(unknown.sum())} 行记录的患者不在患者档案中（{data.loc[unknown, 'patient_id'].nunique()} 个编号），"
                   f"仍计入分析，来源渠道记为未知"))
        if name == "charges" and c.has("charges", "visit_id") and c.has("visits"):
            lost = data["visit_id"].notna() & ~data["visit_id"].isin(c.visits["visit_id"])
            if lost.any():
                found.append(PlaybookError(
                    f"{int(lost.sum())} charge(s) name a visit that is not in the visits export",
                    path=load.path, column="visit_id", rows=data.loc[lost, "source_row"].tolist(),
                    fix="export visits over the same dates as charges",
                    zh=f"{int(lost.sum())} 条收费记录的预约编号在预约到诊表中找不到"))
        return found

    def finding(self, lang: str = "zh") -> str:
        tables, analyses = self.tables, self.analyses
        found = int(tables["file"].notna().sum())
        errors = int((self.problems["severity"] == "error").sum())
        runnable = int(analyses["can_run"].sum())
        if lang == "zh":
            head = f"共识别 {found} 张数据表；{len(analyses)} 项分析中 {runnable} 项数据齐全。"
            return head + ("基础数据可用，可以开始诊断。" if self.usable
                           else f"有 {errors} 个问题必须先修正（见下表的修正方法），否则无法诊断。")
        head = f"{found} tables found; the data supports {runnable} of {len(analyses)} analyses."
        return head + (" The minimal tables are usable: the diagnosis can start." if self.usable
                       else f" {errors} problem(s) must be fixed first (see the fixes below).")

    def tables_for(self, lang: str = "zh") -> pd.DataFrame:
        """The table overview as the report shows it."""
        status = {"ok": ("正常", "ok"), "warnings": ("有提醒", "warnings"), "error": ("错误", "error"),
                  "missing": ("缺失", "missing"), "not given": ("未提供", "not given")}
        t = self.tables
        dates = [f"{a} – {b}" if a else "" for a, b in zip(t["from"], t["to"])]
        return pd.DataFrame({
            i18n.pick(lang, "数据表", "Table"): t["zh"] if lang == "zh" else t["table"],
            i18n.pick(lang, "文件", "File"): t["file"].fillna(""),
            i18n.pick(lang, "读取方式", "Read as"): t["read_as"].fillna("").map(lambda v: _read_as(v, lang)),
            i18n.pick(lang, "行数", "Rows"): t["rows"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}"),
            i18n.pick(lang, "日期范围", "Dates"): dates,
            i18n.pick(lang, "删除行", "Dropped rows"): t["dropped_rows"],
            i18n.pick(lang, "状态", "Status"): t["status"].map(lambda s: i18n.pick(lang, *status[s])),
        })

    def problems_for(self, lang: str = "zh") -> pd.DataFrame:
        severity = {"error": ("错误", "error"), "warning": ("提醒", "warning"), "info": ("说明", "info")}
        p = self.problems
        return pd.DataFrame({
            i18n.pick(lang, "数据表", "Table"): p["table"].map(lambda n: schema.TABLES[n].zh if lang == "zh" else n),
            i18n.pick(lang, "级别", "Level"): p["severity"].map(lambda s: i18n.pick(lang, *severity[s])),
            i18n.pick(lang, "列", "Column"): p["column"].fillna(""),
            i18n.pick(lang, "行", "Rows"): p["rows"],
            i18n.pick(lang, "说明", "Message"): p["zh"].fillna(p["message"]) if lang == "zh" else p["message"],
        })

    def analyses_for(self, lang: str = "zh") -> pd.DataFrame:
        a = self.analyses
        return pd.DataFrame({
            i18n.pick(lang, "分析", "Analysis"): a["zh"] if lang == "zh" else a["en"],
            i18n.pick(lang, "可以进行", "Can run"): a["can_run"].map({True: i18n.pick(lang, "可以", "yes"), False: i18n.pick(lang, "否", "no")}),
            i18n.pick(lang, "还需要", "Needs"): a["needs_zh"] if lang == "zh" else a["needs"],
        })

    def privacy_note(self, lang: str = "zh") -> str:
        pii = self.personal_data
        if pii.empty:
            return i18n.pick(lang, "数据中没有发现姓名、手机号等个人信息列。", "No personal-data columns were found.")
        masked = "、".join(pii.loc[pii["action"] == "masked", "header"]) or "—"
        dropped = "、".join(pii.loc[pii["action"] == "dropped", "header"]) or "—"
        return i18n.pick(
            lang,
            f"个人信息列：{masked} 在读取时已脱敏（如 张\\*\\*、138\\*\\*\\*\\*5678）；{dropped} 未读取。报告、表格和数据文件中不会出现完整的姓名或手机号。",
            f"Personal data: {masked} masked the moment they are read (e.g. 张\\*\\*, 138\\*\\*\\*\\*5678); {dropped} not read. "
            f"No full name or phone number appears in any report, workbook or data file.")

    def as_text(self) -> str:
        """The audit for a terminal (`playbook audit`)."""
        lang = self.clinic.config.lang
        width = {"display.width": 160, "display.max_columns": 20, "display.max_colwidth": 90}
        with pd.option_context(*[x for kv in width.items() for x in kv]):
            parts = [f"Intake audit: {self.clinic.config.name} ({self.clinic.config.clinic_id})",
                     self.finding("en"), "", "Tables", _plain(self.tables.drop(columns="zh")).to_string(index=False)]
            problems = self.problems
            if len(problems):
                parts += ["", "Problems"]
                for row in problems.itertuples():
                    where = f"{row.table}" + (f", column {row.column!r}" if pd.notna(row.column) else "")
                    parts.append(f"- [{row.severity}] {where}: {row.message}" + (f" (rows {row.rows})" if row.rows else ""))
                    if pd.notna(row.fix):
                        parts.append(f"    fix: {row.fix}")
            if len(self.personal_data):
                parts += ["", "Personal data (never shown unmasked)",
                          self.personal_data.to_string(index=False)]
            refunds = self.refunds
            parts += ["", f"Refunds: {refunds['count']} line(s), {i18n.money(refunds['amount'], 'en')}",
                      "", "Analyses", self.analyses.drop(columns="zh" if lang == "en" else "en").to_string(index=False)]
        return "\n".join(parts)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole numbers without '.0' and blanks instead of NaN, for a terminal."""
    out = frame.astype(object)
    for column in out:
        out[column] = [("" if v is None or (isinstance(v, float) and v != v) else
                        int(v) if isinstance(v, float) and v.is_integer() else v) for v in out[column]]
    return out


def _rows(rows: list[int], shown: int = 5) -> str:
    more = f" … (+{len(rows) - shown})" if len(rows) > shown else ""
    return ", ".join(str(r) for r in rows[:shown]) + more


_DROPPED_ZH = {"blank": "空行", "totals": "合计行"}


def _problem_row(table: str, severity: str, problem: PlaybookError) -> dict:
    return {"table": table, "severity": severity, "column": problem.column, "rows": _rows(problem.rows),
            "message": problem.message, "fix": problem.fix, "zh": problem.zh}


def _missing_values(load, table: schema.Table) -> int:
    if load.data is None:
        return 0
    present = [c for c in load.mapping.values() if c in load.data]
    return int(load.data[present].isna().sum().sum())


def _status(load, table: schema.Table) -> str:
    if not load.found:
        return "missing" if table.minimal else "not given"
    if load.errors:
        return "error"
    return "warnings" if load.warnings else "ok"


def audit(folder: Path | str) -> AuditResult:
    """Audit a clinic folder: every problem of every table at once, nothing raised for bad data."""
    return AuditResult(load_clinic(folder, strict=False))


def _read_as(read_as: str, lang: str) -> str:
    """How a file was read, in the report's words: 工作表「患者档案」, UTF-8（带BOM）."""
    if lang != "zh":
        return read_as
    if read_as.startswith("sheet "):
        return f"工作表「{read_as[6:]}」"
    return read_as.replace(" with BOM", "（带BOM）")

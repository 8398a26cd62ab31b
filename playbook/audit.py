"""The intake data audit: before any diagnosis, what did the clinic give us and can we trust it?

Method step 1 starts with a full "check-up" of the data [S1, seeds/001]. The audit reports, for each
table of method.md: found or missing, the header mapping used, rows, date range, duplicate ids,
missing and invalid values, rows dropped (title, blank and totals rows), orphan keys, refunds, the
personal-data columns found (masked or dropped), and which analyses the data supports.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import i18n, nondata, schema
from .clinic import Clinic, load_clinic
from .errors import DuplicateIdError, InvalidValuesError, PlaybookError
from .io import LEFT_OUT, Part, table_named
from .results import _need_zh

# Which analyses the data supports: (name, 中文, English, needs [(table, column or None)]), in chapter
# order, named as the analyses name themselves (their `Unavailable` results say the same). A need
# ("clinic.yaml", key) is a setting the consultant adds to the configuration.
# A setting as the owner's report names it (the terminal audit names the clinic.yaml key for the consultant).
CONFIG_NEEDS = {"opening_hours": ("诊所每天的营业时间", "the clinic's opening hours"),
                "chairs": ("诊所的椅位数（全院或各科室）", "how many chairs the clinic has (in all or per department)"),
                "interventions": ("要评估的改进措施及开始日期", "the changes to evaluate and when they started")}
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
    ("reappointment", "离开前预约下次复诊", "Re-appointment", MINIMAL),
    ("nps", "净推荐值NPS", "Net promoter score", [("surveys", None)]),
    ("reviews", "在线评价星级", "Online review stars", [("reviews", None)]),
    ("complaints", "投诉主题", "Complaints by theme", [("surveys|reviews", None)]),
    ("doctors", "医生业绩", "Doctors: revenue and conversion", [("visits", "doctor_id")]),
    ("designation", "医生指定率", "Doctor designation", [("charges", "doctor_id"), ("charges", "designated")]),
    ("doctor_load", "医生负荷", "Doctor load against capacity", [("visits", "doctor_id")]),
    ("plan_completion", "治疗计划完诊率", "Treatment-plan completion", [("treatment_plans", None)]),
    ("no_show_times", "爽约时段", "No-shows by weekday and hour", MINIMAL),
    ("no_show_channels", "各渠道爽约率", "No-shows by channel", [("patients", "source_channel")]),
    ("chair_vacancy", "椅位空置率", "Chair vacancy", [("clinic.yaml", "opening_hours"), ("clinic.yaml", "chairs")]),
    ("wait_times", "候诊时间", "Waiting time", [("visits", "checked_in_at"), ("visits", "started_at")]),
    ("coordinators", "咨询师考核", "Coordinator scorecard", [("visits", "consultant_id")]),
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
        """The playbook can run: exactly what `playbook run` checks (`Clinic.raise_for_errors`), so the
        audit and the run always agree."""
        return not self.clinic.problems()

    @property
    def tables(self) -> pd.DataFrame:
        rows = []
        for name, table in schema.TABLES.items():
            load = self.clinic.loads[name]
            data = load.data
            date_col = schema.EVENT_DATE.get(name) or _first_date_column(table)
            dates = data[date_col].dropna() if data is not None and date_col else pd.Series(dtype="datetime64[us]")
            rows.append({
                "table": name, "zh": table.zh, "needed": table.minimal,
                "file": load.files if load.found else None,
                "read_as": "; ".join(dict.fromkeys(_part_read_as(p) for p in load.parts)) or None,
                "header_row": load.header_row,
                "rows": None if data is None else len(data),
                "from": dates.min().date() if len(dates) else None,
                "to": dates.max().date() if len(dates) else None,
                "dropped_rows": sum(len(d.rows) for d in load.dropped if not d.left_out),
                "left_out": sum(len(d.rows) for d in load.dropped if d.left_out),
                "duplicate_ids": sum(len(e.rows) for e in load.errors if isinstance(e, DuplicateIdError)),
                "invalid_values": sum(len(e.rows) for e in load.errors + load.warnings if isinstance(e, InvalidValuesError)),
                "missing_values": _missing_values(load, table),
                "status": _status(load, table),
            })
        return pd.DataFrame(rows)

    @property
    def mapping(self) -> pd.DataFrame:
        rows = [{"table": name, "header": header, "column": column, "unit": load.units.get(header)}
                for name, load in self.clinic.loads.items() for header, column in load.mapping.items()]
        rows += [{"table": name, "header": header, "column": None, "unit": None}
                 for name, load in self.clinic.loads.items() for header in load.unrecognised]
        return pd.DataFrame(rows, columns=["table", "header", "column", "unit"])

    @property
    def problems(self) -> pd.DataFrame:
        """Every problem and every change made, with the file (and sheet) it is in: errors stop the run,
        warnings are counted with a doubt, info says what was read differently from the cells."""
        rows = []
        for name, load in self.clinic.loads.items():
            warnings = load.warnings + self._lost_visits(name) + self._history(name)
            for severity, problems in (("error", load.errors), ("warning", warnings), ("info", load.notes)):
                rows += [_problem_row(name, severity, p) for p in problems]
            for dropped in load.dropped:
                en, zh = nondata.REASONS.get(dropped.reason) or LEFT_OUT[dropped.reason]
                rows.append({"table": name, "file": _file(dropped.path, dropped.sheet),
                             "severity": "warning" if dropped.left_out else "info", "column": dropped.column,
                             "rows": _rows(dropped.rows), "message": f"{i18n.counted(len(dropped.rows), 'row')} dropped: {en}",
                             "fix": None, "zh": f"删除 {len(dropped.rows)} 行：{zh}"})
            rows += [_layout_row(name, part) for part in load.parts if part.hidden_rows or part.merged_cells
                     or part.hidden_sheet]
            rows += [{"table": name, "file": _file(path, None), "severity": "info", "column": None, "rows": "",
                      "message": f"sheet {skipped.sheet!r} not read: {skipped.reason}", "fix": None,
                      "zh": f"工作表「{skipped.sheet}」未读取：{skipped.zh}"} for path, skipped in load.skipped]
            if len(load.parts) > 1:
                rows.append({"table": name, "file": load.files, "severity": "info", "column": None, "rows": "",
                             "message": f"{len(load.parts)} files or sheets stacked into one table: "
                                        + ", ".join(f"{p.label} ({p.rows:,} rows)" for p in load.parts),
                             "fix": None, "zh": f"{len(load.parts)} 个文件或工作表合并为一张表："
                                                + "、".join(f"{p.label}（{p.rows:,} 行）" for p in load.parts)})
        rows += [_unread_row(path, table_named(path), self.clinic.config) for path in self.clinic.unread]
        rows += self._coverage()
        return pd.DataFrame(rows, columns=["table", "file", "severity", "column", "rows", "message", "fix", "zh"])

    def _coverage(self) -> list[dict]:
        """Tables whose dates do not cover the period (visits and charges are trimmed to; the others are
        said, since the analyses using them see only part of it)."""
        period, rows = self.clinic.config.period, []
        for name in ("treatment_plans", "leads"):
            if not self.clinic.has(name):
                continue
            dates = self.clinic.table(name)[schema.EVENT_DATE[name]].dropna()
            first, last = dates.min().date(), dates.max().date()
            slack = dt.timedelta(days=31)
            if first > period.start + slack or last < period.end - slack:
                load = self.clinic.loads[name]
                rows.append({"table": name, "file": load.files, "severity": "warning", "column": None, "rows": "",
                             "message": f"covers {first}–{last}, not the whole period {period.start}–{period.end}: "
                                        f"the analyses of {name} see only that part",
                             "fix": f"export {name} over the whole period",
                             "zh": f"数据只覆盖 {first} 至 {last}，未覆盖整个分析期 {period.start} 至 {period.end}"})
        return rows

    @property
    def words(self) -> pd.DataFrame:
        """The status words found, and what each was read as (已到店 → arrived)."""
        rows = [{"table": name, "column": load.header_of(column), "word": word, "read_as": value, "rows": n}
                for name, load in self.clinic.loads.items() for column, words in load.words.items()
                for word, (value, n) in sorted(words.items(), key=lambda kv: (kv[1][0], -kv[1][1]))]
        return pd.DataFrame(rows, columns=["table", "column", "word", "read_as", "rows"])

    @property
    def health(self) -> pd.DataFrame:
        """What can move a headline KPI, with its share (playbook.health)."""
        return pd.DataFrame([e.to_dict() for e in self.clinic.health.entries],
                            columns=["table", "file", "what", "rows", "share", "message"])

    @property
    def period(self) -> dict:
        """The period the KPIs cover, and clinic.yaml's when it was trimmed to the data."""
        configured = self.clinic.configured_period or self.clinic.config.period
        used = self.clinic.config.period
        return {"start": used.start.isoformat(), "end": used.end.isoformat(),
                **({"configured": {"start": configured.start.isoformat(), "end": configured.end.isoformat()}}
                   if self.clinic.configured_period else {})}

    def metrics(self) -> dict:
        """What the audit hands to kpis.json: ``data_health`` (a list, empty when clean) and the period."""
        return {"data_health": self.clinic.health.to_list(), "period": self.period}

    @property
    def personal_data(self) -> pd.DataFrame:
        rows = [{"table": name, "header": header, "action": action}
                for name, load in self.clinic.loads.items() for header, action in load.personal_data.items()]
        return pd.DataFrame(rows, columns=["table", "header", "action"])

    @property
    def unread_columns(self) -> pd.DataFrame:
        """Headers of each export that no column of the playbook answers to (personal data aside): an
        analysis the audit says cannot run may be waiting for one of them under another name."""
        rows = [{"table": name, "file": ", ".join(p.name for p in load.paths), "header": header}
                for name, load in self.clinic.loads.items() for header in load.unrecognised
                if header not in load.personal_data]
        return pd.DataFrame(rows, columns=["table", "file", "header"])

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
            # the terminal names the clinic.yaml key; the owner's report says which data to add, in their words
            missing = [f"{t}: {c}" if t == "clinic.yaml" else f"{t}.{c}" if c else t.replace("|", " or ")
                       for t, c in absent]
            missing_zh = [CONFIG_NEEDS[c][0] if t == "clinic.yaml" else
                          "或".join(_need_zh(f"{x}.{c}" if c else x) for x in t.split("|")) for t, c in absent]
            plain = [CONFIG_NEEDS[c][1] if t == "clinic.yaml" else
                     " or ".join(f"the {x} table's “{c}” column" if c else f"the {x} table" for x in t.split("|"))
                     for t, c in absent]
            rows.append({"analysis": name, "zh": zh, "en": en, "can_run": not missing, "needs": ", ".join(missing),
                         "needs_zh": "、".join(missing_zh), "needs_plain": ", ".join(plain)})
        return pd.DataFrame(rows)

    def _has(self, table: str, column: str | None) -> bool:
        if table == "clinic.yaml":  # a setting, not a table: the configuration has no such key yet
            return bool(getattr(self.clinic.config, column, None))
        return any(self.clinic.has(name, column) for name in table.split("|"))  # surveys|reviews: either

    def _history(self, name: str) -> list[PlaybookError]:
        """Visits that begin inside the period: a patient's first arrival in the data may not be their
        first ever, so new patients (the contract's first arrival) are overcounted."""
        if name != "visits" or not self.clinic.has("visits"):
            return []
        first = self.clinic.visits["scheduled_at"].min()
        start = self.clinic.config.period.start
        if pd.isna(first) or first.date() <= start - dt.timedelta(days=365):
            return []
        return [PlaybookError(
            f"the visits begin on {first.date()}, less than a year before the period starts ({start}): patients "
            f"who came before the export began count as new", path=self.clinic.loads[name].path,
            column=self.clinic.loads[name].header_of("scheduled_at"),
            fix="export visits from at least a year before the period, or start the period later in clinic.yaml",
            zh=f"预约到诊记录从{first.date()}才开始，距分析期起点{start}不足一年：此前来过的老患者会被算作新患者；"
               f"请导出分析期前至少一年的记录，或把分析期起点后移")]

    def _lost_visits(self, name: str) -> list[PlaybookError]:
        """Charges naming a visit the visits export lacks (orphan patients are `reconcile`'s)."""
        c = self.clinic
        if name != "charges" or not (c.has("charges", "visit_id") and c.has("visits")):
            return []
        data, load = c.charges, c.loads["charges"]
        lost = data["visit_id"].notna() & ~data["visit_id"].isin(c.visits["visit_id"])
        if not lost.any():
            return []
        return [PlaybookError(
            f"{i18n.counted(int(lost.sum()), 'charge names', 'charges name')} a visit that is not in the visits export",
            path=load.path, column=load.header_of("visit_id"), rows=data.loc[lost, "source_row"].tolist(),
            fix="export visits over the same dates as charges",
            zh=f"{int(lost.sum())} 条收费记录的预约编号在预约到诊表中找不到")]

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
                       else f" {i18n.counted(errors, 'problem')} must be fixed first (see the fixes below).")

    def health_note(self, lang: str = "zh") -> str:
        """What the data health means for the KPIs: the report's first-page sentence, or that nothing found
        can move a headline KPI by more than 1%."""
        return self.clinic.health.sentence(lang, see_audit=False) or i18n.pick(
            lang, "数据体检发现的问题都不足以使任何核心指标变动超过1%。",
            "Nothing the audit found can move a headline KPI by more than 1%.")

    def tables_for(self, lang: str = "zh") -> pd.DataFrame:
        """The table overview as the report shows it."""
        status = {"ok": ("正常", "ok"), "warnings": ("有提醒", "warnings"), "error": ("错误", "error"),
                  "missing": ("缺失", "missing"), "not given": ("未提供", "not given")}
        t = self.tables
        dates = [f"{a}–{b}" if a else "" for a, b in zip(t["from"], t["to"])]  # breaks only after the dash
        return pd.DataFrame({
            i18n.pick(lang, "数据表", "Table"): t["zh"] if lang == "zh" else t["table"],
            i18n.pick(lang, "文件", "File"): t["file"].fillna(""),
            i18n.pick(lang, "读取方式", "Read as"): t["read_as"].fillna("").map(lambda v: _read_as(v, lang)),
            i18n.pick(lang, "行数", "Rows"): t["rows"].map(lambda v: "" if pd.isna(v) else f"{int(v):,}"),
            i18n.pick(lang, "日期范围", "Dates"): dates,
            i18n.pick(lang, "非数据行", "Rows not data"): t["dropped_rows"],
            i18n.pick(lang, "未计入", "Left out"): t["left_out"],
            i18n.pick(lang, "状态", "Status"): t["status"].map(lambda s: i18n.pick(lang, *status[s])),
        })

    def problems_for(self, lang: str = "zh") -> pd.DataFrame:
        severity = {"error": ("错误", "error"), "warning": ("提醒", "warning"), "info": ("说明", "info")}
        p = self.problems
        return pd.DataFrame({
            i18n.pick(lang, "数据表", "Table"): p["table"].map(
                lambda n: "" if n is None or pd.isna(n) else schema.TABLES[n].zh if lang == "zh" else n),
            i18n.pick(lang, "文件", "File"): p["file"].fillna(""),
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
            i18n.pick(lang, "还需要", "Needs"): a["needs_zh"] if lang == "zh" else a["needs_plain"],
        })

    def words_for(self, lang: str = "zh") -> pd.DataFrame:
        """The status words as the report shows them: the word, what it was read as, how many rows."""
        w = self.words
        read_as = {"arrived": "到诊", "no_show": "爽约", "cancelled": "取消", "booked": "已预约（未发生）",
                   "charge": "收费", "refund": "退费", "first": "初诊", "return": "复诊", "proposed": "已提出",
                   "accepted": "已接受", "declined": "已拒绝", "completed": "已完成", "interrupted": "中断"}
        return pd.DataFrame({
            i18n.pick(lang, "数据表", "Table"): w["table"].map(lambda n: schema.TABLES[n].zh if lang == "zh" else n),
            i18n.pick(lang, "列", "Column"): w["column"],
            i18n.pick(lang, "原文", "Word"): w["word"],
            i18n.pick(lang, "读作", "Read as"): w["read_as"].map(lambda v: read_as.get(v, v) if lang == "zh" else v),
            i18n.pick(lang, "行数", "Rows"): w["rows"].map(lambda v: f"{int(v):,}"),
        })

    def privacy_note(self, lang: str = "zh") -> str:
        pii = self.personal_data
        if pii.empty:
            return i18n.pick(lang, "数据中没有发现姓名、手机号等个人信息列。", "No personal-data columns were found.")
        masked, dropped = (pii.loc[pii["action"] == action, "header"].tolist() for action in ("masked", "dropped"))
        if lang == "zh":
            return (f"个人信息列：{'、'.join(masked) or '—'} 在读取时已脱敏（如 张\\*\\*、138\\*\\*\\*\\*5678）；"
                    f"{'、'.join(dropped) or '—'} 未读取。报告、表格和数据文件中不会出现完整的姓名或手机号。")
        # the headers as the exports write them; the example keeps to digits (a name's first character is kept)
        text = (f"Personal data: the {i18n.plural(len(masked), 'column', 'columns')} {', '.join(masked)} "
                f"{i18n.plural(len(masked), 'is', 'are')} masked the moment they are read (a name keeps its first "
                f"character, a phone number reads 138\\*\\*\\*\\*5678)" if masked else "Personal data:")
        if dropped:
            text += f"; {', '.join(dropped)} {i18n.plural(len(dropped), 'is', 'are')} not read"
        return text + ". No full name or phone number appears in any report, workbook or data file."

    def as_text(self) -> str:
        """The audit for a terminal (`playbook audit`)."""
        lang = self.clinic.config.lang
        width = {"display.width": 160, "display.max_columns": 20, "display.max_colwidth": 90}
        with pd.option_context(*[x for kv in width.items() for x in kv]):
            parts = [f"Intake audit: {self.clinic.config.name} ({self.clinic.config.clinic_id})",
                     self.finding("en"), "", "Tables", _plain(self.tables.drop(columns="zh")).to_string(index=False)]
            period = self.period
            if "configured" in period:
                parts += ["", f"Period: {period['start']} – {period['end']} (clinic.yaml: {period['configured']['start']} "
                              f"– {period['configured']['end']}, trimmed to the data)"]
            problems = self.problems
            if len(problems):
                parts += ["", "Problems"]
                for row in problems.itertuples():
                    where = ", ".join(str(w) for w in (row.table, row.file) if w is not None and pd.notna(w))
                    where += f", column {row.column!r}" if pd.notna(row.column) and row.column else ""
                    parts.append(f"- [{row.severity}] {where}: {row.message}" + (f" (rows {row.rows})" if row.rows else ""))
                    if pd.notna(row.fix) and row.fix:
                        parts.append(f"    fix: {row.fix}")
            words = self.words
            if len(words):
                parts += ["", "Status words read", words.to_string(index=False)]
            parts += ["", "Data health", self.health_note("en").replace("**", "")]
            if len(self.health):
                parts.append(_plain(self.health.drop(columns="message")).to_string(index=False))
            if len(self.personal_data):
                parts += ["", "Personal data (never shown unmasked)",
                          self.personal_data.to_string(index=False)]
            unread = self.unread_columns
            if len(unread):
                parts += ["", "Columns not read (an analysis below that needs a column may find it under one of "
                              "these names: rename the header to the one the analysis names)"]
                parts += [f"- {table}, {group['file'].iloc[0]}: {', '.join(group['header'])}"
                          for table, group in unread.groupby("table", sort=False)]
            refunds = self.refunds
            parts += ["", f"Refunds: {i18n.counted(refunds['count'], 'line')}, {i18n.money(refunds['amount'], 'en')}",
                      "", "Analyses", self.analyses.drop(columns=["zh" if lang == "en" else "en", "needs_plain"]).to_string(index=False)]
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


def _file(path: Path | None, sheet: str | None) -> str | None:
    return None if path is None else f"{path.name}, sheet {sheet}" if sheet else path.name


def _part_read_as(part: Part) -> str:
    if part.sheet:
        return f"sheet {part.sheet}"
    separator = {"\t": "tab", ";": "semicolon", "|": "bar"}.get(part.delimiter)
    return part.encoding + (f", {separator}-separated" if separator else "")


def _unread_row(path: Path, table: str | None, config) -> dict:
    if table:  # named like a table whose file clinic.yaml names
        named = config.files.get(table)
        return {"table": table, "file": path.name, "severity": "warning", "column": None, "rows": "",
                "message": f"not read: named like the {table} table, but clinic.yaml names {named} for it",
                "fix": f"if it holds more {table} rows, name both in clinic.yaml with a pattern (files: {{{table}: "
                       f"\"<common start>*{path.suffix}\"}}) and they are stacked; otherwise move it out of the folder",
                "zh": f"未读取：文件名像是{schema.TABLES[table].zh}，但 clinic.yaml 指定了 {named}"}
    return {"table": None, "file": path.name, "severity": "warning", "column": None, "rows": "",
            "message": "not read: its name is no table's (patients, visits, charges … or 患者档案, 预约到诊, 收费明细 …)",
            "fix": f"rename it after its table, or name it in clinic.yaml: files: {{<table>: {path.name}}}",
            "zh": "未读取：文件名不对应任何数据表；请按表名重命名，或在 clinic.yaml 的 files: 中指定"}


def _layout_row(table: str, part: Part) -> dict:
    said = [f"{i18n.counted(len(part.hidden_rows), 'hidden row')} read as data (rows {_rows(part.hidden_rows)})" if part.hidden_rows else "",
            f"{i18n.counted(part.merged_cells, 'cell')} of merged ranges filled with the merged value" if part.merged_cells else "",
            "the sheet is hidden in Excel; read as data" if part.hidden_sheet else ""]
    zh = [f"{len(part.hidden_rows)} 个隐藏行按数据读取" if part.hidden_rows else "",
          f"合并单元格已拆分，{part.merged_cells} 个单元格填入合并值" if part.merged_cells else "",
          "该工作表在 Excel 中被隐藏，仍按数据读取" if part.hidden_sheet else ""]
    return {"table": table, "file": part.label, "severity": "info", "column": None, "rows": "",
            "message": "; ".join(s for s in said if s), "fix": None, "zh": "；".join(s for s in zh if s)}


def _problem_row(table: str, severity: str, problem: PlaybookError) -> dict:
    return {"table": table, "file": _file(problem.path, problem.sheet), "severity": severity, "column": problem.column,
            "rows": _rows(problem.rows), "message": problem.message, "fix": problem.fix, "zh": problem.zh}


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
    return "warnings" if load.warnings or any(d.left_out for d in load.dropped) else "ok"


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

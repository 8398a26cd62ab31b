"""The data-health gate: how far what the intake found can move a headline KPI, and what is said about it.

Every number in a report is either right or visibly in doubt. Rows of data left out (duplicates,
missing required values, implausible dates), rows naming a patient the patients export lacks, visits
with no outcome and a period trimmed to the data each can move a headline KPI by up to their share of
the table (for a trim or an export that stops early, of the period's days). Above `NOTE_SHARE` the report's first page says so in one sentence with its size, and
kpis.json carries the entry (``data_health``); above `STOP_SHARE` the run stops (exit 2) with the
fix, because the KPIs would be more doubt than number. Rows that are not data (totals, subtotals,
footers, a repeated header) are read right by leaving them out and are not a doubt: the audit lists
them.

The lines are the project's (issue 13), not the method's: 1% is the smallest change an owner acts on
in a headline KPI, 20% the point where most of a table is in question.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import i18n
from .errors import PlaybookError

NOTE_SHARE = 0.01
STOP_SHARE = 0.20

# what -> (English, 中文): what the rows are, as a sentence part after "N rows (x%) of <table>"
WHAT = {
    "duplicate": ("were exact duplicates (the same record exported twice) and were dropped",
                  "是重复导出的相同记录，已剔除"),
    "incomplete": ("lacked a required value and were left out", "缺少必填值，未计入"),
    "implausible_date": ("had an implausible date and were left out", "日期不合理，未计入"),
    "orphans": ("name a patient the patients export lacks (counted, channel unknown)",
                "对应的患者不在患者档案中（已计入，渠道记为未知）"),
    "no_outcome": ("are still marked booked although their day has passed: neither arrivals nor no-shows",
                   "日期已过仍为“已预约”：既不算到诊也不算爽约"),
    "period_trimmed": ("", ""),  # their sentence is their own (the dates, the days)
    "short_export": ("", ""),
}
FIXES = {
    "duplicate": "remove the repeated rows (the second export of the same receipts) from a corrected copy",
    "incomplete": "fill in the empty required cells, or export the table again from the clinic system",
    "implausible_date": "correct the dates in the clinic system and export again",
    "orphans": "export patients again covering every year of the visits and charges, from the same system, "
               "so that the patient ids match",
    "no_outcome": "record each past appointment's outcome (到诊, 爽约 or 取消) in the clinic system and export again",
}


@dataclass(frozen=True)
class HealthEntry:
    """One problem the intake found, and its size: rows of a table, or days of the period."""

    table: str
    what: str
    rows: int | None
    share: float  # of the table's rows read as data; of the period's days for a trim or a short export
    path: Path | None = None
    column: str | None = None
    first_rows: tuple[int, ...] = ()  # in the file, for the error
    files: str | None = None  # the files (and sheets) the rows are in
    days: int | None = None  # a trimmed period: the days cut off
    en: str = ""  # a trimmed period: the sentence part
    zh: str = ""
    fix: str | None = None  # what to do, when more precise than FIXES

    def to_dict(self) -> dict:
        """The kpis.json entry (a contract: keys are added, never renamed)."""
        out = {"table": self.table, "file": self.files, "what": self.what, "rows": self.rows,
               "share": round(self.share, 6), "message": self.part("en")}
        if self.days is not None:
            out["days"] = self.days
        return out

    def part(self, lang: str) -> str:
        """The entry as a clause: '1,930 of the 57,065 charges rows (3.4%, charges.csv) were …'."""
        if self.en:  # a period trimmed, an export stopping early: said with their dates
            return self.zh if lang == "zh" else self.en
        en, zh = WHAT[self.what]
        where = f"（{self.files}）" if self.files else ""
        if lang == "zh":
            return f"{_TABLE_ZH.get(self.table, self.table)}{where}中有 {i18n.count(self.rows, 'zh')} 行（{i18n.rate(self.share, 'zh')}）{zh}"
        where = f" ({self.files})" if self.files else ""
        return f"{i18n.count(self.rows, 'en')} {self.table} rows{where}, {i18n.rate(self.share, 'en')} of them, {en}"

    def error(self) -> PlaybookError:
        """The entry as the error that stops the run."""
        what = self.part("en")
        fix = self.fix or FIXES.get(self.what, "set the period in clinic.yaml within the data's dates")
        return PlaybookError(f"{what}: more than {STOP_SHARE:.0%}, so the headline KPIs cannot be trusted",
                             path=self.path, column=self.column, rows=self.first_rows, fix=fix,
                             zh=f"{self.part('zh')}：超过{STOP_SHARE:.0%}，核心指标不可信")


_TABLE_ZH = {"patients": "患者档案", "visits": "预约到诊", "charges": "收费明细", "treatment_plans": "治疗计划",
             "leads": "线索咨询", "campaigns": "营销活动", "costs": "月度成本", "staff": "员工", "targets": "目标"}


@dataclass
class DataHealth:
    """What the intake found that can move a headline KPI: entries, the first-page sentence, the gate."""

    entries: list[HealthEntry] = field(default_factory=list)

    @property
    def notable(self) -> list[HealthEntry]:
        """Entries that can move a headline KPI by more than NOTE_SHARE: the first page names them."""
        return [e for e in self.entries if e.share > NOTE_SHARE]

    @property
    def blocking(self) -> list[HealthEntry]:
        """Entries past STOP_SHARE: the run stops."""
        return [e for e in self.entries if e.share > STOP_SHARE]

    def errors(self) -> list[PlaybookError]:
        return [e.error() for e in self.blocking]

    def sentence(self, lang: str = "zh", *, see_audit: bool = True) -> str:
        """One sentence for the report's first page, or "" when nothing can move a KPI by more than 1%;
        ``see_audit`` points the reader to the audit (not wanted in the audit itself)."""
        notable = self.notable
        if not notable:
            return ""
        parts = [e.part(lang) for e in notable]
        if lang == "zh":
            return (f"**数据提示：**{'；'.join(parts)}。相关核心指标可能因此有同等幅度的偏差"
                    + ("，详见附录“数据体检”。" if see_audit else "。"))
        return (f"**Data note:** {'; '.join(parts)}. The headline KPIs may be off by as much"
                + ("; the data audit in the appendix has the details." if see_audit else "."))

    def to_list(self) -> list[dict]:
        """kpis.json's ``data_health``: one entry per problem found (empty when the data is clean)."""
        return [e.to_dict() for e in self.entries]

"""The executive summary: the one page an owner reads first.

The bottleneck in one sentence, the headline KPIs, the 3–5 findings with their numbers and revenue at
stake, and the prescriptions chosen, with their owners and targets. Every figure comes from the
results the chapters show (the diagnosis and the prescriptions are computed once per clinic), so the
summary can never disagree with the chapter behind it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import i18n
from .clinic import Clinic
from .diagnosis import diagnose
from .kpis import clinic_kpis
from .metrics import metric_label
from .prescribe import format_value, prescribe
from .results import RED, Finding

SUMMARY_FINDINGS = (3, 5)  # at least 3 findings when there are, at most 5: one page


@dataclass
class ExecutiveSummary:
    clinic: Clinic
    kpis: object  # playbook.kpis.HeadlineKpis
    ranking: object  # playbook.bottleneck.BottleneckRanking
    plan: object  # playbook.prescribe.PrescriptionPlan

    def headline(self, lang: str = "zh") -> str:
        """The bottleneck in one sentence (the ranking's own finding)."""
        return self.ranking.finding(lang)

    def kpis_for(self, lang: str = "zh") -> pd.DataFrame:
        """The headline KPIs as one row: names across, values below."""
        table = self.kpis.formatted(lang)
        return pd.DataFrame([table.iloc[:, 1].tolist()], columns=table.iloc[:, 0].tolist())

    @property
    def findings(self) -> list[Finding]:
        """The red findings first (at most five); yellow ones only to reach three."""
        ranked = self.ranking.flags
        low, high = SUMMARY_FINDINGS
        red = [f for f in ranked if f.severity == RED]
        return (red if len(red) >= low else ranked)[:high]

    def findings_for(self, lang: str = "zh") -> pd.DataFrame:
        """Each finding's numbers (its short form: the plan table carries the actions) and what is at stake."""
        f = self.findings
        return pd.DataFrame({
            "#": range(1, len(f) + 1),
            i18n.pick(lang, "发现", "Finding"): [finding.sentence(lang, "short") for finding in f],
            i18n.pick(lang, "每年涉及营收", "Revenue at stake a year"): i18n.money_column(
                [finding.revenue_at_stake if finding.revenue_at_stake > 0 else None for finding in f], lang, missing="—"),
        })

    def plan_for(self, lang: str = "zh") -> pd.DataFrame:
        """One row a chosen prescription: its tasks' owners, its first measurable target, its deadline."""
        rows = []
        tasks = self.plan.tasks
        for p in self.plan.chosen.itertuples():
            own = tasks[tasks["prescription"] == p.prescription]
            measured = own[own["target"].notna()]
            target = "—"
            if len(measured):
                t = measured.iloc[0]
                target = (f"{metric_label(t.metric, lang)} {format_value(t.metric, t.baseline, lang)} → "
                          f"{format_value(t.metric, t.target, lang)}")
            rows.append({
                i18n.pick(lang, "处方", "Plan"): f"{p.prescription} " + (p.name_zh if lang == "zh" else p.name_en),
                i18n.pick(lang, "负责", "Owners"): ("、" if lang == "zh" else ", ").join(
                    dict.fromkeys(own["owner_department"])) or "—",
                i18n.pick(lang, "主要目标", "Main target"): target,
                i18n.pick(lang, "期限", "Deadline"): i18n.day(own["deadline"].max(), lang) if len(own) else "—",
                i18n.pick(lang, "任务数", "Tasks"): len(own),
            })
        return pd.DataFrame(rows)

    def closing(self, lang: str = "zh") -> str:
        """What the plan is worth, and how the clinic will follow it."""
        return self.plan.finding(lang) + i18n.pick(
            lang, "每周一用周复盘资料包（三表一图）跟进目标 [S0]。",
            " Follow the targets every Monday with the weekly review pack (three tables and one chart) [S0].")


def executive_summary(clinic: Clinic) -> ExecutiveSummary:
    ranking = diagnose(clinic).ranking
    return ExecutiveSummary(clinic, clinic_kpis(clinic), ranking, prescribe(clinic, ranking=ranking))

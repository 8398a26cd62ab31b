"""The executive summary: the one page an owner reads first.

The answer first: what changed between the two windows, a year, and the largest cause of the fall (the
clinic's story, `playbook.story`); the headline KPIs; the top findings of the ranking with their place in
the story and their revenue a year, every yuan counted once; the chosen plans with their owners, their
first target (with its unit and period) and deadline; what the plans are worth, split into the part
that recovers the fall and the part beyond it. Every figure comes from the results the chapters show
(the diagnosis, the story and the prescriptions are computed once per clinic), so the summary can never
disagree with the chapter behind it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from . import i18n
from .clinic import Clinic
from .diagnosis import diagnose
from .kpis import clinic_kpis
from .metrics import metric_label
from .prescribe import prescribe, target_text, tasks_sentence
from .results import MERGED, PROFIT, SYMPTOM, Finding

SUMMARY_FINDINGS = (3, 5)  # the top findings of the ranking: at least 3 when there are, at most 5 (one page)


@dataclass
class ExecutiveSummary:
    clinic: Clinic
    kpis: object  # playbook.kpis.HeadlineKpis
    ranking: object  # playbook.bottleneck.BottleneckRanking
    plan: object  # playbook.prescribe.PrescriptionPlan

    def headline(self, lang: str = "zh") -> str:
        """The answer in one paragraph: what changed, a year, and the largest cause of the fall."""
        story = self.ranking.story
        return story.finding(lang) if story is not None else self.ranking.finding(lang)

    def kpis_for(self, lang: str = "zh") -> pd.DataFrame:
        """The headline KPIs as one row: names across, values below."""
        table = self.kpis.formatted(lang)
        return pd.DataFrame([table.iloc[:, 1].tolist()], columns=table.iloc[:, 0].tolist())

    @property
    def findings(self) -> list[Finding]:
        """The ranking's first findings (the fall's causes, then the upside), at most five; the driver tree's
        own findings and those counted in another only to reach three."""
        ranked = self.ranking.flags
        low, high = SUMMARY_FINDINGS
        told = [f for f in ranked if f.role not in (SYMPTOM, MERGED)]
        return (told if len(told) >= low else ranked)[:high]

    def findings_for(self, lang: str = "zh") -> pd.DataFrame:
        """Each finding's rank, its place in the story, its numbers (the plan table carries the actions),
        and what it is worth a year."""
        f = self.findings
        return pd.DataFrame({
            i18n.pick(lang, "排名", "Rank"): [self.ranking.rank_of(finding.key) for finding in f],
            i18n.pick(lang, "性质", "Place"): [self.ranking.role(finding, lang) for finding in f],
            i18n.pick(lang, "发现", "Finding"): [finding.sentence(lang, "short") for finding in f],
            i18n.pick(lang, "每年涉及", "A year"): [_worth(finding, lang) for finding in f],
        })

    def plan_for(self, lang: str = "zh") -> pd.DataFrame:
        """One row a chosen prescription: its tasks' owners, its first target with its unit, its deadline."""
        rows = []
        tasks = self.plan.tasks
        order = {finding.key: rank for rank, finding in enumerate(self.ranking.flags)}
        for p in self.plan.chosen.itertuples():
            own = tasks[tasks["prescription"] == p.prescription]
            measured = own[own["target"].notna() & own["metric"].map(lambda m: isinstance(m, str))]
            target = "—"
            if len(measured):
                t = measured.loc[min(measured.index, key=lambda i: order.get(
                    getattr(measured.at[i, "finding"], "key", None), len(order)))]
                target = f"{metric_label(t.metric, lang)} {target_text(t.metric, t.baseline, t.target, lang)}"
            rows.append({
                i18n.pick(lang, "处方", "Plan"): f"{p.prescription} " + (p.name_zh if lang == "zh" else p.name_en),
                i18n.pick(lang, "负责", "Owners"): ("、" if lang == "zh" else ", ").join(
                    dict.fromkeys(own["owner_department"])) or "—",
                i18n.pick(lang, "主要目标（基线：最近13周）", "Main target (baseline: last 13 weeks)"): target,
                i18n.pick(lang, "期限", "Deadline"): i18n.day(own["deadline"].max(), lang) if len(own) else "—",
                i18n.pick(lang, "任务数", "Tasks"): len(own),
            })
        return pd.DataFrame(rows)

    def closing(self, lang: str = "zh") -> str:
        """What the plan is worth (recovering the fall, beyond it, profit), and how the clinic will follow it."""
        return tasks_sentence(self.plan, lang) + i18n.pick(
            lang, "每周一用周复盘资料包（三表一图）跟进目标 [S0]。",
            " Follow the targets every Monday with the weekly review pack (three tables and one chart) [S0].")


def _worth(finding: Finding, lang: str) -> str:
    """A finding's revenue a year in words: the part that recovers the fall, the part beyond it, or profit."""
    stake = finding.stake
    if finding.role == PROFIT:
        return i18n.pick(lang, f"利润{i18n.money(stake.profit, lang)}", f"{i18n.money(stake.profit, lang)} profit")
    if finding.role == MERGED:
        return "—"
    parts = []
    if stake.decline > 0:
        parts.append(i18n.pick(lang, f"占下降{i18n.money(stake.decline, lang)}", f"{i18n.money(stake.decline, lang)} of the fall"))
    if stake.beyond > 0:
        parts.append(i18n.pick(lang, f"增长空间{i18n.money(stake.beyond, lang)}", f"{i18n.money(stake.beyond, lang)} upside"))
    return ("＋" if lang == "zh" else " + ").join(parts) or "—"


def executive_summary(clinic: Clinic) -> ExecutiveSummary:
    ranking = diagnose(clinic).ranking
    return ExecutiveSummary(clinic, clinic_kpis(clinic), ranking, prescribe(clinic))

"""The bottleneck ranking: every finding of the diagnosis, in the order of the clinic's story.

Method step 1 ends by locating the bottleneck among the problem classes of [S1] (acquisition,
experience, medical quality, efficiency, management, price/value, loyalty). Every analysis raises
findings, one per metric past a threshold; the story (`playbook.story`) counts each by one method and
places it; this module ranks them:

1. Findings: the causes of the revenue fall, the largest part of the fall first; then the upside
   (standing weaknesses and new problems), red before yellow, by revenue at stake; then costs (profit);
   then risks with no revenue estimate; then the driver tree's own findings (the fall itself, already
   split by cause) and the findings another one already counts. Findings the story has not placed
   (``role`` "") rank with the upside, red before yellow, causes before symptoms, by their own estimate.
2. Problem classes: ranked by their strongest finding. Each yuan is counted once, in one finding, so a
   class's revenue at stake is the sum of its findings'.

The bottleneck is the first finding: the largest cause of the fall, or the largest upside when revenue
did not fall. The ranking is the input to the prescribe step (treatment plans A–E of method.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n, sentences
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, PALETTE, set_title
from .results import (CAUSE, MERGED, PROBLEM_CLASSES, PROFIT, RED, RISK, STANDING, SYMPTOM, UPSIDE, AnalysisResult,
                      Finding)
from .thresholds import Threshold

_SEVERITY_ORDER = {RED: 0, "yellow": 1}
_GROUP = {CAUSE: 0, STANDING: 1, UPSIDE: 1, "": 1, PROFIT: 2, RISK: 3, SYMPTOM: 4, MERGED: 5}

ROW_KEYS = ("rank", "problem_class", "metric", "subject", "severity", "value", "threshold", "gap", "revenue_at_stake",
            "evidence", "kind", "segment_kind", "line", "reference", "window_start", "window_end", "stake_method",
            "role", "decline_part", "beyond_part", "profit", "counted_in")


def _row(rank: int, finding: Finding) -> dict:
    """A finding as a kpis.json ``bottlenecks`` row: its numbers, never its sentence."""
    window, stake = finding.window, finding.stake
    return {"rank": rank, "problem_class": finding.problem_class, "metric": finding.metric, "subject": finding.subject,
            "severity": finding.severity, "value": finding.value, "threshold": finding.threshold, "gap": finding.gap,
            "revenue_at_stake": finding.revenue_at_stake, "evidence": finding.evidence, "kind": finding.kind,
            "segment_kind": finding.segment.kind if finding.segment else None, "line": finding.line,
            "reference": finding.reference, "window_start": window.start.isoformat() if window else None,
            "window_end": window.end.isoformat() if window else None, "stake_method": stake.method,
            "role": finding.role or None, "decline_part": stake.decline, "beyond_part": stake.beyond,
            "profit": stake.profit, "counted_in": stake.counted_in}


def _order(finding: Finding) -> tuple:
    group = _GROUP.get(finding.role, 1)
    stake = finding.stake
    first = -stake.decline if finding.role == CAUSE else -stake.profit if finding.role == PROFIT else 0.0
    return (group, first, _SEVERITY_ORDER.get(finding.severity, 2), finding.evidence == "symptom",
            -finding.revenue_at_stake, -finding.gap)


@dataclass
class BottleneckRanking(AnalysisResult):
    """Every finding ranked, and the problem classes ranked by their strongest finding."""

    findings: pd.DataFrame = None  # one row per finding (ROW_KEYS), in rank order; ``flags`` in the same order
    classes: pd.DataFrame = None  # one row per problem class with at least one finding
    story: AnalysisResult | None = None  # playbook.story.Story: what changed, the fall split by cause

    @property
    def top(self) -> pd.DataFrame:
        return self.findings

    def rank_of(self, key: str) -> int | None:
        """The rank of the finding named ``key`` (`Finding.key`), None when it is not ranked."""
        for rank, finding in enumerate(self.flags, start=1):
            if finding.key == key:
                return rank
        return None

    def role(self, finding: Finding, lang: str = "zh") -> str:
        """The finding's place in the story in words; a merged one names the rank that counts it."""
        counted = self.rank_of(finding.stake.counted_in) if finding.stake.counted_in else None
        return sentences.role(finding, lang, counted)

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """Every finding: rank, its place in the story, level, the finding, and its revenue at stake a year
        split into the part that recovers the fall and the part beyond it."""
        flags = self.flags
        revenue = [f.role not in (PROFIT, MERGED, SYMPTOM, RISK) for f in flags]
        return pd.DataFrame({
            i18n.pick(lang, "排名", "Rank"): range(1, len(flags) + 1),
            i18n.pick(lang, "性质", "Place in the story"): [self.role(f, lang) for f in flags],
            i18n.pick(lang, "级别", "Level"): [i18n.pick(lang, *_LEVEL[f.severity]) for f in flags],
            i18n.pick(lang, "发现", "Finding"): [f.sentence(lang) for f in flags],
            i18n.pick(lang, "每年下降部分", "Part of the fall a year"): i18n.money_column(
                [f.stake.decline if r and f.stake.decline > 0 else None for f, r in zip(flags, revenue)], lang,
                missing="—"),
            i18n.pick(lang, "每年超出部分", "Beyond the fall a year"): i18n.money_column(
                [f.stake.beyond if r and f.stake.beyond > 0 else None for f, r in zip(flags, revenue)], lang,
                missing="—"),
        })

    @property
    def available(self) -> bool:
        """A chart only when some finding has revenue at stake; else the chapter shows the sentence."""
        return bool((self.findings["revenue_at_stake"] > 0).any()) if len(self.findings) else False

    def counts_sentence(self, lang: str = "zh") -> str:
        """How many findings the table lists, by their place in the story (the ranking's sentence without
        the story's answer, for the chapter that shows the answer above it)."""
        return _counts_sentence(self, lang)

    def counts(self) -> dict[str, int]:
        """How many findings of each place in the story (every one of them is a row of the table)."""
        roles = [f.role for f in self.flags]
        return {role: roles.count(role) for role in dict.fromkeys(roles)}

    def metrics(self) -> dict:
        rows = [{k: _json(v) for k, v in row.items()} for row in self.findings.to_dict("records")]
        top_class = self.classes["problem_class"].iloc[0] if len(self.classes) else None
        metrics = {"kpis": {"red_flags": int((self.findings["severity"] == RED).sum()) if len(self.findings) else 0,
                            "bottleneck_class": top_class},
                   "bottlenecks": rows}
        if self.story is not None:
            metrics.update(self.story.metrics())
        return metrics

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Each finding with revenue at stake (万元 a year): the part that recovers the fall (red) and the
        part beyond it (grey), stacked; numbered as the table ranks them."""
        ax = ax if ax is not None else plt.gca()
        ranked = [(rank, f) for rank, f in enumerate(self.flags, start=1) if f.revenue_at_stake > 0][::-1]
        scale, unit = (1e4, "万元/年") if lang == "zh" else (1e3, "¥ thousand a year")
        labels = [_short_label(rank, f, lang) for rank, f in ranked]
        decline = np.array([f.stake.decline for _, f in ranked]) / scale
        beyond = np.array([f.revenue_at_stake - f.stake.decline for _, f in ranked]) / scale
        ax.barh(labels, beyond, left=decline, color=PALETTE[4], **kwargs)
        if decline.any():  # red only where a finding explains part of the fall, and the label says so
            ax.barh(labels, decline, color=ACTION_RED, **kwargs)
        ax.set_xlabel(i18n.pick(lang, f"每年涉及营收（{unit}）" + ("；红色：下降部分，灰色：超出部分" if decline.any() else ""),
                                f"Revenue at stake ({unit})" + ("; red: part of the fall, grey: beyond it"
                                                                if decline.any() else "")))
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the bottleneck, and the revenue a year it puts at stake."""
        if self.findings.empty:
            return i18n.pick(lang, "各项指标都在方法的阈值以内，没有需要处理的瓶颈", "No metric is past the method's lines: no bottleneck")
        first = self.flags[0]
        name = sentences.label(first, lang, short=True)
        beyond = max(self.flags, key=lambda f: f.stake.beyond)
        if first.role == CAUSE and beyond.stake.beyond > 0:
            return i18n.pick(
                lang, f"{name}是营收下降最大的原因；最大的增长空间在{sentences.label(beyond, 'zh', short=True)}"
                      f"（每年约{i18n.money(beyond.stake.beyond, 'zh')}）",
                f"{name}: the largest cause of the fall; the largest upside: {sentences.label(beyond, 'en', short=True)} "
                f"(about {i18n.money(beyond.stake.beyond, 'en')} a year)")
        if first.role == CAUSE:
            return i18n.pick(lang, f"营收下降最大的原因：{name}，每年约{i18n.money(first.stake.decline, lang)}",
                             f"The largest cause of the fall: {name}, about {i18n.money(first.stake.decline, lang)} a year")
        if first.revenue_at_stake > 0:
            return i18n.pick(lang, f"最大的增长空间：{name}，每年约{i18n.money(first.revenue_at_stake, lang)}",
                             f"The largest upside: {name}, about {i18n.money(first.revenue_at_stake, lang)} a year")
        return i18n.pick(lang, f"排在第一的发现：{name}", f"First finding: {name}")


_LEVEL = {RED: ("立即处理", "act now"), "yellow": ("关注", "watch")}


def _class_name(problem_class: str, lang: str) -> str:
    zh, en = PROBLEM_CLASSES[problem_class]
    return zh if lang == "zh" else en


def _short_label(rank: int, finding: Finding, lang: str) -> str:
    return f"{rank}. {sentences.label(finding, lang, short=True)}"


def rank(flags: list[Finding], thresholds: Mapping[str, Threshold] | None = None, *,
         story: AnalysisResult | None = None) -> BottleneckRanking:
    """Rank the findings of every analysis and the problem classes they point to.

    Parameters
    ----------
    flags : the findings of all analyses, counted and placed by the story (``Diagnosis.story.findings``).
    thresholds : the thresholds in force, to say in the finding when the consultant changed one.
    story : the clinic's story (`playbook.story.Story`), whose answer the ranking's sentence starts with.
    """
    ordered = sorted(flags, key=_order)
    findings = pd.DataFrame([_row(i, f) for i, f in enumerate(ordered, start=1)], columns=list(ROW_KEYS))
    classes = (findings.groupby("problem_class", sort=False)
               .agg(best_rank=("rank", "min"), red=("severity", lambda s: int((s == RED).sum())),
                    findings=("rank", "size"), revenue_at_stake=("revenue_at_stake", "sum"))
               .sort_values("best_rank").reset_index())
    result = BottleneckRanking("bottleneck", findings, "", "", flags=ordered, findings=findings, classes=classes,
                               story=story)
    result.zh, result.en = (_sentence(result, thresholds or {}, lang) for lang in ("zh", "en"))
    return result


_COUNTED = {  # role -> how the count sentence names its findings, zh / en (singular, plural)
    CAUSE: ("是营收下降的原因", "cause of the fall", "causes of the fall"),
    STANDING: ("是长期存在的短板（增长空间）", "standing weakness (upside)", "standing weaknesses (upside)"),
    UPSIDE: ("是新出现的问题（增长空间）", "new problem (upside)", "new problems (upside)"),
    "": ("需要处理", "finding to act on", "findings to act on"),
    PROFIT: ("是成本问题（影响利润）", "cost above its range (profit)", "costs above their range (profit)"),
    RISK: ("是风险（没有营收估算）", "risk without a revenue estimate", "risks without a revenue estimate"),
    SYMPTOM: ("是营收变化本身（已按原因分解）", "the revenue change itself (split by cause)",
              "the revenue change itself (split by cause)"),
    MERGED: ("已计入另一条发现", "counted in another finding", "counted in other findings"),
}


def _sentence(ranking: BottleneckRanking, thresholds: Mapping[str, Threshold], lang: str) -> str:
    changed = [t for t in thresholds.values() if t.overridden]
    note = i18n.pick(lang, f"（顾问调整了{len(changed)}项阈值，见附录的阈值表）",
                     f" ({i18n.counted(len(changed), 'threshold')} changed by the consultant: see the appendix)"
                     ) if changed else ""
    if ranking.findings.empty:
        return i18n.pick(lang, "各项指标都在方法的阈值以内，没有发现需要处理的瓶颈；保持每周复盘，防止回落。",
                         "Every metric sits within the method's thresholds: no bottleneck to treat; keep the weekly "
                         "review to catch a relapse early.") + note
    head = ranking.story.finding(lang) if ranking.story is not None else _first(ranking.flags[0], lang)
    return head + i18n.pick(lang, "", " ") + _counts_sentence(ranking, lang) + note


def _counts_sentence(ranking: BottleneckRanking, lang: str) -> str:
    if ranking.findings.empty:
        return ""
    counts = ranking.counts()
    total = len(ranking.flags)
    red = int((ranking.findings["severity"] == RED).sum())
    order = [CAUSE, STANDING, UPSIDE, "", PROFIT, RISK, SYMPTOM, MERGED]
    if lang == "zh":
        parts = "，".join(f"{counts[r]}条{_COUNTED[r][0]}" for r in order if counts.get(r))
        return f"下表按顺序列出全部{total}条发现（其中{red}条需要立即处理）：{parts}。"
    parts = ", ".join(i18n.counted(counts[r], _COUNTED[r][1], _COUNTED[r][2]) for r in order if counts.get(r))
    return f"The table lists all {i18n.counted(total, 'finding')} in order ({red} to act on now): {parts}."


def _first(finding: Finding, lang: str) -> str:
    return i18n.pick(lang, f"排在第一的是「{_class_name(finding.problem_class, 'zh')}」：{finding.sentence('zh')}",
                     f"First comes {_class_name(finding.problem_class, 'en').lower()}: {finding.sentence('en')}")

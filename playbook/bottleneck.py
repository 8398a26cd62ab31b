"""The bottleneck ranking: which of the method's problem classes holds the clinic back, by evidence.

Method step 1 ends by locating the bottleneck among the problem classes of [S1] (acquisition,
experience, medical quality, efficiency, management, price/value, loyalty). Every analysis raises
flags, one per metric past a threshold; this module ranks them:

1. Findings: red before yellow; causes (metrics the clinic can act on) before symptoms (where revenue
   moved, from the driver tree, which the causes explain); then by revenue at stake (yuan a year that
   bringing the metric back to its line would be worth), then by how far past the line it sits (the gap).
2. Problem classes: ranked by their strongest finding. A class's revenue at stake is the largest of
   its findings', not their sum, because several analyses often see the same loss from different
   sides (the channel whose conversion fell is also the conversion driver of the revenue fall).

The ranking is the input to the prescribe step (treatment plans A–E of method.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from . import i18n, sentences
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, PALETTE, set_title
from .results import PROBLEM_CLASSES, RED, AnalysisResult, Finding
from .thresholds import Threshold

TOP_FINDINGS = 8  # the executive summary shows 3–5; the chapter shows up to this many

_SEVERITY_ORDER = {RED: 0, "yellow": 1}


ROW_KEYS = ("rank", "problem_class", "metric", "subject", "severity", "value", "threshold", "gap", "revenue_at_stake",
            "evidence", "kind", "segment_kind", "line", "reference", "window_start", "window_end", "stake_method")


def _row(rank: int, finding: Finding) -> dict:
    """A finding as a kpis.json ``bottlenecks`` row: its numbers, never its sentence."""
    window = finding.window
    return {"rank": rank, "problem_class": finding.problem_class, "metric": finding.metric, "subject": finding.subject,
            "severity": finding.severity, "value": finding.value, "threshold": finding.threshold, "gap": finding.gap,
            "revenue_at_stake": finding.revenue_at_stake, "evidence": finding.evidence, "kind": finding.kind,
            "segment_kind": finding.segment.kind if finding.segment else None, "line": finding.line,
            "reference": finding.reference, "window_start": window.start.isoformat() if window else None,
            "window_end": window.end.isoformat() if window else None, "stake_method": finding.stake.method}


@dataclass
class BottleneckRanking(AnalysisResult):
    """Findings ranked by evidence, and the problem classes ranked by their strongest finding."""

    findings: pd.DataFrame = None  # one row per finding (ROW_KEYS), best evidence first; ``flags`` in the same order
    classes: pd.DataFrame = None  # one row per problem class with at least one finding

    @property
    def top(self) -> pd.DataFrame:
        return self.findings.head(TOP_FINDINGS)

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        top = self.flags[:TOP_FINDINGS]
        return pd.DataFrame({
            i18n.pick(lang, "排名", "Rank"): range(1, len(top) + 1),
            i18n.pick(lang, "问题类别", "Problem class"): [_class_name(f.problem_class, lang) for f in top],
            i18n.pick(lang, "级别", "Level"): [i18n.pick(lang, *_LEVEL[f.severity]) for f in top],
            i18n.pick(lang, "发现", "Finding"): [f.sentence(lang) for f in top],
            i18n.pick(lang, "每年涉及营收", "Revenue at stake a year"): i18n.money_column(
                [f.revenue_at_stake if f.revenue_at_stake > 0 else None for f in top], lang, missing="—"),
        })

    def stakes_for(self, lang: str = "zh") -> pd.DataFrame:
        """How each revenue at stake of the table was estimated: the assumption behind the number."""
        top = [(rank, f) for rank, f in enumerate(self.flags[:TOP_FINDINGS], start=1) if f.revenue_at_stake > 0]
        return pd.DataFrame({
            i18n.pick(lang, "排名", "Rank"): [rank for rank, _ in top],
            i18n.pick(lang, "每年涉及营收的估算", "How the revenue at stake is estimated"): [
                sentences.stake(f, lang) for _, f in top]})

    def metrics(self) -> dict:
        rows = [{k: _json(v) for k, v in row.items()} for row in self.findings.to_dict("records")]
        top_class = self.classes["problem_class"].iloc[0] if len(self.classes) else None
        return {"kpis": {"red_flags": int((self.findings["severity"] == RED).sum()) if len(self.findings) else 0,
                         "bottleneck_class": top_class},
                "bottlenecks": rows}

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """The top findings by revenue at stake (万元 a year), red for those that need action now."""
        ax = ax if ax is not None else plt.gca()
        top = list(enumerate(self.flags[:TOP_FINDINGS], start=1))[::-1]
        scale, unit = (1e4, "万元/年") if lang == "zh" else (1e3, "¥ thousand a year")
        labels = [_short_label(rank, f, lang) for rank, f in top]
        colors = [ACTION_RED if f.severity == RED else PALETTE[4] for _, f in top]
        ax.barh(labels, [f.revenue_at_stake / scale for _, f in top], color=colors, **kwargs)
        ax.set_xlabel(i18n.pick(lang, f"每年涉及营收（{unit}）", f"Revenue at stake ({unit})"))
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the first bottleneck, and the revenue a year it puts at stake."""
        if self.findings.empty:
            return i18n.pick(lang, "各项指标都在方法的阈值以内，没有需要处理的瓶颈", "No metric is past the method's lines: no bottleneck")
        first = self.flags[0]
        what = _class_name(first.problem_class, lang)
        if first.segment:
            name = sentences.segment(first.segment, lang)
            what = i18n.pick(lang, f"{what}（{name}）", f"{what.lower()} ({name})")
        elif lang == "en":
            what = what.lower()
        red = int((self.findings["severity"] == RED).sum())
        stake = i18n.money(float(first.revenue_at_stake), lang) if first.revenue_at_stake > 0 else None
        if lang == "zh":
            head = f"最大的瓶颈在{what}" + (f"，每年涉及{stake}营收" if stake else "")
            return head + (f"；红色为需立即处理（共{red}项）" if red else "")
        head = f"The main bottleneck is {what}" + (f", {stake} of revenue a year at stake" if stake else "")
        return head + (f"; red: act now ({red} in all)" if red else "")


_LEVEL = {RED: ("立即处理", "act now"), "yellow": ("关注", "watch")}


def _class_name(problem_class: str, lang: str) -> str:
    zh, en = PROBLEM_CLASSES[problem_class]
    return zh if lang == "zh" else en


def _short_label(rank: int, finding: Finding, lang: str) -> str:
    dot = i18n.pick(lang, "·", " · ")
    segment = f"{dot}{sentences.segment(finding.segment, lang, short=True)}" if finding.segment else ""
    return f"{rank}. {_class_name(finding.problem_class, lang)}{segment}"


def rank(flags: list[Finding], thresholds: Mapping[str, Threshold] | None = None) -> BottleneckRanking:
    """Rank the findings of every analysis and the problem classes they point to.

    Parameters
    ----------
    flags : the findings of all analyses (``Diagnosis.flags()``).
    thresholds : the thresholds in force, to say in the finding when the consultant changed one.
    """
    ordered = sorted(flags, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 2), f.evidence == "symptom",
                                           -f.revenue_at_stake, -f.gap))
    findings = pd.DataFrame([_row(i, f) for i, f in enumerate(ordered, start=1)], columns=list(ROW_KEYS))
    classes = (findings.groupby("problem_class", sort=False)
               .agg(best_rank=("rank", "min"), red=("severity", lambda s: int((s == RED).sum())),
                    findings=("rank", "size"), revenue_at_stake=("revenue_at_stake", "max"))
               .sort_values("best_rank").reset_index())
    zh, en = _sentences(ordered, findings, classes, thresholds or {})
    return BottleneckRanking("bottleneck", findings, zh, en, flags=ordered, findings=findings, classes=classes)


def _sentences(ordered: list[Finding], findings: pd.DataFrame, classes: pd.DataFrame,
               thresholds: Mapping[str, Threshold]) -> tuple[str, str]:
    changed = [t for t in thresholds.values() if t.overridden]
    note_zh = f"（顾问调整了{len(changed)}项阈值，见阈值表）" if changed else ""
    note_en = (f" ({i18n.counted(len(changed), 'threshold')} changed by the consultant: see the table)"
               if changed else "")
    if findings.empty:
        return ("各项指标都在方法的阈值以内，没有发现需要处理的瓶颈；保持每周复盘，防止回落。" + note_zh,
                "Every metric sits within the method's thresholds: no bottleneck to treat; keep the weekly review "
                "to catch a relapse early." + note_en)
    first = ordered[0]
    top_class = classes.iloc[0]
    red, watch = int((findings["severity"] == RED).sum()), int((findings["severity"] != RED).sum())
    zh = (f"最主要的瓶颈在「{_class_name(top_class.problem_class, 'zh')}」：{first.sentence('zh')}"
          f"共发现{int((findings['severity'] == RED).sum())}项需要立即处理、"
          f"{int((findings['severity'] != RED).sum())}项需要关注的问题，下一步按此顺序开处方。{note_zh}")
    en = (f"The main bottleneck is {_class_name(top_class.problem_class, 'en').lower()}. {first.sentence('en')} "
          f"{i18n.counted(red, 'finding')} {i18n.plural(red, 'needs', 'need')} action now and "
          f"{f'{watch} ' + i18n.plural(watch, 'needs', 'need') if watch else 'none needs'} watching; prescribe in this "
          f"order.{note_en}")
    return zh, en

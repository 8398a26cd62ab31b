"""What every analysis returns: a small results object, statsmodels-style, never bare floats.

An `AnalysisResult` carries its ``table`` (a labelled DataFrame), its one-sentence ``finding`` in zh
and en generated from the numbers, a ``plot(ax=)`` method, its ``metrics()`` for kpis.json, and the
``flags`` it raises: each a `Finding`, one metric past one threshold, with the evidence the bottleneck
ranking needs (how far past the line, and the revenue at stake) and no prose: `playbook.sentences`
renders it.

When the clinic's data cannot support an analysis, the analysis returns `Unavailable`: the same
interface, a sentence that says which data it needs, no chart and no metrics. A chapter never crashes
on missing data and never shows a NaN.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import pandas as pd

from . import sentences
from .schema import TABLES
from .thresholds import Threshold

if TYPE_CHECKING:  # the runner imports this module too, and needs no plotting stack
    import matplotlib.pyplot as plt

# The problem classes of method.md, step 1 [S1]: the bottleneck ranking groups flags by these.
PROBLEM_CLASSES = {
    "acquisition": ("获客与市场", "Acquisition and market"),
    "experience": ("服务与体验", "Service and experience"),
    "medical_quality": ("医疗质量", "Medical quality"),
    "efficiency": ("运营效率", "Operating efficiency"),
    "management": ("内部管理", "Internal management"),
    "price_value": ("价格与价值感知", "Price and value perception"),
    "loyalty": ("复诊与忠诚", "Return and loyalty"),
}
RED, YELLOW, GREEN = "red", "yellow", "green"
# A finding's place in the clinic's story (`playbook.story`), in the order the ranking shows them:
# a cause of the revenue fall; a weakness past its line before the fall too (upside); a problem that
# is new but cost no revenue between the windows (upside); a cost above its range (profit); a risk
# with no revenue estimate; where revenue moved (the driver tree: the fall itself, split by cause);
# a loss another finding already counts.
CAUSE, STANDING, UPSIDE, PROFIT, RISK, SYMPTOM, MERGED = (
    "cause", "standing", "upside", "profit", "risk", "symptom", "merged")
ROLES = (CAUSE, STANDING, UPSIDE, PROFIT, RISK, SYMPTOM, MERGED)
RED_GAP = 0.10  # past the line by 10% of it or more is red (act now); less is yellow (watch)


def severity(gap: float) -> str:
    """The one rule every analysis uses to colour a breached threshold."""
    return RED if gap >= RED_GAP else YELLOW


@dataclass(frozen=True)
class Segment:
    """The part of the clinic a finding concerns: a channel, a doctor, a department, a tier …"""

    kind: str  # channel | doctor | department | tier | slot | cost
    name: str  # as the data writes it (kpis.json "subject"); the renderer translates it by its kind


@dataclass(frozen=True)
class Window:
    """The days a value was measured over, both included."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Stake:
    """Revenue at stake, in yuan a year, and how it was computed.

    ``method`` names the computation and its assumption (`playbook.sentences.STAKES` states it in
    words), so a reader can see what the number rests on; 0 with method ``"none"``: no honest estimate.
    An analysis gives its own estimate; the story of the clinic (`playbook.story`) counts every finding
    again by one method, the driver tree, and splits the amount into the part of the revenue fall the
    finding explains (``decline``) and what reaching the line would add beyond it (``beyond``). A cost
    saving is ``profit``, never revenue; a loss another finding already holds names it in ``counted_in``.
    """

    amount: float
    method: str = "none"
    decline: float = 0.0  # yuan a year of the revenue fall between the story's windows it explains
    beyond: float = 0.0  # yuan a year that reaching the line adds beyond recovering that fall
    profit: float = 0.0  # a cost saving, yuan a year: profit, not revenue
    counted_in: str | None = None  # the key (`Finding.key`) of the finding whose stake holds this loss


NO_STAKE = Stake(0.0)


@dataclass(frozen=True)
class Finding:
    """One metric on the wrong side of one threshold, as data: a piece of evidence for the diagnosis.

    Nothing here is prose. `playbook.sentences` renders a finding in each language from its ``kind``
    (the template) and its numbers: the full sentence (what it is and what to do), its short form
    (the numbers only) for the summary and the prescriptions; the ranking sorts on the numbers.
    """

    kind: str  # the sentence template (a key of playbook.sentences' tables); often the metric
    metric: str  # stable name, as in kpis.json
    value: float
    threshold: str  # a name in playbook.thresholds
    line: float  # the threshold's value in force for this clinic
    problem_class: str  # a key of PROBLEM_CLASSES
    severity: str  # RED (act now) or YELLOW (watch)
    gap: float  # how far past the line, relative to it (Threshold.gap)
    stake: Stake = NO_STAKE  # yuan a year that coming back to the line would be worth, and how
    segment: Segment | None = None
    window: Window | None = None  # the days ``value`` was measured over
    reference: float | None = None  # what ``value`` is compared with: an earlier window's value, the others' …
    reference_window: Window | None = None
    # "cause": a metric the clinic can act on; "symptom": where revenue moved (the driver tree),
    # which the causes explain. The ranking puts symptoms after the causes of the same severity.
    evidence: str = "cause"
    facts: Mapping[str, Any] = field(default_factory=dict)  # further numbers its sentence states
    # Its place in the clinic's story (`playbook.story`, ROLES): a cause of the revenue fall, a standing
    # weakness, … ; "" until the story has placed it.
    role: str = ""

    @classmethod
    def past(cls, line: Threshold, value: float, *, kind: str, problem_class: str, metric: str | None = None,
             **fields) -> "Finding":
        """A finding of ``value`` past ``line`` (a Threshold in force): its gap, and unless given its
        severity, from the line."""
        gap = line.gap(value)
        fields.setdefault("severity", severity(gap))
        return cls(kind=kind, metric=metric or kind, value=float(value), threshold=line.name, line=float(line.value),
                   problem_class=problem_class, gap=gap, **fields)

    @property
    def subject(self) -> str | None:
        """The segment's name, as kpis.json and the prescriptions' task ids write it."""
        return self.segment.name if self.segment else None

    @property
    def key(self) -> str:
        """``metric@subject`` (the metric alone for the whole clinic): names the finding in kpis.json."""
        return f"{self.metric}@{self.subject}" if self.subject else self.metric

    @property
    def revenue_at_stake(self) -> float:
        return self.stake.amount

    def sentence(self, lang: str = "zh", form: str = "full") -> str:
        """The finding in words (`playbook.sentences.render`)."""
        return sentences.render(self, lang, form)


@dataclass
class AnalysisResult:
    """The base of every analysis result. Subclasses add their own fields and override `plot`."""

    name: str  # the analysis, as listed in playbook.audit.ANALYSES
    table: pd.DataFrame
    zh: str
    en: str
    flags: list[Finding] = field(default_factory=list)

    available = True

    def finding(self, lang: str = "zh") -> str:
        """What the numbers mean and what to do, in one sentence."""
        return self.zh if lang == "zh" else self.en

    @property
    def status(self) -> str:
        severities = {f.severity for f in self.flags}
        return RED if RED in severities else YELLOW if YELLOW in severities else GREEN

    def metrics(self) -> dict:
        """The kpis.json fragment; subclasses return their stable names."""
        return {}

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        raise NotImplementedError(f"{type(self).__name__} has no chart")


@dataclass
class Unavailable(AnalysisResult):
    """An analysis the clinic's data cannot support; its sentence names the data it needs."""

    needs: list[str] = field(default_factory=list)
    nulls: tuple[str, ...] = ()  # kpis.json names the analysis would give: written as null, so keys stay stable

    available = False

    @classmethod
    def because(cls, name: str, needs: list[str], nulls: tuple[str, ...] = (), *, zh_reason: str = "",
                en_reason: str = "") -> "Unavailable":
        what = "、".join(_need_zh(need) for need in needs)
        zh = zh_reason or f"本分析需要以下数据，当前数据中没有：{what}。请向诊所索取后重新运行。"
        en = en_reason or f"This analysis needs data the clinic has not given: {', '.join(needs)}. Ask for it and run again."
        return cls(name, pd.DataFrame(), zh, en, needs=needs, nulls=tuple(nulls))

    def metrics(self) -> dict:
        return {"kpis": dict.fromkeys(self.nulls)} if self.nulls else {}

    @property
    def status(self) -> str:
        return "grey"

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        """Nothing to show: `chapter.table` shows no empty table, so chapters need no special case."""
        return pd.DataFrame()


def _need_zh(need: str) -> str:
    """A need such as ``visits.department`` as a Chinese report names it: 预约到诊表的"科室"列."""
    table, _, column = need.partition(".")
    if table not in TABLES:
        return need
    spec = TABLES[table]
    if column and any(c.name == column for c in spec.columns):
        return f"{spec.zh}表的“{spec.column(column).zh}”列"
    return f"{spec.zh}表"


@dataclass
class Section:
    """The results of one diagnosis chapter (one module): its fields are AnalysisResults."""

    def results(self) -> list[AnalysisResult]:
        return [v for v in vars(self).values() if isinstance(v, AnalysisResult)]

    def flags(self) -> list[Finding]:
        return [flag for result in self.results() for flag in result.flags]

    def metrics(self) -> dict:
        """Every result's kpis.json fragment, merged: a channel's or doctor's entries from several
        analyses end up in one dict."""
        merged: dict = {}
        for result in self.results():
            deep_merge(merged, result.metrics())
        return merged


def deep_merge(into: dict, new: dict) -> dict:
    """Merge ``new`` into ``into`` key by key, nested dicts included; returns ``into``."""
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            deep_merge(into[key], value)
        else:
            into[key] = value
    return into


def rate_or_none(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide by: never a NaN or inf in a sentence."""
    return None if not whole or pd.isna(whole) else float(part) / float(whole)

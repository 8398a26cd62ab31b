"""Waiting time: how long patients wait between checking in and being seen, by time slot and doctor.

[S1] lists the waiting time (候诊时间) among the health check's efficiency indicators, and "候诊久" among
patients' pain points. When the visits export carries the check-in and start times (签到时间, 开始时间),
each arrived visit's wait is

    start − the later of the check-in and the booked time

in minutes, never below 0: a patient who comes early waits by choice, not for the clinic. Waits above
``MAX_WAIT`` minutes are a time typed wrong, not a wait, and are left out (counted). The mean wait of
each time slot (weekday or weekend × morning, afternoon, evening, as the no-show analysis cuts them) and
of each doctor, over the last six months of the period (the whole period when it is shorter than a
year), is judged against ``wait_minutes`` (15, playbook default): a slot or doctor above it with at
least ``MIN_VISITS`` timed visits is flagged, with the months before as the reference. No revenue is
put on it: a long wait loses patients, but the data cannot say how many.

kpis.json: ``kpis.wait_minutes_mean`` (the period), ``kpis.wait_minutes_max_slot``, ``kpis.wait_minutes_max_doctor``
(recent means), ``operations.waits`` (slot or doctor → visits, mean, p90, mean_recent, mean_before).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.patches import Patch
import numpy as np
import pandas as pd

from . import i18n, sentences
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, PALETTE, no_data, reference_line, set_title
from .results import AnalysisResult, Finding, Section, Segment, Unavailable, Window
from .tables import recent_window, time_slots
from .thresholds import DEFAULTS, Threshold

MAX_WAIT = 240  # minutes; longer is a mistyped time
MIN_VISITS = 30  # fewer timed visits make a mean wait noise (playbook default)
_NULLS = ("wait_minutes_mean", "wait_minutes_max_slot", "wait_minutes_max_doctor")


@dataclass
class WaitTimes(AnalysisResult):
    """Mean wait (minutes) per time slot and per doctor, recent against before."""

    line: float = field(kw_only=True, default=DEFAULTS["wait_minutes"].value)
    recent: Window | None = None
    before: Window | None = None
    mean: float | None = None  # the period's mean wait
    dropped: int = 0  # waits above MAX_WAIT, left out

    def of(self, kind: str) -> pd.DataFrame:
        t = self.table
        return t[t["kind"] == kind].set_index("name")

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Mean wait per doctor or slot (the one a flag is about; slots otherwise), before (grey) and recently."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        kind = self.flags[0].segment.kind if self.flags else "slot"
        data = self.of(kind).dropna(subset=["mean_recent"]).sort_values("mean_recent")
        if data.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        y = np.arange(len(data))
        recent, before = self._names(lang)
        ax.barh(y + 0.2, data["mean_before"].fillna(0), height=0.4, color=PALETTE[4], label=before)
        ax.barh(y - 0.2, data["mean_recent"], height=0.4, label=recent,
                color=[ACTION_RED if n in flagged else PALETTE[1] for n in data.index], **kwargs)
        for yy, minutes in zip(y, data["mean_recent"]):
            ax.text(minutes, yy - 0.2, i18n.pick(lang, f" {minutes:.0f}分钟", f" {minutes:.0f} min"), va="center",
                    fontsize="small")
        reference_line(ax, self.line, i18n.pick(lang, f"上限{self.line:g}分钟", f"line {self.line:g} min"), y=len(data) - 0.45)
        ax.set_yticks(y, [sentences.segment(Segment(kind, n), lang, short=True) for n in data.index])
        ax.set_xlim(0, max(float(data["mean_recent"].max()), self.line) * 1.3)
        ax.set_xlabel(i18n.pick(lang, "平均候诊分钟（签到或预约时间起，取较晚者，至开始就诊）",
                                "mean wait in minutes (from check-in or the booked time, whichever is later, to start)"))
        ax.legend(handles=[Patch(color=PALETTE[1], label=recent), Patch(color=PALETTE[4], label=before)],
                  loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2, fontsize="small")
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def _names(self, lang: str) -> tuple[str, str]:
        return i18n.recent_and_before(self.recent, self.before, lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the slot or doctor where patients wait past the line, else the longest wait."""
        recent, _ = self._names(lang)
        if self.flags:
            f = self.flags[0]
            who = sentences.segment(f.segment, lang)
            return i18n.pick(lang, f"{recent}{who}的患者平均候诊{f.value:.0f}分钟，超过{self.line:g}分钟（红色）",
                             f"In {recent}, patients of {who} waited {f.value:.0f} minutes on average, over {self.line:g} (red)")
        slots = self.of("slot").dropna(subset=["mean_recent"])
        if slots.empty:
            return i18n.pick(lang, "各时段平均候诊时间", "Mean wait by time slot")
        worst = slots["mean_recent"].idxmax()
        return i18n.pick(lang, f"{recent}各时段平均候诊都在{self.line:g}分钟以内，最长为{i18n.term(worst, lang)}"
                               f"{slots.loc[worst, 'mean_recent']:.0f}分钟",
                         f"In {recent} every slot's mean wait is within {self.line:g} minutes; longest "
                         f"{i18n.term(worst, lang)} at {slots.loc[worst, 'mean_recent']:.0f}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        recent, before = self._names(lang)
        kinds = {"slot": ("时段", "Slot"), "doctor": ("医生", "Doctor")}
        return pd.DataFrame({
            i18n.pick(lang, "类别", "By"): [i18n.pick(lang, *kinds[k]) for k in t["kind"]],
            i18n.pick(lang, "名称", "Name"): [sentences.segment(Segment(k, n), lang, short=True) for k, n in zip(t["kind"], t["name"])],
            i18n.pick(lang, "计时就诊", "Timed visits"): [i18n.count(v, lang) for v in t["visits"]],
            i18n.pick(lang, f"平均候诊 {before}", f"Mean, {before}"): [_minutes(v, lang) for v in t["mean_before"]],
            i18n.pick(lang, f"平均候诊 {recent}", f"Mean, {recent}"): [_minutes(v, lang) for v in t["mean_recent"]],
            i18n.pick(lang, "九成患者不超过", "90% wait at most"): [_minutes(v, lang) for v in t["p90"]],
        })

    def metrics(self) -> dict:
        def top(kind):
            values = self.of(kind).query(f"visits_recent >= {MIN_VISITS}")["mean_recent"].dropna()
            return _json(values.max()) if len(values) else None

        return {"kpis": {"wait_minutes_mean": _json(self.mean), "wait_minutes_max_slot": top("slot"),
                         "wait_minutes_max_doctor": top("doctor")},
                "operations": {"waits": {f"{r.kind}:{r.name}": {"visits": _json(r.visits), "mean": _json(r.mean),
                                                                "p90": _json(r.p90), "mean_recent": _json(r.mean_recent),
                                                                "mean_before": _json(r.mean_before)}
                                         for r in self.table.itertuples()}}}


def _minutes(value, lang: str) -> str:
    value = _num(value)
    return i18n.NO_DATA[lang] if value is None else i18n.pick(lang, f"{value:.0f}分钟", f"{value:.0f} min")


def wait_times(visits: pd.DataFrame, *, start: dt.date, end: dt.date,
               thresholds: dict[str, Threshold] | None = None) -> WaitTimes:
    """Waiting minutes of the period's arrived visits, by time slot and doctor, against ``wait_minutes``.

    Parameters
    ----------
    visits : canonical visits with ``checked_in_at`` and ``started_at`` (visits without both are left out).
    start, end : the period, both days included.
    thresholds : ``wait_minutes`` (15, playbook default).
    """
    line = (thresholds or DEFAULTS)["wait_minutes"]
    arrived = visits[(visits["status"] == "arrived") & visits["checked_in_at"].notna() & visits["started_at"].notna()
                     & visits["scheduled_at"].dt.normalize().between(pd.Timestamp(start), pd.Timestamp(end))]
    ready = arrived[["checked_in_at", "scheduled_at"]].max(axis=1)
    wait = ((arrived["started_at"] - ready).dt.total_seconds() / 60).clip(lower=0)
    kept = wait <= MAX_WAIT
    frame = pd.DataFrame({"wait": wait, "slot": time_slots(arrived["scheduled_at"]),
                          "doctor": arrived["doctor_id"].astype("str").where(arrived["doctor_id"].notna()),
                          "day": arrived["scheduled_at"].dt.normalize()})[kept]
    recent_start, before_end = recent_window(start, end)
    recent, before = Window(recent_start, end), (Window(start, before_end) if before_end else None)
    if frame.empty:
        return Unavailable.because(
            "wait_times", needs=["visits.checked_in_at", "visits.started_at"], nulls=_NULLS,
            zh_reason="预约到诊记录中没有同时记下签到时间和开始就诊时间的到诊，无法计算候诊时间。",
            en_reason="No arrived visit of the period has both a check-in and a start time: waits cannot be measured.")
    frame["recent"] = frame["day"] >= pd.Timestamp(recent_start)
    parts = []
    for kind, column in (("slot", "slot"), ("doctor", "doctor")):
        data = frame[frame[column].notna()]
        grouped = data.groupby(column)["wait"]
        part = pd.DataFrame({"visits": grouped.size(), "mean": grouped.mean(), "p90": grouped.quantile(0.9)})
        recent_part = data[data["recent"]].groupby(column)["wait"]
        part["visits_recent"] = recent_part.size().reindex(part.index).fillna(0).astype(int)
        part["mean_recent"] = recent_part.mean().reindex(part.index)
        part["mean_before"] = (data[~data["recent"]].groupby(column)["wait"].mean().reindex(part.index)
                               if before else np.nan)
        parts.append(part.reset_index(names="name").assign(kind=kind))
    table = pd.concat(parts, ignore_index=True)[["kind", "name", "visits", "mean", "p90", "visits_recent", "mean_recent",
                                                  "mean_before"]]
    flags = [Finding.past(line, float(r.mean_recent), kind="wait_minutes", problem_class="experience",
                          segment=Segment(r.kind, r.name), window=recent, reference=_num(r.mean_before),
                          reference_window=before, facts={"visits": int(r.visits_recent), "by_doctor": r.kind == "doctor"})
             for r in table.itertuples() if r.visits_recent >= MIN_VISITS and line.breached(_num(r.mean_recent))]
    flags.sort(key=lambda f: -f.value)
    mean = float(frame["wait"].mean())
    result = WaitTimes("wait_times", table, "", "", flags, line=line.value, recent=recent, before=before, mean=mean,
                       dropped=int((~kept).sum()))
    result.zh, result.en = _sentences(result)
    return result


def _sentences(result: WaitTimes) -> tuple[str, str]:
    dropped_zh = f"（{result.dropped}条超过{MAX_WAIT}分钟的记录视为录入错误，未计入）" if result.dropped else ""
    dropped_en = f" ({result.dropped} waits over {MAX_WAIT} minutes taken as typing errors and left out)" if result.dropped else ""
    if result.flags:
        zh = "；".join(sentences.render(f, "zh", end=False) for f in result.flags[:3])
        en = " ".join(sentences.render(f, "en") for f in result.flags[:3]).rstrip(".")
        return zh + dropped_zh + "。", en + dropped_en + "."
    recent, _ = result._names("zh")
    recent_en, _ = result._names("en")
    return (f"分析期平均候诊{result.mean:.0f}分钟；{recent}各时段和各医生的平均候诊都在{result.line:g}分钟以内{dropped_zh}。",
            f"Patients waited {result.mean:.0f} minutes on average over the period; in {recent_en} every slot and doctor "
            f"stays within {result.line:g} minutes{dropped_en}.")


@dataclass
class WaitsSection(Section):
    wait_times: AnalysisResult = field(default=None)


def diagnose(clinic, thresholds: dict[str, Threshold]) -> WaitsSection:
    """Wire the clinic's visits into the analysis (chapter 05); without the times, a sentence says what to export."""
    if not (clinic.has("visits", "checked_in_at") and clinic.has("visits", "started_at")):
        return WaitsSection(wait_times=Unavailable.because(
            "wait_times", needs=["visits.checked_in_at", "visits.started_at"], nulls=_NULLS,
            zh_reason="要看患者候诊多久，预约到诊记录还需要两个时间：患者签到的时间和开始就诊的时间；导出时勾选这两列即可。",
            en_reason="Waiting times need two more times in the visits export: when the patient checked in and when "
                      "treatment started; tick both columns when exporting."))
    return WaitsSection(wait_times=wait_times(clinic.visits, start=clinic.config.period.start,
                                              end=clinic.config.period.end, thresholds=thresholds))

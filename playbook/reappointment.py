"""Re-appointment: does the patient leave with the next visit already booked?

[S4] scores the treatment coordinator on it (留存: "针对每天接诊患者中是否预约下次复诊进行考核"), and a
patient who leaves without a booking is the one the recall list has to chase later. For each arrived
visit of the period:

- **exact**, when the visits export has the booking's creation time (``booked_at``: 预约创建时间,
  创建时间): the patient has another visit scheduled on a later day whose booking was made by the end
  of this visit's day;
- **proxy**, otherwise: the patient has another visit (of any status: a booking existed) scheduled on
  a later day within the department's recall interval (``recall_days_<kind>`` of the thresholds
  table). It also counts bookings made later by phone, so it reads higher than the exact share, and
  every sentence says which one it is.

A visit is judged once its department's recall interval has passed inside the data (its day + the
interval ≤ the data's last day): a booking for a later date would otherwise be missing from the
export, not from the patient's diary. Shares per department, doctor and coordinator.

Flag: a coordinator ([S4]) whose share is ``reappointment_gap`` (10 points, playbook default) or more
below the other coordinators' pooled share, with at least ``MIN_VISITS`` judged visits. Its revenue
at stake is the missing re-bookings a year × the clinic's revenue per arrived visit (an upper bound:
some patients book later by phone).

kpis.json: ``kpis.reappointment_rate`` (the period's share), ``kpis.reappointment_method`` (``exact`` or
``within_recall``), and per coordinator ``consultants.<name>.next_visit_booked``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n, sentences
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, PALETTE, reference_line, set_title
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window
from .tables import revenue_per_arrived_visit
from .thresholds import DEFAULTS, Threshold, department_kind

MIN_VISITS = 50  # fewer judged visits make a coordinator's share noise (playbook default)
KINDS = ("consultant", "department", "doctor")
COLUMN = {"consultant": "consultant_id", "department": "department", "doctor": "doctor_id"}
EXACT, PROXY = "exact", "within_recall"


def recall_days(departments: pd.Series, thresholds: dict[str, Threshold] | None = None) -> pd.Series:
    """Each visit's recall interval in days, from its department's kind (thresholds ``recall_days_<kind>``)."""
    table = thresholds or DEFAULTS
    kinds = departments.map(department_kind, na_action=None) if len(departments) else departments
    return kinds.map(lambda k: table[f"recall_days_{k}"].value).astype(float)


def rebooked(visits: pd.DataFrame, *, exact: bool, thresholds: dict[str, Threshold] | None = None,
             data_end: pd.Timestamp | None = None) -> pd.DataFrame:
    """One row per arrived visit: its day, department, doctor, coordinator, whether it can be judged
    (its recall interval lies in the data) and whether the patient left with a later booking.

    Parameters
    ----------
    visits : canonical visits (every status: a cancelled later booking was a booking when the patient left).
    exact : judge by ``booked_at`` (made by the end of the visit's day); otherwise by a later visit within
        the department's recall interval.
    thresholds : ``recall_days_<kind>``.
    data_end : the data's last day (default: the last scheduled day).
    """
    rows = visits.loc[visits["patient_id"].notna(), ["patient_id", "scheduled_at", "status"]].copy()
    rows["day"] = rows["scheduled_at"].dt.normalize()
    rows = rows[rows["day"].notna()]
    if exact:
        rows["booked"] = visits.loc[rows.index, "booked_at"].fillna(pd.Timestamp.max)
    else:
        rows["booked"] = rows["day"]
    # per patient and day: the earliest booking made for that day; then, per patient, over the later days
    days = rows.groupby(["patient_id", "day"], sort=True)["booked"].min().reset_index()
    grouped = days.groupby("patient_id", sort=False)
    if exact:  # the earliest creation time among the bookings of any later day
        later = days.iloc[::-1].groupby("patient_id", sort=False)["booked"].cummin().iloc[::-1]
        days["later"] = later.groupby(days["patient_id"]).shift(-1)
    else:  # the next day with a booking
        days["later"] = grouped["day"].shift(-1)
    arrived = visits[(visits["status"] == "arrived") & visits["patient_id"].notna() & visits["scheduled_at"].notna()]
    out = pd.DataFrame({"patient_id": arrived["patient_id"], "day": arrived["scheduled_at"].dt.normalize(),
                        "department": arrived["department"], "doctor_id": arrived["doctor_id"],
                        "consultant_id": arrived["consultant_id"] if "consultant_id" in arrived else None},
                       index=arrived.index)
    out = out.merge(days[["patient_id", "day", "later"]], on=["patient_id", "day"], how="left").set_index(out.index)
    interval = pd.to_timedelta(recall_days(out["department"], thresholds), unit="D")
    if exact:
        out["rebooked"] = (out["later"] < out["day"] + pd.Timedelta(days=1)).fillna(False).astype(bool)
    else:
        out["rebooked"] = (out["later"] <= out["day"] + interval).fillna(False).astype(bool)
    end = data_end if data_end is not None else rows["day"].max()
    out["judged"] = (out["day"] + interval) <= end
    return out.drop(columns="later")


@dataclass
class Reappointment(AnalysisResult):
    """The share of arrived visits after which the patient already had the next visit booked."""

    method: str = EXACT  # EXACT or PROXY
    line: float = field(kw_only=True, default=DEFAULTS["reappointment_gap"].value)
    rate: float | None = None  # the clinic's, over the period
    window: Window | None = None

    def shares(self, kind: str) -> pd.DataFrame:
        """visits, rebooked, rate of each department, doctor or coordinator (``kind``)."""
        t = self.table
        return t[t["kind"] == kind].set_index("name")[["visits", "rebooked", "rate"]]

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Bars per coordinator (else department): the share leaving with a booking, red for a flagged
        coordinator, with the clinic's share as the reference line."""
        ax = ax if ax is not None else plt.gca()
        kind = "consultant" if len(self.shares("consultant")) else "department"
        data = self.shares(kind).sort_values("rate")
        flagged = {f.subject for f in self.flags}
        labels = [sentences.segment(Segment(kind, name), lang, short=True) for name in data.index]
        colours = [ACTION_RED if name in flagged else PALETTE[1] for name in data.index]
        ax.barh(labels, data["rate"] * 100, color=colours, **kwargs)
        for y, (rate, n) in enumerate(zip(data["rate"], data["visits"])):
            ax.text(rate * 100, y, f" {i18n.rate(rate, lang)}" + i18n.pick(lang, f"（{n:,}人次）", f" (n={n:,})"),
                    va="center", fontsize="small")
        if self.rate is not None:
            reference_line(ax, self.rate * 100, i18n.pick(lang, f"全院{i18n.rate(self.rate, lang)}",
                                                          f"clinic {i18n.rate(self.rate, lang)}"), y=len(data) - 0.4)
        ax.set_xlim(0, 118)
        ax.set_xlabel(i18n.pick(lang, "离开时已约好下次就诊的到诊占比（%）" if self.method == EXACT else
                                "之后复诊间隔内已有预约的到诊占比（%）",
                                "% of visits after which the next was booked" if self.method == EXACT else
                                "% of visits with a later booking within the recall interval"))
        set_title(ax, self.title(lang), lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the coordinator whose patients leave without a booking, else the spread."""
        when = i18n.window(self.window.start, self.window.end, lang)
        if self.flags:
            f = self.flags[0]
            return i18n.pick(lang, f"{when}{f.subject}接待的到诊只有{i18n.rate(f.facts['rate'], lang)}约好了下次就诊，"
                                   f"其他咨询师{i18n.rate(f.reference, lang)}（红色）",
                             f"In {when} only {i18n.rate(f.facts['rate'], lang)} of {f.subject}'s visits left with the "
                             f"next one booked, against {i18n.rate(f.reference, lang)} for the other coordinators (red)")
        what = i18n.pick(lang, "离开前约好下次就诊", "left with the next visit booked") if self.method == EXACT else \
            i18n.pick(lang, "在复诊间隔内已有下次预约", "had a later booking within the recall interval")
        return i18n.pick(lang, f"{when}全院{i18n.rate(self.rate, lang)}的到诊{what}",
                         f"In {when}, {i18n.rate(self.rate, lang)} of visits {what}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        names = {"consultant": ("咨询师", "Coordinator"), "department": ("科室", "Department"), "doctor": ("医生", "Doctor")}
        return pd.DataFrame({
            i18n.pick(lang, "类别", "By"): [i18n.pick(lang, *names[k]) for k in t["kind"]],
            i18n.pick(lang, "名称", "Name"): [sentences.segment(Segment(k, n), lang, short=True)
                                             for k, n in zip(t["kind"], t["name"])],
            i18n.pick(lang, "到诊人次", "Visits"): [i18n.count(v, lang) for v in t["visits"]],
            i18n.pick(lang, "已约下次", "Next booked"): [i18n.count(v, lang) for v in t["rebooked"]],
            i18n.pick(lang, "占比", "Share"): [i18n.rate(_num(v), lang) for v in t["rate"]],
        })

    def metrics(self) -> dict:
        return {"kpis": {"reappointment_rate": _json(self.rate), "reappointment_method": self.method},
                "consultants": {str(name): {"next_visit_booked": _json(row.rate)}
                                for name, row in self.shares("consultant").iterrows()}}


def reappointment(visits: pd.DataFrame, *, start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None,
                  exact: bool | None = None, revenue_per_visit: float = 0.0) -> Reappointment:
    """The share of the period's arrived visits after which the patient already had a later booking.

    Parameters
    ----------
    visits : canonical visits; ``booked_at`` when the export has it (else the proxy), ``department``,
        ``doctor_id``, ``consultant_id`` when given.
    start, end : the period, both days included.
    thresholds : ``reappointment_gap`` (10 points, playbook default), ``recall_days_<kind>``.
    exact : force the method; by default exact when ``booked_at`` has values.
    revenue_per_visit : the clinic's revenue per arrived visit in the period, for the revenue at stake.
    """
    table_in_force = thresholds or DEFAULTS
    line = table_in_force["reappointment_gap"]
    if exact is None:
        exact = "booked_at" in visits and visits["booked_at"].notna().any()
    frame = rebooked(visits, exact=exact, thresholds=thresholds)
    frame = frame[frame["judged"] & frame["day"].between(pd.Timestamp(start), pd.Timestamp(end))]
    method = EXACT if exact else PROXY
    if frame.empty:
        return Unavailable.because(
            "reappointment", needs=["visits"], nulls=("reappointment_rate", "reappointment_method"),
            zh_reason="分析期内没有可判断的到诊（到诊后还需要一个复诊间隔的数据）；导出更长时间的预约记录后再看。",
            en_reason="No arrived visit of the period can be judged yet (a recall interval of data must follow it); "
                      "export a longer span of visits.")
    parts = []
    for kind in KINDS:
        column = COLUMN[kind]
        if column not in frame or frame[column].isna().all():
            continue
        grouped = frame[frame[column].notna()].groupby(frame[column].astype("str"))["rebooked"].agg(["size", "sum"])
        parts.append(pd.DataFrame({"kind": kind, "name": grouped.index, "visits": grouped["size"].to_numpy(),
                                   "rebooked": grouped["sum"].to_numpy()}))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["kind", "name", "visits", "rebooked"])
    table["rate"] = table["rebooked"] / table["visits"]
    rate = float(frame["rebooked"].mean())
    first, last = frame["day"].min().date(), frame["day"].max().date()
    window = Window(first, last)
    years = max((last - first).days + 1, 1) / 365.0

    flags = []
    coordinators = table[table["kind"] == "consultant"].set_index("name")
    for name, row in coordinators.iterrows():
        others = coordinators.drop(index=name)
        if row.visits < MIN_VISITS or others["visits"].sum() < MIN_VISITS:
            continue
        rest = others["rebooked"].sum() / others["visits"].sum()
        gap = rest - row.rate
        if not line.breached(gap):
            continue
        flags.append(Finding.past(
            line, gap, kind="consultant_reappointment", problem_class="loyalty", segment=Segment("consultant", name),
            window=window, reference=float(rest),
            stake=Stake(float(gap * row.visits / years * revenue_per_visit), "reappointment_missing"),
            facts={"rate": float(row.rate), "visits": int(row.visits), "exact": exact}))
    flags.sort(key=lambda f: -f.revenue_at_stake)
    zh, en = _sentences(table, flags, rate, window, exact, line)
    return Reappointment("reappointment", table, zh, en, flags, method=method, line=line.value, rate=rate, window=window)


def _sentences(table, flags, rate, window, exact, line) -> tuple[str, str]:
    when_zh, when_en = i18n.window(window.start, window.end, "zh"), i18n.window(window.start, window.end, "en")
    how_zh = "离开前已约好下次就诊" if exact else "在复诊间隔内已有下次预约（导出没有预约创建时间，这是近似值：之后电话约的也算在内）"
    how_en = ("left with the next visit booked" if exact else "had a later booking within the department's recall "
              "interval (the export has no booking times, so this approximation also counts bookings made later by phone)")
    if flags:
        zh, en = sentences.render(flags[0], "zh", end=False), sentences.render(flags[0], "en", end=False)
        if len(flags) > 1:
            zh += f"；{'、'.join(f.subject for f in flags[1:])}也落后超过{line.value * 100:g}个百分点"
            en += f"; {', '.join(f.subject for f in flags[1:])} also trail by more than {line.value * 100:g} points"
        return zh + "。", en + "."
    depts = table[table["kind"] == "department"].set_index("name")
    spread_zh = spread_en = ""
    if len(depts) > 1:
        low, high = depts["rate"].idxmin(), depts["rate"].idxmax()
        spread_zh = (f"；各科室从{sentences.segment(Segment('department', low), 'zh')}的{i18n.rate(depts.loc[low, 'rate'], 'zh')}"
                     f"到{sentences.segment(Segment('department', high), 'zh')}的{i18n.rate(depts.loc[high, 'rate'], 'zh')}")
        spread_en = (f"; departments run from {i18n.rate(depts.loc[low, 'rate'], 'en')} "
                     f"({sentences.segment(Segment('department', low), 'en', short=True)}) to "
                     f"{i18n.rate(depts.loc[high, 'rate'], 'en')} ({sentences.segment(Segment('department', high), 'en', short=True)})")
    coordinators = table[table["kind"] == "consultant"]
    tail_zh = "，各咨询师之间没有明显差距" if len(coordinators) > 1 else ""
    tail_en = ", with no coordinator far behind the others" if len(coordinators) > 1 else ""
    return (f"{when_zh}全院{i18n.rate(rate, 'zh')}的到诊{how_zh}{spread_zh}{tail_zh}。",
            f"In {when_en}, {i18n.rate(rate, 'en')} of visits {how_en}{spread_en}{tail_en}.")


@dataclass
class ReappointmentSection(Section):
    reappointment: AnalysisResult = field(default=None)


def diagnose(clinic, thresholds: dict[str, Threshold]) -> ReappointmentSection:
    """Wire the clinic's visits into the analysis (chapter 04)."""
    start, end = clinic.config.period.start, clinic.config.period.end
    return ReappointmentSection(reappointment=reappointment(
        clinic.visits, start=start, end=end, thresholds=thresholds,
        revenue_per_visit=revenue_per_arrived_visit(clinic.visits, clinic.charges, start, end)))

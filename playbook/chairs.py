"""Chair utilisation: how much of the chair time the clinic opens is used, by department, weekday and hour.

[S0] sets the line: "牙椅利用率：按科室/时段拆分（例：正畸科下午2-5点黄金时段椅位空置率≤10%）". Chair
vacancy 椅位空置率 = empty chair-minutes / available chair-minutes, where

- available = chairs × the minutes the clinic is open (clinic.yaml's ``opening_hours`` and ``chairs``:
  a count, or a count per department, ``其他`` / ``others`` for the departments not named), on the days
  it opened: a day of the week it opens on which no patient at all arrived (a holiday) is left out;
- used = the arrived visits' chair time: from start (``started_at``, else the booked time) to end
  when the export has end times (``ended_at``), else the block it was booked in (the booked time and
  the department's default length ``visit_minutes_<kind>`` of the thresholds table); plus the chair's
  turnover after the patient (``chair_turnover_minutes``, 10), counted in each clock hour it covers and
  never more than the hour's chairs.

Prime hours are clinic.yaml's ``prime_hours``, else [S0]'s 14:00–17:00 on every open day. A chair
group (a department's chairs, or all of them) whose prime-hour vacancy over the last six months of the
period (the whole period when shorter than a year) is above ``chair_vacancy_prime`` (10% [S0]) is
flagged, with the six months before as its reference. Its revenue at stake: the prime chair-hours a
year above the line × what an hour of used chair time earned in the period (an upper bound: not every
empty hour can be filled).

kpis.json: ``kpis.chair_vacancy`` (0–1, over all opening hours of the period), ``kpis.chair_vacancy_prime``
(prime hours, the period) and ``kpis.chair_vacancy_prime_recent``; ``operations.chairs``: per chair group
(``all`` when the chairs are one count) chairs, vacancy, vacancy_prime, vacancy_prime_recent,
vacancy_prime_before, visit_minutes_measured (the share of chair time from the export's end times).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import i18n, sentences
from .doctors import WEEKDAYS_EN, WEEKDAYS_ZH
from .hours import WeeklyHours
from .jsonsafe import number as _num
from .jsonsafe import scalar as _json
from .plotting import ACTION_RED, GREY, SEQUENTIAL, no_data, set_title
from .results import AnalysisResult, Finding, Section, Segment, Stake, Unavailable, Window
from .tables import recent_window, revenue_per_arrived_visit, time_slots
from .thresholds import DEFAULTS, Threshold, department_kind

ALL = "all"  # the chair group when clinic.yaml gives one count
OTHERS = ("其他", "其它", "others", "other")  # a chairs key for the departments it does not name
MAX_VISIT_MINUTES = 240  # a longer visit in the export is a missing end, not a four-hour appointment
MIN_PRIME_DAYS = 20  # fewer open days in the window make a prime vacancy noise (playbook default)


def chair_groups(departments: pd.Series, chairs: int | dict[str, int]) -> tuple[pd.Series, dict[str, int]]:
    """Each visit's chair group (a department named in ``chairs``, ``others``, or ``all``; None when its
    department has no chairs), and the chairs of each group."""
    if not isinstance(chairs, dict):
        return pd.Series(ALL, index=departments.index), {ALL: int(chairs)}
    named = {str(k): int(v) for k, v in chairs.items() if str(k).lower() not in OTHERS and v}
    rest = sum(int(v) for k, v in chairs.items() if str(k).lower() in OTHERS)
    names = departments.astype("str").where(departments.notna(), "")
    stripped = names.str.removesuffix("科")
    lookup = {k.removesuffix("科"): k for k in named}
    group = stripped.map(lookup)
    if rest:
        group = group.fillna("others")
    return group.where(group.notna(), None), {**named, **({"others": rest} if rest else {})}


def chair_minutes(visits: pd.DataFrame, thresholds: dict[str, Threshold] | None = None) -> pd.DataFrame:
    """Each arrived visit's chair time: ``begin``, ``minutes`` (the visit, from the export's end time when it
    has one (``measured``), else the department's default length, plus the turnover after it)."""
    table = thresholds or DEFAULTS
    booked = visits["scheduled_at"]
    default = visits["department"].map(lambda d: table[f"visit_minutes_{department_kind(d)}"].value).astype(float)
    measured = pd.Series(np.nan, index=visits.index)
    started = visits["started_at"].where(visits["started_at"].notna(), booked) if "started_at" in visits else booked
    if "ended_at" in visits:
        measured = (visits["ended_at"] - started).dt.total_seconds() / 60
        measured = measured.where((measured > 0) & (measured <= MAX_VISIT_MINUTES))
    # a measured visit runs from its start; a default one fills the block it was booked in
    begin = started.where(measured.notna(), booked)
    turnover = table["chair_turnover_minutes"].value  # cleaning and setting up after the patient
    return pd.DataFrame({"begin": begin, "minutes": measured.fillna(default) + turnover, "measured": measured.notna()})


def _hour_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """The minutes each visit spends in each clock hour it covers: group, day, hour, minutes."""
    start = (frame["begin"] - frame["begin"].dt.normalize()).dt.total_seconds().to_numpy() / 60
    finish = np.minimum(start + frame["minutes"].to_numpy(), 24 * 60)
    first, last = (start // 60).astype(int), np.ceil(finish / 60).astype(int)
    count = np.maximum(last - first, 1)
    row = np.repeat(np.arange(len(frame)), count)
    hour = first[row] + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    minutes = np.minimum(finish[row], hour * 60 + 60) - np.maximum(start[row], hour * 60)
    return pd.DataFrame({"group": frame["group"].to_numpy()[row], "day": frame["begin"].dt.normalize().to_numpy()[row],
                         "hour": hour, "minutes": np.maximum(minutes, 0)})


@dataclass
class ChairVacancy(AnalysisResult):
    """Chair vacancy per chair group, weekday and hour; prime hours against [S0]'s 10%."""

    cells: pd.DataFrame = None  # group, day, hour -> capacity, used, prime_capacity, prime_used, over
    line: float = field(kw_only=True, default=DEFAULTS["chair_vacancy_prime"].value)
    prime: WeeklyHours | None = None
    recent: Window | None = None
    before: Window | None = None
    measured: float = 0.0  # share of the chair time taken from the export's end times
    vacancy: float | None = None  # all opening hours, the period
    prime_vacancy: float | None = None

    def grid(self, group: str | None = None, window: Window | None = None) -> pd.DataFrame:
        """Vacancy by weekday (rows, 0 = Monday) and hour (columns) over ``window`` (default: the judged one)."""
        cells = self._cells(group, window or self.recent)
        sums = cells.groupby([cells["day"].dt.day_of_week, "hour"])[["capacity", "used"]].sum()
        return (1 - sums["used"] / sums["capacity"]).unstack("hour")

    def _cells(self, group: str | None, window: Window | None) -> pd.DataFrame:
        cells = self.cells if group is None else self.cells[self.cells["group"] == group]
        if window is not None:
            cells = cells[cells["day"].between(pd.Timestamp(window.start), pd.Timestamp(window.end))]
        return cells

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Heatmap weekday × hour of chair vacancy (%), the judged window, the flagged group's (else the
        whole clinic's); prime cells framed, red when over the line."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        flagged = self.flags[0].subject if self.flags and self.flags[0].segment else None
        data = self.grid(flagged) * 100
        if data.empty:
            return no_data(ax, lang, title)
        names = WEEKDAYS_ZH if lang == "zh" else WEEKDAYS_EN
        shown = data.copy()
        shown.index = [names[d] for d in data.index]
        shown.columns = [f"{h}:00" for h in data.columns]
        sns.heatmap(shown, ax=ax, cmap=SEQUENTIAL, vmin=0, vmax=100, annot=True, fmt=".0f", cbar=False,
                    linewidths=0.5, linecolor="white", annot_kws={"fontsize": "x-small"}, **kwargs)
        edge = ACTION_RED if self.flags else GREY
        for row, weekday in enumerate(data.index):
            for col, hour in enumerate(data.columns):
                if self.prime is not None and self.prime.minutes_in_hour(int(weekday), int(hour)) and not np.isnan(data.iloc[row, col]):
                    ax.add_patch(plt.Rectangle((col, row), 1, 1, fill=False, edgecolor=edge, linewidth=1.4))
        # the half-day the title names, which no cell shows alone, under the chart
        emptiest = "" if self.flags or not self._emptiest(lang) else i18n.pick(lang, "；", "; ") + self._emptiest(lang)
        ax.set_xlabel(i18n.pick(lang, f"数字为椅位空置率%；方框为黄金时段（上限{self.line:.0%}）{emptiest}",
                                f"numbers: chair vacancy %; framed: prime hours (line {self.line:.0%}){emptiest}"))
        ax.set_ylabel("")
        ax.tick_params(axis="y", rotation=0)
        return set_title(ax, title, lang)

    def title(self, lang: str = "zh") -> str:
        """The chart's finding: the prime hours' vacancy against the line, and the emptiest part of the week."""
        when = i18n.window(self.recent.start, self.recent.end, lang)
        if self.flags:
            f = self.flags[0]
            who = sentences.segment(f.segment, lang) if f.segment else i18n.pick(lang, "全院", "the clinic")
            before = (i18n.pick(lang, f"，此前{i18n.rate(f.reference, lang)}", f"; {i18n.rate(f.reference, lang)} before")
                      if f.reference is not None else "")
            return i18n.pick(lang, f"{when}{who}黄金时段椅位空置{i18n.rate(f.value, lang)}，超过{self.line:.0%}上限（红框）{before}",
                             f"In {when} {who}'s prime-hour chairs stood empty {i18n.rate(f.value, lang)} of the time, "
                             f"above the {self.line:.0%} line (red frames){before}")
        recent = self._vacancy(None, self.recent, prime=True)
        idle = self._emptiest(lang)
        return i18n.pick(lang, f"{when}黄金时段椅位空置{i18n.rate(recent, lang)}，在{self.line:.0%}上限以内；{idle}",
                         f"In {when} prime-hour chairs stood empty {i18n.rate(recent, lang)} of the time, within the "
                         f"{self.line:.0%} line; {idle}")

    def _emptiest(self, lang: str) -> str:
        """The emptiest half-day of the week (weekday or weekend × morning, afternoon, evening)."""
        cells = self._cells(None, self.recent)
        slots = time_slots(cells["day"] + pd.to_timedelta(cells["hour"], unit="h"))  # the no-show chart's half-days
        sums = cells.groupby(slots)[["capacity", "used"]].sum()
        sums = sums[sums["capacity"] > 0]
        if sums.empty:
            return ""
        vacancy = 1 - sums["used"] / sums["capacity"]
        slot = vacancy.idxmax()
        return i18n.pick(lang, f"最空的是{i18n.term(slot, lang)}（{i18n.rate(float(vacancy[slot]), lang)}）",
                         f"the emptiest are {i18n.term(slot, lang)} ({i18n.rate(float(vacancy[slot]), lang)})")

    def _vacancy(self, group: str | None, window: Window | None, *, prime: bool) -> float | None:
        cells = self._cells(group, window)
        capacity, used = ("prime_capacity", "prime_used") if prime else ("capacity", "used")
        total = float(cells[capacity].sum())
        return 1 - float(cells[used].sum()) / total if total > 0 else None

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        recent, before = i18n.recent_and_before(self.recent, self.before, lang)
        return pd.DataFrame({
            i18n.pick(lang, "椅位", "Chairs"): [_group_name(g, lang) for g in t.index],
            i18n.pick(lang, "椅位数", "Count"): [i18n.count(v, lang) for v in t["chairs"]],
            i18n.pick(lang, "全部营业时间空置", "Vacancy, all hours"): [i18n.rate(_num(v), lang) for v in t["vacancy"]],
            i18n.pick(lang, f"黄金时段 {before}", f"Prime, {before}"): [i18n.rate(_num(v), lang) for v in t["vacancy_prime_before"]],
            i18n.pick(lang, f"黄金时段 {recent}", f"Prime, {recent}"): [i18n.rate(_num(v), lang) for v in t["vacancy_prime_recent"]],
        })

    def metrics(self) -> dict:
        t = self.table
        return {"kpis": {"chair_vacancy": _json(self.vacancy), "chair_vacancy_prime": _json(self.prime_vacancy),
                         "chair_vacancy_prime_recent": _json(self._vacancy(None, self.recent, prime=True))},
                "operations": {"chairs": {str(g): {"chairs": _json(r.chairs), "vacancy": _json(r.vacancy),
                                                   "vacancy_prime": _json(r.vacancy_prime),
                                                   "vacancy_prime_recent": _json(r.vacancy_prime_recent),
                                                   "vacancy_prime_before": _json(r.vacancy_prime_before),
                                                   "visit_minutes_measured": _json(self.measured)}
                                          for g, r in t.iterrows()}}}


def _group_name(group: str, lang: str) -> str:
    if group == ALL:
        return i18n.pick(lang, "全院", "Whole clinic")
    return sentences.segment(Segment("department", group), lang, short=True)


def chair_vacancy(visits: pd.DataFrame, *, week: WeeklyHours, prime: WeeklyHours, chairs: int | dict[str, int],
                  start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None,
                  revenue_per_visit: float = 0.0) -> ChairVacancy:
    """Chair vacancy by chair group, weekday and hour over the period's opening hours [S0].

    Parameters
    ----------
    visits : canonical visits: arrived ones count, with ``department``, and ``started_at`` / ``ended_at``
        when the export has them.
    week, prime : the opening hours and the prime hours (`playbook.hours`; prime inside opening).
    chairs : a count, or a count per department (``其他`` / ``others`` for the rest).
    start, end : the period, both days included.
    thresholds : ``chair_vacancy_prime`` (10% [S0]) and ``visit_minutes_<kind>``.
    revenue_per_visit : the clinic's revenue per arrived visit in the period, for the revenue at stake.
    """
    line = (thresholds or DEFAULTS)["chair_vacancy_prime"]
    arrived = visits[(visits["status"] == "arrived")
                     & visits["scheduled_at"].dt.normalize().between(pd.Timestamp(start), pd.Timestamp(end))]
    timing = chair_minutes(arrived, thresholds)
    group, counts = chair_groups(arrived["department"], chairs)
    timing["group"] = group
    placed = timing[timing["group"].notna()]
    used = _hour_cells(placed).groupby(["group", "day", "hour"])["minutes"].sum()

    # Capacity: every group, every day the clinic opened (some patient arrived), every open hour.
    open_days = pd.DatetimeIndex(sorted(arrived["scheduled_at"].dt.normalize().unique()))
    grid = pd.DataFrame([(d, h, week.minutes_in_hour(d.day_of_week, h), prime.minutes_in_hour(d.day_of_week, h))
                         for d in open_days for h in week.hours(d.day_of_week)],
                        columns=["day", "hour", "open", "prime"])
    cells = pd.concat([grid.assign(group=g, chairs=n) for g, n in counts.items()], ignore_index=True)
    cells["capacity"] = cells["chairs"] * cells["open"]
    booked = used.reindex(pd.MultiIndex.from_frame(cells[["group", "day", "hour"]])).fillna(0.0).to_numpy()
    cells["used"] = np.minimum(booked, cells["capacity"])
    cells["over"] = booked - cells["used"]
    cells["prime_capacity"] = cells["chairs"] * cells["prime"]
    cells["prime_used"] = cells["used"] * np.where(cells["open"] > 0, cells["prime"] / cells["open"].clip(lower=1), 0)

    recent_start, before_end = recent_window(start, end)
    recent = Window(recent_start, end)
    before = Window(start, before_end) if before_end else None
    result = ChairVacancy("chair_vacancy", pd.DataFrame(), "", "", cells=cells, line=line.value, prime=prime,
                          recent=recent, before=before, measured=float(placed["measured"].mean()) if len(placed) else 0.0)
    rows = {}
    for g, n in counts.items():
        rows[g] = {"chairs": n, "vacancy": result._vacancy(g, None, prime=False),
                   "vacancy_prime": result._vacancy(g, None, prime=True),
                   "vacancy_prime_recent": result._vacancy(g, recent, prime=True),
                   "vacancy_prime_before": result._vacancy(g, before, prime=True) if before else None}
    result.table = pd.DataFrame.from_dict(rows, orient="index")
    result.vacancy, result.prime_vacancy = result._vacancy(None, None, prime=False), result._vacancy(None, None, prime=True)

    # What an hour of used chair time earned: revenue per visit / mean chair hours per visit.
    hours_per_visit = float(placed["minutes"].mean()) / 60 if len(placed) else float("nan")
    per_hour = revenue_per_visit / hours_per_visit if len(placed) else 0.0
    years_recent = ((recent.end - recent.start).days + 1) / 365.0
    for g, row in result.table.iterrows():
        vacancy = _num(row.vacancy_prime_recent)
        days = result._cells(g, recent).query("prime_capacity > 0")["day"].nunique()
        if days < MIN_PRIME_DAYS or not line.breached(vacancy):
            continue
        prime_hours = float(result._cells(g, recent)["prime_capacity"].sum()) / 60
        result.flags.append(Finding.past(
            line, vacancy, kind="chair_vacancy_prime", problem_class="efficiency",
            segment=None if g == ALL else Segment("department", g), window=recent,
            reference=_num(row.vacancy_prime_before), reference_window=before,
            stake=Stake(float((vacancy - line.value) * prime_hours / years_recent * per_hour), "chair_idle_prime"),
            facts={"prime": prime, "chairs": int(row.chairs),
                   "visits_idle": (vacancy - line.value) * prime_hours / years_recent / hours_per_visit}))
    result.flags.sort(key=lambda f: -f.revenue_at_stake)
    result.zh, result.en = _sentences(result)
    return result


def _sentences(result: ChairVacancy) -> tuple[str, str]:
    over = float(result.cells["over"].sum()) / max(float(result.cells["used"].sum() + result.cells["over"].sum()), 1.0)
    how_zh = ("就诊时长取自导出的开始和结束时间" if result.measured >= 0.5 else "导出没有就诊结束时间，占椅时长按各科室的默认时长估算，见阈值表")
    how_en = ("chair time is taken from the export's start and end times" if result.measured >= 0.5 else
              "the export has no end times, so chair time uses each department's default length (see the thresholds)")
    over_zh = f"；另有{i18n.rate(over, 'zh')}的就诊时间超出了椅位数（同一时间在诊的患者多于椅位），请核对椅位数" if over > 0.05 else ""
    over_en = (f"; {i18n.rate(over, 'en')} of the chair time overlaps beyond the chairs given (more patients in the "
               f"chair at once than chairs): check the chair count" if over > 0.05 else "")
    if result.flags:
        zh = "；".join(sentences.render(f, "zh", end=False) for f in result.flags)
        en = " ".join(sentences.render(f, "en") for f in result.flags).rstrip(".")
        return f"{zh}（{how_zh}）{over_zh}。", f"{en} ({how_en}){over_en}."
    when_zh = i18n.window(result.recent.start, result.recent.end, "zh")
    when_en = i18n.window(result.recent.start, result.recent.end, "en")
    recent = result._vacancy(None, result.recent, prime=True)
    return (f"{when_zh}黄金时段（{result.prime.describe('zh')}）椅位空置{i18n.rate(recent, 'zh')}，在{result.line:.0%}的上限以内；"
            f"全部营业时间空置{i18n.rate(result.vacancy, 'zh')}，{result._emptiest('zh')}，可把不急的复诊排到这些时段（{how_zh}）{over_zh}。",
            f"In {when_en} prime-hour chairs ({result.prime.describe('en')}) stood empty {i18n.rate(recent, 'en')} of the "
            f"time, within the {result.line:.0%} line; over all opening hours {i18n.rate(result.vacancy, 'en')}, and "
            f"{result._emptiest('en')}: book routine returns there ({how_en}){over_en}.")


@dataclass
class ChairsSection(Section):
    chair_vacancy: AnalysisResult = field(default=None)


def diagnose(clinic, thresholds: dict[str, Threshold]) -> ChairsSection:
    """Wire the clinic's visits and its week into the analysis (chapter 05); without opening hours or chairs,
    a sentence names the two facts to add."""
    config = clinic.config
    line = sentences.line(thresholds["chair_vacancy_prime"])
    if not (config.week and config.chairs):
        missing = [need for need, given in (("opening hours", config.week), ("chairs", config.chairs)) if not given]
        return ChairsSection(chair_vacancy=Unavailable.because(
            "chair_vacancy", needs=missing, nulls=("chair_vacancy", "chair_vacancy_prime", "chair_vacancy_prime_recent"),
            zh_reason="要计算椅位空置率，还需要诊所告诉我们两件事：每天几点到几点营业，以及有几张牙椅（全院共几张，或各科室各几张）。"
                      f"有了这两项，就能按科室和时段看黄金时段的椅位是否空置超过{line}。",
            en_reason="Chair vacancy needs two facts from the clinic: its opening hours on each day of the week, and how "
                      "many dental chairs it has (in all, or per department). With them, prime-hour vacancy by "
                      f"department and time of day is checked against the {line} line."))
    start, end = config.period.start, config.period.end
    return ChairsSection(chair_vacancy=chair_vacancy(
        clinic.visits, week=config.week, prime=config.prime_week, chairs=config.chairs, start=start, end=end,
        thresholds=thresholds, revenue_per_visit=revenue_per_arrived_visit(clinic.visits, clinic.charges, start, end)))

"""Satisfaction: would patients recommend the clinic, what do they write online, what do they complain about.

[S1] puts satisfaction in the first health check (患者满意度评分 NPS、CSAT，在线评价数量与质量，投诉率)
and asks for patient feedback again when evaluating ("再次收集患者反馈，看满意度、口碑是否有实质性提升").
From two optional exports:

- **surveys** (满意度调查: date, the 0–10 "would you recommend us" score, doctor, channel, comment): the
  net promoter score NPS = % promoters (9–10) − % detractors (0–6), in points from −100 to 100, by
  month, doctor and source channel. A doctor's NPS over the last six months of the period that is
  ``nps_fall`` (20 points, playbook default) or more below their own earlier NPS, with at least
  ``MIN_RESPONSES`` answers in each window and a fall larger than twice its standard error (a doctor's
  answers are few, and 20 points can be noise), is flagged; so is the clinic's.
- **reviews** (在线评价: platform, date, stars 1–5, text): the mean stars by month and platform; a
  platform whose mean over the last six months is under ``review_stars_min`` (4 stars, playbook
  default), with at least ``MIN_REVIEWS`` reviews, is flagged.
- **complaints**: survey answers from detractors that carry a comment, and reviews of 1–2 stars,
  counted by month and by theme (waiting, price, manner, upselling, pain, outcome, booking,
  environment: keywords in the text).

Comments and review texts can name people: they are read for their themes and counted, and never
printed, in the report or anywhere else. No revenue is put on these findings: the data cannot say how
many patients a bad review turns away.

kpis.json: ``kpis.nps``, ``kpis.nps_recent``, ``kpis.review_stars``, ``kpis.review_stars_recent``,
``kpis.complaints``; ``satisfaction``: nps_by_month, nps_by_doctor, nps_by_channel, reviews_by_month,
complaint_themes.
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
from .plotting import ACTION_RED, PALETTE, month_ticks, no_data, reference_line, set_title
from .results import AnalysisResult, Finding, Section, Segment, Unavailable, Window
from .tables import recent_window
from .thresholds import DEFAULTS, Threshold

MIN_RESPONSES = 20  # fewer answers make an NPS noise (playbook default)
MIN_MONTH = 10  # a month's NPS or stars is shown from this many answers
MIN_REVIEWS = 20
PROMOTER, DETRACTOR = 9, 6  # NPS: 9-10 promote, 0-6 detract
LOW_STARS = 2  # a review of 1-2 stars is a complaint
# Themes of a complaint, by keywords in its text (zh, en, keywords).
THEMES = {
    "wait": ("候诊等待", "waiting", ("候诊", "等待", "等了", "排队", "太久", "等很久", "等半天")),
    "price": ("价格收费", "price", ("价格", "贵", "收费", "性价比", "乱收费")),
    "manner": ("服务态度", "manner", ("态度", "不耐烦", "冷淡", "服务差", "不理人", "爱答不理")),
    "upselling": ("推销办卡", "upselling", ("推销", "办卡", "套餐", "过度治疗", "诱导")),
    "pain": ("疼痛", "pain", ("疼", "痛")),
    "outcome": ("治疗效果", "outcome", ("效果", "没治好", "复发", "掉了", "松动", "技术")),
    "booking": ("预约", "booking", ("预约", "约不上", "改约")),
    "environment": ("环境", "environment", ("环境", "卫生", "停车")),
}
OTHER_THEME = ("其他", "other")


def nps_of(scores: pd.Series) -> float | None:
    """Net promoter score in points: % of 9–10 minus % of 0–6 (None without answers)."""
    if scores.empty:
        return None
    return float(100 * ((scores >= PROMOTER).mean() - (scores <= DETRACTOR).mean()))


def nps_error(scores: pd.Series) -> float:
    """The standard error of an NPS in points: each answer counts +1, 0 or −1, so var = p + d − (p − d)², / n."""
    promoters, detractors = (scores >= PROMOTER).mean(), (scores <= DETRACTOR).mean()
    return float(100 * np.sqrt(max(promoters + detractors - (promoters - detractors) ** 2, 0.0) / len(scores)))


def _windows(start: dt.date, end: dt.date) -> tuple[Window, Window | None]:
    recent_start, before_end = recent_window(start, end)
    return Window(recent_start, end), (Window(start, before_end) if before_end else None)


def _months(days: pd.Series) -> pd.Series:
    return days.dt.to_period("M").dt.to_timestamp()


# --------------------------------------------------------------------------------------------------
# NPS

@dataclass
class NetPromoter(AnalysisResult):
    """NPS by doctor (before and recently), by month and by channel."""

    by_month: pd.DataFrame = None  # month -> responses, nps (None under MIN_MONTH)
    by_channel: pd.DataFrame = None  # channel -> responses, nps
    nps: float | None = None
    nps_recent: float | None = None
    recent: Window | None = None
    before: Window | None = None
    line: float = field(kw_only=True, default=DEFAULTS["nps_fall"].value)
    left_out: int = 0  # scores outside 0-10

    def _names(self, lang: str) -> tuple[str, str]:
        return i18n.recent_and_before(self.recent, self.before, lang)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """NPS per doctor, before (grey) and recently (red where it fell past the line)."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table.dropna(subset=["nps_recent"]).sort_values("nps_recent")
        if t.empty:
            return no_data(ax, lang, title)
        flagged = {f.subject for f in self.flags}
        recent, before = self._names(lang)
        y = np.arange(len(t))
        ax.barh(y + 0.2, t["nps_before"].fillna(0), height=0.4, color=PALETTE[4], label=before)
        ax.barh(y - 0.2, t["nps_recent"], height=0.4, label=recent,
                color=[ACTION_RED if d in flagged else PALETTE[1] for d in t.index], **kwargs)
        for yy, value in zip(y, t["nps_recent"]):
            ax.text(max(value, 0), yy - 0.2, f" {value:+.0f}", va="center", fontsize="small")
        if self.nps_recent is not None:  # the clinic over the same recent window as the coloured bars
            reference_line(ax, self.nps_recent, i18n.pick(lang, f"全院{recent}{self.nps_recent:+.0f}",
                                                          f"clinic, {recent}: {self.nps_recent:+.0f}"), y=len(t) - 0.45)
        ax.set_yticks(y, list(t.index))
        ax.set_xlim(min(-20, float(t[["nps_recent", "nps_before"]].min().min()) - 10), 110)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_xlabel(i18n.pick(lang, "净推荐值NPS（推荐者% − 贬损者%）", "net promoter score (% promoters − % detractors)"))
        ax.legend(handles=[Patch(color=PALETTE[1], label=recent), Patch(color=PALETTE[4], label=before)],
                  loc="upper left", bbox_to_anchor=(0, -0.16), ncol=2, fontsize="small")
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def title(self, lang: str = "zh") -> str:
        recent, before = self._names(lang)
        if self.flags:
            f = self.flags[0]
            who = f.subject or i18n.pick(lang, "全院", "The clinic")
            return i18n.pick(lang, f"{who}的净推荐值从{before}的{f.reference:+.0f}降到{recent}的{f.facts['nps']:+.0f}（红色）",
                             f"{who}'s NPS fell from {f.reference:+.0f} in {before} to {f.facts['nps']:+.0f} in {recent} (red)")
        return i18n.pick(lang, f"{recent}全院净推荐值{_points(self.nps_recent)}，各医生没有明显下降",
                         f"The clinic's NPS is {_points(self.nps_recent)} in {recent}; no doctor's has fallen")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        recent, before = self._names(lang)
        return pd.DataFrame({
            i18n.pick(lang, "医生", "Doctor"): t.index,
            i18n.pick(lang, "答卷", "Answers"): [i18n.count(v, lang) for v in t["responses"]],
            i18n.pick(lang, "分析期NPS", "NPS, period"): [_points(v) for v in t["nps"]],
            before: [_points(v) for v in t["nps_before"]],
            recent: [_points(v) for v in t["nps_recent"]],
        })

    def months_for(self, lang: str = "zh") -> pd.DataFrame:
        m = self.by_month
        rows = {i18n.pick(lang, "月份", "Month"): [i18n.month(d.date(), lang) for d in m.index],
                i18n.pick(lang, "答卷", "Answers"): [i18n.count(v, lang) for v in m["responses"]],
                "NPS": [_points(v) for v in m["nps"]]}
        return pd.DataFrame(rows)

    def channels_for(self, lang: str = "zh") -> pd.DataFrame:
        c = self.by_channel
        return pd.DataFrame({i18n.pick(lang, "来源渠道", "Channel"): [i18n.term(x, lang) for x in c.index],
                             i18n.pick(lang, "答卷", "Answers"): [i18n.count(v, lang) for v in c["responses"]],
                             "NPS": [_points(v) for v in c["nps"]]})

    def metrics(self) -> dict:
        return {"kpis": {"nps": _json(self.nps), "nps_recent": _json(self.nps_recent)},
                "satisfaction": {
                    "nps_by_month": {d.date().isoformat()[:7]: {"responses": _json(r.responses), "nps": _json(r.nps)}
                                     for d, r in self.by_month.iterrows()},
                    "nps_by_doctor": {str(d): {"responses": _json(r.responses), "nps": _json(r.nps),
                                               "nps_recent": _json(r.nps_recent), "nps_before": _json(r.nps_before)}
                                      for d, r in self.table.iterrows()},
                    "nps_by_channel": {str(c): {"responses": _json(r.responses), "nps": _json(r.nps)}
                                       for c, r in self.by_channel.iterrows()}}}


def _points(value) -> str:
    value = _num(value)
    return "—" if value is None else f"{value:+.0f}"


def _grouped_nps(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    data = frame[frame[by].notna()]
    grouped = data.groupby(by)["score"]
    return pd.DataFrame({"responses": grouped.size(), "nps": grouped.apply(nps_of)})


def net_promoter(surveys: pd.DataFrame, *, start: dt.date, end: dt.date,
                 thresholds: dict[str, Threshold] | None = None) -> NetPromoter:
    """NPS of the period's survey answers, by month, doctor and channel; falls past ``nps_fall`` flagged.

    Parameters
    ----------
    surveys : canonical surveys (``surveyed_at``, ``score`` 0–10; ``doctor_id``, ``channel`` when given).
    start, end : the period, both days included.
    thresholds : ``nps_fall`` (20 points, playbook default).
    """
    line = (thresholds or DEFAULTS)["nps_fall"]
    day = surveys["surveyed_at"].dt.normalize()
    period = surveys[day.between(pd.Timestamp(start), pd.Timestamp(end)) & surveys["score"].notna()]
    valid = period["score"].between(0, 10)
    if valid.any() and period.loc[valid, "score"].max() <= 5 and len(period) >= MIN_RESPONSES:
        return Unavailable.because(
            "nps", needs=["surveys.score"], nulls=("nps", "nps_recent"),
            zh_reason="满意度调查的评分都不超过5分，应是5分制满意度，不是0–10分的推荐意愿；净推荐值需要“您有多大可能把我们推荐给亲友（0–10分）”这一题。",
            en_reason="The survey's scores never exceed 5: a 5-point satisfaction scale, not the 0–10 recommend "
                      "question NPS needs (\"how likely are you to recommend us, 0–10\").")
    frame = pd.DataFrame({"score": period.loc[valid, "score"].astype(float), "day": day[period.index][valid],
                          "doctor": period.loc[valid, "doctor_id"].astype("str").where(period.loc[valid, "doctor_id"].notna()),
                          "channel": period.loc[valid, "channel"].astype("str").where(period.loc[valid, "channel"].notna())})
    recent, before = _windows(start, end)
    frame["recent"] = frame["day"] >= pd.Timestamp(recent.start)
    frame["month"] = _months(frame["day"])
    by_month = _grouped_nps(frame, "month")
    by_month["nps"] = by_month["nps"].where(by_month["responses"] >= MIN_MONTH)
    doctors = _grouped_nps(frame, "doctor")
    doctors["nps_recent"] = _grouped_nps(frame[frame["recent"]], "doctor")["nps"].reindex(doctors.index)
    doctors["responses_recent"] = frame[frame["recent"]].groupby("doctor").size().reindex(doctors.index).fillna(0).astype(int)
    doctors["nps_before"] = _grouped_nps(frame[~frame["recent"]], "doctor")["nps"].reindex(doctors.index)
    doctors["responses_before"] = frame[~frame["recent"]].groupby("doctor").size().reindex(doctors.index).fillna(0).astype(int)
    doctors = doctors.sort_values("nps_recent")

    flags = []
    if before is not None:
        judged = [(None, frame[frame["recent"]]["score"], frame[~frame["recent"]]["score"])]
        judged += [(d, frame[frame["recent"] & (frame["doctor"] == d)]["score"],
                    frame[~frame["recent"] & (frame["doctor"] == d)]["score"]) for d in doctors.index]
        for doctor, now, then in judged:
            if len(now) < MIN_RESPONSES or len(then) < MIN_RESPONSES:
                continue
            fall = nps_of(then) - nps_of(now)
            # past the line, and more than twice the noise of two samples of answers (a doctor has few)
            if line.breached(fall) and fall > 2 * np.hypot(nps_error(now), nps_error(then)):
                flags.append(Finding.past(
                    line, fall, kind="nps_fall", metric="nps_fall" if doctor else "nps_fall_clinic", problem_class="experience",
                    segment=Segment("doctor", doctor) if doctor else None, window=recent, reference=nps_of(then),
                    reference_window=before, facts={"nps": nps_of(now), "responses": int(len(now)),
                                                    "detractors": float((now <= DETRACTOR).mean())}))
    flags.sort(key=lambda f: (f.segment is None, -f.value))
    result = NetPromoter("nps", doctors, "", "", flags, by_month=by_month, by_channel=_grouped_nps(frame, "channel"),
                         nps=nps_of(frame["score"]), nps_recent=nps_of(frame.loc[frame["recent"], "score"]),
                         recent=recent, before=before, line=line.value, left_out=int((~valid).sum()))
    result.zh, result.en = _nps_sentences(result, len(frame))
    return result


def _nps_sentences(result: NetPromoter, answers: int) -> tuple[str, str]:
    left_zh = f"（{result.left_out}份评分不在0–10之间，未计入）" if result.left_out else ""
    left_en = f" ({result.left_out} scores outside 0–10 left out)" if result.left_out else ""
    if result.flags:
        return (sentences.join(result.flags, "zh").rstrip("。") + left_zh + "。",
                sentences.join(result.flags, "en").rstrip(".") + left_en + ".")
    recent, _ = result._names("zh")
    recent_en, _ = result._names("en")
    return (f"分析期{i18n.count(answers, 'zh')}份答卷的净推荐值为{_points(result.nps)}，{recent}为{_points(result.nps_recent)}；"
            f"没有医生的净推荐值比此前下降超过{result.line:g}分{left_zh}。",
            f"The period's {i18n.count(answers, 'en')} answers give an NPS of {_points(result.nps)}, "
            f"{_points(result.nps_recent)} in {recent_en}; no doctor's fell more than {result.line:g} points{left_en}.")


# --------------------------------------------------------------------------------------------------
# Online reviews

@dataclass
class Reviews(AnalysisResult):
    """Mean stars by month (bars: reviews, line: stars) and by platform, recent against before."""

    by_month: pd.DataFrame = None  # month -> reviews, stars
    stars: float | None = None
    stars_recent: float | None = None
    recent: Window | None = None
    before: Window | None = None
    line: float = field(kw_only=True, default=DEFAULTS["review_stars_min"].value)

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Mean stars per month, red in the months of a flagged window, with the line."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        m = self.by_month.dropna(subset=["stars"])
        if m.empty:
            return no_data(ax, lang, title)
        x = np.arange(len(m))
        red = bool(self.flags)
        colours = [ACTION_RED if red and d >= pd.Timestamp(self.recent.start) else PALETTE[1] for d in m.index]
        ax.bar(x, m["stars"], color=colours, width=0.7, **kwargs)
        ax.axhline(self.line, color="grey", linestyle="--", linewidth=1)
        ax.text(-0.4, self.line - 0.05, i18n.pick(lang, f"下限{self.line:g}星", f"line {self.line:g}"), va="top",
                ha="left", fontsize="small", color="grey")
        month_ticks(ax, m.index, lang)
        ax.set_ylim(1, 5.2)
        ax.set_ylabel(i18n.pick(lang, "平均星级", "mean stars"))
        return set_title(ax, title, lang)

    def _names(self, lang: str) -> tuple[str, str]:
        return i18n.recent_and_before(self.recent, self.before, lang)

    def title(self, lang: str = "zh") -> str:
        recent, before = self._names(lang)
        if self.flags:
            f = self.flags[0]
            where = i18n.term(f.subject, lang) if f.subject else i18n.pick(lang, "在线评价", "online reviews")
            was = i18n.pick(lang, f"，{before}{f.reference:.1f}星", f"; {f.reference:.1f} in {before}") if f.reference else ""
            return i18n.pick(lang, f"{recent}{where}平均{f.value:.1f}星，低于{self.line:g}星（红色）{was}",
                             f"{where} averaged {f.value:.1f} stars in {recent}, under {self.line:g} (red){was}")
        return i18n.pick(lang, f"{recent}在线评价平均{_stars(self.stars_recent)}星，不低于{self.line:g}星",
                         f"Online reviews averaged {_stars(self.stars_recent)} stars in {recent}, at or above {self.line:g}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table
        recent, before = self._names(lang)
        return pd.DataFrame({
            i18n.pick(lang, "平台", "Platform"): [i18n.term(p, lang) for p in t.index],
            i18n.pick(lang, "评价数", "Reviews"): [i18n.count(v, lang) for v in t["reviews"]],
            before: [_stars(v) for v in t["stars_before"]],
            recent: [_stars(v) for v in t["stars_recent"]],
        })

    def metrics(self) -> dict:
        return {"kpis": {"review_stars": _json(self.stars), "review_stars_recent": _json(self.stars_recent)},
                "satisfaction": {"reviews_by_month": {d.date().isoformat()[:7]: {"reviews": _json(r.reviews),
                                                                                  "stars": _json(r.stars)}
                                                      for d, r in self.by_month.iterrows()}}}


def _stars(value) -> str:
    value = _num(value)
    return "—" if value is None else f"{value:.1f}"


def reviews(data: pd.DataFrame, *, start: dt.date, end: dt.date, thresholds: dict[str, Threshold] | None = None) -> Reviews:
    """Mean stars of the period's online reviews by month and platform; a platform under the line flagged.

    Parameters
    ----------
    data : canonical reviews (``reviewed_at``, ``stars`` 1–5; ``platform`` when given).
    start, end : the period, both days included.
    thresholds : ``review_stars_min`` (4 stars, playbook default).
    """
    line = (thresholds or DEFAULTS)["review_stars_min"]
    day = data["reviewed_at"].dt.normalize()
    period = data[day.between(pd.Timestamp(start), pd.Timestamp(end)) & data["stars"].between(0, 5)]
    recent, before = _windows(start, end)
    frame = pd.DataFrame({"stars": period["stars"].astype(float), "day": day[period.index],
                          "platform": period["platform"].astype("str").where(period["platform"].notna(), "unknown")})
    frame["recent"] = frame["day"] >= pd.Timestamp(recent.start)
    months = frame.groupby(_months(frame["day"]))["stars"]
    by_month = pd.DataFrame({"reviews": months.size(), "stars": months.mean()})
    by_month["stars"] = by_month["stars"].where(by_month["reviews"] >= MIN_MONTH)
    grouped = frame.groupby("platform")["stars"]
    table = pd.DataFrame({"reviews": grouped.size(), "stars": grouped.mean()})
    now, then = frame[frame["recent"]].groupby("platform")["stars"], frame[~frame["recent"]].groupby("platform")["stars"]
    table["reviews_recent"] = now.size().reindex(table.index).fillna(0).astype(int)
    table["stars_recent"] = now.mean().reindex(table.index)
    table["stars_before"] = then.mean().reindex(table.index)
    flags = [Finding.past(line, float(r.stars_recent), kind="review_stars", problem_class="experience",
                          segment=Segment("channel", p), window=recent,
                          reference=_num(r.stars_before), reference_window=before if before else None,
                          facts={"reviews": int(r.reviews_recent)})
             for p, r in table.iterrows() if r.reviews_recent >= MIN_REVIEWS and line.breached(_num(r.stars_recent))]
    result = Reviews("reviews", table, "", "", flags, by_month=by_month, stars=_num(frame["stars"].mean()),
                     stars_recent=_num(frame.loc[frame["recent"], "stars"].mean()), recent=recent, before=before,
                     line=line.value)
    if flags:
        result.zh, result.en = sentences.join(flags, "zh"), sentences.join(flags, "en")
    else:
        r_zh, _ = result._names("zh")
        r_en, _ = result._names("en")
        result.zh = (f"分析期{i18n.count(len(frame), 'zh')}条在线评价平均{_stars(result.stars)}星，{r_zh}{_stars(result.stars_recent)}星，"
                     f"各平台都不低于{line.value:g}星。")
        result.en = (f"The period's {i18n.count(len(frame), 'en')} online reviews average {_stars(result.stars)} stars, "
                     f"{_stars(result.stars_recent)} in {r_en}; every platform is at or above {line.value:g}.")
    return result


# --------------------------------------------------------------------------------------------------
# Complaints

def themes(texts: pd.Series) -> pd.DataFrame:
    """One boolean column per theme (and ``other``): which themes each text's keywords name."""
    text = texts.fillna("").astype("str")
    out = pd.DataFrame({theme: text.str.contains("|".join(words)) for theme, (_, _, words) in THEMES.items()},
                       index=texts.index)
    out["other"] = ~out.any(axis=1)
    return out


@dataclass
class Complaints(AnalysisResult):
    """Complaints (detractors' comments, 1–2-star reviews) by theme and month: counts only, never the text."""

    by_month: pd.DataFrame = None  # month -> surveys, reviews

    def plot(self, ax: plt.Axes | None = None, *, lang: str = "zh", **kwargs) -> plt.Axes:
        """Complaints per theme (a complaint may name several)."""
        ax = ax if ax is not None else plt.gca()
        title = self.title(lang)
        t = self.table[self.table["complaints"] > 0].sort_values("complaints")
        if t.empty:
            return no_data(ax, lang, title)
        labels = [_theme(x, lang) for x in t.index]
        total = self._total()
        ax.barh(labels, t["complaints"], color=PALETTE[1], **kwargs)  # counts, not a line crossed: no red
        for y, n in enumerate(t["complaints"]):  # the count, and its share of all complaints as the title states it
            ax.text(n, y, f" {n:,}（{i18n.rate(n / total, lang)}）" if lang == "zh" else f" {n:,} ({i18n.rate(n / total, lang)})",
                    va="center", fontsize="small")
        ax.set_xlabel(i18n.pick(lang, f"投诉条数（共{total}条，一条可涉及多个主题）",
                                f"complaints ({total} in all; one may name several themes)"))
        set_title(ax, title, lang)
        ax.grid(axis="y", visible=False)
        return ax

    def _total(self) -> int:
        """Complaints in all (each once, however many themes it names)."""
        return int(self.by_month[["surveys", "reviews"]].sum().sum()) if self.by_month is not None else 0

    def title(self, lang: str = "zh") -> str:
        total = self._total()
        if not total:
            return i18n.pick(lang, "分析期没有投诉", "No complaints in the period")
        top = self.table["complaints"].drop(index="other", errors="ignore").idxmax()
        share = self.table.loc[top, "complaints"] / total
        return i18n.pick(lang, f"{total}条投诉中{i18n.rate(share, lang)}说到{_theme(top, lang)}",
                         f"{i18n.rate(share, lang)} of {total} complaints are about {_theme(top, lang)}")

    def table_for(self, lang: str = "zh") -> pd.DataFrame:
        t = self.table[self.table["complaints"] > 0].sort_values("complaints", ascending=False)
        return pd.DataFrame({i18n.pick(lang, "主题", "Theme"): [_theme(x, lang) for x in t.index],
                             i18n.pick(lang, "投诉", "Complaints"): [i18n.count(v, lang) for v in t["complaints"]],
                             i18n.pick(lang, "其中调查", "From surveys"): [i18n.count(v, lang) for v in t["surveys"]],
                             i18n.pick(lang, "其中在线评价", "From reviews"): [i18n.count(v, lang) for v in t["reviews"]]})

    def metrics(self) -> dict:
        return {"kpis": {"complaints": self._total()},
                "satisfaction": {"complaint_themes": {str(k): _json(v) for k, v in self.table["complaints"].items()}}}


def _theme(key: str, lang: str) -> str:
    zh, en = (THEMES[key][:2] if key in THEMES else OTHER_THEME)
    return i18n.pick(lang, zh, en)


def complaints(surveys: pd.DataFrame | None, reviews_data: pd.DataFrame | None, *, start: dt.date,
               end: dt.date) -> Complaints:
    """Detractors' comments and 1–2-star reviews of the period, counted by theme and month."""
    parts = []
    if surveys is not None:
        day = surveys["surveyed_at"].dt.normalize()
        hit = day.between(pd.Timestamp(start), pd.Timestamp(end)) & (surveys["score"] <= DETRACTOR) \
            & surveys["comment"].fillna("").astype("str").str.strip().ne("")
        parts.append(pd.DataFrame({"source": "surveys", "day": day[hit], "text": surveys.loc[hit, "comment"]}))
    if reviews_data is not None:
        day = reviews_data["reviewed_at"].dt.normalize()
        hit = day.between(pd.Timestamp(start), pd.Timestamp(end)) & (reviews_data["stars"] <= LOW_STARS)
        parts.append(pd.DataFrame({"source": "reviews", "day": day[hit], "text": reviews_data.loc[hit, "text"]}))
    frame = pd.concat(parts, ignore_index=True)
    hits = themes(frame["text"])
    table = pd.DataFrame({source: hits[frame["source"] == source].sum() for source in ("surveys", "reviews")})
    table["complaints"] = table.sum(axis=1)
    table = table.astype(int)
    by_month = (frame.groupby([_months(frame["day"]), "source"]).size().unstack("source")
                .reindex(columns=["surveys", "reviews"]).fillna(0).astype(int))
    result = Complaints("complaints", table, "", "", by_month=by_month)
    total = len(frame)
    if not total:
        result.zh, result.en = "分析期内没有贬损者的留言或1–2星的在线评价。", "No detractor comments or 1–2-star reviews in the period."
        return result
    ranked = table["complaints"].drop(index="other").sort_values(ascending=False)
    ranked = ranked[ranked > 0].head(3)
    top_zh = "、".join(f"{_theme(k, 'zh')}（{v}条）" for k, v in ranked.items())
    top_en = ", ".join(f"{_theme(k, 'en')} ({v})" for k, v in ranked.items())
    result.zh = (f"分析期共{total}条投诉（{int((frame['source'] == 'surveys').sum())}条来自给0–6分并留言的调查答卷，"
                 f"{int((frame['source'] == 'reviews').sum())}条是1–2星的在线评价），说得最多的是{top_zh or '其他'}；"
                 f"原文可能含个人信息，报告只列主题和条数，请在诊所系统中逐条回访处理。")
    result.en = (f"The period holds {total} complaints ({int((frame['source'] == 'surveys').sum())} detractor comments, "
                 f"{int((frame['source'] == 'reviews').sum())} reviews of 1–2 stars), most about {top_en or 'other things'}; "
                 f"their texts may name people, so the report shows themes and counts only: follow each one up in the "
                 f"clinic's system.")
    return result


# --------------------------------------------------------------------------------------------------
# The section.

@dataclass
class SatisfactionSection(Section):
    nps: AnalysisResult = field(default=None)
    reviews: AnalysisResult = field(default=None)
    complaints: AnalysisResult = field(default=None)


_NO_SURVEYS = dict(
    zh_reason="没有患者满意度调查的数据，无法计算净推荐值。只需在每次就诊后问一句“您有多大可能把我们推荐给亲友（0–10分）”，"
              "记下日期、分数、医生和来源渠道，就能按月、按医生看口碑的变化。",
    en_reason="There are no patient survey answers, so the net promoter score cannot be computed. One question after each "
              "visit, \"how likely are you to recommend us to a friend, 0–10\", with the date, score, doctor and channel, "
              "shows word of mouth by month and doctor.")
_NO_REVIEWS = dict(
    zh_reason="没有在线评价的数据；从大众点评、美团等平台的商家后台导出评价（平台、日期、星级、内容），就能按月看评分变化。",
    en_reason="There are no online reviews; export them from the Dianping and Meituan merchant back ends (platform, "
              "date, stars, text) to follow the stars month by month.")


def diagnose(clinic, thresholds: dict[str, Threshold]) -> SatisfactionSection:
    """Wire the optional surveys and reviews into the analyses (chapter 04); without them, sentences say
    which data would add them."""
    start, end = clinic.config.period.start, clinic.config.period.end
    surveys, online = clinic.table("surveys"), clinic.table("reviews")
    section = SatisfactionSection()
    section.nps = (net_promoter(surveys, start=start, end=end, thresholds=thresholds) if surveys is not None
                   else Unavailable.because("nps", needs=["surveys"], nulls=("nps", "nps_recent"),
                                                         **_NO_SURVEYS))
    section.reviews = (reviews(online, start=start, end=end, thresholds=thresholds) if online is not None
                       else Unavailable.because("reviews", needs=["reviews"],
                                                             nulls=("review_stars", "review_stars_recent"), **_NO_REVIEWS))
    if surveys is None and online is None:
        section.complaints = Unavailable.because(
            "complaints", needs=["surveys", "reviews"], nulls=("complaints",),
            zh_reason="没有满意度调查或在线评价，无法统计投诉的数量和主题。",
            en_reason="Without surveys or online reviews, complaints cannot be counted by theme.")
    else:
        section.complaints = complaints(surveys, online, start=start, end=end)
    return section

"""A chain owner's view of many clinics: which clinic to follow up first, and on what.

`read_portfolio` gathers ``OUT/<clinic_id>/kpis.json`` of every clinic `playbook run` finished,
`benchmark` sets each clinic against the method's lines and against its peers, and `build_portfolio`
writes what the chain owner reads (``playbook portfolio OUT``): ``OUT/portfolio.pdf`` and ``.html``
(the notebook ``notebooks/portfolio/portfolio.ipynb``, rendered like a clinic report),
``OUT/portfolio.xlsx`` and ``OUT/portfolio.json`` (the follow-up order, for other tools).

How clinics are compared: like against like
-------------------------------------------
* **Rates and per-doctor figures, never totals.** A large clinic takes more money than a small one
  whatever it does well: revenue, new patients and arrived visits are compared **per doctor-day**
  (each clinic's total over the sum of its doctors' working days, kpis.json ``doctors``); the other
  measures are rates already.
* **Peer groups by clinic type** (`playbook.clinic_type`: general, children's, orthodontic, implant;
  clinic.yaml's ``type``, else read from the data, and the page says which): a children's clinic's
  ticket and referral differ from a general clinic's by design. A clinic is set against the **median
  of the other clinics of its type** (so it does not move its own yardstick); a clinic alone of its
  type has no peers and is judged on the method's lines only. **Quartiles** are drawn only for a group
  of ``MIN_FOR_QUARTILES`` clinics or more.
* **The method's lines flag a clinic whatever its peers do**: revenue falling more than 5% on the
  half-year before (``revenue_change_alert``, playbook default [S1]), first-visit conversion under 80%
  [S2], referral share under 40% [S3], no-shows over 15% (playbook default). A whole group can be weak.

Follow up first
---------------
Each clinic's **shortfall** on a measure is how far it falls past the method's line or below its peers'
median (by at least ``PEER_MARGIN``, 5 points, for a rate; ``PEER_MARGIN_PER_DOCTOR_DAY``, 10%, for a
per-doctor-day figure), whichever is further: in percentage points for a rate, in percent for a
per-doctor-day figure. Its reasons are the measures with a shortfall, and the follow-up
order is the clinics' summed shortfall, largest first; among equal ones, a clinic alone of its type (judged
on the lines only) comes before one its peers confirm, then the larger revenue fall first.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import i18n
from .clinic_type import TYPES
from .config import NOTEBOOKS_DIR
from .errors import ChapterError, PlaybookError
from .jsonsafe import clean
from .metrics import METRICS, PORTFOLIO, Metric
from .thresholds import DEFAULTS, Threshold
from .workbook import Sheet, write_workbook

if TYPE_CHECKING:  # the benchmark is computed without the plotting stack
    import matplotlib.pyplot as plt

__all__ = ["Benchmark", "MEASURES", "Measure", "Portfolio", "PortfolioFiles", "benchmark", "build_portfolio",
           "read_portfolio"]

PORTFOLIO_NOTEBOOK = NOTEBOOKS_DIR / "portfolio" / "portfolio.ipynb"
NAME = "portfolio"  # OUT/portfolio.{ipynb,html,pdf,xlsx,json}: files, so never a clinic's folder
MIN_FOR_QUARTILES = 8  # quartiles of fewer clinics of a type say little: they are left out
# How far below the peers' median counts: 5 points for a rate; 10% for a per-doctor-day figure, whose
# denominator is rougher (a half day counts as a day), so a smaller gap says little.
PEER_MARGIN = 5.0
PEER_MARGIN_PER_DOCTOR_DAY = 10.0
DAYS_PER_MONTH = 365.25 / 12
TOP, MIDDLE, BOTTOM = "top", "middle", "bottom"
UNKNOWN_TYPE = "general"  # a kpis.json written before clinic types were recorded


class PortfolioError(PlaybookError):
    """The OUT folder holds too few finished clinics to compare."""


# The clinic chapter that explains each measure (its notebook): the owner is sent to a page that exists.
_CHAPTERS = {"revenue": "05-doctors-operations", "new_patients": "03-funnel-channels",
             "arrived_visits": "05-doctors-operations", "first_visit_conversion": "03-funnel-channels",
             "no_show_rate": "05-doctors-operations", "referral_share": "04-cohorts-loyalty",
             "return_within_12m": "04-cohorts-loyalty", "revenue_change_recent": "02-revenue-drivers"}
# The alert line of a measure whose registry line is a change, not a level.
_ALERTS = {"revenue_change_recent": "revenue_change_alert"}
_HEADING = re.compile(r'chapter\.say\(lang, "# ([^"]+)", "# ([^"]+)"\)')


@cache
def chapter_title(notebook: str, lang: str = "zh") -> str:
    """A clinic chapter's title as its report prints it, read from the chapter's notebook."""
    source = "".join("".join(cell["source"]) for cell in
                     json.loads((NOTEBOOKS_DIR / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"])
    zh, en = _HEADING.search(source).groups()
    return zh if lang == "zh" else en


@dataclass(frozen=True)
class Measure:
    """One KPI of the benchmark: a registry metric (`playbook.metrics`) as the portfolio compares it.

    A count or a total (revenue, new patients, arrived visits) is compared per doctor-day; a rate as it is.
    """

    metric: Metric

    @property
    def name(self) -> str:
        """Its name in kpis.json ``kpis``."""
        return self.metric.json_key

    @property
    def per_doctor_day(self) -> bool:
        return self.metric.additive and self.metric.unit != "rate"

    @property
    def zh(self) -> str:
        return f"每医生日{self.metric.zh}" if self.per_doctor_day else self.metric.zh

    @property
    def en(self) -> str:
        return f"{self.metric.en} per doctor-day" if self.per_doctor_day else self.metric.en

    @property
    def unit(self) -> str:
        return self.metric.unit

    @property
    def higher_is_better(self) -> bool:
        return self.metric.higher_is_better

    @property
    def threshold(self) -> str | None:
        """The method's line in playbook.thresholds that flags a clinic on this measure."""
        return _ALERTS.get(self.name, self.metric.line)

    def line(self, lines: dict[str, Threshold] | None = None) -> Threshold | None:
        return (lines or DEFAULTS)[self.threshold] if self.threshold else None

    def chapter(self, lang: str = "zh") -> str:
        """The title of the clinic report's chapter that explains it."""
        return chapter_title(_CHAPTERS[self.metric.name], lang)

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def format(self, value, lang: str) -> str:
        """A clinic's value as the benchmark's sentences and tables print it; 无数据 / no data when missing."""
        if value is None or pd.isna(value):
            return i18n.NO_DATA[lang]
        if self.name == "revenue_change_recent":
            return f"{value * 100:+.1f}%"
        if self.per_doctor_day and self.unit == "count":  # the header says what is counted
            return f"{value:,.2f}"
        if self.per_doctor_day:  # yuan a doctor-day: in full, a doctor-day is thousands, not 万
            return f"{value:,.0f}元" if lang == "zh" else f"¥{value:,.0f}"
        return self.metric.format(value, lang)

    def shortfall(self, value, reference) -> float:
        """How far ``value`` falls short of ``reference`` in this measure's direction, ≥ 0: points for a
        rate, percent of the reference for a per-doctor-day figure."""
        if value is None or reference is None or pd.isna(value) or pd.isna(reference):
            return 0.0
        short = (reference - value) if self.higher_is_better else (value - reference)
        if self.unit == "rate":
            return max(short * 100, 0.0)
        return max(short / abs(reference) * 100, 0.0) if reference else 0.0

    @property
    def peer_margin(self) -> float:
        """How far below its peers' median a clinic must fall for it to count (see PEER_MARGIN)."""
        return PEER_MARGIN_PER_DOCTOR_DAY if self.per_doctor_day else PEER_MARGIN

    def gap_text(self, points: float, lang: str) -> str:
        return i18n.pick(lang, f"{points:.1f}个百分点", f"{points:.1f} points") if self.unit == "rate" else f"{points:.0f}%"


# The registry's portfolio view.
MEASURES: tuple[Measure, ...] = tuple(Measure(METRICS[name]) for name in PORTFOLIO)
_BY_NAME = {m.name: m for m in MEASURES}


# --- reading the clinics' results -------------------------------------------------------------------

@dataclass
class Portfolio:
    """The finished clinics under an OUT folder: one row each, and the clinics left out with why."""

    out_dir: Path
    # clinic_id, clinic_name, clinic_type, type_source, period_start, period_end, months, doctor_days, then one
    # column per measure (per doctor-day for the totals)
    clinics: pd.DataFrame
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (folder name, reason in English)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.clinics["period_start"].min(), self.clinics["period_end"].max()

    @property
    def same_period(self) -> bool:
        return self.clinics[["period_start", "period_end"]].drop_duplicates().shape[0] == 1

    def groups(self) -> dict[str, list[str]]:
        """Clinic type -> its clinics' ids, the largest group first."""
        grouped = self.clinics.groupby("clinic_type", sort=False)["clinic_id"].apply(list)
        return dict(sorted(grouped.items(), key=lambda kv: -len(kv[1])))


def read_portfolio(out_dir: Path | str) -> Portfolio:
    """Every ``OUT/<clinic>/kpis.json`` whose run completed; incomplete or unreadable ones are listed aside."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise PortfolioError("not a folder", path=out_dir,
                             fix="give the --out folder of `playbook run`, which holds one folder per clinic")
    rows, excluded = [], []
    for path in sorted(out_dir.glob("*/kpis.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            start, end = (dt.date.fromisoformat(data["period"][k]) for k in ("start", "end"))
        except (OSError, ValueError, KeyError, TypeError):
            excluded.append((path.parent.name, "kpis.json cannot be read"))
            continue
        if not data.get("complete"):
            excluded.append((path.parent.name, "its last run did not finish"))
            continue
        kind = data.get("clinic_type") or {}
        doctor_days = sum(_number(d.get("working_days")) or 0.0 for d in (data.get("doctors") or {}).values()
                          if isinstance(d, dict)) or None
        row = {"clinic_id": data.get("clinic_id", path.parent.name),
               "clinic_name": data.get("clinic_name") or data.get("clinic_id", path.parent.name),
               "clinic_type": kind.get("type") if kind.get("type") in TYPES else UNKNOWN_TYPE,
               "type_source": kind.get("source") or "not recorded",
               "period_start": start, "period_end": end, "months": ((end - start).days + 1) / DAYS_PER_MONTH,
               "doctor_days": doctor_days}
        kpis = data.get("kpis", {})
        for measure in MEASURES:
            value = _number(kpis.get(measure.name))
            if measure.per_doctor_day:
                value = value / doctor_days if value is not None and doctor_days else None
            row[measure.name] = value
        rows.append(row)
    columns = ["clinic_id", "clinic_name", "clinic_type", "type_source", "period_start", "period_end", "months",
               "doctor_days", *(m.name for m in MEASURES)]
    return Portfolio(out_dir, pd.DataFrame(rows, columns=columns), excluded)


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# --- the benchmark ----------------------------------------------------------------------------------

@dataclass
class Benchmark:
    """Each clinic on each measure against the method's line and its peers, and the follow-up order.

    ``table`` has one row per clinic and measure: clinic_id, clinic_name, clinic_type, measure, value,
    peers (other clinics of its type with a value), peer_median (their median), n (clinics of the type
    with a value), median, q1, q3 (the type's; quartiles only with ``MIN_FOR_QUARTILES`` clinics),
    position (top, middle, bottom by the quartiles, else None), line (the method's line in force or
    None), past_line, line_gap and peer_gap (shortfalls, see the module docstring) and shortfall (the
    larger, counted when past the line or at least ``PEER_MARGIN`` below the peers).
    """

    portfolio: Portfolio
    table: pd.DataFrame
    measures: tuple[Measure, ...] = MEASURES

    @property
    def n_clinics(self) -> int:
        return len(self.portfolio.clinics)

    def rows(self, measure: str) -> pd.DataFrame:
        """One measure's clinics, grouped by type (the largest group first), best first in each."""
        rows = self.table[self.table["measure"] == measure]
        order = {t: i for i, t in enumerate(self.portfolio.groups())}
        m = _BY_NAME[measure]
        return rows.assign(_group=rows["clinic_type"].map(order)).sort_values(
            ["_group", "value"], ascending=[True, not m.higher_is_better], na_position="last").drop(columns="_group")

    def follow_up(self) -> pd.DataFrame:
        """One row per clinic in the order to follow them up: clinic_id, clinic_name, clinic_type,
        shortfall (summed), revenue_change_recent, reasons (the table's rows with a shortfall, largest first),
        peers (other clinics of its type)."""
        t = self.table
        counted = t[t["shortfall"] > 0].sort_values("shortfall", ascending=False)
        clinics = self.portfolio.clinics
        out = pd.DataFrame({"clinic_id": clinics["clinic_id"], "clinic_name": clinics["clinic_name"],
                            "clinic_type": clinics["clinic_type"],
                            "shortfall": clinics["clinic_id"].map(counted.groupby("clinic_id")["shortfall"].sum())
                            .fillna(0.0).to_numpy(),
                            "revenue_change_recent": clinics["revenue_change_recent"].to_numpy()})
        out["reasons"] = [counted[counted["clinic_id"] == c].to_dict("records") for c in out["clinic_id"]]
        # among equal shortfalls, a clinic alone of its type (judged on the lines only, never against peers)
        # before one its peers confirm, then the larger revenue fall
        groups = self.portfolio.groups()
        out["peers"] = [len(groups[t]) - 1 for t in out["clinic_type"]]
        return out.sort_values(["shortfall", "peers", "revenue_change_recent"], ascending=[False, True, True],
                               na_position="last", kind="stable").reset_index(drop=True)

    # -- sentences --

    def reason(self, row, lang: str = "zh") -> str:
        """One reason to follow a clinic up: the measure, its value, and the line or the peers it falls short of."""
        m = _BY_NAME[row["measure"]]
        return i18n.pick(lang, f"{m.zh}{self._why(row, lang)}", f"{m.en} {self._why(row, lang)}")

    def _why(self, row, lang: str) -> str:
        """A reason without its measure's name: 15.6%（低于40.0%的健康线；…）."""
        m = _BY_NAME[row["measure"]]
        parts = []
        if row["past_line"]:
            word = i18n.pick(lang, "低于" if m.higher_is_better else "超过", "under" if m.higher_is_better else "over")
            kind = _line_kind(m.line(), lang)
            parts.append(i18n.pick(lang, f"{word}{m.format(row['line'], lang)}的{kind}",
                                   f"{word} the {m.format(row['line'], lang)} {kind}"))
        if row["peer_gap"] >= m.peer_margin:
            peers = int(row["peers"])
            parts.append(i18n.pick(lang, f"比同类{peers}家的中位数{m.format(row['peer_median'], lang)}差"
                                         f"{m.gap_text(row['peer_gap'], lang)}",
                                   f"{m.gap_text(row['peer_gap'], 'en')} short of the median of its "
                                   f"{i18n.counted(peers, 'peer')}, {m.format(row['peer_median'], lang)}"))
        value = m.format(row["value"], lang)
        return i18n.pick(lang, f"{value}（{'；'.join(parts)}）", f"{value} ({'; '.join(parts)})")

    def finding(self, lang: str = "zh") -> str:
        """The portfolio in one sentence: its peer groups, and which clinic to follow up first, on what."""
        groups = self.portfolio.groups()
        shape = i18n.pick(lang, "、".join(f"{TYPES[t][0]}{len(ids)}家" for t, ids in groups.items()),
                          ", ".join(f"{len(ids)} {TYPES[t][1]}" for t, ids in groups.items()))
        head = i18n.pick(lang, f"本组合共{self.n_clinics}家诊所（{shape}），每家只与同类诊所和方法线比较。",
                         f"The portfolio has {self.n_clinics} clinics ({shape}); each is set against clinics of "
                         f"its own type and the method's lines.")
        order = self.follow_up()
        first = order.iloc[0]
        if not first["shortfall"]:
            return head + i18n.pick(lang, "没有诊所越过方法线，也没有明显落后于同类诊所。",
                                    " No clinic is past a method's line or clearly behind its peers.")
        reasons = [self.reason(r, lang) for r in first["reasons"][:2]]
        return head + i18n.pick(lang, f"应最先跟进{first['clinic_name']}：{'；'.join(reasons)}。",
                                f" Follow up {first['clinic_name']} first: {'; '.join(reasons)}.")

    def groups_note(self, lang: str = "zh") -> str:
        """How the peer groups were formed, and where quartiles are left out."""
        clinics = self.portfolio.clinics
        from_data = clinics[clinics["type_source"] != "clinic.yaml"]["clinic_name"].tolist()
        text = i18n.pick(lang, "同类组按诊所类型划分：clinic.yaml 中写明的类型优先，", "Peer groups follow each clinic's "
                               "type: clinic.yaml's when it gives one, ")
        text += i18n.pick(lang, "否则按患者年龄和各科室的到诊占比判断（儿童占三分之一以上为儿童齿科，正畸或种植占一半以上为专科）"
                                + (f"，本次{'、'.join(from_data)}的类型由数据判断" if from_data else "") + "。",
                          "otherwise read from the patients' ages and the visits' departments (a third or more "
                          "children: a children's clinic; half or more orthodontics or implants: a specialty clinic)"
                          + (f"; here read from the data for {', '.join(from_data)}" if from_data else "") + ".")
        small = [t for t, ids in self.portfolio.groups().items() if len(ids) < MIN_FOR_QUARTILES]
        if small:
            text += i18n.pick(lang, f"同类诊所不足{MIN_FOR_QUARTILES}家的组只与同类中位数比较，不划四分位；只有一家的"
                                    f"类型没有同类可比，只看方法线。",
                              f" A group of fewer than {MIN_FOR_QUARTILES} clinics is set against its median only, "
                              f"without quartiles; a clinic alone of its type has no peers and is judged on the "
                              f"method's lines only.")
        return text

    def measure_finding(self, measure: str, lang: str = "zh") -> str:
        """A chart's title: the clinic that falls shortest on the measure, against its line or its peers."""
        m = _BY_NAME[measure]
        rows = self.table[(self.table["measure"] == measure) & self.table["value"].notna()]
        if len(rows) < 2:
            return i18n.pick(lang, f"{m.zh}：不足两家诊所有数据，无法对标", f"{m.en}: fewer than two clinics have it")
        short = rows[rows["shortfall"] > 0].sort_values("shortfall", ascending=False)
        if short.empty:
            return i18n.pick(lang, f"{m.zh}：没有诊所越过方法线或明显落后于同类",
                             f"{m.en}: no clinic past the line or clearly behind its peers")
        worst = short.iloc[0]
        return i18n.pick(lang, f"{m.zh}：{worst['clinic_name']}最需跟进（{m.format(worst['value'], lang)}）",
                         f"{m.en}: {worst['clinic_name']} falls shortest ({m.format(worst['value'], lang)})")

    def measure_advice(self, measure: str, lang: str = "zh") -> str:
        """The sentence under a chart: who to follow up, in which chapter of its report, and whom of its own
        type to learn from."""
        m = _BY_NAME[measure]
        rows = self.table[(self.table["measure"] == measure) & self.table["value"].notna()]
        if len(rows) < 2:
            return i18n.pick(lang, "补齐数据后再比较。", "Compare once more clinics have the data.")
        short = rows[rows["shortfall"] > 0].sort_values("shortfall", ascending=False)
        if short.empty:
            return i18n.pick(lang, "这一项无需跟进。", "Nothing to follow up on this measure.")
        chapter = m.chapter(lang)
        texts = []
        for row in short.itertuples():
            peers = rows[(rows["clinic_type"] == row.clinic_type) & (rows["clinic_id"] != row.clinic_id)]
            best = peers.sort_values("value", ascending=not m.higher_is_better).head(1)
            learn = ""
            if len(best) and m.shortfall(row.value, best["value"].iloc[0]) > 0:
                b = best.iloc[0]
                learn = i18n.pick(lang, f"，可借鉴同类的{b['clinic_name']}（{m.format(b['value'], lang)}）",
                                  f"; learn from {b['clinic_name']} of the same type ({m.format(b['value'], lang)})")
            why = self._why(self.table.loc[row.Index], lang)
            texts.append(i18n.pick(lang, f"{row.clinic_name}为{why}，先读其诊所报告的“{chapter}”一章找出原因{learn}",
                                   f"{row.clinic_name} at {why}: read the “{chapter}” chapter of its report for the "
                                   f"cause{learn}"))
        return i18n.pick(lang, "；".join(texts) + "。", ". ".join(texts) + ".")

    # -- tables --

    def overview(self, lang: str = "zh", *, per_doctor_day: bool | None = None) -> pd.DataFrame:
        """Clinics × measures as the owner reads them, in the follow-up order, each with its type;
        ``per_doctor_day`` True or False: only those measures, or only the rates (a page is narrow)."""
        order = self.follow_up()
        clinics = self.portfolio.clinics.set_index("clinic_id").loc[order["clinic_id"]]
        frame = pd.DataFrame({i18n.pick(lang, "诊所", "Clinic"): clinics["clinic_name"].to_numpy(),
                              i18n.pick(lang, "类型", "Type"): [_type_name(t, lang) for t in clinics["clinic_type"]]})
        for m in self.measures:
            if per_doctor_day is None or m.per_doctor_day == per_doctor_day:
                frame[m.label(lang)] = [m.format(v, lang) for v in clinics[m.name]]
        return frame

    def follow_up_table(self, lang: str = "zh") -> pd.DataFrame:
        """The follow-up order: rank, clinic, its peer group, the summed shortfall and each reason."""
        order = self.follow_up()
        groups = self.portfolio.groups()
        return pd.DataFrame({
            i18n.pick(lang, "顺序", "Order"): range(1, len(order) + 1),
            i18n.pick(lang, "诊所", "Clinic"): order["clinic_name"],
            i18n.pick(lang, "同类组", "Peer group"): [_group_text(t, groups, lang) for t in order["clinic_type"]],
            i18n.pick(lang, "差距合计", "Shortfall"): [f"{s:.1f}" for s in order["shortfall"]],
            i18n.pick(lang, "原因", "Why"): [i18n.pick(lang, "；", "; ").join(self.reason(r, lang) for r in reasons)
                                            or i18n.pick(lang, "无需跟进", "nothing to follow up")
                                            for reasons in order["reasons"]],
        })

    def summary(self, lang: str = "zh") -> pd.DataFrame:
        """Per measure and clinic type: clinics, median, quartiles (when the group is large enough), best, weakest."""
        rows = []
        for m in self.measures:
            part = self.table[(self.table["measure"] == m.name) & self.table["value"].notna()]
            for kind, group in part.groupby("clinic_type", sort=False):
                ranked = group.sort_values("value", ascending=not m.higher_is_better)
                quartiles = len(group) >= MIN_FOR_QUARTILES
                spread = len(group) > 1 and group["value"].nunique() > 1
                rows.append({
                    i18n.pick(lang, "指标", "Measure"): m.label(lang),
                    i18n.pick(lang, "类型", "Type"): _type_name(kind, lang),
                    i18n.pick(lang, "诊所数", "Clinics"): len(group),
                    i18n.pick(lang, "下四分位", "Lower quartile"): m.format(group["q1"].iloc[0], lang) if quartiles else "—",
                    i18n.pick(lang, "中位数", "Median"): m.format(group["median"].iloc[0], lang),
                    i18n.pick(lang, "上四分位", "Upper quartile"): m.format(group["q3"].iloc[0], lang) if quartiles else "—",
                    i18n.pick(lang, "最好", "Best"): ranked.iloc[0]["clinic_name"] if spread else "—",
                    i18n.pick(lang, "最弱", "Weakest"): ranked.iloc[-1]["clinic_name"] if spread else "—"})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """``portfolio.json``: the clinics in the order to follow them up, each with its peer group and reasons."""
        groups = self.portfolio.groups()
        clinics = self.portfolio.clinics.set_index("clinic_id")
        order = []
        for row in self.follow_up().itertuples():
            reasons = [{"measure": r["measure"], "value": r["value"],
                        "line": r["line"] if r["past_line"] else None,
                        "peer_median": r["peer_median"] if r["peer_gap"] >= _BY_NAME[r["measure"]].peer_margin
                        else None,
                        "shortfall": round(r["shortfall"], 2), "chapter": _BY_NAME[r["measure"]].chapter("en"),
                        "reason": self.reason(r, "en"), "reason_zh": self.reason(r, "zh")} for r in row.reasons]
            order.append({"clinic_id": row.clinic_id, "clinic_name": row.clinic_name, "clinic_type": row.clinic_type,
                          "type_source": clinics.loc[row.clinic_id, "type_source"],
                          "peers": [c for c in groups[row.clinic_type] if c != row.clinic_id],
                          "shortfall": round(row.shortfall, 2), "reasons": reasons})
        return clean({"clinics": len(clinics), "period": [d.isoformat() for d in self.portfolio.period],
                      "groups": {t: {"clinics": ids, "quartiles": len(ids) >= MIN_FOR_QUARTILES}
                                 for t, ids in groups.items()},
                      "min_for_quartiles": MIN_FOR_QUARTILES,
                      "peer_margin": {"rate": PEER_MARGIN, "per_doctor_day": PEER_MARGIN_PER_DOCTOR_DAY},
                      "follow_up_first": order, "excluded": dict(self.portfolio.excluded)})

    def sheets(self, lang: str = "zh") -> list:
        """The Excel workbook: the follow-up order (coloured), one ranking sheet per measure, the statistics,
        every number stored as a number."""
        label = lambda zh, en: i18n.pick(lang, zh, en)  # noqa: E731
        order = self.follow_up()
        clinics = self.portfolio.clinics.set_index("clinic_id").loc[order["clinic_id"]].reset_index()
        status = label("跟进", "Follow up")
        follow = label("需跟进", "follow up")
        overview = pd.DataFrame({label("顺序", "Order"): range(1, len(order) + 1),
                                 label("诊所", "Clinic"): clinics["clinic_name"],
                                 label("诊所编号", "Clinic ID"): clinics["clinic_id"],
                                 label("类型", "Type"): [_type_name(t, lang) for t in clinics["clinic_type"]],
                                 label("分析期", "Period"): [i18n.period(s, e, lang) for s, e in
                                                           zip(clinics["period_start"], clinics["period_end"])],
                                 label("差距合计", "Shortfall"): order["shortfall"].to_numpy(),
                                 status: [follow if s > 0 else "" for s in order["shortfall"]]})
        formats = {label("差距合计", "Shortfall"): "ratio"}
        for m in self.measures:
            overview[m.label(lang)] = clinics[m.name].to_numpy()
            formats[m.label(lang)] = _sheet_format(m)
        overview[label("原因", "Why")] = [label("；", "; ").join(self.reason(r, lang) for r in reasons)
                                         for reasons in order["reasons"]]
        sheets = [Sheet(label("跟进顺序", "Follow-up order"), overview, formats=formats, status=status,
                        status_values={follow: "red"},
                        note=label(f"按差距合计排序：越过方法线、或比同类中位数差{PEER_MARGIN:g}个百分点（每医生日指标"
                                   f"{PEER_MARGIN_PER_DOCTOR_DAY:g}%）以上的差距之和；营收、新患者、到诊人次按每医生出诊日计。",
                                   f"Ordered by the summed shortfall past the method's lines or {PEER_MARGIN:g} points "
                                   f"({PEER_MARGIN_PER_DOCTOR_DAY:g}% for a per-doctor-day figure) and more below the "
                                   f"peers' median; revenue, new patients and visits per doctor-day."))]
        for m in self.measures:
            rows = self.rows(m.name)
            values = [label("数值", "Value"), label("同类中位数", "Peers' median"), label("方法线", "Method's line"),
                      label("差距", "Shortfall")]
            frame = pd.DataFrame({label("诊所", "Clinic"): rows["clinic_name"].to_numpy(),
                                  label("类型", "Type"): [_type_name(t, lang) for t in rows["clinic_type"]],
                                  values[0]: rows["value"].to_numpy(), values[1]: rows["peer_median"].to_numpy(),
                                  values[2]: rows["line"].to_numpy(), values[3]: rows["shortfall"].to_numpy(),
                                  status: [follow if s > 0 else "" for s in rows["shortfall"]]})
            better = label("越高越好", "higher is better") if m.higher_is_better else label("越低越好", "lower is better")
            kind = _sheet_format(m)
            sheets.append(Sheet(m.label(lang), frame, formats={values[0]: kind, values[1]: kind, values[2]: kind,
                                                               values[3]: "ratio"},
                                status=status, status_values={follow: "red"},
                                note=label(f"{m.zh}（{better}）：按类型分组；红色需要跟进。差距：比率为百分点，其余为百分比。",
                                           f"{m.en} ({better}), by clinic type; red needs a follow-up. Shortfall: "
                                           f"points for a rate, percent otherwise.")))
        sheets.append(Sheet(label("组合统计", "Statistics"), self._statistics(lang),
                            formats=self._statistics_formats(lang),
                            note=label(f"按类型；同类不足{MIN_FOR_QUARTILES}家不划四分位。",
                                       f"By clinic type; no quartiles for fewer than {MIN_FOR_QUARTILES} clinics.")))
        return sheets

    def _statistics(self, lang: str) -> pd.DataFrame:
        rows = []
        for m in self.measures:
            part = self.table[(self.table["measure"] == m.name) & self.table["value"].notna()]
            for kind, group in part.groupby("clinic_type", sort=False):
                quartiles = len(group) >= MIN_FOR_QUARTILES
                rows.append([m.label(lang), _type_name(kind, lang), len(group),
                             group["q1"].iloc[0] if quartiles else None, group["median"].iloc[0],
                             group["q3"].iloc[0] if quartiles else None])
        return pd.DataFrame(rows, columns=[i18n.pick(lang, *c) for c in (
            ("指标", "Measure"), ("类型", "Type"), ("诊所数", "Clinics"), ("下四分位", "Lower quartile"),
            ("中位数", "Median"), ("上四分位", "Upper quartile"))])

    def _statistics_formats(self, lang: str) -> dict:
        kinds = []
        for m in self.measures:
            part = self.table[(self.table["measure"] == m.name) & self.table["value"].notna()]
            kinds += [_sheet_format(m)] * part["clinic_type"].nunique()
        return {i18n.pick(lang, *c): kinds for c in (("下四分位", "Lower quartile"), ("中位数", "Median"),
                                                    ("上四分位", "Upper quartile"))}

    # -- chart --

    def plot(self, ax: plt.Axes | None = None, *, measure: str, lang: str = "zh", **kwargs) -> plt.Axes:
        """Clinics on one measure, grouped by type (best first in each group): each group's median as a
        short line over its bars, its quartile band when it has enough clinics, a clinic to follow up in
        red, the method's line dashed. Returns ``ax``."""
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        from .plotting import ACTION_RED, GREY, PALETTE, no_data, reference_line, set_title

        ax = ax if ax is not None else plt.gca()
        m = _BY_NAME[measure]
        rows = self.rows(measure).dropna(subset=["value"])
        if rows.empty:
            return no_data(ax, lang, m.label(lang))
        factor = 100.0 if m.unit == "rate" else 1.0
        values = rows["value"].to_numpy() * factor
        y = list(range(len(rows)))[::-1]  # the first group's best on top
        colours = [ACTION_RED if s > 0 else PALETTE[1] for s in rows["shortfall"]]
        ax.barh(y, values, color=colours, height=0.6, **kwargs)
        for kind in dict.fromkeys(rows["clinic_type"]):
            at = [yy for yy, t in zip(y, rows["clinic_type"]) if t == kind]
            group = rows[rows["clinic_type"] == kind]
            low, high = min(at) - 0.45, max(at) + 0.45
            if len(group) >= MIN_FOR_QUARTILES:
                ax.fill_betweenx([low, high], group["q1"].iloc[0] * factor, group["q3"].iloc[0] * factor,
                                 color=PALETTE[5], alpha=0.35, linewidth=0)
            if len(group) > 1:
                ax.plot([group["median"].iloc[0] * factor] * 2, [low, high], color=PALETTE[0], linewidth=1.5)
        line = m.line()
        if line is not None:
            reference_line(ax, line.value * factor, i18n.pick(lang, f"方法线 {m.format(line.value, lang)}",
                                                           f"method's line {m.format(line.value, 'en')}"),
                           y=len(rows) - 0.4)
        for yy, value, raw in zip(y, values, rows["value"]):
            ax.text(value, yy, f" {m.format(raw, lang)}", va="center", ha="left" if value >= 0 else "right",
                    fontsize="small", zorder=3, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        ax.set_yticks(y, [f"{n}（{_type_name(t, lang)}）" if lang == "zh" else f"{n} ({_type_name(t, lang)})"
                          for n, t in zip(rows["clinic_name"], rows["clinic_type"])])
        unit = {"yuan": i18n.pick(lang, "元", "¥"), "rate": "%", "count": ""}[m.unit]
        ax.set_xlabel(f"{m.label(lang)}{f' ({unit})' if unit else ''}")
        reach = [*values, 0.0, *([line.value * factor] if line is not None else [])]
        low, high = min(reach), max(reach)
        room = 0.25 * (high - low or 1)  # for the value labels beyond the bar ends
        ax.set_xlim(low - room if low < 0 else 0, high + room)
        ax.grid(axis="y", visible=False)
        handles = [Line2D([], [], color=PALETTE[0], linewidth=1.5, label=i18n.pick(lang, "同类中位数", "median of the type")),
                   Patch(color=ACTION_RED, label=i18n.pick(lang, "需跟进", "to follow up"))]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.2 - 0.4 / len(rows)), ncol=2,
                  fontsize="small", frameon=False, labelcolor=GREY)
        set_title(ax, self.measure_finding(measure, lang), lang)
        return ax


def _type_name(kind: str, lang: str) -> str:
    """A clinic's type as a table cell or a chart label names it: 儿童 / Children's."""
    name = i18n.pick(lang, *TYPES[kind])
    return name[:1].upper() + name[1:]


def _group_text(kind: str, groups: dict[str, list[str]], lang: str) -> str:
    n, name = len(groups[kind]), _type_name(kind, lang)
    if n == 1:
        return i18n.pick(lang, f"{name}（仅此一家，只看方法线）", f"{name} (the only one: the method's lines only)")
    return i18n.pick(lang, f"{name}（{n}家）", f"{name} ({n} clinics)")


def _line_kind(line: Threshold, lang: str) -> str:
    """The line's kind as its name ends: 警戒线 / alert line, 复盘线 / review line, 健康线 / healthy line."""
    return line.zh[-3:] if lang == "zh" else " ".join(line.en.lower().split()[-2:])


def _sheet_format(m: Measure) -> str:
    return "ratio" if m.per_doctor_day and m.unit == "count" else "percent" if m.unit == "rate" else "money"


def benchmark(portfolio: Portfolio, measures: tuple[Measure, ...] = MEASURES, *,
              thresholds: dict[str, Threshold] | None = None) -> Benchmark:
    """Set every clinic of ``portfolio`` against the method's lines and the other clinics of its type."""
    clinics = portfolio.clinics
    parts = []
    for m in measures:
        line = m.line(thresholds)
        for kind, group in clinics.groupby("clinic_type", sort=False):
            values = group[m.name].astype(float)
            present = values.dropna()
            median, q1, q3 = (present.quantile(q) if len(present) else float("nan") for q in (0.5, 0.25, 0.75))
            part = pd.DataFrame({"clinic_id": group["clinic_id"], "clinic_name": group["clinic_name"],
                                 "clinic_type": kind, "measure": m.name, "value": values, "n": len(present),
                                 "median": median, "q1": q1, "q3": q3})
            others = [present.drop(i, errors="ignore") for i in group.index]
            part["peers"] = [len(o) for o in others]
            part["peer_median"] = [o.median() if len(o) else float("nan") for o in others]
            part["position"] = [_position(v, q1, q3, m) if len(present) >= MIN_FOR_QUARTILES else None
                                for v in values]
            part["line"] = line.value if line is not None else float("nan")
            part["past_line"] = [bool(line is not None and line.breached(v)) for v in values]
            part["line_gap"] = [m.shortfall(v, line.value) if line is not None else 0.0 for v in values]
            part["peer_gap"] = [m.shortfall(v, p) for v, p in zip(values, part["peer_median"])]
            counted = [max(lg if past else 0.0, pg if pg >= m.peer_margin else 0.0)
                       for lg, pg, past in zip(part["line_gap"], part["peer_gap"], part["past_line"])]
            part["shortfall"] = counted
            parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    return Benchmark(portfolio, table, measures)


def _position(value, q1, q3, m: Measure) -> str | None:
    if value is None or pd.isna(value):
        return None
    sign = 1 if m.higher_is_better else -1
    low, high = (q1, q3) if m.higher_is_better else (q3, q1)
    if sign * (value - low) < 0:
        return BOTTOM
    if sign * (value - high) > 0:
        return TOP
    return MIDDLE


# --- the files the chain owner gets ------------------------------------------------------------------

@dataclass(frozen=True)
class PortfolioFiles:
    notebook: Path
    html: Path
    pdf: Path
    xlsx: Path
    json: Path


def build_portfolio(out_dir: Path | str, *, lang: str = "zh") -> PortfolioFiles:
    """Write ``OUT/portfolio.{ipynb,html,pdf,xlsx,json}`` for the clinics `playbook run` finished in ``out_dir``."""
    # The notebook and report stack (1.4 s to import) only when the files are written: `benchmark` needs none.
    from . import report
    from .nbstack import papermill

    out_dir = Path(out_dir).resolve()
    portfolio = read_portfolio(out_dir)
    if len(portfolio.clinics) < 2:
        left_out = "; ".join(f"{name}: {why}" for name, why in portfolio.excluded)
        raise PortfolioError(f"{i18n.counted(len(portfolio.clinics), 'finished clinic')} found, a portfolio needs "
                             f"two or more" + (f" (left out: {left_out})" if left_out else ""), path=out_dir,
                             fix="run the clinics first: `playbook run CLINIC_DIRS... --out OUT`, then "
                                 "`playbook portfolio OUT`")
    bench = benchmark(portfolio)
    path = out_dir / f"{NAME}.json"
    path.write_text(json.dumps(bench.to_dict(), ensure_ascii=False, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    notebook = out_dir / f"{NAME}.ipynb"
    try:
        papermill.execute_notebook(PORTFOLIO_NOTEBOOK, notebook, parameters={"out_dir": str(out_dir), "lang": lang},
                                   kernel_name="python3", progress_bar=False, cwd=str(out_dir),
                                   extra_arguments=["--IPKernelApp.log_level=ERROR"], shutdown_kernel="immediate")
    except papermill.PapermillExecutionError as error:
        raise ChapterError(NAME, f"{error.ename}: {error.evalue}", notebook) from None
    start, end = portfolio.period
    meta = report.ReportMeta(clinic_id=NAME, lang=lang, period_start=start, period_end=end,
                             clinic_name=i18n.pick(lang, f"{len(portfolio.clinics)}家诊所",
                                                   f"{len(portfolio.clinics)} clinics"),
                             title=i18n.pick(lang, "门店对标报告", "Portfolio benchmark"))
    html = report.build_html([notebook], out_dir, meta, name=NAME)
    pdf = report.build_pdf([notebook], out_dir, meta, name=NAME)
    xlsx = write_workbook(out_dir / f"{NAME}.xlsx", bench.sheets(lang))
    return PortfolioFiles(notebook, html, pdf, xlsx, path)

"""A chain owner's view of many clinics: each KPI per clinic against the portfolio's median and quartiles.

`read_portfolio` gathers ``OUT/<clinic_id>/kpis.json`` of every clinic `playbook run` finished,
`benchmark` ranks the clinics on each measure, and `build_portfolio` writes what the chain owner
reads (``playbook portfolio OUT``): ``OUT/portfolio.pdf`` and ``.html`` (the notebook
``notebooks/portfolio/portfolio.ipynb``, rendered like a clinic report) and ``OUT/portfolio.xlsx``.

How clinics are compared
------------------------
* Volumes (revenue, new patients, arrived visits) are compared **per month of each clinic's period**,
  so clinics analysed over periods of different lengths stay comparable; rates are compared as they are.
* The centre is the **median** and the spread the **quartiles** (pandas' linear interpolation): one
  exceptional clinic moves neither, where it would move a mean.
* A clinic on the wrong side of the lower (or, for a rate where less is better, the upper) quartile
  is in the **bottom quarter**: the one colour that asks for action. Quartiles need at least
  ``MIN_FOR_QUARTILES`` clinics; with fewer, clinics are only set against the median.
* Where the method has a line for a measure (first-visit conversion 80% [S2], referral share 40%
  [S3], no-shows 15%, playbook default), the chart draws it too: a portfolio can be uniformly weak.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import i18n
from .config import NOTEBOOKS_DIR
from .errors import ChapterError, PlaybookError
from .metrics import METRICS, PORTFOLIO, Metric
from .thresholds import DEFAULTS
from .workbook import Sheet, write_workbook

if TYPE_CHECKING:  # the benchmark is computed without the plotting stack
    import matplotlib.pyplot as plt

__all__ = ["Benchmark", "MEASURES", "Measure", "Portfolio", "PortfolioFiles", "benchmark", "build_portfolio",
           "read_portfolio"]

PORTFOLIO_NOTEBOOK = NOTEBOOKS_DIR / "portfolio" / "portfolio.ipynb"
NAME = "portfolio"  # OUT/portfolio.{ipynb,html,pdf,xlsx}: files, so never a clinic's folder
MIN_FOR_QUARTILES = 4
DAYS_PER_MONTH = 365.25 / 12
TOP, MIDDLE, BOTTOM = "top", "middle", "bottom"
ABOVE_MEDIAN, BELOW_MEDIAN = "above_median", "below_median"


class PortfolioError(PlaybookError):
    """The OUT folder holds too few finished clinics to compare."""


# Where a clinic's own report explains each measure, zh / en.
_CHAPTERS = {
    "revenue": ("营收驱动", "revenue drivers"), "revenue_change_recent": ("营收驱动", "revenue drivers"),
    "new_patients": ("获客漏斗与渠道", "funnel and channels"),
    "first_visit_conversion": ("获客漏斗与渠道", "funnel and channels"),
    "arrived_visits": ("医生与运营", "doctors and operations"), "no_show_rate": ("医生与运营", "doctors and operations"),
    "referral_share": ("复诊与忠诚", "cohorts and loyalty"), "return_within_12m": ("复诊与忠诚", "cohorts and loyalty"),
}


@dataclass(frozen=True)
class Measure:
    """One KPI of the benchmark: a registry metric (`playbook.metrics`) as the portfolio compares it.

    A count or a total (revenue, new patients, arrived visits) is compared per month of each clinic's
    period; a rate as it is.
    """

    metric: Metric

    @property
    def name(self) -> str:
        """Its name in kpis.json ``kpis``."""
        return self.metric.json_key

    @property
    def per_month(self) -> bool:
        return self.metric.additive

    @property
    def zh(self) -> str:
        return f"月均{self.metric.zh}" if self.per_month else self.metric.zh

    @property
    def en(self) -> str:
        return f"{self.metric.en} per month" if self.per_month else self.metric.en

    @property
    def unit(self) -> str:
        return self.metric.unit

    @property
    def higher_is_better(self) -> bool:
        return self.metric.higher_is_better

    @property
    def threshold(self) -> str | None:
        """The line in playbook.thresholds drawn on the chart."""
        return self.metric.line

    @property
    def chapter_zh(self) -> str:
        return _CHAPTERS[self.metric.name][0]

    @property
    def chapter_en(self) -> str:
        return _CHAPTERS[self.metric.name][1]

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def format(self, value, lang: str) -> str:
        """A clinic's value as the benchmark's sentences and tables print it; 无数据 / no data when missing."""
        if value is None or pd.isna(value):
            return i18n.NO_DATA[lang]
        if self.unit == "count":
            return f"{value:,.0f}{self.metric.count_zh}" if lang == "zh" else f"{value:,.0f}"
        return self.metric.format(value, lang)


# The registry's portfolio view.
MEASURES: tuple[Measure, ...] = tuple(Measure(METRICS[name]) for name in PORTFOLIO)
_BY_NAME = {m.name: m for m in MEASURES}


# --- reading the clinics' results -------------------------------------------------------------------

@dataclass
class Portfolio:
    """The finished clinics under an OUT folder: one row each, and the clinics left out with why."""

    out_dir: Path
    clinics: pd.DataFrame  # clinic_id, clinic_name, period_start, period_end, months, then one column per measure
    excluded: list[tuple[str, str]] = field(default_factory=list)  # (folder name, reason in English)

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return self.clinics["period_start"].min(), self.clinics["period_end"].max()

    @property
    def same_period(self) -> bool:
        return self.clinics[["period_start", "period_end"]].drop_duplicates().shape[0] == 1


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
        months = ((end - start).days + 1) / DAYS_PER_MONTH
        row = {"clinic_id": data.get("clinic_id", path.parent.name),
               "clinic_name": data.get("clinic_name") or data.get("clinic_id", path.parent.name),
               "period_start": start, "period_end": end, "months": months}
        kpis = data.get("kpis", {})
        for measure in MEASURES:
            value = kpis.get(measure.name)
            value = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
            row[measure.name] = value / months if value is not None and measure.per_month else value
        rows.append(row)
    columns = ["clinic_id", "clinic_name", "period_start", "period_end", "months", *(m.name for m in MEASURES)]
    return Portfolio(out_dir, pd.DataFrame(rows, columns=columns), excluded)


# --- the benchmark ----------------------------------------------------------------------------------

@dataclass
class Benchmark:
    """Each clinic on each measure: value, rank, the portfolio's median and quartiles, and its position.

    ``table`` has one row per clinic and measure: clinic_id, clinic_name, measure, value, rank (1 is
    best), n (clinics with a value), median, q1, q3 (the lower and upper quartile of the values),
    position (top, middle, bottom; or above_median, below_median with fewer than
    ``MIN_FOR_QUARTILES`` clinics) and gap (to the median: points for a rate, relative for a volume).
    """

    portfolio: Portfolio
    table: pd.DataFrame
    measures: tuple[Measure, ...] = MEASURES

    @property
    def n_clinics(self) -> int:
        return len(self.portfolio.clinics)

    @property
    def quartiles(self) -> bool:
        return self.n_clinics >= MIN_FOR_QUARTILES

    def rows(self, measure: str) -> pd.DataFrame:
        """One measure's clinics, best first; clinics without a value last."""
        rows = self.table[self.table["measure"] == measure]
        return rows.sort_values(["rank", "clinic_name"], na_position="last")

    def bottom(self) -> pd.DataFrame:
        """Per clinic, the measures where it is in the bottom quarter (empty below 4 clinics)."""
        rows = self.table[self.table["position"] == BOTTOM]
        return rows.groupby("clinic_name", sort=False)["measure"].apply(list).reset_index()

    # -- sentences --

    def finding(self, lang: str = "zh") -> str:
        """The portfolio in one sentence: which clinic to follow up first, and on what."""
        n = self.n_clinics
        if not self.quartiles:
            return i18n.pick(lang, f"本组合共{n}家诊所，少于{MIN_FOR_QUARTILES}家，只与中位数比较，不划四分位。",
                             f"The portfolio has {n} clinics, fewer than {MIN_FOR_QUARTILES}: each is set against "
                             f"the median only, without quartiles.")
        bottom = self.bottom()
        if bottom.empty:
            return i18n.pick(lang, f"本组合共{n}家诊所，没有诊所的任何指标落在后四分之一。",
                             f"The portfolio has {n} clinics; none is in the bottom quarter on any measure.")
        bottom = bottom.assign(count=bottom["measure"].map(len)).sort_values("count", ascending=False, kind="stable")
        first = bottom.iloc[0]
        names = [_BY_NAME[m].label(lang) for m in first["measure"]]
        if lang == "zh":
            return (f"本组合共{n}家诊所；{first['clinic_name']}有{len(names)}项指标落在后四分之一"
                    f"（{'、'.join(names)}），应最先跟进。")
        return (f"The portfolio has {n} clinics; {first['clinic_name']} is in the bottom quarter on {len(names)} "
                f"measure(s) ({', '.join(names)}) and should be followed up first.")

    def measure_finding(self, measure: str, lang: str = "zh") -> str:
        """A chart's title: the weakest clinic on the measure and how far it is from the median; and when
        every clinic misses the method's line, that too."""
        m = _BY_NAME[measure]
        rows = self.rows(measure).dropna(subset=["value"])
        if len(rows) < 2:
            return i18n.pick(lang, f"{m.zh}：不足两家诊所有数据，无法对标", f"{m.en}: fewer than two clinics have it")
        line = _method_line(m)
        all_miss = line is not None and all(line.breached(v) for v in rows["value"])
        if all_miss:
            suffix = i18n.pick(lang, f"；{len(rows)}家都未达方法线{i18n.rate(line.value, lang)}",
                               f"; all {len(rows)} miss the method's line of {i18n.rate(line.value, lang)}")
        else:
            suffix = ""
        if _no_spread(rows):
            same = m.format(rows["value"].iloc[0], lang)
            return i18n.pick(lang, f"{m.zh}：{len(rows)}家诊所相同，都是{same}",
                             f"{m.en}: the same in all {len(rows)} clinics, {same}") + suffix
        worst = rows.iloc[-1]
        if lang == "zh":
            word = "最高" if not m.higher_is_better else "最低"
            return (f"{m.zh}：{worst['clinic_name']}{word}，{m.format(worst['value'], lang)}，"
                    f"{self._gap_text(worst, m, lang)}{suffix}")
        word = "highest" if not m.higher_is_better else "lowest"
        return (f"{m.en}: {worst['clinic_name']} is {word} at {m.format(worst['value'], lang)}, "
                f"{self._gap_text(worst, m, lang)}; median {m.format(worst['median'], lang)}{suffix}")

    def measure_advice(self, measure: str, lang: str = "zh") -> str:
        """The sentence under a chart: who to follow up, where to look, and who to learn from."""
        m = _BY_NAME[measure]
        rows = self.rows(measure).dropna(subset=["value"])
        if len(rows) < 2:
            return i18n.pick(lang, "补齐数据后再比较。", "Compare once more clinics have the data.")
        if _no_spread(rows):
            return i18n.pick(lang, "各诊所在这一项上没有差别，无需跟进。", "No clinic differs on this measure: nothing to follow up.")
        best, worst = rows.iloc[0], rows.iloc[-1]
        flagged = rows[rows["position"] == BOTTOM]["clinic_name"].tolist()
        who = flagged or [worst["clinic_name"]]
        if lang == "zh":
            lead = "、".join(who) + ("落在后四分之一，" if flagged else "排在最后，")
            return (f"{lead}先读其诊所报告的“{m.chapter_zh}”一章找出原因；"
                    f"{best['clinic_name']}（{m.format(best['value'], lang)}）的做法可供借鉴。")
        lead = ", ".join(who) + (" (bottom quarter)" if flagged else " (last)")
        return (f"{lead}: read the {m.chapter_en} chapter of its clinic report for the cause; "
                f"{best['clinic_name']} ({m.format(best['value'], lang)}) shows what works.")

    @staticmethod
    def _gap_text(row, m: Measure, lang: str) -> str:
        gap = row["gap"]
        if gap is None or pd.isna(gap) or gap == 0:
            return i18n.pick(lang, "与中位数持平", "at the median")
        below = gap < 0
        if m.unit == "rate":
            size = f"{abs(gap) * 100:.1f}"
            return i18n.pick(lang, f"比中位数{'低' if below else '高'}{size}个百分点",
                             f"{size} points {'below' if below else 'above'} the median")
        return i18n.pick(lang, f"比中位数{'低' if below else '高'}{i18n.rate(abs(gap), lang)}",
                         f"{i18n.rate(abs(gap), lang)} {'below' if below else 'above'} the median")

    # -- tables --

    def overview(self, lang: str = "zh") -> pd.DataFrame:
        """Clinics × measures as the owner reads them; a bottom-quarter value is marked ▼."""
        wide = self.table.pivot(index="clinic_name", columns="measure", values="value")
        position = self.table.pivot(index="clinic_name", columns="measure", values="position")
        frame = pd.DataFrame({i18n.pick(lang, "诊所", "Clinic"): wide.index})
        for m in self.measures:
            marks = position[m.name].map(lambda p: " ▼" if p == BOTTOM else "")
            frame[m.label(lang)] = [m.format(v, lang) + mark for v, mark in zip(wide[m.name], marks)]
        order = self.portfolio.clinics["clinic_name"].tolist()
        return frame.set_index(frame.columns[0]).loc[order].reset_index()

    def summary(self, lang: str = "zh") -> pd.DataFrame:
        """Per measure: clinics, median, quartiles, best and weakest clinic."""
        rows = []
        for m in self.measures:
            part = self.rows(m.name).dropna(subset=["value"])
            if part.empty:
                continue
            first, spread = part.iloc[0], not _no_spread(part)
            rows.append({i18n.pick(lang, "指标", "Measure"): m.label(lang),
                         i18n.pick(lang, "诊所数", "Clinics"): len(part),
                         i18n.pick(lang, "下四分位", "Lower quartile"): m.format(first["q1"], lang),
                         i18n.pick(lang, "中位数", "Median"): m.format(first["median"], lang),
                         i18n.pick(lang, "上四分位", "Upper quartile"): m.format(first["q3"], lang),
                         i18n.pick(lang, "最好", "Best"): part.iloc[0]["clinic_name"] if spread else "—",
                         i18n.pick(lang, "最弱", "Weakest"): part.iloc[-1]["clinic_name"] if spread else "—"})
        return pd.DataFrame(rows)

    def sheets(self, lang: str = "zh") -> list:
        """The Excel workbook: the overview, one ranking sheet per measure (the bottom quarter red, the
        top quarter green), and the portfolio's statistics."""
        label = lambda zh, en: i18n.pick(lang, zh, en)  # noqa: E731
        clinics = self.portfolio.clinics
        overview = pd.DataFrame({label("诊所", "Clinic"): clinics["clinic_name"], "clinic_id": clinics["clinic_id"],
                                 label("分析期", "Period"): [i18n.period(s, e, lang) for s, e in
                                                           zip(clinics["period_start"], clinics["period_end"])]})
        formats = {}
        for m in self.measures:
            overview[m.label(lang)] = clinics[m.name].to_numpy()
            formats[m.label(lang)] = m.metric.sheet_format
        bottom_counts = self.table[self.table["position"] == BOTTOM].groupby("clinic_id").size()
        overview[label("后四分之一项数", "Measures in bottom quarter")] = (
            clinics["clinic_id"].map(bottom_counts).fillna(0).astype(int).to_numpy())
        sheets = [Sheet(label("对标总览", "Overview"), overview, formats=formats,
                        note=label("月均值按各诊所分析期的月数计算。", "Volumes are per month of each clinic's period."))]
        status = label("状态", "Status")
        words = {TOP: label("前四分之一", "top quarter"), MIDDLE: label("中间", "middle"),
                 BOTTOM: label("后四分之一", "bottom quarter"), ABOVE_MEDIAN: label("中位数以上", "above median"),
                 BELOW_MEDIAN: label("中位数以下", "below median")}
        colours = {label("后四分之一", "bottom quarter"): "red", label("前四分之一", "top quarter"): "green"}
        for m in self.measures:
            rows = self.rows(m.name)
            values = [label("数值", "Value"), label("中位数", "Median"), label("下四分位", "Lower quartile"),
                      label("上四分位", "Upper quartile")]
            frame = pd.DataFrame({label("排名", "Rank"): rows["rank"].to_numpy(),
                                  label("诊所", "Clinic"): rows["clinic_name"].to_numpy(),
                                  values[0]: rows["value"].to_numpy(), values[1]: rows["median"].to_numpy(),
                                  values[2]: rows["q1"].to_numpy(), values[3]: rows["q3"].to_numpy(),
                                  status: rows["position"].map(words).to_numpy()})
            better = label("越高越好", "higher is better") if m.higher_is_better else label("越低越好", "lower is better")
            sheets.append(Sheet(m.label(lang), frame, formats=dict.fromkeys(values, m.metric.sheet_format),
                                status=status, status_values=colours,
                                note=label(f"{m.zh}（{better}）：红色需要跟进，绿色可供借鉴。",
                                           f"{m.en} ({better}): red needs a follow-up, green shows what works.")))
        sheets.append(Sheet(label("组合统计", "Statistics"), self.summary(lang)))
        return sheets

    # -- chart --

    def plot(self, ax: plt.Axes | None = None, *, measure: str, lang: str = "zh", **kwargs) -> plt.Axes:
        """Clinics ranked on one measure, best at the top: the quartile band and median behind the bars,
        the bottom quarter in red, the method's line dashed where it has one. Returns ``ax``."""
        import matplotlib.pyplot as plt

        from .plotting import ACTION_RED, PALETTE, no_data, reference_line

        ax = ax if ax is not None else plt.gca()
        m = _BY_NAME[measure]
        rows = self.rows(measure).dropna(subset=["value"])
        if rows.empty:
            return no_data(ax, lang, m.label(lang))
        # axis units: 万元 (zh) or ¥ thousand (en), percent, or the count itself
        factor = {"yuan": 1e-4 if lang == "zh" else 1e-3, "rate": 100.0, "count": 1.0}[m.unit]
        values = rows["value"].to_numpy() * factor
        y = range(len(rows))[::-1]  # best on top
        colours = [ACTION_RED if p == BOTTOM else PALETTE[1] for p in rows["position"]]
        first = rows.iloc[0]
        if self.quartiles:
            ax.axvspan(first["q1"] * factor, first["q3"] * factor, color=PALETTE[5], alpha=0.35, linewidth=0,
                       label=i18n.pick(lang, "四分位区间", "interquartile range"))
        ax.barh(list(y), values, color=colours, height=0.6, **kwargs)
        ax.axvline(first["median"] * factor, color=PALETTE[0], linewidth=1.5,
                   label=i18n.pick(lang, f"中位数 {m.format(first['median'], lang)}", f"median {m.format(first['median'], lang)}"))
        line = _method_line(m)
        if line is not None:
            reference_line(ax, line.value * factor, i18n.pick(lang, f"方法线 {i18n.rate(line.value, lang)}",
                                                           f"method's line {i18n.rate(line.value, lang)}"),
                           y=len(rows) - 0.4)
        for yy, value, raw in zip(y, values, rows["value"]):
            ax.text(value, yy, f" {m.format(raw, lang)}", va="center", ha="left" if value >= 0 else "right",
                    fontsize="small")
        ax.set_yticks(list(y), rows["clinic_name"].tolist())
        unit = {"yuan": i18n.pick(lang, "万元", "¥ thousand"), "rate": "%", "count": ""}[m.unit]
        ax.set_xlabel(f"{m.label(lang)}{f' ({unit})' if unit else ''}")
        reach = [*values, 0.0, *([line.value * factor] if line is not None else [])]
        low, high = min(reach), max(reach)
        room = 0.2 * (high - low or 1)  # for the value labels beyond the bar ends
        ax.set_xlim(low - room if low < 0 else 0, high + room)
        ax.grid(axis="y", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.2 - 0.4 / len(rows)), ncol=2, fontsize="small",
                  frameon=False)
        ax.set_title(self.measure_finding(measure, lang), loc="left")
        return ax


def _no_spread(rows: pd.DataFrame) -> bool:
    """Every clinic has the same value: no best, no weakest."""
    return rows["value"].nunique() == 1


def _method_line(m: Measure):
    """The method's threshold for a measure (its source cited in playbook.thresholds), or None."""
    return DEFAULTS[m.threshold] if m.threshold else None



def benchmark(portfolio: Portfolio, measures: tuple[Measure, ...] = MEASURES) -> Benchmark:
    """Rank every clinic of ``portfolio`` on each measure against the portfolio's median and quartiles."""
    clinics = portfolio.clinics
    parts = []
    for m in measures:
        values = clinics[m.name].astype(float)
        present = values.dropna()
        median, q1, q3 = (present.quantile(q) if len(present) else float("nan") for q in (0.5, 0.25, 0.75))
        rank = values.rank(ascending=not m.higher_is_better, method="min")
        part = pd.DataFrame({"clinic_id": clinics["clinic_id"], "clinic_name": clinics["clinic_name"],
                             "measure": m.name, "value": values, "rank": rank.astype("Int64"), "n": len(present),
                             "median": median, "q1": q1, "q3": q3})
        part["position"] = [_position(v, median, q1, q3, m, len(clinics)) for v in values]
        gap = values - median
        part["gap"] = gap if m.unit == "rate" else gap / abs(median) if median else float("nan")
        parts.append(part)
    return Benchmark(portfolio, pd.concat(parts, ignore_index=True), measures)


def _position(value, median, q1, q3, m: Measure, n: int) -> str | None:
    if value is None or pd.isna(value):
        return None
    sign = 1 if m.higher_is_better else -1
    if n < MIN_FOR_QUARTILES:
        return ABOVE_MEDIAN if sign * (value - median) >= 0 else BELOW_MEDIAN
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


def build_portfolio(out_dir: Path | str, *, lang: str = "zh") -> PortfolioFiles:
    """Write ``OUT/portfolio.{ipynb,html,pdf,xlsx}`` for the clinics `playbook run` finished in ``out_dir``."""
    # The notebook and report stack (1.4 s to import) only when the files are written: `benchmark` needs none.
    from . import report
    from .nbstack import papermill

    out_dir = Path(out_dir).resolve()
    portfolio = read_portfolio(out_dir)
    if len(portfolio.clinics) < 2:
        left_out = "; ".join(f"{name}: {why}" for name, why in portfolio.excluded)
        raise PortfolioError(f"{len(portfolio.clinics)} finished clinic(s) found, a portfolio needs two or more"
                             + (f" (left out: {left_out})" if left_out else ""), path=out_dir,
                             fix="run the clinics first: `playbook run CLINIC_DIRS... --out OUT`, then "
                                 "`playbook portfolio OUT`")
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
    xlsx = write_workbook(out_dir / f"{NAME}.xlsx", benchmark(portfolio).sheets(lang))
    return PortfolioFiles(notebook, html, pdf, xlsx)

"""One chart theme for every chapter: a restrained palette, a font with Chinese glyphs, report-sized PNGs.

Every notebook calls ``set_theme(lang)`` once, after its ``parameters`` cell, so that all charts of a
report look alike and match the PDF, which is set in the same font (see ``playbook.report``).
"""
from __future__ import annotations

import datetime as dt
import textwrap

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import seaborn as sns
from IPython import get_ipython
from matplotlib import font_manager, ticker
from matplotlib.colors import LinearSegmentedColormap
from matplotlib_inline.backend_inline import set_matplotlib_formats

from . import i18n
from .fonts import FONT_FAMILY, font_path

__all__ = ["ACTION_RED", "PALETTE", "GREY", "SEQUENTIAL", "DIVERGING", "month_labels", "month_ticks", "month_axis",
           "no_data", "note", "reference_line", "set_theme", "set_title", "waterfall", "wrap_title"]

# Red means "needs action" and nothing else, so it is kept out of the palette.
ACTION_RED = "#c0392b"
# Slate and muted blues first, then neutrals: categories stay apart without shouting.
PALETTE = ["#34495e", "#5b8db8", "#7fa99b", "#c9a66b", "#8e9aa6", "#a9c6de"]
GREY = "#555555"  # reference lines and their labels: thresholds are context, never red
# Heatmaps: more is darker blue; a signed quantity runs from red (a loss, to act on) through white to blue.
SEQUENTIAL = LinearSegmentedColormap.from_list("playbook_sequential", ["#f4f6f8", PALETTE[5], PALETTE[1], PALETTE[0]])
DIVERGING = LinearSegmentedColormap.from_list("playbook_diverging", [ACTION_RED, "#f4cfc9", "#f7f7f7", "#c6dbec",
                                                                     PALETTE[1]])
# A title states the finding in one line that fits a 9-inch chart: about 30 Chinese characters or
# 70 Latin ones (in half-width units: a Chinese character counts 2). Longer ones wrap to two lines.
TITLE_WIDTH = {"zh": 60, "en": 70}

LANGS = ("zh", "en")

_RC = {
    # Owners read charts in the PDF at about text width: 7.5 x 4 in at 110 dpi is 825 px wide,
    # sharp enough on paper and on a phone, and well under 150 KB as PNG.
    "figure.figsize": (7.5, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": "figure",
    "savefig.bbox": "tight",
    "figure.facecolor": "white",
    # ASCII "-" for negative ticks: every CJK font has it, while some (SimHei) lack U+2212, so a
    # change of font can never turn minus signs into tofu.
    "axes.unicode_minus": False,
    # Clinic sums run into the millions of yuan: print them whole, never as "1e6" or an offset.
    "axes.formatter.limits": (-5, 9),
    "axes.formatter.useoffset": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlelocation": "left",
    "axes.titlesize": "large",
    "legend.frameon": False,
}


def set_theme(lang: str = "zh") -> None:
    """Apply the playbook's chart theme to matplotlib and seaborn.

    Parameters
    ----------
    lang : {"zh", "en"}
        Language of the report. Both languages use Noto Sans SC: English reports still show
        Chinese names (doctors, treatments, channels), and the charts then match the PDF's font.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    _register_font()
    # DejaVu Sans (bundled with matplotlib) stands in for the few symbols Noto Sans SC lacks.
    sns.set_theme(
        context="notebook",
        style="whitegrid",
        palette=PALETTE,
        font="sans-serif",
        rc={**_RC, "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"]},
    )
    _use_png_inline()


def _register_font() -> None:
    """Make Noto Sans SC known to matplotlib by file, whatever fonts the machine has."""
    if FONT_FAMILY not in {entry.name for entry in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(font_path()))


def _use_png_inline() -> None:
    """In a kernel, emit charts as tight-cropped PNG: the report keeps image/png and nothing else."""
    if get_ipython() is not None:
        set_matplotlib_formats("png", bbox_inches="tight")


_width = i18n.display_width


def wrap_title(text: str, lang: str = "zh") -> str:
    """A title as the chart prints it: one line when it fits, else two, broken after a clause.

    Chinese titles break after "；", "，" or "：", English ones after "; ", ", " or ": ", at the break
    that leaves the longer line shortest; with no such break the text wraps at the width.
    """
    limit = TITLE_WIDTH.get(lang, TITLE_WIDTH["en"])
    if "\n" in text or _width(text) <= limit:
        return text
    marks = ("；", "，", "：", "、") if lang == "zh" else ("; ", ", ", ": ", " – ")
    cuts = [i + len(mark) for mark in marks for i in range(len(text)) if text.startswith(mark, i)]
    cuts = [i for i in cuts if 0 < i < len(text)]
    if cuts:
        best = min(cuts, key=lambda i: max(_width(text[:i]), _width(text[i:])))
        first, second = text[:best].rstrip(), text[best:].lstrip()
        if max(_width(first), _width(second)) <= limit * 1.15:
            return f"{first}\n{second}"
    if lang == "zh":
        half = len(text) // 2
        return f"{text[:half]}\n{text[half:]}"
    return "\n".join(textwrap.wrap(text, width=limit)[:3])


def set_title(ax, text: str, lang: str = "zh"):
    """Set a chart's finding as its title (left, wrapped to fit; an English one capitalised); returns ``ax``."""
    if lang != "zh" and text[:1].islower():
        text = text[0].upper() + text[1:]
    ax.set_title(wrap_title(text, lang), loc="left")
    return ax


def chart_title(figure) -> str:
    """The title of a figure's first titled axes, on one line (for alt text and tests)."""
    for ax in figure.axes:
        for loc in ("left", "center", "right"):
            if ax.get_title(loc):
                lines = [part.strip() for part in ax.get_title(loc).splitlines()]
                # a wrapped Chinese title joins without a space, an English one with one
                return "".join(line if i == 0 or _width(lines[i - 1][-1:]) == 2 else f" {line}"
                               for i, line in enumerate(lines))
    return ""


# ---------------------------------------------------------------------------------------------------
# Months on an axis: 2025年7月 / Jul 2025 where the year changes (and first), then 8月 / Aug.


def _month_step(n: int) -> int:
    """Label every month up to 8, then every 2, 3, 6 or 12 months: each label has room to stand level."""
    return next(step for limit, step in ((8, 1), (16, 2), (36, 3), (72, 6)) if n <= limit) if n <= 72 else 12


def _month_label(month: dt.date, lang: str, with_year: bool) -> str:
    if with_year:
        return i18n.month(month, lang)
    return f"{month.month}月" if lang == "zh" else f"{month:%b}"


def month_labels(months, lang: str = "zh", *, step: int | None = None) -> tuple[list[int], list[str]]:
    """Positions and labels of month ticks on a categorical axis (one category per month).

    Every ``step``-th calendar month is labelled (step 2: Jan, Mar, May …; chosen from the number of
    months when None); the first label and every January carry the year: 2024年1月, 4月, 7月 … /
    Jan 2024, Apr, Jul ….
    """
    months = [pd.Timestamp(m) for m in months]
    step = step or _month_step(len(months))
    positions, labels, last_year = [], [], None
    for i, month in enumerate(months):
        if (month.month - 1) % step:
            continue
        positions.append(i)
        labels.append(_month_label(month.date(), lang, month.year != last_year))
        last_year = month.year
    return positions, labels


def month_ticks(ax, months, lang: str = "zh", *, axis: str = "x", step: int | None = None):
    """Label a categorical axis whose categories 0..n−1 are ``months``; returns ``ax``."""
    positions, labels = month_labels(months, lang, step=step)
    if axis == "x":
        ax.set_xticks(positions, labels, rotation=0)
    else:
        ax.set_yticks(positions, labels, rotation=0)
    return ax


class MonthFormatter(ticker.Formatter):
    """Date ticks as the owner writes months: the year on the first tick and on every January."""

    def __init__(self, lang: str = "zh"):
        self.lang = lang

    def format_ticks(self, values):
        labels, last_year = [], None
        for value in values:
            day = mdates.num2date(value).date()
            labels.append(_month_label(day, self.lang, day.year != last_year))
            last_year = day.year
        return labels

    def __call__(self, x, pos=None):
        return i18n.month(mdates.num2date(x).date(), self.lang)


def month_axis(ax, lang: str = "zh", *, first=None, last=None, axis: str = "x"):
    """Month ticks on a date axis (dates plotted as dates), in the owner's format; returns ``ax``.

    ``first``/``last`` give the span the ticks are spaced for (default: the axis' data limits).
    """
    target = ax.xaxis if axis == "x" else ax.yaxis
    if first is None or last is None:
        low, high = (ax.dataLim.x0, ax.dataLim.x1) if axis == "x" else (ax.dataLim.y0, ax.dataLim.y1)
        first, last = mdates.num2date(low), mdates.num2date(high)
    first, last = pd.Timestamp(first).tz_localize(None), pd.Timestamp(last).tz_localize(None)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = _month_step(max(months, 1))
    target.set_major_locator(mdates.MonthLocator(bymonth=range(1, 13, step)))
    target.set_major_formatter(MonthFormatter(lang))
    target.set_minor_locator(ticker.NullLocator())
    for label in target.get_ticklabels():
        label.set_rotation(0)
    return ax


def no_data(ax, lang: str, title: str):
    """An empty chart that says so, for an analysis whose table came out empty."""
    ax.text(0.5, 0.5, "无数据" if lang == "zh" else "no data", ha="center", va="center", transform=ax.transAxes)
    set_title(ax, title, lang)
    ax.set_axis_off()
    return ax


def note(ax, text: str, *, corner: str = "upper right"):
    """A figure the title states that no bar or line shows by itself (a total, a pooled rate, a list's
    size), written on the chart in a corner, so that what the title says is what the chart shows."""
    top, right = corner.split()
    x, y = (0.99, "right") if right == "right" else (0.01, "left")
    ax.text(x, 0.98 if top == "upper" else 0.02, text, transform=ax.transAxes, ha=y,
            va="top" if top == "upper" else "bottom", fontsize="small", color=GREY, zorder=5,
            bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=2))
    return ax


def reference_line(ax, x: float, label: str, *, y: float):
    """A threshold drawn on a horizontal bar chart: a dashed vertical line labelled at its top."""
    ax.axvline(x, color=GREY, linestyle="--", linewidth=1)
    ax.text(x, y, f" {label}", va="bottom", fontsize="small", color=GREY)
    low, high = ax.get_ylim()
    if low < high < y + 0.6:  # room for the label inside the axes, clear of the title
        ax.set_ylim(low, y + 0.6)
    return ax


def waterfall(start: float, steps, end: float, *, labels, colors, lang: str = "zh", ax=None, **kwargs):
    """A waterfall: a first bar at ``start``, one floating bar per step, a last bar at ``end``; connected,
    each annotated (the steps signed). ``colors``: one per step; the two ends are the palette's first.

    The axis starts above zero when the steps would be too thin to see beside the totals, and says so.
    Returns the Axes.
    """
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    steps = np.asarray(steps, dtype=float)
    bottoms = [0.0] + list(start + np.concatenate([[0.0], np.cumsum(steps)[:-1]])) + [0.0]
    heights = [start] + list(steps) + [end]
    x = np.arange(len(heights))
    ax.bar(x, heights, bottom=bottoms, color=[PALETTE[0], *colors, PALETTE[0]], width=0.62, **kwargs)
    levels = np.array([start, end, *(start + np.cumsum(steps))])
    top, low = max(levels.max(), 0.0), min(levels.min(), 0.0)
    span = max(top - low, 1e-9)
    running = start  # connectors between consecutive bars
    for i, step in enumerate(steps):
        ax.plot([x[i] + 0.31, x[i + 1] - 0.31], [running, running], color=PALETTE[4], lw=0.8)
        running += step
    ax.plot([x[-2] + 0.31, x[-1] - 0.31], [running, running], color=PALETTE[4], lw=0.8)
    for i, (b, h) in enumerate(zip(bottoms, heights)):
        text = f"{h:,.1f}" if i in (0, len(heights) - 1) else f"{h:+,.1f}"
        ax.annotate(text, (x[i], b + max(h, 0.0)), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize=9)
    moves = np.abs(steps).max() if len(steps) else 0.0
    if low >= 0 and moves < 0.15 * top:
        floor = max(0.0, levels.min() - 2.5 * max(moves, 0.02 * top))
        ax.set_ylim(floor, top + 0.12 * span)
        if floor > 0:
            ax.text(0.995, 0.99, i18n.pick(lang, f"纵轴从{floor:,.0f}起", f"axis starts at {floor:,.0f}"),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8, color=PALETTE[4])
    else:
        ax.set_ylim(low, top + 0.12 * span)
    ax.set_xticks(x, labels)
    return ax

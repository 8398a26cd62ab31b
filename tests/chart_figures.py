"""What a chart draws, as numbers, and what its title and caption claim about them.

A test helper. A chart's title states its finding with its numbers (issue 7); this reads back what the
chart draws (bars, heatmap cells, points, lines, reference lines, the labels written on it) so that a
test can hold the claims against the drawing, the way an owner compares the title with the bars.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Annotation

NUMBER = re.compile(r"(?<![\d.,A-Za-z])[+\-−]?\d[\d,]*(?:\.\d+)?")
# Numbers that are part of a date, a duration, an interval's level or a name, not a figure drawn.
NOT_A_FIGURE = re.compile(
    r"\d{4}(?:–\d{4})?年(?:\d{1,2}(?:–\d{1,2})?月(?:\d{1,2}日)?)?(?:第[1-4]季度|[上下]半年)?|\d{1,2}(?:–\d{1,2})?月|"
    r"(?:近|最近|连续|前|后|每)?\d+(?:个月|个?周|天|日|年|小时|点)|第\d+[月周天]|\d+%区间|\d+% interval|"
    r"\b(?:H[12]|Q[1-4]) \d{4}|\b\d{4}(?:–\d{4})?\b(?!%)|\b\d+ (?:months?|weeks?|days?|years?)\b|month-\d+|"
    r"\d{1,2}:\d{2}|[\d.]+:1|\b[A-Z]\d+|\d+(?:st|nd|rd|th)\b|\d+-(?:day|week|month)")
SUPERLATIVE = re.compile(r"(最高|最低|highest|lowest)")
UNIVERSAL = re.compile(r"(?:都|全部|均)(?:在|不超过|低于|不到|未超过)(\d[\d.]*)%?[^，；。,;]{0,8}(?:以下|以内)?|"
                       r"(?:every|all)\b[^,;.]{0,40}\b(?:under|below|within)(?: the)? (\d[\d.]*)%?")


@dataclass
class Drawing:
    """The numbers a figure draws, in the units of its axes."""

    data: list[float] = field(default_factory=list)  # bars, cells, points, curves: what the chart plots
    bars: list[tuple[float, float, str, object]] = field(default_factory=list)  # (value, position, "v"|"h", ax)
    points: list[tuple[float, float, object]] = field(default_factory=list)  # (x, y, ax) of scatter points
    lines: list[float] = field(default_factory=list)  # reference lines' positions
    texts: list[tuple[str, float, float, object]] = field(default_factory=list)  # labels written in the plot
    ticks: list[tuple[str, float, str, object]] = field(default_factory=list)  # (label, position, "x"|"y", ax)

    def figures(self) -> list[float]:
        """Every number the chart shows: plotted values, reference lines, and the figures written on it."""
        written = [_value(n) for t, *_ in self.texts for n in NUMBER.findall(_figures_only(t))]
        return self.data + self.lines + [v for v in written if v is not None]


def _value(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("−", "-"))
    except ValueError:
        return None


def _figures_only(text: str) -> str:
    return NOT_A_FIGURE.sub(" ", text)


def axes_of(figure):
    stack = list(figure.axes)
    while stack:
        ax = stack.pop()
        yield ax
        stack.extend(getattr(ax, "child_axes", []))


def drawing(figure) -> Drawing:
    d = Drawing()
    for ax in axes_of(figure):
        # bars: filled rectangles in data coordinates (a span or a frame is not a bar)
        rects = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_fill()
                 and p.get_transform().contains_branch(ax.transData) and (p.get_width() or p.get_height())]
        widths = {round(p.get_width(), 9) for p in rects}
        heights = {round(p.get_height(), 9) for p in rects}
        horizontal = len(heights) == 1 and len(widths) > 1
        for p in rects:
            if horizontal:
                d.bars.append((p.get_width(), p.get_y() + p.get_height() / 2, "h", ax))
                d.data.append(p.get_width())
            else:
                d.bars.append((p.get_height(), p.get_x() + p.get_width() / 2, "v", ax))
                d.data.append(p.get_height())
        for line in ax.lines:
            x, y = np.asarray(line.get_xdata(), dtype=object), np.asarray(line.get_ydata(), dtype=object)
            try:
                yf = np.asarray(y, dtype=float)
            except (TypeError, ValueError):
                continue
            if len(yf) <= 2 and len(set(np.round(yf, 9))) == 1:
                d.lines.append(float(yf[0]))  # axhline
                continue
            try:
                xf = np.asarray(x, dtype=float)
                if len(xf) <= 2 and len(set(np.round(xf, 9))) == 1:
                    d.lines.append(float(xf[0]))  # axvline
                    continue
            except (TypeError, ValueError):
                pass
            d.data += [float(v) for v in yf if math.isfinite(v)]
        for c in ax.collections:
            if isinstance(c, QuadMesh):
                d.data += [float(v) for v in np.ma.compressed(c.get_array()) if math.isfinite(float(v))]
            elif isinstance(c, PathCollection) and len(c.get_offsets()):
                for x, y in np.asarray(c.get_offsets(), dtype=float):
                    d.points.append((float(x), float(y), ax))
                    d.data += [float(x), float(y)]
        for p in ax.patches:  # spans (axvspan, axhspan): their edges are reference lines
            if isinstance(p, Rectangle) and not p.get_transform().contains_branch(ax.transData):
                d.lines += [p.get_x(), p.get_x() + p.get_width(), p.get_y(), p.get_y() + p.get_height()]
        for t in ax.texts:  # a label at a data point keeps its place; a note in a corner has none
            if not t.get_text():
                continue
            if isinstance(t, Annotation):
                x, y = t.xy if t.xycoords == "data" else (math.nan, math.nan)
            else:
                x, y = t.get_position() if t.get_transform().contains_branch(ax.transData) else (math.nan, math.nan)
            d.texts.append((t.get_text(), x, y, ax))
        # what the axes' labels and the legend write (a line's value, a unit note)
        written = [ax.get_xlabel(), ax.get_ylabel()] + ([t.get_text() for t in ax.get_legend().get_texts()]
                                                        if ax.get_legend() else [])
        d.texts += [(t, float("nan"), float("nan"), ax) for t in written if t]
        for axis, labels in (("x", ax.get_xticklabels()), ("y", ax.get_yticklabels())):
            d.ticks += [(t.get_text(), t.get_position()[0 if axis == "x" else 1], axis, ax) for t in labels if t.get_text()]
    return d


@dataclass(frozen=True)
class Figure:
    """A number a title or caption states, with the precision it is printed at."""

    text: str
    value: float
    half_unit: float
    percent: bool
    start: int

    def matches(self, drawn: float) -> bool:
        """Whether a drawn value, in any of the units charts draw (a fraction or a percent; yuan, 万元,
        thousands or millions), prints as this figure."""
        scales = (1.0, 100.0, 0.01) if self.percent else (1.0, 1e-4, 1e4, 1e-3, 1e3, 1e-6, 1e6, 100.0, 0.01)
        return any(abs(abs(drawn) * s - self.value) <= self.half_unit * 1.0001 + 1e-9 for s in scales)


def stated_figures(text: str, own_names: list[str]) -> list[Figure]:
    """The numbers a title states as figures: dates, durations, interval levels and the clinic's own names
    (2025抖音9.9元洁牙卡) left out."""
    for name in own_names:
        text = text.replace(name, " " * len(name))
    masked = NOT_A_FIGURE.sub(lambda m: " " * len(m[0]), text)
    out = []
    for m in NUMBER.finditer(masked):
        digits = m[0].replace(",", "").replace("−", "-").lstrip("+")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        after = masked[m.end():m.end() + 2]
        out.append(Figure(m[0], abs(float(digits)), 0.5 * 10 ** -decimals, after.startswith("%"), m.start()))
    return out


def superlatives(text: str, own_names: list[str]) -> list[tuple[str, Figure, str]]:
    """(word, figure, what is between them) for each 最高…X / highest … X a text claims: the first figure
    within a few words after the superlative."""
    figures = stated_figures(text, own_names)
    out = []
    for m in SUPERLATIVE.finditer(text):
        after = [f for f in figures if m.end() <= f.start <= m.end() + 24]
        if after:
            out.append((m[1], after[0], text[m.end():after[0].start]))
    return out

"""Each chart's title and caption against what the chart draws (issue 14), on every chart of both sample
clinics in both languages.

An owner reads a chart's title, then looks at the bars: the review found a heatmap titled "every slot
under 15%, highest 11.7%" over cells of 20 and 16, a caption naming a campaign "the highest (55%)" beside
a bar of 67%, bars in 万元 labelled with head counts. The checks, general to every chart:

* every figure a title states is drawn: a bar, a cell, a point, a line, a label written on the chart,
  or a figure of the result's own table (a title may state what its chart's table lists);
* a title or caption that calls a drawn figure the highest (lowest) names the highest (lowest) drawn;
* a title that says every value is under a line draws none over it;
* a label written at a bar's end states that bar's own figure.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from playbook import plotting

from chart_figures import (NUMBER, UNIVERSAL, _figures_only, _value, axes_of, drawing, stated_figures,
                           superlatives)


def _table_figures(result, lang: str) -> list[float]:
    """The figures of the result's table, as shown (table_for) and as computed (table)."""
    out = []
    if hasattr(result, "table_for"):
        shown = result.table_for(lang)
        for cell in [*shown.columns, *shown.to_numpy().ravel().tolist()]:
            out += [_value(n) for n in NUMBER.findall(_figures_only(str(cell)))]
    table = getattr(result, "table", None)
    if isinstance(table, pd.DataFrame):
        out += [float(v) for v in table.select_dtypes("number").to_numpy().ravel() if not pd.isna(v)]
    return [v for v in out if v is not None and math.isfinite(v)]


def _discrete(figure, d) -> list[float]:
    """The values a reader compares one by one: bars, heatmap cells, points (not curves, not lines)."""
    values = [b[0] for b in d.bars] + [p[0] for p in d.points]
    for ax in axes_of(figure):
        for c in ax.collections:
            if isinstance(c, QuadMesh):
                values += [float(v) for v in np.ma.compressed(c.get_array())]
    return values


@pytest.fixture(scope="module")
def charts(drawn_charts):
    """What each chart states (title, caption) and draws (drawn once, conftest)."""
    out = []
    for chart in drawn_charts:
        d = drawing(chart["figure"])
        out.append(dict(where=f"{chart['sample']} {chart['lang']} {chart['name']}",
                        title=plotting.chart_title(chart["figure"]), caption=chart["caption"], drawing=d,
                        discrete=_discrete(chart["figure"], d), table=_table_figures(chart["result"], chart["lang"]),
                        own=chart["own"]))
    return out


def test_every_chart_of_both_samples_is_checked(charts):
    assert len(charts) >= 100
    assert sum(bool(stated_figures(c["title"], c["own"])) for c in charts) >= 80


def test_every_figure_a_title_states_is_drawn(charts):
    missing = []
    for c in charts:
        shown = c["drawing"].figures() + c["table"] + [len(c["drawing"].bars)]
        missing += [f"{c['where']}: {f.text} in {c['title']!r}" for f in stated_figures(c["title"], c["own"])
                    if not any(f.matches(v) for v in shown)]
    assert not missing, "\n".join(missing)


def test_the_highest_named_is_the_highest_drawn(charts):
    wrong = []
    for c in charts:
        values = c["discrete"]
        for word, figure, _ in superlatives(f"{c['title']}。{c['caption']}", c["own"]):
            if not values or not any(figure.matches(v) for v in values):
                continue  # a figure the chart does not draw one by one (a pooled rate): nothing to compare
            extreme = max(values) if word in ("最高", "highest") else min(values)
            if not figure.matches(extreme):
                wrong.append(f"{c['where']}: {word} {figure.text}, but the chart draws {extreme:g}")
    assert not wrong, "\n".join(wrong)


def test_a_title_saying_all_are_under_a_line_draws_none_over_it(charts):
    wrong = []
    for c in charts:
        for m in UNIVERSAL.finditer(c["title"]):
            line = float(m[1] or m[2])
            percent = [v for v in c["discrete"] if 0 <= v <= 100]
            over = [v for v in percent if v > line * 1.0001]
            if over:
                wrong.append(f"{c['where']}: {m[0]!r} but the chart draws {max(over):g}")
    assert not wrong, "\n".join(wrong)


def test_a_label_at_a_bars_end_states_that_bars_figure(charts):
    wrong, checked = [], 0
    for c in charts:
        d = c["drawing"]
        for text, x, y, ax in d.texts:
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in (x, y)) \
                    or not NUMBER.search(_figures_only(text)):
                continue  # a note in the axes' corner, a label placed by date: not at a bar
            bars = [b for b in d.bars if b[3] is ax]
            if not bars:
                continue
            across = (ax.get_xlim() if bars[0][2] == "h" else ax.get_ylim())
            span = abs(across[1] - across[0]) or 1.0
            at, along = (y, x) if bars[0][2] == "h" else (x, y)
            near = [b for b in bars if abs(b[1] - at) <= 0.25 and abs(b[0] - along) <= 0.05 * span]
            if not near:
                continue  # a label elsewhere (a line's, a note): not a bar's
            checked += 1
            bar = min(near, key=lambda b: abs(b[1] - at))
            if not any(f.matches(bar[0]) for f in stated_figures(text, c["own"])):
                wrong.append(f"{c['where']}: bar {bar[0]:g} labelled {text!r}")
    assert checked >= 100
    assert not wrong, "\n".join(wrong)


# --- the review's five, as the owner saw them -----------------------------------------------------------


def _chart(charts, where):
    return next(c for c in charts if c["where"] == where)


def test_the_no_show_heatmap_names_its_highest_cell(charts):
    heatmap = _chart(charts, "general_clinic zh doctors.no_show_times")
    assert heatmap["title"].startswith("爽约最多的钟点是周二9点（21.7%）")
    assert "都在" not in heatmap["title"] and max(heatmap["discrete"]) == pytest.approx(21.7, abs=0.05)


def test_the_campaign_caption_names_the_highest_campaign_drawn(charts):
    history = _chart(charts, "general_clinic zh breakeven.history")
    assert "最高的是2023社区义诊地推（55%）" in history["caption"] and max(history["drawing"].data) < 60


def test_the_warning_bars_are_labelled_with_their_sums(charts):
    warning = _chart(charts, "general_clinic zh loyalty.warning")
    labels = [t for t, *_ in warning["drawing"].texts if "人）" in t]
    assert labels and all("万元" in t for t in labels)

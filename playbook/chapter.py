"""What a chapter notebook calls to speak to the owner: headings, sentences, tables, charts, metrics.

Notebooks stay thin (parameters, calls into playbook, a chart, prose). Owner-facing text is emitted
here in the report's language; the trainer's explanations live in cells tagged ``trainer``, which the
report leaves out: Markdown cells, or, where a note states a threshold, a code cell calling `trainer`
so that the note states the line the clinic has in force. Both open with `TRAINER_BANNER`. Metrics
for ``kpis.json`` are published as an output with the mimetype below: the executed notebook carries
them, and the runner collects them (as scrapbook does), so a chapter computes each number once.
"""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from . import plotting, sentences
from .clinic import Clinic, load_clinic
from .config import METRICS_MIMETYPE
from .jsonsafe import clean
from .thresholds import resolve

# The first line of every trainer cell, so a trainer's note never passes for the owner's text in JupyterLab.
TRAINER_BANNER = ("> **培训讲解 · Trainer note** —— 只在笔记本中，不进入诊所报告 / "
                  "in the notebook only, never in the owner's report")


def open_clinic(clinic_dir: str, lang: str | None = None, *, strict: bool = True) -> tuple[Clinic, str]:
    """Load the clinic (cached across chapters), set the chart theme, and settle the report language."""
    clinic = load_clinic(clinic_dir, strict=strict)
    lang = lang or clinic.config.lang
    plotting.set_theme(lang)
    return clinic, lang


def say(lang: str, zh: str, en: str | None = None) -> None:
    """Show Markdown in the report's language (``en`` omitted: the same text in both)."""
    display(Markdown(zh if lang == "zh" or en is None else en))


def table(frame: pd.DataFrame, *, index: bool = False) -> None:
    """Show a table as the report prints it: no index, em dash for missing values; nothing if empty."""
    if frame.empty:
        return
    display(HTML(frame.to_html(index=index, border=0, na_rep="—", classes="playbook-table")))


def chart(ax_or_fig, finding: str) -> None:
    """Show a chart followed by its one sentence: what it means and what to do.

    The chart is shown as a PNG whose output metadata carries its alt text, the title (the finding
    with its number) and the sentence: ``{"image/png": {"alt": ...}}``, for the report's ``<img alt>``.
    """
    figure = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    display(Image(data=png(figure), format="png", alt=alt_text(figure, finding)))
    plt.close(figure)
    display(Markdown(finding))


def png(figure: plt.Figure) -> bytes:
    """The chart as the report prints it: the theme's dpi (``savefig.dpi``), cropped to its content."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", facecolor="white")
    return buffer.getvalue()


def alt_text(figure: plt.Figure, finding: str) -> str:
    """What a screen reader says for a chart: its title, then the sentence after it (no Markdown)."""
    title = plotting.chart_title(figure)
    sentence = finding.replace("**", "").strip()
    if not title:
        return sentence
    chinese = _mostly_chinese(title)
    stop = "" if title[-1] in "。.；;！!？?" else "。" if chinese else "."
    return f"{title}{stop}{'' if chinese else ' '}{sentence}"


def _mostly_chinese(text: str) -> bool:
    """A Chinese title (an English one may still hold a doctor's Chinese name)."""
    letters = [ch for ch in text if ch.isalpha()]
    return sum("\u4e00" <= ch <= "\u9fff" for ch in letters) > len(letters) / 3


def show(result, lang: str, *, figsize: tuple[float, float] = (9, 3.8), finding: str | None = None,
         **plot_kwargs) -> None:
    """An analysis result as the owner reads it: its chart, then its one sentence (``finding``: another
    sentence, where the page has said the result's own already).

    A result the data cannot support shows only its sentence, which names the data it needs.
    """
    sentence = finding if finding is not None else result.finding(lang)
    if not result.available:
        say(lang, sentence)
        return
    figure, ax = plt.subplots(figsize=figsize)
    result.plot(ax=ax, lang=lang, **plot_kwargs)
    chart(figure, sentence)


def trainer(clinic: Clinic, text: str = "") -> None:
    """A trainer's note (bilingual Markdown) that states the clinic's thresholds in force; without
    ``text``, the banner alone, atop a trainer's code cell (a lesson with charts).

    ``{name}`` in ``text`` is the threshold ``name`` of `playbook.thresholds` as the clinic has it
    (clinic.yaml's overrides applied): ``{first_visit_conversion_review}`` → 80%, or 75%* when the
    consultant changed it; ``{name:points}`` gives a rate line in percentage points (3), ``{name:g}``
    the bare number. A name the table lacks is an error, so a note never states a stale line.
    """
    lines = _Lines(resolve(clinic.config.thresholds))
    body = text.strip().format_map(lines)
    if lines.changed:
        body += ("\n\n\\* 顾问在 clinic.yaml 中调整过的阈值（方法的原值见附录的阈值表）/ changed by the consultant in "
                 "clinic.yaml (the method's value is in the appendix's threshold table)")
    display(Markdown(f"{TRAINER_BANNER}\n\n{body}" if body else TRAINER_BANNER))


class _Lines(dict):
    """Thresholds by name, each formatted as a trainer's note states it; ``changed`` once a note has
    stated a line the consultant changed (marked *)."""

    def __init__(self, table):
        super().__init__((name, _Line(t, self)) for name, t in table.items())
        self.changed = False


class _Line:
    def __init__(self, threshold, lines: _Lines):
        self.threshold, self.lines = threshold, lines

    def __format__(self, spec: str) -> str:
        t = self.threshold
        if spec == "points":
            text = f"{abs(t.value) * 100:g}"
        elif spec == "g":
            text = f"{t.value:g}"
        elif not spec:
            text = sentences.line(t)
        else:
            raise ValueError(f"unknown format {spec!r} for threshold {t.name}: use '', 'points' or 'g'")
        if t.overridden:
            self.lines.changed = True
            text += "\\*"
        return text


def publish(metrics: dict) -> None:
    """Hand metrics to kpis.json, as strict JSON (a missing number is null, never NaN). Shown as a
    one-line note in JupyterLab, never in the report."""
    names = ", ".join(metrics.get("kpis", metrics))
    display({METRICS_MIMETYPE: clean(metrics), "text/plain": f"kpis.json ← {names}"}, raw=True)

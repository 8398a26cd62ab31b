"""One chart theme for every chapter: a restrained palette, a font with Chinese glyphs, report-sized PNGs.

Every notebook calls ``set_theme(lang)`` once, after its ``parameters`` cell, so that all charts of a
report look alike and match the PDF, which is set in the same font (see ``playbook.report``).
"""
from __future__ import annotations

import seaborn as sns
from IPython import get_ipython
from matplotlib import font_manager
from matplotlib_inline.backend_inline import set_matplotlib_formats

from .fonts import FONT_FAMILY, font_path

__all__ = ["ACTION_RED", "PALETTE", "no_data", "reference_line", "set_theme"]

# Red means "needs action" and nothing else, so it is kept out of the palette.
ACTION_RED = "#c0392b"
# Slate and muted blues first, then neutrals: categories stay apart without shouting.
PALETTE = ["#34495e", "#5b8db8", "#7fa99b", "#c9a66b", "#8e9aa6", "#a9c6de"]

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


def no_data(ax, lang: str, title: str):
    """An empty chart that says so, for an analysis whose table came out empty."""
    ax.text(0.5, 0.5, "无数据" if lang == "zh" else "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title)
    ax.set_axis_off()
    return ax


def reference_line(ax, x: float, label: str, *, y: float):
    """A threshold drawn on a horizontal bar chart: a dashed vertical line labelled at its top."""
    ax.axvline(x, color=PALETTE[0], linestyle="--", linewidth=1)
    ax.text(x, y, f" {label}", va="bottom", fontsize="small", color=PALETTE[0])
    return ax

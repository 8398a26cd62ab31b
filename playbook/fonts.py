"""The font charts and the PDF are set in: Noto Sans SC, shipped by the pylopdf-fonts-zh-cn package.

A module of its own so that building a report does not import the plotting stack.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_FILE = "NotoSansSC-Regular.otf"
FONT_FAMILY = "Noto Sans SC"


def font_path() -> Path:
    """Path of the Noto Sans SC font file; package data, so no system font is needed."""
    path = Path(str(files(FONT_PACKAGE) / FONT_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"{FONT_FILE} not found in the {FONT_PACKAGE} package: {path}")
    return path

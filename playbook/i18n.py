"""Numbers and words in the owner's conventions: 万元 for large sums in Chinese, one-decimal percentages.

Every sentence a chapter shows goes through these, so a missing value reads "无数据"/"no data" and
never NaN or inf.
"""
from __future__ import annotations

import datetime as dt
import math

NO_DATA = {"zh": "无数据", "en": "no data"}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def money(value, lang: str = "zh") -> str:
    """12_345_678 → '1,234.6万元' (zh) or '¥12.35m' (en); below 10,000 the exact amount."""
    if _missing(value):
        return NO_DATA[lang]
    if lang == "zh":
        return f"{value / 1e4:,.1f}万元" if abs(value) >= 1e4 else f"{value:,.0f}元"
    return f"¥{value / 1e6:,.2f}m" if abs(value) >= 1e6 else f"¥{value:,.0f}"


def rate(value, lang: str = "zh") -> str:
    return NO_DATA[lang] if _missing(value) else f"{value * 100:.1f}%"


def count(value, lang: str = "zh") -> str:
    return NO_DATA[lang] if _missing(value) else f"{int(value):,}"


def month(value: dt.date, lang: str = "zh") -> str:
    return f"{value.year}年{value.month}月" if lang == "zh" else value.strftime("%b %Y")


def day(value: dt.date, lang: str = "zh") -> str:
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.isoformat()


def span(first: dt.date, last: dt.date) -> str:
    """A short date range for a table cell: 2025.07.01–09.30, the year repeated only when it changes."""
    return f"{first:%Y.%m.%d}–{last:%m.%d}" if first.year == last.year else f"{first:%Y.%m.%d}–{last:%Y.%m.%d}"


def period(start: dt.date, end: dt.date, lang: str = "zh") -> str:
    return f"{day(start, lang)}–{day(end, lang)}" if lang == "zh" else f"{start:%d %b %Y} – {end:%d %b %Y}"


def pick(lang: str, zh: str, en: str) -> str:
    """The text in the report's language; both are written side by side where they are used."""
    return zh if lang == "zh" else en

"""Rows of an export that are not data, in any wording and any position.

Clinic systems and the people who edit their exports add rows that are not records: a totals row at
the bottom, a subtotal after each receipt or day (本单小计, 小计：, a 合计 in the middle), footers
(制表人：, 打印时间：, 第1页), and, where two exports were pasted into one file, the second export's
title rows and header. Counted as data they double revenue (method.md: the totals row must never reach
revenue). Each is found from its words or its shape, dropped, and counted by reason for the audit.

Cells are judged by their distinct values, and only in columns that are not personal data.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import parsing

# reason -> (English, 中文) as the audit names the rows
REASONS = {
    "blank": ("blank rows", "空行"),
    "totals": ("totals and subtotal rows (合计, 小计, 本单小计 …)", "合计/小计行"),
    "footer": ("footer rows (制表人, 打印时间, 第1页 …)", "表尾行（制表人、打印时间等）"),
    "header": ("header rows repeated inside the table (exports pasted together)", "表格中间重复的表头行（多份导出拼接）"),
    "title": ("title rows of an export pasted below another", "拼接进来的另一份导出的标题行"),
}
# Words a column must hold somewhere before its cells are matched one by one (`in` on the joined
# distinct values is fast; most columns are ids, dates and amounts and hold none).
_TOTAL_WORDS = ("小计", "合计", "总计", "共计", "累计", "汇总", "total", "sum")
# The word may follow a short label (本单小计, 张医生小计) and be followed only by a colon, a bracket or
# numbers (合计：, 合计（元）, 合计 3,000): an item named 合计套餐 is data.
_TOTAL = re.compile(r"^\D{0,10}?(?:小计|合计|总计|共计|累计|汇总|subtotal|grand\s*total|total|sum)\s*"
                    r"(?:[:：(（].*|[-\d.,¥￥元\s]*)$", re.IGNORECASE | re.DOTALL)
_FOOTER_WORDS = ("制表", "打印", "导出", "审核", "复核", "经办", "操作", "收款", "负责", "签", "财务", "会计", "出纳", "页", "共",
                 "page")
_FOOTER = re.compile(r"^\s*(?:(?:制表|打印|导出|审核|复核|经办|操作|收款|负责|签字|签名|签章|财务|会计|出纳)\S{0,3}\s*[:：]"
                     r"|第\s*\d+\s*页|共\s*\d+\s*(?:条|页|行|笔|项)|page\s*\d+)", re.IGNORECASE)
_EXPORT_TIME = re.compile(r"(?:导出|打印|制表|生成)(?:时间|日期)\s*[:：]?\s*(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})")
MIN_COLUMNS_FOR_SHAPE = 3  # title and footer rows are told by their shape only in tables this wide


def classify(frame: pd.DataFrame, headers: list[str], scan: list) -> tuple[dict[str, np.ndarray], list[int], list[str]]:
    """Which rows of ``frame`` are not data.

    Parameters
    ----------
    frame : the cells under the header, empty cells NaN.
    headers : the header's text per column of ``frame``.
    scan : the columns whose words may be read (never personal data).

    Returns
    -------
    reasons : reason -> boolean mask over the rows, each row under one reason at most.
    header_rows : positions of the rows that repeat the header.
    footer_texts : the footer cells found (to read an export time from; never shown).
    """
    filled = frame.notna().to_numpy()
    counts = filled.sum(axis=1)
    n = len(frame)
    totals, footer, header_hits = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, int)
    header_texts = {h for h in headers if h}
    footer_texts: list[str] = []
    for column in scan:
        cells = frame[column]
        words = pd.unique(cells)
        joined = "\n".join(map(str, words))
        hits = _matching(words, joined, _TOTAL_WORDS, _TOTAL)
        if hits:
            totals |= cells.isin(hits).to_numpy()
        hits = _matching(words, joined, _FOOTER_WORDS, _FOOTER)
        if hits:
            footer |= cells.isin(hits).to_numpy()
            footer_texts += sorted(hits)
        if any(f"\n{h}\n" in f"\n{joined}\n" for h in header_texts):  # a header's own word, as a whole cell
            header_hits += cells.isin(header_texts).to_numpy()
    blank = counts == 0
    header = (header_hits >= 2) & (header_hits * 2 >= counts)
    footer &= counts <= max(2, frame.shape[1] // 3)  # a footer stands nearly alone on its row
    reasons = {"blank": blank, "header": header & ~blank, "totals": totals & ~header & ~blank,
               "footer": footer & ~totals & ~header & ~blank}
    if frame.shape[1] >= MIN_COLUMNS_FOR_SHAPE:
        reasons["title"] = _lone_rows_above(header, counts)
        reasons["footer"] |= _trailing_lone_rows(counts) & ~reasons["totals"]
    return reasons, np.flatnonzero(header).tolist(), footer_texts


def _matching(words, joined: str, keywords: tuple[str, ...], pattern: re.Pattern) -> set[str]:
    """The distinct cells that match ``pattern``, looked at only where a keyword occurs: the lines of the
    joined cells around each occurrence (a column of 20,000 receipt numbers and one 合计 costs one
    search, not 20,000)."""
    lowered = joined.lower()
    present = [k for k in keywords if k in lowered]
    if not present:
        return set()
    if len(lowered) != len(joined) or joined.count("\n") != len(words) - 1:  # a cell holds a line break
        candidates = {w for w in words if isinstance(w, str) and any(k in w.lower() for k in present)}
    else:
        candidates = set()
        for found in re.finditer("|".join(map(re.escape, present)), lowered):
            start, end = joined.rfind("\n", 0, found.start()) + 1, joined.find("\n", found.end())
            candidates.add(joined[start:end if end >= 0 else len(joined)])
    return {w for w in candidates if pattern.match(parsing.normalize_text(w))}


def _lone_rows_above(header: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rows holding one cell (a title, the clinic's name, an export time) just above a repeated
    header, blank rows between them allowed."""
    title = np.zeros(len(counts), bool)
    for position in np.flatnonzero(header):
        row = position - 1
        while row >= 0 and counts[row] <= 1 and not header[row]:
            title[row] = counts[row] == 1
            row -= 1
    return title


def _trailing_lone_rows(counts: np.ndarray) -> np.ndarray:
    """One-cell rows after the last row with two cells or more (a note or signature at the end)."""
    trailing = np.zeros(len(counts), bool)
    dense = np.flatnonzero(counts >= 2)
    if len(dense):
        trailing[dense[-1] + 1:] = counts[dense[-1] + 1:] == 1
    return trailing


def export_date(texts: list[str]) -> pd.Timestamp | None:
    """The export or print date an export's title or footer states (导出时间：2026-01-04 09:12)."""
    found = [m.group(1) for t in texts for m in [_EXPORT_TIME.search(parsing.normalize_text(t))] if m]
    if not found:
        return None
    dates, _ = parsing.parse_dates(pd.Series([re.sub(r"\s+", "", f) for f in found], dtype=object))
    dates = dates.dropna()
    return dates.max() if len(dates) else None

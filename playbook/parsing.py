"""Reading the cell values real Chinese exports contain: dates, amounts, flags, ids and statuses.

Each parser takes a raw column (strings from a CSV, or the typed cells of an Excel sheet) and returns
``(values, invalid)``: the parsed column, and a boolean mask of cells that hold something that is not
a valid value. Empty cells are missing (NA), not invalid. Parsers work on the distinct values of a
column only, because exports repeat dates and amounts heavily: this keeps a million-row charge table
fast.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable

import numpy as np
import pandas as pd

from . import privacy, schema

# Excel stores a date as days since 1899-12-30; serials in this window are 1954..2119.
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL_MIN, _SERIAL_MAX = 20000, 80000
_DATE_SEPARATORS = str.maketrans({"年": "-", "月": "-", "日": " ", "/": "-", "T": " ", "时": ":", "分": ":", "秒": " "})
_DOTTED_DATE = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})")  # 2024.1.5 (a dot after seconds is a fraction)
_TIME_ZONE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
# 下午 2:05 is 14:05: Chinese Excel writes a 12-hour clock with these words before the time.
_HALF_DAY = re.compile(r"(上午|早上|凌晨|中午|下午|晚上)\s*(\d{1,2})(?=:)")
_AFTERNOON = {"下午", "晚上"}
_CURRENCY = re.compile(r"[¥￥元,\s]|RMB|CNY", re.IGNORECASE)
_TEN_THOUSAND = "万"
_TRUE = {"是", "y", "yes", "true", "1", "√", "✓", "有", "指定"}
_FALSE = {"否", "n", "no", "false", "0", "×", "无", "不指定", "非指定"}
# An id Excel turned into a float (100001.0) or into scientific notation (1.38E+10, digits lost).
_FLOAT_ID = re.compile(r"^(\d+)\.0+$")
_SCIENTIFIC_ID = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def normalize_text(value: str) -> str:
    """NFKC folds full-width digits, letters and punctuation (２０２４／１／５ → 2024/1/5)."""
    if value.isascii():  # nothing to fold (most cells): skip the Unicode tables
        return value.strip()
    return unicodedata.normalize("NFKC", value).strip()


def distinct_map(raw: pd.Series, parse_block: Callable[[pd.Series], pd.Series]) -> tuple[pd.Series, pd.Series]:
    """Apply a parser to the distinct non-empty values of ``raw`` and spread the result back.

    Returns the parsed column and the mask of non-empty cells. Empty cells (NaN, None, or only white
    space) come back as missing.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    blank = np.fromiter((isinstance(u, str) and not u.strip() for u in uniques), bool, len(uniques))
    codes = np.where(np.append(blank, True)[codes], -1, codes)  # code -1 (NaN) picks the appended True
    parsed = parse_block(pd.Series(uniques, dtype=object)).reset_index(drop=True)
    # Code -1 picks the missing value appended at the end.
    padded = pd.concat([parsed, pd.Series([None], dtype=parsed.dtype)], ignore_index=True)
    out = padded.take(np.where(codes < 0, len(parsed), codes))
    out.index = raw.index
    return out, pd.Series(codes >= 0, index=raw.index)


def parse_dates(raw: pd.Series, time_zone: str = DEFAULT_TIME_ZONE) -> tuple[pd.Series, pd.Series]:
    """Dates and timestamps as exports write them, as the clinic's local time.

    Accepts Excel date cells, Excel serial numbers (45296), ``2024/1/5``, ``2024-01-05 14:00``,
    ``2024年1月5日 14时30分``, ``2024/1/5 下午 2:30``, ``2024.1.5``, ``20240105``, full-width digits, and
    ISO timestamps with an offset (``2024-01-05T14:00:00+08:00``), which are converted to ``time_zone``.
    """
    def block(values: pd.Series) -> pd.Series:
        out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
        is_stamp = values.map(lambda v: isinstance(v, (dt.date, pd.Timestamp)))
        if is_stamp.any():
            out[is_stamp] = pd.to_datetime(values[is_stamp].map(pd.Timestamp)).astype("datetime64[us]")
        rest = values[~is_stamp]
        if rest.empty:
            return out
        text = rest.map(lambda v: normalize_text(str(v)))
        number = pd.to_numeric(text, errors="coerce")
        serial = number.between(_SERIAL_MIN, _SERIAL_MAX)
        out[serial.index[serial]] = (_EXCEL_EPOCH + pd.to_timedelta(number[serial], unit="D")).astype(
            "datetime64[us]").dt.round("s")
        digits = text[number.notna() & ~serial]
        for width, form in ((8, "%Y%m%d"), (6, "%Y%m")):  # 20240105, 202401 (a month)
            compact = digits[digits.str.fullmatch(rf"\d{{{width}}}")]
            out[compact.index] = pd.to_datetime(compact, format=form, errors="coerce")
        text = text[number.isna() | text.str.fullmatch(r"\d{4}")]  # a year (1899) is its Jan 1; other numbers are not dates
        joined = "".join(text.to_numpy(dtype=object))
        zoned = text.str.contains(_TIME_ZONE) if "+" in joined or "Z" in joined or "T" in joined else text.isna()
        if zoned.any():
            local = pd.to_datetime(text[zoned].str.replace(" ", "T", n=1), format="ISO8601", errors="coerce", utc=True)
            out[local.index] = local.dt.tz_convert(time_zone).dt.tz_localize(None).astype("datetime64[us]")
            text = text[~zoned]
        # Most exports write ISO dates: parsed at once; only the rest is rewritten first.
        iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
        out[iso.index] = iso.astype("datetime64[us]")
        rest = text[iso.isna()]
        if not rest.empty:
            rest = rest.str.replace(_DOTTED_DATE, r"\1-\2-\3", regex=True).str.replace(_HALF_DAY, _24_hour, regex=True)
            rest = rest.str.translate(_DATE_SEPARATORS).str.replace(r"\s+", " ", regex=True).str.strip(" :")
            out[rest.index] = pd.to_datetime(rest, format="ISO8601", errors="coerce").astype("datetime64[us]")
        return out

    parsed, present = distinct_map(raw, block)
    parsed = pd.to_datetime(parsed).astype("datetime64[us]")
    return parsed, parsed.isna() & present


def _24_hour(match: re.Match) -> str:
    word, hour = match.group(1), int(match.group(2))
    if word in _AFTERNOON or (word == "中午" and hour < 11):
        hour = hour % 12 + 12
    elif word != "中午":
        hour %= 12
    return f"{hour:02d}"


def parse_amounts(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money as exports write it: ``¥1,234.50``, ``１２３４``, ``-80``, ``(80.00)`` for a refund, ``1234元``,
    ``1,234.5 元``, ``1.2万``."""
    def block(values: pd.Series) -> pd.Series:
        text = values.map(lambda v: _CURRENCY.sub("", normalize_text(str(v))))
        negative = text.str.fullmatch(r"\(.*\)")
        text = text.str.strip("()")
        wan = text.str.endswith(_TEN_THOUSAND)
        number = pd.to_numeric(text.str.removesuffix(_TEN_THOUSAND), errors="coerce")
        number = number.where(~wan, number * 10_000)
        return number.where(~negative, -number).astype(float)

    parsed, present = distinct_map(raw, block)
    parsed = parsed.astype(float)
    return parsed, parsed.isna() & present


def parse_ints(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    number, invalid = parse_amounts(raw)
    fractional = number.notna() & (number != number.round())
    return number.where(~fractional).round().astype("Int64"), invalid | fractional


def parse_flags(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no columns: 是/否, Y/N, 1/0, √/×."""
    def one(v) -> object:
        text = normalize_text(str(v)).lower()
        if text.endswith(".0"):
            text = text[:-2]
        return True if text in _TRUE else False if text in _FALSE else None

    parsed, present = distinct_map(raw, lambda values: values.map(one).astype("boolean"))
    parsed = parsed.astype("boolean")
    return parsed, parsed.isna() & present


def parse_ids(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids as text, one spelling per id: an Excel number cell 10023.0, or ``10023.0`` written out by a
    spreadsheet, is ``10023`` so it joins with the other table's ``10023``. An id in scientific
    notation (``1.38E+10``) lost its digits in Excel and is invalid."""
    def one(v) -> str | None:
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        text = normalize_text(str(v))
        if "." not in text:  # most ids: nothing to undo
            return text
        whole = _FLOAT_ID.match(text)
        if whole:
            return whole.group(1)
        return None if _SCIENTIFIC_ID.match(text) else text

    parsed, present = distinct_map(raw, lambda values: values.map(one).astype("str"))
    parsed = parsed.astype("str")
    return parsed, parsed.isna() & present


def parse_text(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text as written; a mobile number inside it is masked (138****5678), wherever it stands."""
    parsed, _ = distinct_map(raw, lambda values: values.map(lambda v: privacy.redact(normalize_text(str(v)))).astype("str"))
    return parsed.astype("str"), pd.Series(False, index=raw.index)


def parse_status(raw: pd.Series, values: dict[str, str]) -> tuple[pd.Series, pd.Series]:
    """Map a status column's words (已到诊, 爽约, 已取消 …) to canonical values; others are invalid."""
    lookup = {normalize_text(k).lower(): v for k, v in values.items()}
    parsed, present = distinct_map(
        raw, lambda vs: vs.map(lambda v: lookup.get(normalize_text(str(v)).lower())).astype("str"))
    parsed = parsed.astype("str")
    return parsed, parsed.isna() & present


PARSERS: dict[str, Callable[[pd.Series], tuple[pd.Series, pd.Series]]] = {
    schema.ID: parse_ids,
    schema.TEXT: parse_text,
    schema.DATE: parse_dates,
    schema.AMOUNT: parse_amounts,
    schema.INT: parse_ints,
    schema.FLAG: parse_flags,
    schema.SCORE: parse_amounts,  # a number; io applies a header's unit to amounts only
}

# kind -> (what the values should be, in English and Chinese; how to fix them)
EXPECTED = {
    schema.DATE: ("dates", "日期", "write dates like 2024-01-05, 2024/1/5, 2024年1月5日 or 2024-01-05 14:00"),
    schema.AMOUNT: ("amounts", "金额", "write amounts as numbers such as 1234.50 or ¥1,234.50"),
    schema.INT: ("whole numbers", "整数", "write whole numbers such as 1985"),
    schema.SCORE: ("scores", "评分", "write the score as a number such as 9 (0-10) or 4.5 (stars)"),
    schema.ID: ("ids", "编号", "Excel showed the ids in scientific notation (1.38E+10) and dropped digits: format the "
                              "column as text in Excel (or export the table again as CSV from the clinic system)"),
    schema.FLAG: ("yes/no values", "是/否", "write 是 or 否"),
    schema.STATUS: ("known values", "可识别的状态", "use one of the values listed, or map yours in clinic.yaml under values:"),
}

"""Personal data: patients' names and phone numbers are masked the moment they are read.

Masking at load time, not at display time, means no chapter, table, workbook or JSON can leak them:
the unmasked values never leave `playbook.io`. The masks keep what a front desk needs to recognise a
patient on a call list (surname, the last four digits) and nothing more.

A mobile number is personal data wherever it stands: in a channel's name, in an error message, or as
the patient id itself (clinics that key patients by phone). `redact` masks one inside any text;
`pseudonyms` gives phone-like ids a masked form that stays unique, so tables still join on it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: errors.py imports this module and stays light
    import pandas as pd

_DIGITS = re.compile(r"\D")
# A mainland mobile number: 11 digits from 13x to 19x, maybe +86 before it, maybe spaced 3-4-4.
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
_MASKED = re.compile(r"^\s*\d{3}\*{4}\d{4}\s*$")
_MOBILE_ONLY = re.compile(r"^\s*" + MOBILE.pattern + r"\s*$")


def mask_name(name: str) -> str:
    """张三丰 → 张**; a one-character name is hidden entirely."""
    name = name.strip()
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; anything shorter keeps only its last two digits. Idempotent."""
    if _MASKED.match(phone):
        return phone.strip()
    digits = _DIGITS.sub("", phone)
    if len(digits) >= 11:
        digits = digits[-11:]  # +86 dropped
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_column(values: pd.Series, kind: str) -> pd.Series:
    mask = mask_name if kind == "name" else mask_phone
    return values.map(lambda v: mask(str(v)), na_action="ignore").astype("str")


def redact(text: str) -> str:
    """Every mobile-looking number in ``text`` masked: '回访13812345678' → '回访138****5678'."""
    if len(text) < 11:  # too short to hold one (most cells: a doctor, a channel, an item)
        return text
    return MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def looks_like_mobile(values: pd.Series) -> pd.Series:
    """Which values are a mobile number and nothing else (an id a clinic took from the phone)."""
    return values.astype("str").str.match(_MOBILE_ONLY).fillna(False).astype(bool)


def pseudonyms(ids: Iterable[str]) -> dict[str, str]:
    """Phone-like ids → their masked form, unique: two ids masking alike get ``-2``, ``-3`` in the order
    of the ids, so every table maps the same id to the same pseudonym and joins still hold."""
    mapping: dict[str, str] = {}
    taken: dict[str, int] = {}
    for value in sorted(set(ids)):
        masked = mask_phone(value)
        taken[masked] = taken.get(masked, 0) + 1
        mapping[value] = masked if taken[masked] == 1 else f"{masked}-{taken[masked]}"
    return mapping

"""Personal data: patients' names and phone numbers are masked the moment they are read.

Masking at load time, not at display time, means no chapter, table, workbook or JSON can leak them:
the unmasked values never leave `playbook.io`. The masks keep what a front desk needs to recognise a
patient on a call list (surname, the last four digits) and nothing more.
"""
from __future__ import annotations

import re

import pandas as pd

_DIGITS = re.compile(r"\D")


def mask_name(name: str) -> str:
    """张三丰 → 张**; a one-character name is hidden entirely."""
    name = name.strip()
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; anything shorter keeps only its last two digits."""
    digits = _DIGITS.sub("", phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_column(values: pd.Series, kind: str) -> pd.Series:
    mask = mask_name if kind == "name" else mask_phone
    return values.map(lambda v: mask(str(v)), na_action="ignore").astype("str")

"""Values as kpis.json and the sentences take them: strict JSON, never NaN, Infinity, "nan" or numpy.

kpis.json is read by other tools (the portfolio, a chain's dashboards): it is strict JSON (RFC 8259),
so a missing or undefined number is ``null``, never ``NaN``, and a missing label is ``null``, never
the text "nan". Every analysis's ``metrics()`` builds its values with `scalar`; `clean` makes a whole
payload safe (what `playbook.chapter.publish` sends and the runner writes).
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

DIGITS = 6  # kpis.json rounds its floats to 6 places: a rate to 0.0001%, an amount to a millionth of a yuan


def missing(value) -> bool:
    """None, NA, NaT, NaN or an infinity: a value kpis.json writes as null and a sentence as "no data"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and not math.isfinite(value)


def number(value) -> float | None:
    """A finite float, or None for a missing value: what the i18n formatters and sentences expect."""
    return None if missing(value) else float(value)


def scalar(value, digits: int | None = DIGITS):
    """A JSON-safe scalar: bool, int, a float rounded to ``digits`` places (None: as it is), str, an ISO
    date, or None."""
    if missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if digits is None else round(float(value), digits)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def clean(payload):
    """A payload with every value made `scalar` (floats as they are), nested dicts and lists included;
    keys as strings."""
    if isinstance(payload, dict):
        return {str(key): clean(value) for key, value in payload.items()}
    if isinstance(payload, (list, tuple)):
        return [clean(value) for value in payload]
    return scalar(payload, None)

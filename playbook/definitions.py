"""The headline KPIs' definitions in words, as the report's appendix prints them.

These are the contract of method.md ("The definitions the playbook computes"): every engagement and
every clinic uses the same ones, so numbers compare. The text is the metric registry's
(`playbook.metrics`), the same entries that compute the numbers; this table says what was computed,
in the owner's language.
"""
from __future__ import annotations

import pandas as pd

from . import i18n
from .metrics import HEADLINE, METRICS

def definitions_table(lang: str = "zh") -> pd.DataFrame:
    """The appendix table: each headline KPI, its name in kpis.json, and how it is computed."""
    metrics = [METRICS[name] for name in HEADLINE]
    return pd.DataFrame({
        i18n.pick(lang, "指标", "KPI"): [m.label(lang) for m in metrics],
        i18n.pick(lang, "定义", "Definition"): [m.definition(lang) for m in metrics],
    })

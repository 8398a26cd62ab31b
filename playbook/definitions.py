"""The headline KPIs' definitions in words, as the report's appendix prints them.

These are the contract of method.md ("The definitions the playbook computes"): every engagement and
every clinic uses the same ones, so numbers compare. `playbook.kpis` computes them; this table says
what was computed, in the owner's language.
"""
from __future__ import annotations

import pandas as pd

from . import i18n

# kpis.json name -> (中文名, English name, 中文定义, English definition)
DEFINITIONS = {
    "revenue": ("实收", "Revenue",
                "期间内收费日期落在期间里的实收金额之和，退费（负数）计入。",
                "Sum of the amounts paid on charges dated in the period, refunds (negative amounts) included."),
    "new_patients": ("新患者", "New patients",
                     "首次到诊日落在期间内的患者；首次到诊按全部数据中最早的一次到诊计，不只看期间内。",
                     "Patients whose first arrived visit in all the data falls in the period."),
    "arrived_visits": ("到诊人次", "Arrived visits",
                       "期间内预约且状态为已到诊的就诊次数。",
                       "Visits scheduled in the period whose status is arrived."),
    "no_show_rate": ("爽约率", "No-show rate",
                     "期间内预约的爽约次数 ÷（到诊 + 爽约）；取消的预约不计入。",
                     "No-shows / (arrivals + no-shows) among visits scheduled in the period; cancellations are left out."),
    "first_visit_conversion": ("初诊成交率", "First-visit conversion",
                               "新患者中，首次到诊当天起30天内（含）为利润类或高值类项目付费（金额大于0）的比例 [S2]。",
                               "Share of new patients who paid for a profit or high-value item within 30 days of their "
                               "first arrival, both days included [S2]."),
    "referral_share": ("转介绍占比", "Referral share",
                       "新患者中来源渠道为转介绍（老带新）的比例 [S3]。",
                       "Share of new patients whose source channel is referral [S3]."),
    "return_within_12m": ("12个月复诊率", "Return within 12 months",
                          "首次到诊在期间开始至期间结束前365天之间的患者中，365天内另有一天到诊的比例；"
                          "没有这样的患者时不计算。",
                          "Of the patients first seen between the period's start and 365 days before its end, the "
                          "share with another arrived visit on a later day within 365 days; absent when there are none."),
}


def definitions_table(lang: str = "zh") -> pd.DataFrame:
    """The appendix table: each headline KPI, its name in kpis.json, and how it is computed."""
    zh = lang == "zh"
    return pd.DataFrame({
        i18n.pick(lang, "指标", "KPI"): [d[0] if zh else d[1] for d in DEFINITIONS.values()],
        i18n.pick(lang, "定义", "Definition"): [d[2] if zh else d[3] for d in DEFINITIONS.values()],
    })

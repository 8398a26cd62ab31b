"""Findings in words: one renderer per language, one template per kind of finding.

A finding (`playbook.results.Finding`) is data: a metric, its segment, window, value, reference, the
line it crossed, its revenue at stake and how that was computed. This module is the only place that
turns it into a sentence, as Great Expectations renders a validation result (one renderer per
expectation type) and as `kpis._FINDING` writes the headline sentence (one template table per
language). Nothing parses a sentence back: every reader that needs a number takes it from the finding.

Each kind has two parts per language: the *fact* (what the numbers say) and the *advice* (what to
do). The forms a reader asks for:

``full``   fact, then advice: the chapter's sentence and the ranking's table;
``short``  the fact alone: the executive summary (its plan table carries the actions) and the
           prescriptions' "why".

Templates are Jinja2 (already a dependency of nbconvert), with filters that format in the owner's
conventions (`playbook.i18n`): ``rate`` 24.4%, ``pct`` a line as its source writes it (80%, 7.5%),
``pct_range`` 5–7%, ``points`` 3 (percentage points), ``money``, ``count``, ``day``, ``week``,
``window``, ``months``, ``term`` (a channel, driver, tier … in the report's language), ``fixed(n)``,
``g``. A template names the finding's fields (``value``,
``reference``, ``line``, ``stake``, ``segment`` already in words, ``window``, ``reference_window``)
and its ``facts``.
"""
from __future__ import annotations

from functools import cache
import jinja2

from . import i18n

FORMS = ("full", "short")
# Between the fact and the advice, and at the end of a sentence.
_SEP = {"zh": "：", "en": ": "}
_END = {"zh": "。", "en": "."}


# ---------------------------------------------------------------------------------------------------
# The templates: kind -> (fact, advice). Advice None: the fact says it all (a symptom of the driver tree).

def _referral(lang: str) -> tuple[str, str]:
    if lang == "zh":
        return ("{{ window|window }}新患者的转介绍占比{{ value|rate }}{% if dropped_to is not none %}，{{ recent_window|window }}"
                "降到{{ dropped_to|rate }}{% endif %}，{% if acting %}已低于{{ act_line|pct }}的行动线{% else %}低于"
                "{{ healthy_line|pct }}的健康线{% endif %}",
                "口碑在走弱，请医生与客服一起复盘服务体验，加强医生各项指标的学习，并设立老带新奖励")
    return ("The referral share of new patients was {{ value|rate }} in {{ window|window }}{% if dropped_to is not none %}, "
            "down to {{ dropped_to|rate }} in {{ recent_window|window }}{% endif %}, {% if acting %}now under the "
            "{{ act_line|pct }} action line{% else %}under the {{ healthy_line|pct }} healthy line{% endif %}",
            "word of mouth is weakening; review the patient experience with doctors and front desk, train the doctors "
            "on their indicators, and reward patients who bring others")


_DRIVER_EFFECT = {
    "zh": "{{ window|window }}比{{ reference_window|window }}，{{ driver|term }}下降让营收少了{{ loss|money }}"
          "（{{ reference_window|window }}营收的{{ (-value)|rate }}）{% if segment %}，主要在{{ segment }}{% endif %}",
    "en": "From {{ reference_window|window }} to {{ window|window }} the fall in {{ driver|driver }} cost {{ loss|money }} "
          "({{ (-value)|rate }} of the earlier revenue){% if segment %}, mostly in {{ segment }}{% endif %}",
}
# What to do first about a driver that cost revenue (the driver tree's own sentence says it too).
DRIVER_ADVICE = {
    "zh": {"arrivals": "查看各渠道的新患者和爽约，先把到诊人数拉回来",
           "conversion": "与医生和咨询师逐例复盘初诊，并检查渠道引来的是否是目标客户",
           "ticket": "检查项目结构和折扣，看高值项目是否变少、优惠是否过多",
           "frequency": "查看复诊和治疗计划完成情况，看患者是否按计划回来"},
    "en": {"arrivals": "look at new patients and no-shows by channel to bring arrivals back",
           "conversion": "review first visits case by case with the doctors and treatment coordinators, and check whether the "
                         "channels bring the right patients",
           "ticket": "check the treatment mix and discounts for fewer high-value cases or too many promotions",
           "frequency": "check returns and plan completion to see whether patients come back as planned"},
}
_COST_HIGH = {
    "zh": ("{{ segment }}占实收{{ value|rate }}，高于{{ low|pct_range(high) }}的合理范围", "回到范围上限每年可多留利润约{{ estimate|money }}；"),
    "en": ("{{ segment|capitalize }} run at {{ value|rate }} of revenue, above the {{ low|pct_range(high) }} range",
           "back at its top the clinic would keep about {{ estimate|money }} a year; "),
}
_COST_ADVICE = {
    "zh": {"consumables": "先核对耗材的领用登记和采购单价，按项目设定耗材标准用量",
           "lab": "比较加工厂报价，统计返工单",
           "inventory": "清理积压库存，设安全库存线按需采购（如种植体低于50颗再采购）"},
    "en": {"consumables": "check consumables issued against the treatments done and the purchase prices; set a "
                          "standard use per item",
           "lab": "compare lab quotes and count remakes",
           "inventory": "clear slow stock and buy to a safety-stock line (e.g. reorder implants below 50)"},
}

# [S4]'s scorecard and pay structure for a treatment coordinator, the advice of a coordinator's findings.
_CONSULTANT_CARD = {
    "zh": "按[S4]的考核表每周考核咨询师：接诊患者的成交率、离开前是否约好下次复诊、治疗计划的完成与中断、推荐，最后才是业绩；"
          "薪酬改为高底薪（含40–50%的目标绩效）加较低的成交提成",
    "en": "score coordinators weekly on [S4]'s card: conversion of the patients received, the next visit booked before "
          "they leave, plans completed and interrupted, referrals, and only then revenue; pay a high base with 40–50% "
          "tied to these targets plus a lower commission per deal",
}

ZH: dict[str, tuple[str, str | None]] = {
    # cohorts.py
    "return_within_12m_change": (
        "{{ window|window }}首诊的患者12个月复诊率{{ recent|rate }}，比{{ reference_window|window }}首诊的"
        "{{ reference|rate }}低{{ (-value)|rate }}",
        "检查首诊后是否当场预约下次复诊，并由客服按期回访"),
    "churn_rate": (
        "{{ window|window }}每月流失率{{ value|rate }}，高于{{ line|pct }}的可约回线",
        "先逐一追踪流失原因（服务、态度、价格），再由医生和客服按逾期名单回访约回"),
    "overdue_share_by_doctor": (
        "{{ segment }}{% if departed %}（该医生近期已无接诊）{% endif %}的{{ patients|count }}位老患者中{{ share|rate }}已逾期未复诊，"
        "是其他医生患者（{{ reference|rate }}）的{{ value|fixed(1) }}倍",
        "{% if departed %}请科室其他医生逐一致电，接手复诊{% else %}请与该医生复盘复诊预约与沟通，并由客服按名单回访{% endif %}"),
    "referral_share": _referral("zh"),
    "referral_share_recent": _referral("zh"),
    "child_family_ratio": (
        "{{ window|window }}的{{ children|count }}位儿童患者只带来{{ family|count }}位家人就诊（{{ value|fixed(2) }}:1），低于约{{ line|g }}:1的常态",
        "在孩子复诊时为陪同的家长提供口腔检查，设家庭会员卡"),
    # doctors.py
    "doctor_weeks_inactive": (
        "{{ segment }}{% if designation is not none %}（指定率{{ designation|rate }}，超过{{ designation_line|pct }}的"
        "关键人风险线，风险已经发生）{% endif %}在{{ last_day|day }}之后不再出诊，离开前一年（{{ before_leaving|window }}）"
        "带来实收{{ estimate|money }}",
        "尽快安排医生接手其患者并逐一回访"),
    "designation_rate": (
        "{{ segment }}指定率{{ value|rate }}，超过{{ line|pct }}的关键人风险线，每年约{{ estimate|money }}指定收入随其去留",
        "为其配搭档医生或发展为合伙人"),
    "doctor_load_per_day": (
        "{{ segment }}每个出诊日平均接诊{{ value|fixed(1) }}人，超过上限{{ line|g }}人",
        "分流给其他医生，避免质量和候诊时间受影响"),
    "chief_surgeries_per_day": (
        "主任{{ segment }}每个出诊日平均手术{{ value|fixed(1) }}台，超过{{ line|g }}台的上限",
        "把部分手术交给其他医生"),
    "doctor_first_visit_conversion": (
        "{{ segment }}接诊的{{ new_patients|count }}位新患者初诊成交率{{ value|rate }}，低于{{ line|pct }}的复盘线",
        "与医生逐例复盘初诊沟通{% if hint_channel is not none %}；未成交的新患者{{ hint_share|rate }}来自"
        "{{ hint_channel|term }}，先看这个渠道引来的人是否对口{% endif %}"),
    "plan_completion": (
        "{{ segment }}已结束的{{ ended|count }}个治疗计划中只完成{{ value|rate }}（{{ interrupted|count }}个中断），低于{{ line|pct }}的复核线",
        "请医疗总监与院长复核其治疗计划，并回访中断的患者"),
    "no_show_rate_slot": (
        "{{ window|window }}{{ segment }}（{{ first_hour }}–{{ last_hour }}点）的预约爽约率{{ value|rate }}，超过{{ line|pct }}的警戒线",
        "{% if school_hours %}若多为儿童患者，这正是上课时间，尽量改约到放学后或周末；{% endif %}这个时段的预约提前一天确认"),
    "no_show_rate_channel": (
        "{{ segment }}患者{% if months %}{{ window|window }}{% else %}分析期内{% endif %}爽约率{{ value|rate }}"
        "{% if outside_slots %}（不含高爽约时段）{% endif %}{% if reference is not none %}（{{ reference_window|window }}为"
        "{{ reference|rate }}）{% endif %}，超过{{ line|pct }}的警戒线",
        "对该渠道的预约在到诊前一天电话确认，并考虑收取预约定金"),
    # drivers.py (symptoms: where revenue moved)
    "revenue_change": (
        "{{ window|window }}营收比{{ reference_window|window }}下降{{ (-value)|rate }}，超过{{ (-line)|rate }}的警戒线；"
        "四个驱动因素中{{ driver|term }}减少最多（少收{{ driver_loss|money }}）", None),
    **{f"{driver}_effect": (_DRIVER_EFFECT["zh"], advice) for driver, advice in DRIVER_ADVICE["zh"].items()},
    # funnel.py
    "channel_conversion_volume": (
        "{{ segment }}渠道{{ window|window }}初诊成交率{{ value|rate }}，低于{{ line|pct }}的复盘线，而新患者从每月"
        "{{ per_month_before|fixed(0) }}人增至{{ per_month_recent|fixed(0) }}人",
        "这个渠道引来的多是不打算治疗的人，先调整它的活动和引流项目，再与医生复盘初诊"),
    "channel_conversion": (
        "{{ segment }}渠道{{ window|window }}初诊成交率{{ value|rate }}，低于{{ line|pct }}的复盘线",
        "与医生和咨询师逐例复盘这个渠道的初诊"),
    "roi_weekly_latest": (
        "{{ segment }}的投放回报自{{ first_week|week }}起连续{{ weeks }}周低于{{ line|g }}的止损线，"
        "到最近可评估的{{ last_week|week }}为{{ value|fixed(2) }}",
        "按止损规则暂停或缩减这个渠道的投放{% if running %}（正在进行：{{ running|join('、') }}）{% endif %}，"
        "把预算转到回报高的渠道"),
    "arrival_rate_fall": (
        "{{ segment }}{{ window|window }}线索到店率{{ recent|rate }}，{{ reference_window|window }}为{{ reference|rate }}，"
        "下降{{ (value * 100)|fixed(1) }}个百分点",
        "检查这个渠道的预约提醒与到店路线说明，以比{{ window|window }}提升{{ step|points }}个百分点为目标"),
    # costs.py
    **{f"{key}_share_high": (_COST_HIGH["zh"][0], _COST_HIGH["zh"][1] + advice)
       for key, advice in _COST_ADVICE["zh"].items()},
    "cost_share_low": ("{{ segment }}占实收{{ value|rate }}，低于{{ low|pct_range(high) }}的合理范围{% if segment_key == 'inventory' %}"
                       "（新店库存偏低属正常）{% endif %}", "先核对这类成本是否都已入账"),
    # coordinators.py, reappointment.py [S4]
    "consultant_conversion": (
        "{{ window|window }}{{ segment }}接待的{{ new_patients|count }}位新患者初诊成交率{{ conversion|rate }}，比其他咨询师"
        "（{{ reference|rate }}）低{{ (value * 100)|fixed(1) }}个百分点{% if cherry_picking %}；差距都在基础主诉的患者"
        "（{{ basic_own|rate }}，其他咨询师{{ basic_others|rate }}），高值主诉与他人相当{% if high_own is not none %}"
        "（{{ high_own|rate }}）{% endif %}，正是只接种植、正畸、修复患者的“挑单”{% endif %}",
        _CONSULTANT_CARD["zh"]),
    "consultant_reappointment": (
        "{{ window|window }}{{ segment }}接待的{{ visits|count }}人次到诊中只有{{ rate|rate }}{% if exact %}离开前约好了下次就诊"
        "{% else %}在复诊间隔内有下次预约{% endif %}，比其他咨询师（{{ reference|rate }}）低{{ (value * 100)|fixed(1) }}个百分点",
        "每位患者离开前由咨询师约好下次就诊，并把“预约下次复诊”列入咨询师的考核"),
    # chairs.py, waits.py [S0][S1]
    "chair_vacancy_prime": (
        "{{ window|window }}{% if segment %}{{ segment }}的{% else %}全院{% endif %}黄金时段（{{ prime.describe('zh') }}）"
        "椅位空置{{ value|rate }}，超过{{ line|pct }}的上限{% if reference is not none %}（{{ reference_window|window }}为"
        "{{ reference|rate }}）{% endif %}",
        "把复诊和高值项目优先排进黄金时段，其余时间用于引流患者；持续空置的话，减少这个时段开放的椅位"),
    "wait_minutes": (
        "{{ window|window }}{{ segment }}的患者平均候诊{{ value|fixed(0) }}分钟，超过{{ line|g }}分钟{% if reference is not none %}"
        "（{{ reference_window|window }}为{{ reference|fixed(0) }}分钟）{% endif %}",
        "{% if by_doctor %}减少该医生每个时段的预约数或为其加配助手{% else %}这个时段错开预约、增加出诊医生，并提醒患者按时到{% endif %}"),
    # satisfaction.py [S1]
    "nps_fall": (
        "{% if segment %}{{ segment }}的{% else %}全院{% endif %}净推荐值从{{ reference_window|window }}的{{ reference|fixed(0) }}"
        "降到{{ window|window }}的{{ nps|fixed(0) }}（{{ responses|count }}份答卷，{{ detractors|rate }}给了0–6分），"
        "下降{{ value|fixed(0) }}分，超过{{ line|g }}分",
        "逐一回访给低分的患者了解原因，由医疗总监与{% if segment %}该医生{% else %}各科室{% endif %}复盘沟通与服务"),
    "review_stars": (
        "{{ window|window }}{% if segment %}{{ segment }}上的{% endif %}在线评价平均{{ value|fixed(1) }}星（{{ reviews|count }}条），"
        "低于{{ line|g }}星{% if reference is not none %}（{{ reference_window|window }}为{{ reference|fixed(1) }}星）{% endif %}",
        "逐条回复差评并回访，先解决差评里说得最多的问题，再邀请满意的患者评价"),
}

EN: dict[str, tuple[str, str | None]] = {
    "return_within_12m_change": (
        "The 12-month return of patients first seen in {{ window|window }} was {{ recent|rate }}, "
        "{{ (-value)|rate }} below the {{ reference|rate }} of those first seen in {{ reference_window|window }}",
        "check that every first visit books the next one and that the front desk calls on time"),
    "churn_rate": (
        "Monthly churn in {{ window|window }} was {{ value|rate }}, above the {{ line|pct }} recoverable line",
        "trace why they left (service, manner, price), then have doctors and the front desk call the overdue list"),
    "overdue_share_by_doctor": (
        "{{ share|rate }} of {{ segment }}'s {{ patients|count }} established patients are overdue{% if departed %} (no visits "
        "lately){% endif %}, {{ value|fixed(1) }} times the others' {{ reference|rate }}",
        "{% if departed %}have a colleague call each of them and take over their care{% else %}review how this doctor "
        "books and follows up returns, and have the front desk call the list{% endif %}"),
    "referral_share": _referral("en"),
    "referral_share_recent": _referral("en"),
    "child_family_ratio": (
        "In {{ window|window }}, {{ children|count }} child patients brought only {{ family|count }} family members ({{ value|fixed(2) }}:1), "
        "below the usual {{ line|g }}:1",
        "offer accompanying parents a check-up at the child's visits and a family membership"),
    "doctor_weeks_inactive": (
        "{{ segment }}{% if designation is not none %} (designation rate {{ designation|rate }}, above the "
        "{{ designation_line|pct }} key-person line: the risk has materialised){% endif %} has not worked since "
        "{{ last_day|day }} and brought revenue of {{ estimate|money }} in the year before leaving "
        "({{ before_leaving|window }})",
        "have another doctor take over the patients and call each of them"),
    "designation_rate": (
        "{{ segment }}'s designation rate is {{ value|rate }}, above the {{ line|pct }} key-person line; about "
        "{{ estimate|money }} a year of designated revenue depends on them",
        "partner them with a second doctor or make them a partner"),
    "doctor_load_per_day": (
        "{{ segment }} sees {{ value|fixed(1) }} patients per working day, above the capacity of {{ line|g }}",
        "shift patients to other doctors before quality and waiting times suffer"),
    "chief_surgeries_per_day": (
        "Chief doctor {{ segment }} performs {{ value|fixed(1) }} surgeries per working day, above the {{ line|g }} limit",
        "hand some surgeries to other doctors"),
    "doctor_first_visit_conversion": (
        "{{ segment }} converted {{ value|rate }} of {{ new_patients|count }} new patients, under the {{ line|pct }} review line",
        "review the first visits case by case with the doctor{% if hint_channel is not none %}; {{ hint_share|rate }} of "
        "the unconverted came from {{ hint_channel|term }}: check that channel brings the right patients{% endif %}"),
    "plan_completion": (
        "{{ segment }} completed only {{ value|rate }} of {{ ended|count }} ended plans ({{ interrupted|count }} interrupted), under "
        "the {{ line|pct }} review line",
        "have the medical director review their plans and call the interrupted patients"),
    "no_show_rate_slot": (
        "In {{ window|window }}, bookings on {{ segment }} ({{ first_hour }}:00–{{ last_hour }}:00) were missed "
        "{{ value|rate }} of the time, above the {{ line|pct }} alert line",
        "{% if school_hours %}if the patients are mostly children these are school hours, so book them after school or "
        "at weekends; {% endif %}confirm these bookings the day before"),
    "no_show_rate_channel": (
        "{{ segment }} patients' no-show rate was {{ value|rate }} {% if months %}in {{ window|window }}"
        "{% else %}in the period{% endif %}{% if outside_slots %} outside the high no-show slots{% endif %}"
        "{% if reference is not none %} ({{ reference_window|window }}: {{ reference|rate }}){% endif %}, above the "
        "{{ line|pct }} alert line",
        "confirm their bookings by phone the day before and consider a deposit"),
    "revenue_change": (
        "Revenue in {{ window|window }} fell {{ (-value)|rate }} against {{ reference_window|window }}, past the "
        "{{ (-line)|rate }} alert line; of the four drivers, the fall in {{ driver|driver }} cost the most ({{ driver_loss|money }})",
        None),
    **{f"{driver}_effect": (_DRIVER_EFFECT["en"], advice) for driver, advice in DRIVER_ADVICE["en"].items()},
    "channel_conversion_volume": (
        "{{ segment }}'s first-visit conversion was {{ value|rate }} in {{ window|window }}, under the {{ line|pct }} "
        "review line, while its new patients rose from {{ per_month_before|fixed(0) }} to {{ per_month_recent|fixed(0) }} "
        "a month",
        "it brings people who do not mean to be treated; change its offer first, then review first visits with the "
        "doctors"),
    "channel_conversion": (
        "{{ segment }}'s first-visit conversion was {{ value|rate }} in {{ window|window }}, under the {{ line|pct }} "
        "review line",
        "review its first visits case by case with the doctors and treatment coordinators"),
    "roi_weekly_latest": (
        "{{ segment }}'s ROI has been under the {{ line|g }} stop-loss line for {{ weeks }} weeks in a row since "
        "{{ first_week|week }}, {{ value|fixed(2) }} in {{ last_week|week }}, the latest that can be judged",
        "stop or cut its spend{% if running %} (running: {{ running|join(', ') }}){% endif %} and move the budget to "
        "channels that return more"),
    "arrival_rate_fall": (
        "{{ segment }}'s lead arrival rate was {{ recent|rate }} in {{ window|window }} against {{ reference|rate }} in "
        "{{ reference_window|window }}, {{ (value * 100)|fixed(1) }} points down",
        "check its booking reminders and directions, aiming for {{ step|points }} points above {{ window|window }}"),
    **{f"{key}_share_high": (_COST_HIGH["en"][0], _COST_HIGH["en"][1] + advice)
       for key, advice in _COST_ADVICE["en"].items()},
    "cost_share_low": ("{{ segment|capitalize }} run at {{ value|rate }} of revenue, below the {{ low|pct_range(high) }} range"
                       "{% if segment_key == 'inventory' %} (a new clinic holds less stock){% endif %}",
                       "check that all of it is recorded"),
    "consultant_conversion": (
        "In {{ window|window }} {{ segment }} converted {{ conversion|rate }} of {{ new_patients|count }} new patients, "
        "{{ (value * 100)|fixed(1) }} points below the other coordinators' {{ reference|rate }}{% if cherry_picking %}; the "
        "gap is all in basic complaints ({{ basic_own|rate }} against {{ basic_others|rate }}) while high-value ones convert "
        "as for the others{% if high_own is not none %} ({{ high_own|rate }}){% endif %}: the case-picking of a coordinator "
        "who takes only implant, orthodontic and prosthetic patients{% endif %}",
        _CONSULTANT_CARD["en"]),
    "consultant_reappointment": (
        "In {{ window|window }} only {{ rate|rate }} of {{ segment }}'s {{ visits|count }} visits {% if exact %}left with the "
        "next visit booked{% else %}had a later booking within the recall interval{% endif %}, {{ (value * 100)|fixed(1) }} "
        "points below the other coordinators' {{ reference|rate }}",
        "have the coordinator book every patient's next visit before they leave, and score it on the coordinator's card"),
    "chair_vacancy_prime": (
        "In {{ window|window }} {% if segment %}{{ segment }}'s{% else %}the clinic's{% endif %} prime-hour chairs "
        "({{ prime.describe('en') }}) stood empty {{ value|rate }} of the time, above the {{ line|pct }} line"
        "{% if reference is not none %} ({{ reference|rate }} in {{ reference_window|window }}){% endif %}",
        "book returns and high-value treatment into the prime hours first and fill the rest with new patients; if they "
        "stay empty, open fewer chairs then"),
    "wait_minutes": (
        "In {{ window|window }}, patients of {{ segment }} waited {{ value|fixed(0) }} minutes on average, over the "
        "{{ line|g }}-minute line{% if reference is not none %} ({{ reference|fixed(0) }} in {{ reference_window|window }})"
        "{% endif %}",
        "{% if by_doctor %}book fewer patients per slot with this doctor or give them an assistant{% else %}spread the "
        "bookings of this slot, add a doctor to it, and remind patients to come on time{% endif %}"),
    "nps_fall": (
        "{% if segment %}{{ segment }}'s{% else %}The clinic's{% endif %} net promoter score fell from {{ reference|fixed(0) }} "
        "in {{ reference_window|window }} to {{ nps|fixed(0) }} in {{ window|window }} ({{ responses|count }} answers, "
        "{{ detractors|rate }} scoring 0–6), {{ value|fixed(0) }} points, more than {{ line|g }}",
        "call back each patient who scored low to learn why, and have the medical director review communication and "
        "service with {% if segment %}the doctor{% else %}each department{% endif %}"),
    "review_stars": (
        "In {{ window|window }} online reviews{% if segment %} on {{ segment }}{% endif %} averaged {{ value|fixed(1) }} stars "
        "({{ reviews|count }} reviews), under {{ line|g }}{% if reference is not none %} ({{ reference|fixed(1) }} in "
        "{{ reference_window|window }}){% endif %}",
        "answer and follow up each bad review, fix what they name most, then invite satisfied patients to review"),
}

TEMPLATES = {"zh": ZH, "en": EN}

# A finding named in a few words: the story's causes, the ranking's chart, the summary's plan rows.
# kind -> (label, short label for a chart's axis).
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "zh": {
        "return_within_12m_change": ("新患者一年内复诊率降到{{ recent|rate }}", "复诊率下降"),
        "churn_rate": ("老患者每月流失{{ value|rate }}", "老患者流失"),
        "overdue_share_by_doctor": ("{{ segment }}的老患者{{ share|rate }}逾期未复诊", "{{ segment }}患者逾期"),
        "referral_share": ("转介绍只占新患者的{{ value|rate }}", "转介绍少"),
        "referral_share_recent": ("转介绍只占新患者的{{ value|rate }}", "转介绍少"),
        "child_family_ratio": ("儿童患者带来的家人少（{{ value|fixed(2) }}:1）", "儿童带家人少"),
        "doctor_weeks_inactive": ("{{ segment }}离开（{{ last_day|day }}后不再出诊）", "{{ segment }}离开"),
        "designation_rate": ("{{ segment }}指定率{{ value|rate }}", "{{ segment }}关键人风险"),
        "doctor_load_per_day": ("{{ segment }}每天接诊{{ value|fixed(1) }}人", "{{ segment }}超负荷"),
        "chief_surgeries_per_day": ("{{ segment }}每天手术{{ value|fixed(1) }}台", "{{ segment }}手术过满"),
        "doctor_first_visit_conversion": ("{{ segment }}初诊成交率{{ value|rate }}", "{{ segment }}成交率低"),
        "plan_completion": ("{{ segment }}治疗计划完成率{{ value|rate }}", "{{ segment }}完诊率低"),
        "no_show_rate_slot": ("{{ segment }}爽约率{{ value|rate }}", "{{ segment }}爽约"),
        "no_show_rate_channel": ("{{ segment }}患者爽约率{{ value|rate }}", "{{ segment }}爽约"),
        "revenue_change": ("营收下降{{ (-value)|rate }}", "营收下降"),
        "channel_conversion_volume": ("{{ segment }}渠道初诊成交率{{ value|rate }}", "{{ segment }}成交率低"),
        "channel_conversion": ("{{ segment }}渠道初诊成交率{{ value|rate }}", "{{ segment }}成交率低"),
        "roi_weekly_latest": ("{{ segment }}投放回报{{ value|fixed(2) }}", "{{ segment }}回报低"),
        "arrival_rate_fall": ("{{ segment }}线索到店率降到{{ recent|rate }}", "{{ segment }}到店率下降"),
        "cost_share_low": ("{{ segment }}占实收{{ value|rate }}，偏低", "{{ segment }}偏低"),
        "consultant_conversion": ("{{ segment }}的初诊成交率{{ conversion|rate }}", "{{ segment }}成交率低"),
        "consultant_reappointment": ("{{ segment }}的患者{{ rate|rate }}约了下次就诊", "{{ segment }}少约复诊"),
        "chair_vacancy_prime": ("{% if segment %}{{ segment }}{% else %}全院{% endif %}黄金时段椅位空置{{ value|rate }}",
                                "黄金时段空椅"),
        "wait_minutes": ("{{ segment }}的患者候诊{{ value|fixed(0) }}分钟", "{{ segment }}候诊久"),
        "nps_fall": ("{% if segment %}{{ segment }}的{% else %}全院{% endif %}净推荐值降到{{ nps|fixed(0) }}",
                     "{% if segment %}{{ segment }}{% else %}全院{% endif %}口碑下降"),
        "review_stars": ("{% if segment %}{{ segment }}{% endif %}在线评价{{ value|fixed(1) }}星", "评价星级低"),
        **{f"{driver}_effect": ("{{ driver|term }}下降", "{{ driver|term }}下降") for driver in DRIVER_ADVICE["zh"]},
        **{f"{key}_share_high": ("{{ segment }}占实收{{ value|rate }}", "{{ segment }}偏高") for key in _COST_ADVICE["zh"]},
    },
    "en": {
        "return_within_12m_change": ("new patients' 12-month return down to {{ recent|rate }}", "returns down"),
        "churn_rate": ("{{ value|rate }} of established patients lost a month", "patients lost"),
        "overdue_share_by_doctor": ("{{ share|rate }} of {{ segment }}'s patients overdue", "{{ segment }}: overdue"),
        "referral_share": ("referral only {{ value|rate }} of new patients", "few referrals"),
        "referral_share_recent": ("referral only {{ value|rate }} of new patients", "few referrals"),
        "child_family_ratio": ("children bring few family members ({{ value|fixed(2) }}:1)", "few families"),
        "doctor_weeks_inactive": ("{{ segment }} leaving (no visits after {{ last_day|day }})", "{{ segment }} left"),
        "designation_rate": ("{{ segment }} designated by {{ value|rate }}", "{{ segment }}: key person"),
        "doctor_load_per_day": ("{{ segment }} seeing {{ value|fixed(1) }} patients a day", "{{ segment }}: overload"),
        "chief_surgeries_per_day": ("{{ segment }} operating {{ value|fixed(1) }} times a day", "{{ segment }}: surgeries"),
        "doctor_first_visit_conversion": ("{{ segment }}'s first-visit conversion at {{ value|rate }}",
                                          "{{ segment }}: conversion"),
        "plan_completion": ("{{ segment }}'s plans completed at {{ value|rate }}", "{{ segment }}: plans"),
        "no_show_rate_slot": ("no-shows at {{ value|rate }} on {{ segment }}", "{{ segment }}: no-shows"),
        "no_show_rate_channel": ("{{ segment }} no-shows at {{ value|rate }}", "{{ segment }}: no-shows"),
        "revenue_change": ("revenue down {{ (-value)|rate }}", "revenue down"),
        "channel_conversion_volume": ("{{ segment }}'s first-visit conversion at {{ value|rate }}",
                                      "{{ segment }}: conversion"),
        "channel_conversion": ("{{ segment }}'s first-visit conversion at {{ value|rate }}", "{{ segment }}: conversion"),
        "roi_weekly_latest": ("{{ segment }}'s return on spend at {{ value|fixed(2) }}", "{{ segment }}: ROI"),
        "arrival_rate_fall": ("{{ segment }}'s lead arrival down to {{ recent|rate }}", "{{ segment }}: arrivals"),
        "cost_share_low": ("{{ segment }} at {{ value|rate }} of revenue, low", "{{ segment }} low"),
        "consultant_conversion": ("{{ segment }} converts {{ conversion|rate }} of new patients", "{{ segment }}: low conversion"),
        "consultant_reappointment": ("{{ rate|rate }} of {{ segment }}'s patients booked their next visit",
                                     "{{ segment }}: few rebookings"),
        "chair_vacancy_prime": ("prime-hour chairs {{ value|rate }} empty{% if segment %} in {{ segment }}{% endif %}",
                                "idle prime chairs"),
        "wait_minutes": ("{{ segment }}'s patients wait {{ value|fixed(0) }} minutes", "{{ segment }}: long waits"),
        "nps_fall": ("{% if segment %}{{ segment }}'s{% else %}the clinic's{% endif %} NPS down to {{ nps|fixed(0) }}",
                     "{% if segment %}{{ segment }}: {% endif %}NPS down"),
        "review_stars": ("online reviews at {{ value|fixed(1) }} stars{% if segment %} on {{ segment }}{% endif %}",
                         "low review stars"),
        **{f"{driver}_effect": ("the fall in {{ driver|driver }}", "{{ driver|driver }} down") for driver in DRIVER_ADVICE["en"]},
        **{f"{key}_share_high": ("{{ segment }} at {{ value|rate }} of revenue", "{{ segment }} high")
           for key in _COST_ADVICE["en"]},
    },
}

# A finding's place in the clinic's story (playbook.results.ROLES), as the ranking and the summary name it.
ROLE_NAMES = {
    "cause": ("下降原因", "cause of the fall"),
    "standing": ("长期短板·增长空间", "standing (upside)"),
    "upside": ("新问题·增长空间", "new (upside)"),
    "profit": ("成本·利润空间", "cost (profit)"),
    "risk": ("风险", "risk"),
    "symptom": ("营收变化本身", "the change itself"),
    "merged": ("已计入第{n}条", "counted in #{n}"),
    "": ("", ""),
}

# How each revenue at stake was computed (`Stake.method`), with its assumption: the number is an
# estimate, and the reader sees what it rests on.
STAKES = {
    "zh": {
        "driver_tree": "营收驱动树：下降部分 + 超出部分（见附录）",
        "merged": "已计入同一笔损失的另一条发现",
        "story": "营收的变化本身，已按原因分到各条发现",
        "none": "没有可靠的估算，只按越线幅度排序",
        "returning_patients": "（之前 − 最近的12个月复诊率）× 每年新患者 × 一位复诊患者首年的消费",
        "churn_excess": "（月流失率 − 可约回线）× 12 × 老患者人数 × 一位老患者一年的消费",
        "overdue_excess": "比其他医生多出的逾期患者 × 一位老患者一年的消费",
        "referral_missing": "达到健康线每年还差的转介绍新患者 × 一位新患者首年的消费",
        "family_missing": "达到约1:1每年还差的家人 × 一位家人首年的消费",
        "departed_revenue": "该医生离开前一年的实收",
        "designated_revenue": "指定该医生的收入，按年计",
        "doctor_conversion_gap": "（复盘线 − 成交率）× 该医生每年新患者 × 一位成交新患者30天内的消费",
        "plan_completion_gap": "（复核线 − 完诊率）× 每年结束的计划 × 该医生计划的平均金额",
        "no_show_excess": "每年超出警戒线的爽约 × 每次到诊的平均实收（上限：部分爽约会改约）",
        "revenue_to_line": "营收回到对比期减去警戒线的水平，按年计",
        "driver_loss": "这个因素下降少收的营收，按年计",
        "channel_conversion_gap": "（复盘线 − 成交率）× 按最近速度一年的新患者 × 一位成交新患者90天内的消费",
        "roi_gap": "（止损线 − ROI）× 按最近13周速度一年的投放",
        "arrival_fall": "每年的线索 × 到店率下降 × 一位新患者90天内的消费",
        "cost_excess": "超出范围上限的占比 × 每年实收：回到范围多留的利润",
        "consultant_conversion_gap": "（其他咨询师的成交率 − 该咨询师的）× 该咨询师每年的新患者 × 一位成交新患者30天内的消费",
        "reappointment_missing": "（其他咨询师的预约下次率 − 该咨询师的）× 该咨询师每年的到诊人次 × 每次到诊的平均实收（上限：部分患者之后会电话预约）",
        "chair_idle_prime": "超出上限的黄金时段空置椅位小时，按年计 × 每小时在用椅位的实收（上限：空出的时间未必都能排满）",
    },
    "en": {
        "driver_tree": "the revenue driver tree: decline part + beyond part (see the appendix)",
        "merged": "counted in another finding that sees the same loss",
        "story": "the revenue change itself, split among the findings by cause",
        "none": "no honest estimate; ranked by how far past the line",
        "returning_patients": "(earlier − recent 12-month return) × new patients a year × a returning patient's "
                              "first-year spend",
        "churn_excess": "(monthly churn − the recoverable line) × 12 × established patients × what one pays a year",
        "overdue_excess": "overdue patients above the other doctors' share × what an established patient pays a year",
        "referral_missing": "referral patients missing a year to reach the healthy line × a new patient's first-year "
                            "revenue",
        "family_missing": "family members missing a year to reach about 1:1 × a family member's first-year revenue",
        "departed_revenue": "the doctor's revenue in the year before leaving",
        "designated_revenue": "the revenue of patients who chose the doctor, a year",
        "doctor_conversion_gap": "(review line − conversion) × the doctor's new patients a year × what a converted "
                                 "new patient pays in 30 days",
        "plan_completion_gap": "(review line − completion) × plans ended a year × the doctor's mean planned amount",
        "no_show_excess": "no-shows above the alert line a year × revenue per arrived visit (an upper bound: some "
                          "rebook)",
        "revenue_to_line": "revenue back to the earlier window's less the alert line, a year long",
        "driver_loss": "the revenue this driver's fall cost, a year long",
        "channel_conversion_gap": "(review line − conversion) × a year of new patients at the recent pace × what a "
                                  "converted new patient pays in 90 days",
        "roi_gap": "(stop-loss line − ROI) × a year of spend at the pace of the last 13 weeks",
        "arrival_fall": "leads a year × the fall in the arrival rate × what a new patient pays in 90 days",
        "cost_excess": "the share above the range's top × revenue a year: the profit kept by coming back",
        "consultant_conversion_gap": "(the other coordinators' conversion − theirs) × their new patients a year × what a "
                                     "converted new patient pays in 30 days",
        "reappointment_missing": "(the other coordinators' re-appointment − theirs) × their visits a year × revenue per "
                                 "arrived visit (an upper bound: some patients book later by phone)",
        "chair_idle_prime": "prime chair-hours a year empty beyond the line × what an hour of used chair time earns (an "
                            "upper bound: not every empty hour can be filled)",
    },
}


# ---------------------------------------------------------------------------------------------------
# The renderer


def render(finding, lang: str = "zh", form: str = "full", *, end: bool = True) -> str:
    """A finding in words: ``full`` (fact and advice) or ``short`` (the fact with its numbers).

    ``end=False`` leaves off the closing full stop, for a sentence that goes on.
    """
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, not {form!r}")
    context = _context(finding, lang)
    text = _template(lang, finding.kind, 0).render(context)
    advice = TEMPLATES[lang][finding.kind][1]
    if form == "full" and advice is not None:
        text += _SEP[lang] + _template(lang, finding.kind, 1).render(context)
    return text + (_END[lang] if end else "")


def join(findings, lang: str = "zh", form: str = "full") -> str:
    """Several findings in one paragraph: 甲；乙。 in Chinese, one sentence each in English."""
    if lang == "zh":
        return "；".join(render(f, lang, form, end=False) for f in findings) + "。"
    return " ".join(render(f, lang, form) for f in findings)


def clauses(findings, lang: str = "zh") -> str:
    """The facts of several findings, without the closing stop (the prescriptions' "why"): 甲；乙 / A. B"""
    return ("；" if lang == "zh" else ". ").join(dict.fromkeys(render(f, lang, "short", end=False) for f in findings))


def stake(finding, lang: str = "zh") -> str:
    """How the finding's revenue at stake was computed, and on what assumption."""
    return STAKES[lang][finding.stake.method]


def segment(segment, lang: str = "zh", *, short: bool = False) -> str:
    """A segment as a sentence names it: a channel or tier in the report's language, a department as
    种植科 / the Implants department (``short``, as a chart labels it: 种植 / Implants), a doctor as written."""
    name = segment.name
    if segment.kind == "department":
        if name == "unknown":
            return i18n.pick(lang, "未注明科室", "no department")
        if name == "others":  # the chairs the departments clinic.yaml does not name share (playbook.chairs)
            return i18n.pick(lang, "其他科室", "the other departments")
        if short:
            return i18n.term(name, lang)
        return name if lang == "zh" and name.endswith("科") else (
            f"{name}科" if lang == "zh" else f"the {i18n.term(name, 'en')} department")
    if segment.kind in ("doctor", "consultant"):
        return name
    term = i18n.term(name, lang)
    # a table's or chart's label starts with a capital in English ("High-value items"), a sentence's does not
    return term[:1].upper() + term[1:] if short and lang == "en" else term


def driver_phrase(driver: str, lang: str) -> str:
    """A revenue driver in running text: 客单价; in English with the article a sentence needs ("the fall in
    the average ticket", "the fall in conversion")."""
    name = i18n.term(driver, lang)
    return f"the {name}" if lang == "en" and driver == "ticket" else name


def line(threshold) -> str:
    """A threshold's value as a sentence states it: 80%, 7.5%, 1.5, 12 (a fall as its size: 5%)."""
    value = abs(threshold.value) if threshold.value < 0 else threshold.value
    return _pct(value) if abs(threshold.value) < 1 else f"{value:g}"


def _pct(value: float) -> str:
    return f"{value * 100:g}%"


def _context(finding, lang: str) -> dict:
    context = dict(finding.facts)
    # the analysis' own amount (a doctor's revenue, a cost above its range), kept by the story's re-count
    context.setdefault("estimate", finding.stake.amount)
    context.update(value=finding.value, reference=finding.reference, line=finding.line, gap=finding.gap,
                   stake=finding.stake.amount, window=finding.window, reference_window=finding.reference_window,
                   segment=segment(finding.segment, lang) if finding.segment else None,
                   segment_key=finding.segment.name if finding.segment else None)
    return context


@cache
def _environment(lang: str) -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.filters.update({
        "rate": lambda v: i18n.rate(v, lang),
        "pct": _pct,
        "pct_range": lambda low, high: f"{low * 100:g}–{high * 100:g}%",
        "points": lambda v: f"{v * 100:g}",
        "money": lambda v: i18n.money(v, lang),
        "count": lambda v: i18n.count(v, lang),
        "day": lambda v: i18n.day(v, lang),
        "week": lambda v: i18n.week_of(v, lang),
        "window": lambda w: i18n.window(_window(w).start, _window(w).end, lang),
        "months": lambda w: i18n.months(_window(w).start, _window(w).end, lang),
        "term": lambda v: i18n.term(v, lang),
        "driver": lambda v: driver_phrase(v, lang),
        "fixed": lambda v, digits: f"{v:.{digits}f}",
        "g": lambda v: f"{v:g}",
    })
    return env


def _window(window):
    """A window a sentence names: a finding that states one and has none is an error, never a blank."""
    if window is None:
        raise ValueError("the sentence names a window the finding does not have")
    return window


@cache
def _template(lang: str, kind: str, part: int) -> jinja2.Template:
    return _environment(lang).from_string(TEMPLATES[lang][kind][part])


# ---------------------------------------------------------------------------------------------------
# The story: the answer first (playbook.story), the labels of findings, and the one method of the stakes


def label(finding, lang: str = "zh", *, short: bool = False) -> str:
    """A finding in a few words: 王医生离开（2025年8月31日后不再出诊） / 王医生离开 (``short``, a chart's axis)."""
    return _label_template(lang, finding.kind, 1 if short else 0).render(_context(finding, lang))


def role(finding, lang: str = "zh", counted_in: int | None = None) -> str:
    """A finding's place in the story in words; a merged finding names the rank ``counted_in``."""
    zh, en = ROLE_NAMES[finding.role]
    return i18n.pick(lang, zh, en).format(n=counted_in if counted_in is not None else "?")


def story(story, lang: str = "zh") -> str:
    """The answer first: what changed between the windows, a year, and the largest cause of the fall.

    ``story`` is a `playbook.story.Story`. A clinic whose revenue did not fall is told so, and its
    findings are upside and risks; a fall the same months a year earlier do not show is seasonal.
    """
    if story.current is None or story.change is None:
        head = i18n.pick(lang, "数据覆盖不到可比较的前一个时期，无法判断营收是否下降；下面的发现都是增长空间或风险",
                         "The data does not reach back to a period to compare with, so whether revenue fell cannot "
                         "be said; the findings below are upside or risks")
        return head + _largest_upside(story, lang)
    now = i18n.window(story.current.start, story.current.end, lang)
    then = i18n.window(story.baseline.start, story.baseline.end, lang)
    r0, r1 = story.revenue_baseline, story.revenue_current
    change, per_year = story.change, story.per_year
    rate_text = _signed(story.change_rate, lang)
    earlier = ""
    if story.year_earlier is not None and story.year_earlier_change is not None:
        ye = i18n.window(story.year_earlier.start, story.year_earlier.end, lang)
        d = story.year_earlier_change
        earlier = i18n.pick(lang, f"；比去年同期（{ye}）{'少' if d < 0 else '多'}{i18n.money(abs(d), lang)}",
                            f"; against the same months a year earlier ({ye}) it is {'down' if d < 0 else 'up'} "
                            f"{i18n.money(abs(d), lang)}")
    if story.fell:
        head = i18n.pick(
            lang, f"{now}营收{i18n.money(r1, lang)}，比{then}（{i18n.money(r0, lang)}）少{i18n.money(-change, lang)}"
                  f"（{rate_text}），按年计每年少约{i18n.money(-per_year, lang)}{earlier}",
            f"Revenue in {now} was {i18n.money(r1, lang)}, {i18n.money(-change, lang)} ({rate_text}) less than in "
            f"{then} ({i18n.money(r0, lang)}): about {i18n.money(-per_year, lang)} a year{earlier}")
        causes = story.causes
        if not causes:
            return head + i18n.pick(
                lang, "。下降没有哪一项发现能解释十分之一以上，分散在各项驱动因素中（见营收驱动因素一章）；下面的发现是增长空间和风险。",
                ". No finding explains a tenth of the fall or more: it is spread over the drivers (see the revenue "
                "drivers chapter); the findings below are upside and risks.")
        first = causes[0]
        share = first.stake.decline / story.decline
        text = head + i18n.pick(
            lang, f"。下降最大的原因是{label(first, lang)}：每年少收约{i18n.money(first.stake.decline, lang)}，"
                  f"占下降的{i18n.rate(share, lang)}",
            f". The largest cause of the fall is {label(first, lang)}: about {i18n.money(first.stake.decline, lang)} "
            f"a year, {i18n.rate(share, lang)} of the fall")
        if len(causes) > 1:
            rest = ("、" if lang == "zh" else ", ").join(
                f"{label(f, lang)}（{i18n.money(f.stake.decline, lang)}）" if lang == "zh"
                else f"{label(f, lang)} ({i18n.money(f.stake.decline, lang)})" for f in causes[1:])
            text += i18n.pick(lang, f"；其次是{rest}", f"; then {rest}")
        other = story.other_per_year
        text += i18n.pick(lang, f"；其余变化合计每年{_signed_money(other, lang)}。",
                          f"; the other changes come to {_signed_money(other, lang)} a year.")
        return text
    if story.seasonal:
        head = i18n.pick(
            lang, f"{now}营收{i18n.money(r1, lang)}，比{then}{rate_text}{earlier}，与去年同期相比没有超过警戒线："
                  "这次下降多半是季节性的，不归因于某一项发现；下面的发现是增长空间和风险",
            f"Revenue in {now} was {i18n.money(r1, lang)}, {rate_text} against {then}{earlier}, within the alert "
            "line against a year earlier: the dip looks seasonal and is not put down to any finding; the findings "
            "below are upside and risks")
        return head + _largest_upside(story, lang)
    moved = i18n.pick(lang, f"增长{rate_text.lstrip('+')}" if change >= 0 else f"变化{rate_text}（未超过警戒线）",
                      f"up {rate_text.lstrip('+')}" if change >= 0 else f"{rate_text} (within the alert line)")
    head = i18n.pick(
        lang, f"{now}营收{i18n.money(r1, lang)}，比{then}（{i18n.money(r0, lang)}）{moved}，按年计每年"
              f"{'多' if per_year >= 0 else '少'}约{i18n.money(abs(per_year), lang)}{earlier}。营收没有下降，下面的发现是增长空间和风险",
        f"Revenue in {now} was {i18n.money(r1, lang)}, {moved} on {then} ({i18n.money(r0, lang)}), about "
        f"{i18n.money(abs(per_year), lang)} a year {'more' if per_year >= 0 else 'less'}{earlier}. Revenue did not "
        "fall: the findings below are upside and risks")
    return head + _largest_upside(story, lang)


def _largest_upside(story, lang: str) -> str:
    upside = [f for f in story.findings if f.role in ("standing", "upside") and f.stake.amount > 0]
    if not upside:
        return _END[lang]
    best = max(upside, key=lambda f: f.stake.amount)
    return i18n.pick(lang, f"：最大的一项是{label(best, lang)}，达到方法的线每年约多{i18n.money(best.stake.amount, lang)}。",
                     f": the largest is {label(best, lang)}, about {i18n.money(best.stake.amount, lang)} a year at "
                     "the method's line.")


def _signed(value, lang: str) -> str:
    return i18n.NO_DATA[lang] if value is None else ("+" if value > 0 else "") + i18n.rate(value, lang)


def _signed_money(value: float, lang: str) -> str:
    return ("+" if value > 0 else "-" if value < 0 else "") + i18n.money(abs(value), lang)


def stake_method(lang: str = "zh", *, cause_share: float = 0.1, gap_closed: float = 0.5) -> list[str]:
    """How every finding's revenue at stake is counted: one method, the driver tree [S2]; and what the
    plans are expected to bring back (the appendix)."""
    share, closed = _pct(cause_share), _pct(gap_closed)
    if lang == "zh":
        return [
            "每条发现的“每年涉及营收”都用同一个方法算：营收驱动树 [S2]（营收 = 到诊人数 × 成交率 × 客单价 × 复购频次），"
            "只移动该发现对应的那个因素，在它所在的部分（医生 × 患者来源渠道）里计算，按年计。",
            "下降部分：对比期到本期之间，这个因素在这些部分里让营收少了多少（LMDI分解，精确可加）；各原因的下降部分与其他变化相加，"
            f"正好等于营收的变化。一条发现解释了下降的{share}以上，才列为下降的原因。",
            "超出部分：指标现在离方法的线还差多少（患者、成交患者或到诊人次）× 本期每一个在这些部分里带来的实收，减去下降部分。"
            "长期存在的短板（对比期就已越线）和新出现但还没有让营收减少的问题，只有超出部分。",
            "同一笔营收只算一次：已离开医生的其他发现计入其离开；同一渠道的投放回报计入该渠道的成交率；"
            "两条发现涉及同一部分的同一因素时，只算在排序靠前的那条。成本高于合理范围省下的是利润，不计入营收。",
            "处方的预计影响：每条发现只由一个处方治疗，带回它每年涉及营收的一部分，比例是它的目标弥补差距的比例"
            f"（（目标 − 基线）÷（方法的线 − 基线）；任务的指标不是这条发现本身的指标时按{closed}）。先算找回下降的部分，"
            "不超过这条发现的下降部分，全部处方合计不超过营收的下降；其余是超出下降的部分。",
        ]
    return [
        "Every finding's revenue at stake a year is counted by one method: the revenue driver tree [S2] (revenue = "
        "arrivals × conversion × average ticket × purchase frequency) with only the finding's own driver moved, in "
        "the cells it concerns (doctor × the patient's source channel), a year long.",
        "Decline part: what that driver lost in those cells between the baseline and the current window (the LMDI "
        "decomposition, exact); the causes' decline parts and the other changes add up to the revenue change. A "
        f"finding explaining at least {share} of the fall is named a cause of it.",
        "Beyond part: how far the metric is short of the method's line now (patients, treated patients or visits) × "
        "what one brought in those cells in the current window, less the decline part. A standing weakness (past "
        "its line before the fall too) and a new problem that has not yet cost revenue have a beyond part only.",
        "Every yuan is counted once: a departed doctor's other findings count in the departure; a channel's return "
        "on spend counts in its conversion; where two findings move the same driver in the same cells, the one "
        "ranked first counts it. A cost above its range saves profit, never revenue.",
        "What the plans bring back: each finding is treated by one plan and returns the share of its revenue at stake "
        "that its target closes of its gap ((target − baseline) / (line − baseline); "
        f"{closed} where the task does not measure the finding's own metric). The part recovering the fall comes "
        "first, never more than the finding's decline part nor, over all plans, than the fall; the rest is beyond it.",
    ]


@cache
def _label_template(lang: str, kind: str, part: int) -> jinja2.Template:
    return _environment(lang).from_string(LABELS[lang][kind][part])

"""Seeded synthetic sample clinics: canonical tables with planted problems, and untidy Chinese exports.

Two sample clinics ship with the playbook (``data_samples/``): a general dental clinic whose revenue
falls in the second half of 2025 for reasons planted on purpose, and a small children's clinic. They
serve three users: the trainer teaches the method on them, the tests check that the diagnosis finds
what was planted (``SyntheticClinic.plants``) and flags nothing on the healthy twin
(``problems=False``), and the benchmarks load a large one (``scale=16``).

Everything is drawn from one ``numpy.random.default_rng(seed)`` in a fixed order and vectorised over
patients and visits, so the same seed gives byte-identical canonical tables and scale 16 (about
80,000 patients, close to a million charge lines) takes seconds.

How a clinic is simulated, in the order of ``generate``:

1. New patients per month and source channel (Poisson), each with an intended first-visit day.
2. Each patient draws a treatment pathway (种植, 正畸, 修复, ... or only the traffic check-up when the
   first visit does not convert), a doctor, and a sequence of arrived visits: the first visit, the
   pathway's treatment steps, then recall visits with decaying probability.
3. Charge lines for every arrived visit, priced from a price book, plus a few refunds.
4. Missed appointments around the arrivals: no-shows rebooked a week later, cancellations, patients
   who never come.
5. The optional tables (plans, leads, campaigns, monthly costs, staff) derived from the above.

``export`` then writes the tables the way a Chinese clinic system exports them: Chinese headers from
``playbook.schema``, title rows above the header, a totals row at the bottom, ``¥1,234.50`` amounts,
GB18030 or UTF-8 with BOM.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from openpyxl import Workbook

from playbook import hours, schema, thresholds

__all__ = ["SyntheticClinic", "generate", "export", "write_sample", "KINDS"]

KINDS = ("general", "children")


@dataclass
class SyntheticClinic:
    """A generated clinic: its ``clinic.yaml`` content, canonical tables and what was planted."""

    config: dict
    tables: dict[str, pd.DataFrame]
    plants: list[dict]
    kind: str = "general"
    seed: int = 7


# --------------------------------------------------------------------------------------------------
# Calendar: days are int64 day numbers since 1970-01-01, times are minutes after midnight.

def _day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


def _weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _timestamps(days: np.ndarray, minutes: np.ndarray, seconds: np.ndarray | int = 0) -> np.ndarray:
    total = days.astype(np.int64) * 86400 + minutes.astype(np.int64) * 60 + seconds
    return total.astype("datetime64[s]").astype("datetime64[us]")


def _dates(days: np.ndarray) -> np.ndarray:
    return days.astype(np.int64).astype("datetime64[D]").astype("datetime64[us]")


# --------------------------------------------------------------------------------------------------
# The clinics' parameters.

# Visit roles along a patient's pathway.
FIRST, TREAT, FOLLOW, CROWN, ADJUST, RECALL = range(6)

# item -> (项目类别, standard unit prices, quantity choices, quantity weights)
PRICE_BOOK: dict[str, tuple[str, tuple[float, ...], tuple[int, ...], tuple[float, ...]]] = {
    "挂号费": ("挂号", (10, 20), (1,), (1,)),
    "口腔检查": ("检查", (50, 80), (1,), (1,)),
    "全景片": ("影像", (150, 200, 260), (1,), (1,)),
    "超声波洁牙": ("洁治", (198, 268, 298), (1,), (1,)),
    "涂氟": ("预防", (80, 120, 150), (1,), (1,)),
    "窝沟封闭": ("预防", (100, 150, 180), (2, 4), (0.5, 0.5)),
    "树脂补牙": ("充填", (260, 380, 480, 580), (1, 2, 3), (0.6, 0.3, 0.1)),
    "儿童龋齿修复": ("充填", (200, 280, 360, 450), (1, 2, 3, 4), (0.4, 0.3, 0.2, 0.1)),
    "根管治疗": ("根管", (1200, 1800, 2400), (1,), (1,)),
    "拔牙": ("外科", (150, 300, 450), (1,), (1,)),
    "智齿拔除": ("外科", (600, 900, 1200, 1500), (1,), (1,)),
    "种植牙": ("种植", (8800, 9800, 12800, 14800), (1, 2), (0.8, 0.2)),
    "隐形矫正": ("正畸", (22800, 26800, 29800, 34800), (1,), (1,)),
    "早期矫正": ("正畸", (6800, 9800, 12800), (1,), (1,)),
    "全瓷冠": ("修复", (2800, 3800, 4800), (1,), (1,)),
    "烤瓷冠": ("修复", (2000, 2400, 3200), (1,), (1,)),
    "药品": ("药品", (25, 38, 56, 88, 128), (1,), (1,)),
}
# Discounts on the standard price (member cards, promotions); most lines pay the list price.
DISCOUNTS = np.array([1.0, 0.95, 0.9, 0.88, 0.8])
DISCOUNT_WEIGHTS = np.array([0.55, 0.15, 0.15, 0.1, 0.05])
GROUP_BUY_CHANNELS = ("美团", "大众点评", "抖音")  # first cleaning bought as a platform coupon
GROUP_BUY_PRICES = np.array([68.0, 88.0, 99.0])


@dataclass(frozen=True)
class Pathway:
    """What a new patient came for, and the visits it takes after the first one."""

    name: str
    department: str
    share: float  # of the converted new patients
    steps: tuple[tuple[int, float], ...]  # (role, chance the step happens), after the first visit
    same_day: float  # chance the treatment starts at the first visit (its TREAT visit is skipped)
    treat: tuple[tuple[str, float], ...]  # main item charged when the treatment starts, weights
    extras: tuple[tuple[str, float], ...] = ()  # items added to that visit, with their chance
    adjust: tuple[int, int] = (0, 0)  # number of adjustment visits (orthodontics)
    instalments: tuple[float, ...] = (1.0,)  # chance of paying in 1, 2, 3 parts
    age: tuple[int, int] = (18, 70)
    child: bool = False


@dataclass(frozen=True)
class Doctor:
    """A doctor; each new patient of a department is assigned one by the departments' shares."""

    doctor_id: str  # how the clinic system writes it, e.g. 王医生
    full_name: str
    title: str  # 主任 / 主治
    departments: dict[str, float]  # department -> share of its patients
    designation: float  # chance a patient chose this doctor (指定医生)
    chair: str
    designation_healthy: float | None = None


@dataclass(frozen=True)
class Spec:
    """One sample clinic's parameters. The planted problems are the constants below and the
    ``*_healthy`` fields here (the values used with ``problems=False``)."""

    kind: str
    clinic_id: str
    name: str
    data_start: str
    data_end: str
    period: tuple[str, str]
    channels: tuple[str, ...]
    new_per_month: dict[str, float]  # with problems
    new_per_month_healthy: dict[str, float]
    conversion: dict[str, float]  # first-visit conversion per channel, with problems
    conversion_healthy: dict[str, float]
    pathways: tuple[Pathway, ...]  # index 0 is the traffic-only pathway of patients who do not convert
    adult_pathways: tuple[Pathway, ...]  # for family members of a children's clinic
    traffic_departments: dict[str, float]
    doctors: tuple[Doctor, ...]
    consultants: tuple[str, ...]
    nurses: tuple[str, ...]
    gaps: dict[int, tuple[int, int]]  # role -> days after the previous visit
    recall_chance: float  # chance of a first recall visit; decays by recall_decay per recall
    recall_decay: float
    repurchase: tuple[tuple[str, float], ...]  # what a recall visit sometimes sells
    season: tuple[float, ...]  # monthly factor on new patients, January first
    growth: float  # yearly growth of new patients
    no_show: float  # base no-show rate
    cancel: float
    never_arrive: float  # booked a first visit and never came
    consumables: float  # 耗材 / revenue
    consumables_healthy: float
    monthly_fixed: dict[str, float]  # rent and base labour at scale 1
    family_ratio: float = 0.0  # family members per child patient (children's clinic)
    family_ratio_healthy: float = 0.0


GENERAL_PATHWAYS = (
    Pathway("初诊检查", "综合", 0.0, ((FOLLOW, 0.25),), 0.0, (), age=(16, 70)),
    Pathway("综合", "综合", 0.46, ((TREAT, 1.0), (FOLLOW, 0.5), (FOLLOW, 0.25)), 0.45,
            (("树脂补牙", 0.45), ("根管治疗", 0.2), ("拔牙", 0.15), ("智齿拔除", 0.2)), age=(18, 70)),
    Pathway("牙周", "牙周", 0.07, ((TREAT, 1.0), (FOLLOW, 0.5)), 0.3,
            (("拔牙", 0.4), ("树脂补牙", 0.35), ("根管治疗", 0.25)), (("超声波洁牙", 1.0),), age=(30, 72)),
    Pathway("修复", "修复", 0.14, ((TREAT, 1.0), (FOLLOW, 1.0), (FOLLOW, 0.5)), 0.25,
            (("全瓷冠", 0.6), ("烤瓷冠", 0.4)), (("根管治疗", 0.5),), age=(30, 72)),
    Pathway("种植", "种植", 0.13, ((TREAT, 1.0), (FOLLOW, 1.0), (FOLLOW, 0.5), (CROWN, 1.0), (FOLLOW, 0.6)), 0.0,
            (("种植牙", 1.0),), age=(38, 76)),
    Pathway("正畸", "正畸", 0.08, ((TREAT, 1.0),), 0.2, (("隐形矫正", 1.0),),
            adjust=(10, 20), instalments=(0.4, 0.35, 0.25), age=(11, 35)),
    Pathway("儿牙", "儿牙", 0.12, ((TREAT, 1.0), (FOLLOW, 0.4)), 0.5, (("树脂补牙", 1.0),),
            (("涂氟", 0.6),), age=(4, 12), child=True),
)

CHILDREN_PATHWAYS = (
    Pathway("儿童检查", "儿牙", 0.0, ((FOLLOW, 0.2),), 0.0, (), age=(3, 12), child=True),
    Pathway("儿牙", "儿牙", 0.86, ((TREAT, 1.0), (FOLLOW, 0.5), (FOLLOW, 0.25)), 0.45, (("儿童龋齿修复", 1.0),),
            (("涂氟", 0.5), ("窝沟封闭", 0.3)), age=(3, 12), child=True),
    Pathway("早期矫正", "正畸", 0.14, ((TREAT, 1.0),), 0.1, (("早期矫正", 1.0),),
            (("儿童龋齿修复", 0.7),), adjust=(4, 8), instalments=(0.6, 0.4), age=(6, 12), child=True),
)
# Parents who become patients come for adult care in 综合.
FAMILY_PATHWAYS = (
    Pathway("洁牙检查", "综合", 0.0, ((FOLLOW, 0.2),), 0.0, (), age=(28, 46)),
    Pathway("综合", "综合", 1.0, ((TREAT, 1.0), (FOLLOW, 0.3)), 0.4,
            (("树脂补牙", 0.5), ("根管治疗", 0.25), ("拔牙", 0.25)), age=(28, 46)),
)

GENERAL = Spec(
    kind="general",
    clinic_id="general_clinic",
    name="示例综合口腔门诊",
    data_start="2022-01-01",
    data_end="2025-12-31",
    period=("2024-01-01", "2025-12-31"),
    channels=("美团", "抖音", "大众点评", "地推", "转介绍", "自然到店"),
    new_per_month={"美团": 20, "抖音": 15, "大众点评": 15, "地推": 7, "转介绍": 29, "自然到店": 19},
    new_per_month_healthy={"美团": 13, "抖音": 10, "大众点评": 11, "地推": 6, "转介绍": 48, "自然到店": 17},
    conversion={"美团": 0.88, "抖音": 0.61, "大众点评": 0.88, "地推": 0.89, "转介绍": 0.93, "自然到店": 0.89},
    conversion_healthy={"美团": 0.91, "抖音": 0.9, "大众点评": 0.91, "地推": 0.91, "转介绍": 0.94,
                        "自然到店": 0.92},
    pathways=GENERAL_PATHWAYS,
    adult_pathways=(),
    traffic_departments={"综合": 0.65, "牙周": 0.35},
    doctors=(
        Doctor("王医生", "王建国", "主任", {"种植": 0.7, "修复": 0.1}, 0.72, "1号椅", designation_healthy=0.45),
        Doctor("李医生", "李明", "主治", {"种植": 0.3, "修复": 0.45, "综合": 0.15}, 0.3, "2号椅"),
        Doctor("张医生", "张伟", "主任", {"正畸": 1.0}, 0.5, "3号椅"),
        Doctor("刘医生", "刘洋", "主治", {"综合": 0.35, "牙周": 0.6}, 0.25, "4号椅"),
        Doctor("陈医生", "陈静", "主治", {"儿牙": 0.85, "综合": 0.2}, 0.45, "5号椅"),
        Doctor("杨医生", "杨帆", "主治", {"修复": 0.45, "综合": 0.3, "牙周": 0.4, "儿牙": 0.15}, 0.3, "6号椅"),
    ),
    consultants=("赵咨询师", "孙咨询师", "周咨询师"),
    nurses=("吴护士", "郑护士", "冯护士", "蒋护士"),
    gaps={TREAT: (2, 14), FOLLOW: (7, 21), CROWN: (90, 180), ADJUST: (28, 42), RECALL: (100, 240)},
    recall_chance=0.88,
    recall_decay=0.975,
    repurchase=(("树脂补牙", 0.5), ("根管治疗", 0.2), ("拔牙", 0.15), ("智齿拔除", 0.15)),
    season=(0.92, 0.72, 1.0, 1.02, 1.05, 1.0, 1.05, 1.06, 1.0, 0.95, 1.04, 0.98),
    growth=0.07,
    no_show=0.09,
    cancel=0.05,
    never_arrive=0.03,
    consumables=0.09,
    consumables_healthy=0.06,
    monthly_fixed={"房租": 65000, "人工": 120000},
)

CHILDREN = Spec(
    kind="children",
    clinic_id="children_clinic",
    name="示例儿童齿科",
    data_start="2023-01-01",
    data_end="2025-12-31",
    period=("2024-01-01", "2025-12-31"),
    channels=("美团", "抖音", "大众点评", "地推", "转介绍", "自然到店"),
    new_per_month={"美团": 8, "抖音": 7, "大众点评": 7, "地推": 5, "转介绍": 11, "自然到店": 5},
    new_per_month_healthy={"美团": 8, "抖音": 7, "大众点评": 7, "地推": 5, "转介绍": 11, "自然到店": 5},
    conversion={"美团": 0.93, "抖音": 0.92, "大众点评": 0.93, "地推": 0.93, "转介绍": 0.95, "自然到店": 0.93},
    conversion_healthy={"美团": 0.93, "抖音": 0.92, "大众点评": 0.93, "地推": 0.93, "转介绍": 0.95,
                        "自然到店": 0.93},
    pathways=CHILDREN_PATHWAYS,
    adult_pathways=FAMILY_PATHWAYS,
    traffic_departments={"儿牙": 1.0},
    doctors=(
        Doctor("赵医生", "赵晓燕", "主任", {"儿牙": 0.5}, 0.5, "牙椅1"),
        Doctor("钱医生", "钱文", "主治", {"儿牙": 0.5}, 0.35, "牙椅2"),
        Doctor("孙医生", "孙浩", "主治", {"正畸": 1.0}, 0.45, "牙椅3"),
        Doctor("周医生", "周婷", "主治", {"综合": 1.0}, 0.25, "牙椅4"),
    ),
    consultants=("林咨询师",),
    nurses=("何护士", "罗护士"),
    gaps={TREAT: (2, 14), FOLLOW: (7, 21), CROWN: (90, 180), ADJUST: (28, 56), RECALL: (90, 220)},
    recall_chance=0.72,
    recall_decay=0.95,
    repurchase=(("儿童龋齿修复", 0.7), ("窝沟封闭", 0.3)),
    season=(1.1, 1.05, 0.9, 0.9, 0.9, 0.95, 1.35, 1.35, 0.85, 0.85, 0.9, 0.9),
    growth=0.06,
    no_show=0.075,
    cancel=0.05,
    never_arrive=0.03,
    consumables=0.06,
    consumables_healthy=0.06,
    monthly_fixed={"房租": 22000, "人工": 45000},  # a small clinic: about a fifth of revenue left as margin
    family_ratio=0.33,  # drawn per child; parents who would come after the data ends are not seen
    family_ratio_healthy=1.15,
)

SPECS = {"general": GENERAL, "children": CHILDREN}

# The planted problems, by clinic. Dates are when the problem starts.
PLANT_START = _day("2025-07-01")
DEPARTURE = ("王医生", _day("2025-08-31"), "李医生")  # doctor, last day, successor
NOTICE_FROM = PLANT_START  # in his notice period he takes no new patients
# Who stops coming when the doctor leaves: most of those who chose him follow him out.
STOP_IF_DESIGNATED, STOP_OTHERWISE = 0.85, 0.4
DOUYIN_CONVERSION_AFTER = 0.21
DOUYIN_VOLUME_AFTER = 2.4
REFERRAL_VOLUME_AFTER = 0.65
MEITUAN_NO_SHOW_AFTER = 0.25
MEITUAN_NEVER_ARRIVE_AFTER = 0.12
IMPLANT_SHARE_AFTER_DEPARTURE = 0.25
DROPOUT = 0.04  # converted patients who stop part way through treatment, in every clinic
SCHOOL_HOURS_NO_SHOW = 0.30  # children's visits on weekday afternoons 13:00-16:59
LEADS_FROM = _day("2024-01-01")  # the general clinic's lead tracking (CRM) started in 2024
LEAD_ARRIVAL = {"美团": 0.35, "抖音": 0.15, "大众点评": 0.4, "地推": 0.25}
LEAD_ARRIVAL_HEALTHY = {"美团": 0.35, "抖音": 0.18, "大众点评": 0.4, "地推": 0.25}


def _plants(kind: str) -> list[dict]:
    if kind == "general":
        return [
            {"id": "douyin_conversion", "what_en": "Douyin first-visit conversion collapses after a "
             "low-intent 9.9-yuan cleaning-card campaign, while Douyin new patients rise",
             "what_zh": "抖音9.9元洁牙卡引流：抖音新客增加，但初诊成交率从约60%跌到约20%",
             "where": "channel 抖音", "from": "2025-07-01",
             "expected_signal_en": "channels: 抖音 first_visit_conversion ~0.6 before 2025-07-01, ~0.2 "
             "after (the other channels stay above the 80% line); 抖音 new patients per month more than "
             "double; campaign 2025抖音9.9元洁牙卡 with offer_price 9.9, whose new patients' H2 revenue is about its "
             "spend (ROI ~1, below the 1.5 stop-loss line); Douyin lead arrival rate ~15%"},
            {"id": "implant_doctor_leaves", "what_en": "The implant doctor with the highest designation "
             "rate (~70%, key-person risk) takes no new patients from 2025-07-01 and leaves on 2025-08-31; "
             "implant revenue drops, most patients who chose him (85%) and 40% of his others stop "
             "returning", "what_zh": "种植主任王医生指定率约70%（关键人风险），7月起不再接新患者，2025-08-31离职，"
             "种植收入下滑，指定他的患者大多流失", "where": "doctor 王医生, department 种植", "from": "2025-08-31",
             "expected_signal_en": "designation rate of 王医生 > 60%; no visits or charges by 王医生 after "
             "2025-08-31; 种植 revenue in 2025-09..12 well below 2025-01..08; his patients' later visits "
             "move to 李医生 (not designated) or stop"},
            {"id": "low_referral", "what_en": "Referral share below the 40% line throughout, falling "
             "further in H2 2025", "what_zh": "转介绍占比长期低于40%（约25-30%），2025下半年继续下降",
             "where": "channel 转介绍", "from": "2022-01-01",
             "expected_signal_en": "referral_share ~0.28 before 2025-07-01 and ~0.16 after; below 0.40 "
             "(service problem) and below 0.30 (act)"},
            {"id": "meituan_no_show", "what_en": "Meituan patients' no-show rate rises to ~25% in H2 "
             "2025, and more booked Meituan first visits never arrive",
             "what_zh": "美团客户爽约率在2025下半年升至约25%", "where": "channel 美团",
             "from": "2025-07-01", "expected_signal_en": "no_show_rate of visits by 美团 patients ~0.10 "
             "before 2025-07-01, ~0.25 after; other channels stay ~0.10"},
            {"id": "consumables_high", "what_en": "Consumables run at ~9% of revenue (method range 5-7%)",
             "what_zh": "耗材占流水约9%（方法标准5-7%）", "where": "costs 耗材", "from": "2022-01-01",
             "expected_signal_en": "costs 耗材 / revenue ~0.09 in every month"},
            {"id": "coordinator_cherry_picking", "what_en": "The coordinator 周咨询师 picks cases [S4]: the "
             "unconverted basic complaints land with him, and his patients are booked at checkout less often",
             "what_zh": "周咨询师挑单：基础主诉患者成交少，患者离开前约好下次就诊的也少", "where": "consultant 周咨询师",
             "from": "2022-01-01", "expected_signal_en": "consultants: 周咨询师 first_visit_conversion 10+ points "
             "below the others', the gap on basic complaints only; next_visit_booked far below the others'"},
            {"id": "doctor_nps_falls", "what_en": "刘医生's patients' recommend scores fall from 2025-07-01",
             "what_zh": "刘医生的患者推荐意愿下降", "where": "doctor 刘医生", "from": "2025-07-01",
             "expected_signal_en": "his NPS ~+48 before, ~0 in H2 2025; the other doctors steady"},
            {"id": "slow_waits", "what_en": "李医生, who took over 王医生's patients, runs late: waits of ~24 "
             "minutes from 2025-09-01", "what_zh": "李医生接手王医生的患者后候诊变长", "where": "doctor 李医生",
             "from": "2025-09-01", "expected_signal_en": "his mean wait in H2 2025 above 15 minutes, ~6 before"},
        ]
    return [
        {"id": "low_family_conversion", "what_en": "Few parents of child patients become patients: "
         "child -> family conversion ~0.3:1 against the method's ~1:1",
         "what_zh": "儿童患者到家庭成员的转化约0.3:1（方法参考约1:1）", "where": "channel 转介绍 "
         "(referrer = the child)", "from": "2023-01-01",
         "expected_signal_en": "adult patients whose referrer_patient_id is a child patient / child "
         "patients ~0.3"},
        {"id": "school_hours_no_show", "what_en": "Children booked on weekday afternoons (school hours) "
         "often do not come", "what_zh": "工作日下午（上课时间）儿童爽约率约30%", "where": "children's "
         "visits Monday-Friday 13:00-16:59", "from": "2023-01-01",
         "expected_signal_en": "no_show_rate ~0.30 for children's visits scheduled Mon-Fri 13:00-16:59 "
         "against ~0.08 in other slots"},
        {"id": "idle_prime_chair", "what_en": "The clinic's one chair stands empty in its after-school and "
         "weekend-morning prime hours: too few patients, the families that do not come among them",
         "what_zh": "放学后和周末上午的黄金时段椅位空置超过10%", "where": "the chair", "from": "2023-01-01",
         "expected_signal_en": "prime-hour chair vacancy above 10% in H2 2025 and before"},
        {"id": "weekend_crowd", "what_en": "From 2025-07-01 weekend mornings are crowded: long waits, lower "
         "scores from those patients, online reviews about waiting fall under 4 stars",
         "what_zh": "周末上午拥挤：候诊变长，在线评价降到4星以下", "where": "weekend mornings; reviews",
         "from": "2025-07-01", "expected_signal_en": "weekend-morning mean wait above 15 minutes; review stars "
         "under 4 on the platforms in H2 2025"},
    ]


# --------------------------------------------------------------------------------------------------
# Names, phones, addresses.

SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                 "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱武戴孔汤")
GIVEN_MALE = tuple("伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林峰建国志文博")
GIVEN_FEMALE = tuple("芳娜敏静丽艳娟霞秀玲婷雪慧莹颖琳晶倩佳璐梅燕萍红丹蕾琪欣怡悦")
GIVEN_ANY = tuple("子梓一文思嘉雨诗可然涵轩睿泽晨安乐心语宸言若书")
RARE_NAME_CHAR, RARE_NAME_SHARE = "䶮", 0.003
PHONE_PREFIXES = tuple(str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159,
                                        166, 173, 175, 176, 177, 178, *range(180, 190), 198, 199))
DISTRICTS = ("锦江区", "青羊区", "金牛区", "武侯区", "成华区", "高新区", "双流区", "郫都区")
ROADS = ("人民南路", "春熙路", "府南路", "天府大道", "科华北路", "玉林路", "蜀汉路", "建设路", "中和大道", "红星路")


def _names(rng, n: int, male: np.ndarray, surname_idx: np.ndarray) -> np.ndarray:
    given1 = np.where(male, rng.choice(np.array(GIVEN_MALE), n), rng.choice(np.array(GIVEN_FEMALE), n))
    # A rare character outside GBK (as in 刘䶮): a GB18030 file must be decoded as GB18030, not GBK.
    given1 = np.where(rng.random(n) < RARE_NAME_SHARE, RARE_NAME_CHAR, given1)
    given0 = rng.choice(np.array(GIVEN_ANY + GIVEN_MALE + GIVEN_FEMALE), n)
    two = rng.random(n) < 0.7
    given = np.where(two, np.char.add(given0, given1), given1)
    return np.char.add(np.array(SURNAMES)[surname_idx], given)


def _surnames(rng, n: int) -> np.ndarray:
    weights = 1.0 / (np.arange(len(SURNAMES)) + 4)  # common surnames are much more common
    return rng.choice(len(SURNAMES), n, p=weights / weights.sum())


def _addresses(rng, n: int) -> np.ndarray:
    """家庭住址, in the export only: personal data the loader must drop."""
    district = rng.choice(np.array(DISTRICTS), n)
    road = rng.choice(np.array(ROADS), n)
    number = rng.integers(1, 300, n).astype(str)
    flat = np.char.add(np.char.add(rng.integers(1, 8, n).astype(str), "单元"), rng.integers(101, 2605, n).astype(str))
    return np.char.add(np.char.add(np.char.add(np.char.add(district, road), number), "号"), flat)


def _nicknames(rng, n: int) -> np.ndarray:
    """用户昵称 of an online review, in the export only: personal data the loader must drop."""
    given = rng.choice(np.array(GIVEN_ANY + GIVEN_FEMALE), n)
    return np.char.add(np.char.add(rng.choice(np.array(("小", "阿", "")), n), given), rng.integers(0, 999, n).astype(str))


def _phones(rng, n: int) -> np.ndarray:
    prefix = rng.choice(np.array(PHONE_PREFIXES), n)
    rest = np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)
    return np.char.add(prefix, rest)


# --------------------------------------------------------------------------------------------------
# Small vectorised helpers.

def _choose(rng, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (rows, categories) probability matrix."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    return (rng.random(len(probs))[:, None] > cum[:, :-1]).sum(axis=1)


def _uniform_int(rng, lo, hi, n: int | None = None) -> np.ndarray:
    """Integers in lo..hi inclusive; lo and hi may be arrays."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    size = n if n is not None else np.broadcast(lo, hi).shape
    return (lo + np.floor(rng.random(size) * (hi - lo + 1))).astype(np.int64)


def _position_in_group(counts: np.ndarray) -> np.ndarray:
    """0, 1, ... within each consecutive group of the given sizes."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(counts.sum()) - starts


def _item_choice(rng, menu: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    items = np.array([m[0] for m in menu])
    weights = np.array([m[1] for m in menu], dtype=float)
    return items[rng.choice(len(items), n, p=weights / weights.sum())]


# --------------------------------------------------------------------------------------------------
# 1. New patients.

def _monthly_new_patients(spec: Spec, problems: bool, scale: float, rng) -> pd.DataFrame:
    months = np.arange(np.datetime64(spec.data_start, "M"), np.datetime64(spec.data_end, "M") + 1)
    years = (months - months[0]).astype(int) / 12.0
    base = spec.new_per_month if problems else spec.new_per_month_healthy
    level = np.array([base[c] for c in spec.channels])
    trend = (1 + spec.growth) ** (years - years.mean())
    season = np.array(spec.season)[months.astype(int) % 12]
    rates = np.outer(trend * season, level)
    if problems and spec.kind == "general":
        after = months >= np.datetime64("2025-07", "M")
        rates[after, spec.channels.index("抖音")] *= DOUYIN_VOLUME_AFTER
        rates[after, spec.channels.index("转介绍")] *= REFERRAL_VOLUME_AFTER
    counts = rng.poisson(rates * scale)
    month_idx = np.repeat(np.repeat(np.arange(len(months)), len(spec.channels)), counts.ravel())
    channel = np.repeat(np.tile(np.arange(len(spec.channels)), len(months)), counts.ravel())
    first = months[month_idx].astype("datetime64[D]").astype(np.int64)
    length = (months[month_idx] + 1).astype("datetime64[D]").astype(np.int64) - first
    return pd.DataFrame({
        "channel": channel,
        "d0": first + np.floor(rng.random(len(first)) * length).astype(np.int64),
        "referrer": -1,  # row position of the referring patient, set later
    })


def _conversion_chance(spec: Spec, problems: bool, channel: np.ndarray, d0: np.ndarray) -> np.ndarray:
    rates = spec.conversion if problems else spec.conversion_healthy
    chance = np.array([rates[c] for c in spec.channels])[channel]
    if problems and spec.kind == "general":
        douyin_after = (channel == spec.channels.index("抖音")) & (d0 >= PLANT_START)
        chance = np.where(douyin_after, DOUYIN_CONVERSION_AFTER, chance)
    return chance


def _never_arrive_chance(spec: Spec, problems: bool, channel: np.ndarray, d0: np.ndarray) -> np.ndarray:
    chance = np.full(len(channel), spec.never_arrive)
    if problems and spec.kind == "general":
        meituan_after = (channel == spec.channels.index("美团")) & (d0 >= PLANT_START)
        chance[meituan_after] = MEITUAN_NEVER_ARRIVE_AFTER
    return chance


def _family_members(spec: Spec, problems: bool, kids: pd.DataFrame, rng) -> pd.DataFrame:
    """Parents of child patients who become patients themselves, referred by the child."""
    ratio = spec.family_ratio if problems else spec.family_ratio_healthy
    arrived = np.flatnonzero(~kids["never"].to_numpy())
    per_kid = np.minimum(rng.poisson(ratio, len(arrived)), 3)
    child = np.repeat(arrived, per_kid)
    same_day = rng.random(len(child)) < 0.3
    gap = np.where(same_day, 0, np.minimum(rng.exponential(90, len(child)).astype(np.int64) + 1, 540))
    return pd.DataFrame({
        "channel": spec.channels.index("转介绍"),
        "d0": kids["d0"].to_numpy()[child] + gap,
        "referrer": child,
        "family_of": child,
    })


def _referrers(rng, patients: pd.DataFrame, referral_channel: int) -> np.ndarray:
    """An earlier arrived patient for each referral without one; 15% are left unrecorded."""
    referrer = patients["referrer"].to_numpy().copy()
    d0 = patients["d0"].to_numpy()
    arrived = np.flatnonzero(~patients["never"].to_numpy())
    needs = np.flatnonzero((patients["channel"].to_numpy() == referral_channel) & (referrer < 0)
                           & (rng.random(len(patients)) < 0.85))
    earlier = np.searchsorted(d0[arrived], d0[needs], side="left")  # rows are sorted by d0
    ok = earlier > 0
    pick = np.floor(rng.random(len(needs)) * earlier).astype(np.int64)
    referrer[needs[ok]] = arrived[pick[ok]]
    return referrer


def _patients(spec: Spec, problems: bool, scale: float, rng) -> pd.DataFrame:
    pts = _monthly_new_patients(spec, problems, scale, rng)
    pts["never"] = rng.random(len(pts)) < _never_arrive_chance(spec, problems, pts["channel"].to_numpy(),
                                                               pts["d0"].to_numpy())
    pts["family_of"] = -1  # for a parent: row of the child who brought them
    pts["surname"] = _surnames(rng, len(pts))
    if spec.family_ratio:
        family = _family_members(spec, problems, pts, rng)
        family["never"] = False
        father = rng.random(len(family)) < 0.35
        family["male"] = father
        family["surname"] = np.where(father, pts["surname"].to_numpy()[family["family_of"]],
                                     _surnames(rng, len(family)))
        pts["male"] = rng.random(len(pts)) < 0.5
        pts = pd.concat([pts, family[family["d0"] <= _day(spec.data_end)]], ignore_index=True)
    else:
        pts["male"] = rng.random(len(pts)) < 0.45
    # Medical record numbers are given in order of registration.
    order = np.lexsort((rng.random(len(pts)), pts["d0"].to_numpy()))
    new_position = np.empty(len(pts), dtype=np.int64)
    new_position[order] = np.arange(len(pts))
    pts = pts.iloc[order].reset_index(drop=True)
    for col in ("referrer", "family_of"):
        old = pts[col].to_numpy()
        pts[col] = np.where(old >= 0, new_position[np.maximum(old, 0)], -1)
    pts["referrer"] = _referrers(rng, pts, spec.channels.index("转介绍"))
    return pts


# --------------------------------------------------------------------------------------------------
# 2. Pathways and arrived visits.

def _pathway_shares(spec: Spec, problems: bool, pts: pd.DataFrame) -> np.ndarray:
    """Probability of each pathway per patient; column 0 (traffic only) is for non-converters."""
    shares = np.array([p.share for p in spec.pathways])
    probs = np.tile(shares, (len(pts), 1))
    if problems and spec.kind == "general":
        implant = [p.name for p in spec.pathways].index("种植")
        general = [p.name for p in spec.pathways].index("综合")
        after = pts["d0"].to_numpy() >= NOTICE_FROM
        moved = probs[after, implant] * (1 - IMPLANT_SHARE_AFTER_DEPARTURE)
        probs[after, implant] -= moved
        probs[after, general] += moved  # they still get their fillings here, the implant elsewhere
    return probs


def _assign_pathways(spec: Spec, problems: bool, pts: pd.DataFrame, rng) -> tuple[np.ndarray, np.ndarray]:
    """Pathway index into the combined list (clinic pathways, then family pathways)."""
    chance = _conversion_chance(spec, problems, pts["channel"].to_numpy(), pts["d0"].to_numpy())
    converts = rng.random(len(pts)) < chance
    pathway = _choose(rng, _pathway_shares(spec, problems, pts))
    pathway = np.where(converts, pathway, 0)
    if spec.adult_pathways:
        adult = pts["family_of"].to_numpy() >= 0
        offset = len(spec.pathways)
        adult_choice = _choose(rng, np.tile([p.share for p in spec.adult_pathways], (len(pts), 1)))
        pathway = np.where(adult, offset + np.where(converts, adult_choice, 0), pathway)
    return pathway, converts


def _all_pathways(spec: Spec) -> tuple[Pathway, ...]:
    return spec.pathways + spec.adult_pathways


def _assign_care(spec: Spec, problems: bool, pts: pd.DataFrame, rng) -> None:
    """What each new patient came for and who treats them; adds columns to pts."""
    pathway, pts["converts"] = _assign_pathways(spec, problems, pts, rng)
    pts["pathway"] = pathway
    paths = _all_pathways(spec)
    pts["age_lo"] = np.array([p.age[0] for p in paths])[pathway]
    pts["age_hi"] = np.array([p.age[1] for p in paths])[pathway]
    pts["child"] = np.array([p.child for p in paths])[pathway]
    pts["department"], pts["doctor"] = _department_and_doctor(spec, problems, pts, pathway, rng)
    pts["designated"] = _designated(spec, problems, pts["doctor"].to_numpy(), rng)
    pts["patient_id"] = _patient_ids(spec, len(pts))


def _department_and_doctor(spec: Spec, problems: bool, pts: pd.DataFrame, pathway: np.ndarray, rng):
    paths = _all_pathways(spec)
    dept_names = np.array([p.department for p in paths])
    traffic = np.array([i for i, p in enumerate(paths) if p.share == 0.0])
    department = dept_names[pathway].astype(object)
    is_traffic = np.isin(pathway, traffic) & ~pts["child"].to_numpy() & (pts["family_of"].to_numpy() < 0)
    names = list(spec.traffic_departments)
    weights = np.array([spec.traffic_departments[d] for d in names])
    department[is_traffic] = np.array(names)[rng.choice(len(names), is_traffic.sum(), p=weights / weights.sum())]
    doctor = np.empty(len(pts), dtype=object)
    d0 = pts["d0"].to_numpy()
    u = rng.random(len(pts))
    for dept in sorted(set(department)):
        rows = np.flatnonzero(department == dept)
        share = np.array([d.departments.get(dept, 0.0) for d in spec.doctors])
        probs = np.tile(share, (len(rows), 1))
        if problems and spec.kind == "general":
            gone = [d.doctor_id for d in spec.doctors].index(DEPARTURE[0])
            probs[d0[rows] >= NOTICE_FROM, gone] = 0.0
        cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
        doctor[rows] = np.array([d.doctor_id for d in spec.doctors])[(u[rows, None] > cum[:, :-1]).sum(axis=1)]
    return department.astype(str), doctor.astype(str)


def _designated(spec: Spec, problems: bool, doctor: np.ndarray, rng) -> np.ndarray:
    rate = {d.doctor_id: (d.designation if problems or d.designation_healthy is None else d.designation_healthy)
            for d in spec.doctors}
    return rng.random(len(doctor)) < np.vectorize(rate.get, otypes=[float])(doctor)


def _visit_plan(spec: Spec, pts: pd.DataFrame, pathway: np.ndarray, rng):
    """Arrived visits of every patient who comes: first visit, treatment steps, recalls.

    Returns the visits, the number of treatment visits planned per patient, and who dropped out.
    """
    paths = _all_pathways(spec)
    n = len(pts)
    max_steps = max(len(p.steps) for p in paths) or 1
    roles = np.full((len(paths), max_steps), -1)
    chances = np.zeros((len(paths), max_steps))
    for i, p in enumerate(paths):
        for j, (role, chance) in enumerate(p.steps):
            roles[i, j], chances[i, j] = role, chance
    same_day = rng.random(n) < np.array([p.same_day for p in paths])[pathway]
    step_roles = roles[pathway]
    included = (rng.random((n, max_steps)) < chances[pathway]) & (step_roles >= 0)
    included &= ~(same_day[:, None] & (step_roles == TREAT))
    step_roles = np.where(included, step_roles, -1)
    # Compact the included steps to the left, keeping their order.
    order = np.argsort(~included, axis=1, kind="stable")
    step_roles = np.take_along_axis(step_roles, order, axis=1)
    n_steps = included.sum(axis=1)
    adjust = np.array([p.adjust for p in paths])[pathway]
    n_adjust = np.where(adjust[:, 1] > 0, _uniform_int(rng, adjust[:, 0], adjust[:, 1]), 0)
    converted = pts["converts"].to_numpy()
    first_recall = np.where(converted, spec.recall_chance, spec.recall_chance * 0.7)
    k = np.arange(12)
    stay = rng.random((n, 12)) < first_recall[:, None] * spec.recall_decay ** k
    n_recall = np.cumprod(stay, axis=1).sum(axis=1)
    n_recall[pts["never"].to_numpy()] = 0
    planned = n_steps + n_adjust
    # A few patients start treatment and drop out part way (their plan is interrupted).
    dropped = converted & (planned >= 2) & (rng.random(n) < DROPOUT)
    kept = np.where(dropped, _uniform_int(rng, 1, np.maximum(planned - 1, 1)), planned)
    n_steps, n_adjust = np.minimum(n_steps, kept), kept - np.minimum(n_steps, kept)
    n_recall[dropped] = 0
    counts = np.where(pts["never"].to_numpy(), 0, 1 + n_steps + n_adjust + n_recall)

    patient = np.repeat(np.arange(n), counts)
    pos = _position_in_group(counts)
    ns, na = n_steps[patient], n_adjust[patient]
    step_col = np.clip(pos - 1, 0, max_steps - 1)
    role = np.select(
        [pos == 0, pos - 1 < ns, pos - 1 - ns < na],
        [FIRST, step_roles[patient, step_col], ADJUST],
        RECALL,
    )
    gap_lo = np.zeros(6, dtype=np.int64)
    gap_hi = np.zeros(6, dtype=np.int64)
    for r, (lo, hi) in spec.gaps.items():
        gap_lo[r], gap_hi[r] = lo, hi
    gap = _uniform_int(rng, gap_lo[role], gap_hi[role])
    gap[pos == 0] = 0
    cum = np.cumsum(gap)
    starts = (np.cumsum(counts) - counts)[counts > 0]
    day = pts["d0"].to_numpy()[patient] + cum - np.repeat(cum[starts], counts[counts > 0])
    adjust_no = np.where(role == ADJUST, pos - 1 - ns, -1)
    treat_here = (role == TREAT) | ((role == FIRST) & same_day[patient])
    repurchase = (role == RECALL) & (rng.random(len(role)) < 0.18)
    plan = pd.DataFrame({"patient": patient, "day": day, "role": role, "adjust_no": adjust_no,
                         "treat_here": treat_here, "repurchase": repurchase})
    return plan, planned, dropped


# Adults' booking times, 9:00-17:00 every half hour: on weekdays few come in the morning and most in the
# afternoon prime hours [S0] (14:00-17:00); at weekends they come all day. The busy prime slots and idle
# weekday mornings a chair-utilisation analysis finds in a real clinic.
ADULT_SLOTS = np.arange(9 * 60, 17 * 60 + 1, 30)
ADULT_WEEKDAY_W = np.select([ADULT_SLOTS < 13 * 60, ADULT_SLOTS < 14 * 60, ADULT_SLOTS < 17 * 60], [0.4, 3.0, 4.5], 1.0)
ADULT_WEEKEND_W = np.where((ADULT_SLOTS >= 12 * 60) & (ADULT_SLOTS < 13 * 60 + 30), 0.5, 1.0)
# Children at weekends, 9:00-18:00 every half hour, mornings first: a uniform draw of 19 values mapped here.
KID_WEEKEND_SLOT = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 8, 10, 12, 14, 16, 18])


def _visit_times(spec: Spec, day: np.ndarray, child: np.ndarray, rng) -> np.ndarray:
    """Minute of the day. Children come after school and at weekend mornings; adults on weekday afternoons
    and all day at weekends. One uniform draw per visit, as ``rng.choice`` with weights takes, so the tables
    drawn after it do not depend on the shape of the day."""
    n = len(day)
    weekend = _weekday(day) >= 5
    u = rng.random(n)
    cdf = {w: np.cumsum(weights) / weights.sum() for w, weights in ((False, ADULT_WEEKDAY_W), (True, ADULT_WEEKEND_W))}
    minute = ADULT_SLOTS[np.where(weekend, cdf[True].searchsorted(u, side="right"),
                                  cdf[False].searchsorted(u, side="right"))]
    if child.any():
        morning = np.arange(9 * 60, 12 * 60, 30)
        afternoon = np.arange(13 * 60, 17 * 60, 30)
        evening = np.arange(17 * 60, 19 * 60 + 31, 30)
        weekday_slots = np.concatenate([morning, afternoon, evening])
        weekday_w = np.concatenate([np.full(len(morning), 0.2 / len(morning)),
                                    np.full(len(afternoon), 0.3 / len(afternoon)),
                                    np.full(len(evening), 0.5 / len(evening))])
        weekday_kid = weekday_slots[rng.choice(len(weekday_slots), n, p=weekday_w)]
        weekend_kid = np.arange(9 * 60, 18 * 60 + 1, 30)[KID_WEEKEND_SLOT[rng.integers(0, 19, n)]]
        minute = np.where(child, np.where(weekend, weekend_kid, weekday_kid), minute)
    return minute


def _doctor_leaves(plan: pd.DataFrame, pts: pd.DataFrame, spec: Spec, rng) -> tuple[pd.DataFrame, np.ndarray]:
    """After the departure his patients either stop coming or move to the successor, undesignated.

    Returns the remaining visits and which patients stopped (lost visits ahead of them)."""
    who, last_day, successor = DEPARTURE
    after = (plan["doctor"].to_numpy() == who) & (plan["day"].to_numpy() > last_day)
    stop_chance = np.where(pts["designated"].to_numpy(), STOP_IF_DESIGNATED, STOP_OTHERWISE)
    stops = rng.random(len(pts)) < stop_chance
    drop = after & stops[plan["patient"].to_numpy()]
    move = after & ~drop
    plan.loc[move, "doctor"] = successor
    plan.loc[move, "designated"] = False
    plan.loc[move, "chair"] = next(d.chair for d in spec.doctors if d.doctor_id == successor)
    stopped = np.zeros(len(pts), dtype=bool)
    stopped[plan.loc[drop, "patient"].to_numpy()] = True
    return plan[~drop].reset_index(drop=True), stopped


def _arrived_visits(spec: Spec, problems: bool, pts: pd.DataFrame, rng) -> pd.DataFrame:
    """Arrived visits; sets the per-patient columns `planned` (treatment visits) and `interrupted` on pts."""
    plan, pts["planned"], dropped = _visit_plan(spec, pts, pts["pathway"].to_numpy(), rng)
    p = plan["patient"].to_numpy()
    plan["department"] = pts["department"].to_numpy()[p]
    plan["doctor"] = pts["doctor"].to_numpy()[p]
    plan["designated"] = pts["designated"].to_numpy()[p]
    chairs = {d.doctor_id: d.chair for d in spec.doctors}
    all_chairs = np.array(sorted(set(chairs.values())))
    own_chair = np.vectorize(chairs.get, otypes=[object])(plan["doctor"].to_numpy())
    other = all_chairs[rng.integers(0, len(all_chairs), len(plan))]
    plan["chair"] = np.where(rng.random(len(plan)) < 0.15, other, own_chair)
    consults = (plan["role"].to_numpy() == FIRST) | plan["treat_here"].to_numpy()
    consultant = np.array(spec.consultants)[rng.integers(0, len(spec.consultants), len(plan))]
    plan["consultant"] = np.where(consults, consultant, "")
    pts["interrupted"] = dropped
    if problems and spec.kind == "general":
        plan, stopped = _doctor_leaves(plan, pts, spec, rng)
        pts["interrupted"] = dropped | stopped
    plan = plan[plan["day"].to_numpy() <= _day(spec.data_end)].reset_index(drop=True)
    plan["minute"] = _visit_times(spec, plan["day"].to_numpy(), pts["child"].to_numpy()[plan["patient"]], rng)
    plan["status"] = "arrived"
    plan["source"] = np.arange(len(plan))  # a missed booking copied from this visit keeps its number
    return plan


# --------------------------------------------------------------------------------------------------
# 3. Charges.

def _quantity(rng, item: str, n: int) -> np.ndarray:
    _, _, qtys, qty_w = PRICE_BOOK[item]
    return np.array(qtys)[rng.choice(len(qtys), n, p=np.array(qty_w) / np.sum(qty_w))]


def _priced(rng, item: str, n: int, *, discount: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """List price and amount paid for one unit (one tooth, one implant) of an item."""
    units = PRICE_BOOK[item][1]
    list_price = np.array(units, dtype=float)[rng.integers(0, len(units), n)]
    rate = DISCOUNTS[rng.choice(len(DISCOUNTS), n, p=DISCOUNT_WEIGHTS)] if discount else 1.0
    return list_price, np.round(list_price * rate, 2)


class _Lines:
    """Collects charge lines as arrays: visit row, order on the receipt, item, prices."""

    def __init__(self, rng):
        self.rng = rng
        self.parts: list[pd.DataFrame] = []

    def add(self, rows: np.ndarray, item, *, list_price=None, amount=None, order: int = 5):
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        items = np.broadcast_to(np.asarray(item), rows.shape)
        if list_price is None:  # priced from the book, one line per tooth or implant
            qty = np.ones(len(rows), dtype=np.int64)
            for name in sorted(set(items.tolist())):
                sel = items == name
                qty[sel] = _quantity(self.rng, name, int(sel.sum()))
            rows, items = np.repeat(rows, qty), np.repeat(items, qty)
            list_price, amount = np.zeros(len(rows)), np.zeros(len(rows))
            for name in sorted(set(items.tolist())):
                sel = items == name
                list_price[sel], amount[sel] = _priced(self.rng, name, int(sel.sum()))
        self.parts.append(pd.DataFrame({"row": rows, "order": order, "item": items,
                                        "list_price": np.asarray(list_price, dtype=float) * np.ones(len(rows)),
                                        "amount_paid": np.asarray(amount, dtype=float) * np.ones(len(rows))}))

    def where(self, mask: np.ndarray, chance) -> np.ndarray:
        return np.flatnonzero(mask & (self.rng.random(len(mask)) < chance))

    def frame(self) -> pd.DataFrame:
        return pd.concat(self.parts, ignore_index=True)


def _first_visit_lines(lines: _Lines, spec: Spec, problems: bool, visits: pd.DataFrame, pts: pd.DataFrame):
    rng = lines.rng
    p = visits["patient"].to_numpy()
    first = visits["role"].to_numpy() == FIRST
    child = pts["child"].to_numpy()[p]
    traffic = ~pts["converts"].to_numpy()[p]
    channel = np.array(spec.channels)[pts["channel"].to_numpy()[p]]
    lines.add(lines.where(first, 1.0 if spec.kind == "general" else 0.8), "挂号费", order=0)
    check = lines.where(first, 0.9)
    list_price, amount = _priced(rng, "口腔检查", len(check))
    lines.add(check, "口腔检查", list_price=list_price,
              amount=np.where(rng.random(len(check)) < 0.4, 0.0, amount), order=1)  # often free
    lines.add(lines.where(first & ~child, 0.55), "全景片", order=2)
    lines.add(lines.where(first & child, 0.25), "全景片", order=2)
    lines.add(lines.where(first & child, np.where(traffic, 0.8, 0.5)), "涂氟", order=3)
    # The first cleaning: coupon price for platform channels, the 9.9 card in the Douyin campaign.
    campaign = np.zeros(len(visits), dtype=bool)
    if problems and spec.kind == "general":
        campaign = first & (channel == "抖音") & (pts["d0"].to_numpy()[p] >= PLANT_START)
        rows = np.flatnonzero(campaign)
        lines.add(rows, "超声波洁牙", list_price=198.0, amount=9.9, order=3)
    wants_clean = first & ~child & ~campaign & (rng.random(len(visits)) < np.where(traffic, 0.7, 0.15))
    coupon = wants_clean & np.isin(channel, GROUP_BUY_CHANNELS) & (rng.random(len(visits)) < 0.7)
    rows = np.flatnonzero(coupon)
    lines.add(rows, "超声波洁牙", list_price=np.array([198.0, 268.0])[rng.integers(0, 2, len(rows))],
              amount=GROUP_BUY_PRICES[rng.integers(0, 3, len(rows))], order=3)
    lines.add(np.flatnonzero(wants_clean & ~coupon), "超声波洁牙", order=3)


def _treatment_lines(lines: _Lines, spec: Spec, visits: pd.DataFrame, pts: pd.DataFrame):
    rng = lines.rng
    paths = _all_pathways(spec)
    p = visits["patient"].to_numpy()
    pathway = pts["pathway"].to_numpy()[p]
    treat = visits["treat_here"].to_numpy()
    role = visits["role"].to_numpy()
    for i, path in enumerate(paths):
        if not path.treat:
            continue
        here = treat & (pathway == i)
        rows = np.flatnonzero(here)
        items = _item_choice(rng, path.treat, len(rows))
        if len(path.instalments) > 1:
            _instalment_lines(lines, visits, pts, i, path, rows, items)
        else:
            lines.add(rows, items, order=4)
        for extra, chance in path.extras:
            lines.add(lines.where(here, chance), extra, order=6)
        if path.name == "种植":  # implant crown charged separately half of the time
            lines.add(lines.where((pathway == i) & (role == CROWN), 0.5), "全瓷冠", order=4)
    lines.add(lines.where(treat, 0.3), "药品", order=8)
    lines.add(lines.where(role == FOLLOW, 0.4), "药品", order=8)
    # A patient who only had the check-up sometimes comes back within weeks for the cleaning.
    adult = ~pts["child"].to_numpy()[p]
    traffic = ~pts["converts"].to_numpy()[p]
    lines.add(lines.where((role == FOLLOW) & traffic & adult, 0.6), "超声波洁牙", order=3)
    lines.add(lines.where((role == FOLLOW) & traffic & ~adult, 0.6), "涂氟", order=3)
    # Registration (挂号费) is charged on most return visits too.
    lines.add(lines.where(role != FIRST, 0.8), "挂号费", order=0)


def _instalment_lines(lines: _Lines, visits, pts, i: int, path: Pathway, rows: np.ndarray, items: np.ndarray):
    """Orthodontics is paid in 1-3 parts: at the start, then at the 3rd and 6th adjustment visits."""
    rng = lines.rng
    n_pts = len(pts)
    parts = 1 + rng.choice(len(path.instalments), n_pts, p=np.array(path.instalments))
    total_list, total_paid = _priced(rng, items[0] if len(items) else path.treat[0][0], n_pts)
    p = visits["patient"].to_numpy()
    share = 1.0 / parts
    lines.add(rows, items, list_price=np.round(total_list[p[rows]] * share[p[rows]], 2),
              amount=np.round(total_paid[p[rows]] * share[p[rows]], 2), order=4)
    adjust_no = visits["adjust_no"].to_numpy()
    pathway = pts["pathway"].to_numpy()[p]
    for k, at in ((2, 2), (3, 5)):
        due = np.flatnonzero((pathway == i) & (adjust_no == at) & (parts[p] >= k))
        lines.add(due, path.treat[0][0], list_price=np.round(total_list[p[due]] * share[p[due]], 2),
                  amount=np.round(total_paid[p[due]] * share[p[due]], 2), order=4)


def _recall_lines(lines: _Lines, spec: Spec, visits: pd.DataFrame, pts: pd.DataFrame):
    p = visits["patient"].to_numpy()
    recall = visits["role"].to_numpy() == RECALL
    child = pts["child"].to_numpy()[p]
    lines.add(lines.where(recall, 0.6), "口腔检查", order=1)
    lines.add(lines.where(recall & ~child, 0.2), "全景片", order=2)  # the yearly X-ray
    lines.add(lines.where(recall & ~child, 0.85), "超声波洁牙", order=3)
    lines.add(lines.where(recall & child, 0.8), "涂氟", order=3)
    lines.add(lines.where(recall & child, 0.1), "窝沟封闭", order=3)
    rows = np.flatnonzero(visits["repurchase"].to_numpy())
    lines.add(rows, _item_choice(lines.rng, spec.repurchase, len(rows)), order=4)


def _refunds(charges: pd.DataFrame, spec: Spec, problems: bool, rng) -> pd.DataFrame:
    """About 1% of treatment lines are refunded, fully or in part, a few days later."""
    big = charges["list_price"].to_numpy() >= 1000
    rows = np.flatnonzero(big & (rng.random(len(charges)) < 0.012))
    refund = charges.iloc[rows].copy()
    part = np.where(rng.random(len(rows)) < 0.5, 1.0, rng.uniform(0.2, 0.8, len(rows)))
    # A refund line is the item with negative amounts: 标准价 and 实收 both count back.
    refund["amount_paid"] = -np.round(refund["amount_paid"].to_numpy() * part, 2)
    refund["list_price"] = -np.round(refund["list_price"].to_numpy() * part, 2)
    refund["day"] = refund["day"].to_numpy() + _uniform_int(rng, 1, 20, len(rows))
    refund["minute"] = _uniform_int(rng, 9 * 60, 17 * 60, len(rows))
    refund["second"] = _uniform_int(rng, 0, 59, len(rows))
    refund["receipt"] = -1 - np.arange(len(rows))  # a receipt of its own
    keep = refund["day"].to_numpy() <= _day(spec.data_end)
    if problems and spec.kind == "general":  # nothing is booked to the departed doctor after he left
        keep &= ~((refund["doctor"].to_numpy() == DEPARTURE[0]) & (refund["day"].to_numpy() > DEPARTURE[1]))
    return refund[keep]


def _charges(spec: Spec, problems: bool, visits: pd.DataFrame, pts: pd.DataFrame, rng) -> pd.DataFrame:
    lines = _Lines(rng)
    _first_visit_lines(lines, spec, problems, visits, pts)
    _treatment_lines(lines, spec, visits, pts)
    _recall_lines(lines, spec, visits, pts)
    ch = lines.frame()
    v = ch["row"].to_numpy()
    # Paid at the desk after the treatment: 20-90 minutes after the appointment.
    service = _uniform_int(rng, 20, 90, len(visits))
    seconds = _uniform_int(rng, 0, 59, len(visits))
    ch["day"] = visits["day"].to_numpy()[v]
    ch["minute"] = visits["minute"].to_numpy()[v] + service[v]
    ch["second"] = seconds[v]
    ch["receipt"] = v
    for col in ("patient", "doctor", "designated"):
        ch[col] = visits[col].to_numpy()[v]
    ch = pd.concat([ch, _refunds(ch, spec, problems, rng)], ignore_index=True)
    return ch


# --------------------------------------------------------------------------------------------------
# 4. Missed appointments.

def _no_show_chance(spec: Spec, problems: bool, day, minute, channel, child) -> np.ndarray:
    rate = np.full(len(day), spec.no_show)
    if problems and spec.kind == "general":
        rate[(channel == spec.channels.index("美团")) & (day >= PLANT_START)] = MEITUAN_NO_SHOW_AFTER
    if problems and spec.kind == "children":
        school = (_weekday(day) < 5) & (minute >= 13 * 60) & (minute < 17 * 60) & child
        rate[school] = SCHOOL_HOURS_NO_SHOW
    return rate / (1 - rate)  # missed visits per arrival, so that missed / (arrived + missed) = rate


def _missed_visits(spec: Spec, problems: bool, arrived: pd.DataFrame, pts: pd.DataFrame, rng) -> pd.DataFrame:
    """No-shows rebooked the same time a week or two later, cancellations, and lost patients."""
    p = arrived["patient"].to_numpy()
    day, minute = arrived["day"].to_numpy(), arrived["minute"].to_numpy()
    per_arrival = _no_show_chance(spec, problems, day, minute, pts["channel"].to_numpy()[p],
                                  pts["child"].to_numpy()[p])
    no_show = rng.random(len(arrived)) < per_arrival
    ns = arrived[no_show].copy()
    ns["day"] = ns["day"].to_numpy() - 7 * rng.choice([1, 2], len(ns), p=[0.7, 0.3])
    ns["status"] = "no_show"
    cancel = rng.random(len(arrived)) < spec.cancel / (1 - spec.cancel)
    cn = arrived[cancel].copy()
    cn["day"] = cn["day"].to_numpy() - _uniform_int(rng, 1, 10, len(cn))
    cn["status"] = "cancelled"
    # Lost: a booked return visit after the last arrival that nobody came to.
    last = arrived.groupby("patient", sort=True).tail(1)
    lost = last[rng.random(len(last)) < 0.06].copy()
    lost["day"] = lost["day"].to_numpy() + _uniform_int(rng, 30, 200, len(lost))
    lost["role"] = RECALL
    lost["status"] = "no_show"
    missed = pd.concat([ns, cn, lost, _never_arrived(spec, pts, rng)], ignore_index=True)
    if problems and spec.kind == "general":  # bookings after the departure are with his successor
        who, last_day, successor = DEPARTURE
        moved = (missed["doctor"] == who) & (missed["day"] > last_day)
        missed.loc[moved, "doctor"] = successor
        missed.loc[moved, "chair"] = next(d.chair for d in spec.doctors if d.doctor_id == successor)
    keep = (missed["day"] >= _day(spec.data_start)) & (missed["day"] <= _day(spec.data_end))
    return missed[keep]


def _never_arrived(spec: Spec, pts: pd.DataFrame, rng) -> pd.DataFrame:
    """The one booking of each patient who never came: a no-show or a cancellation of the first visit."""
    rows = np.flatnonzero(pts["never"].to_numpy())
    out = pd.DataFrame({"patient": rows, "day": pts["d0"].to_numpy()[rows], "role": FIRST,
                        "department": pts["department"].to_numpy()[rows],
                        "doctor": pts["doctor"].to_numpy()[rows],
                        "chair": "", "consultant": "", "source": -1,
                        "status": np.where(rng.random(len(rows)) < 0.7, "no_show", "cancelled")})
    out["chair"] = np.vectorize({d.doctor_id: d.chair for d in spec.doctors}.get, otypes=[object])(out["doctor"])
    out["minute"] = _visit_times(spec, out["day"].to_numpy(), pts["child"].to_numpy()[rows], rng)
    return out


# --------------------------------------------------------------------------------------------------
# Canonical tables.

def _ids(prefix: str, n: int, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(1, n + 1).astype(str), width))


def _patient_ids(spec: Spec, n: int) -> np.ndarray:
    if spec.kind == "general":  # 病历号: plain numbers, as many systems issue them
        return (100001 + np.arange(n)).astype(str)
    return _ids("ET", n, 6)


def _visits_table(spec: Spec, arrived: pd.DataFrame, missed: pd.DataFrame, pts: pd.DataFrame):
    """The canonical visits table, and the sorted working frame it was made from."""
    visits = pd.concat([arrived, missed], ignore_index=True)
    status_rank = visits["status"].map({"cancelled": 0, "no_show": 1, "arrived": 2}).to_numpy()
    order = np.lexsort((status_rank, visits["patient"].to_numpy(), visits["minute"].to_numpy(),
                        visits["day"].to_numpy()))
    visits = visits.iloc[order].reset_index(drop=True)
    prefix, width = ("YY", 7) if spec.kind == "general" else ("JZ", 6)
    visits["visit_id"] = _ids(prefix, len(visits), width)
    # Each patient's first booking is the first visit (初诊), whether or not they came to it.
    first_arrival = visits[visits["status"] == "arrived"].groupby("patient")["day"].min()
    fa = first_arrival.reindex(visits["patient"]).to_numpy()
    is_first = np.isnan(fa) | (visits["day"].to_numpy() <= fa)
    table = pd.DataFrame({
        "visit_id": visits["visit_id"],
        "patient_id": pts["patient_id"].to_numpy()[visits["patient"].to_numpy()],
        "scheduled_at": _timestamps(visits["day"].to_numpy(), visits["minute"].to_numpy()),
        "status": visits["status"].to_numpy(),
        "visit_type": np.where(is_first, "first", "return"),
        "department": visits["department"].to_numpy(),
        "doctor_id": visits["doctor"].to_numpy(),
        "consultant_id": visits["consultant"].replace("", np.nan).to_numpy(),
        "chair_id": visits["chair"].replace("", np.nan).to_numpy(),
    })
    if spec.kind == "children":
        table = table.drop(columns="consultant_id")
    return table, visits


def _charges_table(spec: Spec, charges: pd.DataFrame, visit_ids: np.ndarray, pts: pd.DataFrame) -> pd.DataFrame:
    paid = _timestamps(charges["day"].to_numpy(), charges["minute"].to_numpy(), charges["second"].to_numpy())
    order = np.lexsort((charges["order"].to_numpy(), charges["receipt"].to_numpy(), paid))
    charges = charges.iloc[order].reset_index(drop=True)
    receipt, _ = pd.factorize(charges["receipt"])
    prefix = "SF" if spec.kind == "general" else "DJ"
    table = pd.DataFrame({
        "charge_id": _ids(prefix, receipt.max() + 1, 7)[receipt],
        "visit_id": visit_ids[charges["row"].to_numpy()],
        "patient_id": pts["patient_id"].to_numpy()[charges["patient"].to_numpy()],
        "paid_at": paid[order],
        "item": charges["item"].to_numpy(),
        "category": charges["item"].map({item: entry[0] for item, entry in PRICE_BOOK.items()}).to_numpy(),
        "list_price": charges["list_price"].to_numpy(),
        "amount_paid": charges["amount_paid"].to_numpy(),
        "doctor_id": charges["doctor"].to_numpy(),
        "designated": charges["designated"].to_numpy().astype(bool),
    })
    # Neither system exports the department on charge lines (it is on the visit, via visit_id), and the
    # general clinic's has no item category either: the playbook classifies items by their names.
    return table.drop(columns="category") if spec.kind == "general" else table


def _patients_table(spec: Spec, pts: pd.DataFrame, visits: pd.DataFrame, charges: pd.DataFrame, rng):
    n = len(pts)
    arrived = visits[visits["status"] == "arrived"]
    first_arrival = arrived.groupby("patient")["day"].min().reindex(np.arange(n)).to_numpy()
    if spec.kind == "children":
        # 建档日期 is when the record was opened: the first booking, even one never kept.
        booked = visits.groupby("patient")["day"].min().reindex(np.arange(n)).to_numpy()
        first_date = booked
    else:
        first_date = first_arrival
    age = _uniform_int(rng, pts["age_lo"].to_numpy(), pts["age_hi"].to_numpy())
    first_year = pts["d0"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    birth_year = first_year - age
    known_year = rng.random(n) < 0.95
    referrer = pts["referrer"].to_numpy()
    table = pd.DataFrame({
        "patient_id": pts["patient_id"],
        "name": _names(rng, n, pts["male"].to_numpy(), pts["surname"].to_numpy()),
        "phone": _phones(rng, n),
        "first_visit_date": pd.Series(_dates(np.nan_to_num(first_date).astype(np.int64)))
                              .where(~np.isnan(first_date)),
        "source_channel": np.array(spec.channels)[pts["channel"].to_numpy()],
        "referrer_patient_id": pd.Series(pts["patient_id"].to_numpy()[np.maximum(referrer, 0)]).where(referrer >= 0),
        "birth_year": pd.array(np.where(known_year, birth_year, 0), dtype="Int64"),
        "gender": np.where(pts["male"].to_numpy(), "男", "女"),
    })
    table.loc[~known_year, "birth_year"] = pd.NA
    if spec.kind == "general":
        spend = charges.groupby("patient_id")["amount_paid"].sum().reindex(table["patient_id"]).fillna(0).to_numpy()
        table["member"] = (spend > 3000) & (rng.random(n) < 0.6) | (rng.random(n) < 0.08)
        rank = pd.Series(spend).rank(pct=True, method="first").to_numpy()
        tier = np.select([rank > 0.85, rank > 0.5], ["A", "B"], "C").astype(object)
        tier[np.isnan(first_arrival) | (rng.random(n) < 0.1)] = np.nan  # untagged
        table["tier_tag"] = tier
    return table


# --------------------------------------------------------------------------------------------------
# 5. Optional tables.

def _revenue_by_month(charges: pd.DataFrame) -> pd.Series:
    return charges.groupby(charges["paid_at"].dt.to_period("M"))["amount_paid"].sum()


def _costs(spec: Spec, problems: bool, scale: float, charges: pd.DataFrame, marketing: pd.Series, rng):
    revenue = _revenue_by_month(charges)
    months = revenue.index.to_timestamp().to_numpy().astype("datetime64[us]")
    n = len(revenue)
    consumables = spec.consumables if problems else spec.consumables_healthy
    noise = lambda spread: rng.uniform(1 - spread, 1 + spread, n)  # noqa: E731
    by_category = {
        "耗材": revenue.to_numpy() * consumables * noise(0.06),
        "加工费": revenue.to_numpy() * 0.075 * noise(0.08),
        "库存": revenue.to_numpy() * 0.04 * noise(0.1),
        "房租": np.full(n, spec.monthly_fixed["房租"] * scale),
        "人工": spec.monthly_fixed["人工"] * scale * noise(0.03) + revenue.to_numpy() * 0.08,
        "营销": marketing.reindex(revenue.index).fillna(0).to_numpy() + 10000 * scale * noise(0.3),
    }
    frames = [pd.DataFrame({"month": months, "category": cat, "amount": np.round(amount, 2)})
              for cat, amount in by_category.items()]
    costs = pd.concat(frames, ignore_index=True)
    return costs.sort_values(["month"], kind="stable").reset_index(drop=True)


# Each year's campaigns: name, channel, start MM-DD, end MM-DD, spend at scale 1, offer price, cost per unit.
# Spend is set so that a channel's new patients bring in about 3-6 times what it costs (about 10% of
# revenue goes to marketing), which leaves the 9.9 card below the stop-loss ROI of 1.5.
CAMPAIGN_TEMPLATES = (
    ("大众点评推广通", "大众点评", "01-01", "12-31", 180000, np.nan, np.nan),
    ("美团洁牙团购", "美团", "01-01", "06-30", 120000, 88.0, 45.0),
    ("社区义诊地推", "地推", "03-01", "04-30", 30000, 0.0, 40.0),
    ("抖音本地生活洁牙", "抖音", "04-01", "06-30", 60000, 99.0, 45.0),
    ("暑期儿童涂氟", "美团", "07-01", "08-31", 40000, 59.0, 30.0),
    ("抖音秋季团购", "抖音", "09-01", "11-30", 50000, 99.0, 45.0),
    ("美团秋季团购", "美团", "09-01", "12-31", 80000, 88.0, 45.0),
    ("社区义诊地推", "地推", "09-01", "10-31", 40000, 0.0, 40.0),
)
DOUYIN_CARD = ("抖音9.9元洁牙卡", "抖音", "07-01", "12-31", 200000, 9.9, 45.0)


def _campaign_windows(problems: bool, scale: float, rng) -> pd.DataFrame:
    rows = []
    for year in range(2022, 2026):
        templates = list(CAMPAIGN_TEMPLATES)
        if year == 2025 and problems:  # the 9.9 card replaces the autumn Douyin campaign
            templates = [t for t in templates if t[0] != "抖音秋季团购"] + [DOUYIN_CARD]
        for name, channel, start, end, spend, price, cost in templates:
            rows.append((f"{year}{name}", channel, f"{year}-{start}", f"{year}-{end}", spend, price, cost))
    out = pd.DataFrame(rows, columns=["name", "channel", "start", "end", "spend", "offer_price", "offer_cost"])
    out["start"] = pd.to_datetime(out["start"]).astype("datetime64[us]")
    out["end"] = pd.to_datetime(out["end"]).astype("datetime64[us]")
    out = out.sort_values("start", kind="stable").reset_index(drop=True)
    out.insert(0, "campaign_id", [f"HD{i:03d}" for i in range(1, len(out) + 1)])
    out["spend"] = np.round(out["spend"] * scale * rng.uniform(0.9, 1.1, len(out)), 2)
    return out


def _leads(spec: Spec, problems: bool, pts: pd.DataFrame, campaigns: pd.DataFrame, rng) -> pd.DataFrame:
    """Online and street leads: the new patients who came, plus the many who did not."""
    arrival = LEAD_ARRIVAL if problems else LEAD_ARRIVAL_HEALTHY
    channels = list(arrival)
    chan_name = np.array(spec.channels)[pts["channel"].to_numpy()]
    came = np.isin(chan_name, channels) & (pts["d0"].to_numpy() >= LEADS_FROM + 14)
    rows = np.flatnonzero(came)
    lead_day = pts["d0"].to_numpy()[rows] - _uniform_int(rng, 0, 14, len(rows))
    booked_patients = pd.DataFrame({
        "channel": chan_name[rows], "day": lead_day, "booked": True,
        "arrived": ~pts["never"].to_numpy()[rows], "patient_id": pts["patient_id"].to_numpy()[rows]})
    # Leads that never came: enough of them that arrived / leads is the channel's arrival rate.
    months = np.arange(np.datetime64(LEADS_FROM, "D").astype("datetime64[M]"),
                       np.datetime64(spec.data_end, "M") + 1)
    month_of = lead_day.astype("datetime64[D]").astype("datetime64[M]")
    others = []
    for ch in channels:  # four channels: a loop over channels, not over rows
        sel = booked_patients["channel"].to_numpy() == ch
        n_came = pd.Series(booked_patients["arrived"].to_numpy()[sel]).groupby(month_of[sel]).sum()
        n_came = n_came.reindex(months, fill_value=0).to_numpy()
        n_more = rng.poisson(n_came * (1 - arrival[ch]) / arrival[ch])
        start = months.astype("datetime64[D]").astype(np.int64)
        length = (months + 1).astype("datetime64[D]").astype(np.int64) - start
        m = np.repeat(np.arange(len(months)), n_more)
        others.append(pd.DataFrame({"channel": ch, "day": start[m] + np.floor(rng.random(len(m)) * length[m]),
                                    "booked": rng.random(len(m)) < 0.3, "arrived": False, "patient_id": np.nan}))
    leads = pd.concat([booked_patients, *others], ignore_index=True)
    leads["day"] = leads["day"].astype(np.int64)
    leads = leads[leads["day"] <= _day(spec.data_end)]
    minute = _uniform_int(rng, 8 * 60, 22 * 60, len(leads))  # people write in the evening too
    leads["created_at"] = _timestamps(leads["day"].to_numpy(), minute)
    leads = leads.sort_values(["created_at", "channel"], kind="stable").reset_index(drop=True)
    campaign_id = np.full(len(leads), None, dtype=object)
    for c in campaigns.itertuples():  # a couple of dozen campaigns
        in_window = (leads["channel"] == c.channel) & (leads["created_at"] >= c.start) & \
                    (leads["created_at"] < c.end + pd.Timedelta(days=1))
        campaign_id[in_window.to_numpy()] = c.campaign_id
    leads["campaign_id"] = campaign_id
    return pd.DataFrame({
        "lead_id": _ids("XS", len(leads), 6), "channel": leads["channel"].to_numpy(),
        "campaign_id": leads["campaign_id"].to_numpy(), "created_at": leads["created_at"].to_numpy(),
        "booked": leads["booked"].to_numpy().astype(bool), "arrived": leads["arrived"].to_numpy().astype(bool),
        "patient_id": leads["patient_id"].to_numpy()})


def _campaigns(windows: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    sold = leads[leads["booked"]].groupby("campaign_id").size()
    out = windows.copy()
    out["units_sold"] = pd.array(sold.reindex(out["campaign_id"]).fillna(0).astype(int).to_numpy(), dtype="Int64")
    # No offer, or before lead tracking started: the number sold is not known.
    unknown = out["offer_price"].isna() | (out["start"] < np.datetime64(LEADS_FROM, "D"))
    out.loc[unknown, "units_sold"] = pd.NA
    return out[["campaign_id", "name", "channel", "start", "end", "spend", "offer_price", "offer_cost",
                "units_sold"]]


def _treatment_plans(spec: Spec, pts: pd.DataFrame, visits: pd.DataFrame, rng) -> pd.DataFrame:
    """A plan for every high-value pathway, half of the general ones, and declined plans of non-converters."""
    paths = _all_pathways(spec)
    names = np.array([p.name for p in paths])
    pathway = pts["pathway"].to_numpy()
    arrived = visits[visits["status"] == "arrived"]
    first_day = arrived.groupby("patient")["day"].min()
    treatment_visits = arrived[arrived["role"].isin((TREAT, FOLLOW, CROWN, ADJUST))].groupby("patient").size()
    came = first_day.index.to_numpy()
    pw = pathway[came]
    refused = ~pts["converts"].to_numpy()[came]
    high = np.isin(names[pw], ("种植", "正畸", "修复"))
    general = (names[pw] == "综合") & (rng.random(len(came)) < 0.5)
    declined = refused & (rng.random(len(came)) < 0.45)
    has_plan = high | general | declined
    rows = came[has_plan]
    menu = {"种植": "种植牙", "正畸": "隐形矫正", "修复": "全瓷冠", "综合": "根管治疗"}
    proposal = np.where(refused[has_plan], rng.choice(list(menu), len(rows), p=[0.3, 0.15, 0.25, 0.3]),
                        names[pw[has_plan]])
    amount = np.zeros(len(rows))
    for name, item in menu.items():
        sel = proposal == name
        amount[sel], _ = _priced(rng, item, int(sel.sum()), discount=False)
    created = first_day.reindex(rows).to_numpy()
    done = treatment_visits.reindex(rows).fillna(0).to_numpy()
    status = np.select(
        [refused[has_plan], pts["interrupted"].to_numpy()[rows], done >= pts["planned"].to_numpy()[rows]],
        [np.where(created > _day(spec.data_end) - 30, "proposed", "declined"), "interrupted", "completed"],
        "accepted")
    order = np.lexsort((rows, created))
    return pd.DataFrame({
        "plan_id": _ids("JH", len(rows), 6),
        "patient_id": pts["patient_id"].to_numpy()[rows[order]],
        "created_at": _dates(created[order]),
        "planned_amount": amount[order],
        "status": status[order],
        "doctor_id": pts["doctor"].to_numpy()[rows[order]],
    })


def _staff(spec: Spec) -> pd.DataFrame:
    rows = [(d.doctor_id, d.full_name, "医生", d.title, 12 if d.title == "主治" else 8) for d in spec.doctors]
    given = iter(("丽", "娟", "敏", "霞", "倩", "莉", "琳"))
    for c in spec.consultants:
        rows.append((c, c[0] + next(given), "咨询师", np.nan, 20))
    for nurse in spec.nurses:
        rows.append((nurse, nurse[0] + next(given), "护士", np.nan, np.nan))
    out = pd.DataFrame(rows, columns=["staff_id", "staff_name", "role", "title", "daily_capacity"])
    out["daily_capacity"] = out["daily_capacity"].astype("Int64")
    return out


# --------------------------------------------------------------------------------------------------
# 6. Coordinators, the clinic's clock, bookings and patient feedback. Drawn after everything above from
# a stream of their own (``_extra_rng``), so the tables above, and the plants measured on them, are the
# same with or without these.

# When the clinic opens, its chairs and, where they differ from [S0]'s 14:00-17:00, its prime hours
# (clinic.yaml's opening_hours, chairs, prime_hours; playbook.chairs).
WEEKS = {
    "general": {"opening_hours": {"mon-fri": "09:00-20:00", "sat-sun": "09:00-18:00"}, "chairs": 3,
                "prime_hours": {"mon-fri": "14:00-17:00"}},
    "children": {"opening_hours": {"mon-fri": "09:00-20:30", "sat-sun": "09:00-18:00"}, "chairs": 1,
                 "prime_hours": {"mon-fri": "17:00-20:00", "sat-sun": "10:00-12:00"}},
}
CHERRY_PICKER = "周咨询师"  # takes the implant, orthodontic and prosthetic complaints, neglects the basic ones [S4]
CHERRY_TAKES_UNCONVERTED = 0.28  # of the other coordinators' unconverted (basic) patients, this share lands with them
CHERRY_GIVES_BASIC = 0.25  # of their converting basic-complaint patients, this share they leave to the others
HIGH_VALUE_DEPARTMENTS = ("种植", "正畸", "修复")
REBOOK = {"treatment": 0.88, "recall": 0.55}  # the next visit booked at checkout: during treatment, for a recall
CHERRY_REBOOK = 0.7  # the cherry-picker's patients are booked at checkout this much as often [S4]
TURNOVER = 10  # minutes to clean and set up the chair after a patient (the playbook's chair_turnover_minutes)
FLEXIBLE = {"general": 0.2, "children": 0.0}  # patients who take the prime-hour chair the front desk offers them
WAIT_MINUTES = 6.0  # mean wait after check-in (exponential)
SLOW_DOCTOR = ("李医生", _day("2025-09-01"), 24.0)  # took over 王医生's patients: waits from then, mean minutes
WEEKEND_CROWD = (_day("2025-07-01"), 27.0)  # children's clinic: weekend mornings crowded from then, mean minutes
# Chair minutes of a visit by its role, and of a treatment visit by department (uniform between the two).
VISIT_MINUTES = {FIRST: (30, 50), FOLLOW: (20, 40), CROWN: (50, 80), ADJUST: (30, 50), RECALL: (40, 60)}
TREAT_MINUTES = {"种植": (90, 150), "正畸": (60, 90), "修复": (60, 100), "综合": (40, 80), "牙周": (50, 80),
                 "儿牙": (30, 50)}
# Surveys: the share of arrived visits answering the 0-10 recommend question; score weights 0..10.
SURVEY_SHARE = {"general": 0.15, "children": 0.2}
SCORES = np.array([1, 0.5, 0.5, 1, 1, 2, 6, 12, 16, 25, 35], dtype=float)  # NPS about +48
SCORES_UNHAPPY = np.array([4, 2, 3, 4, 5, 8, 12, 14, 14, 16, 18], dtype=float)  # NPS about -4
UNHAPPY_DOCTOR = ("刘医生", PLANT_START)  # general clinic: his patients' scores fall from then
REVIEWS_PER_DAY = {"general": 0.9, "children": 0.45}
PLATFORMS = {"general": (("大众点评", 0.6), ("美团", 0.4)), "children": (("大众点评", 0.5), ("美团", 0.3), ("小红书", 0.2))}
STARS = np.array([2, 3, 6, 20, 69], dtype=float)  # 1..5 stars, mean about 4.5
STARS_CROWDED = np.array([12, 15, 15, 20, 38], dtype=float)  # mean about 3.7: the children's clinic from WEEKEND_CROWD
# What patients write, by theme (the playbook reads the themes; nobody reads a comment in a report).
COMMENTS = {
    "manner": ("医生态度冷淡，问什么都不耐烦", "看诊太匆忙，医生不太愿意解释", "服务态度一般，爱答不理"),
    "wait": ("周末排队等了很久", "预约了还要等半天", "候诊时间太长，孩子等得哭了"),
    "price": ("价格有点贵", "收费项目没有提前说清楚", "性价比一般"),
    "pain": ("补牙的时候有点疼", "麻药过了以后痛了两天"),
    "booking": ("电话预约总是约不上", "改约很麻烦"),
    "outcome": ("补的牙没多久就掉了", "效果一般"),
}
PRAISE = ("医生很耐心，讲得很清楚", "环境干净，前台很热情", "孩子不怕看牙了，谢谢医生", "技术好，一点都不疼", "")


def _extra_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, 15])


def _coordinators(spec: Spec, problems: bool, pts: pd.DataFrame, visits: pd.DataFrame, rng) -> np.ndarray:
    """The coordinator of each visit row a coordinator attends (first and treatment visits): the one who
    received the patient at the first visit stays with them. The general clinic's cherry-picker ends up with
    more of the basic complaints that do not convert, and leaves converting basic ones to the others."""
    consults = visits["consultant"].fillna("").to_numpy() != ""
    patient = visits["patient"].to_numpy()
    first = pd.Series(visits["consultant"].to_numpy()[consults], index=patient[consults]).groupby(level=0).first()
    own = pd.Series("", index=np.arange(len(pts)), dtype=object)
    own[first.index] = first.to_numpy()
    if problems and spec.kind == "general":
        names = np.array(spec.consultants)
        others = names[names != CHERRY_PICKER]
        basic = ~np.isin(pts["department"].to_numpy(), HIGH_VALUE_DEPARTMENTS)
        converts = pts["converts"].to_numpy()
        held = own.to_numpy() != ""
        u = rng.random(len(pts))
        pick = others[rng.integers(0, len(others), len(pts))]
        taken = held & ~converts & (own.to_numpy() != CHERRY_PICKER) & (u < CHERRY_TAKES_UNCONVERTED)
        given = held & converts & basic & (own.to_numpy() == CHERRY_PICKER) & (u < CHERRY_GIVES_BASIC)
        own[taken] = CHERRY_PICKER
        own[given] = pick[given]
    return np.where(consults, own.to_numpy()[patient], "")


def _lengths(spec: Spec, visits: pd.DataFrame, rng) -> np.ndarray:
    """Chair minutes of each visit row: by its role, a treatment visit by its department. The children's
    clinic books fixed blocks per department (the playbook's default lengths), and exports no end times."""
    n = len(visits)
    if spec.kind == "children":
        blocks = {d: thresholds.DEFAULTS[f"visit_minutes_{thresholds.department_kind(d)}"].value
                  for d in pd.unique(visits["department"])}
        return visits["department"].map(blocks).to_numpy().astype(float)
    role, department = visits["role"].to_numpy(), visits["department"].to_numpy()
    low, high = np.full(n, 30.0), np.full(n, 50.0)
    for r, (a, b) in VISIT_MINUTES.items():
        low[role == r], high[role == r] = a, b
    treat = visits["treat_here"].fillna(False).to_numpy().astype(bool)
    for dept, (a, b) in TREAT_MINUTES.items():
        sel = treat & (department == dept)
        low[sel], high[sel] = a, b
    return np.round(low + rng.random(n) * (high - low))


def _seat(visits: pd.DataFrame, length: np.ndarray, spec: Spec, rng) -> np.ndarray:
    """The booked minute of each arrived visit once the front desk has fitted it to its department's chairs:
    the time the patient asked for when a chair is free for the whole visit and its turnover, else the next
    free time that day (the afternoon rush spills into the evening), else the latest free time before it.
    The desk first books those who must come at their time, then offers the flexible ones (``FLEXIBLE``) a
    free prime-hour chair, as a booking system that fills the prime hours first does."""
    week = hours.parse(WEEKS[spec.kind]["opening_hours"])
    prime = week & hours.parse(WEEKS[spec.kind].get("prime_hours") or hours.PRIME_DEFAULT)
    chairs = WEEKS[spec.kind]["chairs"]
    chairs = chairs if isinstance(chairs, dict) else {"其他": chairs}
    step = 5
    minute = visits["minute"].to_numpy().astype(np.int64).copy()
    days = visits["day"].to_numpy()
    group = np.where(np.isin(visits["department"].to_numpy(), list(chairs)), visits["department"].to_numpy(), "其他")
    arrived = np.flatnonzero(visits["status"].to_numpy() == "arrived")
    flexible = rng.random(len(arrived)) < FLEXIBLE[spec.kind]
    order = np.lexsort((rng.random(len(arrived)), minute[arrived], flexible, days[arrived]))
    flexible, arrived = flexible[order].tolist(), arrived[order]
    blocks = np.ceil((length + TURNOVER) / step).astype(np.int64).tolist()
    wanted, days_of, groups = (minute // step).tolist(), days.tolist(), group.tolist()
    current, busy, first, last, rush = None, {}, 0, 0, ()
    for flex, row in zip(flexible, arrived.tolist()):
        if days_of[row] != current:  # a new day: every chair free
            current, busy = days_of[row], {g: [0] * (24 * 60 // step) for g in chairs}
            weekday = int(_weekday(current))
            ranges = week.days[weekday]
            first, last = (ranges[0][0] // step, ranges[-1][1] // step) if ranges else (0, 24 * 60 // step)
            rush = [(a // step, b // step) for a, b in prime.days[weekday]]
        need, room, seats = blocks[row], busy[groups[row]], chairs[groups[row]]
        # a flexible patient takes the first chair free in the prime hours, one that runs past their end too
        spot = (_free(room, need, seats, rush[0][0], min(last, rush[-1][1] + need - 1), rush[0][0], up=True)
                if flex and rush else None)
        if spot is None:
            want = wanted[row]
            spot = _free(room, need, seats, first, last, want, up=True)
            spot = _free(room, need, seats, first, last, want, up=False) if spot is None else spot
        spot = wanted[row] if spot is None else spot
        for t in range(spot, spot + need):
            room[t] += 1
        minute[row] = spot * step
    return minute


def _free(busy: list, need: int, chairs: int, first: int, last: int, want: int, *, up: bool) -> int | None:
    """The first bin from ``want`` (up: later, else earlier) where ``need`` bins fit within first..last with
    a chair free in each; None when none does. Jumps past the full bins in the way."""
    t = max(want, first) if up else min(want, last - need)
    while first <= t <= last - need:
        full = [k for k in range(t, t + need) if busy[k] >= chairs]
        if not full:
            return t
        t = full[-1] + 1 if up else full[0] - need
    return None


def _clock(spec: Spec, problems: bool, visits: pd.DataFrame, minute: np.ndarray, length: np.ndarray, rng) -> pd.DataFrame:
    """Check-in, start and end of every arrived visit (minutes after midnight; NaN for the others)."""
    n = len(visits)
    arrived = visits["status"].to_numpy() == "arrived"
    day = visits["day"].to_numpy()
    checkin = minute + np.clip(rng.normal(-8, 6, n), -30, 25)
    mean_wait = np.full(n, WAIT_MINUTES)
    if problems and spec.kind == "general":
        doctor, since, slow = SLOW_DOCTOR
        mean_wait[(visits["doctor"].to_numpy() == doctor) & (day >= since)] = slow
    if problems and spec.kind == "children":
        since, slow = WEEKEND_CROWD
        mean_wait[(_weekday(day) >= 5) & (minute < 12 * 60) & (day >= since)] = slow
    start = np.maximum(minute, checkin) + np.round(rng.exponential(1.0, n) * mean_wait)
    nan = np.where(arrived, 1.0, np.nan)
    return pd.DataFrame({"checked_in": np.round(checkin) * nan, "started": start * nan, "ended": (start + length) * nan})


def _booking_times(spec: Spec, problems: bool, visits: pd.DataFrame, clock: pd.DataFrame, coordinator: np.ndarray,
                   rng) -> np.ndarray:
    """When each booking was made (minutes since 1970-01-01): the first a few days ahead; the next after an
    arrived visit at its checkout, most of the time (fewer for a recall, fewer still after the cherry-picker's
    visits [S4]); otherwise by phone in the days between."""
    n = len(visits)
    order = np.lexsort((visits["minute"].to_numpy(), visits["day"].to_numpy(), visits["patient"].to_numpy()))
    visits, clock, coordinator = visits.iloc[order], clock.iloc[order], coordinator[order]
    patient, day = visits["patient"].to_numpy(), visits["day"].to_numpy().astype(np.int64)
    minute = visits["minute"].to_numpy().astype(np.int64)
    when = day * 1440 + minute
    first = np.r_[True, patient[1:] != patient[:-1]]
    prev = np.r_[0, np.arange(n - 1)]
    prev_arrived = ~first & (visits["status"].to_numpy()[prev] == "arrived")
    chance = np.where(visits["role"].to_numpy() == RECALL, REBOOK["recall"], REBOOK["treatment"])
    if problems and spec.kind == "general":
        chance = np.where(coordinator[prev] == CHERRY_PICKER, chance * CHERRY_REBOOK, chance)
    at_checkout = prev_arrived & (rng.random(n) < chance)
    checkout = day[prev] * 1440 + np.nan_to_num(clock["ended"].to_numpy()[prev]).astype(np.int64) + rng.integers(1, 15, n)
    # by phone: a day between the previous visit's and this one's, in office hours; the same day when none is between
    gap = day - day[prev]
    phone_day = np.where(gap >= 2, day[prev] + 1 + np.floor(rng.random(n) * np.maximum(gap - 1, 1)).astype(np.int64), day)
    phone = np.minimum(phone_day * 1440 + rng.integers(9 * 60, 21 * 60, n), when - 60)
    ahead = when - rng.integers(1, 15, n) * 1440 + rng.integers(-180, 180, n)
    out = np.empty(n, dtype=np.int64)
    # never after the booked time (a visit the same day, right after the one it was booked at)
    out[order] = np.minimum(np.where(first, ahead, np.where(at_checkout, checkout, phone)), when - 5)
    return out


def _minutes_to_times(minutes: np.ndarray) -> np.ndarray:
    """Minutes since 1970-01-01 (NaN for none) as timestamps."""
    out = np.full(len(minutes), np.datetime64("NaT"), dtype="datetime64[us]")
    ok = ~np.isnan(minutes)
    out[ok] = (minutes[ok].astype(np.int64) * 60).astype("datetime64[s]").astype("datetime64[us]")
    return out


def _visit_columns(spec: Spec, problems: bool, pts: pd.DataFrame, visits: pd.DataFrame, table: pd.DataFrame,
                   charges: pd.DataFrame, rng) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The visits table with its coordinators, its arrivals fitted to the chairs, their times and (general
    clinic) when each booking was made; the charges moved with their visits; the working frame, re-timed."""
    table, charges = table.copy(), charges.copy()
    coordinator = _coordinators(spec, problems, pts, visits, rng)
    length = _lengths(spec, visits, rng)
    minute = _seat(visits, length, spec, rng)
    # a missed booking copied from an arrived visit (the no-show a week before it, a cancellation) moves with it
    arrived = visits["status"].to_numpy() == "arrived"
    shift = pd.Series(minute[arrived] - visits["minute"].to_numpy()[arrived], index=visits["source"].to_numpy()[arrived])
    copied = ~arrived & (visits["source"].to_numpy() >= 0)
    minute[copied] += shift.reindex(visits["source"].to_numpy()[copied]).fillna(0).to_numpy().astype(np.int64)
    moved = pd.Series((minute - visits["minute"].to_numpy()) * 60, index=table["visit_id"].to_numpy())
    visits = visits.assign(minute=minute)
    day = visits["day"].to_numpy()
    table["scheduled_at"] = _timestamps(day, minute)
    # a charge paid at the visit moves with it (a refund, days later, does not)
    same_day = charges["paid_at"].dt.normalize().to_numpy() == _dates(day)[
        pd.Index(table["visit_id"]).get_indexer(charges["visit_id"])]
    shift = moved.reindex(charges["visit_id"]).fillna(0).to_numpy() * same_day
    charges["paid_at"] = charges["paid_at"] + pd.to_timedelta(shift, unit="s")
    clock = _clock(spec, problems, visits, minute.astype(float), length, rng)
    base = day.astype(float) * 1440
    table["checked_in_at"] = _minutes_to_times(base + clock["checked_in"].to_numpy())
    table["started_at"] = _minutes_to_times(base + clock["started"].to_numpy())
    table["consultant_id"] = pd.Series(coordinator).replace("", np.nan).to_numpy()
    # the chairs the visits name are those clinic.yaml counts: each doctor's own chair shared in turn
    count = WEEKS[spec.kind]["chairs"]
    table["chair_id"] = table["chair_id"].str.replace(r"\d+", lambda m: str((int(m.group()) - 1) % count + 1), regex=True)
    if spec.kind == "general":
        table["booked_at"] = _minutes_to_times(
            _booking_times(spec, problems, visits, clock, coordinator, rng).astype(float))
        table["ended_at"] = _minutes_to_times(base + clock["ended"].to_numpy())
    return table, charges, visits


def _comment(rng, theme: np.ndarray, names: np.ndarray | None = None, phones: np.ndarray | None = None) -> np.ndarray:
    """A comment per row in the row's theme ("" for none); given names and phones, a few comments carry the
    patient's, as real ones do (the loader masks the phone; nothing prints a comment)."""
    out = np.full(len(theme), "", dtype=object)
    for key, phrases in COMMENTS.items():
        sel = theme == key
        out[sel] = np.array(phrases, dtype=object)[rng.integers(0, len(phrases), int(sel.sum()))]
    praise = theme == "praise"
    out[praise] = np.array(PRAISE, dtype=object)[rng.integers(0, len(PRAISE), int(praise.sum()))]
    if names is None:
        return out
    signed = (out != "") & (rng.random(len(theme)) < 0.03)
    out[signed] = np.char.add(np.char.add(np.char.add("我是", names[signed].astype(str)), "，电话"),
                              np.char.add(phones[signed].astype(str), "，")).astype(object) + out[signed]
    return out


def _surveys(spec: Spec, problems: bool, pts: pd.DataFrame, visits: pd.DataFrame, table: pd.DataFrame, names,
             phones, rng) -> pd.DataFrame:
    """Answers to "how likely are you to recommend us (0-10)" after a share of the arrived visits."""
    arrived = np.flatnonzero(visits["status"].to_numpy() == "arrived")
    rows = arrived[rng.random(len(arrived)) < SURVEY_SHARE[spec.kind]]
    day, minute = visits["day"].to_numpy()[rows], visits["minute"].to_numpy()[rows]
    doctor = visits["doctor"].to_numpy()[rows]
    unhappy = np.zeros(len(rows), dtype=bool)
    if problems and spec.kind == "general":
        unhappy = (doctor == UNHAPPY_DOCTOR[0]) & (day >= UNHAPPY_DOCTOR[1])
    if problems and spec.kind == "children":
        since, _ = WEEKEND_CROWD
        unhappy = (_weekday(day) >= 5) & (minute < 12 * 60) & (day >= since)
    u = rng.random(len(rows))
    cdf_ok, cdf_bad = np.cumsum(SCORES) / SCORES.sum(), np.cumsum(SCORES_UNHAPPY) / SCORES_UNHAPPY.sum()
    score = np.where(unhappy, cdf_bad.searchsorted(u, side="right"), cdf_ok.searchsorted(u, side="right"))
    complaint = np.array(list(COMMENTS))[rng.integers(0, len(COMMENTS), len(rows))]
    if spec.kind == "general":
        complaint = np.where(unhappy, "manner", complaint)
    else:
        complaint = np.where(unhappy, "wait", complaint)
    says = rng.random(len(rows))
    theme = np.where(score <= 6, np.where(says < 0.7, complaint, ""), np.where((score >= 9) & (says < 0.2), "praise", ""))
    p = visits["patient"].to_numpy()[rows]
    out = pd.DataFrame({
        "surveyed_at": _dates(day + rng.integers(0, 4, len(rows))),
        "score": score.astype(float),
        "doctor_id": doctor,
        "channel": np.array(spec.channels)[pts["channel"].to_numpy()[p]],
        "patient_id": pts["patient_id"].to_numpy()[p],
        "comment": pd.Series(_comment(rng, theme, names[p], phones[p])).replace("", np.nan).to_numpy(),
    })
    keep = out["surveyed_at"] <= pd.Timestamp(spec.data_end)
    return out[keep].sort_values("surveyed_at", kind="stable").reset_index(drop=True)


def _reviews(spec: Spec, problems: bool, rng) -> pd.DataFrame:
    """Online reviews on the platforms: a few a day, 1-5 stars; the children's clinic's fall when its
    weekend mornings get crowded."""
    days = np.arange(_day(spec.data_start), _day(spec.data_end) + 1)
    count = rng.poisson(REVIEWS_PER_DAY[spec.kind], len(days))
    day = np.repeat(days, count)
    crowded = problems and spec.kind == "children"
    bad = crowded & (day >= WEEKEND_CROWD[0]) if crowded else np.zeros(len(day), dtype=bool)
    u = rng.random(len(day))
    cdf_ok, cdf_bad = np.cumsum(STARS) / STARS.sum(), np.cumsum(STARS_CROWDED) / STARS_CROWDED.sum()
    stars = 1 + np.where(bad, cdf_bad.searchsorted(u, side="right"), cdf_ok.searchsorted(u, side="right"))
    names, weights = zip(*PLATFORMS[spec.kind])
    platform = np.array(names)[rng.choice(len(names), len(day), p=np.array(weights))]
    complaint = np.where(bad, "wait", np.array(list(COMMENTS))[rng.integers(0, len(COMMENTS), len(day))])
    theme = np.where(stars <= 2, complaint, np.where(stars >= 4, "praise", ""))
    text = _comment(rng, theme)
    text = np.where(text == "", "还可以", text)
    return pd.DataFrame({"platform": platform, "reviewed_at": _timestamps(day, rng.integers(8 * 60, 23 * 60, len(day))),
                         "stars": stars.astype(float), "text": text})


# --------------------------------------------------------------------------------------------------
# The public API.

def generate(kind: str = "general", *, seed: int = 7, scale: float = 1.0, problems: bool = True) -> SyntheticClinic:
    """Generate a sample clinic.

    Parameters
    ----------
    kind : {"general", "children"}
        The general dental clinic (2022-2025, six channels and departments, ~5,000 patients at
        scale 1) or the children's clinic (2023-2025, ~2,000 patients).
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives identical tables.
    scale : float
        Multiplies the patient volume (16 gives ~80,000 patients for benchmarks).
    problems : bool
        Plant the problems listed in ``plants``; ``False`` gives the same clinic, healthy.

    Returns
    -------
    SyntheticClinic
    """
    if kind not in SPECS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if scale <= 0:
        raise ValueError("scale must be positive")
    spec = SPECS[kind]
    rng = np.random.default_rng(seed)

    pts = _patients(spec, problems, scale, rng)
    _assign_care(spec, problems, pts, rng)
    arrived = _arrived_visits(spec, problems, pts, rng)
    charges = _charges(spec, problems, arrived, pts, rng)
    missed = _missed_visits(spec, problems, arrived, pts, rng)
    visits_table, visits = _visits_table(spec, arrived, missed, pts)
    # Charges point at visit rows of `arrived`; find those rows' ids in the sorted visits table.
    arrived_ids = _arrived_visit_ids(arrived, visits)
    charges_table = _charges_table(spec, charges, arrived_ids, pts)
    patients_table = _patients_table(spec, pts, visits, charges_table, rng)

    tables = {"patients": patients_table, "visits": visits_table, "charges": charges_table}
    if kind == "general":
        windows = _campaign_windows(problems, scale, rng)
        tables["treatment_plans"] = _treatment_plans(spec, pts, visits, rng)
        leads = _leads(spec, problems, pts, windows, rng)
        tables["leads"] = leads
        campaigns = _campaigns(windows, leads)
        tables["campaigns"] = campaigns
        marketing = _monthly_marketing(campaigns)
    else:
        marketing = pd.Series(dtype=float)
    tables["costs"] = _costs(spec, problems, scale, charges_table, marketing, rng)
    tables["staff"] = _staff(spec)
    extra = _extra_rng(seed)
    tables["visits"], tables["charges"], visits = _visit_columns(spec, problems, pts, visits, visits_table,
                                                                 charges_table, extra)
    tables["surveys"] = _surveys(spec, problems, pts, visits, tables["visits"], patients_table["name"].to_numpy(),
                                 patients_table["phone"].to_numpy(), extra)
    tables["reviews"] = _reviews(spec, problems, extra)
    tables = {name: _canonical_types(name, table) for name, table in tables.items()}
    return SyntheticClinic(config=_config(spec), tables=tables, plants=_plants(kind) if problems else [],
                           kind=kind, seed=seed)


def _canonical_types(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columns in schema order with one dtype per column kind, so equal tables compare equal."""
    out = {}
    for col in schema.TABLES[name].columns:
        if col.name not in frame:
            continue
        s = frame[col.name]
        if col.kind in (schema.ID, schema.TEXT, schema.STATUS):
            s = s.astype(object).where(s.notna(), np.nan).astype("str")
        elif col.kind == schema.DATE:
            s = s.astype("datetime64[us]")
        elif col.kind in (schema.AMOUNT, schema.SCORE):
            s = s.astype("float64")
        elif col.kind == schema.INT:
            s = s.astype("Int64")
        elif col.kind == schema.FLAG:
            s = s.astype(bool)
        out[col.name] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def _arrived_visit_ids(arrived: pd.DataFrame, visits: pd.DataFrame) -> np.ndarray:
    """visit_id of each row of `arrived`, matched on (patient, day, minute) among arrived visits."""
    arrived_sorted = visits[visits["status"] == "arrived"]

    def key(f: pd.DataFrame) -> np.ndarray:
        return ((f["patient"].to_numpy(np.int64) * 100000 + f["day"].to_numpy(np.int64)) * 2000
                + f["minute"].to_numpy(np.int64))

    lookup = pd.Series(arrived_sorted["visit_id"].to_numpy(), index=key(arrived_sorted))
    return lookup.reindex(key(arrived)).to_numpy()


def _monthly_marketing(campaigns: pd.DataFrame) -> pd.Series:
    """Campaign spend spread evenly over the campaign's months."""
    parts = []
    for c in campaigns.itertuples():
        months = pd.period_range(c.start, c.end, freq="M")
        parts.append(pd.Series(c.spend / len(months), index=months))
    return pd.concat(parts).groupby(level=0).sum()


def _config(spec: Spec) -> dict:
    return {
        "clinic_id": spec.clinic_id,
        "name": spec.name,
        "period": {"start": dt.date.fromisoformat(spec.period[0]), "end": dt.date.fromisoformat(spec.period[1])},
        "lang": "zh",
        "consultant": "示例顾问",
        "files": {name: layout.file for name, layout in EXPORTS[spec.kind].items()},
        **WEEKS[spec.kind],
    }


# --------------------------------------------------------------------------------------------------
# Exports: the way a Chinese clinic system writes them.

@dataclass(frozen=True)
class Layout:
    """How one table is exported."""

    file: str
    headers: dict[str, str]  # canonical column -> Chinese header (a header playbook.schema recognises)
    encoding: str = "utf-8-sig"  # csv only
    sheet: str = "Sheet1"  # xlsx only
    title_rows: tuple[str, ...] = ()
    date_format: str = "%Y-%m-%d"  # csv text dates, and xlsx dates written as text
    dates_as_text: bool = False  # xlsx: write dates as text instead of date cells
    money: bool = False  # amounts written ¥1,234.50
    total_label: str | None = None  # a totals row at the bottom
    values: dict[str, dict] = field(default_factory=dict)  # column -> canonical value -> export value


YES_NO = {True: "是", False: "否"}

EXPORTS: dict[str, dict[str, Layout]] = {
    "general": {
        "patients": Layout("patients.xlsx", {
            "patient_id": "病历号", "name": "姓名", "gender": "性别", "birth_year": "出生年份", "phone": "手机号",
            "address": "家庭住址", "first_visit_date": "首诊日期", "source_channel": "来源渠道", "referrer_patient_id": "推荐人病历号",
            "member": "会员", "tier_tag": "客户等级"},
            sheet="患者档案", title_rows=("患者档案导出", "导出时间：2026-01-04 09:12"),
            values={"member": YES_NO}),
        "visits": Layout("visits.csv", {
            "visit_id": "预约编号", "patient_id": "病历号", "scheduled_at": "预约时间", "status": "到诊状态",
            "visit_type": "初复诊", "department": "科室", "doctor_id": "医生", "consultant_id": "咨询师",
            "chair_id": "椅位", "booked_at": "预约创建时间", "checked_in_at": "签到时间", "started_at": "开始时间",
            "ended_at": "结束时间"},
            encoding="gb18030", date_format="%Y/%-m/%-d %H:%M",
            values={"status": {"arrived": "已到诊", "no_show": "爽约", "cancelled": "已取消"},
                    "visit_type": {"first": "初诊", "return": "复诊"}}),
        "charges": Layout("charges.csv", {
            "charge_id": "收费单号", "visit_id": "预约编号", "patient_id": "病历号", "paid_at": "收费时间",
            "item": "项目名称", "list_price": "标准价",
            "amount_paid": "实收金额", "doctor_id": "医生", "designated": "是否指定"},
            encoding="utf-8-sig", title_rows=("收费明细表 2022年1月-2025年12月", "示例综合口腔门诊"),
            date_format="%Y-%m-%d %H:%M:%S", money=True, total_label="合计", values={"designated": YES_NO}),
        "treatment_plans": Layout("treatment_plans.xlsx", {
            "plan_id": "计划编号", "patient_id": "病历号", "created_at": "制定日期", "planned_amount": "计划金额",
            "status": "计划状态", "doctor_id": "医生"},
            sheet="治疗计划",
            values={"status": {"proposed": "待确认", "accepted": "已接受", "declined": "已拒绝",
                               "completed": "已完成", "interrupted": "中断"}}),
        "leads": Layout("leads.csv", {
            "lead_id": "线索编号", "channel": "渠道", "campaign_id": "活动编号", "created_at": "咨询时间",
            "booked": "是否预约", "arrived": "是否到店", "patient_id": "病历号"},
            encoding="gb18030", date_format="%Y-%m-%d %H:%M",
            values={"booked": YES_NO, "arrived": YES_NO}),
        "campaigns": Layout("campaigns.xlsx", {
            "campaign_id": "活动编号", "name": "活动名称", "channel": "投放渠道", "start": "开始日期", "end": "结束日期",
            "spend": "投放金额", "offer_price": "活动价", "offer_cost": "履约成本", "units_sold": "售出数量"},
            sheet="营销活动"),
        "costs": Layout("costs.xlsx", {"month": "月份", "category": "费用类别", "amount": "金额"},
                        sheet="月度成本", date_format="%Y-%m", dates_as_text=True),
        "staff": Layout("staff.xlsx", {
            "staff_id": "工号", "staff_name": "员工姓名", "role": "岗位", "title": "职称",
            "daily_capacity": "日接诊上限"}, sheet="员工"),
        "surveys": Layout("surveys.xlsx", {
            "surveyed_at": "回访日期", "patient_id": "病历号", "doctor_id": "医生", "channel": "来源渠道",
            "score": "推荐意愿（0-10分）", "comment": "意见建议"}, sheet="满意度回访", title_rows=("患者满意度回访记录",)),
        "reviews": Layout("reviews.csv", {
            "platform": "平台", "reviewed_at": "评价时间", "nickname": "用户昵称", "stars": "星级", "text": "评价内容"},
            encoding="utf-8-sig", date_format="%Y-%m-%d %H:%M"),
    },
    "children": {
        "patients": Layout("patients.csv", {
            "patient_id": "患者编号", "name": "患者姓名", "gender": "性别", "birth_year": "出生年份",
            "phone": "联系电话", "first_visit_date": "建档日期", "source_channel": "客户来源",
            "referrer_patient_id": "推荐人编号"}, encoding="gb18030"),
        "visits": Layout("visits.xlsx", {
            "visit_id": "就诊编号", "patient_id": "患者编号", "scheduled_at": "就诊时间", "status": "状态",
            "visit_type": "就诊类型", "department": "科室", "doctor_id": "主治医生", "chair_id": "牙椅",
            "consultant_id": "咨询师", "checked_in_at": "签到时间", "started_at": "开始时间"},
            sheet="就诊记录", date_format="%Y-%m-%d %H:%M", dates_as_text=True,
            values={"status": {"arrived": "已就诊", "no_show": "未到", "cancelled": "取消"},
                    "visit_type": {"first": "初诊", "return": "复诊"}}),
        "charges": Layout("charges.xlsx", {
            "charge_id": "单据号", "visit_id": "就诊编号", "patient_id": "患者编号", "paid_at": "收费日期",
            "item": "收费项目", "category": "收费类别", "list_price": "原价", "amount_paid": "实付金额",
            "doctor_id": "主治医生", "designated": "指定医生"},
            sheet="收费明细", title_rows=("收费明细 2023-01-01 至 2025-12-31",), total_label="总计",
            values={"designated": YES_NO}),
        "costs": Layout("costs.xlsx", {"month": "期间", "category": "成本类别", "amount": "费用"}, sheet="成本"),
        "staff": Layout("staff.csv", {
            "staff_id": "员工编号", "staff_name": "姓名", "role": "职位", "title": "职称", "daily_capacity": "日产能"},
            encoding="utf-8-sig"),
        "surveys": Layout("满意度调查.csv", {
            "surveyed_at": "提交时间", "score": "推荐指数", "doctor_id": "主治医生", "channel": "客户来源",
            "comment": "意见"}, encoding="gb18030"),
        "reviews": Layout("在线评价.xlsx", {
            "platform": "来源平台", "reviewed_at": "评价日期", "stars": "评价星级", "text": "评价内容", "nickname": "用户昵称"},
            sheet="评价", date_format="%Y-%m-%d %H:%M", dates_as_text=True),
    },
}

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _money(values: np.ndarray) -> np.ndarray:
    """¥1,234.50 as zh-CN Excel shows currency; negatives as ¥-500.00."""
    return np.array([f"¥{v:,.2f}" if v >= 0 else f"¥-{-v:,.2f}" for v in values.tolist()], dtype=object)


def _text_dates(values: pd.Series, fmt: str) -> np.ndarray:
    if "%-" in fmt:  # unpadded month/day/hour as 2024/1/5 14:00; strftime's %-m is not portable
        s = values.dt
        part = lambda v: v.astype("Int64").astype(str)  # noqa: E731 -- 2024, not 2024.0, where a value is missing
        text = part(s.year) + "/" + part(s.month) + "/" + part(s.day) + " " + s.strftime("%H:%M")
    else:
        text = values.dt.strftime(fmt)
    return text.where(values.notna(), "").to_numpy(dtype=object)


def _export_frame(name: str, table: pd.DataFrame, layout: Layout, *, for_csv: bool) -> pd.DataFrame:
    """Canonical columns -> export columns, values as the clinic system writes them.

    For csv every cell becomes text ("" when missing); for xlsx cells keep their type (numbers,
    dates as date cells, None when missing) unless the layout writes dates as text.
    """
    out = {}
    for col, header in layout.headers.items():
        if col not in table:
            continue
        s = table[col]
        kind = schema.TABLES[name].column(col).kind
        if col in layout.values:
            values = s.map(layout.values[col]).astype(object)
        elif kind == schema.DATE and (for_csv or layout.dates_as_text):
            values = pd.Series(_text_dates(s, layout.date_format))
        elif kind == schema.DATE:
            values = pd.Series([None if pd.isna(v) else _excel_datetime(v) for v in s], dtype=object)
        elif kind == schema.AMOUNT and layout.money:
            values = pd.Series(_money(s.to_numpy(dtype=float)))
        elif kind == schema.SCORE:  # 9, or 4.5 stars: as a person writes a score
            values = s.map(lambda v: int(v) if float(v).is_integer() else v, na_action="ignore").astype(object)
        elif kind == schema.AMOUNT and for_csv:
            values = s.map("{:.2f}".format, na_action="ignore").astype(object)
        else:
            values = s.astype(object)
        values = values.where(values.notna(), "" if for_csv else None)
        if kind == schema.INT and not for_csv:
            values = values.map(lambda v: None if v is None else int(v))
        out[header] = values.astype(str) if for_csv else values
    return pd.DataFrame(out)


def _excel_datetime(v: pd.Timestamp):
    v = pd.Timestamp(v).to_pydatetime()
    return v.date() if (v.hour, v.minute, v.second) == (0, 0, 0) else v


def _untidy_patients_dates(frame: pd.DataFrame, header: str) -> None:
    """A few 首诊日期 typed by hand as 2024年1月5日, a few pasted as Excel serial numbers."""
    col = frame[header].to_numpy().copy()
    for i in range(37, len(col), 97):
        if col[i] is not None:
            d = col[i]
            col[i] = f"{d.year}年{d.month}月{d.day}日"
    for i in range(61, len(col), 89):
        if isinstance(col[i], dt.date):
            col[i] = (col[i] - dt.date(1899, 12, 30)).days
    frame[header] = col


def _full_width_amounts(frame: pd.DataFrame, header: str) -> None:
    """A handful of amounts typed with full-width digits (an IME left in full-width mode)."""
    col = frame[header].to_numpy().copy()
    for i in range(113, len(col), max(len(col) // 6, 1)):
        col[i] = col[i].replace("¥", "￥").translate(FULL_WIDTH)
    frame[header] = col


def _write_csv(frame: pd.DataFrame, path: Path, layout: Layout, total: str | None) -> None:
    width = frame.shape[1]
    pad = lambda first: first + "," * (width - 1)  # noqa: E731 -- Excel pads short rows with commas
    body = frame.to_csv(index=False, lineterminator="\r\n")
    header, rows = body.split("\r\n", 1)
    rows = rows.split("\r\n")[:-1]
    if layout.total_label:
        middle = len(rows) // 2
        rows.insert(middle, pad(""))  # a blank spacer row between two export pages
    lines = [pad(t) for t in layout.title_rows] + [header] + rows
    if total is not None:
        amount_at = list(frame.columns).index(layout.headers["amount_paid"])
        cells = [""] * width
        cells[0], cells[amount_at] = layout.total_label, f'"{total}"'
        lines.append(",".join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(layout.encoding))


def _write_xlsx(frame: pd.DataFrame, path: Path, layout: Layout, total: float | None) -> None:
    wb = Workbook(write_only=True)
    wb.properties.creator = "示例诊所管理系统"
    wb.properties.created = dt.datetime(2026, 1, 4, 9, 12)
    ws = wb.create_sheet(layout.sheet)
    for title in layout.title_rows:
        ws.append([title])
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False, name=None):
        ws.append(row)
    if total is not None:
        cells = [None] * frame.shape[1]
        cells[0] = layout.total_label
        cells[list(frame.columns).index(layout.headers["amount_paid"])] = total
        ws.append(cells)
    wb.save(path)


def export(clinic: SyntheticClinic, folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Write the clinic's Chinese exports and its ``clinic.yaml`` into ``folder``.

    Refuses a non-empty folder unless ``overwrite=True`` (then only the files named here are replaced).
    Returns the paths written, ``clinic.yaml`` first.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} is not empty; overwrite it explicitly (overwrite=True, --overwrite)")
    folder.mkdir(parents=True, exist_ok=True)
    layouts = EXPORTS[clinic.kind]
    config = dict(clinic.config)
    config["files"] = {name: layouts[name].file for name in layouts if name in clinic.tables}
    written = [folder / "clinic.yaml"]
    written[0].write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for name, layout in layouts.items():
        if name not in clinic.tables:
            continue
        table = clinic.tables[name]
        path = folder / layout.file
        csv = path.suffix == ".csv"
        frame = _export_frame(name, table, layout, for_csv=csv)
        total = round(float(table["amount_paid"].sum()), 2) if layout.total_label else None
        if name == "patients" and not csv:
            _untidy_patients_dates(frame, layout.headers["first_visit_date"])
        # Personal data only an export holds (the loader drops it), drawn independently of the canonical draws.
        for column, draw in (("address", _addresses), ("nickname", _nicknames)):
            if column in layout.headers:
                rng = np.random.default_rng([clinic.seed, len(table)])
                frame.insert(list(layout.headers).index(column), layout.headers[column], draw(rng, len(table)))
        if csv and layout.money:
            _full_width_amounts(frame, layout.headers["amount_paid"])
        if csv:
            _write_csv(frame, path, layout, None if total is None else _money(np.array([total]))[0])
        else:
            _write_xlsx(frame, path, layout, total)
        written.append(path)
    return written


def write_sample(kind: str, folder: Path, *, seed: int = 7, scale: float = 1.0, problems: bool = True,
                 overwrite: bool = False) -> list[Path]:
    """Generate a sample clinic and export it (what ``playbook sample KIND FOLDER`` runs)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise FileExistsError(f"{folder} is not empty; overwrite it explicitly (overwrite=True, --overwrite)")
    return export(generate(kind, seed=seed, scale=scale, problems=problems), folder, overwrite=True)

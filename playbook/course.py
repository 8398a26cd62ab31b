"""The course: exercises on the clinic a chapter is open on, and the checker a student calls.

Chapters 01–10 end with two to four exercises (cells tagged ``exercise``), each followed by its
solution (tagged ``solution``; ``playbook lab --student`` leaves solutions out of the workbench, and the
owner's report leaves out every course cell). A student writes an answer and calls

    check = course.checker(clinic, lang)
    check("03.1", "抖音")

The expected answer is computed here, from the library, on the same clinic, with the same calls the
chapters make (mostly the kpis.json names, which never change): it is never typed in. On the bundled
sample clinics it is what ``data_samples/README.md`` says was planted; on a healthy twin or a real
clinic it is that clinic's own number. An exercise the clinic's data cannot answer (no campaigns
table, say) says so instead of judging.

Numbers are right within a tolerance (rates in points, money and counts relative); judged questions
name a choice (a channel, a doctor, a driver, a problem class, a colour, yes or no) and carry the rubric
a wrong answer is shown. `answer_key` lists every expected answer for the trainer.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from . import breakeven, evaluate, i18n, kpis
from . import thresholds as threshold_table
from .clinic import Clinic
from .diagnosis import diagnose
from .drivers import DRIVERS
from .prescribe import prescribe
from .results import PROBLEM_CLASSES

VERDICT_MIMETYPE = "application/vnd.playbook.verdict+json"  # what a test or a grader reads back

RATE, NUMBER, CHOICE = "rate", "number", "choice"
NONE = "none"  # the answer "nothing / no channel": an empty set of choices
RIGHT, WRONG, UNANSWERED, UNAVAILABLE = "right", "wrong", "unanswered", "unavailable"

# Words a student may write for a choice, beyond the value itself and its i18n.term in both languages.
_YES_NO = {"yes": ("是", "能", "会", "对", "有", "y", "true"), "no": ("否", "不能", "不会", "不", "n", "false")}
_COLOURS = {"red": ("红", "红色"), "yellow": ("黄", "黄色"), "green": ("绿", "绿色")}
_NONE_WORDS = (NONE, "无", "没有", "都没有", "nothing", "no one")
_CLASS_WORDS = {key: (zh, en, zh[:2]) for key, (zh, en) in PROBLEM_CLASSES.items()}
DRIVER_NAMES = {key: (i18n.term(key, "zh"), i18n.term(key, "en")) for key in DRIVERS}  # as the chapters name them
_DRIVER_WORDS = {key: (zh, en, zh[:2]) for key, (zh, en) in DRIVER_NAMES.items()}
_COST_WORDS = {"consumables": ("耗材", "consumables"), "lab": ("加工费", "lab fees", "lab"),
               "inventory": ("库存", "inventory")}


@dataclass(frozen=True)
class Exercise:
    """One exercise: what its answer is on a clinic, and how an answer is judged.

    ``expected(clinic)`` returns the answer (a number, a choice, or a frozenset of choices for "which
    ones"), or None when the clinic's data cannot answer it. ``tolerance`` is absolute for a rate (a
    share: 0.005 is half a point) and relative for a number (0.02 is 2%).
    """

    id: str
    zh: str  # one line: what is asked (the answer key's row; the question itself is in the notebook)
    en: str
    kind: str
    expected: Callable[[Clinic], object] = field(repr=False)
    tolerance: float = 0.005
    rubric_zh: str = ""  # how a judged answer is decided; shown with a wrong answer
    rubric_en: str = ""
    words: Mapping[str, Iterable[str]] = field(default_factory=dict)  # choice -> more accepted spellings

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Verdict:
    """What the checker says about one answer; shown in the notebook in the chapter's language."""

    exercise: Exercise
    answer: object
    expected: object
    status: str  # RIGHT, WRONG, UNANSWERED or UNAVAILABLE
    lang: str = "zh"

    @property
    def correct(self) -> bool:
        return self.status == RIGHT

    def message(self, lang: str | None = None) -> str:
        lang = lang or self.lang
        ex, shown = self.exercise, _show(self.answer, self.exercise, lang)
        if self.status == UNANSWERED:
            return i18n.pick(lang, f"练习 {ex.id}：还没有作答。把答案写在 `answer = ...`，再运行这一格。",
                             f"Exercise {ex.id}: not answered yet. Write your answer as `answer = ...` and run the cell again.")
        if self.status == UNAVAILABLE:
            return i18n.pick(lang, f"练习 {ex.id}：这家诊所的数据回答不了这道题（缺少所需的数据），换示例诊所试试。",
                             f"Exercise {ex.id}: this clinic's data cannot answer it (the data it needs is missing); "
                             "try it on a sample clinic.")
        if self.status == RIGHT:
            return i18n.pick(lang, f"✓ 练习 {ex.id}：正确（{shown}）。", f"✓ Exercise {ex.id}: right ({shown}).")
        hint = _hint(ex, lang)
        return i18n.pick(lang, f"✗ 练习 {ex.id}：{shown} 不对。{hint}", f"✗ Exercise {ex.id}: {shown} is not right. {hint}")

    def as_dict(self) -> dict:
        return {"exercise": self.exercise.id, "status": self.status, "answer": _plain(self.answer),
                "expected": _plain(self.expected)}

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"text/markdown": self.message(), "text/plain": self.message(), VERDICT_MIMETYPE: self.as_dict()}


class Checker:
    """``check(exercise_id, answer)`` on one clinic: each expected answer computed once, when first asked."""

    def __init__(self, clinic: Clinic, lang: str = "zh"):
        self.clinic, self.lang = clinic, lang
        self.expected = cache(lambda exercise_id: EXERCISES[exercise_id].expected(self.clinic))

    def __call__(self, exercise_id: str, answer) -> Verdict:
        exercise = exercise_for(exercise_id)
        if _blank(answer):  # an unanswered exercise computes nothing: the batch run stays fast
            return Verdict(exercise, answer, None, UNANSWERED, self.lang)
        expected = self.expected(exercise.id)
        if expected is None:
            return Verdict(exercise, answer, None, UNAVAILABLE, self.lang)
        status = RIGHT if judge(exercise, answer, expected) else WRONG
        return Verdict(exercise, answer, expected, status, self.lang)


def checker(clinic: Clinic, lang: str = "zh") -> Checker:
    """The ``check`` function a chapter's exercises call, bound to its clinic and language."""
    return Checker(clinic, lang)


def exercise_for(exercise_id: str) -> Exercise:
    try:
        return EXERCISES[str(exercise_id).strip()]
    except KeyError:
        raise KeyError(f"no exercise {exercise_id!r}; the exercises are {', '.join(EXERCISES)}") from None


def judge(exercise: Exercise, answer, expected) -> bool:
    """Whether ``answer`` is right, given the expected answer computed on the clinic."""
    if exercise.kind == CHOICE:
        return _choices(answer, exercise, expected) == _as_set(expected)
    number = _number(answer, rate=exercise.kind == RATE)
    if number is None:
        return False
    if exercise.kind == RATE:
        return abs(number - expected) <= exercise.tolerance + 1e-12
    return math.isclose(number, expected, rel_tol=exercise.tolerance, abs_tol=0.5)


def answer_key(clinic: Clinic, lang: str = "zh", chapter: str | None = None) -> pd.DataFrame:
    """Every exercise with its expected answer on ``clinic``: the trainer's key (computes them all)."""
    check = checker(clinic, lang)
    rows = []
    for ex in EXERCISES.values():
        if chapter and ex.chapter != chapter:
            continue
        expected = check.expected(ex.id)
        rows.append({i18n.pick(lang, "练习", "Exercise"): ex.id,
                     i18n.pick(lang, "问题", "Question"): ex.zh if lang == "zh" else ex.en,
                     i18n.pick(lang, "答案", "Answer"): i18n.NO_DATA[lang] if expected is None else _show(expected, ex, lang),
                     i18n.pick(lang, "容差", "Tolerance"): _tolerance(ex, lang)})
    return pd.DataFrame(rows)


# --- reading and showing answers ---------------------------------------------------------------------

def _blank(answer) -> bool:
    return answer is None or answer is ... or (isinstance(answer, str) and not answer.strip())


def _number(answer, *, rate: bool) -> float | None:
    """A number from what a student writes: 0.23, 23 (a rate above 1 is read as percent), "23%",
    "¥1,234", "79.6万". None when it is no finite number."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, str):
        text = re.sub(r"[,\s¥￥元]", "", answer)
        scale = 1.0
        if text.endswith("%"):
            text, scale = text[:-1], 0.01
        elif text.endswith("万"):
            text, scale = text[:-1], 1e4
        try:
            value = float(text) * scale
        except ValueError:
            return None
        if scale == 0.01:
            return value
    else:
        try:
            value = float(answer)
        except (TypeError, ValueError):
            return None
    if not math.isfinite(value):
        return None
    return value / 100 if rate and 1 < abs(value) <= 100 else value


def _spellings(exercise: Exercise, value: str) -> set[str]:
    words = {value, i18n.term(value, "zh"), i18n.term(value, "en"), *exercise.words.get(value, ())}
    for table in (_YES_NO, _COLOURS):
        words.update(table.get(value, ()))
    return {_norm(w) for w in words if isinstance(w, str)}


def _norm(text) -> str:
    return re.sub(r"[\s\"'“”‘’。.，,]", "", str(text)).casefold()


def _as_set(value) -> frozenset:
    return frozenset([value] if isinstance(value, str) or not isinstance(value, Iterable) else value)


def _choices(answer, exercise: Exercise, expected) -> frozenset[str]:
    """The choices an answer names, as the values the expected answer uses (抖音 for "Douyin", red for 红);
    "none" (没有, 无) is the empty set; a word the exercise does not know stays as written."""
    items = list(_as_set(answer))
    if len(items) == 1 and _norm(items[0]) in {_norm(w) for w in _NONE_WORDS}:
        return frozenset()
    values = set(_as_set(expected)) | set(exercise.words) | set(_YES_NO) | set(_COLOURS)
    lookup: dict[str, str] = {}
    for value in values:
        for word in _spellings(exercise, str(value)):
            lookup.setdefault(word, value)
    return frozenset(lookup.get(_norm(item), _norm(item)) for item in items)


def _show(value, exercise: Exercise, lang: str) -> str:
    if value is None:
        return i18n.NO_DATA[lang]
    if exercise.kind == CHOICE:
        if isinstance(value, (set, frozenset, list, tuple)):
            return "、".join(_word(v, lang) for v in sorted(value)) if value else i18n.pick(lang, "没有", "none")
        return _word(value, lang)
    number = _number(value, rate=exercise.kind == RATE)
    if number is None:
        return repr(value)
    return i18n.rate(number, lang) if exercise.kind == RATE else f"{number:,.4g}" if abs(number) < 100 else f"{number:,.0f}"


def _word(value, lang: str) -> str:
    for table in (_YES_NO, _COLOURS):
        if value in table:
            return table[value][0] if lang == "zh" else value
    for table in (PROBLEM_CLASSES, DRIVER_NAMES):
        if value in table:
            return table[value][0] if lang == "zh" else table[value][1]
    return str(i18n.term(value, lang))


def _tolerance(exercise: Exercise, lang: str) -> str:
    if exercise.kind == RATE:
        return f"±{exercise.tolerance * 100:g}" + i18n.pick(lang, "个百分点", " points")
    if exercise.kind == NUMBER:
        return f"±{exercise.tolerance:.0%}" if exercise.tolerance else i18n.pick(lang, "精确", "exact")
    return ""


def _hint(exercise: Exercise, lang: str) -> str:
    if exercise.kind == CHOICE:
        rubric = exercise.rubric_zh if lang == "zh" else exercise.rubric_en
        return i18n.pick(lang, f"判断标准：{rubric}", f"How to decide: {rubric}") if rubric else ""
    return i18n.pick(lang, f"允许误差{_tolerance(exercise, lang)}，再核对一下定义和所取的时间段。",
                     f"Allowed error {_tolerance(exercise, lang)}; check the definition and the time window.")


def _plain(value):
    if isinstance(value, (set, frozenset)):
        return sorted(str(v) for v in value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


# --- expected answers, from the library ---------------------------------------------------------------

def _headline(clinic):
    return kpis.clinic_kpis(clinic)


def _lowest_conversion_channel(clinic):
    channels = _headline(clinic).channels["first_visit_conversion"].dropna()
    return None if channels.empty else str(channels.idxmin())


def _referral_colour(clinic):
    value = _headline(clinic).values["referral_share"]
    if value is None:
        return None
    lines = threshold_table.resolve(clinic.config.thresholds)
    if lines["referral_share_act"].breached(value):
        return "red"
    return "yellow" if lines["referral_share_healthy"].breached(value) else "green"


def _drivers_recent(clinic):
    recent = diagnose(clinic).drivers.recent
    return recent if recent.available else None


def _recent_revenue_change(clinic):
    recent = _drivers_recent(clinic)
    return None if recent is None else float(recent.revenue_current - recent.revenue_previous)


def _departments(clinic):
    departments = diagnose(clinic).drivers.departments
    return departments.table if departments.available and not departments.table.empty else None


def _department_falling_most(clinic):
    table = _departments(clinic)
    return None if table is None else str(table["revenue_change"].idxmin())


def _driver_in_that_department(clinic):
    table, department = _departments(clinic), _department_falling_most(clinic)
    return None if department is None else str(table.loc[department, list(DRIVERS)].astype(float).idxmin())


def _recent_conversion(clinic) -> dict[str, float]:
    channels = diagnose(clinic).funnel.conversion.metrics().get("channels", {})
    return {name: values["first_visit_conversion_recent"] for name, values in channels.items()
            if values.get("first_visit_conversion_recent") is not None}


def _lowest_recent_channel(clinic):
    recent = _recent_conversion(clinic)
    return min(recent, key=recent.get) if recent else None


def _lowest_recent_rate(clinic):
    recent = _recent_conversion(clinic)
    return min(recent.values()) if recent else None


def _conversion_problem(clinic):
    channel = _lowest_recent_channel(clinic)
    if channel is None:
        return None
    flag = next((f for f in diagnose(clinic).funnel.conversion.flags if f.subject == channel), None)
    return frozenset() if flag is None else flag.problem_class


def _subjects(result, metric: str | None = None):
    if not result.available:
        return None
    return frozenset(str(f.subject) for f in result.flags if metric is None or f.metric == metric)


def _stop_loss_channels(clinic):
    return _subjects(diagnose(clinic).funnel.stop_loss)


def _loyalty_kpi(name):
    def expected(clinic):
        return diagnose(clinic).loyalty.metrics().get("kpis", {}).get(name)
    return expected


def _doctors_losing_patients(clinic):
    return _subjects(diagnose(clinic).loyalty.doctors)


def _designation(clinic):
    designation = diagnose(clinic).doctors.designation
    if not designation.available or designation.table.empty:
        return None
    return designation.table["designation_rate"].dropna()


def _most_designated_doctor(clinic):
    rates = _designation(clinic)
    return None if rates is None or rates.empty else str(rates.idxmax())


def _highest_designation(clinic):
    rates = _designation(clinic)
    return None if rates is None or rates.empty else float(rates.max())


def _no_show_channel(clinic):
    channels = diagnose(clinic).doctors.no_show_channels
    if not channels.available or channels.table.empty:
        return None
    rates = channels.table["rate_recent"].dropna()
    return None if rates.empty else str(rates.idxmax())


def _costs(clinic):
    ratios = diagnose(clinic).costs.ratios
    return ratios.table if ratios.available else None


def _cost_value(category, column):
    def expected(clinic):
        table = _costs(clinic)
        if table is None or category not in table.index or pd.isna(table.loc[category, column]):
            return None
        return float(table.loc[category, column])
    return expected


def _costs_out_of_range(clinic):
    table = _costs(clinic)
    return None if table is None else frozenset(table.index[table["status"].isin(["above", "below"])])


def _ranking(clinic):
    return diagnose(clinic).ranking


def _bottleneck_class(clinic):
    return _ranking(clinic).metrics().get("kpis", {}).get("bottleneck_class") or frozenset()  # none: a healthy clinic


def _red_flags(clinic):
    return _ranking(clinic).metrics().get("kpis", {}).get("red_flags")


def _top_revenue_at_stake(clinic):
    table = _ranking(clinic).table
    return None if table.empty else float(table["revenue_at_stake"].iloc[0])


def _largest_plan(clinic):
    chosen = prescribe(clinic).chosen
    return frozenset() if chosen.empty else str(chosen.set_index("prescription")["revenue_effect"].astype(float).idxmax())


def _task_count(clinic):
    return len(prescribe(clinic).metrics().get("tasks", {}))


# [S3]'s case, as chapter 09 writes it: 3,560 cards, 80% redeemed, the sellers keep the card price.
S3_CASE = breakeven.Campaign(cards=3560, card_price=9.9, seller_share=1, redemption=0.8, delivery_cost=60,
                             fixed_cost=32_000, margin=10_000)


def _clinic_breakeven(clinic):
    # the same inputs as chapter 09's code cell
    return breakeven.clinic_breakeven(clinic, margin_rate=breakeven.MARGIN_RATE, seller_share=0.0)


def _campaign_conversion(clinic):
    return _clinic_breakeven(clinic).metrics().get("kpis", {}).get("campaign_high_value_conversion")


def _planned(clinic):
    planned = _clinic_breakeven(clinic).planned
    return planned if planned.available and planned.conversion is not None else None


def _card_pays(clinic):
    planned = _planned(clinic)
    if planned is None or planned.breakeven_conversion is None:
        return None
    return "yes" if planned.conversion >= planned.breakeven_conversion else "no"


def _cards_needed(clinic):
    planned = _planned(clinic)
    return None if planned is None or planned.breakeven_cards is None else float(planned.breakeven_cards)


@cache  # the bundled sample's, whatever the clinic: computed once per kernel (about a second)
def _demonstrations():
    return evaluate.demonstrations()


def _demonstration(method: str, kpi: str):
    """One of chapter 10's demonstrations on the bundled general sample (any clinic's notebook shows them)."""
    found = [r for r in _demonstrations() if r.available and r.method == method and r.kpi == kpi]
    return found[0] if found else None


def _its_effect(clinic):
    result = _demonstration("its", "new_patients")
    return None if result is None else float(result.effect)


def _placebo_significant(clinic):
    result = _demonstration("its", "new_patients")
    return None if result is None or result.placebo is None else "yes" if result.placebo.significant else "no"


def _revenue_significant(clinic):
    result = _demonstration("controls", "revenue")
    return None if result is None else "yes" if result.significant else "no"


EXERCISES: dict[str, Exercise] = {ex.id: ex for ex in (
    # 01 headline KPIs
    Exercise("01.1", "用到诊表自己算出分析期的爽约率", "The period's no-show rate, computed from the visits", RATE,
             lambda c: _headline(c).values["no_show_rate"], tolerance=0.001),
    Exercise("01.2", "初诊成交率最低的渠道", "The channel with the lowest first-visit conversion", CHOICE,
             _lowest_conversion_channel, rubric_zh="看各渠道表中的初诊成交率，取最低的一个。",
             rubric_en="Read first-visit conversion in the channel table and take the lowest."),
    Exercise("01.3", "转介绍占比的颜色（红/黄/绿）", "The colour of the referral share (red / yellow / green)", CHOICE,
             _referral_colour, words=_COLOURS,
             rubric_zh="低于30%的行动线 [S2] 为红，30%–40%的健康线 [S3] 之间为黄，40%及以上为绿（clinic.yaml 改过的线以改后的为准）。",
             rubric_en="Under the 30% action line [S2] is red, between it and the 40% healthy line [S3] yellow, 40% "
                       "or more green (a line changed in clinic.yaml counts as changed)."),
    # 02 revenue drivers
    Exercise("02.1", "最近半年比之前半年营收变化多少元（四个因素之和）",
             "Revenue change of the last six months against the six before (the four effects added up)", NUMBER,
             _recent_revenue_change, tolerance=0.01),
    Exercise("02.2", "最近半年营收下降最多的科室", "The department whose revenue fell most in the last six months", CHOICE,
             _department_falling_most, rubric_zh="按科室表的营收变化取最负的一个。",
             rubric_en="Take the most negative revenue change in the department table."),
    Exercise("02.3", "该科室中让营收减少最多的因素", "In that department, the driver that cost most revenue", CHOICE,
             _driver_in_that_department, words=_DRIVER_WORDS,
             rubric_zh="在该科室一行中，取四个因素里金额最负的一个（到诊人数、成交率、客单价、复购频次）。",
             rubric_en="In that department's row, take the most negative of the four effects (arrivals, conversion, "
                       "average ticket, purchase frequency)."),
    # 03 funnel and channels
    Exercise("03.1", "最近6个月初诊成交率最低的渠道", "The channel with the lowest first-visit conversion lately", CHOICE,
             _lowest_recent_channel, rubric_zh="只比较已评判的渠道（至少20位已满30天的新患者），取最近6个月成交率最低的。",
             rubric_en="Among the channels judged (20 or more new patients who had their 30 days), the lowest recent "
                       "conversion."),
    Exercise("03.2", "该渠道最近6个月的初诊成交率", "That channel's recent first-visit conversion", RATE,
             _lowest_recent_rate),
    Exercise("03.3", "这是获客问题还是接诊体验问题", "Is it an acquisition or an experience problem?", CHOICE,
             _conversion_problem, words=_CLASS_WORDS,
             rubric_zh="成交率低于80%时：该渠道每月新患者比之前多了20%以上 → 获客问题（引来的人不对）；否则 → 接诊体验问题。"
                       "不低于80%时回答“没有”。",
             rubric_en="Under 80%: its new patients a month up 20% or more → acquisition (it brings the wrong people); "
                       "otherwise → experience. At 80% or more answer \"none\"."),
    Exercise("03.4", "触发止损的渠道（ROI连续2周低于1.5）", "The channels in stop-loss (ROI under 1.5 two weeks running)",
             CHOICE, _stop_loss_channels,
             rubric_zh="[S0]：13周滚动ROI到最近可评判的一周仍连续2周以上低于1.5的渠道；没有就回答“没有”。",
             rubric_en="[S0]: a channel whose 13-week ROI is still under 1.5 for 2 weeks or more at the latest week "
                       "judged; answer \"none\" if there is none."),
    # 04 cohorts and loyalty
    Exercise("04.1", "最近6个月的转介绍占比", "Referral share of the last six months", RATE,
             _loyalty_kpi("referral_share_recent")),
    Exercise("04.2", "老患者逾期比例异常高的医生", "The doctors whose established patients are overdue far more often",
             CHOICE, _doctors_losing_patients,
             rubric_zh="某医生老患者的逾期比例达到其他医生的1.5倍及以上；没有就回答“没有”。",
             rubric_en="A doctor whose patients are overdue 1.5 times as often as the others' or more; \"none\" if none."),
    Exercise("04.3", "高价值客户流失预警名单的人数", "How many patients are on the high-value churn warning list",
             NUMBER, _loyalty_kpi("high_value_overdue_patients"), tolerance=0.0),
    # 05 doctors and operations
    Exercise("05.1", "指定率最高的医生", "The doctor with the highest designation rate", CHOICE, _most_designated_doctor,
             rubric_zh="看各医生指定率，取最高的一位。", rubric_en="Read each doctor's designation rate; take the highest."),
    Exercise("05.2", "他的指定率", "That doctor's designation rate", RATE, _highest_designation),
    Exercise("05.3", "最近6个月爽约率最高的来源渠道", "The source channel with the highest no-show rate lately", CHOICE,
             _no_show_channel, rubric_zh="按来源渠道表的“最近6个月爽约率”取最高的。",
             rubric_en="Take the highest recent no-show rate in the table by source channel."),
    # 06 costs
    Exercise("06.1", "用成本表自己算出耗材占实收的比例", "Consumables as a share of revenue, computed from the costs", RATE,
             _cost_value("consumables", "share"), tolerance=0.001),
    Exercise("06.2", "耗材回到范围上限每年可多留的利润（元）",
             "Profit a year kept by bringing consumables back to the top of the range (yuan)", NUMBER,
             _cost_value("consumables", "profit_gain_per_year"), tolerance=0.02),
    Exercise("06.3", "超出合理范围的成本类别", "The cost categories outside their range", CHOICE, _costs_out_of_range,
             words=_COST_WORDS, rubric_zh="[S3]：耗材5–7%、加工费7–8%、库存3–5%，超出或低于范围的类别；都在范围内回答“没有”。",
             rubric_en="[S3]: consumables 5–7%, lab fees 7–8%, inventory 3–5%; the categories above or below their "
                       "range, \"none\" if all are within."),
    # 07 bottlenecks
    Exercise("07.1", "排名第一的问题类别", "The problem class ranked first", CHOICE, _bottleneck_class, words=_CLASS_WORDS,
             rubric_zh="瓶颈排序表第一行的问题类别：红色在前，同色按每年涉及营收，再按越线幅度。",
             rubric_en="The class of the ranking's first row: red first, then by revenue at stake, then by the gap."),
    Exercise("07.2", "红色证据的条数", "How many red flags", NUMBER, _red_flags, tolerance=0.0),
    Exercise("07.3", "排名第一的发现每年涉及多少营收（元）", "Revenue at stake a year of the first finding (yuan)", NUMBER,
             _top_revenue_at_stake, tolerance=0.01),
    # 08 prescriptions
    Exercise("08.1", "预计营收影响最大的处方（A–E）", "The plan (A–E) with the largest expected revenue effect", CHOICE,
             _largest_plan, rubric_zh="处方表中“预计营收影响”最大的一个，写字母。",
             rubric_en="The largest expected revenue effect in the plan table; write its letter."),
    Exercise("08.2", "一共派出多少个任务", "How many tasks are assigned in all", NUMBER, _task_count, tolerance=0.0),
    # 09 campaign break-even
    Exercise("09.1", "[S3] 案例保本所需的转化率 q*", "The break-even conversion q* of the [S3] case", RATE,
             lambda c: S3_CASE.breakeven_conversion(), tolerance=0.0005),
    Exercise("09.2", "诊所过去活动患者的大项目成交率", "High-value conversion of the clinic's past campaign patients", RATE,
             _campaign_conversion),
    Exercise("09.3", "按过去同类活动的成交率，最近的引流卡能回本吗", "At its past conversion, does the latest card break even?",
             CHOICE, _card_pays, words=_YES_NO,
             rubric_zh="同类活动患者的成交率不低于保本转化率 q* 就能回本，否则不能。",
             rubric_en="Yes when the conversion of patients of campaigns like it is at least the break-even q*; "
                       "otherwise no."),
    Exercise("09.4", "按这个成交率保本要卖多少张卡", "Cards to sell to break even at that conversion", NUMBER,
             _cards_needed, tolerance=0.01),
    # 10 evaluation
    Exercise("10.1", "示范：9.9元卡让抖音每周多了几位新患者（间断时间序列）",
             "Demonstration: new Douyin patients a week the 9.9 card added (interrupted time series)", NUMBER,
             _its_effect, tolerance=0.03),
    Exercise("10.2", "安慰剂检验在假日期上发现了“效果”吗", "Does the placebo check find an \"effect\" on the fake date?",
             CHOICE, _placebo_significant, words=_YES_NO,
             rubric_zh="安慰剂效果的95%区间不含0（p < 0.05）为“是”，含0为“否”。",
             rubric_en="Yes when the placebo effect's 95% interval excludes 0 (p < 0.05); no when it includes 0."),
    Exercise("10.3", "能说这张卡提高了抖音患者的营收吗", "Can we say the card raised Douyin patients' revenue?", CHOICE,
             _revenue_significant, words=_YES_NO,
             rubric_zh="看营收的双重差分：效果的95%区间不含0才能说“是”；含0就不能下结论，回答“否”。",
             rubric_en="Read the revenue difference in differences: yes only when the effect's 95% interval excludes "
                       "0; when it includes 0 we cannot say so: no."),
)}

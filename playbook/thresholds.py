"""Every threshold the playbook judges a clinic by, in one table, each with its source.

Sources are the five articles of method.md ([S0]..[S4] = seeds/000..004). Where the sources give no
number, the playbook sets a default and says so ("playbook default"): a consultant can override any
threshold in clinic.yaml (``thresholds: {first_visit_conversion_review: 0.75}``), and the report then
marks it as changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from . import i18n


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    direction: str  # "min": below is a problem; "max": above is a problem
    zh: str
    en: str
    source: str  # [S0]..[S4] with the source's own (Chinese) words, or "playbook default: why" in English
    default: float | None = None  # set when the clinic's configuration overrode the value
    source_zh: str | None = None  # a playbook default's reason in Chinese (quoted sources are Chinese already)

    def cited(self, lang: str = "zh") -> str:
        """The source as a report in ``lang`` prints it: no English in a Chinese report, and the reverse; the
        sources themselves are listed once, by title, in the appendix (`sources_table`)."""
        if lang == "zh":
            return self.source_zh or self.source
        if self.source_zh:  # a playbook default: its reason is written in English
            return self.source
        tag = self.source.split("]")[0] + "]"
        return f"{tag} (quoted in Chinese; see the sources)"

    @property
    def overridden(self) -> bool:
        return self.default is not None

    def breached(self, value: float | None) -> bool:
        """True when ``value`` sits on the wrong side of the line (never for a missing value)."""
        if value is None or pd.isna(value):
            return False
        return value < self.value if self.direction == "min" else value > self.value

    def gap(self, value: float | None) -> float:
        """How far past the line, relative to it (0 when not breached): 0.25 = a quarter beyond."""
        if not self.breached(value) or self.value == 0:
            return 0.0
        return abs(value - self.value) / abs(self.value)


# Kinds of department: (中文, English, chair minutes per visit, recall interval in days), and the words that
# name them in the exports. Playbook defaults, stated in the thresholds table below.
DEPARTMENT_DEFAULTS = {
    "implant": ("种植", "Implants", 60, 180),
    "orthodontics": ("正畸", "Orthodontics", 40, 56),
    "prosthodontics": ("修复", "Prosthodontics", 60, 180),
    "periodontics": ("牙周", "Periodontics", 50, 120),
    "children": ("儿牙", "Children's dentistry", 40, 180),
    "general": ("综合", "General dentistry", 40, 180),
}
DEPARTMENT_WORDS = {"implant": ("种植",), "orthodontics": ("正畸", "矫正"), "prosthodontics": ("修复",),
                    "periodontics": ("牙周",), "children": ("儿",)}


def _t(name, value, direction, zh, en, source, source_zh=None):
    return Threshold(name, value, direction, zh, en, source, source_zh=source_zh)


DEFAULTS: dict[str, Threshold] = {t.name: t for t in (
    _t("deviation_red", -0.20, "min", "偏差率红线（落后超过20%）", "Deviation red line (behind by more than 20%)",
       "[S0] 任务看板：红色=落后超过20%"),
    _t("channel_roi_stop_loss", 1.5, "min", "渠道ROI止损线", "Channel ROI stop-loss line",
       "[S0] ROI低于1.5连续2周即止损"),
    _t("channel_roi_stop_loss_weeks", 2, "max", "止损连续周数", "Stop-loss consecutive weeks", "[S0] 连续2周"),
    _t("arrival_rate_step", 0.03, "min", "到店率提升步长", "Arrival-rate improvement step",
       "[S0] 抖音渠道上月到店率15%，本周目标提升至18%"),
    _t("first_visit_conversion_review", 0.80, "min", "初诊成交率复盘线", "First-visit conversion review line",
       "[S2] 初诊成交低于80%沟通医生"),
    _t("referral_share_healthy", 0.40, "min", "转介绍占比健康线", "Referral share healthy line",
       "[S3] 口碑介绍的来源客户最好达到40%以上"),
    _t("referral_share_act", 0.30, "min", "转介绍占比行动线", "Referral share action line",
       "[S2] 转介绍不足初诊进店30%时，加强医生各项指标学习"),
    _t("churn_ideal", 0.03, "max", "流失率理想上限", "Churn ideal ceiling", "[S3] 流失的比例为2-3%"),
    _t("churn_recoverable", 0.08, "max", "可约回比例上限", "Recoverable churn ceiling", "[S3] 可约回的比例在7-8%"),
    _t("churn_missed_returns", 3, "max", "流失：未复诊次数", "Churn: missed returns", "[S3] 超过三次不复诊也可以视为流失客户"),
    _t("designation_key_person", 0.60, "max", "指定率关键人风险线", "Designation key-person risk line",
       "[S3] 指定率超过60%的医生是关键人风险"),
    _t("doctor_load_attending", 12, "max", "主治医生日接诊上限", "Attending doctor daily patients",
       "[S0] 主治医生日接诊不超过12例"),
    _t("doctor_surgeries_chief", 5, "max", "主任医师日手术上限", "Chief doctor daily surgeries",
       "[S0] 主任医师日手术不超过5台"),
    _t("chair_vacancy_prime", 0.10, "max", "黄金时段椅位空置率上限", "Prime-slot chair vacancy ceiling",
       "[S0] 黄金时段椅位空置率≤10%"),
    _t("implant_consult_conversion", 0.30, "min", "种植咨询转化率目标", "Implant consultation conversion target",
       "[S0] 种植咨询转化率30%"),
    _t("consumables_share_low", 0.05, "min", "耗材占比下限", "Consumables share, low end", "[S3] 耗材占流水的5-7%"),
    _t("consumables_share_high", 0.07, "max", "耗材占比上限", "Consumables share, high end", "[S3] 耗材占流水的5-7%"),
    _t("inventory_share_low", 0.03, "min", "库存占比下限", "Inventory share, low end", "[S3] 库存占流水的3-5%"),
    _t("inventory_share_high", 0.05, "max", "库存占比上限", "Inventory share, high end", "[S3] 库存占流水的3-5%"),
    _t("lab_share_low", 0.07, "min", "加工费占比下限", "Lab fees share, low end", "[S3] 加工费占流水的7-8%"),
    _t("lab_share_high", 0.08, "max", "加工费占比上限", "Lab fees share, high end", "[S3] 加工费占流水的7-8%"),
    _t("material_loss", 0.03, "max", "材料损耗率上限", "Material loss ceiling", "[S0] 材料损耗率控制在3%以内"),
    _t("child_family_ratio", 1.0, "min", "儿童带动家庭比例", "Child → family conversion", "[S3] 儿童与家庭约1:1"),
    _t("plan_completion", 0.70, "min", "完诊率复核线", "Plan completion review line",
       "playbook default: [S3][S4] say low completion needs review but give no number",
       source_zh="经验设定（资料未给出数值）：[S3][S4] 指出完诊率低需复核，但未给出数值"),
    _t("no_show_rate", 0.15, "max", "爽约率警戒线", "No-show alert line",
       "playbook default: the sources track no-shows but give no number",
       source_zh="经验设定（资料未给出数值）：资料要求跟踪爽约，但未给出数值"),
    _t("revenue_change_alert", -0.05, "min", "营收下滑警戒线", "Revenue fall alert line",
       "playbook default: a fall of more than 5% on the previous period calls for diagnosis [S1]",
       source_zh="经验设定（资料未给出数值）：比上期下降超过5%即需诊断 [S1]"),
    _t("doctor_inactive_weeks", 8, "max", "医生停诊周数上限", "Doctor inactive weeks",
       "playbook default: a regular doctor with no visit for 8 weeks has stopped working here; [S3] on key-person risk",
       source_zh="经验设定（资料未给出数值）：常规出诊的医生连续8周无接诊视为已离开；[S3] 医生离职风险"),
    _t("overdue_doctor_ratio", 1.5, "max", "医生老患者逾期倍数上限", "Doctor's overdue patients vs the rest",
       "playbook default: a doctor whose patients are overdue 1.5 times as often as the others' is losing them; [S3] on tracing why patients leave",
       source_zh="经验设定（资料未给出数值）：某医生的老患者逾期比例达到其他医生的1.5倍，视为在流失；[S3] 追踪流失原因"),
    _t("return_12m_fall", -0.05, "min", "12个月复诊率下滑警戒线", "12-month return fall alert line",
       "playbook default: a fall of more than 5% against the earlier cohorts calls for a look at recalls [S1]",
       source_zh="经验设定（资料未给出数值）：比早期队列下降超过5%需检查召回 [S1]"),
    _t("arrival_rate_fall", 0.03, "max", "到店率下滑警戒线", "Arrival-rate fall alert line",
       "playbook default: a fall of one [S0] step (Douyin arrival rate 15% → target 18%, 3 points) over 6 months is a trend",
       source_zh="经验设定（资料未给出数值）：6个月内下降一个 [S0] 步长（抖音到店率15%→目标18%，即3个百分点）视为趋势"),
    _t("cause_share_of_fall", 0.10, "min", "计为下降原因的最低占比", "Share of the fall that makes a cause",
       "playbook default: a finding is named a cause of the revenue fall when it explains at least a tenth of it "
       "(the driver tree [S2]); a smaller part stays in the finding's revenue at stake",
       source_zh="经验设定（资料未给出数值）：一项发现解释了营收下降的十分之一以上，才列为下降的原因（营收驱动树 [S2]）；更小的部分仍计入它每年涉及的营收"),
    # Targets of the prescribed tasks (playbook/prescriptions.yaml): always a step from the clinic's own baseline.
    _t("target_step_relative", 0.20, "min", "任务目标提升幅度（相对基线）", "Task target step (relative to the baseline)",
       "[S0] 抖音渠道上月到店率15%，本周目标提升至18%（即提升五分之一）"),
    _t("target_gap_closed", 0.50, "min", "任务目标弥补差距的比例", "Share of the gap a task target closes",
       "playbook default: a task closes half the gap to the method's line by its deadline, the rest in the next cycle",
       source_zh="经验设定（资料未给出数值）：一个任务在期限内弥补到方法阈值差距的一半，其余留到下一轮"),
    # The treatment coordinator's scorecard [S4]: conversion and the next visit booked, against the other coordinators.
    _t("consultant_conversion_gap", 0.10, "max", "咨询师初诊成交率落后其他咨询师的幅度",
       "Coordinator's first-visit conversion behind the others'",
       "playbook default: [S4] says a coordinator who picks cases drags conversion down, but gives no number; "
       "10 points behind the other coordinators' is the review line",
       source_zh="经验设定（资料未给出数值）：[S4] 指出咨询师“挑单”会拉低转化率，但未给出数值；落后其他咨询师10个百分点即复盘"),
    _t("reappointment_gap", 0.10, "max", "咨询师预约下次复诊率落后其他咨询师的幅度",
       "Coordinator's re-appointment behind the others'",
       "playbook default: [S4] scores coordinators on whether each patient leaves with the next visit booked, "
       "but gives no number; 10 points behind the other coordinators' is the review line",
       source_zh="经验设定（资料未给出数值）：[S4] 按“每天接诊患者中是否预约下次复诊”考核咨询师，但未给出数值；落后其他咨询师10个百分点即复盘"),
    # Waiting and satisfaction [S1]: the health check names them, the sources give no number.
    _t("wait_minutes", 15, "max", "平均候诊分钟上限", "Average wait ceiling (minutes)",
       "playbook default: [S1] lists waiting time among the efficiency indicators and long waits among "
       "patients' pain points, but gives no number",
       source_zh="经验设定（资料未给出数值）：[S1] 把候诊时间列为效率指标、“候诊久”列为就诊痛点，但未给出数值"),
    _t("nps_fall", 20, "max", "净推荐值下降上限（分）", "NPS fall ceiling (points)",
       "playbook default: [S1] lists NPS among the satisfaction indicators and asks for alerts on a relapse, but gives "
       "no number; a doctor's or the clinic's NPS 20 points below its own earlier score is a change, not noise",
       source_zh="经验设定（资料未给出数值）：[S1] 把NPS列为满意度指标并要求对回落预警，但未给出数值；医生或全院的NPS比此前低20分以上视为变化而非波动"),
    _t("review_stars_min", 4.0, "min", "在线评价平均星级下限", "Online review stars floor",
       "playbook default: [S1] lists the number and quality of online reviews (Dianping, Haodf) among the "
       "satisfaction indicators but gives no number; under 4 of 5 stars the listing loses patients",
       source_zh="经验设定（资料未给出数值）：[S1] 把在线评价数量与质量（大众点评、好大夫在线）列为满意度指标，但未给出数值；平均低于4星即影响获客"),
    _t("chair_turnover_minutes", 10, "max", "两位患者之间整理椅位的分钟数", "Chair turnover between patients (minutes)",
       "playbook default: the sources give no number; a chair is cleaned and set up after each patient, time in "
       "which it is not free for the next",
       source_zh="经验设定（资料未给出数值）：资料未给出数值；每位患者之后要清洁和准备椅位，这段时间椅位不能接诊下一位"),
    # Chair time per visit when the visits export has no end times, and the recall interval a re-appointment
    # proxy looks within: by the kind of department (department_kind).
    *(_t(f"visit_minutes_{kind}", minutes, "max", f"{zh}每次就诊占椅分钟（默认）", f"{en}: chair minutes per visit (default)",
         "playbook default: the sources give no appointment length; a typical booking block, set it from the "
         "clinic's booking system",
         source_zh="经验设定（资料未给出数值）：资料未给出就诊时长；按常见的预约时段设定，可按诊所的预约系统调整")
      for kind, (zh, en, minutes, _) in DEPARTMENT_DEFAULTS.items()),
    *(_t(f"recall_days_{kind}", days, "max", f"{zh}复诊间隔天数（默认）", f"{en}: recall interval in days (default)",
         "playbook default: the sources give no recall interval; a typical one for the department (adjustments, "
         "maintenance, six-monthly check-ups)",
         source_zh="经验设定（资料未给出数值）：资料未给出复诊间隔；按该科室常见的复诊周期（调整、维护、半年检查）设定")
      for kind, (zh, en, _, days) in DEPARTMENT_DEFAULTS.items()),
)}


# The five articles the method comes from (method.md; seeds/000..004), as the appendix lists them once:
# tag -> (title as published, what the playbook takes from it in Chinese, the same in English).
SOURCES = {
    "S0": ("《牙科门诊业绩下滑怎么办？口腔门诊周会实战指南：目标分解让业绩稳定增长》",
           "周复盘会“三表一图”、目标分解与偏差率、渠道投入产出与止损、任务看板、项目分档",
           "“What to do when a dental clinic's revenue falls: the weekly review meeting in practice”: the weekly "
           "pack, targets and deviation, channel ROI and stop-loss, the task board, item tiers"),
    "S1": ("拜博口腔网《企业业绩提升遇瓶颈？方法诊所如何精准对症开良方？》",
           "诊断→处方→执行→评估的方法，七类问题与A–E五类处方",
           "Bybo Dental, “When growth stalls, how does a clinic find the right remedy?”: the method diagnose → "
           "prescribe → execute → evaluate, its seven problem classes and plans A–E"),
    "S2": ("《口腔门诊运营方案》（文库文档）",
           "营收驱动因素（到诊×成交×客单价×复购）、初诊成交率复盘线、转介绍行动线、运营循环",
           "“Dental clinic operations plan” (a shared document): the revenue driver tree, the first-visit "
           "conversion review line, the referral action line, the operations loop"),
    "S3": ("《客户故事｜开业牙医的数据运营进阶之路》（瑞蕾齿科孙海欧的分享）",
           "流失与可约回的比例、转介绍健康线、ABC客户、医生指定率、耗材加工费库存占比、9.9元引流卡保本案例",
           "“Customer story: a practising dentist's path to data-driven operations” (Sun Haiou, Ruilei Dental): "
           "churn and recovery rates, the referral healthy line, ABC patients, designation, cost shares, the 9.9-yuan "
           "card case"),
    "S4": ("《口腔诊所年终总结范文》（范文网站的文章）",
           "咨询师的职责与考核：成交、留存、复购、转介绍",
           "“A dental clinic's year-end review” (a sample text): the treatment consultant's role and KPIs: "
           "conversion, retention, repurchase, referral"),
}


def sources_table(lang: str = "zh") -> pd.DataFrame:
    """The appendix's list of sources: each [S0]..[S4] once, by title, with what the method takes from it."""
    return pd.DataFrame({
        i18n.pick(lang, "出处", "Source"): [f"[{tag}]" for tag in SOURCES],
        i18n.pick(lang, "文章", "Article"): [i18n.pick(lang, f"{title}：{what}", en)
                                             for title, what, en in SOURCES.values()],
    })




def department_kind(department) -> str:
    """The kind of a department as the data names it (种植科 → implant), for its default visit length and
    recall interval; a department no keyword names is ``general``."""
    name = str(department) if department is not None and department == department else ""
    return next((kind for kind, words in DEPARTMENT_WORDS.items() if any(w in name for w in words)), "general")


def resolve(overrides: Mapping[str, float] | None = None) -> dict[str, Threshold]:
    """The thresholds in force for a clinic: the defaults, with its configuration's overrides marked."""
    table = dict(DEFAULTS)
    for name, value in (overrides or {}).items():
        base = DEFAULTS[name]
        table[name] = Threshold(name, float(value), base.direction, base.zh, base.en, base.source, default=base.value,
                                source_zh=base.source_zh)
    return table


def as_table(thresholds: Mapping[str, Threshold], lang: str = "zh") -> pd.DataFrame:
    """The appendix table: every threshold, its value, its source, and whether the consultant changed it."""
    rows = []
    for t in thresholds.values():
        value = f"{t.value:g}" if abs(t.value) >= 1 else i18n.rate(t.value, lang)
        changed = ""
        if t.overridden:
            was = f"{t.default:g}" if abs(t.default) >= 1 else i18n.rate(t.default, lang)
            changed = i18n.pick(lang, f"顾问调整（原为{was}）", f"changed by the consultant (was {was})")
        rows.append({i18n.pick(lang, "阈值", "Threshold"): t.zh if lang == "zh" else t.en,
                     i18n.pick(lang, "数值", "Value"): value,
                     i18n.pick(lang, "来源", "Source"): t.cited(lang),
                     i18n.pick(lang, "调整", "Changed"): changed})
    table = pd.DataFrame(rows)
    changed = i18n.pick(lang, "调整", "Changed")
    # a column of nothing tells the owner nothing: shown only when the consultant changed a line
    return table if table.empty or table[changed].astype(bool).any() else table.drop(columns=changed)

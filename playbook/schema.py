"""The canonical tables a clinic can give, and the export headers recognised for each column.

This is data, not code: the loader (`playbook.io`), the intake audit, the Excel intake templates and
the sample generator all read it, so a header added here is recognised everywhere.

Source: the contract section of method.md ("Headers and values that real Chinese exports use").
Headers for the optional tables are the names the common Chinese clinic systems export; a clinic's
``clinic.yaml`` maps any other header (``headers: {visits: {到院时间: scheduled_at}}``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds decide how a raw cell is parsed (see playbook.parsing).
ID, TEXT, DATE, AMOUNT, INT, FLAG, STATUS = "id", "text", "date", "amount", "int", "flag", "status"
SCORE = "score"  # a rating (0-10, 1-5 stars): a number, never converted by a unit in its header (评分 is no 分)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    headers: tuple[str, ...]
    required: bool = False
    pii: bool = False
    zh: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    zh: str
    columns: tuple[Column, ...]
    key: str | None = None  # a column whose values must be unique
    minimal: bool = False  # the playbook cannot run without it
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> raw value -> canonical

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


def _c(name, kind, *headers, required=False, pii=False, zh=""):
    return Column(name, kind, tuple(headers), required=required, pii=pii, zh=zh or headers[0])


# Visit statuses as real systems write them; the audit lists which word was read as what.
VISIT_STATUS = {
    **dict.fromkeys(("已到诊", "到诊", "已就诊", "已到", "已到店", "到店", "已签到", "签到", "已接诊", "接诊", "就诊中",
                     "已看诊", "已治疗", "已完成", "完成", "已结账", "结账", "已收费", "已离店", "已离开",
                     "arrived", "attended", "completed", "checked in", "show"), "arrived"),
    **dict.fromkeys(("爽约", "失约", "未到", "未到诊", "未到店", "未就诊", "未来", "过号",
                     "no_show", "no-show", "no show", "noshow", "missed"), "no_show"),
    **dict.fromkeys(("已取消", "取消", "取消预约", "患者取消", "诊所取消", "改约", "已改约", "退约", "已退约", "撤销",
                     "已撤销", "作废", "已作废", "cancelled", "canceled"), "cancelled"),
    # Booked and not yet past: neither an arrival nor a no-show (the contract counts neither).
    **dict.fromkeys(("已预约", "预约", "预约中", "待到诊", "待就诊", "待确认", "已确认", "未开始",
                     "booked", "scheduled", "pending"), "booked"),
}
VISIT_TYPE = {"初诊": "first", "复诊": "return", "first": "first", "return": "return"}
CHARGE_KIND = {"收费": "charge", "缴费": "charge", "收款": "charge", "消费": "charge", "charge": "charge",
               "退费": "refund", "退款": "refund", "refund": "refund"}
PLAN_STATUS = {
    "已提出": "proposed", "待确认": "proposed", "proposed": "proposed",
    "已接受": "accepted", "已确认": "accepted", "治疗中": "accepted", "accepted": "accepted",
    "已拒绝": "declined", "未接受": "declined", "declined": "declined",
    "已完成": "completed", "完成": "completed", "completed": "completed",
    "中断": "interrupted", "已中断": "interrupted", "interrupted": "interrupted",
}

PATIENTS = Table(
    "patients", "患者档案",
    (
        _c("patient_id", ID, "患者编号", "病历号", "患者ID", "客户编号", required=True),
        _c("name", TEXT, "姓名", "患者姓名", "客户姓名", pii=True),
        _c("phone", TEXT, "手机号", "电话", "联系电话", "手机", pii=True),
        _c("first_visit_date", DATE, "首诊日期", "初诊日期", "建档日期"),
        _c("source_channel", TEXT, "来源渠道", "客户来源", "渠道", "来源"),
        _c("referrer_patient_id", ID, "推荐人病历号", "推荐人编号", "介绍人病历号", "推荐人"),
        _c("birth_year", INT, "出生年份", "出生年"),
        _c("gender", TEXT, "性别"),
        _c("member", FLAG, "会员", "是否会员"),
        _c("tier_tag", TEXT, "客户等级", "客户分级", "等级"),
    ),
    key="patient_id", minimal=True,
)

VISITS = Table(
    "visits", "预约到诊",
    (
        _c("visit_id", ID, "预约编号", "就诊编号", "预约ID", "到诊编号", required=True),
        _c("patient_id", ID, "患者编号", "病历号", "患者ID", "客户编号", required=True),
        _c("scheduled_at", DATE, "预约时间", "就诊时间", "到诊时间", "预约日期", "就诊日期", required=True),
        _c("status", STATUS, "到诊状态", "状态", "预约状态", required=True),
        _c("visit_type", STATUS, "初复诊", "就诊类型"),
        _c("department", TEXT, "科室"),
        _c("doctor_id", TEXT, "医生", "医生编号", "主治医生"),
        _c("consultant_id", TEXT, "咨询师", "咨询师编号", "咨询顾问", "接诊咨询师", "咨询人员"),
        _c("chair_id", TEXT, "椅位", "牙椅"),
        # When the booking was made (re-appointment: booked before the patient left), and the visit's own
        # times (waiting, chair time); optional, as few systems export them.
        _c("booked_at", DATE, "预约创建时间", "创建时间", "预约登记时间", "登记时间", "建单时间"),
        _c("checked_in_at", DATE, "签到时间", "到店时间", "报到时间"),
        _c("started_at", DATE, "开始时间", "就诊开始时间", "开始就诊时间"),
        _c("ended_at", DATE, "结束时间", "就诊结束时间", "离店时间"),
    ),
    key="visit_id", minimal=True,
    values={"status": VISIT_STATUS, "visit_type": VISIT_TYPE},
)

CHARGES = Table(
    "charges", "收费明细",
    (
        # One receipt (收费单号) often holds several item lines, so charge_id is not a unique key.
        _c("charge_id", ID, "收费单号", "收费编号", "单据号"),
        _c("visit_id", ID, "预约编号", "就诊编号", "预约ID"),
        _c("patient_id", ID, "患者编号", "病历号", "患者ID", "客户编号", required=True),
        _c("paid_at", DATE, "收费日期", "收费时间", "支付时间", required=True),
        _c("item", TEXT, "项目名称", "收费项目", "项目", required=True),
        _c("category", TEXT, "项目类别", "收费类别"),
        _c("department", TEXT, "科室"),
        _c("list_price", AMOUNT, "标准价", "原价"),
        _c("amount_paid", AMOUNT, "实收金额", "实收", "实付金额", required=True),
        _c("doctor_id", TEXT, "医生", "医生编号", "主治医生"),
        _c("designated", FLAG, "是否指定", "指定医生"),
        # Refunds in their own column, or lines marked 退费 with a positive amount: the loader folds
        # both into amount_paid as negative amounts, as the contract counts refunds.
        _c("refund", AMOUNT, "退费金额", "退款金额", "退费", "退款"),
        _c("charge_kind", STATUS, "收支类型", "单据类型", "交易类型", "收费类型"),
    ),
    minimal=True,
    values={"charge_kind": CHARGE_KIND},
)

TREATMENT_PLANS = Table(
    "treatment_plans", "治疗计划",
    (
        _c("plan_id", ID, "计划编号", "治疗计划编号", "方案编号", required=True),
        _c("patient_id", ID, "患者编号", "病历号", "患者ID", "客户编号", required=True),
        _c("created_at", DATE, "创建日期", "制定日期", "计划日期", required=True),
        _c("planned_amount", AMOUNT, "计划金额", "方案金额"),
        _c("status", STATUS, "计划状态", "状态", required=True),
        _c("doctor_id", TEXT, "医生", "医生编号", "主治医生"),
    ),
    key="plan_id",
    values={"status": PLAN_STATUS},
)

LEADS = Table(
    "leads", "线索咨询",
    (
        _c("lead_id", ID, "线索编号", "咨询编号", required=True),
        _c("channel", TEXT, "渠道", "来源渠道", "客户来源", required=True),
        _c("campaign_id", ID, "活动编号"),
        _c("created_at", DATE, "咨询时间", "创建时间", "线索时间", required=True),
        _c("booked", FLAG, "是否预约", "已预约"),
        _c("arrived", FLAG, "是否到店", "已到店"),
        _c("patient_id", ID, "患者编号", "病历号", "患者ID", "客户编号"),
    ),
    key="lead_id",
)

CAMPAIGNS = Table(
    "campaigns", "营销活动",
    (
        _c("campaign_id", ID, "活动编号", required=True),
        _c("name", TEXT, "活动名称", zh="活动名称"),
        _c("channel", TEXT, "渠道", "投放渠道"),
        _c("start", DATE, "开始日期", required=True),
        _c("end", DATE, "结束日期"),
        _c("spend", AMOUNT, "投放金额", "推广费用", "花费"),
        _c("offer_price", AMOUNT, "优惠价", "活动价"),
        _c("offer_cost", AMOUNT, "单次成本", "履约成本"),
        _c("units_sold", INT, "售出数量", "销量"),
    ),
    key="campaign_id",
)

COSTS = Table(
    "costs", "月度成本",
    (
        _c("month", DATE, "月份", "期间", required=True),
        _c("category", TEXT, "类别", "成本类别", "费用类别", required=True),
        _c("amount", AMOUNT, "金额", "费用", required=True),
    ),
)

STAFF = Table(
    "staff", "员工",
    (
        _c("staff_id", ID, "员工编号", "工号", required=True),
        _c("staff_name", TEXT, "员工姓名", "姓名"),
        _c("role", TEXT, "岗位", "职位", "角色"),
        _c("title", TEXT, "职称"),
        _c("daily_capacity", INT, "日接诊上限", "日产能"),
    ),
    key="staff_id",
)

TARGETS = Table(
    "targets", "目标",
    (
        _c("period", TEXT, "周期", "期间", required=True),
        _c("metric", TEXT, "指标", required=True),
        _c("target", AMOUNT, "目标", "目标值", required=True),
        _c("owner_department", TEXT, "责任部门"),
    ),
)

# Satisfaction [S1]: a survey's 0-10 "would you recommend us" score (NPS), and reviews on 大众点评, 美团 …
# The free text (意见, 评价内容) may name people: it is read for themes and counts, never printed.
SURVEYS = Table(
    "surveys", "满意度调查",
    (
        _c("surveyed_at", DATE, "调查日期", "回访日期", "提交时间", "提交答卷时间", "填写时间", "答卷时间", required=True),
        _c("score", SCORE, "推荐意愿", "推荐评分", "NPS评分", "NPS", "推荐度", "推荐指数", "评分", required=True),
        _c("doctor_id", TEXT, "医生", "主治医生", "医生编号"),
        _c("channel", TEXT, "来源渠道", "渠道", "客户来源"),
        _c("patient_id", ID, "病历号", "患者编号", "患者ID", "客户编号"),
        _c("comment", TEXT, "意见建议", "意见", "评价内容", "留言", "其他意见", "建议", "备注"),
    ),
)

REVIEWS = Table(
    "reviews", "在线评价",
    (
        _c("platform", TEXT, "平台", "评价平台", "来源平台", "来源"),
        _c("reviewed_at", DATE, "评价时间", "评价日期", "发布时间", "日期", required=True),
        _c("stars", SCORE, "星级", "评价星级", "总体评分", "评分", "星数", required=True),
        _c("text", TEXT, "评价内容", "内容", "评价"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (PATIENTS, VISITS, CHARGES, TREATMENT_PLANS, LEADS, CAMPAIGNS, COSTS, STAFF, TARGETS, SURVEYS, REVIEWS)
}
MINIMAL_TABLES = [t.name for t in TABLES.values() if t.minimal]

# Headers that carry personal data the playbook never needs: dropped at load (never read), named in the
# audit. A header no table recognises that holds one of these words is dropped the same way.
DROPPED_PII_HEADERS = ("身份证号", "身份证", "证件号", "证件号码", "地址", "家庭住址", "住址", "微信", "微信号", "邮箱",
                       "用户昵称", "昵称", "用户名", "评价人")
PERSONAL_HEADER_WORDS = ("身份证", "证件", "地址", "住址", "微信", "邮箱", "电话", "手机", "qq", "联系人", "姓名",
                         "监护人", "家长", "紧急")

# Id columns that hold the same ids across tables (a referrer is a patient); others by their name.
ID_FAMILY = {"referrer_patient_id": "patient_id"}

# The date that places each row of an event table in time: a row whose date is implausible
# (a 1900 placeholder, years before the rest, after the export) is left out of every KPI.
EVENT_DATE = {"visits": "scheduled_at", "charges": "paid_at", "treatment_plans": "created_at", "leads": "created_at",
              "surveys": "surveyed_at", "reviews": "reviewed_at"}

# Source channels that count as referral (转介绍) for referral_share [S3].
REFERRAL_CHANNELS = ("转介绍", "老带新")
# Words in a channel's name that suggest a referral the clinic has not listed (the audit asks).
REFERRAL_WORDS = ("介绍", "推荐", "老带新", "转介", "朋友", "亲友", "口碑", "熟人")

"""Numbers and words in the owner's conventions: 万元 for large sums in Chinese, one-decimal percentages.

Every sentence a chapter shows goes through these, so a missing value reads "无数据"/"no data" and
never NaN or inf.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

from babel import Locale

NO_DATA = {"zh": "无数据", "en": "no data"}
MINUS = "\u2212"  # −, the minus sign of typeset numbers; "-" is a hyphen


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def money(value, lang: str = "zh") -> str:
    """12_345_678 → '1,234.6万元' (zh) or '¥12.35m' (en); below 10,000 the exact amount; '-¥5,000' for a loss.

    Signs are ASCII here, as in `rate`; the report sets them as minus signs (`minus_signs`)."""
    if _missing(value):
        return NO_DATA[lang]
    sign = "-" if value < 0 else ""
    value = abs(value)
    if lang == "zh":
        return sign + (f"{value / 1e4:,.1f}万元" if value >= 1e4 else f"{value:,.0f}元")
    return sign + (f"¥{value / 1e6:,.2f}m" if value >= 1e6 else f"¥{value:,.0f}")


def money_column(values, lang: str = "zh", *, signed: bool = False, missing: str | None = None) -> list[str]:
    """A table column of sums in one unit, so that the figures compare down the column.

    The unit follows the column's largest sum as `money` picks it for one (万元 from 10,000 yuan in
    Chinese, ¥…m from a million in English) and applies to every row: ['¥1.73m', '¥0.26m'], never
    ['¥1.73m', '¥260,571']. A row that the unit would round to nothing gets one more decimal in Chinese
    (-0.04万元 for -360 yuan); where that is still not enough (under 50 yuan in 万元, under 5,000 in
    millions) the whole column is written in yuan. ``signed`` puts + before a gain (an effect column);
    a loss gets -, before the ¥. ``missing`` is written for a missing value (default: "无数据"/"no data").
    """
    numbers = [None if _missing(v) else float(v) for v in values]
    present = [abs(v) for v in numbers if v is not None]
    largest = max(present, default=0.0)
    smallest = min((v for v in present if v > 0), default=largest)
    if lang == "zh":
        prefix, scale, decimals, suffix = "", 1e4, 1 if smallest >= 500 else 2, "万元"
        if largest < 1e4 or smallest < 50:
            scale, decimals, suffix = 1, 0, "元"
    else:
        prefix, scale, decimals, suffix = "¥", 1e6, 2, "m"
        if largest < 1e6 or smallest < 5e3:
            scale, decimals, suffix = 1, 0, ""
    blank = NO_DATA[lang] if missing is None else missing

    def one(v):
        if v is None:
            return blank
        shown = round(abs(v) / scale, decimals)
        sign = "-" if v < 0 and shown else "+" if signed and v > 0 and shown else ""
        return f"{sign}{prefix}{shown:,.{decimals}f}{suffix}"

    return [one(v) for v in numbers]


# A hyphen that stands for a minus: it starts a number (optionally after a currency sign) and does not
# join Latin words or figures (2024-01-05, 5-7%, COVID-19 and a Markdown list's "- " keep theirs). After
# a Chinese character it is a sign: 变化-47.6万元.
_HYPHEN_MINUS = re.compile(r"(?<![0-9A-Za-z_.,:/=\-\u2212])-(?=[¥$€£]?\d)")
_TAG = re.compile(r"(<[^>]*>)")


def minus_signs(text: str) -> str:
    """Text with its negative numbers written with a true minus: 'fell -22.6% (-¥559,200)' → '… −22.6% (−¥559,200)'.

    Sentences reach the report from many f-strings; one pass where the report is set keeps the sign
    consistent everywhere (Typst alone turns "-5" into "−5" but leaves "-¥5" a hyphen). HTML tags and
    their attributes (a style's ``margin: -1px``) are left as they are.
    """
    return "".join(part if part.startswith("<") else _HYPHEN_MINUS.sub(MINUS, part) for part in _TAG.split(text))


def display_width(text: str) -> int:
    """Width in half-width units, as a monospaced layout counts it: a Chinese character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


# CLDR plural rules (Babel): English has "one" (1, 1.0) and "other" (0, 2, 1.5 …); Chinese has one form.
_PLURAL_FORM = Locale.parse("en").plural_form


def plural(n, one: str, other: str | None = None) -> str:
    """The English word that agrees with ``n``: plural(1, "finding") → 'finding', plural(12, "finding") →
    'findings', plural(1, "needs", "need") → 'needs'. ``other`` defaults to ``one`` + "s"; give it for
    any other plural ("status", "statuses"; "person", "people"). Chinese writes a measure word instead."""
    return one if _PLURAL_FORM(abs(n)) == "one" else (other if other is not None else one + "s")


def counted(n, one: str, other: str | None = None) -> str:
    """A count and its English noun: counted(1456, "patient") → '1,456 patients', counted(1, "finding") → '1 finding'."""
    return f"{count(n, 'en')} {plural(n, one, other)}"


def rate(value, lang: str = "zh") -> str:
    return NO_DATA[lang] if _missing(value) else f"{value * 100:.1f}%"


def count(value, lang: str = "zh") -> str:
    return NO_DATA[lang] if _missing(value) else f"{int(value):,}"


def month(value: dt.date, lang: str = "zh") -> str:
    return f"{value.year}年{value.month}月" if lang == "zh" else value.strftime("%b %Y")


def day(value: dt.date, lang: str = "zh") -> str:
    return f"{value.year}年{value.month}月{value.day}日" if lang == "zh" else value.isoformat()


def span(first: dt.date, last: dt.date) -> str:
    """A short date range for a table cell: 2025.07.01–09.30, the year repeated only when it changes."""
    return f"{first:%Y.%m.%d}–{last:%m.%d}" if first.year == last.year else f"{first:%Y.%m.%d}–{last:%Y.%m.%d}"


def period(start: dt.date, end: dt.date, lang: str = "zh") -> str:
    return f"{day(start, lang)}–{day(end, lang)}" if lang == "zh" else f"{start:%d %b %Y} – {end:%d %b %Y}"


def week_of(value: dt.date, lang: str = "zh") -> str:
    """A week by its Monday: 2025年1月20日那周 / the week of 2025-01-20."""
    value = _date(value)
    return f"{day(value, lang)}那周" if lang == "zh" else f"the week of {day(value, lang)}"


def months(first: dt.date, last: dt.date, lang: str = "zh") -> str:
    """The months from ``first``'s to ``last``'s: 2025年7–12月 / Jul 2025 – Dec 2025; one month alone."""
    first, last = _date(first), _date(last)
    if (first.year, first.month) == (last.year, last.month):
        return month(first, lang)
    if lang == "zh":
        tail = f"{last.month}月" if first.year == last.year else month(last, lang)
        return f"{month(first, lang)}–{tail}"
    return f"{first:%b}–{last:%b %Y}" if first.year == last.year else f"{first:%b %Y} – {last:%b %Y}"


def whole_months(start: dt.date, end: dt.date) -> int:
    """The number of calendar months ``start``..``end`` spans when it is whole months, else 0."""
    start, end = _date(start), _date(end)
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1:
        return 0
    return (end.year - start.year) * 12 + end.month - start.month + 1


def window(start: dt.date, end: dt.date, lang: str = "zh") -> str:
    """A window as an owner names it: 2025年下半年 / H2 2025, 2025年第4季度 / Q4 2025, 2024–2025年 …"""
    start, end = _date(start), _date(end)
    n = whole_months(start, end)
    if not n:
        return period(start, end, lang)
    y, m = start.year, start.month
    if n == 1:
        return month(start, lang)
    if n == 12 and m == 1:
        return pick(lang, f"{y}年", f"{y}")
    if n % 12 == 0 and m == 1:
        return pick(lang, f"{y}–{end.year}年", f"{y}–{end.year}")
    if n == 6 and m in (1, 7):
        return pick(lang, f"{y}年{'上' if m == 1 else '下'}半年", f"H{1 if m == 1 else 2} {y}")
    if n == 3 and m in (1, 4, 7, 10):
        return pick(lang, f"{y}年第{(m - 1) // 3 + 1}季度", f"Q{(m - 1) // 3 + 1} {y}")
    if end.year == y:
        return pick(lang, f"{y}年{m}–{end.month}月", f"{start:%b}–{end:%b} {y}")
    return pick(lang, f"{y}年{m}月–{end.year}年{end.month}月", f"{start:%b %Y} – {end:%b %Y}")


def recent_and_before(recent, before, lang: str = "zh") -> tuple[str, str]:
    """The window a metric is judged on and the one before it (anything with ``start`` and ``end``), as a
    chart or a table names them; "before" when there is none."""
    return (window(recent.start, recent.end, lang),
            window(before.start, before.end, lang) if before else pick(lang, "此前", "before"))


def _date(value) -> dt.date:
    """A date from a date, a datetime or a pandas Timestamp (a datetime too)."""
    return value.date() if isinstance(value, dt.datetime) else value


def pick(lang: str, zh: str, en: str) -> str:
    """The text in the report's language; both are written side by side where they are used."""
    return zh if lang == "zh" else en


# ---------------------------------------------------------------------------------------------------
# Words the exports write in Chinese, as an English report prints them.
#
# One table for every chart, table and sentence: source channels, departments, item tiers, cost
# categories, weekdays and time slots, doctors' titles, the revenue drivers, and the playbook's own keys
# (``unknown``, ``high_value``, ``weekday_morning`` …) that reach the page as a finding's segment. A
# value the table does not know (a clinic's own channel or campaign, a doctor's name) is printed as
# written, in both languages.
TERMS: dict[str, tuple[str, str]] = {
    # source channels (method.md: 美团/抖音/大众点评/地推/转介绍/自然到店 …)
    "美团": ("美团", "Meituan"),
    "大众点评": ("大众点评", "Dianping"),
    "点评": ("点评", "Dianping"),
    "美团点评": ("美团点评", "Meituan-Dianping"),
    "抖音": ("抖音", "Douyin"),
    "快手": ("快手", "Kuaishou"),
    "小红书": ("小红书", "Xiaohongshu"),
    "微信": ("微信", "WeChat"),
    "公众号": ("公众号", "WeChat official account"),
    "视频号": ("视频号", "WeChat Channels"),
    "百度": ("百度", "Baidu"),
    "高德": ("高德", "Amap"),
    "地推": ("地推", "Street promotion"),
    "转介绍": ("转介绍", "Referral"),
    "老带新": ("老带新", "Referral (patient brings patient)"),
    "老客介绍": ("老客介绍", "Referral (existing patient)"),
    "朋友介绍": ("朋友介绍", "Referral (friend)"),
    "员工介绍": ("员工介绍", "Referral (staff)"),
    "自然到店": ("自然到店", "Walk-in"),
    "路过": ("路过", "Walk-in"),
    "电话": ("电话", "Phone"),
    "网络": ("网络", "Online"),
    "线上": ("线上", "Online"),
    "线下": ("线下", "Offline"),
    "团购": ("团购", "Group buy"),
    "义诊": ("义诊", "Free check-up event"),
    "社区": ("社区", "Community"),
    "企业": ("企业", "Corporate"),
    "医保": ("医保", "Medical insurance"),
    "其他": ("其他", "Other"),
    "未知": ("未知", "Unknown"),
    "unknown": ("未知渠道", "unknown channel"),  # playbook.tables.UNKNOWN_CHANNEL
    # departments (种植/正畸/修复/儿牙/牙周/综合 …); "种植科" is found without its 科
    "种植": ("种植", "Implants"),
    "正畸": ("正畸", "Orthodontics"),
    "修复": ("修复", "Prosthodontics"),
    "儿牙": ("儿牙", "Children's dentistry"),
    "儿童口腔": ("儿童口腔", "Children's dentistry"),
    "牙周": ("牙周", "Periodontics"),
    "综合": ("综合", "General"),
    "牙体牙髓": ("牙体牙髓", "Endodontics"),
    "口腔外科": ("口腔外科", "Oral surgery"),
    "外科": ("外科", "Oral surgery"),
    "美学": ("美学", "Aesthetic dentistry"),
    "预防": ("预防", "Prevention"),
    "放射": ("放射", "Radiology"),
    # item tiers [S0] (playbook.catalogue keys, and the Chinese names the playbook prints)
    "high_value": ("高值项目", "high-value items"),
    "profit": ("利润项目", "profit items"),
    "traffic": ("引流项目", "traffic items"),
    "other": ("其他收费", "other charges"),
    "高值项目": ("高值项目", "high-value items"),
    "利润项目": ("利润项目", "profit items"),
    "引流项目": ("引流项目", "traffic items"),
    "其他收费": ("其他收费", "other charges"),
    "高值": ("高值", "High-value"),
    "利润": ("利润", "Profit"),
    "引流": ("引流", "Traffic"),
    # cost categories (playbook.costs keys, and the export's words)
    "consumables": ("耗材", "consumables"),
    "lab": ("加工费", "lab fees"),
    "inventory": ("库存", "inventory"),
    "耗材": ("耗材", "consumables"),
    "材料": ("材料", "materials"),
    "加工费": ("加工费", "lab fees"),
    "技工": ("技工", "lab fees"),
    "库存": ("库存", "inventory"),
    "房租": ("房租", "rent"),
    "租金": ("租金", "rent"),
    "人工": ("人工", "labour"),
    "工资": ("工资", "wages"),
    "营销": ("营销", "marketing"),
    "推广": ("推广", "promotion"),
    "水电": ("水电", "utilities"),
    "设备": ("设备", "equipment"),
    "折旧": ("折旧", "depreciation"),
    "管理费": ("管理费", "administration"),
    # weekdays and time slots (playbook.doctors: "weekday_morning" …)
    "周一": ("周一", "Mon"), "周二": ("周二", "Tue"), "周三": ("周三", "Wed"), "周四": ("周四", "Thu"),
    "周五": ("周五", "Fri"), "周六": ("周六", "Sat"), "周日": ("周日", "Sun"),
    "工作日": ("工作日", "weekdays"),
    "周末": ("周末", "weekends"),
    "上午": ("上午", "morning"),
    "下午": ("下午", "afternoon"),
    "傍晚": ("傍晚", "evening"),
    "晚上": ("晚上", "evening"),
    "weekday_morning": ("工作日上午", "weekday mornings"),
    "weekday_afternoon": ("工作日下午", "weekday afternoons"),
    "weekday_evening": ("工作日傍晚", "weekday evenings"),
    "weekend_morning": ("周末上午", "weekend mornings"),
    "weekend_afternoon": ("周末下午", "weekend afternoons"),
    "weekend_evening": ("周末傍晚", "weekend evenings"),
    # the revenue drivers (playbook.drivers keys)
    "arrivals": ("到诊人数", "arrivals"),
    "conversion": ("治疗转化率", "treatment conversion"),  # the driver tree's: not 初诊成交率 (first-visit conversion)
    "ticket": ("客单价", "average ticket"),
    "frequency": ("复购频次", "purchase frequency"),
    # doctors' titles (staff.title)
    "主任": ("主任", "Chief"),
    "主任医师": ("主任医师", "Chief physician"),
    "副主任": ("副主任", "Associate chief"),
    "副主任医师": ("副主任医师", "Associate chief physician"),
    "主治": ("主治", "Attending"),
    "主治医师": ("主治医师", "Attending physician"),
    "住院医师": ("住院医师", "Resident"),
    "医师": ("医师", "Physician"),
}


def term(value, lang: str = "zh"):
    """A value from the exports (a channel, department, tier, cost category …) in the report's language.

    ``term("抖音", "en")`` → 'Douyin'; ``term("种植科", "en")`` → 'Implants'; ``term("unknown")`` →
    '未知渠道'. What the table does not know (a clinic's own names, doctors' names) comes back as it
    is, and so does anything that is not a string.
    """
    if not isinstance(value, str):
        return value
    key = value.strip()
    names = TERMS.get(key)
    if names is None and key.endswith("科") and len(key) > 1:  # 种植科 → Implants; in Chinese as written
        names = TERMS.get(key[:-1])
        return value if names is None or lang == "zh" else names[1]
    if names is None:
        return value
    return names[0] if lang == "zh" else names[1]

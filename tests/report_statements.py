"""What a report states, read back from its rendered Markdown as an owner reads it: metric, window, value.

A test helper, never used by the playbook (which renders sentences from data and never parses them back).
The report is the check's input because that is what the owner holds: a statement is a metric's label
(the registry's, `playbook.metrics`, or one of the short forms below) with its value right after it (or,
for a count, right before: 2,572位新患者), the segment it is about (a channel, a doctor, a tier …, named
before it in the sentence) and the window it was measured over: one written in the same sentence
(2025年下半年, H2 2025, 2024年1月–2025年6月, 分析期), else the report's period, which every page's header
states. A statement whose clause says only "最近"/"lately" or "此前"/"before" names no window.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from playbook import i18n
from playbook.metrics import METRICS

# Short forms sentences use beside the registry's labels: label -> metric.
SHORT_ZH = {"实收": "revenue", "新患者": "new_patients", "到店率": "lead_arrival_rate", "流失率": "churn_rate",
            "月均实收": "monthly_revenue", "占实收": "cost_share", "活动": "campaigns", "营销活动": "campaigns"}
SHORT_EN = {"revenue": "revenue", "new patients": "new_patients", "monthly revenue": "monthly_revenue",
            "lead arrival rate": "lead_arrival_rate", "designation": "designation_rate", "campaigns": "campaigns",
            "12-month return": "return_within_12m"}
KEYS = {"lead_arrival_rate": "arrival_rate"}  # the registry's name where a short form names it otherwise
UNITS = {"monthly_revenue": "yuan", "cost_share": "rate", "campaigns": "count"}
# A count is not told by a rate of people or an average: 53.3% of new patients, 4.6 per day.
NUMBER = r"[+\-−]?\d[\d,]*(?:\.\d+)?"
ZH_VALUE = {"rate": rf"({NUMBER})%", "yuan": rf"({NUMBER})(万元|元)",
            "count": rf"({NUMBER})(?:人次|人|位|名|个)?(?![\d.%万元天日周年月点岁])"}
EN_VALUE = {"rate": rf"({NUMBER})%", "yuan": rf"¥({NUMBER})(m|k)?",
            "count": rf"(?!(?:19|20)\d\d\b)({NUMBER})(?![\d.%]| ?(?:days?|weeks?|months?))"}
# A bound, not a value: "80% or more", 80%以上.
BOUND = re.compile(r"^\s*(?:or more|or less|or better|以上|以下|以内)")
ZH_FILL = r"(?:为|是|只有|仅有|仅|只占|达到|达|约|在)?"
EN_FILL = r"(?:\s+(?:of|in|over|for)\s+[^,;:%¥]{1,60}?)??(?:\s+(?:was|were|is|of|at|stood at|ran at|averaged)\s*|:\s*|\s+)"
# What a clause states as a target or a condition, not as a measured value.
HYPOTHETICAL = re.compile(r"才能|目标|需要|至少|保本|要达到|target|needs?\b|at least|break(?:s)? even|would")
EVENT_ZH = r"(?=之后|之前|以后|以前|以来|后|前|起)"
RELATIVE_ZH = re.compile(r"最近|近\d+个月|近半年|近期|此前|之前|较近|上期(?!（)")
RELATIVE_EN = re.compile(r"\blately\b|\brecently\b|\bin the last \w+ months\b|\bthe latest\b|"
                         r"\b(?:before|earlier)\b(?!\s+(?:leaving|the|a|an|\d))")
CLINIC_WIDE = re.compile(r"全院|全诊所|各渠道|各医生|各科室|其他医生|clinic-wide|the clinic's|every channel|every doctor")
MONTHS_EN = {m: i for i, m in enumerate(calendar.month_abbr) if m}


@dataclass(frozen=True)
class Statement:
    metric: str
    segment: str | None
    window: tuple[dt.date, dt.date] | None  # None: the sentence names only a relative window
    value: float
    half_unit: float  # half the last printed digit, in the value's unit: 23.0% → 0.0005 (as a fraction)
    text: str
    sentence: str

    def agrees(self, other: "Statement") -> bool:
        return abs(self.value - other.value) <= self.half_unit + other.half_unit + 1e-9


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _zh_windows(text: str, period) -> list[tuple[int, int, tuple[dt.date, dt.date]]]:
    """(start, end, window) of every window the text names, longest first where they overlap."""
    patterns = [
        (r"(\d{4})年(\d{1,2})月(\d{1,2})日–(\d{4})年(\d{1,2})月(\d{1,2})日",
         lambda m: (dt.date(int(m[1]), int(m[2]), int(m[3])), dt.date(int(m[4]), int(m[5]), int(m[6])))),
        (r"(\d{4})年(\d{1,2})月–(\d{4})年(\d{1,2})月",
         lambda m: (dt.date(int(m[1]), int(m[2]), 1), _month_end(int(m[3]), int(m[4])))),
        (r"(\d{4})年(\d{1,2})月?–(\d{1,2})月",
         lambda m: (dt.date(int(m[1]), int(m[2]), 1), _month_end(int(m[1]), int(m[3])))),
        (r"(\d{4})–(\d{4})年", lambda m: (dt.date(int(m[1]), 1, 1), dt.date(int(m[2]), 12, 31))),
        (r"(\d{4})年(上|下)半年", lambda m: (dt.date(int(m[1]), 1 if m[2] == "上" else 7, 1),
                                       dt.date(int(m[1]), 6, 30) if m[2] == "上" else dt.date(int(m[1]), 12, 31))),
        (r"(\d{4})年第([1-4])季度", lambda m: (dt.date(int(m[1]), 3 * int(m[2]) - 2, 1),
                                         _month_end(int(m[1]), 3 * int(m[2])))),
        (r"(\d{4})年(\d{1,2})月(\d{1,2})日那周", lambda m: (dt.date(int(m[1]), int(m[2]), int(m[3])),
                                                     dt.date(int(m[1]), int(m[2]), int(m[3])) + dt.timedelta(days=6))),
        (r"截至(\d{4})年(\d{1,2})月(\d{1,2})日", lambda m: (dt.date(int(m[1]), int(m[2]), int(m[3])),) * 2),
        (r"(\d{4})年(\d{1,2})月(\d{1,2})日", lambda m: None),  # a day is an event (离开, 起), not a window
        (rf"(\d{{4}})年(\d{{1,2}})月{EVENT_ZH}", lambda m: None),
        (r"(\d{4})年(\d{1,2})月", lambda m: (dt.date(int(m[1]), int(m[2]), 1), _month_end(int(m[1]), int(m[2])))),
        (r"(\d{4})年(?!\d)", lambda m: (dt.date(int(m[1]), 1, 1), dt.date(int(m[1]), 12, 31))),
        (r"分析期|本期", lambda m: period),
    ]
    return _windows(text, patterns)


def _en_windows(text: str, period) -> list[tuple[int, int, tuple[dt.date, dt.date]]]:
    mon = "|".join(MONTHS_EN)
    patterns = [
        (rf"(\d{{1,2}}) ({mon}) (\d{{4}}) – (\d{{1,2}}) ({mon}) (\d{{4}})",
         lambda m: (dt.date(int(m[3]), MONTHS_EN[m[2]], int(m[1])), dt.date(int(m[6]), MONTHS_EN[m[5]], int(m[4])))),
        (rf"({mon}) (\d{{4}}) – ({mon}) (\d{{4}})",
         lambda m: (dt.date(int(m[2]), MONTHS_EN[m[1]], 1), _month_end(int(m[4]), MONTHS_EN[m[3]]))),
        (rf"({mon})–({mon}) (\d{{4}})",
         lambda m: (dt.date(int(m[3]), MONTHS_EN[m[1]], 1), _month_end(int(m[3]), MONTHS_EN[m[2]]))),
        (r"H([12]) (\d{4})", lambda m: (dt.date(int(m[2]), 1 if m[1] == "1" else 7, 1),
                                       dt.date(int(m[2]), 6, 30) if m[1] == "1" else dt.date(int(m[2]), 12, 31))),
        (r"Q([1-4]) (\d{4})", lambda m: (dt.date(int(m[2]), 3 * int(m[1]) - 2, 1), _month_end(int(m[2]), 3 * int(m[1])))),
        (r"(\d{4})–(\d{4})", lambda m: (dt.date(int(m[1]), 1, 1), dt.date(int(m[2]), 12, 31))),
        (r"the week of (\d{4})-(\d{2})-(\d{2})", lambda m: (dt.date(int(m[1]), int(m[2]), int(m[3])),
                                                           dt.date(int(m[1]), int(m[2]), int(m[3])) + dt.timedelta(days=6))),
        (r"\bon (\d{4})-(\d{2})-(\d{2})", lambda m: (dt.date(int(m[1]), int(m[2]), int(m[3])),) * 2),
        (r"(\d{4})-(\d{2})-(\d{2})", lambda m: None),  # a day is an event ("since"), not a window
        (rf"({mon}) (\d{{4}})(?=,? having| and)", lambda m: None),
        (rf"({mon}) (\d{{4}})", lambda m: (dt.date(int(m[2]), MONTHS_EN[m[1]], 1), _month_end(int(m[2]), MONTHS_EN[m[1]]))),
        (r"(?<![\d¥.,])(20\d{2})(?![\d%.,])", lambda m: (dt.date(int(m[1]), 1, 1), dt.date(int(m[1]), 12, 31))),
        (r"\bthe period\b", lambda m: period),
    ]
    return _windows(text, patterns)


def _windows(text, patterns):
    """Each pattern's matches where no longer one matched; a pattern whose window is None masks an event
    date (a day a doctor left, a month something started), which is no window."""
    found, taken = [], [False] * len(text)
    for pattern, window in patterns:
        for m in re.finditer(pattern, text):
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            w = window(m)
            if w is not None:
                found.append((m.start(), m.end(), w))
    return sorted(found)


def _labels(lang: str) -> list[tuple[str, str, str]]:
    """(label, metric, unit), longest first: the registry's labels, then the short forms."""
    labels = {m.label(lang).lower() if lang == "en" else m.label(lang): (m.name, m.unit) for m in METRICS.values()}
    for label, metric in (SHORT_ZH if lang == "zh" else SHORT_EN).items():
        name = KEYS.get(metric, metric)
        labels.setdefault(label, (name, METRICS[name].unit if name in METRICS else UNITS[name]))
    return sorted(((label, name, unit) for label, (name, unit) in labels.items()), key=lambda x: -len(x[0]))


def _number(text: str, unit_text: str | None, unit: str, lang: str) -> tuple[float, float]:
    digits = text.replace(",", "").replace("−", "-")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value, half = float(digits), 0.5 * 10 ** -decimals
    scale = {"%": 0.01, "万元": 1e4, "元": 1.0, "m": 1e6, "k": 1e3}.get(unit_text or "", 1.0)
    if unit == "rate":
        scale = 0.01
    return value * scale, half * scale


def sentences(markdown: str, lang: str) -> list[str]:
    """The report's prose, sentence by sentence: paragraphs, headings and chart titles (a chart's alt text);
    tables are left out."""
    out = []
    for line in markdown.splitlines():
        line = line.strip()
        if not line or line.startswith("<") or line.startswith("|"):
            continue
        image = re.match(r"!\[(.*)\]\(.*\)$", line)
        text = (image[1] if image else line).replace("**", "").replace("\\*", "*")
        parts = re.split(r"(?<=[。；！？])" if lang == "zh" else r"(?<=[.;!?])\s+(?=[^a-z])", text)
        out += [p.strip() for p in parts if p.strip()]
    return out


def statements(markdown: str, lang: str, *, period: tuple[dt.date, dt.date], segments: list[str]) -> list[Statement]:
    """Every metric value the report's prose states, with its segment and window (see the module)."""
    found = []
    labels = _labels(lang)
    names = sorted(set(segments), key=len, reverse=True)
    for sentence in sentences(markdown, lang):
        windows = (_zh_windows if lang == "zh" else _en_windows)(sentence, period)
        taken = [False] * len(sentence)
        for label, metric, unit in labels:
            value = (ZH_VALUE if lang == "zh" else EN_VALUE)[unit]
            if lang == "zh":
                forms = [rf"{re.escape(label)}{ZH_FILL}{value}"]
                if unit == "count":
                    forms.append(rf"({NUMBER})(?:人次|人|位|名|个){re.escape(label)}")
            else:
                forms = [rf"(?i:{re.escape(label)}){EN_FILL}{value}"]
                if unit == "count":
                    forms.append(rf"({NUMBER}) (?i:{re.escape(label)})")
            for form in forms:
                for m in re.finditer(form, sentence):
                    if any(taken[m.start():m.end()]):
                        continue
                    taken[m.start():m.end()] = [True] * (m.end() - m.start())
                    number, unit_text = m[1], (m[2] if m.lastindex and m.lastindex >= 2 else None)
                    if unit == "count" and "%" in sentence[m.end():m.end() + 1] or BOUND.match(sentence[m.end():]):
                        continue
                    clause = _clause(sentence, m.start(), m.end(), lang)
                    if HYPOTHETICAL.search(sentence[clause[0]:clause[1]]):
                        continue
                    window = _window_of(sentence, windows, m.start(), m.end(), clause, lang, period)
                    v, half = _number(number, unit_text, unit, lang)
                    found.append(Statement(metric, _segment(sentence, names, m.start(), m.end(), clause, lang), window,
                                           v, half, m[0], sentence))
    return found


def _clause(sentence: str, start: int, end: int, lang: str) -> tuple[int, int]:
    stops = "，：,（）()" if lang == "zh" else ",;"  # an English window often follows in parentheses
    left = max([i for i, ch in enumerate(sentence[:start]) if ch in stops] + [-1]) + 1
    right = min([end + i for i, ch in enumerate(sentence[end:]) if ch in stops] + [len(sentence)])
    return left, right


def _window_of(sentence, windows, start, end, clause, lang, period):
    """The window in the value's clause (the nearest), else the nearest before it in the sentence, else the
    report's period, unless the clause names only a relative window."""
    inside = [w for w in windows if clause[0] <= w[0] and w[1] <= clause[1]]
    if inside:
        return min(inside, key=lambda w: abs(w[0] - start))[2]
    before = [w for w in windows if w[1] <= start]
    if before:
        return before[-1][2]
    relative = RELATIVE_ZH if lang == "zh" else RELATIVE_EN
    return None if relative.search(sentence[clause[0]:clause[1]]) else period


def _find(text: str, name: str) -> list[int]:
    """Where a name stands in a text: as a whole word when it is a Latin one ("Mon" is not in "Monthly")."""
    pattern = rf"\b{re.escape(name)}\b" if re.match(r"[A-Za-z]", name) else re.escape(name)
    return [m.start() for m in re.finditer(pattern, text)]


def _segment(sentence, names, start, end, clause, lang) -> str | None:
    """The segment named before the value in its sentence (after the last clinic-wide word), in
    Chinese; in its clause (else before it) in English. Never a name inside the label itself
    ("Referral share" is not about the referral channel)."""
    outside = lambda text, offset: [(i, n) for n in names for i in _find(text, n)  # noqa: E731
                                    if not start <= offset + i < end]
    if lang == "zh":
        head = sentence[:start]
        wide = [m.end() for m in CLINIC_WIDE.finditer(head)]
        cut = wide[-1] if wide else 0
        hits = outside(head[cut:], cut)
        return max(hits)[1] if hits else None
    part = sentence[clause[0]:clause[1]]
    if CLINIC_WIDE.search(part):
        return None
    hits = outside(part, clause[0])
    if not hits:
        hits = outside(sentence[:clause[0]], 0)
        return max(hits)[1] if hits else None
    return min(hits)[1]


def segment_names(clinic) -> list[str]:
    """What a sentence may be about: the clinic's channels, doctors, coordinators, departments and campaigns
    as written, and as an English report names them; the item tiers and cost categories."""
    names = set()
    for table, column in (("patients", "source_channel"), ("visits", "doctor_id"), ("charges", "doctor_id"),
                          ("visits", "consultant_id"), ("visits", "department"), ("campaigns", "name")):
        frame = clinic.table(table)
        if frame is not None and column in frame:
            names |= {str(v) for v in frame[column].dropna().unique()}
    names |= {i18n.term(n, "en") for n in list(names)}
    for key in ("high_value", "profit", "traffic", "consumables", "lab", "inventory", "人工", "房租", "营销",
                "周一", "周二", "周三", "周四", "周五", "周六", "周日", *(f"{d}_{p}" for d in ("weekday", "weekend")
                                                                   for p in ("morning", "afternoon", "evening"))):
        names |= {i18n.term(key, "zh"), i18n.term(key, "en")}
    return sorted(n for n in names if n and not n.isdigit())

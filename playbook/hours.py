"""A clinic's week as clinic.yaml writes it: opening hours and prime hours, by weekday.

``{mon-fri: "09:00-18:00", sat-sun: "09:00-17:00"}``: keys are days (``mon`` … ``sun`` or ``周一`` …
``周日``), ranges of days (``mon-fri``) or lists (``sat,sun``); values are one or more time ranges
(``"09:00-12:00, 14:00-18:00"``), or ``closed`` / ``休息``. A day no key names is closed. Chair vacancy
(`playbook.chairs`) measures chair time against these hours [S0].
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_DAY_NAMES = {**{d: i for i, d in enumerate(DAYS)}, **{d: i for i, d in enumerate(DAYS_ZH)},
              **{f"星期{c}": i for i, c in enumerate("一二三四五六日")}, "星期天": 6, "周天": 6}
_CLOSED = {"closed", "休息", "不营业", "关闭", ""}
_RANGE = re.compile(r"^(\d{1,2})[:：](\d{2})\s*[-–~至到]\s*(\d{1,2})[:：](\d{2})$")
# [S0] "正畸科下午2-5点黄金时段": the prime slot, every open day, unless clinic.yaml says otherwise.
PRIME_DEFAULT = {"mon-sun": "14:00-17:00"}


@dataclass(frozen=True)
class WeeklyHours:
    """Open time ranges per weekday (0 = Monday), in minutes after midnight."""

    days: tuple[tuple[tuple[int, int], ...], ...]

    def minutes_in_hour(self, weekday: int, hour: int) -> int:
        """Open minutes of ``weekday`` between ``hour``:00 and ``hour + 1``:00."""
        first, last = hour * 60, hour * 60 + 60
        return sum(max(0, min(last, b) - max(first, a)) for a, b in self.days[weekday])

    def hours(self, weekday: int) -> list[int]:
        """The clock hours in which the day is open at least a minute."""
        return [h for h in range(24) if self.minutes_in_hour(weekday, h)]

    def __and__(self, other: "WeeklyHours") -> "WeeklyHours":
        """The time both weeks are open (prime hours inside opening hours)."""
        return WeeklyHours(tuple(tuple((max(a, c), min(b, d)) for a, b in mine for c, d in theirs if min(b, d) > max(a, c))
                                 for mine, theirs in zip(self.days, other.days)))

    def describe(self, lang: str = "zh") -> str:
        """The week in words, days with the same hours grouped: 周一至周五 9:00–18:00；周六、周日 9:00–17:00."""
        groups: dict[tuple, list[int]] = {}
        for day, ranges in enumerate(self.days):
            if ranges:
                groups.setdefault(ranges, []).append(day)
        names = DAYS_ZH if lang == "zh" else ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
        parts = []
        for ranges, days in groups.items():
            if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
                when = f"{names[days[0]]}至{names[days[-1]]}" if lang == "zh" else f"{names[days[0]]}–{names[days[-1]]}"
            else:
                when = ("、" if lang == "zh" else ", ").join(names[d] for d in days)
            times = ", ".join(f"{a // 60}:{a % 60:02d}–{b // 60}:{b % 60:02d}" for a, b in ranges)
            parts.append(f"{when} {times}")
        return ("；" if lang == "zh" else "; ").join(parts)


def parse(week: Mapping[str, str | None]) -> WeeklyHours:
    """Read clinic.yaml's week; a ValueError says which key or value is wrong and how to write it."""
    days: list[tuple[tuple[int, int], ...] | None] = [None] * 7
    for key, value in week.items():
        for day in _days(str(key)):
            if days[day] is not None:
                raise ValueError(f"{DAYS[day]} is given twice (in {key!r}); name each day once")
            days[day] = _ranges(value, key)
    return WeeklyHours(tuple(d or () for d in days))


def _days(key: str) -> list[int]:
    out = []
    for part in re.split(r"[,，、\s]+", key.strip().lower()):
        if not part:
            continue
        ends = re.split(r"\s*[-–~至到]\s*", part)
        try:
            first, last = _DAY_NAMES[ends[0]], _DAY_NAMES[ends[-1]]
        except KeyError:
            raise ValueError(f"{key!r} is not a day or a range of days; write mon-fri, sat-sun, sat,sun or 周一-周五") from None
        out += list(range(first, last + 1)) if last >= first else [*range(first, 7), *range(0, last + 1)]
    return out


def _ranges(value, key) -> tuple[tuple[int, int], ...]:
    if value is None or str(value).strip().lower() in _CLOSED:
        return ()
    ranges = []
    for part in re.split(r"[,，;；、]\s*", str(value).strip()):
        match = _RANGE.match(part.strip())
        if not match:
            raise ValueError(f"{key}: {value!r} is not a time range; write \"09:00-18:00\", several as "
                             f"\"09:00-12:00, 14:00-18:00\", or closed")
        h1, m1, h2, m2 = map(int, match.groups())
        first, last = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= first < last <= 24 * 60) or m1 > 59 or m2 > 59:
            raise ValueError(f"{key}: {part!r} must start before it ends, within the day")
        ranges.append((first, last))
    return tuple(sorted(ranges))

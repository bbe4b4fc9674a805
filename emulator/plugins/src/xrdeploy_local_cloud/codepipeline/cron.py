"""The cron expressions of the DeploymentWindow rule (pure): is a moment inside the window?

CodePipeline's expressions are Quartz's: ``seconds minutes hours day-of-month month day-of-week
[year]``, with ``*``, ``?`` (day fields), ranges ``a-b``, lists ``a,b``, increments ``a/n`` and
``*/n``, month names JAN-DEC, day names SUN-SAT (day-of-week 1 = Sunday … 7 = Saturday), and in
the day fields ``L`` (last day of the month, ``L-3`` three days before it; alone in day-of-week:
Saturday), ``nW`` / ``LW`` (the weekday nearest to that day, within the month), ``nL`` (the last
day n of the month) and ``n#k`` (the k-th day n of the month). A moment is inside the window
when its minute matches: the window is "every minute the expression names". The seconds field
is accepted but not used (AWS documents it as ``*``).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import zoneinfo
from collections.abc import Callable

_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS = {name: i + 1 for i, name in enumerate(_MONTH_NAMES)}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_BOUNDS = {
    "seconds": (0, 59),
    "minutes": (0, 59),
    "hours": (0, 23),
    "day-of-month": (1, 31),
    "month": (1, 12),
    "day-of-week": (1, 7),
    "year": (1970, 2199),
}

DayTest = Callable[[datetime.date], bool]


class CronError(ValueError):
    """An expression CodePipeline would not accept; the message names the field."""


@dataclasses.dataclass(frozen=True)
class Window:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] | None  # None: every year
    day: DayTest
    zone: datetime.tzinfo

    def contains(self, moment: datetime.datetime) -> bool:
        """Whether ``moment`` (aware) falls in a minute the expression names, in its zone."""
        local = moment.astimezone(self.zone)
        return (
            local.minute in self.minutes
            and local.hour in self.hours
            and local.month in self.months
            and (self.years is None or local.year in self.years)
            and self.day(local.date())
        )


def parse(expression: str, time_zone: str | None = None) -> Window:
    fields = expression.split()
    if len(fields) not in (6, 7):
        raise CronError(
            f"Cron expression '{expression}' must have 6 or 7 fields, it has {len(fields)}"
        )
    seconds, minutes, hours, dom, month, dow = fields[:6]
    _values("seconds", seconds)
    return Window(
        minutes=_values("minutes", minutes),
        hours=_values("hours", hours),
        months=_values("month", month, _MONTHS),
        years=None if len(fields) == 6 or fields[6] == "*" else _values("year", fields[6]),
        day=_day_test(dom, dow),
        zone=_zone(time_zone),
    )


def _zone(name: str | None) -> datetime.tzinfo:
    if not name:
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CronError(f"TimeZone '{name}' is not a known time zone") from None


def _number(field: str, text: str, names: dict[str, int] | None) -> int:
    upper = text.upper()
    if names and upper in names:
        return names[upper]
    if not text.isdigit():
        raise CronError(f"Cron {field} field: '{text}' is not a value")
    value = int(text)
    low, high = _BOUNDS[field]
    if not low <= value <= high:
        raise CronError(f"Cron {field} field: {value} is outside {low}-{high}")
    return value


def _values(field: str, text: str, names: dict[str, int] | None = None) -> frozenset[int]:
    low, high = _BOUNDS[field]
    result: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise CronError(f"Cron {field} field: '{part}' has an invalid increment")
        if base in ("*", "?"):
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(field, first, names), _number(field, last, names)
        else:
            start = _number(field, base, names)
            end = high if step else start
        if start > end:
            raise CronError(f"Cron {field} field: range '{base}' runs backwards")
        result.update(range(start, end + 1, step or 1))
    return frozenset(result)


def _day_test(dom: str, dow: str) -> DayTest:
    if dom == "?" and dow == "?":
        raise CronError("Cron day-of-month and day-of-week fields cannot both be '?'")
    tests: list[DayTest] = []
    if dom not in ("?", "*"):
        tests.append(_month_day_test(dom))
    if dow not in ("?", "*"):
        tests.append(_week_day_test(dow))
    return lambda day: all(test(day) for test in tests)


def _last_day(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _nearest_weekday(day: datetime.date, target: int) -> int:
    """Quartz's ``W``: the Monday-Friday day nearest to ``target``, without leaving the month."""
    last = _last_day(day)
    target = min(target, last)
    weekday = datetime.date(day.year, day.month, target).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before on the last day
        return target + 1 if target < last else target - 2
    return target


def _month_day_test(text: str) -> DayTest:
    upper = text.upper()
    if upper == "L":
        return lambda day: day.day == _last_day(day)
    if upper.startswith("L-") and upper[2:].isdigit():
        offset = int(upper[2:])
        return lambda day: day.day == _last_day(day) - offset
    if upper == "LW":
        return lambda day: day.day == _nearest_weekday(day, _last_day(day))
    if upper.endswith("W") and upper[:-1].isdigit():
        target = _number("day-of-month", upper[:-1], None)
        return lambda day: day.day == _nearest_weekday(day, target)
    values = _values("day-of-month", text)
    return lambda day: day.day in values


def _quartz_weekday(day: datetime.date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday (0) → 2 … Sunday (6) → 1


def _week_day_test(text: str) -> DayTest:
    upper = text.upper()
    if upper == "L":
        return lambda day: _quartz_weekday(day) == 7
    if upper.endswith("L") and len(upper) > 1:
        weekday = _number("day-of-week", upper[:-1], _DAYS)
        return lambda day: _quartz_weekday(day) == weekday and day.day + 7 > _last_day(day)
    if "#" in upper:
        name, _, nth_text = upper.partition("#")
        weekday = _number("day-of-week", name, _DAYS)
        if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
            raise CronError(f"Cron day-of-week field: '{text}' needs #1 to #5")
        nth = int(nth_text)
        return lambda day: _quartz_weekday(day) == weekday and (day.day - 1) // 7 + 1 == nth
    values = _values("day-of-week", text, _DAYS)
    return lambda day: _quartz_weekday(day) in values

"""Function Compute's timer schedules: six-field cron expressions (seconds first, UTC) and `@every`.

Cron fields, in order: second (0-59), minute (0-59), hour (0-23), day of month (1-31), month (1-12 or
JAN-DEC), day of week (0-6 or SUN-SAT, 0 = Sunday; 7 is accepted as Sunday too). Each field is `*`, `?`
(the day fields only), a value, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, or a comma-separated list
of those. When both day fields are restricted, a day matches if either matches (classic cron); FC's
documentation asks for `?` in one of them, which means the same thing here. `L`, `W` and `#` are refused.

`@every <duration>` fires at a fixed interval from the moment the schedule starts: a duration is one or
more `<number><unit>` with units `h`, `m` and `s` (`@every 1h30m`).

    >>> from datetime import datetime, timezone
    >>> schedule = parse_schedule("0 */15 * * * *")
    >>> schedule.next_after(datetime(2024, 1, 1, 10, 7, 30, tzinfo=timezone.utc)).isoformat()
    '2024-01-01T10:15:00+00:00'
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.errors import ConfigurationError

_MONTHS = {name: number for number, name in enumerate(calendar.month_abbr) if name}
_WEEKDAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
_EVERY_PART = re.compile(r"(\d+)([hms])")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}
# No valid six-field schedule needs more than a leap cycle to fire again (29 February on a given weekday
# recurs within 28 years); the search stops there instead of running forever.
_SEARCH_YEARS = 29


class CronError(ConfigurationError):
    """A schedule FC would refuse (or that could never fire)."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, {name.upper(): number for name, number in _MONTHS.items()}),
    _Field("day of week", 0, 7, _WEEKDAYS),
)


@dataclass(frozen=True)
class CronSchedule:
    """A parsed six-field cron expression; `next_after` gives the next firing time (UTC)."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def next_after(self, moment: datetime) -> datetime | None:
        """The first firing strictly after `moment` (whole seconds, UTC); None if it never fires."""
        current = _utc(moment).replace(microsecond=0) + timedelta(seconds=1)
        limit = current.replace(year=current.year + _SEARCH_YEARS, month=1, day=1, hour=0, minute=0, second=0)
        while current < limit:
            if current.month not in self.months:
                current = _first_of_next_month(current)
                continue
            if not self._day_matches(current):
                current = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if current.hour not in self.hours:
                current = (current + timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if current.minute not in self.minutes:
                current = (current + timedelta(minutes=1)).replace(second=0)
                continue
            if current.second not in self.seconds:
                current += timedelta(seconds=1)
                continue
            return current
        return None

    def _day_matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
        day_ok = moment.day in self.days
        weekday_ok = weekday in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return day_ok or weekday_ok
        return day_ok and weekday_ok


@dataclass(frozen=True)
class EverySchedule:
    """`@every <duration>`: fires every `interval`, counted from `start` (the schedule's first moment)."""

    expression: str
    interval: timedelta

    def next_after(self, moment: datetime, *, start: datetime | None = None) -> datetime:
        origin = _utc(start) if start is not None else _utc(moment)
        elapsed = (_utc(moment) - origin).total_seconds()
        step = self.interval.total_seconds()
        periods = int(elapsed // step) + 1 if elapsed >= 0 else 1
        return origin + timedelta(seconds=periods * step)


Schedule = CronSchedule | EverySchedule


def parse_schedule(expression: str) -> Schedule:
    """Parse a timer trigger's CronExpression; CronError names the field that is wrong."""
    text = expression.strip()
    if text.startswith("@every"):
        return _parse_every(text)
    parts = text.split()
    if len(parts) != len(_FIELDS):
        raise CronError(
            f"cron expression {expression!r} must have 6 fields (second minute hour day month weekday), "
            f"got {len(parts)}"
        )
    values = [_parse_field(part, spec, expression) for part, spec in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(0 if day == 7 else day for day in values[5])
    schedule = CronSchedule(
        expression=text,
        seconds=values[0],
        minutes=values[1],
        hours=values[2],
        days=values[3],
        months=values[4],
        weekdays=weekdays,
        days_restricted=parts[3] not in ("*", "?"),
        weekdays_restricted=parts[5] not in ("*", "?"),
    )
    if schedule.next_after(datetime(2000, 1, 1, tzinfo=timezone.utc)) is None:
        raise CronError(f"cron expression {expression!r} never fires (no such day)")
    return schedule


def _parse_every(text: str) -> EverySchedule:
    duration = text[len("@every") :].strip()
    parts = _EVERY_PART.findall(duration)
    if not duration or "".join(number + unit for number, unit in parts) != duration:
        raise CronError(f"{text!r}: write the interval as e.g. '@every 5m' or '@every 1h30m' (units h, m, s)")
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds < 60:
        raise CronError(f"{text!r}: Function Compute's shortest @every interval is 1m")
    return EverySchedule(text, timedelta(seconds=seconds))


def _parse_field(text: str, spec: _Field, expression: str) -> frozenset[int]:
    if text == "?":
        if spec.name not in ("day of month", "day of week"):
            raise CronError(f"cron expression {expression!r}: '?' is allowed in the day fields only")
        return frozenset(range(spec.low, spec.high + 1))
    result: set[int] = set()
    for item in text.split(","):
        result.update(_parse_item(item, spec, expression))
    return frozenset(result)


def _parse_item(item: str, spec: _Field, expression: str) -> range:
    def fail(reason: str) -> CronError:
        return CronError(f"cron expression {expression!r}: {spec.name} field {item!r} {reason}")

    if any(mark in item.upper() for mark in ("L", "W", "#")) and not _is_name(item, spec):
        raise fail("uses L, W or #, which the local runtime does not support")
    base, _, step_text = item.partition("/")
    step = 1
    if step_text:
        if not step_text.isdigit() or int(step_text) == 0:
            raise fail("has a step that is not a positive number")
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, spec, fail), _value(last, spec, fail)
        if low > high:
            raise fail("is a range whose start is after its end")
    else:
        low = _value(base, spec, fail)
        high = spec.high if step_text else low
    return range(low, high + 1, step)


def _is_name(item: str, spec: _Field) -> bool:
    return spec.names is not None and any(name in item.upper() for name in spec.names)


def _value(text: str, spec: _Field, fail: Callable[[str], CronError]) -> int:
    upper = text.strip().upper()
    if spec.names and upper in spec.names:
        return spec.names[upper]
    if not upper.isdigit():
        raise fail("is not a number" + (" or a name" if spec.names else ""))
    number = int(upper)
    if not spec.low <= number <= spec.high:
        raise fail(f"is outside {spec.low}-{spec.high}")
    return number


def _first_of_next_month(moment: datetime) -> datetime:
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)

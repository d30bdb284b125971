"""FC's six-field cron (seconds first, UTC) and @every schedules."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from localcloud.runtime.cron import CronError, CronSchedule, EverySchedule, parse_schedule


def at(*parts: int) -> datetime:
    """`at(2026, 1, 31, 12)`: year, month, day and then as many of hour, minute, second, µs as given."""
    year, month, day, hour, minute, second, micro = (*parts, 0, 0, 0, 0)[:7]
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)


def next_of(expression: str, moment: datetime) -> datetime | None:
    schedule = parse_schedule(expression)
    assert isinstance(schedule, CronSchedule)
    return schedule.next_after(moment)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 */1 * * * *", at(2024, 1, 1, 10, 7, 30), at(2024, 1, 1, 10, 8, 0)),
        ("0 */15 * * * *", at(2024, 1, 1, 10, 7, 30), at(2024, 1, 1, 10, 15, 0)),
        ("* * * * * *", at(2024, 1, 1, 10, 7, 30, 500000), at(2024, 1, 1, 10, 7, 31)),
        ("30 0 2 * * *", at(2024, 1, 1, 3, 0, 0), at(2024, 1, 2, 2, 0, 30)),
        ("0 0 0 1 JAN ?", at(2024, 6, 1), at(2025, 1, 1)),
        ("0 0 12 ? * MON-FRI", at(2024, 1, 6, 13), at(2024, 1, 8, 12)),  # Saturday -> Monday
        ("0 0 0 * * 0", at(2024, 1, 1), at(2024, 1, 7)),  # 0 is Sunday
        ("0 0 0 * * 7", at(2024, 1, 1), at(2024, 1, 7)),  # so is 7
        ("0 0 0 29 FEB *", at(2024, 3, 1), at(2028, 2, 29)),
        ("0 5,10 8-9/1 * * *", at(2024, 1, 1, 8, 6), at(2024, 1, 1, 8, 10)),
        ("10/20 * * * * *", at(2024, 1, 1, 0, 0, 31), at(2024, 1, 1, 0, 0, 50)),
        ("0 0 0 31 * *", at(2024, 4, 1), at(2024, 5, 31)),
        ("0 0 0 25 DEC *", at(2024, 1, 1), at(2024, 12, 25)),
    ],
)
def test_the_next_firing_time_is_the_first_matching_second(
    expression: str, after: datetime, expected: datetime
) -> None:
    assert next_of(expression, after) == expected


def test_when_both_day_fields_are_restricted_either_one_matches() -> None:
    # The 15th of the month, or any Monday: after Wednesday 3 January 2024 comes Monday the 8th.
    assert next_of("0 0 0 15 * MON", at(2024, 1, 3)) == at(2024, 1, 8)
    assert next_of("0 0 0 15 * MON", at(2024, 1, 12)) == at(2024, 1, 15)


def test_a_moment_that_already_matches_is_not_returned_again() -> None:
    moment = at(2024, 1, 1, 0, 1, 0)
    assert next_of("0 * * * * *", moment) == moment + timedelta(minutes=1)


def test_a_naive_datetime_is_taken_as_utc() -> None:
    assert next_of("0 0 * * * *", datetime(2024, 1, 1, 10, 30)) == at(2024, 1, 1, 11)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 * * * *", "must have 6 fields"),
        ("60 * * * * *", "second field '60' is outside 0-59"),
        ("0 0 24 * * *", "hour field '24' is outside 0-23"),
        ("0 0 0 L * *", "L, W or #"),
        ("0 0 0 ? * MON#2", "not a number"),
        ("? * * * * *", "'?' is allowed in the day fields only"),
        ("0 0 0 1 FOO *", "not a number or a name"),
        ("*/0 * * * * *", "step that is not a positive number"),
        ("0 0 10-5 * * *", "start is after its end"),
        ("0 0 0 30 FEB *", "never fires"),
        ("@every 30s", "shortest @every interval is 1m"),
        ("@every soon", "@every 5m"),
    ],
)
def test_a_bad_expression_is_refused_naming_the_field(expression: str, message: str) -> None:
    with pytest.raises(CronError, match=message.replace("?", r"\?").replace("(", r"\(")):
        parse_schedule(expression)


def test_every_counts_its_interval_from_the_start() -> None:
    schedule = parse_schedule("@every 1h30m")
    assert isinstance(schedule, EverySchedule)
    assert schedule.interval == timedelta(hours=1, minutes=30)
    start = at(2024, 1, 1, 0, 0, 0)
    assert schedule.next_after(start, start=start) == at(2024, 1, 1, 1, 30)
    assert schedule.next_after(at(2024, 1, 1, 2, 0), start=start) == at(2024, 1, 1, 3, 0)

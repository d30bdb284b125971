"""The signers' notion of time: an injectable clock and the three timestamp formats Alibaba Cloud uses.

Every signer takes a `clock` (a callable returning an aware UTC datetime) so that tests and vectors pin
the time instead of patching the system clock:

    >>> from datetime import datetime, timezone
    >>> fixed = lambda: datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
    >>> iso8601_basic(fixed())
    '20250115T083045Z'
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import format_datetime

from shared.errors import InvalidRequestError

Clock = Callable[[], datetime]
"""Returns the current time as a timezone-aware datetime (UTC preferred; any zone is converted)."""


def utc_now() -> datetime:
    """The default clock: the system time, in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime, field: str = "now") -> datetime:
    """Convert an aware datetime to UTC; refuse a naive one, whose zone nobody can know."""
    if not isinstance(moment, datetime):
        raise InvalidRequestError.single(
            field, "datetime", f"must be a datetime, got {type(moment).__name__}"
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidRequestError.single(
            field, "timezone_aware", "must be timezone-aware (for example datetime.now(timezone.utc))"
        )
    return moment.astimezone(timezone.utc)


def iso8601_basic(moment: datetime) -> str:
    """`YYYYMMDDTHHMMSSZ`, the OSS V4 timestamp (x-oss-date)."""
    return as_utc(moment).strftime("%Y%m%dT%H%M%SZ")


def iso8601_extended(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the OpenAPI (ACS3) timestamp (x-acs-date)."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(moment: datetime) -> str:
    """RFC 1123 date in GMT (`Wed, 15 Jan 2025 08:30:45 GMT`), independent of the process locale."""
    return format_datetime(as_utc(moment).replace(microsecond=0), usegmt=True)

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.auth import DashScopeBearerAuth, http_date, iso8601_basic, iso8601_extended, utc_now
from shared.errors import CredentialsError, InvalidRequestError
from tests.unit.auth.fixed import FIXED_DT, send_signed

API_KEY = "sk-0123456789abcdef0123456789abcdef"


def test_dashscope_requests_carry_the_bearer_key_as_in_the_sdk_capture() -> None:
    sent = send_signed(
        DashScopeBearerAuth(API_KEY),
        "POST",
        "https://dashscope.aliyuncs.com/api/v1/services/audio/asr/transcription",
        json={"model": "paraformer-v2"},
        headers={"X-DashScope-Async": "enable"},
    )
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["X-DashScope-Async"] == "enable"


def test_dashscope_auth_never_shows_the_key() -> None:
    auth = DashScopeBearerAuth(API_KEY)
    assert API_KEY not in repr(auth)
    assert API_KEY not in str(auth)


@pytest.mark.parametrize("key", ["", "   ", "sk-abc def"])
def test_an_empty_or_broken_dashscope_key_is_refused(key: str) -> None:
    with pytest.raises(CredentialsError):
        DashScopeBearerAuth(key)


def test_a_dashscope_key_read_from_a_file_loses_its_trailing_newline() -> None:
    sent = send_signed(
        DashScopeBearerAuth(API_KEY + "\n"), "GET", "https://dashscope.aliyuncs.com/api/v1/tasks/t-1"
    )
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"


def test_the_default_clock_is_aware_and_in_utc() -> None:
    now = utc_now()
    assert now.utcoffset() == timedelta(0)


def test_timestamps_are_written_in_the_three_wire_formats() -> None:
    assert iso8601_basic(FIXED_DT) == "20250115T083045Z"
    assert iso8601_extended(FIXED_DT) == "2025-01-15T08:30:45Z"
    assert http_date(FIXED_DT) == "Wed, 15 Jan 2025 08:30:45 GMT"


def test_timestamps_of_other_zones_are_converted_and_fractions_dropped() -> None:
    shanghai = (FIXED_DT + timedelta(microseconds=987654)).astimezone(timezone(timedelta(hours=8)))
    assert iso8601_basic(shanghai) == "20250115T083045Z"
    assert http_date(shanghai) == "Wed, 15 Jan 2025 08:30:45 GMT"


def test_a_naive_timestamp_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        http_date(datetime(2025, 1, 15))
    assert caught.value.rule == "timezone_aware"

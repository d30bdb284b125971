from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from shared.errors import InvalidRequestError
from shared.events.timer import TimerEvent

EVENTS = Path(__file__).resolve().parents[2] / "events"


def test_the_timer_event_parses_time_name_and_payload() -> None:
    timer = TimerEvent.from_bytes((EVENTS / "timer.json").read_bytes())
    assert timer.trigger_time == datetime(2024, 9, 2, 10, 20, tzinfo=timezone.utc)
    assert timer.trigger_name == "fetch-results-every-minute"
    assert timer.payload_json() == {"max_jobs": 20}


@pytest.mark.parametrize("payload", ['"payload": null,', ""])
def test_a_missing_payload_reads_as_empty(payload: str) -> None:
    raw = '{"triggerTime": "2018-02-09T05:49:00Z", ' + payload + ' "triggerName": "t"}'
    timer = TimerEvent.from_bytes(raw)
    assert timer.payload == ""
    assert timer.payload_json() is None


def test_a_payload_that_is_not_json_is_refused_when_read_as_json() -> None:
    timer = TimerEvent.from_bytes(
        b'{"triggerTime": "2018-02-09T05:49:00Z", "triggerName": "t", "payload": "go"}'
    )
    assert timer.payload == "go"
    with pytest.raises(InvalidRequestError) as caught:
        timer.payload_json()
    assert (caught.value.field, caught.value.rule) == ("payload", "json")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"triggerName": "t"}', "triggerTime"),
        (b'{"triggerTime": "yesterday", "triggerName": "t"}', "triggerTime"),
        (b'{"triggerTime": "2018-02-09T05:49:00", "triggerName": "t"}', "triggerTime"),  # no time zone
        (b'{"triggerTime": "2018-02-09T05:49:00Z"}', "triggerName"),
        (b"nope", "event"),
    ],
)
def test_malformed_timer_events_are_refused_naming_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        TimerEvent.from_bytes(raw)
    assert caught.value.field == field


def test_a_payload_nested_too_deep_to_parse_is_refused_as_not_json() -> None:
    timer = TimerEvent.from_bytes(
        {"triggerTime": "2024-09-02T10:20:00Z", "triggerName": "t", "payload": "[" * 200_000}
    )
    with pytest.raises(InvalidRequestError) as caught:
        timer.payload_json()
    assert (caught.value.field, caught.value.rule) == ("payload", "json")

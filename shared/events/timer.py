"""The timer trigger event: `{"triggerTime": "...", "triggerName": "...", "payload": "<configured Payload>"}`.

Example:
    >>> timer = TimerEvent.from_bytes(
    ...     b'{"triggerTime":"2018-02-09T05:49:00Z","triggerName":"poll","payload":"{\\\\"limit\\\\": 5}"}')
    >>> timer.trigger_name, timer.trigger_time.year, timer.payload_json()
    ('poll', 2018, {'limit': 5})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import AwareDatetime, Field, field_validator

from shared.events._base import EventModel, load_json, parse_json, validate_event

__all__ = ["TimerEvent"]

_OPERATION = "timer event"


class TimerEvent(EventModel):
    """A timer firing; `payload` is the trigger's configured Payload string ("" when none is set)."""

    trigger_time: AwareDatetime = Field(alias="triggerTime")
    trigger_name: str = Field(alias="triggerName", min_length=1)
    payload: str = ""

    @field_validator("payload", mode="before")
    @classmethod
    def _missing_payload_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    @classmethod
    def from_bytes(cls, event: bytes | bytearray | str | Mapping[str, Any]) -> TimerEvent:
        """Parse FC's event bytes; InvalidRequestError names the field when one is missing or malformed."""
        return validate_event(cls, load_json(event, operation=_OPERATION), operation=_OPERATION)

    def payload_json(self) -> Any:
        """The payload parsed as JSON (None when empty); InvalidRequestError when it is not JSON."""
        if not self.payload.strip():
            return None
        return parse_json(self.payload, operation=_OPERATION, field="payload")

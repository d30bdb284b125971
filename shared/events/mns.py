"""The MNS topic trigger event, in either of the trigger's `NotifyContentFormat`s.

JSON
    `{"TopicOwner", "Message", "Subscriber", "PublishTime", "SubscriptionName", "MessageMD5", "TopicName",
    "MessageId"}`; message attributes, when present, are merged into that top level.
STREAM (the default)
    the raw message body; with attributes, `{"body": "...", "attrs": {...}}`. No message id.

The body is base64 only if the publisher encoded it (some SDKs do by default), so `body_json()` tries
JSON first, then base64 → JSON.

Format detection (when the trigger's format is not passed): a JSON object with `Message` and one of
`MessageId`/`TopicName`/`TopicOwner`/`Subscriber` is the JSON format; a JSON object whose keys are
`body` (and `attrs`) is STREAM with attributes; anything else is a raw STREAM body. A STREAM body that
happens to look like one of those objects is misread: pass `fmt` when the trigger's format is known.

Example:
    >>> message = MnsMessage.from_bytes(b'{"job_id": "j-1"}')
    >>> message.format.value, message.body_json(), message.message_id
    ('STREAM', {'job_id': 'j-1'}, None)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from shared.errors import InvalidRequestError
from shared.events._base import decode_json_text, event_text

__all__ = ["MnsFormat", "MnsMessage"]

_OPERATION = "MNS event"
_JSON_FIELDS = (
    "TopicOwner",
    "Message",
    "Subscriber",
    "PublishTime",
    "SubscriptionName",
    "MessageMD5",
    "TopicName",
    "MessageId",
)
_JSON_MARKERS = ("MessageId", "TopicName", "TopicOwner", "Subscriber")
_STREAM_WRAPPER_KEYS = frozenset({"body", "attrs"})


class MnsFormat(str, Enum):
    """The MNS topic trigger's `NotifyContentFormat`."""

    JSON = "JSON"
    STREAM = "STREAM"


@dataclass(frozen=True)
class MnsMessage:
    """One message pushed by an MNS topic subscription."""

    body: str
    format: MnsFormat
    message_id: str | None = None
    topic_name: str | None = None
    topic_owner: str | None = None
    subscriber: str | None = None
    subscription_name: str | None = None
    publish_time: int | None = None  # milliseconds since the epoch
    message_md5: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_bytes(cls, event: bytes | bytearray | str, fmt: MnsFormat | str | None = None) -> MnsMessage:
        """Parse the trigger's event; `fmt` is the trigger's NotifyContentFormat, detected when None."""
        wanted = _format(fmt)
        text = event_text(event, operation=_OPERATION)
        document = _json_object(text)
        if wanted is MnsFormat.JSON:
            if document is None:
                raise InvalidRequestError.single(
                    "event", "json", "a JSON-format MNS event must be a JSON object", _OPERATION
                )
            return cls._from_json_format(document)
        if wanted is None and document is not None and _looks_like_json_format(document):
            return cls._from_json_format(document)
        if document is not None and "body" in document and set(document) <= _STREAM_WRAPPER_KEYS:
            return cls._from_stream_wrapper(document)
        return cls(body=text, format=MnsFormat.STREAM)

    @classmethod
    def _from_json_format(cls, document: Mapping[str, Any]) -> MnsMessage:
        body = document.get("Message")
        if not isinstance(body, str):
            problem = "is missing" if body is None else f"must be a string, got {type(body).__name__}"
            raise InvalidRequestError.single("Message", "required", problem, _OPERATION)
        return cls(
            body=body,
            format=MnsFormat.JSON,
            message_id=_optional_text(document, "MessageId"),
            topic_name=_optional_text(document, "TopicName"),
            topic_owner=_optional_text(document, "TopicOwner"),
            subscriber=_optional_text(document, "Subscriber"),
            subscription_name=_optional_text(document, "SubscriptionName"),
            publish_time=_optional_int(document, "PublishTime"),
            message_md5=_optional_text(document, "MessageMD5"),
            attributes={k: v for k, v in document.items() if k not in _JSON_FIELDS},
        )

    @classmethod
    def _from_stream_wrapper(cls, document: Mapping[str, Any]) -> MnsMessage:
        body = document["body"]
        if not isinstance(body, str):
            raise InvalidRequestError.single(
                "body", "string", f"must be a string, got {type(body).__name__}", _OPERATION
            )
        attrs = document.get("attrs") or {}
        if not isinstance(attrs, Mapping):
            raise InvalidRequestError.single(
                "attrs", "object", f"must be an object, got {type(attrs).__name__}", _OPERATION
            )
        return cls(body=body, format=MnsFormat.STREAM, attributes=dict(attrs))

    @property
    def body_field(self) -> str:
        """Where the body sits in the event, for error messages."""
        return "Message" if self.format is MnsFormat.JSON else "body"

    def body_json(self) -> Any:
        """The body as JSON: read directly, else base64-decoded first; InvalidRequestError if neither."""
        return decode_json_text(self.body, operation=_OPERATION, field=self.body_field)

    @property
    def idempotency_key(self) -> str:
        """`MessageId` when the event has one (JSON format), else a SHA-256 of the body (STREAM)."""
        if self.message_id:
            return f"mns:{self.message_id}"
        return "sha256:" + hashlib.sha256(self.body.encode("utf-8")).hexdigest()


def _format(fmt: MnsFormat | str | None) -> MnsFormat | None:
    if fmt is None or isinstance(fmt, MnsFormat):
        return fmt
    try:
        return MnsFormat(str(fmt).strip().upper())
    except ValueError:
        raise InvalidRequestError.single(
            "fmt", "one_of", f"must be JSON or STREAM (got {fmt!r})", _OPERATION
        ) from None


def _json_object(text: str) -> Mapping[str, Any] | None:
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None  # not an envelope: a raw STREAM body, judged when someone reads it as JSON
    return document if isinstance(document, dict) else None


def _looks_like_json_format(document: Mapping[str, Any]) -> bool:
    return "Message" in document and any(marker in document for marker in _JSON_MARKERS)


def _optional_text(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError.single(
            name, "string", f"must be a string, got {type(value).__name__}", _OPERATION
        )
    return str(value)


def _optional_int(document: Mapping[str, Any], name: str) -> int | None:
    value = document.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise InvalidRequestError.single(name, "integer", f"must be an integer, got {value!r}", _OPERATION)

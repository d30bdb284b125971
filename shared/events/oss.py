"""The OSS trigger event: `{"events": [record, ...]}`, one record per object change.

Lenient about fields we do not use (OSS adds some over time; `objectMeta` is absent from older events),
strict about the three we need: the bucket name, the object key and the event name. A record missing
one is refused with the field named: `events[0].oss.object.key`.

Object keys and URL encoding — an undocumented ambiguity
    FC's documentation does not say whether `oss.object.key` is URL-encoded; both forms have been seen
    in the wild for keys with spaces or non-ASCII characters. `OssRecord.key` applies a heuristic:
    percent-escapes are decoded only when the raw key contains at least one valid `%XX` escape AND the
    decoded bytes are valid UTF-8; otherwise the key is taken literally. `raw_key` is always the key
    exactly as received. The heuristic is wrong for a real key that contains a literal escape-like
    sequence (an object truly named `100%41.wav` would be read as `100A.wav`), and `+` is ambiguous
    (form-encoding writes a space as `+`). `candidate_keys()` lists every plausible reading, most likely
    first, so a caller can HEAD each in turn and use the one that exists.

Example:
    >>> raw = b'{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"bucket":{"name":"b"},'
    >>> raw += b'"object":{"key":"in/my%20song.wav","eTag":"E1"}}}]}'
    >>> record = OssEvent.from_bytes(raw).events[0]
    >>> record.key, record.raw_key, record.is_object_created
    ('in/my song.wav', 'in/my%20song.wav', True)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from pydantic import Field

from shared.events._base import EventModel, load_json, validate_event

__all__ = [
    "MULTIPART_STEP_EVENTS",
    "OBJECT_CREATED_EVENTS",
    "OssBucket",
    "OssDetails",
    "OssEvent",
    "OssObject",
    "OssObjectMeta",
    "OssRecord",
    "decode_event_key",
]

_OPERATION = "OSS event"

# The ObjectCreated events after which a complete object exists under the key.
OBJECT_CREATED_EVENTS = frozenset(
    {
        "ObjectCreated:PutObject",
        "ObjectCreated:PostObject",
        "ObjectCreated:CopyObject",
        "ObjectCreated:CompleteMultipartUpload",
        # Fires after every append: the object exists but may still grow.
        "ObjectCreated:AppendObject",
        # A symlink: reading it reads its target, which may live under another key.
        "ObjectCreated:PutSymlink",
    }
)
# ObjectCreated events that are steps of a multipart upload: no readable object exists yet.
MULTIPART_STEP_EVENTS = frozenset(
    {"ObjectCreated:InitiateMultipartUpload", "ObjectCreated:UploadPart", "ObjectCreated:UploadPartCopy"}
)
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def decode_event_key(raw_key: str) -> str:
    """Decode percent-escapes when there is a valid one and the result is UTF-8; else keep `raw_key`.

    >>> decode_event_key("a%20b%C3%A9.wav"), decode_event_key("50%off.wav"), decode_event_key("%FF.wav")
    ('a bé.wav', '50%off.wav', '%FF.wav')
    """
    if not _ESCAPE.search(raw_key):
        return raw_key
    try:
        return unquote_to_bytes(raw_key).decode("utf-8")
    except UnicodeDecodeError:
        return raw_key


class OssObjectMeta(EventModel):
    mime_type: str | None = Field(default=None, alias="mimeType")
    user_meta: dict[str, Any] = Field(default_factory=dict, alias="userMeta")


class OssObject(EventModel):
    key: str = Field(min_length=1)
    size: int | None = None
    e_tag: str | None = Field(default=None, alias="eTag")
    delta_size: int | None = Field(default=None, alias="deltaSize")
    object_meta: OssObjectMeta | None = Field(default=None, alias="objectMeta")


class OssBucket(EventModel):
    name: str = Field(min_length=1)
    arn: str | None = None
    # A string in FC's samples, an object ({"principalId": ...}) in some OSS notifications.
    owner_identity: Any = Field(default=None, alias="ownerIdentity")


class OssDetails(EventModel):
    bucket: OssBucket
    object_: OssObject = Field(alias="object")
    oss_schema_version: str | None = Field(default=None, alias="ossSchemaVersion")
    rule_id: str | None = Field(default=None, alias="ruleId")


class RequestParameters(EventModel):
    source_ip_address: str | None = Field(default=None, alias="sourceIPAddress")


class ResponseElements(EventModel):
    request_id: str | None = Field(default=None, alias="requestId")


class UserIdentity(EventModel):
    principal_id: str | None = Field(default=None, alias="principalId")


class OssRecord(EventModel):
    """One object change."""

    event_name: str = Field(alias="eventName", min_length=1)
    event_source: str | None = Field(default=None, alias="eventSource")
    event_time: str | None = Field(default=None, alias="eventTime")
    event_version: str | None = Field(default=None, alias="eventVersion")
    oss: OssDetails
    region: str | None = None
    request_parameters: RequestParameters | None = Field(default=None, alias="requestParameters")
    response_elements: ResponseElements | None = Field(default=None, alias="responseElements")
    user_identity: UserIdentity | None = Field(default=None, alias="userIdentity")

    @property
    def bucket(self) -> str:
        return self.oss.bucket.name

    @property
    def raw_key(self) -> str:
        """The key exactly as the event carried it."""
        return self.oss.object_.key

    @property
    def key(self) -> str:
        """The key with percent-escapes decoded by the heuristic described in the module docstring."""
        return decode_event_key(self.raw_key)

    def candidate_keys(self) -> list[str]:
        """Every plausible reading of the key, most likely first (decoded, raw, `+` read as a space).

        >>> OssRecord.model_validate({"eventName": "ObjectCreated:PutObject",
        ...     "oss": {"bucket": {"name": "b"}, "object": {"key": "a+b%20c"}}}).candidate_keys()
        ['a+b c', 'a+b%20c', 'a b c']
        """
        readings = [self.key, self.raw_key]
        if "+" in self.raw_key:
            readings.append(decode_event_key(self.raw_key.replace("+", "%20")))
        return list(dict.fromkeys(readings))

    @property
    def etag(self) -> str | None:
        """The ETag without the quotes some producers keep around it."""
        value = self.oss.object_.e_tag
        return value.strip('"') if value else None

    @property
    def size(self) -> int | None:
        return self.oss.object_.size

    @property
    def request_id(self) -> str | None:
        """OSS's request id of the write that caused the event (`responseElements.requestId`)."""
        return self.response_elements.request_id if self.response_elements else None

    @property
    def event_type(self) -> str:
        """The event name without a trigger-configuration `oss:` prefix, should one appear."""
        return self.event_name.removeprefix("oss:")

    @property
    def is_object_created(self) -> bool:
        """A readable object now exists under the key (every ObjectCreated variant but multipart steps)."""
        name = self.event_type
        return name.startswith("ObjectCreated:") and name not in MULTIPART_STEP_EVENTS

    @property
    def idempotency_key(self) -> str:
        """Stable across redeliveries of this event: bucket + raw key + ETag + OSS request id.

        The request id separates two uploads of identical bytes; without ETag and request id the event
        time stands in. A hex digest, safe as an object name or a dictionary key.
        """
        parts = [self.bucket, self.raw_key, self.etag or "", self.request_id or ""]
        if not self.etag and not self.request_id:
            parts.append(self.event_time or "")
        return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


class OssEvent(EventModel):
    """The whole OSS trigger payload; `events` holds at least one record."""

    events: list[OssRecord] = Field(min_length=1)

    @classmethod
    def from_bytes(cls, event: bytes | bytearray | str | Mapping[str, Any]) -> OssEvent:
        """Parse FC's event bytes; InvalidRequestError names the field when something we need is missing."""
        return validate_event(cls, load_json(event, operation=_OPERATION), operation=_OPERATION)

    @property
    def records(self) -> list[OssRecord]:
        return list(self.events)

    def object_created(self) -> list[OssRecord]:
        """The records announcing a readable new object (what `on_upload` acts on)."""
        return [record for record in self.events if record.is_object_created]

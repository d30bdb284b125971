"""Completion notifications: OSS async processing and IMM tasks (one format), and ICE callbacks.

OSS async processing (`audio/convert`, `audio/concat` with `notify`) and IMM tasks
(`CreateMediaConvertTask` with `Notification.MNS`) publish to an MNS topic an envelope whose `content`
is a JSON string:

    {"id": "...", "source": "acs.imm", "type": "imm:Task:MediaConvert", "subject": "...",
     "time": "...", "content": "{\\"TaskId\\": \\"...\\", \\"Status\\": \\"Succeeded\\", ...}"}

`content` becomes a `TaskNotification`. OSS does not publish its `TaskType` values for audio, so nothing
here depends on them; `Status` is read defensively (an unknown value is kept as text). Match a
notification to its job by `task_id`, falling back on `target_keys()`.

ICE ("callback upon editing completion", for SubmitAudioProduceJob via `UserData.NotifyAddress`):
ICE's event list documents `{"EventType", "UserId", "EventTime", "MessageBody": {"Status", "MediaId",
"JobId", "MediaURL", ...}}`, while the older VOD-style callback puts `Status`/`MediaId`/`EventType` at the
top level; the fields of an audio job are not published. `IceCallback` reads both shapes (MessageBody
fields win), accepts `Status` or `State`, and keeps every unknown field.

Example:
    >>> note = parse_notification({"TaskId": "t-1", "Status": "Succeeded",
    ...                            "Targets": [{"URI": "oss://work/out/a.wav"}]})
    >>> note.task_id, note.succeeded, note.target_keys()
    ('t-1', True, [('work', 'out/a.wav')])
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from shared.errors import InvalidRequestError
from shared.events._base import (
    EventModel,
    decode_json_text,
    event_text,
    parse_json,
    require_object,
    validate_event,
)
from shared.events.mns import MnsMessage
from shared.ops.enums import ImmTaskStatus

__all__ = ["IceCallback", "NotificationEnvelope", "TaskNotification", "TaskUri", "parse_notification"]

_OPERATION = "notification"
_ICE_SUCCESS = frozenset({"success", "succeeded", "finished"})
_ICE_FAILURE = frozenset({"fail", "failed", "error"})


class TaskUri(EventModel):
    uri: str = Field(alias="URI")

    def oss_location(self) -> tuple[str, str] | None:
        """`oss://bucket/key` → `("bucket", "key")`; None for anything else. The key is kept as written."""
        if not self.uri.startswith("oss://"):
            return None
        bucket, _, key = self.uri[len("oss://") :].partition("/")
        return (bucket, key) if bucket and key else None


class NotificationEnvelope(EventModel):
    """The MNS message around an IMM/OSS task notification."""

    id: str | None = None
    source: str | None = None
    type: str | None = None
    subject: str | None = None
    time: str | None = None  # milliseconds since the epoch, as text
    content: str = ""

    @field_validator("time", mode="before")
    @classmethod
    def _time_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TaskNotification(EventModel):
    """The `content` of an OSS async-processing or IMM task notification."""

    task_id: str | None = Field(default=None, alias="TaskId")
    task_type: str | None = Field(default=None, alias="TaskType")
    status: ImmTaskStatus | str = Field(alias="Status", union_mode="left_to_right")
    code: str | None = Field(default=None, alias="Code")
    message: str | None = Field(default=None, alias="Message")
    project_name: str | None = Field(default=None, alias="ProjectName")
    request_id: str | None = Field(default=None, alias="RequestId")
    start_time: str | None = Field(default=None, alias="StartTime")
    end_time: str | None = Field(default=None, alias="EndTime")
    user_data: str | None = Field(default=None, alias="UserData")
    sources: list[TaskUri] = Field(default_factory=list, alias="Sources")
    targets: list[TaskUri] = Field(default_factory=list, alias="Targets")
    # Set by parse_notification when the notification came in its MNS envelope.
    envelope: NotificationEnvelope | None = Field(default=None, exclude=True)

    @field_validator("status", mode="before")
    @classmethod
    def _known_status(cls, value: Any) -> Any:
        if isinstance(value, str):
            for status in ImmTaskStatus:
                if status.value.lower() == value.strip().lower():
                    return status
        return value

    @field_validator("user_data", mode="before")
    @classmethod
    def _user_data_as_text(cls, value: Any) -> Any:
        return json.dumps(value) if isinstance(value, (dict, list)) else value

    @property
    def known_status(self) -> ImmTaskStatus | None:
        return self.status if isinstance(self.status, ImmTaskStatus) else None

    @property
    def succeeded(self) -> bool:
        return self.status is ImmTaskStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status in (ImmTaskStatus.FAILED, ImmTaskStatus.CANCELLED)

    @property
    def is_final(self) -> bool:
        return self.known_status is not None and self.known_status.is_final

    def target_keys(self) -> list[tuple[str, str]]:
        """(bucket, key) of every `oss://` target, in order; other URIs are skipped."""
        return [location for target in self.targets if (location := target.oss_location()) is not None]

    def source_keys(self) -> list[tuple[str, str]]:
        return [location for source in self.sources if (location := source.oss_location()) is not None]

    def user_data_json(self) -> Any:
        """`UserData` parsed as JSON; None when empty; InvalidRequestError when it is not JSON."""
        return _user_data_json(self.user_data)


class IceCallback(EventModel):
    """An ICE job-completion callback (HTTP body or MNS message body), flattened."""

    event_type: str | None = Field(default=None, alias="EventType")
    event_time: str | None = Field(default=None, alias="EventTime")
    user_id: int | str | None = Field(default=None, alias="UserId")
    job_id: str | None = Field(default=None, alias="JobId")
    status: str | None = Field(default=None, alias="Status")
    job_type: str | None = Field(default=None, alias="Type")
    media_id: str | None = Field(default=None, alias="MediaId")
    media_url: str | None = Field(default=None, alias="MediaURL")
    project_id: str | None = Field(default=None, alias="ProjectId")
    user_data: str | None = Field(default=None, alias="UserData")
    error_code: str | None = Field(default=None, alias="ErrorCode")
    error_message: str | None = Field(default=None, alias="ErrorMessage")

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        merged = dict(data)
        body = data.get("MessageBody")
        if isinstance(body, Mapping):
            merged.update(body)
        if merged.get("Status") is None and merged.get("State") is not None:
            merged["Status"] = merged["State"]
        for wire, fallback in (("ErrorCode", "Code"), ("ErrorMessage", "Message")):
            if merged.get(wire) is None and isinstance(merged.get(fallback), str):
                merged[wire] = merged[fallback]
        if isinstance(merged.get("UserData"), (dict, list)):
            merged["UserData"] = json.dumps(merged["UserData"])
        return merged

    @property
    def succeeded(self) -> bool:
        return (self.status or "").strip().lower() in _ICE_SUCCESS

    @property
    def failed(self) -> bool:
        return (self.status or "").strip().lower() in _ICE_FAILURE

    @property
    def is_final(self) -> bool:
        return self.succeeded or self.failed

    def user_data_json(self) -> Any:
        """`UserData` parsed as JSON (where `NotifyAddress` and our job id travel)."""
        return _user_data_json(self.user_data)


def parse_notification(
    body: bytes | bytearray | str | Mapping[str, Any] | MnsMessage,
) -> TaskNotification | IceCallback:
    """Recognise a completion notification; refuse anything else with a clear InvalidRequestError.

    Accepts the MNS message itself, its decoded JSON body, or raw JSON (plain or base64).
    """
    document = _document(body)
    if "content" in document and ("source" in document or "type" in document):
        envelope = validate_event(NotificationEnvelope, document, operation=_OPERATION)
        raw_content = document["content"]
        content = raw_content
        if isinstance(raw_content, str):
            content = decode_json_text(raw_content, operation=_OPERATION, field="content")
        content = require_object(content, operation=_OPERATION, field="content")
        notification = validate_event(TaskNotification, content, operation=_OPERATION, prefix="content")
        return notification.model_copy(update={"envelope": envelope})
    if "TaskId" in document and "Status" in document:
        return validate_event(TaskNotification, document, operation=_OPERATION)
    if any(key in document for key in ("EventType", "JobId", "MessageBody")):
        callback = validate_event(IceCallback, document, operation=_OPERATION)
        if not (callback.job_id or callback.media_id):
            raise InvalidRequestError.single(
                "JobId", "required", "an ICE callback must carry JobId or MediaId", _OPERATION
            )
        return callback
    keys = ", ".join(sorted(str(key) for key in document)[:12]) or "none"
    raise InvalidRequestError.single(
        "body",
        "unknown_notification",
        "is neither an OSS/IMM task notification (an envelope with 'content', or 'TaskId' and 'Status') "
        f"nor an ICE callback ('EventType', 'JobId' or 'MessageBody'); its keys: {keys}",
        _OPERATION,
    )


def _document(body: bytes | bytearray | str | Mapping[str, Any] | MnsMessage) -> Mapping[str, Any]:
    if isinstance(body, MnsMessage):
        parsed = body.body_json()
    elif isinstance(body, Mapping):
        parsed = body
    else:
        parsed = decode_json_text(
            event_text(body, operation=_OPERATION, field="body"), operation=_OPERATION, field="body"
        )
    return require_object(parsed, operation=_OPERATION, field="body")


def _user_data_json(user_data: str | None) -> Any:
    if user_data is None or not user_data.strip():
        return None
    return parse_json(user_data, operation=_OPERATION, field="UserData")

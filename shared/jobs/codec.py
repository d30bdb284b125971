"""Validation and encoding shared by the job store's methods (every refusal names its field and rule)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidRequestError
from shared.jobs.model import JobRecord, JobState, JobType, StepEvent
from shared.logging import get_logger

MAX_ATTEMPTS_LIMIT = 99  # attempts are written with two digits
# The key is stored hashed (the claim's object name is its SHA-256), so any text can be a key: an upload's
# key embeds the object key, which OSS allows up to 1023 bytes of any UTF-8 (ideographic spaces, TABs,
# U+202E...). The bound only keeps a record small: bucket (63) + key (1023) + ETag and separators fit.
_MAX_KEY_CHARS = 2048

log = get_logger(__name__)


def check_step(record: JobRecord, step_index: int) -> None:
    if isinstance(step_index, bool) or not isinstance(step_index, int):
        raise InvalidRequestError.single("step_index", "integer", f"must be an integer, got {step_index!r}")
    if not 0 <= step_index < len(record.steps):
        names = ", ".join(f"{i} ({name.value})" for i, name in enumerate(record.steps))
        raise InvalidRequestError.single(
            "step_index", "range", f"a {record.type.value} job has steps {names}; got {step_index}"
        )


def check_attempt(attempt: object) -> int:
    if isinstance(attempt, bool) or not isinstance(attempt, int) or not 1 <= attempt <= MAX_ATTEMPTS_LIMIT:
        raise InvalidRequestError.single(
            "attempt", "range", f"must be an attempt number 1..{MAX_ATTEMPTS_LIMIT}, got {attempt!r}"
        )
    return attempt


def parse_job_type(value: JobType | str) -> JobType:
    try:
        return JobType(value)
    except ValueError:
        allowed = ", ".join(member.value for member in JobType)
        raise InvalidRequestError.single(
            "type", "job_type", f"must be one of {allowed}, got {value!r}"
        ) from None


def parse_job_state(value: JobState | str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        allowed = ", ".join(member.value for member in JobState)
        raise InvalidRequestError.single(
            "state", "job_state", f"must be one of {allowed}, got {value!r}"
        ) from None


def check_idempotency_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidRequestError.single("idempotency_key", "required", "must be a non-empty string")
    if len(key) > _MAX_KEY_CHARS:
        raise InvalidRequestError.single(
            "idempotency_key", "idempotency_key_format", f"must be at most {_MAX_KEY_CHARS} characters"
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError.single(
            "idempotency_key", "idempotency_key_format", "must be valid Unicode (no lone surrogates)"
        ) from None
    return key


def input_document(value: object) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        # Only the fields the caller set: defaults stay defaults when the input is read back.
        value = value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if not isinstance(value, Mapping):
        raise InvalidRequestError.single("input", "object", f"must be a mapping, got {type(value).__name__}")
    return json_document(value, "input")


def json_document(value: Mapping[str, Any], field: str) -> dict[str, Any]:
    try:
        document = json.loads(json.dumps(dict(value), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError.single(field, "json", f"must be JSON-serialisable ({exc})") from None
    assert isinstance(document, dict)
    return document


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode("utf-8")


def parse_event(raw: bytes, key: str) -> StepEvent | None:
    try:
        return StepEvent.model_validate_json(raw)
    except ValidationError:
        log.warning("job.event.unreadable_ignored", key=key)
        return None

"""What every event model shares: lenient about extra fields, strict about the ones we use, and one error.

A malformed event becomes an InvalidRequestError naming the wire field the way a person reads it
(`events[0].oss.object.key`), so the handler decorator can refuse it without a retry.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from shared.encoding import b64url_decode
from shared.errors import InvalidRequestError, Problem

ModelT = TypeVar("ModelT", bound=BaseModel)


class EventModel(BaseModel):
    """Base of event models: wire names as aliases, unknown fields kept (platforms add fields), immutable."""

    model_config = ConfigDict(defer_build=True, extra="allow", frozen=True, populate_by_name=True)


def field_path(location: tuple[int | str, ...], prefix: str = "") -> str:
    """`("events", 0, "oss", "object", "key")` → `events[0].oss.object.key`."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "event"


def validate_event(model: type[ModelT], data: Any, *, operation: str, prefix: str = "") -> ModelT:
    """Validate `data` into `model`, translating pydantic's errors into one InvalidRequestError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        translated = InvalidRequestError.from_validation_error(exc, operation)
        # Same rules and messages, with field paths written `events[0].key` rather than `events.0.key`.
        problems = [
            Problem(field_path(tuple(error["loc"]), prefix), problem.rule, problem.message)
            for error, problem in zip(exc.errors(include_url=False), translated.problems, strict=True)
        ]
        raise InvalidRequestError(problems, operation) from None


def load_json(
    event: bytes | bytearray | str | Mapping[str, Any], *, operation: str, field: str = "event"
) -> Any:
    """The event's JSON document (a mapping passes through); InvalidRequestError when it is not JSON."""
    if isinstance(event, Mapping):
        return event
    return parse_json(event_text(event, operation=operation, field=field), operation=operation, field=field)


def parse_json(text: str, *, operation: str, field: str) -> Any:
    """`json.loads`, with every way it can fail (too deep a nesting included) as one InvalidRequestError."""
    try:
        return json.loads(text)
    except ValueError as exc:  # also an integer of more than 4,300 digits, which Python refuses to convert
        raise InvalidRequestError.single(field, "json", f"is not valid JSON ({exc})", operation) from None
    except RecursionError:
        raise _too_deep(field, operation) from None


def _too_deep(field: str, operation: str) -> InvalidRequestError:
    # Nesting deeper than the parser's stack (an event of nothing but '[' is enough) raises RecursionError.
    return InvalidRequestError.single(field, "json", "is nested too deeply to be read", operation)


def event_text(event: bytes | bytearray | str, *, operation: str, field: str = "event") -> str:
    """Decode the raw event as UTF-8 text."""
    if isinstance(event, str):
        return event
    if not isinstance(event, (bytes, bytearray)):
        raise InvalidRequestError.single(
            field, "bytes", f"must be bytes or text, got {type(event).__name__}", operation
        )
    try:
        return bytes(event).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError.single(field, "utf8", f"is not UTF-8 text ({exc})", operation) from None


def require_object(document: Any, *, operation: str, field: str = "event") -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise InvalidRequestError.single(
            field, "object", f"must be a JSON object, got {type(document).__name__}", operation
        )
    return document


def decode_json_text(text: str, *, operation: str, field: str) -> Any:
    """JSON first; then base64 (standard or URL-safe) of UTF-8 JSON, which some publishers send.

    JSON wins when both readings work: a base64 string is never a JSON document except for bare digits.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        raise _too_deep(field, operation) from None
    decoded = _base64_text(text)
    if decoded is not None:
        try:
            return json.loads(decoded)
        except json.JSONDecodeError:
            pass
        except RecursionError:
            raise _too_deep(field, operation) from None
    raise InvalidRequestError.single(field, "json", "is neither JSON nor base64-encoded JSON", operation)


def _base64_text(text: str) -> str | None:
    compact = "".join(text.split())
    if not compact:
        return None
    raw: bytes | None = None
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        try:
            raw = b64url_decode(compact)
        except ValueError:
            return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None

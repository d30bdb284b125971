"""Small wire helpers of localcloud's DashScope: bounded body reading, JSON and SSE framing, task times."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.services.base import json_response
from localcloud.services.dashscope.errors import REQUEST_ID_HEADER
from shared.errors import InvalidRequestError
from shared.ops.asr import MAX_REQUEST_BYTES

# A body is parsed only when it could still fit the 10 MB rule once re-encoded compactly: the SDKs write
# JSON with spaces after separators, so allow some slack, and refuse outright what is far beyond.
MAX_BODY_BYTES = MAX_REQUEST_BYTES + MAX_REQUEST_BYTES // 4
# DashScope reports task times as Beijing wall-clock time (UTC+8), to the millisecond.
_BEIJING = timezone(timedelta(hours=8))


def read_body(request: Request, operation: str) -> bytes:
    """The request body, refused (naming `body`) when it is larger than any valid request can be."""
    declared = request.content_length
    if declared is not None and declared > MAX_BODY_BYTES:
        raise _too_large(declared, operation)
    data = request.stream.read(MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise _too_large(None, operation)
    return data


def _too_large(size: int | None, operation: str) -> InvalidRequestError:
    told = f"{size} bytes" if size is not None else f"more than {MAX_BODY_BYTES} bytes"
    return InvalidRequestError.single(
        "body",
        "request_too_large",
        f"the request body is {told}, over the {MAX_REQUEST_BYTES}-byte limit; "
        "use a URL (and the filetrans model for long audio) instead of inline audio",
        operation,
    )


def json_object(raw: bytes, operation: str) -> dict[str, Any]:
    """Decode a JSON object body, refusing anything else naming `body`."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError.single("body", "json", f"is not valid JSON ({exc})", operation) from None
    if not isinstance(document, dict):
        raise InvalidRequestError.single("body", "json_object", "must be a JSON object", operation)
    return document


def ok(payload: dict[str, Any], request_id: str) -> Response:
    return json_response(payload, 200, {REQUEST_ID_HEADER: request_id})


def sse_event(payload: dict[str, Any] | str) -> bytes:
    """One server-sent event: `data: <json>` and the blank line that ends it."""
    data = (
        payload
        if isinstance(payload, str)
        else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    )
    return f"data: {data}\n\n".encode()


def task_time(epoch_seconds: float) -> str:
    """`2025-10-27 14:19:31.150`: DashScope's task timestamp format (Beijing time).

    >>> task_time(0.25)
    '1970-01-01 08:00:00.250'
    """
    moment = datetime.fromtimestamp(epoch_seconds, tz=_BEIJING)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"

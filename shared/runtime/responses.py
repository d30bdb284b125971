"""HTTP responses for WSGI functions: `HttpResponse`, `json_response`, and the JSON error document.

Every error an HTTP function returns has one shape, so API clients parse one thing:

    {"error": {"code": "InvalidParameter", "message": "...", "field": "format", "request_id": "..."}}

`code` values are stable (see `ErrorCode`); `field` names the offending request field or is null.

Example:
    >>> json_response({"job_id": "j-1"}, status=201).status
    201
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from http import HTTPStatus
from types import TracebackType
from typing import Any, Final

from pydantic import BaseModel

from shared.errors import AudiochainError

StartResponse = Callable[..., Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"


class ErrorCode:
    """The stable `error.code` values the HTTP layer itself produces (handlers add their own)."""

    BAD_REQUEST: Final = "BadRequest"
    INVALID_PARAMETER: Final = "InvalidParameter"  # InvalidRequestError.code
    INVALID_CONTENT_LENGTH: Final = "InvalidContentLength"
    INCOMPLETE_BODY: Final = "IncompleteBody"
    NOT_FOUND: Final = "NotFound"
    METHOD_NOT_ALLOWED: Final = "MethodNotAllowed"
    PAYLOAD_TOO_LARGE: Final = "PayloadTooLarge"
    INTERNAL_ERROR: Final = "InternalError"
    SERVICE_UNAVAILABLE: Final = "ServiceUnavailable"  # a cloud service failed; retrying may help
    UPSTREAM_ERROR: Final = "UpstreamError"  # a cloud service refused; retrying will not help


class HttpError(AudiochainError):
    """Raise from a route (or the request parser) to answer with this status and JSON error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = tuple(headers)


@dataclass
class HttpResponse:
    """A status, headers and a body (bytes, text encoded as UTF-8, or an iterable of byte chunks)."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | str | Iterable[bytes] = b""

    def __post_init__(self) -> None:
        # Accept a mapping too: iterating a dict would otherwise yield its names only.
        if isinstance(self.headers, Mapping):
            self.headers = [(str(name), str(value)) for name, value in self.headers.items()]
        else:
            self.headers = [(str(name), str(value)) for name, value in self.headers]

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def to_wsgi(
        self, start_response: StartResponse, *, head: bool = False, exc_info: ExcInfo | None = None
    ) -> Iterable[bytes]:
        """Call `start_response` and return the body iterable (empty for HEAD, length kept).

        `exc_info` is for replacing a response whose `start_response` already ran (PEP 3333).
        """
        headers = list(self.headers)
        body = self.body.encode("utf-8") if isinstance(self.body, str) else self.body
        if isinstance(body, (bytes, bytearray)) and self.header("content-length") is None:
            headers.append(("Content-Length", str(len(body))))
        if exc_info is None:
            start_response(status_line(self.status), headers)
        else:
            start_response(status_line(self.status), headers, exc_info)
        if head:
            return [b""]
        if isinstance(body, (bytes, bytearray)):
            return [bytes(body)]
        return body


def status_line(status: int) -> str:
    """`404 Not Found`, as WSGI's start_response wants it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}"


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """A JSON response; pydantic models are dumped by alias, enums by value, datetimes as ISO-8601.

    >>> json_response({"ok": True}).body
    b'{"ok":true}'
    """
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8")
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    if not any(name.lower() == "content-type" for name, _ in pairs):
        pairs.insert(0, ("Content-Type", JSON_CONTENT_TYPE))
    return HttpResponse(status=status, headers=pairs, body=body)


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    request_id: str | None = None,
    problems: Sequence[Mapping[str, str]] = (),
    headers: Sequence[tuple[str, str]] = (),
) -> HttpResponse:
    """The JSON error document; `problems` lists every broken rule when there is more than one."""
    error: dict[str, Any] = {"code": code, "message": message, "field": field, "request_id": request_id}
    if problems:
        error["problems"] = [dict(problem) for problem in problems]
    return json_response({"error": error}, status=status, headers=headers)


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

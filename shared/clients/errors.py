"""Turning each service's error answer into shared.errors, and the client layer's own error classes.

    ServiceError                      (shared.errors)
    ├── ServiceResponseError          the service answered with an error document
    │   ├── NotFound                  HTTP 404 of any service (QueueNotExist, NoSuchBucket, ...)
    │   │   └── ObjectNotFound        OSS NoSuchKey, or a HEAD 404 without a body
    │   └── ObjectAlreadyExists       OSS FileAlreadyExists (409 with x-oss-forbid-overwrite)
    ├── TransportError                no usable answer (connection, timeout, broken stream)
    ├── MalformedResponseError        a success status, but an answer we cannot read
    ├── ResponseTooLargeError         the answer was bigger than the caller allowed
    └── WaitTimeoutError              a task did not finish within the time the caller gave it

One parser per wire format: OSS XML (`<Error>`, or the base64 `x-oss-err` header on HEAD), MNS XML
(namespaced `<Error>`), OpenAPI JSON (`{"RequestId","Code","Message",...}`, IMM and ICE), DashScope JSON
(`{"request_id","code","message"}`), the OpenAI-compatible `{"error":{"message","type","code"}}` and Log
Service JSON (`{"errorCode","errorMessage"}`).

>>> import httpx
>>> err = parse_openapi_error(httpx.Response(400), b'{"Code":"Throttling.User","Message":"slow down"}')
>>> (err.code, err.retryable)
('Throttling.User', True)
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import httpx

from shared.clients.xmlsafe import UnsafeXmlError, local_name, parse_xml
from shared.errors import ServiceError, ServiceResponseError, TransportError


class NotFound(ServiceResponseError):
    """The addressed thing does not exist (HTTP 404): object, bucket, queue, topic, task."""


class ObjectNotFound(NotFound):
    """OSS has no object under this key (NoSuchKey)."""


class ObjectAlreadyExists(ServiceResponseError):
    """OSS refused to overwrite an object because the request carried `x-oss-forbid-overwrite: true`."""


class MalformedResponseError(ServiceError):
    """The service said yes, but its answer is not what the API documents (unreadable, or fields missing)."""

    def __init__(
        self, message: str, *, service: str, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(
            message,
            service=service,
            code="MalformedResponse",
            status=status,
            request_id=request_id,
            retryable=False,
        )


class ResponseTooLargeError(ServiceError):
    """The response body exceeded the size the caller allowed; nothing beyond the cap was read."""

    def __init__(self, message: str, *, service: str, limit: int) -> None:
        super().__init__(message, service=service, code="ResponseTooLarge", retryable=False)
        self.limit = limit


class WaitTimeoutError(ServiceError):
    """A task was still unfinished when the caller's time ran out; polling later may still succeed."""

    def __init__(self, message: str, *, service: str, task_id: str, last_status: str) -> None:
        super().__init__(message, service=service, code="WaitTimeout", retryable=True)
        self.task_id = task_id
        self.last_status = last_status


ErrorParser = Callable[[httpx.Response, bytes], ServiceResponseError]

# Codes whose meaning is "try again later", matched exactly or as a dotted prefix (Throttling.User).
_RETRYABLE_CODE_PREFIXES = (
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "ServiceBusy",
)
# Refusals: the service turned the request away before doing anything, so even a non-idempotent
# request may be sent again.
_REFUSAL_CODE_PREFIXES = ("Throttling", "ServiceUnavailable", "ServiceBusy")
_SNIPPET_LIMIT = 200


def _matches_prefix(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code == prefix or code.startswith(prefix + ".") for prefix in prefixes)


def is_retryable(status: int | None, code: str) -> bool:
    """Can sending the same request again help? Throttling, overload and server faults: yes.

    501 Not Implemented is a server status that no retry fixes; signature and clock-skew errors are
    client faults and are not retried either.
    """
    if status == 429 or (status is not None and status >= 500 and status != 501):
        return True
    return _matches_prefix(code, _RETRYABLE_CODE_PREFIXES)


def was_refused(error: ServiceError) -> bool:
    """True when the service certainly did not act on the request (throttled or unavailable)."""
    return error.status in (429, 503) or _matches_prefix(error.code, _REFUSAL_CODE_PREFIXES)


def code_from_status(status: int) -> str:
    """A code for answers without a readable body: `404` -> `NotFound`, `429` -> `TooManyRequests`."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP{status}"
    return re.sub(r"[^A-Za-z]", "", phrase.title())


def redact_urls(text: str) -> str:
    """Drop query strings from any URL in `text`: presigned URLs carry signatures and tokens there."""
    return re.sub(r"(https?://[^\s?'\"<>]*)\?[^\s'\"<>]*", r"\1?<redacted>", text)


def _snippet(body: bytes) -> str:
    text = body[:_SNIPPET_LIMIT].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return redact_urls(text)


def _fallback_message(response: httpx.Response, body: bytes) -> str:
    reason = response.reason_phrase or code_from_status(response.status_code)
    if body:
        return f"HTTP {response.status_code} {reason} with an unreadable error body: {_snippet(body)!r}"
    return f"HTTP {response.status_code} {reason}"


def _build(
    cls: type[ServiceResponseError],
    *,
    service: str,
    code: str,
    message: str,
    status: int,
    request_id: str | None,
) -> ServiceResponseError:
    if cls is ServiceResponseError and status == 404:
        cls = NotFound
    return cls(
        message or code,
        service=service,
        code=code,
        status=status,
        request_id=request_id or None,
        retryable=is_retryable(status, code),
    )


def _first_header(headers: httpx.Headers, names: tuple[str, ...]) -> str:
    for name in names:
        value = headers.get(name)
        if value:
            return str(value)
    return ""


def _xml_error_fields(body: bytes) -> dict[str, str] | None:
    """`{Code: ..., Message: ..., RequestId: ...}` of an `<Error>` document, or None if it is not one."""
    try:
        root = parse_xml(body)
    except (ET.ParseError, UnsafeXmlError):
        return None
    if local_name(root.tag) != "Error":
        return None
    return {local_name(item.tag): (item.text or "").strip() for item in root}


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _text(data: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return ""


# OSS ---------------------------------------------------------------------------------------------------

_OSS_STATUS_CODES = {304: "NotModified", 403: "AccessDenied", 404: "NoSuchKey", 412: "PreconditionFailed"}


def parse_oss_error(response: httpx.Response, body: bytes) -> ServiceResponseError:
    """OSS answers `<Error><Code/><Message/><RequestId/><HostId/>...</Error>`.

    HEAD answers carry no body; OSS then puts the same document, base64-encoded, in `x-oss-err`, and
    without that header the code is inferred from the status (404 -> NoSuchKey, as the SDKs do).
    """
    status = response.status_code
    fields = _xml_error_fields(body) if body else None
    if fields is None and not body:
        encoded = response.headers.get("x-oss-err", "")
        if encoded:
            try:
                fields = _xml_error_fields(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                fields = None
    if fields is None and body:
        data = _json_object(body)
        if data is not None:
            inner = data.get("Error")
            fields = {k: str(v) for k, v in (inner if isinstance(inner, dict) else data).items()}
    # Only a body we could not read is worth quoting; a document without a Message says enough by its code.
    message_source = b"" if fields else body
    fields = fields or {}
    code = fields.get("Code") or _OSS_STATUS_CODES.get(status) or code_from_status(status)
    message = fields.get("Message") or _fallback_message(response, message_source)
    if fields.get("EC"):
        message = f"{message} [EC {fields['EC']}]"
    request_id = fields.get("RequestId") or response.headers.get("x-oss-request-id", "")
    cls: type[ServiceResponseError] = ServiceResponseError
    if code == "NoSuchKey":
        cls = ObjectNotFound
    elif code == "FileAlreadyExists":
        cls = ObjectAlreadyExists
    return _build(cls, service="oss", code=code, message=message, status=status, request_id=request_id)


# MNS ---------------------------------------------------------------------------------------------------


def parse_mns_error(response: httpx.Response, body: bytes) -> ServiceResponseError:
    """MNS answers `<Error xmlns="http://mns.aliyuncs.com/doc/v1/"><Code/><Message/><RequestId/>...`."""
    status = response.status_code
    fields = _xml_error_fields(body) if body else None
    message_source = b"" if fields else body
    fields = fields or {}
    code = fields.get("Code") or code_from_status(status)
    message = fields.get("Message") or _fallback_message(response, message_source)
    request_id = fields.get("RequestId") or response.headers.get("x-mns-request-id", "")
    return _build(
        ServiceResponseError, service="mns", code=code, message=message, status=status, request_id=request_id
    )


# OpenAPI (IMM, ICE) ------------------------------------------------------------------------------------


def openapi_error_parser(service: str) -> ErrorParser:
    """A parser for one OpenAPI product (the service name goes into the error)."""

    def parse(response: httpx.Response, body: bytes) -> ServiceResponseError:
        status = response.status_code
        data = _json_object(body) if body else None
        message_source = b"" if data else body
        data = data or {}
        code = _text(data, "Code", "code") or code_from_status(status)
        message = _text(data, "Message", "message") or _fallback_message(response, message_source)
        recommend = _text(data, "Recommend")
        if recommend:
            message = f"{message} (diagnosis: {recommend})"
        request_id = _text(data, "RequestId", "requestId") or response.headers.get("x-acs-request-id", "")
        return _build(
            ServiceResponseError,
            service=service,
            code=code,
            message=message,
            status=status,
            request_id=request_id,
        )

    return parse


parse_openapi_error = openapi_error_parser("openapi")


# Log Service (SLS) -------------------------------------------------------------------------------------


def parse_sls_error(response: httpx.Response, body: bytes) -> ServiceResponseError:
    """Log Service answers `{"errorCode": "ProjectNotExist", "errorMessage": "..."}`, x-log-requestid."""
    status = response.status_code
    data = _json_object(body) if body else None
    message_source = b"" if data else body
    data = data or {}
    code = _text(data, "errorCode") or code_from_status(status)
    message = _text(data, "errorMessage") or _fallback_message(response, message_source)
    request_id = response.headers.get("x-log-requestid", "")
    return _build(
        ServiceResponseError, service="sls", code=code, message=message, status=status, request_id=request_id
    )


# DashScope ---------------------------------------------------------------------------------------------

_DASHSCOPE_REQUEST_ID_HEADERS = ("x-request-id", "x-dashscope-request-id", "request-id")


def parse_dashscope_error(response: httpx.Response, body: bytes) -> ServiceResponseError:
    """DashScope's `{"request_id","code","message"}` or the OpenAI-compatible `{"error":{...}}`."""
    data = _json_object(body) if body else None
    return dashscope_error_from_document(data or {}, response=response, body=b"" if data else body)


def dashscope_error_from_document(
    data: Mapping[str, Any], *, response: httpx.Response | None = None, body: bytes = b""
) -> ServiceResponseError:
    """Build the error from an already decoded document (also used for errors sent inside a stream)."""
    status = response.status_code if response is not None else 200
    inner = data.get("error")
    if isinstance(inner, Mapping):
        code = _text(inner, "code", "type")
        message = _text(inner, "message")
    else:
        code = _text(data, "code")
        message = _text(data, "message")
    code = code or code_from_status(status)
    if not message:
        message = _fallback_message(response, body) if response is not None else code
    request_id = _text(data, "request_id", "id")
    if not request_id and response is not None:
        request_id = _first_header(response.headers, _DASHSCOPE_REQUEST_ID_HEADERS)
    return _build(
        ServiceResponseError,
        service="dashscope",
        code=code,
        message=message,
        status=status,
        request_id=request_id,
    )


# Transport ---------------------------------------------------------------------------------------------

# Failures before the request left the process: the service cannot have acted on it.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
)


def was_not_sent(exc: BaseException) -> bool:
    """True when the request (or its body) never fully reached the service."""
    return isinstance(exc, _NOT_SENT)


def transport_error(service: str, exc: httpx.RequestError, *, method: str, path: str) -> TransportError:
    """Translate an httpx failure, keeping query strings (signatures) out of the message."""
    detail = redact_urls(str(exc)) or type(exc).__name__
    return TransportError(f"{method} {path} failed: {detail}", service=service, code=type(exc).__name__)

"""FC 3.0 mode of the local runtime: HTTP functions get FC 3.0's JSON event and answer with a JSON document.

FC 3.0's built-in runtimes call an HTTP-triggered function as `handler(event, context)`, the event being
`{"version": "v1", "rawPath", "headers", "queryParameters", "body", "isBase64Encoded", "requestContext":
{..., "http": {"method", "path", "protocol", "sourceIp", "userAgent"}}}` and the answer
`{"statusCode", "headers", "body", "isBase64Encoded"}` (Alibaba Cloud, FC 3.0 user guide, "HTTP trigger
invoking a function"; the Serverless Devs fc3 component's sample event,
src/subCommands/trigger-template/event-template/http.json in devsapp/fc3). Header and query values with
several entries are joined with commas, as the platform does. OSS, MNS-topic and timer events have the FC 2.0
shapes in FC 3.0, so only HTTP changes. Chosen with `python -m localcloud up --fc 3` or
`LOCALCLOUD_FC_VERSION=3`.

    >>> event = http_event({"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/health", "QUERY_STRING": "a=1&a=2"},
    ...                    b"", request_id="r-1", account_id="1", region="cn-hangzhou")
    >>> event["requestContext"]["http"]["method"], event["queryParameters"], event["body"]
    ('GET', {'a': '1,2'}, '')
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote

__all__ = ["FC3_VERSION", "http_event", "http_result"]

FC3_VERSION = 3


def http_event(
    environ: Mapping[str, Any], body: bytes, *, request_id: str, account_id: str, region: str
) -> dict[str, Any]:
    """FC 3.0's HTTP event for a request that FC 2.0 would have delivered as this WSGI environ."""
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_") and isinstance(value, str):
            headers[_header_name(key[5:])] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = str(environ["CONTENT_TYPE"])
    query: dict[str, str] = {}
    for name, value in parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    path = str(environ.get("PATH_INFO") or "/").encode("latin-1").decode("utf-8", "replace")
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    now = datetime.now(timezone.utc)
    return {
        "version": "v1",
        "rawPath": quote(path, safe="/"),
        "headers": headers,
        "queryParameters": query,
        "body": text,
        "isBase64Encoded": encoded,
        "requestContext": {
            "accountId": account_id,
            "domainName": f"{account_id}.{region}.fc.localcloud",
            "domainPrefix": account_id,
            "requestId": request_id,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeEpoch": str(int(time.time() * 1000)),
            "http": {
                "method": str(environ.get("REQUEST_METHOD", "GET")),
                "path": path,
                "protocol": str(environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
                "sourceIp": str(environ.get("REMOTE_ADDR", "")),
                "userAgent": headers.get("User-Agent", ""),
            },
        },
    }


def http_result(answer: object) -> tuple[str, list[tuple[str, str]], bytes]:
    """The handler's `{statusCode, headers, body, isBase64Encoded}` as (status line, headers, body);
    ValueError if it is not one (FC 3.0 answers such a function with an error)."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("statusCode"), int):
        raise ValueError("an FC 3.0 HTTP function must return {statusCode, headers, body, isBase64Encoded}")
    status = int(answer["statusCode"])
    raw = answer.get("body") or ""
    if not isinstance(raw, str):
        raise ValueError("the response body must be a string (Base64 when isBase64Encoded)")
    body = base64.b64decode(raw) if answer.get("isBase64Encoded") else raw.encode("utf-8")
    headers = [(str(name), str(value)) for name, value in dict(answer.get("headers") or {}).items()]
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{status} {phrase}", headers, body


def _header_name(key: str) -> str:
    return "-".join(part.capitalize() for part in key.split("_"))

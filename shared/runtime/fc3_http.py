"""Function Compute 3.0 HTTP triggers: the JSON event in, the JSON response out, our WSGI app in between.

FC 3.0's built-in runtimes no longer speak WSGI to an HTTP-trigger function: they call
`handler(event, context)` with the request as a JSON document and map the returned document back to
the HTTP response. Source: Alibaba Cloud, "Use an HTTP trigger to invoke a function" (FC 3.0 user guide,
help/en/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function) and the Serverless Devs fc3
component's sample event (devsapp/fc3, src/subCommands/trigger-template/event-template/http.json):

    {"version": "v1", "rawPath": "/example", "body": "Hello FC!", "isBase64Encoded": false,
     "headers": {"Header1": "value1", "Header2": "value1,value2"},
     "queryParameters": {"parameter1": "value1", "parameter2": "value1,value2"},
     "requestContext": {"accountId": "...", "domainName": "<trigger-id>.<region>.fcapp.run",
                        "domainPrefix": "...", "requestId": "...", "time": "...", "timeEpoch": "...",
                        "http": {"method": "GET", "path": "/example", "protocol": "HTTP/1.1",
                                 "sourceIp": "...", "userAgent": "..."}}}

answered with `{"statusCode": 200, "headers": {...}, "body": "...", "isBase64Encoded": false}`.

Facts the mapping relies on:
- `rawPath` is URL-encoded; `requestContext.http.path` is the decoded path, which is what PATH_INFO holds.
- A header or query parameter with several values arrives joined by commas. A comma inside one value
  cannot be told from a separator, so a joined string stays one value (as WSGI's `HTTP_*` joins headers
  anyway); a JSON list, should the platform send one, becomes several values.
- `body` is Base64 when the request body is binary (`isBase64Encoded: true`).

`environ_from_event` builds the PEP 3333 environ the FC 2.0 path already serves, so both platforms run
the same app; `call_wsgi_app` runs the app and encodes its response (text as text, anything else as
Base64). `is_http_event` tells an FC 3.0 event from an FC 2.0 WSGI call.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import sys
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from shared.errors import InvalidRequestError
from shared.runtime.responses import StartResponse

__all__ = ["FC3_EVENT_VERSION", "call_wsgi_app", "environ_from_event", "is_http_event", "parse_http_event"]

FC3_EVENT_VERSION = "v1"
_OPERATION = "FC 3.0 HTTP event"

# Media types whose bodies go back as text; everything else (audio, octet-stream …) as Base64.
_TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml", "application/yaml")
_TEXT_SUFFIXES = ("+json", "+xml")

WsgiCallable = Any  # Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def parse_http_event(event: Any) -> dict[str, Any] | None:
    """The event as a document if it is an FC 3.0 HTTP event (bytes, text or dict), else None."""
    document: Any = event
    if isinstance(event, (bytes, bytearray, memoryview)):
        raw = bytes(event)
        if not raw.lstrip().startswith(b"{"):
            return None
        try:
            document = json.loads(raw)
        except ValueError:
            return None
    elif isinstance(event, str):
        if not event.lstrip().startswith("{"):
            return None
        try:
            document = json.loads(event)
        except ValueError:
            return None
    if not isinstance(document, dict):
        return None
    context = document.get("requestContext")
    if document.get("version") != FC3_EVENT_VERSION or not isinstance(context, dict):
        return None
    return document if isinstance(context.get("http"), dict) else None


def is_http_event(event: Any) -> bool:
    """True for an FC 3.0 HTTP-trigger event (in any of the forms a runtime or a test hands over)."""
    return parse_http_event(event) is not None


def environ_from_event(document: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The WSGI environ for one FC 3.0 HTTP event; InvalidRequestError names a malformed field."""
    request_context = document["requestContext"]
    http = request_context["http"]
    method = _text(http.get("method"), "requestContext.http.method") or "GET"
    path = _text(http.get("path"), "requestContext.http.path") or _text(document.get("rawPath"), "rawPath")
    body = _body(document)
    query = urlencode(_pairs(document.get("queryParameters"), "queryParameters"), doseq=True)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": _native(path or "/"),
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": _text(http.get("protocol"), "requestContext.http.protocol") or "HTTP/1.1",
        "SERVER_NAME": _text(request_context.get("domainName"), "requestContext.domainName") or "localhost",
        "SERVER_PORT": "443",
        "REMOTE_ADDR": _text(http.get("sourceIp"), "requestContext.http.sourceIp"),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in _pairs(document.get("headers"), "headers"):
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            continue  # the decoded body's length is the truth, not what the client announced
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = f"{environ[key]},{_native(value)}" if key in environ else _native(value)
    request_id = _text(request_context.get("requestId"), "requestContext.requestId")
    if request_id and "HTTP_X_FC_REQUEST_ID" not in environ:
        environ["HTTP_X_FC_REQUEST_ID"] = request_id
    raw_path = _text(document.get("rawPath"), "rawPath") or path
    host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
    environ["fc.request_uri"] = f"https://{host}{raw_path}" + (f"?{query}" if query else "")
    if context is not None:
        environ["fc.context"] = context
    return environ


def call_wsgi_app(app: WsgiCallable, environ: dict[str, Any]) -> dict[str, Any]:
    """Run a WSGI app on `environ`; FC 3.0's response (statusCode, headers, body, isBase64Encoded)."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if exc_info is not None and captured.get("sent"):
            raise exc_info[1].with_traceback(exc_info[2])
        captured["status"] = status
        captured["headers"] = headers
        return lambda _data: None  # the legacy write() callable; our apps never use it

    start: StartResponse = start_response
    chunks: Iterable[bytes] = app(environ, start)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    captured["sent"] = True
    status = int(str(captured.get("status", "500")).split(" ", 1)[0])
    headers: dict[str, str] = {}
    for name, value in captured.get("headers", []):
        # FC 3.0 takes one string per header: repeated names are joined as HTTP allows (RFC 9110 5.3).
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    text = _as_text(body, content_type)
    if text is not None:
        return {"statusCode": status, "headers": headers, "body": text, "isBase64Encoded": False}
    encoded = base64.b64encode(body).decode("ascii")
    return {"statusCode": status, "headers": headers, "body": encoded, "isBase64Encoded": True}


def _as_text(body: bytes, content_type: str) -> str | None:
    media_type = content_type.split(";", 1)[0].strip().lower()
    textual = not body or media_type.startswith(_TEXT_TYPES) or media_type.endswith(_TEXT_SUFFIXES)
    if not textual:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _body(document: Mapping[str, Any]) -> bytes:
    raw = document.get("body")
    if raw is None:
        return b""
    if not isinstance(raw, str):
        raise InvalidRequestError.single("body", "string", "the event body must be a string", _OPERATION)
    encoded = document.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise InvalidRequestError.single(
            "isBase64Encoded", "boolean", "isBase64Encoded must be true or false", _OPERATION
        )
    if not encoded:
        return raw.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError.single(
            "body", "base64", f"isBase64Encoded is true but the body is not Base64 ({exc})", _OPERATION
        ) from exc


def _pairs(raw: Any, wire_field: str) -> list[tuple[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise InvalidRequestError.single(wire_field, "object", f"{wire_field} must be an object", _OPERATION)
    pairs: list[tuple[str, str]] = []
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool) or not isinstance(item, (str, int, float)):
                raise InvalidRequestError.single(
                    f"{wire_field}.{name}", "string", "values must be strings", _OPERATION
                )
            pairs.append((str(name), str(item)))
    return pairs


def _text(value: Any, wire_field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequestError.single(wire_field, "string", f"{wire_field} must be a string", _OPERATION)
    return value


def _native(value: str) -> str:
    # PEP 3333 "native strings": the UTF-8 bytes seen as latin-1, which shared.runtime.wsgi undoes.
    return value.encode("utf-8").decode("latin-1")

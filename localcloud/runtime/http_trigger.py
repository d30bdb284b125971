"""HTTP triggers: `/2016-08-15/proxy/<service>[.<qualifier>]/<function>/<path...>` on the edge port.

The request becomes FC's WSGI environ for the function's handler: `REQUEST_METHOD`, `PATH_INFO` (the path
after the function segment, `/` when empty), `QUERY_STRING`, `CONTENT_TYPE` (default
`application/octet-stream`), `CONTENT_LENGTH`, `wsgi.input` (the body), `REMOTE_ADDR`, every `HTTP_*`
header, `fc.request_uri` (the full request URI) and `fc.context` (the context object), over the
function's process environment. The answer carries `X-Fc-Request-Id`.

Refusals, in FC's JSON error form `{"ErrorCode", "ErrorMessage"}`: 404 for an unknown service or
function or a function without an HTTP trigger, 405 for a method the trigger does not list, 403 for a
FUNCTION-auth trigger without a valid signature. A handler that raises or overruns its timeout answers
502 with FC's error document and `X-Fc-Error-Type: UnhandledInvocationError`.

FUNCTION auth verifies FC's HTTP-trigger signature as the official `fc2` SDK computes it:
`Authorization: FC <AccessKeyId>:<base64 HMAC-SHA256>` over
`METHOD\\nContent-MD5\\nContent-Type\\nDate\\n<x-fc-* headers, lower-case, sorted, "k:v\\n">` followed by
the unescaped path, a newline, and the sorted `k=v` query parameters joined by newlines. The Date must be
within 15 minutes of now.

    >>> fc_string_to_sign("GET", "/2016-08-15/proxy/s/f/", {"date": "D"}, [("b", "2"), ("a", "1")])
    'GET\\n\\n\\nD\\n/2016-08-15/proxy/s/f/\\na=1\\nb=2'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from localcloud.config import LocalCloudConfig
from localcloud.edge import FC_PROXY_PREFIX
from localcloud.runtime.context import new_request_id
from localcloud.runtime.execution import FunctionInstance, HttpResult, Outcome
from localcloud.runtime.triggers_spec import HttpTrigger
from localcloud.services.base import RequestContext

MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_BODY_BYTES = 32 * 1024 * 1024  # FC 2.0's synchronous request payload limit

FindFunction = Callable[[str, str], tuple[FunctionInstance, HttpTrigger] | None]


class HttpProxy:
    """The edge's `fc_proxy` hook: finds the function and runs its WSGI handler."""

    def __init__(self, find: FindFunction, config: LocalCloudConfig) -> None:
        self._find = find
        self._config = config

    def __call__(self, request: Request, ctx: RequestContext) -> Response:
        request_id = new_request_id()
        raw_path = request.environ.get("PATH_INFO", "")
        rest = raw_path[len(FC_PROXY_PREFIX) :] if raw_path.startswith(FC_PROXY_PREFIX) else ""
        parts = rest.split("/", 2)
        if len(parts) < 2 or not parts[0] or not parts[1]:
            return _error(
                404, "FunctionNotFound", "use /2016-08-15/proxy/<service>/<function>/<path>", request_id
            )
        service, function = parts[0].split(".", 1)[0], parts[1]
        found = self._find(service, function)
        if found is None:
            return _error(
                404,
                "FunctionNotFound",
                f"service {service!r} has no function {function!r} with an HTTP trigger",
                request_id,
            )
        instance, trigger = found
        method = request.method.upper()
        if method not in trigger.methods:
            allowed = ", ".join(sorted(trigger.methods))
            return _error(
                405, "MethodNotAllowed", f"{method} is not allowed; the trigger accepts {allowed}", request_id
            )
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return _error(413, "PayloadTooLarge", f"the body exceeds {MAX_BODY_BYTES} bytes", request_id)
        body = request.get_data(cache=True)
        if trigger.auth_type == "FUNCTION":
            refusal = self._check_signature(request, request_id)
            if refusal is not None:
                return refusal
        environ = _function_environ(request, "/" + (parts[2] if len(parts) > 2 else ""), body)
        result = instance.invoke_http(environ, request_id)
        if isinstance(result, Outcome):
            response = Response(result.payload, status=502, content_type="application/json")
            response.headers["X-Fc-Error-Type"] = result.error_type or "UnhandledInvocationError"
        else:
            response = _response(result)
        response.headers["X-Fc-Request-Id"] = request_id
        return response

    def _check_signature(self, request: Request, request_id: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("FC ") or ":" not in header:
            return _error(
                403,
                "AccessDenied",
                "this HTTP trigger requires a signed request (AuthType FUNCTION)",
                request_id,
            )
        key_id, _, signature = header[3:].partition(":")
        secret = self._config.secret_for(key_id.strip())
        if secret is None:
            return _error(
                403, "InvalidAccessKeyId", f"the access key {key_id.strip()!r} does not exist", request_id
            )
        date = request.headers.get("Date", "")
        try:
            signed_at = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return _error(403, "AccessDenied", "the Date header is missing or malformed", request_id)
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=timezone.utc)
        if abs(datetime.now(timezone.utc) - signed_at) > MAX_CLOCK_SKEW:
            return _error(
                403, "AccessDenied", "the request has expired (Date is more than 15 minutes off)", request_id
            )
        headers = {key.lower(): value for key, value in request.headers.items()}
        path = unquote(request.environ.get("RAW_URI", "").split("?", 1)[0] or request.path)
        expected = fc_signature(
            secret, fc_string_to_sign(request.method, path, headers, list(request.args.items(multi=True)))
        )
        if not hmac.compare_digest(expected, signature.strip()):
            return _error(403, "SignatureNotMatch", "the request signature does not match", request_id)
        return None


def fc_string_to_sign(
    method: str, unescaped_path: str, headers: Mapping[str, str], query: Iterable[tuple[str, str]]
) -> str:
    """The string FC signs for an HTTP-trigger request (`headers` keyed in lower case)."""
    fc_headers = sorted(
        (key.lower(), value) for key, value in headers.items() if key.lower().startswith("x-fc-")
    )
    canonical_headers = "".join(f"{key}:{value}\n" for key, value in fc_headers)
    parameters = sorted(f"{key}={value}" for key, value in query)
    resource = unescaped_path + "\n" + "\n".join(parameters)
    return "\n".join(
        [
            method.upper(),
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            headers.get("date", ""),
            canonical_headers + resource,
        ]
    )


def fc_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _function_environ(request: Request, path_info: str, body: bytes) -> dict[str, object]:
    source = request.environ
    query = source.get("QUERY_STRING", "")
    environ: dict[str, object] = {
        key: value for key, value in source.items() if key.startswith("HTTP_") and isinstance(value, str)
    }
    host = (
        source.get("HTTP_HOST") or f"{source.get('SERVER_NAME', 'localhost')}:{source.get('SERVER_PORT', '')}"
    )
    environ.update(
        {
            "REQUEST_METHOD": request.method.upper(),
            "SCRIPT_NAME": "",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "CONTENT_TYPE": source.get("CONTENT_TYPE") or "application/octet-stream",
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": request.remote_addr or "",
            "SERVER_NAME": source.get("SERVER_NAME", "localhost"),
            "SERVER_PORT": str(source.get("SERVER_PORT", "")),
            "SERVER_PROTOCOL": source.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": source.get("wsgi.url_scheme", "http"),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "fc.request_uri": f"{source.get('wsgi.url_scheme', 'http')}://{host}{_raw_target(source, query)}",
        }
    )
    return environ


def _raw_target(source: Mapping[str, object], query: str) -> str:
    """The request target as the client sent it (path still percent-encoded, with its query)."""
    raw = source.get("REQUEST_URI") or source.get("RAW_URI")
    if isinstance(raw, str) and raw:
        return raw
    path = str(source.get("PATH_INFO", "")).encode("latin-1").decode("utf-8", "replace")
    return quote(path, safe="/") + (f"?{query}" if query else "")


def _response(result: HttpResult) -> Response:
    response = Response(result.body, status=result.status)
    response.headers.clear()
    for name, value in result.headers:
        response.headers.add(name, value)
    if "Content-Length" not in response.headers:
        response.headers["Content-Length"] = str(len(result.body))
    return response


def _error(status: int, code: str, message: str, request_id: str) -> Response:
    body = json.dumps({"ErrorCode": code, "ErrorMessage": message}).encode("utf-8")
    response = Response(body, status=status, content_type="application/json")
    response.headers["X-Fc-Request-Id"] = request_id
    return response

"""A small WSGI layer for FC 2.0 HTTP-trigger functions: the request, a router, errors as JSON.

FC's Python runtime calls `handler(environ, start_response)` with `REQUEST_METHOD`, `PATH_INFO`,
`QUERY_STRING`, `CONTENT_LENGTH`, `wsgi.input`, `REMOTE_ADDR`, `HTTP_*` headers, `fc.request_uri` and
`fc.context`. `Router.wsgi_app` is such a handler: it builds an `HttpRequest` (refusing bodies above
`max_body_bytes` with 413), calls the route whose pattern matches, and answers every failure with the
JSON error document of shared.runtime.responses (404 `NotFound`, 405 `MethodNotAllowed`, 400
`InvalidParameter` naming the field, 500 `InternalError` with the request id …).

Example:
    >>> router = Router()
    >>> @router.route("GET", "/jobs/{job_id}")
    ... def get_job(request: HttpRequest) -> HttpResponse:
    ...     return json_response({"job_id": request.path_params["job_id"]})
    >>> handler = router.wsgi_app  # the FC handler; shared.runtime.http_handler adds log context
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
from pydantic import BaseModel

from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.logging import get_logger
from shared.runtime.context import FcContext
from shared.runtime.responses import (
    ErrorCode,
    HttpError,
    HttpResponse,
    StartResponse,
    error_response,
    json_response,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "ErrorCode",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "QueryParams",
    "Router",
    "error_response_for",
    "json_response",
]

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # job submissions are small JSON documents; audio goes to OSS directly
REQUEST_ID_HEADER = "x-fc-request-id"

RouteResult = HttpResponse | Mapping[str, Any] | list[Any] | BaseModel | None
RouteHandler = Callable[["HttpRequest"], RouteResult]
HandlerT = TypeVar("HandlerT", bound=RouteHandler)

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class QueryParams(Mapping[str, str]):
    """Query parameters keeping every value: `params["a"]` is the first, `get_all("a")` all of them."""

    def __init__(self, query_string: str = "") -> None:
        self._values: dict[str, list[str]] = parse_qs(query_string, keep_blank_values=True)

    def __getitem__(self, name: str) -> str:
        return self._values[name][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def get_all(self, name: str) -> list[str]:
        return list(self._values.get(name, []))

    def __repr__(self) -> str:
        return f"QueryParams({self._values!r})"


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as FC delivered it; `path_params` is filled in by the router."""

    method: str
    path: str
    query: QueryParams
    headers: httpx.Headers
    body: bytes
    client_ip: str | None = None
    request_uri: str = ""
    fc_context: FcContext | None = None
    path_params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, Any], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    ) -> HttpRequest:
        """Build from a WSGI environ. Raises HttpError 413 for a body above `max_body_bytes`, 400 for a
        malformed `Content-Length` or a body shorter than announced.

        >>> HttpRequest.from_environ({"REQUEST_METHOD": "GET", "PATH_INFO": "/jobs"}).path
        '/jobs'
        """
        headers = _headers(environ)
        path = _wsgi_text(str(environ.get("PATH_INFO") or "/")) or "/"
        query_string = _wsgi_text(str(environ.get("QUERY_STRING") or ""))
        return cls(
            method=str(environ.get("REQUEST_METHOD") or "GET").upper(),
            path=path,
            query=QueryParams(query_string),
            headers=headers,
            body=_read_body(environ, max_body_bytes),
            client_ip=environ.get("REMOTE_ADDR") or None,
            request_uri=str(environ.get("fc.request_uri") or _rebuild_uri(environ, path, query_string)),
            fc_context=context_from_environ(environ),
        )

    @property
    def request_id(self) -> str | None:
        """FC's request id: from the context, else from the `x-fc-request-id` header."""
        if self.fc_context is not None:
            return self.fc_context.request_id
        header = self.headers.get(REQUEST_ID_HEADER)
        return str(header) if header else None

    def json(self) -> Any:
        """The body parsed as JSON; InvalidRequestError (field `body`) when empty or malformed."""
        if not self.body.strip():
            raise InvalidRequestError.single("body", "required", "a JSON body is required")
        try:
            # JSON is UTF-8 (RFC 8259 §8.1); json.loads would guess UTF-16/32 from bytes and accept them.
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidRequestError.single(
                "body", "json", f"is not UTF-8 (byte {exc.start}); send JSON encoded as UTF-8"
            ) from None
        try:
            return json.loads(text)
        except ValueError as exc:
            # JSONDecodeError and UnicodeDecodeError, and also an integer too long to convert (Python
            # refuses more than 4,300 digits): all are bad bodies, none is our fault.
            raise InvalidRequestError.single("body", "json", f"is not valid JSON ({exc})") from None
        except RecursionError:
            # A body of nothing but '[' fits the size limit and still exhausts the parser's stack.
            raise InvalidRequestError.single("body", "json", "is nested too deeply to be read") from None


def context_from_environ(environ: Mapping[str, Any]) -> FcContext | None:
    """The FC context of `environ["fc.context"]`, None when absent (a 500 when FC sent a broken one)."""
    raw = environ.get("fc.context")
    if raw is None:
        return None
    try:
        return FcContext.from_fc(raw)
    except InvalidRequestError as exc:
        # The platform, not the caller, sent it: this is our failure, not a bad request.
        raise HttpError(500, ErrorCode.INTERNAL_ERROR, f"the FC context is malformed: {exc}") from exc


class _Route:
    def __init__(self, method: str, pattern: str, handler: RouteHandler) -> None:
        if not pattern.startswith("/"):
            raise ConfigurationError(f"route pattern {pattern!r} must start with '/'")
        names = _PARAMETER.findall(pattern)
        if len(names) != len(set(names)):
            raise ConfigurationError(f"route pattern {pattern!r} repeats a parameter name")
        regex, position = "", 0
        for match in _PARAMETER.finditer(pattern):
            regex += re.escape(pattern[position : match.start()]) + f"(?P<{match.group(1)}>[^/]+)"
            position = match.end()
        regex += re.escape(pattern[position:])
        self.method = method
        self.pattern = pattern
        self.handler = handler
        self.regex = re.compile(f"^{_normalise(regex)}$")


class Router:
    """Routes `(method, path pattern)` to handlers; `{name}` segments become `request.path_params`.

    A handler returns an HttpResponse, or data to answer as JSON 200 (dict, list, pydantic model), or
    None for 204. HEAD falls back to the GET route with the body dropped.
    """

    def __init__(self, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_body_bytes < 0:
            raise ConfigurationError(f"max_body_bytes must not be negative ({max_body_bytes})")
        self.max_body_bytes = max_body_bytes
        self._routes: list[_Route] = []

    def route(self, method: str, path_pattern: str) -> Callable[[HandlerT], HandlerT]:
        """Decorator registering a handler for `method` (GET, POST …) and a pattern like `/jobs/{job_id}`."""

        def register(handler: HandlerT) -> HandlerT:
            self.add_route(method, path_pattern, handler)
            return handler

        return register

    def add_route(self, method: str, path_pattern: str, handler: RouteHandler) -> None:
        verb = method.strip().upper()
        if not verb.isalpha():
            raise ConfigurationError(f"route method {method!r} is not an HTTP method")
        if any(r.method == verb and r.pattern == path_pattern for r in self._routes):
            raise ConfigurationError(f"route {verb} {path_pattern} is registered twice")
        self._routes.append(_Route(verb, path_pattern, handler))

    def dispatch(self, request: HttpRequest) -> HttpResponse:
        """Find the route and call it; HttpError 404/405 when none fits."""
        path = _normalise(request.path)
        allowed: set[str] = set()
        for method_wanted in (request.method, "GET") if request.method == "HEAD" else (request.method,):
            for route in self._routes:
                match = route.regex.match(path)
                if match is None:
                    continue
                if route.method == method_wanted:
                    return _as_response(route.handler(replace(request, path_params=match.groupdict())))
                allowed.add(route.method)
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            raise HttpError(
                405,
                ErrorCode.METHOD_NOT_ALLOWED,
                f"{request.method} is not allowed on {request.path}; allowed: {', '.join(sorted(allowed))}",
                headers=[("Allow", ", ".join(sorted(allowed)))],
            )
        raise HttpError(404, ErrorCode.NOT_FOUND, f"no route for {request.method} {request.path}")

    def wsgi_app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point (the FC handler): every failure becomes a JSON error response."""
        head = str(environ.get("REQUEST_METHOD") or "").upper() == "HEAD"
        try:
            request = HttpRequest.from_environ(environ, max_body_bytes=self.max_body_bytes)
            response = self.dispatch(request)
        except Exception as exc:
            response = error_response_for(exc, request_id=request_id_from_environ(environ))
        return response.to_wsgi(start_response, head=head)


def error_response_for(exc: BaseException, *, request_id: str | None) -> HttpResponse:
    """Map any exception to the JSON error response, logging it at the level it deserves."""
    log = get_logger("shared.runtime.wsgi")
    if isinstance(exc, HttpError):
        log_method = log.error if exc.status >= 500 else log.info
        log_method("http.error", status=exc.status, code=exc.code, message=exc.message)
        return error_response(
            exc.status, exc.code, exc.message, field=exc.field, request_id=request_id, headers=exc.headers
        )
    if isinstance(exc, InvalidRequestError):
        problems = [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems]
        log.info("http.invalid_request", problems=problems)
        return error_response(
            400, exc.code, str(exc), field=exc.field or None, request_id=request_id, problems=problems
        )
    if isinstance(exc, ServiceError):
        log.warning(
            "http.service_error", service=exc.service, code=exc.code, retryable=exc.retryable, error=str(exc)
        )
        if exc.retryable:
            return error_response(503, ErrorCode.SERVICE_UNAVAILABLE, str(exc), request_id=request_id)
        return error_response(502, ErrorCode.UPSTREAM_ERROR, str(exc), request_id=request_id)
    log.error("http.unhandled_error", exc_info=exc)
    message = "internal error; quote the request id when reporting it"
    return error_response(500, ErrorCode.INTERNAL_ERROR, message, request_id=request_id)


def request_id_from_environ(environ: Mapping[str, Any]) -> str | None:
    """FC's request id from `fc.context` (object or dict) or the `x-fc-request-id` header, without failing."""
    raw = environ.get("fc.context")
    if raw is not None:
        value = raw.get("request_id") if isinstance(raw, Mapping) else getattr(raw, "request_id", None)
        if isinstance(value, str) and value:
            return value
    header = environ.get("HTTP_X_FC_REQUEST_ID")
    return str(header) if header else None


def _as_response(result: RouteResult) -> HttpResponse:
    if isinstance(result, HttpResponse):
        return result
    if result is None:
        return HttpResponse(status=204)
    return json_response(result)


def _normalise(path: str) -> str:
    # "/jobs/" and "/jobs" name the same resource; the root stays "/".
    return path.rstrip("/") or "/"


def _wsgi_text(value: str) -> str:
    """PEP 3333 hands text as latin-1-decoded bytes; recover the UTF-8 the client sent."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _headers(environ: Mapping[str, Any]) -> httpx.Headers:
    # WSGI hands header values over as "native strings": the raw bytes decoded as latin-1 (PEP 3333).
    # Going back to those bytes lets httpx decode UTF-8 values properly instead of failing on them.
    pairs: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value not in (None, ""):
            name = key.replace("_", "-").lower()
        else:
            continue
        pairs.append((name.encode("latin-1"), _native_bytes(str(value))))
    return httpx.Headers(pairs)


def _native_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:  # not a PEP 3333 native string (a hand-built environ): keep the text
        return value.encode("utf-8")


def _read_body(environ: Mapping[str, Any], max_body_bytes: int) -> bytes:
    stream = environ.get("wsgi.input")
    raw_length = str(environ.get("CONTENT_LENGTH") or "").strip()
    too_large = HttpError(
        413, ErrorCode.PAYLOAD_TOO_LARGE, f"the request body exceeds {max_body_bytes} bytes", field="body"
    )
    if raw_length:
        if not raw_length.isdigit():
            raise HttpError(
                400,
                ErrorCode.INVALID_CONTENT_LENGTH,
                f"Content-Length must be a non-negative integer (got {raw_length!r})",
                field="Content-Length",
            )
        length = int(raw_length)
        if length > max_body_bytes:
            raise too_large
        body = stream.read(length) if (stream is not None and length) else b""
        if len(body) < length:
            raise HttpError(
                400,
                ErrorCode.INCOMPLETE_BODY,
                f"the body ended after {len(body)} of {length} announced bytes",
                field="body",
            )
        return bytes(body)
    if stream is None:
        return b""
    # No length announced: read at most one byte past the limit to know whether it is exceeded.
    body = stream.read(max_body_bytes + 1)
    if len(body) > max_body_bytes:
        raise too_large
    return bytes(body)


def _rebuild_uri(environ: Mapping[str, Any], path: str, query_string: str) -> str:
    scheme = environ.get("wsgi.url_scheme") or "http"
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"
    return f"{scheme}://{host}{path}" + (f"?{query_string}" if query_string else "")

"""Handler decorators: log context per invocation and error mapping in one place.

`fc_handler` wraps an event function (OSS, MNS, timer triggers):

- builds the typed `FcContext` and hands it to the function with the event as bytes;
- binds `request_id`, `function`, `cold_start` (true on the first invocation of the process only) and
  `retry_count` to the structlog context for the duration of the invocation, and nothing survives it;
- maps errors: an event we refuse (InvalidRequestError: malformed event, missing field) is logged and
  answered with a JSON refusal, NOT raised, because FC would retry a poison event for nothing; a
  retryable ServiceError is re-raised so FC retries the asynchronous invocation; anything else is logged
  with its traceback and re-raised (FC records the failure, retries, then the OnFailure destination).

`http_handler` does the same for WSGI apps, answering uncaught errors as JSON (400 for
InvalidRequestError with code and field, 503/502 for a retryable/permanent ServiceError, 500 with the
request id for the rest).

Each invocation runs in a copy of the current contextvars context, so with InstanceConcurrency > 1
(requests in threads) no invocation sees another's log context; nothing per-request lives in a global.

Example:
    >>> @fc_handler("on_upload")
    ... def handler(event: bytes, context: FcContext) -> dict[str, int]:
    ...     bind_correlation(job_id="job-1")
    ...     return {"records": len(event)}
"""

from __future__ import annotations

import contextvars
import functools
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, overload

import structlog

from shared.errors import InvalidRequestError, ServiceError
from shared.logging import configure_logging, get_logger
from shared.runtime.context import FcContext
from shared.runtime.fc3_http import call_wsgi_app, environ_from_event, parse_http_event
from shared.runtime.redaction import register_secret
from shared.runtime.responses import HttpResponse, StartResponse
from shared.runtime.wsgi import error_response_for, request_id_from_environ

__all__ = ["EventFunction", "WsgiApp", "bind_correlation", "fc_handler", "http_handler", "refusal"]

ResultT = TypeVar("ResultT")
EventFunction = Callable[[bytes, FcContext], ResultT]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_LOGGER = "shared.runtime.handler"


class _ColdStart:
    """Process-wide: true for exactly one invocation, whichever thread gets there first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first = True

    def claim(self) -> bool:
        with self._lock:
            first, self._first = self._first, False
            return first


_cold_start = _ColdStart()


def fc_handler(
    name: str | None = None,
) -> Callable[[Callable[[bytes, FcContext], ResultT]], Callable[[Any, Any], ResultT | dict[str, Any]]]:
    """Decorate `def handler(event: bytes, context: FcContext)` into FC's `handler(event, context)`.

    `name` is the function name in logs (default: the FC function name, else the Python name).
    """

    def decorate(
        function: Callable[[bytes, FcContext], ResultT],
    ) -> Callable[[Any, Any], ResultT | dict[str, Any]]:
        @functools.wraps(function)
        def handler(event: Any, context: Any) -> ResultT | dict[str, Any]:
            return contextvars.copy_context().run(_invoke_event, function, name, event, context)

        return handler

    return decorate


def bind_correlation(job_id: str | None = None, **ids: str | None) -> None:
    """Add correlation ids (the job id, a task id …) to the log context of the current invocation.

    >>> bind_correlation(job_id="job-1", task_id="MediaConvert-1")
    """
    values = {key: value for key, value in {"job_id": job_id, **ids}.items() if value is not None}
    if values:
        structlog.contextvars.bind_contextvars(**values)


def refusal(exc: InvalidRequestError, request_id: str | None) -> dict[str, Any]:
    """The JSON result of an invocation whose event was refused (what FC records as its return value)."""
    return {
        "status": "refused",
        "request_id": request_id,
        "error": {
            "code": exc.code,
            "message": str(exc),
            "field": exc.field or None,
            "rule": exc.rule,
            "problems": [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems],
        },
    }


def _invoke_event(
    function: Callable[[bytes, FcContext], ResultT], name: str | None, event: Any, context: Any
) -> ResultT | dict[str, Any]:
    configure_logging()
    cold_start = _cold_start.claim()
    log = get_logger(_LOGGER)
    try:
        fc_context = FcContext.from_fc(context)
    except Exception:
        # A broken context is the platform's (or the emulator's) fault: fail loudly, let FC retry.
        log.exception("invocation.bad_context", cold_start=cold_start)
        raise
    if fc_context.credentials is not None:
        register_secret(fc_context.credentials.access_key_secret, fc_context.credentials.security_token)
    structlog.contextvars.bind_contextvars(
        request_id=fc_context.request_id,
        function=name or fc_context.function.name or getattr(function, "__name__", "handler"),
        cold_start=cold_start,
        retry_count=fc_context.retry_count,
    )
    try:
        return function(_event_bytes(event), fc_context)
    except InvalidRequestError as exc:
        problems = [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems]
        log.warning("event.refused", error=str(exc), problems=problems)
        return refusal(exc, fc_context.request_id)
    except ServiceError as exc:
        if exc.retryable:
            log.warning("invocation.retryable_failure", service=exc.service, code=exc.code, error=str(exc))
        else:
            log.error("invocation.failed", service=exc.service, code=exc.code, exc_info=exc)
        raise
    except Exception as exc:
        log.error("invocation.failed", exc_info=exc)
        raise


def _event_bytes(event: Any) -> bytes:
    """FC passes bytes; localcloud and tests may pass text or an already-decoded JSON document."""
    if isinstance(event, bytes):
        return event
    if isinstance(event, (bytearray, memoryview)):
        return bytes(event)
    if isinstance(event, str):
        return event.encode("utf-8")
    if isinstance(event, (dict, list)):
        return json.dumps(event, ensure_ascii=False).encode("utf-8")
    raise InvalidRequestError.single(
        "event", "bytes", f"the event must be bytes, text or a JSON document, got {type(event).__name__}"
    )


@overload
def http_handler(app: WsgiApp, *, name: str | None = None) -> WsgiApp: ...


@overload
def http_handler(app: None = None, *, name: str | None = None) -> Callable[[WsgiApp], WsgiApp]: ...


def http_handler(
    app: WsgiApp | None = None, *, name: str | None = None
) -> WsgiApp | Callable[[WsgiApp], WsgiApp]:
    """Wrap a WSGI app as the FC HTTP handler: log context per request, uncaught errors as JSON.

    >>> from shared.runtime.wsgi import Router
    >>> handler = http_handler(Router().wsgi_app, name="api")
    """
    if app is None:
        return lambda inner: http_handler(inner, name=name)
    wrapped_app = app

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return contextvars.copy_context().run(_invoke_http, wrapped_app, name, environ, start_response)

    @functools.wraps(wrapped_app)
    def handler(environ: Any, start_response: Any) -> Any:
        # FC 2.0 calls an HTTP function as WSGI: handler(environ, start_response). FC 3.0's built-in runtimes
        # call handler(event, context) with the request as a JSON event and expect a JSON response document
        # (shared.runtime.fc3_http): the same app serves both.
        if not (isinstance(environ, dict) and "REQUEST_METHOD" in environ):
            document = parse_http_event(environ)
            if document is not None:
                return _invoke_fc3_http(serve, document, start_response)
        return serve(environ, start_response)

    return handler


def _invoke_fc3_http(serve: WsgiApp, document: dict[str, Any], context: Any) -> dict[str, Any]:
    """One FC 3.0 HTTP event through the WSGI app; a malformed event is a 400 naming the field."""
    try:
        environ = environ_from_event(document, context)
    except InvalidRequestError as exc:
        request_id = str((document.get("requestContext") or {}).get("requestId") or "") or None
        response = error_response_for(exc, request_id=request_id)
        return call_wsgi_app(lambda _environ, start: response.to_wsgi(start), {})
    return call_wsgi_app(serve, environ)


def _invoke_http(
    app: WsgiApp, name: str | None, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    configure_logging()
    cold_start = _cold_start.claim()
    request_id = request_id_from_environ(environ) or str(uuid.uuid4())
    function_name = name or getattr(app, "__name__", "wsgi_app")
    try:
        fc_context = FcContext.from_fc(environ["fc.context"]) if "fc.context" in environ else None
    except Exception:
        fc_context = None  # the app reports a broken context itself; here it only feeds the log context
    if fc_context is not None:
        function_name = name or fc_context.function.name or function_name
        if fc_context.credentials is not None:
            register_secret(fc_context.credentials.access_key_secret, fc_context.credentials.security_token)
    structlog.contextvars.bind_contextvars(
        request_id=request_id,
        function=function_name,
        cold_start=cold_start,
        method=str(environ.get("REQUEST_METHOD") or ""),
        path=str(environ.get("PATH_INFO") or ""),
    )
    started = False

    def tracking_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        nonlocal started
        started = True
        if exc_info is None:
            return start_response(status, headers)
        return start_response(status, headers, exc_info)

    try:
        return app(environ, tracking_start_response)
    except Exception as exc:
        response: HttpResponse = error_response_for(exc, request_id=request_id)
        head = str(environ.get("REQUEST_METHOD") or "").upper() == "HEAD"
        # PEP 3333: replacing a response whose start_response already ran requires exc_info.
        exc_info = (type(exc), exc, exc.__traceback__) if started else None
        return response.to_wsgi(start_response, head=head, exc_info=exc_info)

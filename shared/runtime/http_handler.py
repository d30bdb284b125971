"""The HTTP handler decorator: `http_handler` wraps a WSGI app (the HTTP API) as the FC handler, with the log
context per request of `shared.runtime.handler` and uncaught errors answered as JSON (400 for
InvalidRequestError with code and field, 503/502 for a retryable/permanent ServiceError, 500 with the
request id for the rest).

Both FC generations are served by the same app: FC 2.0 calls `handler(environ, start_response)` (WSGI); FC
3.0's built-in runtimes call `handler(event, context)` with the request as a JSON event
(`shared.runtime.fc3_http`).
"""

from __future__ import annotations

import contextvars
import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Any, overload

import structlog

from shared.errors import InvalidRequestError
from shared.logging import configure_logging
from shared.runtime.context import FcContext
from shared.runtime.fc3_http import call_wsgi_app, environ_from_event, parse_http_event
from shared.runtime.handler import claim_cold_start
from shared.runtime.redaction import register_secret
from shared.runtime.responses import HttpResponse, StartResponse
from shared.runtime.wsgi import error_response_for, request_id_from_environ

__all__ = ["WsgiApp", "http_handler"]

WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


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
    cold_start = claim_cold_start()
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

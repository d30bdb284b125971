"""The HTTP API as the FC handler: a WSGI app over `shared.api.routes.OPERATIONS`.

    handler = create_api_handler()      # functions/api/index.py

Per request: strip FC's default-trigger prefix (`/2016-08-15/proxy/<service>/<function>`, present when the
function is called through the default trigger URL, absent behind the trigger's own or a custom domain),
authenticate (every route but the public ones and the browser pages of `shared.api.pages`) before the
body is even read, dispatch, and answer every failure with the JSON error document of `shared.api.errors`.

Example (`httpx.WSGITransport` drives it in process, as the functional tests do):
    >>> import httpx
    >>> app = create_api_handler(PipelineProvider("api", environ={}))
    >>> with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://api") as client:
    ...     client.get("/v1/health").json()
    {'status': 'ok', 'service': 'audiochain'}
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from shared import env
from shared.api.auth import authenticate
from shared.api.errors import api_error_response
from shared.api.pages import StaticPages
from shared.api.routes import OPERATIONS, ApiCall, Operation
from shared.errors import InvalidRequestError
from shared.pipeline.provider import PipelineProvider
from shared.runtime.http_handler import WsgiApp, http_handler
from shared.runtime.responses import HttpResponse, StartResponse
from shared.runtime.wsgi import DEFAULT_MAX_BODY_BYTES, HttpRequest, Router, request_id_from_environ

__all__ = ["API_FUNCTION", "ApiApp", "create_api_handler", "split_fc_prefix"]

API_FUNCTION = "api"
_FC_PREFIX = re.compile(r"^/2016-08-15/proxy/[^/]+/[^/]+(?=/|$)")


def split_fc_prefix(path: str) -> tuple[str, str]:
    """`(prefix, route path)`: FC's default-trigger prefix (or "") and the path the routes know.

    >>> split_fc_prefix("/2016-08-15/proxy/audiochain.LATEST/api/v1/jobs")
    ('/2016-08-15/proxy/audiochain.LATEST/api', '/v1/jobs')
    >>> split_fc_prefix("/v1/jobs")
    ('', '/v1/jobs')
    """
    match = _FC_PREFIX.match(path)
    if match is None:
        return "", path
    return match.group(0), path[match.end() :] or "/"


class ApiApp:
    """The WSGI app. `provider` supplies settings and orchestrators; `environ` (default os.environ,
    read per request) supplies AUDIOCHAIN_API_TOKEN."""

    def __init__(
        self,
        provider: PipelineProvider,
        *,
        environ: Mapping[str, str] | None = None,
        operations: Iterable[Operation] = OPERATIONS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        pages: StaticPages | None = None,
    ) -> None:
        self.provider = provider
        self._environ = environ
        self.operations = tuple(operations)
        self.router = Router(max_body_bytes=max_body_bytes)
        self._public_paths = frozenset(op.path for op in self.operations if op.public)
        for operation in self.operations:
            self.router.add_route(operation.method, operation.path, self._route(operation))
        # The dashboard and the docs: static pages that hold no data, so they need no token.
        self.pages = pages if pages is not None else StaticPages(provider)
        for method, pattern, page_handler in self.pages.routes():
            self.router.add_route(method, pattern, page_handler)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        head = str(environ.get("REQUEST_METHOD") or "").upper() == "HEAD"
        request_id = request_id_from_environ(environ) or str(uuid.uuid4())
        try:
            response = self._respond(environ)
        except Exception as exc:
            response = api_error_response(exc, request_id=request_id)
        return response.to_wsgi(start_response, head=head)

    def _respond(self, environ: dict[str, Any]) -> HttpResponse:
        _, path = split_fc_prefix(str(environ.get("PATH_INFO") or "/"))
        if path.rstrip("/") not in self._public_paths and not self.pages.is_public(path):
            # Before the body is read: a caller without the token costs us no upload.
            authenticate(environ.get("HTTP_AUTHORIZATION"), self._token())
        _refuse_non_ascii_headers(environ)
        request = HttpRequest.from_environ(environ, max_body_bytes=self.router.max_body_bytes)
        return self.router.dispatch(replace(request, path=split_fc_prefix(request.path)[1]))

    def _route(self, operation: Operation) -> Any:
        def run(request: HttpRequest) -> HttpResponse:
            base_path = split_fc_prefix(urlsplit(request.request_uri).path)[0]
            return operation.handler(ApiCall(request, self.provider, base_path))

        run.__name__ = operation.operation_id
        return run

    def _token(self) -> str | None:
        source = self.provider.environ if self._environ is None else self._environ
        return source.get(env.AUDIOCHAIN_API_TOKEN)


def _refuse_non_ascii_headers(environ: Mapping[str, Any]) -> None:
    # HTTP header values are ASCII here; the shared request parser would fail on others with a 500.
    for name, value in environ.items():
        if name.startswith("HTTP_") and isinstance(value, str) and not value.isascii():
            header = name[5:].replace("_", "-").title()
            raise InvalidRequestError.single(header, "ascii", "must be ASCII text", "HTTP request")


def create_api_handler(
    provider: PipelineProvider | None = None, *, environ: Mapping[str, str] | None = None
) -> WsgiApp:
    """The FC handler of the `api` function: the ApiApp wrapped for log context per request."""
    source = provider or PipelineProvider(API_FUNCTION, uses_dashscope=True)
    return http_handler(ApiApp(source, environ=environ), name=API_FUNCTION)

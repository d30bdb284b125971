"""The single edge port: one WSGI app that routes each request to a service by path and authorization scheme.

/2016-08-15/proxy/<service>/<function>/…         → the local FC runtime (HTTP triggers)
signed for OSS (OSS/OSS4 header, presigned query) → OSS, whatever the path (a bucket may be named `api`)
/compatible-mode/…, /api/v1/… (Bearer or none)   → DashScope
/topics/…, /queues/… or `Authorization: MNS …`   → MNS
POST / with `x-acs-action` (version 2020-09-30)  → IMM
POST / with `x-acs-action` (version 2020-11-09)  → ICE
anything else                                    → OSS (path-style: /<bucket>/<key>)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from localcloud.services.base import ErrorCode, RequestContext, ServiceHttpError, ServiceProvider
from shared.auth import OSS_V4_ALGORITHM
from shared.logging import get_logger

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# This module's error catalogue: each code once, with its HTTP status (ErrorCode: a named constructor).
INTERNAL_ERROR = ErrorCode(500, "InternalError")


log = get_logger("localcloud.edge")

IMM_VERSION = "2020-09-30"
ICE_VERSION = "2020-11-09"
FC_PROXY_PREFIX = "/2016-08-15/proxy/"


class Edge:
    """Routes requests; services register themselves by name."""

    def __init__(self) -> None:
        self.services: dict[str, ServiceProvider] = {}
        self.fc_proxy: Callable[[Request, RequestContext], Response] | None = None

    def register(self, service: ServiceProvider) -> None:
        self.services[service.name] = service

    def route(self, request: Request) -> str:
        path = request.path
        auth = request.headers.get("Authorization", "")
        if path.startswith(FC_PROXY_PREFIX):
            return "fc"
        if _signed_for_oss(request, auth):
            return "oss"
        # "Bearer" alone (an empty key) is still DashScope's to refuse, with its own 401 JSON.
        if (path.startswith("/compatible-mode/") or path.startswith("/api/v1/")) and (
            not auth or auth.partition(" ")[0].lower() == "bearer"
        ):
            return "dashscope"
        if (
            auth.startswith("MNS ")
            or path in ("/topics", "/queues")
            or path.startswith(("/topics/", "/queues/"))
        ):
            return "mns"
        action_version = request.headers.get("x-acs-version")
        if request.headers.get("x-acs-action") or auth.startswith("ACS3-"):
            if action_version == ICE_VERSION:
                return "ice"
            return "imm"
        return "oss"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        ctx = RequestContext()
        try:
            target = self.route(request)
            response = self._dispatch(target, request, ctx)
        finally:
            # A parsed multipart form (PostObject) spools its file parts to temporary files: close them
            # now, not whenever the garbage collector gets to them (ResourceWarning, open descriptors).
            request.close()
        return response(environ, start_response)  # type: ignore[no-any-return]

    def _dispatch(self, target: str, request: Request, ctx: RequestContext) -> Response:
        if target == "fc":
            if self.fc_proxy is None:
                return Response("no function runtime is running\n", status=404, content_type="text/plain")
            return self.fc_proxy(request, ctx)
        service = self.services.get(target)
        if service is None:
            return Response(f"service {target} is not running\n", status=503, content_type="text/plain")
        try:
            return service.handle(request, ctx)
        except ServiceHttpError as error:
            log.info(
                "edge.request.refused",
                service=target,
                method=request.method,
                path=request.path,
                status=error.status,
                code=error.code,
            )
            return service.render_error(error, ctx)
        except Exception:
            log.exception("edge.request.failed", service=target, method=request.method, path=request.path)
            return service.render_error(INTERNAL_ERROR("localcloud hit an internal error; see its log"), ctx)


def _signed_for_oss(request: Request, auth: str) -> bool:
    if auth.startswith((f"{OSS_V4_ALGORITHM} ", "OSS ")):
        return True
    args = request.args
    return "x-oss-signature-version" in args or ("OSSAccessKeyId" in args and "Signature" in args)


def describe(request: Request) -> dict[str, Any]:
    """What is safe to log about a request: never the query string (presigned URLs carry signatures)."""
    return {"method": request.method, "path": request.path}

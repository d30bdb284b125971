"""What every localcloud service provider shares: the error type, the request context, the interface."""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from localcloud.ports import Host


class ServiceHttpError(Exception):
    """An error answer in the service's own format (status, code, message, extra fields)."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class ErrorCode:
    """One entry of a service's error catalogue: its HTTP status and code. Calling it makes the error, so
    `NO_SUCH_KEY("The specified key does not exist.", Key=key)` is a named constructor.

    >>> ErrorCode(404, "NoSuchKey")("The specified key does not exist.", Key="a.wav").extra
    {'Key': 'a.wav'}
    """

    status: int
    code: str

    def __call__(self, message: str, **extra: str) -> ServiceHttpError:
        return ServiceHttpError(self.status, self.code, message, **extra)


@dataclass
class RequestContext:
    request_id: str = field(default_factory=lambda: new_request_id())  # noqa: PLW0108 - defined below
    received_at: float = field(default_factory=time.time)
    access_key_id: str | None = None


def new_request_id() -> str:
    # OSS and MNS use 24 upper-case hex characters; good enough for every service here.
    return uuid.uuid4().hex[:24].upper()


def new_uuid_request_id() -> str:
    """The dashed, upper-case request id of OpenAPI services (IMM, ICE)."""
    return str(uuid.uuid4()).upper()


class ServiceProvider(Protocol):
    name: str

    def handle(self, request: Request, ctx: RequestContext) -> Response: ...

    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response: ...


class BaseService(ABC):
    """Shared plumbing, and what the edge calls (`ServiceProvider`): a service answers requests in its own
    format and renders its own errors. Other services are reached through `self.cloud` (a
    `localcloud.ports.Host`), never imported."""

    name = "service"

    def __init__(self, cloud: Host) -> None:
        self.cloud = cloud
        self.config = cloud.config
        self.state = cloud.state

    @abstractmethod
    def handle(self, request: Request, ctx: RequestContext) -> Response:
        """Answer one request routed to this service (raise ServiceHttpError for an error answer)."""

    @abstractmethod
    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response:
        """The service's own error document (XML for OSS/MNS, JSON for DashScope and the RPC services)."""

    def start(self) -> None:  # noqa: B027 - an optional hook: most services resume nothing
        """Called once when localcloud starts (resume unfinished work here)."""

    def stop(self) -> None:  # noqa: B027 - an optional hook
        """Called once when localcloud stops."""


def xml_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body.encode("utf-8"), status=status, headers=headers or {}, content_type="application/xml"
    )


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        status=status,
        headers=headers or {},
        content_type="application/json;charset=UTF-8",
    )


def xml_text(value: object) -> str:
    return escape(str(value))

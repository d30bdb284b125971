"""What an OSS operation handler is given: the authenticated request (`Call`) and the service's parts
(`OssParts`), so the operation modules (buckets, objects, uploads, post_object, process) never import
the service module that routes to them (no import circle; ARCHITECTURE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from werkzeug.wrappers import Request

from localcloud.config import LocalCloudConfig
from localcloud.services.base import RequestContext
from localcloud.services.oss.multipart import MultipartUploads
from localcloud.services.oss.store import ObjectStore
from localcloud.state import StateStore

if TYPE_CHECKING:
    from localcloud.ports import Host

__all__ = ["Call", "OssParts"]


@dataclass(frozen=True)
class Call:
    """One authenticated request: what it addresses and how to answer it."""

    request: Request
    ctx: RequestContext
    bucket: str
    key: str

    @property
    def request_id(self) -> str:
        return self.ctx.request_id

    @property
    def source_ip(self) -> str:
        return self.request.remote_addr or "127.0.0.1"


class OssParts(Protocol):
    """The parts of `OssService` the operation handlers use (OssService is one)."""

    @property
    def cloud(self) -> Host: ...

    @property
    def config(self) -> LocalCloudConfig: ...

    @property
    def state(self) -> StateStore: ...

    @property
    def store(self) -> ObjectStore: ...

    @property
    def uploads(self) -> MultipartUploads: ...

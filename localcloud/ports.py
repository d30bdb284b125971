"""The ports between localcloud's parts: what a service may ask of the cloud that runs it, and the two
services the others build on (OSS storage, MNS messaging), as narrow, typed Protocols.

A service receives a `Host` (in practice `localcloud.server.LocalCloud`) and asks it for `oss()` or `mns()`;
it never looks a service up by name and never imports another service's package. So mypy checks every call
across services, each service can be tested with a fake of the two ports, and no service module imports
`localcloud.server` (which imports them all): the import graph stays a tree (ARCHITECTURE.md, rule 6,
enforced by tests/unit/architecture/).

The data that crosses the OSS port (`ObjectRecord`, `ObjectCreated`) is defined here too, for the same
reason: its users (IMM, ICE, DashScope, the FC runtime's OSS trigger) need the type, not the OSS service.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from localcloud.config import LocalCloudConfig
from localcloud.state import StateStore
from localcloud.tasks import TaskRunner

__all__ = [
    "Host",
    "MnsPort",
    "ObjectCreated",
    "ObjectCreatedListener",
    "ObjectRecord",
    "ObjectStorePort",
    "OssPort",
]


@dataclass(frozen=True)
class ObjectRecord:
    bucket: str
    key: str
    path: Path
    size: int
    etag: str  # upper-case hex MD5 (or multipart form "<hex>-<n>"), without quotes
    content_type: str
    metadata: dict[str, str]
    last_modified: float
    crc64: int | None = None  # CRC-64/ECMA of the body; None when it was too large to compute

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'

    @property
    def is_multipart(self) -> bool:
        return "-" in self.etag


@dataclass(frozen=True)
class ObjectCreated:
    """What the FC runtime needs to raise an OSS trigger event."""

    event_name: str  # e.g. "ObjectCreated:PutObject" (no "oss:" prefix, as in the event)
    record: ObjectRecord
    request_id: str
    source_ip: str = "127.0.0.1"
    event_time: float = field(default_factory=time.time)


ObjectCreatedListener = Callable[[ObjectCreated], None]


class ObjectStorePort(Protocol):
    """OSS's object store, as other services and the FC runtime use it (errors: ServiceHttpError)."""

    def create_bucket(self, name: str) -> bool: ...

    def bucket_exists(self, name: str) -> bool: ...

    def head(self, bucket: str, key: str) -> ObjectRecord: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def put_stream(
        self,
        bucket: str,
        key: str,
        body: Iterator[bytes] | IO[bytes],
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
        expected_md5: bytes | None = None,
    ) -> ObjectRecord: ...

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
    ) -> ObjectRecord: ...

    def add_listener(self, listener: ObjectCreatedListener) -> None: ...

    def notify_created(self, event: ObjectCreated) -> None:
        """Tell the listeners (the FC runtime's OSS triggers) that an object was written."""


class OssPort(Protocol):
    @property
    def store(self) -> ObjectStorePort: ...

    def presign_get(self, bucket: str, key: str, expires: int = 86400) -> str: ...

    def resolve_url(self, url: str, *, now: datetime | None = None) -> ObjectRecord:
        """The object an `oss://bucket/key` or a (presigned) localcloud http URL names."""


class MnsPort(Protocol):
    """MNS as other services (notifications, callbacks) and the FC runtime (MNS triggers) use it."""

    def publish(self, topic: str, body: str, *, tag: str | None = None) -> str: ...

    def topic_exists(self, name: str) -> bool: ...

    def ensure_topic(self, name: str) -> None: ...

    def queue_exists(self, name: str) -> bool: ...

    def ensure_queue(self, name: str) -> None: ...

    def send(self, queue: str, body: str, *, delay_seconds: int | None = None, priority: int = 8) -> str: ...

    def subscribe_local(
        self,
        topic: str,
        subscription: str,
        deliver: Callable[[bytes], None],
        *,
        content_format: str = "JSON",
        strategy: str = "BACKOFF_RETRY",
        filter_tag: str | None = None,
    ) -> None: ...

    def unsubscribe_local(self, topic: str, subscription: str, *, drop_pending: bool = False) -> None: ...

    def pending_deliveries(self, topic: str | None = None) -> int: ...


class Host(Protocol):
    """What a service gets from the cloud that runs it."""

    @property
    def config(self) -> LocalCloudConfig: ...

    @property
    def state(self) -> StateStore: ...

    @property
    def tasks(self) -> TaskRunner: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def port(self) -> int: ...

    def running(self, name: str) -> bool:
        """Whether the named service runs in this cloud (a cloud may run a subset)."""

    def oss(self) -> OssPort:
        """The OSS service; LookupError when it is not running."""

    def mns(self) -> MnsPort:
        """The MNS service; LookupError when it is not running."""

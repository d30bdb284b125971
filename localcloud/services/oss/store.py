"""The object store behind localcloud's OSS: buckets, objects and multipart uploads on the StateStore.

This is the internal API the other services use (IMM reads sources and writes targets, ICE writes speech,
DashScope reads audio and writes results, the FC runtime listens for created objects). Object bodies are
files in the blob store; metadata rows live in SQLite. Every write replaces the row in one statement, so a
reader sees the old object or the new one, never half of either.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import structlog

from localcloud.services.base import ServiceHttpError
from localcloud.state import BlobInfo, StateStore

log = structlog.get_logger("localcloud.oss")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oss_buckets (
    name TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS oss_objects (
    bucket TEXT NOT NULL REFERENCES oss_buckets(name),
    key TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS oss_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS oss_parts (
    upload_id TEXT NOT NULL REFERENCES oss_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
"""

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


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

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


@dataclass(frozen=True)
class ObjectCreated:
    """What the FC runtime needs to raise an OSS trigger event."""

    event_name: str  # e.g. "ObjectCreated:PutObject" (no "oss:" prefix, as in the event)
    record: ObjectRecord
    request_id: str
    source_ip: str = "127.0.0.1"
    event_time: float = field(default_factory=time.time)


ObjectCreatedListener = Callable[[ObjectCreated], None]


def check_bucket_name(name: str) -> None:
    if not _BUCKET_NAME.match(name) or "--" in name:
        raise ServiceHttpError(
            400,
            "InvalidBucketName",
            "The specified bucket is not valid: 3-63 characters of lower-case letters, digits and hyphens, "
            "not starting or ending with a hyphen.",
            BucketName=name,
        )


def check_object_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if not key or size > MAX_KEY_BYTES or key.startswith(("/", "\\")):
        raise ServiceHttpError(
            400,
            "InvalidObjectName",
            "The specified object name is not valid: 1-1023 bytes of UTF-8, not starting with '/' or '\\'.",
            Key=key,
        )


class ObjectStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.ensure_schema(_SCHEMA)
        self.listeners: list[ObjectCreatedListener] = []
        self._listener_lock = threading.Lock()

    # --- buckets ---------------------------------------------------------------------------------------

    def create_bucket(self, name: str) -> bool:
        """Create a bucket; False when it already exists (creating it again is not an error here)."""
        check_bucket_name(name)
        return (
            self.state.execute(
                "INSERT OR IGNORE INTO oss_buckets(name, created_at) VALUES (?, ?)", (name, time.time())
            )
            == 1
        )

    def bucket_exists(self, name: str) -> bool:
        return self.state.query_one("SELECT 1 FROM oss_buckets WHERE name = ?", (name,)) is not None

    def require_bucket(self, name: str) -> None:
        if not self.bucket_exists(name):
            raise ServiceHttpError(
                404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=name
            )

    def list_buckets(self) -> list[tuple[str, float]]:
        return [
            (r["name"], r["created_at"]) for r in self.state.query("SELECT * FROM oss_buckets ORDER BY name")
        ]

    def delete_bucket(self, name: str) -> None:
        self.require_bucket(name)
        if self.state.query_one("SELECT 1 FROM oss_objects WHERE bucket = ? LIMIT 1", (name,)):
            raise ServiceHttpError(
                409, "BucketNotEmpty", "The bucket you tried to delete is not empty.", BucketName=name
            )
        self.state.execute("DELETE FROM oss_buckets WHERE name = ?", (name,))

    # --- objects ---------------------------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObjectRecord:
        self.require_bucket(bucket)
        row = self.state.query_one("SELECT * FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key))
        if row is None:
            raise ServiceHttpError(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        return self._record(row)

    def exists(self, bucket: str, key: str) -> bool:
        row = self.state.query_one("SELECT 1 FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key))
        return row is not None

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
    ) -> ObjectRecord:
        """Stream a body into a new object. Content-MD5 is checked before the object becomes visible."""
        self.require_bucket(bucket)
        check_object_key(key)
        if forbid_overwrite and self.exists(bucket, key):
            raise _already_exists(key)
        blob = self.state.write_blob(body)
        if expected_md5 is not None and blob.md5 != expected_md5:
            self.state.delete_blob(blob.blob_id)
            raise ServiceHttpError(
                400,
                "InvalidDigest",
                "The Content-MD5 you specified did not match what we received.",
            )
        return self._commit(
            bucket, key, blob, content_type=content_type, metadata=metadata, forbid_overwrite=forbid_overwrite
        )

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
    ) -> ObjectRecord:
        """Adopt a finished local file (it is moved, not copied) as an object."""
        self.require_bucket(bucket)
        check_object_key(key)
        blob = self.state.adopt_file(path)
        return self._commit(
            bucket, key, blob, content_type=content_type, metadata=metadata, forbid_overwrite=forbid_overwrite
        )

    def _commit(
        self,
        bucket: str,
        key: str,
        blob: BlobInfo,
        *,
        etag: str | None = None,
        content_type: str,
        metadata: dict[str, str] | None,
        forbid_overwrite: bool,
    ) -> ObjectRecord:
        now = time.time()
        etag = etag or blob.md5.hex().upper()
        old_blob: str | None = None
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT blob_id FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
            if row is not None:
                if forbid_overwrite:
                    self.state.delete_blob(blob.blob_id)
                    raise _already_exists(key)
                old_blob = row["blob_id"]
            db.execute(
                "INSERT OR REPLACE INTO oss_objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bucket,
                    key,
                    blob.blob_id,
                    blob.size,
                    etag,
                    content_type,
                    json.dumps(metadata or {}),
                    now,
                ),
            )
        if old_blob is not None:
            self.state.delete_blob(old_blob)
        return ObjectRecord(
            bucket,
            key,
            self.state.blob_path(blob.blob_id),
            blob.size,
            etag,
            content_type,
            metadata or {},
            now,
        )

    def delete(self, bucket: str, key: str) -> bool:
        """Delete an object; False when there was none (deleting twice is not an error in OSS)."""
        self.require_bucket(bucket)
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT blob_id FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key))
        self.state.delete_blob(row["blob_id"])
        return True

    def list(
        self, bucket: str, *, prefix: str = "", start_after: str = "", limit: int = 1000
    ) -> list[ObjectRecord]:
        """Objects whose key starts with `prefix` and sorts after `start_after`, in key order."""
        self.require_bucket(bucket)
        rows = self.state.query(
            "SELECT * FROM oss_objects WHERE bucket = ? AND key > ? AND substr(key, 1, ?) = ? "
            "ORDER BY key LIMIT ?",
            (bucket, start_after, len(prefix), prefix, limit),
        )
        return [self._record(row) for row in rows]

    def _record(self, row: object) -> ObjectRecord:
        r = row  # sqlite3.Row
        return ObjectRecord(
            bucket=r["bucket"],  # type: ignore[index]
            key=r["key"],  # type: ignore[index]
            path=self.state.blob_path(r["blob_id"]),  # type: ignore[index]
            size=r["size"],  # type: ignore[index]
            etag=r["etag"],  # type: ignore[index]
            content_type=r["content_type"],  # type: ignore[index]
            metadata=json.loads(r["metadata"]),  # type: ignore[index]
            last_modified=r["last_modified"],  # type: ignore[index]
        )

    # --- events ----------------------------------------------------------------------------------------

    def add_listener(self, listener: ObjectCreatedListener) -> None:
        with self._listener_lock:
            self.listeners.append(listener)

    def notify_created(self, event: ObjectCreated) -> None:
        """Tell listeners about a new object. A failing listener never fails the write."""
        with self._listener_lock:
            listeners = list(self.listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:
                log.exception("object-created listener failed", bucket=event.record.bucket)


def _already_exists(key: str) -> ServiceHttpError:
    return ServiceHttpError(409, "FileAlreadyExists", "The object you specified already exists.", Key=key)

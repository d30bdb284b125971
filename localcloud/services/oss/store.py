"""The object store behind localcloud's OSS: buckets, objects and multipart uploads on the StateStore.

This is the internal API the other services use (IMM reads sources and writes targets, ICE writes speech,
DashScope reads audio and writes results, the FC runtime listens for created objects). Object bodies are
files in the blob store; metadata rows live in SQLite. Every write replaces the row in one statement, so a
reader sees the old object or the new one, never half of either.

`ObjectRecord.metadata` holds user metadata by name, lower-case and without the `x-oss-meta-` prefix
(`{"lang": "en"}` is sent and served as `x-oss-meta-lang: en`). `ObjectRecord.crc64` is the object's
CRC-64/ECMA (`x-oss-hash-crc64ecma`), computed on the way in for bodies up to `CRC64_MAX_BYTES` and None
above that (see crc64.py). Multipart uploads live in multipart.py and end in `commit_blob`.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from localcloud.ports import ObjectCreated, ObjectCreatedListener, ObjectRecord
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss.crc64 import CRC64_MAX_BYTES, Crc64
from localcloud.services.oss.errors import (
    BUCKET_NOT_EMPTY,
    FILE_ALREADY_EXISTS,
    INVALID_BUCKET_NAME,
    INVALID_DIGEST,
    INVALID_OBJECT_NAME,
    NO_SUCH_BUCKET,
    NO_SUCH_KEY,
)
from localcloud.state import BlobInfo, StateStore, prefix_range
from shared.logging import get_logger

log = get_logger("localcloud.oss")

# Compares above every text (a BLOB sorts after all TEXT in SQLite): the upper bound of an unbounded range.
_ABOVE_ALL = b"\xff"

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
    crc64 TEXT,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE IF NOT EXISTS oss_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    forbid_overwrite INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oss_parts (
    upload_id TEXT NOT NULL REFERENCES oss_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    blob_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    crc64 TEXT,
    last_modified REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (upload_id, part_number)
);
"""
# Columns added after the first release of the schema; older data directories get them on start-up.
_ADDED_COLUMNS = {
    "oss_objects": {"crc64": "TEXT"},
    "oss_uploads": {"forbid_overwrite": "INTEGER NOT NULL DEFAULT 0"},
    "oss_parts": {"crc64": "TEXT", "last_modified": "REAL NOT NULL DEFAULT 0"},
}

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
MAX_KEY_BYTES = 1023


def check_bucket_name(name: str) -> None:
    if not _BUCKET_NAME.match(name) or "--" in name:
        raise INVALID_BUCKET_NAME(
            "The specified bucket is not valid: 3-63 characters of lower-case letters, digits and hyphens, "
            "not starting or ending with a hyphen.",
            BucketName=name,
        )


def check_object_key(key: str) -> None:
    size = len(key.encode("utf-8"))
    if not key or size > MAX_KEY_BYTES or key.startswith(("/", "\\")):
        raise INVALID_OBJECT_NAME(
            "The specified object name is not valid: 1-1023 bytes of UTF-8, not starting with '/' or '\\'.",
            Key=key,
        )


class ObjectStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.ensure_schema(_SCHEMA)
        _add_missing_columns(state)
        self.listeners: list[ObjectCreatedListener] = []
        self._listener_lock = threading.Lock()
        # Every OSS request asks whether its bucket exists: answered from memory, not SQLite (issue 11).
        # This process is the only writer of oss_buckets, so create/delete keep the set exact.
        self._buckets_lock = threading.Lock()
        self._buckets = {row["name"] for row in state.query("SELECT name FROM oss_buckets")}

    # --- buckets ---------------------------------------------------------------------------------------

    def create_bucket(self, name: str) -> bool:
        """Create a bucket; False when it already exists (creating it again is not an error here)."""
        check_bucket_name(name)
        with self._buckets_lock:
            created = (
                self.state.execute(
                    "INSERT OR IGNORE INTO oss_buckets(name, created_at) VALUES (?, ?)", (name, time.time())
                )
                == 1
            )
            self._buckets.add(name)
        return created

    def bucket_exists(self, name: str) -> bool:
        return name in self._buckets

    def require_bucket(self, name: str) -> None:
        if not self.bucket_exists(name):
            raise _no_such_bucket(name)

    def list_buckets(self) -> list[tuple[str, float]]:
        return [
            (r["name"], r["created_at"]) for r in self.state.query("SELECT * FROM oss_buckets ORDER BY name")
        ]

    def delete_bucket(self, name: str) -> None:
        self.require_bucket(name)
        not_empty = BUCKET_NOT_EMPTY("The bucket you tried to delete is not empty.", BucketName=name)
        if self.state.query_one("SELECT 1 FROM oss_objects WHERE bucket = ? LIMIT 1", (name,)):
            raise not_empty
        with self._buckets_lock:
            try:
                self.state.execute("DELETE FROM oss_buckets WHERE name = ?", (name,))
            except sqlite3.IntegrityError:  # an object landed since the check: its foreign key keeps it
                raise not_empty from None
            self._buckets.discard(name)

    # --- objects ---------------------------------------------------------------------------------------

    def head(self, bucket: str, key: str) -> ObjectRecord:
        self.require_bucket(bucket)
        row = self.state.query_one("SELECT * FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key))
        if row is None:
            raise NO_SUCH_KEY("The specified key does not exist.", Key=key)
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
        blob, crc = self.write_checked_blob(body, expected_md5=expected_md5)
        return self._commit(
            bucket,
            key,
            blob,
            content_type=content_type,
            metadata=metadata,
            forbid_overwrite=forbid_overwrite,
            crc64=crc,
        )

    def write_checked_blob(
        self, body: Iterator[bytes] | IO[bytes], *, expected_md5: bytes | None = None
    ) -> tuple[BlobInfo, int | None]:
        """Stream a body into a new blob, computing its CRC-64 on the way (None past CRC64_MAX_BYTES).

        A Content-MD5 mismatch deletes the blob and raises InvalidDigest, as OSS answers it.
        """
        summer = _CrcSummer()
        blob = self.state.write_blob(summer.wrap(body))
        if expected_md5 is not None and blob.md5 != expected_md5:
            self.state.delete_blob(blob.blob_id)
            raise INVALID_DIGEST(
                "The Content-MD5 you specified did not match what we received.",
            )
        return blob, summer.value

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
        size, md5_digest, crc = digest_file(path)
        blob = self.state.adopt_file(path, size=size, md5_digest=md5_digest)
        return self._commit(
            bucket,
            key,
            blob,
            content_type=content_type,
            metadata=metadata,
            forbid_overwrite=forbid_overwrite,
            crc64=crc,
        )

    def commit_blob(
        self,
        bucket: str,
        key: str,
        blob: BlobInfo,
        *,
        etag: str | None = None,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
        crc64: int | None = None,
    ) -> ObjectRecord:
        """Make an already written blob the object at `bucket/key` (copies and completed multipart uploads).

        `etag` defaults to the blob's MD5; the blob is deleted when the commit is refused.
        """
        try:
            self.require_bucket(bucket)
            check_object_key(key)
        except ServiceHttpError:
            self.state.delete_blob(blob.blob_id)
            raise
        return self._commit(
            bucket,
            key,
            blob,
            etag=etag,
            content_type=content_type,
            metadata=metadata,
            forbid_overwrite=forbid_overwrite,
            crc64=crc64,
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
        crc64: int | None = None,
    ) -> ObjectRecord:
        now = time.time()
        etag = etag or blob.md5.hex().upper()
        old_blob: str | None = None
        try:
            with self.state.transaction() as db:
                if db.execute("SELECT 1 FROM oss_buckets WHERE name = ?", (bucket,)).fetchone() is None:
                    raise _no_such_bucket(bucket)  # deleted while the body was being written
                row = db.execute(
                    "SELECT blob_id FROM oss_objects WHERE bucket = ? AND key = ?", (bucket, key)
                ).fetchone()
                if row is not None:
                    if forbid_overwrite:
                        raise _already_exists(key)
                    old_blob = row["blob_id"]
                db.execute(
                    "INSERT OR REPLACE INTO oss_objects (bucket, key, blob_id, size, etag, content_type, "
                    "metadata, last_modified, crc64) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        bucket,
                        key,
                        blob.blob_id,
                        blob.size,
                        etag,
                        content_type,
                        json.dumps(metadata or {}),
                        now,
                        None if crc64 is None else str(crc64),
                    ),
                )
        except BaseException:
            self.state.delete_blob(blob.blob_id)  # refused or failed: the blob would belong to nothing
            raise
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
            crc64,
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
        self,
        bucket: str,
        *,
        prefix: str = "",
        start_after: str = "",
        start_at: str | None = None,
        limit: int = 1000,
    ) -> list[ObjectRecord]:
        """Objects whose key starts with `prefix`, sorts after `start_after` and not before `start_at`, in
        key order."""
        self.require_bucket(bucket)
        low, high = prefix_range(prefix)
        # One lower bound, chosen here: given both `key > ?` and `key >= ?`, SQLite may seek by the prefix
        # and walk every row up to the start point, which made deep pages of a large listing slow.
        bound, inclusive = low, True
        if start_at is not None and start_at > bound:
            bound = start_at
        if start_after >= bound:
            bound, inclusive = start_after, False
        rows = self.state.query(
            f"SELECT * FROM oss_objects WHERE bucket = ? AND key {'>=' if inclusive else '>'} ? AND key < ? "
            "AND substr(key, 1, ?) = ? ORDER BY key LIMIT ?",
            (bucket, bound, high if high is not None else _ABOVE_ALL, len(prefix), prefix, limit),
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
            crc64=None if r["crc64"] is None else int(r["crc64"]),  # type: ignore[index]
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
                log.exception("oss.listener.failed", bucket=event.record.bucket)


def _no_such_bucket(name: str) -> ServiceHttpError:
    return NO_SUCH_BUCKET("The specified bucket does not exist.", BucketName=name)


def _already_exists(key: str) -> ServiceHttpError:
    return FILE_ALREADY_EXISTS("The object you specified already exists.", Key=key)


def _add_missing_columns(state: StateStore) -> None:
    for table, columns in _ADDED_COLUMNS.items():
        present = {row["name"] for row in state.query(f"PRAGMA table_info({table})")}
        for name, declaration in columns.items():
            if name not in present:
                state.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


class _CrcSummer:
    """Computes the CRC-64 of a body as it streams past, giving up (value None) past CRC64_MAX_BYTES."""

    def __init__(self) -> None:
        self._crc: Crc64 | None = Crc64()

    def wrap(self, body: Iterator[bytes] | IO[bytes], chunk_size: int = 1 << 20) -> Iterator[bytes]:
        chunks: Iterator[bytes]
        if hasattr(body, "read"):
            stream = body
            chunks = iter(lambda: stream.read(chunk_size), b"")  # type: ignore[union-attr]
        else:
            chunks = body  # type: ignore[assignment]
        for chunk in chunks:
            if self._crc is not None:
                if self._crc.size + len(chunk) > CRC64_MAX_BYTES:
                    self._crc = None
                else:
                    self._crc.update(chunk)
            yield chunk

    @property
    def value(self) -> int | None:
        return None if self._crc is None else self._crc.value


def digest_file(path: Path, chunk_size: int = 1 << 20) -> tuple[int, bytes, int | None]:
    """(size, MD5 digest, CRC-64 or None past CRC64_MAX_BYTES) of a local file, in one pass."""
    md5 = hashlib.md5()  # OSS ETags are MD5 by definition
    summer = _CrcSummer()
    size = 0
    with open(path, "rb") as source:
        for chunk in summer.wrap(source, chunk_size):
            md5.update(chunk)
            size += len(chunk)
    return size, md5.digest(), summer.value

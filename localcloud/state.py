"""Durable state for every localcloud service: one SQLite database plus a directory of blobs.

Why SQLite: it is in the standard library, survives restarts ("a restart loses nothing"), and gives atomic
multi-row updates, which MNS visibility timeouts and task state machines need. Media never goes into the
database: object bodies live as files under `blobs/` and are streamed in and out.

Writes go through one connection behind a lock; every statement is short, and media work happens outside the
lock. Reads outside a transaction borrow a connection from a small pool instead: in WAL mode readers see the
last committed state and never wait for the writer, so concurrent API requests no longer queue on one lock.
A read made by the thread that holds an open transaction uses the writer's connection, so it sees its own
uncommitted rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

# Surrogates cannot be stored as UTF-8 text: the next code point after U+D7FF that can is U+E000.
_SURROGATES = range(0xD800, 0xE000)


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """Bounds `(low, high)` with `low <= key < high` for exactly the keys that start with `prefix` (high is
    None when no string bounds them), for a `WHERE key >= ? AND key < ?` an index can seek to.

    A `substr(key, 1, n) = prefix` filter alone cannot use the index: SQLite then walks every row from the
    start point to the end of the table, so listing one job's events read every object after it (issue 11).
    Text sorts by code point (SQLite's binary collation of UTF-8), so raising the prefix's last character by
    one bounds every continuation.

    >>> prefix_range("jobs/j1/events/")
    ('jobs/j1/events/', 'jobs/j1/events0')
    >>> prefix_range("")
    ('', None)
    >>> prefix_range("a\ud7ff")[1] == "a\ue000"
    True
    """
    if not prefix:
        return "", None
    last = ord(prefix[-1]) + 1
    if last in _SURROGATES:
        last = _SURROGATES.stop
    if last > 0x10FFFF:
        shorter = prefix_range(prefix[:-1])[1]
        return prefix, shorter
    return prefix, prefix[:-1] + chr(last)


class StateStore:
    """The data directory: `state.db`, `blobs/` and `tmp/` (emptied on start: one process owns it)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.blob_dir = data_dir / "blobs"
        self.tmp_dir = data_dir / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._clear_temp_files()
        self._lock = threading.RLock()
        self._db_path = data_dir / "state.db"
        self._db = self._connect()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Readers are pooled, not per thread: the HTTP servers start a thread per request, and a connection
        # per thread would leak one file descriptor per request.
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()  # not the writer lock: opening a reader must not wait for it
        self._writer_depth = threading.local()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self._db_path), check_same_thread=False, isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _holds_writer(self) -> bool:
        return bool(getattr(self._writer_depth, "n", 0))

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        if self._holds_writer():
            yield self._db
            return
        try:
            conn = self._readers.get_nowait()
        except queue.Empty:
            conn = self._connect()
            with self._readers_lock:
                self._all_readers.append(conn)
        try:
            yield conn
        finally:
            self._readers.put(conn)

    # --- SQL -------------------------------------------------------------------------------------------

    def ensure_schema(self, statements: str) -> None:
        with self._lock:
            self._db.executescript(statements)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._reader() as conn:
            return list(conn.execute(sql, params).fetchall())

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._reader() as conn:
            row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
            return row

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows changed."""
        with self._lock:
            return self._db.execute(sql, params).rowcount

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A serialised read-modify-write: BEGIN IMMEDIATE … COMMIT (rolled back on error)."""
        with self._lock:
            self._writer_depth.n = getattr(self._writer_depth, "n", 0) + 1
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                self._writer_depth.n -= 1

    def close(self) -> None:
        with self._lock, self._readers_lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
            self._db.close()

    # --- blobs -----------------------------------------------------------------------------------------

    def blob_path(self, blob_id: str) -> Path:
        return self.blob_dir / blob_id[:2] / blob_id

    def _clear_temp_files(self) -> None:
        # Nothing runs yet, so whatever is here was being written when a previous process died (an upload
        # cut short, a transcoder's scratch output): it can never become a blob, and would never go away.
        for leftover in self.tmp_dir.iterdir():
            if leftover.is_file() or leftover.is_symlink():
                leftover.unlink(missing_ok=True)

    def new_temp_path(self, suffix: str = "") -> Path:
        return self.tmp_dir / f"{uuid.uuid4().hex}{suffix}"

    def write_blob(self, chunks: Iterator[bytes] | IO[bytes], *, chunk_size: int = 1 << 20) -> BlobInfo:
        """Stream chunks into a new blob; returns its id, size and MD5 (computed on the way through)."""
        tmp = self.new_temp_path()
        md5 = hashlib.md5()  # OSS ETags and Content-MD5 are MD5 by definition
        size = 0
        iterator: Iterator[bytes]
        if hasattr(chunks, "read"):
            stream = chunks
            iterator = iter(lambda: stream.read(chunk_size), b"")  # type: ignore[union-attr]
        else:
            iterator = chunks  # type: ignore[assignment]
        try:
            with open(tmp, "wb") as out:
                for chunk in iterator:
                    if not chunk:
                        continue
                    md5.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            return self.adopt_file(tmp, size=size, md5_digest=md5.digest())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def adopt_file(self, path: Path, *, size: int | None = None, md5_digest: bytes | None = None) -> BlobInfo:
        """Move a finished file (e.g. a transcoder's output) into the blob store."""
        if md5_digest is None or size is None:
            md5 = hashlib.md5()
            size = 0
            with open(path, "rb") as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    md5.update(chunk)
                    size += len(chunk)
            md5_digest = md5.digest()
        blob_id = uuid.uuid4().hex
        target = self.blob_path(blob_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return BlobInfo(blob_id=blob_id, size=size, md5=md5_digest)

    def delete_blob(self, blob_id: str) -> None:
        self.blob_path(blob_id).unlink(missing_ok=True)


class BlobInfo:
    __slots__ = ("blob_id", "md5", "size")

    def __init__(self, blob_id: str, size: int, md5: bytes) -> None:
        self.blob_id = blob_id
        self.size = size
        self.md5 = md5

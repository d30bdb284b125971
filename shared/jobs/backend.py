"""Where job documents live: a Protocol of a few primitive operations and two implementations.

The store's whole consistency model rests on `put_if_absent`: of several writers of the same key exactly
one gets True, the others get False and read what the winner wrote.

    >>> backend = InMemoryBackend()
    >>> backend.put_if_absent("jobs/a.json", b"1"), backend.put_if_absent("jobs/a.json", b"2")
    (True, False)
    >>> backend.get("jobs/a.json"), list(backend.list("jobs/"))
    (b'1', ['jobs/a.json'])
    >>> for key in ("jobs/j1/job.json", "jobs/j1/state.json", "jobs/j2/job.json"):
    ...     backend.put(key, b"{}")
    >>> backend.list_folders("jobs/"), backend.list_folders("jobs/", start_after="jobs/j1/~", limit=5)
    (['jobs/j1/', 'jobs/j2/'], ['jobs/j2/'])

`OssBackend` maps the operations onto OSS: `x-oss-forbid-overwrite: true` for create-if-absent (OSS
answers 409 FileAlreadyExists to the loser), GET, PUT, ListObjectsV2 (`delimiter=/` for
`list_folders`), DELETE and DeleteMultipleObjects (`delete_many`).
"""

from __future__ import annotations

import bisect
import builtins
import threading
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from shared.clients.errors import ObjectNotFound
from shared.clients.oss import (
    MAX_DELETE_BODY,
    MAX_DELETE_KEYS,
    OssClient,
    delete_document,
    delete_entry_size,
    xml_safe_key,
)


@runtime_checkable
class ObjectBackend(Protocol):
    """Key → bytes, with an atomic create-if-absent. Keys are listed in ascending (byte) order."""

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create `key` holding `data` unless it exists: True if this call created it."""
        ...

    def put(self, key: str, data: bytes) -> None:
        """Create or replace `key`."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes under `key`, or None when there is no such key."""
        ...

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        """Every key that starts with `prefix` and sorts after `start_after`, in ascending order."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key succeeds."""
        ...

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove every key (missing ones succeed), in as few requests as the store allows."""
        ...

    def list_folders(self, prefix: str, start_after: str = "", limit: int = 1000) -> builtins.list[str]:
        """Up to `limit` (1..1000) folders right under `prefix` that sort after `start_after`, ascending:
        the common prefixes a `/`-delimited listing rolls the keys up into. One request, whatever the
        folders hold (ListObjectsV2 with `delimiter`, `max-keys` and `start-after`)."""
        ...


# Sorts after every character a key continues with: bisecting to `folder + _PAST_FOLDER` skips the folder.
_PAST_FOLDER = "\U0010ffff"


class InMemoryBackend:
    """A thread-safe dictionary: the backend for tests and for tools that need no persistence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, bytes] = {}
        self._sorted: list[str] = []

    def put_if_absent(self, key: str, data: bytes) -> bool:
        with self._lock:
            if key in self._objects:
                return False
            self._store(key, data)
            return True

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._store(key, data)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            return self._objects.get(key)

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        with self._lock:
            # Keys under a prefix are contiguous in sorted order; copy them under the lock, because the
            # caller iterates while other threads write.
            start = bisect.bisect_left(self._sorted, prefix)
            if start_after:
                start = max(start, bisect.bisect_right(self._sorted, start_after))
            chosen = []
            for key in self._sorted[start:]:
                if not key.startswith(prefix):
                    break
                chosen.append(key)
        return iter(chosen)

    def delete(self, key: str) -> None:
        self.delete_many((key,))

    def delete_many(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                if self._objects.pop(key, None) is not None:
                    self._sorted.pop(bisect.bisect_left(self._sorted, key))

    def list_folders(self, prefix: str, start_after: str = "", limit: int = 1000) -> builtins.list[str]:
        folders: builtins.list[str] = []
        with self._lock:
            position = bisect.bisect_left(self._sorted, prefix)
            if start_after:
                position = max(position, bisect.bisect_right(self._sorted, start_after))
            while position < len(self._sorted) and len(folders) < limit:
                key = self._sorted[position]
                if not key.startswith(prefix):
                    break
                slash = key.find("/", len(prefix))
                if slash < 0:
                    position += 1
                    continue
                folder = key[: slash + 1]
                if folder > start_after:
                    folders.append(folder)
                position = bisect.bisect_left(self._sorted, folder + _PAST_FOLDER, position)
        return folders

    def all_keys(self) -> builtins.list[str]:
        """Every key, sorted (for tests and debugging)."""
        with self._lock:
            return list(self._sorted)

    def _store(self, key: str, data: bytes) -> None:
        if not isinstance(data, bytes):
            raise TypeError(f"data must be bytes, got {type(data).__name__}")
        if key not in self._objects:
            bisect.insort(self._sorted, key)
        self._objects[key] = data


class OssBackend:
    """Job documents in an OSS bucket through the shared OssClient (retries, signing, errors included).

    backend = OssBackend(oss_client, "audiochain")
    """

    def __init__(self, client: OssClient, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self.client.put_object_if_absent(self.bucket, key, data)

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(self.bucket, key, data)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object_bytes(self.bucket, key)
        except ObjectNotFound:
            return None

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        pages = self.client.iter_list_pages(self.bucket, prefix, start_after=start_after or None)
        for page in pages:
            for summary in page.objects:
                yield summary.key

    def delete(self, key: str) -> None:
        self.client.delete_object(self.bucket, key)

    def delete_many(self, keys: Iterable[str]) -> None:
        """DeleteMultipleObjects, 1,000 keys (or MAX_DELETE_BODY bytes) a request; a key XML cannot carry
        goes on its own."""
        batch: builtins.list[str] = []
        size = len(delete_document([]))
        for key in keys:
            if not xml_safe_key(key):
                self.delete(key)
                continue
            entry = delete_entry_size(key)
            if batch and (len(batch) == MAX_DELETE_KEYS or size + entry > MAX_DELETE_BODY):
                self.client.delete_objects(self.bucket, batch)
                batch, size = [], len(delete_document([]))
            batch.append(key)
            size += entry
        if batch:
            self.client.delete_objects(self.bucket, batch)

    def list_folders(self, prefix: str, start_after: str = "", limit: int = 1000) -> builtins.list[str]:
        page = self.client.list_objects_v2(
            self.bucket, prefix, delimiter="/", max_keys=limit, start_after=start_after or None
        )
        return [folder for folder in page.common_prefixes if folder > start_after]

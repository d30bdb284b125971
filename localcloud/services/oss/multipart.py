"""Multipart uploads on the object store: initiate, upload parts, list them, complete or abort.

Parts are blobs of their own until CompleteMultipartUpload, which checks the part list the way OSS does
(InvalidPartOrder, InvalidPart, EntityTooSmall), concatenates the chosen parts into one new blob, and
commits it with the multipart ETag `<MD5 of the parts' binary MD5s>-<count>` and a CRC-64 combined from
the parts' CRCs (none when any part has none). The object appears in one statement, or not at all.

    >>> uploads = MultipartUploads(store)                                      # doctest: +SKIP
    >>> upload_id = uploads.initiate("media", "big.wav")                       # doctest: +SKIP
    >>> uploads.put_part(upload_id, 1, io.BytesIO(b"..."))                     # doctest: +SKIP
    >>> uploads.complete(upload_id, [(1, etag)]).etag                          # doctest: +SKIP
    '8E1A...-1'
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from localcloud.ports import ObjectRecord
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss import crc64
from localcloud.services.oss.errors import (
    ENTITY_TOO_SMALL,
    INVALID_ARGUMENT,
    INVALID_PART,
    INVALID_PART_ORDER,
    NO_SUCH_UPLOAD,
)
from localcloud.services.oss.store import ObjectStore, check_object_key
from localcloud.state import BlobInfo

MIN_PART_NUMBER = 1
MAX_PART_NUMBER = 10_000
# Every part but the last must be at least this large (OSS answers EntityTooSmall otherwise).
MIN_PART_SIZE = 100 * 1024


@dataclass(frozen=True)
class UploadRecord:
    upload_id: str
    bucket: str
    key: str
    content_type: str
    metadata: dict[str, str]
    created_at: float
    forbid_overwrite: bool


@dataclass(frozen=True)
class PartRecord:
    part_number: int
    blob_id: str
    size: int
    etag: str  # upper-case hex MD5, no quotes
    crc64: int | None
    last_modified: float

    @property
    def quoted_etag(self) -> str:
        return f'"{self.etag}"'


def no_such_upload(upload_id: str) -> ServiceHttpError:
    return NO_SUCH_UPLOAD(
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been "
        "aborted or completed.",
        UploadId=upload_id,
    )


def check_part_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not MIN_PART_NUMBER <= int(text) <= MAX_PART_NUMBER:
        raise INVALID_ARGUMENT(
            f"partNumber must be an integer between {MIN_PART_NUMBER} and {MAX_PART_NUMBER}, got {text!r}.",
            ArgumentName="partNumber",
            ArgumentValue=text,
        )
    return int(text)


class MultipartUploads:
    """Uploads in progress, stored in the same SQLite database as the objects they become."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.state = store.state

    def initiate(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
        forbid_overwrite: bool = False,
    ) -> str:
        self.store.require_bucket(bucket)
        check_object_key(key)
        upload_id = uuid.uuid4().hex.upper()
        self.state.execute(
            "INSERT INTO oss_uploads (upload_id, bucket, key, content_type, metadata, created_at, "
            "forbid_overwrite) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                upload_id,
                bucket,
                key,
                content_type,
                json.dumps(metadata or {}),
                time.time(),
                int(forbid_overwrite),
            ),
        )
        return upload_id

    def get(self, upload_id: str, bucket: str | None = None, key: str | None = None) -> UploadRecord:
        """The upload, which must belong to `bucket`/`key` when they are given (NoSuchUpload otherwise)."""
        row = self.state.query_one("SELECT * FROM oss_uploads WHERE upload_id = ?", (upload_id,))
        if row is None:
            raise no_such_upload(upload_id)
        if (bucket is not None and row["bucket"] != bucket) or (key is not None and row["key"] != key):
            raise no_such_upload(upload_id)
        return UploadRecord(
            upload_id=row["upload_id"],
            bucket=row["bucket"],
            key=row["key"],
            content_type=row["content_type"],
            metadata=json.loads(row["metadata"]),
            created_at=row["created_at"],
            forbid_overwrite=bool(row["forbid_overwrite"]),
        )

    def put_part(
        self,
        upload_id: str,
        part_number: int,
        body: Iterator[bytes] | IO[bytes],
        *,
        expected_md5: bytes | None = None,
    ) -> PartRecord:
        """Store one part; uploading the same number again replaces it."""
        blob, crc = self.store.write_checked_blob(body, expected_md5=expected_md5)
        now = time.time()
        part = PartRecord(part_number, blob.blob_id, blob.size, blob.md5.hex().upper(), crc, now)
        replaced: str | None = None
        with self.state.transaction() as db:
            if db.execute("SELECT 1 FROM oss_uploads WHERE upload_id = ?", (upload_id,)).fetchone() is None:
                self.state.delete_blob(blob.blob_id)
                raise no_such_upload(upload_id)
            old = db.execute(
                "SELECT blob_id FROM oss_parts WHERE upload_id = ? AND part_number = ?",
                (upload_id, part_number),
            ).fetchone()
            replaced = None if old is None else old["blob_id"]
            db.execute(
                "INSERT OR REPLACE INTO oss_parts (upload_id, part_number, blob_id, size, etag, crc64, "
                "last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (upload_id, part_number, blob.blob_id, blob.size, part.etag, _crc_text(crc), now),
            )
        if replaced is not None:
            self.state.delete_blob(replaced)
        return part

    def parts(self, upload_id: str, *, after: int = 0, limit: int = MAX_PART_NUMBER) -> list[PartRecord]:
        rows = self.state.query(
            "SELECT * FROM oss_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?",
            (upload_id, after, limit),
        )
        return [
            PartRecord(
                part_number=row["part_number"],
                blob_id=row["blob_id"],
                size=row["size"],
                etag=row["etag"],
                crc64=None if row["crc64"] is None else int(row["crc64"]),
                last_modified=row["last_modified"],
            )
            for row in rows
        ]

    def uploads(
        self, bucket: str, *, prefix: str = "", after: tuple[str, str] = ("", "")
    ) -> list[UploadRecord]:
        """Uploads in progress in `bucket` under `prefix`, ordered by key then upload id."""
        rows = self.state.query(
            "SELECT upload_id FROM oss_uploads WHERE bucket = ? AND substr(key, 1, ?) = ? "
            "AND (key > ? OR (key = ? AND upload_id > ?)) ORDER BY key, upload_id",
            (bucket, len(prefix), prefix, after[0], after[0], after[1]),
        )
        return [self.get(row["upload_id"]) for row in rows]

    def has_uploads(self, bucket: str) -> bool:
        return (
            self.state.query_one("SELECT 1 FROM oss_uploads WHERE bucket = ? LIMIT 1", (bucket,)) is not None
        )

    def abort(self, upload_id: str) -> None:
        if not self._drop(upload_id):
            raise no_such_upload(upload_id)

    def complete(
        self, upload_id: str, chosen: Sequence[tuple[int, str]] | None, *, forbid_overwrite: bool = False
    ) -> ObjectRecord:
        """Join the chosen (part number, ETag) pairs, in order, into the object; None takes every part."""
        upload = self.get(upload_id)
        stored = {part.part_number: part for part in self.parts(upload_id)}
        parts = self._check_parts(stored, chosen)
        blob = self._concatenate(upload_id, parts)
        etag = _multipart_etag(parts)
        record = self.store.commit_blob(
            upload.bucket,
            upload.key,
            blob,
            etag=etag,
            content_type=upload.content_type,
            metadata=upload.metadata,
            forbid_overwrite=forbid_overwrite or upload.forbid_overwrite,
            crc64=_combined_crc(parts),
        )
        self._drop(upload_id)
        return record

    def _drop(self, upload_id: str) -> bool:
        """Forget the upload and delete every part's data; False when there was no such upload.

        The parts are read in the same transaction that deletes them: a part uploaded a moment earlier by
        a concurrent request is deleted with the rest, never left behind as an orphaned blob.
        """
        with self.state.transaction() as db:
            blobs = [
                row["blob_id"]
                for row in db.execute("SELECT blob_id FROM oss_parts WHERE upload_id = ?", (upload_id,))
            ]
            existed = db.execute("DELETE FROM oss_uploads WHERE upload_id = ?", (upload_id,)).rowcount == 1
        for blob_id in blobs:
            self.state.delete_blob(blob_id)
        return existed

    def _check_parts(
        self, stored: dict[int, PartRecord], chosen: Sequence[tuple[int, str]] | None
    ) -> list[PartRecord]:
        if chosen is None:
            chosen = [(number, stored[number].etag) for number in sorted(stored)]
        if not chosen:
            raise INVALID_PART("The part list is empty: complete an upload with at least one part.")
        parts: list[PartRecord] = []
        previous = 0
        for number, etag in chosen:
            if number <= previous:
                raise INVALID_PART_ORDER(
                    f"The list of parts was not in ascending order: part {number} follows part {previous}. "
                    "Parts must be listed by ascending part number, each at most once.",
                )
            previous = number
            part = stored.get(number)
            if part is None or part.etag != etag.strip().strip('"').upper():
                reason = "was never uploaded" if part is None else f"has ETag {part.quoted_etag}, not {etag}"
                raise INVALID_PART(
                    "One or more of the specified parts could not be found or the specified entity tag "
                    f"might not have matched the part's entity tag: part {number} {reason}.",
                    PartNumber=str(number),
                    ETag=etag,
                )
            parts.append(part)
        for part in parts[:-1]:
            if part.size < MIN_PART_SIZE:
                raise ENTITY_TOO_SMALL(
                    f"Your proposed upload is smaller than the minimum allowed object size: part "
                    f"{part.part_number} is {part.size} bytes, and every part but the last must be at least "
                    f"{MIN_PART_SIZE} bytes.",
                    PartNumber=str(part.part_number),
                )
        return parts

    def _concatenate(self, upload_id: str, parts: Sequence[PartRecord]) -> BlobInfo:
        temporary = self.state.new_temp_path(".multipart")
        md5 = hashlib.md5()  # the whole body's MD5 (OSS serves the multipart ETag, but the blob keeps it)
        size = 0
        try:
            with open(temporary, "wb") as output:
                for part in parts:
                    with open(self.state.blob_path(part.blob_id), "rb") as source:
                        for chunk in iter(lambda: source.read(1 << 20), b""):
                            md5.update(chunk)
                            output.write(chunk)
                            size += len(chunk)
            return self.state.adopt_file(temporary, size=size, md5_digest=md5.digest())
        except FileNotFoundError:  # completed or aborted by a concurrent request meanwhile
            temporary.unlink(missing_ok=True)
            raise no_such_upload(upload_id) from None
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _multipart_etag(parts: Sequence[PartRecord]) -> str:
    joined = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part in parts))  # OSS: MD5 of binary MD5s
    return f"{joined.hexdigest().upper()}-{len(parts)}"


def _combined_crc(parts: Sequence[PartRecord]) -> int | None:
    total: int | None = None
    for part in parts:
        if part.crc64 is None:
            return None
        total = part.crc64 if total is None else crc64.combine(total, part.crc64, part.size)
    return total


def _crc_text(value: int | None) -> str | None:
    return None if value is None else str(value)

"""One page of an object listing: prefix, delimiter (common prefixes), a start point and a page size.

Keys are walked in UTF-8 byte order (SQLite's binary collation, which Python's code-point order matches).
With a delimiter, every key whose remainder after the prefix contains it rolls up into one common prefix,
listed once and counted once towards the page size; a page that ends on a common prefix resumes after
every key under it. ListObjects (marker) and ListObjectsV2 (continuation token, start-after) share this.

    >>> page = list_page(store, "media", prefix="in/", delimiter="/", after="", max_keys=9)  # doctest: +SKIP
    >>> page.prefixes, [record.key for record in page.objects]                                # doctest: +SKIP
    (['in/2024/'], ['in/a.wav'])
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from localcloud.ports import ObjectRecord
from localcloud.services.oss.errors import INVALID_ARGUMENT
from localcloud.services.oss.store import ObjectStore
from localcloud.state import prefix_range

_BATCH = 1000
# Rows read per query when rolling keys up by a delimiter: a folder's first key, and a few after it.
_DELIMITED_BATCH = 16
MAX_KEYS_LIMIT = 1000


@dataclass
class ListingPage:
    objects: list[ObjectRecord] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    truncated: bool = False
    last: str = ""  # the last key or common prefix listed: where the next page starts

    @property
    def count(self) -> int:
        return len(self.objects) + len(self.prefixes)


def list_page(
    store: ObjectStore, bucket: str, *, prefix: str, delimiter: str, after: str, max_keys: int
) -> ListingPage:
    """Up to `max_keys` objects and common prefixes under `prefix` that sort after `after`."""
    page = ListingPage()
    cursor = after
    resume_at: str | None = None  # past a common prefix: the first key that can follow all of its keys
    while True:
        # No more rows than the page can still take (plus one, to know it is truncated); with a delimiter
        # fewer still, since every row under a common prefix after the first is skipped: the walk seeks past
        # the prefix instead. Reading a whole batch under every prefix made a 20-entry page of job folders
        # read 20,000 rows (issue 11's listing benchmark).
        wanted = min(_BATCH, max(1, max_keys - page.count + 1))
        batch = min(wanted, _DELIMITED_BATCH) if delimiter else wanted
        records = store.list(bucket, prefix=prefix, start_after=cursor, start_at=resume_at, limit=batch)
        skipping: str | None = None  # the common prefix whose keys are being passed over
        for record in records:
            cursor = record.key
            if skipping is not None and record.key.startswith(skipping):
                continue
            skipping = None
            common = _common_prefix(record.key, prefix, delimiter)
            if common is not None and common <= after:
                skipping = common  # listed on an earlier page (it ended on it, or inside it)
                continue
            if page.count == max_keys:
                page.truncated = True
                return page
            if common is None:
                page.objects.append(record)
                page.last = record.key
                continue
            page.prefixes.append(common)
            page.last = common
            skipping = common
        if len(records) < batch:
            return page
        if skipping is not None:
            # Every key under `skipping` sorts before this bound, whatever follows the delimiter (a key
            # may continue with U+10FFFF, so "skipping + U+10FFFF" is not past them all).
            resume_at = prefix_range(skipping)[1]
            if resume_at is None:
                return page


def _common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    if not delimiter:
        return None
    index = key.find(delimiter, len(prefix))
    return None if index < 0 else key[: index + len(delimiter)]


def max_keys_argument(value: str | None, *, default: int, name: str = "max-keys") -> int:
    """A page size parameter: a whole number from 1 to 1000 (InvalidArgument otherwise)."""
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_KEYS_LIMIT:
        raise INVALID_ARGUMENT(
            f"{name} must be a whole number from 1 to {MAX_KEYS_LIMIT}, got {value!r}.",
            ArgumentName=name,
            ArgumentValue=value,
        )
    return int(value)


def encode_token(last: str) -> str:
    """An opaque continuation token for ListObjectsV2 (URL-safe base64 of where the page ended)."""
    return base64.urlsafe_b64encode(last.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise INVALID_ARGUMENT(
            "The continuation-token is not one this service issued; pass NextContinuationToken as given.",
            ArgumentName="continuation-token",
        ) from None

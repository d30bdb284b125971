"""What the OSS client returns, and the rules it checks before sending anything.

Plain NamedTuples (and one frozen dataclass, `ObjectInfo`, whose metadata needs a default factory) rather
than pydantic models: they are built from headers and XML we already validated, they are handed around a lot
(listings of thousands of objects), and every function imports them (a NamedTuple is the cheapest record to
define at cold start, see ARCHITECTURE.md).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import mimetypes
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple
from urllib.parse import unquote

import httpx

from shared.clients.xmlsafe import child, child_text, child_texts, children, parse_xml
from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_KEY_MAX_BYTES = 1023
_META_NAME = re.compile(r"[A-Za-z0-9-]+")
_META_VALUE = re.compile(r"[\x20-\x7e]*")
_META_MAX_BYTES = 8 * 1024
_META_PREFIX = "x-oss-meta-"
# Types OSS should serve our own outputs with; the standard table misses or varies on several of them.
_CONTENT_TYPES = {
    ".aac": "audio/aac",
    ".ac3": "audio/ac3",
    ".amr": "audio/amr",
    ".flac": "audio/flac",
    ".json": "application/json",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".opus": "audio/opus",
    ".pcm": "audio/L16",
    ".srt": "application/x-subrip",
    ".txt": "text/plain; charset=utf-8",
    ".vtt": "text/vtt",
    ".wav": "audio/wav",
    ".wma": "audio/x-ms-wma",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class PutObjectResult(NamedTuple):
    etag: str
    request_id: str | None


@dataclass(frozen=True)
class ObjectInfo:
    """An object's size, ETag (quotes removed), type, modification time and user metadata."""

    size: int
    etag: str
    content_type: str | None
    last_modified: datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> ObjectInfo:
        """Read HEAD/GET headers. For a ranged GET the size is the full object's (from Content-Range)."""
        size = _int_or_zero(headers.get("content-length"))
        content_range = headers.get("content-range", "")
        if "/" in content_range:
            total = content_range.rsplit("/", 1)[1]
            if total.isdigit():
                size = int(total)
        metadata = {
            name[len(_META_PREFIX) :]: value
            for name, value in headers.items()
            if name.lower().startswith(_META_PREFIX)
        }
        return cls(
            size=size,
            etag=strip_etag(headers.get("etag", "")),
            content_type=headers.get("content-type"),
            last_modified=parse_http_date(headers.get("last-modified")),
            metadata=metadata,
            request_id=headers.get("x-oss-request-id"),
        )


class ObjectSummary(NamedTuple):
    """One entry of a listing."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None
    storage_class: str | None = None


class ListResult(NamedTuple):
    """One page of ListObjectsV2: objects, folded prefixes, and the token for the next page."""

    objects: tuple[ObjectSummary, ...]
    common_prefixes: tuple[str, ...]
    next_token: str | None
    is_truncated: bool
    key_count: int = 0


def _summary(fields: dict[str, str], name: Callable[[str], str]) -> ObjectSummary:
    return ObjectSummary(
        key=name(fields.get("Key", "")),
        size=_int_or_zero(fields.get("Size", "")),
        etag=strip_etag(fields.get("ETag", "")),
        last_modified=parse_iso_time(fields.get("LastModified", "")),
        storage_class=fields.get("StorageClass") or None,
    )


def parse_list_objects_v2(body: bytes) -> ListResult:
    """Parse `<ListBucketResult>`; URL-decodes names when the answer says `<EncodingType>url`.

    Raises ValueError (with the reason) when the document is not a listing.
    """
    root = parse_xml(body)
    if not root.tag.endswith("ListBucketResult"):
        raise ValueError(f"expected ListBucketResult, got {root.tag}")
    url_encoded = child_text(root, "EncodingType").lower() == "url"

    def name(text: str) -> str:
        return unquote(text) if url_encoded else text

    objects = tuple(_summary(child_texts(entry), name) for entry in children(root, "Contents"))
    prefixes = tuple(
        name(child_text(entry, "Prefix"))
        for entry in children(root, "CommonPrefixes")
        if child(entry, "Prefix") is not None
    )
    truncated = child_text(root, "IsTruncated").lower() == "true"
    token = name(child_text(root, "NextContinuationToken")) or None
    if truncated and token is None:
        raise ValueError("IsTruncated is true but NextContinuationToken is missing")
    key_count = _int_or_zero(child_text(root, "KeyCount")) or len(objects) + len(prefixes)
    return ListResult(objects, prefixes, token if truncated else None, truncated, key_count)


# Validation --------------------------------------------------------------------------------------------


def check_bucket(bucket: object, operation: str) -> str:
    if not isinstance(bucket, str) or not _BUCKET_NAME.fullmatch(bucket):
        raise InvalidRequestError.single(
            "bucket",
            "bucket_name",
            "must be 3-63 lower-case letters, digits or hyphens, starting and ending with a letter or digit, "
            f"got {bucket!r}",
            operation,
        )
    return bucket


def check_key(key: object, operation: str, field_name: str = "key") -> str:
    if not isinstance(key, str) or not key:
        raise InvalidRequestError.single(field_name, "required", "must be a non-empty object key", operation)
    if key.startswith(("/", "\\")):
        raise InvalidRequestError.single(
            field_name, "object_key", "must not start with '/' or '\\'", operation
        )
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidRequestError.single(field_name, "utf8", "must be valid UTF-8 text", operation) from None
    if size > _KEY_MAX_BYTES:
        raise InvalidRequestError.single(
            field_name, "max_bytes", f"must be at most {_KEY_MAX_BYTES} bytes in UTF-8, got {size}", operation
        )
    return key


def metadata_headers(metadata: Mapping[str, str] | None, operation: str) -> dict[str, str]:
    """`{"lang": "en"}` -> `{"x-oss-meta-lang": "en"}`, refusing what HTTP headers cannot carry."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise InvalidRequestError.single(
            "metadata", "mapping", "must be a mapping of names to values", operation
        )
    headers: dict[str, str] = {}
    total = 0
    for name, value in metadata.items():
        where = f"metadata.{name}"
        if not isinstance(name, str) or not _META_NAME.fullmatch(name):
            raise InvalidRequestError.single(
                where, "metadata_name", "names may hold only ASCII letters, digits and hyphens", operation
            )
        if not isinstance(value, str) or not _META_VALUE.fullmatch(value):
            raise InvalidRequestError.single(
                where,
                "metadata_value",
                "values must be printable ASCII (encode other text, e.g. percent-encode it)",
                operation,
            )
        total += len(name) + len(value)
        headers[_META_PREFIX + name.lower()] = value
    if total > _META_MAX_BYTES:
        raise InvalidRequestError.single(
            "metadata", "max_bytes", f"names and values must total at most {_META_MAX_BYTES} bytes", operation
        )
    return headers


def check_content_md5(value: object, operation: str) -> str:
    """A Content-MD5 header value: standard base64 of the 16-byte digest."""
    if not isinstance(value, str):
        raise InvalidRequestError.single("content_md5", "base64_md5", "must be a base64 string", operation)
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise InvalidRequestError.single(
            "content_md5", "base64_md5", "must be the base64 of a 16-byte MD5 digest", operation
        )
    return value


def guess_content_type(key: str) -> str:
    """A Content-Type from the key's extension; deterministic (no system mime.types files are read)."""
    dot = key.rfind(".")
    extension = key[dot:].lower() if dot > key.rfind("/") else ""
    if extension in _CONTENT_TYPES:
        return _CONTENT_TYPES[extension]
    guessed = mimetypes.types_map.get(extension) if extension else None
    return guessed or DEFAULT_CONTENT_TYPE


def is_path_style_host(host: str) -> bool:
    """IP addresses and single-label hosts (localhost, a compose service) have no per-bucket DNS names."""
    if "." not in host or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def encode_query(params: list[tuple[str, str | None]]) -> str:
    """RFC 3986 query string in the given order; None writes a bare name."""
    return "&".join(
        percent_encode(name) if value is None else f"{percent_encode(name)}={percent_encode(value)}"
        for name, value in params
    )


def check_listing_text(value: object, field_name: str, operation: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError.single(field_name, "string", "must be a string", operation)
    if len(value.encode("utf-8", errors="replace")) > _KEY_MAX_BYTES:
        raise InvalidRequestError.single(
            field_name, "max_bytes", f"must be at most {_KEY_MAX_BYTES} bytes in UTF-8", operation
        )
    return value


def range_header(byte_range: object, operation: str) -> str:
    """`(first, last)` inclusive, or `(first, None)` to the end, as a Range header value."""
    if not (isinstance(byte_range, tuple) and len(byte_range) == 2):
        raise InvalidRequestError.single(
            "byte_range", "pair", "must be a (first, last) pair of byte offsets", operation
        )
    first, last = byte_range
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise InvalidRequestError.single("byte_range", "first", "first must be a byte offset >= 0", operation)
    if last is None:
        return f"bytes={first}-"
    if isinstance(last, bool) or not isinstance(last, int) or last < first:
        raise InvalidRequestError.single(
            "byte_range", "last", "last must be an offset >= first, or None", operation
        )
    return f"bytes={first}-{last}"


def check_limit(max_bytes: object, operation: str) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise InvalidRequestError.single(
            "max_bytes", "positive", "must be a positive number of bytes", operation
        )
    return max_bytes


# Small parsers -----------------------------------------------------------------------------------------


def strip_etag(value: str) -> str:
    return value.strip().strip('"')


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_iso_time(value: str) -> datetime | None:
    """`2012-02-24T08:42:32.000Z` as an aware datetime (Python 3.10's fromisoformat refuses the `Z`)."""
    if not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _int_or_zero(value: str | None) -> int:
    return int(value) if value and value.strip().isdigit() else 0

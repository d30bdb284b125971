"""OSS wire details shared by the handlers: headers, dates, XML documents, errors, Content-MD5, ranges.

The formats are the ones the official SDKs parse (oss2 2.19, alibabacloud-oss-v2 1.4): quoted upper-case
MD5 ETags, `Last-Modified` as an HTTP date, ISO times ending `.000Z` in XML, and error documents
`<Error><Code/><Message/><RequestId/><HostId/>…</Error>`. A HEAD answer has no body, so its error document
travels base64-encoded in `x-oss-err`, as OSS sends it and both SDKs read it.

    >>> iso_time(0)
    '1970-01-01T00:00:00.000Z'
    >>> element("Key", "a<b")
    '<Key>a&lt;b</Key>'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from typing import IO
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from localcloud.ports import ObjectRecord
from localcloud.services.base import ServiceHttpError, xml_text
from localcloud.services.oss.errors import (
    INVALID_ARGUMENT,
    INVALID_DIGEST,
    INVALID_RANGE,
    MALFORMED_XML,
    MISSING_CONTENT_LENGTH,
)
from shared.errors import InvalidRequestError

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
META_PREFIX = "x-oss-meta-"
SERVER_NAME = "AliyunOSS"
MAX_METADATA_BYTES = 8 * 1024
_CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# What a header value cannot hold: a line break ends the header (and could start another), and the other
# control characters (tab aside) are refused by HTTP servers and clients alike.
_HEADER_BREAKING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


# --- text and times --------------------------------------------------------------------------------------


def http_date(timestamp: float) -> str:
    """`Wed, 15 Jan 2025 08:30:45 GMT`."""
    return formatdate(timestamp, usegmt=True)


def iso_time(timestamp: float) -> str:
    """`2025-01-15T08:30:45.000Z`: OSS keeps whole seconds and oss2 insists on the `.000Z` ending."""
    return datetime.fromtimestamp(int(timestamp), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def element(name: str, value: object) -> str:
    return f"<{name}>{xml_text(value)}</{name}>"


def elements(pairs: Iterable[tuple[str, object]]) -> str:
    return "".join(element(name, value) for name, value in pairs)


def xml_document(root: str, body: str) -> bytes:
    return f"{XML_DECLARATION}<{root}>{body}</{root}>".encode()


def encode_name(name: str, url_encoded: bool) -> str:
    """A key or prefix as a listing writes it: percent-encoded with `encoding-type=url` (`/` kept)."""
    return quote(name, safe="/") if url_encoded else name


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


# --- responses -------------------------------------------------------------------------------------------


def base_headers(request_id: str) -> dict[str, str]:
    return {"x-oss-request-id": request_id, "Server": SERVER_NAME}


def xml_response(root: str, body: str, request_id: str, status: int = 200) -> Response:
    return Response(
        xml_document(root, body),
        status=status,
        headers=base_headers(request_id),
        content_type="application/xml",
    )


def empty_response(request_id: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(b"", status=status, headers={**base_headers(request_id), **(headers or {})})
    response.headers["Content-Length"] = "0"
    response.headers.pop("Content-Type", None)
    return response


def error_document(error: ServiceHttpError, request_id: str, host_id: str) -> bytes:
    fields = [
        ("Code", error.code),
        ("Message", error.message),
        ("RequestId", request_id),
        ("HostId", host_id),
    ]
    fields += list(error.extra.items())
    return xml_document("Error", elements(fields))


def error_response(error: ServiceHttpError, request_id: str, *, host_id: str, head: bool) -> Response:
    """The error as OSS answers it; for HEAD the document goes in `x-oss-err` instead of the body."""
    document = error_document(error, request_id, host_id)
    headers = base_headers(request_id)
    if head:
        headers["x-oss-err"] = base64.b64encode(document).decode("ascii")
        response = Response(b"", status=error.status, headers=headers, content_type="application/xml")
        response.headers["Content-Length"] = "0"
        return response
    return Response(document, status=error.status, headers=headers, content_type="application/xml")


def invalid_argument(exc: InvalidRequestError) -> ServiceHttpError:
    """An InvalidRequestError from the shared layer as OSS's 400 InvalidArgument, naming field and rule."""
    described = "; ".join(
        f"{problem.field} ({problem.rule}): {problem.message}" if problem.field else problem.message
        for problem in exc.problems
    )
    return INVALID_ARGUMENT(described, ArgumentName=exc.problems[0].field)


def malformed_xml(detail: str) -> ServiceHttpError:
    return MALFORMED_XML(f"The XML you provided was not well-formed or did not validate: {detail}.")


def object_headers(record: ObjectRecord) -> dict[str, str]:
    """What GetObject and HeadObject say about an object (Content-Length is set by the caller)."""
    headers = {
        "ETag": record.quoted_etag,
        "Last-Modified": http_date(record.last_modified),
        "Content-Type": _wire_text(record.content_type),
        "Accept-Ranges": "bytes",
        "x-oss-object-type": "Multipart" if record.is_multipart else "Normal",
        "x-oss-storage-class": "Standard",
    }
    if not record.is_multipart:
        headers["Content-MD5"] = base64.b64encode(bytes.fromhex(record.etag)).decode("ascii")
    if record.crc64 is not None:
        headers["x-oss-hash-crc64ecma"] = str(record.crc64)
    for name, value in record.metadata.items():
        headers[META_PREFIX + name] = _wire_text(value)
    return headers


def header_value(text: str, field: str) -> str:
    """Text from a form field or query parameter as a response header value: UTF-8 on the wire.

    WSGI carries header bytes as latin-1 text, so the UTF-8 bytes are spelled that way (a character
    outside latin-1 would otherwise fail the response after it began). InvalidArgument naming `field` when
    the text holds a line break or another control character.
    """
    if _HEADER_BREAKING.search(text):
        raise INVALID_ARGUMENT(
            f"{field} must not hold line breaks or other control characters.",
            ArgumentName=field,
        )
    return text.encode("utf-8").decode("latin-1")


def check_header_name(name: str, field: str) -> str:
    """A name to be sent as a header name (x-oss-meta-<name>): an HTTP token, InvalidArgument if not."""
    if not _HEADER_NAME.fullmatch(name):
        raise INVALID_ARGUMENT(
            f"{field}: a metadata name must be letters, digits and -_.!#$%&'*+^`|~ only.",
            ArgumentName=field,
        )
    return name


def _wire_text(value: str) -> str:
    # Values stored from request headers already are latin-1 spellings of their bytes; anything else
    # (text handed over by another service) goes out as UTF-8 rather than failing the response.
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8").decode("latin-1")
    return value


# --- request headers -------------------------------------------------------------------------------------


def content_md5(request: Request) -> bytes | None:
    """The decoded Content-MD5 header, None when absent; InvalidDigest when it is not a base64 MD5."""
    value = request.headers.get("Content-MD5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise INVALID_DIGEST(
            "The Content-MD5 you specified was invalid: it must be the base64 of a 16-byte MD5 digest.",
            ContentMD5=value,
        )
    return digest


def user_metadata(request: Request) -> dict[str, str]:
    """`x-oss-meta-*` headers as {name: value}, names lower-case without the prefix (at most 8 KB in all)."""
    metadata = {
        name.lower()[len(META_PREFIX) :]: value
        for name, value in request.headers.items()
        if name.lower().startswith(META_PREFIX)
    }
    total = sum(len(name) + len(value) for name, value in metadata.items())
    if total > MAX_METADATA_BYTES:
        raise INVALID_ARGUMENT(
            f"User metadata (x-oss-meta-*) may total at most {MAX_METADATA_BYTES} bytes; got {total}.",
            ArgumentName="x-oss-meta-*",
        )
    return metadata


def request_body(request: Request) -> IO[bytes]:
    """The body stream of an upload; OSS needs its length (or chunked transfer encoding)."""
    chunked = bool(request.environ.get("wsgi.input_terminated"))
    if request.content_length is None and not chunked:
        raise MISSING_CONTENT_LENGTH("You must provide the Content-Length HTTP header.")
    return request.stream


def read_small_body(request: Request, limit: int, what: str) -> bytes:
    """A whole (XML or form) body of at most `limit` bytes, checked against Content-MD5 when given."""
    if request.content_length is not None and request.content_length > limit:
        raise INVALID_ARGUMENT(f"The {what} must be at most {limit} bytes.")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise INVALID_ARGUMENT(f"The {what} must be at most {limit} bytes.")
    expected = content_md5(request)
    if expected is not None and hashlib.md5(data).digest() != expected:
        raise INVALID_DIGEST("The Content-MD5 you specified did not match what we received.")
    return data


def byte_range(request: Request, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes a `Range: bytes=a-b` header asks for, or None for the whole object.

    A header OSS cannot use (several ranges, not bytes, malformed) is ignored and the whole object served.
    So, by default, is a range that does not lie within the object (OSS ignores it: 200, whole object).
    With `x-oss-range-behavior: standard` (what alibabacloud-oss-v2's downloader sends) a range running
    past the end is cut at the end, and one starting past the end is 416 InvalidRange.
    """
    header = request.headers.get("Range")
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    standard = request.headers.get("x-oss-range-behavior", "").strip().lower() == "standard"
    if not first_text:  # suffix range: the last N bytes
        length = int(last_text)
        if length > size and not standard:
            return None
        if length == 0 or size == 0:  # no byte to serve
            raise _invalid_range(header, size)
        return max(0, size - length), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:  # malformed: ignored
        return None
    if first >= size:
        if standard:
            raise _invalid_range(header, size)
        return None
    if last >= size and not standard:
        return None
    return first, min(last, size - 1)


def _invalid_range(header: str, size: int) -> ServiceHttpError:
    return INVALID_RANGE(
        f"The requested range cannot be satisfied: {header!r} on an object of {size} bytes.",
        RangeRequested=header,
        ActualObjectSize=str(size),
    )


def parse_http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def file_chunks(handle: IO[bytes], length: int) -> Iterator[bytes]:
    """Stream `length` bytes from an already positioned file, closing it at the end (or when abandoned)."""
    try:
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()

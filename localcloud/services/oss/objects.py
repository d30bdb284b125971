"""Object handlers: PutObject, CopyObject, GetObject (ranges, conditions), HeadObject, DeleteObject.

Bodies stream between the socket and the blob store in 1 MiB chunks; nothing holds an object in memory.
Every object created here is announced with `store.notify_created` (ObjectCreated:PutObject or
ObjectCreated:CopyObject), which is how the local FC runtime raises OSS trigger events.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from localcloud.ports import ObjectCreated, ObjectRecord
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss import wire
from localcloud.services.oss.errors import (
    INVALID_ARGUMENT,
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    SERVICE_UNAVAILABLE,
)
from localcloud.state import BlobInfo
from shared.clients.oss_models import guess_content_type

if TYPE_CHECKING:
    from localcloud.services.oss.call import Call, OssParts

# How many times a reader looks an object up again when an overwrite removed its body in between.
_OPEN_ATTEMPTS = 5
_COPY_CHUNK = 1 << 20
# GetObject query parameters that override response headers (used by presigned download links).
_RESPONSE_OVERRIDES = {
    "response-content-type": "Content-Type",
    "response-content-language": "Content-Language",
    "response-expires": "Expires",
    "response-cache-control": "Cache-Control",
    "response-content-disposition": "Content-Disposition",
    "response-content-encoding": "Content-Encoding",
}


def put_or_copy_object(service: OssParts, call: Call) -> Response:
    if "x-oss-copy-source" in call.request.headers:
        return copy_object(service, call)
    return put_object(service, call)


def put_object(service: OssParts, call: Call) -> Response:
    """PUT /<bucket>/<key>: the body, streamed to disk; Content-MD5 checked; x-oss-meta-* kept."""
    request = call.request
    service.store.require_bucket(call.bucket)  # before reading a possibly large body
    expected_md5 = wire.content_md5(request)
    metadata = wire.user_metadata(request)
    record = service.store.put_stream(
        call.bucket,
        call.key,
        wire.request_body(request),
        content_type=request.headers.get("Content-Type") or guess_content_type(call.key),
        metadata=metadata,
        forbid_overwrite=wire.is_true(request.headers.get("x-oss-forbid-overwrite")),
        expected_md5=expected_md5,
    )
    _announce(service, call, "ObjectCreated:PutObject", record)
    return wire.empty_response(call.request_id, headers=_written_headers(record))


def copy_object(service: OssParts, call: Call) -> Response:
    """PUT with `x-oss-copy-source: /<bucket>/<url-encoded key>`; metadata COPY (default) or REPLACE."""
    request = call.request
    source_bucket, source_key = _copy_source(request.headers["x-oss-copy-source"])
    directive = request.headers.get("x-oss-metadata-directive", "COPY").strip().upper()
    if directive not in ("COPY", "REPLACE"):
        raise INVALID_ARGUMENT(
            f"x-oss-metadata-directive must be COPY or REPLACE, got {directive!r}.",
            ArgumentName="x-oss-metadata-directive",
        )
    replaced_metadata = wire.user_metadata(request) if directive == "REPLACE" else None
    service.store.require_bucket(call.bucket)
    source, source_body = _open_current(service, source_bucket, source_key)
    with source_body:
        _check_copy_conditions(request.headers, source)
        blob = _copied_blob(service, source, source_body)
    if replaced_metadata is None:
        content_type, metadata = source.content_type, dict(source.metadata)
    else:
        content_type = request.headers.get("Content-Type") or guess_content_type(call.key)
        metadata = replaced_metadata
    record = service.store.commit_blob(
        call.bucket,
        call.key,
        blob,
        etag=source.etag,
        content_type=content_type,
        metadata=metadata,
        forbid_overwrite=wire.is_true(request.headers.get("x-oss-forbid-overwrite")),
        crc64=source.crc64,
    )
    _announce(service, call, "ObjectCreated:CopyObject", record)
    body = wire.elements(
        [("ETag", record.quoted_etag), ("LastModified", wire.iso_time(record.last_modified))]
    )
    response = wire.xml_response("CopyObjectResult", body, call.request_id)
    response.headers.update(_written_headers(record))
    return response


def get_object(service: OssParts, call: Call) -> Response:
    """GET: the object streamed from disk; `Range: bytes=a-b` answers 206 with Content-Range."""
    request = call.request
    overrides = {
        header: wire.header_value(request.args[parameter], parameter)
        for parameter, header in _RESPONSE_OVERRIDES.items()
        if parameter in request.args
    }
    record, handle = _open_current(service, call.bucket, call.key)
    try:
        not_modified = _check_conditions(request.headers, record)
        span = wire.byte_range(request, record.size)
    except BaseException:
        handle.close()
        raise
    if not_modified is not None:
        handle.close()
        return wire.empty_response(call.request_id, 304, {"ETag": record.quoted_etag})
    headers = {**wire.base_headers(call.request_id), **wire.object_headers(record)}
    status, length = 200, record.size
    if span is not None:
        first, last = span
        handle.seek(first)
        status, length = 206, last - first + 1
        headers["Content-Range"] = f"bytes {first}-{last}/{record.size}"
        # Both describe the whole object; a client checking them against a part would fail.
        headers.pop("x-oss-hash-crc64ecma", None)
        headers.pop("Content-MD5", None)
    headers.update(overrides)
    response = Response(
        wire.file_chunks(handle, length), status=status, headers=headers, direct_passthrough=True
    )
    response.headers["Content-Length"] = str(length)
    return response


def head_object(service: OssParts, call: Call) -> Response:
    """HEAD: GetObject's headers and no body; errors are a bare status plus `x-oss-err`."""
    record = service.store.head(call.bucket, call.key)
    if _check_conditions(call.request.headers, record) is not None:
        return wire.empty_response(call.request_id, 304, {"ETag": record.quoted_etag})
    headers = {**wire.base_headers(call.request_id), **wire.object_headers(record)}
    response = Response(b"", status=200, headers=headers)
    response.headers["Content-Length"] = str(record.size)
    return response


def delete_object(service: OssParts, call: Call) -> Response:
    """DELETE: 204 whether or not the object existed (the bucket must exist)."""
    service.store.delete(call.bucket, call.key)
    return wire.empty_response(call.request_id, 204)


# --- helpers --------------------------------------------------------------------------------------------


def _open_current(service: OssParts, bucket: str, key: str) -> tuple[ObjectRecord, BinaryIO]:
    """The object and an open handle on its body (the caller closes it).

    An overwrite deletes the blob the previous version named, possibly between the look-up and the open:
    look again, so a reader gets the old body or the new one and never NoSuchKey for an object that exists.
    """
    for _ in range(_OPEN_ATTEMPTS):
        record = service.store.head(bucket, key)  # NoSuchKey once the object itself is gone
        try:
            return record, open(record.path, "rb")  # the caller owns (and closes) the handle
        except FileNotFoundError:
            continue
    raise SERVICE_UNAVAILABLE(f"{key!r} is being overwritten continuously; retry the request.")


def _copied_blob(service: OssParts, source: ObjectRecord, body: BinaryIO) -> BlobInfo:
    """A new blob holding the source's bytes (a copy, so the source may change or go meanwhile)."""
    state = service.state
    temporary = state.new_temp_path(".copy")
    try:
        with open(temporary, "wb") as out:
            shutil.copyfileobj(body, out, _COPY_CHUNK)
        known_md5 = None if source.is_multipart else bytes.fromhex(source.etag)
        return state.adopt_file(temporary, size=source.size if known_md5 else None, md5_digest=known_md5)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _announce(service: OssParts, call: Call, event_name: str, record: ObjectRecord) -> None:
    service.store.notify_created(ObjectCreated(event_name, record, call.request_id, source_ip=call.source_ip))


def _written_headers(record: ObjectRecord) -> dict[str, str]:
    headers = {"ETag": record.quoted_etag}
    if record.crc64 is not None:
        headers["x-oss-hash-crc64ecma"] = str(record.crc64)
    if not record.is_multipart:
        headers["Content-MD5"] = wire.object_headers(record)["Content-MD5"]
    return headers


def _copy_source(header: str) -> tuple[str, str]:
    """`/bucket/url-encoded%20key[?versionId=…]` → (bucket, key)."""
    path = unquote(header.strip().split("?", 1)[0])
    bucket, _, key = path.lstrip("/").partition("/")
    if not bucket or not key:
        raise INVALID_ARGUMENT(
            f"x-oss-copy-source must be /<bucket>/<url-encoded key>, got {header!r}.",
            ArgumentName="x-oss-copy-source",
        )
    return bucket, key


def _check_conditions(headers: Headers, record: ObjectRecord) -> int | None:
    """If-Match / If-Unmodified-Since (412) and If-None-Match / If-Modified-Since (304 returned)."""
    return _evaluate(
        record,
        if_match=headers.get("If-Match"),
        if_none_match=headers.get("If-None-Match"),
        if_modified_since=headers.get("If-Modified-Since"),
        if_unmodified_since=headers.get("If-Unmodified-Since"),
    )


def _check_copy_conditions(headers: Headers, source: ObjectRecord) -> None:
    outcome = _evaluate(
        source,
        if_match=headers.get("x-oss-copy-source-if-match"),
        if_none_match=headers.get("x-oss-copy-source-if-none-match"),
        if_modified_since=headers.get("x-oss-copy-source-if-modified-since"),
        if_unmodified_since=headers.get("x-oss-copy-source-if-unmodified-since"),
    )
    if outcome is not None:
        raise NOT_MODIFIED("The copy source has not been modified.")


def _evaluate(
    record: ObjectRecord,
    *,
    if_match: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    if_unmodified_since: str | None,
) -> int | None:
    etag = record.etag.upper()
    if if_match is not None and _etags(if_match) and etag not in _etags(if_match) and "*" not in if_match:
        raise _precondition_failed("If-Match")
    unmodified_since = wire.parse_http_date(if_unmodified_since)
    if unmodified_since is not None and int(record.last_modified) > unmodified_since:
        raise _precondition_failed("If-Unmodified-Since")
    if if_none_match is not None and (etag in _etags(if_none_match) or if_none_match.strip() == "*"):
        return 304
    modified_since = wire.parse_http_date(if_modified_since)
    if modified_since is not None and int(record.last_modified) <= modified_since:
        return 304
    return None


def _etags(header: str) -> set[str]:
    return {part.strip().strip('"').upper() for part in header.split(",") if part.strip()}


def _precondition_failed(condition: str) -> ServiceHttpError:
    return PRECONDITION_FAILED(
        "At least one of the pre-conditions you specified did not hold.",
        Condition=condition,
    )

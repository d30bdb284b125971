"""Multipart upload handlers: Initiate, UploadPart, Complete, Abort, ListParts, ListMultipartUploads.

What oss2's resumable upload and alibabacloud-oss-v2's uploader need: UploadPart answers the part's ETag
and CRC-64, ListParts lets a resumed upload skip finished parts, and CompleteMultipartUpload answers the
object's ETag and combined CRC-64 so both SDKs can check the whole upload. `x-oss-complete-all: yes`
completes with every uploaded part, as OSS allows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

from werkzeug.wrappers import Response

from localcloud.ports import ObjectCreated
from localcloud.services.oss import wire
from localcloud.services.oss.errors import INVALID_ARGUMENT, NOT_IMPLEMENTED
from localcloud.services.oss.listing import max_keys_argument
from localcloud.services.oss.multipart import MAX_PART_NUMBER, check_part_number
from localcloud.services.oss.store import check_object_key
from shared.clients.oss_models import guess_content_type
from shared.clients.xmlsafe import UnsafeXmlError, child, child_text, children, local_name, parse_xml

if TYPE_CHECKING:
    from localcloud.services.oss.call import Call, OssParts

_COMPLETE_BODY_LIMIT = 2 * 1024 * 1024  # 10,000 parts at ~80 bytes each, with room to spare


def initiate_upload(service: OssParts, call: Call) -> Response:
    """POST ?uploads: Content-Type, x-oss-meta-* and x-oss-forbid-overwrite will apply to the object."""
    request = call.request
    check_object_key(call.key)
    upload_id = service.uploads.initiate(
        call.bucket,
        call.key,
        content_type=request.headers.get("Content-Type") or guess_content_type(call.key),
        metadata=wire.user_metadata(request),
        forbid_overwrite=wire.is_true(request.headers.get("x-oss-forbid-overwrite")),
    )
    url_encoded = _url_encoded(call)
    fields: list[tuple[str, object]] = [
        ("Bucket", call.bucket),
        ("Key", wire.encode_name(call.key, url_encoded)),
        ("UploadId", upload_id),
    ]
    if url_encoded:
        fields.append(("EncodingType", "url"))
    return wire.xml_response("InitiateMultipartUploadResult", wire.elements(fields), call.request_id)


def upload_part(service: OssParts, call: Call) -> Response:
    """PUT ?partNumber=N&uploadId=ID: one part (1-10000), Content-MD5 checked; the same number replaces."""
    request = call.request
    if "x-oss-copy-source" in request.headers:
        raise NOT_IMPLEMENTED(
            "localcloud's OSS does not implement UploadPartCopy (x-oss-copy-source with partNumber).",
        )
    upload_id = _required(call, "uploadId")
    number = check_part_number(_required(call, "partNumber"))
    service.uploads.get(upload_id, call.bucket, call.key)
    part = service.uploads.put_part(
        upload_id, number, wire.request_body(request), expected_md5=wire.content_md5(request)
    )
    headers = {"ETag": part.quoted_etag}
    if part.crc64 is not None:
        headers["x-oss-hash-crc64ecma"] = str(part.crc64)
    return wire.empty_response(call.request_id, headers=headers)


def complete_upload(service: OssParts, call: Call) -> Response:
    """POST ?uploadId=ID with `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`."""
    request = call.request
    upload_id = call.request.args["uploadId"]
    service.uploads.get(upload_id, call.bucket, call.key)
    document = wire.read_small_body(request, _COMPLETE_BODY_LIMIT, "CompleteMultipartUpload document")
    complete_all = request.headers.get("x-oss-complete-all", "").strip().lower() == "yes"
    if complete_all and document.strip():
        raise INVALID_ARGUMENT(
            "x-oss-complete-all: yes completes with every uploaded part; send no part list with it.",
            ArgumentName="x-oss-complete-all",
        )
    chosen = None if complete_all else _part_list(document)
    record = service.uploads.complete(
        upload_id, chosen, forbid_overwrite=wire.is_true(request.headers.get("x-oss-forbid-overwrite"))
    )
    service.store.notify_created(
        ObjectCreated(
            "ObjectCreated:CompleteMultipartUpload", record, call.request_id, source_ip=call.source_ip
        )
    )
    url_encoded = _url_encoded(call)
    fields: list[tuple[str, object]] = []
    if url_encoded:
        fields.append(("EncodingType", "url"))
    fields += [
        ("Location", f"http://{request.host}/{call.bucket}/{wire.encode_name(call.key, True)}"),
        ("Bucket", call.bucket),
        ("Key", wire.encode_name(call.key, url_encoded)),
        ("ETag", record.quoted_etag),
    ]
    response = wire.xml_response("CompleteMultipartUploadResult", wire.elements(fields), call.request_id)
    response.headers["ETag"] = record.quoted_etag
    if record.crc64 is not None:
        response.headers["x-oss-hash-crc64ecma"] = str(record.crc64)
    return response


def abort_upload(service: OssParts, call: Call) -> Response:
    upload_id = call.request.args["uploadId"]
    service.uploads.get(upload_id, call.bucket, call.key)
    service.uploads.abort(upload_id)
    return wire.empty_response(call.request_id, 204)


def list_parts(service: OssParts, call: Call) -> Response:
    """GET ?uploadId=ID: the parts so far, `max-parts` (default 1000) after `part-number-marker`."""
    args = call.request.args
    upload_id = args["uploadId"]
    service.uploads.get(upload_id, call.bucket, call.key)
    max_parts = max_keys_argument(args.get("max-parts"), default=1000, name="max-parts")
    marker_text = args.get("part-number-marker", "") or "0"
    if not (marker_text.isascii() and marker_text.isdigit()) or int(marker_text) > MAX_PART_NUMBER:
        raise INVALID_ARGUMENT(
            f"part-number-marker must be a part number from 0 to {MAX_PART_NUMBER}, got {marker_text!r}.",
            ArgumentName="part-number-marker",
        )
    marker = int(marker_text)
    parts = service.uploads.parts(upload_id, after=marker, limit=max_parts + 1)
    truncated = len(parts) > max_parts
    parts = parts[:max_parts]
    url_encoded = _url_encoded(call)
    fields: list[tuple[str, object]] = [
        ("Bucket", call.bucket),
        ("Key", wire.encode_name(call.key, url_encoded)),
        ("UploadId", upload_id),
        ("StorageClass", "Standard"),
        ("PartNumberMarker", marker),
        ("NextPartNumberMarker", parts[-1].part_number if parts else marker),
        ("MaxParts", max_parts),
        ("IsTruncated", str(truncated).lower()),
    ]
    if url_encoded:
        fields.append(("EncodingType", "url"))
    entries = "".join(
        "<Part>"
        + wire.elements(
            [
                ("PartNumber", part.part_number),
                ("LastModified", wire.iso_time(part.last_modified)),
                ("ETag", part.quoted_etag),
                *([("HashCrc64ecma", part.crc64)] if part.crc64 is not None else []),
                ("Size", part.size),
            ]
        )
        + "</Part>"
        for part in parts
    )
    return wire.xml_response("ListPartsResult", wire.elements(fields) + entries, call.request_id)


def list_uploads(service: OssParts, call: Call) -> Response:
    """GET /<bucket>/?uploads: uploads in progress under `prefix`, after key-marker/upload-id-marker."""
    args = call.request.args
    service.store.require_bucket(call.bucket)
    prefix = args.get("prefix", "")
    key_marker, id_marker = args.get("key-marker", ""), args.get("upload-id-marker", "")
    max_uploads = max_keys_argument(args.get("max-uploads"), default=1000, name="max-uploads")
    # A key marker alone skips every upload of that key: no upload id sorts after U+FFFF.
    found = service.uploads.uploads(call.bucket, prefix=prefix, after=(key_marker, id_marker or "\uffff"))
    truncated = len(found) > max_uploads
    found = found[:max_uploads]
    url_encoded = _url_encoded(call)
    last_key, last_id = (found[-1].key, found[-1].upload_id) if truncated else ("", "")
    fields: list[tuple[str, object]] = [
        ("Bucket", call.bucket),
        ("KeyMarker", wire.encode_name(key_marker, url_encoded)),
        ("UploadIdMarker", id_marker),
        ("NextKeyMarker", wire.encode_name(last_key, url_encoded)),
        ("NextUploadIdMarker", last_id),
        ("Delimiter", ""),
        ("Prefix", wire.encode_name(prefix, url_encoded)),
        ("MaxUploads", max_uploads),
        ("IsTruncated", str(truncated).lower()),
    ]
    if url_encoded:
        fields.append(("EncodingType", "url"))
    entries = "".join(
        "<Upload>"
        + wire.elements(
            [
                ("Key", wire.encode_name(upload.key, url_encoded)),
                ("UploadId", upload.upload_id),
                ("StorageClass", "Standard"),
                ("Initiated", wire.iso_time(upload.created_at)),
            ]
        )
        + "</Upload>"
        for upload in found
    )
    return wire.xml_response("ListMultipartUploadsResult", wire.elements(fields) + entries, call.request_id)


# --- helpers --------------------------------------------------------------------------------------------


def _part_list(document: bytes) -> list[tuple[int, str]]:
    try:
        root = parse_xml(document)
    except (ParseError, UnsafeXmlError) as exc:
        raise wire.malformed_xml(str(exc)) from None
    if local_name(root.tag) != "CompleteMultipartUpload":
        raise wire.malformed_xml(f"the root element is {local_name(root.tag)}, not CompleteMultipartUpload")
    chosen: list[tuple[int, str]] = []
    for index, part in enumerate(children(root, "Part")):
        number_text = child_text(part, "PartNumber").strip()
        if child(part, "ETag") is None or not (number_text.isascii() and number_text.isdigit()):
            raise wire.malformed_xml(f"Part {index + 1} needs a numeric PartNumber and an ETag")
        chosen.append((int(number_text), child_text(part, "ETag")))
    if not chosen:
        raise wire.malformed_xml("CompleteMultipartUpload lists no Part")
    return chosen


def _required(call: Call, name: str) -> str:
    value = call.request.args.get(name)
    if not value:
        raise INVALID_ARGUMENT(
            f"UploadPart needs both partNumber and uploadId; {name} is missing.",
            ArgumentName=name,
        )
    return value


def _url_encoded(call: Call) -> bool:
    value = call.request.args.get("encoding-type")
    if value in (None, "", "url"):
        return value == "url"
    raise INVALID_ARGUMENT(
        f"encoding-type must be url (or absent), got {value!r}.",
        ArgumentName="encoding-type",
    )

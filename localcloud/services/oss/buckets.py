"""Bucket handlers: PutBucket, DeleteBucket, ListBuckets, ListObjects (V1 and V2), GetBucketInfo,
GetBucketLocation, GetBucketAcl and DeleteMultipleObjects.

Listing documents carry every element oss2 and alibabacloud-oss-v2 read (oss2 insists on Type, Size,
StorageClass and LastModified in each entry); with `encoding-type=url` keys, prefixes, markers and tokens
are percent-encoded and `<EncodingType>url</EncodingType>` says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

from werkzeug.wrappers import Response

from localcloud.ports import ObjectRecord
from localcloud.services.base import xml_text
from localcloud.services.oss import wire
from localcloud.services.oss.errors import BUCKET_NOT_EMPTY, INVALID_ARGUMENT
from localcloud.services.oss.listing import (
    ListingPage,
    decode_token,
    encode_token,
    list_page,
    max_keys_argument,
)
from shared.clients.xmlsafe import UnsafeXmlError, child_text, children, local_name, parse_xml

if TYPE_CHECKING:
    from localcloud.services.oss.call import Call, OssParts

_MAX_DELETE_KEYS = 1000
_SMALL_BODY = 1024 * 1024


def create_bucket(service: OssParts, call: Call) -> Response:
    """PUT /<bucket>: creating a bucket you already own succeeds again (the body, if any, is ignored)."""
    wire.read_small_body(call.request, _SMALL_BODY, "CreateBucketConfiguration document")
    service.store.create_bucket(call.bucket)
    return wire.empty_response(call.request_id, headers={"Location": f"/{call.bucket}"})


def delete_bucket(service: OssParts, call: Call) -> Response:
    service.store.require_bucket(call.bucket)
    if service.uploads.has_uploads(call.bucket):
        raise BUCKET_NOT_EMPTY(
            "The bucket you tried to delete is not empty: multipart uploads are still in progress "
            "(abort them first).",
            BucketName=call.bucket,
        )
    service.store.delete_bucket(call.bucket)
    return wire.empty_response(call.request_id, 204)


def head_bucket(service: OssParts, call: Call) -> Response:
    service.store.require_bucket(call.bucket)
    return wire.empty_response(call.request_id)


def list_buckets(service: OssParts, call: Call) -> Response:
    """GET /: ListAllMyBucketsResult, with prefix, marker and max-keys paging."""
    args = call.request.args
    prefix, marker = args.get("prefix", ""), args.get("marker", "")
    max_keys = max_keys_argument(args.get("max-keys"), default=100)
    chosen = [(name, created) for name, created in service.store.list_buckets() if name.startswith(prefix)]
    chosen = [(name, created) for name, created in chosen if name > marker]
    truncated = len(chosen) > max_keys
    chosen = chosen[:max_keys]
    endpoint = _endpoint(call)
    entries = "".join(
        "<Bucket>"
        + wire.elements(
            [
                ("CreationDate", wire.iso_time(created)),
                ("ExtranetEndpoint", endpoint),
                ("IntranetEndpoint", endpoint),
                ("Location", f"oss-{service.config.region}"),
                ("Name", name),
                ("Region", service.config.region),
                ("StorageClass", "Standard"),
            ]
        )
        + "</Bucket>"
        for name, created in chosen
    )
    head = wire.elements([("Prefix", prefix), ("Marker", marker), ("MaxKeys", max_keys)])
    head += wire.element("IsTruncated", str(truncated).lower())
    if truncated:
        head += wire.element("NextMarker", chosen[-1][0])
    body = head + _owner(service) + f"<Buckets>{entries}</Buckets>"
    return wire.xml_response("ListAllMyBucketsResult", body, call.request_id)


def list_objects_any(service: OssParts, call: Call) -> Response:
    """GET /<bucket>/: ListObjectsV2 with `list-type=2`, ListObjects (V1) otherwise."""
    list_type = call.request.args.get("list-type")
    if list_type == "2":
        return list_objects_v2(service, call)
    if list_type not in (None, "", "1"):
        raise INVALID_ARGUMENT(
            f"list-type must be 2 (or absent), got {list_type!r}.",
            ArgumentName="list-type",
        )
    return list_objects(service, call)


def list_objects(service: OssParts, call: Call) -> Response:
    """ListObjects (V1): prefix, delimiter, marker, max-keys (default 100), encoding-type."""
    args = call.request.args
    url_encoded = _url_encoded(args.get("encoding-type"))
    prefix, delimiter, marker = args.get("prefix", ""), args.get("delimiter", ""), args.get("marker", "")
    max_keys = max_keys_argument(args.get("max-keys"), default=100)
    service.store.require_bucket(call.bucket)
    page = list_page(
        service.store, call.bucket, prefix=prefix, delimiter=delimiter, after=marker, max_keys=max_keys
    )

    def name(text: str) -> str:
        return wire.encode_name(text, url_encoded)

    fields: list[tuple[str, object]] = [
        ("Name", call.bucket),
        ("Prefix", name(prefix)),
        ("Marker", name(marker)),
        ("MaxKeys", max_keys),
        ("Delimiter", name(delimiter)),
    ]
    if url_encoded:
        fields.append(("EncodingType", "url"))
    fields.append(("IsTruncated", str(page.truncated).lower()))
    if page.truncated:
        fields.append(("NextMarker", name(page.last)))
    body = wire.elements(fields) + _entries(service, page, url_encoded, with_owner=True)
    return wire.xml_response("ListBucketResult", body, call.request_id)


def list_objects_v2(service: OssParts, call: Call) -> Response:
    """ListObjectsV2: prefix, delimiter, start-after, continuation-token, max-keys, encoding-type, and
    fetch-owner. The continuation token is opaque: URL-safe base64 of the last key or prefix listed.
    """
    args = call.request.args
    url_encoded = _url_encoded(args.get("encoding-type"))
    prefix, delimiter = args.get("prefix", ""), args.get("delimiter", "")
    start_after = args.get("start-after", "")
    token = args.get("continuation-token")
    max_keys = max_keys_argument(args.get("max-keys"), default=100)
    service.store.require_bucket(call.bucket)
    after = decode_token(token) if token else start_after
    page = list_page(
        service.store, call.bucket, prefix=prefix, delimiter=delimiter, after=after, max_keys=max_keys
    )

    def name(text: str) -> str:
        return wire.encode_name(text, url_encoded)

    fields: list[tuple[str, object]] = [("Name", call.bucket), ("Prefix", name(prefix))]
    if start_after:
        fields.append(("StartAfter", name(start_after)))
    if token:
        fields.append(("ContinuationToken", token))
    fields += [("MaxKeys", max_keys), ("Delimiter", name(delimiter))]
    if url_encoded:
        fields.append(("EncodingType", "url"))
    fields.append(("IsTruncated", str(page.truncated).lower()))
    fields.append(("KeyCount", page.count))
    if page.truncated:
        fields.append(("NextContinuationToken", encode_token(page.last)))
    with_owner = wire.is_true(args.get("fetch-owner"))
    body = wire.elements(fields) + _entries(service, page, url_encoded, with_owner=with_owner)
    return wire.xml_response("ListBucketResult", body, call.request_id)


def get_location(service: OssParts, call: Call) -> Response:
    service.store.require_bucket(call.bucket)
    return wire.xml_response("LocationConstraint", xml_text(f"oss-{service.config.region}"), call.request_id)


def get_bucket_acl(service: OssParts, call: Call) -> Response:
    service.store.require_bucket(call.bucket)
    body = _owner(service) + "<AccessControlList><Grant>private</Grant></AccessControlList>"
    return wire.xml_response("AccessControlPolicy", body, call.request_id)


def get_bucket_info(service: OssParts, call: Call) -> Response:
    """GET /<bucket>/?bucketInfo: the facts localcloud has (creation time, region, endpoints)."""
    service.store.require_bucket(call.bucket)
    created = dict(service.store.list_buckets())[call.bucket]
    endpoint = _endpoint(call)
    fields = wire.elements(
        [
            ("AccessMonitor", "Disabled"),
            ("CreationDate", wire.iso_time(created)),
            ("ExtranetEndpoint", endpoint),
            ("IntranetEndpoint", endpoint),
            ("Location", f"oss-{service.config.region}"),
            ("StorageClass", "Standard"),
            ("TransferAcceleration", "Disabled"),
            ("CrossRegionReplication", "Disabled"),
            ("Name", call.bucket),
            ("DataRedundancyType", "LRS"),
            ("Versioning", ""),
            ("Comment", ""),
        ]
    )
    body = (
        "<Bucket>"
        + fields
        + _owner(service)
        + "<AccessControlList><Grant>private</Grant></AccessControlList>"
        + "<ServerSideEncryptionRule><SSEAlgorithm>None</SSEAlgorithm></ServerSideEncryptionRule>"
        + "<BucketPolicy><LogBucket></LogBucket><LogPrefix></LogPrefix></BucketPolicy>"
        + "</Bucket>"
    )
    return wire.xml_response("BucketInfo", body, call.request_id)


def delete_multiple_objects(service: OssParts, call: Call) -> Response:
    """POST /<bucket>/?delete with `<Delete><Quiet/><Object><Key/></Object>…</Delete>` (at most 1000 keys)."""
    service.store.require_bucket(call.bucket)
    document = wire.read_small_body(call.request, 2 * _SMALL_BODY, "Delete document")
    try:
        root = parse_xml(document)
    except (ParseError, UnsafeXmlError) as exc:
        raise wire.malformed_xml(str(exc)) from None
    if local_name(root.tag) != "Delete":
        raise wire.malformed_xml(f"the root element is {local_name(root.tag)}, not Delete")
    keys = [child_text(entry, "Key") for entry in children(root, "Object")]
    if not keys or len(keys) > _MAX_DELETE_KEYS or not all(keys):
        raise wire.malformed_xml(
            f"list 1 to {_MAX_DELETE_KEYS} <Object><Key>…</Key></Object> entries, each with a key"
        )
    quiet = wire.is_true(child_text(root, "Quiet"))
    for key in keys:
        service.store.delete(call.bucket, key)
    url_encoded = _url_encoded(call.request.args.get("encoding-type"))
    body = wire.element("EncodingType", "url") if url_encoded else ""
    if not quiet:
        body += "".join(
            "<Deleted>" + wire.element("Key", wire.encode_name(key, url_encoded)) + "</Deleted>"
            for key in keys
        )
    return wire.xml_response("DeleteResult", body, call.request_id)


# --- helpers --------------------------------------------------------------------------------------------


def _entries(service: OssParts, page: ListingPage, url_encoded: bool, *, with_owner: bool) -> str:
    owner = _owner(service) if with_owner else ""
    contents = "".join(_contents(record, url_encoded, owner) for record in page.objects)
    prefixes = "".join(
        "<CommonPrefixes>"
        + wire.element("Prefix", wire.encode_name(prefix, url_encoded))
        + "</CommonPrefixes>"
        for prefix in page.prefixes
    )
    return contents + prefixes


def _contents(record: ObjectRecord, url_encoded: bool, owner: str) -> str:
    fields = wire.elements(
        [
            ("Key", wire.encode_name(record.key, url_encoded)),
            ("LastModified", wire.iso_time(record.last_modified)),
            ("ETag", record.quoted_etag),
            ("Type", "Multipart" if record.is_multipart else "Normal"),
            ("Size", record.size),
            ("StorageClass", "Standard"),
        ]
    )
    return f"<Contents>{fields}{owner}</Contents>"


def _owner(service: OssParts) -> str:
    account = service.config.account_id
    return "<Owner>" + wire.elements([("ID", account), ("DisplayName", account)]) + "</Owner>"


def _endpoint(call: Call) -> str:
    return call.request.host


def _url_encoded(value: str | None) -> bool:
    if value in (None, ""):
        return False
    if value != "url":
        raise INVALID_ARGUMENT(
            f"encoding-type must be url (or absent), got {value!r}.",
            ArgumentName="encoding-type",
        )
    return True

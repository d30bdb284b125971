"""PostObject: `POST /<bucket>/` with a multipart/form-data body (browser uploads), signed by a policy.

The form carries `key` (`${filename}` is replaced by the uploaded file's name), a base64 JSON `policy`
and its signature, optional `Content-Type`, `x-oss-meta-*`, `x-oss-forbid-overwrite` and
`success_action_status` (200, 201 with a `PostResponse` document, or 204, the default), then `file`.

    V1  OSSAccessKeyId, Signature = base64(HMAC-SHA1(secret, policy))
    V4  x-oss-signature-version=OSS4-HMAC-SHA256, x-oss-credential=<AK>/<day>/<region>/oss/aliyun_v4_request,
        x-oss-date, x-oss-signature = hex(HMAC-SHA256(V4 signing key, policy))

The policy's `expiration` must lie ahead and its conditions must hold: `{"field": value}` and
`["eq", "$field", value]` (exact), `["starts-with", "$field", prefix]`, `["in"|"not-in", "$field", [...]]`
and `["content-length-range", min, max]`. A form without a policy is refused (localcloud has no public
buckets). The object is announced as ObjectCreated:PostObject.

    >>> httpx.post(f"{endpoint}/media/", data={"key": "in/${filename}", "policy": policy,   # doctest: +SKIP
    ...            "OSSAccessKeyId": ak, "Signature": signature}, files={"file": ("a.wav", data)}).status_code
    204
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from localcloud.config import LocalCloudConfig
from localcloud.ports import ObjectCreated
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss import wire
from localcloud.services.oss.errors import (
    ACCESS_DENIED,
    INVALID_ACCESS_KEY_ID,
    INVALID_ARGUMENT,
    SIGNATURE_DOES_NOT_MATCH,
)
from shared.auth import OSS_V4_ALGORITHM, oss_v1_signature, oss_v4_signature, oss_v4_signing_key
from shared.clients.oss_models import guess_content_type

if TYPE_CHECKING:
    from localcloud.services.oss.call import Call, OssParts

_SUCCESS_STATUSES = {"200": 200, "201": 201, "204": 204}


def is_post_object(request: Request, key: str) -> bool:
    return request.method == "POST" and not key and request.mimetype == "multipart/form-data"


def post_object(service: OssParts, call: Call) -> Response:
    """Authenticate the form by its policy, check the policy's conditions, store the file."""
    request = call.request
    form = {name.lower(): value for name, value in request.form.items()}
    upload = request.files.get("file")
    if upload is None:
        raise _invalid("file", "The form has no file field (it must come last in the body).")
    if "key" not in form or not form["key"]:
        raise _invalid("key", "The form has no key field naming the object.")
    key = form["key"].replace("${filename}", upload.filename or "")
    call.ctx.access_key_id = _verify_signature(form, service.config)
    size = _size_of(upload)
    _check_policy(form, bucket=call.bucket, key=key, size=size)
    service.store.require_bucket(call.bucket)
    # Form fields are text; what is served back as headers is stored as header values (UTF-8 bytes).
    content_type = form.get("content-type") or upload.mimetype or guess_content_type(key)
    metadata = {
        wire.check_header_name(name[len(wire.META_PREFIX) :], name): wire.header_value(value, name)
        for name, value in form.items()
        if name.startswith(wire.META_PREFIX)
    }
    record = service.store.put_stream(
        call.bucket,
        key,
        upload.stream,
        content_type=wire.header_value(content_type, "Content-Type"),
        metadata=metadata,
        forbid_overwrite=wire.is_true(form.get("x-oss-forbid-overwrite")),
    )
    service.store.notify_created(
        ObjectCreated("ObjectCreated:PostObject", record, call.request_id, source_ip=call.source_ip)
    )
    headers = {"ETag": record.quoted_etag}
    if record.crc64 is not None:
        headers["x-oss-hash-crc64ecma"] = str(record.crc64)
    status = _SUCCESS_STATUSES.get(form.get("success_action_status", ""), 204)
    if status != 201:
        return wire.empty_response(call.request_id, status, headers)
    body = wire.elements(
        [
            ("Bucket", call.bucket),
            ("Location", f"http://{request.host}/{call.bucket}/{wire.encode_name(key, True)}"),
            ("Key", key),
            ("ETag", record.quoted_etag),
        ]
    )
    response = wire.xml_response("PostResponse", body, call.request_id, status=201)
    response.headers.update(headers)
    return response


def _verify_signature(form: Mapping[str, str], config: LocalCloudConfig) -> str:
    policy = form.get("policy")
    if not policy:
        raise ACCESS_DENIED(
            "PostObject needs a policy and its signature: anonymous uploads are not allowed.",
        )
    if form.get("x-oss-signature-version") == OSS_V4_ALGORITHM:
        parts = form.get("x-oss-credential", "").split("/")
        if len(parts) != 5:
            raise _invalid(
                "x-oss-credential", "x-oss-credential must be <AK>/<day>/<region>/oss/aliyun_v4_request."
            )
        access_key_id, day, region = parts[0], parts[1], parts[2]
        secret = _secret(config, access_key_id)
        expected = oss_v4_signature(oss_v4_signing_key(secret, day, region), policy)
        given = form.get("x-oss-signature", "")
    else:
        access_key_id = form.get("ossaccesskeyid", "")
        if not access_key_id:
            raise _invalid(
                "OSSAccessKeyId", "A signed form names its OSSAccessKeyId (V1) or x-oss-credential (V4)."
            )
        expected = oss_v1_signature(_secret(config, access_key_id), policy)
        given = form.get("signature", "")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SIGNATURE_DOES_NOT_MATCH(
            "The request signature we calculated does not match the signature you provided.",
            StringToSign=policy,
        )
    return access_key_id


def _secret(config: LocalCloudConfig, access_key_id: str) -> str:
    secret = config.secret_for(access_key_id)
    if secret is None:
        raise INVALID_ACCESS_KEY_ID(
            "The OSS Access Key Id you provided does not exist in our records.",
            OSSAccessKeyId=access_key_id,
        )
    return secret


def _check_policy(form: Mapping[str, str], *, bucket: str, key: str, size: int) -> None:
    try:
        document = json.loads(base64.b64decode(form["policy"], validate=True))
    except (binascii.Error, ValueError):
        raise _invalid("policy", "The policy is not base64-encoded JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("conditions", []), list):
        raise _invalid("policy", 'The policy must be {"expiration": "...", "conditions": [...]}.')
    try:
        expiration = datetime.strptime(str(document.get("expiration")), "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise _invalid(
            "policy", "The policy's expiration must be written like 2030-01-01T12:00:00.000Z."
        ) from None
    if expiration.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc):
        raise ACCESS_DENIED("Invalid according to Policy: Policy expired.")
    values = {**form, "bucket": bucket, "key": key}
    for condition in document.get("conditions", []):
        _check_condition(condition, values, size)


def _check_condition(condition: Any, values: Mapping[str, str], size: int) -> None:
    if isinstance(condition, dict):
        for name, expected in condition.items():
            _require(str(values.get(name.lower(), "")) == str(expected), f"{name} must be {expected!r}")
        return
    if not isinstance(condition, list) or len(condition) != 3:
        raise _invalid("policy", f"Unknown policy condition {condition!r}.")
    operator, subject, operand = str(condition[0]).lower(), condition[1], condition[2]
    if operator == "content-length-range":
        low, high = _length_bound(subject), _length_bound(operand)
        if low is None or high is None or high < low:
            raise _invalid(
                "policy",
                f"content-length-range takes two whole numbers of bytes, min <= max; got {condition!r}.",
            )
        _require(low <= size <= high, f"the file size {size} must be {low}-{high} bytes")
        return
    field = str(subject).lstrip("$").lower()
    value = str(values.get(field, ""))
    if operator == "eq":
        _require(value == str(operand), f"{field} must equal {operand!r}")
    elif operator == "starts-with":
        _require(value.startswith(str(operand)), f"{field} must start with {operand!r}")
    elif operator in ("in", "not-in") and isinstance(operand, list):
        _require(
            (value in map(str, operand)) == (operator == "in"), f"{field} must be {operator} {operand!r}"
        )
    else:
        raise _invalid("policy", f"Unknown policy condition {condition!r}.")


def _length_bound(value: Any) -> int | None:
    """A content-length-range bound: a whole number of bytes (JSON number or digits), None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _require(holds: bool, rule: str) -> None:
    if not holds:
        raise ACCESS_DENIED(f"Invalid according to Policy: Policy Condition failed: {rule}.")


def _size_of(upload: FileStorage) -> int:
    stream = upload.stream
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


def _invalid(field: str, message: str) -> ServiceHttpError:
    return INVALID_ARGUMENT(message, ArgumentName=field)

"""Signature verification for every scheme localcloud accepts, reusing the shared signers' pure functions.

A request is authentic when recomputing its signature with the secret of the access key it names gives
the same value. Errors are raised as ServiceHttpError with the codes the real services use, so clients see
the same failures they would see in the cloud.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request

from localcloud.config import LocalCloudConfig
from localcloud.services.base import ErrorCode, ServiceHttpError
from shared.auth import (
    OSS_V1_SUB_RESOURCES,
    OSS_V4_ALGORITHM,
    acs3_canonical_request,
    acs3_signature,
    acs3_string_to_sign,
    mns_signature,
    mns_string_to_sign,
    oss_v1_canonical_resource,
    oss_v1_signature,
    oss_v1_string_to_sign,
    oss_v4_canonical_request,
    oss_v4_scope,
    oss_v4_signature,
    oss_v4_signing_key,
    oss_v4_string_to_sign,
    parse_acs3_authorization,
    parse_mns_authorization,
    parse_oss_v1_authorization,
    parse_oss_v4_authorization,
)
from shared.errors import InvalidRequestError

# How far a signed request's clock may be from ours, as the services allow.
# This module's error catalogue: each code once, with its HTTP status (ErrorCode: a named constructor).
ACCESS_DENIED = ErrorCode(403, "AccessDenied")
INCOMPLETE_SIGNATURE = ErrorCode(400, "IncompleteSignature")
INVALID_ACCESS_KEY_ID = ErrorCode(403, "InvalidAccessKeyId")
INVALID_ACCESS_KEY_ID_NOT_FOUND = ErrorCode(404, "InvalidAccessKeyId.NotFound")
INVALID_ARGUMENT = ErrorCode(400, "InvalidArgument")
INVALID_AUTHORIZATION_HEADER = ErrorCode(400, "InvalidAuthorizationHeader")
INVALID_DATE_HEADER = ErrorCode(400, "InvalidDateHeader")
INVALID_TIME_STAMP_EXPIRED = ErrorCode(400, "InvalidTimeStamp.Expired")
INVALID_TIME_STAMP_FORMAT = ErrorCode(400, "InvalidTimeStamp.Format")
MISSING_AUTHORIZATION = ErrorCode(400, "MissingAuthorization")
MISSING_AUTHORIZATION_HEADER = ErrorCode(400, "MissingAuthorizationHeader")
MISSING_DATE_HEADER = ErrorCode(400, "MissingDateHeader")
REQUEST_ENTITY_TOO_LARGE = ErrorCode(413, "RequestEntityTooLarge")
REQUEST_TIME_TOO_SKEWED = ErrorCode(403, "RequestTimeTooSkewed")
SIGNATURE_DOES_NOT_MATCH = ErrorCode(403, "SignatureDoesNotMatch")
SIGNATURE_DOES_NOT_MATCH_400 = ErrorCode(400, "SignatureDoesNotMatch")
TIME_EXPIRED = ErrorCode(408, "TimeExpired")


MAX_SKEW = timedelta(minutes=15)
# The longest life OSS gives a V4 presigned URL; longer ones are refused, however they were signed.
MAX_V4_PRESIGN_SECONDS = 7 * 24 * 3600
# alibabacloud-oss-v2's SignerV1 signs fewer sub-resources than oss2 (no x-oss-async-process); accept both.
_V2_SDK_V1_SUB_RESOURCES = OSS_V1_SUB_RESOURCES - {"x-oss-async-process"}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def query_pairs(request: Request) -> list[tuple[str, str]]:
    return list(request.args.items(multi=True))


def headers_of(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


# --------------------------------------------------------------------------------------------------- OSS


def verify_oss(
    request: Request,
    config: LocalCloudConfig,
    bucket: str | None,
    key: str | None,
    now: datetime | None = None,
) -> str:
    """Authenticate an OSS request (V4 or V1 header, V4 or V1 presigned URL); returns the access key id."""
    moment = now or _now()
    auth = request.headers.get("Authorization", "")
    args = request.args
    if auth.startswith(OSS_V4_ALGORITHM):
        return _verify_oss_v4_header(request, config, bucket, key, moment)
    if auth.startswith("OSS "):
        return _verify_oss_v1_header(request, config, bucket, key, moment)
    if args.get("x-oss-signature-version") == OSS_V4_ALGORITHM:
        return _verify_oss_v4_presigned(request, config, bucket, key, moment)
    if "OSSAccessKeyId" in args and "Signature" in args:
        return _verify_oss_v1_presigned(request, config, bucket, key, moment)
    raise ACCESS_DENIED("AccessDenied: anonymous access is not allowed; sign the request.")


def _oss_secret(config: LocalCloudConfig, access_key_id: str) -> str:
    secret = config.secret_for(access_key_id)
    if secret is None:
        raise INVALID_ACCESS_KEY_ID(
            "The OSS Access Key Id you provided does not exist in our records.",
            OSSAccessKeyId=access_key_id,
        )
    return secret


def _signature_mismatch(expected_string_to_sign: str) -> ServiceHttpError:
    return SIGNATURE_DOES_NOT_MATCH(
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        StringToSign=expected_string_to_sign,
    )


def _check_skew(moment: datetime, signed_at: datetime) -> None:
    if abs(moment - signed_at) > MAX_SKEW:
        raise REQUEST_TIME_TOO_SKEWED(
            "The difference between the request time and the current time is too large.",
        )


def _parse_basic_timestamp(value: str, field: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise INVALID_ARGUMENT(f"{field} must be written YYYYMMDDTHHMMSSZ, got {value!r}") from None


def _verify_oss_v4_header(
    request: Request, config: LocalCloudConfig, bucket: str | None, key: str | None, moment: datetime
) -> str:
    try:
        parsed = parse_oss_v4_authorization(request.headers["Authorization"])
    except ValueError as exc:
        raise INVALID_ARGUMENT(f"Authorization header is malformed: {exc}") from None
    secret = _oss_secret(config, parsed.access_key_id)
    timestamp = request.headers.get("x-oss-date", "")
    if not timestamp:
        raise ACCESS_DENIED("x-oss-date header is required for V4 signatures.")
    _check_skew(moment, _parse_basic_timestamp(timestamp, "x-oss-date"))
    if timestamp[:8] != parsed.scope_day:
        raise ACCESS_DENIED("The credential date does not match x-oss-date.")
    try:
        scope = oss_v4_scope(parsed.scope_day, parsed.region)
        canonical = oss_v4_canonical_request(
            request.method, bucket, key, query_pairs(request), headers_of(request), parsed.additional_headers
        )
    except InvalidRequestError as exc:
        raise INVALID_ARGUMENT(str(exc)) from None
    string_to_sign = oss_v4_string_to_sign(timestamp, scope, canonical)
    expected = oss_v4_signature(oss_v4_signing_key(secret, parsed.scope_day, parsed.region), string_to_sign)
    if not _same(expected, parsed.signature):
        raise _signature_mismatch(string_to_sign)
    return parsed.access_key_id


def _verify_oss_v4_presigned(
    request: Request, config: LocalCloudConfig, bucket: str | None, key: str | None, moment: datetime
) -> str:
    args = request.args
    credential = args.get("x-oss-credential", "")
    parts = credential.split("/")
    if len(parts) != 5:
        raise INVALID_ARGUMENT("x-oss-credential is malformed.")
    access_key_id, day, region = parts[0], parts[1], parts[2]
    secret = _oss_secret(config, access_key_id)
    timestamp = args.get("x-oss-date", "")
    signed_at = _parse_basic_timestamp(timestamp, "x-oss-date")
    try:
        expires = int(args.get("x-oss-expires", ""))
    except ValueError:
        raise INVALID_ARGUMENT("x-oss-expires must be a whole number.") from None
    if not 1 <= expires <= MAX_V4_PRESIGN_SECONDS:
        raise INVALID_ARGUMENT(
            f"x-oss-expires must be 1 to {MAX_V4_PRESIGN_SECONDS} seconds (7 days), got {expires}.",
            ArgumentName="x-oss-expires",
        )
    if moment > signed_at + timedelta(seconds=expires):
        raise ACCESS_DENIED("Request has expired.", Expires=str(expires))
    pairs = [(name, value) for name, value in query_pairs(request) if name != "x-oss-signature"]
    additional = tuple(n for n in args.get("x-oss-additional-headers", "").split(";") if n)
    try:
        scope = oss_v4_scope(day, region)
        canonical = oss_v4_canonical_request(
            request.method, bucket, key, pairs, _presigned_headers(request), additional
        )
    except InvalidRequestError as exc:
        raise INVALID_ARGUMENT(str(exc)) from None
    string_to_sign = oss_v4_string_to_sign(timestamp, scope, canonical)
    expected = oss_v4_signature(oss_v4_signing_key(secret, day, region), string_to_sign)
    if not _same(expected, args.get("x-oss-signature", "")):
        raise _signature_mismatch(string_to_sign)
    return access_key_id


def _presigned_headers(request: Request) -> dict[str, str]:
    # A presigned URL signs x-oss-* headers and content-type/md5 only when the signer was given them; a
    # plain GET from a browser or a recogniser sends none. The content-sha256 header is never part of it.
    return {k: v for k, v in headers_of(request).items() if k != "x-oss-content-sha256"}


def _verify_oss_v1_header(
    request: Request, config: LocalCloudConfig, bucket: str | None, key: str | None, moment: datetime
) -> str:
    try:
        access_key_id, signature = parse_oss_v1_authorization(request.headers["Authorization"])
    except ValueError as exc:
        raise INVALID_ARGUMENT(f"Authorization header is malformed: {exc}") from None
    secret = _oss_secret(config, access_key_id)
    date = request.headers.get("Date", "")
    try:
        _check_skew(moment, parsedate_to_datetime(date))
    except (TypeError, ValueError):
        raise ACCESS_DENIED("A valid Date header is required.") from None
    headers = headers_of(request)
    last = ""
    for sub_resources in (OSS_V1_SUB_RESOURCES, _V2_SDK_V1_SUB_RESOURCES):
        resource = oss_v1_canonical_resource(bucket, key, query_pairs(request), sub_resources=sub_resources)
        last = oss_v1_string_to_sign(
            request.method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            date,
            headers,
            resource,
        )
        if _same(oss_v1_signature(secret, last), signature):
            return access_key_id
    raise _signature_mismatch(last)


def _verify_oss_v1_presigned(
    request: Request, config: LocalCloudConfig, bucket: str | None, key: str | None, moment: datetime
) -> str:
    args = request.args
    access_key_id = args["OSSAccessKeyId"]
    secret = _oss_secret(config, access_key_id)
    try:
        expires_at = int(args.get("Expires", ""))
    except ValueError:
        raise INVALID_ARGUMENT("Expires must be a whole number.") from None
    if moment.timestamp() > expires_at:
        raise ACCESS_DENIED("Request has expired.", Expires=str(expires_at))
    pairs = [(n, v) for n, v in query_pairs(request) if n not in ("OSSAccessKeyId", "Expires", "Signature")]
    headers = headers_of(request)
    string_to_sign = oss_v1_string_to_sign(
        request.method,
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        str(expires_at),
        headers,
        oss_v1_canonical_resource(bucket, key, pairs),
    )
    if not _same(oss_v1_signature(secret, string_to_sign), args["Signature"]):
        raise _signature_mismatch(string_to_sign)
    return access_key_id


# ------------------------------------------------------------------------------------------ ACS3 (IMM, ICE)


def verify_acs3(request: Request, config: LocalCloudConfig, now: datetime | None = None) -> str:
    """Authenticate an OpenAPI V3 request; returns the access key id."""
    auth = request.headers.get("Authorization", "")
    if not auth:
        raise MISSING_AUTHORIZATION("Authorization is mandatory for this action.")
    try:
        access_key_id, signed_headers, signature = parse_acs3_authorization(auth)
    except ValueError as exc:
        raise INCOMPLETE_SIGNATURE(f"The Authorization header is malformed: {exc}") from None
    secret = config.secret_for(access_key_id)
    if secret is None:
        raise INVALID_ACCESS_KEY_ID_NOT_FOUND("Specified access key is not found.")
    headers = headers_of(request)
    body_hash = hashlib.sha256(_rpc_body(request)).hexdigest()
    if headers.get("x-acs-content-sha256", body_hash) != body_hash:
        raise INCOMPLETE_SIGNATURE("x-acs-content-sha256 does not match the body.")
    date = headers.get("x-acs-date", "")
    try:
        signed_at = datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise INVALID_TIME_STAMP_FORMAT("x-acs-date must be YYYY-MM-DDThh:mm:ssZ.") from None
    if abs((now or _now()) - signed_at) > MAX_SKEW:
        raise INVALID_TIME_STAMP_EXPIRED("The x-acs-date is out of the allowed range.")
    try:
        canonical = acs3_canonical_request(
            request.method, request.path, query_pairs(request), headers, signed_headers, body_hash
        )
    except InvalidRequestError as exc:
        raise INCOMPLETE_SIGNATURE(str(exc)) from None
    string_to_sign = acs3_string_to_sign(canonical)
    if not _same(acs3_signature(secret, string_to_sign), signature):
        raise SIGNATURE_DOES_NOT_MATCH_400(
            f"Specified signature does not match our calculation. server string to sign is:{string_to_sign}",
        )
    return access_key_id


# RPC parameters are small; a body beyond this is refused before it is read into memory.
MAX_RPC_BODY_BYTES = 1 << 20


def _rpc_body(request: Request) -> bytes:
    too_large = REQUEST_ENTITY_TOO_LARGE(f"The request body exceeds {MAX_RPC_BODY_BYTES} bytes.")
    if (request.content_length or 0) > MAX_RPC_BODY_BYTES:
        raise too_large
    request.max_content_length = MAX_RPC_BODY_BYTES  # also bounds a chunked body of unknown length
    try:
        return request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None


# --------------------------------------------------------------------------------------------------- MNS


def verify_mns(request: Request, config: LocalCloudConfig, now: datetime | None = None) -> str:
    """Authenticate an MNS request; returns the access key id. Codes and statuses are MNS's own."""
    auth = request.headers.get("Authorization", "")
    if not auth:
        raise MISSING_AUTHORIZATION_HEADER("Authorization header is required.")
    try:
        access_key_id, signature = parse_mns_authorization(auth)
    except ValueError as exc:
        raise INVALID_AUTHORIZATION_HEADER(f"The Authorization header format is invalid: {exc}") from None
    secret = config.secret_for(access_key_id)
    if secret is None:
        raise INVALID_ACCESS_KEY_ID("The AccessKey Id you provided is not exist.")
    date = request.headers.get("Date", "")
    if not date:
        raise MISSING_DATE_HEADER("Date header is required.")
    try:
        signed_at = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise INVALID_DATE_HEADER("The Date header format is invalid.") from None
    if signed_at.tzinfo is None:
        raise INVALID_DATE_HEADER("The Date header must name its zone (GMT).")
    if abs((now or _now()) - signed_at) > MAX_SKEW:
        raise TIME_EXPIRED("The http request you sent is expired.")
    headers = headers_of(request)
    string_to_sign = mns_string_to_sign(
        request.method,
        headers.get("content-md5", ""),
        headers.get("content-type", ""),
        date,
        headers,
        raw_target(request),
    )
    if not _same(mns_signature(secret, string_to_sign), signature):
        raise SIGNATURE_DOES_NOT_MATCH(
            f"The request signature we calculated does not match the signature you provided. "
            f"Our string to sign is: {string_to_sign!r}",
        )
    return access_key_id


def raw_target(request: Request) -> str:
    """Path and query as they went on the wire (MNS signs them undecoded)."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


# --------------------------------------------------------------------------------------------- DashScope


def bearer_key(request: Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None

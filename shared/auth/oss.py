"""OSS signature V4 (`OSS4-HMAC-SHA256`): pure canonicalisation functions, an httpx.Auth, presigned URLs.

The auth class only composes the pure functions, which localcloud reuses to verify what it receives:

    >>> import httpx
    >>> from datetime import datetime, timezone
    >>> auth = OssV4Auth(
    ...     Credentials("AK", "SK"), "cn-hangzhou",
    ...     clock=lambda: datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc),
    ... )
    >>> request = httpx.Request("GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3")
    >>> auth.sign(request)
    >>> request.headers["x-oss-date"]
    '20250115T083045Z'

How the bucket and key of a request are found is described in `shared.auth.oss_target`. The V1 names are
re-exported here for callers that think of "the OSS signers" as one module.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

import httpx

from shared.auth._primitives import (
    QueryInput,
    hmac_sha256,
    lower_headers,
    query_pairs,
    require_text,
    sha256_hex,
    url_query_pairs,
)
from shared.auth.clock import Clock, as_utc, iso8601_basic, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider
from shared.auth.oss_target import object_url, oss_bucket_and_key, validate_expires, validate_presign_target
from shared.auth.oss_v1 import (
    OSS_V1_SUB_RESOURCES,
    OssV1Auth,
    oss_v1_canonical_resource,
    oss_v1_signature,
    oss_v1_string_to_sign,
    parse_oss_v1_authorization,
    presign_oss_v1,
)
from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

__all__ = [
    "OSS_V1_SUB_RESOURCES",
    "OSS_V4_ALGORITHM",
    "OSS_V4_MAX_EXPIRES",
    "UNSIGNED_PAYLOAD",
    "OssV1Auth",
    "OssV4Auth",
    "OssV4AuthorizationHeader",
    "oss_v1_canonical_resource",
    "oss_v1_signature",
    "oss_v1_string_to_sign",
    "oss_v4_additional_header_names",
    "oss_v4_authorization",
    "oss_v4_canonical_query",
    "oss_v4_canonical_request",
    "oss_v4_canonical_uri",
    "oss_v4_region",
    "oss_v4_scope",
    "oss_v4_signature",
    "oss_v4_signing_key",
    "oss_v4_string_to_sign",
    "parse_oss_v1_authorization",
    "parse_oss_v4_authorization",
    "presign_oss_v1",
    "presign_oss_v4",
]

OSS_V4_ALGORITHM = "OSS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
OSS_V4_MAX_EXPIRES = 7 * 24 * 3600  # OSS refuses V4 presigned URLs valid longer than 7 days
_SCOPE_TERMINATOR = "aliyun_v4_request"
_SERVICE = "oss"
_DAY = re.compile(r"[0-9]{8}")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
# Query parameters the presigner writes itself; a caller's copy would be ambiguous.
_PRESIGN_RESERVED = frozenset(
    {
        "x-oss-signature-version",
        "x-oss-date",
        "x-oss-expires",
        "x-oss-credential",
        "x-oss-signature",
        "x-oss-security-token",
        "x-oss-additional-headers",
    }
)


# ---------------------------------------------------------------------------------------------- pure parts
def oss_v4_region(region: str) -> str:
    """The region as written in the scope: `cn-hangzhou`, also when given as `oss-cn-hangzhou`."""
    text = require_text(region, "region").strip().lower().removeprefix("oss-")
    if not text:
        raise InvalidRequestError.single("region", "required", "must name a region such as cn-hangzhou")
    return text


def oss_v4_canonical_uri(bucket: str | None, key: str | None) -> str:
    """`/<bucket>/<key>` encoded keeping `/`; `/<bucket>/` for a bucket, `/` for the service."""
    if not bucket:
        return "/"
    return percent_encode(f"/{bucket}/{key or ''}", keep_slash=True)


def oss_v4_canonical_query(query: QueryInput | None) -> str:
    """Names and values encoded (RFC 3986, `/` too), sorted, `&`-joined; an empty value is a bare name."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in query_pairs(query))
    return "&".join(f"{name}={value}" if value else name for name, value in encoded)


def _is_default_signed(name: str) -> bool:
    return name.startswith("x-oss-") or name in ("content-type", "content-md5")


def oss_v4_additional_header_names(
    headers: Mapping[str, str], additional_headers: Iterable[str] = ()
) -> list[str]:
    """The additional headers that really take part: lower-cased, sorted, present with a value, and not
    already signed by default (x-oss-*, content-type, content-md5)."""
    present = lower_headers(headers)
    if isinstance(additional_headers, str):
        additional_headers = additional_headers.split(";")
    names = {name.strip().lower() for name in additional_headers if name.strip()}
    return sorted(name for name in names if not _is_default_signed(name) and present.get(name))


def oss_v4_canonical_request(  # noqa: PLR0917 - the parts of the canonical request, in order
    method: str,
    bucket: str | None,
    key: str | None,
    query: QueryInput | None,
    headers: Mapping[str, str],
    additional_headers: Iterable[str] = (),
) -> str:
    """`VERB\\nURI\\nQUERY\\nHEADERS\\nADDITIONAL\\nPAYLOAD`, exactly as the OSS SDKs build it.

    `query` holds decoded parameters; `headers` all request headers (the signed ones are picked here).
    The payload line is the `x-oss-content-sha256` header, `UNSIGNED-PAYLOAD` when absent (presigning).
    """
    verb = require_text(method, "method").upper()
    lowered = lower_headers(headers)
    additional = oss_v4_additional_header_names(lowered, additional_headers)
    signed = sorted(
        (name, value) for name, value in lowered.items() if _is_default_signed(name) or name in additional
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed)
    payload = lowered.get("x-oss-content-sha256") or UNSIGNED_PAYLOAD
    return "\n".join(
        [
            verb,
            oss_v4_canonical_uri(bucket, key),
            oss_v4_canonical_query(query),
            canonical_headers,
            ";".join(additional),
            payload,
        ]
    )


def oss_v4_scope(day: str, region: str) -> str:
    """`<YYYYMMDD>/<region>/oss/aliyun_v4_request`."""
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        raise InvalidRequestError.single("day", "yyyymmdd", f"must be a date written YYYYMMDD, got {day!r}")
    return f"{day}/{oss_v4_region(region)}/{_SERVICE}/{_SCOPE_TERMINATOR}"


def oss_v4_string_to_sign(timestamp: str, scope: str, canonical_request: str) -> str:
    """`OSS4-HMAC-SHA256\\n<timestamp>\\n<scope>\\n<hex sha256 of the canonical request>`."""
    return f"{OSS_V4_ALGORITHM}\n{timestamp}\n{scope}\n{sha256_hex(canonical_request)}"


def oss_v4_signing_key(secret: str, day: str, region: str) -> bytes:
    """HMAC-SHA256 chain: ("aliyun_v4" + secret, day) -> region -> "oss" -> "aliyun_v4_request"."""
    key = hmac_sha256(("aliyun_v4" + require_text(secret, "access_key_secret")).encode("utf-8"), day)
    for part in (oss_v4_region(region), _SERVICE, _SCOPE_TERMINATOR):
        key = hmac_sha256(key, part)
    return key


def oss_v4_signature(signing_key: bytes, string_to_sign: str) -> str:
    """Lower-case hex HMAC-SHA256 of the string to sign under the derived signing key."""
    return hmac_sha256(signing_key, string_to_sign).hex()


def oss_v4_authorization(
    access_key_id: str, scope: str, signature: str, additional_headers: Iterable[str] = ()
) -> str:
    """`OSS4-HMAC-SHA256 Credential=<AK>/<scope>[,AdditionalHeaders=a;b],Signature=<sig>` (v2 SDK layout)."""
    parts = [f"Credential={access_key_id}/{scope}"]
    names = list(additional_headers)
    if names:
        parts.append(f"AdditionalHeaders={';'.join(names)}")
    parts.append(f"Signature={signature}")
    return f"{OSS_V4_ALGORITHM} " + ",".join(parts)


class OssV4AuthorizationHeader(NamedTuple):
    """The parts of an `OSS4-HMAC-SHA256` Authorization header, as a server reads them."""

    access_key_id: str
    scope_day: str
    region: str
    service: str
    additional_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.scope_day}/{self.region}/{self.service}/{_SCOPE_TERMINATOR}"


def parse_oss_v4_authorization(header: str) -> OssV4AuthorizationHeader:
    """Read an OSS V4 Authorization header; parts may be separated by `,` (v2 SDK) or `, ` (oss2).

    >>> parse_oss_v4_authorization(
    ...     "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss/aliyun_v4_request, Signature=" + "0" * 64
    ... ).region
    'cn-hangzhou'
    """
    if not isinstance(header, str):
        raise ValueError("Authorization header must be a string")
    scheme, _, rest = header.strip().partition(" ")
    if scheme != OSS_V4_ALGORITHM:
        raise ValueError(f"Authorization header does not start with {OSS_V4_ALGORITHM!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name not in ("Credential", "AdditionalHeaders", "Signature"):
            raise ValueError(f"Authorization header has an unknown or malformed part {part.strip()!r}")
        if name in fields:
            raise ValueError(f"Authorization header repeats {name}")
        fields[name] = value.strip()
    if "Credential" not in fields or "Signature" not in fields:
        raise ValueError("Authorization header needs both Credential= and Signature=")
    credential = fields["Credential"].split("/")
    if len(credential) != 5 or credential[4] != _SCOPE_TERMINATOR or not all(credential):
        raise ValueError("Credential must be <AccessKeyId>/<YYYYMMDD>/<region>/oss/aliyun_v4_request")
    access_key_id, day, region, service, _ = credential
    if not _DAY.fullmatch(day):
        raise ValueError(f"Credential date must be YYYYMMDD, got {day!r}")
    if not _HEX_SIGNATURE.fullmatch(fields["Signature"]):
        raise ValueError("Signature must be 64 lower-case hex digits")
    additional = tuple(name for name in fields.get("AdditionalHeaders", "").split(";") if name)
    if any(name != name.strip().lower() for name in additional):
        raise ValueError("AdditionalHeaders must list lower-case header names separated by ';'")
    return OssV4AuthorizationHeader(access_key_id, day, region, service, additional, fields["Signature"])


# ----------------------------------------------------------------------------------------------- the flow
class OssV4Auth(httpx.Auth):
    """Signs each request with OSS V4 in the Authorization header (payload unsigned, as the SDKs do).

    Sets `x-oss-date`, `x-oss-content-sha256: UNSIGNED-PAYLOAD` (unless the caller set it) and, with STS
    credentials, `x-oss-security-token`. Signs every x-oss-* header, content-type, content-md5 and the
    listed `additional_headers`. `endpoint_host` (host name without port) makes bucket detection exact
    for custom endpoints; see `shared.auth.oss_target`.
    """

    def __init__(
        self,
        credentials: CredentialsProvider | Credentials,
        region: str,
        *,
        clock: Clock = utc_now,
        additional_headers: Iterable[str] = (),
        endpoint_host: str | None = None,
    ) -> None:
        self._credentials = as_provider(credentials)
        self._region = oss_v4_region(region)
        self._clock = clock
        self._additional_headers = tuple(additional_headers)
        self._endpoint_host = endpoint_host

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the date, token and Authorization headers to the request in place."""
        credentials = self._credentials.get_credentials()
        timestamp = iso8601_basic(as_utc(self._clock(), "clock"))
        day = timestamp[:8]
        request.headers["x-oss-date"] = timestamp
        request.headers.setdefault("x-oss-content-sha256", UNSIGNED_PAYLOAD)
        if credentials.security_token:
            request.headers["x-oss-security-token"] = credentials.security_token
        else:
            request.headers.pop("x-oss-security-token", None)  # never sign a stale token
        bucket, key = oss_bucket_and_key(request, endpoint_host=self._endpoint_host)
        additional = oss_v4_additional_header_names(request.headers, self._additional_headers)
        canonical = oss_v4_canonical_request(
            request.method, bucket, key, url_query_pairs(request.url), request.headers, additional
        )
        scope = oss_v4_scope(day, self._region)
        signature = oss_v4_signature(
            oss_v4_signing_key(credentials.access_key_secret, day, self._region),
            oss_v4_string_to_sign(timestamp, scope, canonical),
        )
        request.headers["Authorization"] = oss_v4_authorization(
            credentials.access_key_id, scope, signature, additional
        )

    def __repr__(self) -> str:
        return f"OssV4Auth(region={self._region!r}, credentials={self._credentials!r})"


def presign_oss_v4(
    method: str,
    url_base: str,
    bucket: str,
    key: str,
    *,
    credentials: Credentials,
    region: str,
    expires: int,
    now: datetime,
    path_style: bool,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """A V4 presigned URL, byte for byte as alibabacloud-oss-v2 writes it.

    `url_base` is the endpoint (`https://oss-cn-hangzhou.aliyuncs.com`, or `http://127.0.0.1:9000` with
    `path_style=True`); `expires` is seconds after `now` (1..604800). `headers` (content-type, x-oss-*)
    are signed too and must then be sent with the request.

    >>> from datetime import datetime, timezone
    >>> url = presign_oss_v4(
    ...     "GET", "https://oss-cn-hangzhou.aliyuncs.com", "examplebucket", "src.mp3",
    ...     credentials=Credentials("AK", "SK"), region="cn-hangzhou", expires=3600,
    ...     now=datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc), path_style=False,
    ... )
    >>> url.split("?")[0]
    'https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3'
    """
    verb = validate_presign_target(method, bucket, key)
    seconds = validate_expires(expires, OSS_V4_MAX_EXPIRES)
    if not isinstance(credentials, Credentials):
        raise InvalidRequestError.single("credentials", "credentials", "must be a Credentials value")
    moment = as_utc(now, "now")
    base = object_url(url_base, bucket, key, path_style=path_style)
    user_pairs = query_pairs(query)
    reserved = sorted({name for name, _ in user_pairs if name.lower() in _PRESIGN_RESERVED})
    if reserved:
        raise InvalidRequestError.single(
            "query", "reserved_parameter", f"{', '.join(reserved)} is written by the presigner itself"
        )
    timestamp = iso8601_basic(moment)
    day = timestamp[:8]
    scope = oss_v4_scope(day, region)
    pairs = [
        *user_pairs,
        ("x-oss-signature-version", OSS_V4_ALGORITHM),
        ("x-oss-date", timestamp),
        ("x-oss-expires", str(seconds)),
        ("x-oss-credential", f"{credentials.access_key_id}/{scope}"),
    ]
    if credentials.security_token:
        pairs.append(("x-oss-security-token", credentials.security_token))
    canonical = oss_v4_canonical_request(verb, bucket, key, pairs, headers or {})
    signature = oss_v4_signature(
        oss_v4_signing_key(credentials.access_key_secret, day, region),
        oss_v4_string_to_sign(timestamp, scope, canonical),
    )
    encoded = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}" if value else percent_encode(name)
        for name, value in pairs
    )
    return f"{base}?{encoded}&x-oss-signature={signature}"

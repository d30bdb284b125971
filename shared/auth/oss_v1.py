"""OSS signature V1 (`OSS <AK>:<base64 HMAC-SHA1>`), as oss2 sends it — for old set-ups and for localcloud,
which must accept what the SDKs send. New code should use V4 (`shared.auth.oss`).

String to sign: `VERB\\nContent-MD5\\nContent-Type\\nDate\\n` + sorted `x-oss-*:value\\n` + resource,
where the resource is `/<bucket>/<key>` plus the known sub-resources of the query (raw, sorted).

    >>> oss_v1_canonical_resource("examplebucket", "src.mp3", {"x-oss-async-process": "", "foo": "bar"})
    '/examplebucket/src.mp3?x-oss-async-process'
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import datetime

import httpx

from shared.auth._primitives import QueryInput, hmac_sha1_base64, lower_headers, query_pairs, url_query_pairs
from shared.auth.clock import Clock, as_utc, http_date, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider
from shared.auth.oss_target import object_url, oss_bucket_and_key, validate_expires, validate_presign_target
from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

# The query parameters OSS treats as sub-resources under V1 (the list oss2 2.19 signs); any other
# parameter stays out of the resource. Parameters outside this list are not signed by V1 at all.
OSS_V1_SUB_RESOURCES: frozenset[str] = frozenset(
    {
        "acl", "uploads", "uploadId", "partNumber", "location", "logging", "website", "referer", "lifecycle",
        "delete", "append", "position", "tagging", "objectMeta", "objectInfo", "security-token", "cors",
        "restore", "qos", "stat", "bucketInfo", "live", "comp", "status", "vod", "startTime", "endTime",
        "symlink", "callback", "callback-var", "encryption", "versions", "versioning", "versionId", "policy",
        "requestPayment", "qosInfo", "asyncFetch", "sequential", "inventory", "inventoryId",
        "continuation-token", "worm", "wormId", "wormExtend", "replication", "replicationLocation",
        "replicationProgress", "transferAcceleration", "cname", "metaQuery", "resourceGroup", "style",
        "styleName", "regionList", "bucketArchiveDirectRead", "httpsConfig", "redundancyTransition",
        "accessPoint", "accessPointPolicy", "publicAccessBlock", "requesterQosInfo", "qosRequester",
        "resourcePoolInfo", "resourcePool", "resourcePoolBuckets", "group", "link",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "x-oss-process", "x-oss-async-process", "x-oss-traffic-limit", "x-oss-request-payer",
        "x-oss-ac-source-ip", "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow",
        "x-oss-write-get-object-response", "x-oss-target-redundancy-type",
        "x-oss-redundancy-transition-taskid",
        "x-oss-access-point-name",
    }
)  # fmt: skip
_PRESIGN_RESERVED = frozenset({"OSSAccessKeyId", "Expires", "Signature", "security-token"})


def oss_v1_canonical_resource(
    bucket: str | None,
    key: str | None,
    query: QueryInput | None = None,
    *,
    sub_resources: frozenset[str] = OSS_V1_SUB_RESOURCES,
) -> str:
    """`/<bucket>/<key>` (raw, not encoded) plus `?`-joined sorted sub-resources; `/` for the service.

    alibabacloud-oss-v2's SignerV1 knows fewer sub-resources (no x-oss-async-process): pass its set
    to reproduce it.
    """
    path = f"/{bucket}/{key or ''}" if bucket else "/"
    chosen = sorted((name, value) for name, value in query_pairs(query) if name in sub_resources)
    if not chosen:
        return path
    return path + "?" + "&".join(f"{name}={value}" if value else name for name, value in chosen)


def oss_v1_string_to_sign(  # noqa: PLR0917 - the lines of the string to sign, in order
    method: str, content_md5: str, content_type: str, date: str, headers: Mapping[str, str], resource: str
) -> str:
    """`VERB\\nMD5\\nTYPE\\nDATE\\n` + every x-oss-* header as `name:value\\n`, sorted + resource.

    `date` is the Date header for a signed request and the Expires epoch for a presigned URL.
    """
    oss_headers = sorted(
        (name, value) for name, value in lower_headers(headers).items() if name.startswith("x-oss-")
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in oss_headers)
    return f"{method.upper()}\n{content_md5}\n{content_type}\n{date}\n{canonical_headers}{resource}"


def oss_v1_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret, string to sign))."""
    return hmac_sha1_base64(secret, string_to_sign)


def parse_oss_v1_authorization(header: str) -> tuple[str, str]:
    """`OSS <AK>:<signature>` -> (access key id, signature)."""
    if not isinstance(header, str):
        raise ValueError("Authorization header must be a string")
    scheme, _, rest = header.strip().partition(" ")
    if scheme != "OSS":
        raise ValueError("Authorization header does not start with 'OSS '")
    access_key_id, sep, signature = rest.strip().partition(":")
    if not sep or not access_key_id or not signature:
        raise ValueError("Authorization header must be 'OSS <AccessKeyId>:<Signature>'")
    return access_key_id, signature


class OssV1Auth(httpx.Auth):
    """Signs each request with OSS V1, as oss2 does (token in the signed `x-oss-security-token` header).

    >>> import httpx
    >>> from datetime import datetime, timezone
    >>> auth = OssV1Auth(Credentials("AK", "SK"), clock=lambda: datetime(2025, 1, 15, tzinfo=timezone.utc))
    >>> request = httpx.Request("GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3")
    >>> auth.sign(request)
    >>> request.headers["date"]
    'Wed, 15 Jan 2025 00:00:00 GMT'
    """

    def __init__(
        self,
        credentials: CredentialsProvider | Credentials,
        *,
        clock: Clock = utc_now,
        endpoint_host: str | None = None,
        sub_resources: frozenset[str] = OSS_V1_SUB_RESOURCES,
    ) -> None:
        self._credentials = as_provider(credentials)
        self._clock = clock
        self._endpoint_host = endpoint_host
        self._sub_resources = sub_resources

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the Date, token and Authorization headers to the request in place."""
        credentials = self._credentials.get_credentials()
        request.headers["Date"] = http_date(as_utc(self._clock(), "clock"))
        if credentials.security_token:
            request.headers["x-oss-security-token"] = credentials.security_token
        else:
            request.headers.pop("x-oss-security-token", None)
        bucket, key = oss_bucket_and_key(request, endpoint_host=self._endpoint_host)
        resource = oss_v1_canonical_resource(
            bucket, key, url_query_pairs(request.url), sub_resources=self._sub_resources
        )
        headers = request.headers
        # oss2: an x-oss-date header, when present, stands in for Date.
        date = headers.get("x-oss-date") or headers["Date"]
        string_to_sign = oss_v1_string_to_sign(
            request.method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            date,
            headers,
            resource,
        )
        signature = oss_v1_signature(credentials.access_key_secret, string_to_sign)
        request.headers["Authorization"] = f"OSS {credentials.access_key_id}:{signature}"

    def __repr__(self) -> str:
        return f"OssV1Auth(credentials={self._credentials!r})"


def presign_oss_v1(
    method: str,
    url_base: str,
    bucket: str,
    key: str,
    *,
    credentials: Credentials,
    expires: int,
    now: datetime,
    path_style: bool,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """A V1 presigned URL as oss2 writes it.

    The query is `[<query>&][security-token=..&]OSSAccessKeyId=..&Expires=..&Signature=..`.

    `expires` is seconds after `now`; the URL carries the absolute epoch. `headers` (content-type,
    content-md5, x-oss-*) are signed and must then be sent with the request.

    >>> from datetime import datetime, timezone
    >>> presign_oss_v1(
    ...     "GET", "http://127.0.0.1:9000", "examplebucket", "src.mp3", credentials=Credentials("AK", "SK"),
    ...     expires=60, now=datetime(2025, 1, 15, tzinfo=timezone.utc), path_style=True,
    ... ).split("?")[0]
    'http://127.0.0.1:9000/examplebucket/src.mp3'
    """
    verb = validate_presign_target(method, bucket, key)
    seconds = validate_expires(expires, None)
    if not isinstance(credentials, Credentials):
        raise InvalidRequestError.single("credentials", "credentials", "must be a Credentials value")
    expires_at = str(int(as_utc(now, "now").timestamp()) + seconds)
    base = object_url(url_base, bucket, key, path_style=path_style)
    pairs = query_pairs(query)
    reserved = sorted({name for name, _ in pairs if name in _PRESIGN_RESERVED})
    if reserved:
        raise InvalidRequestError.single(
            "query", "reserved_parameter", f"{', '.join(reserved)} is written by the presigner itself"
        )
    if credentials.security_token:
        pairs.append(("security-token", credentials.security_token))
    signed_headers = lower_headers(headers or {})
    string_to_sign = oss_v1_string_to_sign(
        verb,
        signed_headers.get("content-md5", ""),
        signed_headers.get("content-type", ""),
        expires_at,
        signed_headers,
        oss_v1_canonical_resource(bucket, key, pairs),
    )
    pairs += [
        ("OSSAccessKeyId", credentials.access_key_id),
        ("Expires", expires_at),
        ("Signature", oss_v1_signature(credentials.access_key_secret, string_to_sign)),
    ]
    encoded = "&".join(
        f"{percent_encode(name)}={percent_encode(value)}" if value else percent_encode(name)
        for name, value in pairs
    )
    return f"{base}?{encoded}"

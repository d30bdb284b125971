"""MNS signature: `Authorization: MNS <AK>:base64(HMAC-SHA1(secret, string to sign))`.

String to sign = `VERB\\nContent-MD5\\nContent-Type\\nDate\\n` + sorted `x-mns-*:value\\n` + resource, the
resource being the request target exactly as sent (path and raw query). An STS token travels in the
`security-token` header, outside the signature.

    >>> mns_string_to_sign("GET", "", "", "Wed, 15 Jan 2025 08:30:45 GMT",
    ...                    {"x-mns-version": "2015-06-06"}, "/queues/q/messages?waitseconds=10")
    'GET\\n\\n\\nWed, 15 Jan 2025 08:30:45 GMT\\nx-mns-version:2015-06-06\\n/queues/q/messages?waitseconds=10'
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

import httpx

from shared.auth._primitives import hmac_sha1_base64, lower_headers
from shared.auth.clock import Clock, as_utc, http_date, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider

MNS_VERSION = "2015-06-06"


def mns_string_to_sign(  # noqa: PLR0917 - the lines of the string to sign, in order
    method: str, content_md5: str, content_type: str, date: str, headers: Mapping[str, str], resource: str
) -> str:
    """`VERB\\nMD5\\nTYPE\\nDATE\\n` + every x-mns-* header as `name:value\\n`, sorted + resource."""
    mns_headers = sorted(
        (name, value) for name, value in lower_headers(headers).items() if name.startswith("x-mns-")
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in mns_headers)
    return f"{method.upper()}\n{content_md5}\n{content_type}\n{date}\n{canonical_headers}{resource}"


def mns_signature(secret: str, string_to_sign: str) -> str:
    """base64(HMAC-SHA1(secret, string to sign))."""
    return hmac_sha1_base64(secret, string_to_sign)


def mns_resource(url: httpx.URL) -> str:
    """The request target as it goes on the wire: path plus raw query, no decoding."""
    return url.raw_path.decode("ascii")


def parse_mns_authorization(header: str) -> tuple[str, str]:
    """`MNS <AK>:<signature>` -> (access key id, signature)."""
    if not isinstance(header, str):
        raise ValueError("Authorization header must be a string")
    scheme, _, rest = header.strip().partition(" ")
    if scheme != "MNS":
        raise ValueError("Authorization header does not start with 'MNS '")
    access_key_id, sep, signature = rest.strip().partition(":")
    if not sep or not access_key_id or not signature:
        raise ValueError("Authorization header must be 'MNS <AccessKeyId>:<Signature>'")
    return access_key_id, signature


class MnsAuth(httpx.Auth):
    """Signs each MNS request: sets `date`, `x-mns-version: 2015-06-06` unless present, the Authorization
    header and, with STS credentials, `security-token` (not signed, as the SDK does).

    Content-MD5 is optional for MNS and not added; if the caller sets one it is signed. The resource is
    the URL's raw target, so build the query exactly as it should be signed (the SDK leaves `=` in
    receipt handles unencoded).

    >>> import httpx
    >>> from datetime import datetime, timezone
    >>> auth = MnsAuth(Credentials("AK", "SK"), clock=lambda: datetime(2025, 1, 15, tzinfo=timezone.utc))
    >>> request = httpx.Request("GET", "https://1.mns.cn-hangzhou.aliyuncs.com/queues/q/messages")
    >>> auth.sign(request)
    >>> request.headers["x-mns-version"]
    '2015-06-06'
    """

    def __init__(self, credentials: CredentialsProvider | Credentials, *, clock: Clock = utc_now) -> None:
        self._credentials = as_provider(credentials)
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the date, version, Authorization and token headers to the request in place."""
        credentials = self._credentials.get_credentials()
        headers = request.headers
        headers["date"] = http_date(as_utc(self._clock(), "clock"))
        headers.setdefault("x-mns-version", MNS_VERSION)
        string_to_sign = mns_string_to_sign(
            request.method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            headers["date"],
            headers,
            mns_resource(request.url),
        )
        signature = mns_signature(credentials.access_key_secret, string_to_sign)
        headers["Authorization"] = f"MNS {credentials.access_key_id}:{signature}"
        if credentials.security_token:
            headers["security-token"] = credentials.security_token
        else:
            headers.pop("security-token", None)

    def __repr__(self) -> str:
        return f"MnsAuth(credentials={self._credentials!r})"

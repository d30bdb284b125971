"""Log Service (SLS) signature V1: `Authorization: LOG <AK>:base64(HMAC-SHA1(secret, string to sign))`.

String to sign = `VERB\\nContent-MD5\\nContent-Type\\nDate\\n` + every `x-log-*` / `x-acs-*` header as
`name:value\\n`, sorted by name (`x-log-meta-*` excluded) + the canonical resource: the path, then, when
there is a query, `?` and the sorted `name=value` pairs joined with `&`, unescaped. Content-MD5 is the
upper-case hex MD5 of the body (not base64, unlike OSS and MNS). An STS token travels in
`x-acs-security-token` and is signed. As documented in "Request signatures" of the Log Service API
reference (https://help.aliyun.com/zh/sls/developer-reference/request-signatures) and checked against the
vectors captured from aliyun-log-python-sdk 0.9.52 in tests/unit/auth/test_sls.py.

    >>> sls_string_to_sign("GET", "", "", "Sat, 05 Dec 2026 14:00:00 GMT",
    ...                    {"x-log-apiversion": "0.6.0"}, "/logstores", {"size": "100", "offset": "0"})
    'GET\\n\\n\\nSat, 05 Dec 2026 14:00:00 GMT\\nx-log-apiversion:0.6.0\\n/logstores?offset=0&size=100'
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Mapping
from urllib.parse import unquote

import httpx

from shared.auth._primitives import hmac_sha1_base64, lower_headers
from shared.auth.clock import Clock, as_utc, http_date, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider

SLS_API_VERSION = "0.6.0"
_SIGNED_PREFIXES = ("x-log-", "x-acs-")
_UNSIGNED_PREFIX = "x-log-meta-"


def sls_content_md5(body: bytes) -> str:
    """Upper-case hex MD5 of the body, as Log Service wants it in Content-MD5."""
    return hashlib.md5(body).hexdigest().upper()  # the protocol's checksum, not a secret


def sls_canonical_resource(path: str, query: Mapping[str, str]) -> str:
    """`/path` plus `?a=1&b=2` with the pairs sorted and unescaped (none: the bare path)."""
    if not query:
        return path
    return path + "?" + "&".join(f"{name}={value}" for name, value in sorted(query.items()))


def sls_string_to_sign(  # noqa: PLR0917 - the lines of the string to sign, in order
    method: str,
    content_md5: str,
    content_type: str,
    date: str,
    headers: Mapping[str, str],
    path: str,
    query: Mapping[str, str] | None = None,
) -> str:
    signed = sorted(
        (name, value)
        for name, value in lower_headers(headers).items()
        if name.startswith(_SIGNED_PREFIXES) and not name.startswith(_UNSIGNED_PREFIX)
    )
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in signed)
    resource = sls_canonical_resource(path, query or {})
    return f"{method.upper()}\n{content_md5}\n{content_type}\n{date}\n{canonical_headers}{resource}"


class SlsAuth(httpx.Auth):
    """Signs each Log Service request in place: Date (and x-log-date, which some proxies need because
    they drop Date), API version, signature method, body size, Content-MD5 of a non-empty body, the
    Authorization header and, with STS credentials, `x-acs-security-token`.

    >>> from datetime import datetime, timezone
    >>> auth = SlsAuth(Credentials("AK", "SK"), clock=lambda: datetime(2026, 12, 5, tzinfo=timezone.utc))
    >>> request = httpx.Request("GET", "https://audiochain-logs.cn-hangzhou.log.aliyuncs.com/")
    >>> auth.sign(request)
    >>> request.headers["Authorization"].startswith("LOG AK:")
    True
    """

    requires_request_body = True

    def __init__(self, credentials: CredentialsProvider | Credentials, *, clock: Clock = utc_now) -> None:
        self._credentials = as_provider(credentials)
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        credentials = self._credentials.get_credentials()
        headers = request.headers
        body = request.content
        date = http_date(as_utc(self._clock(), "clock"))
        headers.pop("x-log-date", None)  # a retry re-signs: the copy added below is never signed
        headers["Date"] = date
        headers["x-log-apiversion"] = SLS_API_VERSION
        headers["x-log-signaturemethod"] = "hmac-sha1"
        headers["x-log-bodyrawsize"] = str(len(body))
        if body:
            headers["Content-MD5"] = sls_content_md5(body)
        if credentials.security_token:
            headers["x-acs-security-token"] = credentials.security_token
        else:
            headers.pop("x-acs-security-token", None)
        query = {
            unquote(name): unquote(value)
            for name, _, value in (
                pair.partition("=") for pair in request.url.query.decode("ascii").split("&") if pair
            )
        }
        string_to_sign = sls_string_to_sign(
            request.method,
            headers.get("Content-MD5", ""),
            headers.get("Content-Type", ""),
            date,
            headers,
            unquote(request.url.path),
            query,
        )
        signature = hmac_sha1_base64(credentials.access_key_secret, string_to_sign)
        headers["Authorization"] = f"LOG {credentials.access_key_id}:{signature}"
        headers["x-log-date"] = date  # after signing, unsigned, as the SDK sends it

    def __repr__(self) -> str:
        return f"SlsAuth(credentials={self._credentials!r})"

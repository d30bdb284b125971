"""OpenAPI V3 signature (`ACS3-HMAC-SHA256`) used by IMM 2020-09-30 and ICE 2020-11-09.

Canonical request = `METHOD\\nURI\\nQUERY\\nHEADERS\\nSIGNED-NAMES\\nBODY-SHA256`; the signature is the hex
HMAC-SHA256 of `ACS3-HMAC-SHA256\\n<hex sha256 of it>` under the raw secret (no key derivation).

    >>> import httpx
    >>> from datetime import datetime, timezone
    >>> auth = Acs3Auth(
    ...     Credentials("AK", "SK"),
    ...     clock=lambda: datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc),
    ...     nonce=lambda: "3f8c2a1e-9b7d-4c6e-8a5f-1d2e3f4a5b6c",
    ... )
    >>> request = httpx.Request("POST", "https://imm.cn-hangzhou.aliyuncs.com/", params={"ProjectName": "p"})
    >>> auth.sign(request)
    >>> request.headers["Authorization"].split(",")[1]
    'SignedHeaders=host;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce'

The client sets `x-acs-action` and `x-acs-version` itself; they are signed like every x-acs-* header.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Generator, Iterable, Mapping

import httpx

from shared.auth._primitives import (
    QueryInput,
    hmac_sha256,
    lower_headers,
    query_pairs,
    sha256_hex,
    url_query_pairs,
)
from shared.auth.clock import Clock, as_utc, iso8601_extended, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider
from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")


def _uuid4_hex() -> str:
    return uuid.uuid4().hex


def acs3_canonical_query(query: QueryInput | None) -> str:
    """Names and values RFC 3986-encoded (space -> %20), sorted by name, `name=value` joined by `&`."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in query_pairs(query))
    return "&".join(f"{name}={value}" for name, value in encoded)


def acs3_signed_header_names(names: Iterable[str]) -> list[str]:
    """Lower-cased, de-duplicated, sorted: the order of both the header block and SignedHeaders."""
    if isinstance(names, str):
        names = names.split(";")
    return sorted({name.strip().lower() for name in names if name.strip()})


def acs3_canonical_request(  # noqa: PLR0917 - the parts of the canonical request, in wire order
    method: str,
    path: str,
    query: QueryInput | None,
    headers: Mapping[str, str],
    signed_header_names: Iterable[str],
    body_hash: str,
) -> str:
    """The canonical request over exactly the named headers (`name:trimmed value\\n`, sorted).

    `path` is the decoded request path (`/` for RPC calls); `query` the decoded parameters.
    """
    lowered = lower_headers(headers)
    names = acs3_signed_header_names(signed_header_names)
    if not names:
        raise InvalidRequestError.single(
            "signed_header_names", "required", "must name at least the host header"
        )
    missing = [name for name in names if name not in lowered]
    if missing:
        raise InvalidRequestError.single(
            "signed_header_names", "present", f"{', '.join(missing)} is signed but not among the headers"
        )
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    uri = percent_encode(path or "/", keep_slash=True)
    return "\n".join(
        [method.upper(), uri, acs3_canonical_query(query), canonical_headers, ";".join(names), body_hash]
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    """`ACS3-HMAC-SHA256\\n<hex sha256 of the canonical request>`."""
    return f"{ACS3_ALGORITHM}\n{sha256_hex(canonical_request)}"


def acs3_signature(secret: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the access key secret itself."""
    return hmac_sha256(secret.encode("utf-8"), string_to_sign).hex()


def acs3_authorization(access_key_id: str, signed_header_names: Iterable[str], signature: str) -> str:
    """`ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<a;b>,Signature=<sig>`."""
    names = ";".join(acs3_signed_header_names(signed_header_names))
    return f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={names},Signature={signature}"


def parse_acs3_authorization(header: str) -> tuple[str, tuple[str, ...], str]:
    """Read `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.

    Returns (access key id, signed header names, signature).
    """
    if not isinstance(header, str):
        raise ValueError("Authorization header must be a string")
    scheme, _, rest = header.strip().partition(" ")
    if scheme != ACS3_ALGORITHM:
        raise ValueError(f"Authorization header does not start with {ACS3_ALGORITHM!r}")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name not in ("Credential", "SignedHeaders", "Signature"):
            raise ValueError(f"Authorization header has an unknown or malformed part {part.strip()!r}")
        if name in fields:
            raise ValueError(f"Authorization header repeats {name}")
        fields[name] = value.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise ValueError("Authorization header needs Credential=, SignedHeaders= and Signature=")
    if not fields["Credential"]:
        raise ValueError("Credential is empty")
    names = tuple(fields["SignedHeaders"].split(";"))
    if not all(names) or any(name != name.lower() for name in names):
        raise ValueError("SignedHeaders must list lower-case header names separated by ';'")
    if not _HEX_SIGNATURE.fullmatch(fields["Signature"]):
        raise ValueError("Signature must be 64 lower-case hex digits")
    return fields["Credential"], names, fields["Signature"]


class Acs3Auth(httpx.Auth):
    """Signs each OpenAPI request: sets x-acs-date, x-acs-signature-nonce, x-acs-content-sha256 (of the
    body the request carries) and, with STS, x-acs-security-token; signs host, every x-acs-* header,
    content-type when present and any `signed_headers` the caller lists (when present).
    """

    requires_request_body = True  # the body hash is part of the signature

    def __init__(
        self,
        credentials: CredentialsProvider | Credentials,
        *,
        clock: Clock = utc_now,
        nonce: Callable[[], str] = _uuid4_hex,
        signed_headers: Iterable[str] = (),
    ) -> None:
        self._credentials = as_provider(credentials)
        self._clock = clock
        self._nonce = nonce
        self._extra_signed = tuple(name.lower() for name in signed_headers)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        """Add the x-acs-* and Authorization headers to the request in place (the body must be read)."""
        credentials = self._credentials.get_credentials()
        headers = request.headers
        headers["x-acs-date"] = iso8601_extended(as_utc(self._clock(), "clock"))
        headers["x-acs-signature-nonce"] = self._nonce()
        headers["x-acs-content-sha256"] = sha256_hex(request.content)
        if credentials.security_token:
            headers["x-acs-security-token"] = credentials.security_token
        else:
            headers.pop("x-acs-security-token", None)
        names = [
            name
            for name in headers
            if name in ("host", "content-type") or name.startswith("x-acs-") or name in self._extra_signed
        ]
        canonical = acs3_canonical_request(
            request.method,
            request.url.path,
            url_query_pairs(request.url),
            headers,
            names,
            headers["x-acs-content-sha256"],
        )
        signature = acs3_signature(credentials.access_key_secret, acs3_string_to_sign(canonical))
        headers["Authorization"] = acs3_authorization(credentials.access_key_id, names, signature)

    def __repr__(self) -> str:
        return f"Acs3Auth(credentials={self._credentials!r})"

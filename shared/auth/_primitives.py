"""Building blocks shared by the signers: hashing, query-pair and header normalisation."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import unquote_plus

import httpx

from shared.errors import InvalidRequestError

QueryInput = Mapping[str, str | None] | Iterable[tuple[str, str | None]]
"""Query parameters, decoded: a mapping or a sequence of (name, value) pairs; None or "" is a bare name."""


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def hmac_sha1_base64(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def query_pairs(query: QueryInput | None, field: str = "query") -> list[tuple[str, str]]:
    """Normalise query input to (name, value) pairs, keeping repeated names; None becomes ""."""
    if query is None:
        return []
    multi_items = getattr(query, "multi_items", None)  # httpx.QueryParams: keep repeated names
    if callable(multi_items):
        items: Iterable[object] = multi_items()
    elif isinstance(query, Mapping):
        items = query.items()
    elif isinstance(query, (str, bytes)):
        raise InvalidRequestError.single(
            field, "pairs", "must be a mapping or a sequence of (name, value) pairs"
        )
    else:
        items = query
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise InvalidRequestError.single(field, "pairs", f"must hold (name, value) pairs, got {item!r}")
        name, value = item
        if not isinstance(name, str) or not name:
            raise InvalidRequestError.single(
                field, "name", f"parameter names must be non-empty strings: {name!r}"
            )
        if value is not None and not isinstance(value, str):
            raise InvalidRequestError.single(
                f"{field}.{name}", "string", f"must be a string or None, got {type(value).__name__}"
            )
        pairs.append((name, value or ""))
    return pairs


def url_query_pairs(url: httpx.URL) -> list[tuple[str, str]]:
    """Decode the query of a URL into pairs.

    `+` means a space: httpx writes spaces that way, and the OpenAPI gateway reads them that way (the
    official SDK sends `Description=tts+job` and signs `tts%20job`). A literal plus arrives as `%2B`.
    """
    raw = url.query.decode("ascii")
    pairs = []
    for segment in raw.split("&"):
        if not segment:
            continue
        name, _, value = segment.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


def lower_headers(headers: Mapping[str, str], field: str = "headers") -> dict[str, str]:
    """Header names lower-cased (later duplicates win), values stripped of surrounding whitespace."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidRequestError.single(field, "string", f"names and values must be strings: {name!r}")
        lowered[name.lower()] = value.strip()
    return lowered


def require_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError.single(field, "required", "must be a non-empty string")
    return value

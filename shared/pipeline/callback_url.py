"""`callback_url`: where a job's webhook goes, as every API job input accepts it.

The rules: an absolute `https://` URL without credentials (the URL is stored with the job and shown by the
API), at most 2048 characters. Plain `http://` is accepted only to a loopback host (127.0.0.0/8, ::1,
localhost), and only by a deployment whose OSS endpoint is itself on loopback, i.e. one running against
localcloud (`loopback_http_allowed`): a receiver on the developer's own machine needs no certificate there,
and no deployed function can be pointed at plain HTTP.

    >>> check_callback_url("https://hooks.example.com/audiochain?x=1")
    'https://hooks.example.com/audiochain?x=1'
    >>> from shared.errors import rule_of
    >>> try:
    ...     check_callback_url("http://example.com/hook")
    ... except ValueError as error:
    ...     print(rule_of(error)[0])
    https
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from shared.errors import rule_error

__all__ = ["MAX_CALLBACK_URL_CHARS", "CallbackUrl", "check_callback_url", "is_loopback_host"]

MAX_CALLBACK_URL_CHARS = 2048


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_callback_url(value: str) -> str:
    """The URL unchanged, or a rule_error (pydantic reports it against the field, with its rule)."""
    if len(value) > MAX_CALLBACK_URL_CHARS or not value.isascii() or any(c.isspace() for c in value):
        raise rule_error("format", f"must be an ASCII URL of at most {MAX_CALLBACK_URL_CHARS} characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number in range
    except ValueError:
        raise rule_error("format", "must be an absolute URL such as https://example.com/hook") from None
    if parts.scheme not in ("https", "http") or not host:
        raise rule_error("format", "must be an absolute URL such as https://example.com/hook")
    if parts.username is not None or parts.password is not None:
        raise rule_error("no_credentials", "must not carry a user or password (it is stored with the job)")
    if parts.fragment:
        raise rule_error("format", "must not have a #fragment")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise rule_error("https", "must be https:// (http:// only to a loopback host, against localcloud)")
    return value


def is_plain_http(url: str) -> bool:
    return urlsplit(url).scheme == "http"


def loopback_http_allowed(oss_endpoint: str | None) -> bool:
    """Whether this deployment runs against localcloud: its OSS endpoint is on a loopback host."""
    return oss_endpoint is not None and is_loopback_host(urlsplit(oss_endpoint).hostname)


CallbackUrl = Annotated[str, AfterValidator(check_callback_url)]

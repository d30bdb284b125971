"""Which bucket and object a request addresses, and the URL of an object — for both OSS signatures.

Both OSS signatures cover `/<bucket>/<key>` whatever the URL looks like, so a signer must know the bucket
and the key. The rule, first match wins:

1. `request.extensions["oss_bucket"]` (and `["oss_key"]`) set by the caller. Without `oss_key` the key is
   the URL path, minus a leading `/<bucket>` segment when the host does not start with `<bucket>.`.
2. Path-style: the host is an IP address, a single label (`localhost`, a compose service name), or equal
   to the configured `endpoint_host`. The first path segment is the bucket, the rest is the key;
   a bare `/` is a service-level request (no bucket).
3. Virtual-hosted: the host is `<bucket>.<endpoint_host>`, or — with no endpoint configured — any other
   DNS name whose first label does not look like an OSS endpoint (`oss-cn-hangzhou.aliyuncs.com` is an
   endpoint; `examplebucket.oss-cn-hangzhou.aliyuncs.com` and `oss-data.oss-cn-beijing.aliyuncs.com` are
   buckets). The first label is the bucket and the path is the key.

    >>> import httpx
    >>> oss_bucket_and_key(httpx.Request("GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/a/b.mp3"))
    ('examplebucket', 'a/b.mp3')
    >>> oss_bucket_and_key(httpx.Request("GET", "http://127.0.0.1:9000/examplebucket/a/b.mp3"))
    ('examplebucket', 'a/b.mp3')
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import httpx

from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

BUCKET_EXTENSION = "oss_bucket"
KEY_EXTENSION = "oss_key"
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_PRESIGN_METHODS = frozenset({"GET", "PUT", "HEAD", "POST", "DELETE"})
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


def oss_bucket_and_key(request: httpx.Request, *, endpoint_host: str | None = None) -> tuple[str | None, str]:
    """The (bucket, key) a request addresses; bucket None for a service-level request, key "" for a bucket."""
    host = request.url.host.lower()
    path = request.url.path  # already percent-decoded by httpx
    explicit_bucket = request.extensions.get(BUCKET_EXTENSION)
    if explicit_bucket is not None:
        if not isinstance(explicit_bucket, str) or not explicit_bucket:
            raise InvalidRequestError.single(BUCKET_EXTENSION, "required", "must be a non-empty string")
        explicit_key = request.extensions.get(KEY_EXTENSION)
        if explicit_key is not None:
            if not isinstance(explicit_key, str):
                raise InvalidRequestError.single(KEY_EXTENSION, "string", "must be a string")
            return explicit_bucket, explicit_key
        if not host.startswith(f"{explicit_bucket}."):
            prefix = f"/{explicit_bucket}"
            if path == prefix or path.startswith(prefix + "/"):
                return explicit_bucket, path[len(prefix) + 1 :]
        return explicit_bucket, path[1:]

    endpoint = endpoint_host.lower() if endpoint_host else None
    if endpoint is not None and host.endswith("." + endpoint):
        return host[: -len(endpoint) - 1], path[1:]
    if host == endpoint or _is_path_style_host(host):
        bucket, _, key = path[1:].partition("/")
        return (bucket or None), key
    return host.split(".", 1)[0], path[1:]


def _is_path_style_host(host: str) -> bool:
    if "." not in host:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    first, second = host.split(".")[:2]
    # "oss-cn-hangzhou.aliyuncs.com" is the endpoint itself; a bucket may also begin with "oss-", in
    # which case the endpoint label follows it.
    return _looks_like_endpoint_label(first) and not _looks_like_endpoint_label(second)


def _looks_like_endpoint_label(label: str) -> bool:
    return label == "oss" or label.startswith("oss-")


def validate_presign_target(method: str, bucket: str, key: str) -> str:
    """Check method, bucket and key of a presigned URL; return the method upper-cased."""
    if not isinstance(method, str) or method.upper() not in _PRESIGN_METHODS:
        allowed = ", ".join(sorted(_PRESIGN_METHODS))
        raise InvalidRequestError.single("method", "http_method", f"must be one of {allowed}, got {method!r}")
    if not isinstance(bucket, str) or not _BUCKET_NAME.fullmatch(bucket):
        raise InvalidRequestError.single(
            "bucket",
            "bucket_name",
            "must be 3-63 characters of lower-case letters, digits and hyphens, "
            f"starting and ending with a letter or digit, got {bucket!r}",
        )
    if not isinstance(key, str) or not key:
        raise InvalidRequestError.single("key", "required", "must be a non-empty object key")
    if key.startswith(("/", "\\")):
        raise InvalidRequestError.single("key", "object_key", "must not start with '/' or '\\'")
    if len(key.encode("utf-8")) > 1023:
        raise InvalidRequestError.single("key", "object_key", "must be at most 1023 bytes in UTF-8")
    return method.upper()


def validate_expires(expires: object, maximum: int | None) -> int:
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise InvalidRequestError.single("expires", "integer", "must be a whole number of seconds")
    if expires < 1 or (maximum is not None and expires > maximum):
        limit = f"1..{maximum}" if maximum is not None else "at least 1"
        raise InvalidRequestError.single("expires", "range", f"must be {limit} seconds, got {expires}")
    return expires


def encode_key_path(key: str) -> str:
    """A key as a URL path: RFC 3986 encoded with `/` kept, and `.`/`..` segments escaped.

    Every HTTP client (httpx included) resolves dot segments away (`a/../b` becomes `b`), which would
    send the request to another object, or on a path-style endpoint to another bucket; escaped, they
    reach OSS as the key's own characters.

    >>> encode_key_path("in/./a b/../c.mp3")
    'in/%2E/a%20b/%2E%2E/c.mp3'
    """
    return "/".join(_DOT_SEGMENTS.get(segment) or percent_encode(segment) for segment in key.split("/"))


def object_url(url_base: str, bucket: str, key: str, *, path_style: bool) -> str:
    """`<scheme>://<bucket>.<host>/<key>` or, path-style, `<scheme>://<host>/<bucket>/<key>` (no query).

    `url_base` is the endpoint (`https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`). For a
    virtual-hosted URL a base whose host already starts with `<bucket>.` is used as it is.
    """
    if not isinstance(url_base, str):
        raise InvalidRequestError.single(
            "url_base", "url", "must be a string such as https://oss-cn-hangzhou.aliyuncs.com"
        )
    parts = urlsplit(url_base.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequestError.single(
            "url_base",
            "url",
            f"must be an http(s) endpoint such as https://oss-cn-hangzhou.aliyuncs.com, got {url_base!r}",
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise InvalidRequestError.single(
            "url_base", "endpoint_only", "must be scheme and host (and port) only: no path, query or user"
        )
    netloc = parts.netloc.lower()
    encoded_key = encode_key_path(key)
    if path_style:
        return f"{parts.scheme}://{netloc}/{bucket}/{encoded_key}"
    if not netloc.startswith(f"{bucket}."):
        netloc = f"{bucket}.{netloc}"
    return f"{parts.scheme}://{netloc}/{encoded_key}"

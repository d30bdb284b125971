"""Signing (and verifying) job webhooks: HMAC-SHA256 over `<timestamp>.<body>` with the deployment's secret.

Every delivery carries

    Audiochain-Delivery:   the delivery id, the same on every attempt of one delivery (deduplicate on it)
    Audiochain-Timestamp:  Unix seconds when this attempt was signed
    Audiochain-Signature:  v1=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>

A receiver recomputes the HMAC over the raw body bytes (before any JSON parsing), compares in constant
time, and refuses timestamps outside its tolerance (replays):

    >>> headers = signature_headers("s3cret", b'{"job_id":"j1"}', timestamp=1700000000, delivery_id="d1")
    >>> headers["Audiochain-Signature"]
    'v1=271bb4fac600ca48407330517fd381763babe4fcf10e52f5094dad9bfbab8085'
    >>> verify_signature("s3cret", b'{"job_id":"j1"}', headers, now=1700000100)
    True
    >>> verify_signature("other", b'{"job_id":"j1"}', headers, now=1700000100)
    False
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_TOLERANCE_SECONDS",
    "TIMESTAMP_HEADER",
    "sign",
    "signature_headers",
    "verify_signature",
]

DELIVERY_HEADER = "Audiochain-Delivery"
TIMESTAMP_HEADER = "Audiochain-Timestamp"
SIGNATURE_HEADER = "Audiochain-Signature"
SIGNATURE_VERSION = "v1"
# How far a receiver should accept a timestamp from its own clock (what `verify_signature` uses).
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 keyed with `secret` over the ASCII timestamp, a dot and the raw body."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return f"{SIGNATURE_VERSION}={mac.hexdigest()}"


def signature_headers(secret: str, body: bytes, *, timestamp: int, delivery_id: str) -> dict[str, str]:
    return {
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """Whether `headers` (any case) sign `body` with `secret`, at a timestamp within the tolerance."""
    lowered = {name.lower(): value for name, value in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)

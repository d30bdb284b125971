"""Small, exact encodings used on the wire: URL-safe base64 and RFC 3986 percent-encoding."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote

# RFC 3986 unreserved characters; everything else is percent-encoded as UTF-8 with upper-case hex.
_UNRESERVED = "-_.~"


def b64url_encode(value: str | bytes) -> str:
    """URL-safe base64 of the UTF-8 bytes, without padding and never with a newline.

    >>> b64url_encode("outbucket")
    'b3V0YnVja2V0'
    """
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def b64url_decode(value: str) -> bytes:
    """Decode URL-safe base64, padded or not. Raises ValueError on anything else.

    Standard-alphabet characters (`+`, `/`) are refused: OSS parameters are URL-safe only.
    """
    text = value.strip("=")
    if not text:
        raise ValueError("is empty")
    if any(ch in "+/ \n\r\t" for ch in text):
        raise ValueError("is not URL-safe base64 (use '-' and '_', no '+', '/' or whitespace)")
    try:
        # validate=True: the default silently drops characters outside the alphabet.
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"is not valid URL-safe base64 ({exc})") from None


def b64url_decode_text(value: str) -> str:
    """Decode URL-safe base64 to UTF-8 text (object keys, bucket and topic names)."""
    raw = b64url_decode(value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("does not decode to UTF-8 text") from None


def percent_encode(value: str, *, keep_slash: bool = False) -> str:
    """RFC 3986 encoding: keep A-Z a-z 0-9 - _ . ~ (and '/' when asked), encode the rest as UTF-8."""
    return quote(value, safe=_UNRESERVED + ("/" if keep_slash else ""))

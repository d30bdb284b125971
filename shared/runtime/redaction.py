"""Keep secrets out of logs: access key secrets, STS tokens, signatures, API keys, presigned URLs.

Two nets, because either alone misses something:

- by key name: a value logged under `secret`, `security_token`, `Authorization`, `x-oss-signature`,
  `api_key`, `password`, `credentials` … is replaced whole, whatever it looks like;
- by value pattern: text anywhere (a log message, an exception message, a URL inside a header dump) is
  scrubbed of presigned-URL query parameters (also percent-encoded inside another URL),
  `Credential=`/`Signature=` pairs, `Bearer …` and `OSS|ACS|MNS id:sig` authorization values, DashScope
  keys (`sk-…`), STS tokens (`CAIS…`), and `password=…`-style pairs (`ALIBABA_CLOUD_ACCESS_KEY_SECRET=…`
  as the environment spells it included). Keys of nested mappings are scrubbed like values.

A third, exact net: `register_secret()` remembers secrets the process actually holds (the FC context's
credentials) and removes them verbatim wherever they appear.

Example:
    >>> scrub_text("GET https://b.oss.aliyuncs.com/a.wav?x-oss-signature=abc123&x-oss-expires=60")
    'GET https://b.oss.aliyuncs.com/a.wav?x-oss-signature=[REDACTED]&x-oss-expires=60'
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from collections import deque
from collections.abc import Mapping
from typing import Any

REDACTED = "[REDACTED]"

# Word-level match: `max_tokens`/`input_tokens` (usage counters) must survive while `token` goes.
_SENSITIVE_WORDS = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "authorization",
        "signature",
        "token",
        "credential",
        "credentials",
        "cookie",
    }
)
# Compound names whose words are harmless alone ("api", "key", "private").
_SENSITIVE_COMPOUNDS = ("apikey", "accesskeysecret", "privatekey", "securitytoken", "sessiontoken")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Query-string or header parameters whose value is secret (presigned URLs V1 and V4, STS token, API keys),
# also inside a percent-encoded URL (a presigned URL passed as a parameter of another one: `%3F…%3D…%26`).
_SECRET_PARAMETER = re.compile(
    r"(?i)(?:(?<![A-Za-z0-9_-])|(?<=%3F)|(?<=%26))(?P<name>x-oss-signature|signature|x-oss-credential|"
    r"credential|x-oss-security-token|x-acs-security-token|security-token|securitytoken|ossaccesskeyid|"
    r"access_?key_?secret|api_?key|token)"
    r"(?:(?P<eq>=)[^&#\s\"'<>,;]+|(?P<encoded_eq>%3D)(?:(?!%26)[^&#\s\"'<>,;])+)"
)
# "password: hunter2", "AccessKeySecret": "…", api_key='…' inside free text or a JSON dump, and the
# environment's spelling (`ALIBABA_CLOUD_ACCESS_KEY_SECRET=…`, `AUDIOCHAIN_API_TOKEN=…`), hence no `\b`.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)(?P<name>(?<![A-Za-z0-9])(?:access[_-]?key[_-]?secret|security[_-]?token|session[_-]?token|"
    r"api[_-]?key|api[_-]?token|password|passwd|secret)[\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',;&]+"
)
_AUTHORIZATION_VALUE = re.compile(
    r"(?P<name>\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}"
    r"|(?P<sig>\b(?:OSS|ACS|MNS)\s+)[A-Za-z0-9]+:[A-Za-z0-9+/=]+"
)
_DASHSCOPE_KEY = re.compile(r"\bsk-[A-Za-z0-9]{16,}")
_STS_TOKEN = re.compile(r"\bCAIS[A-Za-z0-9+/=_-]{20,}")

_MIN_REGISTERED_LENGTH = 8  # shorter strings would redact ordinary words
_MAX_DEPTH = 12


class _SecretRegistry:
    """The exact secrets this process holds; bounded, because STS credentials rotate every few hours."""

    def __init__(self, capacity: int = 64) -> None:
        self._values: deque[str] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) < _MIN_REGISTERED_LENGTH:
            return
        with self._lock:
            if value not in self._values:
                self._values.append(value)

    def snapshot(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._values)


_registry = _SecretRegistry()


def register_secret(*values: str | None) -> None:
    """Remember secrets to remove verbatim from every log line (values shorter than 8 characters are ignored).

    >>> register_secret("wJalrXUtnFEMI-example-secret")
    >>> scrub_text("oops: wJalrXUtnFEMI-example-secret")
    'oops: [REDACTED]'
    """
    for value in values:
        if value:
            _registry.add(value)


def is_sensitive_key(name: str) -> bool:
    """Whether a value stored under `name` must never be logged (`AccessKeySecret`, `x-oss-signature` …).

    >>> is_sensitive_key("security_token"), is_sensitive_key("max_tokens"), is_sensitive_key("key")
    (True, False, False)
    """
    words = [word.lower() for word in _WORDS.findall(name)]
    if _SENSITIVE_WORDS.intersection(words):
        return True
    joined = "".join(words)
    return any(compound in joined for compound in _SENSITIVE_COMPOUNDS)


def scrub_text(text: str) -> str:
    """Remove secrets from free text by pattern and by the registered exact values."""
    for secret in _registry.snapshot():
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _SECRET_PARAMETER.sub(
        lambda m: f"{m.group('name')}{m.group('eq') or m.group('encoded_eq')}{REDACTED}", text
    )
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group('name')}{REDACTED}", text)
    text = _AUTHORIZATION_VALUE.sub(lambda m: f"{m.group('name') or m.group('sig')}{REDACTED}", text)
    text = _DASHSCOPE_KEY.sub(REDACTED, text)
    return _STS_TOKEN.sub(REDACTED, text)


def redact(value: Any, *, key: str | None = None, _depth: int = 0) -> Any:
    """A copy of `value` safe to log: containers walked, sensitive keys blanked, strings scrubbed.

    Objects that are not plain data are logged through their repr(), scrubbed, as the renderers would.
    """
    if key is not None and is_sensitive_key(key) and value is not None:
        return REDACTED
    if _depth > _MAX_DEPTH:
        return "<nested too deep>"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, (bytes, bytearray)):
        return scrub_text(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, Mapping):
        # Keys are scrubbed too: a mapping keyed by URL would otherwise log presigned URLs whole.
        return {
            (scrub_text(k) if isinstance(k, str) else k): redact(v, key=str(k), _depth=_depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        # A NamedTuple record (shared's small records are): by field name, as a mapping, not a bare list.
        return redact(value._asdict(), key=key, _depth=_depth)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
        # A (name, value) header pair: the name decides, as for a mapping.
        if len(items) == 2 and isinstance(items[0], str) and is_sensitive_key(items[0]):
            return [items[0], REDACTED]
        return [redact(item, _depth=_depth + 1) for item in items]
    return scrub_text(repr(value))


def redact_event_dict(logger: object, method_name: str, event_dict: Any) -> Any:
    """structlog processor: redact every value of the event (message and rendered exception included)."""
    return {key: redact(value, key=key) for key, value in event_dict.items()}


class RedactingFilter(logging.Filter):
    """A stdlib logging filter that scrubs records, for libraries that log URLs themselves (httpx logs
    every request URL at INFO: a presigned URL would land in the function's log with its signature)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub_text(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = scrub_text("".join(traceback.format_exception(*record.exc_info)))
        elif record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        return True

"""structlog configured once for every function and for localcloud.

Each line carries the context bound by the handler decorators (request id, function, cold start, job id)
merged first, an ISO-8601 UTC timestamp and the level; it is JSON when the output is not a terminal (what
FC ships to Log Service) and a console rendering on a terminal. `AUDIOCHAIN_LOG_FORMAT` (`json` or
`console`) and `AUDIOCHAIN_LOG_LEVEL` override those defaults; explicit arguments override both.

Every line passes the redaction processor (shared.runtime.redaction) after exceptions are rendered to
text, so a presigned URL inside an exception message is scrubbed like any other value.

Example:
    >>> import io
    >>> out = io.StringIO()
    >>> configure_logging(fmt="json", stream=out)
    >>> get_logger("demo").info("uploaded", url="https://b.oss.aliyuncs.com/k?x-oss-signature=abc")
    >>> "abc" in out.getvalue()
    False
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO, cast

import structlog
from structlog.typing import FilteringBoundLogger, Processor

from shared import env
from shared.errors import ConfigurationError
from shared.runtime.redaction import RedactingFilter, redact_event_dict

__all__ = ["configure_logging", "get_logger", "reset_logging"]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
_FORMATS = ("json", "console")
# Libraries that log request URLs (and so presigned URLs) through the standard library.
_URL_LOGGING_LIBRARIES = ("httpx", "httpcore", "urllib3")


class _Configuration:
    """Process-wide logging state (configuration, not per-request data), guarded for threaded instances."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False


_state = _Configuration()


def configure_logging(
    *,
    level: int | str | None = None,
    fmt: str | None = None,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Configure structlog for this process.

    Idempotent: once configured, a call without arguments does nothing (handlers call it on every
    invocation); a call with arguments reconfigures, because an explicit argument beats what was chosen
    before. The environment (`environ`, default `os.environ`) is read at call time, never at import.

    >>> configure_logging(level="warning", fmt="console")
    """
    explicit = level is not None or fmt is not None or stream is not None or environ is not None
    if _state.done and not explicit:
        return
    with _state.lock:
        if _state.done and not explicit:
            return
        source: Mapping[str, str] = os.environ if environ is None else environ
        out = stream if stream is not None else sys.stdout
        min_level = _resolve_level(level if level is not None else source.get(env.AUDIOCHAIN_LOG_LEVEL))
        wanted_format = fmt if fmt is not None else source.get(env.AUDIOCHAIN_LOG_FORMAT)
        chosen_format = _resolve_format(wanted_format, out)
        structlog.configure(
            processors=_processors(chosen_format, out),
            wrapper_class=structlog.make_filtering_bound_logger(min_level),
            logger_factory=structlog.WriteLoggerFactory(file=out),
            # Not cached: tests and localcloud reconfigure, and a cached logger would keep the old stream.
            cache_logger_on_first_use=False,
        )
        _install_stdlib_redaction()
        _state.done = True


def reset_logging() -> None:
    """Forget the configuration (for tests): structlog's defaults return, the next call configures again."""
    with _state.lock:
        structlog.reset_defaults()
        _state.done = False


def get_logger(name: str | None = None, **initial_values: Any) -> FilteringBoundLogger:
    """A structlog logger carrying `logger=<name>`; it configures logging on first use if nobody has.

    Safe to call at import time: nothing is configured and no environment variable is read until the
    first line is logged.

    >>> log = get_logger(__name__)
    """
    values = dict(initial_values)
    if name:
        values["logger"] = name
    return cast(FilteringBoundLogger, _LazyLogger(values))


class _LazyLogger:
    """Defers configuration to the first log call, so an unconfigured process still never logs secrets."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def bind(self, **new_values: Any) -> _LazyLogger:
        return _LazyLogger({**self._values, **new_values})

    def new(self, **new_values: Any) -> _LazyLogger:
        return _LazyLogger(dict(new_values))

    def unbind(self, *keys: str) -> _LazyLogger:
        missing = [key for key in keys if key not in self._values]
        if missing:
            raise KeyError(missing[0])
        return self.try_unbind(*keys)

    def try_unbind(self, *keys: str) -> _LazyLogger:
        return _LazyLogger({k: v for k, v in self._values.items() if k not in keys})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)  # copy/pickle probes must not configure logging
        configure_logging()
        return getattr(structlog.get_logger().bind(**self._values), name)


def _processors(chosen_format: str, out: TextIO) -> list[Processor]:
    renderer: Processor
    if chosen_format == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_is_tty(out))
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Plain-text tracebacks before redaction: rich's pretty tracebacks would print local variables
        # (credentials included) after the redaction step had run.
        structlog.processors.format_exc_info,
        redact_event_dict,
        renderer,
    ]


def _resolve_level(value: int | str | None) -> int:
    if value is None or value == "":
        return logging.INFO
    if isinstance(value, int):
        return value
    text = value.strip().lower()
    if text.isdigit():
        return int(text)
    if text not in _LEVELS:
        raise ConfigurationError(
            f"{env.AUDIOCHAIN_LOG_LEVEL} / level must be one of {', '.join(_LEVELS)} (got {value!r})"
        )
    return _LEVELS[text]


def _resolve_format(value: str | None, out: TextIO) -> str:
    if value is None or value.strip() == "":
        return "console" if _is_tty(out) else "json"
    text = value.strip().lower()
    if text not in _FORMATS:
        raise ConfigurationError(
            f"{env.AUDIOCHAIN_LOG_FORMAT} / fmt must be 'json' or 'console' (got {value!r})"
        )
    return text


def _is_tty(out: TextIO) -> bool:
    isatty = getattr(out, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def _install_stdlib_redaction() -> None:
    """Scrub records of URL-logging libraries at their source, and of whatever reaches the root handlers
    (FC's Python runtime installs its own handler on the root logger)."""
    targets: list[logging.Filterer] = [logging.getLogger(name) for name in _URL_LOGGING_LIBRARIES]
    targets.extend(logging.getLogger().handlers)
    for target in targets:
        if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
            target.addFilter(RedactingFilter())

"""Handler decorators: log context per invocation and error mapping in one place.

`fc_handler` wraps an event function (OSS, MNS, timer triggers):

- builds the typed `FcContext` and hands it to the function with the event as bytes;
- binds `request_id`, `function`, `cold_start` (true on the first invocation of the process only) and
  `retry_count` to the structlog context for the duration of the invocation, and nothing survives it;
- maps errors: an event we refuse (InvalidRequestError: malformed event, missing field) is logged and
  answered with a JSON refusal, NOT raised, because FC would retry a poison event for nothing; a
  retryable ServiceError is re-raised so FC retries the asynchronous invocation; anything else is logged
  with its traceback and re-raised (FC records the failure, retries, then the OnFailure destination).

`shared.runtime.http_handler` does the same for WSGI apps (the HTTP API); it lives apart so that an event
function's cold start does not import the WSGI layer (issue 11).

Each invocation runs in a copy of the current contextvars context, so with InstanceConcurrency > 1
(requests in threads) no invocation sees another's log context; nothing per-request lives in a global.

Example:
    >>> @fc_handler("on_upload")
    ... def handler(event: bytes, context: FcContext) -> dict[str, int]:
    ...     bind_correlation(job_id="job-1")
    ...     return {"records": len(event)}
"""

from __future__ import annotations

import contextvars
import functools
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from shared.errors import InvalidRequestError, ServiceError
from shared.logging import configure_logging, get_logger
from shared.runtime.context import FcContext
from shared.runtime.redaction import register_secret

__all__ = ["EventFunction", "bind_correlation", "claim_cold_start", "fc_handler", "refusal"]

ResultT = TypeVar("ResultT")
EventFunction = Callable[[bytes, FcContext], ResultT]

_LOGGER = "shared.runtime.handler"


class _ColdStart:
    """Process-wide: true for exactly one invocation, whichever thread gets there first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first = True

    def claim(self) -> bool:
        with self._lock:
            first, self._first = self._first, False
            return first


_cold_start = _ColdStart()


def claim_cold_start() -> bool:
    """True for the first invocation of the process (event or HTTP), False for every later one."""
    return _cold_start.claim()


def fc_handler(
    name: str | None = None,
) -> Callable[[Callable[[bytes, FcContext], ResultT]], Callable[[Any, Any], ResultT | dict[str, Any]]]:
    """Decorate `def handler(event: bytes, context: FcContext)` into FC's `handler(event, context)`.

    `name` is the function name in logs (default: the FC function name, else the Python name).
    """

    def decorate(
        function: Callable[[bytes, FcContext], ResultT],
    ) -> Callable[[Any, Any], ResultT | dict[str, Any]]:
        @functools.wraps(function)
        def handler(event: Any, context: Any) -> ResultT | dict[str, Any]:
            return contextvars.copy_context().run(_invoke_event, function, name, event, context)

        return handler

    return decorate


def bind_correlation(job_id: str | None = None, **ids: str | None) -> None:
    """Add correlation ids (the job id, a task id …) to the log context of the current invocation.

    >>> bind_correlation(job_id="job-1", task_id="MediaConvert-1")
    """
    values = {key: value for key, value in {"job_id": job_id, **ids}.items() if value is not None}
    if values:
        structlog.contextvars.bind_contextvars(**values)


def refusal(exc: InvalidRequestError, request_id: str | None) -> dict[str, Any]:
    """The JSON result of an invocation whose event was refused (what FC records as its return value)."""
    return {
        "status": "refused",
        "request_id": request_id,
        "error": {
            "code": exc.code,
            "message": str(exc),
            "field": exc.field or None,
            "rule": exc.rule,
            "problems": [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems],
        },
    }


def _invoke_event(
    function: Callable[[bytes, FcContext], ResultT], name: str | None, event: Any, context: Any
) -> ResultT | dict[str, Any]:
    configure_logging()
    cold_start = claim_cold_start()
    log = get_logger(_LOGGER)
    try:
        fc_context = FcContext.from_fc(context)
    except Exception:
        # A broken context is the platform's (or the emulator's) fault: fail loudly, let FC retry.
        log.exception("invocation.bad_context", cold_start=cold_start)
        raise
    if fc_context.credentials is not None:
        register_secret(fc_context.credentials.access_key_secret, fc_context.credentials.security_token)
    structlog.contextvars.bind_contextvars(
        request_id=fc_context.request_id,
        function=name or fc_context.function.name or getattr(function, "__name__", "handler"),
        cold_start=cold_start,
        retry_count=fc_context.retry_count,
    )
    try:
        return function(_event_bytes(event), fc_context)
    except InvalidRequestError as exc:
        problems = [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems]
        log.warning("event.refused", error=str(exc), problems=problems)
        return refusal(exc, fc_context.request_id)
    except ServiceError as exc:
        if exc.retryable:
            log.warning("invocation.retryable_failure", service=exc.service, code=exc.code, error=str(exc))
        else:
            log.error("invocation.failed", service=exc.service, code=exc.code, exc_info=exc)
        raise
    except Exception as exc:
        log.error("invocation.failed", exc_info=exc)
        raise


def _event_bytes(event: Any) -> bytes:
    """FC passes bytes; localcloud and tests may pass text or an already-decoded JSON document."""
    if isinstance(event, bytes):
        return event
    if isinstance(event, (bytearray, memoryview)):
        return bytes(event)
    if isinstance(event, str):
        return event.encode("utf-8")
    if isinstance(event, (dict, list)):
        return json.dumps(event, ensure_ascii=False).encode("utf-8")
    raise InvalidRequestError.single(
        "event", "bytes", f"the event must be bytes, text or a JSON document, got {type(event).__name__}"
    )

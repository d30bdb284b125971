"""Asynchronous invocations: persisted, retried with backoff, aged out, then sent to their destination.

`AsyncInvoker.submit()` writes the invocation to SQLite (`fc_async_invocations`) before it returns - FC
persists an asynchronous request before answering 202 - so a restart resumes every invocation that had
not finished. A dispatcher thread hands due invocations to a small pool. Per attempt:

1. an invocation older than the function's `MaxAsyncEventAgeInSeconds` is dropped (condition
   `EventAgeExceeded`) and its OnFailure destination gets the record;
2. the handler runs with the invocation's request id (kept across retries) and `retry_count` = attempts
   before this one;
3. success: the OnSuccess destination gets the record (condition `Success`);
4. failure: retried up to `MaxAsyncRetryAttempts` times (default 3); retry n waits min(2^(n-1), 300) s
   times `retry_scale` (FC retries with exponential backoff but does not publish its intervals). After
   the last retry, or when the next retry would be past the maximum age, the OnFailure destination gets
   the record (`RetriesExhausted` / `EventAgeExceeded`).

A destination that cannot be reached (a deleted queue) is logged; the invocation is finished anyway, as
FC does. An attempt interrupted by a stop counts as made: it is retried after the restart.

    >>> retry_delay(1), retry_delay(3), retry_delay(20)
    (1.0, 4.0, 300.0)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from localcloud.dispatch import DueRowDispatcher
from localcloud.runtime.context import new_request_id
from localcloud.runtime.events import destination_record
from localcloud.runtime.execution import FunctionInstance, Outcome
from localcloud.runtime.template import FunctionSpec
from localcloud.runtime.triggers_spec import Destination
from localcloud.state import StateStore
from shared.errors import InvalidRequestError
from shared.logging import get_logger

log = get_logger("localcloud.runtime")

ASYNC_PAYLOAD_LIMIT = 128 * 1024  # FC 2.0's limit for an asynchronous invocation's payload
RETRY_CAP_SECONDS = 300.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fc_async_invocations (
    request_id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    function TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS fc_async_due ON fc_async_invocations(next_attempt_at);
"""

Resolve = Callable[[str, str], FunctionInstance | None]
DeliverDestination = Callable[[FunctionInstance, Destination, bytes], None]


def retry_delay(retry: int) -> float:
    """Seconds before retry number `retry` (1-based), before `retry_scale`."""
    return float(min(2.0 ** (retry - 1), RETRY_CAP_SECONDS))


@dataclass(frozen=True)
class Finished:
    """How an asynchronous invocation ended (what its destination record says)."""

    request_id: str
    function: str
    condition: str  # Success, RetriesExhausted, EventAgeExceeded
    attempts: int
    outcome: Outcome | None


class AsyncInvoker(DueRowDispatcher):
    table = "fc_async_invocations"
    key_column = "request_id"

    def __init__(
        self,
        state: StateStore,
        resolve: Resolve,
        deliver: DeliverDestination,
        *,
        retry_scale: float = 1.0,
        workers: int = 8,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(state, workers=workers, thread_name="fc-async", clock=clock)
        self._resolve = resolve
        self._deliver = deliver
        self._retry_scale = retry_scale
        self.listeners: list[Callable[[Finished], None]] = []
        state.ensure_schema(_SCHEMA)

    # --- API ----------------------------------------------------------------------------------------------

    def submit(self, spec: FunctionSpec, payload: bytes, *, request_id: str | None = None) -> str:
        """Persist an asynchronous invocation and return its request id (it runs in the background)."""
        if len(payload) > ASYNC_PAYLOAD_LIMIT:
            raise InvalidRequestError.single(
                "event",
                "max_bytes",
                f"an asynchronous invocation's payload is at most {ASYNC_PAYLOAD_LIMIT} bytes "
                f"(got {len(payload)})",
                "InvokeFunction",
            )
        request_id = request_id or new_request_id()
        now = self._clock()
        self.state.execute(
            "INSERT INTO fc_async_invocations (request_id, service, function, payload, created_at, attempts, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
            (request_id, spec.service, spec.name, payload, now, now),
        )
        self.wake()
        return request_id

    def pending(self) -> int:
        return self.count()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        return self.wait_until_empty(timeout)

    # --- one attempt (in a pool thread; the row was re-read and is still due) ------------------------------

    def _attempt(self, row: sqlite3.Row) -> None:
        request_id, attempts = row["request_id"], int(row["attempts"])
        instance = self._resolve(row["service"], row["function"])
        if instance is None:
            log.error(
                "runtime.async.dropped_function_gone",
                request_id=request_id,
                function=row["function"],
            )
            self._delete(request_id)
            return
        config = instance.spec.async_config
        payload = bytes(row["payload"])
        if self._clock() - float(row["created_at"]) > config.max_event_age_seconds:
            self._finish(
                instance,
                request_id=request_id,
                payload=payload,
                condition="EventAgeExceeded",
                attempts=attempts,
                outcome=None,
            )
            return
        self.state.execute(
            "UPDATE fc_async_invocations SET attempts = ? WHERE request_id = ?", (attempts + 1, request_id)
        )
        outcome = instance.invoke_event(payload, request_id=request_id, retry_count=attempts)
        made = attempts + 1
        if outcome.succeeded:
            self._finish(
                instance,
                request_id=request_id,
                payload=payload,
                condition="Success",
                attempts=made,
                outcome=outcome,
            )
            return
        if made > config.max_retry_attempts:
            self._finish(
                instance,
                request_id=request_id,
                payload=payload,
                condition="RetriesExhausted",
                attempts=made,
                outcome=outcome,
            )
            return
        next_at = self._clock() + retry_delay(made) * self._retry_scale
        if next_at - float(row["created_at"]) > config.max_event_age_seconds:
            self._finish(
                instance,
                request_id=request_id,
                payload=payload,
                condition="EventAgeExceeded",
                attempts=made,
                outcome=outcome,
            )
            return
        self.state.execute(
            "UPDATE fc_async_invocations SET next_attempt_at = ?, last_error = ? WHERE request_id = ?",
            (next_at, outcome.error_message, request_id),
        )
        log.info(
            "runtime.async.failed_will_retry",
            function=instance.name,
            request_id=request_id,
            attempt=made,
            retry_in=round(next_at - self._clock(), 3),
        )

    def _finish(
        self,
        instance: FunctionInstance,
        *,
        request_id: str,
        payload: bytes,
        condition: str,
        attempts: int,
        outcome: Outcome | None,
    ) -> None:
        config = instance.spec.async_config
        destination = config.on_success if condition == "Success" else config.on_failure
        if condition != "Success":
            log.error(
                "runtime.async.failed_for_good",
                function=instance.name,
                request_id=request_id,
                condition=condition,
                attempts=attempts,
            )
        if destination is not None:
            record = destination_record(
                request_id=request_id,
                function_arn=instance.spec.arn(instance.region, instance.account_id),
                condition=condition,
                invoke_count=attempts,
                request_payload=payload,
                succeeded=outcome is not None and outcome.succeeded,
                response_payload=outcome.payload if outcome is not None else b"",
                at=self._clock(),
            )
            try:
                self._deliver(instance, destination, record)
            except Exception as exc:
                log.error(
                    "runtime.async.destination_unreachable",
                    function=instance.name,
                    request_id=request_id,
                    destination=destination.arn,
                    error=f"{type(exc).__name__}: {exc}",
                )
        self._delete(request_id)
        finished = Finished(request_id, instance.name, condition, attempts, outcome)
        for listener in list(self.listeners):
            try:
                listener(finished)
            except Exception:
                log.exception("runtime.async.listener_failed", request_id=request_id)

    def _delete(self, request_id: str) -> None:
        self.state.execute("DELETE FROM fc_async_invocations WHERE request_id = ?", (request_id,))

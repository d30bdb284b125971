"""One mechanism for persisted, retried background work: a thread that hands the due rows of one SQLite
table to a small pool.

The MNS push deliveries and the local FC runtime's asynchronous invocations both keep their work as rows
with a `next_attempt_at`; both need the same care:

- a row is handed out once at a time (an in-flight set), and a pass woken while an attempt runs skips it;
- an attempt re-reads its row before acting: the dispatcher may have listed it just before an earlier attempt
  ended (and left the in-flight set), and acting on that stale copy would do the work twice or skip a backoff;
- the thread sleeps until the next row is due, and `wake()` (a new row) or `stop()` interrupts the sleep;
- `stop()` lets running attempts finish and drops queued ones: their rows are saved and resume at the next
  start.

Subclasses name the table and its key (class constants, never request data, so the f-string SQL is safe)
and implement `_attempt(row)`; hooks refine eligibility and capacity.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from localcloud.state import StateStore
from shared.logging import get_logger

log = get_logger("localcloud.dispatch")

IDLE_WAIT_SECONDS = 60.0


class DueRowDispatcher:
    table: ClassVar[str]
    key_column: ClassVar[str]
    order_by: ClassVar[str] = "next_attempt_at"
    batch: ClassVar[int] = 200

    def __init__(
        self,
        state: StateStore,
        *,
        workers: int,
        thread_name: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self._workers = workers
        self._thread_name = thread_name
        self._clock = clock
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._in_flight: set[Hashable] = set()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            self._stopping = False
            # Attempts cancelled by a previous stop() left their keys behind; their rows are simply due.
            self._in_flight.clear()
            self._on_start()
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix=self._thread_name)
        self._thread = threading.Thread(target=self._run, name=f"{self._thread_name}-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def count(self, where: str = "", params: Sequence[Any] = ()) -> int:
        """Rows not yet done (due, waiting for a retry, or in flight), optionally filtered."""
        clause = f" WHERE {where}" if where else ""
        row = self.state.query_one(f"SELECT COUNT(*) AS n FROM {self.table}{clause}", params)
        return int(row["n"]) if row is not None else 0

    def wait_until_empty(
        self, timeout: float, *, where: str = "", params: Sequence[Any] = (), poll: float = 0.02
    ) -> bool:
        """Block until no row (matching the filter) is left; tests use this instead of sleeping."""
        deadline = time.monotonic() + timeout
        while self.count(where, params):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._cond:
                self._cond.wait(min(remaining, poll))
        return True

    # --- hooks --------------------------------------------------------------------------------------------

    def _on_start(self) -> None:
        """Reset per-run bookkeeping (called under the lock)."""

    def _before_pass(self) -> None:
        """Housekeeping before each dispatch pass (e.g. purging expired rows)."""

    def _eligible(self, row: sqlite3.Row) -> bool:
        """Whether a due row may be handed out now at all (called without the lock)."""
        return True

    def _has_capacity(self, row: sqlite3.Row) -> bool:
        """Whether one more attempt of this kind may run now (called under the lock)."""
        return True

    def _started(self, row: sqlite3.Row) -> None:
        """Bookkeeping when an attempt is handed out (called under the lock)."""

    def _finished(self, row: sqlite3.Row) -> None:
        """Bookkeeping when an attempt ends (called under the lock)."""

    def _attempt(self, row: sqlite3.Row) -> None:
        """Do the work of one row, read fresh and still due (in a pool thread)."""
        raise NotImplementedError

    # --- the dispatcher thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._woken = False
            try:
                self._before_pass()
                listed_at = self._dispatch_due()
                timeout = self._time_to_next_due(listed_at)
            except Exception:
                log.exception("dispatch.pass.failed", table=self.table)
                timeout = 1.0
            with self._cond:
                if not self._woken and not self._stopping:
                    self._cond.wait(timeout)

    def _dispatch_due(self) -> float:
        """Hand out the rows due now; the time they were listed at."""
        listed_at = self._clock()
        rows = self.state.query(
            f"SELECT * FROM {self.table} WHERE next_attempt_at <= ? "
            f"ORDER BY {self.order_by} LIMIT {self.batch}",
            (listed_at,),
        )
        for row in rows:
            if not self._eligible(row):
                continue
            key = row[self.key_column]
            with self._cond:
                if self._stopping or self._pool is None:
                    return listed_at
                if key in self._in_flight or not self._has_capacity(row):
                    continue
                self._in_flight.add(key)
                self._started(row)
                self._pool.submit(self._guarded_attempt, row)
        return listed_at

    def _time_to_next_due(self, listed_at: float) -> float:
        """How long to sleep until the next row not listed by the pass at `listed_at` falls due. A row that
        fell due between that listing and now counts (a wait of 1 ms): measured from now instead, it
        was neither listed nor upcoming, and waited the idle period (a restarted MNS left a pending
        delivery 10 s behind a 32-ms retry this way on a loaded machine)."""
        now = self._clock()
        row = self.state.query_one(
            f"SELECT MIN(next_attempt_at) AS upcoming FROM {self.table} WHERE next_attempt_at > ?",
            (listed_at,),
        )
        if row is None or row["upcoming"] is None:
            return IDLE_WAIT_SECONDS
        return max(0.001, min(float(row["upcoming"]) - now, IDLE_WAIT_SECONDS))

    def _guarded_attempt(self, listed: sqlite3.Row) -> None:
        key = listed[self.key_column]
        try:
            current = self.state.query_one(
                f"SELECT * FROM {self.table} WHERE {self.key_column} = ? AND next_attempt_at <= ?",
                (key, self._clock()),
            )
            if current is not None:
                self._attempt(current)
        except Exception:
            log.exception("dispatch.attempt.crashed", table=self.table, key=key)
        finally:
            with self._cond:
                self._in_flight.discard(key)
                self._finished(listed)
                self._woken = True
                self._cond.notify_all()

"""A small pool that runs asynchronous work (transcoding, merging, synthesis, recognition) off the request
path.

Tasks are persisted by the service that owns them before they are queued here, so a restart can resume them:
each service's `start()` re-queues whatever it finds unfinished.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from shared.logging import get_logger

log = get_logger("localcloud.tasks")


class TaskRunner:
    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="localcloud-task")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._stopping = threading.Event()

    def submit(self, name: str, work: Callable[[], None], *, delay: float = 0.0) -> None:
        """Run `work` in the pool (after `delay` seconds). Exceptions are logged, never raised here."""

        def run() -> None:
            # Once stopping, work still queued is skipped rather than run: its owner persisted it and queues
            # it again on the next start, so a stop waits for running work only, never for a backlog.
            # The wait is interruptible: stop() must not sit out a delayed task's delay either.
            stopped = self._stopping.wait(delay) if delay > 0 else self._stopping.is_set()
            if stopped:
                return
            try:
                work()
            except Exception:
                log.exception("tasks.task.crashed", task=name)

        with self._lock:
            if self._closed:
                log.warning("tasks.task.dropped_runner_stopping", task=name)
                return
            future = self._pool.submit(run)
            self._pending.add(future)
        future.add_done_callback(self._forget)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    @property
    def stopping(self) -> bool:
        """True once shutdown() has begun: no new work is accepted and queued work is skipped."""
        return self._stopping.is_set()

    def idle(self) -> bool:
        with self._lock:
            return not self._pending

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no task is queued or running (tests use this instead of sleeping)."""
        deadline = threading.Event()
        waited = 0.0
        while waited < timeout:
            if self.idle():
                return True
            deadline.wait(0.02)
            waited += 0.02
        return self.idle()

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work and skip what is still queued; with `wait`, let running work finish."""
        with self._lock:
            self._closed = True
        self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

"""When the timer's sweep should look at an unfinished job again: the due time it files the job under.

The sweep touches only jobs whose due time has come (`JobStore.due_jobs`), so its cost follows the work
that is due, not the number of unfinished jobs. What a job is due for depends on its current step:

- submitted: the next poll of its service task. Polls follow DashScope's own waiting cadence while the
  task is young (the SDK's `wait` asks after 1 s, doubles the interval every 3 polls and stops at 5 s:
  dashscope/client/base_api.py, `BaseAsyncApi.wait`), then back off with the task's age (a quarter of it,
  at most POLL_CAP), so a task that runs for N seconds is polled O(log N) times rather than once per tick,
  and its result is seen at most a quarter of its run time late. The task timeout is never overshot.
- submitted to OSS or IMM: those tasks always report to the pipeline topic (`shared.pipeline.plans` asks
  for it), and on_notify records the outcome; the sweep's poll is only the repair path for a lost message,
  so it first looks NOTIFIED_FIRST_LOOK after the submission, then at half the task's age. Polling them at
  DashScope's cadence read a job and sent a HEAD up to nine times during a conversion that was announced
  anyway, and more the longer the media engine's queue (issue 11: 2.3 polls per job at 50 files, 4.2 at 200).
  So that such a look filed far out does not hold up the job's next step, the notification handler files
  the job at its next check once it has moved it on (`Orchestrator.handle_notification`): a recognition
  submitted by on_notify is then polled at DashScope's cadence, a throttled submission retried on time.
- claimed: the next sweep (a holder moves it on within seconds; waiting for the lease would leave the
  step that follows unpolled until then).
- retrying: when `shared.pipeline.retry.retry_due` allows the next attempt.
- anything else (queued, a step that could not be claimed, a final job whose completion is still to be
  published): the next tick.

A running recognition's entry stays where it is while its next poll is less than KEEP_IN_PLACE away, the
time remembered by the instance (`PollTimes`) instead: re-filing it cost a PUT and a DELETE per poll, two
thirds of a poll's requests (issue 11). Deployed, where the timer ticks once a minute, an entry due within a
minute is due at the next tick either way, so keeping it changes nothing there; `localcloud run` ticks every
2 s, and there the memory says which ticks to skip. A fresh instance, which remembers nothing, polls such a
task at its next tick: at most KEEP_IN_PLACE early, once. A kept entry keeps its old time, so the sweep
takes the jobs whose kept entry it has polled before last: under a `max_jobs` cap or a time budget they
would otherwise come first on every tick, ahead of jobs never looked at (found in review).

A sweep drops the entries it is done with in batches (`DroppedEntries`: one DeleteMultipleObjects per
sweep, not a DELETE per job looked at), after filing each job's next one.

    >>> [poll_interval(timedelta(seconds=s)).total_seconds() for s in (0, 4, 10, 40, 600, 86400)]
    [1.0, 2.0, 4.0, 10.0, 150.0, 300.0]
    >>> t0, day = datetime(2026, 12, 6, tzinfo=timezone.utc), timedelta(days=1)
    >>> def notified_due(age: float) -> float:
    ...     return (next_poll(t0, t0 + timedelta(seconds=age), day, notified=True) - t0).total_seconds()
    >>> [notified_due(age) for age in (0, 10, 29, 40, 3600)]
    [30.0, 30.0, 43.5, 60.0, 3900.0]
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from shared.errors import ServiceError
from shared.jobs.model import StepState
from shared.jobs.store import DueEntry, JobSnapshot, JobStore
from shared.logging import get_logger
from shared.pipeline.retry import retry_due

log = get_logger(__name__)

# DashScope SDK's wait: 1 s, doubled every 3 polls, at most 5 s (polls at 1, 2, 3, 5, 7, 9, 13 ... s).
_YOUNG_CADENCE = ((timedelta(seconds=3), timedelta(seconds=1)), (timedelta(seconds=9), timedelta(seconds=2)))
_YOUNG_LIMIT = timedelta(seconds=21)
_SDK_CEILING = timedelta(seconds=5)
POLL_CAP = timedelta(minutes=5)
# A poll due sooner than this keeps its entry where it is (see the module docstring): the deployed tick.
KEEP_IN_PLACE = timedelta(minutes=1)
# Services whose every task announces its outcome on the pipeline topic (see the module docstring).
NOTIFIED_SERVICES = frozenset({"oss", "imm"})
NOTIFIED_FIRST_LOOK = timedelta(seconds=30)
# Due at once: the next sweep, whatever the timer's period (a deployed minute, 2 s in `localcloud run`).
NEXT_TICK = timedelta(0)


def poll_interval(age: timedelta) -> timedelta:
    """How long after a poll of a task `age` old the next one is due."""
    for below, interval in _YOUNG_CADENCE:
        if age < below:
            return interval
    if age < _YOUNG_LIMIT:
        return timedelta(seconds=4)
    return min(max(age / 4, _SDK_CEILING), POLL_CAP)


def next_poll(
    started: datetime, now: datetime, task_timeout: timedelta, *, notified: bool = False
) -> datetime:
    """When a task submitted at `started` is polled next (never past its timeout plus a second);
    `notified`: the task announces its outcome, and polling only repairs a lost announcement."""
    timeout_at = started + task_timeout
    age = now - started
    if notified:
        due = max(started + NOTIFIED_FIRST_LOOK, now + min(max(age / 2, _SDK_CEILING), POLL_CAP))
    else:
        due = now + poll_interval(age)
    return max(now, min(due, timeout_at + timedelta(seconds=1)))


# The hint's one key segment: "dashscope~<submitted, ms since the epoch>~<task id>".
_HINT = re.compile(r"dashscope~(\d{1,15})~([A-Za-z0-9-]{1,128})")


class PollHint(NamedTuple):
    """A submitted recognition task the sweep may poll without reading its job, filed in the job's
    due-index entry: most polls find the task still queued or running, and then only GetTask and the
    refiling are needed (the job's GET and LIST were the larger part of a poll's cost, issue 11).

    >>> hint = PollHint("8d2e-41", datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc))
    >>> hint.encode(), PollHint.parse(hint.encode()) == hint, PollHint.parse("imm~1~x")
    ('dashscope~1796472000000~8d2e-41', True, None)
    """

    task_id: str
    submitted_at: datetime

    def encode(self) -> str:
        return f"dashscope~{int(self.submitted_at.timestamp() * 1000)}~{self.task_id}"

    @classmethod
    def parse(cls, text: str | None) -> PollHint | None:
        match = _HINT.fullmatch(text or "")
        if match is None:
            return None
        return cls(match[2], datetime.fromtimestamp(int(match[1]) / 1000, tz=timezone.utc))


def poll_hint(snapshot: JobSnapshot) -> PollHint | None:
    """The hint for a job waiting on a DashScope task, else None (the sweep then reads the job)."""
    view = snapshot.view
    index = view.current_step
    if view.state.is_final or index is None:
        return None
    step = view.steps[index]
    started = step.submitted_at or step.started_at
    if step.state is not StepState.SUBMITTED or step.service != "dashscope" or started is None:
        return None
    hint = PollHint(step.task_id or "", started.replace(microsecond=started.microsecond // 1000 * 1000))
    return hint if PollHint.parse(hint.encode()) == hint else None


def next_check(snapshot: JobSnapshot, now: datetime, lease: timedelta, task_timeout: timedelta) -> datetime:
    """When the sweep should look at this (unfinished or not yet finalised) job again."""
    view = snapshot.view
    index = view.current_step
    if view.state.is_final or index is None:
        return now + NEXT_TICK
    step = view.steps[index]
    if step.state is StepState.SUBMITTED:
        started = step.submitted_at or step.started_at or now
        return next_poll(started, now, task_timeout, notified=step.service in NOTIFIED_SERVICES)
    # A claimed step is looked at on every sweep: its holder usually moves it on within seconds (a
    # submission, a notification), and only then does the job need the sweep, e.g. to poll a recognition.
    if step.state is StepState.RETRYING:
        return max(now, retry_due(snapshot, index, lease))
    return now + NEXT_TICK


class PollTimes:
    """When this instance polls each running recognition whose due entry was kept in place: an
    optimisation only (forgetting a time makes the task due at the next tick), so it holds at most
    `capacity` tasks, the oldest forgotten first. Safe to share between threads.

    >>> times, t0 = PollTimes(capacity=2), datetime(2026, 12, 6, tzinfo=timezone.utc)
    >>> times.remember("a", t0 + timedelta(seconds=5)); times.remember("b", t0); times.remember("c", t0)
    >>> times.waiting("a", t0), times.waiting("b", t0), times.waiting("c", t0 - timedelta(seconds=1))
    (False, False, True)
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._due: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def remember(self, task_id: str, due: datetime) -> None:
        with self._lock:
            self._due.pop(task_id, None)
            self._due[task_id] = due
            while len(self._due) > self.capacity:
                del self._due[next(iter(self._due))]

    def forget(self, task_id: str) -> None:
        with self._lock:
            self._due.pop(task_id, None)

    def known(self, task_id: str) -> bool:
        """Whether this instance has polled the task and kept its entry."""
        with self._lock:
            return task_id in self._due

    def waiting(self, task_id: str, now: datetime) -> bool:
        """Whether the task's next poll is still to come."""
        with self._lock:
            due = self._due.get(task_id)
        return due is not None and now < due


# Due entries dropped per DeleteMultipleObjects: a sweep stopped by its function's timeout leaves at most
# this many behind, and those only make their jobs due once more (a sweep is idempotent).
UNSCHEDULE_BATCH = 500


class DroppedEntries:
    """The due entries a sweep is done with, dropped a batch at a time: one DeleteMultipleObjects per
    UNSCHEDULE_BATCH entries instead of a DELETE per job looked at (issue 11). An entry the sweep has just
    filed is never dropped, even when the new one has the same key as a fired one (same time and hint)."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._entries: list[DueEntry] = []
        self._filed: set[str] = set()

    def keep(self, entry: DueEntry) -> None:
        self._filed.add(entry.key)

    def add(self, entries: list[DueEntry]) -> None:
        self._entries.extend(entries)
        if len(self._entries) >= UNSCHEDULE_BATCH:
            self.flush()

    def flush(self) -> None:
        batch = [entry for entry in self._entries if entry.key not in self._filed]
        self._entries = []
        if not batch:
            return
        try:
            self.store.unschedule(*batch)
        except ServiceError as error:
            # Left behind, an entry only makes its job due once more; the sweep's work stands.
            log.warning("sweep.unschedule.failed", entries=len(batch), code=error.code)


__all__ = [
    "KEEP_IN_PLACE",
    "NEXT_TICK",
    "NOTIFIED_FIRST_LOOK",
    "NOTIFIED_SERVICES",
    "POLL_CAP",
    "UNSCHEDULE_BATCH",
    "DroppedEntries",
    "PollHint",
    "PollTimes",
    "next_check",
    "next_poll",
    "poll_hint",
    "poll_interval",
]

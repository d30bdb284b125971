"""Which failures of a service *task* a new attempt can cure (the attempt budget still bounds them).

Transport-level answers are classified by `shared.clients.errors.is_retryable` (429, 5xx, Throttling...).
A task that ran and failed reports a code instead; besides throttling and server faults, these are
transient because a new submission starts from scratch:

- `FILE_DOWNLOAD_FAILED`: DashScope could not fetch the presigned audio (a network blip, a slow OSS
  answer); the next attempt presigns again and DashScope downloads again.
- `FILE_403_FORBIDDEN`: the presigned URL expired before DashScope fetched it (a long queue); the next
  attempt presigns a fresh URL.

    >>> task_failure_retryable("FILE_DOWNLOAD_FAILED"), task_failure_retryable("Throttling.RateQuota")
    (True, True)
    >>> task_failure_retryable("FILE_CHECK_FAILED")
    False
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.clients.errors import is_retryable
from shared.jobs.model import EventKind
from shared.jobs.store import JobSnapshot

TRANSIENT_TASK_CODES = frozenset({"FILE_DOWNLOAD_FAILED", "FILE_403_FORBIDDEN"})
# The sweep waits this long after an attempt's failure before the next attempt, doubling each time (capped
# at the lease): with a 1-minute timer, attempt 2 goes at the next tick, attempt 3 a minute later, ...
RETRY_BACKOFF = timedelta(seconds=30)


def task_failure_retryable(code: str | None) -> bool:
    if not code:
        return False
    return code.upper() in TRANSIENT_TASK_CODES or is_retryable(None, code)


def retry_due(snapshot: JobSnapshot, step_index: int, lease: timedelta) -> datetime:
    """When the sweep may start the next attempt of a step that is `retrying`.

    The wait doubles with each failed attempt since the last manual retry (30 s, 60 s, 120 s ...), capped at
    the lease. A lease that lapsed has waited a lease already, so its next attempt is due at once.
    """
    events = [event for event in snapshot.events if event.step_index == step_index]
    failures = [event for event in events if event.kind is EventKind.FAILED]
    if not failures:
        first: datetime = min((event.at for event in events), default=snapshot.record.created_at)
        return first
    latest = max(failures, key=lambda event: event.attempt)
    retried = max((e.attempt for e in events if e.kind is EventKind.RETRIED), default=0)
    failed_at: datetime = latest.at
    if retried >= latest.attempt:
        return failed_at  # a person asked for the retry: no wait
    used = latest.attempt - retried
    return failed_at + min(RETRY_BACKOFF * (1 << min(used - 1, 16)), lease)

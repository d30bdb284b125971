"""Exactly-once completion messages: a create-if-absent outbox entry is written *before* publishing.

Three deliveries of the last notification finalise a job three times at once. Checking
`completion.json` and publishing before writing it let two of them publish (issue 8: 22 messages for 20
jobs). Now each finaliser first creates `jobs/<id>/outbox/<state>.json` with create-if-absent; only the
creator publishes, then records `completion.json`. The others see the entry and leave.

A publisher that dies between the entry and the publish would silence the job for good, so an entry
older than `takeover` (the step lease) with no `completion.json` is taken over by the sweep: at most one
duplicate, and only after a crash. A publish that fails with an error deletes the entry, so the next
sweep tries again at once.

    >>> from shared.jobs.backend import InMemoryBackend
    >>> from shared.jobs.layout import JobLayout
    >>> outbox = CompletionOutbox(InMemoryBackend(), JobLayout("jobs/"), timedelta(minutes=10))
    >>> now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> outbox.acquire("j1", "succeeded", now), outbox.acquire("j1", "succeeded", now)
    (True, False)
    >>> outbox.acquire("j1", "succeeded", now + timedelta(minutes=11))
    True
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from shared.jobs.backend import ObjectBackend
from shared.jobs.layout import JobLayout


class CompletionOutbox:
    """The publish-once claims of a job's completion messages, one per announced outcome."""

    def __init__(self, backend: ObjectBackend, layout: JobLayout, takeover: timedelta) -> None:
        self.backend = backend
        self.layout = layout
        self.takeover = takeover

    def acquire(self, job_id: str, state: str, now: datetime) -> bool:
        """True if this caller is the one to publish `state`'s message now."""
        key = self.layout.completion_outbox(job_id, state)
        if self.backend.put_if_absent(key, _entry(now)):
            return True
        claimed_at = _claimed_at(self.backend.get(key))
        if claimed_at is not None and now - claimed_at < self.takeover:
            return False
        # The publisher of this entry died before recording the message (or the entry is unreadable).
        self.backend.put(key, _entry(now))
        return True

    def release(self, job_id: str, state: str) -> None:
        """Give the claim back after a failed publish, so the next sweep publishes."""
        self.backend.delete(self.layout.completion_outbox(job_id, state))


def _entry(now: datetime) -> bytes:
    return json.dumps({"claimed_at": now.astimezone(timezone.utc).isoformat()}).encode("utf-8")


def _claimed_at(raw: bytes | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)["claimed_at"]
        moment = datetime.fromisoformat(value)
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo is not None else None

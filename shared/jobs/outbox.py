"""The completion outbox: each outcome of a job is announced by one publisher, not by every finaliser.

Finalising runs wherever a job is seen final (the upload handler, a notification, the sweep), often in
several invocations at once under duplicate delivery. Publishing first and recording afterwards let each
of them publish; here a finaliser first takes the outcome's publishing *turn* with a create-if-absent
write, and only the winner publishes. The winner then writes `sent.json`.

A publisher that dies between its turn and `sent.json` would leave the outcome unannounced; once its turn
is older than `turn_lease`, the next finaliser takes the next turn and publishes. So a message is published
exactly once unless a publisher crashes mid-publish (then at least once); every message carries
`completion_id` (job id + outcome) for consumers to drop such a repeat.

An *outcome* is the job's final state plus how many times it was retried through the API, so a failed
job that is retried and fails again is announced again, and a late success that revives a failed job is
announced as `succeeded`.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.backend import InMemoryBackend
    >>> outbox = CompletionOutbox(InMemoryBackend(), JobLayout("jobs/"))
    >>> now = datetime(2025, 1, 15, tzinfo=timezone.utc)
    >>> outbox.take_turn("j1", "failed-00", now), outbox.take_turn("j1", "failed-00", now)
    (1, None)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from shared.jobs.backend import ObjectBackend
from shared.jobs.layout import JobLayout
from shared.jobs.model import EventKind, JobView, StepEvent

COMPLETION_TURN_LEASE = timedelta(minutes=2)
_MAX_TURNS = 99


def outcome_of(view: JobView, events: tuple[StepEvent, ...]) -> str:
    """The outcome a completion message announces: `<state>-<retries>` (`failed-00`, `succeeded-01`)."""
    retries = sum(1 for event in events if event.kind is EventKind.RETRIED)
    return f"{view.state.value}-{retries:02d}"


class CompletionOutbox:
    def __init__(
        self, backend: ObjectBackend, layout: JobLayout, *, turn_lease: timedelta = COMPLETION_TURN_LEASE
    ) -> None:
        self.backend = backend
        self.layout = layout
        self.turn_lease = turn_lease

    def sent(self, job_id: str, outcome: str) -> bool:
        return self.backend.get(self.layout.outbox_sent(job_id, outcome)) is not None

    def take_turn(self, job_id: str, outcome: str, now: datetime) -> int | None:
        """The turn this caller took and must publish in now; None when another publisher is at work."""
        body = json.dumps({"taken_at": now.isoformat()}).encode("utf-8")
        for turn in range(1, _MAX_TURNS + 1):
            key = self.layout.outbox(job_id, outcome, turn)
            if self.backend.put_if_absent(key, body):
                return turn
            raw = self.backend.get(key)
            taken = _taken_at(raw) if raw is not None else None
            if taken is not None and now - taken < self.turn_lease:
                return None  # a publisher is at work
        return None

    def release_turn(self, job_id: str, outcome: str, turn: int) -> None:
        """Give the turn back after a publish that failed cleanly, so the next finaliser need not wait."""
        self.backend.delete(self.layout.outbox(job_id, outcome, turn))

    def mark_sent(self, job_id: str, outcome: str, message: str) -> None:
        self.backend.put(self.layout.outbox_sent(job_id, outcome), message.encode("utf-8"))


def _taken_at(raw: bytes) -> datetime | None:
    try:
        value = json.loads(raw)["taken_at"]
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except (ValueError, KeyError, TypeError):
        return None

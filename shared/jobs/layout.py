"""Where each job document lives under the jobs prefix (default `jobs/`).

    jobs/<job_id>/job.json                              the job definition (immutable)
    jobs/<job_id>/events/<NN>-<step>/<AA>-<kind>.json   one per transition, written create-if-absent
    jobs/<job_id>/state.json                            snapshot of the fold (listings; once sealed, reads)
    jobs/<job_id>/completion.json                       the completion message, once it was published
    jobs/<job_id>/outbox/<outcome>/<NN>.json            who publishes an outcome's message (create-if-absent)
    jobs/<job_id>/outbox/<outcome>/sent.json            that outcome's message, once published
    jobs/_claims/<sha256 of idempotency key>.json       idempotency key → job (first creator wins)
    jobs/_tasks/<sha256 of task id>.json                service task → job, step, attempt
    jobs/_active/<job_id>                               jobs the sweep looks after (unfinished, or put back)
    jobs/_sources/<sha256 of source key>/<job_id>       jobs of one source object (`?source=`)
    jobs/_due/<UTC time>/<job_id>                       when the sweep looks at an unfinished job again
    jobs/_settle/<UTC time>/<job_id>/<outcome>          when the sweep settles a finished job (seals it)

`_` sorts before `j`, so the index folders never interleave with job folders in a listing.

    >>> layout = JobLayout("jobs/")
    >>> layout.event("jabc", 1, "transcribe", 2, "submitted")
    'jobs/jabc/events/01-transcribe/02-submitted.json'
    >>> layout.parse_event("jobs/jabc/events/01-transcribe/02-submitted.json")
    (1, 'transcribe', 2, 'submitted')
    >>> from datetime import datetime, timezone
    >>> key = layout.due(datetime(2025, 1, 15, 8, 30, 5, 250000, tzinfo=timezone.utc), "jabc")
    >>> key, layout.parse_due(key)[0].isoformat(), layout.parse_due(key)[1]
    ('jobs/_due/20250115T083005.250Z/jabc', '2025-01-15T08:30:05.250000+00:00', 'jabc')
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from shared.errors import InvalidRequestError

_DUE_TAIL = re.compile(r"(\d{8}T\d{6}\.\d{3})Z/([^/]+)(?:/([^/]+))?")
_EVENT_TAIL = re.compile(r"(\d{2,})-([a-z_]+)/(\d{2,})-([a-z]+)\.json")


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class JobLayout:
    """Key names under one jobs prefix (which must end with '/')."""

    def __init__(self, prefix: str = "jobs/") -> None:
        if not isinstance(prefix, str) or not prefix.endswith("/") or prefix.startswith("/"):
            raise InvalidRequestError.single(
                "prefix", "folder_prefix", f"must be a folder such as 'jobs/' (end with '/'), got {prefix!r}"
            )
        self.prefix = prefix

    def job_folder(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/"

    def job(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/job.json"

    def state(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/state.json"

    def completion(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/completion.json"

    def outbox(self, job_id: str, outcome: str, turn: int) -> str:
        return f"{self.prefix}{job_id}/outbox/{outcome}/{turn:02d}.json"

    def outbox_sent(self, job_id: str, outcome: str) -> str:
        return f"{self.prefix}{job_id}/outbox/{outcome}/sent.json"

    def events(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/events/"

    def event(self, job_id: str, step_index: int, step: str, attempt: int, kind: str) -> str:
        return f"{self.events(job_id)}{step_index:02d}-{step}/{attempt:02d}-{kind}.json"

    def parse_event(self, key: str) -> tuple[int, str, int, str] | None:
        """(step index, step, attempt, kind) of an event key; None for any other key."""
        if not key.startswith(self.prefix):
            return None
        _, marker, tail = key.partition("/events/")
        match = _EVENT_TAIL.fullmatch(tail) if marker else None
        if match is None:
            return None
        return int(match[1]), match[2], int(match[3]), match[4]

    def claim(self, idempotency_key: str) -> str:
        return f"{self.prefix}_claims/{digest(idempotency_key)}.json"

    def task(self, task_id: str) -> str:
        return f"{self.prefix}_tasks/{digest(task_id)}.json"

    def sources_folder(self, source_key: str) -> str:
        return f"{self.prefix}_sources/{digest(source_key)}/"

    def source(self, source_key: str, job_id: str) -> str:
        return f"{self.sources_folder(source_key)}{job_id}"

    @property
    def due_folder(self) -> str:
        return f"{self.prefix}_due/"

    def due(self, at: datetime, job_id: str, hint: str | None = None) -> str:
        """The due-index key of `job_id` at `at` (UTC to the millisecond: keys sort by time), with the
        sweep's `hint` (what to poll, `shared.pipeline.schedule.PollHint`) as a last segment."""
        return _timed_key(self.due_folder, at, job_id, hint)

    def parse_due(self, key: str) -> tuple[datetime, str, str | None] | None:
        """(due time, job id, hint or None) of a due-index key; None for any other key."""
        return _parse_timed(self.due_folder, key)

    @property
    def settle_folder(self) -> str:
        return f"{self.prefix}_settle/"

    def settle(self, at: datetime, job_id: str, outcome: str) -> str:
        """The key that has the sweep settle the finished `job_id` at `at` (keys sort by time), with the
        outcome it was finalised with (`shared.jobs.outbox.outcome_of`) as a last segment."""
        return _timed_key(self.settle_folder, at, job_id, outcome)

    def parse_settle(self, key: str) -> tuple[datetime, str, str] | None:
        """(settle time, job id, outcome) of a settle key; None for any other key."""
        parsed = _parse_timed(self.settle_folder, key)
        return (parsed[0], parsed[1], parsed[2]) if parsed is not None and parsed[2] else None

    @property
    def active_folder(self) -> str:
        return f"{self.prefix}_active/"

    def active(self, job_id: str) -> str:
        return f"{self.active_folder}{job_id}"

    @property
    def first_job_marker(self) -> str:
        """A `start_after` that skips the `_…` index folders (every job id starts with 'j')."""
        return f"{self.prefix}_~"

    def after_job(self, job_id: str) -> str:
        """A `start_after` past every key of `job_id` (`~` sorts after every character we use)."""
        return f"{self.prefix}{job_id}/~"


def _timed_key(folder: str, at: datetime, job_id: str, hint: str | None) -> str:
    moment = at.astimezone(timezone.utc)
    key = f"{folder}{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z/{job_id}"
    return f"{key}/{hint}" if hint else key


def _parse_timed(folder: str, key: str) -> tuple[datetime, str, str | None] | None:
    match = _DUE_TAIL.fullmatch(key[len(folder) :]) if key.startswith(folder) else None
    if match is None:
        return None
    at = datetime.strptime(match[1], "%Y%m%dT%H%M%S.%f").replace(tzinfo=timezone.utc)
    return at, match[2], match[3]

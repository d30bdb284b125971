"""The job store: jobs event-sourced on create-if-absent writes, so duplicates and reordering are harmless.

Every transition is a new object written with create-if-absent under a key that names the step, the
attempt and the kind of transition; two handlers racing for the same transition cannot both win, and the
loser reads what the winner wrote. State is never updated in place: it is derived by folding the events
(`shared.jobs.fold`). The layout is in `shared.jobs.layout`.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.backend import InMemoryBackend
    >>> store = JobStore(InMemoryBackend(), clock=lambda: datetime(2025, 1, 15, tzinfo=timezone.utc))
    >>> view, created = store.create_or_get("convert", {"source": "in/a.wav"}, "request-1")
    >>> created, store.create_or_get("convert", {"source": "in/a.wav"}, "request-1")[1]
    (True, False)
    >>> claim = store.claim_step(view.id, 0)
    >>> (claim.attempt, store.claim_step(view.id, 0))
    (1, None)
    >>> _ = store.record_submitted(view.id, 0, claim.attempt, service="oss", task_id="t-1")
    >>> store.record_succeeded(view.id, 0, outputs={"audio": "work/x.mp3"}).view.state.value
    'succeeded'

Idempotency (as in Powertools' persistence layer): `create_or_get` claims the idempotency key with a
create-if-absent write of the whole job definition to `_claims/<sha256(key)>.json`; that write is the
commit point. The `_active/` marker and `job.json` follow, and a retried call repairs them if the
first caller stopped in between. The same key with a different request raises IdempotencyConflict.

Job ids are random (time-sortable, see `shared.jobs.ids`) rather than derived from the idempotency key: a
derived id would make the claim and `job.json` one write, but ids would lose their time order, which is
what makes a listing come back newest first.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pydantic import BaseModel

from shared.auth.clock import Clock, as_utc, utc_now
from shared.errors import AudiochainError, InvalidRequestError
from shared.jobs.backend import ObjectBackend
from shared.jobs.codec import (
    MAX_ATTEMPTS_LIMIT,
    canonical,
    check_attempt,
    check_idempotency_key,
    check_step,
    encode,
    input_document,
    json_document,
    parse_event,
    parse_job_state,
    parse_job_type,
)
from shared.jobs.errors import IdempotencyConflict, JobNotFound
from shared.jobs.fold import StepFacts, fold_steps, view_of
from shared.jobs.ids import check_job_id, is_job_id, new_job_id
from shared.jobs.layout import JobLayout, digest
from shared.jobs.model import (
    RETRIES_EXHAUSTED,
    Claim,
    EventKind,
    JobPage,
    JobRecord,
    JobState,
    JobType,
    JobView,
    StepError,
    StepEvent,
    StepName,
    StepState,
    TaskRef,
)
from shared.jobs.snapshot import decode_snapshot, encode_snapshot, listed_view
from shared.logging import get_logger
from shared.runtime.redaction import scrub_text

DEFAULT_LEASE = timedelta(minutes=10)
# How old a caller's snapshot may be and still stand in for a read (`record_*(snapshot=...)`).
HELD_SNAPSHOT_AGE = timedelta(seconds=1)
DEFAULT_MAX_ATTEMPTS = 3
# How long after the latest moment a finished job's outcome can have been reached (its last event, or a step
# lease after it: shared.pipeline.settle.settle_time) the sweep seals it (`JobStore.seal`): longer than any
# writer that read the job unfinished can still be at work. Every writer is a function invocation
# (template.yaml's longest timeout is 120 s); a few minutes of clock skew between instances fit in the
# margin. A deployment that raises a function's timeout near this must raise it too.
SETTLE_QUIET = timedelta(minutes=10)
_MAX_LIST = 1000
_SCAN_LIMIT = 1000  # jobs one filtered listing call examines at most (a GET each)
_SETTLE_ROUNDS = 4  # each round needs a new racing event to be needed again: a handful is plenty

log = get_logger(__name__)


class JobSnapshot(NamedTuple):
    """A job read in full: its record, its events, and their fold at the time it was read."""

    record: JobRecord
    events: tuple[StepEvent, ...]
    facts: tuple[StepFacts, ...]
    view: JobView
    folded_at: datetime  # the "now" the fold judged leases and timeouts against


@dataclass(frozen=True)
class Transition:
    """The job after a record_* call, and whether this call's event was the one written.

    `recorded` is False when an identical transition had been written before (a duplicate or a lost
    race); the view then includes the earlier event, which is what stands. `snapshot` is the job as the
    write left it (settled: its events listed after the write), for the caller's next transition.
    """

    view: JobView
    recorded: bool
    snapshot: JobSnapshot = field(compare=False, repr=False)


@dataclass(frozen=True)
class HeldClaim(Claim):
    """A Claim with the job as the claim's write left it: the holder records its outcome on that instead
    of reading the job again (a GET and a LIST saved per step)."""

    snapshot: JobSnapshot = field(compare=False, repr=False)


class SettleEntry(NamedTuple):
    """One entry of the settle index: settle finished `job_id` once `at` has come (`JobStore.seal`), if it
    still has the `outcome` it was finalised with."""

    at: datetime
    job_id: str
    key: str
    outcome: str


class DueEntry(NamedTuple):
    """One entry of the sweep's due index: look at `job_id` once `at` has come."""

    at: datetime
    job_id: str
    key: str
    hint: str | None = None  # what the sweep may poll without reading the job (shared.pipeline.schedule)


class JobStore:
    """Jobs under `prefix` in `backend`. Thread-safe (it keeps no state of its own); every method is
    idempotent. `clock` supplies "now" when a call does not pass it."""

    def __init__(
        self,
        backend: ObjectBackend,
        prefix: str = "jobs/",
        *,
        clock: Clock = utc_now,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        id_factory: Callable[[datetime], str] = new_job_id,
    ) -> None:
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise InvalidRequestError.single(
                "lease", "positive", f"must be a positive timedelta, got {lease!r}"
            )
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int):
            raise InvalidRequestError.single(
                "max_attempts", "integer", f"must be an integer, got {max_attempts!r}"
            )
        if not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
            raise InvalidRequestError.single(
                "max_attempts", "range", f"must be 1..{MAX_ATTEMPTS_LIMIT}, got {max_attempts}"
            )
        self.backend = backend
        self.layout = JobLayout(prefix)
        self.clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self._new_id = id_factory

    # Creating and reading --------------------------------------------------------------------------------

    def create_or_get(
        self,
        job_type: JobType | str,
        input: BaseModel | Mapping[str, Any],
        idempotency_key: str,
        *,
        steps: Sequence[StepName] | None = None,
        now: datetime | None = None,
    ) -> tuple[JobView, bool]:
        """The job for `idempotency_key`, created from `input` if there is none: (view, created). `steps`
        replaces the type's steps for this job (derived from the input, so a replay derives the same)."""
        moment = self._now(now)
        kind = parse_job_type(job_type)
        key = check_idempotency_key(idempotency_key)
        payload = input_document(input)
        input_digest = digest(canonical({"type": kind.value, "input": payload}))
        claim_key = self.layout.claim(key)
        for _ in range(2):
            raw = self.backend.get(claim_key)
            if raw is None:
                record = JobRecord(
                    id=self._new_id(moment),
                    type=kind,
                    created_at=moment,
                    idempotency_key=key,
                    input_digest=input_digest,
                    input=payload,
                    step_names=tuple(steps) if steps and tuple(steps) != kind.steps else None,
                )
                if self.backend.put_if_absent(claim_key, encode(record)):
                    log.info("job.created", job_id=record.id, job_type=kind.value)
                    return self._materialize(record, moment).view, True
                continue  # another caller claimed the key first: read its job
            record = JobRecord.model_validate_json(raw)
            if record.input_digest != input_digest:
                raise IdempotencyConflict(record.id)
            # job.json is checked on its own: the snapshot alone does not prove the creator got that far.
            if self.backend.get(self.layout.job(record.id)) is None:
                return self._materialize(record, moment).view, False
            snapshot = self._load(record.id, moment, missing_ok=True)
            return (snapshot or self._materialize(record, moment)).view, False
        raise AudiochainError(f"the idempotency claim {claim_key} vanished while it was being read")

    def find(self, idempotency_key: str, *, now: datetime | None = None) -> JobView | None:
        """The job created for `idempotency_key`, or None (one GET when there is none)."""
        raw = self.backend.get(self.layout.claim(check_idempotency_key(idempotency_key)))
        if raw is None:
            return None
        record = JobRecord.model_validate_json(raw)
        snapshot = self._load(record.id, self._now(now), missing_ok=True)
        return (snapshot or self._materialize(record, self._now(now))).view

    def created_view(self, idempotency_key: str) -> JobView | None:
        """The job created in full for `idempotency_key`, as its snapshot (`state.json`) shows it: two GETs,
        the claim and the snapshot. None when there is no claim, or when its creator stopped before
        job.json: a job no sweep sees, which only `create_or_get` completes, so the caller starts the upload
        again. The snapshot may lag the events by a transition in flight; a caller
        that acts on the state checks it again where it acts (`retry_job` does)."""
        raw = self.backend.get(self.layout.claim(check_idempotency_key(idempotency_key)))
        if raw is None:
            return None
        record = JobRecord.model_validate_json(raw)
        state = self.backend.get(self.layout.state(record.id))
        view = listed_view(state, record.id) if state is not None else None
        if view is not None:
            return view
        if self.backend.get(self.layout.job(record.id)) is None:
            return None
        snapshot = self._load(record.id, self._now(None), missing_ok=True)  # rebuilds the snapshot
        return snapshot.view if snapshot is not None else None

    def get(self, job_id: str, *, now: datetime | None = None) -> JobView:
        """The job folded from its events (exact); raises JobNotFound."""
        return self.load(job_id, now=now).view

    def read(self, job_id: str, *, now: datetime | None = None) -> JobView:
        """The job as the API shows it; raises JobNotFound. A settled job (finished, and sealed by the
        sweep's settling read, `seal`) is its `state.json` alone, one GET; any other is read as `get`
        reads it (the snapshot and one listing of the events: exact).

        Why a sealed snapshot can be trusted alone: the sweep seals a job only SETTLE_QUIET after its
        outcome was reached (`shared.pipeline.settle.settle_time`), longer than any writer that read the job
        before it finished can still be at work, and from an exact read; a writer that adds an event later
        starts from the finished job, so it puts the job back in the sweep before its event (`_write`), and
        any writer's snapshot is unsealed.
        """
        job_id = check_job_id(job_id)
        raw = self.backend.get(self.layout.state(job_id))
        view = listed_view(raw, job_id, sealed_only=True) if raw is not None else None
        if view is not None and view.state.is_final:
            return view
        snapshot = self._load_from(job_id, raw, self._now(now))
        assert snapshot is not None
        return snapshot.view

    def load(self, job_id: str, *, now: datetime | None = None) -> JobSnapshot:
        """Record, events and fold of a job; raises JobNotFound."""
        snapshot = self._load(check_job_id(job_id), self._now(now))
        assert snapshot is not None
        return snapshot

    def list(
        self,
        *,
        job_type: JobType | str | None = None,
        state: JobState | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        """Jobs newest first, from their `state.json` snapshots (which may lag a transition behind; `get`
        is exact). Pass the page's `next_cursor` back as `cursor` for the next page.

        The job folders are the index: ids sort newest first, so a `/`-delimited listing from the cursor
        names the next jobs without reading their keys, and a page costs one LIST and a GET per job
        whatever the number of jobs. With a filter, one call examines at most _SCAN_LIMIT jobs: a page
        can then hold fewer than `limit` jobs with a `next_cursor` to continue from.
        """
        kind = parse_job_type(job_type) if job_type is not None else None
        wanted = parse_job_state(state) if state is not None else None
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIST:
            raise InvalidRequestError.single("limit", "range", f"must be 1..{_MAX_LIST}, got {limit!r}")
        start = (
            self.layout.after_job(check_job_id(cursor, "cursor")) if cursor else self.layout.first_job_marker
        )
        filtered = kind is not None or wanted is not None
        jobs: list[JobView] = []
        scanned = 0
        while True:
            batch = _MAX_LIST if filtered else limit - len(jobs)
            folders = self.backend.list_folders(self.layout.prefix, start_after=start, limit=batch)
            for folder in folders:
                job_id = folder[len(self.layout.prefix) : -1]
                start = self.layout.after_job(job_id)
                scanned += 1
                view = self._listed_view(job_id) if is_job_id(job_id) else None
                if view is not None and _matches(view, kind, wanted):
                    jobs.append(view)
                if len(jobs) == limit:
                    return JobPage(jobs, next_cursor=job_id)
                if scanned == _SCAN_LIMIT:
                    return JobPage(jobs, next_cursor=job_id if is_job_id(job_id) else None)
            if len(folders) < batch:
                return JobPage(jobs, next_cursor=None)

    def find_task(self, task_id: str) -> TaskRef | None:
        """Which job, step and attempt submitted the service task `task_id` (None when not recorded)."""
        if not isinstance(task_id, str) or not task_id:
            return None
        raw = self.backend.get(self.layout.task(task_id))
        if raw is None:
            return None
        data = json.loads(raw)
        return TaskRef(data["job_id"], int(data["step_index"]), int(data["attempt"]), str(data["service"]))

    def active_jobs(self) -> Iterator[str]:
        """Ids of jobs not yet finalised (their `_active/` marker exists), newest first."""
        folder = self.layout.active_folder
        for key in self.backend.list(folder):
            job_id = key[len(folder) :]
            if is_job_id(job_id):
                yield job_id

    def due_index(self) -> builtins.list[DueEntry]:
        """Every entry of the sweep's due index, earliest first (one LIST per 1,000 entries)."""
        entries = []
        for key in self.backend.list(self.layout.due_folder):
            parsed = self.layout.parse_due(key)
            if parsed is not None and is_job_id(parsed[1]):
                entries.append(DueEntry(parsed[0], parsed[1], key, parsed[2]))
        return entries

    def schedule(self, job_id: str, at: datetime, hint: str | None = None) -> DueEntry:
        """File the job in the due index at `at` (the sweep looks at it once `at` has come), with an
        optional `hint`: one key segment saying what the sweep may poll without reading the job."""
        moment = as_utc(at)
        key = self.layout.due(moment, check_job_id(job_id), hint)
        self.backend.put(key, b"")
        return DueEntry(moment, job_id, key, hint)

    def unschedule(self, *entries: DueEntry) -> None:
        """Drop entries from the due index (several in one request where the backend can)."""
        if len(entries) == 1:
            self.backend.delete(entries[0].key)
        elif entries:
            self.backend.delete_many(entry.key for entry in entries)

    # Transitions -------------------------------------------------------------------------------------

    def claim_step(
        self,
        job_id: str,
        step_index: int,
        now: datetime | None = None,
        *,
        snapshot: JobSnapshot | None = None,
    ) -> Claim | None:
        """Claim the next attempt of a step, leased until now + lease.

        `snapshot`: the job as the caller loaded it a moment ago, so it is not read again (a GET and a
        LIST saved per claim). An older one only makes the claim lose its race: the claim event is
        written only if absent.

        None when the step cannot be claimed now: an earlier step has not succeeded, the step is done
        (succeeded or failed), an attempt holds a live claim or awaits its submitted task, or another
        caller won the race for this attempt. When the attempts are used up, the step's failure
        (StepRetriesExhausted) is written and None returned.
        """
        moment = self._now(now)
        if snapshot is None or snapshot.record.id != job_id:
            snapshot = self.load(job_id, now=moment)
        record = snapshot.record
        check_step(record, step_index)
        if any(step.state is not StepState.SUCCEEDED for step in snapshot.view.steps[:step_index]):
            return None
        facts = snapshot.facts[step_index]
        step = facts.view
        if facts.exhausted_unrecorded:
            assert step.error is not None
            event = self._event(record, step_index, step.attempt, EventKind.FAILED, moment, error=step.error)
            self._write(snapshot, event, moment)
            return None
        used = step.attempt - facts.retry_base
        if step.state not in (StepState.PENDING, StepState.RETRYING) or used >= self.max_attempts:
            return None
        if step.attempt >= MAX_ATTEMPTS_LIMIT:
            return None  # attempt numbers have two digits; retries past 99 are refused by `retry`
        # The lease starts when the claim is written, not when the caller read the clock: a caller that
        # stalled (a slow store, a paused process) must not write a claim that is born expired.
        moment = max(moment, as_utc(self.clock()))
        lease_end = moment + self.lease
        event = self._event(
            record, step_index, step.attempt + 1, EventKind.CLAIMED, moment, lease_expires_at=lease_end
        )
        written = self._write(snapshot, event, moment)
        if not written.recorded:
            return None
        return HeldClaim(
            record, step_index, record.steps[step_index], event.attempt, lease_end, written.snapshot
        )

    def record_submitted(
        self,
        job_id: str,
        step_index: int,
        attempt: int,
        *,
        service: str,
        task_id: str,
        targets: Sequence[str] = (),
        now: datetime | None = None,
        snapshot: JobSnapshot | None = None,
    ) -> Transition:
        """An attempt handed its work to a service task (`targets`: the `oss://bucket/key`s it writes).
        `snapshot`: the job as the caller's last transition left it (`HeldClaim.snapshot`), not re-read."""
        moment = self._now(now)
        snapshot = self._held_or_loaded(job_id, snapshot, moment)
        check_step(snapshot.record, step_index)
        check_attempt(attempt)
        if not isinstance(task_id, str) or not task_id:
            raise InvalidRequestError.single("task_id", "required", "must be the service's task id")
        ref = {"job_id": job_id, "step_index": step_index, "attempt": attempt, "service": service}
        # The index first: whenever the event exists, a notification can be matched by its TaskId.
        self.backend.put_if_absent(self.layout.task(task_id), canonical(ref).encode("utf-8"))
        event = self._event(
            snapshot.record,
            step_index,
            attempt,
            EventKind.SUBMITTED,
            moment,
            service=service,
            task_id=task_id,
            targets=tuple(targets),
        )
        return self._write(snapshot, event, moment)

    def record_succeeded(
        self,
        job_id: str,
        step_index: int,
        attempt: int | None = None,
        *,
        outputs: Mapping[str, str] | None = None,
        result: Mapping[str, Any] | None = None,
        task_id: str | None = None,
        now: datetime | None = None,
        snapshot: JobSnapshot | None = None,
    ) -> Transition:
        """The step's work is done. `attempt=None` means the step's current (latest) attempt, which is
        what a completion notification that arrives before its `submitted` is recorded against.
        `snapshot` as for `record_submitted`."""
        moment = self._now(now)
        snapshot = self._held_or_loaded(job_id, snapshot, moment)
        check_step(snapshot.record, step_index)
        number = self._attempt(snapshot, step_index, attempt)
        event = self._event(
            snapshot.record,
            step_index,
            number,
            EventKind.SUCCEEDED,
            moment,
            outputs=dict(outputs or {}),
            result=json_document(result or {}, "result"),
            task_id=task_id,
        )
        return self._write(snapshot, event, moment)

    def record_failed(
        self,
        job_id: str,
        step_index: int,
        attempt: int | None = None,
        *,
        code: str,
        message: str,
        retryable: bool,
        now: datetime | None = None,
        snapshot: JobSnapshot | None = None,
    ) -> Transition:
        """The attempt failed; `retryable` says whether a new attempt may help (see the fold's rules).
        `snapshot` as for `record_submitted`."""
        moment = self._now(now)
        snapshot = self._held_or_loaded(job_id, snapshot, moment)
        check_step(snapshot.record, step_index)
        number = self._attempt(snapshot, step_index, attempt)
        # The message is kept in OSS and shown by the API and the completion message: a service's message
        # can quote a presigned URL or a credential, so it is scrubbed as a log line would be.
        text = scrub_text(message or code)
        error = StepError(code=code or "StepFailed", message=text, retryable=bool(retryable))
        event = self._event(snapshot.record, step_index, number, EventKind.FAILED, moment, error=error)
        return self._write(snapshot, event, moment)

    def record_control(
        self,
        snapshot: JobSnapshot,
        step_index: int,
        attempt: int,
        kind: EventKind,
        *,
        error: StepError | None = None,
        now: datetime | None = None,
    ) -> Transition:
        """Write a job-control event (`retried`, `cancelled`; see `shared.jobs.control`) on `snapshot`."""
        moment = self._now(now)
        check_step(snapshot.record, step_index)
        event = self._event(snapshot.record, step_index, check_attempt(attempt), kind, moment, error=error)
        return self._write(snapshot, event, moment)

    # Finishing -----------------------------------------------------------------------------------------

    def completion_published(self, job_id: str, state: JobState | str | None = None) -> bool:
        """Whether the job's completion message was published (see `mark_completion_published`); with
        `state`, whether the message recorded announced that state (its JSON's `state` field)."""
        raw = self.backend.get(self.layout.completion(check_job_id(job_id)))
        if raw is None or state is None:
            return raw is not None
        return _announced_state(raw) == parse_job_state(state).value

    def mark_completion_published(self, job_id: str, message: str) -> bool:
        """Record the published completion message; True if this call recorded it first.

        A message announcing another outcome than the recorded one (a late success revived a failed
        job, which then ended again) replaces it, so the new outcome is announced once too.
        """
        key = self.layout.completion(check_job_id(job_id))
        data = message.encode("utf-8")
        if self.backend.put_if_absent(key, data):
            return True
        current = self.backend.get(key)
        if current is None or _announced_state(current) == _announced_state(data):
            return False
        self.backend.put(key, data)
        return True

    def write_snapshot(self, snapshot: JobSnapshot) -> None:
        """Rewrite `state.json` from `snapshot` (just loaded, so exact) unless a fuller one is there.

        Two recorders racing on different transitions each fold without the other's event, and the
        later write wins; a finished job is never written again, so its finaliser settles the listing.
        """
        self._write_snapshot(snapshot)

    def deactivate(self, job_id: str) -> None:
        """Drop the job from `active_jobs()` (once it is final and its completion was published)."""
        self.backend.delete(self.layout.active(check_job_id(job_id)))

    def activate(self, job_id: str) -> None:
        """Put the job (back) in `active_jobs()`, for the sweep."""
        self.backend.put(self.layout.active(check_job_id(job_id)), b"")

    # Settling: sealing a finished job's snapshot -----------------------------------------------------

    def settle_later(self, job_id: str, at: datetime, outcome: str) -> SettleEntry:
        """File the job, finalised with `outcome`, for the sweep's settling read at `at` (see `seal`)."""
        moment = as_utc(at)
        key = self.layout.settle(moment, check_job_id(job_id), outcome)
        self.backend.put(key, b"")
        return SettleEntry(moment, job_id, key, outcome)

    def settle_due(self, now: datetime, limit: int = _MAX_LIST) -> builtins.list[SettleEntry]:
        """Settle entries due at `now`, earliest first (at most `limit`; the listing stops at the first
        entry not due, so it costs a LIST per 1,000 due entries, not per entry filed)."""
        entries: builtins.list[SettleEntry] = []
        moment = as_utc(now)
        for key in self.backend.list(self.layout.settle_folder):
            parsed = self.layout.parse_settle(key)
            if parsed is None or not is_job_id(parsed[1]):
                continue
            if parsed[0] > moment or len(entries) == limit:
                break
            entries.append(SettleEntry(parsed[0], parsed[1], key, parsed[2]))
        return entries

    def seal(self, snapshot: JobSnapshot) -> bool:
        """Seal a finished job's `state.json` from `snapshot`, an exact read the sweep has just made: `read`
        then trusts it alone. True when it stays sealed.

        The events are listed once more after the sealed write: an event written meanwhile (a writer that
        reopened the job) is merged into an unsealed snapshot and the job put back in the sweep (False).
        An event written after that listing comes from a writer that read the job finished (a writer that
        read it unfinished stopped long ago: SETTLE_QUIET), and such a writer puts the job in the sweep
        before its event and writes an unsealed snapshot after it.
        """
        record = snapshot.record
        if not snapshot.view.state.is_final:
            raise AudiochainError(f"job {record.id} is not finished: only a finished job is sealed")
        mine = {self._event_key(event): event for event in snapshot.events}
        sealed = encode_snapshot(record, mine, snapshot.view, sealed=True)
        self.backend.put(self.layout.state(record.id), sealed)
        events, fresh = self._read_events(record.id, mine)
        if not fresh:
            return True
        self.activate(record.id)
        self._write_snapshot(self._fold(record, events, snapshot.folded_at))
        log.info("job.settle.reopened", job_id=record.id)
        return False

    def drop_settle(self, entries: Sequence[SettleEntry]) -> None:
        """Drop settle entries the sweep is done with (one request where the backend can)."""
        if len(entries) == 1:
            self.backend.delete(entries[0].key)
        elif entries:
            self.backend.delete_many(entry.key for entry in entries)

    # Internals -----------------------------------------------------------------------------------------

    def _held_or_loaded(self, job_id: str, held: JobSnapshot | None, now: datetime) -> JobSnapshot:
        """`held` (the job as this caller's last transition left it), or the job read now.

        A held snapshot may lack an event another writer added since (a notification racing the
        submission): the transition's own event is still written only if absent, and its settling LIST
        folds in whatever it lacked, so the outcome is what a fresh read would have given. One older than
        HELD_SNAPSHOT_AGE (a long synchronous recognition since the claim) is read again anyway, so the
        window in which the caller decides on stale state stays what a read-then-write always had.
        """
        if held is not None and held.record.id == job_id and now - held.folded_at <= HELD_SNAPSHOT_AGE:
            return held
        return self.load(job_id, now=now)

    def _now(self, now: datetime | None) -> datetime:
        return as_utc(now if now is not None else self.clock())

    def _load(self, job_id: str, now: datetime, *, missing_ok: bool = False) -> JobSnapshot | None:
        """GET the snapshot and LIST the events: an event the snapshot lacks is read and the snapshot
        repaired; with no usable snapshot the job is folded from job.json and every event."""
        raw = self.backend.get(self.layout.state(job_id))
        return self._load_from(job_id, raw, now, missing_ok=missing_ok)

    def _load_from(
        self, job_id: str, raw: bytes | None, now: datetime, *, missing_ok: bool = False
    ) -> JobSnapshot | None:
        """`_load` with the snapshot's bytes (`raw`, None when there is none) already read."""
        document = decode_snapshot(raw, job_id) if raw is not None else None
        if document is not None:
            record, known = document.record, document.events
        else:
            raw = self.backend.get(self.layout.job(job_id))
            if raw is None:
                if missing_ok:
                    return None
                raise JobNotFound(job_id)
            record, known = JobRecord.model_validate_json(raw), {}
        events, fresh = self._read_events(job_id, known)
        snapshot = self._fold(record, events, now)
        if fresh or document is None:
            self._write_snapshot(snapshot)  # the repair path: the next read is O(1) again
        return snapshot

    def _fold(self, record: JobRecord, events: tuple[StepEvent, ...], now: datetime) -> JobSnapshot:
        facts = tuple(fold_steps(record, events, now=now, max_attempts=self.max_attempts))
        updated = max((event.at for event in events), default=record.created_at)
        view = view_of(record, [f.view for f in facts], updated)
        return JobSnapshot(record, events, facts, view, now)

    def _read_events(self, job_id: str, known: Mapping[str, StepEvent]) -> tuple[tuple[StepEvent, ...], bool]:
        """The job's events: those in `known` (a snapshot's) and every other one listed, read on its own.
        Also whether any had to be read (then the snapshot was behind)."""
        events = dict(known)
        fresh = False
        for key in self.backend.list(self.layout.events(job_id)):
            if key in events:
                continue
            identity = self.layout.parse_event(key)
            raw = self.backend.get(key) if identity is not None else None
            if raw is None:
                continue
            event = parse_event(raw, key)
            if (
                event is not None
                and (event.step_index, event.step.value, event.attempt, event.kind.value) == identity
            ):
                events[key] = event
                fresh = True
            elif event is not None:
                log.warning("job.event.key_mismatch_ignored", key=key)
        return tuple(events[key] for key in sorted(events)), fresh

    def _event_key(self, event: StepEvent) -> str:
        return self.layout.event(
            event.job_id, event.step_index, event.step.value, event.attempt, event.kind.value
        )

    def _materialize(self, record: JobRecord, now: datetime) -> JobSnapshot:
        """Write what follows a won claim: the active marker, job.json, the first snapshot.

        The marker goes first: a retry repairs only a missing job.json, so a job.json written before a
        failed marker write would leave a job the sweep never sees (a lost notification would stall it).
        """
        self.activate(record.id)
        self.backend.put_if_absent(self.layout.job(record.id), encode(record))
        snapshot = self._fold(record, (), now)
        self._write_snapshot(snapshot)
        return snapshot

    def _event(
        self, record: JobRecord, step_index: int, attempt: int, kind: EventKind, at: datetime, **fields: Any
    ) -> StepEvent:
        return StepEvent(
            job_id=record.id,
            step_index=step_index,
            step=record.steps[step_index],
            attempt=attempt,
            kind=kind,
            at=at,
            **fields,
        )

    def _write(self, snapshot: JobSnapshot, event: StepEvent, now: datetime) -> Transition:
        key = self._event_key(event)
        reopened = snapshot.view.state.is_final and all(e.identity != event.identity for e in snapshot.events)
        if reopened:
            # `read` serves a finished job's snapshot alone, and only the sweep reads a job exactly
            # unasked: the job goes back in the sweep before its new event, so that a writer stopping
            # between the event and the snapshot leaves the repair to the sweep's next read.
            self.activate(event.job_id)
        recorded = self.backend.put_if_absent(key, encode(event))
        standing: StepEvent | None = event
        if not recorded:
            # Lost the race (or a duplicate): what stands is what the winner wrote.
            raw = self.backend.get(key)
            standing = parse_event(raw, key) if raw is not None else None
        others = tuple(e for e in snapshot.events if e.identity != event.identity)
        events = (*others, standing) if standing is not None else others
        updated = self._fold(snapshot.record, events, now)
        revived = snapshot.view.state.is_final and not updated.view.state.is_final
        if revived and not reopened:
            # A late success undid a failure: the job runs again, so the sweep must see it again.
            self.activate(event.job_id)
        # A recorded event is settled next (a LIST after the write), which folds in whatever a racing
        # writer added: the stored snapshot need not be read first to merge with it.
        updated = self._write_snapshot(updated, merge=not recorded)
        if recorded:
            updated = self._settle(updated, now)
            if not revived and not updated.view.state.is_final and self._was_final_without(updated, event):
                # The same, seen only now: the caller's snapshot (held since its claim) predates the
                # failure that ended the job, which the settling listing brought in.
                self.activate(event.job_id)
        if recorded:
            log.info(
                "job.step.transition",
                job_id=event.job_id,
                step=event.step.value,
                attempt=event.attempt,
                kind=event.kind.value,
                job_state=updated.view.state.value,
            )
        return Transition(updated.view, recorded, updated)

    def _write_snapshot(self, snapshot: JobSnapshot, *, merge: bool = True) -> JobSnapshot:
        """Merge `snapshot` with the stored one (a union of their events) and write the result unless
        the stored one holds it all already; returns the merged snapshot.

        The union means a snapshot never loses an event another writer put there, whatever the order in
        which racing writers get here; `_settle` catches the events neither of them had seen. A writer
        that settles right after (`merge=False`) skips the read: every event a stored snapshot holds was
        written before it, so the settling LIST finds it too.
        """
        key = self.layout.state(snapshot.record.id)
        if not merge:
            mine = {self._event_key(event): event for event in snapshot.events}
            self.backend.put(key, encode_snapshot(snapshot.record, mine, snapshot.view))
            return snapshot
        current = self.backend.get(key)
        stored = decode_snapshot(current, snapshot.record.id) if current is not None else None
        mine = {self._event_key(event): event for event in snapshot.events}
        if stored is not None and stored.record == snapshot.record:
            if mine.keys() <= stored.events.keys():
                if mine.keys() == stored.events.keys() and stored.view == snapshot.view:
                    return snapshot
                if mine.keys() == stored.events.keys():
                    # The same events, a different view: a lease ran out since (a step's last attempt
                    # failing by time writes no event), so the stored view is rewritten.
                    self.backend.put(key, encode_snapshot(snapshot.record, mine, snapshot.view))
                    return snapshot
                return self._fold(snapshot.record, _sorted_events(stored.events), snapshot.folded_at)
            if stored.events.keys() - mine.keys():
                mine.update(stored.events)
                snapshot = self._fold(snapshot.record, _sorted_events(mine), snapshot.folded_at)
        self.backend.put(key, encode_snapshot(snapshot.record, mine, snapshot.view))
        return snapshot

    def _was_final_without(self, snapshot: JobSnapshot, event: StepEvent) -> bool:
        """Whether the job had ended before `event` (its other events fold to a final state)."""
        others = tuple(e for e in snapshot.events if e.identity != event.identity)
        return self._fold(snapshot.record, others, snapshot.folded_at).view.state.is_final

    def _settle(self, snapshot: JobSnapshot, now: datetime) -> JobSnapshot:
        """After writing an event and the snapshot: LIST the events once more and fold in any a racing
        writer added meanwhile, so the last snapshot written holds every event.

        Why it converges: every writer writes its event before its snapshot and lists after it. The
        writer whose snapshot write came last therefore lists every event written before it, and rewrites
        the snapshot if one is missing (its rewrite is then the last, and it lists again).
        """
        for _ in range(_SETTLE_ROUNDS):
            have = {self._event_key(event): event for event in snapshot.events}
            events, fresh = self._read_events(snapshot.record.id, have)
            if not fresh:
                return snapshot
            snapshot = self._write_snapshot(self._fold(snapshot.record, events, now))
        return snapshot

    def _listed_view(self, job_id: str) -> JobView | None:
        raw = self.backend.get(self.layout.state(job_id))
        view = listed_view(raw, job_id) if raw is not None else None
        if view is not None:
            return view
        snapshot = self._load_from(job_id, raw, self._now(None), missing_ok=True)  # rebuilds the snapshot
        return snapshot.view if snapshot is not None else None

    def _attempt(self, snapshot: JobSnapshot, step_index: int, attempt: int | None) -> int:
        if attempt is not None:
            return check_attempt(attempt)
        return max(snapshot.facts[step_index].view.attempt, 1)


def _matches(view: JobView, kind: JobType | None, state: JobState | None) -> bool:
    return (kind is None or view.type is kind) and (state is None or view.state is state)


def _sorted_events(events: Mapping[str, StepEvent]) -> tuple[StepEvent, ...]:
    return tuple(events[key] for key in sorted(events))


def _announced_state(message: bytes) -> str | None:
    """The `state` a recorded completion message announced (None when it names none)."""
    try:
        state = json.loads(message).get("state")
    except (ValueError, AttributeError):
        return None
    return state if isinstance(state, str) else None


__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_ATTEMPTS",
    "RETRIES_EXHAUSTED",
    "SETTLE_QUIET",
    "DueEntry",
    "HeldClaim",
    "JobSnapshot",
    "JobStore",
    "SettleEntry",
    "Transition",
]

"""Folding a job's events into its state: a pure function of the *set* of events, never of their order.

Duplicate and reordered deliveries are therefore harmless: whichever order the events were written (or
listed) in, the fold reaches the same view. The rules, per step:

- any attempt succeeded → the step succeeded (outputs are deterministic, so a success from an older,
  superseded attempt is as good as one from the latest; a `succeeded` may even precede its `submitted`);
- a `cancelled` event (job control) fails the step, whatever finishes after it;
- a `retried` event on the latest attempt lifts its failure (`retrying`), and attempts are counted anew
  after it;
- otherwise the latest attempt decides: a non-retryable failure fails the step; a retryable failure or
  a claim whose lease expired before anything was submitted lets the next attempt start (`retrying`),
  unless that was the last allowed attempt (`StepRetriesExhausted`); a submission waits (`submitted`);
  a live claim is `claimed`.

The job: failed when a step failed (the steps after it show `skipped`), succeeded when every step did,
queued before any event, else running.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.model import JobRecord
    >>> now = datetime(2025, 1, 15, tzinfo=timezone.utc)
    >>> record = JobRecord(id="j1", type="convert", created_at=now, idempotency_key="k", input_digest="d")
    >>> fold_job(record, [], now=now, max_attempts=3).state.value
    'queued'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from shared.jobs.model import (
    JOB_CANCELLED,
    RETRIES_EXHAUSTED,
    EventKind,
    JobRecord,
    JobState,
    JobView,
    StepError,
    StepEvent,
    StepName,
    StepState,
    StepView,
)


class StepFacts(NamedTuple):
    """A step's fold plus what the store needs to act on it."""

    view: StepView
    # The latest attempt's claim expired (or it failed retryably) on the last allowed attempt, and no
    # failed event says so yet: the store writes one, so the failure is on record and not only derived.
    exhausted_unrecorded: bool = False
    # The attempt a `retried` event (job control) lifted last, 0 when none: attempts are counted after it.
    retry_base: int = 0


def fold_job(record: JobRecord, events: Iterable[StepEvent], *, now: datetime, max_attempts: int) -> JobView:
    """The job's view; see the module docstring for the rules."""
    mine = [event for event in events if event.job_id == record.id]
    facts = fold_steps(record, mine, now=now, max_attempts=max_attempts)
    updated = max((event.at for event in mine), default=record.created_at)
    return view_of(record, [fact.view for fact in facts], updated_at=updated)


def fold_steps(
    record: JobRecord, events: Iterable[StepEvent], *, now: datetime, max_attempts: int
) -> list[StepFacts]:
    by_step: dict[int, dict[tuple[int, EventKind], StepEvent]] = {}
    for event in events:
        if event.job_id != record.id or event.step_index >= len(record.steps):
            continue  # not this job's, or a step this job type does not have
        bucket = by_step.setdefault(event.step_index, {})
        key = (event.attempt, event.kind)
        bucket[key] = _pick(bucket.get(key), event)
    return [
        _fold_step(index, name, by_step.get(index, {}), now, max_attempts)
        for index, name in enumerate(record.steps)
    ]


def view_of(record: JobRecord, steps: list[StepView], updated_at: datetime | None = None) -> JobView:
    """The job-level state over already folded steps."""
    failed = next((step for step in steps if step.state is StepState.FAILED), None)
    if failed is not None:
        state = JobState.FAILED
        steps = [
            step.model_copy(update={"state": StepState.SKIPPED})
            if step.index > failed.index and step.state is StepState.PENDING
            else step
            for step in steps
        ]
    elif steps and all(step.state is StepState.SUCCEEDED for step in steps):
        state = JobState.SUCCEEDED
    elif all(step.state is StepState.PENDING for step in steps):
        state = JobState.QUEUED
    else:
        state = JobState.RUNNING
    outputs: dict[str, str] = {}
    for step in steps:
        if step.state is StepState.SUCCEEDED:
            outputs.update(step.outputs)
    return JobView(
        id=record.id,
        type=record.type,
        state=state,
        steps=tuple(steps),
        outputs=outputs,
        error=failed.error if failed is not None else None,
        created_at=record.created_at,
        updated_at=max(updated_at or record.created_at, record.created_at),
        input=record.input,
    )


def _pick(current: StepEvent | None, candidate: StepEvent) -> StepEvent:
    """Two events with one identity cannot both be stored; if handed both, keep one deterministically."""
    if current is None:
        return candidate
    order = (candidate.at, candidate.model_dump_json()) < (current.at, current.model_dump_json())
    return candidate if order else current


def _fold_step(
    index: int,
    name: StepName,
    events: dict[tuple[int, EventKind], StepEvent],
    now: datetime,
    max_attempts: int,
) -> StepFacts:
    if not events:
        return StepFacts(StepView(index=index, name=name, state=StepState.PENDING))
    attempts = sorted({attempt for attempt, _ in events})
    claims = [event.at for (_, kind), event in events.items() if kind is EventKind.CLAIMED]
    started_at = min(claims) if claims else min(event.at for event in events.values())
    successes = sorted(attempt for attempt, kind in events if kind is EventKind.SUCCEEDED)
    if successes and not any(kind is EventKind.CANCELLED for _, kind in events):
        winner = successes[0]
        done = events[(winner, EventKind.SUCCEEDED)]
        submitted = events.get((winner, EventKind.SUBMITTED)) or _latest_submission(events)
        view = StepView(
            index=index,
            name=name,
            state=StepState.SUCCEEDED,
            attempt=winner,
            service=submitted.service if submitted else None,
            task_id=done.task_id or (submitted.task_id if submitted else None),
            targets=submitted.targets if submitted else (),
            started_at=started_at,
            submitted_at=submitted.at if submitted else None,
            finished_at=done.at,
            outputs=dict(done.outputs),
            result=dict(done.result),
        )
        return StepFacts(view)

    latest = attempts[-1]
    claimed = events.get((latest, EventKind.CLAIMED))
    submitted = events.get((latest, EventKind.SUBMITTED))
    failed = events.get((latest, EventKind.FAILED))
    retries = [attempt for attempt, kind in events if kind is EventKind.RETRIED]
    base = max(retries, default=0)
    cancels = [event for (_, kind), event in events.items() if kind is EventKind.CANCELLED]
    error: StepError | None = None
    exhausted_unrecorded = False
    finished_at = None
    used = latest - base
    if cancels:
        # A cancellation stands even against a task that finishes later (its success is ignored).
        cancel = min(cancels, key=lambda event: event.at)
        state, finished_at = StepState.FAILED, cancel.at
        error = cancel.error or StepError(code=JOB_CANCELLED, message="the job was cancelled")
    elif base == latest:
        state = StepState.RETRYING  # a person asked for another try: the failure no longer stands
    elif failed is not None:
        error = failed.error or StepError(code="StepFailed", message="the step failed", retryable=False)
        finished_at = failed.at
        if not error.retryable:
            state = StepState.FAILED
        elif used >= max_attempts:
            state, error = StepState.FAILED, _exhausted(used, error)
        else:
            state = StepState.RETRYING
    elif submitted is not None:
        state = StepState.SUBMITTED
    elif claimed is not None and claimed.lease_expires_at is not None and claimed.lease_expires_at > now:
        state = StepState.CLAIMED
    elif used >= max_attempts:
        lapse = StepError(
            code="LeaseExpired", message="the attempt's lease expired before it submitted", retryable=True
        )
        state, error, exhausted_unrecorded = StepState.FAILED, _exhausted(used, lapse), True
    else:
        state = StepState.RETRYING
    shown = submitted or _latest_submission(events)
    view = StepView(
        index=index,
        name=name,
        state=state,
        attempt=latest,
        service=shown.service if shown else None,
        task_id=shown.task_id if shown else None,
        targets=shown.targets if shown else (),
        started_at=started_at,
        submitted_at=submitted.at if submitted else None,
        finished_at=finished_at if state is StepState.FAILED else None,
        lease_expires_at=claimed.lease_expires_at if claimed else None,
        error=error,
    )
    return StepFacts(view, exhausted_unrecorded, base)


def _latest_submission(events: dict[tuple[int, EventKind], StepEvent]) -> StepEvent | None:
    submissions = [event for (_, kind), event in events.items() if kind is EventKind.SUBMITTED]
    return max(submissions, key=lambda event: event.attempt) if submissions else None


def _exhausted(attempts: int, last: StepError) -> StepError:
    return StepError(
        code=RETRIES_EXHAUSTED,
        message=f"gave up after {attempts} attempt(s); the last one ended with {last.code}: {last.message}",
        retryable=False,
    )

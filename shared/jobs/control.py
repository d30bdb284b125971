"""Job control: retry a failed job, cancel an unfinished one, find the jobs of a source object.

Both controls are events like any other (`shared.jobs.fold` gives their meaning), written create-if-absent,
so a repeated or concurrent request changes nothing twice and the job's history is kept:

- `retried` goes on the failed step's latest attempt: the failure no longer stands, the step is
  `retrying` with a fresh attempt budget, and the job is active again for the sweep;
- `cancelled` goes on the current step: it fails with `JobCancelled`, whatever its service task
  reports later, and the steps after it show `skipped`.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.backend import InMemoryBackend
    >>> store = JobStore(InMemoryBackend(), clock=lambda: datetime(2025, 1, 15, tzinfo=timezone.utc))
    >>> view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "k")
    >>> cancel_job(store, view.id).error.code
    'JobCancelled'
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from shared.jobs.codec import MAX_ATTEMPTS_LIMIT
from shared.jobs.errors import JobStateConflict
from shared.jobs.ids import is_job_id
from shared.jobs.model import JOB_CANCELLED, EventKind, JobState, JobView, StepError, StepState
from shared.jobs.store import JobStore
from shared.logging import get_logger

log = get_logger(__name__)


def retry_job(store: JobStore, job_id: str, *, now: datetime | None = None) -> JobView:
    """Run a failed job again from its failed step; raises JobStateConflict for any other job."""
    snapshot = store.load(job_id, now=now)
    view = snapshot.view
    if view.state is not JobState.FAILED:
        raise JobStateConflict(job_id, view.state.value, "only a failed job can be retried")
    step = next(step for step in view.steps if step.state is StepState.FAILED)
    if step.error is not None and step.error.code == JOB_CANCELLED:
        raise JobStateConflict(job_id, "cancelled", "a cancelled job stays cancelled; submit it again")
    attempt = max(step.attempt, 1)
    if attempt + store.max_attempts > MAX_ATTEMPTS_LIMIT:
        raise JobStateConflict(
            job_id, view.state.value, f"its {step.name.value} step has used {attempt} attempts already"
        )
    transition = store.record_control(snapshot, step.index, attempt, EventKind.RETRIED, now=now)
    log.info("job.retried", job_id=job_id, step=step.name.value, after_attempt=attempt)
    return transition.view


def cancel_job(store: JobStore, job_id: str, *, now: datetime | None = None) -> JobView:
    """Stop an unfinished job at its current step; raises JobStateConflict for a finished one.

    A task already handed to a service runs on (the services offer no cancel for it); its outcome is
    ignored. Cancelling a job already cancelled answers it again.
    """
    snapshot = store.load(job_id, now=now)
    view = snapshot.view
    if view.state.is_final:
        if view.error is not None and view.error.code == JOB_CANCELLED:
            return view
        raise JobStateConflict(job_id, view.state.value, "a finished job cannot be cancelled")
    index = view.current_step
    assert index is not None  # an unfinished job has a step left
    step = view.steps[index]
    error = StepError(code=JOB_CANCELLED, message="the job was cancelled on request", retryable=False)
    attempt = max(step.attempt, 1)
    transition = store.record_control(snapshot, index, attempt, EventKind.CANCELLED, error=error, now=now)
    log.warning("job.cancelled", job_id=job_id, step=step.name.value, attempt=attempt)
    return transition.view


def index_source(store: JobStore, source_key: str, job_id: str) -> None:
    """Note that `job_id` works on the object `source_key` (for `jobs_of_source`); idempotent."""
    store.backend.put_if_absent(store.layout.source(source_key, job_id), b"")


def jobs_of_source(store: JobStore, source_key: str) -> Iterator[str]:
    """Ids of the jobs of one source object, newest first (job ids sort newest first)."""
    folder = store.layout.sources_folder(source_key)
    for key in store.backend.list(folder):
        job_id = key[len(folder) :]
        if is_job_id(job_id):
            yield job_id

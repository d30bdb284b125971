"""Settling finished jobs: the sweep's second look at a job, SETTLE_QUIET after it was finalised.

Finalising (publishing the completion, delivering the webhook, taking the job out of the sweep) happens as
soon as the job's events fold to a final state. A writer that read the job while it was still unfinished
(a notification handler, a poll, a cancel) can still write its event after that, and stop before it
rewrites `state.json`: its event may even change the outcome (a late success, a cancel that lands after a
success). Such a writer lives no longer than its function invocation, so one exact read `SETTLE_QUIET`
after the latest moment the outcome can have been reached (`settle_time`) sees everything it wrote:

- the job still folds to the outcome it was finalised with: its `state.json` is sealed
  (`JobStore.seal`), and from then on `GET /v1/jobs/{id}` reads it with one GET (issue 11);
- anything else (a new outcome, an unfinished job again): the job goes back in the sweep, which announces
  the new outcome (the outbox keys completion messages by outcome) or runs the job on.

Each finalisation files one settle entry (`JobStore.settle_later`, before the job leaves the sweep). An entry
whose outcome is no longer the job's, where the job's new outcome was announced too (a failed job retried
through the API and finished again), is dropped: that finalisation filed its own entry. An entry that cannot
be settled is filed again a quiet period later.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.backend import InMemoryBackend
    >>> from shared.jobs.store import JobStore
    >>> store = JobStore(InMemoryBackend())
    >>> settle_due_jobs(store, datetime(2025, 1, 15, tzinfo=timezone.utc))
    SettleReport(settled=0, reopened=0, errors=0, stopped_early=False)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.jobs.errors import JobNotFound
from shared.jobs.model import JobView
from shared.jobs.outbox import outcome_of
from shared.jobs.store import SETTLE_QUIET, JobStore, SettleEntry
from shared.logging import get_logger

__all__ = ["MAX_SETTLE_ENTRIES", "Announced", "SettleReport", "settle_due_jobs", "settle_time"]

log = get_logger(__name__)

# Settle entries one sweep takes at most (one LIST page): a backlog is settled over several ticks.
MAX_SETTLE_ENTRIES = 1000
# Whether a job's outcome was announced: `CompletionOutbox.sent(job_id, outcome)`.
Announced = Callable[[str, str], bool]


@dataclass
class SettleReport:
    """What one settling pass did."""

    settled: int = 0  # finished jobs whose state.json was sealed
    reopened: int = 0  # jobs put back in the sweep: their events changed after they were finalised
    errors: int = 0  # jobs that could not be settled (looked at again later)
    stopped_early: bool = False  # the sweep's time budget ran out first


def settle_time(store: JobStore, view: JobView, finalised_at: datetime) -> datetime:
    """When a job finalised at `finalised_at` may be settled: SETTLE_QUIET after the latest moment its
    outcome can have been reached. That is its last event, or a lease later when its last attempt failed
    by its lease running out (which writes no event); never before the finalisation that saw it. Rounded up
    to the millisecond, as settle keys are: an entry filed again is then never filed under its old key."""
    return _ceil_ms(max(finalised_at, view.updated_at + store.lease) + SETTLE_QUIET)


def settle_due_jobs(
    store: JobStore,
    now: datetime,
    *,
    announced: Announced | None = None,
    deadline: float | None = None,
    limit: int = MAX_SETTLE_ENTRIES,
) -> SettleReport:
    """Settle the jobs whose settle entry is due at `now` (earliest first, at most `limit` entries).

    `announced(job_id, outcome)`: whether that outcome's completion went out (the outbox); None when the
    deployment publishes none, and an entry whose outcome changed then always puts the job back in the
    sweep. `deadline`, a `time.monotonic()` value, stops the pass: the entries left stay due.
    """
    report = SettleReport()
    by_job: dict[str, list[SettleEntry]] = {}
    for entry in store.settle_due(now, limit):
        by_job.setdefault(entry.job_id, []).append(entry)
    done: list[SettleEntry] = []
    try:
        for job_id, entries in by_job.items():
            if deadline is not None and time.monotonic() >= deadline:
                report.stopped_early = True
                break
            try:
                # Earliest first: the last entry is the job's latest finalisation, the outcome that counts.
                _settle(store, entries[-1], now, report, announced)
            except Exception:
                # One job's trouble must not stop the others, nor its entries sort first for ever ahead of
                # every other: it is looked at again a quiet period later.
                log.exception("job.settle.failed", job_id=job_id)
                report.errors += 1
                if not _file_again(store, entries[-1], _ceil_ms(now + SETTLE_QUIET)):
                    continue
            done.extend(entries)
    finally:
        try:
            store.drop_settle(done)
        except Exception:
            # The entries stay and are settled again: settling twice changes nothing.
            log.exception("job.settle.drop_failed", entries=len(done))
    return report


def _settle(
    store: JobStore, entry: SettleEntry, now: datetime, report: SettleReport, announced: Announced | None
) -> None:
    try:
        snapshot = store.load(entry.job_id, now=now)
    except JobNotFound:
        return  # nothing to settle (a bucket cleaned by hand)
    view = snapshot.view
    outcome = outcome_of(view, snapshot.events)
    if view.state.is_final and outcome == entry.outcome:
        ready = settle_time(store, view, entry.at - SETTLE_QUIET)
        if now < ready:
            # An event since the finalisation that filed this entry (the job was revived and ended again
            # with the same outcome): a writer that read it during that second life may still be at work.
            _file_again(store, entry, ready, required=True)
            return
        if store.seal(snapshot):
            report.settled += 1
        else:
            report.reopened += 1  # a writer reopened it as it was sealed; `seal` put it back in the sweep
        return
    if view.state.is_final and announced is not None and announced(entry.job_id, outcome):
        return  # finalised again with its new outcome, which filed an entry of its own
    store.activate(entry.job_id)
    report.reopened += 1
    log.warning(
        "job.settle.changed_after_finalising",
        job_id=entry.job_id,
        finalised_as=entry.outcome,
        now_state=view.state.value,
    )


def _file_again(store: JobStore, entry: SettleEntry, at: datetime, *, required: bool = False) -> bool:
    """File `entry`'s job for settling at `at` instead; False when that failed (raised when `required`)."""
    try:
        store.settle_later(entry.job_id, at, entry.outcome)
    except Exception:
        if required:
            raise
        log.exception("job.settle.refile_failed", job_id=entry.job_id)
        return False
    return True


def _ceil_ms(moment: datetime) -> datetime:
    spare = moment.microsecond % 1000
    return moment + timedelta(microseconds=1000 - spare) if spare else moment

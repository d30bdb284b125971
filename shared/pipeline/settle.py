"""Settling finished jobs: the sweep's second look at a job, SETTLE_QUIET after it was finalised.

Finalising (publishing the completion, delivering the webhook, taking the job out of the sweep) happens as
soon as the job's events fold to a final state. A writer that read the job while it was still unfinished
(a notification handler, a poll, a cancel) can still write its event after that, and stop before it
rewrites `state.json`: its event may even change the outcome (a late success, a cancel that lands after a
success). Such a writer lives no longer than its function invocation, so one exact read once
`SETTLE_QUIET` has passed sees everything it wrote:

- the job still folds to the outcome it was finalised with: its `state.json` is sealed
  (`JobStore.seal`), and from then on `GET /v1/jobs/{id}` reads it with one GET (issue 11);
- anything else (a new outcome, an unfinished job again): the job goes back in the sweep, which announces
  the new outcome (the outbox keys completion messages by outcome) or runs the job on.

Each finalisation files one settle entry (`JobStore.settle_later`, before the job leaves the sweep), so a
job finalised twice is settled twice; the second seal changes nothing.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.backend import InMemoryBackend
    >>> from shared.jobs.store import JobStore
    >>> store = JobStore(InMemoryBackend())
    >>> settle_due_jobs(store, datetime(2025, 1, 15, tzinfo=timezone.utc))
    SettleReport(settled=0, reopened=0, stopped_early=False)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from shared.jobs.errors import JobNotFound
from shared.jobs.outbox import outcome_of
from shared.jobs.store import JobStore, SettleEntry
from shared.logging import get_logger

__all__ = ["SettleReport", "settle_due_jobs"]

log = get_logger(__name__)


@dataclass
class SettleReport:
    """What one settling pass did."""

    settled: int = 0  # finished jobs whose state.json was sealed
    reopened: int = 0  # jobs put back in the sweep: their events changed after they were finalised
    stopped_early: bool = False  # the sweep's time budget ran out first


def settle_due_jobs(store: JobStore, now: datetime, *, deadline: float | None = None) -> SettleReport:
    """Settle every job whose settle entry is due at `now` (earliest first; `deadline`, a
    `time.monotonic()` value, stops the pass: the entries left stay due for the next sweep)."""
    report = SettleReport()
    by_job: dict[str, list[SettleEntry]] = {}
    for entry in store.settle_due(now):
        by_job.setdefault(entry.job_id, []).append(entry)
    done: list[SettleEntry] = []
    try:
        for job_id, entries in by_job.items():
            if deadline is not None and time.monotonic() >= deadline:
                report.stopped_early = True
                break
            try:
                # Earliest first: the last entry is the job's latest finalisation, the outcome that counts.
                _settle(store, entries[-1], now, report)
            except Exception:
                # One job's trouble must not stop the others; its entries stay due for the next sweep.
                log.exception("job.settle.failed", job_id=job_id)
                continue
            done.extend(entries)
    finally:
        store.drop_settle(done)
    return report


def _settle(store: JobStore, entry: SettleEntry, now: datetime, report: SettleReport) -> None:
    try:
        snapshot = store.load(entry.job_id, now=now)
    except JobNotFound:
        return  # nothing to settle (a bucket cleaned by hand)
    view = snapshot.view
    if view.state.is_final and outcome_of(view, snapshot.events) == entry.outcome:
        if store.seal(snapshot):
            report.settled += 1
        else:
            report.reopened += 1  # a writer reopened it as it was sealed; `seal` put it back in the sweep
        return
    store.activate(entry.job_id)
    report.reopened += 1
    log.warning(
        "job.settle.changed_after_finalising",
        job_id=entry.job_id,
        finalised_as=entry.outcome,
        now_state=view.state.value,
    )

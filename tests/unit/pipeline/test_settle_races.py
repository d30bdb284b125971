"""Settling under races and trouble: scenarios from a review of the first settling version (an entry
filed early sealing a job that had just ended again; one unreadable job's entries sorting first for ever),
and checks that pin the listing's early stop and which of a job's due entries counts.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from datetime import timedelta

import pytest

from shared.jobs.model import JobState
from shared.jobs.outbox import outcome_of
from shared.jobs.store import SETTLE_QUIET, HeldClaim, JobStore
from shared.pipeline.settle import settle_due_jobs
from tests.unit.jobs.conftest import Clock
from tests.unit.jobs.test_read_races import DyingBackend, assert_read_is_truthful_or_swept
from tests.unit.pipeline.fakes import make_world
from tests.unit.pipeline.test_settle import converted_job, quiet, settle_keys


def finalise(store: JobStore, job_id: str) -> None:
    """What `_finalize` does to the store once the message and webhook are out."""
    snapshot = store.load(job_id)
    assert snapshot.view.state.is_final
    store.write_snapshot(snapshot)
    store.settle_later(job_id, store.clock() + SETTLE_QUIET, outcome_of(snapshot.view, snapshot.events))
    store.deactivate(job_id)


def submit(store: JobStore, job_id: str, index: int, task: str) -> int:
    claim = store.claim_step(job_id, index)
    assert isinstance(claim, HeldClaim)
    store.record_submitted(job_id, index, claim.attempt, service="oss", task_id=task, snapshot=claim.snapshot)
    return claim.attempt


def test_an_older_settle_entry_does_not_seal_a_job_that_ended_again_moments_ago() -> None:
    """The quiet period counts from the job's last event, not from the finalisation that filed the entry.
    A revived job (late success, no `retried` event) that ends again with the same outcome key
    (`failed-00`) just before its first entry is due gets sealed by that entry although its second
    finalisation was moments ago: a writer that read it unfinished before that (here a notification
    handler for step 1) would land after the seal's LIST and stop before its snapshot PUT, leaving a
    sealed `failed` that the events contradict."""
    clock = Clock()
    backend = DyingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-1")
    job_id = view.id
    first = submit(store, job_id, 0, "t-0")
    store.record_failed(job_id, 0, first, code="TaskTimedOut", message="slow", retryable=True)
    finalise(store, job_id)  # announced failed-00; entry E1 at T0 + quiet
    clock.advance(minutes=5)
    store.record_succeeded(job_id, 0, first, outputs={"audio": "work/a.mp3"})  # late success: revived
    second = submit(store, job_id, 1, "t-1")
    clock.advance(minutes=5)  # E1 is due now
    held = store.load(job_id)  # a step-1 notification handler's _match: the job is running
    assert not held.view.state.is_final
    store.record_failed(job_id, 1, second, code="TaskTimedOut", message="slow", retryable=True)
    finalise(store, job_id)  # failed-00 again; entry E2 at now + quiet
    # E1 is due and the outcome key is the same, but the job ended again moments ago: not sealed yet.
    assert settle_due_jobs(store, clock.now).settled == 0
    backend.dies_after = lambda key: "/events/" in key
    with pytest.raises(RuntimeError, match="died"):
        store.record_succeeded(job_id, 1, second, outputs={"raw": "work/r.json"}, snapshot=held)
    backend.revive()
    assert_read_is_truthful_or_swept(store, job_id)


def test_entries_that_keep_failing_do_not_stall_every_later_settle() -> None:
    """`settle_due` takes the first 1,000 due entries; an entry whose settling raises stays due and sorts
    first for ever, so 1,000 such entries (one unreadable job finalised often, or many) starve every
    entry behind them."""
    world = make_world()
    good = converted_job(world)
    poison = "j7ydecbtyzz0000000000000000"
    world.backend.put(f"jobs/{poison}/job.json", b"not json")  # load raises (not JobNotFound)
    start = world.clock.now - timedelta(hours=1)
    for n in range(1000):
        world.store.settle_later(poison, start + timedelta(milliseconds=n), "failed-00")
    world.clock.advance(seconds=quiet(world))
    for _ in range(3):
        world.timer()
    assert world.store.read(good) == world.store.get(good)
    assert all(good not in key for key in settle_keys(world)), "the good job's entry is never reached"


def test_settle_due_stops_listing_at_the_first_entry_not_due() -> None:
    """Kills the mutation `break` -> `continue` in settle_due, which the shipped test cannot see (the
    in-memory LIST is one call either way)."""
    world = make_world()
    job_id = converted_job(world)
    for minutes in range(1, 6):
        world.store.settle_later(job_id, world.clock.now + timedelta(hours=minutes), "succeeded-00")
    pulled: list[str] = []
    listing = world.backend.list

    def counting(prefix: str, start_after: str = "") -> Iterator[str]:
        for key in listing(prefix, start_after):
            if prefix == "jobs/_settle/":
                pulled.append(key)
            yield key

    world.backend.list = counting  # type: ignore[method-assign]
    world.clock.advance(seconds=quiet(world))
    assert len(world.store.settle_due(world.clock.now)) == 1
    assert len(pulled) == 2  # the due entry, then the first one not due


def test_the_latest_due_entry_is_the_outcome_settled() -> None:
    """Two finalisations due in one pass, `failed-01` then `succeeded-00`: the job is sealed, not put back
    in the sweep (kills `entries[-1]` -> `entries[0]`, which no shipped test notices)."""
    world = make_world()
    job_id = converted_job(world)
    for key in builtins.list(world.backend.list("jobs/_settle/")):
        world.backend.delete(key)
    at = world.clock.now + SETTLE_QUIET
    world.store.settle_later(job_id, at - timedelta(seconds=1), "failed-01")
    world.store.settle_later(job_id, at, "succeeded-00")
    world.clock.advance(seconds=quiet(world))
    report = settle_due_jobs(world.store, world.clock.now)
    assert (report.settled, report.reopened) == (1, 0)
    assert builtins.list(world.store.active_jobs()) == []
    assert world.store.read(job_id).state is JobState.SUCCEEDED

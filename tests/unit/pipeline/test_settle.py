"""Settling: the sweep's second look at a finished job, SETTLE_QUIET after it was finalised, seals its
`state.json` (the API then reads it with one GET) or, when the job's events changed after it was
finalised, puts it back in the sweep, which announces the new outcome (shared/pipeline/settle.py)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from shared.errors import ServiceError
from shared.jobs.codec import encode
from shared.jobs.control import retry_job
from shared.jobs.model import EventKind, JobState, StepEvent
from shared.jobs.store import SETTLE_QUIET
from shared.pipeline.settle import settle_time
from tests.unit.pipeline.fakes import World, make_world, notification_for


def converted_job(world: World, status: str = "Succeeded", **fields: str) -> str:
    """An API convert job whose OSS task ended with `status`, finalised by its notification."""
    world.oss.add("audiochain", "media/a.wav")
    view = world.orchestrator.submit_api_job("convert", {"source": "media/a.wav", "params": {"f": "mp3"}})
    submission = world.oss.submissions[0]
    world.oss.finish(submission)
    world.orchestrator.handle_notification(notification_for(submission, status=status, **fields))
    assert world.store.get(view.id).state.is_final
    assert list(world.store.active_jobs()) == []  # finalised: out of the sweep
    return view.id


def quiet(world: World) -> float:
    """Seconds from a job's last event until it is settled: a lease (its last attempt could still end by
    its lease running out) and SETTLE_QUIET."""
    return (world.store.lease + SETTLE_QUIET).total_seconds()


def announced(world: World) -> list[str]:
    return [json.loads(body)["state"] for _, body in world.mns.published]


def settle_keys(world: World) -> list[str]:
    return list(world.backend.list("jobs/_settle/"))


class CountingReads:
    """Counts GETs and LISTs of the world's backend while installed."""

    def __init__(self, world: World) -> None:
        self.calls: Counter[str] = Counter()
        backend = world.backend
        get, listing = backend.get, backend.list

        def counting_get(key: str) -> bytes | None:
            self.calls["get"] += 1
            return get(key)

        def counting_list(prefix: str, start_after: str = "") -> Iterator[str]:
            self.calls["list"] += 1
            return listing(prefix, start_after)

        backend.get = counting_get  # type: ignore[method-assign]
        backend.list = counting_list  # type: ignore[method-assign]


def test_a_finished_job_is_sealed_a_quiet_period_after_it_was_finalised() -> None:
    world = make_world()
    job_id = converted_job(world)
    assert len(settle_keys(world)) == 1
    assert world.timer().settled == 0  # not before the quiet period
    world.clock.advance(seconds=quiet(world))
    report = world.timer()
    assert (report.settled, report.reopened) == (1, 0)
    assert settle_keys(world) == [] and list(world.store.active_jobs()) == []
    counting = CountingReads(world)
    assert world.store.read(job_id) == world.store.get(job_id)
    counting.calls.clear()
    assert world.store.read(job_id).state is JobState.SUCCEEDED
    assert counting.calls == Counter({"get": 1})
    assert announced(world) == ["succeeded"]  # settling announces nothing again


def test_a_late_success_written_after_the_failure_was_announced_is_announced_by_the_second_look() -> None:
    """A notification handler read the job while its task ran, the task was failed meanwhile and the job
    finalised as failed; the handler's success event then landed and the handler stopped before its
    snapshot. Before settling, the job was out of the sweep for good and its outcome never announced."""
    world = make_world(max_attempts=1)
    job_id = converted_job(world, status="Failed", Code="InternalError")
    assert announced(world) == ["failed"]
    late = StepEvent(
        job_id=job_id, step_index=0, step="convert", attempt=1, kind=EventKind.SUCCEEDED,
        at=world.clock.now, outputs={"audio": "outputs/a.mp3"},
    )  # fmt: skip
    assert world.backend.put_if_absent(f"jobs/{job_id}/events/00-convert/01-succeeded.json", encode(late))
    world.clock.advance(seconds=quiet(world))
    report = world.timer()
    assert report.reopened == 1
    world.timer()  # the sweep finalises the job again, with its new outcome
    assert announced(world) == ["failed", "succeeded"]
    assert world.store.read(job_id).state is JobState.SUCCEEDED
    world.clock.advance(seconds=quiet(world))
    assert world.timer().settled == 1
    assert announced(world) == ["failed", "succeeded"]


def test_a_job_finalised_again_within_a_lease_files_the_same_entry() -> None:
    """A duplicate notification or a sweep finalises a finished job again within a lease of its last
    event: its settle time depends on the job's events, not on when it was finalised, so the entries do
    not pile up (a later finalisation files a later entry, settled in the same pass as the first)."""
    world = make_world()
    job_id = converted_job(world)
    world.store.activate(job_id)
    world.clock.advance(seconds=world.store.lease.total_seconds() / 2)
    assert world.timer().finalized == 1
    assert len(settle_keys(world)) == 1
    world.clock.advance(seconds=quiet(world))
    assert world.timer().settled == 1
    assert settle_keys(world) == []


def test_an_entry_that_cannot_be_settled_is_looked_at_again_later_not_first_for_ever() -> None:
    world = make_world()
    broken = "j7ydecbtyzz0000000000000000"
    world.backend.put(f"jobs/{broken}/job.json", b"not json")  # reading it raises, and not JobNotFound
    world.store.settle_later(broken, world.clock.now, "failed-00")
    report = world.timer()
    assert (report.errors, report.settled) == (1, 0)
    assert [key for key in settle_keys(world) if broken in key] != []
    assert all(world.store.layout.parse_settle(key)[0] > world.clock.now for key in settle_keys(world))  # type: ignore[index]


def test_a_failing_settle_listing_fails_no_sweep() -> None:
    world = make_world()
    converted_job(world)
    listing = world.backend.list

    def failing_list(prefix: str, start_after: str = "") -> Iterator[str]:
        if prefix == "jobs/_settle/":
            raise ServiceError("oss is unwell", service="oss", retryable=True)
        return listing(prefix, start_after)

    world.backend.list = failing_list  # type: ignore[method-assign]
    report = world.timer()
    assert (report.errors, report.settled) == (1, 0)


def test_a_settle_entry_of_a_vanished_job_is_dropped() -> None:
    world = make_world()
    job_id = converted_job(world)
    for key in list(world.backend.list(f"jobs/{job_id}/")):
        world.backend.delete(key)
    world.clock.advance(seconds=quiet(world))
    assert world.timer().settled == 0
    assert settle_keys(world) == []


def test_a_retried_job_that_finished_again_is_not_reopened_by_its_first_entry() -> None:
    """Failed, retried through the API, succeeded: the first finalisation's entry (`failed-00`) meets a
    job whose new outcome (`succeeded-01`) was announced, and is dropped rather than reopening it."""
    world = make_world(max_attempts=1, output_topic="audiochain-output")
    job_id = converted_job(world, status="Failed", Code="InternalError")
    retry_job(world.store, job_id)
    world.timer()  # the sweep runs the retried step: a new OSS task
    submission = world.oss.submissions[-1]
    world.oss.finish(submission)
    world.orchestrator.handle_notification(notification_for(submission))
    assert announced(world) == ["failed", "succeeded"]
    assert len(settle_keys(world)) == 2
    world.clock.advance(seconds=quiet(world) - 60)  # the first entry is due, the second a minute later
    report = world.orchestrator.sweep()
    assert (report.settled, report.reopened) == (0, 0)
    assert list(world.store.active_jobs()) == [] and len(settle_keys(world)) == 1
    assert world.timer().settled == 1
    assert announced(world) == ["failed", "succeeded"]


def test_settling_runs_when_the_sweep_hit_its_job_limit() -> None:
    world = make_world()
    done = converted_job(world)
    world.oss.add("audiochain", "media/b.wav")
    world.orchestrator.submit_api_job("convert", {"source": "media/b.wav", "params": {"f": "mp3"}})
    world.clock.advance(seconds=quiet(world))
    report = world.timer(limit=1)
    assert (report.examined, report.settled) == (1, 1)
    assert world.store.read(done).state is JobState.SUCCEEDED


def test_settle_times_are_whole_milliseconds_as_the_keys_are() -> None:
    """A settle time with microseconds would be truncated in its key: an entry filed again at a time in the
    same millisecond as its old key would be dropped with the old one, and the job never settled."""
    world = make_world()
    job_id = converted_job(world)
    view = world.store.get(job_id)
    finalised_at = world.clock.now + world.store.lease + timedelta(seconds=1, microseconds=500)
    at = settle_time(world.store, view, finalised_at)
    assert at.microsecond % 1000 == 0
    assert finalised_at + SETTLE_QUIET <= at < finalised_at + SETTLE_QUIET + timedelta(milliseconds=1)
    filed = world.store.settle_later(job_id, at, "succeeded-00")
    assert world.store.layout.parse_settle(filed.key) == (at, job_id, "succeeded-00")

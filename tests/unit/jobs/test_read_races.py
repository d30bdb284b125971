"""`JobStore.read` (what the API shows) against writers whose knowledge predates the job's end.

A finished job's snapshot is trusted alone only once the sweep sealed it (shared/pipeline/settle.py), a
quiet period after finalising, so each of these races leaves either a truthful read or a job in the sweep.
The scenarios come from a review of the first version, which trusted any finished snapshot and failed the
first four; the last two pin what re-activating a finished job costs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from shared.events.oss import OssRecord
from shared.jobs.backend import InMemoryBackend
from shared.jobs.model import JOB_CANCELLED, EventKind, JobState, StepError
from shared.jobs.outbox import outcome_of
from shared.jobs.store import SETTLE_QUIET, HeldClaim, JobSnapshot, JobStore
from shared.pipeline.settle import settle_due_jobs, settle_time
from tests.unit.jobs.conftest import Clock
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import World, make_world, notification_for


class DyingBackend(InMemoryBackend):
    """Once armed, the writer's process dies after the write `dies_after` matches: every later write
    raises, as if the function timed out or was killed there."""

    def __init__(self) -> None:
        super().__init__()
        self.dies_after: Callable[[str], bool] | None = None
        self.dead = False

    def _check(self) -> None:
        if self.dead:
            raise RuntimeError("the writer died here")

    def _after(self, key: str) -> None:
        if self.dies_after is not None and self.dies_after(key):
            self.dead = True

    def put(self, key: str, data: bytes) -> None:
        self._check()
        super().put(key, data)
        self._after(key)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self._check()
        written = super().put_if_absent(key, data)
        if written:
            self._after(key)
        return written

    def revive(self) -> None:
        self.dies_after, self.dead = None, False


def submitted_convert(store: JobStore) -> tuple[str, int]:
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-1")
    claim = store.claim_step(view.id, 0)
    assert isinstance(claim, HeldClaim)
    store.record_submitted(view.id, 0, claim.attempt, service="oss", task_id="t-1", snapshot=claim.snapshot)
    return view.id, claim.attempt


def assert_read_is_truthful_or_swept(store: JobStore, job_id: str) -> None:
    shown = store.read(job_id)  # first: `get` below repairs state.json
    swept = job_id in set(store.active_jobs())
    truth = store.get(job_id)
    assert swept or (shown.state, shown.error) == (truth.state, truth.error), (
        f"GET /v1/jobs shows {shown.state.value}, the events say {truth.state.value}, and no sweep will "
        "ever read the job again to repair state.json"
    )


def assert_settling_catches_up(store: JobStore, clock: Clock, job_id: str, finalised: JobSnapshot) -> None:
    """The settle entry the finaliser filed, then the settling look once due: a job whose outcome changed
    since it was announced must be back in the sweep (which announces the new one); any other must read
    as its events say."""
    announced_as = outcome_of(finalised.view, finalised.events)
    store.settle_later(job_id, settle_time(store, finalised.view, clock.now), announced_as)
    clock.advance(seconds=(store.lease + SETTLE_QUIET).total_seconds() + 1)
    settle_due_jobs(store, clock.now)
    truth = store.load(job_id)
    swept = job_id in set(store.active_jobs())
    if outcome_of(truth.view, truth.events) != announced_as:
        assert swept, "the outcome changed after it was announced, and no sweep will announce the new one"
    assert swept or store.read(job_id) == truth.view


def test_a_late_success_read_before_the_failure_and_dying_after_its_event(clock: Clock) -> None:
    """The notification handler matched the job while it was `submitted` (its held snapshot is not final);
    meanwhile the sweep timed the task out on its last attempt, finalised and deactivated the job; the
    success event then lands and the handler dies before its snapshot PUT."""
    backend = DyingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id, attempt = submitted_convert(store)
    held = store.load(job_id)  # orchestrator._match's read
    store.record_failed(job_id, 0, attempt, code="TaskTimedOut", message="too slow", retryable=True)
    assert store.get(job_id).state is JobState.FAILED
    finalised = store.load(job_id)
    store.deactivate(job_id)  # _finalize: announced `failed`, out of the sweep
    backend.dies_after = lambda key: "/events/" in key
    with pytest.raises(RuntimeError, match="died"):
        store.record_succeeded(job_id, 0, attempt, outputs={"audio": "work/a.mp3"}, snapshot=held)
    backend.revive()
    assert_read_is_truthful_or_swept(store, job_id)
    assert_settling_catches_up(store, clock, job_id, finalised)


def test_a_stale_failure_overwrites_a_finalised_success_then_dies_before_settling(
    clock: Clock,
) -> None:
    """The sweep read the job `submitted` and polled; a success notification finished and finalised it
    meanwhile. The sweep's timeout failure (its held snapshot is never re-read: it passes the sweep's own
    `now`, so HELD_SNAPSHOT_AGE never triggers) writes its event, then its un-merged snapshot PUT
    (merge=False) replaces the finalised snapshot with a FAILED one lacking the success, and the sweep
    dies before `_settle`. No writer crashed between event and snapshot, yet state.json is final and
    wrong."""
    backend = DyingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id, attempt = submitted_convert(store)
    held = store.load(job_id)  # _sweep_job's read
    store.record_succeeded(job_id, 0, attempt, outputs={"audio": "work/a.mp3"})  # the notification
    finalised = store.load(job_id)
    store.write_snapshot(finalised)  # ...and its _finalize
    store.deactivate(job_id)
    backend.dies_after = lambda key: key.endswith("/state.json")
    with pytest.raises(RuntimeError, match="died"):
        store.record_failed(
            job_id, 0, attempt, code="TaskTimedOut", message="too slow", retryable=False, snapshot=held
        )
    backend.revive()
    assert_read_is_truthful_or_swept(store, job_id)
    assert_settling_catches_up(store, clock, job_id, finalised)


def test_a_cancel_read_before_the_success_and_dying_after_its_event(clock: Clock) -> None:
    """cancel_job read the job running; a success finished and finalised it; the cancellation (which the
    fold lets override a success) lands and the API process dies before its snapshot PUT."""
    backend = DyingBackend()
    store = JobStore(backend, clock=clock)
    job_id, attempt = submitted_convert(store)
    held = store.load(job_id)  # cancel_job's read
    store.record_succeeded(job_id, 0, attempt, outputs={"audio": "work/a.mp3"})
    finalised = store.load(job_id)
    store.deactivate(job_id)
    backend.dies_after = lambda key: "/events/" in key
    error = StepError(code=JOB_CANCELLED, message="cancelled", retryable=False)
    with pytest.raises(RuntimeError, match="died"):
        store.record_control(held, 0, attempt, EventKind.CANCELLED, error=error)
    backend.revive()
    assert_read_is_truthful_or_swept(store, job_id)
    assert_settling_catches_up(store, clock, job_id, finalised)


def test_a_retry_racing_the_finaliser_is_found_by_the_settling_look(clock: Clock) -> None:
    """The reopening writer does PUT the marker first, but a finaliser that read the job before the
    retry's event deletes the marker afterwards (its DELETE is unconditional); the retry's writer dies
    between its event and its snapshot."""
    backend = DyingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id, attempt = submitted_convert(store)
    store.record_failed(job_id, 0, attempt, code="Bad", message="bad input", retryable=False)
    finalising = store.load(job_id)  # _sweep_job / _advance: final, about to publish and deactivate
    backend.dies_after = lambda key: "/events/" in key
    with pytest.raises(RuntimeError, match="died"):
        store.record_control(store.load(job_id), 0, attempt, EventKind.RETRIED)  # retry_job
    backend.revive()
    store.write_snapshot(finalising)  # _finalize, continued: its settle entry, then the marker's DELETE
    outcome = outcome_of(finalising.view, finalising.events)
    store.settle_later(job_id, settle_time(store, finalising.view, clock.now), outcome)
    store.deactivate(job_id)
    assert_read_is_truthful_or_swept(store, job_id)
    # The marker is gone, but the settling look finds the retry's event and puts the job back in the sweep.
    clock.advance(seconds=(store.lease + SETTLE_QUIET).total_seconds())
    assert settle_due_jobs(store, clock.now).reopened == 1
    assert list(store.active_jobs()) == [job_id]
    assert store.read(job_id).state is JobState.RUNNING


# What was checked and found fine ------------------------------------------------------------------------


def recording_world(**settings: object) -> tuple[World, Counter[str]]:
    world = make_world(**settings)
    calls: Counter[str] = Counter()
    backend = world.backend
    put, delete = backend.put, backend.delete

    def counting_put(key: str, data: bytes) -> None:
        if "/_active/" in key:
            calls["active_put"] += 1
        put(key, data)

    def counting_delete(key: str) -> None:
        if "/_active/" in key:
            calls["active_delete"] += 1
        delete(key)

    backend.put = counting_put  # type: ignore[method-assign]
    backend.delete = counting_delete  # type: ignore[method-assign]
    return world, calls


def upload(world: World) -> OssRecord:
    etag = world.oss.add("audiochain", "inbox/talk.wav", b"RIFF-audio")
    return oss_record("inbox/talk.wav", etag=etag, size=len(b"RIFF-audio"), request_id="REQ-1")


def test_a_whole_chain_with_duplicates_puts_the_marker_once() -> None:
    world, calls = recording_world()
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    submission = world.oss.submissions[0]
    world.oss.finish(submission)
    for _ in range(3):  # the convert notification, twice duplicated
        world.orchestrator.handle_notification(notification_for(submission))
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    world.timer()
    assert world.store.get(view.id).state is JobState.SUCCEEDED
    for _ in range(2):  # duplicates after the end
        world.orchestrator.handle_notification(notification_for(submission))
    world.orchestrator.handle_upload(upload(world))  # the upload event redelivered
    world.timer()
    # One marker PUT (the creation's). The DELETEs are one per finalisation: every duplicate that meets
    # the finished job finalises it again (as before), not something re-activation added.
    assert calls["active_put"] == 1


def test_a_reactivated_final_job_is_refinalised_without_a_second_message_or_webhook() -> None:
    world, calls = recording_world(webhook_secret="secret")
    sent: list[bytes] = []

    def sender(url: str, body: bytes, headers: object) -> int:
        sent.append(body)
        return 204

    world.orchestrator.webhooks.sender = sender
    world.oss.add("audiochain", "media/a.wav")
    view = world.orchestrator.submit_api_job(
        "convert", {"source": "media/a.wav", "params": {"f": "mp3"}, "callback_url": "https://h.example/x"}
    )
    submission = world.oss.submissions[0]
    world.oss.finish(submission)
    world.orchestrator.handle_notification(notification_for(submission))
    assert (len(world.mns.published), len(sent), list(world.store.active_jobs())) == (1, 1, [])
    # A late failure report of the same task: its writer re-activates the job, writes the event, dies.
    put_if_absent = world.backend.put_if_absent

    def dying(key: str, data: bytes) -> bool:
        written = put_if_absent(key, data)
        if "/events/" in key:
            raise RuntimeError("the writer died here")
        return written

    world.backend.put_if_absent = dying  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        world.orchestrator.handle_notification(notification_for(submission, status="Failed", Code="Bad"))
    world.backend.put_if_absent = put_if_absent  # type: ignore[method-assign]
    assert list(world.store.active_jobs()) == [view.id]
    world.timer()
    assert world.store.read(view.id) == world.store.get(view.id)  # the sweep's read repaired state.json
    states = [json.loads(body)["state"] for _, body in world.mns.published]
    assert (states, len(sent), list(world.store.active_jobs())) == (["succeeded"], 1, [])
    assert calls == Counter({"active_put": 2, "active_delete": 2})

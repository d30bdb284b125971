"""Reading a job costs O(1) requests: the `state.json` snapshot (record + events) is kept current by each
winning writer, checked against one listing of the events, and repaired from the events when it lags."""

from __future__ import annotations

import builtins
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest

import shared.jobs.store as store_module
from shared.errors import AudiochainError
from shared.jobs.backend import InMemoryBackend
from shared.jobs.codec import encode
from shared.jobs.errors import JobNotFound
from shared.jobs.model import EventKind, JobState, StepEvent, StepState
from shared.jobs.snapshot import decode_snapshot
from shared.jobs.store import HeldClaim, JobStore
from tests.unit.jobs.conftest import Clock


class CountingBackend(InMemoryBackend):
    """Counts the requests a store makes (what OSS would bill)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()

    def get(self, key: str) -> bytes | None:
        self.calls["get"] += 1
        return super().get(key)

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        self.calls["list"] += 1
        return super().list(prefix, start_after)

    def list_folders(self, prefix: str, start_after: str = "", limit: int = 1000) -> builtins.list[str]:
        self.calls["list"] += 1
        return super().list_folders(prefix, start_after, limit)


def finished_job(store: JobStore) -> str:
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-1")
    for index in range(3):
        claim = store.claim_step(view.id, index)
        assert claim is not None
        store.record_submitted(view.id, index, claim.attempt, service="oss", task_id=f"t-{index}")
        store.record_succeeded(view.id, index, claim.attempt, outputs={f"o{index}": f"work/{index}"})
    assert store.get(view.id).state is JobState.SUCCEEDED
    return view.id


def stored_snapshot_keys(backend: InMemoryBackend, job_id: str) -> set[str]:
    raw = backend.get(f"jobs/{job_id}/state.json")
    assert raw is not None
    document = decode_snapshot(raw, job_id)
    assert document is not None
    return set(document.events)


def event_keys(backend: InMemoryBackend, job_id: str) -> set[str]:
    return set(backend.list(f"jobs/{job_id}/events/"))


def test_a_read_is_one_get_and_one_list_whatever_the_history(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    job_id = finished_job(store)
    assert len(event_keys(backend, job_id)) == 9
    backend.calls.clear()
    view = store.get(job_id)
    assert view.state is JobState.SUCCEEDED and view.outputs == {
        "o0": "work/0",
        "o1": "work/1",
        "o2": "work/2",
    }
    assert backend.calls == Counter({"get": 1, "list": 1})


def test_every_transition_leaves_a_snapshot_holding_every_event(
    clock: Clock, backend: InMemoryBackend
) -> None:
    store = JobStore(backend, clock=clock)
    job_id = finished_job(store)
    assert stored_snapshot_keys(backend, job_id) == event_keys(backend, job_id)


def claimed_with_a_lost_submission(store: JobStore, backend: InMemoryBackend, clock: Clock) -> str:
    """A claimed convert job whose `submitted` event's writer stopped before rewriting the snapshot."""
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-1")
    claim = store.claim_step(view.id, 0)
    assert claim is not None
    lost = StepEvent(
        job_id=view.id, step_index=0, step="convert", attempt=1, kind=EventKind.SUBMITTED, at=clock.now,
        service="oss", task_id="t-1",
    )  # fmt: skip
    assert backend.put_if_absent(f"jobs/{view.id}/events/00-convert/01-submitted.json", encode(lost))
    return view.id


def test_an_event_whose_writer_stopped_before_the_snapshot_is_read_and_repaired(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    view_id = claimed_with_a_lost_submission(store, backend, clock)
    assert store.get(view_id).steps[0].state is StepState.SUBMITTED  # exact: the listing showed it
    assert stored_snapshot_keys(backend, view_id) == event_keys(backend, view_id)  # and repaired
    backend.calls.clear()
    store.get(view_id)
    assert backend.calls == Counter({"get": 1, "list": 1})


def test_a_writer_folding_a_stale_snapshot_settles_on_every_event(
    clock: Clock, backend: InMemoryBackend
) -> None:
    store = JobStore(backend, clock=clock)
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-1")
    assert store.claim_step(view.id, 0) is not None
    stale = store.load(view.id)  # read before the racing `submitted` below
    raced = StepEvent(
        job_id=view.id, step_index=0, step="convert", attempt=1, kind=EventKind.SUBMITTED, at=clock.now,
        service="oss", task_id="t-1",
    )  # fmt: skip
    assert backend.put_if_absent(f"jobs/{view.id}/events/00-convert/01-submitted.json", encode(raced))
    transition = store.record_control(stale, 0, 1, EventKind.CANCELLED)
    assert transition.recorded
    assert stored_snapshot_keys(backend, view.id) == event_keys(backend, view.id)
    assert {step.task_id for step in transition.view.steps} == {"t-1"}  # the raced event is folded in


def test_an_unreadable_or_old_layout_snapshot_is_rebuilt_from_the_events(
    clock: Clock, backend: InMemoryBackend
) -> None:
    store = JobStore(backend, clock=clock)
    job_id = finished_job(store)
    for junk in (b"not json", b'{"event_count": 9, "view": {}}'):
        backend.put(f"jobs/{job_id}/state.json", junk)
        assert store.get(job_id).state is JobState.SUCCEEDED
        assert stored_snapshot_keys(backend, job_id) == event_keys(backend, job_id)
        backend.put(f"jobs/{job_id}/state.json", junk)
        assert [job.id for job in store.list().jobs] == [job_id]  # the listing rebuilds it too


class SlowSnapshotBackend(InMemoryBackend):
    """Yields the thread around every operation and stalls snapshot writes, so racing writers' event
    and snapshot writes interleave in every order."""

    def get(self, key: str) -> bytes | None:
        time.sleep(0)
        return super().get(key)

    def put(self, key: str, data: bytes) -> None:
        time.sleep(0.001 if key.endswith("state.json") else 0)
        super().put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        time.sleep(0)
        return super().put_if_absent(key, data)

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        time.sleep(0)
        return super().list(prefix, start_after)


def race_four_transitions(store: JobStore, job_id: str) -> None:
    snapshot = store.load(job_id)
    writers: list[Callable[[], object]] = [
        lambda: store.record_submitted(job_id, 0, 1, service="oss", task_id="t-1"),
        lambda: store.record_succeeded(job_id, 0, 1, outputs={"audio": "work/a.flac"}),
        lambda: store.record_failed(job_id, 0, 1, code="Boom", message="boom", retryable=True),
        lambda: store.record_control(snapshot, 1, 1, EventKind.CANCELLED),
    ]
    barrier = threading.Barrier(len(writers))

    def run(write: Callable[[], object]) -> None:
        barrier.wait()
        write()

    threads = [threading.Thread(target=run, args=(write,)) for write in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_racing_writers_of_different_transitions_leave_a_complete_snapshot(clock: Clock) -> None:
    for _ in range(5):
        backend = SlowSnapshotBackend()
        store = JobStore(backend, clock=clock)
        view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-1")
        assert store.claim_step(view.id, 0) is not None
        race_four_transitions(store, view.id)
        assert stored_snapshot_keys(backend, view.id) == event_keys(backend, view.id)
        listed = store.list().jobs[0]
        exact = store.get(view.id)
        assert listed.model_dump() == exact.model_dump()


def test_listing_pages_by_folder_without_reading_the_jobs_keys(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    ids = []
    for number in range(30):
        clock.advance(seconds=1)
        ids.append(store.create_or_get("convert", {"source": f"in/{number}.wav"}, f"k-{number}")[0].id)
    newest_first = ids[::-1]
    backend.calls.clear()
    page = store.list(limit=10)
    assert [job.id for job in page.jobs] == newest_first[:10] and page.next_cursor == newest_first[9]
    assert backend.calls == Counter({"list": 1, "get": 10})  # one LIST, one GET per listed job
    rest = store.list(limit=25, cursor=page.next_cursor)
    assert [job.id for job in rest.jobs] == newest_first[10:] and rest.next_cursor is None


def test_a_filtered_listing_examines_at_most_its_scan_limit_per_call(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "_SCAN_LIMIT", 4)
    store = JobStore(InMemoryBackend(), clock=clock)
    for number in range(6):
        clock.advance(seconds=1)
        store.create_or_get("convert", {"source": f"in/{number}.wav"}, f"k-{number}")
    page = store.list(state="succeeded")
    assert page.jobs == [] and page.next_cursor is not None
    assert store.list(state="succeeded", cursor=page.next_cursor).next_cursor is None
    assert len(store.list(state="queued", limit=10).jobs) == 4  # a short page, to be continued


def test_a_held_claim_records_its_outcome_without_reading_the_job_again() -> None:
    backend = CountingBackend()
    store = JobStore(backend)
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-held")
    claim = store.claim_step(view.id, 0)
    assert isinstance(claim, HeldClaim)
    backend.calls.clear()
    submitted = store.record_submitted(
        view.id, 0, claim.attempt, service="oss", task_id="t-0", snapshot=claim.snapshot
    )
    # The event (put_if_absent), the snapshot (put) and the settling LIST: no GET, one LIST.
    assert (backend.calls["get"], backend.calls["list"]) == (0, 1)
    succeeded = store.record_succeeded(
        view.id, 0, claim.attempt, outputs={"o": "work/0"}, snapshot=submitted.snapshot
    )
    assert succeeded.view.steps[0].state is StepState.SUCCEEDED
    assert store.get(view.id) == succeeded.view


def test_an_event_written_after_the_claim_is_folded_in_by_the_settling_listing() -> None:
    store = JobStore(InMemoryBackend())
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-race")
    claim = store.claim_step(view.id, 0)
    assert isinstance(claim, HeldClaim)
    # A completion notification records the success before the submitter records its submission.
    store.record_succeeded(view.id, 0, None, outputs={"o": "work/0"})
    late = store.record_submitted(
        view.id, 0, claim.attempt, service="oss", task_id="t-0", snapshot=claim.snapshot
    )
    assert late.recorded and late.view.steps[0].state is StepState.SUCCEEDED
    assert late.snapshot.view == store.get(view.id)
    assert stored_snapshot_keys(store.backend, view.id) == {  # type: ignore[arg-type]
        key for key in store.backend.list(f"jobs/{view.id}/events/")
    }


def test_a_late_success_on_a_held_snapshot_puts_the_revived_job_back_in_the_sweep() -> None:
    store = JobStore(InMemoryBackend(), clock=Clock(), max_attempts=1)
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-late")
    claim = store.claim_step(view.id, 0)
    assert isinstance(claim, HeldClaim)
    # While the holder works, the attempt is failed for good and the job finalised (out of the sweep).
    assert store.record_failed(view.id, 0, 1, code="Bad", message="bad", retryable=False).view.state.is_final
    store.deactivate(view.id)
    late = store.record_succeeded(view.id, 0, 1, outputs={"o": "work/0"}, snapshot=claim.snapshot)
    assert late.view.state is JobState.RUNNING
    assert list(store.active_jobs()) == [view.id]


def test_a_held_snapshot_older_than_the_limit_is_read_again() -> None:
    clock = Clock()
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    view, _ = store.create_or_get("transcribe_upload", {"source": "in/a.wav"}, "upload-old")
    claim = store.claim_step(view.id, 0)
    assert isinstance(claim, HeldClaim)
    clock.advance(seconds=store_module.HELD_SNAPSHOT_AGE.total_seconds() + 1)
    backend.calls.clear()
    store.record_submitted(view.id, 0, claim.attempt, service="oss", task_id="t-0", snapshot=claim.snapshot)
    assert backend.calls["get"] >= 1 and backend.calls["list"] == 2  # the read, then the settling LIST


# What the API reads: a finished job from its snapshot alone -----------------------------------------


class StoppingBackend(CountingBackend):
    """A writer that stops right after writing an event: every write after it fails, as if its process
    died there."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped = False
        self.armed = False

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self._check()
        written = super().put_if_absent(key, data)
        self.stopped = self.armed and written and "/events/" in key
        return written

    def put(self, key: str, data: bytes) -> None:
        self._check()
        super().put(key, data)

    def _check(self) -> None:
        if self.stopped:
            raise RuntimeError("the writer stopped here")


class RacingBackend(CountingBackend):
    """Runs `before_put_state` once, just before the next write of a `state.json`."""

    def __init__(self) -> None:
        super().__init__()
        self.before_put_state: Callable[[], object] | None = None

    def put(self, key: str, data: bytes) -> None:
        hook, self.before_put_state = (
            (self.before_put_state, None) if key.endswith("/state.json") else (None, self.before_put_state)
        )
        if hook is not None:
            hook()
        super().put(key, data)


def failed_job(store: JobStore) -> str:
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-failed")
    claim = store.claim_step(view.id, 0)
    assert claim is not None
    store.record_failed(view.id, 0, claim.attempt, code="Bad", message="bad input", retryable=False)
    store.deactivate(view.id)  # finalised: out of the sweep
    assert store.get(view.id).state is JobState.FAILED
    return view.id


def test_the_api_reads_a_sealed_finished_job_from_its_snapshot_alone(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    job_id = finished_job(store)
    backend.calls.clear()
    assert store.read(job_id) == store.get(job_id)  # not sealed yet: read exactly
    assert backend.calls == Counter({"get": 2, "list": 2})
    assert store.seal(store.load(job_id))
    backend.calls.clear()
    assert store.read(job_id) == store.get(job_id)
    backend.calls.clear()
    store.read(job_id)
    assert backend.calls == Counter({"get": 1})


def test_any_writer_unseals_the_snapshot(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id = failed_job(store)
    assert store.seal(store.load(job_id))
    retry = store.record_control(store.load(job_id), 0, 1, EventKind.RETRIED)
    assert retry.view.state is JobState.RUNNING
    backend.calls.clear()
    assert store.read(job_id).state is JobState.RUNNING
    assert backend.calls["list"] == 1  # read exactly: the retry's snapshot is not sealed


def test_only_a_finished_job_is_sealed(store: JobStore) -> None:
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-open")
    with pytest.raises(AudiochainError, match="not finished"):
        store.seal(store.load(view.id))


def test_an_event_written_while_sealing_unseals_and_reactivates(clock: Clock) -> None:
    """A writer that reopened the job between the sealing read and the sealed write: the listing after
    the write finds its event, so the snapshot is merged unsealed and the job is back in the sweep."""
    backend = RacingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id = failed_job(store)
    settling = store.load(job_id)
    retried = StepEvent(
        job_id=job_id, step_index=0, step="convert", attempt=1, kind=EventKind.RETRIED, at=clock.now,
    )  # fmt: skip
    backend.before_put_state = lambda: backend.put_if_absent(
        f"jobs/{job_id}/events/00-convert/01-retried.json", encode(retried)
    )
    assert not store.seal(settling)
    assert list(store.active_jobs()) == [job_id]
    assert store.read(job_id).state is JobState.RUNNING
    assert stored_snapshot_keys(backend, job_id) == event_keys(backend, job_id)


def test_the_api_reads_an_unfinished_job_exactly(clock: Clock) -> None:
    backend = CountingBackend()
    store = JobStore(backend, clock=clock)
    view_id = claimed_with_a_lost_submission(store, backend, clock)
    backend.calls.clear()
    assert store.read(view_id).steps[0].state is StepState.SUBMITTED
    # The snapshot once (not again for the fold), the listing, the event the snapshot lacked, and the
    # repair's read of the stored snapshot it merges with: what `get` costs, no more.
    assert backend.calls == Counter({"get": 3, "list": 1})
    assert stored_snapshot_keys(backend, view_id) == event_keys(backend, view_id)


def test_an_unknown_job_reads_as_not_found(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        store.read("j7ydecbtyzz0000000000000001")


def test_a_writer_stopping_after_reopening_a_finished_job_leaves_it_to_the_sweep(clock: Clock) -> None:
    backend = StoppingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    job_id = failed_job(store)
    assert store.seal(store.load(job_id))
    snapshot = store.load(job_id)
    backend.armed = True
    with pytest.raises(RuntimeError, match="stopped"):
        store.record_control(snapshot, 0, 1, EventKind.RETRIED)  # the retry's event, then nothing
    backend.stopped = backend.armed = False
    assert list(store.active_jobs()) == [job_id]  # put back in the sweep before the event
    assert store.read(job_id).state is JobState.FAILED  # the sealed snapshot lags until an exact read...
    assert store.load(job_id).view.state is JobState.RUNNING  # ...such as the sweep's, repairs it
    assert store.read(job_id).state is JobState.RUNNING


def test_a_known_event_written_again_on_a_finished_job_keeps_it_out_of_the_sweep(clock: Clock) -> None:
    store = JobStore(CountingBackend(), clock=clock)
    job_id = finished_job(store)
    store.deactivate(job_id)
    again = store.record_succeeded(job_id, 2, 1, outputs={"o2": "work/2"})  # a duplicate notification
    assert not again.recorded
    assert list(store.active_jobs()) == []


def test_a_late_event_on_a_finished_job_puts_it_back_in_the_sweep(clock: Clock) -> None:
    store = JobStore(CountingBackend(), clock=clock, max_attempts=1)
    job_id = failed_job(store)
    late = store.record_submitted(job_id, 0, 1, service="oss", task_id="t-late")  # a stale submitter
    assert late.recorded and late.view.state is JobState.FAILED
    assert list(store.active_jobs()) == [job_id]  # the sweep reads it once more and finalises it again


def test_a_view_changed_by_time_alone_is_rewritten_for_listings(clock: Clock) -> None:
    """The last attempt's lease ran out: the fold says failed although no event was written, and the
    finaliser's snapshot write must carry that view (listings read it, and only it)."""
    backend = CountingBackend()
    store = JobStore(backend, clock=clock, max_attempts=1)
    view, _ = store.create_or_get("convert", {"source": "in/a.wav"}, "upload-expired")
    assert store.claim_step(view.id, 0) is not None
    clock.advance(seconds=store.lease.total_seconds() + 1)
    snapshot = store.load(view.id)
    assert snapshot.view.state is JobState.FAILED
    store.write_snapshot(snapshot)
    assert store.list().jobs[0].state is JobState.FAILED

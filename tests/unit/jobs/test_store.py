from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from shared.errors import InvalidRequestError, ServiceError
from shared.jobs.backend import InMemoryBackend
from shared.jobs.errors import IdempotencyConflict, JobNotFound
from shared.jobs.model import RETRIES_EXHAUSTED, JobRecord, JobState, JobType, StepState
from shared.jobs.store import JobStore
from tests.unit.jobs.conftest import Clock

CONVERT_INPUT = {"source": "in/a.wav", "params": {"f": "mp3"}}


def new_job(store: JobStore, key: str = "request-1", job_type: JobType = JobType.CONVERT) -> str:
    view, created = store.create_or_get(job_type, CONVERT_INPUT, key)
    assert created
    return view.id


def test_creating_twice_with_one_key_gives_one_job(store: JobStore) -> None:
    first, created = store.create_or_get("convert", CONVERT_INPUT, "request-1")
    again, created_again = store.create_or_get("convert", dict(CONVERT_INPUT), "request-1")
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.state is JobState.QUEUED
    assert store.find("request-1") == again
    assert store.find("request-2") is None


def test_reusing_a_key_for_a_different_request_is_a_conflict(store: JobStore) -> None:
    job_id = new_job(store)
    with pytest.raises(IdempotencyConflict) as caught:
        store.create_or_get("convert", {"source": "in/other.wav"}, "request-1")
    assert caught.value.job_id == job_id
    assert (caught.value.field, caught.value.rule) == ("idempotency_key", "idempotency_key_reused")
    with pytest.raises(IdempotencyConflict):
        store.create_or_get("merge", CONVERT_INPUT, "request-1")


def test_creation_writes_the_documented_layout(store: JobStore, backend: InMemoryBackend) -> None:
    job_id = new_job(store)
    keys = backend.all_keys()
    assert f"jobs/{job_id}/job.json" in keys and f"jobs/{job_id}/state.json" in keys
    assert f"jobs/_active/{job_id}" in keys
    assert sum(key.startswith("jobs/_claims/") for key in keys) == 1
    record = JobRecord.model_validate_json(backend.get(f"jobs/{job_id}/job.json") or b"")
    assert record.input == CONVERT_INPUT and record.idempotency_key == "request-1"
    claim = store.claim_step(job_id, 0)
    assert claim is not None
    assert f"jobs/{job_id}/events/00-convert/01-claimed.json" in backend.all_keys()


def test_a_creator_that_stopped_after_its_claim_is_repaired_by_the_retry(
    store: JobStore, backend: InMemoryBackend
) -> None:
    job_id = new_job(store)
    backend.delete(f"jobs/{job_id}/job.json")
    backend.delete(f"jobs/_active/{job_id}")
    view, created = store.create_or_get("convert", CONVERT_INPUT, "request-1")
    assert (view.id, created) == (job_id, False)
    assert backend.get(f"jobs/{job_id}/job.json") is not None
    assert list(store.active_jobs()) == [job_id]


def test_unknown_and_malformed_job_ids_are_told_apart(store: JobStore) -> None:
    with pytest.raises(JobNotFound):
        store.get("j" + "1" * 26)
    with pytest.raises(InvalidRequestError) as caught:
        store.get("nope")
    assert caught.value.rule == "job_id_format"


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (lambda s: s.create_or_get("audio", {}, "k"), "type", "job_type"),
        (lambda s: s.create_or_get("convert", {}, " "), "idempotency_key", "required"),
        (lambda s: s.create_or_get("convert", {"x": {1, 2}}, "k"), "input", "json"),
        (lambda s: s.create_or_get("convert", ["not", "a", "mapping"], "k"), "input", "object"),
        (lambda s: s.list(limit=0), "limit", "range"),
        (lambda s: s.list(state="done"), "state", "job_state"),
        (lambda s: s.list(cursor="../x"), "cursor", "job_id_format"),
    ],
)
def test_bad_arguments_name_the_field_and_rule(
    store: JobStore, call: Callable[[JobStore], object], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        call(store)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_a_step_can_be_claimed_once_while_its_lease_lives(store: JobStore, clock: Clock) -> None:
    job_id = new_job(store)
    claim = store.claim_step(job_id, 0)
    assert claim is not None and claim.attempt == 1
    assert claim.lease_expires_at == clock.now + timedelta(minutes=10)
    assert store.claim_step(job_id, 0) is None
    clock.advance(minutes=9)
    assert store.claim_step(job_id, 0) is None


def test_a_stale_claim_lets_the_next_claimant_start_attempt_two(store: JobStore, clock: Clock) -> None:
    job_id = new_job(store)
    assert store.claim_step(job_id, 0) is not None
    clock.advance(minutes=11)
    assert store.get(job_id).steps[0].state is StepState.RETRYING
    second = store.claim_step(job_id, 0)
    assert second is not None and second.attempt == 2


def test_when_every_attempt_lapses_the_step_fails_with_retries_exhausted(
    store: JobStore, clock: Clock, backend: InMemoryBackend
) -> None:
    job_id = new_job(store)
    for attempt in (1, 2, 3):
        claim = store.claim_step(job_id, 0)
        assert claim is not None and claim.attempt == attempt
        clock.advance(minutes=11)
    assert store.claim_step(job_id, 0) is None
    view = store.get(job_id)
    assert view.state is JobState.FAILED
    assert view.error is not None and view.error.code == RETRIES_EXHAUSTED
    # The failure is on record, not only derived from the clock.
    failed = json.loads(backend.get(f"jobs/{job_id}/events/00-convert/03-failed.json") or b"{}")
    assert failed["error"]["code"] == RETRIES_EXHAUSTED


def test_a_later_step_cannot_be_claimed_before_the_earlier_one_succeeds(store: JobStore) -> None:
    view, _ = store.create_or_get(JobType.TRANSCRIBE_UPLOAD, {"key": "inbox/a.wav"}, "upload-1")
    assert store.claim_step(view.id, 1) is None
    with pytest.raises(InvalidRequestError) as caught:
        store.claim_step(view.id, 3)
    assert (caught.value.field, caught.value.rule) == ("step_index", "range")


def test_submission_indexes_the_task_for_notifications(store: JobStore) -> None:
    job_id = new_job(store)
    claim = store.claim_step(job_id, 0)
    assert claim is not None
    transition = store.record_submitted(
        job_id, 0, claim.attempt, service="oss", task_id="t-1", targets=["oss://b/k"]
    )
    assert transition.recorded and transition.view.steps[0].state is StepState.SUBMITTED
    ref = store.find_task("t-1")
    assert ref is not None and (ref.job_id, ref.step_index, ref.attempt, ref.service) == (job_id, 0, 1, "oss")
    assert store.find_task("t-unknown") is None


def test_success_is_recorded_once_and_a_duplicate_reads_what_stands(store: JobStore) -> None:
    job_id = new_job(store)
    store.claim_step(job_id, 0)
    first = store.record_succeeded(job_id, 0, outputs={"audio": "work/a.mp3"})
    duplicate = store.record_succeeded(job_id, 0, outputs={"audio": "work/other.mp3"})
    assert first.recorded and not duplicate.recorded
    assert duplicate.view.state is JobState.SUCCEEDED
    assert duplicate.view.outputs == {"audio": "work/a.mp3"}


def test_a_retryable_failure_allows_a_new_attempt_and_a_fatal_one_ends_the_job(store: JobStore) -> None:
    job_id = new_job(store)
    store.claim_step(job_id, 0)
    store.record_failed(job_id, 0, code="Throttling", message="slow down", retryable=True)
    second = store.claim_step(job_id, 0)
    assert second is not None and second.attempt == 2
    view = store.record_failed(job_id, 0, 2, code="InvalidParameter", message="bad", retryable=False).view
    assert view.state is JobState.FAILED and view.error is not None and view.error.code == "InvalidParameter"
    assert store.claim_step(job_id, 0) is None


def test_every_order_of_the_recording_calls_ends_in_the_same_job(clock: Clock) -> None:
    def submitted(s: JobStore, job_id: str) -> object:
        return s.record_submitted(job_id, 0, 1, service="oss", task_id="t-1")

    def succeeded(s: JobStore, job_id: str) -> object:
        return s.record_succeeded(job_id, 0, outputs={"audio": "work/a.mp3"}, task_id="t-1")

    def late_failure(s: JobStore, job_id: str) -> object:
        return s.record_failed(job_id, 0, 1, code="InternalError", message="late", retryable=True)

    calls = [submitted, succeeded, succeeded, late_failure]
    views = set()
    for ordering in itertools.permutations(calls):
        store = JobStore(InMemoryBackend(), clock=clock)
        job_id = new_job(store)
        assert store.claim_step(job_id, 0) is not None
        for call in ordering:
            call(store, job_id)
        view = store.get(job_id)
        assert view.state is JobState.SUCCEEDED
        views.add(view.model_dump_json(exclude={"id"}))
    assert len(views) == 1


def test_listing_shows_newest_first_filters_and_pages(store: JobStore, clock: Clock) -> None:
    ids = []
    for index in range(5):
        clock.advance(seconds=1)
        ids.append(new_job(store, f"request-{index}", JobType.CONVERT if index % 2 else JobType.MERGE))
    store.claim_step(ids[4], 0)
    store.record_succeeded(ids[4], 0, outputs={"audio": "a"})
    newest_first = list(reversed(ids))
    assert [view.id for view in store.list().jobs] == newest_first
    first = store.list(limit=2)
    second = store.list(limit=2, cursor=first.next_cursor)
    assert [v.id for v in first.jobs + second.jobs] == newest_first[:4]
    assert [v.id for v in store.list(job_type="convert").jobs] == [ids[3], ids[1]]
    assert [v.id for v in store.list(state="succeeded").jobs] == [ids[4]]
    assert store.list(limit=5).next_cursor == ids[0]
    assert store.list(cursor=ids[0]).jobs == []


def test_finishing_publishes_once_and_leaves_the_active_list(store: JobStore) -> None:
    job_id = new_job(store)
    assert list(store.active_jobs()) == [job_id]
    assert not store.completion_published(job_id)
    assert store.mark_completion_published(job_id, "{}") is True
    assert store.mark_completion_published(job_id, "{}") is False
    assert store.completion_published(job_id)
    store.deactivate(job_id)
    assert list(store.active_jobs()) == []


class _FailingOnce(InMemoryBackend):
    """Refuses the first write whose key contains `fragment`, as a throttled or dropped OSS PUT would."""

    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def put(self, key: str, data: bytes) -> None:
        if self.fragment and self.fragment in key:
            self.fragment = ""
            raise ServiceError("unavailable", service="oss", code="ServiceUnavailable", retryable=True)
        super().put(key, data)


def test_a_creation_interrupted_before_its_active_marker_is_still_swept_after_the_retry(clock: Clock) -> None:
    store = JobStore(_FailingOnce("/_active/"), clock=clock)
    with pytest.raises(ServiceError):
        store.create_or_get("convert", CONVERT_INPUT, "request-1")
    view, created = store.create_or_get("convert", CONVERT_INPUT, "request-1")
    assert not created
    assert list(store.active_jobs()) == [view.id]


def test_a_completion_for_another_outcome_is_recorded_over_the_first(store: JobStore) -> None:
    job_id = new_job(store)
    assert store.mark_completion_published(job_id, '{"state": "failed"}')
    assert store.completion_published(job_id, "failed")
    assert not store.completion_published(job_id, "succeeded")
    assert store.mark_completion_published(job_id, '{"state": "succeeded"}') is True
    assert store.mark_completion_published(job_id, '{"state": "succeeded"}') is False
    assert store.completion_published(job_id, JobState.SUCCEEDED)


def test_a_failure_message_quoting_a_presigned_url_is_stored_scrubbed() -> None:
    from shared.jobs.backend import InMemoryBackend
    from shared.jobs.store import JobStore

    store = JobStore(InMemoryBackend())
    view, _ = store.create_or_get("convert", {"source": "a.wav"}, "k-scrub")
    assert store.claim_step(view.id, 0) is not None
    url = "https://b.oss-cn-hangzhou.aliyuncs.com/a.wav?x-oss-signature=0123456789abcdef&x-oss-expires=60"
    failed = store.record_failed(
        view.id, 0, code="FILE_403_FORBIDDEN", message=f"cannot fetch {url}", retryable=False
    )
    assert failed.view.error is not None
    assert "0123456789abcdef" not in failed.view.error.message

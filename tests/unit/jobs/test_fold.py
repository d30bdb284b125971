from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from shared.jobs.fold import fold_job, fold_steps
from shared.jobs.model import (
    RETRIES_EXHAUSTED,
    EventKind,
    JobState,
    JobView,
    StepError,
    StepEvent,
    StepState,
)
from tests.unit.jobs.conftest import T0, event, record

CLAIMED, SUBMITTED, SUCCEEDED, FAILED = (
    EventKind.CLAIMED,
    EventKind.SUBMITTED,
    EventKind.SUCCEEDED,
    EventKind.FAILED,
)
RETRYABLE = StepError(code="ServiceUnavailable", message="busy", retryable=True)
FATAL = StepError(code="InvalidParameter.ResourceContentBad", message="cannot decode", retryable=False)


def fold(events: list[StepEvent], minutes: int = 1, max_attempts: int = 3) -> JobView:
    return fold_job(record(), events, now=T0 + timedelta(minutes=minutes), max_attempts=max_attempts)


HAPPY = [
    event(0, 1, CLAIMED, 0),
    event(0, 1, SUBMITTED, 1, service="oss", task_id="t-1", targets=("oss://b/work/x.flac",)),
    event(0, 1, SUCCEEDED, 3, outputs={"normalized": "work/x.flac"}),
    event(1, 1, CLAIMED, 4),
    event(1, 1, SUBMITTED, 5, service="dashscope", task_id="t-2"),
]
RETRIED = [
    event(0, 1, CLAIMED, 0),
    event(0, 1, FAILED, 1, error=RETRYABLE),
    event(0, 2, CLAIMED, 2),
    event(0, 2, SUBMITTED, 2, service="oss", task_id="t-9"),
    event(0, 2, SUCCEEDED, 4, outputs={"normalized": "work/x.flac"}),
]
# A late failure of a superseded attempt must not undo the success of a newer one, in any order.
LATE_FAILURE = [
    event(0, 1, CLAIMED, 0),
    event(0, 2, CLAIMED, 11),
    event(0, 2, SUCCEEDED, 12, outputs={"normalized": "work/x.flac"}),
    event(0, 1, FAILED, 13, error=RETRYABLE),
    event(0, 2, SUBMITTED, 14, service="oss", task_id="t-2"),
]


@pytest.mark.parametrize("events", [HAPPY, RETRIED, LATE_FAILURE], ids=["happy", "retried", "late-failure"])
def test_every_ordering_of_the_same_events_folds_to_the_same_view(events: list[StepEvent]) -> None:
    expected = fold(events, minutes=20)
    for ordering in itertools.permutations(events):
        assert fold(list(ordering), minutes=20) == expected


def test_a_job_with_no_events_is_queued_with_every_step_pending() -> None:
    view = fold([])
    assert view.state is JobState.QUEUED
    assert [step.state for step in view.steps] == [StepState.PENDING] * 3
    assert view.current_step == 0 and view.updated_at == T0


def test_the_happy_path_shows_running_with_timings_and_task_ids() -> None:
    view = fold(HAPPY, minutes=6)
    convert, transcribe, publish = view.steps
    assert view.state is JobState.RUNNING and view.current_step == 1
    assert (convert.state, convert.task_id, convert.attempt) == (StepState.SUCCEEDED, "t-1", 1)
    assert convert.started_at == T0 and convert.finished_at == T0 + timedelta(minutes=3)
    assert (transcribe.state, transcribe.service, transcribe.task_id) == (
        StepState.SUBMITTED,
        "dashscope",
        "t-2",
    )
    assert publish.state is StepState.PENDING
    assert view.outputs == {"normalized": "work/x.flac"}
    assert view.updated_at == T0 + timedelta(minutes=5)


def test_a_live_claim_is_claimed_and_an_expired_one_lets_the_next_attempt_start() -> None:
    events = [event(0, 1, CLAIMED, 0)]
    assert fold(events, minutes=9).steps[0].state is StepState.CLAIMED
    expired = fold(events, minutes=11).steps[0]
    assert (expired.state, expired.attempt) == (StepState.RETRYING, 1)


def test_a_submitted_attempt_does_not_expire_with_its_lease() -> None:
    events = [event(0, 1, CLAIMED, 0), event(0, 1, SUBMITTED, 1, service="oss", task_id="t")]
    assert fold(events, minutes=60).steps[0].state is StepState.SUBMITTED


def test_a_retryable_failure_retries_and_a_fatal_one_fails_the_job_with_its_error() -> None:
    retry = fold([event(0, 1, CLAIMED, 0), event(0, 1, FAILED, 1, error=RETRYABLE)])
    assert retry.steps[0].state is StepState.RETRYING and retry.state is JobState.RUNNING
    fatal = fold([event(0, 1, CLAIMED, 0), event(0, 1, FAILED, 1, error=FATAL)])
    assert fatal.state is JobState.FAILED
    assert fatal.error == FATAL and fatal.steps[0].finished_at == T0 + timedelta(minutes=1)


def test_a_stale_claim_on_the_last_attempt_exhausts_the_retries() -> None:
    events = [event(0, attempt, CLAIMED, 20 * (attempt - 1)) for attempt in (1, 2, 3)]
    facts = fold_steps(record(), events, now=T0 + timedelta(minutes=60), max_attempts=3)
    step = facts[0].view
    assert step.state is StepState.FAILED and facts[0].exhausted_unrecorded
    assert step.error is not None and step.error.code == RETRIES_EXHAUSTED and not step.error.retryable
    assert "LeaseExpired" in step.error.message


def test_a_retryable_failure_on_the_last_attempt_exhausts_the_retries() -> None:
    events = [event(0, 1, CLAIMED, 0), event(0, 1, FAILED, 1, error=RETRYABLE)]
    view = fold(events, max_attempts=1)
    assert view.state is JobState.FAILED
    assert view.error is not None and view.error.code == RETRIES_EXHAUSTED
    assert "ServiceUnavailable" in view.error.message


def test_a_success_that_arrives_before_its_submission_counts() -> None:
    only_success = fold([event(0, 1, CLAIMED, 0), event(0, 1, SUCCEEDED, 1, task_id="t-1")])
    assert only_success.steps[0].state is StepState.SUCCEEDED
    assert only_success.steps[0].task_id == "t-1"


def test_a_job_succeeds_when_every_step_has_and_collects_all_outputs() -> None:
    events = []
    for index, outputs in enumerate(({"normalized": "n"}, {"transcription": "t"}, {"json": "j", "txt": "x"})):
        events += [event(index, 1, CLAIMED, index), event(index, 1, SUCCEEDED, index, outputs=outputs)]
    view = fold(events)
    assert view.state is JobState.SUCCEEDED and view.current_step is None
    assert view.outputs == {"normalized": "n", "transcription": "t", "json": "j", "txt": "x"}


def test_events_of_other_jobs_are_ignored() -> None:
    stranger = event(0, 1, CLAIMED, 0, job_id="j0000000000000000000000000x")
    assert fold([stranger]).state is JobState.QUEUED

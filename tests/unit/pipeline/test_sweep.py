"""The timer's sweep: recovering dropped notifications, stale claims, lost tasks and stuck completions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from shared.errors import ServiceError, TransportError
from shared.jobs.ids import new_job_id
from shared.jobs.model import RETRIES_EXHAUSTED, TASK_TIMED_OUT, JobState, StepState
from shared.jobs.store import JobSnapshot
from shared.pipeline.orchestrator import SweepReport
from shared.pipeline.schedule import DroppedEntries, PollTimes
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import World, make_world, notification_for

BUCKET = "audiochain"


def start(world: World, key: str = "inbox/talk.wav") -> str:
    etag = world.oss.add(BUCKET, key)
    view = world.orchestrator.handle_upload(oss_record(key, etag=etag))
    assert view is not None
    return view.id


def test_a_dropped_notification_is_recovered_by_finding_the_target() -> None:
    world = make_world()
    job_id = start(world)
    assert world.timer().completed == 0  # the task is still running: nothing to see yet
    world.oss.finish(world.oss.submissions[0])
    report = world.timer()
    assert report.completed == 1
    view = world.store.get(job_id)
    assert view.steps[0].state is StepState.SUCCEEDED and view.steps[0].result == {"detected_by": "sweep"}
    assert view.steps[1].state is StepState.SUBMITTED and len(world.dashscope.filetrans) == 1


def test_a_claim_whose_holder_died_is_taken_over_as_attempt_two_after_its_lease() -> None:
    world = make_world()
    etag = world.oss.add(BUCKET, "inbox/talk.wav")
    view, _ = world.store.create_or_get(
        "transcribe_upload",
        {"bucket": BUCKET, "key": "inbox/talk.wav", "etag": etag, "relative_key": "talk.wav"},
        "upload-1",
    )
    assert world.store.claim_step(view.id, 0) is not None  # a handler claimed, then its instance died
    world.orchestrator.sweep()
    assert world.oss.submissions == []  # the lease still lives
    world.clock.advance(seconds=601)
    world.orchestrator.sweep()
    convert = world.store.get(view.id).steps[0]
    assert (convert.state, convert.attempt) == (StepState.SUBMITTED, 2)
    assert len(world.oss.submissions) == 1


def test_submissions_failing_on_every_attempt_end_in_retries_exhausted() -> None:
    world = make_world(max_attempts=3)
    world.oss.fail_submit = TransportError("connection reset", service="oss")
    job_id = start(world)
    assert world.store.get(job_id).steps[0].state is StepState.RETRYING
    world.orchestrator.sweep()  # backing off: too soon after the failure
    assert world.store.get(job_id).steps[0].attempt == 1
    for _ in range(2):
        world.clock.advance(seconds=60)  # one timer period
        world.orchestrator.sweep()
    view = world.store.get(job_id)
    assert view.state is JobState.FAILED and view.steps[0].attempt == 3
    assert (
        view.error is not None
        and view.error.code == RETRIES_EXHAUSTED
        and "TransportError" in view.error.message
    )
    ((_, body),) = world.mns.published
    assert json.loads(body)["error"]["code"] == RETRIES_EXHAUSTED
    assert list(world.store.active_jobs()) == []


def test_a_task_that_never_finishes_times_out_and_is_submitted_again() -> None:
    world = make_world(task_timeout_seconds=3600)
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.orchestrator.sweep()  # the convert is found done; the recognition is submitted
    world.clock.advance(seconds=3601)
    world.orchestrator.sweep()
    transcribe = world.store.get(job_id).steps[1]
    assert (transcribe.state, transcribe.attempt, transcribe.task_id) == (
        StepState.SUBMITTED,
        2,
        "asr-task-2",
    )
    events = [key for key in world.backend.all_keys() if "/events/01-transcribe/" in key]
    failed = json.loads(world.backend.get(next(k for k in events if k.endswith("01-failed.json"))) or b"{}")
    assert failed["error"]["code"] == TASK_TIMED_OUT and failed["error"]["retryable"] is True


def test_a_transient_download_failure_is_resubmitted_and_can_then_succeed() -> None:
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()
    world.dashscope.status["asr-task-1"] = "FAILED"  # FILE_DOWNLOAD_FAILED: DashScope's fetch failed
    world.timer()
    step = world.store.get(job_id).steps[1]
    assert (step.state, step.attempt, step.task_id) == (StepState.SUBMITTED, 2, "asr-task-2")
    world.dashscope.status["asr-task-2"] = "SUCCEEDED"
    world.timer()
    assert world.store.get(job_id).state is JobState.SUCCEEDED


def test_a_recognition_failing_on_every_attempt_fails_the_job_naming_the_cause() -> None:
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()
    for attempt in range(1, world.settings.max_attempts + 1):
        world.dashscope.status[f"asr-task-{attempt}"] = "FAILED"
        world.timer()
    view = world.store.get(job_id)
    assert view.state is JobState.FAILED and view.error is not None
    assert view.error.code == RETRIES_EXHAUSTED and "FILE_DOWNLOAD_FAILED" in view.error.message
    assert len(world.dashscope.filetrans) == world.settings.max_attempts


def test_a_task_the_service_lost_is_submitted_again() -> None:
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()
    del world.dashscope.status["asr-task-1"]  # GetTask now answers UNKNOWN
    world.timer()
    assert world.store.get(job_id).steps[1].attempt == 2 and len(world.dashscope.filetrans) == 2


def test_an_unpublished_completion_is_published_by_a_later_sweep() -> None:
    world = make_world()
    world.mns.fail = ServiceError("unavailable", service="mns", code="ServiceUnavailable", retryable=True)
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    world.timer()
    assert world.store.get(job_id).state is JobState.SUCCEEDED
    assert list(world.store.active_jobs()) == [job_id]  # kept until the message is out
    world.mns.fail = None
    assert world.timer().finalized == 1
    assert len(world.mns.published) == 1 and list(world.store.active_jobs()) == []


def test_one_broken_job_does_not_stop_the_sweep_for_the_others() -> None:
    world = make_world()
    broken = start(world, "inbox/a.wav")
    healthy = start(world, "inbox/b.wav")
    world.backend.put(f"jobs/{broken}/job.json", b"not json")
    world.backend.delete(f"jobs/{broken}/state.json")  # the snapshot caches the record: drop it too
    for submission in world.oss.submissions:
        world.oss.finish(submission)
    report = world.orchestrator.sweep()
    assert (report.examined, report.errors, report.completed) == (2, 1, 1)
    assert world.store.get(healthy).steps[1].state is StepState.SUBMITTED


def test_the_sweep_examines_at_most_its_limit_and_drops_markers_without_jobs() -> None:
    world = make_world()
    for name in ("a", "b", "c"):
        start(world, f"inbox/{name}.wav")
    assert world.orchestrator.sweep(limit=2).examined == 2
    world.backend.put("jobs/_active/j7ydecbtyzz0000000000000000", b"")
    world.orchestrator.sweep()
    assert "j7ydecbtyzz0000000000000000" not in list(world.store.active_jobs())


def test_a_marker_whose_job_is_still_being_created_survives_the_sweep() -> None:
    world = make_world()
    young = new_job_id(world.clock.now - timedelta(seconds=5))
    world.backend.put(f"jobs/_active/{young}", b"")  # its creator is between the marker and job.json
    world.orchestrator.sweep()
    assert list(world.store.active_jobs()) == [young]
    world.clock.advance(seconds=world.settings.step_lease_seconds + 1)
    world.orchestrator.sweep()  # a creator that never finished leaves a marker the sweep may drop
    assert list(world.store.active_jobs()) == []


def test_a_task_whose_status_cannot_be_read_still_times_out_and_the_job_ends() -> None:
    world = make_world(task_timeout_seconds=3600)
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.orchestrator.sweep()  # the recognition is submitted

    def unreachable(task_id: str) -> None:
        raise ServiceError("throttled", service="dashscope", code="Throttling", retryable=True)

    world.dashscope.get_task = unreachable  # type: ignore[method-assign,assignment]
    world.orchestrator.sweep()
    assert world.store.get(job_id).steps[1].attempt == 1  # a passing hiccup is simply tried again
    for _ in range(world.settings.max_attempts):
        world.clock.advance(seconds=3601)
        world.orchestrator.sweep()
    view = world.store.get(job_id)
    assert view.state is JobState.FAILED and view.steps[1].attempt == world.settings.max_attempts
    assert view.error is not None and view.error.code == RETRIES_EXHAUSTED
    assert TASK_TIMED_OUT in view.error.message


def test_a_sweep_out_of_time_stops_and_says_so_leaving_the_rest_for_the_next_tick() -> None:
    world = make_world()
    for index in range(3):
        start(world, f"inbox/talk-{index}.wav")
    report = world.orchestrator.sweep(budget_seconds=0.0)
    assert (report.examined, report.stopped_early) == (0, True)
    assert world.orchestrator.sweep(budget_seconds=60.0).examined == 3


def test_successive_sweeps_reach_every_job_of_a_backlog_before_any_twice() -> None:
    world = make_world()
    jobs = [start(world, f"inbox/talk-{index}.wav") for index in range(3)]
    examined: list[str] = []
    original = world.orchestrator._sweep_job

    def spy(job_id: str, now: datetime, report: SweepReport) -> JobSnapshot | None:
        examined.append(job_id)
        return original(job_id, now, report)

    world.orchestrator._sweep_job = spy  # type: ignore[method-assign]
    for _ in range(3):
        world.orchestrator.sweep(limit=1)  # a job looked at is filed later: the next sweep takes another
    assert sorted(examined) == sorted(jobs)


def test_the_timer_handler_budgets_the_sweep_from_the_function_timeout() -> None:
    from shared.pipeline.handlers import SWEEP_RESERVE_SECONDS, sweep_budget
    from shared.runtime.context import FcContext

    context = FcContext.from_fc({"request_id": "r", "function": {"name": "fetch_results", "timeout": 55}})
    assert sweep_budget(context) == 55 - SWEEP_RESERVE_SECONDS
    assert sweep_budget(FcContext.from_fc({"request_id": "r"})) is None


def test_attempts_back_off_30_then_60_seconds() -> None:
    world = make_world(max_attempts=3)
    world.oss.fail_submit = TransportError("connection reset", service="oss")
    job_id = start(world)
    attempts = []
    for _ in range(8):
        world.clock.advance(seconds=15)
        world.orchestrator.sweep()
        attempts.append(world.store.get(job_id).steps[0].attempt)
    assert attempts == [1, 2, 2, 2, 2, 3, 3, 3]  # attempt 2 at 30 s, attempt 3 60 s after it


def test_an_unexpected_error_after_a_claim_releases_it_and_the_attempts_stay_bounded() -> None:
    import pytest

    world = make_world(max_attempts=3)
    world.oss.fail_submit = RuntimeError("a bug in our own code")
    with pytest.raises(RuntimeError):
        start(world)
    (view,) = world.store.list().jobs
    convert = world.store.get(view.id).steps[0]
    # Not left claimed for a whole lease: the next redelivery or sweep may try again at once.
    assert convert.state is StepState.RETRYING
    assert convert.error is not None and convert.error.code == "InternalError"
    for _ in range(5):
        world.clock.advance(seconds=60)
        world.orchestrator.sweep()
    final = world.store.get(view.id)
    assert final.state is JobState.FAILED
    assert final.steps[0].attempt == 3


def test_a_job_whose_stored_input_no_longer_validates_ends_failed_instead_of_erroring_every_sweep() -> None:
    world = make_world()
    view, _ = world.store.create_or_get("convert", {"source": "/not-a-key", "params": {"f": "mp3"}}, "edited")
    report = world.orchestrator.sweep()
    assert report.errors == 0
    failed = world.store.get(view.id)
    assert failed.state is JobState.FAILED
    assert failed.error is not None and failed.error.code == "InvalidStoredInput"
    assert world.oss.submissions == []
    assert world.orchestrator.sweep().examined == 0  # finalised: no longer swept


def test_a_sweep_reads_only_due_jobs_and_polls_a_long_task_with_backoff() -> None:
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()  # the conversion is found done; the recognition is submitted
    polls = 0
    original = world.dashscope.get_task

    def counting(task_id: str) -> Any:
        nonlocal polls
        polls += 1
        return original(task_id)

    world.dashscope.get_task = counting  # type: ignore[method-assign]
    for _ in range(60):  # an hour of ticks while the recognition runs
        world.timer()
    assert world.store.get(job_id).steps[1].state is StepState.SUBMITTED
    assert 5 <= polls <= 20  # once a minute would be 60
    assert world.orchestrator.sweep().waiting == 1  # not due at once after a poll: not read at all


def test_an_unfinished_job_whose_due_entry_was_lost_is_swept_anyway() -> None:
    world = make_world()
    job_id = start(world)
    world.timer()
    for key in world.backend.list("jobs/_due/"):
        world.backend.delete(key)
    assert world.orchestrator.sweep().examined == 1
    assert any(key.endswith(job_id) for key in world.backend.list("jobs/_due/"))


def test_a_running_recognition_is_polled_from_its_due_entry_without_reading_the_job() -> None:
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()  # the conversion is found done; the recognition is submitted
    world.timer()  # its first poll files the task in the job's due entry
    assert any("/dashscope~" in key for key in world.backend.list("jobs/_due/"))
    reads: list[str] = []
    original = world.backend.get

    def counting(key: str) -> bytes | None:
        reads.append(key)
        return original(key)

    world.backend.get = counting  # type: ignore[method-assign]
    for _ in range(30):  # half an hour of ticks while the recognition runs
        world.timer()
    assert not [key for key in reads if key.startswith(f"jobs/{job_id}/")]
    world.backend.get = original  # type: ignore[method-assign]
    assert world.store.get(job_id).steps[1].state is StepState.SUBMITTED
    for task_id in world.dashscope.status:
        world.dashscope.status[task_id] = "SUCCEEDED"
    for _ in range(10):
        world.timer()
    assert world.store.get(job_id).state is JobState.SUCCEEDED
    assert not list(world.backend.list("jobs/_due/"))


def test_a_sweep_drops_the_entries_it_is_done_with_in_one_request_and_keeps_one_per_job() -> None:
    world = make_world()
    jobs = [start(world, f"inbox/{n}.wav") for n in range(6)]
    for submission in list(world.oss.submissions):
        world.oss.finish(submission)
    world.timer()  # conversions found done; recognitions submitted
    world.timer()  # first polls file the tasks in due entries
    single: list[str] = []
    batches: list[list[str]] = []
    delete_one, delete_many = world.backend.delete, world.backend.delete_many

    def counting_delete(key: str) -> None:
        single.append(key)
        delete_one(key)

    def counting_delete_many(keys: Iterable[str]) -> None:
        batches.append(list(keys))
        delete_many(batches[-1])

    world.backend.delete = counting_delete  # type: ignore[method-assign]
    world.backend.delete_many = counting_delete_many  # type: ignore[method-assign]
    world.clock.advance(hours=1)
    assert world.orchestrator.sweep().polled == len(jobs)
    assert single == [] and [len(batch) for batch in batches] == [len(jobs)]
    # What is left is each job's new entry, not the dropped ones.
    assert sorted(entry.job_id for entry in world.store.due_index()) == sorted(jobs)


def test_dropped_entries_never_drop_one_just_filed_and_a_failed_drop_does_not_fail_the_sweep() -> None:
    world = make_world()
    job_id = new_job_id(world.clock())
    moment = world.clock()
    fired = world.store.schedule(job_id, moment)
    dropped = DroppedEntries(world.store)
    dropped.keep(world.store.schedule(job_id, moment))  # filed again under the same key
    dropped.add([fired])
    dropped.flush()
    assert [entry.key for entry in world.store.due_index()] == [fired.key]

    def refusing(keys: Iterable[str]) -> None:
        raise ServiceError("slow down", service="oss", code="Throttling", status=503)

    world.backend.delete_many = refusing  # type: ignore[method-assign]
    other = world.store.schedule(new_job_id(moment), moment)
    dropped.add([fired, other])
    dropped.flush()  # logged, not raised
    assert len(world.store.due_index()) == 2


def test_a_recognition_polled_within_the_minute_keeps_its_entry_and_the_instance_remembers_when() -> None:
    """With a 2-s timer the recognition is polled at its cadence, not on every tick, and its due entry is
    neither rewritten nor dropped while the next poll is less than a minute off; an instance that does not
    remember (a new one) polls it at its next tick, once."""
    world = make_world()
    job_id = start(world)
    world.oss.finish(world.oss.submissions[0])
    world.timer()  # the conversion is found done; the recognition is submitted
    world.timer()  # its first poll files the task in the job's due entry
    (entry,) = world.backend.list("jobs/_due/")
    assert "/dashscope~" in entry
    polls, writes = 0, []
    original_get_task, original_put = world.dashscope.get_task, world.backend.put

    def counting_get_task(task_id: str) -> Any:
        nonlocal polls
        polls += 1
        return original_get_task(task_id)

    def counting_put(key: str, data: bytes) -> None:
        writes.append(key)
        original_put(key, data)

    world.dashscope.get_task = counting_get_task  # type: ignore[method-assign]
    world.backend.put = counting_put  # type: ignore[method-assign]
    for _ in range(30):  # a minute of 2-s ticks, the task one to two minutes old: polls at 75, 94, 117 s
        world.clock.advance(seconds=2)
        world.orchestrator.sweep()
    assert polls == 3 and writes == [] and list(world.backend.list("jobs/_due/")) == [entry]
    world.orchestrator.poll_times = PollTimes()  # a new instance
    world.clock.advance(seconds=2)
    world.orchestrator.sweep()
    world.clock.advance(seconds=2)
    world.orchestrator.sweep()
    assert polls == 4 and world.store.get(job_id).steps[1].state is StepState.SUBMITTED


def test_an_announced_conversion_is_looked_at_only_to_repair_a_lost_announcement() -> None:
    """OSS reports the conversion on the pipeline topic, so the sweep's look is a repair path: it comes
    30 s after the submission, then at half the task's age, not at DashScope's cadence of every second."""
    world = make_world()
    start(world)
    heads = 0
    original = world.oss.head_object

    def counting(bucket: str, key: str) -> Any:
        nonlocal heads
        heads += 1
        return original(bucket, key)

    world.oss.head_object = counting  # type: ignore[method-assign]
    world.orchestrator.sweep()  # the job has no due entry yet: looked at once, and filed
    looks = [heads]
    for _ in range(30):  # a 2-s timer (as `localcloud run` ticks) for a minute
        world.clock.advance(seconds=2)
        world.orchestrator.sweep()
        looks.append(heads)
    assert looks[0] == 1 and looks[14] == 1  # nothing more until 30 s after the submission
    assert looks[15] == 2 and looks[-1] == 3  # at 30 s, then at 45 s (half the age): not 30 looks
    world.oss.finish(world.oss.submissions[0])  # its announcement was lost: the sweep still finds it
    for _ in range(20):
        world.clock.advance(seconds=2)
        world.orchestrator.sweep()
    assert world.dashscope.filetrans


def test_a_recognition_submitted_on_a_notification_is_polled_at_once_not_at_the_conversions_look() -> None:
    """The conversion's repair look is filed 30 s out; its notification moves the job on to a recognition,
    which the notification handler files for its first poll a second later."""
    world = make_world()
    job_id = start(world)
    world.orchestrator.sweep()  # files the conversion's repair look, 30 s out
    world.oss.finish(world.oss.submissions[0])
    world.orchestrator.handle_notification(notification_for(world.oss.submissions[0]))
    (task_id,) = world.dashscope.status
    world.dashscope.status[task_id] = "SUCCEEDED"
    world.clock.advance(seconds=2)
    world.orchestrator.sweep()
    assert world.store.get(job_id).state is JobState.SUCCEEDED

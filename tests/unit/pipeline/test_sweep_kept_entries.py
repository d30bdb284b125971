"""The sweep's kept poll entries and repair looks under caps, throttling, failed writes and slow sweeps
(`shared.pipeline.schedule`: KEEP_IN_PLACE, NOTIFIED_FIRST_LOOK; found in review)."""

from __future__ import annotations

from typing import Any

from shared.errors import ServiceError
from shared.jobs.control import cancel_job
from shared.jobs.model import JobState, StepState
from shared.pipeline.handlers.sweep import handle_timer_event
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import World, make_world, notification_for

BUCKET = "audiochain"


def _start_key(world: World, key: str) -> str:
    etag = world.oss.add(BUCKET, key)
    view = world.orchestrator.handle_upload(oss_record(key, etag=etag))
    assert view is not None
    return view.id


def _long_conversion_running(world: World, minutes: int) -> str:
    """A job whose OSS conversion has run `minutes`, looked at by 60-s timer ticks meanwhile."""
    job_id = _start_key(world, "inbox/talk.wav")
    for _ in range(minutes):
        world.timer()
    world.clock.advance(seconds=10)
    return job_id


def test_kept_entries_stay_at_the_front_and_starve_other_jobs_under_a_limit() -> None:
    """Deployed timer (60 s) with max_jobs=1: A's running recognition keeps its (old) entry, which would sort
    before B's due entry on every tick; jobs whose kept entry was polled go last, so B is reached."""
    world = make_world()
    a = _start_key(world, "inbox/a.wav")
    b = _start_key(world, "inbox/b.wav")
    world.oss.finish(world.oss.submissions[0])  # A's conversion done, its notification lost
    world.timer()  # A: recognition submitted (hint entry ~1 s out); B: repair look filed 30 s out
    assert world.store.get(a).steps[1].state is StepState.SUBMITTED
    world.oss.finish(world.oss.submissions[1])  # B's conversion done too, notification lost as well
    for _ in range(2):  # two limited ticks: before the change, the second one reached B
        world.timer(limit=1)
    assert world.store.get(b).steps[1].state is StepState.SUBMITTED, "B starved behind A's kept entry"


def test_a_notification_whose_next_submission_is_throttled_waits_for_the_far_repair_look() -> None:
    """The notification moves the job on, but the recognition's submission is throttled: the step is
    RETRYING (due 30 s later), and the notification files the job at that time, not leaving it behind the
    conversion's repair look filed up to 5 min out."""
    world = make_world()
    job_id = _long_conversion_running(world, 18)
    submit = world.dashscope.submit_filetrans

    def throttled(request: Any) -> Any:
        raise ServiceError("throttled", service="dashscope", code="Throttling", status=429, retryable=True)

    world.dashscope.submit_filetrans = throttled  # type: ignore[method-assign]
    world.oss.finish(world.oss.submissions[0])
    world.orchestrator.handle_notification(notification_for(world.oss.submissions[0]))
    assert world.store.get(job_id).steps[1].state is StepState.RETRYING
    world.dashscope.submit_filetrans = submit  # type: ignore[method-assign]
    world.timer()
    world.timer()  # 110 s after the failure: well past its 30-s backoff
    assert world.store.get(job_id).steps[1].state is StepState.SUBMITTED, "retry held up by the repair look"


def test_a_failed_file_moved_on_put_leaves_the_recognition_behind_the_repair_look() -> None:
    world = make_world()
    job_id = _long_conversion_running(world, 18)
    put = world.backend.put

    def failing_due_put(key: str, data: bytes) -> None:
        if key.startswith("jobs/_due/"):
            raise ServiceError("unavailable", service="oss", code="ServiceUnavailable", status=503)
        put(key, data)

    world.backend.put = failing_due_put  # type: ignore[method-assign]
    world.oss.finish(world.oss.submissions[0])
    try:
        world.orchestrator.handle_notification(notification_for(world.oss.submissions[0]))
    except ServiceError:
        world.backend.put = put  # type: ignore[method-assign]
        world.orchestrator.handle_notification(notification_for(world.oss.submissions[0]))  # redelivered
    world.backend.put = put  # type: ignore[method-assign]
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    world.timer()
    world.timer()
    assert world.store.get(job_id).steps[1].state is StepState.SUCCEEDED, "first poll waits for repair look"


def test_a_slow_sweep_makes_the_next_deployed_tick_skip_reconciliation() -> None:
    """`pass_ended` is the tick's time, not the reconciler's clock after the sweep: a sweep 15 s slower than
    the next one must not leave the two passes 45 s apart, under PASS_INTERVAL, so that a deployed (60-s)
    tick lists nothing."""
    world = make_world()
    sweep = world.orchestrator.sweep

    def slow_sweep(**options: Any) -> Any:
        world.clock.advance(seconds=15)
        return sweep(**options)

    world.orchestrator.sweep = slow_sweep  # type: ignore[method-assign,assignment]
    assert handle_timer_event(b"{}", world.orchestrator)["reconcile"]["wrapped"]  # tick at T
    world.orchestrator.sweep = sweep  # type: ignore[method-assign]
    world.clock.advance(seconds=45)  # the next tick, T + 60 s
    world.oss.add(BUCKET, "inbox/lost.wav")  # its event was lost
    answer = handle_timer_event(b"{}", world.orchestrator)
    assert not answer["reconcile"]["resting"] and answer["reconcile"]["started"] == 1


def test_a_cancelled_job_whose_completion_was_not_published_is_finalised_while_its_task_runs() -> None:
    """The job's entry names its running recognition, and the hinted poll never reads the job: the
    finaliser that could not publish files the job at once without a hint (older than the kept entries)."""

    world = make_world()
    job_id = _start_key(world, "inbox/talk.wav")
    world.oss.finish(world.oss.submissions[0])
    world.timer()  # the recognition is submitted
    world.timer()  # its entry now carries the hint
    cancel_job(world.store, job_id)
    world.mns.fail = ServiceError("unavailable", service="mns", code="ServiceUnavailable", retryable=True)
    world.orchestrator.advance(job_id, recognise_now=False)  # the API's finalise fails to publish
    world.mns.fail = None
    assert world.store.get(job_id).state is JobState.FAILED and list(world.store.active_jobs()) == [job_id]
    for _ in range(5):
        world.timer()
    assert list(world.store.active_jobs()) == [], "the cancellation is announced only when the task ends"

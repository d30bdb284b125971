"""The automatic chain: uploads, duplicate and reordered events, notifications, and the whole way through."""

from __future__ import annotations

import json
import threading

import pytest

from shared.events.mns import MnsMessage
from shared.events.notifications import TaskNotification, parse_notification
from shared.events.oss import OssRecord
from shared.jobs.model import JobState, StepState
from shared.pipeline.orchestrator import Orchestrator
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import Submission, World, make_world, notification_for

BUCKET = "audiochain"


@pytest.fixture
def world() -> World:
    return make_world()


def upload(
    world: World, key: str = "inbox/talk.wav", request_id: str = "REQ-1", data: bytes = b"RIFF-audio"
) -> OssRecord:
    etag = world.oss.add(BUCKET, key, data)
    return oss_record(key, etag=etag, size=len(data), request_id=request_id)


def test_an_upload_starts_a_job_and_submits_the_normalisation(world: World) -> None:
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None and view.state is JobState.RUNNING
    convert = view.steps[0]
    assert (convert.state, convert.service, convert.task_id) == (StepState.SUBMITTED, "oss", "oss-task-1")
    (submission,) = world.oss.submissions
    assert (submission.source, submission.target) == ("inbox/talk.wav", f"work/{view.id}/normalized.flac")
    assert submission.process.startswith("audio/convert,f_flac,ar_16000,ac_1,adepth_16|sys/saveas,")
    assert convert.targets == (f"oss://{BUCKET}/work/{view.id}/normalized.flac",)


def test_a_triplicated_upload_event_makes_one_job_and_one_submission(world: World) -> None:
    views = [world.orchestrator.handle_upload(upload(world, request_id=f"REQ-{n}")) for n in range(3)]
    assert len({view.id for view in views if view is not None}) == 1
    assert len(world.oss.submissions) == 1
    assert len(world.store.list().jobs) == 1


def test_concurrent_duplicate_upload_events_make_one_submission(world: World) -> None:
    record = upload(world)
    barrier = threading.Barrier(6)

    def deliver() -> None:
        barrier.wait()
        world.orchestrator.handle_upload(record)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(world.oss.submissions) == 1
    assert len(world.store.list().jobs) == 1


def test_events_that_are_not_uploads_do_nothing(world: World) -> None:
    world.oss.add(BUCKET, "outputs/a.wav/transcript.json")
    for record in (
        oss_record("outputs/a.wav/transcript.json"),
        oss_record("inbox/a.wav", event_name="ObjectCreated:UploadPart"),
        oss_record("inbox/readme.txt"),
    ):
        assert world.orchestrator.handle_upload(record) is None
    assert world.oss.submissions == [] and world.store.list().jobs == []


def test_an_object_gone_or_replaced_before_the_event_is_handled_is_skipped(world: World) -> None:
    assert world.orchestrator.handle_upload(oss_record("inbox/gone.wav")) is None
    stale = upload(world, "inbox/changed.wav", data=b"version-1")
    world.oss.add(BUCKET, "inbox/changed.wav", b"version-2")
    assert world.orchestrator.handle_upload(stale) is None
    assert world.oss.submissions == []


def test_a_percent_encoded_event_key_resolves_to_the_object_that_exists(world: World) -> None:
    etag = world.oss.add(BUCKET, "inbox/my song.wav")
    view = world.orchestrator.handle_upload(oss_record("inbox/my%20song.wav", etag=etag))
    assert view is not None
    assert world.oss.submissions[0].source == "inbox/my song.wav"


def finished_convert(world: World) -> tuple[str, Submission]:
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    submission = world.oss.submissions[0]
    world.oss.finish(submission)
    return view.id, submission


def test_the_convert_notification_submits_the_transcription_once_however_often_it_comes(world: World) -> None:
    job_id, submission = finished_convert(world)
    for _ in range(3):
        view = world.orchestrator.handle_notification(notification_for(submission))
        assert view is not None and view.id == job_id
    (request,) = world.dashscope.filetrans
    assert request.file_url.url.startswith(f"https://{BUCKET}.oss.example/work/{job_id}/normalized.flac?")
    transcribe = world.store.get(job_id).steps[1]
    assert (transcribe.state, transcribe.service, transcribe.task_id) == (
        StepState.SUBMITTED,
        "dashscope",
        "asr-task-1",
    )


def test_a_notification_without_a_known_task_id_is_matched_by_its_target_key(world: World) -> None:
    job_id, submission = finished_convert(world)
    anonymous = notification_for(submission, TaskId=None)
    assert anonymous.task_id is None
    view = world.orchestrator.handle_notification(anonymous)
    assert view is not None and view.id == job_id and view.steps[0].state is StepState.SUCCEEDED


def test_a_success_notified_before_its_submission_is_recorded_still_counts(world: World) -> None:
    orchestrator: Orchestrator = world.orchestrator

    def notify_at_once(submission: Submission) -> None:
        world.oss.finish(submission)
        orchestrator.handle_notification(notification_for(submission))

    world.oss.on_submit = notify_at_once
    view = orchestrator.handle_upload(upload(world))
    assert view is not None
    final = world.store.get(view.id)
    assert [step.state for step in final.steps] == [
        StepState.SUCCEEDED,
        StepState.SUBMITTED,
        StepState.PENDING,
    ]
    assert final.steps[0].task_id == "oss-task-1"
    assert len(world.oss.submissions) == 1 and len(world.dashscope.filetrans) == 1


def test_a_notification_for_no_known_job_is_ignored_without_raising(world: World) -> None:
    stray = Submission("someone-elses-task", BUCKET, "x.wav", "elsewhere/x.flac", "")
    assert world.orchestrator.handle_notification(notification_for(stray)) is None
    ghost = Submission("t", BUCKET, "x.wav", "work/j7ydecbtyzz0000000000000000/normalized.flac", "")
    assert world.orchestrator.handle_notification(notification_for(ghost)) is None


def test_a_running_notification_changes_nothing(world: World) -> None:
    _, submission = finished_convert(world)
    view = world.orchestrator.handle_notification(notification_for(submission, status="Running"))
    assert view is not None and view.steps[0].state is StepState.SUBMITTED
    assert world.dashscope.filetrans == []


def test_a_fatal_task_failure_fails_the_job_and_announces_it(world: World) -> None:
    job_id, submission = finished_convert(world)
    failed = notification_for(
        submission, status="Failed", Code="InvalidParameter.ResourceContentBad", Message="cannot decode"
    )
    view = world.orchestrator.handle_notification(failed)
    assert view is not None and view.state is JobState.FAILED
    assert view.error is not None and view.error.code == "InvalidParameter.ResourceContentBad"
    (topic, body) = world.mns.published[0]
    message = json.loads(body)
    assert (topic, message["job_id"], message["state"]) == ("audiochain-output", job_id, "failed")
    assert list(world.store.active_jobs()) == []


def test_a_late_success_revives_a_failed_job_and_returns_it_to_the_sweep(world: World) -> None:
    job_id, submission = finished_convert(world)
    world.orchestrator.handle_notification(notification_for(submission, status="Failed", Code="Bad"))
    assert world.store.get(job_id).state is JobState.FAILED and list(world.store.active_jobs()) == []
    revived = world.orchestrator.handle_notification(notification_for(submission))
    assert revived is not None and revived.state is JobState.RUNNING
    assert list(world.store.active_jobs()) == [job_id] and len(world.dashscope.filetrans) == 1


def test_a_revived_job_announces_its_new_outcome_once_it_ends_again(world: World) -> None:
    job_id, submission = finished_convert(world)
    world.orchestrator.handle_notification(notification_for(submission, status="Failed", Code="Bad"))
    world.orchestrator.handle_notification(notification_for(submission))  # the late success
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    world.clock.advance(seconds=2)  # the notification filed the recognition's first poll a second out
    world.orchestrator.sweep()
    world.orchestrator.sweep()  # nothing new to say: nothing published twice
    assert world.store.get(job_id).state is JobState.SUCCEEDED
    states = [json.loads(body)["state"] for _, body in world.mns.published]
    assert states == ["failed", "succeeded"] and list(world.store.active_jobs()) == []


def test_a_retryable_task_failure_is_submitted_again_as_attempt_two(world: World) -> None:
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    failed = notification_for(world.oss.submissions[0], status="Failed", Code="InternalError")
    world.orchestrator.handle_notification(failed)
    assert len(world.oss.submissions) == 2
    convert = world.store.get(view.id).steps[0]
    assert (convert.state, convert.attempt, convert.task_id) == (StepState.SUBMITTED, 2, "oss-task-2")
    # The late duplicate of the first failure belongs to attempt 1 (by its TaskId) and changes nothing.
    world.orchestrator.handle_notification(failed)
    assert len(world.oss.submissions) == 2 and world.store.get(view.id).steps[0].attempt == 2


def test_the_whole_chain_writes_four_transcripts_and_one_completion_message(world: World) -> None:
    job_id, submission = finished_convert(world)
    world.orchestrator.handle_notification(notification_for(submission))
    world.timer()  # the recognition is still running
    assert world.store.get(job_id).state is JobState.RUNNING
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    report = world.timer()
    assert (report.completed, report.finalized, report.errors) == (1, 1, 0)
    view = world.store.get(job_id)
    assert view.state is JobState.SUCCEEDED
    expected = {ext: f"outputs/talk.wav/transcript.{ext}" for ext in ("json", "srt", "vtt", "txt")}
    assert {name: view.outputs[name] for name in expected} == expected
    transcript = json.loads(world.oss.objects[(BUCKET, expected["json"])])
    assert transcript["source"]["key"] == "inbox/talk.wav" and transcript["duration_ms"] == 7000
    assert world.oss.objects[(BUCKET, expected["vtt"])].startswith(b"WEBVTT\n")
    assert world.oss.objects[(BUCKET, expected["txt"])].startswith(b"Senior staff, Principal Doris Jackson")
    ((_, body),) = world.mns.published
    message = json.loads(body)
    assert message["state"] == "succeeded" and message["transcript"]["language"] == "en"
    assert list(world.store.active_jobs()) == []
    world.timer()  # nothing left to do, nothing published twice
    assert len(world.mns.published) == 1


def test_a_notification_arriving_as_an_mns_envelope_is_handled_end_to_end(world: World) -> None:
    job_id, submission = finished_convert(world)
    content = {
        "TaskId": submission.task_id,
        "Status": "Succeeded",
        "Targets": [{"URI": f"oss://{BUCKET}/{submission.target}"}],
    }
    envelope = {
        "id": "e-1",
        "source": "acs.imm",
        "type": "imm:Task:AudioConvert",
        "content": json.dumps(content),
    }
    note = parse_notification(MnsMessage.from_bytes(json.dumps(envelope).encode()))
    assert isinstance(note, TaskNotification)
    view = world.orchestrator.handle_notification(note)
    assert view is not None and view.id == job_id and view.steps[1].state is StepState.SUBMITTED


def test_a_retry_reuses_the_target_an_earlier_attempt_wrote_instead_of_submitting_again(world: World) -> None:
    # Attempt 1's task did write its target, but what reached us was a retryable failure (say, a lost
    # success and a failed re-run). Attempt 2 must find the target and succeed without a second task.
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    first = world.oss.submissions[0]
    world.oss.finish(first)
    world.orchestrator.handle_notification(notification_for(first, status="Failed", Code="InternalError"))
    assert len(world.oss.submissions) == 1
    convert = world.store.get(view.id).steps[0]
    assert (convert.state, convert.attempt) == (StepState.SUCCEEDED, 2)
    assert convert.result == {"detected_by": "existing_target"}

"""Jobs the HTTP API submits: convert, merge (OSS concat or IMM), speech (ICE), transcribe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.events.notifications import IceCallback, TaskNotification, parse_notification
from shared.jobs.backend import InMemoryBackend
from shared.jobs.errors import IdempotencyConflict
from shared.jobs.model import JobState, JobView, StepState
from shared.jobs.store import JobStore
from shared.pipeline.handlers import handle_notification_event
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.settings import PipelineSettings
from tests.unit.functions.helpers import mns_json_event
from tests.unit.pipeline.fakes import FakeOss, World, make_world, notification_for

BUCKET = "audiochain"
CONVERT = {"source": "media/a.wav", "params": {"f": "mp3", "ab": 128000}}
ICE_CALLBACK = json.loads((Path(__file__).parents[2] / "events" / "ice_callback.json").read_text())


@pytest.fixture
def world() -> World:
    built = make_world(imm_project="audio-project")
    for key in ("media/a.wav", "media/b.wav", "media/short.wav"):
        built.oss.add(BUCKET, key)
    return built


def test_a_convert_job_submits_audio_convert_and_finishes_on_its_notification(world: World) -> None:
    view = world.orchestrator.submit_api_job("convert", CONVERT, "key-1")
    (submission,) = world.oss.submissions
    assert submission.process.startswith("audio/convert,f_mp3,ab_128000|sys/saveas,")
    assert submission.target == f"outputs/{view.id}/a.mp3"
    done = world.orchestrator.handle_notification(notification_for(submission))
    assert done is not None and done.state is JobState.SUCCEEDED
    assert done.outputs == {"audio": f"outputs/{view.id}/a.mp3"}
    assert json.loads(world.mns.published[0][1])["job_type"] == "convert"


def test_a_notification_racing_the_submissions_record_leaves_the_listing_showing_the_outcome(
    world: World,
) -> None:
    # on_notify records the success between the API's reading of the job and its writing of the
    # submission: each writes a snapshot folded without the other's event, the API's last.
    write_event = world.backend.put_if_absent
    raced: list[str] = []

    def racing(key: str, data: bytes) -> bool:
        if key.endswith("/00-convert/01-submitted.json") and not raced:
            raced.append(key)
            submission = world.oss.submissions[0]
            world.oss.finish(submission)
            world.orchestrator.handle_notification(notification_for(submission))
        return write_event(key, data)

    world.backend.put_if_absent = racing  # type: ignore[method-assign]
    view = world.orchestrator.submit_api_job("convert", CONVERT, "key-1")
    assert raced and view.state is JobState.SUCCEEDED
    assert [job.id for job in world.store.list(state="succeeded").jobs] == [view.id]


def test_a_notification_without_its_task_id_finds_an_api_job_by_its_output_key(world: World) -> None:
    view = world.orchestrator.submit_api_job("convert", CONVERT, "key-1")
    anonymous = notification_for(world.oss.submissions[0], TaskId=None)
    done = world.orchestrator.handle_notification(anonymous)
    assert done is not None and done.id == view.id and done.state is JobState.SUCCEEDED


def test_a_repeated_idempotency_key_returns_the_same_job_without_a_second_submission(world: World) -> None:
    first = world.orchestrator.submit_api_job("convert", CONVERT, "key-1")
    again = world.orchestrator.submit_api_job("convert", CONVERT, "key-1")
    assert again.id == first.id and len(world.oss.submissions) == 1
    with pytest.raises(IdempotencyConflict):
        world.orchestrator.submit_api_job("convert", {**CONVERT, "source": "media/b.wav"}, "key-1")
    other = world.orchestrator.submit_api_job("convert", CONVERT)  # no key: a new job each time
    assert other.id != first.id


@pytest.mark.parametrize(
    ("job_type", "body", "field", "rule"),
    [
        ("convert", {"source": "media/missing.wav", "params": {"f": "mp3"}}, "source", "object_exists"),
        (
            "merge",
            {"clips": [{"key": "media/a.wav"}, {"key": "media/nope.wav"}], "params": {"f": "mp3"}},
            "clips[1].key",
            "object_exists",
        ),
        ("convert", {"source": "media/a.wav", "params": {"f": "wav"}}, "params.f", "enum"),
        ("convert", {"source": "media/a.wav"}, "params", "missing"),
        ("speech", {"text": "x" * 2001}, "text", "string_too_long"),
        ("transcribe_upload", {}, "type", "job_type"),
        ("translate", {}, "type", "job_type"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field_and_no_job_is_made(
    world: World, job_type: str, body: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        world.orchestrator.submit_api_job(job_type, body, "key-1")
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert world.store.list().jobs == []


def test_a_two_clip_merge_runs_on_oss_concat(world: World) -> None:
    body = {"clips": [{"key": "media/a.wav", "t": 3000}, {"key": "media/b.wav"}], "params": {"f": "aac"}}
    view = world.orchestrator.submit_api_job("merge", body, "merge-1")
    (submission,) = world.oss.submissions
    assert submission.source == "media/b.wav" and submission.process.startswith("audio/concat,f_aac/pre,")
    assert view.steps[0].service == "oss" and world.imm.created == []


def test_a_merge_concat_cannot_express_runs_on_imm_and_is_matched_by_its_user_data(world: World) -> None:
    body = {
        "clips": [{"key": "media/a.wav", "ss": 100}, {"key": "media/b.wav", "t": 900}],
        "params": {"f": "mp3"},
    }
    view = world.orchestrator.submit_api_job("merge", body, "merge-1")
    (request,) = world.imm.created
    assert request.project_name == "audio-project" and view.steps[0].service == "imm"
    note = TaskNotification.model_validate(
        {"TaskId": "not-indexed", "Status": "Succeeded", "UserData": json.dumps({"job_id": view.id})}
    )
    done = world.orchestrator.handle_notification(note)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert done.outputs == {"audio": f"outputs/{view.id}/merged.mp3"}


def test_an_imm_merge_without_a_notification_is_completed_by_polling(world: World) -> None:
    body = {
        "clips": [{"key": "media/a.wav"}, {"key": "media/b.wav"}],
        "params": {"f": "mp3"},
        "engine": "imm",
    }
    view = world.orchestrator.submit_api_job("merge", body, "merge-1")
    world.imm.status["MediaConvert-1"] = "Succeeded"
    world.orchestrator.sweep()
    assert world.store.get(view.id).state is JobState.SUCCEEDED


def test_a_twelve_clip_merge_to_mono_oga_is_merged_to_flac_by_imm_then_converted(world: World) -> None:
    """IMM writes AAC, MP3, WAV, FLAC, WMA, AC3 and Opus (seed imm-audio-merge.txt), not oga: the merge goes
    to lossless FLAC in the job's work folder, then OSS audio/convert writes the oga the caller asked for."""
    body = {"clips": [{"key": "media/a.wav"}] * 12, "params": {"f": "oga", "ac": 1}}
    view = world.orchestrator.submit_api_job("merge", body, "merge-oga")
    assert [step.name.value for step in view.steps] == ["merge", "convert"]
    (request,) = world.imm.created
    (target,) = request.targets
    assert (target.container.value, target.uri) == ("flac", f"oss://{BUCKET}/work/{view.id}/merged.flac")
    assert target.audio is not None and target.audio.transcode_audio is not None
    assert target.audio.transcode_audio.channel == 1
    assert len(request.sources) == 12
    note = TaskNotification.model_validate(
        {"TaskId": "MediaConvert-1", "Status": "Succeeded", "UserData": json.dumps({"job_id": view.id})}
    )
    world.orchestrator.handle_notification(note)
    (conversion,) = world.oss.submissions
    assert (conversion.source, conversion.target) == (
        f"work/{view.id}/merged.flac",
        f"outputs/{view.id}/merged.oga",
    )
    assert conversion.process.startswith("audio/convert,f_oga,ac_1|")
    done = world.orchestrator.handle_notification(notification_for(conversion))
    assert done is not None and done.state is JobState.SUCCEEDED
    assert done.outputs["audio"] == f"outputs/{view.id}/merged.oga"


def test_a_merge_to_a_container_imm_writes_stays_one_step(world: World) -> None:
    body = {"clips": [{"key": "media/a.wav"}] * 12, "params": {"f": "opus", "ar": 48000}}
    view = world.orchestrator.submit_api_job("merge", body, "merge-opus")
    assert [step.name.value for step in view.steps] == ["merge"]
    assert world.imm.created[0].targets[0].container.value == "opus"


def test_a_speech_job_runs_on_ice_and_finishes_on_its_callback(world: World) -> None:
    view = world.orchestrator.submit_api_job("speech", {"text": "Hello there.", "format": "mp3"}, "tts-1")
    (request,) = world.ice.submitted
    assert request.output_key == f"outputs/{view.id}/speech.mp3"
    callback = json.loads(json.dumps(ICE_CALLBACK))
    callback["MessageBody"]["JobId"] = "ice-job-1"
    note = parse_notification(callback)
    assert isinstance(note, IceCallback)
    done = world.orchestrator.handle_notification(note)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert done.outputs == {"audio": f"outputs/{view.id}/speech.mp3"}


def test_a_failed_speech_job_is_found_by_polling(world: World) -> None:
    view = world.orchestrator.submit_api_job("speech", {"text": "Hello."}, "tts-1")
    world.ice.state["ice-job-1"] = "Failed"
    world.orchestrator.sweep()
    failed = world.store.get(view.id)
    assert failed.state is JobState.FAILED and failed.error is not None and failed.error.code == "TaskFailed"


def deliver_job_due(world: World) -> JobView | None:
    """What the pipeline topic's trigger does with the API's hand-off: on_notify handles it."""
    body = [body for topic, body in world.mns.published if topic == world.settings.pipeline_topic][-1]
    answer = handle_notification_event(mns_json_event(body), world.orchestrator)
    assert answer["status"] == "handled", answer
    return world.store.get(answer["job_id"])


def test_a_synchronous_transcription_is_answered_at_once_and_recognised_by_on_notify(world: World) -> None:
    view = world.orchestrator.submit_api_job(
        "transcribe", {"source": "media/short.wav", "mode": "sync"}, "asr-1"
    )
    # The request recognised nothing: the step was never claimed, and on_notify was asked to run it.
    assert view.state is JobState.QUEUED and world.dashscope.sync == []
    assert [step.state for step in view.steps] == [StepState.PENDING, StepState.PENDING]
    assert json.loads(world.mns.published[-1][1]) == {
        "kind": "audiochain.job_due",
        "job_id": view.id,
        "step": "transcribe",
        "reason": "synchronous_recognition",
    }
    done = deliver_job_due(world)
    assert done is not None and done.state is JobState.SUCCEEDED
    assert [step.state for step in done.steps] == [StepState.SUCCEEDED, StepState.SUCCEEDED]
    (request,) = world.dashscope.sync
    assert str(request.audio).startswith(f"https://{BUCKET}.oss.example/media/short.wav?")
    text = world.oss.objects[(BUCKET, f"outputs/{view.id}/transcript.txt")]
    assert text == b"Welcome to Alibaba Cloud.\n"
    assert done.steps[1].result["excerpt"] == "Welcome to Alibaba Cloud."


def test_an_openai_compatible_transcription_is_handed_off_and_streams_in_on_notify(world: World) -> None:
    view = world.orchestrator.submit_api_job(
        "transcribe", {"source": "media/short.wav", "mode": "compatible", "language": "en"}, "asr-2"
    )
    assert view.state is JobState.QUEUED and world.dashscope.compatible == []
    done = deliver_job_due(world)
    assert done is not None and done.state is JobState.SUCCEEDED
    (request,) = world.dashscope.compatible
    body = request.to_body()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["asr_options"]["language"] == "en"
    text = world.oss.objects[(BUCKET, f"outputs/{view.id}/transcript.txt")]
    assert text == b"Welcome to Alibaba Cloud.\n"
    transcript = json.loads(world.oss.objects[(BUCKET, f"outputs/{view.id}/transcript.json")])
    assert transcript["engine"]["mode"] == "compatible"
    assert world.dashscope.sync == [] and world.dashscope.filetrans == []


def test_automatic_mode_below_the_synchronous_threshold_is_handed_off_too() -> None:
    world = make_world(sync_asr_max_bytes=1024)
    world.oss.add(BUCKET, "media/short.wav", b"x" * 512)
    view = world.orchestrator.submit_api_job("transcribe", {"source": "media/short.wav"}, "asr-3")
    assert view.state is JobState.QUEUED and world.dashscope.sync == []
    done = deliver_job_due(world)
    assert done is not None and done.state is JobState.SUCCEEDED and len(world.dashscope.sync) == 1


def test_a_lost_hand_off_is_made_good_by_the_sweep(world: World) -> None:
    world.mns.fail = ServiceError("the topic is unreachable", service="mns", code="ServiceUnavailable")
    view = world.orchestrator.submit_api_job(
        "transcribe", {"source": "media/short.wav", "mode": "sync"}, "asr-4"
    )
    assert view.state is JobState.QUEUED and world.mns.published == []
    world.mns.fail = None
    world.orchestrator.sweep()
    assert world.store.get(view.id).state is JobState.SUCCEEDED and len(world.dashscope.sync) == 1


def test_a_repeated_or_late_hand_off_changes_nothing(world: World) -> None:
    world.orchestrator.submit_api_job("transcribe", {"source": "media/short.wav", "mode": "sync"}, "asr-5")
    first = deliver_job_due(world)
    again = deliver_job_due(world)
    assert first is not None and again is not None and again.state is JobState.SUCCEEDED
    assert len(world.dashscope.sync) == 1


def test_a_replayed_key_hands_off_again_without_recognising_in_the_request(world: World) -> None:
    body = {"source": "media/short.wav", "mode": "sync"}
    first = world.orchestrator.submit_api_job("transcribe", body, "asr-6")
    again = world.orchestrator.submit_api_job("transcribe", body, "asr-6")
    assert again.id == first.id and world.dashscope.sync == []
    assert [json.loads(body)["job_id"] for _, body in world.mns.published] == [first.id, first.id]


def test_a_job_due_message_for_no_job_is_acknowledged_as_ignored(world: World) -> None:
    body = {"kind": "audiochain.job_due", "job_id": "j7ydecbtyzz0000000000000000", "step": "transcribe"}
    answer = handle_notification_event(mns_json_event(body), world.orchestrator)
    assert (answer["status"], answer["reason"]) == ("ignored", "unknown_job")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "audiochain.job_due", "job_id": "../etc", "step": "transcribe"}, "job_id"),
        ({"kind": "audiochain.job_due", "job_id": "j7ydecbtyzz0000000000000000", "step": "dance"}, "step"),
        ({"kind": "audiochain.job_due", "step": "transcribe"}, "job_id"),
    ],
)
def test_a_malformed_job_due_message_is_refused_naming_the_field(
    world: World, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        handle_notification_event(mns_json_event(body), world.orchestrator)
    assert caught.value.field == field


def test_automatic_mode_picks_filetrans_above_the_threshold(world: World) -> None:
    view = world.orchestrator.submit_api_job("transcribe", {"source": "media/short.wav"}, "asr-1")
    assert view.steps[0].service == "dashscope" and len(world.dashscope.filetrans) == 1


def test_a_synchronous_transcription_of_a_large_object_is_refused_on_the_mode(world: World) -> None:
    world.oss.add(BUCKET, "media/long.wav", b"x" * (10 * 1024 * 1024 + 1))
    with pytest.raises(InvalidRequestError) as caught:
        world.orchestrator.submit_api_job("transcribe", {"source": "media/long.wav", "mode": "sync"}, "asr-1")
    assert (caught.value.field, caught.value.rule) == ("mode", "sync_too_large")


def test_a_function_without_the_client_a_job_needs_refuses_it_before_making_it() -> None:
    settings = PipelineSettings()
    store = JobStore(InMemoryBackend())
    oss = FakeOss()
    oss.add(BUCKET, "media/short.wav")
    orchestrator = Orchestrator(settings, store, oss)
    with pytest.raises(ConfigurationError, match="dashscope"):
        orchestrator.submit_api_job("transcribe", {"source": "media/short.wav"}, "asr-1")
    assert store.list().jobs == []


def test_an_orchestrator_refuses_a_store_under_another_prefix() -> None:
    with pytest.raises(ConfigurationError, match="jobs"):
        Orchestrator(PipelineSettings(), JobStore(InMemoryBackend(), "elsewhere/"), FakeOss())


def test_output_urls_presign_every_output(world: World) -> None:
    world.orchestrator.submit_api_job("transcribe", {"source": "media/short.wav", "mode": "sync"}, "asr-1")
    view = deliver_job_due(world)
    assert view is not None
    urls = world.orchestrator.output_urls(view, expires=600)
    assert set(urls) == {"transcription", "json", "srt", "vtt", "txt"}
    assert urls["srt"].startswith(
        f"https://{BUCKET}.oss.example/outputs/{view.id}/transcript.srt?Expires=600"
    )

"""on_notify: completion notifications from the MNS topic trigger, in either format, advance their job."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import ServiceError
from shared.jobs.model import JobState, StepState
from shared.pipeline.handlers import notify_handler, upload_handler
from tests.unit.functions.helpers import (
    BUCKET,
    context,
    envelope,
    mns_json_event,
    oss_event,
    provider_for,
    sample,
)
from tests.unit.pipeline.fakes import Submission, World, make_world

Handler = Any


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def handler(world: World) -> Handler:
    provider, _ = provider_for(world, "on_notify")
    return notify_handler(provider)


def started(world: World, key: str = "inbox/talk.wav") -> tuple[str, Submission]:
    """An upload whose conversion was submitted and has written its output."""
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False)
    etag = world.oss.add(BUCKET, key, b"RIFF-audio")
    result = upload_handler(provider)(oss_event((key, etag, 10)), context())
    submission = world.oss.submissions[-1]
    world.oss.finish(submission)
    return result["accepted"][0]["job_id"], submission


def test_a_json_format_notification_starts_the_transcription(world: World, handler: Handler) -> None:
    job_id, submission = started(world)
    result = handler(mns_json_event(envelope(submission)), context("on_notify"))
    assert result["status"] == "handled" and result["job_id"] == job_id
    assert (result["task_id"], result["task_status"]) == (submission.task_id, "Succeeded")
    assert result["message_id"] == sample("mns_json.json")["MessageId"]
    view = world.store.get(job_id)
    assert [step.state for step in view.steps] == [
        StepState.SUCCEEDED,
        StepState.SUBMITTED,
        StepState.PENDING,
    ]
    assert len(world.dashscope.filetrans) == 1


def test_the_same_notification_three_times_submits_one_transcription(world: World, handler: Handler) -> None:
    job_id, submission = started(world)
    event = mns_json_event(envelope(submission))
    for attempt in range(3):
        assert handler(event, context("on_notify", request_id=f"push-{attempt}"))["job_id"] == job_id
    assert len(world.dashscope.filetrans) == 1
    assert world.store.get(job_id).steps[1].attempt == 1


@pytest.mark.parametrize(
    "shape",
    ["stream_raw", "stream_with_attributes", "json_base64_body"],
)
def test_every_trigger_format_is_understood(world: World, handler: Handler, shape: str) -> None:
    job_id, submission = started(world)
    body = json.dumps(envelope(submission))
    event = {
        "stream_raw": body.encode(),
        "stream_with_attributes": json.dumps({"body": body, "attrs": {"Extensions": {"a": "b"}}}).encode(),
        "json_base64_body": mns_json_event(envelope(submission), encode=True),
    }[shape]
    assert handler(event, context("on_notify"))["job_id"] == job_id
    assert len(world.dashscope.filetrans) == 1


def test_a_notification_for_no_known_job_is_acknowledged_as_ignored(world: World, handler: Handler) -> None:
    result = handler(json.dumps(sample("mns_json.json")).encode(), context("on_notify"))
    assert result["status"] == "ignored" and result["reason"] == "unknown_job"
    assert result["task_id"].startswith("MediaConvert-")


@pytest.mark.parametrize(
    "event",
    [
        json.dumps(sample("mns_stream_attrs.json")).encode(),  # a body of someone else's
        b"\xff\xfe not text",
        mns_json_event("neither JSON nor base64 of JSON"),
    ],
)
def test_a_message_that_is_no_notification_is_refused_without_a_retry(handler: Handler, event: bytes) -> None:
    result = handler(event, context("on_notify"))
    assert result["status"] == "refused"
    assert result["error"]["code"] == "InvalidParameter" and result["error"]["field"]


def test_a_failed_task_fails_the_job_and_announces_it(world: World, handler: Handler) -> None:
    job_id, submission = started(world)
    failed = json.loads(sample("oss_async_notification_failed.json")["content"])
    note = envelope(submission, "Failed", Code=failed["Code"], Message=failed["Message"])
    result = handler(mns_json_event(note), context("on_notify"))
    assert result["job_state"] == "failed"
    view = world.store.get(job_id)
    assert view.state is JobState.FAILED and view.error is not None
    assert view.error.code == "InvalidParameter.ResourceContentBad"
    ((topic, message),) = world.mns.published
    assert topic == world.settings.output_topic and json.loads(message)["state"] == "failed"


def test_a_notification_of_a_running_task_changes_nothing(world: World, handler: Handler) -> None:
    job_id, submission = started(world)
    result = handler(mns_json_event(envelope(submission, "Running")), context("on_notify"))
    assert result["job_state"] == "running"
    assert world.store.get(job_id).steps[0].state is StepState.SUBMITTED


def test_a_retryable_failure_is_raised_so_the_push_is_retried(
    world: World, handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, submission = started(world)
    unavailable = ServiceError("busy", service="oss", code="ServiceUnavailable", status=503, retryable=True)

    def fail(task_id: str) -> None:
        raise unavailable

    monkeypatch.setattr(world.store, "find_task", fail)
    with pytest.raises(ServiceError) as raised:
        handler(mns_json_event(envelope(submission)), context("on_notify"))
    assert raised.value is unavailable

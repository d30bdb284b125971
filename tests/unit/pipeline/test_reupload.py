"""Uploading the same object again after its job failed runs the job again; redeliveries of the first
upload's event do not."""

from __future__ import annotations

import pytest

from shared.events.oss import OssRecord
from shared.jobs.control import cancel_job
from shared.jobs.model import JobState
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import World, make_world, notification_for

BUCKET = "audiochain"
KEY = "inbox/talk.wav"
LATER = "2030-01-01T00:00:00.000Z"  # after the fake clock's failure time: a new upload


@pytest.fixture
def world() -> World:
    return make_world()


def upload(world: World, *, request_id: str = "REQ-1", event_time: str | None = None) -> OssRecord:
    etag = world.oss.add(BUCKET, KEY, b"RIFF-audio")  # the same bytes: the same ETag, the same job
    extra = {"eventTime": event_time} if event_time else {}
    return oss_record(KEY, etag=etag, size=10, request_id=request_id, **extra)


def failed_job(world: World) -> str:
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    failed = notification_for(world.oss.submissions[0], status="Failed", Code="InvalidParameter.Bad")
    assert (failed_view := world.orchestrator.handle_notification(failed)) is not None
    assert failed_view.state is JobState.FAILED
    return view.id


def test_a_reupload_after_the_failure_runs_the_same_job_again(world: World) -> None:
    job_id = failed_job(world)
    view = world.orchestrator.handle_upload(upload(world, request_id="REQ-2", event_time=LATER))
    assert view is not None and (view.id, view.state) == (job_id, JobState.RUNNING)
    assert len(world.oss.submissions) == 2  # the normalisation submitted again
    assert len(world.store.list().jobs) == 1
    kinds = [event.kind.value for event in world.store.load(job_id).events]
    assert "retried" in kinds  # the history is kept


def test_redeliveries_of_the_first_upload_event_change_nothing(world: World) -> None:
    job_id = failed_job(world)
    for _ in range(3):
        view = world.orchestrator.handle_upload(upload(world))
        assert view is not None and view.state is JobState.FAILED
    assert world.store.get(job_id).state is JobState.FAILED and len(world.oss.submissions) == 1


def test_the_reupload_event_delivered_twice_retries_once(world: World) -> None:
    failed_job(world)
    record = upload(world, request_id="REQ-2", event_time=LATER)
    world.orchestrator.handle_upload(record)
    world.orchestrator.handle_upload(record)
    assert len(world.oss.submissions) == 2


def test_a_cancelled_job_stays_cancelled_when_its_object_is_uploaded_again(world: World) -> None:
    view = world.orchestrator.handle_upload(upload(world))
    assert view is not None
    cancel_job(world.store, view.id)
    again = world.orchestrator.handle_upload(upload(world, request_id="REQ-2", event_time=LATER))
    assert again is not None and again.state is JobState.FAILED
    assert again.error is not None and again.error.code == "JobCancelled"

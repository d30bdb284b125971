"""Exactly one completion message per job outcome, whatever finalises it concurrently (issue 8)."""

from __future__ import annotations

import json

import pytest

from shared.errors import ServiceError
from shared.jobs.model import JobState
from tests.unit.pipeline.fakes import World, make_world, notification_for
from tests.unit.pipeline.test_chain import finished_convert


@pytest.fixture
def world() -> World:
    return make_world()


def _finish_recognition(world: World) -> str:
    job_id, submission = finished_convert(world)
    world.orchestrator.handle_notification(notification_for(submission))
    world.dashscope.status["asr-task-1"] = "SUCCEEDED"
    return job_id


def test_finalisers_racing_between_the_check_and_the_record_publish_once(world: World) -> None:
    """Two more deliveries land while the first finaliser is publishing (the window the old
    check-publish-record order left open: 22 messages for 20 jobs)."""
    job_id = _finish_recognition(world)
    publish = world.mns.publish
    racing: list[int] = []

    def publish_while_others_finalise(topic: str, body: str) -> object:
        if len(racing) < 2:
            racing.append(1)
            world.orchestrator.advance(job_id)  # a concurrent delivery finalises the same job
            world.orchestrator.sweep()
        return publish(topic, body)

    world.mns.publish = publish_while_others_finalise  # type: ignore[method-assign]
    world.clock.advance(seconds=2)  # the notification filed the recognition's first poll a second out
    world.orchestrator.sweep()
    world.orchestrator.sweep()
    assert racing, "the race was not exercised"
    assert world.store.get(job_id).state is JobState.SUCCEEDED
    messages = [json.loads(body) for _, body in world.mns.published]
    assert [(m["job_id"], m["state"], m["type"]) for m in messages] == [
        (job_id, "succeeded", "audiochain.job.finished")
    ]
    assert list(world.store.active_jobs()) == []


def test_a_failed_publish_gives_the_claim_back_and_the_next_sweep_publishes_once(world: World) -> None:
    job_id = _finish_recognition(world)
    world.mns.fail = ServiceError("unavailable", service="mns", code="ServiceUnavailable", retryable=True)
    world.timer()
    assert world.mns.published == [] and list(world.store.active_jobs()) == [job_id]
    world.mns.fail = None
    world.timer()
    world.timer()
    assert len(world.mns.published) == 1 and list(world.store.active_jobs()) == []

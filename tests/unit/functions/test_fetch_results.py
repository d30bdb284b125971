"""fetch_results: the timer's sweep, capped by the payload's max_jobs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.jobs.model import JobState
from shared.pipeline.handlers import sweep_handler, upload_handler
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for, sample
from tests.unit.pipeline.fakes import World, make_world

Handler = Any


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def handler(world: World) -> Handler:
    provider, _ = provider_for(world, "fetch_results")
    return sweep_handler(provider)


def start_uploads(world: World, count: int) -> list[str]:
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False)
    jobs = []
    for number in range(count):
        key = f"inbox/talk-{number}.wav"
        etag = world.oss.add(BUCKET, key, f"audio {number}".encode())
        result = upload_handler(provider)(oss_event((key, etag, 7)), context())
        jobs.append(result["accepted"][0]["job_id"])
    return jobs


def timer_event(payload: str | None) -> bytes:
    document = sample("timer.json")
    document["payload"] = payload
    return json.dumps(document).encode()


def test_a_sweep_carries_a_job_whose_notification_was_lost_to_the_end(world: World, handler: Handler) -> None:
    (job_id,) = start_uploads(world, 1)
    world.oss.finish(world.oss.submissions[0])  # the conversion finished; its notification never came
    first = handler(timer_event('{"sweep": true}'), context("fetch_results"))
    assert first["status"] == "swept" and first["completed"] == 1 and first["max_jobs"] is None
    (task_id,) = world.dashscope.status
    world.dashscope.status[task_id] = "SUCCEEDED"
    world.clock.advance(minutes=1)  # the next tick
    second = handler(timer_event('{"sweep": true}'), context("fetch_results"))
    assert second["finalized"] == 1 and second["errors"] == 0
    assert world.store.get(job_id).state is JobState.SUCCEEDED
    assert json.loads(world.mns.published[0][1])["job_id"] == job_id


def test_the_payloads_max_jobs_caps_the_sweep(world: World, handler: Handler) -> None:
    start_uploads(world, 3)
    assert handler(timer_event('{"max_jobs": 2}'), context("fetch_results"))["examined"] == 2
    world.clock.advance(minutes=1)  # the next tick: all three are due again
    assert handler(json.dumps(sample("timer.json")).encode(), context("fetch_results"))["examined"] == 3


@pytest.mark.parametrize("event", [b"", b"{}", b"  "])
def test_an_empty_manual_invocation_sweeps_everything(world: World, handler: Handler, event: bytes) -> None:
    start_uploads(world, 2)
    result = handler(event, context("fetch_results"))
    assert (result["status"], result["examined"], result["max_jobs"]) == ("swept", 2, None)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (b'{"triggerName": "tick"}', "triggerTime"),
        (timer_event("not json"), "payload"),
        (timer_event('{"max_jobs": 0}'), "payload.max_jobs"),
        (timer_event('{"max_jobs": "5"}'), "payload.max_jobs"),
    ],
)
def test_a_malformed_timer_event_is_refused(world: World, handler: Handler, event: bytes, field: str) -> None:
    start_uploads(world, 1)
    result = handler(event, context("fetch_results"))
    assert result["status"] == "refused" and result["error"]["field"] == field

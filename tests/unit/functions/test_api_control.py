"""Job control through the API: retry a failed job, cancel a running one, read its timeline, find the job
of an upload; and the completion message announced once per outcome, however many finalisers race."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.jobs.model import StepState
from shared.pipeline.handlers import upload_handler
from tests.unit.functions.api_helpers import CONVERT, Api, error_of, open_api
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for
from tests.unit.pipeline.fakes import make_world


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


def _failed_convert(api: Api) -> str:
    job_id: str = api.submit("convert", CONVERT).json()["id"]
    api.world.store.record_failed(job_id, 0, 1, code="InvalidSource", message="no audio", retryable=False)
    api.world.orchestrator.advance(job_id)
    return job_id


def _announced(api: Api, job_id: str) -> list[dict[str, Any]]:
    messages = [json.loads(body) for _, body in api.world.mns.published]
    return [message for message in messages if message["job_id"] == job_id]


def test_a_failed_job_runs_again_on_retry_and_keeps_its_history(api: Api) -> None:
    job_id = _failed_convert(api)
    assert api.client.get(f"/v1/jobs/{job_id}").json()["state"] == "failed"
    response = api.client.post(f"/v1/jobs/{job_id}/retry")
    assert response.status_code == 202
    job = response.json()
    assert (job["state"], job["steps"][0]["state"], job["steps"][0]["attempt"]) == ("running", "submitted", 2)
    assert len(api.world.oss.submissions) == 2
    timeline = api.client.get(f"/v1/jobs/{job_id}/events").json()["events"]
    assert [(e["attempt"], e["kind"]) for e in timeline] == [
        (1, "claimed"),
        (1, "submitted"),
        (1, "failed"),
        (1, "retried"),
        (2, "claimed"),
        (2, "submitted"),
    ]
    assert timeline[2]["error"]["code"] == "InvalidSource"
    # A second retry while it runs is refused, naming the state.
    error = error_of(api.client.post(f"/v1/jobs/{job_id}/retry"))
    assert (error["code"], error["field"]) == ("JobStateConflict", "state")


def test_a_job_that_fails_again_after_a_retry_is_announced_again(api: Api) -> None:
    job_id = _failed_convert(api)
    api.client.post(f"/v1/jobs/{job_id}/retry")
    api.world.store.record_failed(job_id, 0, 2, code="InvalidSource", message="no audio", retryable=False)
    api.world.orchestrator.advance(job_id)
    announced = _announced(api, job_id)
    assert [m["state"] for m in announced] == ["failed", "failed"]
    assert len({m["completion_id"] for m in announced}) == 2


def test_a_cancelled_job_fails_with_jobcancelled_ignores_late_success_and_cannot_be_retried(api: Api) -> None:
    job_id = api.submit("transcribe", {"source": "media/a.wav", "mode": "filetrans"}).json()["id"]
    response = api.client.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200
    job = response.json()
    assert (job["state"], job["error"]["code"]) == ("failed", "JobCancelled")
    assert [step["state"] for step in job["steps"]] == ["failed", "skipped"]
    api.world.store.record_succeeded(job_id, 0, 1, outputs={})  # the service's task finished after all
    assert api.world.store.get(job_id).steps[0].state is StepState.FAILED
    assert api.client.post(f"/v1/jobs/{job_id}/cancel").status_code == 200  # idempotent
    assert error_of(api.client.post(f"/v1/jobs/{job_id}/retry"))["code"] == "JobStateConflict"
    assert [m["error"]["code"] for m in _announced(api, job_id)] == ["JobCancelled"]


def test_control_routes_answer_404_for_unknown_and_malformed_ids(api: Api) -> None:
    for path in ("/v1/jobs/j7ydecbtyzz0000000000000000/retry", "/v1/jobs/nope/cancel"):
        assert error_of(api.client.post(path))["code"] == "JobNotFound"
    assert error_of(api.client.get("/v1/jobs/nope/events"))["code"] == "JobNotFound"


def test_the_job_of_an_upload_is_found_by_its_key(api: Api) -> None:
    key = "inbox/会议\u3000记录.wav"
    etag = api.world.oss.add(BUCKET, key, b"RIFF-audio")
    provider, _ = provider_for(api.world, "on_upload", uses_dashscope=False)
    job_id = upload_handler(provider)(oss_event((key, etag, 10)), context())["accepted"][0]["job_id"]
    api.submit("convert", CONVERT)  # another job, on another source
    found = api.client.get("/v1/jobs", params={"source": key}).json()
    assert [job["id"] for job in found["jobs"]] == [job_id]
    assert api.client.get("/v1/jobs", params={"source": "inbox/none.wav"}).json()["jobs"] == []


def test_racing_finalisers_publish_one_completion_message(api: Api) -> None:
    job_id: str = api.submit("convert", CONVERT).json()["id"]
    world = api.world
    publish = world.mns.publish
    raced: list[str] = []

    def publish_while_another_finalises(topic: str, body: str) -> object:
        if not raced:
            raced.append(body)
            world.orchestrator.advance(job_id)  # a duplicate delivery finalising at the same moment
            world.orchestrator.advance(job_id)
        return publish(topic, body)

    world.mns.publish = publish_while_another_finalises  # type: ignore[method-assign]
    world.store.record_succeeded(job_id, 0, 1, outputs={"audio": "outputs/x.mp3"})
    world.orchestrator.advance(job_id)
    for _ in range(3):
        world.orchestrator.advance(job_id)
    world.orchestrator.sweep()
    assert [m["state"] for m in _announced(api, job_id)] == ["succeeded"]
    assert list(world.store.active_jobs()) == []

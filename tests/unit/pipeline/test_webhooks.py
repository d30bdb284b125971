"""Per-job webhooks: signed, retried with backoff, one delivery per terminal state, visible in the log."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import timedelta

import pytest

from shared.auth.webhook import DELIVERY_HEADER, verify_signature
from shared.errors import InvalidRequestError
from shared.jobs.model import JobState
from tests.unit.pipeline.fakes import World, make_world, notification_for

SECRET = "deployment-secret"
HOOK = "https://hooks.example.com/audiochain"
CONVERT = {"source": "media/a.wav", "params": {"f": "mp3"}, "callback_url": HOOK}


class Receiver:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.calls.append((url, body, dict(headers)))
        return 500 if len(self.calls) <= self.failures else 204


def _world(receiver: Receiver, **settings: object) -> World:
    world = make_world(webhook_secret=SECRET, **settings)
    world.oss.add("audiochain", "media/a.wav")
    world.orchestrator.webhooks.sender = receiver
    return world


def _finish(world: World) -> str:
    view = world.orchestrator.submit_api_job("convert", CONVERT)
    submission = world.oss.submissions[0]
    world.oss.finish(submission)
    done = world.orchestrator.handle_notification(notification_for(submission))
    assert done is not None and done.state is JobState.SUCCEEDED
    return view.id


def test_a_receiver_failing_twice_gets_one_verified_delivery_after_backoff() -> None:
    receiver = Receiver(failures=2)
    world = _world(receiver)
    job_id = _finish(world)
    assert len(receiver.calls) == 1
    world.orchestrator.sweep(world.clock() + timedelta(seconds=10))  # before the 30 s backoff
    assert len(receiver.calls) == 1
    world.orchestrator.sweep(world.clock() + timedelta(seconds=31))
    world.orchestrator.sweep(world.clock() + timedelta(seconds=31 + 61))
    world.orchestrator.sweep(world.clock() + timedelta(seconds=3600))  # delivered: nothing more
    assert len(receiver.calls) == 3
    ids = {headers[DELIVERY_HEADER] for _, _, headers in receiver.calls}
    assert len(ids) == 1
    url, body, headers = receiver.calls[-1]
    assert url == HOOK
    assert verify_signature(SECRET, body, headers, now=time.time())
    assert not verify_signature("another", body, headers, now=time.time())
    message = json.loads(body)
    assert message["job_id"] == job_id and message["state"] == "succeeded"
    assert message["delivery_id"] == ids.pop()
    attempts = world.orchestrator.webhooks.log.attempts(job_id)
    assert [(a.attempt, a.outcome, a.status) for a in attempts] == [
        (1, "failed", 500),
        (2, "failed", 500),
        (3, "delivered", 204),
    ]
    assert job_id not in set(world.store.active_jobs())


def test_a_job_stays_in_the_sweep_while_its_webhook_is_pending() -> None:
    world = _world(Receiver(failures=1))
    job_id = _finish(world)
    assert job_id in set(world.store.active_jobs())


def test_callback_url_needs_the_secret_and_https_outside_localcloud() -> None:
    world = make_world()
    world.oss.add("audiochain", "media/a.wav")
    with pytest.raises(InvalidRequestError) as refused:
        world.orchestrator.submit_api_job("convert", CONVERT)
    assert (refused.value.field, refused.value.rule) == ("callback_url", "webhooks_off")
    loopback = {**CONVERT, "callback_url": "http://127.0.0.1:8080/hook"}
    cloud = _world(Receiver(0))
    with pytest.raises(InvalidRequestError) as plain:
        cloud.orchestrator.submit_api_job("convert", loopback)
    assert plain.value.rule == "https"
    local = _world(Receiver(0), oss_endpoint="http://127.0.0.1:9000")
    assert local.orchestrator.submit_api_job("convert", loopback).input["callback_url"].startswith("http://")
    with pytest.raises(InvalidRequestError) as remote:
        local.orchestrator.submit_api_job("convert", {**CONVERT, "callback_url": "http://example.com/x"})
    assert remote.value.rule == "https"


def test_the_attempts_show_in_the_job_view_the_api_answers() -> None:
    import httpx

    from shared.api.app import ApiApp
    from shared.pipeline.provider import PipelineProvider

    world = _world(Receiver(failures=1))
    job_id = _finish(world)
    provider = PipelineProvider("api", environ={"AUDIOCHAIN_API_TOKEN": "t"})
    provider.orchestrator = lambda context=None: world.orchestrator  # type: ignore[method-assign]
    app = ApiApp(provider, environ={"AUDIOCHAIN_API_TOKEN": "t"})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://api") as client:
        answer = client.get(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer t"})
    assert answer.status_code == 200, answer.text
    attempts = answer.json()["webhook_attempts"]
    assert [(a["attempt"], a["outcome"], a["status"]) for a in attempts] == [(1, "failed", 500)]
    assert attempts[0]["next_attempt_at"] is not None


def test_a_job_without_a_callback_url_costs_no_listing_of_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from shared.api.app import ApiApp
    from shared.pipeline.provider import PipelineProvider

    world = _world(Receiver(failures=0))
    view = world.orchestrator.submit_api_job("convert", {"source": "media/a.wav", "params": {"f": "mp3"}})
    listed: list[str] = []
    original = world.backend.list

    def counting_list(prefix: str, *args: object, **kwargs: object) -> object:
        listed.append(prefix)
        return original(prefix, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(world.backend, "list", counting_list)
    provider = PipelineProvider("api", environ={"AUDIOCHAIN_API_TOKEN": "t"})
    provider.orchestrator = lambda context=None: world.orchestrator  # type: ignore[method-assign]
    app = ApiApp(provider, environ={"AUDIOCHAIN_API_TOKEN": "t"})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://api") as client:
        answer = client.get(f"/v1/jobs/{view.id}", headers={"Authorization": "Bearer t"})
    assert answer.status_code == 200 and answer.json()["webhook_attempts"] == []
    assert not [prefix for prefix in listed if "webhooks" in prefix]

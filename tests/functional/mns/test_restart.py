"""A restart loses nothing: queues, messages in every state, topics, subscriptions, pending deliveries."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from localcloud.services.mns.service import MnsService
from localcloud.services.mns.topics import SubscriptionAttributes
from shared.auth import Credentials
from shared.clients.mns import MnsClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.mns.conftest import HttpSink, start_mns, wait_until


def _mns(cloud: object) -> MnsService:
    service: MnsService = cloud.mns()  # type: ignore[attr-defined]
    return service


def test_queues_and_messages_survive_a_restart_with_their_visibility(tmp_path: Path) -> None:
    first = start_mns(tmp_path)
    try:
        with httpx.Client(trust_env=False) as http:
            client = MnsClient(first.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), http=http)
            _mns(first).ensure_queue("durable")
            client.send("durable", "waiting")
            client.send("durable", "in flight")
            held = client.receive("durable", wait_seconds=1)
    finally:
        first.stop()
    assert held is not None

    second = start_mns(tmp_path)
    try:
        mns = _mns(second)
        info = mns.queues.get("durable")
        assert (info.active_messages, info.inactive_messages) == (1, 1)
        with httpx.Client(trust_env=False) as http:
            client = MnsClient(second.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), http=http)
            client.delete("durable", held.receipt_handle)
            remaining = client.receive("durable", wait_seconds=1)
        assert remaining is not None and remaining.body != held.body
    finally:
        second.stop()


def test_a_pending_http_delivery_resumes_after_a_restart(tmp_path: Path, sink: HttpSink) -> None:
    sink.statuses["/down"] = [500] * 1000
    first = start_mns(tmp_path)
    try:
        mns = _mns(first)
        mns.ensure_topic("events")
        attributes = SubscriptionAttributes(f"{sink.url}/down", "EXPONENTIAL_DECAY_RETRY", "SIMPLIFIED")
        mns.topics.subscribe("events", "hook", attributes)
        mns.publish("events", "still coming")
        sink.wait_for("/down", 1)
    finally:
        first.stop()
    sink.statuses["/down"] = []
    attempts_before = len(sink.to("/down"))

    second = start_mns(tmp_path)
    try:
        assert _mns(second).wait_deliveries(topic="events")
        assert _mns(second).topics.subscription("events", "hook").attributes == attributes
    finally:
        second.stop()
    pushes = sink.to("/down")
    assert len(pushes) > attempts_before
    assert pushes[-1].body == b"still coming"


def test_a_pending_local_delivery_resumes_when_the_runtime_registers_again(tmp_path: Path) -> None:
    called = threading.Event()

    def failing(event: bytes) -> None:
        called.set()
        raise RuntimeError("function runtime is down")

    first = start_mns(tmp_path)
    try:
        mns = _mns(first)
        mns.ensure_topic("events")
        mns.subscribe_local("events", "on-notify", failing, strategy="EXPONENTIAL_DECAY_RETRY")
        message_id = mns.publish("events", '{"job_id": "j-9"}')
        assert called.wait(10)
    finally:
        first.stop()

    events: list[bytes] = []
    second = start_mns(tmp_path)
    try:
        mns = _mns(second)
        assert mns.pending_deliveries("events") == 1
        mns.subscribe_local("events", "on-notify", events.append, content_format="JSON")
        assert wait_until(lambda: len(events) == 1)
    finally:
        second.stop()
    assert message_id.encode() in events[0]

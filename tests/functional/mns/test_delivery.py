"""Push delivery: retries on each strategy's schedule, isolation between subscriptions, and the local
(function runtime) subscribers in the FC MNSTopic trigger's JSON and STREAM formats."""

from __future__ import annotations

import json
import random
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from mns.message_property import MessagePropertyValue, PropertyType
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMessage, TopicMeta

from localcloud.config import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from localcloud.services.base import ServiceHttpError
from localcloud.services.mns.delivery import (
    BACKOFF_RETRIES,
    EXPONENTIAL_RETRIES,
    max_retries,
    retry_interval,
)
from localcloud.services.mns.service import MnsService
from localcloud.services.mns.topics import SubscriptionAttributes
from shared.events.mns import MnsFormat, MnsMessage
from tests.functional.mns.conftest import HttpSink, wait_until


class Recorder:
    """A local subscriber's `deliver`: fails the first `failures` calls, records the rest."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.events: list[bytes] = []
        self._lock = threading.Lock()

    def __call__(self, event: bytes) -> None:
        with self._lock:
            self.calls += 1
            if self.calls <= self.failures:
                raise RuntimeError("the function failed")
            self.events.append(event)


def _topic(mns: MnsService, unique: Callable[[str], str]) -> str:
    name = unique("events")
    mns.ensure_topic(name)
    return name


def _failures_of(mns: MnsService, topic: str) -> int:
    row = mns.state.query_one("SELECT MAX(failures) AS n FROM mns_deliveries WHERE topic = ?", (topic,))
    return int(row["n"] or 0) if row is not None else 0


# --------------------------------------------------------------------------------------- retry schedules


def test_backoff_retry_waits_ten_to_twenty_seconds_three_times() -> None:
    rng = random.Random(7)
    intervals = [retry_interval("BACKOFF_RETRY", n, rng) for n in range(1, BACKOFF_RETRIES + 1)]
    assert max_retries("BACKOFF_RETRY") == 3
    assert all(10.0 <= interval <= 20.0 for interval in intervals)


def test_exponential_decay_retry_spends_176_retries_within_one_day() -> None:
    rng = random.Random(7)
    intervals = [retry_interval("EXPONENTIAL_DECAY_RETRY", n, rng) for n in range(1, EXPONENTIAL_RETRIES + 1)]
    assert max_retries("EXPONENTIAL_DECAY_RETRY") == 176
    assert intervals[:10] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert set(intervals[9:]) == {512}
    assert 23 * 3600 < sum(intervals) <= 24 * 3600


# ------------------------------------------------------------------------------------------- HTTP retry


@pytest.mark.sdk
def test_a_failing_endpoint_is_retried_until_it_succeeds_on_the_third_attempt(
    account: Any, mns: MnsService, sink: HttpSink, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    topic.get_subscription(unique("flaky")).subscribe(SubscriptionMeta(f"{sink.url}/flaky"))
    sink.statuses["/flaky"] = [500, 503]

    published = topic.publish_message(TopicMessage("try hard"))

    assert mns.wait_deliveries(topic=topic.topic_name)
    pushes = sink.to("/flaky")
    assert len(pushes) == 3
    assert {notification_message_id(push.body) for push in pushes} == {published.message_id}


@pytest.mark.sdk
def test_backoff_retry_gives_up_after_the_third_retry(
    account: Any, mns: MnsService, sink: HttpSink, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    topic.get_subscription(unique("broken")).subscribe(SubscriptionMeta(f"{sink.url}/broken"))
    sink.statuses["/broken"] = [500] * 10

    topic.publish_message(TopicMessage("never lands"))

    assert mns.wait_deliveries(topic=topic.topic_name)
    assert len(sink.to("/broken")) == 1 + BACKOFF_RETRIES


def test_a_queue_endpoint_that_appears_later_gets_the_message_on_a_retry(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = _topic(mns, unique)
    queue = unique("late")
    endpoint = f"acs:mns:{DEFAULT_REGION}:{DEFAULT_ACCOUNT_ID}:queues/{queue}"
    attributes = SubscriptionAttributes(endpoint, "EXPONENTIAL_DECAY_RETRY", "SIMPLIFIED")
    mns.topics.subscribe(topic, "to-late-queue", attributes)

    mns.publish(topic, "patience")
    assert wait_until(lambda: _failures_of(mns, topic) >= 1)
    mns.ensure_queue(queue)

    received = mns.receive(queue, wait_seconds=30)  # the next retry is up to 2**n s away on a busy machine
    assert received is not None and received.body == "patience"


@pytest.mark.sdk
def test_a_slow_endpoint_does_not_hold_back_other_subscriptions(
    account: Any, mns: MnsService, sink: HttpSink, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    topic.get_subscription(unique("slow")).subscribe(SubscriptionMeta(f"{sink.url}/slow"))
    topic.get_subscription(unique("fast")).subscribe(SubscriptionMeta(f"{sink.url}/fast"))
    sink.hanging.add("/slow")
    try:
        for n in range(6):
            topic.publish_message(TopicMessage(f"message {n}"))
        assert len(sink.wait_for("/fast", 6)) == 6
        assert sink.to("/slow") == []
    finally:
        sink.release()
    assert mns.wait_deliveries(topic=topic.topic_name)
    assert len(sink.to("/slow")) == 6


# --------------------------------------------------------------------------------------- local delivery


def test_a_local_json_subscriber_gets_the_fc_trigger_json_event(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = _topic(mns, unique)
    recorder = Recorder()
    mns.subscribe_local(topic, "on-notify", recorder, content_format="JSON")

    message_id = mns.publish(topic, '{"job_id": "j-1"}', tag="audio")

    assert mns.wait_deliveries(topic=topic)
    (event,) = recorder.events
    parsed = MnsMessage.from_bytes(event, MnsFormat.JSON)
    assert parsed.message_id == message_id
    assert parsed.body_json() == {"job_id": "j-1"}
    assert (parsed.topic_name, parsed.subscription_name) == (topic, "on-notify")
    assert parsed.topic_owner == DEFAULT_ACCOUNT_ID
    assert json.loads(event)["MessageTag"] == "audio"


def test_a_local_stream_subscriber_gets_the_raw_body(mns: MnsService, unique: Callable[[str], str]) -> None:
    topic = _topic(mns, unique)
    recorder = Recorder()
    mns.subscribe_local(topic, "on-notify", recorder, content_format="STREAM")

    mns.publish(topic, "plain text body")

    assert mns.wait_deliveries(topic=topic)
    assert recorder.events == [b"plain text body"]


@pytest.mark.sdk
def test_message_attributes_reach_stream_and_json_subscribers(
    account: Any, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = _topic(mns, unique)
    stream, as_json = Recorder(), Recorder()
    mns.subscribe_local(topic, "stream", stream, content_format="STREAM")
    mns.subscribe_local(topic, "json", as_json, content_format="JSON")
    message = TopicMessage('{"job_id": "j-2"}')
    message.add_user_property("source", MessagePropertyValue(PropertyType.STRING, "audiochain"))

    account.get_topic(topic).publish_message(message)

    assert mns.wait_deliveries(topic=topic)
    streamed = MnsMessage.from_bytes(stream.events[0])
    jsoned = MnsMessage.from_bytes(as_json.events[0], MnsFormat.JSON)
    assert (streamed.body_json(), dict(streamed.attributes)) == ({"job_id": "j-2"}, {"source": "audiochain"})
    assert dict(jsoned.attributes) == {"source": "audiochain"}


def test_a_local_subscriber_that_raises_is_retried(mns: MnsService, unique: Callable[[str], str]) -> None:
    topic = _topic(mns, unique)
    recorder = Recorder(failures=2)
    mns.subscribe_local(topic, "on-notify", recorder, content_format="STREAM")

    mns.publish(topic, "again")

    assert mns.wait_deliveries(topic=topic)
    assert (recorder.calls, recorder.events) == (3, [b"again"])


def test_a_local_filter_tag_skips_other_tags(mns: MnsService, unique: Callable[[str], str]) -> None:
    topic = _topic(mns, unique)
    recorder = Recorder()
    mns.subscribe_local(topic, "audio-only", recorder, content_format="STREAM", filter_tag="audio")

    mns.publish(topic, "video", tag="video")
    mns.publish(topic, "audio", tag="audio")
    mns.publish(topic, "untagged")

    assert mns.wait_deliveries(topic=topic)
    assert recorder.events == [b"audio"]


def test_pending_local_deliveries_wait_for_the_subscriber_to_register_again(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = _topic(mns, unique)
    failing = Recorder(failures=1000)
    mns.subscribe_local(topic, "on-notify", failing, strategy="EXPONENTIAL_DECAY_RETRY")
    mns.publish(topic, "kept for later")
    assert wait_until(lambda: failing.calls >= 1)
    mns.unsubscribe_local(topic, "on-notify")
    assert mns.pending_deliveries(topic) == 1

    recorder = Recorder()
    mns.subscribe_local(topic, "on-notify", recorder, content_format="STREAM")

    assert mns.wait_deliveries(topic=topic)
    assert recorder.events == [b"kept for later"]


def test_a_delivery_that_ends_while_the_dispatcher_reads_its_row_is_not_pushed_a_second_time(
    mns: MnsService, unique: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = _topic(mns, unique)
    delivering, finish = threading.Event(), threading.Event()
    stale_pass_read, stale_pass_done = threading.Event(), threading.Event()
    calls: list[bytes] = []

    def deliver(event: bytes) -> None:
        calls.append(event)
        delivering.set()
        finish.wait(10)

    dispatcher = mns.dispatcher
    real_query, real_query_one = mns.state.query, mns.state.query_one

    def query(sql: str, params: Any = ()) -> Any:
        rows = real_query(sql, params)
        if "WHERE next_attempt_at <=" in sql and delivering.is_set() and not stale_pass_read.is_set():
            # This pass read the row of the attempt in flight; let that attempt end before the pass goes on.
            stale_pass_read.set()
            finish.set()
            assert wait_until(lambda: not dispatcher._in_flight)
        return rows

    def query_one(sql: str, params: Any = ()) -> Any:
        if "MIN(next_attempt_at)" in sql and stale_pass_read.is_set():
            stale_pass_done.set()
        return real_query_one(sql, params)

    monkeypatch.setattr(mns.state, "query", query)
    monkeypatch.setattr(mns.state, "query_one", query_one)
    mns.subscribe_local(topic, "on-notify", deliver, content_format="STREAM")
    mns.publish(topic, "exactly once")
    assert delivering.wait(10)

    dispatcher.wake()  # another pass while the first attempt is still delivering

    assert stale_pass_done.wait(10)
    assert wait_until(lambda: not dispatcher._in_flight)
    assert calls == [b"exactly once"]
    assert mns.pending_deliveries(topic) == 0


def test_subscribe_local_refuses_a_missing_topic_and_unknown_formats(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    with pytest.raises(ServiceHttpError) as missing:
        mns.subscribe_local(unique("nowhere"), "sub", Recorder())
    assert (missing.value.status, missing.value.code) == (404, "TopicNotExist")
    topic = _topic(mns, unique)
    with pytest.raises(ServiceHttpError) as bad_format:
        mns.subscribe_local(topic, "sub", Recorder(), content_format="XML")
    assert bad_format.value.code == "InvalidArgument"
    assert "NotifyContentFormat" in bad_format.value.message


# ------------------------------------------------------------------------------------------------ helpers


def notification_message_id(body: bytes) -> str:
    """The MessageId of an XML notification."""
    element = ET.fromstring(body).find("{http://mns.aliyuncs.com/doc/v1/}MessageId")
    assert element is not None and element.text
    return element.text

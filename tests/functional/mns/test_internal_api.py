"""The internal API other localcloud services use: publish, send, ensure_*, *_exists, receive."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from localcloud.services.base import ServiceHttpError
from localcloud.services.mns.service import MnsService


def test_ensure_creates_once_and_exists_reports_it(mns: MnsService, unique: Callable[[str], str]) -> None:
    topic, queue = unique("events"), unique("jobs")
    assert not mns.topic_exists(topic) and not mns.queue_exists(queue)

    for _ in range(2):
        mns.ensure_topic(topic)
        mns.ensure_queue(queue)

    assert mns.topic_exists(topic) and mns.queue_exists(queue)


def test_send_then_receive_returns_the_message(mns: MnsService, unique: Callable[[str], str]) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)

    message_id = mns.send(queue, '{"job": 1}')
    received = mns.receive(queue, wait_seconds=1)

    assert received is not None
    assert (received.message_id, received.body, received.dequeue_count) == (message_id, '{"job": 1}', 1)
    assert mns.receive(queue) is None


def test_publish_to_a_missing_topic_raises_topic_not_exist(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    with pytest.raises(ServiceHttpError) as missing:
        mns.publish(unique("nowhere"), "x")
    assert (missing.value.status, missing.value.code) == (404, "TopicNotExist")


def test_send_to_a_missing_queue_raises_queue_not_exist(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    with pytest.raises(ServiceHttpError) as missing:
        mns.send(unique("nowhere"), "x")
    assert (missing.value.status, missing.value.code) == (404, "QueueNotExist")


def test_publish_without_subscribers_still_counts_the_message(
    mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = unique("events")
    mns.ensure_topic(topic)

    mns.publish(topic, "nobody listens")

    assert mns.topics.get(topic).message_count == 1
    assert mns.pending_deliveries(topic) == 0


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda mns: mns.ensure_queue("under_score"), "queue name"),
        (lambda mns: mns.ensure_topic(""), "topic name"),
        (lambda mns: mns.publish("events", "x", tag="t" * 17), "MessageTag"),
        (lambda mns: mns.publish("events", ""), "MessageBody"),
        (lambda mns: mns.publish("events", "bell \x07"), "MessageBody"),
        (lambda mns: mns.send("jobs", "x", priority=0), "Priority"),
        (lambda mns: mns.send("jobs", "x", delay_seconds=-1), "DelaySeconds"),
    ],
)
def test_bad_input_is_refused_with_invalid_argument_naming_the_field(
    mns: MnsService, call: Callable[[MnsService], object], named: str
) -> None:
    mns.ensure_topic("events")
    mns.ensure_queue("jobs")
    with pytest.raises(ServiceHttpError) as refused:
        call(mns)
    assert (refused.value.status, refused.value.code) == (400, "InvalidArgument")
    assert named in refused.value.message

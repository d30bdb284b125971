"""audiochain's own MnsClient (shared/clients/mns.py) against localcloud: the deployed code path."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from localcloud.services.mns.service import MnsService
from shared.clients.errors import NotFound
from shared.clients.mns import MnsClient
from shared.errors import ServiceResponseError


def test_publish_answers_a_message_id_md5_and_request_id(
    own_client: MnsClient, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = unique("pipeline")
    mns.ensure_topic(topic)

    result = own_client.publish(topic, '{"event":"done","id":"job-1"}', tag="audio")

    assert result.message_id
    assert result.body_md5 == hashlib.md5(b'{"event":"done","id":"job-1"}').hexdigest().upper()
    assert result.request_id


def test_a_published_message_reaches_a_local_subscriber(
    own_client: MnsClient, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = unique("pipeline")
    mns.ensure_topic(topic)
    events: list[bytes] = []
    mns.subscribe_local(topic, "on-notify", events.append, content_format="STREAM")

    own_client.publish(topic, "through the wire", base64_body=True)

    assert mns.wait_deliveries(topic=topic)
    assert events == [b"dGhyb3VnaCB0aGUgd2lyZQ=="]


def test_send_receive_and_delete_round_trip(
    own_client: MnsClient, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("results")
    mns.ensure_queue(queue)

    sent = own_client.send(queue, "caf\u00e9 & co", priority=3)
    received = own_client.receive(queue, wait_seconds=1)

    assert received is not None
    assert (received.message_id, received.body, received.priority) == (sent.message_id, "caf\u00e9 & co", 3)
    assert received.body_md5 == sent.body_md5
    assert received.dequeue_count == 1
    own_client.delete(queue, received.receipt_handle)
    assert own_client.receive(queue, wait_seconds=0) is None


def test_a_base64_body_round_trips(
    own_client: MnsClient, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("results")
    mns.ensure_queue(queue)

    own_client.send(queue, "\u97f3\u9891 bytes", base64_body=True)
    received = own_client.receive(queue, wait_seconds=1, base64_body=True)

    assert received is not None and received.body == "\u97f3\u9891 bytes"


def test_change_visibility_returns_a_handle_that_deletes(
    own_client: MnsClient, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("results")
    mns.ensure_queue(queue)
    own_client.send(queue, "hold on")
    received = own_client.receive(queue, wait_seconds=1)
    assert received is not None

    changed = own_client.change_visibility(queue, received.receipt_handle, 300)

    assert changed.next_visible_time > received.next_visible_time
    with pytest.raises(ServiceResponseError) as stale:
        own_client.delete(queue, received.receipt_handle)
    assert (stale.value.code, stale.value.status) == ("ReceiptHandleError", 400)
    own_client.delete(queue, changed.receipt_handle)


def test_a_missing_queue_or_topic_raises_not_found_with_the_mns_code(
    own_client: MnsClient, unique: Callable[[str], str]
) -> None:
    with pytest.raises(NotFound) as no_queue:
        own_client.send(unique("nowhere"), "x")
    with pytest.raises(NotFound) as no_topic:
        own_client.publish(unique("nowhere"), "x")
    assert (no_queue.value.code, no_topic.value.code) == ("QueueNotExist", "TopicNotExist")
    assert no_queue.value.request_id

"""The official aliyun-mns-sdk, unmodified, drives localcloud's queues."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from mns.message_property import MessagePropertyValue, PropertyType
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta

from localcloud.services.mns.service import MnsService
from tests.functional.mns.conftest import wait_until

pytestmark = pytest.mark.sdk


def _meta(**values: Any) -> QueueMeta:
    meta = QueueMeta()
    for name, value in values.items():
        setattr(meta, name, value)
    return meta


def test_create_queue_answers_its_url_and_is_idempotent_with_the_same_attributes(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    url = queue.create(_meta(visibility_timeout=60))
    assert url.endswith(f"/queues/{queue.queue_name}")
    assert queue.create(_meta(visibility_timeout=60)) == url


def test_create_queue_with_different_attributes_is_refused_with_queue_already_exist(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(_meta(visibility_timeout=60))
    with pytest.raises(MNSServerException) as refused:
        queue.create(_meta(visibility_timeout=61))
    assert refused.value.type == "QueueAlreadyExist"


def test_queue_attributes_round_trip_through_create_set_and_get(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(
        _meta(
            visibility_timeout=45,
            maximum_message_size=2048,
            message_retention_period=3600,
            delay_seconds=2,
            polling_wait_seconds=5,
            logging_enabled=True,
        )
    )
    queue.set_attributes(_meta(visibility_timeout=90))
    attributes = queue.get_attributes()
    assert (
        attributes.queue_name,
        attributes.visibility_timeout,
        attributes.maximum_message_size,
        attributes.message_retention_period,
        attributes.delay_seconds,
        attributes.polling_wait_seconds,
        attributes.logging_enabled,
    ) == (queue.queue_name, 90, 2048, 3600, 2, 5, True)
    assert attributes.create_time <= attributes.last_modify_time


def test_an_out_of_range_attribute_is_refused_naming_the_element(
    account: Any, unique: Callable[[str], str]
) -> None:
    with pytest.raises(MNSServerException) as refused:
        account.get_queue(unique("jobs")).create(_meta(visibility_timeout=50000))
    assert refused.value.type == "InvalidArgument"
    assert "VisibilityTimeout" in refused.value.message


def test_a_base64_message_is_sent_and_received_decoded(account: Any, unique: Callable[[str], str]) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    sent = queue.send_message(Message('{"job": "j-1"}'))
    wire_body = base64.b64encode(b'{"job": "j-1"}')
    assert sent.message_body_md5 == hashlib.md5(wire_body).hexdigest().upper()

    received = queue.receive_message(wait_seconds=1)

    assert received.message_body == b'{"job": "j-1"}'
    assert received.message_id == sent.message_id
    assert received.dequeue_count == 1
    assert received.enqueue_time <= received.first_dequeue_time < received.next_visible_time


def test_a_plain_message_keeps_its_text_and_xml_special_characters(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    body = 'caf\u00e9 <a href="x">&amp;</a>\nline two'
    sent = queue.send_message(Message(body))

    received = queue.receive_message(wait_seconds=1)

    assert received.message_body == body
    assert received.message_body_md5 == sent.message_body_md5
    assert sent.message_body_md5 == hashlib.md5(body.encode()).hexdigest().upper()


def test_receive_on_an_empty_queue_answers_message_not_exist(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    with pytest.raises(MNSServerException) as empty:
        queue.receive_message(wait_seconds=0)
    assert empty.value.type == "MessageNotExist"


def test_a_long_poll_is_woken_by_a_send(account: Any, unique: Callable[[str], str], mns: MnsService) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    outcome: dict[str, Any] = {}

    def poll() -> None:
        outcome["message"] = queue.receive_message(wait_seconds=25)

    poller = threading.Thread(target=poll)
    poller.start()
    assert wait_until(lambda: mns.queues.waiting == 1)
    mns.send(queue.queue_name, "wake up")
    poller.join(timeout=10)

    assert not poller.is_alive(), "the long poll was not woken by the send"
    assert outcome["message"].message_body == "wake up"


def test_a_long_poll_returns_a_delayed_message_once_it_becomes_visible(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    queue.send_message(Message("later", delay_seconds=1))
    with pytest.raises(MNSServerException):
        queue.receive_message(wait_seconds=0)

    assert queue.receive_message(wait_seconds=10).message_body == "later"


def test_delete_message_removes_it_and_a_second_delete_finds_nothing(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.send_message(Message("once"))
    received = queue.receive_message(wait_seconds=1)

    queue.delete_message(received.receipt_handle)

    with pytest.raises(MNSServerException) as gone:
        queue.delete_message(received.receipt_handle)
    assert gone.value.type == "MessageNotExist"
    attributes = queue.get_attributes()
    assert (attributes.active_messages, attributes.inactive_messages) == (0, 0)


def test_change_visibility_issues_a_new_handle_and_voids_the_old_one(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.send_message(Message("hold"))
    received = queue.receive_message(wait_seconds=1)

    changed = queue.change_message_visibility(received.receipt_handle, 120)

    assert changed.receipt_handle != received.receipt_handle
    assert int(changed.next_visible_time) > received.next_visible_time
    with pytest.raises(MNSServerException) as stale:
        queue.delete_message(received.receipt_handle)
    assert stale.value.type == "ReceiptHandleError"
    queue.delete_message(changed.receipt_handle)


def test_peek_shows_the_next_message_without_taking_it(account: Any, unique: Callable[[str], str]) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    queue.send_message(Message("look"))

    peeked = queue.peek_message()
    received = queue.receive_message(wait_seconds=1)

    assert (peeked.message_body, peeked.dequeue_count) == ("look", 0)
    assert received.dequeue_count == 1


def test_lower_priority_numbers_are_received_first(account: Any, unique: Callable[[str], str]) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    queue.send_message(Message("routine", priority=12))
    queue.send_message(Message("urgent", priority=1))

    first = queue.receive_message(wait_seconds=1)

    assert (first.message_body, first.priority) == ("urgent", 1)


def test_batch_send_receive_and_delete_work_together(account: Any, unique: Callable[[str], str]) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    sent = queue.batch_send_message([Message(f"m{i}") for i in range(3)])
    assert len(sent) == 3

    received = queue.batch_receive_message(5, wait_seconds=1)
    assert sorted(message.message_body for message in received) == ["m0", "m1", "m2"]

    queue.batch_delete_message([message.receipt_handle for message in received])
    assert queue.get_attributes().inactive_messages == 0


def test_queue_operations_on_a_missing_queue_answer_queue_not_exist(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("nowhere"))
    for operation in (queue.get_attributes, lambda: queue.send_message(Message("x"))):
        with pytest.raises(MNSServerException) as missing:
            operation()
        assert missing.value.type == "QueueNotExist"


def test_deleted_queues_disappear_from_the_listing(account: Any, unique: Callable[[str], str]) -> None:
    prefix = unique("listed")
    for name in ("alpha", "beta", "gamma"):
        account.get_queue(f"{prefix}-{name}").create(QueueMeta())
    account.get_queue(f"{prefix}-beta").delete()

    urls, next_marker = account.list_queue(prefix=prefix)

    assert [url.rsplit("/", 1)[1] for url in urls] == [f"{prefix}-alpha", f"{prefix}-gamma"]
    assert next_marker == ""


def test_queue_listing_pages_with_a_marker_and_a_prefix(account: Any, unique: Callable[[str], str]) -> None:
    prefix = unique("paged")
    for name in (f"{prefix}-a", f"{prefix}-b", f"{prefix}-c", unique("other")):
        account.get_queue(name).create(QueueMeta())

    first, marker = account.list_queue(prefix=f"{prefix}-", ret_number=2)
    rest, last_marker = account.list_queue(prefix=f"{prefix}-", ret_number=2, marker=marker)

    assert [url.rsplit("/", 1)[1] for url in first + rest] == [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    assert last_marker == ""


def test_a_receive_without_waitseconds_long_polls_for_the_queue_polling_wait(
    account: Any, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(_meta(polling_wait_seconds=20))
    queue.set_encoding(False)
    outcome: dict[str, Any] = {}
    poller = threading.Thread(target=lambda: outcome.update(message=queue.receive_message()))
    poller.start()
    assert wait_until(lambda: mns.queues.waiting == 1)

    mns.send(queue.queue_name, "worth the wait")
    poller.join(timeout=10)

    assert not poller.is_alive()
    assert outcome["message"].message_body == "worth the wait"


def test_user_properties_travel_with_a_queue_message(account: Any, unique: Callable[[str], str]) -> None:
    queue = account.get_queue(unique("jobs"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    message = Message("with attributes")
    message.add_user_property("source", MessagePropertyValue(PropertyType.STRING, "audiochain"))
    queue.send_message(message)

    received = queue.receive_message(wait_seconds=1)

    properties = {name: value.get_string_value_by_type() for name, value in received.user_properties.items()}
    assert properties == {"source": "audiochain"}

"""Visibility timeouts, dequeue counts and receipt handles, as the official SDK sees them."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
from mns.mns_exception import MNSServerException
from mns.queue import Message, QueueMeta

from tests.functional.mns.conftest import wait_until

pytestmark = pytest.mark.sdk


def _queue(account: Any, unique: Callable[[str], str], visibility_timeout: int = 1) -> Any:
    queue = account.get_queue(unique("work"))
    queue.create(QueueMeta(vis_timeout=visibility_timeout))
    queue.set_encoding(False)
    return queue


def test_an_unacknowledged_message_comes_back_with_a_higher_dequeue_count(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = _queue(account, unique)
    queue.send_message(Message("retry me"))
    first = queue.receive_message(wait_seconds=1)
    with pytest.raises(MNSServerException) as hidden:
        queue.receive_message(wait_seconds=0)
    assert hidden.value.type == "MessageNotExist"

    again = queue.receive_message(wait_seconds=10)

    assert again.message_id == first.message_id
    assert (first.dequeue_count, again.dequeue_count) == (1, 2)
    assert again.first_dequeue_time == first.first_dequeue_time
    assert again.receipt_handle != first.receipt_handle
    with pytest.raises(MNSServerException) as stale:
        queue.delete_message(first.receipt_handle)
    assert stale.value.type == "ReceiptHandleError"
    queue.delete_message(again.receipt_handle)


def test_a_handle_is_refused_once_its_next_visible_time_has_passed(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = _queue(account, unique)
    queue.send_message(Message("too slow"))
    received = queue.receive_message(wait_seconds=1)
    assert wait_until(lambda: time.time() * 1000 > received.next_visible_time + 50)

    with pytest.raises(MNSServerException) as expired:
        queue.delete_message(received.receipt_handle)

    assert expired.value.type == "ReceiptHandleError"


def test_a_handle_this_queue_never_issued_is_a_receipt_handle_error(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = _queue(account, unique)
    with pytest.raises(MNSServerException) as invalid:
        queue.delete_message("not-a-handle")
    assert invalid.value.type == "ReceiptHandleError"


@pytest.mark.parametrize("number", ["99999999999999999999", "-1", "0"])
def test_a_handle_naming_an_impossible_message_number_is_a_receipt_handle_error(
    account: Any, unique: Callable[[str], str], number: str
) -> None:
    queue = _queue(account, unique)
    forged = "1-" + base64.urlsafe_b64encode(f"{number}:00ff00ff00ff".encode()).decode("ascii")

    with pytest.raises(MNSServerException) as deleting:
        queue.delete_message(forged)
    with pytest.raises(MNSServerException) as hiding:
        queue.change_message_visibility(forged, 10)

    assert (deleting.value.type, hiding.value.type) == ("ReceiptHandleError", "ReceiptHandleError")


def test_queue_attributes_count_active_inactive_and_delayed_messages(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = _queue(account, unique, visibility_timeout=60)
    queue.send_message(Message("active"))
    queue.send_message(Message("in flight"))
    queue.send_message(Message("delayed", delay_seconds=600))
    queue.receive_message(wait_seconds=1)

    attributes = queue.get_attributes()

    assert (attributes.active_messages, attributes.inactive_messages, attributes.delay_messages) == (1, 1, 1)


def test_changing_visibility_to_one_second_releases_the_message_early(
    account: Any, unique: Callable[[str], str]
) -> None:
    queue = _queue(account, unique, visibility_timeout=3600)
    queue.send_message(Message("give back"))
    received = queue.receive_message(wait_seconds=1)

    queue.change_message_visibility(received.receipt_handle, 1)
    again = queue.receive_message(wait_seconds=10)

    assert (again.message_id, again.dequeue_count) == (received.message_id, 2)

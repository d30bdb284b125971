"""QueueStore on a hand-driven clock: delays, visibility, retention and receipt handles without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.services.base import ServiceHttpError
from localcloud.services.mns.queues import OutgoingMessage, QueueAttributes, QueueStore
from localcloud.state import StateStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[QueueStore]:
    state = StateStore(tmp_path)
    queues = QueueStore(state, clock=clock)
    queues.create("jobs", QueueAttributes(visibility_timeout=30, message_retention_period=600))
    yield queues
    state.close()


def _code(call: object) -> str:
    with pytest.raises(ServiceHttpError) as refused:
        call()  # type: ignore[operator]
    return refused.value.code


def test_a_delayed_message_stays_hidden_until_its_delay_has_passed(store: QueueStore, clock: Clock) -> None:
    store.send("jobs", [OutgoingMessage("later", delay_seconds=10)])
    assert store.get("jobs").delay_messages == 1
    clock.advance(9.9)
    assert _code(lambda: store.receive("jobs", wait_seconds=0)) == "MessageNotExist"

    clock.advance(0.2)

    (message,) = store.receive("jobs", wait_seconds=0)
    assert message.body == "later"


def test_a_message_not_deleted_within_the_visibility_timeout_is_received_again(
    store: QueueStore, clock: Clock
) -> None:
    store.send("jobs", [OutgoingMessage("work")])
    (first,) = store.receive("jobs", wait_seconds=0)
    assert first.next_visible_time == first.first_dequeue_time + 30_000
    clock.advance(29)
    assert _code(lambda: store.receive("jobs", wait_seconds=0)) == "MessageNotExist"

    clock.advance(2)
    (second,) = store.receive("jobs", wait_seconds=0)

    assert (second.message_id, second.dequeue_count) == (first.message_id, 2)
    assert second.first_dequeue_time == first.first_dequeue_time
    assert _code(lambda: store.delete_message("jobs", first.receipt_handle or "")) == "ReceiptHandleError"
    store.delete_message("jobs", second.receipt_handle or "")


def test_an_expired_handle_is_refused_even_before_anyone_receives_again(
    store: QueueStore, clock: Clock
) -> None:
    store.send("jobs", [OutgoingMessage("work")])
    (held,) = store.receive("jobs", wait_seconds=0)
    clock.advance(31)

    assert (
        _code(lambda: store.change_visibility("jobs", held.receipt_handle or "", 60)) == "ReceiptHandleError"
    )


def test_messages_older_than_the_retention_period_are_gone(store: QueueStore, clock: Clock) -> None:
    store.send("jobs", [OutgoingMessage("stale")])
    clock.advance(600)

    assert _code(lambda: store.receive("jobs", wait_seconds=0)) == "MessageNotExist"
    assert store.get("jobs").active_messages == 0


def test_a_deleted_message_is_message_not_exist_and_a_foreign_handle_is_receipt_handle_error(
    store: QueueStore,
) -> None:
    store.send("jobs", [OutgoingMessage("once")])
    (held,) = store.receive("jobs", wait_seconds=0)
    store.delete_message("jobs", held.receipt_handle or "")

    assert _code(lambda: store.delete_message("jobs", held.receipt_handle or "")) == "MessageNotExist"
    assert _code(lambda: store.delete_message("jobs", "1-bm90IGEgaGFuZGxl")) == "ReceiptHandleError"
    assert _code(lambda: store.delete_message("jobs", "garbage")) == "ReceiptHandleError"


def test_a_batch_send_with_one_bad_message_stores_none(store: QueueStore) -> None:
    batch = [OutgoingMessage("fine"), OutgoingMessage("x" * 70_000)]

    assert _code(lambda: store.send("jobs", batch)) == "InvalidArgument"
    assert store.get("jobs").active_messages == 0


def test_a_batch_delete_reports_each_handle_that_failed(store: QueueStore) -> None:
    store.send("jobs", [OutgoingMessage("a"), OutgoingMessage("b")])
    held = store.receive("jobs", count=2, wait_seconds=0)

    failures = store.delete_messages("jobs", [held[0].receipt_handle or "", "garbage"])

    assert [(handle, code) for handle, code, _ in failures] == [("garbage", "ReceiptHandleError")]
    assert store.get("jobs").inactive_messages == 1


def test_deleting_a_queue_deletes_its_messages_and_a_missing_queue_is_no_error(store: QueueStore) -> None:
    store.send("jobs", [OutgoingMessage("a")])
    store.delete("jobs")
    store.delete("jobs")

    store.create("jobs", QueueAttributes())
    assert store.get("jobs").active_messages == 0

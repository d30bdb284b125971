"""MNS queues on the StateStore: attributes, messages, visibility and long polling.

A message row holds everything MNS reports (enqueue time, dequeue count, …) plus `next_visible_time`,
which alone decides its state: visible (Active) once that time has passed; before it, Delayed if it was
never received, Inactive (in flight) otherwise. Receiving a message stamps a new receipt handle and pushes
`next_visible_time` forward by the queue's VisibilityTimeout, all inside one transaction, so two
consumers can never take the same message and a restart finds in-flight messages exactly as they were.

Receipt handles: each receive or visibility change issues a new handle and voids the previous one. A
handle that cannot be read, that was replaced, or whose NextVisibleTime has passed is a
`ReceiptHandleError` (400); a readable handle of a message that is gone (deleted, expired) is
`MessageNotExist` (404).

Long polling waits on a Condition that every send, visibility change and queue deletion notifies, with a
timeout no later than the next moment a hidden message becomes visible: no busy waiting.

    store = QueueStore(StateStore(data_dir))
    store.create("jobs", QueueAttributes())
    (sent,) = store.send("jobs", [OutgoingMessage("hello")])
    (received,) = store.receive("jobs", wait_seconds=20)   # long poll
    store.delete_message("jobs", received.receipt_handle)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from localcloud.services.base import ServiceHttpError
from localcloud.services.mns import rules
from localcloud.state import StateStore

Clock = Callable[[], float]
# Message numbers are SQLite row ids: from 1 up to the largest signed 64-bit integer.
_MAX_SEQUENCE = 2**63 - 1
Properties = Mapping[str, Sequence[Mapping[str, str]]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mns_queues (
    name TEXT PRIMARY KEY,
    delay_seconds INTEGER NOT NULL,
    maximum_message_size INTEGER NOT NULL,
    message_retention_period INTEGER NOT NULL,
    visibility_timeout INTEGER NOT NULL,
    polling_wait_seconds INTEGER NOT NULL,
    logging_enabled INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    last_modify_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mns_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL REFERENCES mns_queues(name) ON DELETE CASCADE,
    message_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    body_md5 TEXT NOT NULL,
    priority INTEGER NOT NULL,
    enqueue_time INTEGER NOT NULL,
    next_visible_time INTEGER NOT NULL,
    first_dequeue_time INTEGER NOT NULL DEFAULT 0,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    receipt_handle TEXT,
    properties TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS mns_messages_ready ON mns_messages(queue, next_visible_time);
"""


@dataclass(frozen=True)
class QueueAttributes:
    """The settable attributes, with MNS's defaults."""

    delay_seconds: int = rules.DELAY_SECONDS.default
    maximum_message_size: int = rules.MAXIMUM_MESSAGE_SIZE.default
    message_retention_period: int = rules.MESSAGE_RETENTION_PERIOD.default
    visibility_timeout: int = rules.VISIBILITY_TIMEOUT.default
    polling_wait_seconds: int = rules.POLLING_WAIT_SECONDS.default
    logging_enabled: bool = False


ATTRIBUTE_NAMES = tuple(f.name for f in fields(QueueAttributes))


@dataclass(frozen=True)
class QueueInfo:
    name: str
    attributes: QueueAttributes
    create_time: int  # seconds since the epoch, as GetQueueAttributes reports it
    last_modify_time: int
    active_messages: int = 0
    inactive_messages: int = 0
    delay_messages: int = 0


@dataclass(frozen=True)
class QueueMessage:
    """A message as MNS reports it; times in milliseconds since the epoch."""

    message_id: str
    body: str
    body_md5: str
    priority: int
    enqueue_time: int
    next_visible_time: int
    first_dequeue_time: int
    dequeue_count: int
    receipt_handle: str | None = None
    properties: Properties = field(default_factory=dict)


@dataclass(frozen=True)
class OutgoingMessage:
    body: str
    delay_seconds: int | None = None  # None: the queue's DelaySeconds
    priority: int = rules.PRIORITY.default
    properties: Properties = field(default_factory=dict)


def body_md5(body: str) -> str:
    """MessageBodyMD5: upper-case hex MD5 of the body exactly as stored (base64 text stays base64)."""
    return hashlib.md5(body.encode("utf-8")).hexdigest().upper()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class QueueStore:
    def __init__(self, state: StateStore, *, clock: Clock = time.time) -> None:
        self.state = state
        self._clock = clock
        state.ensure_schema(_SCHEMA)
        self._changed = threading.Condition()
        self._generation = 0
        self._closing = False
        self._waiting = 0

    # --- queues -----------------------------------------------------------------------------------------

    def create(self, name: str, attributes: QueueAttributes) -> bool:
        """True when created; False when it exists with the same attributes; 409 when they differ."""
        now = int(self._clock())
        with self.state.transaction() as db:
            row = db.execute("SELECT * FROM mns_queues WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if _attributes(row) != attributes:
                    raise rules.already_exists("QueueAlreadyExist", "queue", name)
                return False
            db.execute(
                "INSERT INTO mns_queues VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, *_attribute_values(attributes), now, now),
            )
        return True

    def set_attributes(self, name: str, changes: Mapping[str, Any]) -> None:
        with self.state.transaction() as db:
            current = _attributes(self._queue_row(db, name))
            updated = replace(current, **changes)
            db.execute(
                "UPDATE mns_queues SET delay_seconds = ?, maximum_message_size = ?, "
                "message_retention_period = ?, visibility_timeout = ?, polling_wait_seconds = ?, "
                "logging_enabled = ?, last_modify_time = ? WHERE name = ?",
                (*_attribute_values(updated), int(self._clock()), name),
            )
        self._notify()

    def get(self, name: str) -> QueueInfo:
        now = _ms(self._clock())
        with self.state.transaction() as db:
            row = self._queue_row(db, name)
            self._purge_expired(db, row, now)
            counts = db.execute(
                "SELECT SUM(next_visible_time <= :now), "
                "SUM(next_visible_time > :now AND dequeue_count > 0), "
                "SUM(next_visible_time > :now AND dequeue_count = 0) FROM mns_messages WHERE queue = :q",
                {"now": now, "q": name},
            ).fetchone()
        active, inactive, delayed = (int(value or 0) for value in counts)
        return QueueInfo(
            name=name,
            attributes=_attributes(row),
            create_time=row["create_time"],
            last_modify_time=row["last_modify_time"],
            active_messages=active,
            inactive_messages=inactive,
            delay_messages=delayed,
        )

    def exists(self, name: str) -> bool:
        return self.state.query_one("SELECT 1 FROM mns_queues WHERE name = ?", (name,)) is not None

    def delete(self, name: str) -> None:
        """Delete a queue and its messages; deleting a missing queue succeeds, as in MNS."""
        self.state.execute("DELETE FROM mns_queues WHERE name = ?", (name,))
        self._notify()

    def list_names(self, prefix: str = "", marker: str = "", limit: int = 1000) -> tuple[list[str], str]:
        """Names in order from `marker`, and the marker of the next page ("" when this is the last)."""
        rows = self.state.query(
            "SELECT name FROM mns_queues WHERE substr(name, 1, ?) = ? AND name >= ? ORDER BY name LIMIT ?",
            (len(prefix), prefix, marker, limit + 1),
        )
        names = [row["name"] for row in rows]
        return names[:limit], (names[limit] if len(names) > limit else "")

    # --- messages ---------------------------------------------------------------------------------------

    def send(self, name: str, messages: Sequence[OutgoingMessage]) -> list[QueueMessage]:
        """Enqueue messages atomically (all or none)."""
        now = _ms(self._clock())
        sent: list[QueueMessage] = []
        with self.state.transaction() as db:
            queue = _attributes(self._queue_row(db, name))
            for message in messages:
                rules.check_body(message.body, queue.maximum_message_size)
                delay = queue.delay_seconds if message.delay_seconds is None else message.delay_seconds
                record = QueueMessage(
                    message_id=rules.new_message_id(now),
                    body=message.body,
                    body_md5=body_md5(message.body),
                    priority=message.priority,
                    enqueue_time=now,
                    next_visible_time=now + delay * 1000,
                    first_dequeue_time=0,
                    dequeue_count=0,
                    properties=message.properties,
                )
                db.execute(
                    "INSERT INTO mns_messages (queue, message_id, body, body_md5, priority, enqueue_time, "
                    "next_visible_time, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        record.message_id,
                        record.body,
                        record.body_md5,
                        record.priority,
                        record.enqueue_time,
                        record.next_visible_time,
                        json.dumps(dict(record.properties)),
                    ),
                )
                sent.append(record)
        self._notify()
        return sent

    def receive(self, name: str, count: int = 1, wait_seconds: int | None = None) -> list[QueueMessage]:
        """Take up to `count` visible messages, waiting up to `wait_seconds` (default: the queue's
        PollingWaitSeconds) for one to arrive; MessageNotExist when none did."""
        if wait_seconds is None:
            wait_seconds = self.get(name).attributes.polling_wait_seconds
        deadline = self._clock() + wait_seconds
        while True:
            with self._changed:
                generation = self._generation
            taken = self._take(name, count)
            if taken:
                return taken
            now = self._clock()
            if now >= deadline or self._closing:
                raise rules.message_not_exist()
            timeout = deadline - now
            upcoming = self._next_visible_time(name)
            if upcoming is not None:
                timeout = min(timeout, max(upcoming / 1000 - now, 0.001))
            with self._changed:
                if self._generation == generation and not self._closing:
                    self._waiting += 1
                    try:
                        self._changed.wait(timeout)
                    finally:
                        self._waiting -= 1
                if self._closing:
                    raise rules.message_not_exist()

    def peek(self, name: str, count: int = 1) -> list[QueueMessage]:
        now = _ms(self._clock())
        with self.state.transaction() as db:
            self._purge_expired(db, self._queue_row(db, name), now)
            rows = db.execute(
                "SELECT * FROM mns_messages WHERE queue = ? AND next_visible_time <= ? "
                "ORDER BY priority, seq LIMIT ?",
                (name, now, count),
            ).fetchall()
        if not rows:
            raise rules.message_not_exist()
        return [replace(_message(row), receipt_handle=None) for row in rows]

    def delete_message(self, name: str, receipt_handle: str) -> None:
        now = _ms(self._clock())
        with self.state.transaction() as db:
            self._queue_row(db, name)
            row = self._held_message(db, name, receipt_handle, now)
            db.execute("DELETE FROM mns_messages WHERE seq = ?", (row["seq"],))

    def delete_messages(self, name: str, receipt_handles: Sequence[str]) -> list[tuple[str, str, str]]:
        """Delete each handle's message; returns (handle, error code, error message) for each failure."""
        failures: list[tuple[str, str, str]] = []
        for handle in receipt_handles:
            try:
                self.delete_message(name, handle)
            except ServiceHttpError as error:
                if error.code == "QueueNotExist":
                    raise
                failures.append((handle, error.code, error.message))
        return failures

    def change_visibility(self, name: str, receipt_handle: str, seconds: int) -> tuple[str, int]:
        """Hide a held message for `seconds` from now; returns (new receipt handle, NextVisibleTime)."""
        now = _ms(self._clock())
        with self.state.transaction() as db:
            self._queue_row(db, name)
            row = self._held_message(db, name, receipt_handle, now)
            next_visible = now + seconds * 1000
            handle = _new_handle(row["seq"], row["dequeue_count"])
            db.execute(
                "UPDATE mns_messages SET next_visible_time = ?, receipt_handle = ? WHERE seq = ?",
                (next_visible, handle, row["seq"]),
            )
        self._notify()
        return handle, next_visible

    @property
    def waiting(self) -> int:
        """How many ReceiveMessage calls are blocked in a long poll right now."""
        with self._changed:
            return self._waiting

    def close(self) -> None:
        """Release every long poll now (they answer MessageNotExist) and refuse to start new waits."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()

    # --- internals --------------------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def _queue_row(self, db: sqlite3.Connection, name: str) -> sqlite3.Row:
        row: sqlite3.Row | None = db.execute("SELECT * FROM mns_queues WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise rules.queue_not_exist(name)
        return row

    def _purge_expired(self, db: sqlite3.Connection, queue: sqlite3.Row, now: int) -> None:
        horizon = now - queue["message_retention_period"] * 1000
        db.execute("DELETE FROM mns_messages WHERE queue = ? AND enqueue_time <= ?", (queue["name"], horizon))

    def _take(self, name: str, count: int) -> list[QueueMessage]:
        now = _ms(self._clock())
        taken: list[QueueMessage] = []
        with self.state.transaction() as db:
            queue = self._queue_row(db, name)
            self._purge_expired(db, queue, now)
            rows = db.execute(
                "SELECT * FROM mns_messages WHERE queue = ? AND next_visible_time <= ? "
                "ORDER BY priority, seq LIMIT ?",
                (name, now, count),
            ).fetchall()
            for row in rows:
                dequeue_count = row["dequeue_count"] + 1
                first = row["first_dequeue_time"] or now
                next_visible = now + queue["visibility_timeout"] * 1000
                handle = _new_handle(row["seq"], dequeue_count)
                db.execute(
                    "UPDATE mns_messages SET dequeue_count = ?, first_dequeue_time = ?, "
                    "next_visible_time = ?, receipt_handle = ? WHERE seq = ?",
                    (dequeue_count, first, next_visible, handle, row["seq"]),
                )
                taken.append(
                    replace(
                        _message(row),
                        dequeue_count=dequeue_count,
                        first_dequeue_time=first,
                        next_visible_time=next_visible,
                        receipt_handle=handle,
                    )
                )
        return taken

    def _next_visible_time(self, name: str) -> int | None:
        row = self.state.query_one(
            "SELECT MIN(next_visible_time) AS upcoming FROM mns_messages WHERE queue = ? "
            "AND next_visible_time > ?",
            (name, _ms(self._clock())),
        )
        return None if row is None or row["upcoming"] is None else int(row["upcoming"])

    def _held_message(self, db: sqlite3.Connection, name: str, handle: str, now: int) -> sqlite3.Row:
        seq = _handle_sequence(handle)
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM mns_messages WHERE seq = ? AND queue = ?", (seq, name)
        ).fetchone()
        if row is None:
            raise rules.message_not_exist()
        if row["receipt_handle"] != handle:
            raise rules.receipt_handle_error("a later receive or visibility change replaced it.")
        if row["next_visible_time"] <= now:
            raise rules.receipt_handle_error("it expired at NextVisibleTime; receive the message again.")
        return row


def _attribute_values(attributes: QueueAttributes) -> tuple[int, ...]:
    return tuple(int(getattr(attributes, name)) for name in ATTRIBUTE_NAMES)


def _attributes(row: sqlite3.Row) -> QueueAttributes:
    values = {name: row[name] for name in ATTRIBUTE_NAMES}
    values["logging_enabled"] = bool(values["logging_enabled"])
    return QueueAttributes(**values)


def _message(row: sqlite3.Row) -> QueueMessage:
    return QueueMessage(
        message_id=row["message_id"],
        body=row["body"],
        body_md5=row["body_md5"],
        priority=row["priority"],
        enqueue_time=row["enqueue_time"],
        next_visible_time=row["next_visible_time"],
        first_dequeue_time=row["first_dequeue_time"],
        dequeue_count=row["dequeue_count"],
        receipt_handle=row["receipt_handle"],
        properties=json.loads(row["properties"]),
    )


def _new_handle(seq: int, dequeue_count: int) -> str:
    # URL-safe base64 so the SDK, which puts handles into query strings unencoded, cannot garble them.
    token = base64.urlsafe_b64encode(f"{seq}:{secrets.token_hex(6)}".encode()).decode("ascii")
    return f"{dequeue_count}-{token}"


def _handle_sequence(handle: str) -> int:
    _, sep, token = handle.partition("-")
    try:
        if not sep:
            raise ValueError("no dash")
        seq_text, _, _ = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii").partition(":")
        seq = int(seq_text)
        if not 1 <= seq <= _MAX_SEQUENCE:  # never issued (and beyond what SQLite can look up)
            raise ValueError("no such message number")
        return seq
    except (ValueError, UnicodeError, binascii.Error):
        raise rules.receipt_handle_error("it is not a handle this queue issued.") from None

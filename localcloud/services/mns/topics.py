"""MNS topics and subscriptions on the StateStore, and publishing: one delivery row per matching subscriber.

Publishing writes the message and a delivery row for every subscription whose FilterTag is empty or
equals the message's tag, in one transaction; the dispatcher (delivery.py) works through those rows.
Subscriptions made over HTTP are rows here; the local function runtime's in-process subscriptions are
not persisted (it registers them again at start) but their pending deliveries are, marked `local = 1`.

Topic messages are kept one day, MNS's fixed topic retention; deleting a topic or a subscription
deletes its pending deliveries with it.

    topics = TopicStore(state)
    topics.create("jobs", TopicAttributes())
    message, deliveries = topics.publish("jobs", '{"id": 1}', tag="audio")
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.services.mns import rules
from localcloud.services.mns.queues import body_md5
from localcloud.state import StateStore

Clock = Callable[[], float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mns_topics (
    name TEXT PRIMARY KEY,
    maximum_message_size INTEGER NOT NULL,
    logging_enabled INTEGER NOT NULL,
    create_time INTEGER NOT NULL,
    last_modify_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS mns_subscriptions (
    topic TEXT NOT NULL REFERENCES mns_topics(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    notify_strategy TEXT NOT NULL,
    notify_content_format TEXT NOT NULL,
    filter_tag TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    last_modify_time INTEGER NOT NULL,
    PRIMARY KEY (topic, name)
);
CREATE TABLE IF NOT EXISTS mns_topic_messages (
    message_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL REFERENCES mns_topics(name) ON DELETE CASCADE,
    body TEXT NOT NULL,
    body_md5 TEXT NOT NULL,
    tag TEXT NOT NULL,
    attributes TEXT NOT NULL,
    publish_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS mns_topic_messages_by_time ON mns_topic_messages(topic, publish_time);
CREATE TABLE IF NOT EXISTS mns_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL REFERENCES mns_topic_messages(message_id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    subscription TEXT NOT NULL,
    local INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    UNIQUE (message_id, subscription, local)
);
CREATE INDEX IF NOT EXISTS mns_deliveries_due ON mns_deliveries(next_attempt_at);
"""


@dataclass(frozen=True)
class TopicAttributes:
    maximum_message_size: int = rules.MAXIMUM_MESSAGE_SIZE.default
    logging_enabled: bool = False


@dataclass(frozen=True)
class TopicInfo:
    name: str
    attributes: TopicAttributes
    create_time: int  # seconds since the epoch
    last_modify_time: int
    message_count: int = 0


@dataclass(frozen=True)
class SubscriptionAttributes:
    endpoint: str
    notify_strategy: str = "BACKOFF_RETRY"
    notify_content_format: str = "XML"
    filter_tag: str = ""


@dataclass(frozen=True)
class SubscriptionInfo:
    topic: str
    name: str
    attributes: SubscriptionAttributes
    create_time: int
    last_modify_time: int


@dataclass(frozen=True)
class TopicMessage:
    message_id: str
    topic: str
    body: str
    body_md5: str
    tag: str  # "" when the publisher gave none
    publish_time: int  # milliseconds since the epoch
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalSubscriber:
    """What publishing needs to know about an in-process subscription."""

    name: str
    filter_tag: str = ""


class TopicStore:
    def __init__(self, state: StateStore, *, clock: Clock = time.time) -> None:
        self.state = state
        self._clock = clock
        state.ensure_schema(_SCHEMA)

    # --- topics -----------------------------------------------------------------------------------------

    def create(self, name: str, attributes: TopicAttributes) -> bool:
        """True when created; False when it exists with the same attributes; 409 when they differ."""
        now = int(self._clock())
        with self.state.transaction() as db:
            row = db.execute("SELECT * FROM mns_topics WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if _topic_attributes(row) != attributes:
                    raise rules.already_exists("TopicAlreadyExist", "topic", name)
                return False
            db.execute(
                "INSERT INTO mns_topics VALUES (?, ?, ?, ?, ?)",
                (name, attributes.maximum_message_size, int(attributes.logging_enabled), now, now),
            )
        return True

    def set_attributes(self, name: str, changes: Mapping[str, Any]) -> None:
        with self.state.transaction() as db:
            updated = replace(_topic_attributes(self._topic_row(db, name)), **changes)
            db.execute(
                "UPDATE mns_topics SET maximum_message_size = ?, logging_enabled = ?, last_modify_time = ? "
                "WHERE name = ?",
                (updated.maximum_message_size, int(updated.logging_enabled), int(self._clock()), name),
            )

    def get(self, name: str) -> TopicInfo:
        horizon = int(self._clock() * 1000) - rules.TOPIC_RETENTION_SECONDS * 1000
        with self.state.transaction() as db:
            row = self._topic_row(db, name)
            count = db.execute(
                "SELECT COUNT(*) FROM mns_topic_messages WHERE topic = ? AND publish_time > ?",
                (name, horizon),
            ).fetchone()[0]
        return TopicInfo(
            name=name,
            attributes=_topic_attributes(row),
            create_time=row["create_time"],
            last_modify_time=row["last_modify_time"],
            message_count=int(count),
        )

    def exists(self, name: str) -> bool:
        return self.state.query_one("SELECT 1 FROM mns_topics WHERE name = ?", (name,)) is not None

    def delete(self, name: str) -> None:
        """Delete a topic with its subscriptions, messages and pending deliveries (missing: no error)."""
        self.state.execute("DELETE FROM mns_topics WHERE name = ?", (name,))

    def list_names(self, prefix: str = "", marker: str = "", limit: int = 1000) -> tuple[list[str], str]:
        rows = self.state.query(
            "SELECT name FROM mns_topics WHERE substr(name, 1, ?) = ? AND name >= ? ORDER BY name LIMIT ?",
            (len(prefix), prefix, marker, limit + 1),
        )
        names = [row["name"] for row in rows]
        return names[:limit], (names[limit] if len(names) > limit else "")

    # --- subscriptions ----------------------------------------------------------------------------------

    def subscribe(self, topic: str, name: str, attributes: SubscriptionAttributes) -> bool:
        """True when created; False when it exists with the same attributes; 409 when they differ."""
        now = int(self._clock())
        with self.state.transaction() as db:
            self._topic_row(db, topic)
            row = db.execute(
                "SELECT * FROM mns_subscriptions WHERE topic = ? AND name = ?", (topic, name)
            ).fetchone()
            if row is not None:
                if _subscription(row).attributes != attributes:
                    raise rules.already_exists("SubscriptionAlreadyExist", "subscription", name)
                return False
            db.execute(
                "INSERT INTO mns_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    topic,
                    name,
                    attributes.endpoint,
                    attributes.notify_strategy,
                    attributes.notify_content_format,
                    attributes.filter_tag,
                    now,
                    now,
                ),
            )
        return True

    def set_notify_strategy(self, topic: str, name: str, strategy: str) -> None:
        with self.state.transaction() as db:
            self._topic_row(db, topic)
            changed = db.execute(
                "UPDATE mns_subscriptions SET notify_strategy = ?, last_modify_time = ? "
                "WHERE topic = ? AND name = ?",
                (strategy, int(self._clock()), topic, name),
            ).rowcount
            if not changed:
                raise rules.subscription_not_exist(topic, name)

    def subscription(self, topic: str, name: str) -> SubscriptionInfo:
        with self.state.transaction() as db:
            self._topic_row(db, topic)
            row = db.execute(
                "SELECT * FROM mns_subscriptions WHERE topic = ? AND name = ?", (topic, name)
            ).fetchone()
        if row is None:
            raise rules.subscription_not_exist(topic, name)
        return _subscription(row)

    def find_subscription(self, topic: str, name: str) -> SubscriptionInfo | None:
        row = self.state.query_one(
            "SELECT * FROM mns_subscriptions WHERE topic = ? AND name = ?", (topic, name)
        )
        return None if row is None else _subscription(row)

    def unsubscribe(self, topic: str, name: str) -> None:
        """Remove a subscription and its pending deliveries (missing: no error, as in MNS)."""
        with self.state.transaction() as db:
            db.execute("DELETE FROM mns_subscriptions WHERE topic = ? AND name = ?", (topic, name))
            db.execute(
                "DELETE FROM mns_deliveries WHERE topic = ? AND subscription = ? AND local = 0", (topic, name)
            )

    def list_subscriptions(
        self, topic: str, prefix: str = "", marker: str = "", limit: int = 1000
    ) -> tuple[list[str], str]:
        with self.state.transaction() as db:
            self._topic_row(db, topic)
            rows = db.execute(
                "SELECT name FROM mns_subscriptions WHERE topic = ? AND substr(name, 1, ?) = ? AND name >= ? "
                "ORDER BY name LIMIT ?",
                (topic, len(prefix), prefix, marker, limit + 1),
            ).fetchall()
        names = [row["name"] for row in rows]
        return names[:limit], (names[limit] if len(names) > limit else "")

    # --- messages ---------------------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        body: str,
        *,
        tag: str = "",
        attributes: Mapping[str, str] | None = None,
        local_subscribers: Sequence[LocalSubscriber] = (),
    ) -> tuple[TopicMessage, int]:
        """Store the message and one delivery per matching subscription; returns (message, deliveries)."""
        now = self._clock()
        now_ms = int(now * 1000)
        with self.state.transaction() as db:
            limit = self._topic_row(db, topic)["maximum_message_size"]
            rules.check_body(body, limit)
            message = TopicMessage(
                message_id=rules.new_message_id(now_ms),
                topic=topic,
                body=body,
                body_md5=body_md5(body),
                tag=tag,
                publish_time=now_ms,
                attributes=dict(attributes or {}),
            )
            db.execute(
                "INSERT INTO mns_topic_messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    message.message_id,
                    topic,
                    body,
                    message.body_md5,
                    tag,
                    json.dumps(dict(message.attributes)),
                    now_ms,
                ),
            )
            remote = db.execute(
                "SELECT name, filter_tag FROM mns_subscriptions WHERE topic = ?", (topic,)
            ).fetchall()
            targets = [(row["name"], 0) for row in remote if _matches(row["filter_tag"], tag)]
            targets += [(sub.name, 1) for sub in local_subscribers if _matches(sub.filter_tag, tag)]
            db.executemany(
                "INSERT INTO mns_deliveries (message_id, topic, subscription, local, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(message.message_id, topic, name, local, now) for name, local in targets],
            )
        return message, len(targets)

    def message(self, message_id: str) -> TopicMessage | None:
        row = self.state.query_one("SELECT * FROM mns_topic_messages WHERE message_id = ?", (message_id,))
        if row is None:
            return None
        return TopicMessage(
            message_id=row["message_id"],
            topic=row["topic"],
            body=row["body"],
            body_md5=row["body_md5"],
            tag=row["tag"],
            publish_time=row["publish_time"],
            attributes=json.loads(row["attributes"]),
        )

    def purge_expired(self) -> int:
        """Forget messages older than the topic retention (and any delivery still pending for them)."""
        horizon = int(self._clock() * 1000) - rules.TOPIC_RETENTION_SECONDS * 1000
        return self.state.execute("DELETE FROM mns_topic_messages WHERE publish_time <= ?", (horizon,))

    def _topic_row(self, db: sqlite3.Connection, name: str) -> sqlite3.Row:
        row: sqlite3.Row | None = db.execute("SELECT * FROM mns_topics WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise rules.topic_not_exist(name)
        return row


def _matches(filter_tag: str, tag: str) -> bool:
    return not filter_tag or filter_tag == tag


def _topic_attributes(row: sqlite3.Row) -> TopicAttributes:
    return TopicAttributes(
        maximum_message_size=row["maximum_message_size"], logging_enabled=bool(row["logging_enabled"])
    )


def _subscription(row: sqlite3.Row) -> SubscriptionInfo:
    return SubscriptionInfo(
        topic=row["topic"],
        name=row["name"],
        attributes=SubscriptionAttributes(
            endpoint=row["endpoint"],
            notify_strategy=row["notify_strategy"],
            notify_content_format=row["notify_content_format"],
            filter_tag=row["filter_tag"],
        ),
        create_time=row["create_time"],
        last_modify_time=row["last_modify_time"],
    )

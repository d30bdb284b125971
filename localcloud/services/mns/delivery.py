"""Pushing topic messages to subscribers: persisted deliveries, a dispatcher thread, retries on a schedule.

Every (message, subscription) pair is a row in `mns_deliveries` with its failure count and the time of its
next attempt, so a restart resumes exactly where it stopped. One dispatcher thread (woken by a Condition
whenever a message is published, an attempt ends or a local subscriber registers) hands due rows to a
small thread pool; each subscription may have at most `per_subscription` attempts in flight, so a slow
or dead endpoint ties up a few workers, never all of them.

An attempt succeeds when an HTTP endpoint answers 2xx, when the message lands in a queue endpoint, or
when a local subscriber's `deliver` returns; anything else (another status, a connection error, a
timeout, a missing queue, an exception) is a failure and schedules a retry:

BACKOFF_RETRY            3 retries, each after a random 10-20 s.
EXPONENTIAL_DECAY_RETRY  176 retries; retry n waits min(2^(n-1), 512) s: 1, 2, 4, ... 256 s for the first
                         nine, then 512 s for the other 167: 86 015 s in all, just under a day.

Every interval is multiplied by `retry_scale` (tests shrink it to milliseconds). After the last retry
fails the delivery is dropped and logged. HTTP pushes carry no MNS signature: MNS signs pushes with its
own RSA key, which localcloud does not have.

    >>> retry_interval("EXPONENTIAL_DECAY_RETRY", 3, random.Random(0))
    4.0
"""

from __future__ import annotations

import base64
import hashlib
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit, urlunsplit

import httpx

from localcloud.dispatch import DueRowDispatcher
from localcloud.services.base import ServiceHttpError, new_request_id
from localcloud.services.mns import rules
from localcloud.services.mns.notify import render_notification
from localcloud.services.mns.topics import LocalSubscriber, TopicMessage, TopicStore
from localcloud.state import StateStore
from shared.logging import get_logger

log = get_logger("localcloud.mns")

Clock = Callable[[], float]
QueueSender = Callable[[str, str], None]
Deliver = Callable[[bytes], None]

BACKOFF_RETRIES = 3
BACKOFF_INTERVAL = (10.0, 20.0)
EXPONENTIAL_RETRIES = 176
EXPONENTIAL_CAP_SECONDS = 512.0
_PURGE_EVERY_SECONDS = 60.0


def max_retries(strategy: str) -> int:
    return EXPONENTIAL_RETRIES if strategy == "EXPONENTIAL_DECAY_RETRY" else BACKOFF_RETRIES


def retry_interval(strategy: str, retry: int, rng: random.Random) -> float:
    """Seconds before retry number `retry` (1-based), before `retry_scale` is applied."""
    if strategy == "EXPONENTIAL_DECAY_RETRY":
        return float(min(2.0 ** (retry - 1), EXPONENTIAL_CAP_SECONDS))
    return rng.uniform(*BACKOFF_INTERVAL)


@dataclass(frozen=True)
class LocalSubscription:
    """An in-process subscriber (the local FC runtime's MNSTopic trigger)."""

    topic: str
    name: str
    deliver: Deliver
    content_format: str = "JSON"
    strategy: str = "BACKOFF_RETRY"
    filter_tag: str = ""


class LocalSubscriptions:
    """The registry of in-process subscribers; not persisted (the runtime registers them at start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], LocalSubscription] = {}

    def register(self, subscription: LocalSubscription) -> None:
        with self._lock:
            self._items[(subscription.topic, subscription.name)] = subscription

    def unregister(self, topic: str, name: str) -> None:
        with self._lock:
            self._items.pop((topic, name), None)

    def get(self, topic: str, name: str) -> LocalSubscription | None:
        with self._lock:
            return self._items.get((topic, name))

    def subscribers(self, topic: str) -> list[LocalSubscriber]:
        with self._lock:
            return [LocalSubscriber(s.name, s.filter_tag) for s in self._items.values() if s.topic == topic]


class DeliveryFailed(Exception):
    """One attempt did not reach its endpoint; the message says why (never the body)."""


@dataclass(frozen=True)
class _Target:
    strategy: str
    send: Callable[[TopicMessage], None]


class Dispatcher(DueRowDispatcher):
    """Pushes published messages to their subscriptions (see localcloud/dispatch.py for the mechanism)."""

    table = "mns_deliveries"
    key_column = "id"
    order_by = "next_attempt_at, id"
    batch = 500

    def __init__(
        self,
        state: StateStore,
        topics: TopicStore,
        send_to_queue: QueueSender,
        local: LocalSubscriptions,
        *,
        owner: str,
        region: str,
        retry_scale: float = 1.0,
        workers: int = 16,
        per_subscription: int = 4,
        push_timeout: float = 5.0,
        clock: Clock = time.time,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(state, workers=workers, thread_name="mns-delivery", clock=clock)
        self.topics = topics
        self.local = local
        self._send_to_queue = send_to_queue
        self._owner = owner
        self._region = region
        self._retry_scale = retry_scale
        self._per_subscription = per_subscription
        self._push_timeout = push_timeout
        self._rng = rng or random.Random()
        self._busy: Counter[tuple[str, str, int]] = Counter()
        self._http: httpx.Client | None = None
        self._last_purge = 0.0

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> None:
        # trust_env=False: a developer's HTTP(S)_PROXY must not capture pushes to loopback endpoints.
        self._http = httpx.Client(
            timeout=httpx.Timeout(self._push_timeout), follow_redirects=False, trust_env=False
        )
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._http is not None:
            self._http.close()
            self._http = None

    def pending(self, topic: str | None = None) -> int:
        """Deliveries not yet done (due, waiting for a retry, or in flight)."""
        return self.count("topic = ?", (topic,)) if topic is not None else self.count()

    def wait_idle(self, timeout: float = 10.0, topic: str | None = None) -> bool:
        """Block until no delivery is pending (tests use this instead of sleeping)."""
        if topic is None:
            return self.wait_until_empty(timeout, poll=0.05)
        return self.wait_until_empty(timeout, where="topic = ?", params=(topic,), poll=0.05)

    # --- the dispatcher's hooks ---------------------------------------------------------------------------

    def _on_start(self) -> None:
        self._busy.clear()

    def _before_pass(self) -> None:
        self._purge_if_due()

    def _eligible(self, row: sqlite3.Row) -> bool:
        # A delivery to an in-process subscriber waits until the function runtime registers it again.
        return not row["local"] or self.local.get(row["topic"], row["subscription"]) is not None

    def _has_capacity(self, row: sqlite3.Row) -> bool:
        # A slow endpoint may hold at most `per_subscription` pool threads, so it cannot starve the others.
        return self._busy[_subscription_key(row)] < self._per_subscription

    def _started(self, row: sqlite3.Row) -> None:
        self._busy[_subscription_key(row)] += 1

    def _finished(self, row: sqlite3.Row) -> None:
        key = _subscription_key(row)
        self._busy[key] -= 1
        if self._busy[key] <= 0:
            del self._busy[key]

    def _purge_if_due(self) -> None:
        now = self._clock()
        if now - self._last_purge < _PURGE_EVERY_SECONDS:
            return
        self._last_purge = now
        purged = self.topics.purge_expired()
        if purged:
            log.info("mns.topic.messages_expired", count=purged)

    def _attempt(self, row: sqlite3.Row) -> None:
        """One delivery, from its row as it is now and still due (the base re-read it)."""
        message = self.topics.message(row["message_id"])
        target = self._target(row)
        if message is None or target is None:
            if message is None or not row["local"]:
                # The message expired, or the subscription (or topic) was deleted: nothing left to do.
                self.state.execute("DELETE FROM mns_deliveries WHERE id = ?", (row["id"],))
            return
        try:
            target.send(message)
        except Exception as exc:
            self._record_failure(row, target.strategy, _reason(exc))
            return
        self.state.execute("DELETE FROM mns_deliveries WHERE id = ?", (row["id"],))
        log.info(
            "mns.delivery.delivered",
            topic=row["topic"],
            subscription=row["subscription"],
            message_id=row["message_id"],
            attempt=row["failures"] + 1,
        )

    def _record_failure(self, row: sqlite3.Row, strategy: str, reason: str) -> None:
        failures = row["failures"] + 1
        context = {
            "topic": row["topic"],
            "subscription": row["subscription"],
            "message_id": row["message_id"],
            "attempt": failures,
            "reason": reason,
        }
        if failures > max_retries(strategy):
            self.state.execute("DELETE FROM mns_deliveries WHERE id = ?", (row["id"],))
            log.error("mns.delivery.dropped_after_last_retry", strategy=strategy, **context)
            return
        delay = retry_interval(strategy, failures, self._rng) * self._retry_scale
        self.state.execute(
            "UPDATE mns_deliveries SET failures = ?, next_attempt_at = ? WHERE id = ?",
            (failures, self._clock() + delay, row["id"]),
        )
        log.warning("mns.delivery.failed_will_retry", retry_in=round(delay, 3), **context)

    # --- targets ------------------------------------------------------------------------------------------

    def _target(self, row: sqlite3.Row) -> _Target | None:
        topic, name = row["topic"], row["subscription"]
        if row["local"]:
            local = self.local.get(topic, name)
            if local is None:
                return None
            return _Target(local.strategy, lambda message: self._deliver_local(local, message))
        found = self.topics.find_subscription(topic, name)
        if found is None:
            return None
        attributes = found.attributes
        content_format = attributes.notify_content_format

        def send(message: TopicMessage) -> None:
            endpoint = rules.parse_endpoint(attributes.endpoint, region=self._region, account_id=self._owner)
            if endpoint.kind == "queue":
                body, _ = render_notification(message, name, content_format, owner=self._owner)
                self._send_to_queue(endpoint.target, body.decode("utf-8"))
            else:
                self._push_http(endpoint.target, message, name, content_format)

        return _Target(attributes.notify_strategy, send)

    def _deliver_local(self, local: LocalSubscription, message: TopicMessage) -> None:
        body, _ = render_notification(message, local.name, local.content_format, owner=self._owner)
        local.deliver(body)

    def _push_http(self, url: str, message: TopicMessage, subscription: str, content_format: str) -> None:
        body, content_type = render_notification(message, subscription, content_format, owner=self._owner)
        headers = {
            "Content-Type": content_type,
            "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode("ascii"),
            "Date": formatdate(usegmt=True),
            "x-mns-request-id": new_request_id(),
            "x-mns-version": rules.MNS_API_VERSION,
        }
        if content_format == "SIMPLIFIED":
            headers["x-mns-message-id"] = message.message_id
            if message.tag:
                headers["x-mns-message-tag"] = message.tag
        if self._http is None:
            raise DeliveryFailed("the dispatcher is stopping")
        response = self._http.post(push_url(url), content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"the endpoint answered HTTP {response.status_code}")


def push_url(endpoint: str) -> str:
    """MNS posts to `/notifications` unless the endpoint names a path of its own."""
    parts = urlsplit(endpoint)
    if parts.path in ("", "/"):
        parts = parts._replace(path="/notifications")
    return urlunsplit(parts)


def _reason(exc: Exception) -> str:
    if isinstance(exc, DeliveryFailed):
        return str(exc)
    if isinstance(exc, ServiceHttpError):
        return f"{exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def _subscription_key(row: sqlite3.Row) -> tuple[str, str, int]:
    return (row["topic"], row["subscription"], row["local"])

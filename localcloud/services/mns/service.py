"""localcloud's MNS: queues, topics, subscriptions and push delivery, over MNS's own REST API.

Every request is verified with the MNS signature (`Authorization: MNS <AK>:<signature>`) before it is
routed; answers carry `x-mns-request-id` and `x-mns-version`, errors are MNS's XML `<Error>` document with
the real codes. State lives in SQLite, so queues, messages (in flight or not), topics, subscriptions and
pending deliveries all survive a restart.

Other localcloud services (OSS and IMM notifications, the local function runtime) use the internal API:

    mns = cloud.mns()
    mns.ensure_topic("audiochain-pipeline")
    mns.subscribe_local("audiochain-pipeline", "on-notify", deliver=lambda event: ..., content_format="JSON")
    message_id = mns.publish("audiochain-pipeline", '{"job": "j-1"}', tag="audio")
    mns.ensure_queue("results")
    mns.send("results", "done")
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from localcloud.authn import verify_mns
from localcloud.services.base import BaseService, RequestContext, ServiceHttpError
from localcloud.services.mns import rules, wire
from localcloud.services.mns.delivery import Dispatcher, LocalSubscription, LocalSubscriptions
from localcloud.services.mns.errors import INVALID_DEGIST, INVALID_REQUEST_URL
from localcloud.services.mns.http_queues import QueueApi
from localcloud.services.mns.http_topics import TopicApi
from localcloud.services.mns.queues import OutgoingMessage, QueueAttributes, QueueMessage, QueueStore
from localcloud.services.mns.topics import TopicAttributes, TopicStore

if TYPE_CHECKING:
    from localcloud.ports import Host


class MnsService(BaseService):
    name = "mns"

    def __init__(self, cloud: Host) -> None:
        super().__init__(cloud)
        self.queues = QueueStore(self.state)
        self.topics = TopicStore(self.state)
        self.local_subscriptions = LocalSubscriptions()
        self.dispatcher = Dispatcher(
            self.state,
            self.topics,
            self._send_notification,
            self.local_subscriptions,
            owner=self.config.account_id,
            region=self.config.region,
            retry_scale=self.config.retry_scale,
        )
        self._queue_api = QueueApi(self.queues)
        self._topic_api = TopicApi(
            self.topics,
            self.dispatcher,
            self.local_subscriptions,
            owner=self.config.account_id,
            region=self.config.region,
        )
        self._route_table = self._routes()

    def start(self) -> None:
        self.dispatcher.start()

    def stop(self) -> None:
        self.queues.close()
        self.dispatcher.stop()

    # --- HTTP -------------------------------------------------------------------------------------------

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        ctx.access_key_id = verify_mns(request, self.config)
        _check_body(request)
        parts = [part for part in request.path.split("/") if part]
        method = request.method
        handler = self._route(method, parts)
        if handler is None:
            raise INVALID_REQUEST_URL(f"Http request URL format invalid: {method} {request.path}")
        return handler(request, ctx)

    def _routes(self) -> dict[tuple[str, str], Operation]:
        """(path shape, method) -> operation; `{}` in a shape is a queue, topic or subscription name,
        passed to the operation after (request, ctx) in path order."""
        queues, topics = self._queue_api, self._topic_api
        return {
            ("", "GET"): self._account_meta,
            ("", "PUT"): self._account_meta,
            ("queues", "GET"): queues.list_queues,
            ("queues/{}", "PUT"): queues.put_queue,
            ("queues/{}", "GET"): queues.get_queue,
            ("queues/{}", "DELETE"): queues.delete_queue,
            ("queues/{}/messages", "POST"): queues.post_messages,
            ("queues/{}/messages", "GET"): queues.get_messages,
            ("queues/{}/messages", "DELETE"): queues.delete_messages,
            ("queues/{}/messages", "PUT"): queues.change_visibility,
            ("topics", "GET"): topics.list_topics,
            ("topics/{}", "PUT"): topics.put_topic,
            ("topics/{}", "GET"): topics.get_topic,
            ("topics/{}", "DELETE"): topics.delete_topic,
            ("topics/{}/messages", "POST"): topics.publish,
            ("topics/{}/subscriptions", "GET"): topics.list_subscriptions,
            ("topics/{}/subscriptions/{}", "PUT"): topics.put_subscription,
            ("topics/{}/subscriptions/{}", "GET"): topics.get_subscription,
            ("topics/{}/subscriptions/{}", "DELETE"): topics.delete_subscription,
        }

    def _route(self, method: str, parts: list[str]) -> Callable[[Request, RequestContext], Response] | None:
        names = _checked_names(parts)
        shape = "/".join("{}" if index in _NAME_POSITIONS else part for index, part in enumerate(parts))
        operation = self._route_table.get((shape, method))
        if operation is None:
            return None
        return lambda request, ctx: operation(request, ctx, *names)

    def _account_meta(self, request: Request, ctx: RequestContext) -> Response:
        if (wire.arg(request, "accountmeta") or "").lower() != "true":
            raise INVALID_REQUEST_URL(f"Http request URL format invalid: {request.method} {request.path}")
        if request.method == "PUT":
            return wire.mns_response(ctx.request_id, status=204)
        return wire.mns_response(ctx.request_id, wire.document("Account", [("LoggingBucket", "")]))

    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response:
        host_id = self.cloud.endpoint
        body = wire.error_document(error.code, error.message, ctx.request_id, host_id)
        return wire.mns_response(ctx.request_id, body, status=error.status)

    # --- internal API (other localcloud services) ---------------------------------------------------------

    def publish(self, topic: str, body: str, *, tag: str | None = None) -> str:
        """Publish like PublishMessage; returns the message id. ServiceHttpError 404 TopicNotExist."""
        rules.check_name(topic, "topic")
        message, deliveries = self.topics.publish(
            topic,
            body,
            tag=rules.check_tag(tag) if tag else "",
            local_subscribers=self.local_subscriptions.subscribers(topic),
        )
        if deliveries:
            self.dispatcher.wake()
        return message.message_id

    def topic_exists(self, name: str) -> bool:
        return self.topics.exists(name)

    def ensure_topic(self, name: str) -> None:
        """Create the topic with default attributes unless it exists (whatever its attributes)."""
        rules.check_name(name, "topic")
        if not self.topics.exists(name):
            try:
                self.topics.create(name, TopicAttributes())
            except ServiceHttpError as error:
                if error.code != "TopicAlreadyExist":  # created by someone else meanwhile
                    raise

    def queue_exists(self, name: str) -> bool:
        return self.queues.exists(name)

    def ensure_queue(self, name: str) -> None:
        """Create the queue with default attributes unless it exists (whatever its attributes)."""
        rules.check_name(name, "queue")
        if not self.queues.exists(name):
            try:
                self.queues.create(name, QueueAttributes())
            except ServiceHttpError as error:
                if error.code != "QueueAlreadyExist":
                    raise

    def send(self, queue: str, body: str, *, delay_seconds: int | None = None, priority: int = 8) -> str:
        """Send like SendMessage; returns the message id. ServiceHttpError 404 QueueNotExist."""
        rules.check_name(queue, "queue")
        rules.PRIORITY.parse("Priority", str(priority), unit="")
        if delay_seconds is not None:
            rules.DELAY_SECONDS.parse("DelaySeconds", str(delay_seconds))
        (sent,) = self.queues.send(queue, [OutgoingMessage(body, delay_seconds, priority)])
        return sent.message_id

    def receive(self, queue: str, *, wait_seconds: int = 0) -> QueueMessage | None:
        """Take the next visible message (None when there is none after `wait_seconds`)."""
        try:
            (message,) = self.queues.receive(queue, 1, wait_seconds)
        except ServiceHttpError as error:
            if error.code == "MessageNotExist":
                return None
            raise
        return message

    def subscribe_local(
        self,
        topic: str,
        subscription: str,
        deliver: Callable[[bytes], None],
        *,
        content_format: str = "JSON",
        strategy: str = "BACKOFF_RETRY",
        filter_tag: str | None = None,
    ) -> None:
        """Deliver the topic's messages to `deliver` in the FC MNSTopic trigger's format (JSON or STREAM).

        `deliver` runs in a delivery thread; raising tells MNS the push failed, and it is retried on
        `strategy`'s schedule. The topic must exist (ServiceHttpError 404 TopicNotExist). Registering the
        same name again replaces the subscriber and resumes its pending deliveries.
        """
        if not self.topics.exists(rules.check_name(topic, "topic")):
            raise rules.topic_not_exist(topic)
        rules.check_name(subscription, "subscription")
        if not callable(deliver):
            raise rules.invalid_argument("deliver must be a callable taking the event bytes.")
        self.local_subscriptions.register(
            LocalSubscription(
                topic=topic,
                name=subscription,
                deliver=deliver,
                content_format=rules.check_choice(
                    "NotifyContentFormat", content_format.upper(), rules.LOCAL_CONTENT_FORMATS
                ),
                strategy=rules.check_choice("NotifyStrategy", strategy, rules.NOTIFY_STRATEGIES),
                filter_tag=rules.check_tag(filter_tag, "FilterTag") if filter_tag else "",
            )
        )
        self.dispatcher.wake()

    def unsubscribe_local(self, topic: str, subscription: str, *, drop_pending: bool = False) -> None:
        """Stop delivering to a local subscriber; its pending deliveries wait for it unless dropped."""
        self.local_subscriptions.unregister(topic, subscription)
        if drop_pending:
            self.state.execute(
                "DELETE FROM mns_deliveries WHERE topic = ? AND subscription = ? AND local = 1",
                (topic, subscription),
            )

    def pending_deliveries(self, topic: str | None = None) -> int:
        return self.dispatcher.pending(topic)

    def wait_deliveries(self, timeout: float = 10.0, topic: str | None = None) -> bool:
        """Block until every pending delivery is done or dropped (tests use this instead of sleeping)."""
        return self.dispatcher.wait_idle(timeout, topic)

    def _send_notification(self, queue: str, body: str) -> None:
        self.queues.send(queue, [OutgoingMessage(body)])


# An MNS operation: (request, ctx), then the names its path shape holds (queue; topic; topic, subscription).
Operation = Callable[..., Response]
# In `/queues/<queue>/…` and `/topics/<topic>/subscriptions/<subscription>`, where the names stand.
_NAME_POSITIONS = (1, 3)
_NAME_KINDS = {"queues": "queue", "topics": "topic"}


def _checked_names(parts: list[str]) -> list[str]:
    """The names in a path, each checked by its kind's rule (before the route: a bad name is reported as
    such, whatever else is wrong with the request)."""
    kind = _NAME_KINDS.get(parts[0]) if parts else None
    if kind is None or len(parts) < 2:
        return []
    names = [rules.check_name(parts[1], kind)]
    if kind == "topic" and len(parts) == 4 and parts[2] == "subscriptions":
        names.append(rules.check_name(parts[3], "subscription"))
    return names


def _check_body(request: Request) -> None:
    """Refuse oversized bodies, and bodies that do not match a Content-MD5 the client sent.

    The SDK writes Content-MD5 as base64 of the *hex* digest; the HTTP standard says base64 of the raw
    digest. Either is accepted.
    """
    if (request.content_length or 0) > wire.MAX_REQUEST_BYTES:
        raise rules.invalid_argument(f"The request body must be at most {wire.MAX_REQUEST_BYTES} bytes.")
    request.max_content_length = wire.MAX_REQUEST_BYTES
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise rules.invalid_argument(
            f"The request body must be at most {wire.MAX_REQUEST_BYTES} bytes."
        ) from None
    claimed = request.headers.get("Content-MD5", "").strip()
    if not claimed:
        return
    digest = hashlib.md5(body)
    accepted = {
        base64.b64encode(digest.hexdigest().encode("ascii")).decode("ascii"),
        base64.b64encode(digest.digest()).decode("ascii"),
    }
    if claimed not in accepted:
        raise INVALID_DEGIST("The Content-MD5 you specified is invalid.")

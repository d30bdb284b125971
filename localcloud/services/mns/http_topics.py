"""The topic half of MNS's REST API: topics, subscriptions and publishing.

    PUT    /topics/<t>                              CreateTopic (201 + Location; 204 same attributes; 409)
    PUT    /topics/<t>?metaoverride=true            SetTopicAttributes
    GET    /topics/<t>                              GetTopicAttributes
    DELETE /topics/<t>                              DeleteTopic
    GET    /topics                                  ListTopic
    POST   /topics/<t>/messages                     PublishMessage (MessageBody, MessageTag, attributes)
    PUT    /topics/<t>/subscriptions/<s>            Subscribe (Endpoint, FilterTag, NotifyStrategy,
                                                    NotifyContentFormat)
    PUT    /topics/<t>/subscriptions/<s>?metaoverride=true   SetSubscriptionAttributes (NotifyStrategy)
    GET    /topics/<t>/subscriptions/<s>            GetSubscriptionAttributes
    DELETE /topics/<t>/subscriptions/<s>            Unsubscribe
    GET    /topics/<t>/subscriptions                ListSubscriptionByTopic

Message attributes (the `<MessageAttributes>` children and `<UserProperties>` name/value pairs) travel
with the message and reach JSON and STREAM subscribers, as the FC trigger describes.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.services.base import RequestContext
from localcloud.services.mns import rules, wire
from localcloud.services.mns.delivery import Dispatcher, LocalSubscriptions
from localcloud.services.mns.topics import (
    SubscriptionAttributes,
    SubscriptionInfo,
    TopicAttributes,
    TopicInfo,
    TopicStore,
)
from localcloud.services.mns.wire import XmlNode, mns_response


class TopicApi:
    def __init__(
        self,
        topics: TopicStore,
        dispatcher: Dispatcher,
        local: LocalSubscriptions,
        *,
        owner: str,
        region: str,
    ) -> None:
        self.topics = topics
        self.dispatcher = dispatcher
        self.local = local
        self.owner = owner
        self.region = region

    # --- topics -----------------------------------------------------------------------------------------

    def put_topic(self, request: Request, ctx: RequestContext, name: str) -> Response:
        changes = topic_changes(request.get_data())
        if (wire.arg(request, "metaoverride") or "").lower() == "true":
            self.topics.set_attributes(name, changes)
            return mns_response(ctx.request_id, status=204)
        created = self.topics.create(name, TopicAttributes(**changes))
        location = {"Location": f"{wire.base_url(request)}/topics/{name}"}
        return mns_response(ctx.request_id, status=201 if created else 204, headers=location)

    def get_topic(self, request: Request, ctx: RequestContext, name: str) -> Response:
        return mns_response(ctx.request_id, wire.document("Topic", topic_nodes(self.topics.get(name))))

    def delete_topic(self, request: Request, ctx: RequestContext, name: str) -> Response:
        self.topics.delete(name)
        return mns_response(ctx.request_id, status=204)

    def list_topics(self, request: Request, ctx: RequestContext) -> Response:
        params = wire.list_params(request)
        names, next_marker = self.topics.list_names(params.prefix, params.marker, params.limit)
        base = wire.base_url(request)
        entries: list[list[XmlNode]] = []
        for name in names:
            entry: list[XmlNode] = [("TopicURL", f"{base}/topics/{name}")]
            if params.with_meta:
                entry += topic_nodes(self.topics.get(name))
            entries.append(entry)
        return mns_response(ctx.request_id, wire.paged("Topics", "Topic", entries, next_marker))

    def publish(self, request: Request, ctx: RequestContext, name: str) -> Response:
        root = wire.parse_document(request.get_data(), "Message")
        fields = wire.leaf_fields(root)
        body = fields.get("MessageBody", "")
        if not body:
            raise rules.invalid_argument("MessageBody is required and must not be empty.")
        tag = rules.check_tag(fields["MessageTag"]) if fields.get("MessageTag") else ""
        attributes = wire.nested_fields(root, "MessageAttributes")
        for record in wire.nested_records(root, "UserProperties", "PropertyValue"):
            if record.get("Name"):
                attributes[record["Name"]] = record.get("Value", "")
        message, deliveries = self.topics.publish(
            name, body, tag=tag, attributes=attributes, local_subscribers=self.local.subscribers(name)
        )
        if deliveries:
            self.dispatcher.wake()
        answer: list[XmlNode] = [("MessageId", message.message_id), ("MessageBodyMD5", message.body_md5)]
        return mns_response(ctx.request_id, wire.document("Message", answer), status=201)

    # --- subscriptions ----------------------------------------------------------------------------------

    def put_subscription(self, request: Request, ctx: RequestContext, topic: str, name: str) -> Response:
        body = request.get_data()
        fields = wire.leaf_fields(wire.parse_document(body, "Subscription")) if body.strip() else {}
        if (wire.arg(request, "metaoverride") or "").lower() == "true":
            strategy = rules.check_choice(
                "NotifyStrategy", fields.get("NotifyStrategy", ""), rules.NOTIFY_STRATEGIES
            )
            self.topics.set_notify_strategy(topic, name, strategy)
            return mns_response(ctx.request_id, status=204)
        created = self.topics.subscribe(topic, name, self._subscription_attributes(fields))
        location = {"Location": f"{wire.base_url(request)}/topics/{topic}/subscriptions/{name}"}
        return mns_response(ctx.request_id, status=201 if created else 204, headers=location)

    def get_subscription(self, request: Request, ctx: RequestContext, topic: str, name: str) -> Response:
        info = self.topics.subscription(topic, name)
        return mns_response(ctx.request_id, wire.document("Subscription", self._subscription_nodes(info)))

    def delete_subscription(self, request: Request, ctx: RequestContext, topic: str, name: str) -> Response:
        self.topics.unsubscribe(topic, name)
        return mns_response(ctx.request_id, status=204)

    def list_subscriptions(self, request: Request, ctx: RequestContext, topic: str) -> Response:
        params = wire.list_params(request)
        names, next_marker = self.topics.list_subscriptions(topic, params.prefix, params.marker, params.limit)
        base = wire.base_url(request)
        entries = [[("SubscriptionURL", f"{base}/topics/{topic}/subscriptions/{name}")] for name in names]
        return mns_response(ctx.request_id, wire.paged("Subscriptions", "Subscription", entries, next_marker))

    def _subscription_attributes(self, fields: dict[str, str]) -> SubscriptionAttributes:
        endpoint = fields.get("Endpoint", "").strip()
        if not endpoint:
            raise rules.invalid_argument("Endpoint is required: an http(s):// URL or a queue endpoint.")
        rules.parse_endpoint(endpoint, region=self.region, account_id=self.owner)
        strategy = rules.check_choice(
            "NotifyStrategy", fields.get("NotifyStrategy") or "BACKOFF_RETRY", rules.NOTIFY_STRATEGIES
        )
        content_format = rules.check_choice(
            "NotifyContentFormat", fields.get("NotifyContentFormat") or "XML", rules.NOTIFY_CONTENT_FORMATS
        )
        filter_tag = fields.get("FilterTag", "")
        if filter_tag:
            rules.check_tag(filter_tag, "FilterTag")
        return SubscriptionAttributes(endpoint, strategy, content_format, filter_tag)

    def _subscription_nodes(self, info: SubscriptionInfo) -> list[XmlNode]:
        attributes = info.attributes
        return [
            ("TopicOwner", self.owner),
            ("TopicName", info.topic),
            ("SubscriptionName", info.name),
            ("Endpoint", attributes.endpoint),
            ("NotifyStrategy", attributes.notify_strategy),
            ("NotifyContentFormat", attributes.notify_content_format),
            ("FilterTag", attributes.filter_tag),
            ("CreateTime", info.create_time),
            ("LastModifyTime", info.last_modify_time),
        ]


def topic_changes(body: bytes) -> dict[str, Any]:
    """The attributes a <Topic> document sets (unknown elements are ignored)."""
    if not body.strip():
        return {}
    changes: dict[str, Any] = {}
    for element, text in wire.leaf_fields(wire.parse_document(body, "Topic")).items():
        if element == "MaximumMessageSize":
            changes["maximum_message_size"] = rules.MAXIMUM_MESSAGE_SIZE.parse(element, text, "bytes")
        elif element == "LoggingEnabled":
            changes["logging_enabled"] = rules.parse_bool(element, text)
    return changes


def topic_nodes(info: TopicInfo) -> list[XmlNode]:
    return [
        ("TopicName", info.name),
        ("CreateTime", info.create_time),
        ("LastModifyTime", info.last_modify_time),
        ("MaximumMessageSize", info.attributes.maximum_message_size),
        ("MessageRetentionPeriod", rules.TOPIC_RETENTION_SECONDS),
        ("MessageCount", info.message_count),
        ("LoggingEnabled", info.attributes.logging_enabled),
    ]

"""The official aliyun-mns-sdk drives localcloud's topics, subscriptions and push delivery."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from mns.mns_common import TopicHelper
from mns.mns_exception import MNSServerException
from mns.queue import QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import Base64TopicMessage, TopicMessage, TopicMeta

from localcloud.config import DEFAULT_ACCOUNT_ID, DEFAULT_REGION
from localcloud.services.mns.service import MnsService
from tests.functional.mns.conftest import HttpSink

pytestmark = pytest.mark.sdk

NS = "{http://mns.aliyuncs.com/doc/v1/}"


def _queue_endpoint(name: str) -> str:
    return str(TopicHelper.generate_queue_endpoint(DEFAULT_REGION, DEFAULT_ACCOUNT_ID, name))


def _topic_with_queue(
    account: Any, unique: Callable[[str], str], content_format: str = "XML", filter_tag: str = ""
) -> tuple[Any, Any]:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    queue = account.get_queue(unique("inbox"))
    queue.create(QueueMeta())
    queue.set_encoding(False)
    meta = SubscriptionMeta(_queue_endpoint(queue.queue_name), notify_content_format=content_format)
    meta.set_filter_tag(filter_tag)
    topic.get_subscription(unique("to-queue")).subscribe(meta)
    return topic, queue


def test_create_topic_is_idempotent_and_refuses_different_attributes(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    url = topic.create(TopicMeta(maximum_message_size=4096))
    assert url.endswith(f"/topics/{topic.topic_name}")
    assert topic.create(TopicMeta(maximum_message_size=4096)) == url
    with pytest.raises(MNSServerException) as refused:
        topic.create(TopicMeta(maximum_message_size=8192))
    assert refused.value.type == "TopicAlreadyExist"


def test_topic_attributes_report_the_settings_and_the_message_count(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta(maximum_message_size=4096))
    topic.set_attributes(TopicMeta(logging_enabled=True))
    topic.publish_message(TopicMessage("one"))

    attributes = topic.get_attributes()

    assert (attributes.maximum_message_size, attributes.logging_enabled) == (4096, True)
    assert (attributes.message_retention_period, attributes.message_count) == (86400, 1)


def test_publish_answers_the_message_id_and_the_md5_of_the_body(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())

    published = topic.publish_message(TopicMessage('{"event": "done"}', "audio"))

    assert published.message_id
    assert published.message_body_md5 == hashlib.md5(b'{"event": "done"}').hexdigest().upper()


def test_publish_to_a_missing_topic_answers_topic_not_exist(
    account: Any, unique: Callable[[str], str]
) -> None:
    with pytest.raises(MNSServerException) as missing:
        account.get_topic(unique("nowhere")).publish_message(TopicMessage("x"))
    assert missing.value.type == "TopicNotExist"


def test_a_queue_subscription_receives_the_xml_notification(
    account: Any, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic, queue = _topic_with_queue(account, unique)
    published = topic.publish_message(TopicMessage("<done & dusted>", "audio"))

    received = queue.receive_message(wait_seconds=10)

    root = ET.fromstring(received.message_body)
    fields = {child.tag.replace(NS, ""): child.text for child in root}
    assert root.tag == f"{NS}Notification"
    assert fields["Message"] == "<done & dusted>"
    assert fields["MessageId"] == published.message_id
    assert fields["MessageMD5"] == published.message_body_md5
    assert fields["MessageTag"] == "audio"
    assert fields["TopicName"] == topic.topic_name
    assert fields["SubscriptionName"] == unique("to-queue")
    assert fields["TopicOwner"] == fields["Subscriber"] == DEFAULT_ACCOUNT_ID
    assert int(fields["PublishTime"] or 0) > 0
    assert mns.wait_deliveries(topic=topic.topic_name)


def test_a_json_queue_subscription_receives_the_json_notification(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic, queue = _topic_with_queue(account, unique, content_format="JSON")
    published = topic.publish_message(TopicMessage('{"job": "j-1"}'))

    notification = json.loads(queue.receive_message(wait_seconds=10).message_body)

    assert notification["Message"] == '{"job": "j-1"}'
    assert notification["MessageId"] == published.message_id
    assert notification["TopicName"] == topic.topic_name
    assert isinstance(notification["PublishTime"], int)
    assert "MessageTag" not in notification


def test_a_simplified_subscription_receives_the_body_as_published_even_base64(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic, queue = _topic_with_queue(account, unique, content_format="SIMPLIFIED")
    topic.publish_message(Base64TopicMessage("caf\u00e9"))

    body = queue.receive_message(wait_seconds=10).message_body

    assert base64.b64decode(body).decode() == "caf\u00e9"


def test_an_http_subscription_receives_the_notification_by_post(
    account: Any, sink: HttpSink, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    topic.get_subscription(unique("hook")).subscribe(SubscriptionMeta(sink.url))
    published = topic.publish_message(TopicMessage("ping", "audio"))

    (push,) = sink.wait_for("/notifications", 1)

    root = ET.fromstring(push.body)
    assert root.find(f"{NS}MessageId").text == published.message_id  # type: ignore[union-attr]
    assert root.find(f"{NS}Message").text == "ping"  # type: ignore[union-attr]
    assert push.headers["content-type"].startswith("text/xml")
    assert push.headers["x-mns-request-id"]


def test_an_http_endpoint_with_a_path_is_posted_to_that_path_in_simplified_form(
    account: Any, sink: HttpSink, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    meta = SubscriptionMeta(f"{sink.url}/hooks/mns", notify_content_format="SIMPLIFIED")
    topic.get_subscription(unique("hook")).subscribe(meta)
    published = topic.publish_message(TopicMessage("raw body", "audio"))

    (push,) = sink.wait_for("/hooks/mns", 1)

    assert push.body == b"raw body"
    assert push.headers["x-mns-message-id"] == published.message_id
    assert push.headers["x-mns-message-tag"] == "audio"


def test_filter_tag_delivers_only_messages_with_that_tag(
    account: Any, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic, tagged_queue = _topic_with_queue(account, unique, content_format="SIMPLIFIED", filter_tag="audio")
    everything = account.get_queue(unique("everything"))
    everything.create(QueueMeta())
    everything.set_encoding(False)
    meta = SubscriptionMeta(_queue_endpoint(everything.queue_name), notify_content_format="SIMPLIFIED")
    topic.get_subscription(unique("all")).subscribe(meta)

    topic.publish_message(TopicMessage("a video", "video"))
    topic.publish_message(TopicMessage("a song", "audio"))
    assert mns.wait_deliveries(topic=topic.topic_name)

    tagged = tagged_queue.batch_receive_message(16, wait_seconds=0)
    untagged = everything.batch_receive_message(16, wait_seconds=0)
    assert [message.message_body for message in tagged] == ["a song"]
    assert sorted(message.message_body for message in untagged) == ["a song", "a video"]


def test_subscription_attributes_can_be_read_changed_listed_and_removed(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    subscription = topic.get_subscription(unique("hook"))
    subscription.subscribe(SubscriptionMeta("http://127.0.0.1:9/x", filter_tag="audio"))
    subscription.set_attributes(SubscriptionMeta(notify_strategy="EXPONENTIAL_DECAY_RETRY"))

    attributes = subscription.get_attributes()
    urls, _ = topic.list_subscription()
    subscription.unsubscribe()

    assert (attributes.endpoint, attributes.filter_tag) == ("http://127.0.0.1:9/x", "audio")
    assert (attributes.notify_strategy, attributes.notify_content_format) == (
        "EXPONENTIAL_DECAY_RETRY",
        "XML",
    )
    assert attributes.topic_owner == DEFAULT_ACCOUNT_ID
    assert [url.rsplit("/", 1)[1] for url in urls] == [subscription.subscription_name]
    with pytest.raises(MNSServerException) as gone:
        subscription.get_attributes()
    assert gone.value.type == "SubscriptionNotExist"


def test_subscribing_again_with_other_attributes_is_refused(
    account: Any, unique: Callable[[str], str]
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    subscription = topic.get_subscription(unique("hook"))
    subscription.subscribe(SubscriptionMeta("http://127.0.0.1:9/x"))
    subscription.subscribe(SubscriptionMeta("http://127.0.0.1:9/x"))
    with pytest.raises(MNSServerException) as refused:
        subscription.subscribe(SubscriptionMeta("http://127.0.0.1:9/y"))
    assert refused.value.type == "SubscriptionAlreadyExist"


@pytest.mark.parametrize(
    "endpoint",
    [
        "mail:directmail:someone@example.com",
        "acs:mns:cn-beijing:1234567890123456:queues/elsewhere",
        "ftp://127.0.0.1/x",
    ],
)
def test_endpoints_localcloud_cannot_deliver_to_are_refused(
    account: Any, unique: Callable[[str], str], endpoint: str
) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    with pytest.raises(MNSServerException) as refused:
        topic.get_subscription(unique("hook")).subscribe(SubscriptionMeta(endpoint))
    assert refused.value.type == "InvalidArgument"
    assert "Endpoint" in refused.value.message or "endpoint" in refused.value.message


def test_deleting_a_topic_removes_its_subscriptions(account: Any, unique: Callable[[str], str]) -> None:
    topic = account.get_topic(unique("events"))
    topic.create(TopicMeta())
    topic.get_subscription(unique("hook")).subscribe(SubscriptionMeta("http://127.0.0.1:9/x"))
    topic.delete()
    topic.create(TopicMeta())

    urls, _ = topic.list_subscription()

    assert urls == []

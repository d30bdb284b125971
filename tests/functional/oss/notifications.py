"""An MNS queue subscribed to a topic (through the official MNS SDK), read back as task notifications."""

from __future__ import annotations

from mns.account import Account
from mns.mns_exception import MNSExceptionBase
from mns.queue import Queue, QueueMeta
from mns.subscription import SubscriptionMeta
from mns.topic import TopicMeta

from localcloud.server import LocalCloud
from shared.events.notifications import TaskNotification, parse_notification
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION


def subscribe_queue(cloud: LocalCloud, topic_name: str, queue_name: str) -> Queue:
    """Create the topic and the queue, and subscribe the queue to the topic (raw message bodies)."""
    account = Account(cloud.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    account.get_topic(topic_name).create(TopicMeta())
    queue = account.get_queue(queue_name)
    queue.create(QueueMeta())
    queue.set_encoding(False)
    endpoint = f"acs:mns:{REGION}:{cloud.config.account_id}:queues/{queue_name}"
    subscription = account.get_topic(topic_name).get_subscription(f"{queue_name}-sub")
    subscription.subscribe(SubscriptionMeta(endpoint, notify_content_format="SIMPLIFIED"))
    return queue


def existing_queue(cloud: LocalCloud, queue_name: str) -> Queue:
    """A queue made earlier (before a restart, say), read with raw message bodies."""
    queue = Account(cloud.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).get_queue(queue_name)
    queue.set_encoding(False)
    return queue


def received_notifications(cloud: LocalCloud, queue: Queue) -> dict[str, TaskNotification]:
    """Wait for the task pool and MNS deliveries, then read (and delete) every message: by TaskId."""
    cloud.tasks.wait_idle(60)
    cloud.mns().wait_deliveries(10)
    found: dict[str, TaskNotification] = {}
    while True:
        try:
            message = queue.receive_message(wait_seconds=0)
        except MNSExceptionBase as exc:
            if exc.type == "MessageNotExist":
                return found
            raise
        notification = parse_notification(message.message_body)
        assert isinstance(notification, TaskNotification)
        assert notification.task_id is not None
        found[notification.task_id] = notification
        queue.delete_message(message.receipt_handle)

"""The bodies MNS pushes to subscribers, in each NotifyContentFormat.

XML (the default for HTTP and queue endpoints)::

    <Notification xmlns="http://mns.aliyuncs.com/doc/v1/"><TopicOwner/><TopicName/><Subscriber/>
    <SubscriptionName/><MessageId/><Message/><MessageMD5/><MessageTag/><PublishTime/></Notification>

JSON: the same fields as one object (`PublishTime` a number of milliseconds), message attributes merged
into the top level, which is also the FC MNSTopic trigger's JSON format.
SIMPLIFIED: the message body exactly as published.
STREAM (FC trigger only): the body as published; with attributes `{"body": ..., "attrs": {...}}`.

`MessageTag` appears only when the publisher set one. The body is never re-encoded: a publisher that sent
base64 text delivers base64 text.

    >>> from localcloud.services.mns.topics import TopicMessage
    >>> message = TopicMessage("M-1", "jobs", "hi", "49F68A5C8493EC2C0BF489821C21FC3B", "", 1700000000000)
    >>> render_notification(message, "sub", "JSON", owner="1234")[0][:30]
    b'{"TopicOwner":"1234","TopicNam'
"""

from __future__ import annotations

import json
from typing import Any

from localcloud.services.mns import wire
from localcloud.services.mns.topics import TopicMessage

CONTENT_TYPES = {
    "XML": "text/xml;charset=utf-8",
    "JSON": "application/json;charset=utf-8",
    "SIMPLIFIED": "text/plain;charset=utf-8",
    "STREAM": "application/octet-stream",
}


def notification_fields(message: TopicMessage, subscription: str, owner: str) -> list[tuple[str, Any]]:
    fields: list[tuple[str, Any]] = [
        ("TopicOwner", owner),
        ("TopicName", message.topic),
        ("Subscriber", owner),
        ("SubscriptionName", subscription),
        ("MessageId", message.message_id),
        ("Message", message.body),
        ("MessageMD5", message.body_md5),
    ]
    if message.tag:
        fields.append(("MessageTag", message.tag))
    fields.append(("PublishTime", message.publish_time))
    return fields


def render_notification(
    message: TopicMessage, subscription: str, content_format: str, *, owner: str
) -> tuple[bytes, str]:
    """(body, content type) of one push in `content_format` (XML, JSON, SIMPLIFIED or STREAM)."""
    if content_format == "XML":
        body = wire.document("Notification", notification_fields(message, subscription, owner))
    elif content_format == "JSON":
        document = dict(message.attributes)
        document.update(notification_fields(message, subscription, owner))
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    elif content_format == "STREAM" and message.attributes:
        wrapped = {"body": message.body, "attrs": dict(message.attributes)}
        body = json.dumps(wrapped, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    elif content_format in ("SIMPLIFIED", "STREAM"):
        body = message.body.encode("utf-8")
    else:
        raise ValueError(f"unknown notify content format {content_format!r}")
    return body, CONTENT_TYPES[content_format]

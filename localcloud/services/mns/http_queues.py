"""The queue half of MNS's REST API: one method per operation, wire in, QueueStore, wire out.

    PUT    /queues/<q>                       CreateQueue (201 + Location; 204 same attributes; 409)
    PUT    /queues/<q>?metaoverride=true     SetQueueAttributes
    GET    /queues/<q>                       GetQueueAttributes
    DELETE /queues/<q>                       DeleteQueue
    GET    /queues                           ListQueue (x-mns-prefix / -ret-number / -marker / -with-meta)
    POST   /queues/<q>/messages              SendMessage (<Message>) or BatchSendMessage (<Messages>)
    GET    /queues/<q>/messages              ReceiveMessage [?waitseconds=][&numOfMessages=] / ?peekonly=true
    DELETE /queues/<q>/messages              DeleteMessage ?ReceiptHandle= or BatchDeleteMessage (body)
    PUT    /queues/<q>/messages              ChangeMessageVisibility ?ReceiptHandle=&VisibilityTimeout=

A batch send is checked whole before anything is stored: one bad message refuses the batch.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from werkzeug.wrappers import Request, Response

from localcloud.services.base import RequestContext
from localcloud.services.mns import rules, wire
from localcloud.services.mns.errors import MISSING_RECEIPT_HANDLE, MISSING_VISIBILITY_TIMEOUT
from localcloud.services.mns.queues import (
    OutgoingMessage,
    QueueAttributes,
    QueueInfo,
    QueueMessage,
    QueueStore,
)
from localcloud.services.mns.wire import XmlNode, mns_response
from shared.clients.xmlsafe import local_name

_INTEGER_ATTRIBUTES: dict[str, tuple[str, rules.Range, str]] = {
    "DelaySeconds": ("delay_seconds", rules.DELAY_SECONDS, "seconds"),
    "MaximumMessageSize": ("maximum_message_size", rules.MAXIMUM_MESSAGE_SIZE, "bytes"),
    "MessageRetentionPeriod": ("message_retention_period", rules.MESSAGE_RETENTION_PERIOD, "seconds"),
    "VisibilityTimeout": ("visibility_timeout", rules.VISIBILITY_TIMEOUT, "seconds"),
    "PollingWaitSeconds": ("polling_wait_seconds", rules.POLLING_WAIT_SECONDS, "seconds"),
}


class QueueApi:
    def __init__(self, queues: QueueStore) -> None:
        self.queues = queues

    # --- queues -----------------------------------------------------------------------------------------

    def put_queue(self, request: Request, ctx: RequestContext, name: str) -> Response:
        changes = queue_changes(request.get_data())
        if (wire.arg(request, "metaoverride") or "").lower() == "true":
            self.queues.set_attributes(name, changes)
            return mns_response(ctx.request_id, status=204)
        created = self.queues.create(name, QueueAttributes(**changes))
        location = {"Location": f"{wire.base_url(request)}/queues/{name}"}
        return mns_response(ctx.request_id, status=201 if created else 204, headers=location)

    def get_queue(self, request: Request, ctx: RequestContext, name: str) -> Response:
        body = wire.document("Queue", queue_nodes(self.queues.get(name)))
        return mns_response(ctx.request_id, body)

    def delete_queue(self, request: Request, ctx: RequestContext, name: str) -> Response:
        self.queues.delete(name)
        return mns_response(ctx.request_id, status=204)

    def list_queues(self, request: Request, ctx: RequestContext) -> Response:
        params = wire.list_params(request)
        names, next_marker = self.queues.list_names(params.prefix, params.marker, params.limit)
        base = wire.base_url(request)
        entries: list[list[XmlNode]] = []
        for name in names:
            entry: list[XmlNode] = [("QueueURL", f"{base}/queues/{name}")]
            if params.with_meta:
                entry += queue_nodes(self.queues.get(name))
            entries.append(entry)
        return mns_response(ctx.request_id, wire.paged("Queues", "Queue", entries, next_marker))

    # --- messages ---------------------------------------------------------------------------------------

    def post_messages(self, request: Request, ctx: RequestContext, name: str) -> Response:
        root = wire.parse_document(request.get_data(), "Message", "Messages")
        if local_name(root.tag) == "Message":
            (sent,) = self.queues.send(name, [outgoing_message(root)])
            return mns_response(ctx.request_id, wire.document("Message", _sent_nodes(sent)), status=201)
        items = [child for child in root if local_name(child.tag) == "Message"]
        if not rules.BATCH_SIZE.low <= len(items) <= rules.BATCH_SIZE.high:
            raise rules.invalid_argument(
                f"A batch must hold {rules.BATCH_SIZE.low} to {rules.BATCH_SIZE.high} messages, "
                f"got {len(items)}."
            )
        sent_all = self.queues.send(name, [outgoing_message(item) for item in items])
        entries: list[XmlNode] = [("Message", _sent_nodes(sent)) for sent in sent_all]
        return mns_response(ctx.request_id, wire.document("Messages", entries), status=201)

    def get_messages(self, request: Request, ctx: RequestContext, name: str) -> Response:
        batch_text = wire.arg(request, "numOfMessages")
        count = 1
        if batch_text is not None:
            count = rules.BATCH_SIZE.parse("numOfMessages", batch_text, unit="")
        if (wire.arg(request, "peekonly") or "").lower() == "true":
            peeked = self.queues.peek(name, count)
            return self._messages(ctx, peeked, batch_text is not None, received=False)
        wait_text = wire.arg(request, "waitseconds")
        wait = None
        if wait_text is not None:
            wait = rules.WAIT_SECONDS.parse("waitseconds", wait_text)
        received = self.queues.receive(name, count, wait)
        return self._messages(ctx, received, batch_text is not None, received=True)

    def delete_messages(self, request: Request, ctx: RequestContext, name: str) -> Response:
        handle = wire.arg(request, "ReceiptHandle")
        if handle is None:
            body = request.get_data()
            if not body.strip():
                raise MISSING_RECEIPT_HANDLE("ReceiptHandle is required.")
            root = wire.parse_document(body, "ReceiptHandles")
            handles = [child.text or "" for child in root if local_name(child.tag) == "ReceiptHandle"]
            if not rules.BATCH_SIZE.low <= len(handles) <= rules.BATCH_SIZE.high:
                raise rules.invalid_argument(
                    f"A batch must hold {rules.BATCH_SIZE.low} to {rules.BATCH_SIZE.high} receipt handles, "
                    f"got {len(handles)}."
                )
            failures = self.queues.delete_messages(name, handles)
            if not failures:
                return mns_response(ctx.request_id, status=204)
            errors: list[XmlNode] = [
                ("Error", [("ErrorCode", code), ("ErrorMessage", message), ("ReceiptHandle", failed)])
                for failed, code, message in failures
            ]
            return mns_response(ctx.request_id, wire.document("Errors", errors), status=404)
        if not handle:
            raise MISSING_RECEIPT_HANDLE("ReceiptHandle is required.")
        self.queues.delete_message(name, handle)
        return mns_response(ctx.request_id, status=204)

    def change_visibility(self, request: Request, ctx: RequestContext, name: str) -> Response:
        handle = wire.arg(request, "ReceiptHandle")
        if not handle:
            raise MISSING_RECEIPT_HANDLE("ReceiptHandle is required.")
        seconds_text = wire.arg(request, "VisibilityTimeout")
        if not seconds_text:
            raise MISSING_VISIBILITY_TIMEOUT("VisibilityTimeout is required.")
        seconds = rules.VISIBILITY_TIMEOUT.parse("VisibilityTimeout", seconds_text)
        new_handle, next_visible = self.queues.change_visibility(name, handle, seconds)
        answer: list[XmlNode] = [("ReceiptHandle", new_handle), ("NextVisibleTime", next_visible)]
        body = wire.document("ChangeVisibility", answer)
        return mns_response(ctx.request_id, body)

    def _messages(
        self, ctx: RequestContext, messages: list[QueueMessage], batch: bool, *, received: bool
    ) -> Response:
        if not batch:
            body = wire.document("Message", message_nodes(messages[0], received))
            return mns_response(ctx.request_id, body)
        entries: list[XmlNode] = [("Message", message_nodes(message, received)) for message in messages]
        return mns_response(ctx.request_id, wire.document("Messages", entries))


# ------------------------------------------------------------------------------------------- documents


def queue_changes(body: bytes) -> dict[str, Any]:
    """The attributes a <Queue> document sets (unknown elements are ignored, as MNS adds new ones)."""
    if not body.strip():
        return {}
    changes: dict[str, Any] = {}
    for element, text in wire.leaf_fields(wire.parse_document(body, "Queue")).items():
        if element in _INTEGER_ATTRIBUTES:
            field, limits, unit = _INTEGER_ATTRIBUTES[element]
            changes[field] = limits.parse(element, text, unit)
        elif element == "LoggingEnabled":
            changes["logging_enabled"] = rules.parse_bool(element, text)
    return changes


def outgoing_message(element: ET.Element) -> OutgoingMessage:
    fields = wire.leaf_fields(element)
    body = fields.get("MessageBody", "")
    if not body:
        raise rules.invalid_argument("MessageBody is required and must not be empty.")
    delay = None
    if "DelaySeconds" in fields:
        delay = rules.DELAY_SECONDS.parse("DelaySeconds", fields["DelaySeconds"])
    priority = rules.PRIORITY.default
    if "Priority" in fields:
        priority = rules.PRIORITY.parse("Priority", fields["Priority"], unit="")
    properties = {
        "UserProperties": wire.nested_records(element, "UserProperties", "PropertyValue"),
        "SystemProperties": wire.nested_records(element, "SystemProperties", "SystemPropertyValue"),
    }
    return OutgoingMessage(
        body=body,
        delay_seconds=delay,
        priority=priority,
        properties={key: value for key, value in properties.items() if value},
    )


def queue_nodes(info: QueueInfo) -> list[XmlNode]:
    attributes = info.attributes
    return [
        ("QueueName", info.name),
        ("CreateTime", info.create_time),
        ("LastModifyTime", info.last_modify_time),
        ("DelaySeconds", attributes.delay_seconds),
        ("MaximumMessageSize", attributes.maximum_message_size),
        ("MessageRetentionPeriod", attributes.message_retention_period),
        ("VisibilityTimeout", attributes.visibility_timeout),
        ("PollingWaitSeconds", attributes.polling_wait_seconds),
        ("ActiveMessages", info.active_messages),
        ("InactiveMessages", info.inactive_messages),
        ("DelayMessages", info.delay_messages),
        ("LoggingEnabled", attributes.logging_enabled),
    ]


def message_nodes(message: QueueMessage, received: bool) -> list[XmlNode]:
    nodes: list[XmlNode] = [("MessageId", message.message_id)]
    if received and message.receipt_handle:
        nodes.append(("ReceiptHandle", message.receipt_handle))
    nodes += [
        ("MessageBodyMD5", message.body_md5),
        ("MessageBody", message.body),
        ("EnqueueTime", message.enqueue_time),
    ]
    if received:
        nodes.append(("NextVisibleTime", message.next_visible_time))
    nodes += [
        ("FirstDequeueTime", message.first_dequeue_time),
        ("DequeueCount", message.dequeue_count),
        ("Priority", message.priority),
    ]
    properties = message.properties
    nodes += wire.property_nodes("UserProperties", "PropertyValue", properties.get("UserProperties", []))
    nodes += wire.property_nodes(
        "SystemProperties", "SystemPropertyValue", properties.get("SystemProperties", [])
    )
    return nodes


def _sent_nodes(message: QueueMessage) -> list[XmlNode]:
    return [("MessageId", message.message_id), ("MessageBodyMD5", message.body_md5)]

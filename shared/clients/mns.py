"""MNS (Simple Message Queue): publish to topics, and send, receive, delete and hide queue messages.

    >>> import httpx
    >>> from shared.auth.credentials import Credentials
    >>> answer = (
    ...     b'<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/">'
    ...     b"<MessageId>5F29-1</MessageId><MessageBodyMD5>ABC</MessageBodyMD5></Message>"
    ... )
    >>> mns = MnsClient(
    ...     "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com", Credentials("AK", "SK"),
    ...     transport=httpx.MockTransport(lambda request: httpx.Response(201, content=answer)),
    ... )
    >>> mns.publish("AudioConvert", '{"event":"done"}', tag="audio").message_id
    '5F29-1'

Bodies are written as the official SDK writes them: `<?xml version="1.0" encoding="utf-8"?>`, the MNS
namespace, and element text escaped like minidom does (`&`, `<`, `>`, `"`).
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.auth.mns import MnsAuth
from shared.clients.base import RequestBody, RetryPolicy, ServiceClient, Timeouts, normalize_endpoint
from shared.clients.errors import parse_mns_error
from shared.clients.xmlsafe import UnsafeXmlError, child_text, escape_text, has_invalid_xml_chars, parse_xml
from shared.errors import InvalidRequestError, ServiceResponseError

MNS_XMLNS = "http://mns.aliyuncs.com/doc/v1/"
_XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'
_CONTENT_TYPE = "text/xml;charset=UTF-8"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,255}")
_MAX_BODY_BYTES = 64 * 1024
_MAX_TAG_CHARS = 16
_MAX_WAIT_SECONDS = 30
_MAX_DELAY_SECONDS = 604800
_MAX_VISIBILITY_SECONDS = 43200
# Receipt handles are base64-like; `=` stays as the SDK sends it, anything unusual is encoded.
_HANDLE_SAFE = "-_.~="


@dataclass(frozen=True)
class PublishResult:
    message_id: str
    body_md5: str
    request_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    message_id: str
    body_md5: str
    request_id: str | None = None


class Created(enum.Enum):
    """What a Create* call found: made now, already there alike, or already there with other attributes."""

    CREATED = "created"
    EXISTED = "exists"
    OTHER_ATTRIBUTES = "exists with other attributes (left as they are)"


@dataclass(frozen=True)
class ReceivedMessage:
    """A message taken from a queue; delete it with `receipt_handle` once handled. Times in epoch ms."""

    message_id: str
    receipt_handle: str
    body: str
    body_md5: str
    dequeue_count: int
    enqueue_time: int
    first_dequeue_time: int
    next_visible_time: int
    priority: int


@dataclass(frozen=True)
class VisibilityResult:
    """The message's new receipt handle (the old one is void) and when it becomes visible again."""

    receipt_handle: str
    next_visible_time: int


class MnsClient(ServiceClient):
    """One MNS account endpoint (`https://<account id>.mns.<region>.aliyuncs.com`)."""

    service = "mns"
    default_timeouts = Timeouts(connect=5.0, read=30.0, write=30.0, pool=5.0)

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialsProvider | Credentials,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.endpoint = normalize_endpoint(endpoint, operation="MnsClient")
        super().__init__(
            error_parser=parse_mns_error,
            auth=MnsAuth(credentials, clock=clock),
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        value = response.headers.get("x-mns-request-id")
        return str(value) if value else None

    # Topics --------------------------------------------------------------------------------------------

    def publish(
        self, topic: str, body: str, *, tag: str | None = None, base64_body: bool = False
    ) -> PublishResult:
        """Publish to a topic. `base64_body=True` sends the body base64-encoded (subscribers must decode)."""
        operation = "PublishMessage"
        name = _check_name(topic, "topic", operation)
        elements = [("MessageBody", _message_body(body, base64_body, operation))]
        if tag is not None:
            elements.append(("MessageTag", _check_tag(tag, operation)))
        response = self._post_message(f"/topics/{name}/messages", elements, operation)
        root = self._xml(response)
        return PublishResult(
            message_id=self._required(root, "MessageId", response),
            body_md5=child_text(root, "MessageBodyMD5"),
            request_id=self.request_id_of(response),
        )

    def create_topic(self, topic: str, *, max_message_bytes: int = _MAX_BODY_BYTES) -> Created:
        """CreateTopic. MNS answers 201 (made), 204 (there, same attributes) or 409 TopicAlreadyExist
        (there, other attributes: left as they are); all three leave a usable topic."""
        name = _check_name(topic, "topic", "CreateTopic")
        return self._create(f"/topics/{name}", "Topic", [("MaximumMessageSize", str(max_message_bytes))])

    def create_queue(
        self, queue: str, *, retention_seconds: int = 345600, visibility_seconds: int = 30
    ) -> Created:
        """CreateQueue, with the same three outcomes as `create_topic` (409 QueueAlreadyExist)."""
        operation = "CreateQueue"
        name = _check_name(queue, "queue", operation)
        retention = _bounded(retention_seconds, "retention_seconds", 60, 604800, operation)
        visibility = _bounded(visibility_seconds, "visibility_seconds", 1, 43200, operation)
        attributes = [("MessageRetentionPeriod", str(retention)), ("VisibilityTimeout", str(visibility))]
        return self._create(f"/queues/{name}", "Queue", attributes)

    def _create(self, path: str, root: str, elements: list[tuple[str, str]]) -> Created:
        operation = f"Create{root}"
        children = "".join(f"<{tag}>{escape_text(value)}</{tag}>" for tag, value in elements)
        body = f'{_XML_DECLARATION}<{root} xmlns="http://mns.aliyuncs.com/doc/v1/">{children}</{root}>'
        try:
            response = self._call(
                "PUT",
                self._url(path),
                operation=operation,
                idempotent=True,  # a repeat answers 204 or 409: nothing is made twice
                headers={"Content-Type": _CONTENT_TYPE},
                body=RequestBody(body.encode("utf-8")),
            )
        except ServiceResponseError as error:
            if error.status == 409 and error.code.endswith("AlreadyExist"):
                return Created.OTHER_ATTRIBUTES
            raise
        return Created.CREATED if response.status_code == 201 else Created.EXISTED

    # Queues --------------------------------------------------------------------------------------------

    def send(
        self, queue: str, body: str, *, delay_seconds: int = 0, priority: int = 8, base64_body: bool = False
    ) -> SendResult:
        """Send to a queue; `delay_seconds` hides it at first, `priority` 1 (first) .. 16 (last)."""
        operation = "SendMessage"
        name = _check_name(queue, "queue", operation)
        elements = [
            ("MessageBody", _message_body(body, base64_body, operation)),
            ("DelaySeconds", str(_bounded(delay_seconds, "delay_seconds", 0, _MAX_DELAY_SECONDS, operation))),
            ("Priority", str(_bounded(priority, "priority", 1, 16, operation))),
        ]
        response = self._post_message(f"/queues/{name}/messages", elements, operation)
        root = self._xml(response)
        return SendResult(
            message_id=self._required(root, "MessageId", response),
            body_md5=child_text(root, "MessageBodyMD5"),
            request_id=self.request_id_of(response),
        )

    def receive(
        self, queue: str, *, wait_seconds: int | None = None, base64_body: bool = False
    ) -> ReceivedMessage | None:
        """Take the next message, long-polling up to `wait_seconds` (0..30); None when the queue is empty."""
        operation = "ReceiveMessage"
        name = _check_name(queue, "queue", operation)
        path = f"/queues/{name}/messages"
        timeouts = None
        if wait_seconds is not None:
            wait = _bounded(wait_seconds, "wait_seconds", 0, _MAX_WAIT_SECONDS, operation)
            path += f"?waitseconds={wait}"
            # The service holds the answer for up to `wait` seconds: the read timeout must outlast it.
            timeouts = self.timeouts.with_read(max(self.timeouts.read, wait + 10.0))
        try:
            response = self._call(
                "GET", self._url(path), operation=operation, idempotent=True, timeouts=timeouts
            )
        except ServiceResponseError as exc:
            if exc.code == "MessageNotExist":
                return None
            raise
        root = self._xml(response)
        raw_body = child_text(root, "MessageBody")
        return ReceivedMessage(
            message_id=self._required(root, "MessageId", response),
            receipt_handle=self._required(root, "ReceiptHandle", response),
            body=self._decode_body(raw_body, response) if base64_body else raw_body,
            body_md5=child_text(root, "MessageBodyMD5"),
            dequeue_count=self._int(root, "DequeueCount", response),
            enqueue_time=self._int(root, "EnqueueTime", response),
            first_dequeue_time=self._int(root, "FirstDequeueTime", response),
            next_visible_time=self._int(root, "NextVisibleTime", response),
            priority=self._int(root, "Priority", response, default=8),
        )

    def delete(self, queue: str, receipt_handle: str) -> None:
        """Delete a received message (its receipt handle, not its id)."""
        operation = "DeleteMessage"
        name = _check_name(queue, "queue", operation)
        handle = _check_handle(receipt_handle, operation)
        self._call(
            "DELETE",
            self._url(f"/queues/{name}/messages?ReceiptHandle={handle}"),
            operation=operation,
            idempotent=True,
        )

    def change_visibility(self, queue: str, receipt_handle: str, seconds: int) -> VisibilityResult:
        """Hide a received message for `seconds` more (1..43200); use the returned handle from now on."""
        operation = "ChangeMessageVisibility"
        name = _check_name(queue, "queue", operation)
        handle = _check_handle(receipt_handle, operation)
        seconds = _bounded(seconds, "seconds", 1, _MAX_VISIBILITY_SECONDS, operation)
        response = self._call(
            "PUT",
            self._url(f"/queues/{name}/messages?ReceiptHandle={handle}&VisibilityTimeout={seconds}"),
            operation=operation,
            # A replay would present a handle the first attempt already replaced.
            idempotent=False,
        )
        root = self._xml(response)
        return VisibilityResult(
            receipt_handle=self._required(root, "ReceiptHandle", response),
            next_visible_time=self._int(root, "NextVisibleTime", response),
        )

    # Internals -----------------------------------------------------------------------------------------

    def _url(self, path_and_query: str) -> httpx.URL:
        base = self.endpoint.raw_path.rstrip(b"/")
        return self.endpoint.copy_with(raw_path=base + path_and_query.encode("ascii"))

    def _post_message(self, path: str, elements: list[tuple[str, str]], operation: str) -> httpx.Response:
        inner = "".join(f"<{name}>{escape_text(value)}</{name}>" for name, value in elements)
        document = f'{_XML_DECLARATION}<Message xmlns="{MNS_XMLNS}">{inner}</Message>'
        return self._call(
            "POST",
            self._url(path),
            operation=operation,
            # Each accepted post is one more message: consumers absorb duplicates, we do not make them.
            idempotent=False,
            headers={"Content-Type": _CONTENT_TYPE},
            body=RequestBody(document.encode("utf-8")),
        )

    def _xml(self, response: httpx.Response) -> ET.Element:
        try:
            return parse_xml(response.content)
        except (ET.ParseError, UnsafeXmlError) as exc:
            raise self.malformed(response, f"unreadable XML ({exc})") from exc

    def _required(self, root: ET.Element, name: str, response: httpx.Response) -> str:
        value = child_text(root, name)
        if not value:
            raise self.malformed(response, f"the answer has no {name}")
        return value

    def _int(
        self, root: ET.Element, name: str, response: httpx.Response, *, default: int | None = None
    ) -> int:
        text = child_text(root, name).strip()
        if not text and default is not None:
            return default
        try:
            return int(text)
        except ValueError:
            raise self.malformed(response, f"{name} is not an integer: {text!r}") from None

    def _decode_body(self, text: str, response: httpx.Response) -> str:
        try:
            return base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise self.malformed(response, f"MessageBody is not base64 of UTF-8 text ({exc})") from exc


def _check_name(name: object, field_name: str, operation: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequestError.single(
            field_name,
            "mns_name",
            f"must start with a letter and hold up to 256 letters, digits and hyphens, got {name!r}",
            operation,
        )
    return name


def _message_body(body: object, base64_body: bool, operation: str) -> str:
    if not isinstance(body, str) or not body:
        raise InvalidRequestError.single("body", "required", "must be a non-empty string", operation)
    if base64_body:
        wire = base64.b64encode(body.encode("utf-8")).decode("ascii")
    elif has_invalid_xml_chars(body):
        raise InvalidRequestError.single(
            "body",
            "xml_chars",
            "holds control characters XML cannot carry; send it with base64_body=True",
            operation,
        )
    else:
        wire = body
    size = len(wire.encode("utf-8"))
    if size > _MAX_BODY_BYTES:
        raise InvalidRequestError.single(
            "body", "max_bytes", f"must be at most {_MAX_BODY_BYTES} bytes as sent, got {size}", operation
        )
    return wire


def _check_tag(tag: object, operation: str) -> str:
    if not isinstance(tag, str) or not tag or len(tag) > _MAX_TAG_CHARS or has_invalid_xml_chars(tag):
        raise InvalidRequestError.single(
            "tag", "message_tag", f"must be 1..{_MAX_TAG_CHARS} printable characters, got {tag!r}", operation
        )
    return tag


def _check_handle(handle: object, operation: str) -> str:
    if not isinstance(handle, str) or not handle.strip():
        raise InvalidRequestError.single(
            "receipt_handle", "required", "must be the handle from receive()", operation
        )
    return quote(handle, safe=_HANDLE_SAFE)


def _bounded(value: object, field_name: str, low: int, high: int, operation: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequestError.single(
            field_name, "range", f"must be an integer {low}..{high}, got {value!r}", operation
        )
    return value

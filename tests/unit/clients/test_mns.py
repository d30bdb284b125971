"""MnsClient: the XML bodies and signatures of the SDK captures, queue operations, and refusals."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.clients.base import RetryPolicy
from shared.clients.errors import MalformedResponseError, NotFound
from shared.clients.mns import MnsClient
from shared.errors import InvalidRequestError, TransportError
from tests.unit.clients.conftest import Recorder, fixed_clock

ENDPOINT = "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"
NS = 'xmlns="http://mns.aliyuncs.com/doc/v1/"'
PUBLISHED = httpx.Response(
    201,
    content=(
        f'<?xml version="1.0" encoding="UTF-8"?><Message {NS}>'
        "<MessageId>823B5FDC6D4C3F60-1-17F8A3C2E1D-200000001</MessageId>"
        "<MessageBodyMD5>49C31D2C4F8A4E6C6E0E1F0B5A8D7C3E</MessageBodyMD5></Message>"
    ).encode(),
    headers={"x-mns-request-id": "MNS-RID-1"},
)
RECEIVED = httpx.Response(
    200,
    content=(
        f'<?xml version="1.0" encoding="UTF-8"?><Message {NS}>'
        "<MessageId>5F290C926D472878-2-14D9529A8FA-200000001</MessageId>"
        "<ReceiptHandle>1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA==</ReceiptHandle>"
        "<MessageBodyMD5>C5DD56A39F5F7BB8B3337C6D11B6D8C7</MessageBodyMD5>"
        "<MessageBody>{&quot;event&quot;:&quot;done&quot;}</MessageBody>"
        "<EnqueueTime>1250700979248</EnqueueTime><NextVisibleTime>1250700799348</NextVisibleTime>"
        "<FirstDequeueTime>1250700779318</FirstDequeueTime><DequeueCount>1</DequeueCount>"
        "<Priority>8</Priority></Message>"
    ).encode(),
)
NO_MESSAGE = httpx.Response(
    404,
    content=(
        f"<Error {NS}><Code>MessageNotExist</Code><Message>Message not exist.</Message>"
        "<RequestId>MNS-RID-EMPTY</RequestId><HostId>h</HostId></Error>"
    ).encode(),
)


def mns(recorder: Recorder, credentials: Credentials, **options: Any) -> MnsClient:
    options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None))
    return MnsClient(ENDPOINT, credentials, transport=recorder.transport, clock=fixed_clock, **options)


def test_publish_sends_the_captured_xml_body_and_signature(credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    result = mns(recorder, credentials).publish("AudioConvert", '{"event":"done","id":"job-1"}', tag="audio")
    request = recorder.last
    assert (request.method, str(request.url)) == ("POST", f"{ENDPOINT}/topics/AudioConvert/messages")
    assert recorder.bodies == [
        b'<?xml version="1.0" encoding="utf-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/">'
        b"<MessageBody>{&quot;event&quot;:&quot;done&quot;,&quot;id&quot;:&quot;job-1&quot;}</MessageBody>"
        b"<MessageTag>audio</MessageTag></Message>"
    ]
    assert request.headers["Content-Type"] == "text/xml;charset=UTF-8"
    assert request.headers["x-mns-version"] == "2015-06-06"
    assert request.headers["Date"] == "Wed, 15 Jan 2025 08:30:45 GMT"
    assert request.headers["Authorization"] == "MNS LTAI5tFixedAccessKeyId:p94blq3Ngi8Q0El1G21b/x5qroo="
    assert result.message_id == "823B5FDC6D4C3F60-1-17F8A3C2E1D-200000001"
    assert result.body_md5 == "49C31D2C4F8A4E6C6E0E1F0B5A8D7C3E"
    assert result.request_id == "MNS-RID-1"


def test_publish_with_sts_credentials_adds_the_token_header(sts_credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    mns(recorder, sts_credentials).publish("AudioConvert", "x")
    assert recorder.last.headers["security-token"] == "CAISFixedSecurityToken+/=="


def test_publish_can_send_the_body_base64_encoded(credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    mns(recorder, credentials).publish("AudioConvert", "<b>&ü</b>", base64_body=True)
    encoded = base64.b64encode("<b>&ü</b>".encode()).decode()
    assert f"<MessageBody>{encoded}</MessageBody>".encode() in recorder.bodies[0]
    assert b"MessageTag" not in recorder.bodies[0]


def test_xml_special_characters_in_a_body_are_escaped(credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    mns(recorder, credentials).publish("AudioConvert", "a<b & c>d \"q\" 'é'")
    assert "<MessageBody>a&lt;b &amp; c&gt;d &quot;q&quot; 'é'</MessageBody>".encode() in recorder.bodies[0]


def test_publish_is_not_replayed_after_a_read_timeout(credentials: Credentials) -> None:
    recorder = Recorder([httpx.ReadTimeout("timed out"), PUBLISHED])
    with pytest.raises(TransportError):
        mns(recorder, credentials).publish("AudioConvert", "x")
    assert len(recorder.requests) == 1


def test_send_puts_delay_and_priority_after_the_body(credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    result = mns(recorder, credentials).send("audio-queue", '{"event":"done"}', delay_seconds=5, priority=1)
    assert str(recorder.last.url) == f"{ENDPOINT}/queues/audio-queue/messages"
    assert recorder.bodies == [
        b'<?xml version="1.0" encoding="utf-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/">'
        b"<MessageBody>{&quot;event&quot;:&quot;done&quot;}</MessageBody>"
        b"<DelaySeconds>5</DelaySeconds><Priority>1</Priority></Message>"
    ]
    assert result.message_id == "823B5FDC6D4C3F60-1-17F8A3C2E1D-200000001"


def test_receive_long_polls_and_parses_the_message(credentials: Credentials) -> None:
    recorder = Recorder([RECEIVED])
    message = mns(recorder, credentials).receive("audio-queue", wait_seconds=10)
    request = recorder.last
    assert (request.method, request.url.raw_path) == ("GET", b"/queues/audio-queue/messages?waitseconds=10")
    assert request.headers["Authorization"] == "MNS LTAI5tFixedAccessKeyId:5+vBDcb8Mgnyqs4PszssPs5/Gng="
    # The read timeout outlasts the long poll, or every empty poll would end as a timeout.
    assert request.extensions["timeout"]["read"] >= 20
    assert message is not None
    assert message.body == '{"event":"done"}'
    assert message.receipt_handle == "1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA=="
    assert (message.dequeue_count, message.priority, message.enqueue_time) == (1, 8, 1250700979248)


def test_receive_from_an_empty_queue_returns_none(credentials: Credentials) -> None:
    recorder = Recorder([NO_MESSAGE])
    assert mns(recorder, credentials).receive("audio-queue", wait_seconds=0) is None
    assert len(recorder.requests) == 1


def test_receive_can_decode_a_base64_body(credentials: Credentials) -> None:
    encoded = base64.b64encode(b'{"event":"done"}').decode()
    body = RECEIVED.content.replace(b"{&quot;event&quot;:&quot;done&quot;}", encoded.encode())
    recorder = Recorder([httpx.Response(200, content=body)])
    message = mns(recorder, credentials).receive("audio-queue", base64_body=True)
    assert message is not None and message.body == '{"event":"done"}'


def test_receive_from_a_missing_queue_raises_not_found(credentials: Credentials) -> None:
    missing = httpx.Response(
        404, content=f"<Error {NS}><Code>QueueNotExist</Code><Message>no queue</Message></Error>".encode()
    )
    with pytest.raises(NotFound) as caught:
        mns(Recorder([missing]), credentials).receive("audio-queue")
    assert caught.value.code == "QueueNotExist"


def test_a_received_message_missing_its_handle_is_a_malformed_response(credentials: Credentials) -> None:
    body = RECEIVED.content.replace(
        b"<ReceiptHandle>1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA==</ReceiptHandle>", b""
    )
    with pytest.raises(MalformedResponseError) as caught:
        mns(Recorder([httpx.Response(200, content=body)]), credentials).receive("audio-queue")
    assert "ReceiptHandle" in str(caught.value)


def test_delete_sends_the_receipt_handle_as_the_sdk_does(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(204)])
    mns(recorder, credentials).delete("audio-queue", "1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA==")
    request = recorder.last
    assert request.method == "DELETE"
    assert (
        request.url.raw_path
        == b"/queues/audio-queue/messages?ReceiptHandle=1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA=="
    )
    assert request.headers["Authorization"] == "MNS LTAI5tFixedAccessKeyId:dz4cTuOMIPl7Gqzk4d3p3J4G7vM="


def test_change_visibility_returns_the_new_handle(credentials: Credentials) -> None:
    answer = httpx.Response(
        200,
        content=(
            f"<ChangeVisibility {NS}><ReceiptHandle>2-NEW==</ReceiptHandle>"
            "<NextVisibleTime>1250700999348</NextVisibleTime></ChangeVisibility>"
        ).encode(),
    )
    recorder = Recorder([answer])
    result = mns(recorder, credentials).change_visibility("audio-queue", "1-OLD+/==", 60)
    assert recorder.last.method == "PUT"
    assert recorder.last.url.raw_path == (
        b"/queues/audio-queue/messages?ReceiptHandle=1-OLD%2B%2F==&VisibilityTimeout=60"
    )
    assert (result.receipt_handle, result.next_visible_time) == ("2-NEW==", 1250700999348)


def test_an_endpoint_path_prefix_is_kept_in_front_of_resources(credentials: Credentials) -> None:
    recorder = Recorder([PUBLISHED])
    MnsClient("http://127.0.0.1:9100/mns", credentials, transport=recorder.transport).publish("t-1", "x")
    assert str(recorder.last.url) == "http://127.0.0.1:9100/mns/topics/t-1/messages"


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (lambda c: c.publish("1topic", "x"), "topic", "mns_name"),
        (lambda c: c.publish("topic_underscore", "x"), "topic", "mns_name"),
        (lambda c: c.publish("topic", ""), "body", "required"),
        (lambda c: c.publish("topic", "bell\x07"), "body", "xml_chars"),
        (lambda c: c.publish("topic", "x" * 65537), "body", "max_bytes"),
        (lambda c: c.publish("topic", "x", tag="a-tag-that-is-far-too-long"), "tag", "message_tag"),
        (lambda c: c.send("queue", "x", priority=0), "priority", "range"),
        (lambda c: c.send("queue", "x", delay_seconds=604801), "delay_seconds", "range"),
        (lambda c: c.receive("queue", wait_seconds=31), "wait_seconds", "range"),
        (lambda c: c.delete("queue", ""), "receipt_handle", "required"),
        (lambda c: c.change_visibility("queue", "h", 0), "seconds", "range"),
    ],
)
def test_bad_input_is_refused_with_field_and_rule(
    credentials: Credentials, call: Any, field: str, rule: str
) -> None:
    recorder = Recorder([PUBLISHED])
    with pytest.raises(InvalidRequestError) as caught:
        call(mns(recorder, credentials))
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert recorder.requests == []

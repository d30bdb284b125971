from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from shared.errors import InvalidRequestError
from shared.events.mns import MnsFormat, MnsMessage

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def test_a_body_nested_too_deep_to_parse_is_refused_as_not_json() -> None:
    message = MnsMessage.from_bytes(b"[" * 200_000)
    with pytest.raises(InvalidRequestError) as caught:
        message.body_json()
    assert (caught.value.field, caught.value.rule) == ("body", "json")


def test_a_json_format_event_is_detected_and_its_fields_read() -> None:
    message = MnsMessage.from_bytes(load("mns_json.json"))
    assert message.format is MnsFormat.JSON
    assert message.message_id == "E2A8C1F6D3B74A9E-1-19A2B3C4D5E-200000001"
    assert message.topic_name == "audiochain-pipeline"
    assert message.subscription_name == "audiochain-on-notify"
    assert message.publish_time == 1725272122950
    assert message.message_md5 is not None
    assert message.body_field == "Message"


def test_message_attributes_merged_at_the_top_level_are_collected() -> None:
    message = MnsMessage.from_bytes(load("mns_json.json"))
    assert message.attributes == {"MessageTag": "audiochain"}


def test_a_json_format_body_is_read_as_json() -> None:
    body = MnsMessage.from_bytes(load("mns_json.json")).body_json()
    assert body["source"] == "acs.imm"
    assert json.loads(body["content"])["Status"] == "Succeeded"


def test_a_base64_body_is_decoded_before_being_read_as_json() -> None:
    message = MnsMessage.from_bytes(load("mns_json_base64.json"))
    assert not message.body.startswith("{")
    body = message.body_json()
    assert json.loads(body["content"])["TaskId"] == "AudioConvert-0f3b6d9e-2a4c-4e6f-8a1b-3c5d7e9f1a2b"


def test_a_url_safe_base64_body_is_decoded_too() -> None:
    encoded = base64.urlsafe_b64encode(b'{"a": "??>>"}').decode().rstrip("=")
    assert MnsMessage.from_bytes(encoded, fmt="STREAM").body_json() == {"a": "??>>"}


def test_a_raw_stream_event_is_the_body_itself_without_a_message_id() -> None:
    raw = load("mns_stream_raw.txt")
    message = MnsMessage.from_bytes(raw)
    assert message.format is MnsFormat.STREAM
    assert message.body == raw.decode()
    assert message.message_id is None
    assert message.body_json()["type"] == "imm:Task:AudioConvert"


def test_a_stream_event_with_attributes_unwraps_body_and_attrs() -> None:
    message = MnsMessage.from_bytes(load("mns_stream_attrs.json"))
    assert message.format is MnsFormat.STREAM
    assert message.attributes == {"Extensions": {"source": "audiochain"}}
    assert message.body_json() == {"job_id": "job-20240902-0009", "action": "fetch_results"}


def test_a_plain_text_stream_body_is_kept_but_is_not_json() -> None:
    message = MnsMessage.from_bytes(b"hello world")
    assert message.body == "hello world"
    with pytest.raises(InvalidRequestError) as caught:
        message.body_json()
    assert (caught.value.field, caught.value.rule) == ("body", "json")


def test_the_idempotency_key_is_the_message_id_when_there_is_one() -> None:
    message = MnsMessage.from_bytes(load("mns_json.json"))
    assert message.idempotency_key == "mns:E2A8C1F6D3B74A9E-1-19A2B3C4D5E-200000001"


def test_without_a_message_id_the_idempotency_key_is_a_hash_of_the_body() -> None:
    first = MnsMessage.from_bytes(load("mns_stream_raw.txt"))
    again = MnsMessage.from_bytes(load("mns_stream_raw.txt"))
    other = MnsMessage.from_bytes(b'{"different": true}')
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key.startswith("sha256:")
    assert first.idempotency_key != other.idempotency_key


def test_an_explicit_stream_format_keeps_a_json_looking_body_as_the_body() -> None:
    raw = load("mns_json.json")
    message = MnsMessage.from_bytes(raw, fmt=MnsFormat.STREAM)
    assert message.format is MnsFormat.STREAM
    assert message.body == raw.decode()


def test_an_explicit_json_format_accepts_lower_case_and_reads_the_envelope() -> None:
    message = MnsMessage.from_bytes(load("mns_json.json"), fmt="json")
    assert message.format is MnsFormat.JSON


def test_an_explicit_json_format_refuses_an_event_that_is_not_an_object() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b"raw body", fmt="JSON")
    assert caught.value.field == "event"


def test_an_explicit_json_format_refuses_an_event_without_message() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b'{"MessageId": "1", "TopicName": "t"}', fmt="JSON")
    assert (caught.value.field, caught.value.rule) == ("Message", "required")


def test_an_unknown_format_name_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b"x", fmt="XML")
    assert (caught.value.field, caught.value.rule) == ("fmt", "one_of")


def test_a_malformed_publish_time_is_refused_naming_it() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b'{"Message": "x", "MessageId": "1", "PublishTime": "soon"}')
    assert (caught.value.field, caught.value.rule) == ("PublishTime", "integer")


def test_a_stream_wrapper_with_a_non_text_body_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b'{"body": {"a": 1}, "attrs": {}}')
    assert (caught.value.field, caught.value.rule) == ("body", "string")


def test_an_event_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        MnsMessage.from_bytes(b"\xff\xfe\xfd")
    assert (caught.value.field, caught.value.rule) == ("event", "utf8")

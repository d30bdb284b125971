"""Event building: OSS events parse with shared.events and carry the key as OSS sends it; timer events;
FC's destination record; the OSS trigger's matching rules."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from localcloud.ports import ObjectCreated, ObjectRecord
from localcloud.runtime.events import destination_record, encode_event_key, oss_event, rule_id, timer_event
from localcloud.runtime.triggers_spec import OssTrigger
from shared.events.oss import OssEvent
from shared.events.timer import TimerEvent


def _created(key: str, *, event_name: str = "ObjectCreated:PutObject") -> ObjectCreated:
    record = ObjectRecord(
        bucket="media",
        key=key,
        path=Path("/nowhere"),
        size=1234,
        etag="0CC175B9C0F1B6A831C399E269772661",
        content_type="audio/wav",
        metadata={"lang": "en", "speaker": "ann"},
        last_modified=1700000000.0,
    )
    return ObjectCreated(event_name, record, "REQ-1", source_ip="10.0.0.7", event_time=1700000000.123)


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("inbox/a.wav", "inbox/a.wav"),
        ("inbox/my song.wav", "inbox/my%20song.wav"),
        ("inbox/歌.wav", "inbox/%E6%AD%8C.wav"),
        ("inbox/50%+1.wav", "inbox/50%25%2B1.wav"),
    ],
)
def test_the_event_key_is_url_encoded_and_decodes_back_to_the_object_key(key: str, encoded: str) -> None:
    assert encode_event_key(key) == encoded
    event = OssEvent.from_bytes(oss_event(_created(key), region="cn-hangzhou", account_id="42", rule_id="r"))
    assert event.events[0].raw_key == encoded
    assert event.events[0].key == key


def test_the_oss_event_has_the_documented_shape() -> None:
    raw = oss_event(
        _created("inbox/a.wav"), region="cn-hangzhou", account_id="42", rule_id=rule_id("s", "f", "t")
    )
    (record,) = json.loads(raw)["events"]
    assert record["eventName"] == "ObjectCreated:PutObject"
    assert record["eventSource"] == "acs:oss"
    assert record["eventTime"] == "2023-11-14T22:13:20.123Z"
    assert record["eventVersion"] == "1.0"
    assert record["oss"]["bucket"] == {
        "arn": "acs:oss:cn-hangzhou:42:media",
        "name": "media",
        "ownerIdentity": "42",
    }
    assert record["oss"]["object"] == {
        "deltaSize": 1234,
        "eTag": "0CC175B9C0F1B6A831C399E269772661",
        "key": "inbox/a.wav",
        "objectMeta": {
            "mimeType": "audio/wav",
            "userMeta": {"x-oss-meta-lang": "en", "x-oss-meta-speaker": "ann"},
        },
        "size": 1234,
    }
    assert record["oss"]["ossSchemaVersion"] == "1.0"
    assert len(record["oss"]["ruleId"]) == 40
    assert record["region"] == "cn-hangzhou"
    assert record["requestParameters"] == {"sourceIPAddress": "10.0.0.7"}
    assert record["responseElements"] == {"requestId": "REQ-1"}
    assert record["userIdentity"] == {"principalId": "42"}


def test_a_prefixed_event_name_loses_its_prefix() -> None:
    created = _created("a.wav", event_name="oss:ObjectCreated:CopyObject")
    event = OssEvent.from_bytes(oss_event(created, region="r", account_id="1", rule_id="x"))
    assert event.events[0].event_name == "ObjectCreated:CopyObject"


def test_the_timer_event_parses_with_timer_event() -> None:
    raw = timer_event("sweep", datetime(2024, 2, 9, 5, 49, 0, 900000, tzinfo=timezone.utc), '{"sweep": true}')
    assert json.loads(raw) == {
        "triggerTime": "2024-02-09T05:49:00Z",
        "triggerName": "sweep",
        "payload": '{"sweep": true}',
    }
    timer = TimerEvent.from_bytes(raw)
    assert timer.trigger_name == "sweep"
    assert timer.payload_json() == {"sweep": True}


def test_the_destination_record_has_fcs_fields() -> None:
    raw = destination_record(
        request_id="r-1",
        function_arn="acs:fc:cn-hangzhou:1:services/s.LATEST/functions/f",
        condition="RetriesExhausted",
        invoke_count=4,
        request_payload=b'{"a": 1}',
        succeeded=False,
        response_payload=b'{"errorMessage": "x"}',
        at=1700000000.0,
    )
    assert json.loads(raw) == {
        "timestamp": "2023-11-14T22:13:20.000Z",
        "requestContext": {
            "requestId": "r-1",
            "functionArn": "acs:fc:cn-hangzhou:1:services/s.LATEST/functions/f",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 4,
        },
        "requestPayload": '{"a": 1}',
        "responseContext": {"statusCode": 200, "functionError": "UnhandledInvocationError"},
        "responsePayload": '{"errorMessage": "x"}',
    }


def test_a_binary_payload_is_given_base64_encoded_in_the_record() -> None:
    raw = destination_record(
        request_id="r", function_arn="a", condition="Success", invoke_count=1,
        request_payload=b"\xff\xfe", succeeded=True, response_payload=b"", at=0,
    )  # fmt: skip
    assert json.loads(raw)["requestPayload"] == "//4="


@pytest.mark.parametrize(
    "case",
    [
        (("oss:ObjectCreated:*",), "inbox/", "", "media", "inbox/a.wav", "ObjectCreated:PutObject", True),
        (("oss:ObjectCreated:*",), "inbox/", "", "media", "inbox/a.wav", "ObjectCreated:PostObject", True),
        (("oss:ObjectCreated:*",), "inbox/", "", "other", "inbox/a.wav", "ObjectCreated:PutObject", False),
        (("oss:ObjectCreated:*",), "inbox/", "", "media", "work/a.wav", "ObjectCreated:PutObject", False),
        (("oss:ObjectCreated:PutObject",), "", ".wav", "media", "x/a.wav", "ObjectCreated:PutObject", True),
        (("oss:ObjectCreated:PutObject",), "", ".wav", "media", "x/a.WAV", "ObjectCreated:PutObject", False),
        (("oss:ObjectCreated:PutObject",), "", "", "media", "a", "ObjectCreated:CopyObject", False),
        (("oss:ObjectRemoved:*",), "", "", "media", "a", "ObjectCreated:PutObject", False),
    ],
)
def test_an_oss_trigger_matches_bucket_event_prefix_and_suffix(
    case: tuple[tuple[str, ...], str, str, str, str, str, bool],
) -> None:
    events, prefix, suffix, bucket, key, event_name, fires = case
    trigger = OssTrigger("t", "media", events, prefix, suffix)
    assert trigger.matches(bucket, key, event_name) is fires

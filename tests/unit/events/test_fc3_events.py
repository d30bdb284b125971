"""FC 3.0 delivers OSS, MNS-topic and timer triggers in the FC 2.0 shapes (the Serverless Devs fc3 component's
event templates: src/subCommands/trigger-template/event-template/{oss,mns-with-MessageAttributes}.json in
devsapp/fc3): the event models read them unchanged. These are our own events in those shapes."""

from __future__ import annotations

import json

from shared.events.mns import MnsFormat, MnsMessage
from shared.events.oss import OssEvent
from shared.events.timer import TimerEvent

FC3_OSS = {
    "events": [
        {
            "eventName": "ObjectCreated:PutObject",
            "eventSource": "acs:oss",
            "eventTime": "2026-12-05T13:00:00.000Z",
            "eventVersion": "1.0",
            "oss": {
                "bucket": {
                    "arn": "acs:oss:cn-hangzhou:1234567890123456:audiochain",
                    "name": "audiochain",
                    "ownerIdentity": "1234567890123456",
                },

                "object": {"deltaSize": 2048, "eTag": "0CC175B9C0F1B6A831C399E269772661",
                           "key": "inbox/a.wav", "size": 2048},
                "ossSchemaVersion": "1.0",
                "ruleId": "audiochain-inbox",
            },
            "region": "cn-hangzhou",
            "requestParameters": {"sourceIPAddress": "203.0.113.7"},
            "responseElements": {"requestId": "6756A0B0C0D0E0F001020304"},
            "userIdentity": {"principalId": "1234567890123456"},
        }
    ]
}  # fmt: skip
# JSON format with a message attribute, which FC 3.0 puts beside the standard keys.
FC3_MNS = {
    "priority": "high",
    "TopicOwner": "1234567890123456",
    "Message": '{"jobId": "j1"}',
    "Subscriber": "1234567890123456",
    "PublishTime": 1796302800000,
    "SubscriptionName": "audiochain-on-notify",
    "MessageMD5": "0123456789ABCDEF0123456789ABCDEF",
    "TopicName": "audiochain-pipeline",
    "MessageId": "0123456789ABCDEF-1-19A2B3C4D5E-200000001",
}
FC3_TIMER = {"triggerTime": "2026-12-05T13:00:00Z", "triggerName": "sweep", "payload": '{"task": "sweep"}'}


def test_an_fc3_oss_event_is_read_as_an_upload() -> None:
    (record,) = OssEvent.from_bytes(json.dumps(FC3_OSS).encode()).records
    assert (record.bucket, record.raw_key, record.size) == ("audiochain", "inbox/a.wav", 2048)


def test_an_fc3_mns_json_event_with_an_attribute_is_read_as_the_message() -> None:
    message = MnsMessage.from_bytes(json.dumps(FC3_MNS).encode(), MnsFormat.JSON)
    assert (message.body, message.topic_name, message.message_id) == (
        '{"jobId": "j1"}',
        "audiochain-pipeline",
        FC3_MNS["MessageId"],
    )


def test_an_fc3_timer_event_is_read_with_its_payload() -> None:
    timer = TimerEvent.from_bytes(json.dumps(FC3_TIMER).encode())
    assert timer.trigger_name == "sweep"

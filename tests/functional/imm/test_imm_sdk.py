"""The official IMM SDK, unmodified, against localcloud: the seed's two merging examples end to end."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from alibabacloud_imm20200930 import models as imm_models
from alibabacloud_imm20200930.client import Client as ImmSdkClient
from mns.account import Account
from mns.subscription import SubscriptionMeta

from localcloud.engines.probe import probe
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.mns import MnsClient
from shared.events.notifications import TaskNotification, parse_notification
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.imm.conftest import BUCKET, PutTone

pytestmark = pytest.mark.sdk

TOLERANCE_MS = 50.0


def seed_three_segments(topic: str, prefix: str) -> dict[str, Any]:
    """The seed's "Merge three segments into an AAC file" request, under a per-test prefix."""
    return {
        "ProjectName": "test-project",
        "AlignmentIndex": 1,
        "Notification": {"MNS": {"TopicName": topic}},
        "Sources": [
            {"URI": f"oss://{BUCKET}/{prefix}/head.mp3"},
            {"URI": f"oss://{BUCKET}/{prefix}/test.mp3"},
            {"URI": f"oss://{BUCKET}/{prefix}/tail.mp3"},
        ],
        "Targets": [
            {
                "Audio": {
                    "TranscodeAudio": {"Bitrate": 96000, "Channel": 2, "Codec": "aac", "SampleRate": 44100}
                },
                "Container": "aac",
                "URI": f"oss://{BUCKET}/{prefix}/concat.{{autoext}}",
            }
        ],
    }


def seed_two_segments(topic: str, prefix: str) -> dict[str, Any]:
    """The seed's "Merge two segments into an MP3 file" request, under a per-test prefix."""
    return {
        "ProjectName": "test-project",
        "AlignmentIndex": 0,
        "Notification": {"MNS": {"TopicName": topic}},
        "Sources": [
            {"URI": f"oss://{BUCKET}/{prefix}/test.mp3"},
            {"URI": f"oss://{BUCKET}/{prefix}/test1.mp3"},
        ],
        "Targets": [
            {
                "Audio": {
                    "TranscodeAudio": {"Bitrate": 128000, "Channel": 2, "Codec": "mp3", "SampleRate": 44100}
                },
                "Container": "mp3",
                "URI": f"oss://{BUCKET}/{prefix}/concat.{{autoext}}",
            }
        ],
    }


def subscribe_queue(cloud: LocalCloud, topic: str) -> str:
    """Create the topic and a queue, and subscribe the queue with the official MNS SDK; returns the queue."""
    queue = f"imm-done-{uuid.uuid4().hex[:8]}"
    mns = cloud.mns()
    mns.ensure_topic(topic)
    mns.ensure_queue(queue)
    endpoint = f"acs:mns:{cloud.config.region}:{cloud.config.account_id}:queues/{queue}"
    account = Account(cloud.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    account.get_topic(topic).get_subscription(f"to-{queue}").subscribe(
        SubscriptionMeta(endpoint, notify_content_format="SIMPLIFIED")
    )
    return queue


def receive_notification(cloud: LocalCloud, queue: str) -> TaskNotification:
    cloud.mns().wait_deliveries(timeout=10)
    with MnsClient(cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as mns:
        message = mns.receive(queue, wait_seconds=5)
    assert message is not None, "no notification arrived in the subscribed queue"
    notification = parse_notification(message.body)
    assert isinstance(notification, TaskNotification)
    return notification


def wait_for_final_status(
    cloud: LocalCloud, client: ImmSdkClient, task_id: str
) -> imm_models.GetTaskResponseBody:
    """GetTask until the task leaves Running (the task pool is drained between polls, no sleeping)."""
    request = imm_models.GetTaskRequest(
        project_name="test-project", task_id=task_id, task_type="MediaConvert"
    )
    for _ in range(50):
        body = client.get_task(request).body
        if body.status != "Running":
            return body
        assert cloud.tasks.wait_idle(30)
    raise AssertionError(f"task {task_id} is still Running")


def test_the_three_segment_seed_example_merges_into_stereo_aac_and_notifies_the_topic(
    imm_cloud: LocalCloud, imm_sdk: ImmSdkClient, put_tone: PutTone
) -> None:
    prefix = f"seed-aac-{uuid.uuid4().hex[:6]}"
    put_tone(f"{prefix}/head.mp3", seconds=1.0, sample_rate=22050, channels=1)
    put_tone(f"{prefix}/test.mp3", seconds=2.0, sample_rate=44100, channels=2)
    put_tone(f"{prefix}/tail.mp3", seconds=1.5, sample_rate=48000, channels=2)
    queue = subscribe_queue(imm_cloud, "test-mns-topic")
    request = imm_models.CreateMediaConvertTaskRequest().from_map(
        seed_three_segments("test-mns-topic", prefix)
    )

    created = imm_sdk.create_media_convert_task(request).body
    final = wait_for_final_status(imm_cloud, imm_sdk, created.task_id)

    assert created.task_id.startswith("MediaConvert-") and created.request_id and created.event_id
    assert (final.status, final.code, final.progress) == ("Succeeded", "", 100)
    assert final.start_time <= final.end_time
    output = imm_cloud.oss().store.head(BUCKET, f"{prefix}/concat.aac")
    info = probe(output.path)
    assert (info.codec, info.sample_rate, info.channels) == ("aac", 44100, 2)
    assert info.duration_ms == pytest.approx(4500.0, abs=TOLERANCE_MS)
    note = receive_notification(imm_cloud, queue)
    assert note.envelope is not None
    assert (note.envelope.source, note.envelope.type) == ("acs.imm", "imm:Task:MediaConvert")
    assert note.envelope.subject == (
        f"acs:imm:{imm_cloud.config.region}:{imm_cloud.config.account_id}:test-project/imm:Task:MediaConvert"
    )
    assert (note.task_id, note.succeeded, note.task_type, note.project_name) == (
        created.task_id,
        True,
        "MediaConvert",
        "test-project",
    )
    assert note.request_id == created.request_id
    assert note.target_keys() == [(BUCKET, f"{prefix}/concat.aac")]
    assert [key for _, key in note.source_keys()] == [
        f"{prefix}/head.mp3",
        f"{prefix}/test.mp3",
        f"{prefix}/tail.mp3",
    ]


def test_the_two_segment_seed_example_merges_into_mp3_with_the_first_source_as_primary(
    imm_cloud: LocalCloud, imm_sdk: ImmSdkClient, put_tone: PutTone
) -> None:
    prefix = f"seed-mp3-{uuid.uuid4().hex[:6]}"
    put_tone(f"{prefix}/test.mp3", seconds=2.5, sample_rate=32000, channels=1)
    put_tone(f"{prefix}/test1.mp3", seconds=1.25, sample_rate=44100, channels=2, frequency=880.0)
    queue = subscribe_queue(imm_cloud, "test-mns-topic-mp3")
    request = imm_models.CreateMediaConvertTaskRequest().from_map(
        seed_two_segments("test-mns-topic-mp3", prefix)
    )

    created = imm_sdk.create_media_convert_task(request).body
    final = wait_for_final_status(imm_cloud, imm_sdk, created.task_id)

    assert final.status == "Succeeded"
    info = probe(imm_cloud.oss().store.head(BUCKET, f"{prefix}/concat.mp3").path)
    assert (info.codec, info.sample_rate, info.channels) == ("mp3float", 44100, 2)
    assert info.duration_ms == pytest.approx(3750.0, abs=TOLERANCE_MS)
    assert info.bit_rate == pytest.approx(128000, rel=0.1)
    note = receive_notification(imm_cloud, queue)
    assert (note.task_id, note.succeeded) == (created.task_id, True)


def test_get_task_echoes_the_request_definition_and_user_data_when_asked(
    imm_cloud: LocalCloud, imm_sdk: ImmSdkClient, put_tone: PutTone
) -> None:
    source = put_tone("definition/in.mp3", seconds=0.5)
    request = imm_models.CreateMediaConvertTaskRequest().from_map(
        {
            "ProjectName": "test-project",
            "Sources": [{"URI": source}],
            "Targets": [{"Container": "flac", "URI": f"oss://{BUCKET}/definition/out.{{autoext}}"}],
            "UserData": '{"job":"j-1"}',
            "Tags": {"owner": "audiochain"},
        }
    )
    task_id = imm_sdk.create_media_convert_task(request).body.task_id
    imm_cloud.tasks.wait_idle(30)

    body = imm_sdk.get_task(
        imm_models.GetTaskRequest(
            project_name="test-project", task_id=task_id, task_type="MediaConvert", request_definition=True
        )
    ).body

    definition = json.loads(body.task_request_definition)
    assert definition["Sources"] == [{"URI": source}]
    assert definition["Targets"][0]["Container"] == "flac"
    assert (body.user_data, body.tags, body.status) == ('{"job":"j-1"}', {"owner": "audiochain"}, "Succeeded")
    assert probe(imm_cloud.oss().store.head(BUCKET, "definition/out.flac").path).codec == "flac"


def test_a_task_whose_source_is_missing_fails_with_a_code_and_says_so_in_the_notification(
    imm_cloud: LocalCloud, imm_sdk: ImmSdkClient, put_tone: PutTone
) -> None:
    present = put_tone("missing/present.mp3", seconds=0.5)
    queue = subscribe_queue(imm_cloud, "missing-source-topic")
    request = imm_models.CreateMediaConvertTaskRequest().from_map(
        {
            "ProjectName": "test-project",
            "Notification": {"MNS": {"TopicName": "missing-source-topic"}},
            "Sources": [{"URI": present}, {"URI": f"oss://{BUCKET}/missing/absent.mp3"}],
            "Targets": [
                {
                    "Container": "mp3",
                    "Audio": {"TranscodeAudio": {"Codec": "mp3"}},
                    "URI": f"oss://{BUCKET}/missing/out.mp3",
                }
            ],
        }
    )

    task_id = imm_sdk.create_media_convert_task(request).body.task_id
    final = wait_for_final_status(imm_cloud, imm_sdk, task_id)

    assert (final.status, final.code) == ("Failed", "ResourceNotFound")
    assert "Sources[1].URI" in final.message and "absent.mp3" in final.message
    assert not imm_cloud.oss().store.exists(BUCKET, "missing/out.mp3")
    note = receive_notification(imm_cloud, queue)
    assert (note.task_id, note.failed, note.code) == (task_id, True, "ResourceNotFound")

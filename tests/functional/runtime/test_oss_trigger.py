"""OSS trigger: uploads through localcloud's OSS reach the function as FC's OSS event, asynchronously."""

from __future__ import annotations

import uuid

import pytest

from shared.clients.oss import OssClient
from shared.events.oss import OssEvent
from tests.functional.runtime.conftest import Project
from tests.functional.runtime.project import BUCKET, records


def _events_for(project: Project, key: str) -> list[OssEvent]:
    assert project.runtime.wait_idle(10)
    parsed = [OssEvent.from_bytes(entry["event"].encode("utf-8")) for entry in records(project.root, "echo")]
    return [event for event in parsed if event.events[0].key == key]


@pytest.mark.parametrize(
    "name",
    ["plain.mp3", "my song.mp3", "歌曲 é.mp3", "100%done+more.mp3"],
    ids=["plain", "space", "non-ascii", "percent-and-plus"],
)
def test_an_upload_under_the_prefix_reaches_the_function_with_a_parseable_event_and_the_right_key(
    project: Project, oss_client: OssClient, name: str
) -> None:
    key = f"inbox/{uuid.uuid4().hex}/{name}"
    oss_client.put_object(BUCKET, key, b"audio bytes", content_type="audio/mpeg", metadata={"lang": "en"})

    (event,) = _events_for(project, key)
    (record,) = event.events
    assert record.key == key
    assert record.bucket == BUCKET
    assert record.event_name == "ObjectCreated:PutObject"
    assert record.is_object_created
    assert record.size == len(b"audio bytes")
    assert record.etag and record.request_id
    assert record.region == "cn-hangzhou"
    assert record.oss.object_.object_meta is not None
    assert record.oss.object_.object_meta.mime_type == "audio/mpeg"
    assert record.oss.object_.object_meta.user_meta == {"x-oss-meta-lang": "en"}
    assert record.oss.bucket.arn == f"acs:oss:cn-hangzhou:{project.cloud.config.account_id}:{BUCKET}"


def test_oss_invocations_are_asynchronous_with_a_uuid_request_id_and_no_retry(
    project: Project, oss_client: OssClient
) -> None:
    key = f"inbox/{uuid.uuid4().hex}.mp3"
    oss_client.put_object(BUCKET, key, b"x")
    assert project.runtime.wait_idle(10)
    (entry,) = [e for e in records(project.root, "echo") if key in e["event"]]
    assert entry["event_type"] == "bytes"
    assert uuid.UUID(entry["context"]["request_id"])
    assert entry["context"]["retry_count"] == 0


def test_keys_outside_the_prefix_fire_only_the_suffix_trigger_and_other_keys_fire_nothing(
    project: Project, oss_client: OssClient
) -> None:
    marker = uuid.uuid4().hex
    outside_wav = f"elsewhere/{marker}.wav"
    outside_mp3 = f"elsewhere/{marker}.mp3"
    inside_wav = f"inbox/{marker}.wav"
    for key in (outside_wav, outside_mp3, inside_wav):
        oss_client.put_object(BUCKET, key, b"x")
    assert project.runtime.wait_idle(10)

    seen = [e for e in records(project.root, "echo") if marker in e["event"]]
    keys = sorted(OssEvent.from_bytes(e["event"]).events[0].key for e in seen)
    # inbox/*.wav matches both triggers (two invocations, as FC would make); elsewhere/*.mp3 matches none.
    assert keys == sorted([outside_wav, inside_wav, inside_wav])
    rule_ids = {OssEvent.from_bytes(e["event"]).events[0].oss.rule_id for e in seen}
    assert len(rule_ids) == 2


def test_another_bucket_fires_no_trigger(project: Project, oss_client: OssClient) -> None:
    project.cloud.oss().store.create_bucket("fixture-other")
    marker = uuid.uuid4().hex
    oss_client.put_object("fixture-other", f"inbox/{marker}.wav", b"x")
    assert project.runtime.wait_idle(10)
    assert not [e for e in records(project.root, "echo") if marker in e["event"]]


def test_the_template_bucket_exists_after_start_without_anyone_creating_it(project: Project) -> None:
    assert project.cloud.oss().store.bucket_exists(BUCKET)

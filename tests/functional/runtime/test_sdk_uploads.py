"""Uploads made with the official oss2 SDK fire the OSS trigger with the event name of the upload kind."""

from __future__ import annotations

import uuid

import oss2
import pytest

from shared.events.oss import OssEvent
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.runtime.conftest import Project
from tests.functional.runtime.project import BUCKET, records

pytestmark = pytest.mark.sdk


def _event_names(project: Project, key: str) -> list[str]:
    assert project.runtime.wait_idle(10)
    names = []
    for entry in records(project.root, "echo"):
        event = OssEvent.from_bytes(entry["event"]) if '"events"' in entry["event"] else None
        if event is not None and event.events[0].key == key:
            names.append(event.events[0].event_name)
    return names


def test_a_multipart_upload_fires_complete_multipart_upload_once(project: Project) -> None:
    bucket = oss2.Bucket(
        oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), project.cloud.endpoint, BUCKET, region="cn-hangzhou"
    )
    key = f"inbox/{uuid.uuid4().hex}/large file.mp3"
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = [
        oss2.models.PartInfo(number, bucket.upload_part(key, upload_id, number, data).etag)
        for number, data in ((1, b"a" * (100 * 1024)), (2, b"b" * 10))
    ]
    bucket.complete_multipart_upload(key, upload_id, parts)
    assert _event_names(project, key) == ["ObjectCreated:CompleteMultipartUpload"]


def test_a_copy_fires_copy_object(project: Project) -> None:
    bucket = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), project.cloud.endpoint, BUCKET)
    source = f"staging/{uuid.uuid4().hex}.mp3"
    target = f"inbox/{uuid.uuid4().hex}/copied.mp3"
    bucket.put_object(source, b"audio")
    bucket.copy_object(BUCKET, source, target)
    assert _event_names(project, target) == ["ObjectCreated:CopyObject"]

"""Requests that overlap: a write landing between a handler's look-up and its use of what it looked up.

Each test forces one interleaving by running the "concurrent" request from a hook placed exactly where
the race window is, so the outcome does not depend on thread timing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.ports import ObjectRecord
from localcloud.server import LocalCloud
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss.service import OssService
from shared.auth import Credentials, OssV4Auth
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config
from tests.functional.oss.conftest import REGION


@pytest.fixture
def own_oss(tmp_path: Path) -> Iterator[OssService]:
    """An OSS of this test's own (no port): its blob directory holds nothing but this test's data."""
    cloud = LocalCloud(make_config(tmp_path / "localcloud"), services=("oss",)).start_services_only()
    try:
        service: OssService = cloud.oss()
        service.store.create_bucket("media")
        yield service
    finally:
        cloud.stop()


@pytest.fixture
def signed(oss_cloud: LocalCloud) -> Iterator[httpx.Client]:
    auth = OssV4Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        yield http


def _blob_files(service: OssService) -> set[Path]:
    return {path for path in service.state.blob_dir.rglob("*") if path.is_file()}


def _object_blobs(service: OssService) -> set[Path]:
    return {record.path for record in service.store.list("media")}


def test_aborting_an_upload_while_a_part_arrives_leaves_no_part_data_behind(
    own_oss: OssService, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = own_oss.uploads
    upload_id = uploads.initiate("media", "race.bin")
    uploads.put_part(upload_id, 1, io.BytesIO(b"first part"))
    listed = uploads.parts

    def parts_then_another_arrives(upload: str, **kwargs: Any) -> Any:
        found = listed(upload, **kwargs)
        uploads.put_part(upload_id, 2, io.BytesIO(b"second part, uploaded meanwhile"))
        return found

    monkeypatch.setattr(uploads, "parts", parts_then_another_arrives)
    uploads.abort(upload_id)

    assert _blob_files(own_oss) == set()


def test_completing_an_upload_while_another_part_arrives_keeps_only_the_object(
    own_oss: OssService, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = own_oss.uploads
    upload_id = uploads.initiate("media", "race.bin")
    first = uploads.put_part(upload_id, 1, io.BytesIO(b"the only part listed"))
    listed = uploads.parts

    def parts_then_another_arrives(upload: str, **kwargs: Any) -> Any:
        found = listed(upload, **kwargs)
        uploads.put_part(upload_id, 2, io.BytesIO(b"a part nobody will list"))
        return found

    monkeypatch.setattr(uploads, "parts", parts_then_another_arrives)
    record = uploads.complete(upload_id, [(1, first.etag)])

    assert record.path.read_bytes() == b"the only part listed"
    assert _blob_files(own_oss) == _object_blobs(own_oss) == {record.path}


def test_a_get_that_races_an_overwrite_serves_the_new_object_not_no_such_key(
    oss_service: OssService, signed: httpx.Client, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = oss_service.store
    store.put_stream(bucket, "a.txt", io.BytesIO(b"old"))
    looked_up = store.head
    overwritten: list[bool] = []

    def head_then_overwritten(name: str, key: str) -> ObjectRecord:
        record = looked_up(name, key)
        if not overwritten:  # a PUT of the same key lands between the look-up and the read
            overwritten.append(True)
            store.put_stream(name, key, io.BytesIO(b"new"))
        return record

    monkeypatch.setattr(store, "head", head_then_overwritten)
    response = signed.get(f"/{bucket}/a.txt")

    assert (response.status_code, response.content) == (200, b"new")
    assert response.headers["ETag"] == looked_up(bucket, "a.txt").quoted_etag


def test_a_copy_that_races_an_overwrite_of_its_source_copies_the_new_source(
    oss_service: OssService, signed: httpx.Client, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = oss_service.store
    store.put_stream(bucket, "source.txt", io.BytesIO(b"old"))
    looked_up = store.head
    overwritten: list[bool] = []

    def head_then_overwritten(name: str, key: str) -> ObjectRecord:
        record = looked_up(name, key)
        if key == "source.txt" and not overwritten:
            overwritten.append(True)
            store.put_stream(name, key, io.BytesIO(b"new"))
        return record

    monkeypatch.setattr(store, "head", head_then_overwritten)
    response = signed.put(f"/{bucket}/copy.txt", headers={"x-oss-copy-source": f"/{bucket}/source.txt"})

    assert response.status_code == 200, response.text
    copy = looked_up(bucket, "copy.txt")
    assert (copy.path.read_bytes(), copy.etag) == (b"new", looked_up(bucket, "source.txt").etag)


def test_a_put_whose_bucket_is_deleted_while_the_body_arrives_is_no_such_bucket_and_keeps_nothing(
    own_oss: OssService, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = own_oss.state
    written = state.write_blob

    def write_then_bucket_deleted(chunks: Any, **kwargs: Any) -> Any:
        blob = written(chunks, **kwargs)
        own_oss.store.delete_bucket("media")  # a DeleteBucket lands while the upload streams in
        return blob

    monkeypatch.setattr(state, "write_blob", write_then_bucket_deleted)
    with pytest.raises(ServiceHttpError) as refused:
        own_oss.store.put_stream("media", "late.wav", io.BytesIO(b"RIFF...."))

    assert (refused.value.status, refused.value.code) == (404, "NoSuchBucket")
    assert _blob_files(own_oss) == set()


def test_deleting_a_bucket_while_an_object_lands_in_it_is_bucket_not_empty(
    own_oss: OssService, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = own_oss.state
    queried = state.query_one
    landed: list[bool] = []

    def query_then_object_lands(sql: str, params: Any = ()) -> Any:
        row = queried(sql, params)
        if "FROM oss_objects" in sql and not landed:  # the emptiness check has just been answered
            landed.append(True)
            own_oss.store.put_stream("media", "late.wav", io.BytesIO(b"RIFF...."))
        return row

    monkeypatch.setattr(state, "query_one", query_then_object_lands)
    with pytest.raises(ServiceHttpError) as refused:
        own_oss.store.delete_bucket("media")

    assert (refused.value.status, refused.value.code) == (409, "BucketNotEmpty")
    assert own_oss.store.bucket_exists("media") and own_oss.store.exists("media", "late.wav")


def test_an_async_task_reads_the_source_version_it_started_with_even_if_it_is_overwritten(
    own_oss: OssService,
) -> None:
    own_oss.store.create_bucket("media")
    own_oss.store.put_stream("media", "in/a.wav", iter([b"first version"]))
    pinned = own_oss.processor._pin_source("media", "in/a.wav", "source")
    try:
        own_oss.store.put_stream("media", "in/a.wav", iter([b"second version, longer"]))
        own_oss.store.delete("media", "in/a.wav")
        assert pinned.read_bytes() == b"first version"
    finally:
        pinned.unlink()

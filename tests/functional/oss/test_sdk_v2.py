"""alibabacloud-oss-v2 against localcloud: V4 signatures, path-style (automatic for an IP endpoint),
CRC-64 checks on upload and download, presigned URLs, the uploader's multipart path, async processing."""

from __future__ import annotations

import os
from pathlib import Path

import alibabacloud_oss_v2 as oss
import httpx
import pytest

from localcloud.engines.media import probe
from localcloud.engines.testaudio import write_tone
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.encoding import b64url_encode
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

pytestmark = pytest.mark.sdk


@pytest.fixture(params=["v4", "v1"])
def v2(request: pytest.FixtureRequest, oss_cloud: LocalCloud) -> oss.Client:
    """The v2 SDK signing with V4 (its default) or with its own V1 signer."""
    config = oss.config.load_default()
    config.credentials_provider = oss.credentials.StaticCredentialsProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    config.region = REGION
    config.endpoint = oss_cloud.endpoint
    config.signature_version = request.param
    return oss.Client(config)


def test_v2_puts_and_gets_an_object_and_its_crc_matches(v2: oss.Client, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(50_000)

    put = v2.put_object(oss.PutObjectRequest(bucket=bucket, key="in/ü b.bin", body=data, metadata={"k": "v"}))
    got = v2.get_object(oss.GetObjectRequest(bucket=bucket, key="in/ü b.bin"))
    v2.get_object_to_file(oss.GetObjectRequest(bucket=bucket, key="in/ü b.bin"), str(tmp_path / "copy.bin"))

    assert put.status_code == 200 and put.hash_crc64 is not None
    assert got.body.read() == data
    assert (got.hash_crc64, got.metadata) == (put.hash_crc64, {"k": "v"})
    assert (tmp_path / "copy.bin").read_bytes() == data


def test_a_v2_presigned_get_can_be_fetched_with_httpx(v2: oss.Client, bucket: str) -> None:
    v2.put_object(oss.PutObjectRequest(bucket=bucket, key="share/a.txt", body=b"shared"))

    presigned = v2.presign(oss.GetObjectRequest(bucket=bucket, key="share/a.txt"))
    fetched = httpx.get(presigned.url)

    assert "x-oss-signature=" in presigned.url or "Signature=" in presigned.url
    assert (fetched.status_code, fetched.content) == (200, b"shared")


def test_v2_reports_missing_objects_and_buckets_with_their_codes(v2: oss.Client, bucket: str) -> None:
    with pytest.raises(oss.exceptions.OperationError) as missing:
        v2.get_object(oss.GetObjectRequest(bucket=bucket, key="nothing"))
    with pytest.raises(oss.exceptions.OperationError) as head_missing:
        v2.head_object(oss.HeadObjectRequest(bucket=bucket, key="nothing"))

    assert (missing.value.unwrap().status_code, missing.value.unwrap().code) == (404, "NoSuchKey")
    assert head_missing.value.unwrap().code == "NoSuchKey"  # read from x-oss-err: a HEAD has no body
    assert v2.is_object_exist(bucket, "nothing") is False
    assert v2.is_bucket_exist(bucket) is True and v2.is_bucket_exist("no-such-bucket-here") is False


def test_the_v2_uploader_sends_a_multipart_file_and_checks_the_combined_crc(
    v2: oss.Client, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(520 * 1024 + 7))

    result = v2.uploader(part_size=128 * 1024, parallel_num=2).upload_file(
        oss.PutObjectRequest(bucket=bucket, key="big.bin"), str(source)
    )
    back = v2.get_object(oss.GetObjectRequest(bucket=bucket, key="big.bin")).body.read()

    assert result.etag is not None and result.etag.strip('"').endswith("-5")
    assert result.hash_crc64 is not None
    assert back == source.read_bytes()


def test_v2_lists_pages_of_objects(v2: oss.Client, bucket: str) -> None:
    for key in ("a", "b", "c"):
        v2.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=b"x"))

    pages = list(
        v2.list_objects_v2_paginator().iter_page(oss.ListObjectsV2Request(bucket=bucket, max_keys=2))
    )

    assert [[o.key for o in page.contents or []] for page in pages] == [["a", "b"], ["c"]]


def test_v2_async_process_object_converts_and_answers_the_task_ids(
    v2: oss.Client, oss_cloud: LocalCloud, oss_service: OssService, bucket: str, tmp_path: Path
) -> None:
    write_tone(tmp_path / "tone.wav", seconds=1.5, sample_rate=16000, frequency=700)
    v2.put_object_from_file(oss.PutObjectRequest(bucket=bucket, key="tone.wav"), str(tmp_path / "tone.wav"))
    saveas = f"sys/saveas,b_{b64url_encode(bucket)},o_{b64url_encode('tone.{autoext}')}"
    process = f"audio/convert,f_flac,ar_16000,ac_1,adepth_24|{saveas}"

    result = v2.async_process_object(
        oss.AsyncProcessObjectRequest(bucket=bucket, key="tone.wav", process=process)
    )
    oss_cloud.tasks.wait_idle(30)

    assert result.task_id is not None and result.task_id.startswith("MediaConvert-")
    assert result.event_id and result.process_request_id
    info = probe(oss_service.store.head(bucket, "tone.flac").path)
    assert (info.codec, info.sample_rate, info.bits_per_sample) == ("flac", 16000, 24)

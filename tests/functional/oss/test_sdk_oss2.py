"""oss2 (the official Python SDK, V1 and V4 signatures) against localcloud, unmodified but for endpoint
and credentials. oss2 checks CRC-64 on every upload and full download, so these also prove the CRCs."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import oss2
import pytest
from oss2.credentials import StaticCredentialsProvider

from localcloud.engines.media import probe
from localcloud.engines.testaudio import write_tone
from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

pytestmark = pytest.mark.sdk

AUTHS = {
    "v1": lambda: oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
    "v4": lambda: oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET),
    "provider-v4": lambda: oss2.ProviderAuthV4(StaticCredentialsProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET)),
}


@pytest.fixture(params=sorted(AUTHS))
def sdk_bucket(request: pytest.FixtureRequest, oss_cloud: LocalCloud, bucket: str) -> oss2.Bucket:
    return oss2.Bucket(AUTHS[request.param](), oss_cloud.endpoint, bucket, region=REGION)


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    write_tone(path, seconds=2.0, sample_rate=16000, channels=1, frequency=500)
    return path


def test_oss2_puts_and_gets_an_object_with_metadata_and_a_crc_it_verifies(sdk_bucket: oss2.Bucket) -> None:
    data = os.urandom(70_000)

    put = sdk_bucket.put_object("dir/a b+c ü.bin", data, headers={"x-oss-meta-origin": "sdk"})
    got = sdk_bucket.get_object("dir/a b+c ü.bin")
    body = got.read()  # oss2 compares its running CRC-64 with x-oss-hash-crc64ecma here

    assert put.status == 200 and put.crc is not None
    assert body == data
    assert (got.server_crc, got.headers["x-oss-meta-origin"]) == (put.crc, "sdk")
    assert sdk_bucket.head_object("dir/a b+c ü.bin").content_length == len(data)


def test_oss2_reads_a_byte_range(sdk_bucket: oss2.Bucket) -> None:
    sdk_bucket.put_object("digits.txt", b"0123456789")

    part = sdk_bucket.get_object("digits.txt", byte_range=(3, 6))

    assert (part.status, part.read(), part.content_range) == (206, b"3456", "bytes 3-6/10")


def test_a_url_signed_by_oss2_can_be_fetched_with_httpx(sdk_bucket: oss2.Bucket) -> None:
    sdk_bucket.put_object("shared/clip.wav", b"RIFFdata")

    url = sdk_bucket.sign_url("GET", "shared/clip.wav", 300)
    fetched = httpx.get(url)

    assert (fetched.status_code, fetched.content) == (200, b"RIFFdata")


def test_a_v4_url_oss2_signs_for_more_than_seven_days_is_refused_as_oss_refuses_it(
    oss_cloud: LocalCloud, bucket: str
) -> None:
    signer = oss2.Bucket(AUTHS["v4"](), oss_cloud.endpoint, bucket, region=REGION)
    signer.put_object("shared/clip.wav", b"RIFFdata")

    week = httpx.get(signer.sign_url("GET", "shared/clip.wav", 7 * 86400))
    month = httpx.get(signer.sign_url("GET", "shared/clip.wav", 30 * 86400))

    assert (week.status_code, week.content) == (200, b"RIFFdata")
    assert month.status_code == 400
    assert "<Code>InvalidArgument</Code>" in month.text and "x-oss-expires" in month.text


def test_oss2_forbid_overwrite_raises_file_already_exists(sdk_bucket: oss2.Bucket) -> None:
    sdk_bucket.put_object("claim.json", b"1", headers={"x-oss-forbid-overwrite": "true"})

    with pytest.raises(oss2.exceptions.ServerError) as refused:
        sdk_bucket.put_object("claim.json", b"2", headers={"x-oss-forbid-overwrite": "true"})

    assert (refused.value.status, refused.value.code) == (409, "FileAlreadyExists")
    assert sdk_bucket.get_object("claim.json").read() == b"1"


def test_oss2_resumable_upload_of_a_multipart_sized_file_arrives_whole(
    sdk_bucket: oss2.Bucket, tmp_path: Path, created_events: list[ObjectCreated]
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(330 * 1024))

    result = oss2.resumable_upload(
        sdk_bucket,
        "uploads/big.bin",
        str(source),
        store=oss2.ResumableStore(root=str(tmp_path)),
        multipart_threshold=100 * 1024,
        part_size=100 * 1024,
        num_threads=2,
    )

    assert result.etag.endswith("-4")
    assert sdk_bucket.get_object("uploads/big.bin").read() == source.read_bytes()
    assert [event.event_name for event in created_events] == ["ObjectCreated:CompleteMultipartUpload"]


def test_oss2_lists_with_v1_and_v2_and_folds_common_prefixes(sdk_bucket: oss2.Bucket) -> None:
    for key in ("a/1", "a/2", "b", "c d"):
        sdk_bucket.put_object(key, b"x")

    v1 = sdk_bucket.list_objects(delimiter="/")
    v2_keys = [entry.key for entry in oss2.ObjectIteratorV2(sdk_bucket, max_keys=1)]
    v1_keys = [entry.key for entry in oss2.ObjectIterator(sdk_bucket, max_keys=2)]

    assert (v1.prefix_list, [o.key for o in v1.object_list]) == (["a/"], ["b", "c d"])
    assert v2_keys == v1_keys == ["a/1", "a/2", "b", "c d"]


def test_oss2_copies_deletes_in_batch_and_reads_bucket_info(sdk_bucket: oss2.Bucket, bucket: str) -> None:
    sdk_bucket.put_object("one", b"1")
    sdk_bucket.copy_object(bucket, "one", "two")

    deleted = sdk_bucket.batch_delete_objects(["one", "missing"])
    info = sdk_bucket.get_bucket_info()

    assert sdk_bucket.get_object("two").read() == b"1"
    assert sorted(deleted.deleted_keys) == ["missing", "one"]
    assert (info.name, info.location) == (bucket, f"oss-{REGION}")


def test_oss2_async_process_object_converts_and_answers_the_task_ids(
    sdk_bucket: oss2.Bucket, oss_cloud: LocalCloud, oss_service: OssService, bucket: str, tone_wav: Path
) -> None:
    sdk_bucket.put_object_from_file("in/tone.wav", str(tone_wav))
    target = oss2.utils.b64encode_as_string(b"out/tone.{autoext}").replace("=", "").replace("+", "-")
    bucket_b64 = oss2.utils.b64encode_as_string(bucket.encode()).rstrip("=")

    result = sdk_bucket.async_process_object(
        "in/tone.wav", f"audio/convert,f_mp3,ar_22050|sys/saveas,b_{bucket_b64},o_{target}"
    )
    oss_cloud.tasks.wait_idle(30)

    task = oss_service.get_async_task(result.task_id)
    assert result.task_id.startswith("MediaConvert-") and result.event_id and result.async_request_id
    assert task is not None and task.status.value == "Succeeded"
    output = Path(oss_service.store.head(bucket, "out/tone.mp3").path)
    info = probe(output)
    assert (info.codec.startswith("mp3"), info.sample_rate, info.channels) == (True, 22050, 1)

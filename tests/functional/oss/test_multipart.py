"""Multipart uploads on the wire: initiate, parts, list, complete (with OSS's checks), abort."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from xml.etree import ElementTree

import crcmod
import httpx
import pytest

from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from shared.auth import Credentials, OssV4Auth
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

_CRC64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)
_KB = 1024


@pytest.fixture
def signed(oss_cloud: LocalCloud) -> Iterator[httpx.Client]:
    auth = OssV4Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        yield http


def _xml(response: httpx.Response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)


def _initiate(signed: httpx.Client, bucket: str, key: str, **headers: str) -> str:
    response = signed.post(f"/{bucket}/{key}?uploads", headers=headers)
    assert response.status_code == 200, response.text
    return _xml(response).findtext("UploadId") or ""


def _upload(signed: httpx.Client, bucket: str, key: str, upload_id: str, *, number: int, data: bytes) -> str:
    response = signed.put(
        f"/{bucket}/{key}", params={"partNumber": str(number), "uploadId": upload_id}, content=data
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-oss-hash-crc64ecma"] == str(_CRC64(data))
    return response.headers["ETag"]


def _complete_document(parts: list[tuple[int, str]]) -> bytes:
    entries = "".join(f"<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>" for n, etag in parts)
    return f"<CompleteMultipartUpload>{entries}</CompleteMultipartUpload>".encode()


def test_a_multipart_upload_joins_its_parts_with_the_multipart_etag_and_a_combined_crc(
    signed: httpx.Client, bucket: str, created_events: list[ObjectCreated]
) -> None:
    parts = [os.urandom(150 * _KB), os.urandom(120 * _KB), os.urandom(10 * _KB)]
    upload_id = _initiate(
        signed, bucket, "big/take 1.wav", **{"Content-Type": "audio/wav", "x-oss-meta-take": "1"}
    )
    etags = [
        _upload(signed, bucket, "big/take 1.wav", upload_id, number=n, data=data)
        for n, data in enumerate(parts, 1)
    ]

    listed = _xml(signed.get(f"/{bucket}/big/take 1.wav", params={"uploadId": upload_id}))
    completed = signed.post(
        f"/{bucket}/big/take 1.wav",
        params={"uploadId": upload_id},
        content=_complete_document(list(enumerate(etags, 1))),
    )
    fetched = signed.get(f"/{bucket}/big/take 1.wav")

    expected_etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest().upper() + "-3"
    assert [p.findtext("Size") for p in listed.findall("Part")] == [str(len(p)) for p in parts]
    assert completed.status_code == 200, completed.text
    assert _xml(completed).findtext("ETag") == f'"{expected_etag}"'
    assert completed.headers["x-oss-hash-crc64ecma"] == str(_CRC64(b"".join(parts)))
    assert fetched.content == b"".join(parts)
    assert (fetched.headers["ETag"], fetched.headers["x-oss-object-type"]) == (
        f'"{expected_etag}"',
        "Multipart",
    )
    assert (fetched.headers["Content-Type"], fetched.headers["x-oss-meta-take"]) == ("audio/wav", "1")
    assert [event.event_name for event in created_events] == ["ObjectCreated:CompleteMultipartUpload"]
    gone = signed.get(f"/{bucket}/big/take 1.wav", params={"uploadId": upload_id})
    assert gone.status_code == 404 and _xml(gone).findtext("Code") == "NoSuchUpload"


def test_complete_refuses_a_wrong_order_an_unknown_etag_and_a_small_inner_part(
    signed: httpx.Client, bucket: str
) -> None:
    upload_id = _initiate(signed, bucket, "parts.bin")
    first = _upload(signed, bucket, "parts.bin", upload_id, number=1, data=os.urandom(50 * _KB))
    second = _upload(signed, bucket, "parts.bin", upload_id, number=2, data=os.urandom(10 * _KB))

    def complete(parts: list[tuple[int, str]]) -> str:
        response = signed.post(
            f"/{bucket}/parts.bin", params={"uploadId": upload_id}, content=_complete_document(parts)
        )
        assert response.status_code == 400
        return _xml(response).findtext("Code") or ""

    assert complete([(2, second), (1, first)]) == "InvalidPartOrder"
    assert complete([(1, first), (2, '"0123456789ABCDEF0123456789ABCDEF"')]) == "InvalidPart"
    assert complete([(1, first), (3, second)]) == "InvalidPart"
    assert complete([(1, first), (2, second)]) == "EntityTooSmall"  # part 1 is under 100 KB


def test_an_aborted_upload_is_gone_and_its_id_is_no_such_upload(signed: httpx.Client, bucket: str) -> None:
    upload_id = _initiate(signed, bucket, "abandoned.bin")
    _upload(signed, bucket, "abandoned.bin", upload_id, number=1, data=b"x" * 1000)

    aborted = signed.delete(f"/{bucket}/abandoned.bin", params={"uploadId": upload_id})
    again = signed.delete(f"/{bucket}/abandoned.bin", params={"uploadId": upload_id})
    late_part = signed.put(
        f"/{bucket}/abandoned.bin", params={"partNumber": "2", "uploadId": upload_id}, content=b"y"
    )

    assert aborted.status_code == 204
    assert (again.status_code, _xml(again).findtext("Code")) == (404, "NoSuchUpload")
    assert (late_part.status_code, _xml(late_part).findtext("Code")) == (404, "NoSuchUpload")


def test_complete_all_joins_every_uploaded_part_in_order(signed: httpx.Client, bucket: str) -> None:
    upload_id = _initiate(signed, bucket, "all.bin")
    second, first = os.urandom(1000), os.urandom(100 * _KB)
    _upload(signed, bucket, "all.bin", upload_id, number=2, data=second)
    _upload(signed, bucket, "all.bin", upload_id, number=1, data=first)

    completed = signed.post(
        f"/{bucket}/all.bin", params={"uploadId": upload_id}, headers={"x-oss-complete-all": "yes"}
    )

    assert completed.status_code == 200, completed.text
    assert signed.get(f"/{bucket}/all.bin").content == first + second


def test_a_part_number_outside_1_to_10000_is_invalid_argument(signed: httpx.Client, bucket: str) -> None:
    upload_id = _initiate(signed, bucket, "n.bin")

    response = signed.put(
        f"/{bucket}/n.bin", params={"partNumber": "10001", "uploadId": upload_id}, content=b"x"
    )

    assert response.status_code == 400
    assert _xml(response).findtext("Code") == "InvalidArgument"
    assert "partNumber" in (_xml(response).findtext("Message") or "")


def test_list_multipart_uploads_names_the_uploads_in_progress(signed: httpx.Client, bucket: str) -> None:
    first = _initiate(signed, bucket, "a/one.bin")
    second = _initiate(signed, bucket, "b/two.bin")

    everything = _xml(signed.get(f"/{bucket}/?uploads"))
    under_a = _xml(signed.get(f"/{bucket}/", params={"uploads": "", "prefix": "a/"}))
    not_empty = signed.delete(f"/{bucket}/")

    assert [(u.findtext("Key"), u.findtext("UploadId")) for u in everything.findall("Upload")] == [
        ("a/one.bin", first),
        ("b/two.bin", second),
    ]
    assert [u.findtext("Key") for u in under_a.findall("Upload")] == ["a/one.bin"]
    assert not_empty.status_code == 409 and _xml(not_empty).findtext("Code") == "BucketNotEmpty"

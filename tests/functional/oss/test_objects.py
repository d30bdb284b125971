"""Objects and buckets through audiochain's own OssClient (and V4-signed httpx for what it does not wrap)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import crcmod
import httpx
import pytest

from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.auth import Credentials, OssV4Auth
from shared.clients.errors import ObjectAlreadyExists, ObjectNotFound
from shared.clients.oss import OssClient, delete_document
from shared.errors import InvalidRequestError, ServiceResponseError
from shared.jobs import backend as backend_module
from shared.jobs.backend import OssBackend
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

_CRC64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)


@pytest.fixture
def signed(oss_cloud: LocalCloud) -> Iterator[httpx.Client]:
    """Raw requests signed with the shared V4 signer, for operations OssClient does not wrap."""
    auth = OssV4Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        yield http


def test_an_uploaded_object_comes_back_with_its_etag_type_metadata_and_crc(
    client: OssClient, signed: httpx.Client, bucket: str
) -> None:
    data = b"RIFF" + bytes(range(256)) * 40

    put = client.put_object(bucket, "in/a b+c ü.wav", data, content_type="audio/wav", metadata={"lang": "en"})
    info = client.head_object(bucket, "in/a b+c ü.wav")
    raw = signed.get(f"/{bucket}/in/a%20b%2Bc%20%C3%BC.wav")

    assert put.etag == hashlib.md5(data).hexdigest().upper()
    assert client.get_object_bytes(bucket, "in/a b+c ü.wav") == data
    assert (info.size, info.etag, info.content_type) == (len(data), put.etag, "audio/wav")
    assert {name.lower(): value for name, value in info.metadata.items()} == {"lang": "en"}
    assert raw.headers["ETag"] == f'"{put.etag}"'
    assert raw.headers["x-oss-hash-crc64ecma"] == str(_CRC64(data))
    assert raw.headers["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert raw.headers["x-oss-object-type"] == "Normal"
    assert raw.headers["x-oss-request-id"]


def test_a_put_whose_content_md5_does_not_match_is_refused_and_leaves_no_object(
    client: OssClient, bucket: str
) -> None:
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()

    with pytest.raises(ServiceResponseError) as refused:
        client.put_object(bucket, "bad.bin", b"payload", content_md5=wrong)

    assert (refused.value.status, refused.value.code) == (400, "InvalidDigest")
    with pytest.raises(ObjectNotFound):
        client.head_object(bucket, "bad.bin")


def test_a_content_md5_that_is_not_a_base64_md5_is_invalid_digest(signed: httpx.Client, bucket: str) -> None:
    response = signed.put(f"/{bucket}/x.bin", content=b"abc", headers={"Content-MD5": "not-md5"})

    assert response.status_code == 400
    assert "<Code>InvalidDigest</Code>" in response.text


def test_forbid_overwrite_keeps_the_first_object_and_answers_file_already_exists(
    client: OssClient, bucket: str
) -> None:
    assert client.put_object_if_absent(bucket, "claims/job-1.json", b'{"n": 1}') is True
    assert client.put_object_if_absent(bucket, "claims/job-1.json", b'{"n": 2}') is False
    with pytest.raises(ObjectAlreadyExists):
        client.put_object(bucket, "claims/job-1.json", b"x", forbid_overwrite=True)
    assert client.get_object_bytes(bucket, "claims/job-1.json") == b'{"n": 1}'


def test_a_range_read_answers_206_with_the_bytes_and_content_range(client: OssClient, bucket: str) -> None:
    client.put_object(bucket, "digits.txt", b"0123456789")

    with client.get_object(bucket, "digits.txt", byte_range=(2, 5)) as download:
        middle, status = b"".join(download.iter_bytes()), download.status
    with client.get_object(bucket, "digits.txt", byte_range=(7, None)) as download:
        tail = b"".join(download.iter_bytes())

    assert (middle, status, tail) == (b"2345", 206, b"789")
    assert download.info.size == 10  # the whole object's size, read from Content-Range


def test_a_range_outside_the_object_is_ignored_and_the_whole_object_served_as_oss_does_by_default(
    signed: httpx.Client, client: OssClient, bucket: str
) -> None:
    client.put_object(bucket, "digits.txt", b"0123456789")

    def read(range_header: str) -> httpx.Response:
        return signed.get(f"/{bucket}/digits.txt", headers={"Range": range_header})

    answers = [read(header) for header in ("bytes=5-20", "bytes=10-20", "bytes=-30", "bytes=0-1,4-5")]
    suffix = read("bytes=-3")

    assert [(a.status_code, a.content) for a in answers] == [(200, b"0123456789")] * 4
    assert all("Content-Range" not in answer.headers for answer in answers)
    assert (suffix.status_code, suffix.content) == (206, b"789")
    assert suffix.headers["Content-Range"] == "bytes 7-9/10"


def test_with_standard_range_behaviour_a_range_is_clipped_to_the_object_or_416_past_its_end(
    signed: httpx.Client, client: OssClient, bucket: str
) -> None:
    client.put_object(bucket, "digits.txt", b"0123456789")

    def read(range_header: str) -> httpx.Response:
        headers = {"Range": range_header, "x-oss-range-behavior": "standard"}
        return signed.get(f"/{bucket}/digits.txt", headers=headers)

    clipped, long_suffix = read("bytes=5-20"), read("bytes=-30")
    past = [read(header) for header in ("bytes=10-20", "bytes=15-")]

    assert (clipped.status_code, clipped.content, clipped.headers["Content-Range"]) == (
        206,
        b"56789",
        "bytes 5-9/10",
    )
    assert [(a.status_code, "<Code>InvalidRange</Code>" in a.text) for a in past] == [(416, True)] * 2
    assert (long_suffix.status_code, long_suffix.content) == (206, b"0123456789")


def test_deleting_answers_204_whether_or_not_the_object_existed(client: OssClient, bucket: str) -> None:
    client.put_object(bucket, "gone.txt", b"x")

    client.delete_object(bucket, "gone.txt")
    client.delete_object(bucket, "gone.txt")

    with pytest.raises(ObjectNotFound):
        client.get_object_bytes(bucket, "gone.txt")


def test_listing_v2_folds_common_prefixes_and_pages_with_continuation_tokens(
    client: OssClient, bucket: str
) -> None:
    keys = ["a/1.wav", "a/2.wav", "b/x/1.wav", "b/y.wav", "c.wav", "d e+f ü.wav"]
    for key in keys:
        client.put_object(bucket, key, b"x")

    folded = client.list_objects_v2(bucket, delimiter="/")
    pages = list(client.iter_list_pages(bucket, page_size=2))
    under_b = client.list_objects_v2(bucket, "b/", delimiter="/")
    after = client.list_objects_v2(bucket, start_after="b/y.wav")

    assert folded.common_prefixes == ("a/", "b/")
    assert [o.key for o in folded.objects] == ["c.wav", "d e+f ü.wav"]
    assert folded.key_count == 4
    assert [[o.key for o in page.objects] for page in pages] == [keys[0:2], keys[2:4], keys[4:6]]
    assert [page.is_truncated for page in pages] == [True, True, False]
    assert (under_b.common_prefixes, [o.key for o in under_b.objects]) == (("b/x/",), ["b/y.wav"])
    assert [o.key for o in after.objects] == ["c.wav", "d e+f ü.wav"]


def test_a_folded_page_resumes_after_every_key_under_its_last_common_prefix(
    client: OssClient, bucket: str
) -> None:
    for key in ["a/1", "a/2", "a/3", "b/1", "c"]:
        client.put_object(bucket, key, b"x")

    pages = list(client.iter_list_pages(bucket, delimiter="/", page_size=1))

    listed = [(page.common_prefixes, [o.key for o in page.objects]) for page in pages]
    assert listed == [(("a/",), []), (("b/",), []), ((), ["c"])]


def test_listing_refuses_a_page_size_outside_1_to_1000(signed: httpx.Client, bucket: str) -> None:
    response = signed.get(f"/{bucket}/", params={"list-type": "2", "max-keys": "1001"})

    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text and "max-keys" in response.text


def test_copy_object_keeps_the_etag_crc_and_metadata_and_announces_a_copy(
    client: OssClient,
    signed: httpx.Client,
    bucket: str,
    oss_service: OssService,
    created_events: list[ObjectCreated],
) -> None:
    client.put_object(bucket, "src/a b.mp3", b"ID3" * 100, content_type="audio/mpeg", metadata={"lang": "fr"})

    response = signed.put(
        f"/{bucket}/dst/copy.mp3", headers={"x-oss-copy-source": f"/{bucket}/src/a%20b.mp3"}
    )

    source = oss_service.store.head(bucket, "src/a b.mp3")
    copy = oss_service.store.head(bucket, "dst/copy.mp3")
    assert response.status_code == 200
    assert f'<ETag>"{source.etag}"</ETag>' in response.text
    assert (copy.etag, copy.crc64, copy.content_type, copy.metadata) == (
        source.etag,
        source.crc64,
        "audio/mpeg",
        {"lang": "fr"},
    )
    assert client.get_object_bytes(bucket, "dst/copy.mp3") == b"ID3" * 100
    assert [event.event_name for event in created_events] == [
        "ObjectCreated:PutObject",
        "ObjectCreated:CopyObject",
    ]


def test_copying_a_missing_source_is_no_such_key(signed: httpx.Client, bucket: str) -> None:
    response = signed.put(f"/{bucket}/dst.mp3", headers={"x-oss-copy-source": f"/{bucket}/missing.mp3"})

    assert response.status_code == 404
    assert "<Code>NoSuchKey</Code>" in response.text


def test_a_bucket_is_created_idempotently_and_deleted_only_when_empty(
    signed: httpx.Client, client: OssClient
) -> None:
    first = signed.put("/jobs-lifecycle/")
    again = signed.put("/jobs-lifecycle/")
    listed = signed.get("/")
    client.put_object("jobs-lifecycle", "j.json", b"{}")
    not_empty = signed.delete("/jobs-lifecycle/")
    client.delete_object("jobs-lifecycle", "j.json")
    deleted = signed.delete("/jobs-lifecycle/")
    listed_after = signed.get("/")

    assert (first.status_code, again.status_code, deleted.status_code) == (200, 200, 204)
    assert not_empty.status_code == 409 and "<Code>BucketNotEmpty</Code>" in not_empty.text
    assert "<Name>jobs-lifecycle</Name>" in listed.text
    assert "<Name>jobs-lifecycle</Name>" not in listed_after.text


def test_an_invalid_bucket_name_and_a_missing_bucket_are_refused_with_their_codes(
    signed: httpx.Client,
) -> None:
    invalid = signed.put("/Bad_Name/")
    missing = signed.get("/nobucket/key.txt")

    assert invalid.status_code == 400 and "<Code>InvalidBucketName</Code>" in invalid.text
    assert missing.status_code == 404 and "<Code>NoSuchBucket</Code>" in missing.text


def test_delete_multiple_objects_removes_every_listed_key(
    signed: httpx.Client, client: OssClient, bucket: str
) -> None:
    for key in ("x/1", "x/2", "keep"):
        client.put_object(bucket, key, b"x")
    document = (
        b"<Delete><Quiet>false</Quiet><Object><Key>x/1</Key></Object><Object><Key>x/2</Key></Object></Delete>"
    )

    response = signed.post(
        f"/{bucket}/?delete",
        content=document,
        headers={"Content-MD5": base64.b64encode(hashlib.md5(document).digest()).decode()},
    )

    assert response.status_code == 200
    assert "<Deleted><Key>x/1</Key></Deleted><Deleted><Key>x/2</Key></Deleted>" in response.text
    assert [o.key for o in client.list_objects_v2(bucket).objects] == ["keep"]


def test_our_client_deletes_many_keys_in_one_request_missing_ones_included(
    client: OssClient, bucket: str
) -> None:
    keys = ["due/a&b <c>.json", "due/会议 记录.json", "due/plain.json"]
    for key in [*keys, "keep"]:
        client.put_object(bucket, key, b"x")

    client.delete_objects(bucket, [*keys, "due/never-written.json"])

    assert [o.key for o in client.list_objects_v2(bucket).objects] == ["keep"]


def test_our_client_refuses_a_batch_it_cannot_express_naming_the_rule(client: OssClient, bucket: str) -> None:
    with pytest.raises(InvalidRequestError) as control:
        client.delete_objects(bucket, ["due/bell\x07.json"])
    with pytest.raises(InvalidRequestError) as empty:
        client.delete_objects(bucket, [])
    assert "keys" in str(control.value) and "XML" in str(control.value)
    assert "keys" in str(empty.value) and "1 to 1000" in str(empty.value)


def test_the_job_backend_deletes_in_batches_and_a_key_xml_cannot_carry_on_its_own(
    client: OssClient, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend_module, "MAX_DELETE_KEYS", 2)
    batches: list[list[str]] = []
    delete_objects = client.delete_objects

    def counting(bucket_name: str, keys: list[str]) -> None:
        batches.append(list(keys))
        delete_objects(bucket_name, keys)

    monkeypatch.setattr(client, "delete_objects", counting)
    store = OssBackend(client, bucket)
    keys = ["jobs/1", "jobs/2", "jobs/bell\x07", "jobs/3", "jobs/4", "jobs/5"]
    for key in keys:
        store.put(key, b"{}")

    store.delete_many(keys)

    assert list(store.list("jobs/")) == []
    assert batches == [["jobs/1", "jobs/2"], ["jobs/3", "jobs/4"], ["jobs/5"]]


def test_the_job_backend_keeps_each_delete_document_within_its_size_limit(
    client: OssClient, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = [f"jobs/{'&' * 200}-{n}" for n in range(12)]  # 1,000+ bytes each once escaped
    monkeypatch.setattr(backend_module, "MAX_DELETE_BODY", 4000)
    sizes: list[int] = []
    delete_objects = client.delete_objects

    def measuring(bucket_name: str, batch: list[str]) -> None:
        sizes.append(len(delete_document(batch)))
        delete_objects(bucket_name, batch)

    monkeypatch.setattr(client, "delete_objects", measuring)
    store = OssBackend(client, bucket)
    for key in keys:
        store.put(key, b"{}")

    store.delete_many(keys)

    assert list(store.list("jobs/")) == [] and len(sizes) == 4 and max(sizes) <= 4000


def test_a_url_presigned_by_our_client_can_be_fetched_without_credentials(
    client: OssClient, bucket: str
) -> None:
    client.put_object(bucket, "shared/take 2.wav", b"RIFF2")

    fetched = httpx.get(client.presign_get(bucket, "shared/take 2.wav", expires=300))

    assert (fetched.status_code, fetched.content) == (200, b"RIFF2")


def test_response_header_overrides_in_any_script_are_served_as_utf8(
    signed: httpx.Client, client: OssClient, bucket: str
) -> None:
    client.put_object(bucket, "clip.mp3", b"ID3")

    response = signed.get(
        f"/{bucket}/clip.mp3",
        params={"response-content-disposition": 'attachment; filename="voilà €.mp3"'},
        timeout=5,
    )

    assert (response.status_code, response.content) == (200, b"ID3")
    assert response.headers["Content-Disposition"] == 'attachment; filename="voilà €.mp3"'


def test_a_response_header_override_with_a_line_break_is_invalid_argument_naming_it(
    signed: httpx.Client, client: OssClient, bucket: str
) -> None:
    client.put_object(bucket, "clip.mp3", b"ID3")

    response = signed.get(
        f"/{bucket}/clip.mp3", params={"response-content-type": "audio/mpeg\r\nX-Injected: yes"}, timeout=5
    )

    assert response.status_code == 400
    assert "<Code>InvalidArgument</Code>" in response.text
    assert "<ArgumentName>response-content-type</ArgumentName>" in response.text
    assert "X-Injected" not in response.headers

"""OssClient: request shapes, the async-process bytes of signing.md, streaming both ways, keys, listings."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.clients.base import RetryPolicy
from shared.clients.errors import MalformedResponseError, ObjectNotFound, ResponseTooLargeError
from shared.clients.oss import OssClient
from shared.errors import InvalidRequestError, ServiceResponseError, TransportError
from shared.ops.oss import AudioConcatRequest, AudioConvertRequest
from tests.unit.clients.conftest import Recorder, chunks_of, fixed_clock
from tests.unit.clients.oss_fake import FakeOss

ENDPOINT = "https://oss-cn-hangzhou.aliyuncs.com"
PROCESS = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    "|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0"
)
ASYNC_ANSWER = httpx.Response(
    200,
    json={
        "EventId": "181-1kZUlN60OH4fWOcOjZEnGnG****",
        "RequestId": "1D99637F-F59E-5B41-9200-C4892F52****",
        "TaskId": "MediaConvert-e4a737df-69e9-4fca-8d9b-17c40ea3****",
    },
    headers={"x-oss-request-id": "6789ABCDEF0123456789ABCD"},
)
KEYS_THAT_MUST_ROUND_TRIP = [
    "in/a b.mp3",
    "c++/plus+sign.wav",
    "100%/percent%20literal.mp3",
    "中文/音频 文件.mp3",
    "q?uestion#hash&amp=.mp3",
    "tilde~quote'star*(paren).flac",
    "deep/er/still/emoji-🎵.opus",
    "dots/./and/../segments.mp3",
    "../climbing-out.mp3",
]


def oss(transport: httpx.BaseTransport, credentials: Credentials, **options: Any) -> OssClient:
    options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None))
    return OssClient(ENDPOINT, "cn-hangzhou", credentials, transport=transport, clock=fixed_clock, **options)


# The async-processing request, byte for byte ------------------------------------------------------------


def test_async_process_sends_exactly_the_request_the_sdk_captures_show(credentials: Credentials) -> None:
    recorder = Recorder([ASYNC_ANSWER])
    answer = oss(recorder.transport, credentials).async_process("examplebucket", "src.mp3", PROCESS)
    request = recorder.last
    assert request.method == "POST"
    assert (
        str(request.url) == "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?x-oss-async-process="
    )
    assert recorder.bodies == [f"x-oss-async-process={PROCESS}".encode()]
    assert request.headers["Content-Length"] == "141"
    assert "Content-Type" not in request.headers
    assert request.headers["x-oss-date"] == "20250115T083045Z"
    assert request.headers["x-oss-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert request.headers["Authorization"].endswith(
        "Signature=ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"
    )
    assert answer.task_id == "MediaConvert-e4a737df-69e9-4fca-8d9b-17c40ea3****"
    assert answer.request_id == "1D99637F-F59E-5B41-9200-C4892F52****"


def test_async_process_with_sts_credentials_sends_and_signs_the_token(sts_credentials: Credentials) -> None:
    recorder = Recorder([ASYNC_ANSWER])
    oss(recorder.transport, sts_credentials).async_process("examplebucket", "src.mp3", PROCESS)
    assert recorder.last.headers["x-oss-security-token"] == "CAISFixedSecurityToken+/=="
    assert recorder.last.headers["Authorization"].endswith(
        "Signature=b66b16027464211f27808907451549e37ee5032ff818335f7937275ebfc36e19"
    )


def test_submit_convert_posts_the_built_process_string_to_the_source_object(credentials: Credentials) -> None:
    recorder = Recorder([ASYNC_ANSWER])
    request = AudioConvertRequest.build(
        params={"ss": 10000, "t": 60000, "f": "aac", "ab": 96000},
        saveas={"bucket": "examplebucket", "object": "dest.aac"},
        notify={"topic": "AudioConvert"},
    )
    oss(recorder.transport, credentials).submit_convert("examplebucket", "src.mp3", request)
    assert recorder.last.url.path == "/src.mp3"
    assert recorder.bodies == [f"x-oss-async-process={PROCESS}".encode()]


def test_submit_concat_posts_to_the_clip_the_request_chooses_as_source(credentials: Credentials) -> None:
    recorder = Recorder([ASYNC_ANSWER])
    request = AudioConcatRequest.build(
        clips=[{"object": "intro.mp3", "t": 5000}, {"object": "talk.mp3"}],
        params={"f": "mp3", "ar": 44100, "ac": 1},
        saveas={"bucket": "outbucket", "object": "talk.{autoext}"},
    )
    oss(recorder.transport, credentials).submit_concat("media", request)
    assert (
        str(recorder.last.url) == "https://media.oss-cn-hangzhou.aliyuncs.com/talk.mp3?x-oss-async-process="
    )
    assert recorder.bodies == [b"x-oss-async-process=" + request.to_wire().process.encode()]


def test_async_process_is_not_replayed_after_a_read_timeout(credentials: Credentials) -> None:
    recorder = Recorder([httpx.ReadTimeout("timed out"), ASYNC_ANSWER])
    with pytest.raises(TransportError):
        oss(recorder.transport, credentials).async_process("examplebucket", "src.mp3", PROCESS)
    assert len(recorder.requests) == 1


def test_an_async_process_answer_without_a_task_id_is_a_malformed_response(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200, json={"RequestId": "r"})])
    with pytest.raises(MalformedResponseError) as caught:
        oss(recorder.transport, credentials).async_process("examplebucket", "src.mp3", PROCESS)
    assert "TaskId" in str(caught.value)


@pytest.mark.parametrize(
    "process", ["", "audio/convert,f_mp3\n|sys/saveas", "audio/convert,f_mp3|sys/saveas,o_é"]
)
def test_a_bad_process_string_is_refused_before_sending(credentials: Credentials, process: str) -> None:
    recorder = Recorder([ASYNC_ANSWER])
    with pytest.raises(InvalidRequestError) as caught:
        oss(recorder.transport, credentials).async_process("examplebucket", "src.mp3", process)
    assert caught.value.field == "process"
    assert recorder.requests == []


# Presigned URLs ----------------------------------------------------------------------------------------


def test_presign_get_matches_the_sdk_vector(credentials: Credentials) -> None:
    url = oss(Recorder().transport, credentials).presign_get("examplebucket", "src.mp3", 3600)
    assert url.startswith("https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?")
    assert url.endswith("x-oss-signature=39842766a02f8cbc1a7156d6e1c233e200cffd8808593dbba8615f22d6fac8e0")


def test_presign_get_with_sts_credentials_matches_the_sdk_vector(sts_credentials: Credentials) -> None:
    url = oss(Recorder().transport, sts_credentials).presign_get(
        "examplebucket", "src.mp3", timedelta(hours=1)
    )
    assert "x-oss-security-token=CAISFixedSecurityToken%2B%2F%3D%3D" in url
    assert url.endswith("x-oss-signature=784c6399f28d1ea4d480e7daf58526a89ca4334e49ef5db537640ee0dbc8c522")


@pytest.mark.parametrize("expires", [0, 604801, 1.5, True])
def test_presign_get_refuses_an_expiry_outside_one_second_to_seven_days(
    credentials: Credentials, expires: Any
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        oss(Recorder().transport, credentials).presign_get("examplebucket", "src.mp3", expires)
    assert (caught.value.field, caught.value.rule) == ("expires", "range")


# Writing -----------------------------------------------------------------------------------------------


def test_put_object_with_bytes_sends_md5_type_and_metadata(credentials: Credentials) -> None:
    recorder = Recorder(
        [
            httpx.Response(
                200, headers={"ETag": '"5B3C1A2E053D763E1B002CC607C5A0FE"', "x-oss-request-id": "RID"}
            )
        ]
    )
    data = b"RIFF....WAVEfmt "
    result = oss(recorder.transport, credentials).put_object(
        "examplebucket", "in/a.wav", data, metadata={"lang": "en", "Job-Id": "j-1"}
    )
    request = recorder.last
    assert request.method == "PUT"
    assert str(request.url) == "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/in/a.wav"
    assert recorder.bodies == [data]
    assert request.headers["Content-MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert request.headers["Content-Type"] == "audio/wav"
    assert request.headers["x-oss-meta-lang"] == "en"
    assert request.headers["x-oss-meta-job-id"] == "j-1"
    assert "x-oss-forbid-overwrite" not in request.headers
    assert request.headers["Authorization"].startswith("OSS4-HMAC-SHA256 Credential=LTAI5tFixedAccessKeyId/")
    assert (result.etag, result.request_id) == ("5B3C1A2E053D763E1B002CC607C5A0FE", "RID")


def test_put_object_streams_an_iterator_without_buffering_it(credentials: Credentials) -> None:
    produced: list[int] = []

    def audio() -> Iterator[bytes]:
        for index in range(5):
            produced.append(index)
            yield bytes([index]) * 65536

    received: list[int] = []
    produced_when_first_chunk_arrived: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        for chunk in request.stream:  # type: ignore[union-attr]
            if not received:
                produced_when_first_chunk_arrived.append(len(produced))
            received.append(len(chunk))
        return httpx.Response(200, headers={"ETag": '"E"'})

    oss(Recorder([server]).transport, credentials).put_object("examplebucket", "in/long.wav", audio())
    assert received == [65536] * 5
    assert produced_when_first_chunk_arrived == [1]


def test_put_object_streams_a_file_with_its_length_and_without_chunked_encoding(
    credentials: Credentials, tmp_path: Path
) -> None:
    source = tmp_path / "take.wav"
    source.write_bytes(bytes(range(256)) * 1200)  # 307200 bytes
    received: list[int] = []

    def server(request: httpx.Request) -> httpx.Response:
        assert request.headers["Content-Length"] == "307200"
        assert "Transfer-Encoding" not in request.headers
        received.extend(len(chunk) for chunk in request.stream)  # type: ignore[union-attr]
        return httpx.Response(200, headers={"ETag": '"E"'})

    with source.open("rb") as file:
        oss(Recorder([server]).transport, credentials).put_object("examplebucket", "in/take.wav", file)
    assert sum(received) == 307200
    assert len(received) > 1


def test_put_object_if_absent_reports_whether_it_created_the_object(credentials: Credentials) -> None:
    taken = httpx.Response(
        409, content=b"<Error><Code>FileAlreadyExists</Code><Message>exists</Message></Error>"
    )
    recorder = Recorder([httpx.Response(200, headers={"ETag": '"E"'}), taken])
    client = oss(recorder.transport, credentials)
    assert client.put_object_if_absent("jobs", "claims/abc.json", b"{}") is True
    assert client.put_object_if_absent("jobs", "claims/abc.json", b"{}") is False
    assert [request.headers["x-oss-forbid-overwrite"] for request in recorder.requests] == ["true", "true"]
    assert recorder.last.headers["Content-Type"] == "application/json"


def test_put_object_if_absent_is_not_replayed_after_an_unclear_failure(credentials: Credentials) -> None:
    # A replay would find the first attempt's own object and wrongly report "already taken".
    recorder = Recorder([httpx.ReadTimeout("timed out"), httpx.Response(200)])
    with pytest.raises(TransportError):
        oss(recorder.transport, credentials).put_object_if_absent("jobs", "claims/abc.json", b"{}")
    assert len(recorder.requests) == 1


def test_delete_object_sends_a_delete_for_the_key(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(204)])
    oss(recorder.transport, credentials).delete_object("examplebucket", "work/a b.aac")
    assert (recorder.last.method, recorder.last.url.raw_path) == ("DELETE", b"/work/a%20b.aac")


# Reading -----------------------------------------------------------------------------------------------


def test_head_object_reads_size_etag_type_time_and_metadata(credentials: Credentials) -> None:
    headers = {
        "Content-Length": "344606",
        "ETag": '"5B3C1A2E053D763E1B002CC607C5A0FE"',
        "Content-Type": "audio/mpeg",
        "Last-Modified": "Wed, 15 Jan 2025 08:30:45 GMT",
        "x-oss-meta-lang": "en",
        "x-oss-request-id": "RID-HEAD",
    }
    recorder = Recorder([httpx.Response(200, headers=headers)])
    info = oss(recorder.transport, credentials).head_object("examplebucket", "in/a.mp3")
    assert recorder.last.method == "HEAD"
    assert info.size == 344606
    assert info.etag == "5B3C1A2E053D763E1B002CC607C5A0FE"
    assert info.content_type == "audio/mpeg"
    assert info.last_modified == datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
    assert dict(info.metadata) == {"lang": "en"}
    assert info.request_id == "RID-HEAD"


def test_head_object_of_a_missing_key_raises_object_not_found(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(404, headers={"x-oss-request-id": "RID-404"})])
    with pytest.raises(ObjectNotFound) as caught:
        oss(recorder.transport, credentials).head_object("examplebucket", "in/missing.mp3")
    assert (caught.value.code, caught.value.request_id) == ("NoSuchKey", "RID-404")
    assert len(recorder.requests) == 1


def test_get_object_streams_the_body_as_it_arrives(credentials: Credentials) -> None:
    produced: list[int] = []

    def body() -> Iterator[bytes]:
        for index in range(10):
            produced.append(index)
            yield bytes([index]) * 100_000

    recorder = Recorder(
        [lambda request: httpx.Response(200, content=body(), headers={"Content-Length": "1000000"})]
    )
    seen_when_first_chunk_arrived = None
    total = 0
    with oss(recorder.transport, credentials).get_object("examplebucket", "in/a.wav") as download:
        assert download.info.size == 1_000_000
        for chunk in download.iter_bytes(chunk_size=100_000):
            if seen_when_first_chunk_arrived is None:
                seen_when_first_chunk_arrived = len(produced)
            total += len(chunk)
    assert seen_when_first_chunk_arrived == 1
    assert total == 1_000_000


def test_get_object_of_a_missing_key_raises_object_not_found(credentials: Credentials) -> None:
    missing = httpx.Response(
        404, content=b"<Error><Code>NoSuchKey</Code><RequestId>RID-GET</RequestId></Error>"
    )
    with (
        pytest.raises(ObjectNotFound) as caught,
        oss(Recorder([missing]).transport, credentials).get_object("examplebucket", "in/missing.wav"),
    ):
        pass
    assert caught.value.request_id == "RID-GET"


def test_get_object_with_a_byte_range_asks_for_it_and_reports_the_full_size(credentials: Credentials) -> None:
    answer = httpx.Response(206, content=b"x" * 100, headers={"Content-Range": "bytes 0-99/5000"})
    recorder = Recorder([answer])
    with oss(recorder.transport, credentials).get_object(
        "examplebucket", "in/a.wav", byte_range=(0, 99)
    ) as download:
        assert b"".join(download.iter_bytes()) == b"x" * 100
        assert (download.status, download.info.size) == (206, 5000)
    assert recorder.last.headers["Range"] == "bytes=0-99"


def test_download_to_a_path_writes_the_file_and_leaves_no_temporary_behind(
    credentials: Credentials, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 4000
    recorder = Recorder([lambda request: httpx.Response(200, content=chunks_of(data, 10_000))])
    target = tmp_path / "a.wav"
    oss(recorder.transport, credentials).download_to("examplebucket", "in/a.wav", target)
    assert target.read_bytes() == data
    assert [path.name for path in tmp_path.iterdir()] == ["a.wav"]


def test_a_truncated_download_is_a_transport_error_and_leaves_no_file(
    credentials: Credentials, tmp_path: Path
) -> None:
    def short(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"x" * 500]), headers={"Content-Length": "1000"})

    target = tmp_path / "a.wav"
    with pytest.raises(TransportError) as caught:
        oss(Recorder([short]).transport, credentials).download_to("examplebucket", "in/a.wav", target)
    assert caught.value.code == "IncompleteBody"
    assert list(tmp_path.iterdir()) == []


def test_download_to_a_file_object_streams_into_it(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200, content=b"abc" * 1000)])
    sink = io.BytesIO()
    info = oss(recorder.transport, credentials).download_to("examplebucket", "in/a.wav", sink)
    assert sink.getvalue() == b"abc" * 1000
    assert info.size == 3000


def test_get_object_bytes_refuses_a_document_over_its_size_cap(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200, content=b"{" * 2000)])
    client = oss(recorder.transport, credentials)
    with pytest.raises(ResponseTooLargeError):
        client.get_object_bytes("jobs", "records/j-1.json", max_bytes=1000)
    assert client.get_object_bytes("jobs", "records/j-1.json", max_bytes=2000) == b"{" * 2000


# Keys, URL styles and signatures -----------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS_THAT_MUST_ROUND_TRIP)
def test_unusual_keys_round_trip_through_put_get_and_list(credentials: Credentials, key: str) -> None:
    server = FakeOss(credentials)
    client = oss(httpx.MockTransport(server), credentials)
    client.put_object("examplebucket", key, b"payload")
    assert server.objects == {("examplebucket", key): b"payload"}
    assert client.get_object_bytes("examplebucket", key) == b"payload"
    listed = client.list_objects_v2("examplebucket", key.split("/", maxsplit=1)[0])
    assert [entry.key for entry in listed.objects] == [key]


def test_keys_are_percent_encoded_with_slashes_kept(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200)])
    oss(recorder.transport, credentials).put_object("examplebucket", "a dir/b+c%d?e#f/中.mp3", b"x")
    assert recorder.last.url.raw_path == b"/a%20dir/b%2Bc%25d%3Fe%23f/%E4%B8%AD.mp3"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000"])
def test_ip_and_single_label_endpoints_use_path_style_urls(credentials: Credentials, endpoint: str) -> None:
    recorder = Recorder([httpx.Response(200)])
    client = OssClient(endpoint, "cn-hangzhou", credentials, transport=recorder.transport, clock=fixed_clock)
    client.put_object("examplebucket", "in/a b.mp3", b"x")
    assert client.path_style is True
    assert recorder.last.url.raw_path == b"/examplebucket/in/a%20b.mp3"
    assert client.presign_get("examplebucket", "in/a b.mp3", 60).startswith(
        f"{endpoint}/examplebucket/in/a%20b.mp3?"
    )


def test_dot_segments_of_a_key_are_sent_as_written_not_resolved_away(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200)])
    oss(recorder.transport, credentials).put_object("examplebucket", "in/./a/../b.mp3", b"x")
    assert recorder.last.url.raw_path == b"/in/%2E/a/%2E%2E/b.mp3"


def test_a_dot_dot_key_cannot_climb_into_another_bucket_on_a_path_style_endpoint(
    credentials: Credentials,
) -> None:
    recorder = Recorder([httpx.Response(200)])
    client = OssClient(
        "http://127.0.0.1:9000", "cn-hangzhou", credentials, transport=recorder.transport, clock=fixed_clock
    )
    client.delete_object("examplebucket", "../otherbucket/a.mp3")
    assert recorder.last.url.raw_path == b"/examplebucket/%2E%2E/otherbucket/a.mp3"
    presigned = client.presign_get("examplebucket", "../otherbucket/a.mp3", 60)
    assert httpx.URL(presigned).raw_path.startswith(b"/examplebucket/%2E%2E/otherbucket/a.mp3?")


def test_path_style_can_be_forced_on_a_dns_endpoint(credentials: Credentials) -> None:
    recorder = Recorder([httpx.Response(200)])
    oss(recorder.transport, credentials, path_style=True).put_object("examplebucket", "a.mp3", b"x")
    assert str(recorder.last.url) == "https://oss-cn-hangzhou.aliyuncs.com/examplebucket/a.mp3"


# Listing -----------------------------------------------------------------------------------------------


def listing_page(
    keys: list[str], *, token: str | None = None, prefixes: tuple[str, ...] = ()
) -> httpx.Response:
    contents = "".join(
        f"<Contents><Key>{key}</Key><LastModified>2025-01-15T08:30:45.000Z</LastModified>"
        f'<ETag>"ABC"</ETag><Size>10</Size><StorageClass>Standard</StorageClass></Contents>'
        for key in keys
    )
    folded = "".join(f"<CommonPrefixes><Prefix>{prefix}</Prefix></CommonPrefixes>" for prefix in prefixes)
    tail = (
        f"<IsTruncated>true</IsTruncated><NextContinuationToken>{token}</NextContinuationToken>"
        if token
        else ("<IsTruncated>false</IsTruncated>")
    )
    head = "<ListBucketResult><Name>b</Name><EncodingType>url</EncodingType>"
    document = f"{head}{tail}{contents}{folded}</ListBucketResult>"
    return httpx.Response(200, content=document.encode())


def test_list_objects_v2_sends_v2_parameters_and_decodes_url_encoded_names(credentials: Credentials) -> None:
    recorder = Recorder([listing_page(["in%2Fa%20b.mp3"], token="tok%2B1", prefixes=("in%2Fsub%2F",))])
    page = oss(recorder.transport, credentials).list_objects_v2(
        "examplebucket", "in/", delimiter="/", max_keys=100, continuation_token="tok+0", start_after="in/0"
    )
    assert recorder.last.url.raw_path == (
        b"/?list-type=2&encoding-type=url&max-keys=100&prefix=in%2F&delimiter=%2F"
        b"&continuation-token=tok%2B0&start-after=in%2F0"
    )
    assert [(o.key, o.size, o.etag, o.storage_class) for o in page.objects] == [
        ("in/a b.mp3", 10, "ABC", "Standard")
    ]
    assert page.objects[0].last_modified == datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
    assert page.common_prefixes == ("in/sub/",)
    assert (page.is_truncated, page.next_token) == (True, "tok+1")


def test_iter_objects_follows_continuation_tokens_across_pages(credentials: Credentials) -> None:
    recorder = Recorder([listing_page(["a", "b"], token="next-page"), listing_page(["c"])])
    keys = [
        entry.key
        for entry in oss(recorder.transport, credentials).iter_objects("examplebucket", "", page_size=2)
    ]
    assert keys == ["a", "b", "c"]
    assert "continuation-token" not in recorder.requests[0].url.params
    assert recorder.requests[1].url.params["continuation-token"] == "next-page"


def test_an_unreadable_listing_is_a_malformed_response(credentials: Credentials) -> None:
    recorder = Recorder(
        [httpx.Response(200, content=b"<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>")]
    )
    with pytest.raises(MalformedResponseError):
        oss(recorder.transport, credentials).list_objects_v2("examplebucket")


# Bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "rule"),
    [
        (lambda c: c.put_object("Bad_Bucket", "a.mp3", b"x"), "bucket", "bucket_name"),
        (lambda c: c.put_object("examplebucket", "/abs.mp3", b"x"), "key", "object_key"),
        (lambda c: c.put_object("examplebucket", "", b"x"), "key", "required"),
        (lambda c: c.put_object("examplebucket", "k" * 1024, b"x"), "key", "max_bytes"),
        (lambda c: c.put_object("examplebucket", "a.mp3", "text"), "data", "bytes"),
        (
            lambda c: c.put_object("examplebucket", "a.mp3", b"x", metadata={"lang": "français"}),
            "metadata.lang",
            "metadata_value",
        ),
        (
            lambda c: c.put_object("examplebucket", "a.mp3", b"x", metadata={"a b": "v"}),
            "metadata.a b",
            "metadata_name",
        ),
        (
            lambda c: c.put_object("examplebucket", "a.mp3", b"x", content_md5="nope"),
            "content_md5",
            "base64_md5",
        ),
        (lambda c: c.list_objects_v2("examplebucket", max_keys=0), "max_keys", "range"),
        (
            lambda c: c.get_object("examplebucket", "a.mp3", byte_range=(5, 2)).__enter__(),
            "byte_range",
            "last",
        ),
        (lambda c: c.get_object_bytes("examplebucket", "a.mp3", max_bytes=0), "max_bytes", "positive"),
        (lambda c: c.download_to("examplebucket", "a.mp3", 42), "destination", "path_or_file"),
        (
            lambda c: c.download_to("examplebucket", "a.mp3", "/no/such/folder/a.mp3"),
            "destination",
            "directory_exists",
        ),
    ],
)
def test_bad_input_is_refused_with_field_and_rule_before_anything_is_sent(
    credentials: Credentials, call: Any, field: str, rule: str
) -> None:
    recorder = Recorder([httpx.Response(200)])
    with pytest.raises(InvalidRequestError) as caught:
        call(oss(recorder.transport, credentials))
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert recorder.requests == []


def test_an_endpoint_with_a_path_is_refused(credentials: Credentials) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OssClient("https://oss-cn-hangzhou.aliyuncs.com/prefix", "cn-hangzhou", credentials)
    assert (caught.value.field, caught.value.rule) == ("endpoint", "endpoint_only")


def test_an_object_stored_gzip_encoded_is_downloaded_as_stored_not_unpacked(
    credentials: Credentials, tmp_path: Path
) -> None:
    import gzip

    stored = gzip.compress(b"transcript text " * 200)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        headers = {"Content-Encoding": "gzip", "Content-Length": str(len(stored)), "ETag": '"E"'}
        return httpx.Response(200, stream=httpx.ByteStream(stored), headers=headers)

    target = tmp_path / "t.json.gz"
    oss(httpx.MockTransport(answer), credentials).download_to("examplebucket", "out/t.json.gz", target)
    assert target.read_bytes() == stored
    assert seen[0].headers["accept-encoding"] == "identity"


# DeleteMultipleObjects ------------------------------------------------------------------------------------


def test_delete_objects_posts_a_quiet_document_with_its_md5_and_raises_the_keys_oss_kept(
    credentials: Credentials,
) -> None:
    sent: list[httpx.Request] = []
    kept = "<DeleteResult><Deleted><Key>due/held.json</Key></Deleted></DeleteResult>"

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, text="" if len(sent) == 1 else kept)

    with oss(httpx.MockTransport(answer), credentials) as client:
        client.delete_objects("media", ["due/a&b.json", "due/会议.json"])
        with pytest.raises(ServiceResponseError) as incomplete:
            client.delete_objects("media", ["due/held.json"])
    first = sent[0]
    assert (first.method, first.url.query) == ("POST", b"delete")
    assert first.headers["Content-MD5"] == base64.b64encode(hashlib.md5(first.content).digest()).decode()
    assert b"<Quiet>true</Quiet><Object><Key>due/a&amp;b.json</Key></Object>" in first.content
    assert "<Key>due/会议.json</Key>".encode() in first.content
    assert incomplete.value.code == "DeleteIncomplete" and "due/held.json" in str(incomplete.value)

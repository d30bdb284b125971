from __future__ import annotations

import threading
from urllib.parse import unquote

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.clients.base import RetryPolicy
from shared.clients.oss import OssClient
from shared.jobs.backend import InMemoryBackend, ObjectBackend, OssBackend


class FakeOssServer:
    """Path-style OSS (`/<bucket>/<key>`) with create-if-absent, listings (paged) and deletes."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        _, _bucket, key = request.url.raw_path.decode().split("?")[0].split("/", 2)
        key = unquote(key)
        if request.method == "PUT":
            if request.headers.get("x-oss-forbid-overwrite") == "true" and key in self.objects:
                body = b"<Error><Code>FileAlreadyExists</Code><Message>exists</Message></Error>"
                return httpx.Response(409, content=body)
            self.objects[key] = request.read()
            return httpx.Response(200, headers={"ETag": '"E"'})
        if request.method == "DELETE":
            self.objects.pop(key, None)
            return httpx.Response(204)
        if request.method == "GET" and not key:
            return self._listing(request.url.params)
        if key not in self.objects:
            return httpx.Response(404, content=b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>")
        return httpx.Response(200, content=self.objects[key])

    def _listing(self, params: httpx.QueryParams) -> httpx.Response:
        prefix = params.get("prefix", "")
        after = params.get("continuation-token") or params.get("start-after") or ""
        page_size = int(params.get("max-keys", "1000"))
        keys = sorted(k for k in self.objects if k.startswith(prefix) and k > after)
        page, rest = keys[:page_size], keys[page_size:]
        entries = "".join(f'<Contents><Key>{k}</Key><Size>1</Size><ETag>"E"</ETag></Contents>' for k in page)
        token = f"<NextContinuationToken>{page[-1]}</NextContinuationToken>" if rest else ""
        document = (
            f"<ListBucketResult><IsTruncated>{'true' if rest else 'false'}</IsTruncated>{token}"
            f"{entries}</ListBucketResult>"
        )
        return httpx.Response(200, content=document.encode())


@pytest.fixture
def server() -> FakeOssServer:
    return FakeOssServer()


def oss_backend(server: FakeOssServer) -> OssBackend:
    client = OssClient(
        "http://127.0.0.1:9000",
        "cn-hangzhou",
        Credentials("AK", "SK"),
        transport=httpx.MockTransport(server),
        retry=RetryPolicy(max_attempts=1),
    )
    return OssBackend(client, "audiochain")


@pytest.fixture(params=["memory", "oss"])
def backend(request: pytest.FixtureRequest, server: FakeOssServer) -> ObjectBackend:
    return InMemoryBackend() if request.param == "memory" else oss_backend(server)


def test_both_backends_satisfy_the_protocol(backend: ObjectBackend) -> None:
    assert isinstance(backend, ObjectBackend)


def test_create_if_absent_lets_only_the_first_writer_in(backend: ObjectBackend) -> None:
    assert backend.put_if_absent("jobs/a.json", b"first") is True
    assert backend.put_if_absent("jobs/a.json", b"second") is False
    assert backend.get("jobs/a.json") == b"first"


def test_put_replaces_and_get_answers_none_for_a_missing_key(backend: ObjectBackend) -> None:
    backend.put("jobs/state.json", b"1")
    backend.put("jobs/state.json", b"2")
    assert backend.get("jobs/state.json") == b"2"
    assert backend.get("jobs/missing.json") is None


def test_listing_is_ascending_within_the_prefix_and_honours_start_after(backend: ObjectBackend) -> None:
    for key in ("jobs/b", "jobs/a/1", "jobs/c", "jobsx/outside", "other/x", "jobs/a/2"):
        backend.put(key, b"")
    assert list(backend.list("jobs/")) == ["jobs/a/1", "jobs/a/2", "jobs/b", "jobs/c"]
    assert list(backend.list("jobs/", start_after="jobs/a/~")) == ["jobs/b", "jobs/c"]
    assert list(backend.list("jobs/", start_after="jobs/c")) == []


def test_deleting_works_and_deleting_a_missing_key_is_fine(backend: ObjectBackend) -> None:
    backend.put("jobs/x", b"1")
    backend.delete("jobs/x")
    backend.delete("jobs/x")
    assert backend.get("jobs/x") is None
    assert list(backend.list("jobs/")) == []


def test_the_oss_backend_follows_listing_pages(server: FakeOssServer) -> None:
    backend = oss_backend(server)
    for index in range(5):
        server.objects[f"jobs/{index}"] = b""
    pages = backend.client.iter_list_pages("audiochain", "jobs/", page_size=2)
    assert [len(page.objects) for page in pages] == [2, 2, 1]
    assert list(backend.list("jobs/")) == [f"jobs/{index}" for index in range(5)]


def test_the_oss_backend_asks_oss_not_to_overwrite(server: FakeOssServer) -> None:
    oss_backend(server).put_if_absent("jobs/claim.json", b"{}")
    assert server.requests[-1].headers["x-oss-forbid-overwrite"] == "true"


def test_racing_threads_on_the_memory_backend_produce_exactly_one_winner() -> None:
    backend = InMemoryBackend()
    barrier = threading.Barrier(16)
    wins: list[bool] = []

    def contend(index: int) -> None:
        barrier.wait()
        wins.append(backend.put_if_absent("jobs/race", str(index).encode()))

    threads = [threading.Thread(target=contend, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1

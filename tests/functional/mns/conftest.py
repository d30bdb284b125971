"""Fixtures for localcloud MNS tests: MNS alone on a loopback port, clients for it, and an HTTP endpoint
that records what MNS pushes to it (and can be told to fail or to hang)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.server import LocalCloud
from localcloud.services.mns.service import MnsService
from shared.auth import Credentials, MnsAuth
from shared.clients.mns import MnsClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config


def start_mns(data_dir: Path, **overrides: object) -> LocalCloud:
    return LocalCloud(make_config(data_dir, **overrides), services=("mns",)).start()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One MNS per test module (starting and stopping costs more than the tests); tests keep apart by
    naming their queues and topics with `unique`."""
    running = start_mns(tmp_path_factory.mktemp("mns") / "localcloud")
    try:
        yield running
    finally:
        running.stop()


_names = itertools.count(1)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """`unique("jobs")` -> "jobs-17": a name no other test in the module uses."""
    serial = next(_names)
    return lambda base: f"{base}-{serial}"


@pytest.fixture
def mns(cloud: LocalCloud) -> MnsService:
    service: MnsService = cloud.mns()
    return service


@pytest.fixture
def account(cloud: LocalCloud) -> Any:
    from mns.account import Account

    return Account(cloud.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)


@pytest.fixture
def signed_http(cloud: LocalCloud) -> Iterator[httpx.Client]:
    """A raw httpx client that signs like audiochain's MnsClient, for requests the SDKs will not send."""
    with httpx.Client(
        base_url=cloud.endpoint, auth=MnsAuth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)), trust_env=False
    ) as client:
        yield client


@pytest.fixture
def own_client(cloud: LocalCloud) -> Iterator[MnsClient]:
    with httpx.Client(trust_env=False) as http:
        yield MnsClient(cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), http=http)


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.01)
    return True


@dataclass
class Push:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpSink:
    """A loopback HTTP endpoint. `statuses[path]` lists the answers to give in turn (then 204);
    a path in `hanging` blocks until `release()`."""

    url: str
    pushes: list[Push] = field(default_factory=list)
    statuses: dict[str, list[int]] = field(default_factory=dict)
    hanging: set[str] = field(default_factory=set)
    gate: threading.Event = field(default_factory=threading.Event)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, push: Push) -> int:
        with self.changed:
            self.pushes.append(push)
            self.changed.notify_all()
            answers = self.statuses.get(push.path, [])
            return answers.pop(0) if answers else 204

    def to(self, path: str) -> list[Push]:
        with self.changed:
            return [push for push in self.pushes if push.path == path]

    def wait_for(self, path: str, count: int, timeout: float = 10.0) -> list[Push]:
        deadline = time.monotonic() + timeout
        with self.changed:
            while len([p for p in self.pushes if p.path == path]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.changed.wait(remaining)
            return [push for push in self.pushes if push.path == path]

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    holder: dict[str, HttpSink] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            target = holder["sink"]
            if self.path in target.hanging:
                target.gate.wait(10)
            status = target.record(Push(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["sink"] = HttpSink(url=f"http://127.0.0.1:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield holder["sink"]
    finally:
        holder["sink"].release()
        server.shutdown()
        server.server_close()

"""Webhooks end to end: a real receiver on loopback that fails its first two deliveries, jobs from an upload
rule's `callback_url` and from an API submission's, the local runtime's timer making the retries. Each
terminal state is delivered once, verified with the deployment's secret, under one delivery id."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.auth.webhook import DELIVERY_HEADER, verify_signature
from shared.jobs.model import JobState
from tests.e2e.conftest import BUCKET, WEATHER, Chain, running_chain, wait_until

Speech = Callable[[tuple[str, ...]], bytes]


@dataclass
class Receiver:
    """Answers 500 to the first `failures` POSTs, then 200; keeps every request it got."""

    failures: int
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(({k: v for k, v in self.headers.items()}, body))
                    status = 500 if len(receiver.requests) <= receiver.failures else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(failures=2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hooks/audiochain"
    finally:
        server.shutdown()
        server.server_close()


def deliveries_until(chain: Chain, receiver: Receiver, count: int) -> None:
    """Fire the timer (whose sweep makes the retries) until the receiver got `count` POSTs."""

    def arrived() -> bool:
        chain.runtime.fire_timer("fetch_results")
        chain.settle()
        return len(receiver.requests) >= count

    wait_until(arrived, f"{count} webhook deliveries", seconds=90)


def assert_one_verified_delivery(chain: Chain, receiver: Receiver, job_id: str) -> None:
    secret = chain.runtime.local_parameters["WebhookSecret"]
    assert len(receiver.requests) == 3
    ids = {headers[DELIVERY_HEADER] for headers, _ in receiver.requests}
    assert len(ids) == 1  # one delivery, three attempts
    assert [headers["Audiochain-Attempt"] for headers, _ in receiver.requests] == ["1", "2", "3"]
    for headers, body in receiver.requests:
        assert verify_signature(secret, body, headers, now=time.time())
        assert not verify_signature("not-the-secret-" * 3, body, headers, now=time.time())
        document = json.loads(body)
        assert (document["job_id"], document["state"], document["delivery_id"]) == (job_id, "succeeded", *ids)
    # Later sweeps send nothing more: the delivery landed.
    for _ in range(3):
        chain.runtime.fire_timer("fetch_results")
        chain.settle()
    assert len(receiver.requests) == 3
    attempts = chain.http.get(f"v1/jobs/{job_id}").json()["webhook_attempts"]
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "delivered"),
    ]


def test_an_upload_rules_webhook_is_delivered_once_verified_after_two_failures(
    tmp_path: Path, speech: Speech, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    rules = [{"prefix": "hooks/", "callback_url": url}]
    parameters = {"UploadRules": json.dumps(rules), "WebhookRetrySeconds": "1"}
    with running_chain(tmp_path / "localcloud", parameters=parameters) as chain:
        key = "inbox/hooks/meeting.wav"
        job_id = chain.job_of(key, chain.upload(key, speech(WEATHER)))
        view = chain.drive([job_id])[job_id]
        assert view.state is JobState.SUCCEEDED, view.error
        assert view.input["callback_url"] == url  # what the rule set is recorded on the job
        deliveries_until(chain, state, 3)
        assert_one_verified_delivery(chain, state, job_id)


def test_an_api_jobs_callback_url_is_delivered_once_verified_after_two_failures(
    tmp_path: Path, speech: Speech, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    with running_chain(tmp_path / "localcloud", parameters={"WebhookRetrySeconds": "1"}) as chain:
        chain.oss.put_object(BUCKET, "media/weather.wav", speech(WEATHER))
        body = {"source": "media/weather.wav", "params": {"f": "mp3"}, "callback_url": url}
        created = chain.http.post("v1/jobs/convert", json=body)
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        view = chain.drive([job_id])[job_id]
        assert view.state is JobState.SUCCEEDED, view.error
        deliveries_until(chain, state, 3)
        assert_one_verified_delivery(chain, state, job_id)

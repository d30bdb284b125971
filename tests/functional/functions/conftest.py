"""The four functions against localcloud, called directly (no FC runtime) with FC-shaped events and a
context carrying localcloud's credentials; every AUDIOCHAIN_*_ENDPOINT points at localcloud.

One localcloud serves the module; each test gets a bucket and two MNS topics of its own, so counts of
tasks and messages are the test's own. The pipeline topic is subscribed the way the on_notify trigger is
(JSON format), but the events are collected for the test to deliver, duplicate, reorder or drop.
"""

from __future__ import annotations

import array
import functools
import io
import itertools
import json
import sys
import time
import uuid
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.engines.tts import SpeechSynthesizer
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.oss import OssClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, API_KEY, make_config

REGION = "cn-hangzhou"
TOKEN = "functional-token-0123456789abcdefghijklmnop"
VOICE = "espeak:en-us+klatt4"  # the eSpeak voice PocketSphinx recognises best
SAMPLE_RATE = 16000
EVENTS = Path(__file__).resolve().parents[2] / "events"
MAX_WER = 0.5  # far below what broken plumbing gives (about 1.0); see tests/functional/dashscope
DROVE = "He drove his car to the city yesterday."
REPORT = "I will send you the report tomorrow."
FINAL = ("succeeded", "failed")

_numbers = itertools.count(1)


@functools.lru_cache(maxsize=8)
def spoken_wav(text: str) -> bytes:
    """`text` spoken by eSpeak NG as 16 kHz mono WAV, with a little silence around it."""
    synthesis = SpeechSynthesizer().synthesize(text, voice=VOICE, speech_rate=-100, sample_rate=SAMPLE_RATE)
    samples = array.array("h", bytes(2 * SAMPLE_RATE * 3 // 10))
    speech = array.array("h")
    speech.frombytes(synthesis.samples)
    if sys.byteorder == "big":
        speech.byteswap()
    samples += speech + array.array("h", bytes(2 * SAMPLE_RATE * 3 // 10))
    if sys.byteorder == "big":
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with LocalCloud(make_config(tmp_path_factory.mktemp("functions-cloud"))) as running:
        yield running


def _import_handler(function: str) -> Callable[..., Any]:
    module = __import__(f"functions.{function}.index", fromlist=["handler"])
    handler: Callable[..., Any] = module.handler
    return handler


@dataclass
class Chain:
    """One test's slice of localcloud and the four handlers, called as FC would call them."""

    cloud: LocalCloud
    bucket: str
    pipeline_topic: str
    output_topic: str
    oss: OssClient
    pipeline_events: list[bytes] = field(default_factory=list)
    completions: list[bytes] = field(default_factory=list)

    # FC's side ----------------------------------------------------------------------------------------

    def context(self, function: str) -> dict[str, Any]:
        return {
            "request_id": str(uuid.uuid4()),
            "credentials": {
                "access_key_id": ACCESS_KEY_ID,
                "access_key_secret": ACCESS_KEY_SECRET,
                "security_token": "local-sts-token",
            },
            "function": {"name": function, "handler": "index.handler", "memory": 512, "timeout": 60},
            "service": {"name": "audiochain", "qualifier": "LATEST"},
            "region": REGION,
            "account_id": self.cloud.config.account_id,
            "retry_count": 0,
        }

    def on_upload(self, event: bytes) -> dict[str, Any]:
        return _import_handler("on_upload")(event, self.context("on_upload"))  # type: ignore[no-any-return]

    def on_notify(self, event: bytes) -> dict[str, Any]:
        return _import_handler("on_notify")(event, self.context("on_notify"))  # type: ignore[no-any-return]

    def fetch_results(self) -> dict[str, Any]:
        timer = (EVENTS / "timer.json").read_bytes()
        return _import_handler("fetch_results")(timer, self.context("fetch_results"))  # type: ignore[no-any-return]

    def api(self) -> httpx.Client:
        """The api function behind httpx.WSGITransport, with the FC context FC would put in environ."""
        handler = _import_handler("api")

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            environ["fc.context"] = self.context("api")
            return handler(environ, start_response)  # type: ignore[no-any-return]

        return httpx.Client(
            transport=httpx.WSGITransport(app=app),
            base_url="https://api.audiochain.test",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )

    # The world's side ---------------------------------------------------------------------------------

    def upload(self, key: str, data: bytes) -> bytes:
        """PUT the object, and answer the OSS trigger event FC would deliver for it."""
        result = self.oss.put_object(self.bucket, key, data, content_type="audio/wav")
        document = json.loads((EVENTS / "oss_put.json").read_text())
        record = document["events"][0]
        record["oss"]["bucket"].update(name=self.bucket, arn=f"acs:oss:{REGION}:123456789:{self.bucket}")
        record["oss"]["object"].update(key=key, eTag=result.etag, size=len(data), deltaSize=len(data))
        record["responseElements"]["requestId"] = result.request_id or "request"
        return json.dumps(document).encode("utf-8")

    def settle(self) -> None:
        """Wait until localcloud's background work (tasks, MNS pushes) is done."""
        assert self.cloud.tasks.wait_idle(60)
        assert self.cloud.mns().wait_deliveries(10)

    def take_notifications(self) -> list[bytes]:
        self.settle()
        taken = list(self.pipeline_events)
        self.pipeline_events.clear()
        return taken

    def convert_tasks(self) -> int:
        rows = self.cloud.state.query("SELECT task_id FROM oss_async_tasks WHERE bucket = ?", (self.bucket,))
        return len(rows)

    def transcription_tasks(self) -> int:
        rows = self.cloud.state.query("SELECT job FROM dashscope_tasks")
        return sum(1 for row in rows if f"/{self.bucket}/" in row["job"] or f"{self.bucket}." in row["job"])

    def read_text(self, key: str) -> str:
        return self.oss.get_object_bytes(self.bucket, key).decode("utf-8")

    def sweep_until_final(
        self, api: httpx.Client, job_ids: Iterable[str], seconds: float = 90
    ) -> dict[str, Any]:
        """Run fetch_results (as the timer would) until every job is finished; their views by id."""
        wanted = list(job_ids)
        deadline = time.monotonic() + seconds
        while True:
            views = {job_id: api.get(f"/v1/jobs/{job_id}").json() for job_id in wanted}
            if all(view["state"] in FINAL for view in views.values()):
                return views
            assert time.monotonic() < deadline, f"jobs not finished in time: {views}"
            self.fetch_results()
            self.settle()
            time.sleep(0.05)  # the sweep found work in flight; poll again shortly


@pytest.fixture
def chain(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    number = next(_numbers)
    bucket, pipeline, output = f"chain-{number}", f"pipeline-{number}", f"output-{number}"
    cloud.oss().store.create_bucket(bucket)
    mns = cloud.mns()
    for variable in ("OSS", "MNS", "IMM", "ICE", "DASHSCOPE"):
        monkeypatch.setenv(f"AUDIOCHAIN_{variable}_ENDPOINT", cloud.endpoint)
    for name, value in {
        "AUDIOCHAIN_BUCKET": bucket,
        "AUDIOCHAIN_REGION": REGION,
        "AUDIOCHAIN_PIPELINE_TOPIC": pipeline,
        "AUDIOCHAIN_OUTPUT_TOPIC": output,
        "AUDIOCHAIN_IMM_PROJECT": "",
        "AUDIOCHAIN_API_TOKEN": TOKEN,
        "DASHSCOPE_API_KEY": API_KEY,
    }.items():
        monkeypatch.setenv(name, value)
    with OssClient(cloud.endpoint, REGION, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as oss:
        running = Chain(cloud, bucket, pipeline, output, oss)
        for topic, sink in ((pipeline, running.pipeline_events), (output, running.completions)):
            mns.ensure_topic(topic)
            mns.subscribe_local(
                topic,
                f"{topic}-trigger",
                sink.append,
                content_format="JSON",
                strategy="EXPONENTIAL_DECAY_RETRY",
            )
        yield running
        for topic in (pipeline, output):
            mns.unsubscribe_local(topic, f"{topic}-trigger", drop_pending=True)


def completion(chain: Chain, job_id: str) -> dict[str, Any]:
    """The completion message published for `job_id` on the output topic (as its trigger delivers it)."""
    chain.settle()
    for event in chain.completions:
        message = json.loads(json.loads(event)["Message"])
        if message["job_id"] == job_id:
            return message  # type: ignore[no-any-return]
    raise AssertionError(f"no completion message for {job_id} among {len(chain.completions)}")

"""The whole chain as deployed: localcloud with template.yaml's four functions on the local FC runtime.

Nothing here calls a handler directly. An upload reaches on_upload through the OSS trigger, the
conversion's notification reaches on_notify through the MNS topic trigger, and the fetch_results timer
is fired the way its schedule would fire it (only sooner). Each test gets a fresh localcloud, so the
counts of tasks in its tables are the test's own.

Tests steer delivery at the edges only: they pause the on_notify subscription (its deliveries wait),
capture what the pipeline topic carries with a subscription of their own, and publish copies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.engines.wer import wer_report
from localcloud.ports import ObjectCreated
from localcloud.run.inputs import Sample, synthesize_sample
from localcloud.run.watch import Completions, JobsApi, JobWatcher, Tracked
from localcloud.runtime import FunctionRuntime
from localcloud.runtime.triggers import subscription_name
from localcloud.server import LocalCloud
from localcloud.services.mns.delivery import LocalSubscription
from shared.auth import Credentials
from shared.clients.oss import OssClient
from shared.jobs.model import JobView
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BUCKET = "audiochain"
PIPELINE_TOPIC = "audiochain-pipeline"
NOTIFY_SUBSCRIPTION = subscription_name("audiochain", "on_notify", "pipeline")
# Sentences the local recogniser hears well; broken plumbing (silence, the wrong audio) gives about 1.0.
WEATHER = ("The weather is nice today.", "He drove his car to the city yesterday.")
REPORT = ("Hello everyone and welcome to the show.", "I will send you the report tomorrow.")
MAX_WER = 0.5
SETTLE_SECONDS = 60.0


def wait_until(condition: Callable[[], bool], what: str, seconds: float = SETTLE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def assert_recognised(reference: str, heard: str) -> None:
    report = wer_report(reference, heard)
    assert report.wer < MAX_WER, f"WER {report.wer:.2f}: heard {heard!r} for {reference!r}"


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Callable[[tuple[str, ...]], bytes]:
    """Sentences spoken as 16 kHz mono WAV (0.6 s between sentences), cached for the session."""
    folder = tmp_path_factory.mktemp("speech")
    cache: dict[tuple[str, ...], bytes] = {}

    def spoken(sentences: tuple[str, ...]) -> bytes:
        if sentences not in cache:
            sample = Sample(f"speech-{len(cache)}", "wav", 16000, 1, sentences)
            cache[sentences] = synthesize_sample(sample, folder).read_bytes()
        return cache[sentences]

    return spoken


@dataclass
class Chain:
    """One fresh localcloud running template.yaml, and the handles a test steers it with."""

    cloud: LocalCloud
    oss: OssClient
    api: JobsApi
    http: httpx.Client
    captured: list[bytes] = field(default_factory=list)
    _notify: LocalSubscription | None = None

    @property
    def runtime(self) -> FunctionRuntime:
        assert self.cloud.runtime is not None
        return self.cloud.runtime

    # The world's side ---------------------------------------------------------------------------------

    def upload(self, key: str, data: bytes) -> str:
        """PutObject with audiochain's client; the OSS trigger does the rest. The ETag."""
        return self.oss.put_object(BUCKET, key, data).etag

    def job_of(self, key: str, etag: str) -> str:
        """The job the upload started, found the way `make run` finds it (the jobs of the upload's key)."""
        watcher = JobWatcher(self.api, Completions())
        tracked = Tracked(item=None, key=key, etag=etag, uploaded_at=0.0)  # type: ignore[arg-type]

        def found() -> bool:
            watcher.poll([tracked], 0.0)
            return tracked.job_id is not None

        wait_until(found, f"the job of {key}")
        assert tracked.job_id is not None
        return tracked.job_id

    def job(self, job_id: str) -> JobView:
        return self.api.job(job_id)

    def jobs(self) -> list[JobView]:
        return self.api.recent_uploads(datetime(2000, 1, 1, tzinfo=timezone.utc))

    def drive(self, job_ids: Iterable[str], seconds: float = SETTLE_SECONDS) -> dict[str, JobView]:
        """Fire the fetch_results timer until every job is final; their views by id."""
        wanted = list(job_ids)
        deadline = time.monotonic() + seconds
        while True:
            views = {job_id: self.job(job_id) for job_id in wanted}
            if all(view.state.is_final for view in views.values()):
                return views
            assert time.monotonic() < deadline, f"jobs not finished in time: {views}"
            self.runtime.fire_timer("fetch_results")
            self.settle()

    def settle(self) -> None:
        """Until asynchronous invocations, MNS pushes and media tasks are all done."""
        assert self.runtime.wait_idle(SETTLE_SECONDS), "localcloud did not settle"

    # Steering the events ------------------------------------------------------------------------------

    def capture_uploads(self) -> list[ObjectCreated]:
        """Every object-created event the store announces from now on (what the OSS trigger hears)."""
        events: list[ObjectCreated] = []
        self.cloud.oss().store.add_listener(events.append)
        return events

    def announce(self, event: ObjectCreated) -> None:
        """Announce an object creation again: the OSS trigger invokes on_upload with the same event."""
        self.cloud.oss().store.notify_created(event)

    def capture_pipeline(self) -> None:
        """Keep every message the pipeline topic carries (in the JSON form on_notify gets)."""
        self.cloud.mns().subscribe_local(
            PIPELINE_TOPIC, "e2e-capture", self.captured.append, content_format="JSON"
        )

    def notifications(self, count: int) -> list[str]:
        """The bodies of the first `count` captured messages, once they have arrived."""
        wait_until(lambda: len(self.captured) >= count, f"{count} pipeline notifications")
        return [json.loads(event)["Message"] for event in self.captured[:count]]

    def pause_notify(self) -> None:
        """Take on_notify's trigger subscription away: what the topic carries meanwhile never reaches it."""
        mns = self.cloud.mns()
        self._notify = mns.local_subscriptions.get(PIPELINE_TOPIC, NOTIFY_SUBSCRIPTION)
        assert self._notify is not None, "the on_notify trigger's subscription is missing"
        mns.unsubscribe_local(PIPELINE_TOPIC, NOTIFY_SUBSCRIPTION)

    def resume_notify(self) -> None:
        """The trigger's subscription back, exactly as the runtime registered it."""
        notify = self._notify
        assert notify is not None, "pause_notify first"
        self.cloud.mns().subscribe_local(
            PIPELINE_TOPIC,
            NOTIFY_SUBSCRIPTION,
            notify.deliver,
            content_format=notify.content_format,
            strategy=notify.strategy,
        )

    def publish(self, body: str) -> None:
        self.cloud.mns().publish(PIPELINE_TOPIC, body)

    # What localcloud did ------------------------------------------------------------------------------

    def convert_tasks(self) -> int:
        """OSS audio/convert tasks submitted to localcloud."""
        row = self.cloud.state.query_one(
            "SELECT COUNT(*) AS n FROM oss_async_tasks WHERE bucket = ?", (BUCKET,)
        )
        return int(row["n"]) if row is not None else 0

    def transcription_tasks(self) -> int:
        """DashScope transcription tasks submitted to localcloud."""
        row = self.cloud.state.query_one("SELECT COUNT(*) AS n FROM dashscope_tasks")
        return int(row["n"]) if row is not None else 0

    def text(self, key: str) -> str:
        return self.oss.get_object_bytes(BUCKET, key).decode("utf-8")


@contextmanager
def running_chain(
    data_dir: Path, *, fc_version: int = 2, parameters: dict[str, str] | None = None
) -> Iterator[Chain]:
    """A fresh localcloud running template.yaml (with these parameter values), and its handles."""
    config = make_config(data_dir, fc_version=fc_version)
    cloud = LocalCloud(config, template=TEMPLATE, parameters=parameters).start()
    try:
        runtime = cloud.runtime
        assert runtime is not None
        token = runtime.local_parameters["ApiToken"]
        oss = OssClient(cloud.endpoint, "cn-hangzhou", Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
        api = JobsApi(runtime.http_url("api"), token)
        http = httpx.Client(base_url=runtime.http_url("api"), headers={"Authorization": f"Bearer {token}"})
        try:
            yield Chain(cloud, oss, api, http)
        finally:
            http.close()
            oss.close()
            api.close()
            oss.close()
    finally:
        cloud.stop()


@pytest.fixture(params=[2, 3], ids=["fc2", "fc3"])
def chain(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Chain]:
    """The chain on the local runtime playing FC 2.0 (HTTP functions as WSGI) and FC 3.0 (JSON HTTP events):
    every e2e test runs on both."""
    with running_chain(tmp_path / "localcloud", fc_version=request.param) as running:
        yield running


def step_attempts(view: JobView) -> dict[str, tuple[str, int]]:
    return {step.name.value: (step.state.value, step.attempt) for step in view.steps}


def as_text(sentences: tuple[str, ...]) -> str:
    return " ".join(sentences)


def dump(view: JobView) -> dict[str, Any]:
    return view.model_dump(mode="json")

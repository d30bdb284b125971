"""`python -m deploy.bootstrap --endpoint <localcloud>` on a localcloud with nothing pre-created, then the
chain: the functions wait for their resources as `s deploy` would need them, bootstrap creates them, and an
upload becomes a transcript. A second bootstrap finds everything and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from deploy import bootstrap
from localcloud.run.watch import JobsApi
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.imm import ImmClient
from shared.clients.oss import OssClient
from shared.jobs.model import JobState
from tests.e2e.conftest import BUCKET, TEMPLATE, WEATHER, Chain, as_text, assert_recognised
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config

Speech = Callable[[tuple[str, ...]], bytes]
RESOURCES = {
    ("OSS bucket", "audiochain"),
    ("IMM project", "audiochain"),
    ("IMM bucket binding", "audiochain -> audiochain"),
    ("MNS topic", "audiochain-pipeline"),
    ("MNS topic", "audiochain-output"),
    ("MNS queue", "audiochain-dead-letter"),
}


def report(output: str) -> dict[tuple[str, str], str]:
    """The printed lines as (kind, name) -> result."""
    outcomes: dict[tuple[str, str], str] = {}
    for line in output.splitlines():
        match = re.match(r"(\S+(?: \S+)*?)\s{2,}(\S+(?: -> \S+)?)\s+(created|exists|skipped)", line)
        assert match is not None, line
        outcomes[(match[1], match[2])] = match[3]
    return outcomes


def test_bootstrap_makes_a_fresh_localcloud_ready_for_the_chain(
    tmp_path: Path, speech: Speech, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        monkeypatch.setenv(name, {"ALIBABA_CLOUD_ACCESS_KEY_ID": ACCESS_KEY_ID}.get(name, ACCESS_KEY_SECRET))
    cloud = LocalCloud(
        make_config(tmp_path / "localcloud"), template=TEMPLATE, create_resources=False
    ).start()
    try:
        runtime = cloud.runtime
        assert runtime is not None
        credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
        oss = OssClient(cloud.endpoint, "cn-hangzhou", credentials)
        # Nothing exists, so the functions are not running: deploying now would fail in the cloud too.
        assert not oss.bucket_exists(BUCKET)
        assert not cloud.mns().topic_exists("audiochain-pipeline")
        assert not runtime.started
        assert len(runtime.missing_resources()) == 4  # bucket, two topics, dead-letter queue

        assert bootstrap.main(["--endpoint", cloud.endpoint, "--template", str(TEMPLATE)]) == 0
        first = report(capsys.readouterr().out)
        assert {key for key, result in first.items() if result == "created"} == RESOURCES
        assert first[("Log Service project", "audiochain-logs")] == "skipped"
        with ImmClient(cloud.endpoint, credentials) as imm:
            assert imm.bucket_attachment(BUCKET) == "audiochain"

        assert cloud.wait_runtime_started(30), "the functions did not start once their resources existed"
        token = runtime.local_parameters["ApiToken"]
        api = JobsApi(runtime.http_url("api"), token)
        http = httpx.Client(base_url=runtime.http_url("api"), headers={"Authorization": f"Bearer {token}"})
        chain = Chain(cloud, oss, api, http)
        try:
            key = "inbox/bootstrapped.wav"
            job_id = chain.job_of(key, chain.upload(key, speech(WEATHER)))
            view = chain.drive([job_id])[job_id]
            assert view.state is JobState.SUCCEEDED, view.error
            assert_recognised(as_text(WEATHER), chain.text("outputs/bootstrapped.wav/transcript.txt"))
        finally:
            http.close()
            api.close()
            oss.close()

        assert bootstrap.main(["--endpoint", cloud.endpoint, "--template", str(TEMPLATE)]) == 0
        second = report(capsys.readouterr().out)
        assert {key for key, result in second.items() if result == "exists"} == RESOURCES
    finally:
        cloud.stop()

"""deploy.bootstrap against a fake cloud (httpx.MockTransport per service): what it asks, in which order,
what it creates, and that a second run creates nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.bootstrap import Clients, Resources, bootstrap, main
from shared.auth import Credentials
from shared.clients.imm import ImmClient
from shared.clients.mns import MnsClient
from shared.clients.oss import OssClient
from shared.clients.sls import SlsClient
from shared.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[3]
CREDENTIALS = Credentials("AKID-bootstrap-test", "secret-bootstrap-test-9f2c")
RESOURCES = Resources(
    bucket="media-bucket",
    imm_project="media-project",
    pipeline_topic="pipe",
    output_topic="done",
    dead_letter_queue="parked",
    log_project="media-logs",
    log_store="functions",
)


class FakeCloud:
    """Just enough of OSS, IMM, MNS and SLS: each remembers what exists and logs what it was asked."""

    def __init__(self, *, bound_to: str | None = None) -> None:
        self.existing: set[str] = set()
        self.bound_to = bound_to
        self.calls: list[str] = []

    def oss(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "media-bucket.oss-cn-hangzhou.aliyuncs.com"
        self.calls.append(f"oss {request.method} {request.url.query.decode()}")
        if request.method == "PUT":
            assert b"<StorageClass>Standard</StorageClass>" in request.content
            self.existing.add("bucket")
            return httpx.Response(200)
        if "bucket" in self.existing:
            return httpx.Response(200, content=b"<BucketInfo/>")
        return httpx.Response(404, content=b"<Error><Code>NoSuchBucket</Code></Error>")

    def imm(self, request: httpx.Request) -> httpx.Response:
        action = request.headers["x-acs-action"]
        self.calls.append(f"imm {action}")
        missing = httpx.Response(404, json={"Code": "ResourceNotFound", "Message": "no"})
        if action == "GetProject":
            return httpx.Response(200, json={"Project": {}}) if "project" in self.existing else missing
        if action == "CreateProject":
            assert "ServiceRole=AliyunIMMDefaultRole" in request.content.decode() + str(request.url)
            self.existing.add("project")
            return httpx.Response(200, json={"Project": {}})
        if action == "GetOSSBucketAttachment":
            return (
                missing if self.bound_to is None else httpx.Response(200, json={"ProjectName": self.bound_to})
            )
        assert action == "AttachOSSBucket"
        self.bound_to = "media-project"
        return httpx.Response(200, json={})

    def mns(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "1234567890.mns.cn-hangzhou.aliyuncs.com"
        self.calls.append(f"mns {request.method} {request.url.path}")
        if request.url.path in self.existing:
            return httpx.Response(204)
        self.existing.add(request.url.path)
        return httpx.Response(201)

    def sls(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == "media-logs.cn-hangzhou.log.aliyuncs.com"
        assert request.headers["Authorization"].startswith("LOG AKID-bootstrap-test:")
        path = request.url.path
        self.calls.append(f"sls {request.method} {path}")
        if request.method == "POST":
            created = "logstore" if path == "/logstores" else "logproject"
            self.existing.add(created)
            return httpx.Response(200)
        wanted = "logstore" if path.startswith("/logstores/") else "logproject"
        if wanted in self.existing:
            return httpx.Response(200, json={})
        return httpx.Response(404, json={"errorCode": f"{wanted}NotExist", "errorMessage": "no"})

    def clients(self) -> Clients:
        def transport(handler: object) -> httpx.MockTransport:
            return httpx.MockTransport(handler)  # type: ignore[arg-type]

        return Clients(
            oss=OssClient(
                "https://oss-cn-hangzhou.aliyuncs.com",
                "cn-hangzhou",
                CREDENTIALS,
                transport=transport(self.oss),
            ),
            imm=ImmClient("https://imm.cn-hangzhou.aliyuncs.com", CREDENTIALS, transport=transport(self.imm)),
            mns=MnsClient(
                "https://1234567890.mns.cn-hangzhou.aliyuncs.com", CREDENTIALS, transport=transport(self.mns)
            ),
            sls=SlsClient("https://cn-hangzhou.log.aliyuncs.com", CREDENTIALS, transport=transport(self.sls)),
        )


@pytest.fixture
def cloud() -> Iterator[FakeCloud]:
    yield FakeCloud()


def test_a_first_run_creates_everything_in_order_and_a_second_changes_nothing(cloud: FakeCloud) -> None:
    first = [(outcome.kind, outcome.result) for outcome in bootstrap(RESOURCES, cloud.clients())]
    assert first == [
        ("OSS bucket", "created"),
        ("IMM project", "created"),
        ("IMM bucket binding", "created"),
        ("MNS topic", "created"),
        ("MNS topic", "created"),
        ("MNS queue", "created"),
        ("Log Service project", "created"),
        ("Log Service logstore", "created"),
    ]
    assert "mns PUT /queues/parked" in cloud.calls and "sls POST /logstores" in cloud.calls
    cloud.calls.clear()
    second = {outcome.result for outcome in bootstrap(RESOURCES, cloud.clients())}
    assert second == {"exists"}
    writes = ("oss PUT", "imm Create", "imm AttachOSSBucket", "sls POST")
    assert not [call for call in cloud.calls if call.startswith(writes)]


def test_a_bucket_bound_to_another_project_stops_with_the_way_out(cloud: FakeCloud) -> None:
    cloud.bound_to = "someone-elses-project"
    outcomes = bootstrap(RESOURCES, cloud.clients())
    assert next(outcomes).kind == "OSS bucket"
    assert next(outcomes).kind == "IMM project"
    with pytest.raises(ConfigurationError, match="ImmProject=someone-elses-project"):
        next(outcomes)
    assert "imm AttachOSSBucket" not in cloud.calls


def test_resources_come_from_the_template_parameters_with_overrides() -> None:
    resources = Resources.from_template(ROOT / "template.yaml", {"BucketName": "my-bucket"})
    assert resources.bucket == "my-bucket"
    assert (resources.pipeline_topic, resources.dead_letter_queue) == (
        "audiochain-pipeline",
        "audiochain-dead-letter",
    )
    with pytest.raises(ConfigurationError, match="Buckett"):
        Resources.from_template(ROOT / "template.yaml", {"Buckett": "typo"})


def test_the_cloud_needs_an_account_id_for_mns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ALIBABA_CLOUD_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKID-bootstrap-test")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret-bootstrap-test-9f2c")
    assert main(["--template", str(ROOT / "template.yaml")]) == 1
    assert "--account-id" in capsys.readouterr().err


def test_json_output_lists_what_was_done_before_a_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "AKID-bootstrap-test")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret-bootstrap-test-9f2c")
    assert main(["--parameter", "nonsense", "--json"]) == 1
    captured = capsys.readouterr()
    assert "NAME=VALUE" in captured.err
    assert json.loads(captured.out) == []


def test_log_service_names_are_checked_before_anything_is_sent() -> None:
    from shared.errors import InvalidRequestError

    sls = FakeCloud().clients().sls
    assert sls is not None
    with pytest.raises(InvalidRequestError) as project:
        sls.create_project("Bad_Project", "x")
    assert (project.value.field, project.value.rule) == ("project", "sls_project_name")
    with pytest.raises(InvalidRequestError) as logstore:
        sls.create_logstore("media-logs", "-functions")
    assert (logstore.value.field, logstore.value.rule) == ("logstore", "sls_logstore_name")

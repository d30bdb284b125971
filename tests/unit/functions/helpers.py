"""Shared pieces of the handler tests: sample events from tests/events, FC contexts, and providers whose
orchestrator is the fake world of tests/unit/pipeline (no sockets)."""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shared.auth.credentials import Credentials
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.pipeline.settings import PipelineSettings
from shared.runtime.context import FcContext
from tests.unit.pipeline.fakes import Submission, World

EVENTS = Path(__file__).resolve().parents[2] / "events"
BUCKET = "audiochain"
STS = Credentials("STS.AccessKeyFromContext", "context-secret", "context-security-token")


def sample(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def context(
    function: str = "on_upload", credentials: Credentials | None = STS, **extra: Any
) -> dict[str, Any]:
    """A context dict shaped like FC's, carrying the service role's STS credentials."""
    return FcContext.local(function_name=function, credentials=credentials, **extra).to_fc_dict()


def oss_event(*uploads: tuple[str, str, int], bucket: str = BUCKET) -> bytes:
    """FC's OSS trigger event (tests/events/oss_put.json) with one record per (key, etag, size)."""
    template = sample("oss_put.json")["events"][0]
    records = []
    for number, (key, etag, size) in enumerate(uploads):
        record = copy.deepcopy(template)
        record["oss"]["bucket"]["name"] = bucket
        record["oss"]["bucket"]["arn"] = f"acs:oss:cn-hangzhou:123456789:{bucket}"
        record["oss"]["object"].update(key=key, eTag=etag, size=size, deltaSize=size)
        record["responseElements"]["requestId"] = f"64A1C0E5B2D3F4A5B6C7D8{number:02d}"
        records.append(record)
    return json.dumps({"events": records}).encode("utf-8")


def envelope(submission: Submission, status: str = "Succeeded", **content: Any) -> dict[str, Any]:
    """The OSS async-processing notification for a fake submission (tests/events/imm_notification.json)."""
    document = sample("imm_notification.json")
    inner = json.loads(document["content"])
    inner.update(
        TaskId=submission.task_id,
        Status=status,
        Sources=[{"URI": f"oss://{submission.bucket}/{submission.source}"}],
        Targets=[{"URI": f"oss://{submission.bucket}/{submission.target}"}],
        **content,
    )
    document["content"] = json.dumps(inner)
    return dict(document)


def mns_json_event(body: dict[str, Any] | str, *, encode: bool = False) -> bytes:
    """The MNS topic trigger's JSON-format event (tests/events/mns_json.json) around `body`."""
    document = sample("mns_json.json")
    text = body if isinstance(body, str) else json.dumps(body)
    document["Message"] = base64.b64encode(text.encode()).decode() if encode else text
    return json.dumps(document).encode("utf-8")


@dataclass
class Built:
    """What a fake builder was asked for."""

    settings: PipelineSettings
    credentials: Credentials
    dashscope_api_key: str | None
    http: httpx.Client


@dataclass
class FakeBuilder:
    """An OrchestratorBuilder answering the world's orchestrator and recording every build."""

    orchestrator: Orchestrator
    builds: list[Built] = field(default_factory=list)

    def __call__(
        self,
        settings: PipelineSettings,
        credentials: Credentials,
        *,
        dashscope_api_key: str | None,
        http: httpx.Client,
    ) -> Orchestrator:
        self.builds.append(Built(settings, credentials, dashscope_api_key, http))
        return self.orchestrator


def provider_for(
    world: World,
    function: str,
    *,
    uses_dashscope: bool = True,
    environ: dict[str, str] | None = None,
    orchestrator: Orchestrator | None = None,
) -> tuple[PipelineProvider, FakeBuilder]:
    builder = FakeBuilder(orchestrator or world.orchestrator)
    variables = {"AUDIOCHAIN_BUCKET": BUCKET, "DASHSCOPE_API_KEY": "sk-test"}
    variables.update(environ or {})
    provider = PipelineProvider(function, uses_dashscope=uses_dashscope, environ=variables, builder=builder)
    return provider, builder

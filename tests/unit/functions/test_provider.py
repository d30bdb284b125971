"""Settings and orchestrators per instance: validated at the first invocation, built over the context's
STS credentials, nothing at import time."""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.errors import ConfigurationError, ServiceError
from shared.logging import configure_logging, reset_logging
from shared.pipeline.handlers import initializer, notify_handler, upload_handler
from shared.pipeline.provider import PipelineProvider
from shared.runtime.context import FcContext
from tests.unit.functions.helpers import STS, context, oss_event, provider_for
from tests.unit.pipeline.fakes import World, make_world

LOOPING = {"AUDIOCHAIN_BUCKET": "audiochain", "AUDIOCHAIN_WORK_PREFIX": "inbox/work/"}


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="info")
    yield stream
    reset_logging()


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_a_layout_that_would_retrigger_the_inbox_fails_the_first_invocation_loudly(
    world: World, logs: io.StringIO
) -> None:
    provider, builder = provider_for(world, "on_upload", uses_dashscope=False, environ=LOOPING)
    with pytest.raises(ConfigurationError, match="re-trigger the inbox"):
        upload_handler(provider)(oss_event(("inbox/a.wav", "E1", 10)), context())
    assert builder.builds == []
    (line,) = [line for line in log_lines(logs) if line["event"] == "configuration.invalid"]
    assert line["function"] == "on_upload" and line["level"] == "error"
    assert any("work_prefix" in problem for problem in line["problems"])


def test_the_initializer_hook_refuses_the_same_configuration(world: World) -> None:
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False, environ=LOOPING)
    with pytest.raises(ConfigurationError, match="work_prefix"):
        initializer(provider)(context())


def test_the_initializer_hook_accepts_a_sound_configuration(world: World, logs: io.StringIO) -> None:
    provider, _ = provider_for(world, "on_notify")
    initializer(provider)(context("on_notify"))
    assert any(line["event"] == "configuration.valid" for line in log_lines(logs))


def test_a_function_that_transcribes_refuses_to_run_without_a_dashscope_key(world: World) -> None:
    provider, _ = provider_for(world, "on_notify", environ={"DASHSCOPE_API_KEY": ""})
    with pytest.raises(ConfigurationError, match="DASHSCOPE_API_KEY"):
        notify_handler(provider)(b'{"TaskId": "t", "Status": "Succeeded"}', context("on_notify"))


def test_on_upload_runs_without_a_dashscope_key(world: World) -> None:
    provider, builder = provider_for(
        world, "on_upload", uses_dashscope=False, environ={"DASHSCOPE_API_KEY": ""}
    )
    upload_handler(provider)(oss_event(("inbox/gone.wav", "E1", 10)), context())
    assert builder.builds[0].dashscope_api_key is None


def test_the_orchestrator_is_built_over_the_contexts_credentials_and_reused_while_they_hold(
    world: World,
) -> None:
    provider, builder = provider_for(world, "on_upload", uses_dashscope=False)
    handler = upload_handler(provider)
    event = oss_event(("inbox/gone.wav", "E1", 10))
    handler(event, context())
    handler(event, context())
    rotated = Credentials("STS.Rotated", "new-secret", "new-token")
    handler(event, context(credentials=rotated))
    assert [build.credentials for build in builder.builds] == [STS, rotated]
    assert builder.builds[0].http is builder.builds[1].http  # one connection pool per instance


def test_the_environment_is_read_at_each_invocation_not_at_import() -> None:
    changing = {"AUDIOCHAIN_BUCKET": "first-bucket"}
    live = PipelineProvider("on_upload", environ=changing)
    assert live.settings().bucket == "first-bucket"
    changing["AUDIOCHAIN_BUCKET"] = "second-bucket"
    assert live.settings().bucket == "second-bucket"


def test_the_context_supplies_region_and_account_when_the_environment_has_neither() -> None:
    provider = PipelineProvider("on_upload", environ={})
    settings = provider.settings(FcContext.local(region="cn-beijing", account_id="1234567"))
    assert (settings.region, settings.account_id) == ("cn-beijing", "1234567")
    assert settings.mns_endpoint_url == "https://1234567.mns.cn-beijing.aliyuncs.com"
    explicit = PipelineProvider("on_upload", environ={"FC_REGION": "cn-shanghai", "FC_ACCOUNT_ID": "99"})
    settings = explicit.settings(FcContext.local(region="cn-beijing", account_id="1234567"))
    assert (settings.region, settings.account_id) == ("cn-shanghai", "99")


def test_without_context_credentials_the_environments_are_used(world: World) -> None:
    environ = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "EnvKey", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret"}
    provider, builder = provider_for(world, "on_upload", uses_dashscope=False, environ=environ)
    upload_handler(provider)(oss_event(("inbox/gone.wav", "E1", 10)), context(credentials=None))
    assert builder.builds[0].credentials == Credentials("EnvKey", "env-secret")


def test_the_real_clients_sign_with_the_contexts_sts_credentials() -> None:
    seen: list[httpx.Request] = []

    def oss(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = (
            b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
            b"<Message>denied</Message><RequestId>R1</RequestId></Error>"
        )
        return httpx.Response(403, content=body, headers={"x-oss-request-id": "R1"})

    environ = {"AUDIOCHAIN_BUCKET": "audiochain", "AUDIOCHAIN_OSS_ENDPOINT": "http://oss.test:9000"}
    provider = PipelineProvider("on_upload", environ=environ, transport=httpx.MockTransport(oss))
    try:
        with pytest.raises(ServiceError) as raised:
            upload_handler(provider)(oss_event(("inbox/a.wav", "E1", 10)), context())
    finally:
        provider.close()
    assert (raised.value.code, raised.value.retryable) == ("AccessDenied", False)
    request = seen[0]
    assert (request.url.host, request.url.port) == ("audiochain.oss.test", 9000)
    assert request.headers["x-oss-security-token"] == STS.security_token
    assert STS.access_key_id in request.headers["authorization"]


def _reimported(function: str) -> ModuleType:
    """`functions.<function>.index` imported afresh, the instance it replaces closed first: under xdist a
    functional test (tests/functional/functions) may have run in this worker and left that provider with
    keep-alive connections to a localcloud since stopped; dropped unclosed by the reload, their sockets were
    reported (a ResourceWarning, an error) in whichever later test the garbage collector happened to run."""
    module = importlib.import_module(f"functions.{function}.index")
    module._provider.close()
    return importlib.reload(module)


@pytest.mark.parametrize("function", ["api", "on_upload", "on_notify", "fetch_results"])
def test_importing_a_function_reads_nothing_and_builds_nothing(
    function: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AUDIOCHAIN_BUCKET", "AUDIOCHAIN_API_TOKEN", "DASHSCOPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    module = _reimported(function)
    provider: PipelineProvider = module._provider
    assert callable(module.handler) and callable(module.initialize)
    assert (provider._http, dict(provider._settings), dict(provider._orchestrators)) == (None, {}, {})


def test_reimporting_a_function_closes_the_provider_it_replaces() -> None:
    old: PipelineProvider = importlib.import_module("functions.api.index")._provider
    with old._lock:
        http = old._shared_http()  # what a functional test's invocations would have left behind
    assert _reimported("api")._provider is not old
    assert http.is_closed

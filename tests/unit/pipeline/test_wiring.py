from __future__ import annotations

import httpx

from shared.auth.credentials import Credentials
from shared.clients.dashscope import DashScopeClient
from shared.clients.imm import ImmClient
from shared.clients.mns import MnsClient
from shared.clients.oss import OssClient
from shared.jobs.backend import OssBackend
from shared.pipeline.settings import PipelineSettings
from shared.pipeline.wiring import OnFirstUse, build_orchestrator

CREDENTIALS = Credentials("AK", "SK")


def refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"building must not call anything, but called {request.url}")


def test_building_connects_the_real_clients_without_calling_anything() -> None:
    settings = PipelineSettings.from_env({"FC_ACCOUNT_ID": "123456", "AUDIOCHAIN_IMM_PROJECT": "audio"})
    with httpx.Client(transport=httpx.MockTransport(refuse)) as http:
        orchestrator = build_orchestrator(settings, CREDENTIALS, dashscope_api_key="sk-test", http=http)
    clients = orchestrator.clients
    assert (
        isinstance(clients.oss, OssClient)
        and clients.oss.endpoint_base == "https://oss-cn-hangzhou.aliyuncs.com"
    )
    # MNS, DashScope and IMM are built on first use (a function that never calls them does not import them).
    assert isinstance(clients.mns, OnFirstUse)
    assert isinstance(clients.mns.resolve(), MnsClient)
    assert str(clients.mns.resolve().endpoint) == "https://123456.mns.cn-hangzhou.aliyuncs.com/"
    assert isinstance(clients.imm, OnFirstUse) and isinstance(clients.dashscope, OnFirstUse)
    assert isinstance(clients.imm.resolve(), ImmClient)
    assert isinstance(clients.dashscope.resolve(), DashScopeClient)
    backend = orchestrator.store.backend
    assert isinstance(backend, OssBackend) and backend.bucket == "audiochain"
    assert orchestrator.store.max_attempts == settings.max_attempts


def test_clients_without_their_configuration_are_left_out() -> None:
    orchestrator = build_orchestrator(PipelineSettings(), CREDENTIALS)
    clients = orchestrator.clients
    assert (clients.mns, clients.dashscope, clients.imm) == (None, None, None)
    assert clients.ice is not None

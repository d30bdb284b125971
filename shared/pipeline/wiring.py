"""Building an Orchestrator over the real clients, for the FC handlers and the local runtime.

    settings = PipelineSettings.from_env()
    orchestrator = build_orchestrator(
        settings,
        resolve_credentials(context=context),
        dashscope_api_key=resolve_dashscope_api_key(),   # None in a function that never transcribes
    )

Call it per invocation, or once per instance with a credentials *provider* (which re-reads rotated STS
credentials); never at import time. Every client shares `http` when one is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.clients.oss import OssClient
from shared.jobs.backend import OssBackend
from shared.jobs.store import JobStore
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.ports import DashScopePort, IcePort, ImmPort, MnsPort
from shared.pipeline.settings import PipelineSettings


class OnFirstUse:
    """A client made by `build` when one of its attributes is first used.

    MNS, DashScope, IMM and ICE are called by some steps only: a function that never reaches one neither
    constructs its client nor imports its module (and the models it loads) at cold start (issue 11).
    Thread-safe: instances with `InstanceConcurrency > 1` build it once.

    >>> made = []
    >>> client = OnFirstUse(lambda: made.append(1) or "built")
    >>> made
    []
    >>> client.upper(), made
    ('BUILT', [1])
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None
        self._lock = threading.Lock()

    def resolve(self) -> Any:
        """The client, built now if it was not yet."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._build()
        return self._client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.resolve(), name)


def _mns(
    endpoint: str, credentials: CredentialsProvider | Credentials, http: httpx.Client | None, clock: Clock
) -> MnsPort:
    from shared.clients.mns import MnsClient

    return MnsClient(endpoint, credentials, http=http, clock=clock)


def _dashscope(endpoint: str, key: str, http: httpx.Client | None) -> DashScopePort:
    from shared.clients.dashscope import DashScopeClient

    return DashScopeClient(endpoint, key, http=http)


def _imm(
    endpoint: str, credentials: CredentialsProvider | Credentials, http: httpx.Client | None, clock: Clock
) -> ImmPort:
    from shared.clients.imm import ImmClient

    return ImmClient(endpoint, credentials, http=http, clock=clock)


def _ice(
    endpoint: str, credentials: CredentialsProvider | Credentials, http: httpx.Client | None, clock: Clock
) -> IcePort:
    from shared.clients.ice import IceClient

    return IceClient(endpoint, credentials, http=http, clock=clock)


def build_orchestrator(
    settings: PipelineSettings,
    credentials: CredentialsProvider | Credentials,
    *,
    dashscope_api_key: str | None = None,
    http: httpx.Client | None = None,
    clock: Clock = utc_now,
) -> Orchestrator:
    """An Orchestrator with an OssClient-backed job store, MNS when an endpoint is known (explicit or
    from the account id), DashScope when a key is given, IMM when a project is configured, and ICE."""
    oss = OssClient(settings.oss_endpoint_url, settings.region, credentials, http=http, clock=clock)
    mns: MnsPort | None = None
    if settings.mns_endpoint or settings.account_id:
        mns_endpoint = settings.mns_endpoint_url
        mns = cast(MnsPort, OnFirstUse(lambda: _mns(mns_endpoint, credentials, http, clock)))
    dashscope: DashScopePort | None = None
    if dashscope_api_key:
        key = dashscope_api_key
        endpoint = settings.dashscope_endpoint_url
        dashscope = cast(DashScopePort, OnFirstUse(lambda: _dashscope(endpoint, key, http)))
    imm: ImmPort | None = None
    if settings.imm_project:
        imm_endpoint = settings.imm_endpoint_url
        imm = cast(ImmPort, OnFirstUse(lambda: _imm(imm_endpoint, credentials, http, clock)))
    ice_endpoint = settings.ice_endpoint_url
    ice = cast(IcePort, OnFirstUse(lambda: _ice(ice_endpoint, credentials, http, clock)))
    store = JobStore(
        OssBackend(oss, settings.bucket),
        settings.jobs_prefix,
        clock=clock,
        lease=settings.step_lease,
        max_attempts=settings.max_attempts,
    )
    return Orchestrator(settings, store, oss, mns=mns, dashscope=dashscope, imm=imm, ice=ice, clock=clock)

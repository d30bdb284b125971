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

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.clients.dashscope import DashScopeClient
from shared.clients.ice import IceClient
from shared.clients.imm import ImmClient
from shared.clients.mns import MnsClient
from shared.clients.oss import OssClient
from shared.jobs.backend import OssBackend
from shared.jobs.store import JobStore
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.settings import PipelineSettings


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
    mns = None
    if settings.mns_endpoint or settings.account_id:
        mns = MnsClient(settings.mns_endpoint_url, credentials, http=http, clock=clock)
    dashscope = None
    if dashscope_api_key:
        dashscope = DashScopeClient(settings.dashscope_endpoint_url, dashscope_api_key, http=http)
    imm = None
    if settings.imm_project:
        imm = ImmClient(settings.imm_endpoint_url, credentials, http=http, clock=clock)
    ice = IceClient(settings.ice_endpoint_url, credentials, http=http, clock=clock)
    store = JobStore(
        OssBackend(oss, settings.bucket),
        settings.jobs_prefix,
        clock=clock,
        lease=settings.step_lease,
        max_attempts=settings.max_attempts,
    )
    return Orchestrator(settings, store, oss, mns=mns, dashscope=dashscope, imm=imm, ice=ice, clock=clock)

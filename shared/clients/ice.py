"""ICE (Intelligent Media Services, API 2020-11-09): text-to-speech jobs and their results.

>>> import httpx
>>> from shared.auth.credentials import Credentials
>>> answer = {"RequestId": "r", "JobId": "job-1", "State": "Finished"}
>>> ice = IceClient(
...     "https://ice.cn-hangzhou.aliyuncs.com", Credentials("AK", "SK"),
...     transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)),
... )
>>> ice.get_smart_handle_job("job-1").state.value
'Finished'
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.clients.base import RetryPolicy, Timeouts
from shared.clients.openapi import OpenApiClient
from shared.ops.ice import (
    GetSmartHandleJobRequest,
    GetSmartHandleJobResponse,
    SubmitAudioProduceJobRequest,
    SubmitAudioProduceJobResponse,
)

ICE_API_VERSION = "2020-11-09"


class IceClient(OpenApiClient):
    """ICE in one region (`https://ice.<region>.aliyuncs.com`)."""

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialsProvider | Credentials,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(
            endpoint,
            credentials,
            version=ICE_API_VERSION,
            service="ice",
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
            clock=clock,
            nonce=nonce,
        )

    def submit_audio_produce_job(
        self, request: SubmitAudioProduceJobRequest
    ) -> SubmitAudioProduceJobResponse:
        """Start a text-to-speech job; answers with the job id and its first state."""
        return self.call_model(
            request.operation, request.to_query(), SubmitAudioProduceJobResponse, idempotent=False
        )

    def get_smart_handle_job(self, job_id: str) -> GetSmartHandleJobResponse:
        """The job's state and, once Finished, its result (`JobResult.AiResult` sentence timings)."""
        request = GetSmartHandleJobRequest.build(JobId=job_id)
        return self.call_model(
            request.operation, request.to_query(), GetSmartHandleJobResponse, idempotent=True
        )

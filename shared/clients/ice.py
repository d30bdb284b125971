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

    api_version = ICE_API_VERSION
    service_name = "ice"

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

"""IMM (Intelligent Media Management, API 2020-09-30): media conversion tasks, used here to merge audio.

>>> import httpx
>>> from shared.auth.credentials import Credentials
>>> answer = {"RequestId": "r", "TaskId": "MediaConvert-1", "Status": "Running"}
>>> imm = ImmClient(
...     "https://imm.cn-hangzhou.aliyuncs.com", Credentials("AK", "SK"),
...     transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)),
... )
>>> imm.get_task("my-project", "MediaConvert-1").status.value
'Running'
"""

from __future__ import annotations

from shared.clients.openapi import OpenApiClient
from shared.ops.imm import (
    CreateMediaConvertTaskRequest,
    CreateMediaConvertTaskResponse,
    GetTaskRequest,
    GetTaskResponse,
)

IMM_API_VERSION = "2020-09-30"


class ImmClient(OpenApiClient):
    """IMM in one region (`https://imm.<region>.aliyuncs.com`)."""

    api_version = IMM_API_VERSION
    service_name = "imm"

    def create_media_convert_task(
        self, request: CreateMediaConvertTaskRequest
    ) -> CreateMediaConvertTaskResponse:
        """Submit a conversion (or, with several sources, a merge); answers with the task id."""
        return self.call_model(
            request.operation, request.to_query(), CreateMediaConvertTaskResponse, idempotent=False
        )

    def get_task(self, project: str, task_id: str, task_type: str = "MediaConvert") -> GetTaskResponse:
        """The state of a task (Running, Succeeded, Failed ...)."""
        request = GetTaskRequest.build(ProjectName=project, TaskId=task_id, TaskType=task_type)
        return self.call_model(request.operation, request.to_query(), GetTaskResponse, idempotent=True)

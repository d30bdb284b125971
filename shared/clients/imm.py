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

from shared.clients.errors import NotFound
from shared.clients.openapi import OpenApiClient
from shared.ops.imm import (
    CreateMediaConvertTaskRequest,
    CreateMediaConvertTaskResponse,
    GetTaskRequest,
    GetTaskResponse,
    checked_project_name,
)

IMM_API_VERSION = "2020-09-30"
# The role IMM assumes to reach OSS: created by the console's one-click authorisation (RAM quick auth).
DEFAULT_SERVICE_ROLE = "AliyunIMMDefaultRole"


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

    # Projects and bucket bindings (deploy.bootstrap) ----------------------------------------------------

    def project_exists(self, project: str) -> bool:
        """GetProject: 404 (ResourceNotFound) means no."""
        try:
            query = {"ProjectName": checked_project_name(project, "GetProject")}
            self.call("GetProject", query, idempotent=True)
        except NotFound:
            return False
        return True

    def create_project(self, project: str, *, service_role: str = DEFAULT_SERVICE_ROLE) -> None:
        """CreateProject with the role IMM assumes to read and write OSS (AliyunIMMDefaultRole by default)."""
        query = {"ProjectName": checked_project_name(project, "CreateProject"), "ServiceRole": service_role}
        self.call("CreateProject", query, idempotent=False)

    def bucket_attachment(self, bucket: str) -> str | None:
        """GetOSSBucketAttachment: the project the bucket is bound to, or None when it is bound to none."""
        try:
            answer = self.call("GetOSSBucketAttachment", {"OSSBucket": bucket}, idempotent=True)
        except NotFound:
            return None
        project = answer.get("ProjectName")
        return project if isinstance(project, str) and project else None

    def attach_bucket(self, bucket: str, project: str) -> None:
        """AttachOSSBucket: bind the bucket to the project, which OSS audio processing then runs in."""
        query = {"OSSBucket": bucket, "ProjectName": checked_project_name(project, "AttachOSSBucket")}
        self.call("AttachOSSBucket", query, idempotent=False)

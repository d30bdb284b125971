"""IMM projects and OSS bucket bindings: CreateProject, GetProject, AttachOSSBucket, GetOSSBucketAttachment,
DetachOSSBucket — what `python -m deploy.bootstrap` sets up before OSS audio processing can run.

In the cloud, OSS's `x-oss-async-process` runs in the IMM project the bucket is attached to
(AttachOSSBucket; https://help.aliyun.com/document_detail/478206.html). localcloud records projects and
bindings so that bootstrap is tested end to end, and answers the documented shapes; its own OSS
processing does not require a binding (every local test would otherwise have to make one first).

Errors: 400 MissingProjectName / MissingOSSBucket and InvalidArgument (a name breaks its rule), 404
ResourceNotFound (no such project, bucket or binding), 409 ResourceAlreadyExists (the project exists,
or the bucket is bound to another project).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from localcloud.ports import ObjectStorePort
from localcloud.services.base import RequestContext
from localcloud.services.imm.errors import RESOURCE_ALREADY_EXISTS, RESOURCE_NOT_FOUND
from localcloud.services.openapi import iso_millis
from localcloud.state import StateStore
from shared.clients.oss_models import check_bucket
from shared.errors import InvalidRequestError
from shared.ops.imm import checked_project_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS imm_projects (
    project_name TEXT PRIMARY KEY,
    service_role TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS imm_bucket_attachments (
    bucket TEXT PRIMARY KEY,
    project_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
"""
DEFAULT_SERVICE_ROLE = "AliyunIMMDefaultRole"


def _required(params: Mapping[str, str], name: str, operation: str) -> str:
    value = params.get(name, "")
    if not value:
        raise InvalidRequestError.single(name, "missing", "is required", operation)
    return value


def _bucket(params: Mapping[str, str], operation: str) -> str:
    value = _required(params, "OSSBucket", operation)
    try:
        return check_bucket(value, operation)
    except InvalidRequestError:
        raise InvalidRequestError.single(
            "OSSBucket", "bucket_name", "must be an OSS bucket name: 3-63 of a-z, 0-9 and '-'", operation
        ) from None


@dataclass(frozen=True)
class ProjectActions:
    """The project and binding actions over localcloud's state; OSS is asked whether a bucket exists."""

    state: StateStore
    object_store: Callable[[], ObjectStorePort]  # asked per call: OSS may start after IMM

    def __post_init__(self) -> None:
        self.state.ensure_schema(_SCHEMA)

    def actions(self) -> dict[str, Any]:
        return {
            "CreateProject": self.create_project,
            "GetProject": self.get_project,
            "AttachOSSBucket": self.attach_bucket,
            "GetOSSBucketAttachment": self.get_attachment,
            "DetachOSSBucket": self.detach_bucket,
        }

    def create_project(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        operation = "CreateProject"
        name = checked_project_name(_required(params, "ProjectName", operation), operation)
        role = params.get("ServiceRole") or DEFAULT_SERVICE_ROLE
        now = time.time()
        created = self.state.execute(
            "INSERT OR IGNORE INTO imm_projects (project_name, service_role, description, created_at) "
            "VALUES (?, ?, ?, ?)",
            (name, role, params.get("Description", ""), now),
        )
        if not created:
            raise RESOURCE_ALREADY_EXISTS(f"The project {name!r} already exists.")
        return {"Project": self._project_document(name)}

    def get_project(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        operation = "GetProject"
        name = checked_project_name(_required(params, "ProjectName", operation), operation)
        return {"Project": self._project_document(name)}

    def attach_bucket(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        operation = "AttachOSSBucket"
        bucket = _bucket(params, operation)
        project = checked_project_name(_required(params, "ProjectName", operation), operation)
        self._project_document(project)
        if not self.object_store().bucket_exists(bucket):
            raise RESOURCE_NOT_FOUND(f"The OSS bucket {bucket!r} does not exist in this region.")
        with self.state.transaction() as connection:
            row = connection.execute(
                "SELECT project_name FROM imm_bucket_attachments WHERE bucket = ?", (bucket,)
            ).fetchone()
            if row is not None and row["project_name"] != project:
                raise RESOURCE_ALREADY_EXISTS(
                    f"The OSS bucket {bucket!r} is already attached to the project {row['project_name']!r}; "
                    "detach it first (DetachOSSBucket).",
                )
            if row is None:
                connection.execute(
                    "INSERT INTO imm_bucket_attachments (bucket, project_name, description, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (bucket, project, params.get("Description", ""), time.time()),
                )
        return {}

    def get_attachment(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        bucket = _bucket(params, "GetOSSBucketAttachment")
        row = self.state.query_one("SELECT * FROM imm_bucket_attachments WHERE bucket = ?", (bucket,))
        if row is None:
            raise RESOURCE_NOT_FOUND(f"The OSS bucket {bucket!r} is not attached to any project.")
        return {
            "ProjectName": row["project_name"],
            "Description": row["description"],
            "CreateTime": iso_millis(row["created_at"]),
            "UpdateTime": iso_millis(row["created_at"]),
        }

    def detach_bucket(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        bucket = _bucket(params, "DetachOSSBucket")
        if not self.state.execute("DELETE FROM imm_bucket_attachments WHERE bucket = ?", (bucket,)):
            raise RESOURCE_NOT_FOUND(f"The OSS bucket {bucket!r} is not attached to any project.")
        return {}

    def _project_document(self, name: str) -> dict[str, Any]:
        row = self.state.query_one("SELECT * FROM imm_projects WHERE project_name = ?", (name,))
        if row is None:
            raise RESOURCE_NOT_FOUND(f"The specified resource ProjectName is not found: {name!r}.")
        return {
            "ProjectName": row["project_name"],
            "ServiceRole": row["service_role"],
            "Description": row["description"],
            "CreateTime": iso_millis(row["created_at"]),
            "UpdateTime": iso_millis(row["created_at"]),
        }

"""localcloud's IMM (API 2020-09-30): `CreateMediaConvertTask` (audio merging and transcoding) and `GetTask`,
plus the project and bucket-binding actions of `projects.py` (what deploy.bootstrap creates).

Tasks do not require their project to exist: any valid ProjectName is accepted and namespaces the tasks
(GetTask must name the project the task was created in). Sources and targets are `oss://bucket/key` objects in
localcloud's OSS. A task is persisted as Running, merged on the task pool (see `convert.py` for how
containers and TranscodeAudio are produced), and ends Succeeded or Failed with a code:

    ResourceNotFound            a source object (or its bucket) does not exist
    InvalidArgument             the stored request no longer parses (never expected)
    <MediaError code>           the media could not be produced: InvalidSource, NoAudioStream,
                                InvalidParameter, InvalidParameter.Inherited, UnsupportedByLocalEngine, ...

Every written target raises `ObjectCreated:PutObject` for the FC runtime; then, when `Notification.MNS`
names a topic, the IMM notification envelope is published there (see `notification_envelope`). A target
bucket that does not exist is refused up front (404 ResourceNotFound). Unfinished tasks are run again
when localcloud starts, and a finished task's notification that was never published is published then.

Errors follow IMM's documented codes: 400 InvalidArgument (a parameter breaks a rule; the message names
the field and the rule), 400 Missing<Parameter> (e.g. MissingProjectName), 404 ResourceNotFound (unknown
task), 404 InvalidAction.NotFound (unknown action).

Example (the official SDK against a running LocalCloud):
    >>> client.create_media_convert_task(CreateMediaConvertTaskRequest(                # doctest: +SKIP
    ...     project_name="test-project", sources=[...], targets=[...])).body.task_id
    'MediaConvert-5b0f6c1e-...'
"""

from __future__ import annotations

import json
import secrets
import string
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from localcloud.engines.errors import MediaError
from localcloud.lifecycle import MediaTaskLifecycle, TaskFailure, coded_failure
from localcloud.ports import ObjectCreated, ObjectStorePort
from localcloud.services.base import RequestContext, ServiceHttpError
from localcloud.services.imm.convert import CONTENT_TYPES, clip_for, render_target
from localcloud.services.imm.errors import RESOURCE_NOT_FOUND, SERVICE_UNAVAILABLE
from localcloud.services.imm.projects import ProjectActions
from localcloud.services.imm.tasks import ImmTaskRecord, ImmTaskStore
from localcloud.services.openapi import OpenApiRpcService, RpcAction, describe_problems, iso_millis
from shared.logging import get_logger
from shared.ops.enums import ImmTaskStatus
from shared.ops.imm import CreateMediaConvertTaskRequest, GetTaskRequest, parse_oss_uri
from shared.ops.wire import compact_json

if TYPE_CHECKING:
    from localcloud.ports import Host

log = get_logger("localcloud.imm")

TASK_TYPE = "MediaConvert"
_EVENT_ID_ALPHABET = string.ascii_letters + string.digits


_RUNNING = ImmTaskStatus.RUNNING


def _failure(error: Exception) -> TaskFailure | None:
    return coded_failure(
        error,
        coded=(MediaError, ServiceHttpError),
        invalid_code="InvalidArgument",
        describe=lambda invalid: describe_problems(invalid.problems),
    )


class ImmService(OpenApiRpcService):
    name = "imm"
    product = "imm"
    api_version = "2020-09-30"
    invalid_parameter_code = "InvalidArgument"

    def __init__(self, cloud: Host) -> None:
        super().__init__(cloud)
        self.tasks = ImmTaskStore(cloud.state)
        self.projects = ProjectActions(cloud.state, self._object_store)
        self.lifecycle: MediaTaskLifecycle[ImmTaskRecord, None] = MediaTaskLifecycle(
            "imm",
            self.tasks,
            cloud.tasks,
            start_delay=self.config.task_start_delay,
            begin=self._begin,
            execute=self._execute,
            failure=_failure,
            finish=self._finish,
            pending_notification=lambda record: not record.notified and record.status is not _RUNNING,
            deliver=self._publish_notification,
        )

    def rpc_actions(self) -> Mapping[str, RpcAction]:
        return {
            "CreateMediaConvertTask": self.create_media_convert_task,
            "GetTask": self.get_task,
            **self.projects.actions(),
        }

    def missing_parameter_code(self, name: str) -> str:
        return f"Missing{name}"  # IMM's documented form: MissingProjectName, MissingSources ...

    def start(self) -> None:
        self.lifecycle.resume()

    # --- actions -------------------------------------------------------------------------------------

    def create_media_convert_task(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        request = _parse_create(params)
        store = self._object_store()
        for index, target in enumerate(request.targets):
            bucket, _ = parse_oss_uri(target.resolved_uri, field=f"Targets[{index}].URI")
            if not store.bucket_exists(bucket):
                raise RESOURCE_NOT_FOUND(
                    f"Targets[{index}].URI: the bucket {bucket!r} does not exist in localcloud's OSS; "
                    "create it before writing to it.",
                )
        record = ImmTaskRecord(
            task_id=f"{TASK_TYPE}-{uuid.uuid4()}",
            project_name=request.project_name,
            task_type=TASK_TYPE,
            status=ImmTaskStatus.RUNNING,
            code="",
            message="",
            request=request.to_query(),
            request_id=ctx.request_id,
            event_id=_new_event_id(),
            started_at=time.time(),
            ended_at=None,
            progress=0,
        )
        self.tasks.insert(record)
        self.lifecycle.schedule(record.task_id)
        return {"TaskId": record.task_id, "EventId": record.event_id}

    def get_task(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        request = GetTaskRequest.from_query(params)
        record = self.tasks.get(request.task_id)
        if record is None or (record.project_name, record.task_type) != (
            request.project_name,
            request.task_type,
        ):
            raise RESOURCE_NOT_FOUND(
                f"The specified resource TaskId is not found: no {request.task_type} task "
                f"{request.task_id!r} in project {request.project_name!r}.",
            )
        body: dict[str, Any] = {
            "ProjectName": record.project_name,
            "TaskType": record.task_type,
            "TaskId": record.task_id,
            "EventId": record.event_id,
            "Status": record.status.value,
            "Code": record.code,
            "Message": record.message,
            "StartTime": iso_millis(record.started_at),
            "Progress": record.progress,
        }
        if record.ended_at is not None:
            body["EndTime"] = iso_millis(record.ended_at)
        if record.user_data is not None:
            body["UserData"] = record.user_data
        if record.tags is not None:
            body["Tags"] = record.tags
        if request.request_definition:
            definition = CreateMediaConvertTaskRequest.from_query(record.request)
            body["TaskRequestDefinition"] = compact_json(
                definition.model_dump(mode="json", by_alias=True, exclude_none=True)
            )
        return body

    # --- the work ------------------------------------------------------------------------------------

    def _begin(self, task_id: str) -> ImmTaskRecord | None:
        record = self.tasks.get(task_id)
        return record if record is not None and record.status is _RUNNING else None

    def _execute(self, record: ImmTaskRecord) -> None:
        self._convert(record, CreateMediaConvertTaskRequest.from_query(record.request))

    def _finish(self, task_id: str, result: None, failure: TaskFailure | None) -> bool:
        if failure is None:
            return self.tasks.finish(task_id, ImmTaskStatus.SUCCEEDED, "", "", time.time())
        return self.tasks.finish(task_id, ImmTaskStatus.FAILED, failure.code, failure.message, time.time())

    def _convert(self, record: ImmTaskRecord, request: CreateMediaConvertTaskRequest) -> None:
        store = self._object_store()
        clips = []
        for index, source in enumerate(request.sources):
            try:
                found = store.head(source.bucket, source.key)
            except ServiceHttpError as error:
                raise TaskFailure(
                    "ResourceNotFound", f"Sources[{index}].URI {source.uri}: {error.message}"
                ) from None
            clips.append(clip_for(source, found.path))
        for index, target in enumerate(request.targets):
            uri = target.resolved_uri
            bucket, key = parse_oss_uri(uri, field=f"Targets[{index}].URI")
            scratch = self.state.new_temp_path(suffix="." + target.container.value)
            try:
                render_target(clips, target, alignment_index=request.alignment_index, destination=scratch)
                written = store.put_file(bucket, key, scratch, content_type=CONTENT_TYPES[target.container])
            finally:
                scratch.unlink(missing_ok=True)
            store.notify_created(ObjectCreated("ObjectCreated:PutObject", written, record.request_id))
            self.tasks.set_progress(record.task_id, (index + 1) * 100 // len(request.targets))

    def _publish_notification(self, record: ImmTaskRecord) -> None:
        topic = _notification_topic(record.request)
        if topic is None:
            return
        try:
            mns = self.cloud.mns()
        except LookupError:
            log.warning("imm.notification.dropped_mns_not_running", task_id=record.task_id, topic=topic)
            return
        envelope = notification_envelope(record, region=self.config.region, account_id=self.config.account_id)
        try:
            mns.publish(topic, json.dumps(envelope, ensure_ascii=False))
        except ServiceHttpError as error:
            log.warning(
                "imm.notification.not_delivered", task_id=record.task_id, topic=topic, code=error.code
            )

    def _object_store(self) -> ObjectStorePort:
        try:
            store = self.cloud.oss().store
        except LookupError:
            raise SERVICE_UNAVAILABLE(
                "localcloud's OSS is not running; IMM reads and writes through it."
            ) from None
        return store


def notification_envelope(record: ImmTaskRecord, *, region: str, account_id: str) -> dict[str, str]:
    """The MNS message IMM publishes when a task ends: an envelope whose `content` is a JSON string."""
    request = CreateMediaConvertTaskRequest.from_query(record.request)
    content = {
        "ProjectName": record.project_name,
        "RequestId": record.request_id,
        "StartTime": iso_millis(record.started_at),
        "EndTime": iso_millis(record.ended_at or record.started_at),
        "UserData": record.user_data or "",
        "TaskType": record.task_type,
        "TaskId": record.task_id,
        "Status": record.status.value,
        "Code": record.code,
        "Message": record.message,
        "Sources": [{"URI": source.uri} for source in request.sources],
        "Targets": [{"URI": target.resolved_uri} for target in request.targets],
    }
    return {
        "id": record.event_id,
        "source": "acs.imm",
        "type": f"imm:Task:{record.task_type}",
        "subject": f"acs:imm:{region}:{account_id}:{record.project_name}/imm:Task:{record.task_type}",
        "time": str(round((record.ended_at or record.started_at) * 1000)),
        "content": compact_json(content),
    }


def _parse_create(params: Mapping[str, str]) -> CreateMediaConvertTaskRequest:
    return CreateMediaConvertTaskRequest.from_query(params)


def _notification_topic(wire: Mapping[str, str]) -> str | None:
    raw = wire.get("Notification")
    if not raw:
        return None
    topic = json.loads(raw).get("MNS", {}).get("TopicName")
    return topic if isinstance(topic, str) else None


def _new_event_id() -> str:
    """IMM's event id shape: 3 hex digits, a dash, 27 letters and digits (`2C2-1I0EG57VR37J4rQ8oKG6C9x`)."""
    tail = "".join(secrets.choice(_EVENT_ID_ALPHABET) for _ in range(27))
    return f"{secrets.token_hex(2)[:3].upper()}-{tail}"

"""OSS asynchronous audio processing: `POST /<bucket>/<key>?x-oss-async-process` (audio/convert, /concat).

Submission checks what can be checked at once and answers `{"EventId","RequestId","TaskId"}`:

    400 InvalidArgument   the body is not `x-oss-async-process=<process>` (raw, as the SDKs send it, or
                          form-encoded), or the process string breaks a rule (the message names the
                          parameter and the rule, e.g. `ar (format_sample_rate): …`), or the notify topic
                          does not exist in MNS (checked when MNS runs)
    404 NoSuchKey         the source object, or a /pre or /sur clip (same bucket), does not exist
    404 NoSuchBucket      the sys/saveas bucket does not exist

The task is persisted (async_tasks.py) and run on `cloud.tasks`: the media engine converts the source,
or concatenates the /pre clips, the source object whole and the /sur clips (seed-notes.md) with `align`
indexing that list; ar/ac left to default are inherited and checked with `check_inherited`, so a value the
format cannot take fails the task (InvalidParameter.Inherited). The output is written at the sys/saveas key
with `{autoext}` resolved (ObjectCreated:PutObject is announced), and when `notify` names a topic the
IMM-style envelope is published there, on success and on failure:

    {"id","source":"acs.imm","type":"imm:Task:MediaConvert","subject":"acs:imm:<region>:<account>:<bucket>/…",
     "time":"<ms>","content":"{\\"TaskId\\",\\"Status\\":\\"Succeeded\\"|\\"Failed\\",\\"Code\\",\\"Message\\",…}"}

Failure codes come from the engine's MediaError (InvalidSource, NoAudioStream, InvalidParameter,
InvalidParameter.Inherited, BitrateBelowTarget, UnsupportedByLocalEngine, EncodeFailed) or are
InvalidParameter (a request the engine refuses) and InternalError (a bug; logged). Tasks left running
by a stopped localcloud run again on start, and a finished task whose message was never published is
published then.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Response

from localcloud.engines.errors import MediaError
from localcloud.lifecycle import MediaTaskLifecycle, TaskFailure, coded_failure
from localcloud.ports import ObjectCreated
from localcloud.services.base import ServiceHttpError, json_response, new_uuid_request_id
from localcloud.services.oss import wire
from localcloud.services.oss.async_tasks import AsyncTaskRecord, AsyncTaskStore
from localcloud.services.oss.errors import INVALID_ARGUMENT, NO_SUCH_BUCKET, NO_SUCH_KEY
from localcloud.services.oss.process_plan import ProcessPlan, output_check, plan_process, transcode_spec
from localcloud.services.oss.store import check_object_key
from shared.clients.oss_models import guess_content_type
from shared.errors import InvalidRequestError
from shared.logging import get_logger
from shared.ops.enums import ImmTaskStatus
from shared.ops.oss import ASYNC_PROCESS_PARAM, process_from_body

if TYPE_CHECKING:
    from localcloud.services.oss.call import Call, OssParts

log = get_logger("localcloud.oss.process")

TASK_TYPE = "MediaConvert"
_BODY_LIMIT = 64 * 1024
_EVENT_ID_ALPHABET = string.ascii_letters + string.digits


def _failure(error: Exception) -> TaskFailure | None:
    return coded_failure(
        error,
        coded=(MediaError, ServiceHttpError),
        invalid_code="InvalidParameter",
        describe=lambda invalid: wire.invalid_argument(invalid).message,
    )


class AsyncProcessor:
    """Accepts, persists, runs and reports OSS async-processing tasks."""

    def __init__(self, service: OssParts) -> None:
        self.service = service
        self.tasks = AsyncTaskStore(service.state)
        self.lifecycle: MediaTaskLifecycle[AsyncTaskRecord, None] = MediaTaskLifecycle(
            "oss.async",
            self.tasks,
            service.cloud.tasks,
            start_delay=service.config.task_start_delay,
            begin=self._begin,
            execute=self._produce,
            failure=_failure,
            finish=self._finish,
            pending_notification=lambda record: record.topic is not None and not record.notified,
            deliver=self._publish,
        )

    # --- submission -----------------------------------------------------------------------------------

    def submit(self, call: Call) -> Response:
        store = self.service.store
        process = _process_string(call)
        plan = plan_process(process, call.key)
        store.head(call.bucket, call.key)
        for label, key in plan.sources:
            if label != "source" and not store.exists(call.bucket, key):
                hint = next((w for w in plan.warnings if w.startswith(label)), "")
                raise NO_SUCH_KEY(
                    f"{label}: the object {key!r} does not exist in bucket {call.bucket!r}"
                    + (f" ({hint})" if hint else "")
                    + "; every /pre and /sur clip is read from the request's bucket.",
                    Key=key,
                )
        if not store.bucket_exists(plan.saveas.bucket):
            raise NO_SUCH_BUCKET(
                f"sys/saveas.b: the bucket {plan.saveas.bucket!r} does not exist.",
                BucketName=plan.saveas.bucket,
            )
        check_object_key(plan.target_key)
        topic = plan.notify.topic if plan.notify else None
        if topic is not None:
            self._check_topic(topic)
        for warning in plan.warnings:
            log.warning("oss.async.name_taken_literally", warning=warning)
        record = AsyncTaskRecord(
            task_id=f"{TASK_TYPE}-{uuid.uuid4()}",
            event_id=_new_event_id(),
            request_id=new_uuid_request_id(),
            bucket=call.bucket,
            key=call.key,
            process=process,
            target_bucket=plan.saveas.bucket,
            target_key=plan.target_key,
            topic=topic,
            status=ImmTaskStatus.RUNNING,
            code="",
            message="",
            created_at=time.time(),
            started_at=None,
            ended_at=None,
            notified=False,
        )
        self.tasks.insert(record)
        self.lifecycle.schedule(record.task_id)
        answer = {"EventId": record.event_id, "RequestId": record.request_id, "TaskId": record.task_id}
        return json_response(answer, headers=wire.base_headers(call.request_id))

    def _check_topic(self, topic: str) -> None:
        try:
            mns = self.service.cloud.mns()
        except LookupError:
            return  # MNS is not part of this localcloud: nothing to check against (publishing is skipped)
        if not mns.topic_exists(topic):
            raise INVALID_ARGUMENT(
                f"notify.topic: the MNS topic {topic!r} does not exist in {self.service.config.region}; "
                "create it before asking for notifications.",
                ArgumentName="notify.topic",
                ArgumentValue=topic,
            )

    # --- running --------------------------------------------------------------------------------------

    def resume(self) -> None:
        self.lifecycle.resume()

    def _begin(self, task_id: str) -> AsyncTaskRecord | None:
        record = self.tasks.get(task_id)
        if record is None or record.status is not ImmTaskStatus.RUNNING:
            return None
        self.tasks.mark_started(task_id, time.time())
        return record

    def _finish(self, task_id: str, result: None, failure: TaskFailure | None) -> bool:
        if failure is None:
            return self.tasks.finish(task_id, ImmTaskStatus.SUCCEEDED, "", "", time.time())
        return self.tasks.finish(task_id, ImmTaskStatus.FAILED, failure.code, failure.message, time.time())

    def _produce(self, record: AsyncTaskRecord) -> None:
        plan = plan_process(record.process, record.key)
        paths: list[Path] = []
        try:
            for label, key in plan.sources:
                paths.append(self._pin_source(record.bucket, key, label))
            self._render(record, plan, paths)
        finally:
            for path in paths:
                path.unlink(missing_ok=True)

    def _pin_source(self, bucket: str, key: str, label: str) -> Path:
        """A hard link to the source's current blob: an overwrite or delete while the task reads it then
        changes nothing for this task (the link keeps the version it started with)."""
        store = self.service.store
        for _ in range(3):
            try:
                current = store.head(bucket, key).path
            except ServiceHttpError as error:
                raise TaskFailure(
                    MediaError.INVALID_SOURCE, f"{label}: oss://{bucket}/{key}: {error.message}"
                ) from None
            pinned = self.service.state.new_temp_path(current.suffix)
            try:
                os.link(current, pinned)
                return pinned
            except FileNotFoundError:
                continue  # replaced between the lookup and the link: look again
        raise TaskFailure(
            MediaError.INVALID_SOURCE, f"{label}: oss://{bucket}/{key} kept changing while it was read"
        )

    def _render(self, record: AsyncTaskRecord, plan: ProcessPlan, paths: list[Path]) -> None:
        from localcloud.engines.media import ClipSource, concat, transcode

        store = self.service.store
        # Engine messages name the files they read: show the objects instead of blob paths.
        names = {
            str(path): f"oss://{record.bucket}/{key}"
            for path, (_, key) in zip(paths, plan.sources, strict=True)
        }
        spec = transcode_spec(plan.params)
        check = output_check(plan.params)
        scratch = self.service.state.new_temp_path("." + plan.params.f.extension)
        try:
            if plan.clips is None:
                transcode(paths[0], scratch, spec, check_output=check)
            else:
                clips = [
                    ClipSource(path, ss_ms=clip.ss, t_ms=clip.t)
                    for path, clip in zip(paths, plan.clips, strict=True)
                ]
                concat(clips, scratch, spec, align=plan.align, check_output=check)
            written = store.put_file(
                record.target_bucket,
                record.target_key,
                scratch,
                content_type=guess_content_type("output." + plan.params.f.extension),
            )
        except MediaError as error:
            raise MediaError(error.code, _renamed(error.message, names)) from None
        finally:
            scratch.unlink(missing_ok=True)
        store.notify_created(ObjectCreated("ObjectCreated:PutObject", written, record.request_id))

    # --- notification ---------------------------------------------------------------------------------

    def _publish(self, record: AsyncTaskRecord) -> None:
        """Publish the completion message (the lifecycle calls this once per task; a failure is logged)."""
        assert record.topic is not None  # pending_notification: only tasks POSTed with notify.topic
        try:
            mns = self.service.cloud.mns()
        except LookupError:
            log.warning(
                "oss.async.notification_dropped",
                reason="mns is not running",
                task_id=record.task_id,
                topic=record.topic,
            )
            return
        envelope = notification_envelope(
            record, region=self.service.config.region, account_id=self.service.config.account_id
        )
        try:
            mns.publish(record.topic, json.dumps(envelope, ensure_ascii=False))
        except ServiceHttpError as error:
            log.warning(
                "oss.async.notification_failed", task_id=record.task_id, topic=record.topic, code=error.code
            )


def notification_envelope(record: AsyncTaskRecord, *, region: str, account_id: str) -> dict[str, str]:
    """The IMM-style MNS message for a finished task; `content` is a JSON string (ProjectName: the bucket)."""
    try:
        sources = [key for _, key in plan_process(record.process, record.key).sources]
    except InvalidRequestError:  # never expected: the string was accepted once
        sources = [record.key]
    ended = record.ended_at or time.time()
    content: dict[str, Any] = {
        "ProjectName": record.bucket,
        "RequestId": record.request_id,
        "StartTime": _iso_millis(record.started_at or record.created_at),
        "EndTime": _iso_millis(ended),
        "UserData": "",
        "TaskType": TASK_TYPE,
        "TaskId": record.task_id,
        "Status": record.status.value,
        "Code": record.code,
        "Message": record.message,
        "Sources": [{"URI": f"oss://{record.bucket}/{key}"} for key in sources],
        "Targets": [{"URI": record.target_uri}],
    }
    return {
        "id": record.event_id,
        "source": "acs.imm",
        "type": f"imm:Task:{TASK_TYPE}",
        "subject": f"acs:imm:{region}:{account_id}:{record.bucket}/imm:Task:{TASK_TYPE}",
        "time": str(round(ended * 1000)),
        "content": json.dumps(content, ensure_ascii=False, separators=(",", ":")),
    }


def _process_string(call: Call) -> str:
    """The process string of the body: raw `x-oss-async-process=<process>` (the SDKs) or form-encoded."""
    data = wire.read_small_body(call.request, _BODY_LIMIT, "x-oss-async-process body")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError.single(
            "body", "utf8", "the body is not UTF-8 text", "async process"
        ) from None
    form = call.request.mimetype == "application/x-www-form-urlencoded"
    if not (form or "%" in text):
        return process_from_body(data)
    values = [value for name, value in parse_qsl(text, keep_blank_values=True) if name == ASYNC_PROCESS_PARAM]
    if len(values) != 1:
        raise InvalidRequestError.single(
            "body",
            "missing_prefix",
            f"the form body must carry exactly one {ASYNC_PROCESS_PARAM} field, found {len(values)}",
            "async process",
        )
    return values[0]


def _renamed(message: str, names: dict[str, str]) -> str:
    for path, name in names.items():
        message = message.replace(path, name)
    return message


def _iso_millis(moment: float) -> str:
    """UTC ISO 8601 with milliseconds, as IMM writes task times: `2024-08-20T07:03:07.360Z`."""
    stamp = datetime.fromtimestamp(moment, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _new_event_id() -> str:
    """The event id shape OSS and IMM answer: 3 hex digits, a dash, 27 letters and digits."""
    tail = "".join(secrets.choice(_EVENT_ID_ALPHABET) for _ in range(27))
    return f"{secrets.token_hex(2)[:3].upper()}-{tail}"

"""Small fake service clients that record their calls; no sockets. They answer with the real models."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.clients.errors import ObjectNotFound
from shared.clients.oss_models import ListResult, ObjectInfo, ObjectSummary
from shared.errors import ServiceError
from shared.events.notifications import TaskNotification
from shared.jobs.backend import InMemoryBackend
from shared.jobs.store import JobStore
from shared.ops.asr import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
    MultimodalGenerationResponse,
    TaskStatusResponse,
    TaskSubmitResponse,
    TranscriptionResult,
    iter_sse_events,
    parse_stream_payload,
)
from shared.ops.ice import (
    GetSmartHandleJobResponse,
    SubmitAudioProduceJobRequest,
    SubmitAudioProduceJobResponse,
)
from shared.ops.imm import CreateMediaConvertTaskRequest, CreateMediaConvertTaskResponse, GetTaskResponse
from shared.ops.oss import AsyncProcessResponse, AudioConcatRequest, AudioConvertRequest
from shared.pipeline.orchestrator import Orchestrator, SweepReport
from shared.pipeline.settings import PipelineSettings
from tests.unit.jobs.conftest import Clock
from tests.unit.ops.asr_seed_examples import MULTIMODAL_RESPONSE, TRANSCRIPTION_RESULT, stream_wire_lines

RESULT_URL = "https://dashscope-result.example/result.json?Signature=secret"


def not_found(key: str) -> ObjectNotFound:
    return ObjectNotFound(f"no {key}", service="oss", code="NoSuchKey", status=404)


@dataclass
class Submission:
    task_id: str
    bucket: str
    source: str
    target: str
    process: str


@dataclass
class FakeOss:
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)
    puts: list[str] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    # User metadata (names without x-oss-meta-) that HEAD answers, by (bucket, key).
    metadata: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # Last-Modified that listings show, by (bucket, key); none when absent (the reconciler then checks).
    modified: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # Called with each submission before submit_* returns (a notification racing the answer).
    on_submit: Callable[[Submission], None] | None = None
    fail_submit: Exception | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self, bucket: str, key: str, data: bytes = b"RIFF....WAVE", metadata: dict[str, str] | None = None
    ) -> str:
        self.objects[(bucket, key)] = data
        self.metadata[(bucket, key)] = dict(metadata or {})
        return _etag(data)

    def iter_list_pages(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int = 1000,
        start_after: str | None = None,
    ) -> Iterator[ListResult]:
        keys = sorted(k for b, k in self.objects if b == bucket and k.startswith(prefix))
        keys = [k for k in keys if not start_after or k > start_after]
        for first in range(0, len(keys), page_size):
            chunk = keys[first : first + page_size]
            data = [(k, self.objects[(bucket, k)]) for k in chunk]
            summaries = tuple(
                ObjectSummary(k, len(body), _etag(body), self.modified.get((bucket, k))) for k, body in data
            )
            yield ListResult(objects=summaries, common_prefixes=(), next_token=None, is_truncated=False)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        self.heads.append(key)
        if (bucket, key) not in self.objects:
            raise not_found(key)
        data = self.objects[(bucket, key)]
        return ObjectInfo(
            size=len(data),
            etag=_etag(data),
            content_type=None,
            last_modified=None,
            metadata=self.metadata.get((bucket, key), {}),
        )

    def get_object_bytes(self, bucket: str, key: str) -> bytes:
        if (bucket, key) not in self.objects:
            raise not_found(key)
        return self.objects[(bucket, key)]

    def put_object(self, bucket: str, key: str, data: bytes) -> object:
        self.puts.append(key)
        self.objects[(bucket, key)] = bytes(data)
        return None

    def presign_get(self, bucket: str, key: str, expires: int) -> str:
        return f"https://{bucket}.oss.example/{key}?Expires={expires}&Signature=secret"

    def submit_convert(self, bucket: str, key: str, request: AudioConvertRequest) -> AsyncProcessResponse:
        return self._submit(bucket, key, request.saveas.object, request.to_process())

    def submit_concat(self, bucket: str, request: AudioConcatRequest) -> AsyncProcessResponse:
        wire = request.to_wire()
        return self._submit(bucket, wire.source_key, request.saveas.object, wire.process)

    def _submit(self, bucket: str, source: str, target: str, process: str) -> AsyncProcessResponse:
        if self.fail_submit is not None:
            raise self.fail_submit
        submission = Submission(f"oss-task-{next(self._ids)}", bucket, source, target, process)
        self.submissions.append(submission)
        if self.on_submit is not None:
            self.on_submit(submission)
        return AsyncProcessResponse.parse({"EventId": "e", "RequestId": "r", "TaskId": submission.task_id})

    def finish(self, submission: Submission, data: bytes = b"fLaC....") -> None:
        """The task wrote its output (as OSS would, before notifying)."""
        self.objects[(submission.bucket, submission.target)] = data


def notification_for(submission: Submission, status: str = "Succeeded", **fields: Any) -> TaskNotification:
    return TaskNotification.model_validate(
        {
            "TaskId": submission.task_id,
            "Status": status,
            "Targets": [{"URI": f"oss://{submission.bucket}/{submission.target}"}],
            **fields,
        }
    )


@dataclass
class FakeMns:
    published: list[tuple[str, str]] = field(default_factory=list)
    fail: ServiceError | None = None

    def publish(self, topic: str, body: str) -> object:
        if self.fail is not None:
            raise self.fail
        self.published.append((topic, body))
        return None


@dataclass
class FakeDashScope:
    filetrans: list[FiletransRequest] = field(default_factory=list)
    sync: list[MultimodalGenerationRequest] = field(default_factory=list)
    compatible: list[ChatCompletionRequest] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=lambda: TRANSCRIPTION_RESULT)
    sync_answer: dict[str, Any] = field(default_factory=lambda: MULTIMODAL_RESPONSE)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def submit_filetrans(self, request: FiletransRequest) -> TaskSubmitResponse:
        self.filetrans.append(request)
        task_id = f"asr-task-{next(self._ids)}"
        self.status[task_id] = "RUNNING"
        return TaskSubmitResponse.parse({"output": {"task_id": task_id, "task_status": "PENDING"}})

    def get_task(self, task_id: str) -> TaskStatusResponse:
        state = self.status.get(task_id, "UNKNOWN")
        output: dict[str, Any] = {"task_id": task_id, "task_status": state}
        if state == "SUCCEEDED":
            output["result"] = {"transcription_url": RESULT_URL}
        if state == "FAILED":
            output.update(code="FILE_DOWNLOAD_FAILED", message="could not download")
        return TaskStatusResponse.parse({"output": output, "usage": {"seconds": 7}})

    def download_transcription(self, url: str) -> TranscriptionResult:
        assert url == RESULT_URL
        return TranscriptionResult.parse(self.result)

    def multimodal_generation(self, request: MultimodalGenerationRequest) -> MultimodalGenerationResponse:
        self.sync.append(request)
        return MultimodalGenerationResponse.parse(self.sync_answer)

    def chat_completion_stream(self, request: ChatCompletionRequest) -> Iterator[ChatCompletionChunk]:
        """The seed's streamed answer, chunk by chunk."""
        self.compatible.append(request)
        for payload in iter_sse_events(stream_wire_lines()):
            chunk = parse_stream_payload(payload)
            assert isinstance(chunk, ChatCompletionChunk)
            yield chunk


@dataclass
class FakeImm:
    created: list[CreateMediaConvertTaskRequest] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)

    def create_media_convert_task(
        self, request: CreateMediaConvertTaskRequest
    ) -> CreateMediaConvertTaskResponse:
        self.created.append(request)
        task_id = f"MediaConvert-{len(self.created)}"
        self.status[task_id] = "Running"
        return CreateMediaConvertTaskResponse.parse({"RequestId": "r", "TaskId": task_id})

    def get_task(self, project: str, task_id: str) -> GetTaskResponse:
        return GetTaskResponse.parse({"TaskId": task_id, "Status": self.status[task_id]})


@dataclass
class FakeIce:
    submitted: list[SubmitAudioProduceJobRequest] = field(default_factory=list)
    state: dict[str, str] = field(default_factory=dict)

    def submit_audio_produce_job(
        self, request: SubmitAudioProduceJobRequest
    ) -> SubmitAudioProduceJobResponse:
        self.submitted.append(request)
        job_id = f"ice-job-{len(self.submitted)}"
        self.state[job_id] = "Executing"
        return SubmitAudioProduceJobResponse.parse({"RequestId": "r", "JobId": job_id, "State": "Created"})

    def get_smart_handle_job(self, job_id: str) -> GetSmartHandleJobResponse:
        return GetSmartHandleJobResponse.parse({"JobId": job_id, "State": self.state[job_id]})


@dataclass
class World:
    """An orchestrator over fakes, a movable clock, and everything they recorded."""

    settings: PipelineSettings
    clock: Clock
    backend: InMemoryBackend
    store: JobStore
    oss: FakeOss
    mns: FakeMns
    dashscope: FakeDashScope
    imm: FakeImm
    ice: FakeIce
    orchestrator: Orchestrator

    def timer(self, **options: Any) -> SweepReport:
        """The deployed timer: a minute passes, then a sweep (which reads only the jobs then due)."""
        self.clock.advance(minutes=1)
        return self.orchestrator.sweep(**options)


def make_world(**settings: Any) -> World:
    options: dict[str, Any] = {"bucket": "audiochain"}
    options.update(settings)
    config = PipelineSettings.build(**options).validate()
    clock = Clock()
    backend = InMemoryBackend()
    store = JobStore(
        backend,
        config.jobs_prefix,
        clock=clock,
        lease=timedelta(seconds=config.step_lease_seconds),
        max_attempts=config.max_attempts,
    )
    oss, mns, dashscope, imm, ice = FakeOss(), FakeMns(), FakeDashScope(), FakeImm(), FakeIce()
    orchestrator = Orchestrator(
        config, store, oss, mns=mns, dashscope=dashscope, imm=imm, ice=ice, clock=clock
    )
    return World(config, clock, backend, store, oss, mns, dashscope, imm, ice, orchestrator)


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest().upper()

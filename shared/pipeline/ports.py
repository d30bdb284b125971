"""What the orchestrator needs of each service client, as structural types.

The real clients (`shared.clients`) satisfy these; tests pass small fakes. Only the calls the chain
makes are listed, with the arguments it passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, NamedTuple, Protocol

# Annotations only: importing the service models here would put them all on every cold start.
if TYPE_CHECKING:
    from shared.clients.oss_models import ObjectInfo
    from shared.ops.asr import (
        ChatCompletionChunk,
        ChatCompletionRequest,
        FiletransRequest,
        MultimodalGenerationRequest,
        MultimodalGenerationResponse,
        TaskStatusResponse,
        TaskSubmitResponse,
        TranscriptionResult,
    )
    from shared.ops.ice import (
        GetSmartHandleJobResponse,
        SubmitAudioProduceJobRequest,
        SubmitAudioProduceJobResponse,
    )
    from shared.ops.imm import CreateMediaConvertTaskRequest, CreateMediaConvertTaskResponse, GetTaskResponse
    from shared.ops.oss import AsyncProcessResponse, AudioConcatRequest, AudioConvertRequest


class OssPort(Protocol):
    def head_object(self, bucket: str, key: str) -> ObjectInfo: ...

    def get_object_bytes(self, bucket: str, key: str) -> bytes: ...

    def put_object(self, bucket: str, key: str, data: bytes) -> object: ...

    def presign_get(self, bucket: str, key: str, expires: int) -> str: ...

    def submit_convert(self, bucket: str, key: str, request: AudioConvertRequest) -> AsyncProcessResponse: ...

    def submit_concat(self, bucket: str, request: AudioConcatRequest) -> AsyncProcessResponse: ...


class MnsPort(Protocol):
    def publish(self, topic: str, body: str) -> object: ...


class DashScopePort(Protocol):
    def multimodal_generation(self, request: MultimodalGenerationRequest) -> MultimodalGenerationResponse: ...

    def chat_completion_stream(self, request: ChatCompletionRequest) -> Iterator[ChatCompletionChunk]: ...

    def submit_filetrans(self, request: FiletransRequest) -> TaskSubmitResponse: ...

    def get_task(self, task_id: str) -> TaskStatusResponse: ...

    def download_transcription(self, url: str) -> TranscriptionResult: ...


class ImmPort(Protocol):
    def create_media_convert_task(
        self, request: CreateMediaConvertTaskRequest
    ) -> CreateMediaConvertTaskResponse: ...

    def get_task(self, project: str, task_id: str) -> GetTaskResponse: ...


class IcePort(Protocol):
    def submit_audio_produce_job(
        self, request: SubmitAudioProduceJobRequest
    ) -> SubmitAudioProduceJobResponse: ...

    def get_smart_handle_job(self, job_id: str) -> GetSmartHandleJobResponse: ...


class Clients(NamedTuple):
    """The service clients of one orchestrator; those a function never uses may be None."""

    oss: OssPort
    mns: MnsPort | None = None
    dashscope: DashScopePort | None = None
    imm: ImmPort | None = None
    ice: IcePort | None = None

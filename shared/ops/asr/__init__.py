"""Qwen-ASR models in one import: requests, responses, streaming and the usage arithmetic.

    from shared.ops.asr import ChatCompletionRequest, ChatCompletion, CHAT_COMPLETIONS_PATH

    request = ChatCompletionRequest.for_audio("https://example.com/welcome.mp3", language="en")
    body, headers = request.to_json_bytes(), request.extra_headers()
    response = client.post(CHAT_COMPLETIONS_PATH, content=body, headers=headers)
    print(ChatCompletion.parse(response.json()).text)

The definitions live in the modules of this package: audio (audio reference, size rule, usage), requests
(synchronous requests, paths, headers), filetrans (asynchronous request), responses and stream.
"""

from __future__ import annotations

from shared.ops.asr.audio import (
    AUDIO_TOKENS_PER_SECOND,
    MAX_REQUEST_BYTES,
    AsrBodyModel,
    AsrRequestModel,
    AudioInput,
    AudioSourceKind,
    audio_tokens_for,
)
from shared.ops.asr.filetrans import FiletransInput, FiletransParameters, FiletransRequest, task_path
from shared.ops.asr.requests import (
    ASYNC_HEADER,
    ASYNC_HEADER_VALUE,
    CHAT_COMPLETIONS_PATH,
    MULTIMODAL_GENERATION_PATH,
    OSS_RESOURCE_RESOLVE_HEADER,
    OSS_RESOURCE_RESOLVE_VALUE,
    TASK_PATH_TEMPLATE,
    TRANSCRIPTION_PATH,
    AsrOptions,
    ChatCompletionRequest,
    MultimodalGenerationRequest,
    StreamOptions,
)
from shared.ops.asr.responses import (
    AudioAnnotation,
    ChannelTranscript,
    ChatCompletion,
    ChatCompletionChunk,
    DashScopeErrorBody,
    MultimodalGenerationResponse,
    OpenAIErrorBody,
    TaskFailure,
    TaskStatusResponse,
    TaskSubmitResponse,
    TranscribedSentence,
    TranscribedWord,
    TranscriptionResult,
)
from shared.ops.asr.stream import assemble_stream, iter_sse_events, parse_stream_payload

__all__ = [
    "ASYNC_HEADER",
    "ASYNC_HEADER_VALUE",
    "AUDIO_TOKENS_PER_SECOND",
    "CHAT_COMPLETIONS_PATH",
    "MAX_REQUEST_BYTES",
    "MULTIMODAL_GENERATION_PATH",
    "OSS_RESOURCE_RESOLVE_HEADER",
    "OSS_RESOURCE_RESOLVE_VALUE",
    "TASK_PATH_TEMPLATE",
    "TRANSCRIPTION_PATH",
    "AsrBodyModel",
    "AsrOptions",
    "AsrRequestModel",
    "AudioAnnotation",
    "AudioInput",
    "AudioSourceKind",
    "ChannelTranscript",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "DashScopeErrorBody",
    "FiletransInput",
    "FiletransParameters",
    "FiletransRequest",
    "MultimodalGenerationRequest",
    "MultimodalGenerationResponse",
    "OpenAIErrorBody",
    "StreamOptions",
    "TaskFailure",
    "TaskStatusResponse",
    "TaskSubmitResponse",
    "TranscribedSentence",
    "TranscribedWord",
    "TranscriptionResult",
    "assemble_stream",
    "audio_tokens_for",
    "iter_sse_events",
    "parse_stream_payload",
    "task_path",
]

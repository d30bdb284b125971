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

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
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

# Names load their module on first use (PEP 562): `shared.ops.asr.audio` alone, which the settings need,
# must not bring every request and response model into a function's cold start.
_MODULE_OF = {
    "ASYNC_HEADER": "shared.ops.asr.requests",
    "ASYNC_HEADER_VALUE": "shared.ops.asr.requests",
    "AUDIO_TOKENS_PER_SECOND": "shared.ops.asr.audio",
    "AsrBodyModel": "shared.ops.asr.audio",
    "AsrOptions": "shared.ops.asr.requests",
    "AsrRequestModel": "shared.ops.asr.audio",
    "AudioAnnotation": "shared.ops.asr.responses",
    "AudioInput": "shared.ops.asr.audio",
    "AudioSourceKind": "shared.ops.asr.audio",
    "CHAT_COMPLETIONS_PATH": "shared.ops.asr.requests",
    "ChannelTranscript": "shared.ops.asr.responses",
    "ChatCompletion": "shared.ops.asr.responses",
    "ChatCompletionChunk": "shared.ops.asr.responses",
    "ChatCompletionRequest": "shared.ops.asr.requests",
    "DashScopeErrorBody": "shared.ops.asr.responses",
    "FiletransInput": "shared.ops.asr.filetrans",
    "FiletransParameters": "shared.ops.asr.filetrans",
    "FiletransRequest": "shared.ops.asr.filetrans",
    "MAX_REQUEST_BYTES": "shared.ops.asr.audio",
    "MULTIMODAL_GENERATION_PATH": "shared.ops.asr.requests",
    "MultimodalGenerationRequest": "shared.ops.asr.requests",
    "MultimodalGenerationResponse": "shared.ops.asr.responses",
    "OSS_RESOURCE_RESOLVE_HEADER": "shared.ops.asr.requests",
    "OSS_RESOURCE_RESOLVE_VALUE": "shared.ops.asr.requests",
    "OpenAIErrorBody": "shared.ops.asr.responses",
    "StreamOptions": "shared.ops.asr.requests",
    "TASK_PATH_TEMPLATE": "shared.ops.asr.requests",
    "TRANSCRIPTION_PATH": "shared.ops.asr.requests",
    "TaskFailure": "shared.ops.asr.responses",
    "TaskStatusResponse": "shared.ops.asr.responses",
    "TaskSubmitResponse": "shared.ops.asr.responses",
    "TranscribedSentence": "shared.ops.asr.responses",
    "TranscribedWord": "shared.ops.asr.responses",
    "TranscriptionResult": "shared.ops.asr.responses",
    "assemble_stream": "shared.ops.asr.stream",
    "audio_tokens_for": "shared.ops.asr.audio",
    "iter_sse_events": "shared.ops.asr.stream",
    "parse_stream_payload": "shared.ops.asr.stream",
    "task_path": "shared.ops.asr.filetrans",
}


__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)


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

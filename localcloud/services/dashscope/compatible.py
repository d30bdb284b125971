"""`POST /compatible-mode/v1/chat/completions`: qwen3-asr-flash the OpenAI way, whole or streamed.

The whole answer is the seed's `chat.completion` (id `chatcmpl-<request id>`, one choice whose message holds
the transcript and an `audio_info` annotation, finish_reason "stop", usage with 25 audio tokens a second).

Streamed (`stream: true`) it is server-sent events exactly like the seed's:

    data: {... "choices":[{"logprobs":null,"index":0,"delta":{"content":"","role":"assistant"}}]}
    data: {... "choices":[{"delta":{"annotations":[...],"content":"Welcome","role":null},"index":0}]}
    ...                                             (one chunk per word or punctuation mark)
    data: {... "choices":[{"delta":{"role":null},"index":0,"finish_reason":"stop"}]}
    data: {... "choices":[],"usage":{...}}         (only with stream_options.include_usage)
    data: [DONE]

The first chunk leaves as soon as the audio is fetched and probed, before recognition starts; the engine
interface returns a file's transcript at once, so the text chunks follow when recognition ends. Should the
engine fail after the first chunk, the stream ends with an `{"error": {...}}` event and no [DONE].
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from localcloud.engines.asr import Recognition
from localcloud.services.base import ServiceHttpError
from localcloud.services.dashscope.errors import REQUEST_ID_HEADER, api_error, openai_error_document
from localcloud.services.dashscope.recognition import (
    EMOTION,
    audio_tokens,
    billed_seconds,
    stream_pieces,
    text_tokens,
)
from localcloud.services.dashscope.synchronous import SyncJob, prepare_job
from localcloud.services.dashscope.wire import ok, read_body, sse_event
from shared.logging import get_logger
from shared.ops.asr import ChatCompletionRequest

if TYPE_CHECKING:
    from localcloud.services.dashscope.parts import DashScopeParts

log = get_logger("localcloud.dashscope")

OPERATION = ChatCompletionRequest.operation
_INTERNAL_MESSAGE = "localcloud hit an internal error; see its log"
LANGUAGE_FIELD = "asr_options.language"


@dataclass(frozen=True)
class _Answer:
    """What every chunk of one answer repeats."""

    id: str
    model: str
    created: int

    def chunk(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "model": self.model,
            "id": self.id,
            "choices": choices,
            "created": self.created,
            "object": "chat.completion.chunk",
            "usage": usage,
        }


def chat_completions(service: DashScopeParts, request: Request, request_id: str) -> Response:
    """Recognise the request's audio and answer as the OpenAI-compatible endpoint does."""
    parsed = ChatCompletionRequest.from_json(read_body(request, OPERATION))
    audio_field = f"messages[{len(parsed.messages) - 1}].content[0].input_audio.data"
    job = prepare_job(
        service,
        request,
        parsed.audio,
        parsed.options.language,
        audio_field=audio_field,
        language_field=LANGUAGE_FIELD,
    )
    answer = _Answer(id=f"chatcmpl-{request_id}", model=parsed.model.value, created=int(time.time()))
    if parsed.stream:
        response = Response(
            _events(job, answer, parsed.include_usage, request_id),
            content_type="text/event-stream;charset=UTF-8",
            headers={REQUEST_ID_HEADER: request_id, "Cache-Control": "no-cache"},
            direct_passthrough=True,
        )
        # The generator's own cleanup runs only once it started; a client gone before that still frees it.
        response.call_on_close(job.close)
        return response
    with job:
        recognition = job.recognize()
    return ok(_completion(answer, recognition, job.info.duration_ms), request_id)


def _completion(answer: _Answer, recognition: Recognition, duration_ms: float) -> dict[str, Any]:
    return {
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "annotations": [
                        {"emotion": EMOTION, "language": recognition.language, "type": "audio_info"}
                    ],
                    "content": recognition.text,
                    "role": "assistant",
                },
            }
        ],
        "created": answer.created,
        "id": answer.id,
        "model": answer.model,
        "object": "chat.completion",
        "usage": _usage(recognition, duration_ms),
    }


def _usage(recognition: Recognition, duration_ms: float) -> dict[str, Any]:
    audio = audio_tokens(duration_ms)
    output = text_tokens(recognition.text)
    return {
        "completion_tokens": output,
        "completion_tokens_details": {"text_tokens": output},
        "prompt_tokens": audio,
        "prompt_tokens_details": {"audio_tokens": audio, "text_tokens": 0},
        "seconds": billed_seconds(duration_ms),
        "total_tokens": audio + output,
    }


def _events(job: SyncJob, answer: _Answer, include_usage: bool, request_id: str) -> Iterator[bytes]:
    try:
        first = answer.chunk([{"logprobs": None, "index": 0, "delta": {"content": "", "role": "assistant"}}])
        yield sse_event(first)
        try:
            recognition = job.recognize()
        except ServiceHttpError as error:
            yield sse_event(openai_error_document(error, request_id))
            return
        except Exception:
            # The status line is gone already: the client learns of the failure only from the stream.
            log.exception("dashscope.stream.failed", request_id=request_id)
            internal = api_error(500, "InternalError", _INTERNAL_MESSAGE, openai_code="internal_error")
            yield sse_event(openai_error_document(internal, request_id))
            return
        annotation = {"type": "audio_info", "language": recognition.language, "emotion": EMOTION}
        for piece in stream_pieces(recognition.text) or [""]:
            delta = {"annotations": [annotation], "content": piece, "role": None}
            yield sse_event(answer.chunk([{"delta": delta, "index": 0}]))
        yield sse_event(answer.chunk([{"delta": {"role": None}, "index": 0, "finish_reason": "stop"}]))
        if include_usage:
            yield sse_event(answer.chunk([], _usage(recognition, job.info.duration_ms)))
        yield sse_event("[DONE]")
    finally:
        job.close()

"""`POST /api/v1/services/aigc/multimodal-generation/generation`: DashScope synchronous Qwen-ASR.

Models qwen3-asr-flash and qwen3-asr-flash-us; the answer is the seed's:

    {"output": {"choices": [{"finish_reason": "stop", "message": {"annotations": [{"language", "type",
     "emotion"}], "content": [{"text": "..."}], "role": "assistant"}}]},
     "usage": {"input_tokens_details": {"text_tokens": 0}, "output_tokens_details": {"text_tokens": n},
               "seconds": s},
     "request_id": "..."}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from localcloud.services.dashscope.recognition import EMOTION, billed_seconds, text_tokens
from localcloud.services.dashscope.synchronous import prepare_job
from localcloud.services.dashscope.wire import ok, read_body
from shared.ops.asr import MultimodalGenerationRequest

if TYPE_CHECKING:
    from localcloud.services.dashscope.parts import DashScopeParts

OPERATION = MultimodalGenerationRequest.operation
LANGUAGE_FIELD = "parameters.asr_options.language"


def generation(service: DashScopeParts, request: Request, request_id: str) -> Response:
    """Recognise the request's audio and answer as DashScope's synchronous endpoint does."""
    parsed = MultimodalGenerationRequest.from_json(read_body(request, OPERATION))
    job = prepare_job(
        service,
        request,
        parsed.audio,
        parsed.options.language,
        audio_field=f"input.messages[{len(parsed.input.messages) - 1}].content[0].audio",
        language_field=LANGUAGE_FIELD,
    )
    with job:
        recognition = job.recognize()
    output_tokens = text_tokens(recognition.text)
    payload: dict[str, Any] = {
        "output": {
            "choices": [
                {
                    "finish_reason": "stop",
                    "message": {
                        "annotations": [
                            {"language": recognition.language, "type": "audio_info", "emotion": EMOTION}
                        ],
                        "content": [{"text": recognition.text}],
                        "role": "assistant",
                    },
                }
            ]
        },
        "usage": {
            "input_tokens_details": {"text_tokens": 0},
            "output_tokens_details": {"text_tokens": output_tokens},
            "seconds": billed_seconds(job.info.duration_ms),
        },
        "request_id": request_id,
    }
    return ok(payload, request_id)

"""The Qwen-ASR seed's examples (qwen-asr.txt), copied verbatim so the tests need nothing outside the repo."""

from __future__ import annotations

from typing import Any

WELCOME_URL = "https://dashscope.oss-cn-beijing.aliyuncs.com/audios/welcome.mp3"

# OpenAI compatible: the cURL body (the Python and Node.js SDK examples send the same JSON).
CHAT_CURL_BODY: dict[str, Any] = {
    "model": "qwen3-asr-flash",
    "messages": [
        {
            "content": [{"type": "input_audio", "input_audio": {"data": WELCOME_URL}}],
            "role": "user",
        }
    ],
    "stream": False,
    "asr_options": {"enable_itn": False},
}

# DashScope synchronous: the cURL body.
MULTIMODAL_CURL_BODY: dict[str, Any] = {
    "model": "qwen3-asr-flash",
    "input": {
        "messages": [
            {"content": [{"text": ""}], "role": "system"},
            {"content": [{"audio": WELCOME_URL}], "role": "user"},
        ]
    },
    "parameters": {"asr_options": {"enable_itn": False}},
}

# DashScope synchronous: what the Python SDK example (MultiModalConversation.call) sends.
MULTIMODAL_SDK_BODY: dict[str, Any] = {
    "model": "qwen3-asr-flash",
    "parameters": {"asr_options": {"enable_itn": False}, "result_format": "message"},
    "input": {
        "messages": [
            {"role": "system", "content": [{"text": ""}]},
            {"role": "user", "content": [{"audio": WELCOME_URL}]},
        ]
    },
}

# DashScope asynchronous: the cURL, Java and Python (requests) bodies are the same.
FILETRANS_BODY: dict[str, Any] = {
    "model": "qwen3-asr-flash-filetrans",
    "input": {"file_url": WELCOME_URL},
    "parameters": {"channel_id": [0], "enable_itn": False},
}

CHAT_COMPLETION: dict[str, Any] = {
    "choices": [
        {
            "finish_reason": "stop",
            "index": 0,
            "message": {
                "annotations": [{"emotion": "neutral", "language": "zh", "type": "audio_info"}],
                "content": "Welcome to Alibaba Cloud.",
                "role": "assistant",
            },
        }
    ],
    "created": 1767683986,
    "id": "chatcmpl-487abe5f-d4f2-9363-a877-xxxxxxx",
    "model": "qwen3-asr-flash",
    "object": "chat.completion",
    "usage": {
        "completion_tokens": 12,
        "completion_tokens_details": {"text_tokens": 12},
        "prompt_tokens": 42,
        "prompt_tokens_details": {"audio_tokens": 42, "text_tokens": 0},
        "seconds": 1,
        "total_tokens": 54,
    },
}

# The streaming example as printed in the seed: one `data:` line per event. On the wire each event is
# followed by a blank line; the seed's listing drops them (see stream_wire_lines).
STREAM_DATA_LINES = [
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","created":1767685989,"object":"chat.completion.chunk","usage":null,"choices":[{"logprobs":null,"index":0,"delta":{"content":"","role":"assistant"}}]}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"annotations":[{"type":"audio_info","language":"zh","emotion":"neutral"}],"content":"Welcome","role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"annotations":[{"type":"audio_info","language":"zh","emotion":"neutral"}],"content":" to","role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"annotations":[{"type":"audio_info","language":"zh","emotion":"neutral"}],"content":" Alibaba","role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"annotations":[{"type":"audio_info","language":"zh","emotion":"neutral"}],"content":" Cloud","role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"annotations":[{"type":"audio_info","language":"zh","emotion":"neutral"}],"content":".","role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    'data: {"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803-d27f-9289-8889-xxxxx","choices":[{"delta":{"role":null},"index":0,"finish_reason":"stop"}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',  # noqa: E501
    "data: [DONE]",
]


def stream_wire_lines() -> list[str]:
    """The seed's stream as it travels: every event followed by a blank line."""
    lines: list[str] = []
    for line in STREAM_DATA_LINES:
        lines += [line, ""]
    return lines


MULTIMODAL_RESPONSE: dict[str, Any] = {
    "output": {
        "choices": [
            {
                "finish_reason": "stop",
                "message": {
                    "annotations": [{"language": "zh", "type": "audio_info", "emotion": "neutral"}],
                    "content": [{"text": "Welcome to Alibaba Cloud."}],
                    "role": "assistant",
                },
            }
        ]
    },
    "usage": {
        "input_tokens_details": {"text_tokens": 0},
        "output_tokens_details": {"text_tokens": 6},
        "seconds": 1,
    },
    "request_id": "568e2bf0-d6f2-97f8-9f15-a57b11dc6977",
}

TASK_SUBMITTED: dict[str, Any] = {
    "request_id": "92e3decd-0c69-47a8-************",
    "output": {"task_id": "8fab76d0-0eed-4d20-************", "task_status": "PENDING"},
}

TASK_RUNNING: dict[str, Any] = {
    "request_id": "6769df07-2768-4fb0-ad59-************",
    "output": {
        "task_id": "9be1700a-0f8e-4778-be74-************",
        "task_status": "RUNNING",
        "submit_time": "2025-10-27 14:19:31.150",
        "scheduled_time": "2025-10-27 14:19:31.233",
        "task_metrics": {"TOTAL": 1, "SUCCEEDED": 0, "FAILED": 0},
    },
}

TASK_SUCCEEDED: dict[str, Any] = {
    "request_id": "1dca6c0a-0ed1-4662-aa39-************",
    "output": {
        "task_id": "8fab76d0-0eed-4d20-929f-************",
        "task_status": "SUCCEEDED",
        "submit_time": "2025-10-27 13:57:45.948",
        "scheduled_time": "2025-10-27 13:57:46.018",
        "end_time": "2025-10-27 13:57:47.079",
        "result": {"transcription_url": "http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/..."},
    },
    "usage": {"seconds": 3},
}

TASK_FAILED: dict[str, Any] = {
    "request_id": "3d141841-858a-466a-9ff9-************",
    "output": {
        "task_id": "c58c7951-7789-4557-9ea3-************",
        "task_status": "FAILED",
        "submit_time": "2025-10-27 15:06:06.915",
        "scheduled_time": "2025-10-27 15:06:06.967",
        "end_time": "2025-10-27 15:06:07.584",
        "code": "FILE_403_FORBIDDEN",
        "message": "FILE_403_FORBIDDEN",
    },
}

# The paraformer-style poll answer captured from the dashscope SDK (vectors/out_dashscope_capture.txt).
PARAFORMER_TASK_SUCCEEDED: dict[str, Any] = {
    "request_id": "f9e1afad-94d3-997e-a83b-************",
    "output": {
        "task_id": "c2e5d63b-96e1-4607-bb91-************",
        "task_status": "SUCCEEDED",
        "submit_time": "2024-12-16 16:30:59.170",
        "scheduled_time": "2024-12-16 16:30:59.204",
        "end_time": "2024-12-16 16:31:02.375",
        "results": [
            {
                "file_url": "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3",
                "transcription_url": "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/prod/paraformer-v2/x.json?Expires=1&OSSAccessKeyId=x&Signature=x",
                "subtask_status": "SUCCEEDED",
            }
        ],
        "task_metrics": {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0},
    },
    "usage": {"duration": 9},
}

TRANSCRIPTION_RESULT: dict[str, Any] = {
    "file_url": "https://***.wav",
    "audio_info": {"format": "wav", "sample_rate": 16000},
    "transcripts": [
        {
            "channel_id": 0,
            "text": "Senior staff, Principal Doris Jackson, Wakefield faculty, and of course my fellow "
            "classmates. I am honored to have been chosen to speak before my classmates along with the "
            "students across America today.",
            "sentences": [
                {
                    "sentence_id": 0,
                    "begin_time": 240,
                    "end_time": 6720,
                    "language": "en",
                    "emotion": "happy",
                    "text": "Senior staff, Principal Doris Jackson, Wakefield faculty, and of course "
                    "my fellow classmates.",
                    "words": [
                        {"begin_time": 240, "end_time": 1120, "text": "Senior ", "punctuation": ""},
                        {"begin_time": 1120, "end_time": 1200, "text": "staff", "punctuation": ","},
                    ],
                }
            ],
        }
    ],
}

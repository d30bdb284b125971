"""DashScopeClient: the three Qwen-ASR connection types, streaming, task polling and result download."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.clients.base import RetryPolicy
from shared.clients.dashscope import DashScopeClient
from shared.clients.errors import MalformedResponseError, ResponseTooLargeError, WaitTimeoutError
from shared.errors import InvalidRequestError, ServiceResponseError, TransportError
from shared.ops.asr import ChatCompletionRequest, FiletransRequest, MultimodalGenerationRequest
from shared.ops.enums import DashScopeTaskStatus
from tests.unit.clients.conftest import Recorder

API_KEY = "sk-0123456789abcdef0123456789abcdef"
AUDIO_URL = "https://dashscope.oss-cn-beijing.aliyuncs.com/audios/welcome.mp3"
# The seed's streaming example, one event per line pair.
SEED_STREAM = [
    '{"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803","created":1767685989,"object":"chat.completion.chunk",'
    '"usage":null,"choices":[{"logprobs":null,"index":0,"delta":{"content":"","role":"assistant"}}]}',
    '{"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803","choices":[{"delta":{"annotations":[{"type":"audio_info",'
    '"language":"zh","emotion":"neutral"}],"content":"Welcome","role":null},"index":0}],"created":1767685989,'
    '"object":"chat.completion.chunk","usage":null}',
    '{"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803","choices":[{"delta":{"content":" to Alibaba Cloud.",'
    '"role":null},"index":0}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',
    '{"model":"qwen3-asr-flash","id":"chatcmpl-3fb97803","choices":[{"delta":{"role":null},"index":0,'
    '"finish_reason":"stop"}],"created":1767685989,"object":"chat.completion.chunk","usage":null}',
]
SUBMITTED = httpx.Response(
    200,
    json={
        "request_id": "92e3decd-0c69-47a8",
        "output": {"task_id": "8fab76d0-0eed", "task_status": "PENDING"},
    },
)


def task(status: str, **output: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"request_id": "r", "output": {"task_id": "8fab76d0-0eed", "task_status": status, **output}}
    )


def client(recorder: Recorder, **options: Any) -> DashScopeClient:
    options.setdefault("retry", RetryPolicy(sleep=lambda seconds: None))
    return DashScopeClient("https://dashscope.aliyuncs.com", API_KEY, transport=recorder.transport, **options)


def sse(events: list[str], *, done: bool = True, pieces: int = 1) -> Iterator[bytes]:
    text = "".join(f"data: {event}\n\n" for event in events) + ("data: [DONE]\n\n" if done else "")
    raw = text.encode()
    step = max(1, len(raw) // pieces)
    for start in range(0, len(raw), step):
        yield raw[start : start + step]


def streaming(events: list[str], **options: Any) -> Recorder:
    return Recorder(
        [
            lambda request: httpx.Response(
                200, content=sse(events, **options), headers={"Content-Type": "text/event-stream"}
            )
        ]
    )


# OpenAI-compatible ---------------------------------------------------------------------------------------


def test_chat_completion_posts_the_json_body_with_the_bearer_key() -> None:
    answer = {
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {"content": "Welcome to Alibaba Cloud.", "role": "assistant"},
            }
        ],
        "id": "chatcmpl-487abe5f",
        "model": "qwen3-asr-flash",
        "object": "chat.completion",
    }
    recorder = Recorder([httpx.Response(200, json=answer)])
    request = ChatCompletionRequest.for_audio(AUDIO_URL, language="en")
    result = client(recorder).chat_completion(request)
    sent = recorder.last
    assert str(sent.url) == "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["Content-Type"] == "application/json"
    assert recorder.bodies == [request.to_json_bytes()]
    assert json.loads(recorder.bodies[0])["asr_options"] == {"language": "en", "enable_itn": False}
    assert result.text == "Welcome to Alibaba Cloud."


def test_chat_completion_stream_yields_each_chunk_and_ends_at_done() -> None:
    recorder = streaming(SEED_STREAM, pieces=7)
    request = ChatCompletionRequest.for_audio(AUDIO_URL, stream=True)
    chunks = list(client(recorder).chat_completion_stream(request))
    assert recorder.last.headers["Accept"] == "text/event-stream"
    assert json.loads(recorder.last.read())["stream"] is True
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Welcome to Alibaba Cloud."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(chunks) == 4


def test_stream_chunks_are_yielded_before_the_stream_is_complete() -> None:
    produced: list[int] = []

    def slowly() -> Iterator[bytes]:
        for index, event in enumerate(SEED_STREAM):
            produced.append(index)
            yield f"data: {event}\n\n".encode()
        produced.append(len(SEED_STREAM))
        yield b"data: [DONE]\n\n"

    recorder = Recorder([lambda request: httpx.Response(200, content=slowly())])
    stream = client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    next(stream)
    assert len(produced) <= 2
    list(stream)


def test_a_stream_that_ends_without_done_is_a_transport_error() -> None:
    recorder = streaming(SEED_STREAM[:2], done=False)
    stream = client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    with pytest.raises(TransportError) as caught:
        list(stream)
    assert caught.value.code == "IncompleteStream"


def test_an_error_event_in_a_stream_raises_the_service_error() -> None:
    error = '{"error":{"message":"Audio decode failed","type":"invalid_request_error","code":"InvalidAudio"}}'
    recorder = streaming([SEED_STREAM[0], error])
    stream = client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    with pytest.raises(ServiceResponseError) as caught:
        list(stream)
    assert (caught.value.code, caught.value.message) == ("InvalidAudio", "Audio decode failed")


def test_a_stream_event_that_is_not_json_is_a_malformed_response() -> None:
    recorder = streaming(["{not json"])
    stream = client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    with pytest.raises(MalformedResponseError):
        list(stream)


def test_a_throttled_stream_is_retried_before_any_chunk_is_delivered() -> None:
    ok = lambda request: httpx.Response(200, content=sse(SEED_STREAM))  # noqa: E731
    recorder = Recorder(
        [httpx.Response(429, json={"error": {"message": "slow", "code": "limit_requests"}}), ok]
    )
    chunks = list(
        client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    )
    assert len(recorder.requests) == 2
    assert len(chunks) == 4


def test_streaming_and_whole_answer_methods_refuse_the_other_kind_of_request() -> None:
    recorder = Recorder([httpx.Response(200, json={})])
    with pytest.raises(InvalidRequestError) as caught:
        client(recorder).chat_completion_stream(ChatCompletionRequest.for_audio(AUDIO_URL))
    assert (caught.value.field, caught.value.rule) == ("stream", "streaming_required")
    with pytest.raises(InvalidRequestError) as caught:
        client(recorder).chat_completion(ChatCompletionRequest.for_audio(AUDIO_URL, stream=True))
    assert (caught.value.field, caught.value.rule) == ("stream", "not_streaming")
    assert recorder.requests == []


# DashScope synchronous ---------------------------------------------------------------------------------


def test_multimodal_generation_posts_to_the_dashscope_path_and_parses_the_text() -> None:
    answer = {
        "output": {
            "choices": [
                {"finish_reason": "stop", "message": {"content": [{"text": "Welcome."}], "role": "assistant"}}
            ]
        },
        "usage": {"seconds": 1},
        "request_id": "568e2bf0-d6f2",
    }
    recorder = Recorder([httpx.Response(200, json=answer)])
    request = MultimodalGenerationRequest.for_audio(AUDIO_URL, context="")
    result = client(recorder).multimodal_generation(request)
    assert recorder.last.url.path == "/api/v1/services/aigc/multimodal-generation/generation"
    assert recorder.bodies == [request.to_json_bytes()]
    assert (result.text, result.request_id) == ("Welcome.", "568e2bf0-d6f2")


def test_a_dashscope_error_document_is_raised_with_code_and_request_id() -> None:
    error = {"request_id": "54dc32fd", "code": "InvalidParameter", "message": "audio too long"}
    with pytest.raises(ServiceResponseError) as caught:
        client(Recorder([httpx.Response(400, json=error)])).multimodal_generation(
            MultimodalGenerationRequest.for_audio(AUDIO_URL)
        )
    assert (caught.value.code, caught.value.request_id, caught.value.status) == (
        "InvalidParameter",
        "54dc32fd",
        400,
    )


# Asynchronous filetrans --------------------------------------------------------------------------------


def test_submit_filetrans_asks_for_asynchronous_processing() -> None:
    recorder = Recorder([SUBMITTED])
    request = FiletransRequest.for_file(AUDIO_URL, language="en", enable_words=True)
    submitted = client(recorder).submit_filetrans(request)
    sent = recorder.last
    assert str(sent.url) == "https://dashscope.aliyuncs.com/api/v1/services/audio/asr/transcription"
    assert sent.headers["X-DashScope-Async"] == "enable"
    assert sent.headers["Content-Type"] == "application/json"
    assert json.loads(recorder.bodies[0])["model"] == "qwen3-asr-flash-filetrans"
    assert submitted.task_id == "8fab76d0-0eed"


def test_submit_filetrans_is_not_replayed_after_a_server_fault() -> None:
    recorder = Recorder([httpx.Response(500, json={"code": "InternalError", "message": "x"}), SUBMITTED])
    with pytest.raises(ServiceResponseError):
        client(recorder).submit_filetrans(FiletransRequest.for_file(AUDIO_URL))
    assert len(recorder.requests) == 1


def test_get_task_fetches_the_task_with_the_bearer_only() -> None:
    recorder = Recorder(
        [task("SUCCEEDED", result={"transcription_url": "https://r.example.com/x.json?Signature=s"})]
    )
    status = client(recorder).get_task("8fab76d0-0eed")
    sent = recorder.last
    assert (sent.method, str(sent.url)) == (
        "GET",
        "https://dashscope.aliyuncs.com/api/v1/tasks/8fab76d0-0eed",
    )
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert "X-DashScope-Async" not in sent.headers
    assert status.transcription_url == "https://r.example.com/x.json?Signature=s"


def test_wait_for_task_polls_until_the_task_is_final() -> None:
    recorder = Recorder(
        [task("PENDING"), task("RUNNING"), task("FAILED", code="FILE_403_FORBIDDEN", message="no")]
    )
    naps: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    status = client(recorder).wait_for_task(
        "8fab76d0-0eed", timeout=60, poll_interval=5, sleep=sleep, monotonic=lambda: now[0]
    )
    assert status.status is DashScopeTaskStatus.FAILED
    assert status.failure is not None and status.failure.code == "FILE_403_FORBIDDEN"
    assert naps == [5, 5]


def test_wait_for_task_gives_up_at_the_timeout_with_a_retryable_error() -> None:
    recorder = Recorder([task("RUNNING")])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(WaitTimeoutError) as caught:
        client(recorder).wait_for_task(
            "8fab76d0-0eed", timeout=12, poll_interval=5, sleep=sleep, monotonic=lambda: now[0]
        )
    assert (caught.value.task_id, caught.value.last_status, caught.value.retryable) == (
        "8fab76d0-0eed",
        "RUNNING",
        True,
    )
    assert len(recorder.requests) == 4  # at 0, 5, 10 and 12 seconds


@pytest.mark.parametrize(("timeout", "interval", "field"), [(0, 1, "timeout"), (10, -1, "poll_interval")])
def test_wait_for_task_refuses_nonsense_durations(timeout: float, interval: float, field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client(Recorder([task("RUNNING")])).wait_for_task("t", timeout=timeout, poll_interval=interval)
    assert caught.value.field == field


def test_a_task_id_that_would_change_the_path_is_refused() -> None:
    recorder = Recorder([task("RUNNING")])
    with pytest.raises(InvalidRequestError):
        client(recorder).get_task("../services")
    assert recorder.requests == []


@pytest.mark.parametrize("task_id", ["..", ".", "t\u00e9che", "task\u200b1"])
def test_a_task_id_that_is_a_dot_segment_or_not_ascii_is_refused_naming_the_field(task_id: str) -> None:
    recorder = Recorder([task("RUNNING")])
    with pytest.raises(InvalidRequestError) as caught:
        client(recorder).get_task(task_id)
    assert (caught.value.field, caught.value.rule) == ("task_id", "task_id_format")
    assert recorder.requests == []


# Result download ---------------------------------------------------------------------------------------


TRANSCRIPT = {
    "file_url": "https://x/a.wav",
    "audio_info": {"format": "wav", "sample_rate": 16000},
    "transcripts": [
        {
            "channel_id": 0,
            "text": "Senior staff.",
            "sentences": [
                {
                    "sentence_id": 0,
                    "begin_time": 240,
                    "end_time": 1200,
                    "text": "Senior staff.",
                    "words": [{"begin_time": 240, "end_time": 1120, "text": "Senior ", "punctuation": ""}],
                }
            ],
        }
    ],
}


def test_download_transcription_fetches_the_presigned_url_without_the_api_key() -> None:
    recorder = Recorder([httpx.Response(200, json=TRANSCRIPT)])
    url = "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/prod/x.json?Expires=1&OSSAccessKeyId=k&Signature=s"
    result = client(recorder).download_transcription(url)
    assert str(recorder.last.url) == url
    assert "Authorization" not in recorder.last.headers
    assert result.transcripts[0].sentences[0].words[0].text == "Senior "


def test_download_transcription_refuses_a_result_over_its_size_cap() -> None:
    recorder = Recorder([httpx.Response(200, json=TRANSCRIPT)])
    with pytest.raises(ResponseTooLargeError):
        client(recorder).download_transcription("https://r.example.com/x.json", max_bytes=100)


@pytest.mark.parametrize("url", ["", "ftp://r.example.com/x.json", "/relative/x.json"])
def test_download_transcription_refuses_anything_but_an_http_url(url: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        client(Recorder([httpx.Response(200, json=TRANSCRIPT)])).download_transcription(url)
    assert caught.value.field == "url"


def test_a_base_url_with_a_path_prefix_keeps_it() -> None:
    recorder = Recorder([task("RUNNING")])
    DashScopeClient("http://127.0.0.1:9200/dashscope/", API_KEY, transport=recorder.transport).get_task("t-1")
    assert str(recorder.last.url) == "http://127.0.0.1:9200/dashscope/api/v1/tasks/t-1"

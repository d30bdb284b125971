"""What the official SDKs put on the wire parses into our models and equals what our builders make.

The SDKs never reach a socket: openai gets an httpx MockTransport, dashscope's requests adapter is
replaced for the test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.ops.asr import (
    ASYNC_HEADER,
    CHAT_COMPLETIONS_PATH,
    MULTIMODAL_GENERATION_PATH,
    TRANSCRIPTION_PATH,
    ChatCompletion,
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
    MultimodalGenerationResponse,
    TaskStatusResponse,
    TaskSubmitResponse,
    task_path,
)
from tests.unit.ops import asr_seed_examples as seed

openai = pytest.importorskip("openai")
dashscope = pytest.importorskip("dashscope")
requests_adapters = pytest.importorskip("requests.adapters")
requests_models = pytest.importorskip("requests.models")


def _openai_body(**create_kwargs: Any) -> tuple[str, dict[str, Any]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=seed.CHAT_COMPLETION)

    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=0,
    )
    completion = client.chat.completions.create(**create_kwargs)
    assert ChatCompletion.parse(completion.model_dump()).text == "Welcome to Alibaba Cloud."
    (request,) = sent
    return request.url.path, json.loads(request.content)


def test_the_openai_sdk_seed_example_sends_what_our_builder_makes() -> None:
    path, body = _openai_body(
        model="qwen3-asr-flash",
        messages=[
            {"content": [{"type": "input_audio", "input_audio": {"data": seed.WELCOME_URL}}], "role": "user"}
        ],
        stream=False,
        extra_body={"asr_options": {"enable_itn": False}},
    )
    assert path == CHAT_COMPLETIONS_PATH
    assert body == seed.CHAT_CURL_BODY
    assert ChatCompletionRequest.from_body(body) == ChatCompletionRequest.for_audio(seed.WELCOME_URL)


def test_the_openai_sdk_with_context_language_and_itn_parses_to_our_request() -> None:
    _, body = _openai_body(
        model="qwen3-asr-flash",
        messages=[
            {"role": "system", "content": [{"text": "Qwen"}]},
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": seed.WELCOME_URL}}]},
        ],
        stream=False,
        extra_body={"asr_options": {"language": "en", "enable_itn": True}},
    )
    expected = ChatCompletionRequest.for_audio(
        seed.WELCOME_URL, context="Qwen", language="en", enable_itn=True
    )
    assert ChatCompletionRequest.from_body(body) == expected
    assert expected.to_body() == body


def test_an_explicit_null_stream_options_from_the_openai_sdk_is_accepted() -> None:
    _, body = _openai_body(
        model="qwen3-asr-flash",
        messages=[
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": seed.WELCOME_URL}}]}
        ],
        stream=False,
        stream_options=None,
    )
    assert body["stream_options"] is None
    assert ChatCompletionRequest.from_body(body).stream_options is None


class _Captured:
    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.answers: list[dict[str, Any]] = []


@pytest.fixture
def dashscope_wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Captured]:
    captured = _Captured()

    def send(adapter: Any, request: Any, **_: Any) -> Any:
        captured.requests.append(request)
        response = requests_models.Response()
        response.status_code = 200
        response._content = json.dumps(captured.answers.pop(0)).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    monkeypatch.setattr(requests_adapters.HTTPAdapter, "send", send)
    yield captured


def test_the_dashscope_sdk_seed_example_sends_what_our_builder_makes(dashscope_wire: _Captured) -> None:
    dashscope_wire.answers.append(seed.MULTIMODAL_RESPONSE)
    response = dashscope.MultiModalConversation.call(
        api_key="sk-test",
        model="qwen3-asr-flash",
        messages=[
            {"role": "system", "content": [{"text": ""}]},
            {"role": "user", "content": [{"audio": seed.WELCOME_URL}]},
        ],
        result_format="message",
        asr_options={"enable_itn": False},
    )
    (request,) = dashscope_wire.requests
    assert request.path_url == MULTIMODAL_GENERATION_PATH
    body = json.loads(request.body)
    assert body == seed.MULTIMODAL_SDK_BODY
    assert MultimodalGenerationRequest.from_body(body) == MultimodalGenerationRequest.for_audio(
        seed.WELCOME_URL, context=""
    )
    assert MultimodalGenerationResponse.parse(json.loads(str(response))).text == "Welcome to Alibaba Cloud."


def test_the_dashscope_filetrans_sdk_submits_and_polls_what_our_models_describe(
    dashscope_wire: _Captured,
) -> None:
    from dashscope.audio.qwen_asr import QwenTranscription

    dashscope_wire.answers += [seed.TASK_SUBMITTED, seed.TASK_SUCCEEDED]
    submitted = QwenTranscription.async_call(
        api_key="sk-test",
        model="qwen3-asr-flash-filetrans",
        file_url=seed.WELCOME_URL,
        channel_id=[0],
        enable_itn=False,
        language="en",
        enable_words=True,
    )
    QwenTranscription.fetch(api_key="sk-test", task=submitted.output.task_id)
    submit, poll = dashscope_wire.requests
    assert submit.path_url == TRANSCRIPTION_PATH
    assert submit.headers[ASYNC_HEADER] == "enable"
    expected = FiletransRequest.for_file(seed.WELCOME_URL, language="en", enable_words=True)
    assert FiletransRequest.from_body(json.loads(submit.body)) == expected
    assert json.loads(submit.body) == expected.to_body()
    assert poll.method == "GET"
    assert poll.path_url == task_path(seed.TASK_SUBMITTED["output"]["task_id"])
    assert TaskSubmitResponse.parse(seed.TASK_SUBMITTED).task_id == submitted.output.task_id
    assert TaskStatusResponse.parse(seed.TASK_SUCCEEDED).transcription_url is not None

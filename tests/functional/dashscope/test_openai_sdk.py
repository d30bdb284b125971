"""The unmodified `openai` SDK against localcloud's OpenAI-compatible Qwen-ASR endpoint."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from localcloud.server import LocalCloud
from shared.auth import Credentials
from tests.functional.conftest import API_KEY
from tests.functional.dashscope.conftest import Speech, assert_recognised, expired_url, presigned

pytestmark = pytest.mark.sdk

MODEL = "qwen3-asr-flash"


def _client(cloud: LocalCloud, api_key: str = API_KEY) -> OpenAI:
    return OpenAI(api_key=api_key, base_url=f"{cloud.endpoint}/compatible-mode/v1", max_retries=0)


def _messages(audio: str) -> list[Any]:
    return [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": audio}}]}]


def _data_url(data: bytes) -> str:
    return "data:audio/wav;base64," + base64.b64encode(data).decode("ascii")


def test_a_data_url_is_recognised_into_the_seeds_completion(asr_cloud: LocalCloud, speech: Speech) -> None:
    clip = speech.short
    completion = _client(asr_cloud).chat.completions.create(
        model=MODEL,
        messages=_messages(_data_url(clip.path.read_bytes())),
        extra_body={"asr_options": {"enable_itn": False}},
    )

    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert_recognised(clip.text, choice.message.content or "")
    [annotation] = choice.model_dump()["message"]["annotations"]
    assert (annotation["type"], annotation["language"], annotation["emotion"]) == (
        "audio_info",
        "en",
        "neutral",
    )
    seconds = -(-clip.duration_ms // 1000)
    usage = completion.usage
    assert usage is not None
    assert usage.model_extra is not None and usage.model_extra["seconds"] == seconds
    assert (
        usage.prompt_tokens_details is not None and usage.prompt_tokens_details.audio_tokens == 25 * seconds
    )
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_a_streamed_answer_arrives_as_the_seeds_chunks_with_usage_last(
    asr_cloud: LocalCloud, speech: Speech
) -> None:
    clip = speech.short
    stream = _client(asr_cloud).chat.completions.create(
        model=MODEL,
        messages=_messages(presigned(asr_cloud, clip.key)),
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    first, *middle, final, usage_chunk = chunks
    assert first.choices[0].delta.role == "assistant" and first.choices[0].delta.content == ""
    assert middle, "the transcript should come in content chunks"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in middle)
    assert_recognised(clip.text, text)
    for chunk in middle:
        [annotation] = chunk.choices[0].delta.model_dump()["annotations"]
        assert annotation == {"type": "audio_info", "language": "en", "emotion": "neutral"}
        assert chunk.choices[0].finish_reason is None
    assert final.choices[0].finish_reason == "stop"
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None and usage_chunk.usage.completion_tokens > 0
    assert len({chunk.id for chunk in chunks}) == 1
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)


def test_the_raw_stream_is_server_sent_events_ending_with_done(asr_cloud: LocalCloud, speech: Speech) -> None:
    body = {"model": MODEL, "messages": _messages(presigned(asr_cloud, speech.short.key)), "stream": True}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    url = f"{asr_cloud.endpoint}/compatible-mode/v1/chat/completions"
    with httpx.stream("POST", url, json=body, headers=headers, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = list(response.iter_lines())

    events = [line for line in lines if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]"
    assert '"usage"' in events[-2] and '"finish_reason":"stop"' in events[-2]


def test_an_over_large_data_url_is_refused_naming_the_audio_field(asr_cloud: LocalCloud) -> None:
    audio = b"RIFF" + bytes(8 * 1024 * 1024)  # 8 MiB of audio is over 10 MiB once base64-encoded
    with pytest.raises(openai.BadRequestError) as caught:
        _client(asr_cloud).chat.completions.create(model=MODEL, messages=_messages(_data_url(audio)))

    assert caught.value.param == "messages[0].content[0].input_audio.data"
    assert caught.value.code == "invalid_parameter_error"
    assert "10485760-byte limit" in caught.value.message


def test_stream_options_without_stream_are_refused_naming_the_field(
    asr_cloud: LocalCloud, speech: Speech
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _client(asr_cloud).chat.completions.create(
            model=MODEL,
            messages=_messages(presigned(asr_cloud, speech.short.key)),
            stream_options={"include_usage": True},
        )

    assert caught.value.param == "stream_options"


def test_a_model_the_endpoint_does_not_serve_is_refused_naming_the_model(
    asr_cloud: LocalCloud, speech: Speech
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _client(asr_cloud).chat.completions.create(
            model="qwen3-asr-flash-filetrans", messages=_messages(presigned(asr_cloud, speech.short.key))
        )

    assert caught.value.param == "model"
    assert "qwen3-asr-flash" in caught.value.message


def test_a_wrong_api_key_is_refused_as_openai_does(asr_cloud: LocalCloud, speech: Speech) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(asr_cloud, api_key="sk-not-a-localcloud-key").chat.completions.create(
            model=MODEL, messages=_messages(presigned(asr_cloud, speech.short.key))
        )

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"


def test_a_language_the_local_engine_cannot_recognise_is_refused_with_advice(
    asr_cloud: LocalCloud, speech: Speech
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _client(asr_cloud).chat.completions.create(
            model=MODEL,
            messages=_messages(presigned(asr_cloud, speech.short.key)),
            extra_body={"asr_options": {"language": "fil"}},  # Filipino: no bundled engine knows it
        )

    assert caught.value.code == "unsupported_language"
    assert caught.value.param == "asr_options.language"
    assert "only, not 'fil'" in caught.value.message
    assert "LOCALCLOUD_ASR_ENGINE" in caught.value.message


def test_an_expired_presigned_url_is_refused_as_forbidden(
    asr_cloud: LocalCloud, speech: Speech, credentials: Credentials
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _client(asr_cloud).chat.completions.create(
            model=MODEL, messages=_messages(expired_url(asr_cloud, credentials, speech.short.key))
        )

    assert caught.value.param == "messages[0].content[0].input_audio.data"
    assert "FILE_403_FORBIDDEN" in caught.value.message
    assert "Signature" not in caught.value.message

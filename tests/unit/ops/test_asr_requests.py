from __future__ import annotations

import base64
import json

import pytest

from shared.errors import InvalidRequestError
from shared.ops.asr import (
    ASYNC_HEADER,
    CHAT_COMPLETIONS_PATH,
    MAX_REQUEST_BYTES,
    MULTIMODAL_GENERATION_PATH,
    OSS_RESOURCE_RESOLVE_HEADER,
    TASK_PATH_TEMPLATE,
    TRANSCRIPTION_PATH,
    AsrOptions,
    AudioInput,
    AudioSourceKind,
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
    audio_tokens_for,
    task_path,
)
from shared.ops.enums import AsrLanguage, AsrModel
from tests.unit.ops import asr_seed_examples as seed

# ---- the seed's request bodies ------------------------------------------------------------------


def test_the_openai_compatible_builder_reproduces_the_seed_curl_body() -> None:
    request = ChatCompletionRequest.for_audio(seed.WELCOME_URL)
    assert request.to_body() == seed.CHAT_CURL_BODY


def test_the_seed_curl_body_parses_back_to_an_equal_request() -> None:
    parsed = ChatCompletionRequest.from_body(seed.CHAT_CURL_BODY)
    assert parsed == ChatCompletionRequest.for_audio(seed.WELCOME_URL)
    assert parsed.to_body() == seed.CHAT_CURL_BODY
    assert parsed.audio.url == seed.WELCOME_URL
    assert parsed.context is None
    assert parsed.stream is False


def test_the_seed_base64_example_builds_a_data_url_request() -> None:
    audio_bytes = b"ID3\x03\x00fake mp3 frames"
    request = ChatCompletionRequest.for_audio(AudioInput.from_bytes(audio_bytes, "audio/mpeg"))
    expected = json.loads(json.dumps(seed.CHAT_CURL_BODY))
    data_uri = f"data:audio/mpeg;base64,{base64.b64encode(audio_bytes).decode()}"
    expected["messages"][0]["content"][0]["input_audio"]["data"] = data_uri
    assert request.to_body() == expected
    assert ChatCompletionRequest.from_body(expected).audio.decoded_bytes() == audio_bytes


def test_the_dashscope_synchronous_builder_reproduces_the_seed_curl_body() -> None:
    request = MultimodalGenerationRequest.for_audio(seed.WELCOME_URL, context="", result_format=None)
    assert request.to_body() == seed.MULTIMODAL_CURL_BODY
    assert MultimodalGenerationRequest.from_body(seed.MULTIMODAL_CURL_BODY) == request


def test_the_dashscope_synchronous_builder_by_default_sends_what_the_python_sdk_sends() -> None:
    request = MultimodalGenerationRequest.for_audio(seed.WELCOME_URL, context="")
    assert request.to_body() == seed.MULTIMODAL_SDK_BODY
    parsed = MultimodalGenerationRequest.from_body(seed.MULTIMODAL_SDK_BODY)
    assert parsed == request
    assert parsed.context == ""
    assert parsed.audio.url == seed.WELCOME_URL


def test_the_us_model_is_accepted_by_the_dashscope_synchronous_call() -> None:
    request = MultimodalGenerationRequest.for_audio(seed.WELCOME_URL, model="qwen3-asr-flash-us")
    assert request.to_body()["model"] == "qwen3-asr-flash-us"


def test_the_filetrans_builder_reproduces_the_seed_submit_body() -> None:
    request = FiletransRequest.for_file(seed.WELCOME_URL)
    assert request.to_body() == seed.FILETRANS_BODY
    assert FiletransRequest.from_body(seed.FILETRANS_BODY) == request
    assert request.extra_headers() == {ASYNC_HEADER: "enable"}


def test_the_filetrans_builder_sends_every_documented_parameter() -> None:
    request = FiletransRequest.for_file(
        "oss://dashscope-instant/abc/long.wav",
        language="en",
        enable_itn=True,
        enable_words=True,
        context="Alibaba Cloud, Qwen",
        channel_ids=[0, 1],
    )
    assert request.to_body()["parameters"] == {
        "channel_id": [0, 1],
        "enable_itn": True,
        "enable_words": True,
        "language": "en",
        "text": "Alibaba Cloud, Qwen",
    }
    assert request.extra_headers() == {ASYNC_HEADER: "enable", OSS_RESOURCE_RESOLVE_HEADER: "enable"}


# ---- builders and conveniences ------------------------------------------------------------------


def test_context_language_and_itn_land_where_the_seed_puts_them() -> None:
    request = ChatCompletionRequest.for_audio(
        seed.WELCOME_URL, context="Qwen, DashScope", language=AsrLanguage.EN
    )
    body = request.to_body()
    assert body["messages"][0] == {"role": "system", "content": [{"text": "Qwen, DashScope"}]}
    assert body["messages"][1]["role"] == "user"
    assert body["asr_options"] == {"language": "en", "enable_itn": False}
    assert request.context == "Qwen, DashScope"
    assert request.options.language is AsrLanguage.EN


def test_stream_options_are_sent_only_for_a_stream_that_wants_usage() -> None:
    assert "stream_options" not in ChatCompletionRequest.for_audio(seed.WELCOME_URL, stream=True).to_body()
    streamed = ChatCompletionRequest.for_audio(seed.WELCOME_URL, stream=True, include_usage=True)
    assert streamed.to_body()["stream"] is True
    assert streamed.to_body()["stream_options"] == {"include_usage": True}
    assert streamed.include_usage


def test_a_body_without_asr_options_or_stream_round_trips_without_inventing_them() -> None:
    body = {k: v for k, v in seed.CHAT_CURL_BODY.items() if k not in ("asr_options", "stream")}
    parsed = ChatCompletionRequest.from_body(body)
    assert parsed.to_body() == body
    assert parsed.options == AsrOptions()


def test_the_openai_input_audio_format_hint_is_accepted_and_kept() -> None:
    body = json.loads(json.dumps(seed.CHAT_CURL_BODY))
    body["messages"][0]["content"][0]["input_audio"]["format"] = "mp3"
    assert ChatCompletionRequest.from_body(body).to_body() == body


def test_an_oss_url_asks_for_the_resource_resolve_header() -> None:
    request = ChatCompletionRequest.for_audio("oss://dashscope-instant/x/2025/welcome.mp3")
    assert request.extra_headers() == {OSS_RESOURCE_RESOLVE_HEADER: "enable"}
    assert ChatCompletionRequest.for_audio(seed.WELCOME_URL).extra_headers() == {}


def test_a_body_parses_from_raw_json_bytes() -> None:
    raw = json.dumps(seed.FILETRANS_BODY).encode()
    assert FiletransRequest.from_json(raw).to_body() == seed.FILETRANS_BODY


def test_raw_bytes_that_are_not_json_are_refused_naming_the_body() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.from_json(b"{not json")
    assert (caught.value.field, caught.value.rule) == ("body", "json")


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.from_body([1, 2])  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == ("body", "json_object")


def test_to_json_bytes_is_compact_utf8_json_of_the_body() -> None:
    request = ChatCompletionRequest.for_audio(seed.WELCOME_URL, context="上下文")
    raw = request.to_json_bytes()
    assert json.loads(raw) == request.to_body()
    assert b", " not in raw
    assert "上下文".encode() in raw


def test_requests_are_immutable() -> None:
    request = FiletransRequest.for_file(seed.WELCOME_URL)
    with pytest.raises(Exception, match="frozen"):
        request.model = AsrModel.FLASH  # type: ignore[misc]


def test_paths_and_task_path_match_the_seed() -> None:
    assert CHAT_COMPLETIONS_PATH == "/compatible-mode/v1/chat/completions"
    assert MULTIMODAL_GENERATION_PATH == "/api/v1/services/aigc/multimodal-generation/generation"
    assert TRANSCRIPTION_PATH == "/api/v1/services/audio/asr/transcription"
    assert TASK_PATH_TEMPLATE == "/api/v1/tasks/{task_id}"
    assert task_path("8fab76d0-0eed-4d20") == "/api/v1/tasks/8fab76d0-0eed-4d20"


@pytest.mark.parametrize("bad", ["", "  ", "a/b", "../x", "a?b", "a b"])
def test_task_path_refuses_ids_that_would_change_the_path(bad: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        task_path(bad)
    assert caught.value.field == "task_id"


# ---- audio input ------------------------------------------------------------------------------


def test_audio_input_recognises_its_three_kinds() -> None:
    assert AudioInput.from_url("https://example.com/a.mp3").kind is AudioSourceKind.HTTP
    assert AudioInput.from_url("http://127.0.0.1:9000/bucket/a.mp3").kind is AudioSourceKind.HTTP
    assert AudioInput.from_url("oss://bucket/dir/a.mp3").kind is AudioSourceKind.OSS
    inline = AudioInput.from_bytes(b"abc", "audio/wav")
    assert inline.kind is AudioSourceKind.DATA
    assert inline.url == "data:audio/wav;base64,YWJj"
    assert inline.media_type == "audio/wav"


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 1000])
def test_the_decoded_size_is_computed_exactly_from_the_base64_length(size: int) -> None:
    audio = AudioInput.from_bytes(b"\x01" * size, "audio/wav")
    assert audio.decoded_size == size
    assert audio.decoded_bytes() == b"\x01" * size


def test_a_data_url_is_never_printed_whole() -> None:
    audio = AudioInput.from_bytes(b"\x00" * 3000, "audio/wav")
    assert str(audio) == "data:audio/wav;base64,<3000 bytes>"
    assert "AAAA" not in repr(audio)
    assert "AAAA" not in repr(ChatCompletionRequest.for_audio(audio))


def test_a_url_carries_no_inline_audio() -> None:
    audio = AudioInput.from_url(seed.WELCOME_URL)
    assert audio.media_type is None
    assert audio.decoded_size is None
    with pytest.raises(ValueError):
        audio.decoded_bytes()


# ---- the 10 MB rule -----------------------------------------------------------------------------


def _largest_audio_that_fits(media_type: str) -> int:
    """Bytes of audio whose data URL brings the bare builder request to at most MAX_REQUEST_BYTES."""
    overhead = (
        len(ChatCompletionRequest.for_audio(AudioInput.from_bytes(b"\x00" * 3, media_type)).to_json_bytes())
        - 4
    )
    return (MAX_REQUEST_BYTES - overhead) // 4 * 3


def test_audio_that_just_fits_the_ten_megabyte_request_is_accepted() -> None:
    size = _largest_audio_that_fits("audio/wav")
    request = ChatCompletionRequest.for_audio(AudioInput.from_bytes(b"\x00" * size, "audio/wav"))
    assert MAX_REQUEST_BYTES - 4 < len(request.to_json_bytes()) <= MAX_REQUEST_BYTES


def test_audio_one_base64_quantum_too_large_is_refused_naming_the_data_field() -> None:
    size = _largest_audio_that_fits("audio/wav") + 1
    audio = AudioInput.from_bytes(b"\x00" * size, "audio/wav")
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.for_audio(audio)
    assert caught.value.field == "messages[0].content[0].input_audio.data"
    assert caught.value.rule == "request_too_large"
    assert f"at most {size - 1} bytes of audio" in str(caught.value)


def test_context_text_counts_against_the_request_limit_and_the_audio_is_named() -> None:
    size = _largest_audio_that_fits("audio/wav")
    audio = AudioInput.from_bytes(b"\x00" * size, "audio/wav")
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.for_audio(audio, context="glossary")
    assert caught.value.field == "messages[1].content[0].input_audio.data"
    assert caught.value.rule == "request_too_large"


def test_the_dashscope_synchronous_request_obeys_the_same_limit() -> None:
    audio = AudioInput.from_bytes(b"\x00" * (_largest_audio_that_fits("audio/wav") + 3), "audio/wav")
    with pytest.raises(InvalidRequestError) as caught:
        MultimodalGenerationRequest.for_audio(audio, context="")
    assert caught.value.field == "input.messages[1].content[0].audio"
    assert caught.value.rule == "request_too_large"


def test_a_data_url_that_alone_exceeds_the_limit_is_refused_before_encoding() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        AudioInput.from_bytes(b"\x00" * (MAX_REQUEST_BYTES // 4 * 3 + 1), "audio/wav")
    assert (caught.value.field, caught.value.rule) == ("data", "request_too_large")


def test_huge_context_with_a_url_is_refused_naming_the_context() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.for_audio(seed.WELCOME_URL, context="x" * MAX_REQUEST_BYTES)
    assert (caught.value.field, caught.value.rule) == ("messages[0].content[0].text", "request_too_large")


# ---- usage arithmetic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "tokens"),
    [(0, 25), (0.2, 25), (0.999, 25), (1, 25), (1.0, 25), (1.01, 50), (2, 50), (3.2, 100), (60, 1500)],
)
def test_audio_tokens_are_25_per_started_second_with_a_one_second_minimum(
    seconds: float, tokens: int
) -> None:
    assert audio_tokens_for(seconds) == tokens


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), True, "3"])
def test_audio_tokens_refuse_durations_that_are_not_durations(bad: object) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        audio_tokens_for(bad)  # type: ignore[arg-type]
    assert caught.value.field == "seconds"

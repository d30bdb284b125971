"""Every way a Qwen-ASR request can be wrong is refused with the wire field and the rule named."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.ops.asr import (
    AsrOptions,
    AudioInput,
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
)
from tests.unit.ops import asr_seed_examples as seed

USER_AUDIO: dict[str, Any] = {
    "role": "user",
    "content": [{"type": "input_audio", "input_audio": {"data": seed.WELCOME_URL}}],
}
SYSTEM_TEXT: dict[str, Any] = {"role": "system", "content": [{"text": "context"}]}


def chat(**changes: Any) -> Callable[[], object]:
    """The seed's chat body with top-level fields replaced (None removes one)."""
    body = copy.deepcopy(seed.CHAT_CURL_BODY)
    for key, value in changes.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return lambda: ChatCompletionRequest.from_body(body)


def chat_audio(data: object) -> Callable[[], object]:
    message = copy.deepcopy(USER_AUDIO)
    message["content"][0]["input_audio"]["data"] = data
    return chat(messages=[SYSTEM_TEXT, message])


def multimodal(edit: Callable[[dict[str, Any]], None]) -> Callable[[], object]:
    body = copy.deepcopy(seed.MULTIMODAL_CURL_BODY)
    edit(body)
    return lambda: MultimodalGenerationRequest.from_body(body)


def filetrans(edit: Callable[[dict[str, Any]], None]) -> Callable[[], object]:
    body = copy.deepcopy(seed.FILETRANS_BODY)
    edit(body)
    return lambda: FiletransRequest.from_body(body)


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return edit


CASES: list[tuple[str, Callable[[], object], str, str]] = [
    # -- OpenAI-compatible chat/completions --
    ("model missing", chat(model=None), "model", "missing"),
    ("unknown model", chat(model="qwen-audio-turbo"), "model", "unsupported_model"),
    ("US model on the compatible endpoint", chat(model="qwen3-asr-flash-us"), "model", "unsupported_model"),
    ("messages missing", chat(messages=None), "messages", "missing"),
    ("no user message", chat(messages=[SYSTEM_TEXT]), "messages", "message_order"),
    ("system after user", chat(messages=[USER_AUDIO, SYSTEM_TEXT]), "messages", "message_order"),
    ("two user messages", chat(messages=[USER_AUDIO, USER_AUDIO]), "messages", "message_order"),
    ("assistant role", chat(messages=[{"role": "assistant", "content": []}]), "messages[0]", "message_role"),
    (
        "two audio elements",
        chat(messages=[{"role": "user", "content": USER_AUDIO["content"] * 2}]),
        "messages[0].content",
        "one_element",
    ),
    (
        "two system elements",
        chat(messages=[{"role": "system", "content": [{"text": "a"}, {"text": "b"}]}, USER_AUDIO]),
        "messages[0].content",
        "one_element",
    ),
    (
        "wrong content type",
        chat(messages=[{"role": "user", "content": [{"type": "input_text", "input_audio": {"data": "x"}}]}]),
        "messages[0].content[0].type",
        "literal_error",
    ),
    (
        "audio element without input_audio",
        chat(messages=[{"role": "user", "content": [{"type": "input_audio"}]}]),
        "messages[0].content[0].input_audio",
        "missing",
    ),
    (
        "system text not a string",
        chat(messages=[{"role": "system", "content": [{"text": 5}]}, USER_AUDIO]),
        "messages[0].content[0].text",
        "string_type",
    ),
    (
        "ftp audio URL",
        chat_audio("ftp://example.com/a.mp3"),
        "messages[1].content[0].input_audio.data",
        "audio_url",
    ),
    (
        "relative audio path",
        chat_audio("welcome.mp3"),
        "messages[1].content[0].input_audio.data",
        "audio_url",
    ),
    (
        "http URL without host",
        chat_audio("https:///a.mp3"),
        "messages[1].content[0].input_audio.data",
        "audio_url",
    ),
    (
        "oss URL without key",
        chat_audio("oss://bucket"),
        "messages[1].content[0].input_audio.data",
        "audio_url",
    ),
    ("audio not a string", chat_audio(42), "messages[1].content[0].input_audio.data", "string_type"),
    (
        "data URL not base64-marked",
        chat_audio("data:audio/wav,UklGRg=="),
        "messages[1].content[0].input_audio.data",
        "data_url_format",
    ),
    (
        "data URL with a text media type",
        chat_audio("data:text/plain;base64,UklGRg=="),
        "messages[1].content[0].input_audio.data",
        "data_url_media_type",
    ),
    (
        "data URL without a media type",
        chat_audio("data:;base64,UklGRg=="),
        "messages[1].content[0].input_audio.data",
        "data_url_media_type",
    ),
    (
        "data URL with URL-safe base64",
        chat_audio("data:audio/wav;base64,ab-_"),
        "messages[1].content[0].input_audio.data",
        "data_url_base64",
    ),
    (
        "data URL with broken padding",
        chat_audio("data:audio/wav;base64,UklGR"),
        "messages[1].content[0].input_audio.data",
        "data_url_base64",
    ),
    (
        "data URL with a line break",
        chat_audio("data:audio/wav;base64,UklG\nRg=="),
        "messages[1].content[0].input_audio.data",
        "data_url_base64",
    ),
    (
        "data URL without data",
        chat_audio("data:audio/wav;base64,"),
        "messages[1].content[0].input_audio.data",
        "empty_audio",
    ),
    (
        "unknown language",
        chat(asr_options={"language": "xx"}),
        "asr_options.language",
        "unsupported_language",
    ),
    (
        "itn with Japanese",
        chat(asr_options={"language": "ja", "enable_itn": True}),
        "asr_options.enable_itn",
        "itn_language",
    ),
    ("itn as a string", chat(asr_options={"enable_itn": "true"}), "asr_options.enable_itn", "bool_type"),
    (
        "unknown asr option",
        chat(asr_options={"enable_words": True}),
        "asr_options.enable_words",
        "extra_forbidden",
    ),
    ("unknown top-level field", chat(temperature=0.2), "temperature", "extra_forbidden"),
    ("stream as a number", chat(stream=1), "stream", "bool_type"),
    (
        "stream_options without stream",
        chat(stream_options={"include_usage": True}),
        "stream_options",
        "stream_options_without_stream",
    ),
    (
        "stream_options with stream false",
        chat(stream=False, stream_options={"include_usage": False}),
        "stream_options",
        "stream_options_without_stream",
    ),
    (
        "include_usage without stream in the builder",
        lambda: ChatCompletionRequest.for_audio(seed.WELCOME_URL, include_usage=True),
        "stream_options",
        "stream_options_without_stream",
    ),
    (
        "huge context with a URL",
        lambda: ChatCompletionRequest.for_audio(seed.WELCOME_URL, context="x" * (10 * 1024 * 1024)),
        "messages[0].content[0].text",
        "request_too_large",
    ),
    (
        "context not text in the builder",
        lambda: ChatCompletionRequest.for_audio(seed.WELCOME_URL, context=7),  # type: ignore[arg-type]
        "messages[0].content[0].text",
        "string_type",
    ),
    # -- DashScope synchronous --
    (
        "filetrans model synchronously",
        multimodal(_set("model", "qwen3-asr-flash-filetrans")),
        "model",
        "unsupported_model",
    ),
    (
        "messages outside input",
        multimodal(lambda b: b.update(messages=b.pop("input")["messages"])),
        "input",
        "missing",
    ),
    (
        "OpenAI-shaped audio element",
        multimodal(_set("input.messages.1.content", USER_AUDIO["content"])),
        "input.messages[1].content[0].input_audio",
        "extra_forbidden",
    ),
    (
        "bad audio URL",
        multimodal(_set("input.messages.1.content.0.audio", "file:///tmp/a.wav")),
        "input.messages[1].content[0].audio",
        "audio_url",
    ),
    (
        "text result format",
        multimodal(_set("parameters.result_format", "text")),
        "parameters.result_format",
        "literal_error",
    ),
    (
        "itn with Korean",
        multimodal(_set("parameters.asr_options", {"language": "ko", "enable_itn": True})),
        "parameters.asr_options.enable_itn",
        "itn_language",
    ),
    (
        "asr_options at the top level",
        multimodal(lambda b: b.update(asr_options=b.pop("parameters")["asr_options"])),
        "asr_options",
        "extra_forbidden",
    ),
    (
        "huge context with a URL, synchronously",
        lambda: MultimodalGenerationRequest.for_audio(seed.WELCOME_URL, context="x" * (10 * 1024 * 1024)),
        "input.messages[0].content[0].text",
        "request_too_large",
    ),
    # -- DashScope asynchronous (filetrans) --
    ("flash model for filetrans", filetrans(_set("model", "qwen3-asr-flash")), "model", "unsupported_model"),
    ("file_url missing", filetrans(_set("input", {})), "input.file_url", "missing"),
    (
        "file_urls list",
        filetrans(_set("input", {"file_urls": [seed.WELCOME_URL]})),
        "input.file_url",
        "missing",
    ),
    (
        "data URL file",
        filetrans(_set("input.file_url", "data:audio/wav;base64,UklGRg==")),
        "input.file_url",
        "file_url_scheme",
    ),
    ("local path file", filetrans(_set("input.file_url", "/tmp/a.wav")), "input.file_url", "audio_url"),
    (
        "empty channel list",
        filetrans(_set("parameters.channel_id", [])),
        "parameters.channel_id",
        "channel_id_empty",
    ),
    (
        "negative channel",
        filetrans(_set("parameters.channel_id", [0, -1])),
        "parameters.channel_id",
        "channel_id_range",
    ),
    (
        "duplicate channel",
        filetrans(_set("parameters.channel_id", [1, 1])),
        "parameters.channel_id",
        "channel_id_duplicate",
    ),
    (
        "channel as text",
        filetrans(_set("parameters.channel_id", ["0"])),
        "parameters.channel_id[0]",
        "int_type",
    ),
    (
        "channel as bool",
        filetrans(_set("parameters.channel_id", [True])),
        "parameters.channel_id[0]",
        "int_type",
    ),
    (
        "channel not a list",
        filetrans(_set("parameters.channel_id", 0)),
        "parameters.channel_id",
        "tuple_type",
    ),
    (
        "words in Arabic",
        filetrans(_set("parameters", {"language": "ar", "enable_words": True})),
        "parameters.enable_words",
        "words_language",
    ),
    (
        "itn in Cantonese",
        filetrans(_set("parameters", {"language": "yue", "enable_itn": True})),
        "parameters.enable_itn",
        "itn_language",
    ),
    ("context not text", filetrans(_set("parameters.text", ["a"])), "parameters.text", "string_type"),
    (
        "unknown parameter",
        filetrans(_set("parameters.language_hints", ["zh"])),
        "parameters.language_hints",
        "extra_forbidden",
    ),
    # -- parts built directly --
    (
        "itn with French options",
        lambda: AsrOptions.build(language="fr", enable_itn=True),
        "enable_itn",
        "itn_language",
    ),
    ("audio URL built directly", lambda: AudioInput.build(url="mailto:a@b"), "url", "audio_url"),
    (
        "inline audio with a bad media type",
        lambda: AudioInput.from_bytes(b"RIFF", "wav"),
        "media_type",
        "data_url_media_type",
    ),
    ("empty inline audio", lambda: AudioInput.from_bytes(b"", "audio/wav"), "data", "empty_audio"),
]


@pytest.mark.parametrize(
    ("make", "field", "rule"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_an_invalid_request_is_refused_naming_the_field_and_the_rule(
    make: Callable[[], object], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make()
    problems = [(problem.field, problem.rule) for problem in caught.value.problems]
    assert (field, rule) in problems, problems
    assert field in str(caught.value)


def test_the_table_covers_at_least_fifteen_cases() -> None:
    assert len(CASES) >= 15


def test_several_problems_are_reported_together() -> None:
    body = {"model": "whisper-1", "messages": [{"role": "bot"}], "stream_option": True}
    with pytest.raises(InvalidRequestError) as caught:
        ChatCompletionRequest.from_body(body)
    assert {(p.field, p.rule) for p in caught.value.problems} == {
        ("model", "unsupported_model"),
        ("messages[0]", "message_role"),
        ("stream_option", "extra_forbidden"),
    }
    assert "invalid Qwen-ASR chat/completions request" in str(caught.value)

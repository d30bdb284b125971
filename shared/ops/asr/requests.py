"""Qwen-ASR request bodies for its three connection types, exactly as the seed (and the SDKs) send them.

    ChatCompletionRequest        POST /compatible-mode/v1/chat/completions  (OpenAI compatible)
    MultimodalGenerationRequest  POST /api/v1/services/aigc/multimodal-generation/generation  (DashScope sync)
    FiletransRequest             (filetrans)     POST /api/v1/services/audio/asr/transcription, asynchronous

Each builds with a convenience classmethod, renders with `.to_body()` and parses what a client sent with
`.from_body()`; every refusal is an InvalidRequestError naming the wire field (`messages[1].content[0]...`)
and the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, StrictBool, StrictStr, Tag, field_validator, model_validator
from typing_extensions import Self

from shared.errors import rule_error
from shared.ops.asr.audio import (
    AsrBodyModel,
    AsrRequestModel,
    AudioInput,
    AudioSourceKind,
    FieldError,
    check_request_size,
)
from shared.ops.enums import AsrLanguage, AsrModel

CHAT_COMPLETIONS_PATH = "/compatible-mode/v1/chat/completions"
MULTIMODAL_GENERATION_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
TRANSCRIPTION_PATH = "/api/v1/services/audio/asr/transcription"
TASK_PATH_TEMPLATE = "/api/v1/tasks/{task_id}"
ASYNC_HEADER = "X-DashScope-Async"
ASYNC_HEADER_VALUE = "enable"
# Sent with oss:// audio (DashScope temporary uploads); the dashscope SDK adds it after uploading a file.
OSS_RESOURCE_RESOLVE_HEADER = "X-DashScope-OssResourceResolve"
OSS_RESOURCE_RESOLVE_VALUE = "enable"


def check_model(value: Any, allowed: Sequence[AsrModel], connection: str) -> Any:
    """Field validator body: refuse a model the connection type does not serve (rule unsupported_model)."""
    raw = value.value if isinstance(value, AsrModel) else value
    if raw not in [model.value for model in allowed]:
        names = ", ".join(model.value for model in allowed)
        raise rule_error("unsupported_model", f"{raw!r} cannot be used with {connection}; use {names}")
    return value


def check_language(value: Any) -> Any:
    """Field validator body: refuse a language code the seed does not list (rule unsupported_language)."""
    if value is None or isinstance(value, AsrLanguage):
        return value
    if value not in [language.value for language in AsrLanguage]:
        raise rule_error("unsupported_language", f"{value!r} is not a language code Qwen-ASR accepts")
    return value


class AsrOptions(AsrRequestModel):
    """`asr_options` of the synchronous calls: a language hint and inverse text normalisation.

    >>> AsrOptions.build(language="en", enable_itn=True).to_body()
    {'language': 'en', 'enable_itn': True}
    """

    operation = "Qwen-ASR asr_options"

    language: AsrLanguage | None = None
    enable_itn: StrictBool = False

    _language = field_validator("language", mode="before")(check_language)

    @model_validator(mode="after")
    def _itn_needs_zh_or_en(self) -> Self:
        if self.enable_itn and self.language is not None and not self.language.supports_itn:
            raise FieldError(
                "itn_language",
                f"enable_itn applies to zh and en only, not {self.language.value!r}",
                ["enable_itn"],
            )
        return self

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True, exclude_none=True)
        return body


def _exactly_one(parts: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(parts) != 1:
        raise rule_error("one_element", f"must hold exactly one element, not {len(parts)}")
    return parts


class TextPart(AsrRequestModel):
    """The system message's element: context text for biasing (10,000-token limit, counted by the service)."""

    text: StrictStr | None = None


class SystemMessage(AsrRequestModel):
    role: Literal["system"]
    content: tuple[TextPart, ...]

    _one = field_validator("content")(_exactly_one)


class InputAudio(AsrRequestModel):
    data: AudioInput
    # OpenAI's own InputAudio has a format hint ("mp3", "wav"); the seed never sends it, clients may.
    format: StrictStr | None = None


class InputAudioPart(AsrRequestModel):
    type: Literal["input_audio"]
    input_audio: InputAudio


class ChatUserMessage(AsrRequestModel):
    role: Literal["user"]
    content: tuple[InputAudioPart, ...]

    _one = field_validator("content")(_exactly_one)


class AudioPart(AsrRequestModel):
    audio: AudioInput


class MultimodalUserMessage(AsrRequestModel):
    role: Literal["user"]
    content: tuple[AudioPart, ...]

    _one = field_validator("content")(_exactly_one)


def _role_of(message: Any) -> str | None:
    role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
    return role if role in ("system", "user") else None


_ROLE = Discriminator(
    _role_of, custom_error_type="message_role", custom_error_message="role must be 'system' or 'user'"
)
ChatMessage = Annotated[
    Union[Annotated[SystemMessage, Tag("system")], Annotated[ChatUserMessage, Tag("user")]],  # noqa: UP007
    _ROLE,
]
MultimodalMessage = Annotated[
    Union[Annotated[SystemMessage, Tag("system")], Annotated[MultimodalUserMessage, Tag("user")]],  # noqa: UP007
    _ROLE,
]


def _check_message_order(messages: tuple[Any, ...]) -> tuple[Any, ...]:
    roles = [message.role for message in messages]
    if roles not in (["user"], ["system", "user"]):
        raise rule_error(
            "message_order",
            f"must be one user message, optionally preceded by one system message (got roles {roles})",
        )
    return messages


def _system(context: str | None) -> list[dict[str, Any]]:
    # Plain data, validated by the request itself so an error names messages[0].content[0].text.
    return [] if context is None else [{"role": "system", "content": [{"text": context}]}]


def _context_of(messages: tuple[Any, ...]) -> str | None:
    first = messages[0]
    return first.content[0].text if isinstance(first, SystemMessage) else None


def oss_resolve_headers(audio: AudioInput) -> dict[str, str]:
    """The header DashScope needs to fetch oss:// audio (none for other audio)."""
    return (
        {OSS_RESOURCE_RESOLVE_HEADER: OSS_RESOURCE_RESOLVE_VALUE} if audio.kind is AudioSourceKind.OSS else {}
    )


class StreamOptions(AsrRequestModel):
    include_usage: StrictBool | None = None


class ChatCompletionRequest(AsrBodyModel):
    """OpenAI-compatible `chat/completions` body for qwen3-asr-flash (not available in the US region).

    >>> request = ChatCompletionRequest.for_audio("https://example.com/welcome.mp3", language="en")
    >>> request.to_body()["asr_options"]
    {'language': 'en', 'enable_itn': False}
    """

    operation = "Qwen-ASR chat/completions"

    model: AsrModel
    messages: tuple[ChatMessage, ...]
    asr_options: AsrOptions | None = None
    stream: StrictBool | None = None
    stream_options: StreamOptions | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _flash_only(cls, value: Any) -> Any:
        return check_model(value, [AsrModel.FLASH], "the OpenAI-compatible endpoint")

    _order = field_validator("messages")(_check_message_order)

    @model_validator(mode="after")
    def _request_rules(self) -> Self:
        if self.stream_options is not None and self.stream is not True:
            raise FieldError(
                "stream_options_without_stream", "may be set only when stream is true", ["stream_options"]
            )
        last = len(self.messages) - 1
        audio_path: list[str | int] = ["messages", last, "content", 0, "input_audio", "data"]
        context_path: list[str | int] = ["messages", 0, "content", 0, "text"]
        check_request_size(self, self.audio, audio_path, context_path if last > 0 else None)
        return self

    @classmethod
    def for_audio(
        cls,
        audio: AudioInput | str,
        *,
        context: str | None = None,
        language: AsrLanguage | str | None = None,
        enable_itn: bool = False,
        stream: bool = False,
        include_usage: bool = False,
    ) -> ChatCompletionRequest:
        """The seed's request: optional context (system message), the audio, asr_options, stream flags."""
        options: dict[str, Any] = {"enable_itn": enable_itn}
        if language is not None:
            options["language"] = language
        fields: dict[str, Any] = {
            "model": AsrModel.FLASH,
            "messages": [
                *_system(context),
                {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": audio}}]},
            ],
            "asr_options": options,
            "stream": stream,
        }
        if include_usage:
            fields["stream_options"] = {"include_usage": True}
        return cls.build(**fields)

    @property
    def audio(self) -> AudioInput:
        user = self.messages[-1]
        assert isinstance(user, ChatUserMessage)
        return user.content[0].input_audio.data

    @property
    def context(self) -> str | None:
        return _context_of(self.messages)

    @property
    def options(self) -> AsrOptions:
        return self.asr_options or AsrOptions()

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def extra_headers(self) -> dict[str, str]:
        """Headers this body needs besides authorization and content type."""
        return oss_resolve_headers(self.audio)


class MultimodalInput(AsrRequestModel):
    messages: tuple[MultimodalMessage, ...]

    _order = field_validator("messages")(_check_message_order)


class MultimodalParameters(AsrRequestModel):
    asr_options: AsrOptions | None = None
    # The dashscope SDK's examples send "message"; the choices-shaped output is the only one Qwen-ASR has.
    result_format: Literal["message"] | None = None


class MultimodalGenerationRequest(AsrBodyModel):
    """DashScope synchronous `multimodal-generation` body (qwen3-asr-flash, or qwen3-asr-flash-us in the US).

    >>> body = MultimodalGenerationRequest.for_audio("https://example.com/welcome.mp3", context="").to_body()
    >>> body["parameters"]
    {'asr_options': {'enable_itn': False}, 'result_format': 'message'}
    """

    operation = "Qwen-ASR multimodal-generation"

    model: AsrModel
    input: MultimodalInput
    parameters: MultimodalParameters | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _flash_models(cls, value: Any) -> Any:
        return check_model(value, [AsrModel.FLASH, AsrModel.FLASH_US], "DashScope multimodal-generation")

    @model_validator(mode="after")
    def _fits_the_request_limit(self) -> Self:
        last = len(self.input.messages) - 1
        audio_path: list[str | int] = ["input", "messages", last, "content", 0, "audio"]
        context_path: list[str | int] = ["input", "messages", 0, "content", 0, "text"]
        check_request_size(self, self.audio, audio_path, context_path if last > 0 else None)
        return self

    @classmethod
    def for_audio(
        cls,
        audio: AudioInput | str,
        *,
        context: str | None = None,
        language: AsrLanguage | str | None = None,
        enable_itn: bool = False,
        model: AsrModel | str = AsrModel.FLASH,
        result_format: Literal["message"] | None = "message",
    ) -> MultimodalGenerationRequest:
        """The seed's request; pass model=qwen3-asr-flash-us in the US region."""
        options: dict[str, Any] = {"enable_itn": enable_itn}
        if language is not None:
            options["language"] = language
        parameters: dict[str, Any] = {"asr_options": options}
        if result_format is not None:
            parameters["result_format"] = result_format
        return cls.build(
            model=model,
            input={"messages": [*_system(context), {"role": "user", "content": [{"audio": audio}]}]},
            parameters=parameters,
        )

    @property
    def audio(self) -> AudioInput:
        user = self.input.messages[-1]
        assert isinstance(user, MultimodalUserMessage)
        return user.content[0].audio

    @property
    def context(self) -> str | None:
        return _context_of(self.input.messages)

    @property
    def options(self) -> AsrOptions:
        return (self.parameters and self.parameters.asr_options) or AsrOptions()

    def extra_headers(self) -> dict[str, str]:
        return oss_resolve_headers(self.audio)

"""Qwen-ASR asynchronous transcription (qwen3-asr-flash-filetrans): the submit body and the polling path.

POST /api/v1/services/audio/asr/transcription   with X-DashScope-Async: enable  -> task_id
GET  /api/v1/tasks/{task_id}                    until SUCCEEDED, FAILED or UNKNOWN
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import StrictBool, StrictInt, StrictStr, field_validator, model_validator
from typing_extensions import Self

from shared.errors import InvalidRequestError, rule_error
from shared.ops.asr.audio import AsrBodyModel, AsrRequestModel, AudioInput, AudioSourceKind, FieldError
from shared.ops.asr.requests import (
    ASYNC_HEADER,
    ASYNC_HEADER_VALUE,
    TASK_PATH_TEMPLATE,
    check_language,
    check_model,
    oss_resolve_headers,
)
from shared.ops.enums import AsrLanguage, AsrModel


def task_path(task_id: str) -> str:
    """The polling path of an asynchronous task.

    >>> task_path("8fab76d0-0eed-4d20-929f")
    '/api/v1/tasks/8fab76d0-0eed-4d20-929f'
    """
    if not isinstance(task_id, str) or not task_id.strip():
        raise InvalidRequestError.single("task_id", "required", "must be a non-empty string", "Qwen-ASR task")
    # The id becomes a path segment as it is: a dot segment would be resolved away (polling another
    # path), and anything beyond printable ASCII could not be written into the request line.
    if (
        task_id in (".", "..")
        or not (task_id.isascii() and task_id.isprintable())
        or any(ch in "/?#%\\ " for ch in task_id)
    ):
        raise InvalidRequestError.single(
            "task_id",
            "task_id_format",
            "must be printable ASCII without '/', '?', '#', '%', '\\' or spaces, and not '.' or '..'",
            "Qwen-ASR task",
        )
    return TASK_PATH_TEMPLATE.format(task_id=task_id)


class FiletransInput(AsrRequestModel):
    file_url: AudioInput

    @field_validator("file_url")
    @classmethod
    def _no_data_url(cls, value: AudioInput) -> AudioInput:
        if value.kind is AudioSourceKind.DATA:
            raise rule_error(
                "file_url_scheme", "must be an http(s) or oss:// URL; filetrans does not take data URLs"
            )
        return value


class FiletransParameters(AsrRequestModel):
    language: AsrLanguage | None = None
    enable_itn: StrictBool | None = None
    enable_words: StrictBool | None = None
    text: StrictStr | None = None
    channel_id: tuple[StrictInt, ...] | None = None

    _language = field_validator("language", mode="before")(check_language)

    @field_validator("channel_id")
    @classmethod
    def _distinct_tracks(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is None:
            return value
        if not value:
            raise rule_error("channel_id_empty", "must list at least one audio track (default [0])")
        if any(track < 0 for track in value):
            raise rule_error("channel_id_range", f"track indexes start at 0 (got {list(value)})")
        if len(set(value)) != len(value):
            raise rule_error("channel_id_duplicate", f"each track may be listed once (got {list(value)})")
        return value

    @model_validator(mode="after")
    def _language_rules(self) -> Self:
        if self.language is None:
            return self
        if self.enable_itn and not self.language.supports_itn:
            raise FieldError(
                "itn_language",
                f"enable_itn applies to zh and en only, not {self.language.value!r}",
                ["enable_itn"],
            )
        if self.enable_words and not self.language.supports_words:
            raise FieldError(
                "words_language",
                f"word timestamps are not available for {self.language.value!r}",
                ["enable_words"],
            )
        return self


class FiletransRequest(AsrBodyModel):
    """DashScope asynchronous transcription body (qwen3-asr-flash-filetrans); POST it with X-DashScope-Async.

    >>> FiletransRequest.for_file("https://example.com/long.wav", channel_ids=[0, 1]).to_body()["parameters"]
    {'enable_itn': False, 'channel_id': [0, 1]}
    """

    operation = "Qwen-ASR filetrans"

    model: AsrModel
    input: FiletransInput
    parameters: FiletransParameters | None = None

    @field_validator("model", mode="before")
    @classmethod
    def _filetrans_only(cls, value: Any) -> Any:
        return check_model(value, [AsrModel.FLASH_FILETRANS], "asynchronous transcription")

    @classmethod
    def for_file(
        cls,
        file_url: AudioInput | str,
        *,
        language: AsrLanguage | str | None = None,
        enable_itn: bool = False,
        enable_words: bool = False,
        context: str | None = None,
        channel_ids: Sequence[int] = (0,),
    ) -> FiletransRequest:
        """The seed's request. Each listed track is billed separately."""
        parameters: dict[str, Any] = {"enable_itn": enable_itn, "channel_id": tuple(channel_ids)}
        if language is not None:
            parameters["language"] = language
        if enable_words:
            parameters["enable_words"] = True
        if context is not None:
            parameters["text"] = context
        return cls.build(model=AsrModel.FLASH_FILETRANS, input={"file_url": file_url}, parameters=parameters)

    @property
    def file_url(self) -> AudioInput:
        return self.input.file_url

    def extra_headers(self) -> dict[str, str]:
        """X-DashScope-Async: enable, plus the OSS resolve header for oss:// files."""
        return {ASYNC_HEADER: ASYNC_HEADER_VALUE, **oss_resolve_headers(self.file_url)}

"""The paraformer-style transcription request the dashscope SDK's `Transcription.async_call` sends.

    {"model": "paraformer-v2", "input": {"file_urls": ["https://.../a.wav", ...]},
     "parameters": {"channel_id": [0], "language_hints": ["zh", "en"], ...}, "resources": [...]}

localcloud recognises every file with its local engine and answers each with a paraformer result document
(`output.results[]`, see transcripts.py). Hot words (`vocabulary_id`, `resources`), disfluency removal,
timestamp alignment, word filtering and diarization are accepted and validated but have no effect: the
local engines offer none of them.

    >>> ParaformerRequest.from_body({"model": "paraformer-v2", "input": {"file_urls": ["oss://b/a.wav"]}}).model
    'paraformer-v2'
"""

from __future__ import annotations

from typing import Literal

from pydantic import StrictBool, StrictInt, StrictStr, field_validator

from shared.errors import rule_error
from shared.ops.asr.audio import AsrBodyModel, AsrRequestModel, AudioInput, AudioSourceKind, FieldError

PARAFORMER_MODELS = (
    "paraformer-v2",
    "paraformer-8k-v2",
    "paraformer-v1",
    "paraformer-8k-v1",
    "paraformer-mtl-v1",
)
ParaformerModel = Literal[
    "paraformer-v2", "paraformer-8k-v2", "paraformer-v1", "paraformer-8k-v1", "paraformer-mtl-v1"
]
MAX_FILES = 100
# language_hints codes paraformer-v2 documents.
HINT_LANGUAGES = ("zh", "en", "ja", "yue", "ko", "de", "fr", "ru")


class ParaformerInput(AsrRequestModel):
    file_urls: tuple[AudioInput, ...]

    @field_validator("file_urls")
    @classmethod
    def _one_to_a_hundred_urls(cls, value: tuple[AudioInput, ...]) -> tuple[AudioInput, ...]:
        if not 1 <= len(value) <= MAX_FILES:
            raise rule_error("file_count", f"must list 1 to {MAX_FILES} file URLs, not {len(value)}")
        for index, audio in enumerate(value):
            if audio.kind is AudioSourceKind.DATA:
                raise FieldError(
                    "file_url_scheme", "must be an http(s) or oss:// URL, not a data URL", [index]
                )
        return value


class ParaformerParameters(AsrRequestModel):
    channel_id: tuple[StrictInt, ...] | None = None
    language_hints: tuple[StrictStr, ...] | None = None
    vocabulary_id: StrictStr | None = None
    disfluency_removal_enabled: StrictBool | None = None
    timestamp_alignment_enabled: StrictBool | None = None
    special_word_filter: StrictStr | None = None
    diarization_enabled: StrictBool | None = None
    speaker_count: StrictInt | None = None

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

    @field_validator("language_hints")
    @classmethod
    def _known_hints(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for index, code in enumerate(value or ()):
            if code not in HINT_LANGUAGES:
                raise FieldError(
                    "unsupported_language",
                    f"{code!r} is not a paraformer language hint; use {', '.join(HINT_LANGUAGES)}",
                    [index],
                )
        return value

    @field_validator("speaker_count")
    @classmethod
    def _speakers(cls, value: int | None) -> int | None:
        if value is not None and not 2 <= value <= 100:
            raise rule_error("speaker_count_range", f"must be 2 to 100, not {value}")
        return value


class Resource(AsrRequestModel):
    resource_id: StrictStr
    resource_type: StrictStr


class ParaformerRequest(AsrBodyModel):
    """A paraformer-family transcription submit body (POST with X-DashScope-Async: enable)."""

    operation = "paraformer transcription"

    model: ParaformerModel
    input: ParaformerInput
    parameters: ParaformerParameters | None = None
    resources: tuple[Resource, ...] | None = None

    @property
    def channel_ids(self) -> tuple[int, ...]:
        return (self.parameters and self.parameters.channel_id) or (0,)

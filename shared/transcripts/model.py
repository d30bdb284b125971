"""The canonical transcript: what every recognition mode is normalised to before anything is written.

Times are integer milliseconds from the start of the audio that was recognised. One channel per recognised
track (`channel_id` as Qwen-ASR numbers them); sentences in time order.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from typing_extensions import Self

from shared.errors import rule_error

TRANSCRIPT_SCHEMA_VERSION = 1


class TranscriptWord(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    begin_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    text: str
    punctuation: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_ms < self.begin_ms:
            raise rule_error("time_order", "end_ms must not be before begin_ms")
        return self


class TranscriptSentence(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    begin_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    text: str
    language: str | None = None
    emotion: str | None = None
    words: tuple[TranscriptWord, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_ms < self.begin_ms:
            raise rule_error("time_order", "end_ms must not be before begin_ms")
        return self


class TranscriptChannel(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    channel_id: int = Field(default=0, ge=0)
    sentences: tuple[TranscriptSentence, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.sentences if s.text.strip())


class Transcript(BaseModel):
    """A whole transcript plus where it came from."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    schema_version: int = TRANSCRIPT_SCHEMA_VERSION
    language: str | None = None
    duration_ms: int | None = Field(default=None, ge=0)
    source: dict[str, Any] = Field(default_factory=dict)
    engine: dict[str, Any] = Field(default_factory=dict)
    # "engine": sentence (and word) times came from the recogniser. "estimated": the mode gave none (the
    # synchronous models answer text only), so the one sentence spans the audio and subtitle cues spread its
    # words evenly over it: readable, but not synchronised with the speech.
    timing: Literal["engine", "estimated"] = "engine"
    channels: tuple[TranscriptChannel, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(channel.text for channel in self.channels if channel.text)

    def excerpt(self, limit: int = 160) -> str:
        text = " ".join(self.text.split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    def cues(self) -> list[tuple[int, int, str, int]]:
        """Every sentence as (begin_ms, end_ms, text, channel_id), in time order across channels."""
        rows = [
            (s.begin_ms, s.end_ms, s.text.strip(), channel.channel_id)
            for channel in self.channels
            for s in channel.sentences
            if s.text.strip()
        ]
        return sorted(rows, key=lambda row: (row[0], row[3]))

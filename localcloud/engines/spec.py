"""What the media engine is asked to produce: `TranscodeSpec` (the output) and `ClipSource` (an input).

These mirror the wire parameters of OSS `audio/convert` and `audio/concat` (f, ss, t, ar, ac, ab, aq,
abopt, adepth; per clip o, ss, t) in engine units. Only each parameter's own domain is checked here,
naming the wire field in an InvalidRequestError; the per-format rules (which rates MP3 takes and so on)
belong to the shared layer, which the caller hands to the engine as `check_output`.

Example:
    >>> TranscodeSpec(format="aac", ss_ms=10_000, t_ms=60_000, bitrate=96_000).format
    'aac'
    >>> ClipSource("pre2.wav", t_ms=2000).t_ms
    2000
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TypeGuard

from shared.errors import InvalidRequestError, Problem
from shared.ops.enums import AudioFormat, BitDepth, SampleRate

_MAX_CHANNELS = 8
_BITRATE_RANGE = (1_000, 10_000_000)
_QUALITY_RANGE = (0, 100)
_BITRATE_OPTIONS = (0, 1, 2)


@dataclass(frozen=True)
class TranscodeSpec:
    """The output of a transcode or concat, with OSS's parameters in engine units.

    format: f (mp3, aac, flac, oga, ac3, opus, amr); ss_ms/t_ms: ss/t in ms (t 0 = to the end);
    sample_rate/channels: ar/ac (None = inherit from the source, or from the align clip);
    bitrate: ab in bit/s; quality: aq 0-100; bitrate_option: abopt 0/1/2; bit_depth: adepth 16/24 (flac).
    """

    format: str
    ss_ms: int = 0
    t_ms: int = 0
    sample_rate: int | None = None
    channels: int | None = None
    bitrate: int | None = None
    quality: int | None = None
    bitrate_option: int = 0
    bit_depth: int | None = None

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise InvalidRequestError(problems, "audio/convert")
        # Normalise an AudioFormat member to its plain wire string.
        object.__setattr__(self, "format", AudioFormat(self.format).value)

    def _problems(self) -> list[Problem]:
        problems: list[Problem] = []
        if not isinstance(self.format, str) or self.format not in {f.value for f in AudioFormat}:
            allowed = ", ".join(f.value for f in AudioFormat)
            problems.append(Problem("f", "one_of", f"must be one of {allowed}, got {self.format!r}"))
        problems += _non_negative_ms("ss", self.ss_ms) + _non_negative_ms("t", self.t_ms)
        if self.sample_rate is not None and (
            not _is_int(self.sample_rate) or self.sample_rate not in {r.value for r in SampleRate}
        ):
            allowed = ", ".join(str(r.value) for r in SampleRate)
            problems.append(Problem("ar", "one_of", f"must be one of {allowed} Hz, got {self.sample_rate!r}"))
        problems += _in_range("ac", self.channels, 1, _MAX_CHANNELS)
        problems += _in_range("ab", self.bitrate, *_BITRATE_RANGE)
        problems += _in_range("aq", self.quality, *_QUALITY_RANGE)
        if self.bitrate is not None and self.quality is not None:
            problems.append(Problem("aq", "mutually_exclusive", "ab and aq cannot both be set"))
        if not _is_int(self.bitrate_option) or self.bitrate_option not in _BITRATE_OPTIONS:
            problems.append(Problem("abopt", "one_of", f"must be 0, 1 or 2, got {self.bitrate_option!r}"))
        elif self.bitrate_option != 0 and self.bitrate is None:
            problems.append(
                Problem("abopt", "requires_ab", "abopt 1 or 2 compares against ab, which is not set")
            )
        if self.bit_depth is not None:
            if not _is_int(self.bit_depth) or self.bit_depth not in {d.value for d in BitDepth}:
                problems.append(Problem("adepth", "one_of", f"must be 16 or 24, got {self.bit_depth!r}"))
            elif self.format != AudioFormat.FLAC.value:
                problems.append(
                    Problem("adepth", "flac_only", f"applies only to f=flac, not f={self.format}")
                )
        return problems


@dataclass(frozen=True)
class ClipSource:
    """One input of a concatenation (or the source of a transcode): a local file and its own ss/t in ms."""

    path: str | os.PathLike[str]
    ss_ms: int = 0
    t_ms: int = 0

    def __post_init__(self) -> None:
        problems = _non_negative_ms("ss", self.ss_ms) + _non_negative_ms("t", self.t_ms)
        if not isinstance(self.path, (str, os.PathLike)) or not os.fspath(self.path):
            problems.append(Problem("o", "required", "the clip needs a file path"))
        if problems:
            raise InvalidRequestError(problems, "audio/concat")


def _is_int(value: object) -> TypeGuard[int]:
    # bool is an int subclass, but True is never a sensible sample rate or duration.
    return isinstance(value, int) and not isinstance(value, bool)


def _non_negative_ms(field: str, value: object) -> list[Problem]:
    if not _is_int(value) or value < 0:
        return [
            Problem(field, "non_negative_int", f"must be a whole number of milliseconds >= 0, got {value!r}")
        ]
    return []


def _in_range(field: str, value: object, low: int, high: int) -> list[Problem]:
    if value is None:
        return []
    if not _is_int(value) or not low <= value <= high:
        return [Problem(field, "range", f"must be a whole number from {low} to {high}, got {value!r}")]
    return []

"""Output parameters of OSS audio/convert, also the output half of audio/concat, with every documented rule.

Field names are the documented wire names (`f`, `ss`, `t`, `ar`, `ac`, `aq`, `ab`, `abopt`, `adepth`), so an
error always names what the seed documents name. Per-format limits come from the seeds' format table:
mp3 up to 48 kHz and 2 channels; opus 8/12/16/24/48 kHz; ac3 32/44.1/48 kHz and up to 6 channels;
amr 8/16 kHz and exactly 1 channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, ClassVar, NamedTuple

from pydantic import BeforeValidator, Field, model_validator
from typing_extensions import Self

from shared.errors import Problem
from shared.ops.base import RequestModel
from shared.ops.enums import AudioFormat, BitDepth, BitrateOption, SampleRate
from shared.ops.oss.common import (
    ProblemCollector,
    WireStep,
    as_audio_format,
    check_known_params,
    emitted_params,
    raise_field_problems,
    validate_from_wire,
    wire_int,
)
from shared.ops.wire import whole_number

# Emit orders follow each action's own seed examples, so those strings reproduce exactly:
# audio/convert writes `ss_10000,t_60000,f_aac,ab_96000` and `f_opus,ab_96000,ar_48000,ac_2`;
# audio/concat writes `f_aac,ac_1,ar_44100,ab_96000`. Parsing accepts any order.
CONVERT_ORDER: tuple[str, ...] = ("ss", "t", "f", "ab", "aq", "abopt", "ar", "ac", "adepth")
CONCAT_ORDER: tuple[str, ...] = ("ss", "t", "f", "ac", "ar", "ab", "aq", "abopt", "adepth")
_INTEGER_PARAMS = frozenset({"ss", "t", "ab", "aq", "ar", "ac", "adepth"})
_MAX_CHANNELS = 8

# Integer parameters; pydantic's lax mode would otherwise write `true` as `ss_1`. The validator sits
# outside the optional union so that the bounds still read as minimum/maximum in the JSON schema.
# Integers: `wire_int` turns a process string's digits into ints first, so a string here came from JSON.
WireInt = Annotated[int, BeforeValidator(whole_number)]
OptionalWireInt = Annotated[int | None, BeforeValidator(whole_number)]
MAX_MILLISECONDS = 2**31 - 1  # OSS reads offsets and durations as 32-bit integers


class FormatLimits(NamedTuple):
    """What one output format accepts for sample rate (`ar`) and channel count (`ac`)."""

    sample_rates: frozenset[int]
    min_channels: int = 1
    max_channels: int = _MAX_CHANNELS
    rate_rule: str = ""  # how the seed states the rate limit, for messages

    def describe_rates(self) -> str:
        *head, last = [str(rate) for rate in sorted(self.sample_rates)]
        listed = f"{', '.join(head)} or {last} Hz" if head else f"{last} Hz"
        return f"{self.rate_rule} ({listed})" if self.rate_rule else listed

    def describe_channels(self) -> str:
        if self.min_channels == self.max_channels:
            return f"exactly {self.min_channels} channel" + ("s" if self.min_channels != 1 else "")
        return f"{self.min_channels} to {self.max_channels} channels"


_ALL_RATES = frozenset(int(rate) for rate in SampleRate)

FORMAT_LIMITS: dict[AudioFormat, FormatLimits] = {
    AudioFormat.MP3: FormatLimits(
        frozenset(rate for rate in _ALL_RATES if rate <= 48000), max_channels=2, rate_rule="up to 48 kHz"
    ),
    AudioFormat.AAC: FormatLimits(_ALL_RATES),
    AudioFormat.FLAC: FormatLimits(_ALL_RATES),
    AudioFormat.OGA: FormatLimits(_ALL_RATES),
    AudioFormat.AC3: FormatLimits(frozenset({32000, 44100, 48000}), max_channels=6),
    AudioFormat.OPUS: FormatLimits(frozenset({8000, 12000, 16000, 24000, 48000})),
    AudioFormat.AMR: FormatLimits(frozenset({8000, 16000}), max_channels=1),
}


def _format_problems(
    fmt: AudioFormat, sample_rate: int | None, channels: int | None, *, inherited: bool
) -> list[Problem]:
    limits = FORMAT_LIMITS[fmt]
    found: list[Problem] = []
    origin = " inherited from the source" if inherited else ""
    remedy = "; set ar explicitly" if inherited else ""
    if sample_rate is not None and int(sample_rate) not in limits.sample_rates:
        found.append(
            Problem(
                "ar",
                "format_sample_rate",
                f"{fmt.value} allows sample rates {limits.describe_rates()}; "
                f"the sample rate{origin} is {int(sample_rate)} Hz{remedy}",
            )
        )
    if channels is not None and not limits.min_channels <= channels <= limits.max_channels:
        found.append(
            Problem(
                "ac",
                "format_channels",
                f"{fmt.value} allows {limits.describe_channels()}; the channel count{origin} is {channels}"
                + ("; set ac explicitly" if inherited else ""),
            )
        )
    return found


def check_inherited(fmt: AudioFormat | str, sample_rate: int | None, channels: int | None) -> list[Problem]:
    """Problems with a sample rate / channel count the output inherits (from the source or the align clip).

    Pass None for a value that is set explicitly (or unknown). An empty list means the task can proceed.

    >>> [p.rule for p in check_inherited("amr", 44100, 2)]
    ['format_sample_rate', 'format_channels']
    """
    return _format_problems(as_audio_format(fmt), sample_rate, channels, inherited=True)


class ConvertParams(RequestModel):
    """Output parameters of audio/convert (and of the merged output of audio/concat).

    >>> params = ConvertParams.build(f="opus", ab=96000, ar=48000, ac=2)
    >>> ",".join(params.wire_items(CONVERT_ORDER))
    'f_opus,ab_96000,ar_48000,ac_2'
    """

    operation: ClassVar[str] = "audio transcoding"

    f: AudioFormat = Field(description="Output container format.")
    ss: WireInt = Field(
        0, ge=0, le=MAX_MILLISECONDS, description="Start offset in milliseconds; 0 starts at the beginning."
    )
    t: WireInt = Field(
        0, ge=0, le=MAX_MILLISECONDS, description="Duration in milliseconds after ss; 0 runs to the end."
    )
    ab: OptionalWireInt = Field(None, ge=1000, le=10_000_000, description="Bitrate in bit/s; excludes aq.")
    aq: OptionalWireInt = Field(None, ge=0, le=100, description="Compression quality 0-100; excludes ab.")
    abopt: BitrateOption | None = Field(None, description="What to do when the source bitrate is below ab.")
    ar: SampleRate | None = Field(None, description="Sample rate in Hz; default inherited from the source.")
    ac: OptionalWireInt = Field(None, ge=1, le=_MAX_CHANNELS, description="Channels; default inherited.")
    adepth: BitDepth | None = Field(None, description="Sample bit depth, flac only.")

    @model_validator(mode="after")
    def _check_combinations(self) -> Self:
        problems: list[tuple[str, str, str]] = []
        if self.ab is not None and self.aq is not None:
            problems.append(
                (
                    "aq",
                    "mutually_exclusive",
                    "ab and aq are mutually exclusive: give a bitrate (ab) or a quality (aq)",
                )
            )
        if self.abopt is not None and self.ab is None:
            problems.append(
                ("abopt", "requires_ab", "abopt says what to do when the source is below ab; set ab too")
            )
        if self.adepth is not None and self.f is not AudioFormat.FLAC:
            problems.append(
                ("adepth", "flac_only", f"adepth applies only when f is flac, not {self.f.value}")
            )
        for problem in _format_problems(self.f, self.ar, self.ac, inherited=False):
            problems.append((problem.field, problem.rule, problem.message))
        raise_field_problems(self, problems)
        return self

    def wire_items(self, order: Sequence[str]) -> list[str]:
        """The `key_value` items in `order`; defaults are left out unless they were given explicitly."""
        return emitted_params(self, order)

    def inherited_problems(
        self, source_sample_rate: int | None, source_channels: int | None
    ) -> list[Problem]:
        """check_inherited() for the values this request leaves to default (ar and ac not set)."""
        return check_inherited(
            self.f,
            source_sample_rate if self.ar is None else None,
            source_channels if self.ac is None else None,
        )

    @classmethod
    def from_step(cls, step: WireStep, operation: str, *, ignore: Sequence[str] = ()) -> ConvertParams:
        """Read the output parameters of a parsed action step (`ignore` names keys handled elsewhere)."""
        collector = ProblemCollector()
        known = [name for name in cls.model_fields if name not in ignore]
        check_known_params(step, [*known, *ignore], step.name, collector)
        data: dict[str, object] = {}
        for key, text in step.params.items():
            if key not in known:
                continue
            data[key] = wire_int(step, key, collector) if key in _INTEGER_PARAMS else text
        collector.raise_if_any(operation)
        return validate_from_wire(cls, data, label=step.label, operation=operation)

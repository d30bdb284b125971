"""Turn a TranscodeSpec plus the source's properties into concrete encoder settings (an EncoderPlan).

This is where inherited values are resolved, the caller's format rules (`check_output`) are applied,
abopt is decided, aq is mapped to each codec's knob, and the limits of *this FFmpeg build's encoders*
are enforced. The mapping itself is documented in `localcloud.engines.media`.

Example:
    >>> plan = plan_output(TranscodeSpec(format="mp3", quality=80), reference=info,   # doctest: +SKIP
    ...                    reference_name="in.wav", sources=[("in.wav", info)])
    >>> (plan.codec, plan.vbr_quality)                                               # doctest: +SKIP
    ('libmp3lame', 1.8)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import av
from av.codec.codec import UnknownCodecError

from localcloud.engines.errors import MediaError
from localcloud.engines.frames import layout_for_channels
from localcloud.engines.probe import AudioInfo
from localcloud.engines.spec import TranscodeSpec

# check_output(format, sample_rate, channels) -> problems; empty when the combination is allowed.
OutputCheck = Callable[[str, int, int], Sequence[str]]

_AMR_WB_RATE = 16000


@dataclass(frozen=True)
class Encoding:
    """How one OSS output format is produced with the bundled FFmpeg."""

    muxer: str
    codec: str
    max_channels: int  # the encoder's own limit (LAME: stereo; AC-3: 5.1; AMR-NB: mono)
    # aq -> bit_rate: (bit/s at aq 0, bit/s at aq 100, whether per channel); None: see vbr/lossless
    quality_bitrates: tuple[int, int, bool] | None = None
    lame_vbr: bool = False  # aq -> LAME's VBR quality instead of a bitrate
    lossless: bool = False  # FLAC: ab and aq have nothing to trade
    max_bitrate_per_channel: int | None = None  # encoders that refuse (not clamp) a higher ab


ENCODINGS: Mapping[str, Encoding] = MappingProxyType(
    {
        "mp3": Encoding("mp3", "libmp3lame", 2, lame_vbr=True),
        "aac": Encoding("adts", "aac", 8, quality_bitrates=(24_000, 192_000, True)),
        "flac": Encoding("flac", "flac", 8, lossless=True),
        "oga": Encoding("oga", "flac", 8, lossless=True),
        "ac3": Encoding("ac3", "ac3", 6, quality_bitrates=(64_000, 640_000, False)),
        "opus": Encoding(
            "opus", "libopus", 8, quality_bitrates=(16_000, 192_000, True), max_bitrate_per_channel=256_000
        ),
        "amr": Encoding("amr", "libopencore_amrnb", 1, quality_bitrates=(4_750, 12_200, False)),
    }
)

# LAME's VBR scale runs from V0 (best) to V9 (smallest); FFmpeg passes it as global_quality in lambda units.
_LAME_WORST_VBR = 9.0
_FLOAT_FORMATS = ("fltp", "flt")


@dataclass(frozen=True)
class EncoderPlan:
    """Everything OutputEncoder needs to open the muxer and encoder."""

    muxer: str
    codec: str
    sample_rate: int
    layout: str
    sample_format: str
    bit_rate: int | None = None
    vbr_quality: float | None = None  # LAME V scale, 0 (best) to 9
    codec_options: Mapping[str, str] = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return av.AudioLayout(self.layout).nb_channels


def plan_output(
    spec: TranscodeSpec,
    *,
    reference: AudioInfo,
    reference_name: str,
    sources: Sequence[tuple[str, AudioInfo]],
    check_output: OutputCheck | None = None,
) -> EncoderPlan:
    """Resolve `spec` against the reference source (inherited ar/ac/depth) and every source (abopt)."""
    encoding = ENCODINGS[spec.format]
    rate = spec.sample_rate or reference.sample_rate
    channels = spec.channels or reference.channels
    rate_code = MediaError.INVALID_INHERITED if spec.sample_rate is None else MediaError.INVALID_PARAMETER
    channels_code = MediaError.INVALID_INHERITED if spec.channels is None else MediaError.INVALID_PARAMETER
    described = _describe(spec, rate, channels, reference_name)
    if check_output is not None:
        problems = list(check_output(spec.format, rate, channels))
        if problems:
            inherited = spec.sample_rate is None or spec.channels is None
            code = MediaError.INVALID_INHERITED if inherited else MediaError.INVALID_PARAMETER
            raise MediaError(code, f"{described}: {'; '.join(problems)}")
    codec = _encoder(encoding, rate)
    if codec.audio_rates and rate not in codec.audio_rates:
        accepted = ", ".join(str(r) for r in sorted(codec.audio_rates))
        raise MediaError(rate_code, f"{described}: the {codec.name} encoder accepts only {accepted} Hz")
    if channels > encoding.max_channels:
        raise MediaError(
            channels_code,
            f"{described}: the {codec.name} encoder takes at most {encoding.max_channels} channels",
        )
    bit_rate = _target_bitrate(spec, sources)
    vbr_quality = None
    if spec.quality is not None and encoding.lame_vbr:
        vbr_quality = round((100 - spec.quality) * _LAME_WORST_VBR / 100, 2)
    elif spec.quality is not None and encoding.quality_bitrates is not None:
        low, high, per_channel = encoding.quality_bitrates
        bit_rate = (low + (high - low) * spec.quality // 100) * (channels if per_channel else 1)
    if encoding.lossless:
        bit_rate = None
    if bit_rate is not None and encoding.max_bitrate_per_channel is not None:
        bit_rate = min(bit_rate, encoding.max_bitrate_per_channel * channels)
    sample_format, options = _sample_format(codec, spec, reference)
    return EncoderPlan(
        muxer=encoding.muxer,
        codec=encoding.codec,
        sample_rate=rate,
        layout=layout_for_channels(channels),
        sample_format=sample_format,
        bit_rate=bit_rate,
        vbr_quality=vbr_quality,
        codec_options=options,
    )


def _describe(spec: TranscodeSpec, rate: int, channels: int, reference_name: str) -> str:
    origin = f" (inherited from {reference_name})"
    rate_text = f"ar={rate}{origin if spec.sample_rate is None else ''}"
    channels_text = f"ac={channels}{origin if spec.channels is None else ''}"
    return f"f={spec.format} with {rate_text} and {channels_text}"


def _encoder(encoding: Encoding, rate: int) -> av.Codec:
    if encoding.codec == "libopencore_amrnb" and rate == _AMR_WB_RATE:
        raise MediaError(
            MediaError.UNSUPPORTED_BY_LOCAL_ENGINE,
            "f=amr with ar=16000 is AMR-WB, and the FFmpeg bundled with localcloud has no AMR-WB encoder "
            "(only libopencore_amrnb: AMR-NB, 8000 Hz mono); request ar=8000 or run this task on the "
            "real service",
        )
    try:
        return av.Codec(encoding.codec, "w")
    except UnknownCodecError:
        raise MediaError(
            MediaError.UNSUPPORTED_BY_LOCAL_ENGINE,
            f"the FFmpeg bundled with localcloud has no {encoding.codec} encoder "
            f"(needed for the {encoding.muxer} output)",
        ) from None


def _target_bitrate(spec: TranscodeSpec, sources: Sequence[tuple[str, AudioInfo]]) -> int | None:
    """ab after abopt: 0 keep ab; 1 take the lowest source bitrate below ab; 2 fail if any is below."""
    if spec.bitrate is None:
        return None
    # A source whose bitrate is unknown cannot be shown to be lower, so it never triggers abopt.
    lower = [
        (name, info.bit_rate) for name, info in sources if info.bit_rate and info.bit_rate < spec.bitrate
    ]
    if not lower or spec.bitrate_option == 0:
        return spec.bitrate
    if spec.bitrate_option == 1:
        return min(rate for _, rate in lower)
    name, source_rate = lower[0]
    raise MediaError(
        MediaError.BITRATE_BELOW_TARGET,
        f"abopt=2: {name} has a bitrate of {source_rate} bit/s, below the requested ab={spec.bitrate} bit/s",
    )


def _sample_format(codec: av.Codec, spec: TranscodeSpec, reference: AudioInfo) -> tuple[str, dict[str, str]]:
    if codec.name == "flac":
        # adepth when given (flac only); otherwise keep a deep source deep and everything else 16-bit.
        depth = spec.bit_depth or (24 if (reference.bits_per_sample or 16) > 16 else 16)
        if depth == 24:
            return "s32", {"bits_per_raw_sample": "24"}
        return "s16", {}
    names = [f.name for f in codec.audio_formats or ()]
    preferred = next((name for name in _FLOAT_FORMATS if name in names), None)
    if preferred is None and not names:
        raise MediaError(MediaError.ENCODE_FAILED, f"the {codec.name} encoder declares no sample format")
    return preferred or names[0], {}

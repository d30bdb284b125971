"""The media work of one IMM `CreateMediaConvertTask` target: merge the sources in order, encode, write.

`Container` picks how the local media engine produces the target:

    aac, mp3, flac, ac3, opus, amr, oga  the engine's own formats (oga is FLAC in Ogg, see engines.media)
    ogg with Codec opus / flac           the engine's opus (Ogg Opus) / oga (FLAC in Ogg)
    m4a                                  the engine's AAC, then remuxed losslessly from ADTS into MP4
    wav                                  merged losslessly (16-bit FLAC), then written as PCM s16le WAV
    wma, ogg with vorbis (or no Codec)   merged losslessly, then encoded with FFmpeg's wmav2 / vorbis

`Audio.TranscodeAudio` maps onto the engine's TranscodeSpec: Codec (checked against the container by the
request model), Bitrate → ab, Quality → aq, BitrateOption adaptive → abopt 1 (keep a lower source bitrate),
Channel → ac, SampleRate → ar (SampleRateOption adaptive keeps a lower rate of the AlignmentIndex source),
BitsPerSample → adepth (flac). Left out, ar/ac are inherited from the AlignmentIndex source, and a value
the format cannot take fails the task with MediaError `InvalidParameter.Inherited`. Without TranscodeAudio
(one source only: IMM would copy the stream) the source is re-encoded with every value inherited.
Quality and BitrateOption have no effect on the re-encoded wma/vorbis outputs; the native Vorbis encoder
takes exactly 2 channels, anything else fails with `UnsupportedByLocalEngine`.

Source `StartTime`/`Duration` (seconds) become each clip's ss/t.

Example:
    >>> clips = [ClipSource("head.mp3"), ClipSource("test.mp3", ss_ms=1500)]          # doctest: +SKIP
    >>> render_target(clips, target, alignment_index=1, destination=Path("out.aac"))  # doctest: +SKIP
    AudioInfo(format_name='aac', codec='aac', sample_rate=44100, channels=2, ...)
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from localcloud.engines.decode import decode_trimmed
from localcloud.engines.encode import OutputEncoder
from localcloud.engines.frames import FrameConverter, layout_for_channels
from localcloud.engines.media import AudioInfo, ClipSource, MediaError, TranscodeSpec, concat, probe
from localcloud.engines.plan import EncoderPlan, OutputCheck
from shared.ops.enums import ImmAudioCodec, ImmContainer
from shared.ops.imm import ImmSource, ImmTarget, TranscodeAudio
from shared.ops.oss.params import check_inherited

CONTENT_TYPES: dict[ImmContainer, str] = {
    ImmContainer.AAC: "audio/aac",
    ImmContainer.MP3: "audio/mpeg",
    ImmContainer.WAV: "audio/wav",
    ImmContainer.FLAC: "audio/flac",
    ImmContainer.WMA: "audio/x-ms-wma",
    ImmContainer.AC3: "audio/ac3",
    ImmContainer.OPUS: "audio/ogg",
    ImmContainer.OGG: "audio/ogg",
    ImmContainer.M4A: "audio/mp4",
    ImmContainer.OGA: "audio/ogg",
    ImmContainer.AMR: "audio/amr",
}
_DIRECT = {
    ImmContainer.AAC: "aac",
    ImmContainer.MP3: "mp3",
    ImmContainer.FLAC: "flac",
    ImmContainer.AC3: "ac3",
    ImmContainer.OPUS: "opus",
    ImmContainer.AMR: "amr",
    ImmContainer.OGA: "oga",
}
_OGG_DIRECT = {ImmAudioCodec.OPUS: "opus", ImmAudioCodec.FLAC: "oga"}
_M4A = "m4a"  # the engine's AAC, remuxed into MP4
_WMA_DEFAULT_BITRATE = 128_000  # FFmpeg's WMA encoders have no default bitrate of their own


@dataclass(frozen=True)
class _Reencode:
    """A container the engine does not write: merge to lossless FLAC, then encode with this."""

    muxer: str
    codec: str
    sample_format: str
    default_bitrate: int | None = None
    required_channels: int | None = None
    options: tuple[tuple[str, str], ...] = ()


_WAV = _Reencode("wav", "pcm_s16le", "s16")
_WMA = _Reencode("asf", "wmav2", "fltp", default_bitrate=_WMA_DEFAULT_BITRATE)
# FFmpeg marks its native Vorbis encoder experimental, and it encodes stereo only.
_VORBIS = _Reencode("ogg", "vorbis", "fltp", required_channels=2, options=(("strict", "-2"),))


def clip_for(source: ImmSource, path: Path) -> ClipSource:
    """The engine clip for one IMM source: StartTime/Duration seconds → ss/t milliseconds (0: whole)."""
    return ClipSource(
        path,
        ss_ms=round((source.start_time or 0.0) * 1000),
        t_ms=round((source.duration or 0.0) * 1000),
    )


def render_target(
    clips: Sequence[ClipSource], target: ImmTarget, *, alignment_index: int, destination: Path
) -> AudioInfo:
    """Merge `clips` in order into `destination` as `target` describes; returns the output's probe.

    Raises MediaError (with a stable code) when the media cannot be produced.
    """
    audio = target.audio.transcode_audio if target.audio else None
    route = _route(target.container, audio.codec if audio else None)
    if isinstance(route, _Reencode):
        return _reencoded(clips, audio, alignment_index, destination, route)
    if route == _M4A:
        return _remuxed_m4a(clips, audio, alignment_index, destination)
    spec = _spec(route, audio, clips[alignment_index])
    return concat(clips, destination, spec, align=alignment_index, check_output=_format_rules(spec))


def _route(container: ImmContainer, codec: ImmAudioCodec | None) -> str | _Reencode:
    """The engine format that writes `container` directly, `_M4A`, or how to re-encode a lossless merge."""
    if container in (ImmContainer.OGG, ImmContainer.OGA) and codec in _OGG_DIRECT:
        return _OGG_DIRECT[codec]  # type: ignore[index]
    if container is ImmContainer.OGG or (container is ImmContainer.OGA and codec is ImmAudioCodec.VORBIS):
        return _VORBIS
    if container in _DIRECT:
        return _DIRECT[container]
    if container is ImmContainer.M4A:
        return _M4A
    return _WAV if container is ImmContainer.WAV else _WMA


def _spec(engine_format: str, audio: TranscodeAudio | None, reference: ClipSource) -> TranscodeSpec:
    if audio is None:
        return TranscodeSpec(format=engine_format)
    sample_rate = audio.sample_rate
    adaptive = audio.sample_rate_option == "adaptive"
    # "adaptive": never upsample; a lower rate of the primary source is kept.
    if sample_rate is not None and adaptive and probe(reference.path).sample_rate < sample_rate:
        sample_rate = None
    return TranscodeSpec(
        format=engine_format,
        sample_rate=sample_rate,
        channels=audio.channel,
        bitrate=audio.bitrate,
        quality=audio.quality,
        bitrate_option=1 if audio.bitrate_option == "adaptive" and audio.bitrate is not None else 0,
        bit_depth=audio.bits_per_sample if engine_format == "flac" else None,
    )


def _format_rules(spec: TranscodeSpec) -> OutputCheck:
    """The documented per-format limits, applied to the values a target inherits from its sources."""

    def check(engine_format: str, sample_rate: int, channels: int) -> list[str]:
        problems = check_inherited(
            engine_format,
            sample_rate if spec.sample_rate is None else None,
            channels if spec.channels is None else None,
        )
        return [
            problem.message.replace("set ar explicitly", "set TranscodeAudio.SampleRate").replace(
                "set ac explicitly", "set TranscodeAudio.Channel"
            )
            for problem in problems
        ]

    return check


def _remuxed_m4a(
    clips: Sequence[ClipSource], audio: TranscodeAudio | None, alignment_index: int, destination: Path
) -> AudioInfo:
    adts = destination.with_name(destination.name + ".aac")
    try:
        spec = _spec("aac", audio, clips[alignment_index])
        concat(clips, adts, spec, align=alignment_index, check_output=_format_rules(spec))
        _copy_packets(adts, destination, muxer="ipod")
    finally:
        adts.unlink(missing_ok=True)
    return probe(destination)


def _copy_packets(source: Path, destination: Path, *, muxer: str) -> None:
    """Remux the audio stream without decoding (FFmpeg's MP4 muxer converts ADTS headers itself)."""
    try:
        with av.open(str(source)) as reader, av.open(str(destination), "w", format=muxer) as writer:
            stream = reader.streams.audio[0]
            output = writer.add_stream_from_template(stream)
            for packet in reader.demux(stream):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = output
                writer.mux(packet)
    except (av.error.FFmpegError, OSError) as exc:
        destination.unlink(missing_ok=True)
        raise MediaError(
            MediaError.ENCODE_FAILED, f"cannot remux the AAC stream into {muxer} ({exc})"
        ) from exc


def _reencoded(
    clips: Sequence[ClipSource],
    audio: TranscodeAudio | None,
    alignment_index: int,
    destination: Path,
    reencode: _Reencode,
) -> AudioInfo:
    lossless = destination.with_name(destination.name + ".flac")
    try:
        spec = _spec("flac", audio, clips[alignment_index])
        # 16 bits: the depth WAV s16 holds exactly, and more than the lossy encoders keep.
        spec = TranscodeSpec(
            format="flac", sample_rate=spec.sample_rate, channels=spec.channels, bit_depth=16
        )
        merged = concat(clips, lossless, spec, align=alignment_index)
        if reencode.required_channels is not None and merged.channels != reencode.required_channels:
            raise MediaError(
                MediaError.UNSUPPORTED_BY_LOCAL_ENGINE,
                f"the {reencode.codec} encoder bundled with localcloud takes exactly "
                f"{reencode.required_channels} channels, the output has {merged.channels}; set "
                "TranscodeAudio.Channel to 2 or choose another codec",
            )
        bitrate = (
            audio.bitrate if audio is not None and audio.bitrate is not None else reencode.default_bitrate
        )
        plan = EncoderPlan(
            muxer=reencode.muxer,
            codec=reencode.codec,
            sample_rate=merged.sample_rate,
            layout=layout_for_channels(merged.channels),
            sample_format=reencode.sample_format,
            bit_rate=None if reencode.codec.startswith("pcm_") else bitrate,
            codec_options=dict(reencode.options),
        )
        _encode_file(lossless, destination, plan)
    finally:
        lossless.unlink(missing_ok=True)
    return probe(destination)


def _encode_file(source: Path, destination: Path, plan: EncoderPlan) -> None:
    converter = FrameConverter(
        sample_format=plan.sample_format, layout=plan.layout, sample_rate=plan.sample_rate
    )
    with OutputEncoder(destination, plan) as output:
        with closing(decode_trimmed(source)) as frames:
            for frame in frames:
                for converted in converter.push(frame):
                    output.write(converted)
        for converted in converter.flush():
            output.write(converted)
        output.finish()

"""localcloud's media engine: real `audio/convert` and `audio/concat` with PyAV, streaming.

Both operations decode one packet at a time, resample to the encoder's sample format, layout and rate,
encode and mux; nothing holds more than a frame or two of audio, so memory stays flat whatever the
file size. `concat` decodes one clip at a time into a single encoder (no gap or priming glitch at the
joins, continuous timestamps).

Formats (f) -> container / codec of the bundled FFmpeg:
    mp3  -> mp3 / libmp3lame
    aac  -> ADTS (raw .aac) / FFmpeg's native aac (AAC-LC)
    flac -> flac / flac
    oga  -> Ogg / FLAC. The native Vorbis encoder (libvorbis is absent) only encodes stereo: it refuses
            1 and 3-8 channels at every listed rate, while OGA must take every rate and 1-8 channels.
            FLAC in Ogg is a registered Ogg mapping, and .oga is the Xiph/IANA extension for any
            Ogg audio, so it is a legitimate .oga that honours every ar/ac. It is lossless.
    ac3  -> ac3 / ac3
    opus -> Ogg (the `opus` muxer) / libopus
    amr  -> amr / libopencore_amrnb: AMR-NB, 8000 Hz mono only. This FFmpeg has no AMR-WB encoder, so
            ar=16000 fails with MediaError("UnsupportedByLocalEngine") instead of faking AMR-WB.

Parameters:
    ss, t   ms; cut sample-accurately (see decode.py); convert: ss on the source, then exactly t ms of
            output; concat: each clip's ss/t on its own source, the top-level ss/t on the merged output.
    ar, ac  None inherits from the source (concat: from the clip at `align`); before encoding the
            caller's `check_output(format, rate, channels)` is applied, and problems raise
            MediaError("InvalidParameter.Inherited") when a value was inherited. Channel layouts are
            mono, stereo, 3.0, quad, 5.0, 5.1, 6.1, 7.1 for 1-8 channels.
    ab      the encoder's bit_rate (bit/s). LAME, AAC, AC-3 and AMR snap it to what they can do; libopus
            refuses more than 256 kbit/s per channel, so it is capped there. FLAC ignores it (lossless).
    abopt   compared with each source's bitrate (probe): 0 always ab; 1 the lowest source bitrate when
            lower than ab; 2 MediaError("BitrateBelowTarget") when any source is lower. Unknown source
            bitrates never count as lower.
    aq      0 (smallest) to 100 (best): mp3 -> LAME VBR quality V = (100 - aq) * 9 / 100 (V0 best);
            aac -> 24 + 1.68 * aq kbit/s per channel; opus -> 16 + 1.76 * aq kbit/s per channel;
            ac3 -> 64 + 5.76 * aq kbit/s; amr -> 4.75 + 0.0745 * aq kbit/s (snapped to an AMR mode);
            flac/oga -> ignored (lossless).
    adepth  flac only: 16 -> s16; 24 -> s32 with bits_per_raw_sample 24 (STREAMINFO says 24). Without
            adepth, FLAC output (also oga) is 24-bit when the reference source is deeper than 16 bits.
    Neither ab nor aq: the encoder's default bitrate. An explicit ar/ac the encoder cannot take (and the
    caller's check let through) fails with MediaError("InvalidParameter").

Durations: mp3 (LAME/Xing header), flac, oga and opus record the exact length, so outputs probe to
exactly the samples written. ADTS AAC, AC-3 and AMR cannot mark where the audio ends: the last frame is
padded, and the probe (which removes the codec's priming, see probe.py) reads up to one frame more:
1024 samples for AAC (23 ms at 44.1 kHz, but 93 ms at 11.025 kHz and 128 ms at 8 kHz), 1536 for AC-3
(at most 48 ms), 160 for AMR (20 ms).

Example:
    >>> info = transcode("example.wav", "out.opus",                                   # doctest: +SKIP
    ...                  TranscodeSpec(format="opus", bitrate=96_000, sample_rate=48_000, channels=2))
    >>> (info.codec, info.sample_rate, info.channels)                                 # doctest: +SKIP
    ('opus', 48000, 2)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import closing

from av.audio.frame import AudioFrame

from localcloud.engines.decode import decode_trimmed
from localcloud.engines.encode import OutputEncoder
from localcloud.engines.errors import MediaError
from localcloud.engines.frames import FrameConverter
from localcloud.engines.plan import EncoderPlan, OutputCheck, plan_output
from localcloud.engines.probe import AudioInfo, probe
from localcloud.engines.spec import ClipSource, TranscodeSpec
from shared.errors import InvalidRequestError

__all__ = [
    "AudioInfo",
    "ClipSource",
    "MediaError",
    "OutputCheck",
    "TranscodeSpec",
    "concat",
    "probe",
    "transcode",
]


def transcode(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    spec: TranscodeSpec,
    *,
    check_output: OutputCheck | None = None,
) -> AudioInfo:
    """Convert `src_path` into `dst_path` as `spec` says (OSS audio/convert); returns the output's probe.

    Example:
        >>> transcode("src.mp3", "dest.aac",                                          # doctest: +SKIP
        ...           TranscodeSpec(format="aac", ss_ms=10_000, t_ms=60_000, bitrate=96_000)).duration_ms
        60032.0
    """
    name = os.fspath(src_path)
    source = probe(src_path)
    plan = plan_output(
        spec, reference=source, reference_name=name, sources=[(name, source)], check_output=check_output
    )
    clip = ClipSource(src_path, ss_ms=spec.ss_ms)
    _render([(name, clip, source)], dst_path, plan, skip_ms=0, limit_ms=spec.t_ms)
    return probe(dst_path)


def concat(
    clips: Sequence[ClipSource],
    dst_path: str | os.PathLike[str],
    spec: TranscodeSpec,
    *,
    align: int = 0,
    check_output: OutputCheck | None = None,
) -> AudioInfo:
    """Join `clips` in order into `dst_path` (OSS audio/concat); returns the output's probe.

    Each clip is cut by its own ss/t; the result is resampled to ar/ac (inherited from `clips[align]`
    when not set) and the top-level ss/t of `spec` cut the merged audio.

    Example:
        >>> concat([ClipSource("a.mp3"), ClipSource("b.wav", t_ms=2000)], "ab.aac",    # doctest: +SKIP
        ...        TranscodeSpec(format="aac", sample_rate=44100, channels=1), align=1).channels
        1
    """
    if not clips:
        raise InvalidRequestError.single("clips", "required", "at least one clip is needed", "audio/concat")
    if isinstance(align, bool) or not isinstance(align, int) or not 0 <= align < len(clips):
        raise InvalidRequestError.single(
            "align",
            "range",
            f"must index one of the {len(clips)} clips (0-{len(clips) - 1}), got {align!r}",
            "audio/concat",
        )
    labelled = [(f"clip {index} ({os.fspath(clip.path)})", clip) for index, clip in enumerate(clips)]
    inputs = [(label, clip, probe(clip.path)) for label, clip in labelled]
    reference_label, _, reference = inputs[align]
    plan = plan_output(
        spec,
        reference=reference,
        reference_name=reference_label,
        sources=[(label, info) for label, _, info in inputs],
        check_output=check_output,
    )
    _render(inputs, dst_path, plan, skip_ms=spec.ss_ms, limit_ms=spec.t_ms)
    return probe(dst_path)


def _render(
    inputs: Sequence[tuple[str, ClipSource, AudioInfo]],
    dst_path: str | os.PathLike[str],
    plan: EncoderPlan,
    *,
    skip_ms: int,
    limit_ms: int,
) -> None:
    rate = plan.sample_rate
    converter = FrameConverter(sample_format=plan.sample_format, layout=plan.layout, sample_rate=rate)
    with OutputEncoder(
        dst_path, plan, skip_samples=_samples(skip_ms, rate), limit_samples=_samples(limit_ms, rate) or None
    ) as output:
        for label, clip, info in inputs:
            decoded = 0
            with closing(decode_trimmed(clip.path, start_ms=clip.ss_ms, duration_ms=clip.t_ms)) as frames:
                for frame in frames:
                    decoded += frame.samples
                    if not _write_all(output, converter.push(frame)):
                        break
            if decoded == 0:
                raise MediaError(
                    MediaError.INVALID_PARAMETER,
                    f"{label}: ss={clip.ss_ms} ms is at or past the end of the audio "
                    f"({info.duration_ms:.0f} ms)",
                )
            if not output.wants_more:
                break
            # Drain this clip's resampler so the next clip starts from its own first sample.
            _write_all(output, converter.flush())
        if output.samples_written == 0:
            total = sum(info.duration_ms for _, _, info in inputs)
            raise MediaError(
                MediaError.INVALID_PARAMETER,
                f"ss={skip_ms} ms is at or past the end of the audio ({total:.0f} ms)",
            )
        output.finish()


def _write_all(output: OutputEncoder, frames: Sequence[AudioFrame]) -> bool:
    for frame in frames:
        if not output.write(frame):
            return False
    return output.wants_more


def _samples(ms: int, rate: int) -> int:
    return (ms * rate + 500) // 1000

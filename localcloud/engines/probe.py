"""Read what an audio file is: container, codec, rate, channels, exact duration, bitrate, bit depth.

`probe(path)` looks at the first audio stream, decodes its first frame to prove it is usable, and
reports an `AudioInfo`. Durations are the length of the *content*, measured the same way the decoder in
`decode.py` delivers it, so trimming and probing agree:

- containers that record an exact length (WAV, FLAC, Ogg, MP4/M4A, MP3 with a Xing/LAME header, ASF)
  are trusted; Ogg Opus has its pre-skip removed (FFmpeg counts it);
- raw frame streams (ADTS AAC, AC-3, AMR) record no length, and FFmpeg would guess one from the bitrate,
  so their packets are counted instead (demuxing only, no decoding) and the codec's inherent priming is
  removed: 1024 samples for AAC-LC, 256 for AC-3. The decoder drops the same priming, see
  `leading_priming_samples`. The last frame's padding cannot be known from these containers, so such
  durations may exceed the content by less than one codec frame (AAC 1024 samples, AC-3 1536, AMR 160).

Example:
    >>> info = probe("speech.wav")                                  # doctest: +SKIP
    >>> (info.codec, info.sample_rate, info.channels, round(info.duration_ms))  # doctest: +SKIP
    ('pcm_s16le', 16000, 1, 2500)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer

from localcloud.engines.errors import MediaError

# FFmpeg demuxer names of raw elementary streams whose length FFmpeg can only estimate.
_RAW_FRAME_DEMUXERS = frozenset({"aac", "ac3", "eac3", "amr"})
# (demuxer, codec) -> encoder delay every encoder of that codec introduces and nothing in the container
# records. AAC-LC's MDCT overlap is one 1024-sample frame; AC-3's block overlap is 256 samples.
_INHERENT_PRIMING = {("aac", "aac"): 1024, ("ac3", "ac3"): 256, ("eac3", "eac3"): 256}
_PCM_CODEC = re.compile(r"^pcm_[suf](\d+)")
_OPUS_HEAD_MAGIC = b"OpusHead"
_FLAC_STREAMINFO_SIZE = 34


@dataclass(frozen=True)
class AudioInfo:
    """What `probe` found in the first audio stream of a file."""

    format_name: (
        str  # FFmpeg's demuxer name: "mp3", "aac" (ADTS), "ogg", "wav", "mov,mp4,m4a,3gp,3g2,mj2" ...
    )
    codec: str  # decoder name: "mp3float", "aac", "flac", "opus", "pcm_s16le" ...
    sample_rate: int  # Hz; for Opus the input rate recorded in OpusHead (the decoder always runs at 48 kHz)
    channels: int
    duration_ms: float
    bit_rate: int | None  # bit/s, None when neither stream nor container tells
    bits_per_sample: int | None  # for PCM and FLAC; None for lossy codecs, which have no bit depth


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Describe the first audio stream of `path`; MediaError when there is none or it cannot be decoded.

    Example:
        >>> probe("song.flac").bits_per_sample  # doctest: +SKIP
        24
    """
    with open_audio(path) as (container, stream):
        packet_seconds = _check_decodable_and_count(container, stream, os.fspath(path))
        return AudioInfo(
            format_name=container.format.name,
            codec=stream.codec_context.name,
            sample_rate=_declared_sample_rate(stream),
            channels=stream.codec_context.channels,
            duration_ms=float(_duration_seconds(container, stream, packet_seconds) * 1000),
            bit_rate=_positive(stream.bit_rate) or _positive(container.bit_rate),
            bits_per_sample=_bits_per_sample(stream),
        )


@contextmanager
def open_audio(path: str | os.PathLike[str]) -> Iterator[tuple[InputContainer, AudioStream]]:
    """Open `path` and its first audio stream, translating FFmpeg's failures into MediaError."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise MediaError(MediaError.INVALID_SOURCE, f"{name}: no such file")
    try:
        container = av.open(name, mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise MediaError(MediaError.INVALID_SOURCE, f"{name}: not a readable media file ({exc})") from exc
    try:
        if not container.streams.audio:
            raise MediaError(MediaError.NO_AUDIO_STREAM, f"{name}: the file has no audio stream")
        yield container, container.streams.audio[0]
    finally:
        container.close()


def leading_priming_samples(container: InputContainer, stream: AudioStream) -> int:
    """Samples of encoder priming the decoder will emit first and nothing in the container accounts for."""
    key = (container.format.name, stream.codec_context.name)
    if key not in _INHERENT_PRIMING:
        return 0
    # Only plain AAC-LC: HE-AAC doubles the output rate and its delay differs.
    profile = stream.codec_context.profile
    if key[1] == "aac" and profile not in (None, "LC"):
        return 0
    return _INHERENT_PRIMING[key]


def _check_decodable_and_count(container: InputContainer, stream: AudioStream, name: str) -> Fraction | None:
    """Decode until one frame comes out (else InvalidSource); for raw streams also total the packets."""
    count_packets = container.format.name in _RAW_FRAME_DEMUXERS
    total = 0
    decoded = False
    try:
        for packet in container.demux(stream):
            if count_packets and packet.size:
                total += packet.duration or 0
            if not decoded:
                decoded = bool(packet.decode())
            elif not count_packets:
                break
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(MediaError.INVALID_SOURCE, f"{name}: cannot decode audio ({exc})") from exc
    if not decoded:
        raise MediaError(MediaError.INVALID_SOURCE, f"{name}: no audio frame could be decoded")
    if not count_packets or stream.time_base is None:
        return None
    priming = Fraction(leading_priming_samples(container, stream), stream.codec_context.sample_rate or 1)
    return max(Fraction(0), total * stream.time_base - priming)


def _duration_seconds(
    container: InputContainer, stream: AudioStream, packet_seconds: Fraction | None
) -> Fraction:
    if packet_seconds is not None:
        return packet_seconds
    if stream.duration is not None and stream.time_base is not None:
        seconds = stream.duration * stream.time_base
    elif container.duration is not None:
        seconds = Fraction(container.duration, av.time_base)
    else:
        return Fraction(0)
    # Ogg counts Opus pre-skip in its granule positions; the decoder drops those samples.
    pre_skip = _opus_head(stream)[0] if container.format.name == "ogg" else 0
    return max(Fraction(0), seconds - Fraction(pre_skip, 48000))


def _declared_sample_rate(stream: AudioStream) -> int:
    input_rate = _opus_head(stream)[1]
    return input_rate or stream.codec_context.sample_rate


def _opus_head(stream: AudioStream) -> tuple[int, int]:
    """(pre_skip, input_sample_rate) from an OpusHead header; (0, 0) for anything else."""
    extradata = stream.codec_context.extradata or b""
    if (
        stream.codec_context.name != "opus"
        or not extradata.startswith(_OPUS_HEAD_MAGIC)
        or len(extradata) < 16
    ):
        return 0, 0
    return int.from_bytes(extradata[10:12], "little"), int.from_bytes(extradata[12:16], "little")


def _bits_per_sample(stream: AudioStream) -> int | None:
    name = stream.codec_context.name
    pcm = _PCM_CODEC.match(name)
    if pcm:
        return int(pcm.group(1))
    if name == "flac":
        streaminfo = (stream.codec_context.extradata or b"")[-_FLAC_STREAMINFO_SIZE:]
        if len(streaminfo) == _FLAC_STREAMINFO_SIZE:
            # STREAMINFO packs "bits per sample minus one" into 5 bits straddling bytes 12 and 13.
            return (((streaminfo[12] & 0x01) << 4) | (streaminfo[13] >> 4)) + 1
    return None


def _positive(value: int | None) -> int | None:
    return value if value and value > 0 else None

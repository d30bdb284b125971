"""Decode an audio file packet by packet, trimmed sample-accurately to [ss, ss + t).

Trimming is done on the decoder's own timeline, in samples, so a start of 1234 ms at 44.1 kHz begins
exactly at sample 54420 whatever the codec's frame size. Where the demuxer stamps packets with exact
times (WAV, FLAC, Ogg, MP4/M4A, ASF, Matroska) a start of a few seconds or more is reached by seeking
half a second early and decoding forward, so decoders settle before the first kept sample. Raw streams
(MP3, ADTS AAC, AC-3, AMR) only get estimated times from FFmpeg after a seek, so they are decoded from
the beginning and counted: slower for a late start, never wrong. If a seek lands after the target or
yields no timestamp, decoding restarts from the beginning.

Example:
    >>> frames = decode_trimmed("talk.flac", start_ms=1500, duration_ms=2000)   # doctest: +SKIP
    >>> sum(frame.samples for frame in frames)                                   # doctest: +SKIP
    88200
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from fractions import Fraction

import av.error
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from localcloud.engines.errors import MediaError
from localcloud.engines.frames import slice_frame
from localcloud.engines.probe import leading_priming_samples, open_audio

_EXACT_TIMESTAMP_DEMUXERS = frozenset({"wav", "w64", "aiff", "caf", "flac", "ogg", "mov,mp4,m4a,3gp,3g2,mj2"})
# Decode this much before the target after a seek: Vorbis/Opus/AAC need a frame or two to converge.
_PREROLL = Fraction(1, 2)
# Below this start, decoding from the beginning costs less than a seek and its preroll.
_SEEK_THRESHOLD = Fraction(3)


class _SeekMissed(Exception):
    """The seek landed after the target or gave no timestamp; decode from the start instead."""


def decode_trimmed(
    path: str | os.PathLike[str], *, start_ms: int = 0, duration_ms: int = 0, allow_seek: bool = True
) -> Generator[AudioFrame, None, None]:
    """Yield the decoded frames of `path` from `start_ms` for `duration_ms` (0: to the end).

    Frames keep the source's format, layout and rate; frames cut at either end carry no timestamp.
    Raises MediaError(InvalidSource) for files that cannot be read or decoded.
    """
    name = os.fspath(path)
    start = Fraction(start_ms, 1000)
    end = start + Fraction(duration_ms, 1000) if duration_ms else None
    if allow_seek and start >= _SEEK_THRESHOLD:
        try:
            yield from _trim(_positioned_frames(name, seek_to=start - _PREROLL), start, end)
            return
        except _SeekMissed:
            pass
    yield from _trim(_positioned_frames(name, seek_to=None), start, end)


def _trim(
    frames: Iterator[tuple[AudioFrame, Fraction]], start: Fraction, end: Fraction | None
) -> Iterator[AudioFrame]:
    for frame, position in frames:
        rate, count = frame.sample_rate, frame.samples
        first = max(0, round((start - position) * rate))
        last = count if end is None else min(count, round((end - position) * rate))
        if first >= count:
            continue
        if last <= first:
            return
        yield frame if (first, last) == (0, count) else slice_frame(frame, first, last)
        if last < count:
            return


def _positioned_frames(name: str, *, seek_to: Fraction | None) -> Iterator[tuple[AudioFrame, Fraction]]:
    """Yield (frame, its start time in seconds on the content timeline)."""
    with open_audio(name) as (container, stream):
        seeked = seek_to is not None and _seek(container, stream, seek_to)
        priming = 0 if seeked else leading_priming_samples(container, stream)
        origin = stream.start_time or 0
        position: Fraction | None = None
        for frame in _decoded(container, stream, name):
            if position is None:
                position = _first_position(frame, stream, origin, seek_to) if seeked else Fraction(0)
            if priming:
                # Encoder priming the container does not record: drop it so time 0 is the content's start.
                if frame.samples <= priming:
                    priming -= frame.samples
                    continue
                frame = slice_frame(frame, priming, frame.samples)  # noqa: PLW2901 - the kept remainder
                priming = 0
            yield frame, position
            position += Fraction(frame.samples, frame.sample_rate)


def _seek(container: InputContainer, stream: AudioStream, seconds: Fraction) -> bool:
    if container.format.name not in _EXACT_TIMESTAMP_DEMUXERS or stream.time_base is None or seconds <= 0:
        return False
    target = (stream.start_time or 0) + int(seconds / stream.time_base)
    try:
        container.seek(target, stream=stream, backward=True)
    except (av.error.FFmpegError, ValueError):
        raise _SeekMissed from None
    return True


def _first_position(
    frame: AudioFrame, stream: AudioStream, origin: int, seek_to: Fraction | None
) -> Fraction:
    time_base = frame.time_base or stream.time_base
    if frame.pts is None or time_base is None or seek_to is None:
        raise _SeekMissed
    position = (frame.pts - origin) * time_base
    if position > seek_to + _PREROLL:
        raise _SeekMissed
    return Fraction(position)


def _decoded(container: InputContainer, stream: AudioStream, name: str) -> Iterator[AudioFrame]:
    try:
        for packet in container.demux(stream):
            yield from packet.decode()
    except (av.error.FFmpegError, ValueError) as exc:
        raise MediaError(MediaError.INVALID_SOURCE, f"{name}: cannot decode audio ({exc})") from exc

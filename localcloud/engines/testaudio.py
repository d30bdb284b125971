"""Make test audio locally, streaming, with nothing downloaded: tones and silence in many formats.

WAV is written with the standard library's `wave` module; every other format goes through the media
engine's own encoder path (PyAV). Samples are generated one second at a time, so even an hour of audio
needs only a second's worth of memory.

Formats: wav, mp3, aac (ADTS), m4a (AAC in MP4), flac, oga (FLAC in Ogg), ogg (Vorbis in Ogg; the native
Vorbis encoder needs exactly 2 channels), opus, ac3, amr (8000 Hz mono), wma (WMA v2 in ASF).

Example:
    >>> write_tone("a440.mp3", seconds=2.0, sample_rate=44100, channels=2, format="mp3")  # doctest: +SKIP
    >>> write_silence("gap.wav", seconds=0.5)                                            # doctest: +SKIP
"""

from __future__ import annotations

import array
import math
import os
import sys
import wave
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from av.audio.frame import AudioFrame

from localcloud.engines.encode import OutputEncoder
from localcloud.engines.frames import FrameConverter, layout_for_channels
from localcloud.engines.plan import ENCODINGS, EncoderPlan

# Formats beyond the engine's outputs: (muxer, encoder, sample format, bit/s, extra encoder options).
_EXTRA_FORMATS: Mapping[str, tuple[str, str, str, int | None, dict[str, str]]] = MappingProxyType(
    {
        "m4a": ("ipod", "aac", "fltp", None, {}),
        "ogg": (
            "ogg",
            "vorbis",
            "fltp",
            None,
            {"strict": "-2"},
        ),  # FFmpeg marks its Vorbis encoder experimental
        "wma": ("asf", "wmav2", "fltp", 128_000, {}),  # the WMA encoders have no default bitrate
    }
)
_ENGINE_SAMPLE_FORMATS = MappingProxyType(
    {"mp3": "fltp", "aac": "fltp", "flac": "s16", "oga": "s16", "ac3": "fltp", "opus": "flt", "amr": "s16"}
)
FORMATS = ("wav", *ENCODINGS, *_EXTRA_FORMATS)
_AMPLITUDE = 0.5  # of full scale: loud enough to measure, far from clipping after lossy coding


def write_tone(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    sample_rate: int = 16000,
    channels: int = 1,
    frequency: float = 440.0,
    format: str = "wav",
) -> None:
    """Write `seconds` of a sine at `frequency` Hz, the same on every channel.

    Example:
        >>> write_tone("tone.wav", seconds=1.0, frequency=1000.0)  # doctest: +SKIP
    """
    _write(path, _sine_blocks(seconds, sample_rate, frequency), sample_rate, channels, format)


def write_silence(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    sample_rate: int = 16000,
    channels: int = 1,
    format: str = "wav",
) -> None:
    """Write `seconds` of digital silence.

    Example:
        >>> write_silence("quiet.flac", seconds=0.25, format="flac")  # doctest: +SKIP
    """
    if seconds <= 0 or sample_rate <= 0:
        raise ValueError("seconds and sample_rate must be positive")
    total = round(seconds * sample_rate)
    block = array.array("h", bytes(2 * min(total, sample_rate)))
    blocks = (block[: min(sample_rate, total - done)] for done in range(0, total, sample_rate))
    _write(path, blocks, sample_rate, channels, format)


def _sine_blocks(seconds: float, sample_rate: int, frequency: float) -> Iterator[array.array[int]]:
    """Mono 16-bit blocks of at most one second each."""
    if seconds <= 0 or sample_rate <= 0 or frequency <= 0:
        raise ValueError("seconds, sample_rate and frequency must be positive")
    total = round(seconds * sample_rate)
    peak = _AMPLITUDE * 32767
    step = 2 * math.pi * frequency / sample_rate
    # An integral frequency completes whole cycles every second, so one computed second repeats exactly:
    # an hour of tone costs one second of math.sin calls.
    periodic_block = None
    if float(frequency).is_integer():
        periodic_block = array.array("h", (round(peak * math.sin(step * i)) for i in range(sample_rate)))
    for done in range(0, total, sample_rate):
        count = min(sample_rate, total - done)
        if periodic_block is not None:
            yield periodic_block[:count]
        else:
            yield array.array("h", (round(peak * math.sin(step * (done + i))) for i in range(count)))


def _write(
    path: str | os.PathLike[str],
    blocks: Iterator[array.array[int]],
    sample_rate: int,
    channels: int,
    format: str,
) -> None:
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not 1 <= channels <= 8:
        raise ValueError(f"channels must be 1-8, got {channels}")
    if format == "wav":
        _write_wav(path, blocks, sample_rate, channels)
        return
    plan = _plan(format, sample_rate, channels)
    layout = layout_for_channels(channels)
    converter = FrameConverter(sample_format=plan.sample_format, layout=plan.layout, sample_rate=sample_rate)
    with OutputEncoder(path, plan) as output:
        for block in blocks:
            frame = AudioFrame(format="s16", layout=layout, samples=len(block))
            frame.planes[0].update(_interleaved_bytes(block, channels))
            frame.sample_rate = sample_rate
            for converted in converter.push(frame):
                output.write(converted)
        for converted in converter.flush():
            output.write(converted)
        output.finish()


def _plan(format: str, sample_rate: int, channels: int) -> EncoderPlan:
    layout = layout_for_channels(channels)
    if format in _EXTRA_FORMATS:
        muxer, codec, sample_format, bit_rate, options = _EXTRA_FORMATS[format]
        return EncoderPlan(muxer, codec, sample_rate, layout, sample_format, bit_rate, codec_options=options)
    encoding = ENCODINGS[format]
    return EncoderPlan(encoding.muxer, encoding.codec, sample_rate, layout, _ENGINE_SAMPLE_FORMATS[format])


def _write_wav(
    path: str | os.PathLike[str], blocks: Iterator[array.array[int]], sample_rate: int, channels: int
) -> None:
    with wave.open(os.fspath(path), "wb") as output:
        output.setnchannels(channels)
        output.setsampwidth(2)
        output.setframerate(sample_rate)
        for block in blocks:
            output.writeframes(_interleaved_bytes(block, channels))


def _interleaved_bytes(block: array.array[int], channels: int) -> bytes:
    """Little-endian interleaved 16-bit PCM with the mono block copied to every channel."""
    if channels == 1:
        interleaved = block
    else:
        interleaved = array.array("h", bytes(2 * len(block) * channels))
        for channel in range(channels):
            interleaved[channel::channels] = block
    if sys.byteorder == "big":
        interleaved = array.array("h", interleaved)
        interleaved.byteswap()
    return interleaved.tobytes()

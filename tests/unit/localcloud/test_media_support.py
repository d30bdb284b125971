"""Signal helpers for the media tests (decode to PCM, Goertzel), and the tests of the test-audio generator."""

from __future__ import annotations

import array
import math
import os
import wave
from pathlib import Path

import pytest

from localcloud.engines.decode import decode_trimmed
from localcloud.engines.frames import FrameConverter
from localcloud.engines.media import probe
from localcloud.engines.testaudio import FORMATS, write_silence, write_tone

ANALYSIS_RATE = 8000


def decoded_pcm(path: str | os.PathLike[str], *, sample_rate: int = ANALYSIS_RATE) -> array.array[int]:
    """The whole file as 16-bit mono samples at `sample_rate`, decoded with PyAV."""
    converter = FrameConverter(sample_format="s16", layout="mono", sample_rate=sample_rate)
    samples: array.array[int] = array.array("h")
    frames = [out for frame in decode_trimmed(path) for out in converter.push(frame)] + converter.flush()
    for frame in frames:
        samples.frombytes(bytes(frame.planes[0])[: 2 * frame.samples])
    return samples


def goertzel_power(samples: array.array[int], sample_rate: int, frequency: float) -> float:
    """Energy of `samples` at `frequency` (one Goertzel bin, normalised by the window length)."""
    coefficient = 2 * math.cos(2 * math.pi * frequency / sample_rate)
    previous = before_previous = 0.0
    for sample in samples:
        previous, before_previous = sample + coefficient * previous - before_previous, previous
    power = previous * previous + before_previous * before_previous - coefficient * previous * before_previous
    return power / max(1, len(samples)) ** 2


def dominant_frequency(samples: array.array[int], sample_rate: int, candidates: list[float]) -> float:
    return max(candidates, key=lambda frequency: goertzel_power(samples, sample_rate, frequency))


def window(samples: array.array[int], centre_ms: float, width_ms: float = 200) -> array.array[int]:
    half = int(width_ms * ANALYSIS_RATE / 2000)
    centre = int(centre_ms * ANALYSIS_RATE / 1000)
    return samples[centre - half : centre + half]


def write_ramp_wav(path: Path, *, seconds: float, sample_rate: int = 8000, sampwidth: int = 2) -> list[int]:
    """A WAV whose sample n is a known counter value, so a cut can be checked to the sample."""
    count = round(seconds * sample_rate)
    values = [(n % 65536) - 32768 for n in range(count)]
    with wave.open(str(path), "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(sampwidth)
        output.setframerate(sample_rate)
        if sampwidth == 2:
            output.writeframes(array.array("h", values).tobytes())
        else:  # 24-bit: the counter in the top two bytes, a low byte of zero
            output.writeframes(b"".join(b"\x00" + (v & 0xFFFF).to_bytes(2, "little") for v in values))
    return values


# Rates and channel counts each generator format can take (Vorbis: stereo only; AMR-NB: 8 kHz mono).
_GENERATOR_SETTINGS = {"amr": (8000, 1), "ogg": (22050, 2), "opus": (48000, 2), "ac3": (48000, 2)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_tone_makes_every_format_at_the_requested_rate_channels_and_length(
    tmp_path: Path, fmt: str
) -> None:
    rate, channels = _GENERATOR_SETTINGS.get(fmt, (16000, 1))
    path = tmp_path / f"tone.{fmt}"

    write_tone(path, seconds=1.5, sample_rate=rate, channels=channels, frequency=600, format=fmt)

    info = probe(path)
    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration_ms == pytest.approx(1500, abs=50)
    assert dominant_frequency(window(decoded_pcm(path), 750), ANALYSIS_RATE, [400, 600, 800]) == 600


def test_write_tone_repeats_an_integral_tone_without_a_phase_jump_between_seconds(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    write_tone(path, seconds=2.0, sample_rate=8000, frequency=440)

    samples = decoded_pcm(path)

    expected = [round(0.5 * 32767 * math.sin(2 * math.pi * 440 * n / 8000)) for n in (7999, 8000, 8001)]
    assert list(samples[7999:8002]) == expected


def test_write_tone_with_a_fractional_frequency_computes_every_sample(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    write_tone(path, seconds=1.25, sample_rate=8000, frequency=437.5)

    samples = decoded_pcm(path)

    assert len(samples) == 10000
    assert samples[9000] == round(0.5 * 32767 * math.sin(2 * math.pi * 437.5 * 9000 / 8000))


def test_write_silence_writes_only_zero_samples(tmp_path: Path) -> None:
    path = tmp_path / "quiet.flac"
    write_silence(path, seconds=0.75, sample_rate=16000, channels=2, format="flac")

    info = probe(path)

    assert (info.channels, info.duration_ms) == (2, 750.0)
    assert not any(decoded_pcm(path))


def test_write_silence_refuses_an_empty_length(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        write_silence(tmp_path / "nothing.wav", seconds=0)


def test_write_tone_copies_the_signal_to_every_channel_of_a_wav(tmp_path: Path) -> None:
    path = tmp_path / "six.wav"
    write_tone(path, seconds=0.1, sample_rate=8000, channels=6, frequency=500)

    with wave.open(str(path), "rb") as source:
        frame = array.array("h", source.readframes(3))

    assert frame[6:12] == array.array("h", [frame[6]] * 6) and frame[6] != 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"format": "mp4"}, "format must be one of"),
        ({"channels": 9}, "channels must be 1-8"),
        ({"seconds": 0}, "must be positive"),
    ],
)
def test_write_tone_refuses_what_it_cannot_make(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"seconds": 1.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        write_tone(tmp_path / "x", **arguments)  # type: ignore[arg-type]


def test_goertzel_tells_neighbouring_tones_apart(tmp_path: Path) -> None:
    path = tmp_path / "pair.wav"
    write_tone(path, seconds=0.5, sample_rate=ANALYSIS_RATE, frequency=1000)
    samples = decoded_pcm(path)

    assert dominant_frequency(samples, ANALYSIS_RATE, [800, 1000, 1200]) == 1000
    assert goertzel_power(samples, ANALYSIS_RATE, 1000) > 100 * goertzel_power(samples, ANALYSIS_RATE, 1200)

"""Signal checks for processed audio: decode to 8 kHz mono PCM, find the dominant tone of a window."""

from __future__ import annotations

import array
import math
import os

from localcloud.engines.decode import decode_trimmed
from localcloud.engines.frames import FrameConverter

ANALYSIS_RATE = 8000


def decoded_pcm(path: str | os.PathLike[str]) -> array.array[int]:
    """The whole file as 16-bit mono samples at 8 kHz, decoded with PyAV."""
    converter = FrameConverter(sample_format="s16", layout="mono", sample_rate=ANALYSIS_RATE)
    samples: array.array[int] = array.array("h")
    frames = [out for frame in decode_trimmed(path) for out in converter.push(frame)] + converter.flush()
    for frame in frames:
        samples.frombytes(bytes(frame.planes[0])[: 2 * frame.samples])
    return samples


def _goertzel_power(samples: array.array[int], frequency: float) -> float:
    coefficient = 2 * math.cos(2 * math.pi * frequency / ANALYSIS_RATE)
    previous = before_previous = 0.0
    for sample in samples:
        previous, before_previous = sample + coefficient * previous - before_previous, previous
    return previous * previous + before_previous * before_previous - coefficient * previous * before_previous


def dominant_frequency(samples: array.array[int], centre_ms: float, candidates: list[float]) -> float:
    """Which candidate tone is loudest in the 200 ms around `centre_ms`."""
    half = ANALYSIS_RATE // 10
    centre = int(centre_ms * ANALYSIS_RATE / 1000)
    window = samples[max(0, centre - half) : centre + half]
    return max(candidates, key=lambda frequency: _goertzel_power(window, frequency))

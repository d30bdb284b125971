"""Small operations on PyAV audio frames: cut a frame, make silence, convert a stream of frames.

Kept free of NumPy (not a localcloud dependency): frames are cut by copying byte ranges of their planes.

Example:
    >>> converter = FrameConverter(sample_format="fltp", layout="stereo", sample_rate=44100)  # doctest: +SKIP
    >>> out = [f for frame in decoded for f in converter.push(frame)] + converter.flush()     # doctest: +SKIP
"""

from __future__ import annotations

from fractions import Fraction

import av
from av.audio.frame import AudioFrame
from av.audio.layout import AudioLayout

# Channel layouts used for each channel count. FFmpeg's own default for 3 channels is "2.1" (with an LFE),
# which libopus refuses; "3.0" (FL FR FC) is accepted by every encoder we use, as are the others.
_LAYOUT_FOR_CHANNELS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def layout_for_channels(channels: int) -> str:
    """The channel layout name localcloud encodes `channels` channels with (1-8)."""
    try:
        return _LAYOUT_FOR_CHANNELS[channels]
    except KeyError:
        raise ValueError(f"no channel layout for {channels} channels (1-8 supported)") from None


def slice_frame(frame: AudioFrame, start: int, stop: int) -> AudioFrame:
    """A copy of samples [start, stop) of `frame` (same format, layout and rate, no timestamp)."""
    if not 0 <= start < stop <= frame.samples:
        raise ValueError(f"cannot cut samples [{start}, {stop}) from a frame of {frame.samples}")
    sample_format = frame.format
    width = sample_format.bytes * (1 if sample_format.is_planar else frame.layout.nb_channels)
    piece = AudioFrame(format=sample_format.name, layout=frame.layout, samples=stop - start)
    for source, target in zip(frame.planes, piece.planes, strict=True):
        target.update(bytes(memoryview(source)[start * width : stop * width]))
    piece.sample_rate = frame.sample_rate
    return piece


def silent_frame(sample_format: str, layout: str | AudioLayout, sample_rate: int, samples: int) -> AudioFrame:
    """`samples` samples of digital silence (zero is silence for every signed and float format)."""
    frame = AudioFrame(format=sample_format, layout=layout, samples=samples)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate = sample_rate
    return frame


class FrameConverter:
    """Convert frames of any format, layout and rate to one target, across changes in the input.

    A new resampler is started (after draining the old one) whenever the input parameters change,
    which happens within one file (an MP3 switching rate) and between the clips of a concatenation.
    """

    def __init__(self, *, sample_format: str, layout: str, sample_rate: int) -> None:
        self.sample_format = sample_format
        self.layout = layout
        self.sample_rate = sample_rate
        self._resampler: av.AudioResampler | None = None
        self._input_key: tuple[str, str, int] | None = None
        self._fed = 0

    def push(self, frame: AudioFrame) -> list[AudioFrame]:
        """Convert one frame; returns zero or more converted frames (the resampler buffers a little)."""
        key = (frame.format.name, frame.layout.name, frame.sample_rate)
        drained: list[AudioFrame] = []
        if key != self._input_key:
            drained = self.flush()
            self._resampler = av.AudioResampler(
                format=self.sample_format, layout=self.layout, rate=self.sample_rate
            )
            self._input_key = key
        # Continuous timestamps keep FFmpeg's filter graph from guessing (cut frames carry none).
        frame.pts = self._fed
        frame.time_base = Fraction(1, frame.sample_rate)
        self._fed += frame.samples
        assert self._resampler is not None
        return drained + self._resampler.resample(frame)

    def flush(self) -> list[AudioFrame]:
        """Drain what the resampler still holds; the converter can be pushed to again afterwards."""
        if self._resampler is None:
            return []
        tail = self._resampler.resample(None)
        self._resampler = None
        self._input_key = None
        self._fed = 0
        return tail

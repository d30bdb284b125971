"""Encode and mux a stream of frames into one output file, with an output-side trim window.

`OutputEncoder` owns one encoder for the whole output, so concatenated clips share a single priming
and continuous timestamps: no gap or click at the joins. Frames go through a FIFO so the encoder always
gets its exact frame size; the window drops the first `skip_samples` and stops after `limit_samples`.
The file is written under a temporary name next to the target and renamed into place on `finish()`,
so a failed task never leaves a half-written object behind.

Example:
    >>> with OutputEncoder("out.mp3", plan, limit_samples=44100) as out:   # doctest: +SKIP
    ...     for frame in converted_frames:
    ...         if not out.write(frame):
    ...             break
    ...     out.finish()
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from fractions import Fraction
from types import TracebackType

import av
import av.error
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.codec.codec import Capabilities
from av.packet import Packet

from localcloud.engines.errors import MediaError
from localcloud.engines.frames import silent_frame, slice_frame
from localcloud.engines.plan import EncoderPlan

# FFmpeg's FF_QP2LAMBDA. The AVOption takes lambda units; PyAV's global_quality property would take
# whole QP units only, losing LAME's fractional VBR steps (V2.7 ...).
_QP2LAMBDA = 118
_FALLBACK_FRAME_SIZE = 4096


class OutputEncoder:
    """One output file: open on construction, `write()` frames in the plan's format, then `finish()`."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        plan: EncoderPlan,
        *,
        skip_samples: int = 0,
        limit_samples: int | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.plan = plan
        self._skip = skip_samples
        self._room = limit_samples
        self._written = 0  # samples accepted into the output (after the window)
        self._encoded = 0  # samples handed to the encoder, which is also the next frame's pts
        self._finished = False
        self._fifo = av.AudioFifo()
        self._temp = self._make_temp_path()
        try:
            self._container = av.open(self._temp, mode="w", format=plan.muxer)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self._remove_temp()
            raise MediaError(
                MediaError.ENCODE_FAILED, f"{self.path}: cannot create the output ({exc})"
            ) from exc
        try:
            self._stream = self._open_stream()
        except BaseException:
            self.abort()
            raise
        context = self._stream.codec_context
        self._frame_size = context.frame_size or _FALLBACK_FRAME_SIZE
        capabilities = context.codec.capabilities
        self._pads_last_frame = not capabilities & (
            Capabilities.small_last_frame | Capabilities.variable_frame_size
        )

    @property
    def samples_written(self) -> int:
        return self._written

    @property
    def wants_more(self) -> bool:
        return self._room is None or self._room > 0

    def write(self, frame: AudioFrame) -> bool:
        """Queue one frame (already in the plan's format); returns False once the window is full."""
        count = frame.samples
        start = min(self._skip, count)
        self._skip -= start
        stop = count if self._room is None else min(count, start + self._room)
        if stop > start:
            piece = frame if (start, stop) == (0, count) else slice_frame(frame, start, stop)
            piece.pts = None  # the FIFO checks timestamps for continuity; ours restart at every clip
            self._fifo.write(piece)
            self._written += stop - start
            if self._room is not None:
                self._room -= stop - start
            while self._fifo.samples >= self._frame_size:
                self._encode_from_fifo(self._frame_size)
        return self.wants_more

    def finish(self) -> int:
        """Encode what is queued, flush the encoder, close the file and move it into place."""
        try:
            remaining = self._fifo.samples
            if remaining and self._pads_last_frame:
                # Encoders without small-last-frame support get the final frame topped up with silence.
                padding = self._frame_size - remaining
                self._fifo.write(
                    silent_frame(self.plan.sample_format, self.plan.layout, self.plan.sample_rate, padding)
                )
            if self._fifo.samples:
                self._encode_from_fifo(self._fifo.samples)
            self._mux(self._stream.encode(None))
            self._container.close()
            os.replace(self._temp, self.path)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.abort()
            raise MediaError(
                MediaError.ENCODE_FAILED, f"{self.path}: cannot finish the output ({exc})"
            ) from exc
        except BaseException:
            self.abort()
            raise
        self._finished = True
        return self._written

    def abort(self) -> None:
        """Discard the output (idempotent)."""
        if self._finished:
            return
        self._finished = True
        with contextlib.suppress(Exception):
            self._container.close()
        self._remove_temp()

    def __enter__(self) -> OutputEncoder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()  # no-op after finish(); discards the file on errors and early exits

    def _open_stream(self) -> AudioStream:
        plan = self.plan
        options = dict(plan.codec_options)
        if plan.vbr_quality is not None:
            options["global_quality"] = str(round(plan.vbr_quality * _QP2LAMBDA))
        try:
            stream = self._container.add_stream(plan.codec, rate=plan.sample_rate, options=options)
            if not isinstance(stream, AudioStream):
                raise ValueError(f"{plan.codec} is not an audio encoder")
            stream.layout = plan.layout
            stream.format = plan.sample_format
            context = stream.codec_context
            if plan.bit_rate is not None:
                context.bit_rate = plan.bit_rate
            if plan.vbr_quality is not None:
                context.qscale = True  # with global_quality above: LAME in VBR mode
            self._container.start_encoding()
        except (av.error.FFmpegError, ValueError, TypeError) as exc:
            raise MediaError(
                MediaError.ENCODE_FAILED,
                f"{self.path}: the {plan.codec} encoder refused {plan.sample_rate} Hz {plan.layout} "
                f"{plan.sample_format} at {plan.bit_rate or 'its default'} bit/s ({exc})",
            ) from exc
        return stream

    def _encode_from_fifo(self, samples: int) -> None:
        frame = self._fifo.read(samples)
        if frame is None:  # the FIFO holds fewer samples than asked; callers check first
            return
        frame.pts = self._encoded
        frame.time_base = Fraction(1, self.plan.sample_rate)
        frame.sample_rate = self.plan.sample_rate
        self._encoded += frame.samples
        try:
            packets = self._stream.encode(frame)
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(
                MediaError.ENCODE_FAILED, f"{self.path}: the {self.plan.codec} encoder failed ({exc})"
            ) from exc
        self._mux(packets)

    def _mux(self, packets: list[Packet[AudioStream]]) -> None:
        try:
            self._container.mux(packets)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(
                MediaError.ENCODE_FAILED, f"{self.path}: cannot write the output ({exc})"
            ) from exc

    def _make_temp_path(self) -> str:
        directory = os.path.dirname(os.path.abspath(self.path))
        try:
            handle, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=directory)
        except OSError as exc:
            raise MediaError(
                MediaError.ENCODE_FAILED, f"{self.path}: cannot write in {directory} ({exc})"
            ) from exc
        os.close(handle)
        return temp

    def _remove_temp(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._temp)

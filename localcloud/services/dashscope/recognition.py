"""Speech recognition for localcloud's DashScope: the configured engine, in its worker, and its failures.

The engine comes from `config.asr_engine` ("pocketsphinx", or "package.module:factory" for your own, see
localcloud/engines/asr.py) and runs in a worker process started on first use (worker.py: decoding there
does not slow localcloud's other requests); it is shared by every request and task, one call at a time.
Everything the engine or the media probe can refuse becomes a RecognitionFailure with a code clients
branch on (see errors.py); an engine that fails unexpectedly is logged here with its traceback.

    >>> recognizer = Recognizer("pocketsphinx")                                        # doctest: +SKIP
    >>> recognizer.check_language("zh")                                                # doctest: +SKIP
    Traceback (most recent call last):
    RecognitionFailure: UNSUPPORTED_LANGUAGE: the local recognition engine ... English (en) only ...

Usage arithmetic (documented choices):
    seconds         whole seconds of audio, rounded up, at least one (so audio_tokens = 25 * seconds,
                    shared.ops.asr.audio_tokens_for)
    text tokens     words plus punctuation marks of the transcript: the local engines have no tokenizer,
                    and this lands close to Qwen's for English ("Welcome to Alibaba Cloud." -> 5)
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import re
from collections.abc import Iterator
from pathlib import Path

from localcloud.engines.asr import Recognition
from localcloud.engines.errors import MediaError
from localcloud.engines.probe import AudioInfo, probe
from localcloud.services.dashscope.errors import (
    CHANNEL_ID_OUT_OF_RANGE,
    FILE_DECODE_FAILED,
    INTERNAL_ERROR,
    UNSUPPORTED_LANGUAGE,
    RecognitionFailure,
)
from localcloud.services.dashscope.worker import EngineDescription, RecognitionWorker, WorkerFailure
from shared.logging import get_logger
from shared.ops.asr import audio_tokens_for

log = get_logger("localcloud.dashscope")

# The local engines detect no emotion; Qwen-ASR always reports one, so every sentence is "neutral".
EMOTION = "neutral"
CONFIGURE_HINT = (
    "to recognise other languages, plug in another local engine with "
    "LOCALCLOUD_ASR_ENGINE=package.module:factory (see localcloud/engines/asr.py)"
)
# Said to an English-only engine's callers: the multilingual Whisper model is one make target away.
MULTILINGUAL_HINT = (
    "to recognise other languages, install the multilingual Whisper model (`make install-multilingual`) and "
    "restart localcloud, or plug in another local engine with LOCALCLOUD_ASR_ENGINE=package.module:factory "
    "(see localcloud/engines/asr.py)"
)
LANGUAGE_NAMES = {
    "zh": "Chinese", "yue": "Cantonese", "en": "English", "ja": "Japanese", "de": "German",
    "ko": "Korean", "ru": "Russian", "fr": "French", "pt": "Portuguese", "ar": "Arabic",
    "it": "Italian", "es": "Spanish", "hi": "Hindi", "id": "Indonesian", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "cs": "Czech", "da": "Danish", "fil": "Filipino",
    "fi": "Finnish", "is": "Icelandic", "ms": "Malay", "no": "Norwegian", "pl": "Polish", "sv": "Swedish",
}  # fmt: skip
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]")
_PIECE = re.compile(r"\s*(?:[^\W_]+(?:['\u2019][^\W_]+)*|[^\w\s]|_+)")


def describe_languages(codes: frozenset[str]) -> str:
    """`frozenset({"en"})` -> "English (en)"."""
    return ", ".join(f"{LANGUAGE_NAMES.get(code, code)} ({code})" for code in sorted(codes))


class Recognizer:
    """The configured recognition engine, run in up to `workers` worker processes (thread-safe).

    A call takes an idle worker, or waits for one. Workers start on first use, and the most recently used
    idle worker is taken first, so sequential calls keep reusing one process and a second one starts only
    when two recognitions run at once. Each worker gets an equal share of the cores for its engine's native
    threads. `close()` ends them all.
    """

    def __init__(self, spec: str, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.spec = spec
        threads = max(1, (os.cpu_count() or 1) // workers)
        self._workers = [RecognitionWorker(spec, threads=threads) for _ in range(workers)]
        self._idle: queue.LifoQueue[RecognitionWorker] = queue.LifoQueue()
        for worker in reversed(self._workers):
            self._idle.put(worker)
        self._description: EngineDescription | None = None

    @property
    def workers(self) -> int:
        return len(self._workers)

    @contextlib.contextmanager
    def _worker(self) -> Iterator[RecognitionWorker]:
        worker = self._idle.get()
        try:
            yield worker
        finally:
            self._idle.put(worker)

    @property
    def description(self) -> EngineDescription:
        """The engine's name and languages (asked of the worker once, which starts it)."""
        if self._description is None:
            with self._worker() as worker:
                outcome = worker.describe()
            if isinstance(outcome, WorkerFailure):
                raise self._failure(outcome, None, None)
            self._description = outcome
        return self._description

    def check_language(self, language: str | None) -> None:
        """Refuse (UNSUPPORTED_LANGUAGE) a language the engine cannot recognise; None lets it decide."""
        engine = self.description
        if language is None or language in engine.languages:
            return
        raise RecognitionFailure(UNSUPPORTED_LANGUAGE, _language_message(language, engine))

    def recognize(self, path: Path, *, language: str | None, channel: int, enable_words: bool) -> Recognition:
        """One channel of a local file, as sentences (and words) with millisecond timings.

        Raises RecognitionFailure, or WorkerStopped when localcloud is stopping.
        """
        with self._worker() as worker:
            outcome = worker.recognize(
                str(path), language=language, channel=channel, enable_words=enable_words
            )
        if isinstance(outcome, WorkerFailure):
            raise self._failure(outcome, path, language)
        return outcome

    def close(self) -> None:
        """End the worker processes; calls in progress finish first, later ones raise WorkerStopped."""
        for worker in self._workers:
            worker.close()

    def _failure(self, failure: WorkerFailure, path: Path | None, language: str | None) -> RecognitionFailure:
        message = failure.message if path is None else _without_path(failure.message, path)
        if failure.kind == "unsupported_language":
            advice = _language_message(str(language), self.description)
            return RecognitionFailure(UNSUPPORTED_LANGUAGE, advice)
        if failure.kind == "invalid_request" and failure.field == "channel_id":
            return RecognitionFailure(CHANNEL_ID_OUT_OF_RANGE, message)
        if failure.kind in ("invalid_request", "media"):
            return RecognitionFailure(FILE_DECODE_FAILED, message)
        if failure.kind == "no_engine":
            return RecognitionFailure(INTERNAL_ERROR, f"no recognition engine: {message}")
        log.error(
            "dashscope.recognition.engine_failed", engine=self.spec, error=message, traceback=failure.detail
        )
        reason = message.partition(":")[0] if failure.detail else message
        return RecognitionFailure(
            INTERNAL_ERROR, f"localcloud hit an internal error in the speech engine ({reason}); see its log"
        )


def _language_message(language: str, engine: EngineDescription) -> str:
    english_whisper = engine.name == "whisper" and engine.languages == {"en"}
    return (
        f"the local recognition engine {engine.name!r} recognises {describe_languages(engine.languages)} "
        f"only, not {language!r}; {MULTILINGUAL_HINT if english_whisper else CONFIGURE_HINT}"
    )


def inspect_audio(path: Path) -> AudioInfo:
    """Probe a fetched file (format, rate, channels, duration), refusing what cannot be decoded."""
    try:
        return probe(path)
    except MediaError as exc:
        reason = _without_path(exc.message, path)
        raise RecognitionFailure(FILE_DECODE_FAILED, f"the audio cannot be decoded: {reason}") from None


def _without_path(message: str, path: Path) -> str:
    # The local copy's name means nothing to the caller (and reveals localcloud's data directory).
    return message.replace(f"'{path}'", "the audio").replace(str(path), "the audio")


def check_channels(channel_ids: tuple[int, ...], info: AudioInfo) -> None:
    """Refuse channel ids the file does not have (CHANNEL_ID_OUT_OF_RANGE)."""
    missing = [channel for channel in channel_ids if channel >= info.channels]
    if missing:
        raise RecognitionFailure(
            CHANNEL_ID_OUT_OF_RANGE,
            f"channel_id {missing} out of range: the audio has {info.channels} channel(s), numbered from 0",
        )


def billed_seconds(duration_ms: float) -> int:
    """Whole seconds of audio as Qwen-ASR bills them: rounded up, at least one."""
    return max(1, math.ceil(duration_ms / 1000))


def audio_tokens(duration_ms: float) -> int:
    return audio_tokens_for(billed_seconds(duration_ms))


def text_tokens(text: str) -> int:
    """Words plus punctuation marks (see the module docstring)."""
    return len(_TOKEN.findall(text))


def stream_pieces(text: str) -> list[str]:
    """The transcript cut as the seed's stream sends it: "Welcome", " to", " Alibaba", " Cloud", "."."""
    pieces = _PIECE.findall(text)
    return pieces if "".join(pieces) == text else [text]

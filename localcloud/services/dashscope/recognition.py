"""Speech recognition for localcloud's DashScope: the configured engine, loaded once, and its failures.

The engine comes from `config.asr_engine` ("pocketsphinx", or "package.module:factory" for your own, see
localcloud/engines/asr.py) and is built on first use, then shared by every request and task; engines
serialise their own decoding. Everything the engine or the media probe can refuse becomes a
RecognitionFailure with a code clients branch on (see errors.py).

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

import math
import re
import threading
from pathlib import Path

from localcloud.engines.asr import Recognition, RecognitionEngine, UnsupportedLanguage, load_engine
from localcloud.engines.errors import MediaError
from localcloud.engines.probe import AudioInfo, probe
from localcloud.services.dashscope.errors import (
    CHANNEL_ID_OUT_OF_RANGE,
    FILE_DECODE_FAILED,
    INTERNAL_ERROR,
    UNSUPPORTED_LANGUAGE,
    RecognitionFailure,
)
from shared.errors import ConfigurationError, InvalidRequestError
from shared.ops.asr import audio_tokens_for

# The local engines detect no emotion; Qwen-ASR always reports one, so every sentence is "neutral".
EMOTION = "neutral"
CONFIGURE_HINT = (
    "to recognise other languages, plug in another local engine with "
    "LOCALCLOUD_ASR_ENGINE=package.module:factory (see localcloud/engines/asr.py)"
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
    """The configured recognition engine, constructed once on first use (thread-safe)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._engine: RecognitionEngine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> RecognitionEngine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    try:
                        self._engine = load_engine(self.spec)
                    except ConfigurationError as exc:
                        raise RecognitionFailure(INTERNAL_ERROR, f"no recognition engine: {exc}") from exc
        return self._engine

    def check_language(self, language: str | None) -> None:
        """Refuse (UNSUPPORTED_LANGUAGE) a language the engine cannot recognise; None lets it decide."""
        engine = self.engine
        if language is None or language in engine.languages:
            return
        raise RecognitionFailure(UNSUPPORTED_LANGUAGE, _language_message(language, engine))

    def recognize(self, path: Path, *, language: str | None, channel: int, enable_words: bool) -> Recognition:
        """One channel of a local file, as sentences (and words) with millisecond timings."""
        engine = self.engine
        try:
            return engine.recognize(str(path), language=language, channel=channel, enable_words=enable_words)
        except UnsupportedLanguage:
            raise RecognitionFailure(UNSUPPORTED_LANGUAGE, _language_message(str(language), engine)) from None
        except InvalidRequestError as exc:
            message = _without_path(exc.problems[0].message, path)
            if exc.field == "channel_id":
                raise RecognitionFailure(CHANNEL_ID_OUT_OF_RANGE, message) from None
            raise RecognitionFailure(FILE_DECODE_FAILED, message) from None
        except MediaError as exc:
            raise RecognitionFailure(FILE_DECODE_FAILED, _without_path(exc.message, path)) from None


def _language_message(language: str, engine: RecognitionEngine) -> str:
    return (
        f"the local recognition engine {engine.name!r} recognises {describe_languages(engine.languages)} "
        f"only, not {language!r}; {CONFIGURE_HINT}"
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

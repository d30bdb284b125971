"""Whisper by language: tiny.en for English, the multilingual base for every other language.

What "auto" and "whisper" build when the optional multilingual model is installed too
(`make install-multilingual`; localcloud.engines.whisper_models). English stays with tiny.en, which
recognises `make run`'s lecture sample better than base does (WER 0.115 against 0.154; on other synthetic
English base does better, at twice the CPU: bench/RESULTS.md). Every other Qwen-ASR language that base has a
language token for goes to base: all that Whisper knows but Cantonese (`yue` came with large-v3). With no
language given (Qwen-ASR then detects it), base tells the language of the channel's first 30 s and the
channel goes where that language belongs; a language Whisper detects but Qwen-ASR has no code for is left to
base to pick again as it recognises.

Each model loads on first need, so a worker that only ever hears English never loads base (nor assembles it).

    >>> engine = load_routing_engine()                                        # doctest: +SKIP
    >>> engine.recognize("call.flac", language=None).language                 # doctest: +SKIP
    'zh'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from localcloud.engines.asr import Recognition, RecognitionEngine, UnsupportedLanguage
from localcloud.engines.whisper import (
    QWEN_LANGUAGES,
    WHISPER_ENGINE,
    DetectedLanguage,
    WhisperEngine,
    model_languages,
)
from localcloud.engines.whisper_models import english_model_path, multilingual_model_path, split_model_sources
from shared.errors import ConfigurationError
from shared.logging import get_logger

__all__ = ["ENGLISH", "LanguageDetectingEngine", "LanguageRoutingEngine", "load_routing_engine"]

log = get_logger(__name__)

ENGLISH = "en"


class LanguageDetectingEngine(RecognitionEngine, Protocol):
    """An engine that can also tell which language a channel is spoken in (WhisperEngine can)."""

    def detect_language(self, audio_path: str, *, channel: int = 0) -> DetectedLanguage | None:
        """The language of the channel's opening speech; None when there is no speech to tell it from."""
        ...


_Engine = TypeVar("_Engine")


class _OnFirstUse(Generic[_Engine]):
    """An engine built by its factory the first time it is needed, once, whichever thread asks first."""

    def __init__(self, factory: Callable[[], _Engine]) -> None:
        self._factory = factory
        self._engine: _Engine | None = None
        self._lock = threading.Lock()

    def get(self) -> _Engine:
        with self._lock:
            if self._engine is None:
                self._engine = self._factory()
            return self._engine


class LanguageRoutingEngine:
    """Recognition by two engines: `english` for English, `multilingual` for the rest and for detection.

    The factories run on first need. `english_languages` and `multilingual_languages` are what each engine
    recognises (known without building either): together, the languages this engine accepts.
    """

    name = WHISPER_ENGINE

    def __init__(
        self,
        english: Callable[[], RecognitionEngine],
        multilingual: Callable[[], LanguageDetectingEngine],
        *,
        english_languages: frozenset[str] = frozenset({ENGLISH}),
        multilingual_languages: frozenset[str] = QWEN_LANGUAGES,
    ) -> None:
        self._english = _OnFirstUse(english)
        self._multilingual = _OnFirstUse(multilingual)
        self._english_languages = english_languages
        self._multilingual_languages = multilingual_languages
        self.languages = english_languages | multilingual_languages

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        """Recognise one channel with the engine for its language (detected first when `language` is None).

        Raises UnsupportedLanguage, listing every language of both engines, for a language neither knows.
        """
        if language is None:
            return self._recognize_detected(audio_path, channel, enable_words)
        code = str(language).strip().lower()
        if code in self._english_languages:
            engine: RecognitionEngine = self._english.get()
        elif code in self._multilingual_languages:
            engine = self._multilingual.get()
        else:
            raise UnsupportedLanguage(str(language), self.name, self.languages)
        return engine.recognize(audio_path, language=code, channel=channel, enable_words=enable_words)

    def _recognize_detected(self, audio_path: str, channel: int, enable_words: bool) -> Recognition:
        multilingual = self._multilingual.get()
        detected = multilingual.detect_language(audio_path, channel=channel)
        log.debug(
            "whisper.language_detected",
            channel=channel,
            language=detected.code if detected else None,
            probability=round(detected.probability, 3) if detected else None,
        )
        if detected is None or detected.code in self._english_languages:
            # No speech to tell the language from: the English engine is the cheaper way to hear nothing.
            code = detected.code if detected is not None else ENGLISH
            return self._english.get().recognize(
                audio_path, language=code, channel=channel, enable_words=enable_words
            )
        code_or_none = detected.code if detected.code in self._multilingual_languages else None
        return multilingual.recognize(
            audio_path, language=code_or_none, channel=channel, enable_words=enable_words
        )


def load_routing_engine(*, cpu_threads: int = 0) -> LanguageRoutingEngine | None:
    """tiny.en and base routed by language, or None unless both models are installed.

    Nothing is loaded or assembled here: base is joined into its cache directory when first needed.
    """
    sources = split_model_sources()
    if english_model_path() is None or sources is None:
        return None

    def multilingual() -> WhisperEngine:
        path = multilingual_model_path()
        if path is None:  # uninstalled while localcloud was running
            raise ConfigurationError(
                "the multilingual Whisper model is no longer installed: run `make install-multilingual`"
            )
        return WhisperEngine(path, cpu_threads=cpu_threads)

    return LanguageRoutingEngine(
        lambda: WhisperEngine(cpu_threads=cpu_threads),
        multilingual,
        # Read from the installed wheel's vocabulary.txt: knowing them assembles nothing.
        multilingual_languages=model_languages(sources[0]),
    )

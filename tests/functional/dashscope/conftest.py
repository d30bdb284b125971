"""Fixtures for localcloud's DashScope: spoken English made with the TTS engine, and a running localcloud.

Speech: eSpeak NG's `en-us+klatt4` voice at speech_rate -100 (the Klatt voices are the ones PocketSphinx
recognises best among eSpeak's English voices). Sentences are joined with 0.6 s of silence so the
recogniser's endpointer (about 0.27 s) ends a sentence in each gap.

The sentences were picked from fifteen candidates as the ones the bundled PocketSphinx engine recognises
steadily: the engine's live cepstral mean normalisation carries over from one file to the next, so a
sentence's result depends on what was recognised before (a fresh engine hears its first file worst).
Measured on this corpus, cold and after every order of the other clips: pooled WER 0.00-0.07, worst single
clip 0.33 (3 of 9 words). MAX_WER = 0.5 sits above every measured value and far below what broken plumbing
gives (the wrong channel or the wrong audio: about 1.0).
"""

from __future__ import annotations

import array
import sys
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from localcloud.engines.tts import SpeechSynthesizer
from localcloud.engines.wer import wer_report
from localcloud.server import LocalCloud
from shared.auth import Credentials, presign_oss_v1
from tests.functional.conftest import make_config

VOICE = "espeak:en-us+klatt4"
SPEECH_RATE = -100
SAMPLE_RATE = 16000
GAP_SECONDS = 0.6
MAX_WER = 0.5
BUCKET = "media"

DROVE = "He drove his car to the city yesterday."
BREAD = "We need to buy some bread and milk."
REPORT = "I will send you the report tomorrow."
CALL_BACK = "Please call me back when you get home tonight."
TRAIN = "Can you tell me where the train station is."


@dataclass(frozen=True)
class Clip:
    """A WAV file of known sentences, stored in localcloud's OSS as `media/<key>`."""

    key: str
    path: Path
    sentences: tuple[str, ...]  # for stereo clips: channel 0 and channel 1
    duration_ms: int
    channels: int = 1

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class Speech:
    two_sentences: Clip  # DROVE, gap, BREAD
    short: Clip  # REPORT
    stereo: Clip  # channel 0 CALL_BACK, channel 1 TRAIN


def _pcm(text: str) -> array.array[int]:
    synthesis = SpeechSynthesizer().synthesize(
        text, voice=VOICE, speech_rate=SPEECH_RATE, sample_rate=SAMPLE_RATE
    )
    samples = array.array("h")
    samples.frombytes(synthesis.samples)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _silence(seconds: float) -> array.array[int]:
    return array.array("h", bytes(2 * round(seconds * SAMPLE_RATE)))


def _write_wav(path: Path, channels: Sequence[array.array[int]]) -> int:
    length = max(len(channel) for channel in channels)
    interleaved = array.array("h", bytes(2 * length * len(channels)))
    for index, channel in enumerate(channels):
        padded = channel + array.array("h", bytes(2 * (length - len(channel))))
        interleaved[index :: len(channels)] = padded
    if sys.byteorder == "big":
        interleaved.byteswap()
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(interleaved.tobytes())
    return length * 1000 // SAMPLE_RATE


def _sentences_clip(directory: Path, key: str, sentences: Sequence[str]) -> Clip:
    pcm = _silence(0.3)
    for sentence in sentences:
        pcm += _pcm(sentence) + _silence(GAP_SECONDS)
    path = directory / key
    return Clip(key, path, tuple(sentences), _write_wav(path, [pcm]))


@pytest.fixture(scope="session")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Speech:
    directory = tmp_path_factory.mktemp("speech")
    stereo_path = directory / "stereo.wav"
    duration = _write_wav(stereo_path, [_silence(0.3) + _pcm(CALL_BACK), _silence(0.3) + _pcm(TRAIN)])
    return Speech(
        two_sentences=_sentences_clip(directory, "two-sentences.wav", [DROVE, BREAD]),
        short=_sentences_clip(directory, "short.wav", [REPORT]),
        stereo=Clip("stereo.wav", stereo_path, (CALL_BACK, TRAIN), duration, channels=2),
    )


def upload(cloud: LocalCloud, speech: Speech) -> None:
    """Put the corpus into localcloud's OSS (bucket `media`)."""
    store = cloud.oss().store
    store.create_bucket(BUCKET)
    for clip in (speech.two_sentences, speech.short, speech.stereo):
        with open(clip.path, "rb") as body:
            store.put_stream(BUCKET, clip.key, body, content_type="audio/wav")


@pytest.fixture(scope="session")
def asr_cloud(tmp_path_factory: pytest.TempPathFactory, speech: Speech) -> Iterator[LocalCloud]:
    """OSS and DashScope on a free loopback port, shared by the tests that need no restart."""
    with LocalCloud(
        make_config(tmp_path_factory.mktemp("asr-cloud")), services=("oss", "dashscope")
    ) as cloud:
        upload(cloud, speech)
        yield cloud


def presigned(cloud: LocalCloud, key: str, expires: int = 600) -> str:
    url: str = cloud.oss().presign_get(BUCKET, key, expires)
    return url


def expired_url(cloud: LocalCloud, credentials: Credentials, key: str) -> str:
    """A correctly signed V1 URL whose validity ended an hour ago."""
    signed_at = datetime.now(timezone.utc) - timedelta(hours=2)
    return presign_oss_v1(
        "GET",
        cloud.endpoint,
        BUCKET,
        key,
        credentials=credentials,
        expires=3600,
        now=signed_at,
        path_style=True,
    )


def assert_recognised(reference: str, text: str) -> float:
    """The transcript is close enough to what was spoken (see MAX_WER); returns the rate."""
    report = wer_report(reference, text)
    assert report.wer < MAX_WER, f"WER {report.wer:.2f} for {text!r} (spoken: {reference!r})"
    return report.wer

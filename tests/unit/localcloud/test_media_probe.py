from __future__ import annotations

import random
from pathlib import Path

import pytest

from localcloud.engines.media import MediaError, probe
from localcloud.engines.testaudio import write_tone
from tests.unit.localcloud.test_media_support import write_ramp_wav


def test_probe_describes_a_pcm_wav_exactly(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    write_tone(path, seconds=2.5, sample_rate=16000, channels=2)

    info = probe(path)

    assert info.format_name == "wav"
    assert info.codec == "pcm_s16le"
    assert (info.sample_rate, info.channels, info.bits_per_sample) == (16000, 2, 16)
    assert info.duration_ms == 2500.0
    assert info.bit_rate == 16000 * 2 * 16


def test_probe_reads_a_24_bit_wav_as_24_bits(tmp_path: Path) -> None:
    path = tmp_path / "deep.wav"
    write_ramp_wav(path, seconds=0.5, sampwidth=3)

    assert probe(path).bits_per_sample == 24


def test_probe_of_adts_aac_counts_frames_and_removes_the_encoder_priming(tmp_path: Path) -> None:
    # FFmpeg alone would estimate an ADTS length from the bitrate; frames minus 1024 priming is exact
    # up to the last frame's padding (under 1024 samples).
    path = tmp_path / "clip.aac"
    write_tone(path, seconds=3.0, sample_rate=8000, format="aac")

    info = probe(path)

    assert info.format_name == "aac"
    assert 3000 <= info.duration_ms < 3000 + 1024 / 8 + 0.001


def test_probe_of_opus_reports_the_input_rate_recorded_in_opus_head(tmp_path: Path) -> None:
    path = tmp_path / "narrow.opus"
    write_tone(path, seconds=1.0, sample_rate=16000, format="opus")

    info = probe(path)

    assert (info.codec, info.sample_rate, info.duration_ms) == ("opus", 16000, 1000.0)


def test_probe_of_lossy_audio_has_no_bit_depth_but_a_bitrate(tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    write_tone(path, seconds=1.0, sample_rate=44100, channels=2, format="mp3")

    info = probe(path)

    assert info.bits_per_sample is None
    assert info.bit_rate == 128000


def test_probe_of_a_missing_file_is_an_invalid_source(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        probe(tmp_path / "absent.wav")

    assert caught.value.code == "InvalidSource"
    assert "absent.wav: no such file" in caught.value.message


@pytest.mark.parametrize(
    "content",
    [
        random.Random(7).randbytes(4096),
        b"",
        b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10,
        b"hello world\n" * 50,
    ],
    ids=["random bytes", "empty", "broken wav header", "text"],
)
def test_probe_of_a_corrupt_file_is_an_invalid_source(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "upload.mp3"
    path.write_bytes(content)

    with pytest.raises(MediaError) as caught:
        probe(path)

    assert caught.value.code == "InvalidSource"
    assert str(path) in caught.value.message


def test_probe_of_a_file_without_audio_says_so(tmp_path: Path) -> None:
    path = tmp_path / "captions.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n\n2\n00:00:01,000 --> 00:00:02,000\nworld\n")

    with pytest.raises(MediaError) as caught:
        probe(path)

    assert caught.value.code == "NoAudioStream"


def test_media_error_keeps_its_code_and_message_through_pickling() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(MediaError("EncodeFailed", "out.mp3: disk full")))

    assert (error.code, error.message, str(error)) == (
        "EncodeFailed",
        "out.mp3: disk full",
        "EncodeFailed: out.mp3: disk full",
    )

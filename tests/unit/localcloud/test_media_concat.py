from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from localcloud.engines import decode
from localcloud.engines.media import ClipSource, MediaError, TranscodeSpec, concat, probe
from localcloud.engines.testaudio import write_tone
from shared.errors import InvalidRequestError
from tests.unit.localcloud.test_media_support import (
    ANALYSIS_RATE,
    decoded_pcm,
    dominant_frequency,
    window,
    write_ramp_wav,
)

TOLERANCE_MS = 50
TONES = [400.0, 600.0, 800.0, 1000.0, 1200.0]


@pytest.fixture(scope="module")
def seed_clips(tmp_path_factory: pytest.TempPathFactory) -> list[ClipSource]:
    """The five objects of the seed's merge example, short, each with its own tone, rate and layout."""
    directory = tmp_path_factory.mktemp("seed")
    write_tone(
        directory / "pre1.mp3", seconds=1.0, sample_rate=44100, channels=2, frequency=400, format="mp3"
    )
    write_tone(directory / "pre2.wav", seconds=3.0, sample_rate=16000, channels=1, frequency=600)
    write_tone(
        directory / "example.oga", seconds=1.5, sample_rate=22050, channels=2, frequency=800, format="ogg"
    )
    write_tone(
        directory / "sur1.aac", seconds=15.0, sample_rate=8000, channels=1, frequency=1000, format="aac"
    )
    write_tone(
        directory / "sur2.wma", seconds=11.5, sample_rate=44100, channels=2, frequency=1200, format="wma"
    )
    # Output order pre1, pre2, example.oga (the request's own object), sur1, sur2 (see seed-notes.md).
    return [
        ClipSource(directory / "pre1.mp3"),
        ClipSource(directory / "pre2.wav", t_ms=2000),
        ClipSource(directory / "example.oga"),
        ClipSource(directory / "sur1.aac", ss_ms=4000, t_ms=10_000),
        ClipSource(directory / "sur2.wma", ss_ms=10_000),
    ]


# Segment lengths of the merged seed example: 1 + 2 + 1.5 + 10 + 1.5 s.
SEED_SEGMENTS_MS = [1000, 2000, 1500, 10_000, 1500]


def _segment_centres(lengths: Sequence[int]) -> list[float]:
    centres, start = [], 0
    for length in lengths:
        centres.append(start + length / 2)
        start += length
    return centres


def test_seed_five_clip_merge_to_aac_keeps_order_rate_channels_and_length(
    tmp_path: Path, seed_clips: list[ClipSource]
) -> None:
    # audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2 with /pre pre1.mp3, /pre pre2.wav t_2000,
    # /sur sur1.aac ss_4000 t_10000, /sur sur2.wma ss_10000, posted to example.oga.
    output = tmp_path / "outobj.aac"

    info = concat(
        seed_clips,
        output,
        TranscodeSpec(format="aac", channels=1, sample_rate=44100, bitrate=96_000),
        align=2,
    )

    assert (info.format_name, info.codec, info.sample_rate, info.channels) == ("aac", "aac", 44100, 1)
    assert info.duration_ms == pytest.approx(sum(SEED_SEGMENTS_MS), abs=TOLERANCE_MS)
    samples = decoded_pcm(output)
    heard = [
        dominant_frequency(window(samples, c), ANALYSIS_RATE, TONES)
        for c in _segment_centres(SEED_SEGMENTS_MS)
    ]
    assert heard == TONES


def test_each_join_falls_where_the_clip_lengths_say(tmp_path: Path, seed_clips: list[ClipSource]) -> None:
    output = tmp_path / "joins.flac"
    concat(seed_clips[:3], output, TranscodeSpec(format="flac", sample_rate=16000, channels=1))
    samples = decoded_pcm(output)

    # 100 ms either side of each join: the tone of the clip before, then of the clip after.
    for join_ms, before, after in [(1000, 400.0, 600.0), (3000, 600.0, 800.0)]:
        assert dominant_frequency(window(samples, join_ms - 60, 100), ANALYSIS_RATE, TONES) == before
        assert dominant_frequency(window(samples, join_ms + 60, 100), ANALYSIS_RATE, TONES) == after


@pytest.mark.parametrize(("align", "rate", "channels"), [(2, 22050, 2), (3, 8000, 1), (0, 44100, 2)])
def test_omitted_ar_and_ac_come_from_the_align_clip(
    tmp_path: Path, seed_clips: list[ClipSource], align: int, rate: int, channels: int
) -> None:
    clips = seed_clips[:4]
    info = concat(clips, tmp_path / "out.oga", TranscodeSpec(format="oga", t_ms=1200), align=align)

    assert (info.sample_rate, info.channels) == (rate, channels)
    assert info.duration_ms == pytest.approx(1200, abs=1)


def test_inherited_values_from_the_align_clip_are_checked_with_the_callers_rules(
    tmp_path: Path, seed_clips: list[ClipSource]
) -> None:
    def opus_rules(fmt: str, rate: int, channels: int) -> Sequence[str]:
        return [] if rate in (8000, 12000, 16000, 24000, 48000) else [f"ar: opus cannot take {rate} Hz"]

    with pytest.raises(MediaError) as caught:
        concat(
            seed_clips[:3],
            tmp_path / "out.opus",
            TranscodeSpec(format="opus"),
            align=2,
            check_output=opus_rules,
        )

    assert caught.value.code == "InvalidParameter.Inherited"
    assert "ar=22050 (inherited from clip 2" in caught.value.message and "example.oga" in caught.value.message
    assert "opus cannot take 22050 Hz" in caught.value.message


def test_top_level_ss_and_t_cut_the_merged_audio(tmp_path: Path) -> None:
    write_tone(tmp_path / "a.wav", seconds=1.0, sample_rate=8000, frequency=400)
    write_tone(tmp_path / "b.wav", seconds=1.0, sample_rate=8000, frequency=800)
    output = tmp_path / "middle.mp3"

    info = concat(
        [ClipSource(tmp_path / "a.wav"), ClipSource(tmp_path / "b.wav")],
        output,
        TranscodeSpec(format="mp3", ss_ms=500, t_ms=1000),
    )

    assert info.duration_ms == pytest.approx(1000, abs=TOLERANCE_MS)
    samples = decoded_pcm(output)
    assert dominant_frequency(window(samples, 250), ANALYSIS_RATE, [400, 800]) == 400
    assert dominant_frequency(window(samples, 750), ANALYSIS_RATE, [400, 800]) == 800


def test_lossless_concat_is_every_sample_of_every_cut_with_nothing_between(tmp_path: Path) -> None:
    first = write_ramp_wav(tmp_path / "one.wav", seconds=5)
    second = write_ramp_wav(tmp_path / "two.wav", seconds=5)
    output = tmp_path / "joined.flac"

    concat(
        [
            ClipSource(tmp_path / "one.wav", ss_ms=3500, t_ms=250),
            ClipSource(tmp_path / "two.wav", ss_ms=125, t_ms=500),
        ],
        output,
        TranscodeSpec(format="flac"),
    )

    assert list(decoded_pcm(output)) == first[28_000:30_000] + second[1000:5000]


def test_a_late_start_in_a_seekable_clip_is_reached_by_seeking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_ramp_wav(tmp_path / "long.wav", seconds=10)
    seeks: list[bool] = []
    real_seek = decode._seek

    def recording_seek(*args: object) -> bool:
        seeks.append(real_seek(*args))  # type: ignore[arg-type]
        return seeks[-1]

    monkeypatch.setattr(decode, "_seek", recording_seek)
    concat(
        [ClipSource(tmp_path / "long.wav", ss_ms=8000)], tmp_path / "end.flac", TranscodeSpec(format="flac")
    )

    assert seeks == [True]
    assert probe(tmp_path / "end.flac").duration_ms == 2000.0


def test_abopt_2_names_the_clip_whose_bitrate_is_too_low(
    tmp_path: Path, seed_clips: list[ClipSource]
) -> None:
    with pytest.raises(MediaError) as caught:
        concat(
            seed_clips, tmp_path / "out.mp3", TranscodeSpec(format="mp3", bitrate=320_000, bitrate_option=2)
        )

    assert caught.value.code == "BitrateBelowTarget"
    assert (
        "clip 0 (" in caught.value.message
        and "pre1.mp3) has a bitrate of 128000 bit/s" in caught.value.message
    )


def test_abopt_1_takes_the_lowest_clip_bitrate(tmp_path: Path, seed_clips: list[ClipSource]) -> None:
    spec = TranscodeSpec(format="mp3", bitrate=320_000, bitrate_option=1, t_ms=1000)

    info = concat(seed_clips[:2], tmp_path / "out.mp3", spec)

    assert info.bit_rate == 128_000  # pre1.mp3; pre2.wav is 256 kbit/s PCM


def test_a_clip_starting_past_its_end_is_named(tmp_path: Path, seed_clips: list[ClipSource]) -> None:
    clips = [seed_clips[0], ClipSource(seed_clips[1].path, ss_ms=3000)]

    with pytest.raises(MediaError) as caught:
        concat(clips, tmp_path / "out.aac", TranscodeSpec(format="aac"))

    assert caught.value.code == "InvalidParameter"
    assert "clip 1 (" in caught.value.message and "ss=3000 ms is at or past the end" in caught.value.message
    assert not (tmp_path / "out.aac").exists()


def test_a_top_level_start_past_the_merged_end_is_refused(
    tmp_path: Path, seed_clips: list[ClipSource]
) -> None:
    with pytest.raises(MediaError) as caught:
        concat(seed_clips[:2], tmp_path / "out.aac", TranscodeSpec(format="aac", ss_ms=3000))

    assert caught.value.code == "InvalidParameter"
    assert "ss=3000 ms is at or past the end" in caught.value.message


def test_a_corrupt_clip_fails_before_anything_is_encoded(
    tmp_path: Path, seed_clips: list[ClipSource]
) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\xff\xfb" + b"\x00" * 10)

    with pytest.raises(MediaError) as caught:
        concat([seed_clips[0], ClipSource(broken)], tmp_path / "out.aac", TranscodeSpec(format="aac"))

    assert caught.value.code == "InvalidSource"
    assert "broken.mp3" in caught.value.message


@pytest.mark.parametrize("align", [5, -1, True])
def test_align_must_index_a_clip(tmp_path: Path, seed_clips: list[ClipSource], align: int) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        concat(seed_clips, tmp_path / "out.aac", TranscodeSpec(format="aac"), align=align)

    assert (caught.value.field, caught.value.rule) == ("align", "range")


def test_concat_needs_at_least_one_clip(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        concat([], tmp_path / "out.aac", TranscodeSpec(format="aac"))

    assert caught.value.field == "clips"


def test_a_clip_with_a_negative_start_names_the_field() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        ClipSource("pre1.mp3", ss_ms=-1)

    assert (caught.value.field, caught.value.rule) == ("ss", "non_negative_int")

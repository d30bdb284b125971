from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from localcloud.engines.media import MediaError, TranscodeSpec, probe, transcode
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


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sources") / "example.wav"
    write_tone(path, seconds=2.0, sample_rate=44100, channels=2, frequency=700)
    return path


def _no_leftovers(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".part")]


# --- the seed examples -------------------------------------------------------------------------------


def test_seed_mp3_to_aac_clip_takes_sixty_seconds_from_the_tenth(tmp_path: Path) -> None:
    # audio/convert,ss_10000,t_60000,f_aac,ab_96000 on a 75 s source (8 kHz mono keeps it quick).
    source = tmp_path / "example.mp3"
    write_tone(source, seconds=75, sample_rate=8000, frequency=500, format="mp3")

    info = transcode(
        source, tmp_path / "dest.aac", TranscodeSpec(format="aac", ss_ms=10_000, t_ms=60_000, bitrate=96_000)
    )

    assert (info.format_name, info.codec) == ("aac", "aac")
    assert (info.sample_rate, info.channels) == (8000, 1)  # inherited from the source
    assert info.duration_ms == pytest.approx(60_000, abs=TOLERANCE_MS)


def test_seed_wav_to_opus_at_48k_stereo_96k(tmp_path: Path) -> None:
    # audio/convert,f_opus,ab_96000,ar_48000,ac_2 on a mono 16 kHz WAV.
    source = tmp_path / "example.wav"
    write_tone(source, seconds=3.0, sample_rate=16000, channels=1, frequency=900)

    info = transcode(
        source,
        tmp_path / "outobj.opus",
        TranscodeSpec(format="opus", bitrate=96_000, sample_rate=48_000, channels=2),
    )

    assert (info.codec, info.sample_rate, info.channels) == ("opus", 48_000, 2)
    assert info.duration_ms == pytest.approx(3000, abs=TOLERANCE_MS)
    samples = decoded_pcm(tmp_path / "outobj.opus")
    assert dominant_frequency(window(samples, 1500), ANALYSIS_RATE, [700, 900, 1100]) == 900


# --- every format, explicit ar/ac, trimmed --------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("mp3", 22050, 2, "mp3float"),
        ("mp3", 48000, 1, "mp3float"),
        ("aac", 96000, 6, "aac"),
        ("aac", 22050, 1, "aac"),
        ("flac", 88200, 3, "flac"),
        ("oga", 12000, 8, "flac"),
        ("oga", 64000, 1, "flac"),
        ("ac3", 32000, 6, "ac3"),
        ("ac3", 44100, 1, "ac3"),
        ("opus", 24000, 3, "opus"),
        ("opus", 8000, 1, "opus"),
        ("amr", 8000, 1, "amrnb"),
    ],
    ids=lambda case: f"{case[0]}-{case[1]}Hz-{case[2]}ch",
)
def test_each_format_honours_explicit_rate_channels_and_trim(
    tmp_path: Path, stereo_wav: Path, case: tuple[str, int, int, str]
) -> None:
    fmt, rate, channels, codec = case
    output = tmp_path / f"out.{fmt}"

    info = transcode(
        stereo_wav,
        output,
        TranscodeSpec(format=fmt, ss_ms=250, t_ms=1500, sample_rate=rate, channels=channels),
    )

    assert (info.codec, info.sample_rate, info.channels) == (codec, rate, channels)
    assert info.duration_ms == pytest.approx(1500, abs=TOLERANCE_MS)
    assert dominant_frequency(window(decoded_pcm(output), 750), ANALYSIS_RATE, [500, 700, 900]) == 700


def test_aac_below_22k_is_exact_to_within_one_frame_because_adts_cannot_mark_the_end(
    tmp_path: Path, stereo_wav: Path
) -> None:
    # 1500 ms at 11025 Hz is 16.15 AAC frames; the 17th frame is padded and ADTS has no field saying so.
    info = transcode(
        stereo_wav,
        tmp_path / "low.aac",
        TranscodeSpec(format="aac", t_ms=1500, sample_rate=11025, channels=1),
    )

    assert 1500 <= info.duration_ms < 1500 + 1024 * 1000 / 11025


def test_oga_output_is_flac_in_ogg(tmp_path: Path, stereo_wav: Path) -> None:
    info = transcode(stereo_wav, tmp_path / "out.oga", TranscodeSpec(format="oga"))

    assert (info.format_name, info.codec, info.bits_per_sample) == ("ogg", "flac", 16)


def test_a_six_channel_wav_without_a_channel_mask_keeps_six_channels(tmp_path: Path) -> None:
    source = tmp_path / "surround.wav"
    write_tone(source, seconds=1.0, sample_rate=48000, channels=6)

    info = transcode(source, tmp_path / "surround.ac3", TranscodeSpec(format="ac3"))

    assert (info.sample_rate, info.channels) == (48000, 6)


# --- trimming precision ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ss_ms", "source_format"), [(4321, "wav"), (4321, "flac"), (4321, "oga"), (1234, "wav")]
)
def test_trimming_is_exact_to_the_sample_on_lossless_output(
    tmp_path: Path, ss_ms: int, source_format: str
) -> None:
    # A start of several seconds is reached by seeking (wav, flac, ogg); a short one by decoding forward.
    values = write_ramp_wav(tmp_path / "ramp.wav", seconds=10)
    source = tmp_path / "ramp.wav"
    if source_format != "wav":
        source = tmp_path / f"ramp.{source_format}"
        transcode(tmp_path / "ramp.wav", source, TranscodeSpec(format=source_format))

    output = tmp_path / "cut.flac"
    info = transcode(source, output, TranscodeSpec(format="flac", ss_ms=ss_ms, t_ms=1234))

    first = ss_ms * 8
    assert list(decoded_pcm(output)) == values[first : first + 1234 * 8]
    assert info.duration_ms == 1234.0


def test_a_duration_past_the_end_runs_to_the_end(tmp_path: Path, stereo_wav: Path) -> None:
    info = transcode(stereo_wav, tmp_path / "tail.mp3", TranscodeSpec(format="mp3", ss_ms=1500, t_ms=60_000))

    assert info.duration_ms == pytest.approx(500, abs=TOLERANCE_MS)


def test_a_start_past_the_end_fails_and_writes_nothing(tmp_path: Path, stereo_wav: Path) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(stereo_wav, tmp_path / "none.mp3", TranscodeSpec(format="mp3", ss_ms=2500))

    assert caught.value.code == "InvalidParameter"
    assert "ss=2500 ms is at or past the end" in caught.value.message
    assert not (tmp_path / "none.mp3").exists()
    assert _no_leftovers(tmp_path)


# --- inherited values and the caller's format rules -------------------------------------------------


def test_inherited_values_are_checked_with_the_callers_rules(tmp_path: Path, stereo_wav: Path) -> None:
    seen: list[tuple[str, int, int]] = []

    def amr_rules(fmt: str, rate: int, channels: int) -> Sequence[str]:
        seen.append((fmt, rate, channels))
        return [f"ar: amr takes 8000 or 16000 Hz, not {rate}", f"ac: amr is mono, not {channels} channels"]

    with pytest.raises(MediaError) as caught:
        transcode(stereo_wav, tmp_path / "out.amr", TranscodeSpec(format="amr"), check_output=amr_rules)

    assert seen == [("amr", 44100, 2)]
    assert caught.value.code == "InvalidParameter.Inherited"
    assert f"ar=44100 (inherited from {stereo_wav})" in caught.value.message
    assert "amr takes 8000 or 16000 Hz, not 44100" in caught.value.message
    assert "amr is mono, not 2 channels" in caught.value.message
    assert not (tmp_path / "out.amr").exists()


def test_a_passing_rule_check_lets_the_transcode_run(tmp_path: Path, stereo_wav: Path) -> None:
    info = transcode(stereo_wav, tmp_path / "ok.mp3", TranscodeSpec(format="mp3"), check_output=lambda *_: [])

    assert (info.sample_rate, info.channels) == (44100, 2)


def test_without_a_rule_check_the_encoders_own_limits_still_name_the_inherited_value(tmp_path: Path) -> None:
    source = tmp_path / "hires.wav"
    write_tone(source, seconds=0.5, sample_rate=96000, channels=2)

    with pytest.raises(MediaError) as caught:
        transcode(source, tmp_path / "out.mp3", TranscodeSpec(format="mp3"))

    assert caught.value.code == "InvalidParameter.Inherited"
    assert "ar=96000 (inherited from" in caught.value.message
    assert "libmp3lame encoder accepts only" in caught.value.message


def test_an_explicit_channel_count_beyond_the_encoder_is_an_invalid_parameter(
    tmp_path: Path, stereo_wav: Path
) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(stereo_wav, tmp_path / "out.ac3", TranscodeSpec(format="ac3", channels=8))

    assert caught.value.code == "InvalidParameter"
    assert "ac=8" in caught.value.message and "at most 6 channels" in caught.value.message


def test_amr_at_16k_is_refused_as_unsupported_by_the_local_engine(tmp_path: Path, stereo_wav: Path) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(stereo_wav, tmp_path / "wb.amr", TranscodeSpec(format="amr", sample_rate=16000, channels=1))

    assert caught.value.code == "UnsupportedByLocalEngine"
    assert "AMR-WB" in caught.value.message and "ar=8000" in caught.value.message
    assert not (tmp_path / "wb.amr").exists()


# --- bitrate, quality, depth ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def low_bitrate_mp3(tmp_path_factory: pytest.TempPathFactory, stereo_wav: Path) -> Path:
    path = tmp_path_factory.mktemp("low") / "low.mp3"
    transcode(stereo_wav, path, TranscodeSpec(format="mp3", bitrate=64_000))
    return path


def test_ab_sets_the_encoder_bitrate(tmp_path: Path, low_bitrate_mp3: Path) -> None:
    info = transcode(low_bitrate_mp3, tmp_path / "out.mp3", TranscodeSpec(format="mp3", bitrate=128_000))

    assert info.bit_rate == 128_000


def test_abopt_1_keeps_a_lower_source_bitrate(tmp_path: Path, low_bitrate_mp3: Path) -> None:
    spec = TranscodeSpec(format="mp3", bitrate=128_000, bitrate_option=1)

    assert transcode(low_bitrate_mp3, tmp_path / "out.mp3", spec).bit_rate == 64_000


def test_abopt_1_uses_ab_when_the_source_is_richer(tmp_path: Path, stereo_wav: Path) -> None:
    spec = TranscodeSpec(format="mp3", bitrate=96_000, bitrate_option=1)

    assert transcode(stereo_wav, tmp_path / "out.mp3", spec).bit_rate == 96_000


def test_abopt_2_fails_when_the_source_bitrate_is_below_ab(tmp_path: Path, low_bitrate_mp3: Path) -> None:
    spec = TranscodeSpec(format="aac", bitrate=128_000, bitrate_option=2)

    with pytest.raises(MediaError) as caught:
        transcode(low_bitrate_mp3, tmp_path / "out.aac", spec)

    assert caught.value.code == "BitrateBelowTarget"
    assert (
        f"{low_bitrate_mp3} has a bitrate of 64000 bit/s, below the requested ab=128000"
        in caught.value.message
    )
    assert not (tmp_path / "out.aac").exists()


def test_abopt_2_passes_when_the_source_bitrate_is_higher(tmp_path: Path, low_bitrate_mp3: Path) -> None:
    spec = TranscodeSpec(format="mp3", bitrate=32_000, bitrate_option=2)

    assert transcode(low_bitrate_mp3, tmp_path / "out.mp3", spec).bit_rate == 32_000


@pytest.mark.parametrize("fmt", ["mp3", "aac", "opus", "ac3"])
def test_a_higher_aq_gives_a_bigger_file(tmp_path: Path, stereo_wav: Path, fmt: str) -> None:
    low, high = tmp_path / f"low.{fmt}", tmp_path / f"high.{fmt}"
    transcode(stereo_wav, low, TranscodeSpec(format=fmt, quality=10, sample_rate=48000))
    transcode(stereo_wav, high, TranscodeSpec(format=fmt, quality=90, sample_rate=48000))

    assert high.stat().st_size > 1.5 * low.stat().st_size


def test_aq_maps_to_an_aac_bitrate_per_channel(tmp_path: Path, stereo_wav: Path) -> None:
    # aq 50 -> 24 + 84 = 108 kbit/s per channel: ~216 kbit/s for stereo, well above the aac default.
    info = transcode(stereo_wav, tmp_path / "q.aac", TranscodeSpec(format="aac", quality=50))
    default = transcode(stereo_wav, tmp_path / "d.aac", TranscodeSpec(format="aac"))

    assert info.bit_rate is not None and default.bit_rate is not None
    assert info.bit_rate > 1.3 * default.bit_rate


@pytest.mark.parametrize("depth", [16, 24])
def test_adepth_sets_the_flac_bit_depth(tmp_path: Path, stereo_wav: Path, depth: int) -> None:
    info = transcode(stereo_wav, tmp_path / "out.flac", TranscodeSpec(format="flac", bit_depth=depth))

    assert info.bits_per_sample == depth


def test_adepth_24_keeps_24_bit_samples_intact(tmp_path: Path) -> None:
    write_ramp_wav(tmp_path / "deep.wav", seconds=0.5, sampwidth=3)
    transcode(tmp_path / "deep.wav", tmp_path / "deep.flac", TranscodeSpec(format="flac", bit_depth=24))
    transcode(tmp_path / "deep.flac", tmp_path / "back.flac", TranscodeSpec(format="flac", bit_depth=24))

    assert probe(tmp_path / "back.flac").bits_per_sample == 24
    assert decoded_pcm(tmp_path / "back.flac") == decoded_pcm(tmp_path / "deep.wav")


def test_flac_without_adepth_keeps_a_24_bit_source_deep(tmp_path: Path) -> None:
    write_ramp_wav(tmp_path / "deep.wav", seconds=0.25, sampwidth=3)

    assert (
        transcode(tmp_path / "deep.wav", tmp_path / "x.flac", TranscodeSpec(format="flac")).bits_per_sample
        == 24
    )


# --- bad input ---------------------------------------------------------------------------------------


def test_a_corrupt_source_is_an_invalid_source_and_leaves_no_output(tmp_path: Path) -> None:
    source = tmp_path / "broken.wav"
    source.write_bytes(b"RIFF" + bytes(range(256)) * 8)

    with pytest.raises(MediaError) as caught:
        transcode(source, tmp_path / "out.mp3", TranscodeSpec(format="mp3"))

    assert caught.value.code == "InvalidSource"
    assert not (tmp_path / "out.mp3").exists()
    assert _no_leftovers(tmp_path)


def test_a_truncated_mp3_still_converts_what_it_has(tmp_path: Path) -> None:
    source = tmp_path / "cut.mp3"
    write_tone(source, seconds=2.0, sample_rate=44100, format="mp3")
    source.write_bytes(source.read_bytes()[: source.stat().st_size // 2 + 17])

    info = transcode(source, tmp_path / "out.flac", TranscodeSpec(format="flac"))

    assert 800 < info.duration_ms < 1200


def test_an_unwritable_destination_is_an_encode_failure(tmp_path: Path, stereo_wav: Path) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(stereo_wav, tmp_path / "missing-dir" / "out.mp3", TranscodeSpec(format="mp3"))

    assert caught.value.code == "EncodeFailed"
    assert "missing-dir" in caught.value.message


def test_an_existing_destination_is_replaced_whole(tmp_path: Path, stereo_wav: Path) -> None:
    target = tmp_path / "out.flac"
    target.write_bytes(b"old content")

    info = transcode(stereo_wav, target, TranscodeSpec(format="flac", t_ms=500))

    assert info.duration_ms == 500.0
    assert _no_leftovers(tmp_path)


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"format": "wav"}, "f", "one_of"),
        ({"format": "mp3", "ss_ms": -1}, "ss", "non_negative_int"),
        ({"format": "mp3", "t_ms": 1.5}, "t", "non_negative_int"),
        ({"format": "mp3", "sample_rate": 44000}, "ar", "one_of"),
        ({"format": "mp3", "channels": 9}, "ac", "range"),
        ({"format": "mp3", "channels": True}, "ac", "range"),
        ({"format": "mp3", "bitrate": 999}, "ab", "range"),
        ({"format": "mp3", "quality": 101}, "aq", "range"),
        ({"format": "mp3", "bitrate": 96_000, "quality": 50}, "aq", "mutually_exclusive"),
        ({"format": "mp3", "bitrate_option": 3, "bitrate": 96_000}, "abopt", "one_of"),
        ({"format": "mp3", "bitrate_option": 1}, "abopt", "requires_ab"),
        ({"format": "flac", "bit_depth": 20}, "adepth", "one_of"),
        ({"format": "mp3", "bit_depth": 24}, "adepth", "flac_only"),
    ],
)
def test_a_bad_spec_names_the_wire_field_and_rule(
    arguments: dict[str, object], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        TranscodeSpec(**arguments)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert field in str(caught.value)


def test_a_spec_reports_every_broken_rule_at_once() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        TranscodeSpec(format="mp3", ss_ms=-5, channels=0, quality=-1)

    assert [p.field for p in caught.value.problems] == ["ss", "ac", "aq"]


def test_a_wav_written_by_the_standard_library_round_trips_through_flac(tmp_path: Path) -> None:
    values = write_ramp_wav(tmp_path / "ramp.wav", seconds=1.0)
    transcode(tmp_path / "ramp.wav", tmp_path / "ramp.flac", TranscodeSpec(format="flac"))

    with wave.open(str(tmp_path / "ramp.wav"), "rb") as original:
        assert original.getnframes() == len(values)
    assert list(decoded_pcm(tmp_path / "ramp.flac")) == values

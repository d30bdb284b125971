from __future__ import annotations

import array
import itertools
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import pytest

from localcloud.engines.tts import (
    VOICES,
    SpeechSynthesizer,
    Synthesis,
    pitch_rate_to_pitch,
    resolve_voice,
    speech_rate_to_wpm,
    volume_to_amplitude,
    write,
)
from shared.errors import InvalidRequestError

ENGLISH = "The quick brown fox jumps over the lazy dog. It was a sunny day! Were you there?"
MANDARIN = "你好，世界。今天天气很好！我们去公园散步吧。"  # noqa: RUF001 (Chinese punctuation on purpose)


@pytest.fixture(scope="module")
def synthesizer() -> SpeechSynthesizer:
    return SpeechSynthesizer()


@pytest.fixture(scope="module")
def english(synthesizer: SpeechSynthesizer) -> Synthesis:
    return synthesizer.synthesize(ENGLISH, voice="Andy")


def _samples(synthesis: Synthesis) -> array.array[int]:
    samples = array.array("h", synthesis.samples)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples


def _zero_crossing_rate(synthesis: Synthesis) -> float:
    samples = _samples(synthesis)
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return crossings / len(samples)


def _decoded(path: Path) -> tuple[int, int, float]:
    """Sample rate, channels and duration (from decoded samples, not the header) of an audio file."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return stream.rate, stream.codec_context.channels, samples / stream.rate


# --- voices and settings ---------------------------------------------------------------------------


def test_ice_voice_names_map_to_espeak_voices_of_their_language_whatever_the_case() -> None:
    assert resolve_voice("Siqi") == resolve_voice("SIQI") == "cmn+f2"
    assert resolve_voice("xiaogang").startswith("cmn+")
    assert resolve_voice("zhitian_emo").startswith("cmn+")
    assert resolve_voice("Andy").startswith("en-us+")
    assert resolve_voice("Abby").startswith("en-us+")
    # eSpeak's British English voice is called "en".
    assert resolve_voice("Emily").startswith("en+")
    assert resolve_voice("William").startswith("en+")


def test_espeak_prefix_passes_any_espeak_voice_through() -> None:
    assert resolve_voice("espeak:fr") == "fr"
    assert resolve_voice("ESPEAK:en-us+f3") == "en-us+f3"


@pytest.mark.parametrize("voice", ["Nobody", "", "espeak:", "espeak:../../etc/passwd x"])
def test_an_unknown_voice_is_refused_naming_it_and_listing_the_accepted_ones(voice: str) -> None:
    with pytest.raises(ValueError) as caught:
        resolve_voice(voice)

    error = caught.value
    assert isinstance(error, InvalidRequestError)
    assert error.field == "voice"
    assert error.rule == "unknown_voice"
    assert repr(voice) in str(error)
    assert "siqi" in str(error)
    assert "andy" in str(error)
    assert "espeak:" in str(error)


def test_every_voice_in_the_table_speaks_with_the_shipped_espeak_data(synthesizer: SpeechSynthesizer) -> None:
    for espeak_voice in sorted(set(VOICES.values())):
        speech = synthesizer.synthesize("1.", voice="espeak:" + espeak_voice)
        assert speech.duration_s > 0.1, espeak_voice


def test_an_espeak_voice_that_does_not_exist_is_refused_when_synthesising(
    synthesizer: SpeechSynthesizer,
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        synthesizer.synthesize("Hello.", voice="espeak:no-such-voice")

    assert caught.value.field == "voice"
    assert "no-such-voice" in str(caught.value)


def test_speech_rate_maps_to_half_and_double_speed_linearly_on_each_side_of_zero() -> None:
    assert speech_rate_to_wpm(0) == 175
    assert speech_rate_to_wpm(-500) == pytest.approx(175 * 0.5, abs=1)
    assert speech_rate_to_wpm(-250) == pytest.approx(175 * 0.75, abs=1)
    assert speech_rate_to_wpm(250) == pytest.approx(175 * 1.5, abs=1)
    assert speech_rate_to_wpm(500) == 350


def test_pitch_rate_and_volume_map_onto_espeak_ranges() -> None:
    assert [pitch_rate_to_pitch(rate) for rate in (-500, 0, 250, 500)] == [0, 50, 75, 100]
    assert [volume_to_amplitude(volume) for volume in (0, 50, 100)] == [0, 100, 200]


def test_every_bad_setting_is_reported_at_once_naming_its_field(synthesizer: SpeechSynthesizer) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        synthesizer.synthesize(
            "  ",
            voice="Nobody",
            volume=101,
            speech_rate=-501,
            pitch_rate=True,
            sample_rate=12345,
        )

    rules = {(problem.field, problem.rule) for problem in caught.value.problems}
    assert rules == {
        ("text", "required"),
        ("voice", "unknown_voice"),
        ("volume", "range"),
        ("speech_rate", "range"),
        ("pitch_rate", "type"),
        ("sample_rate", "unsupported"),
    }


# --- what is heard ---------------------------------------------------------------------------------


def test_english_sentences_are_timed_from_espeak_events(english: Synthesis) -> None:
    assert [sentence.content for sentence in english.sentences] == [
        "The quick brown fox jumps over the lazy dog.",
        "It was a sunny day!",
        "Were you there?",
    ]
    assert english.sentences[0].from_s == 0.0
    for sentence, following in itertools.pairwise(english.sentences):
        assert sentence.from_s < sentence.to_s == following.from_s
    assert english.sentences[-1].to_s == pytest.approx(english.duration_s, abs=0.001)


def test_speech_is_16_bit_mono_at_the_requested_rate(
    synthesizer: SpeechSynthesizer, english: Synthesis
) -> None:
    fast = synthesizer.synthesize(ENGLISH, voice="Andy", sample_rate=48000)

    assert english.sample_rate == 16000
    assert fast.sample_rate == 48000
    assert len(fast.samples) == pytest.approx(len(english.samples) * 3, rel=0.001)
    assert max(abs(sample) for sample in _samples(english)) > 3000  # speech, not silence


def test_mandarin_text_is_spoken_with_the_mandarin_voice(synthesizer: SpeechSynthesizer) -> None:
    speech = synthesizer.synthesize(MANDARIN, voice="xiaoyun")

    assert [sentence.content for sentence in speech.sentences] == [
        "你好，世界。",  # noqa: RUF001
        "今天天气很好！",  # noqa: RUF001
        "我们去公园散步吧。",
    ]
    # Sixteen syllables: an English voice would spell out "Chinese letter" for each, taking far longer.
    assert 3.0 < speech.duration_s < 8.0
    assert speech.sentences[-1].to_s == pytest.approx(speech.duration_s, abs=0.001)


def test_a_higher_speech_rate_gives_shorter_audio_in_proportion(synthesizer: SpeechSynthesizer) -> None:
    durations = {
        rate: synthesizer.synthesize(ENGLISH, voice="Andy", speech_rate=rate).duration_s
        for rate in (-500, -250, 0, 250, 500)
    }

    assert durations[-500] > durations[-250] > durations[0] > durations[250] > durations[500]
    assert 1.6 < durations[-500] / durations[0] < 2.4
    assert 0.4 < durations[500] / durations[0] < 0.65


def test_a_higher_pitch_rate_raises_the_voice(synthesizer: SpeechSynthesizer) -> None:
    low = synthesizer.synthesize(ENGLISH, voice="Andy", pitch_rate=-500)
    high = synthesizer.synthesize(ENGLISH, voice="Andy", pitch_rate=500)

    # Zero crossings per sample rise with the fundamental frequency; the timing does not change.
    assert _zero_crossing_rate(high) > _zero_crossing_rate(low) * 1.1
    assert high.duration_s == pytest.approx(low.duration_s, rel=0.01)


def test_volume_scales_the_amplitude_and_zero_is_silent(synthesizer: SpeechSynthesizer) -> None:
    peaks = {
        volume: max(
            abs(sample) for sample in _samples(synthesizer.synthesize(ENGLISH, voice="Abby", volume=volume))
        )
        for volume in (0, 10, 30)
    }

    assert peaks[0] == 0
    assert peaks[30] > peaks[10] * 2 > 0


def test_ssml_markup_is_obeyed_and_not_read_aloud(synthesizer: SpeechSynthesizer) -> None:
    plain = synthesizer.synthesize("Hello world. Fish &amp; chips.", voice="Andy")
    ssml = synthesizer.synthesize(
        '<speak>Hello <break time="1s"/> world. <prosody volume="loud">Fish &amp; chips.</prosody></speak>',
        voice="Andy",
    )

    assert [sentence.content for sentence in ssml.sentences] == ["Hello world.", "Fish & chips."]
    # The break adds its second; reading the tags out would add several.
    assert ssml.duration_s - plain.duration_s == pytest.approx(1.0, abs=0.4)
    assert ssml.sentences[1].from_s > 1.0


def test_ssml_with_an_xml_declaration_is_still_ssml(synthesizer: SpeechSynthesizer) -> None:
    speech = synthesizer.synthesize(
        '<?xml version="1.0"?>\n<speak><s>Good morning.</s></speak>', voice="Andy"
    )

    assert [sentence.content for sentence in speech.sentences] == ["Good morning."]


def test_markup_with_nothing_to_say_is_refused_naming_the_text(synthesizer: SpeechSynthesizer) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        synthesizer.synthesize("<speak><break time='1s'/></speak>", voice="Andy")

    assert (caught.value.field, caught.value.rule) == ("text", "no_speech")


def test_synthesising_from_many_threads_gives_each_caller_its_own_speech(
    synthesizer: SpeechSynthesizer,
) -> None:
    texts = [
        " ".join([f"This is sentence {number}."] * count)
        for count, number in enumerate(("one", "two", "three"), 1)
    ]
    texts *= 2
    alone = [synthesizer.synthesize(text, voice="Abby") for text in texts]

    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda text: synthesizer.synthesize(text, voice="Abby"), texts))

    # eSpeak varies a few samples from run to run, so compare what each caller got, not the bytes:
    # interleaved calls would mix sentences between callers and change the lengths by whole sentences.
    for single, threaded in zip(alone, together, strict=True):
        assert [s.content for s in threaded.sentences] == [s.content for s in single.sentences]
        got_times = [time for s in threaded.sentences for time in (s.from_s, s.to_s)]
        assert got_times == pytest.approx(
            [time for s in single.sentences for time in (s.from_s, s.to_s)], abs=0.01
        )


# --- files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("output_format", "sample_rate"), [("WAV", 16000), ("MP3", 16000), ("MP3", 44100)])
def test_wav_and_mp3_files_hold_mono_audio_as_long_as_the_sentence_timings(
    synthesizer: SpeechSynthesizer, tmp_path: Path, output_format: str, sample_rate: int
) -> None:
    speech = synthesizer.synthesize(ENGLISH, voice="Emily", sample_rate=sample_rate)
    path = tmp_path / f"speech.{output_format.lower()}"

    write(speech, path, output_format)

    rate, channels, duration = _decoded(path)
    assert (rate, channels) == (sample_rate, 1)
    assert duration == pytest.approx(speech.sentences[-1].to_s, abs=0.1)


def test_pcm_files_are_the_raw_samples(english: Synthesis, tmp_path: Path) -> None:
    path = tmp_path / "speech.pcm"

    SpeechSynthesizer.write(english, path, "pcm")

    assert path.read_bytes() == english.samples
    assert len(english.samples) / 2 / 16000 == pytest.approx(english.sentences[-1].to_s, abs=0.1)


def test_an_unknown_output_format_is_refused_naming_the_format(english: Synthesis, tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        write(english, tmp_path / "speech.ogg", "OGG")

    assert caught.value.field == "format"
    assert "PCM, WAV, MP3" in str(caught.value)
    assert not (tmp_path / "speech.ogg").exists()


@pytest.mark.parametrize("voice", [None, 42, ["Andy"]])
def test_a_voice_that_is_not_text_is_refused_naming_the_voice(
    synthesizer: SpeechSynthesizer, voice: object
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        synthesizer.synthesize("Hello.", voice=voice)  # type: ignore[arg-type]

    assert (caught.value.field, caught.value.rule) == ("voice", "unknown_voice")


@pytest.mark.parametrize(
    "text",
    [
        "Hello.\x00 The rest would never be spoken.",  # eSpeak stops reading at a NUL
        "Hello \ud800 there.",  # a lone surrogate (valid in JSON) has no UTF-8 form
    ],
)
def test_text_espeak_cannot_read_whole_is_refused_naming_the_text(
    synthesizer: SpeechSynthesizer, text: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        synthesizer.synthesize(text, voice="Andy")

    assert (caught.value.field, caught.value.rule) == ("text", "unspeakable_character")

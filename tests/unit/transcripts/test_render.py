import json

import pytest
from pydantic import ValidationError

from shared.transcripts import (
    SubtitleStyle,
    Transcript,
    TranscriptChannel,
    TranscriptSentence,
    TranscriptWord,
    render_json,
    render_srt,
    render_txt,
    render_vtt,
)


def _transcript(*sentences: TranscriptSentence, channels: int = 1) -> Transcript:
    return Transcript(
        language="en",
        channels=tuple(TranscriptChannel(channel_id=i, sentences=sentences) for i in range(channels)),
    )


HELLO = TranscriptSentence(begin_ms=240, end_ms=1720, text="Hello world.")
AGAIN = TranscriptSentence(begin_ms=3_661_001, end_ms=3_662_500, text="Again, an hour later.")


def test_srt_numbers_cues_and_uses_comma_milliseconds() -> None:
    srt = render_srt(_transcript(HELLO, AGAIN))
    assert srt == (
        "1\n00:00:00,240 --> 00:00:01,720\nHello world.\n\n"
        "2\n01:01:01,001 --> 01:01:02,500\nAgain, an hour later.\n"
    )


def test_vtt_starts_with_its_header_and_uses_dot_milliseconds() -> None:
    vtt = render_vtt(_transcript(HELLO))
    assert vtt == "WEBVTT\n\n00:00:00.240 --> 00:00:01.720\nHello world.\n"


def test_vtt_escapes_text_that_would_otherwise_read_as_cue_markup() -> None:
    sentence = TranscriptSentence(begin_ms=0, end_ms=1500, text="R&D said a <b> c --> d")
    vtt = render_vtt(_transcript(sentence))
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nR&amp;D said a &lt;b&gt; c --&gt; d\n"
    assert "R&D said a <b> c --> d" in render_txt(_transcript(sentence))


def test_txt_is_one_sentence_per_line() -> None:
    assert render_txt(_transcript(HELLO, AGAIN)) == "Hello world.\nAgain, an hour later.\n"


def test_txt_and_srt_label_channels_when_there_are_several() -> None:
    transcript = _transcript(HELLO, channels=2)
    assert render_txt(transcript) == "[ch1] Hello world.\n[ch2] Hello world.\n"
    assert "[ch2] Hello world." in render_srt(transcript)


def test_json_round_trips_to_an_equal_transcript() -> None:
    word = TranscriptWord(begin_ms=240, end_ms=700, text="Hello", punctuation="")
    transcript = _transcript(
        TranscriptSentence(begin_ms=240, end_ms=1720, text="Hello world.", words=(word,))
    )
    assert Transcript.model_validate(json.loads(render_json(transcript))) == transcript


def test_long_sentences_are_split_at_word_timings_into_readable_cues() -> None:
    words = tuple(TranscriptWord(begin_ms=i * 500, end_ms=i * 500 + 400, text=f"word{i}") for i in range(40))
    sentence = TranscriptSentence(
        begin_ms=0, end_ms=20_000, text=" ".join(w.text for w in words), words=words
    )
    srt = render_srt(_transcript(sentence))
    blocks = srt.strip().split("\n\n")
    assert len(blocks) > 2
    for block in blocks:
        text_lines = block.split("\n")[2:]
        assert len(text_lines) <= 2
        assert all(len(line) <= 42 for line in text_lines)
    # Cues follow each other in time and cover every word exactly once.
    spoken = " ".join(" ".join(b.split("\n")[2:]) for b in blocks).split()
    assert spoken == [w.text for w in words]


def test_long_sentences_without_word_timings_share_time_proportionally() -> None:
    sentence = TranscriptSentence(begin_ms=0, end_ms=30_000, text=" ".join(["syllable"] * 40))
    cues = render_vtt(_transcript(sentence)).strip().split("\n\n")[1:]
    assert len(cues) >= 4
    assert cues[-1].split("\n")[0].endswith("00:00:30.000")


def test_a_sentence_ending_before_it_begins_is_refused() -> None:
    with pytest.raises(ValidationError, match="end_ms must not be before begin_ms"):
        TranscriptSentence(begin_ms=10, end_ms=5, text="x")


def test_excerpt_is_bounded() -> None:
    sentence = TranscriptSentence(begin_ms=0, end_ms=1, text="a " * 200)
    assert len(_transcript(sentence).excerpt(50)) == 50


def _cues(srt: str) -> list[tuple[str, str, str]]:
    blocks = [block.split("\n", 2) for block in srt.strip().split("\n\n")]
    return [(times.split(" --> ")[0], times.split(" --> ")[1], text) for _, times, text in blocks]


def test_a_short_cue_stays_up_a_second_when_silence_follows() -> None:
    yes = TranscriptSentence(begin_ms=1000, end_ms=1300, text="Yes.")
    assert _cues(render_srt(_transcript(yes))) == [("00:00:01,000", "00:00:02,000", "Yes.")]


def test_a_cue_runs_on_no_further_than_just_before_the_next_one() -> None:
    yes = TranscriptSentence(begin_ms=1000, end_ms=1300, text="Yes.")
    no = TranscriptSentence(begin_ms=1500, end_ms=2600, text="No, not at all.")
    cues = _cues(render_srt(_transcript(yes, no)))
    assert cues[0][:2] == ("00:00:01,000", "00:00:01,460")  # 40 ms before the next cue


def test_a_fast_cue_is_kept_up_long_enough_to_read_at_twenty_characters_a_second() -> None:
    text = "This sentence has sixty characters in it, give or take a few."
    fast = TranscriptSentence(begin_ms=0, end_ms=1500, text=text)
    (cue,) = _cues(render_srt(_transcript(fast)))
    assert len(text) == 61 and cue[1] == "00:00:03,050"  # 61 characters at 20 a second


def test_lines_are_balanced_so_no_word_is_left_alone_on_the_last_line() -> None:
    text = "The committee approved the annual budget for next year today."
    sentence = TranscriptSentence(begin_ms=0, end_ms=4000, text=text)
    (cue,) = _cues(render_srt(_transcript(sentence)))
    lines = cue[2].split("\n")
    assert len(lines) == 2 and all(len(line.split()) > 1 for line in lines)
    assert abs(len(lines[0]) - len(lines[1])) < 12, lines


def test_a_long_sentence_leaves_no_single_word_cue_at_its_end() -> None:
    words = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    timed = tuple(
        TranscriptWord(begin_ms=i * 800, end_ms=i * 800 + 700, text=word, punctuation="")
        for i, word in enumerate(words)
    )  # 7.2 s: eight words fill a 7 s cue, which would leave the ninth alone
    sentence = TranscriptSentence(begin_ms=0, end_ms=len(words) * 800, text=" ".join(words), words=timed)
    cues = _cues(render_srt(_transcript(sentence)))
    assert len(cues) == 2 and len(cues[-1][2].split()) > 1


def test_the_line_width_and_count_are_configurable() -> None:
    sentence = TranscriptSentence(begin_ms=0, end_ms=3000, text="Short lines for a narrow player window.")
    (cue,) = _cues(render_srt(_transcript(sentence), SubtitleStyle(line_chars=14, lines=3)))
    assert all(len(line) <= 14 for line in cue[2].split("\n")) and len(cue[2].split("\n")) == 3
    with pytest.raises(ValueError):
        SubtitleStyle(line_chars=3)

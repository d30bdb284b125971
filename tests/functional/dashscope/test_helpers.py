"""The pure pieces of localcloud's DashScope: stream cutting, token counting, task times, request parsing."""

from __future__ import annotations

import pytest

from localcloud.services.dashscope.filetrans import parse_job
from localcloud.services.dashscope.recognition import billed_seconds, stream_pieces, text_tokens
from localcloud.services.dashscope.wire import task_time
from shared.errors import InvalidRequestError


def test_a_transcript_is_cut_into_the_seeds_stream_pieces() -> None:
    assert stream_pieces("Welcome to Alibaba Cloud.") == ["Welcome", " to", " Alibaba", " Cloud", "."]
    assert "".join(stream_pieces("It's 3.5 km, isn't it?  Yes.")) == "It's 3.5 km, isn't it?  Yes."
    assert stream_pieces("") == []


def test_text_tokens_count_words_and_punctuation_marks() -> None:
    assert text_tokens("Welcome to Alibaba Cloud.") == 5
    assert text_tokens("Don't stop, please.") == 5
    assert text_tokens("") == 0


def test_audio_is_billed_in_whole_seconds_rounded_up_with_at_least_one() -> None:
    assert [billed_seconds(ms) for ms in (0, 200, 1000, 1001, 2999.5)] == [1, 1, 1, 2, 3]


def test_task_times_are_beijing_time_to_the_millisecond() -> None:
    assert task_time(1_761_545_971.15) == "2025-10-27 14:19:31.150"


def test_a_qwen_filetrans_body_becomes_a_single_file_job() -> None:
    job = parse_job(
        {
            "model": "qwen3-asr-flash-filetrans",
            "input": {"file_url": "https://example.com/a.wav"},
            "parameters": {"channel_id": [0, 1], "language": "en", "enable_words": True},
        }
    )

    assert (job.kind, job.file_urls, job.channel_ids, job.language, job.enable_words) == (
        "filetrans",
        ("https://example.com/a.wav",),
        (0, 1),
        "en",
        True,
    )


def test_a_paraformer_body_becomes_a_job_over_every_file() -> None:
    job = parse_job(
        {
            "model": "paraformer-v2",
            "input": {"file_urls": ["https://example.com/a.wav", "oss://b/c.mp3"]},
            "parameters": {"language_hints": ["zh", "en"]},
        }
    )

    assert (job.kind, len(job.file_urls), job.channel_ids, job.language_hints) == (
        "paraformer",
        2,
        (0,),
        ("zh", "en"),
    )


QWEN = "qwen3-asr-flash-filetrans"
URL = "https://example.com/a.wav"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "qwen3-asr-flash", "input": {"file_url": URL}}, "model"),
        ({"model": QWEN, "input": {"file_url": "data:audio/wav;base64,UklGRg=="}}, "input.file_url"),
        (
            {"model": QWEN, "input": {"file_url": URL}, "parameters": {"channel_id": [0, 0]}},
            "parameters.channel_id",
        ),
        ({"model": "paraformer-v2", "input": {"file_urls": []}}, "input.file_urls"),
        (
            {
                "model": "paraformer-v2",
                "input": {"file_urls": [URL]},
                "parameters": {"language_hints": ["xx"]},
            },
            "parameters.language_hints[0]",
        ),
        (
            {"model": "paraformer-v2", "input": {"file_urls": [URL]}, "parameters": {"speaker_count": 1}},
            "parameters.speaker_count",
        ),
        ({"model": "paraformer-v2", "input": {"file_urls": [URL]}, "extra": 1}, "extra"),
    ],
)
def test_a_malformed_submit_body_is_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_job(body)

    assert caught.value.field == field

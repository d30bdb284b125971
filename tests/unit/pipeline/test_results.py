from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.clients.errors import MalformedResponseError
from shared.jobs.model import JobRecord, JobState, JobType, JobView, StepError, StepName, StepState, StepView
from shared.ops.asr import MultimodalGenerationResponse, TranscriptionResult
from shared.pipeline.results import (
    COMPLETION_MESSAGE_TYPE,
    completion_message,
    transcript_from_filetrans,
    transcript_from_sync,
)
from shared.transcripts import render_srt, render_txt
from tests.unit.ops.asr_seed_examples import MULTIMODAL_RESPONSE, TRANSCRIPTION_RESULT

T0 = datetime(2025, 1, 15, tzinfo=timezone.utc)
SOURCE = {"bucket": "audiochain", "key": "inbox/speech.wav"}


def test_the_seeds_filetrans_result_becomes_a_timed_transcript() -> None:
    assert transcript_from_filetrans(TranscriptionResult.parse({"transcripts": []})).timing == "engine"
    transcript = transcript_from_filetrans(
        TranscriptionResult.parse(TRANSCRIPTION_RESULT), source=SOURCE, task_id="t-1"
    )
    (channel,) = transcript.channels
    (sentence,) = channel.sentences
    assert (sentence.begin_ms, sentence.end_ms, sentence.language, sentence.emotion) == (
        240,
        6720,
        "en",
        "happy",
    )
    assert sentence.text.startswith("Senior staff, Principal Doris Jackson")
    assert [(w.text, w.punctuation, w.begin_ms) for w in sentence.words] == [
        ("Senior", "", 240),
        ("staff", ",", 1120),
    ]
    assert transcript.language == "en" and transcript.duration_ms == 6720
    assert transcript.source == SOURCE
    assert transcript.engine == {
        "service": "dashscope",
        "model": "qwen3-asr-flash-filetrans",
        "mode": "filetrans",
        "task_id": "t-1",
        "sample_rate": 16000,
    }
    assert render_srt(transcript).startswith("1\n00:00:00,240 --> ")
    assert render_txt(transcript).startswith("Senior staff,")


def test_tracks_and_sentences_come_out_in_order_and_the_requested_language_wins() -> None:
    result = TranscriptionResult.parse(
        {
            "transcripts": [
                {
                    "channel_id": 1,
                    "sentences": [{"begin_time": 0, "end_time": 10, "text": "b", "language": "fr"}],
                },
                {
                    "channel_id": 0,
                    "sentences": [
                        {"begin_time": 500, "end_time": 900, "text": " second ", "language": "fr"},
                        {"begin_time": 0, "end_time": 400, "text": "first", "language": "en"},
                    ],
                },
            ]
        }
    )
    transcript = transcript_from_filetrans(result, language="de", duration_ms=1000)
    assert [channel.channel_id for channel in transcript.channels] == [0, 1]
    assert [s.text for s in transcript.channels[0].sentences] == ["first", "second"]
    assert (transcript.language, transcript.duration_ms) == ("de", 1000)
    assert transcript_from_filetrans(result).language == "fr"  # the most common detected language


def test_a_result_that_cannot_be_a_transcript_is_a_malformed_response() -> None:
    result = TranscriptionResult.parse({"transcripts": [{"channel_id": -1, "sentences": []}]})
    with pytest.raises(MalformedResponseError):
        transcript_from_filetrans(result)


def test_the_seeds_synchronous_answer_becomes_one_sentence_over_the_audio() -> None:
    transcript = transcript_from_sync(MultimodalGenerationResponse.parse(MULTIMODAL_RESPONSE), source=SOURCE)
    (sentence,) = transcript.channels[0].sentences
    assert (sentence.text, sentence.begin_ms, sentence.end_ms) == ("Welcome to Alibaba Cloud.", 0, 1000)
    assert (sentence.language, sentence.emotion, transcript.language) == ("zh", "neutral", "zh")
    assert transcript.engine["mode"] == "sync" and transcript.duration_ms == 1000
    assert transcript.timing == "estimated"  # the model gave no times: the JSON says so


def test_an_empty_synchronous_answer_has_no_sentences() -> None:
    transcript = transcript_from_sync(MultimodalGenerationResponse.parse({"output": {"choices": []}}))
    assert transcript.channels[0].sentences == () and transcript.text == ""


def test_the_completion_message_says_what_finished_and_where_its_outputs_are() -> None:
    record = JobRecord(
        id="j7ydecbtyzz0000000000000000",
        type=JobType.TRANSCRIBE_UPLOAD,
        created_at=T0,
        idempotency_key="k",
        input_digest="d",
        input={"bucket": "audiochain", "key": "inbox/a.wav", "etag": "E1", "relative_key": "a.wav"},
    )
    publish = StepView(
        index=2,
        name=StepName.PUBLISH_TRANSCRIPTS,
        state=StepState.SUCCEEDED,
        result={"language": "en", "duration_ms": 6720, "excerpt": "Senior staff", "sentences": 1},
    )
    view = JobView(
        id=record.id,
        type=record.type,
        state=JobState.SUCCEEDED,
        steps=(publish,),
        outputs={"json": "outputs/a.wav/transcript.json"},
        created_at=T0,
        updated_at=T0 + timedelta(minutes=2),
    )
    message = json.loads(completion_message(view, record, "audiochain"))
    assert message["type"] == COMPLETION_MESSAGE_TYPE and message["state"] == "succeeded"
    assert message["source"] == {"bucket": "audiochain", "key": "inbox/a.wav", "etag": "E1"}
    assert message["outputs"] == {"json": "outputs/a.wav/transcript.json"}
    assert message["transcript"] == {"language": "en", "duration_ms": 6720, "excerpt": "Senior staff"}
    assert message["error"] is None and message["finished_at"] == "2025-01-15T00:02:00+00:00"
    failed = view.model_copy(update={"state": JobState.FAILED, "error": StepError(code="X", message="boom")})
    assert json.loads(completion_message(failed, record, "audiochain"))["error"] == {
        "code": "X",
        "message": "boom",
    }

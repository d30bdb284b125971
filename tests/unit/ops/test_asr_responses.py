from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from shared.ops.asr import (
    ChatCompletion,
    DashScopeErrorBody,
    MultimodalGenerationResponse,
    OpenAIErrorBody,
    TaskStatusResponse,
    TaskSubmitResponse,
    TranscriptionResult,
)
from shared.ops.enums import AsrLanguage, DashScopeTaskStatus, Emotion, FinishReason
from tests.unit.ops import asr_seed_examples as seed


def test_the_seed_non_streaming_answer_parses_with_text_annotation_and_usage() -> None:
    completion = ChatCompletion.parse(seed.CHAT_COMPLETION)
    assert completion.text == "Welcome to Alibaba Cloud."
    assert completion.id == "chatcmpl-487abe5f-d4f2-9363-a877-xxxxxxx"
    assert completion.object == "chat.completion"
    assert completion.created == 1767683986
    assert completion.choices[0].finish_reason is FinishReason.STOP
    assert completion.choices[0].message.role == "assistant"
    annotation = completion.annotation
    assert annotation is not None
    assert (annotation.type, annotation.language, annotation.emotion) == (
        "audio_info",
        AsrLanguage.ZH,
        Emotion.NEUTRAL,
    )
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens_details is not None and usage.completion_tokens_details
    assert (
        usage.prompt_tokens,
        usage.prompt_tokens_details.audio_tokens,
        usage.prompt_tokens_details.text_tokens,
    ) == (
        42,
        42,
        0,
    )
    assert (usage.completion_tokens, usage.completion_tokens_details.text_tokens) == (12, 12)
    assert (usage.seconds, usage.total_tokens) == (1, 54)


def test_values_the_seed_does_not_list_stay_strings_instead_of_failing() -> None:
    document = copy.deepcopy(seed.CHAT_COMPLETION)
    document["choices"][0]["finish_reason"] = "content_filter"
    document["choices"][0]["message"]["annotations"][0].update(emotion="bored", language="la")
    document["system_fingerprint"] = "new-field"
    completion = ChatCompletion.parse(document)
    assert completion.choices[0].finish_reason == "content_filter"
    annotation = completion.annotation
    assert annotation is not None
    assert (annotation.emotion, annotation.language) == ("bored", "la")
    assert not isinstance(annotation.emotion, Emotion)


def test_an_answer_without_choices_has_empty_text_and_no_annotation() -> None:
    completion = ChatCompletion.parse({"id": "x", "choices": []})
    assert completion.text == ""
    assert completion.annotation is None


def test_the_seed_synchronous_dashscope_answer_parses() -> None:
    response = MultimodalGenerationResponse.parse(seed.MULTIMODAL_RESPONSE)
    assert response.text == "Welcome to Alibaba Cloud."
    assert response.request_id == "568e2bf0-d6f2-97f8-9f15-a57b11dc6977"
    assert response.output.choices[0].finish_reason is FinishReason.STOP
    annotation = response.annotation
    assert (
        annotation is not None
        and annotation.emotion is Emotion.NEUTRAL
        and annotation.language is AsrLanguage.ZH
    )
    usage = response.usage
    assert (
        usage is not None
        and usage.output_tokens_details is not None
        and usage.input_tokens_details is not None
    )
    assert (
        usage.seconds,
        usage.output_tokens_details.text_tokens,
        usage.input_tokens_details.text_tokens,
    ) == (1, 6, 0)


def test_a_synchronous_answer_joins_several_text_elements() -> None:
    document = copy.deepcopy(seed.MULTIMODAL_RESPONSE)
    document["output"]["choices"][0]["message"]["content"] = [{"text": "Welcome "}, {"text": "back."}]
    assert MultimodalGenerationResponse.parse(document).text == "Welcome back."


def test_the_seed_submit_answer_gives_the_task_id() -> None:
    submitted = TaskSubmitResponse.parse(seed.TASK_SUBMITTED)
    assert submitted.task_id == "8fab76d0-0eed-4d20-************"
    assert submitted.output.task_status is DashScopeTaskStatus.PENDING


def test_the_seed_running_task_is_not_final_and_has_no_result() -> None:
    status = TaskStatusResponse.parse(seed.TASK_RUNNING)
    assert status.status is DashScopeTaskStatus.RUNNING
    assert not status.status.is_final
    assert status.transcription_url is None
    assert status.failure is None
    metrics = status.output.task_metrics
    assert metrics is not None
    assert (metrics.total, metrics.succeeded, metrics.failed) == (1, 0, 0)
    assert status.output.submit_time == "2025-10-27 14:19:31.150"


def test_the_seed_succeeded_task_points_at_its_transcription() -> None:
    status = TaskStatusResponse.parse(seed.TASK_SUCCEEDED)
    assert status.status.is_final
    assert status.transcription_url == "http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/..."
    assert status.failure is None
    assert status.usage is not None and status.usage.seconds == 3
    assert status.output.end_time == "2025-10-27 13:57:47.079"


def test_the_seed_failed_task_reports_its_code_and_message() -> None:
    status = TaskStatusResponse.parse(seed.TASK_FAILED)
    assert status.status is DashScopeTaskStatus.FAILED
    assert status.transcription_url is None
    failure = status.failure
    assert failure is not None
    assert (failure.code, failure.message) == ("FILE_403_FORBIDDEN", "FILE_403_FORBIDDEN")


def test_an_unknown_task_is_reported_as_a_failure_even_without_a_code() -> None:
    status = TaskStatusResponse.parse(
        {"request_id": "r", "output": {"task_id": "t", "task_status": "UNKNOWN"}}
    )
    assert status.status.is_final
    failure = status.failure
    assert failure is not None and failure.code == "TaskNotFound"


def test_a_paraformer_style_results_list_is_accepted_too() -> None:
    status = TaskStatusResponse.parse(seed.PARAFORMER_TASK_SUCCEEDED)
    assert status.transcription_url is not None
    assert status.transcription_url.startswith(
        "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/prod/"
    )
    assert status.usage is not None and status.usage.duration == 9


def test_a_failed_subtask_gives_the_failure_its_code() -> None:
    document = copy.deepcopy(seed.PARAFORMER_TASK_SUCCEEDED)
    document["output"]["task_status"] = "FAILED"
    document["output"]["results"][0].update(
        subtask_status="FAILED", transcription_url=None, code="InvalidFile.DownloadFailed", message="403"
    )
    status = TaskStatusResponse.parse(document)
    assert status.transcription_url is None
    failure = status.failure
    assert failure is not None
    assert (failure.code, failure.message) == ("InvalidFile.DownloadFailed", "403")


def test_a_task_status_the_seed_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError):
        TaskStatusResponse.parse({"output": {"task_id": "t", "task_status": "PAUSED"}})


def test_the_seed_transcription_result_parses_with_sentences_and_words() -> None:
    result = TranscriptionResult.parse(seed.TRANSCRIPTION_RESULT)
    assert result.file_url == "https://***.wav"
    assert result.audio_info is not None
    assert (result.audio_info.format, result.audio_info.sample_rate) == ("wav", 16000)
    track = result.channel(0)
    assert track is not None
    assert track.text.startswith("Senior staff, Principal Doris Jackson")
    (sentence,) = track.sentences
    assert (sentence.sentence_id, sentence.begin_time, sentence.end_time) == (0, 240, 6720)
    assert (sentence.language, sentence.emotion) == (AsrLanguage.EN, Emotion.HAPPY)
    assert [(w.text, w.punctuation, w.begin_time, w.end_time) for w in sentence.words] == [
        ("Senior ", "", 240, 1120),
        ("staff", ",", 1120, 1200),
    ]
    assert result.channel(1) is None
    assert result.text == track.text


def test_a_result_without_words_has_an_empty_word_list() -> None:
    document = copy.deepcopy(seed.TRANSCRIPTION_RESULT)
    del document["transcripts"][0]["sentences"][0]["words"]
    assert TranscriptionResult.parse(document).transcripts[0].sentences[0].words == []


def test_tracks_are_joined_in_channel_order() -> None:
    result = TranscriptionResult.parse(
        {"transcripts": [{"channel_id": 1, "text": "right"}, {"channel_id": 0, "text": "left"}]}
    )
    assert result.text == "left\nright"


@pytest.mark.parametrize(
    ("where", "begin", "end"),
    [("sentence", 6720, 240), ("word", 1200, 1120), ("sentence", -1, 10), ("word", 5, "soon")],
)
def test_a_result_whose_times_are_out_of_order_or_not_milliseconds_is_refused(
    where: str, begin: object, end: object
) -> None:
    document = copy.deepcopy(seed.TRANSCRIPTION_RESULT)
    sentence = document["transcripts"][0]["sentences"][0]
    target = sentence if where == "sentence" else sentence["words"][1]
    target.update(begin_time=begin, end_time=end)
    with pytest.raises(ValidationError) as caught:
        TranscriptionResult.parse(document)
    assert "sentences" in str(caught.value)


def test_a_dashscope_error_document_parses() -> None:
    error = DashScopeErrorBody.parse(
        {"request_id": "7a1b", "code": "InvalidParameter", "message": "The audio is too long."}
    )
    assert (error.request_id, error.code, error.message) == (
        "7a1b",
        "InvalidParameter",
        "The audio is too long.",
    )


def test_an_openai_compatible_error_document_parses_and_keeps_the_request_id() -> None:
    error = OpenAIErrorBody.parse(
        {
            "error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
            "request_id": "5c1f",
        }
    )
    assert (error.code, error.message, error.error.type, error.request_id) == (
        "invalid_api_key",
        "Incorrect API key provided.",
        "invalid_request_error",
        "5c1f",
    )


def test_a_numeric_openai_error_code_becomes_text_as_the_openai_sdk_does() -> None:
    assert OpenAIErrorBody.parse({"error": {"message": "Too many requests", "code": 429}}).code == "429"

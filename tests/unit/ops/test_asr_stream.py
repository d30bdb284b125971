from __future__ import annotations

import json

import httpx
import pytest

from shared.ops.asr import (
    ChatCompletion,
    ChatCompletionChunk,
    OpenAIErrorBody,
    assemble_stream,
    iter_sse_events,
    parse_stream_payload,
)
from shared.ops.enums import AsrLanguage, Emotion, FinishReason
from tests.unit.ops import asr_seed_examples as seed


def _assemble(lines: list[str]) -> ChatCompletion:
    return assemble_stream(parse_stream_payload(payload) for payload in iter_sse_events(lines))


def test_the_seed_stream_assembles_to_the_full_transcript_with_its_annotation() -> None:
    completion = _assemble(seed.stream_wire_lines())
    assert completion.text == "Welcome to Alibaba Cloud."
    annotation = completion.annotation
    assert annotation is not None
    assert (annotation.language, annotation.emotion) == (AsrLanguage.ZH, Emotion.NEUTRAL)
    assert completion.choices[0].finish_reason is FinishReason.STOP
    assert completion.id == "chatcmpl-3fb97803-d27f-9289-8889-xxxxx"
    assert completion.model == "qwen3-asr-flash"
    assert completion.created == 1767685989
    assert completion.object == "chat.completion"
    assert completion.usage is None


def test_the_seed_stream_read_through_httpx_iter_lines_gives_the_same_events() -> None:
    wire = "\n".join(seed.stream_wire_lines()).encode()
    response = httpx.Response(200, content=wire, headers={"content-type": "text/event-stream"})
    payloads = list(iter_sse_events(response.iter_lines()))
    assert len(payloads) == 7
    assert payloads == [line.removeprefix("data: ") for line in seed.STREAM_DATA_LINES[:-1]]


def test_every_seed_chunk_parses_as_a_chunk() -> None:
    chunks = [parse_stream_payload(p) for p in iter_sse_events(seed.stream_wire_lines())]
    assert all(isinstance(c, ChatCompletionChunk) and c.object == "chat.completion.chunk" for c in chunks)


def test_the_last_chunk_with_empty_choices_supplies_the_usage() -> None:
    usage_chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": [],
        "usage": {"prompt_tokens": 42, "completion_tokens": 12, "total_tokens": 54, "seconds": 1},
    }
    lines = seed.stream_wire_lines()
    lines[-2:-2] = [f"data: {json.dumps(usage_chunk)}", ""]
    completion = _assemble(lines)
    assert completion.text == "Welcome to Alibaba Cloud."
    assert completion.usage is not None
    assert (completion.usage.total_tokens, completion.usage.seconds) == (54, 1)


def test_events_split_over_several_data_lines_are_joined_with_newlines() -> None:
    lines = ['data: {"choices":', 'data: [{"delta":{"content":"Hi"},"index":0}]}', ""]
    assert list(iter_sse_events(lines)) == ['{"choices":\n[{"delta":{"content":"Hi"},"index":0}]}']
    assert _assemble(lines).text == "Hi"


def test_comments_event_names_ids_and_retry_fields_are_ignored() -> None:
    lines = [": keep-alive", "event: message", "id: 7", "retry: 3000", "data: one", "", ":", "data: two", ""]
    assert list(iter_sse_events(lines)) == ["one", "two"]


def test_only_one_space_after_the_colon_is_dropped_and_no_space_is_fine() -> None:
    assert list(iter_sse_events(["data:tight", "", "data:  two spaces", ""])) == ["tight", " two spaces"]


def test_blank_lines_alone_dispatch_nothing() -> None:
    assert list(iter_sse_events(["", "", "event: ping", "", ""])) == []


def test_line_terminators_left_on_the_lines_are_ignored() -> None:
    assert list(iter_sse_events(["data: a\r\n", "\r\n", "data: b\n", "\n"])) == ["a", "b"]


def test_nothing_after_done_is_yielded() -> None:
    assert list(iter_sse_events(["data: a", "", "data: [DONE]", "", "data: late", ""])) == ["a"]


def test_a_last_event_without_its_blank_line_is_still_yielded() -> None:
    assert list(iter_sse_events(["data: a", "", "data: b"])) == ["a", "b"]
    assert list(iter_sse_events(["data: a", "", "data: [DONE]"])) == ["a"]


def test_a_stream_cut_before_the_finish_reason_leaves_it_unset() -> None:
    completion = _assemble(seed.stream_wire_lines()[:6])
    assert completion.text == "Welcome to"
    assert completion.choices[0].finish_reason is None


def test_an_error_event_parses_as_an_error_and_stops_assembly() -> None:
    error = {"message": "Audio too long", "type": "invalid_request_error", "code": "InvalidParameter"}
    payload = json.dumps({"error": error})
    parsed = parse_stream_payload(payload)
    assert isinstance(parsed, OpenAIErrorBody) and parsed.code == "InvalidParameter"
    with pytest.raises(ValueError, match="InvalidParameter"):
        assemble_stream([parsed])


@pytest.mark.parametrize("payload", ["not json", "[1, 2]", '"text"'])
def test_a_payload_that_is_not_a_json_object_is_refused(payload: str) -> None:
    with pytest.raises(ValueError, match="stream event"):
        parse_stream_payload(payload)


def test_assembling_an_empty_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="no chunks"):
        assemble_stream([])


def test_choices_are_assembled_per_index() -> None:
    chunks = [
        ChatCompletionChunk.parse({"choices": [{"index": 1, "delta": {"content": "B"}}]}),
        ChatCompletionChunk.parse({"choices": [{"index": 0, "delta": {"content": "A"}}]}),
        ChatCompletionChunk.parse(
            {"choices": [{"index": 1, "delta": {"content": "b"}, "finish_reason": "length"}]}
        ),
    ]
    completion = assemble_stream(chunks)
    assert [(c.index, c.message.content) for c in completion.choices] == [(0, "A"), (1, "Bb")]
    assert completion.choices[1].finish_reason is FinishReason.LENGTH

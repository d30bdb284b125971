"""Streamed Qwen-ASR answers: server-sent events in, one ChatCompletion out. Pure functions, no I/O.

    lines --iter_sse_events--> payloads --parse_stream_payload--> chunks --assemble_stream--> ChatCompletion

Example, with the lines an httpx response's `iter_lines()` gives:

    >>> lines = ['data: {"choices":[{"delta":{"content":"Hi"},"index":0}]}', "", "data: [DONE]", ""]
    >>> assemble_stream(parse_stream_payload(p) for p in iter_sse_events(lines)).text
    'Hi'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from shared.ops.asr.responses import (
    AudioAnnotation,
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatResponseMessage,
    ChatUsage,
    OpenAIErrorBody,
)
from shared.ops.enums import FinishReason

DONE_SENTINEL = "[DONE]"


def iter_sse_events(lines: Iterable[str]) -> Iterator[str]:
    """Yield the `data` of each server-sent event, stopping at `data: [DONE]`.

    Follows the event-stream rules: an event ends at a blank line; several `data:` lines of one event
    are joined with a newline; one space after the colon is dropped; lines starting with `:` are
    comments; `event:`, `id:`, `retry:` and unknown fields are ignored; an event without data is not
    dispatched. Line terminators (CR, LF, CRLF) left on the lines are ignored. Unlike a browser, an
    event still pending when the input ends (no final blank line) is yielded: a complete JSON payload
    is worth more than strictness, and a cut payload fails to parse anyway.
    """
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                payload = "\n".join(data)
                data = []
                if payload == DONE_SENTINEL:
                    return
                yield payload
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        payload = "\n".join(data)
        if payload != DONE_SENTINEL:
            yield payload


def parse_stream_payload(payload: str) -> ChatCompletionChunk | OpenAIErrorBody:
    """One event's data as a chunk, or as the error document a stream may end with.

    Raises ValueError when the payload is not a JSON object.
    """
    try:
        document = json.loads(payload)
    except ValueError as exc:
        raise ValueError(f"stream event is not JSON ({exc}): {payload[:200]!r}") from None
    if not isinstance(document, dict):
        raise ValueError(f"stream event is not a JSON object: {payload[:200]!r}")
    if isinstance(document.get("error"), dict):
        return OpenAIErrorBody.parse(document)
    return ChatCompletionChunk.parse(document)


def assemble_stream(chunks: Iterable[ChatCompletionChunk | OpenAIErrorBody]) -> ChatCompletion:
    """Join a stream's chunks into the answer the same request would get without streaming.

    Text deltas are concatenated per choice index; the latest annotation and finish reason win; usage
    comes from the chunk that carries it (the last one, with stream_options.include_usage). A stream
    that never reached a finish reason leaves `finish_reason` None: the caller decides whether a cut
    stream is an error. Raises ValueError for an error chunk or a stream without chunks.
    """
    first: ChatCompletionChunk | None = None
    texts: dict[int, list[str]] = {}
    annotations: dict[int, list[AudioAnnotation]] = {}
    finish: dict[int, FinishReason | str] = {}
    usage: ChatUsage | None = None
    for chunk in chunks:
        if isinstance(chunk, OpenAIErrorBody):
            raise ValueError(f"the stream ended with an error: {chunk.code}: {chunk.message}")
        first = first or chunk
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            texts.setdefault(choice.index, [])
            if choice.delta.content:
                texts[choice.index].append(choice.delta.content)
            if choice.delta.annotations:
                annotations[choice.index] = choice.delta.annotations
            if choice.finish_reason is not None:
                finish[choice.index] = choice.finish_reason
    if first is None:
        raise ValueError("the stream held no chunks")
    choices = [
        ChatChoice(
            index=index,
            finish_reason=finish.get(index),
            message=ChatResponseMessage(
                role="assistant", content="".join(parts), annotations=annotations.get(index)
            ),
        )
        for index, parts in sorted(texts.items())
    ]
    return ChatCompletion(
        id=first.id,
        model=first.model,
        object="chat.completion",
        created=first.created,
        choices=choices,
        usage=usage,
    )

"""DashScope: Qwen-ASR over its three connection types, task polling and result download.

    >>> import httpx
    >>> from shared.ops.asr import ChatCompletionRequest
    >>> answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "Welcome."}}]}
    >>> dashscope = DashScopeClient(
    ...     "https://dashscope.aliyuncs.com", "sk-example",
    ...     transport=httpx.MockTransport(lambda request: httpx.Response(200, json=answer)),
    ... )
    >>> dashscope.chat_completion(ChatCompletionRequest.for_audio("https://example.com/a.mp3")).text
    'Welcome.'

Streams (server-sent events) end with `data: [DONE]`; a stream that ends without it was cut short and is
a TransportError. Result files are fetched from their presigned URL without our API key.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx

from shared.auth.dashscope import DashScopeBearerAuth
from shared.clients.base import RequestBody, RetryPolicy, ServiceClient, Timeouts, normalize_endpoint
from shared.clients.errors import WaitTimeoutError, dashscope_error_from_document, parse_dashscope_error
from shared.errors import InvalidRequestError, TransportError
from shared.ops.asr import (
    CHAT_COMPLETIONS_PATH,
    MULTIMODAL_GENERATION_PATH,
    TRANSCRIPTION_PATH,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
    MultimodalGenerationResponse,
    TaskStatusResponse,
    TaskSubmitResponse,
    TranscriptionResult,
    iter_sse_events,
    task_path,
)
from shared.ops.asr.stream import DONE_SENTINEL

# Transcripts of long recordings with word timings run to megabytes; anything far beyond is not one.
DEFAULT_TRANSCRIPTION_LIMIT = 64 * 1024 * 1024
_JSON = "application/json"


class DashScopeClient(ServiceClient):
    """One DashScope region (`https://dashscope.aliyuncs.com`, `https://dashscope-intl.aliyuncs.com`, ...)."""

    service = "dashscope"
    # Synchronous recognition of a few minutes of audio takes a while before the first byte comes back.
    default_timeouts = Timeouts(connect=5.0, read=120.0, write=60.0, pool=5.0)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.base_url = normalize_endpoint(base_url, field_name="base_url", operation="DashScopeClient")
        super().__init__(
            error_parser=parse_dashscope_error,
            auth=DashScopeBearerAuth(api_key),
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        value = response.headers.get("x-request-id") or response.headers.get("x-dashscope-request-id")
        return str(value) if value else None

    # Short audio ---------------------------------------------------------------------------------------

    def chat_completion(self, request: ChatCompletionRequest) -> ChatCompletion:
        """OpenAI-compatible recognition (qwen3-asr-flash), whole answer at once."""
        if request.stream:
            raise InvalidRequestError.single(
                "stream",
                "not_streaming",
                "is true: use chat_completion_stream for a streamed answer",
                request.operation,
            )
        response = self._post_json(
            CHAT_COMPLETIONS_PATH, request.to_json_bytes(), request.extra_headers(), request.operation
        )
        return self.parse_model(ChatCompletion, self.json_object(response), response)

    def chat_completion_stream(self, request: ChatCompletionRequest) -> Iterator[ChatCompletionChunk]:
        """OpenAI-compatible recognition streamed as chunks; build the request with `stream=True`.

        The request is checked at once but sent when iteration starts; chunks are yielded as they
        arrive, and leaving the loop early closes the connection. An error event raises
        ServiceResponseError; a stream cut before `data: [DONE]` raises TransportError.

            request = ChatCompletionRequest.for_audio(url, stream=True)
            for chunk in dashscope.chat_completion_stream(request):
                print(chunk.choices[0].delta.content if chunk.choices else "")
        """
        if request.stream is not True:
            raise InvalidRequestError.single(
                "stream", "streaming_required", "must be true for a streamed answer", request.operation
            )
        # Validate before the generator starts, so bad input fails at the call and not at first iteration.
        body = request.to_json_bytes()
        headers = {"Content-Type": _JSON, "Accept": "text/event-stream", **request.extra_headers()}
        return self._stream_chunks(body, headers, request.operation)

    def multimodal_generation(self, request: MultimodalGenerationRequest) -> MultimodalGenerationResponse:
        """DashScope synchronous recognition (qwen3-asr-flash, or -us in the US region)."""
        response = self._post_json(
            MULTIMODAL_GENERATION_PATH, request.to_json_bytes(), request.extra_headers(), request.operation
        )
        return self.parse_model(MultimodalGenerationResponse, self._with_request_id(response), response)

    # Long audio ----------------------------------------------------------------------------------------

    def submit_filetrans(self, request: FiletransRequest) -> TaskSubmitResponse:
        """Submit an asynchronous recognition task (`X-DashScope-Async: enable`); answers with its task id."""
        response = self._post_json(
            TRANSCRIPTION_PATH,
            request.to_json_bytes(),
            request.extra_headers(),
            request.operation,
            idempotent=False,
        )
        return self.parse_model(TaskSubmitResponse, self._with_request_id(response), response)

    def get_task(self, task_id: str) -> TaskStatusResponse:
        """The task's state; once SUCCEEDED, `transcription_url` says where the result is."""
        response = self._call("GET", self._url(task_path(task_id)), operation="GetTask", idempotent=True)
        return self.parse_model(TaskStatusResponse, self._with_request_id(response), response)

    def wait_for_task(
        self,
        task_id: str,
        *,
        timeout: float,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> TaskStatusResponse:
        """Poll until the task is SUCCEEDED, FAILED or UNKNOWN and return that status.

        Raises WaitTimeoutError (retryable: the task goes on) when `timeout` seconds pass first. Inside a
        function, prefer a short timeout and the timer trigger over waiting out long tasks.
        """
        for name, value in (("timeout", timeout), ("poll_interval", poll_interval)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise InvalidRequestError.single(
                    name, "positive", f"must be a positive number of seconds, got {value!r}"
                )
        deadline = monotonic() + timeout
        while True:
            status = self.get_task(task_id)
            if status.status.is_final:
                return status
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise WaitTimeoutError(
                    f"task {task_id} still {status.status.value} after {timeout:g} s",
                    service=self.service,
                    task_id=task_id,
                    last_status=status.status.value,
                )
            sleep(min(poll_interval, remaining))

    def download_transcription(
        self, url: str, *, max_bytes: int = DEFAULT_TRANSCRIPTION_LIMIT
    ) -> TranscriptionResult:
        """Fetch and parse a task's result file from its presigned URL (sent without the API key)."""
        target = _result_url(url)
        response = self._call(
            "GET", target, operation="DownloadTranscription", idempotent=True, auth=None, max_bytes=max_bytes
        )
        return self.parse_model(TranscriptionResult, self.json_object(response), response)

    # Internals -----------------------------------------------------------------------------------------

    def _url(self, path: str) -> httpx.URL:
        base = self.base_url.raw_path.rstrip(b"/")
        return self.base_url.copy_with(raw_path=base + path.encode("ascii"))

    def _post_json(
        self, path: str, body: bytes, extra: dict[str, str], operation: str, *, idempotent: bool = True
    ) -> httpx.Response:
        return self._call(
            "POST",
            self._url(path),
            operation=operation,
            idempotent=idempotent,
            headers={"Content-Type": _JSON, "Accept": _JSON, **extra},
            body=RequestBody(body),
        )

    def _with_request_id(self, response: httpx.Response) -> dict[str, Any]:
        data = self.json_object(response)
        if not data.get("request_id") and self.request_id_of(response):
            data["request_id"] = self.request_id_of(response)
        return data

    def _stream_chunks(
        self, body: bytes, headers: dict[str, str], operation: str
    ) -> Iterator[ChatCompletionChunk]:
        with self._open(
            "POST",
            self._url(CHAT_COMPLETIONS_PATH),
            operation=operation,
            idempotent=True,
            headers=headers,
            body=RequestBody(body),
        ) as response:
            ended = _EndOfStream()
            try:
                for payload in iter_sse_events(ended.watch(response.iter_lines())):
                    yield self._chunk(payload, response)
            except httpx.RequestError as exc:
                raise TransportError(
                    f"POST {CHAT_COMPLETIONS_PATH}: the stream broke ({type(exc).__name__})",
                    service=self.service,
                    code=type(exc).__name__,
                ) from exc
            if not ended.done:
                raise TransportError(
                    f"POST {CHAT_COMPLETIONS_PATH}: the stream ended without data: [DONE]",
                    service=self.service,
                    code="IncompleteStream",
                )

    def _chunk(self, payload: str, response: httpx.Response) -> ChatCompletionChunk:
        try:
            document = json.loads(payload)
        except ValueError as exc:
            raise self.malformed(response, f"stream event is not JSON: {payload[:200]!r}") from exc
        if not isinstance(document, dict):
            raise self.malformed(response, f"stream event is not a JSON object: {payload[:200]!r}")
        if isinstance(document.get("error"), dict) or ("code" in document and "choices" not in document):
            raise dashscope_error_from_document(document, response=response)
        return self.parse_model(ChatCompletionChunk, document, response)


class _EndOfStream:
    """Notes whether the `data: [DONE]` line went by (iter_sse_events stops quietly either way)."""

    def __init__(self) -> None:
        self.done = False

    def watch(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            field, _, value = line.rstrip("\r\n").partition(":")
            if field == "data" and value.strip() == DONE_SENTINEL:
                self.done = True
            yield line


def _result_url(url: object) -> httpx.URL:
    if not isinstance(url, str) or not url:
        raise InvalidRequestError.single(
            "url", "required", "must be the task's transcription_url", "DownloadTranscription"
        )
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL:
        target = None
    if target is None or target.scheme not in ("http", "https") or not target.host:
        # Never echo the URL: it carries a signature.
        raise InvalidRequestError.single(
            "url", "http_url", "must be an absolute http(s) URL", "DownloadTranscription"
        )
    return target

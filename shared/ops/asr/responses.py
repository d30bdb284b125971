"""Qwen-ASR response documents, parsed leniently (services add fields; a new one must never break us).

    ChatCompletion / ChatCompletionChunk   OpenAI-compatible answer and stream chunk (see stream)
    MultimodalGenerationResponse           DashScope synchronous answer
    TaskSubmitResponse / TaskStatusResponse  DashScope asynchronous submit and poll
    TranscriptionResult                    the JSON file behind `result.transcription_url`
    DashScopeErrorBody / OpenAIErrorBody   the two error document shapes

Enumerated values (finish reason, language, emotion) parse into the enums of shared.ops.enums when they
are known and stay plain strings when the service sends something new.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, NonNegativeInt, model_validator
from typing_extensions import Self

from shared.ops.base import ResponseModel
from shared.ops.enums import AsrLanguage, DashScopeTaskStatus, Emotion, FinishReason

# Known values become enum members, anything new stays a string (left_to_right: try the enum first).
LenientFinishReason = Annotated[Union[FinishReason, str], Field(union_mode="left_to_right")]  # noqa: UP007
LenientLanguage = Annotated[Union[AsrLanguage, str], Field(union_mode="left_to_right")]  # noqa: UP007
LenientEmotion = Annotated[Union[Emotion, str], Field(union_mode="left_to_right")]  # noqa: UP007
LenientTaskStatus = Annotated[Union[DashScopeTaskStatus, str], Field(union_mode="left_to_right")]  # noqa: UP007


class AudioAnnotation(ResponseModel):
    """`{"type": "audio_info", "language": "zh", "emotion": "neutral"}`."""

    type: str = "audio_info"
    language: LenientLanguage | None = None
    emotion: LenientEmotion | None = None


class PromptTokensDetails(ResponseModel):
    audio_tokens: int | None = None
    text_tokens: int | None = None


class CompletionTokensDetails(ResponseModel):
    text_tokens: int | None = None


class ChatUsage(ResponseModel):
    prompt_tokens: int | None = None
    prompt_tokens_details: PromptTokensDetails | None = None
    completion_tokens: int | None = None
    completion_tokens_details: CompletionTokensDetails | None = None
    seconds: int | None = None
    total_tokens: int | None = None


class ChatResponseMessage(ResponseModel):
    role: str = "assistant"
    content: str | None = None
    annotations: list[AudioAnnotation] | None = None


class ChatChoice(ResponseModel):
    index: int = 0
    finish_reason: LenientFinishReason | None = None
    message: ChatResponseMessage = Field(default_factory=ChatResponseMessage)


class ChatCompletion(ResponseModel):
    """The OpenAI-compatible answer (`object: chat.completion`).

    >>> ChatCompletion.parse({"choices": [{"message": {"content": "Hi."}}]}).text
    'Hi.'
    """

    id: str | None = None
    model: str | None = None
    object: str = "chat.completion"
    created: int | None = None
    choices: list[ChatChoice] = Field(default_factory=list)
    usage: ChatUsage | None = None

    @property
    def text(self) -> str:
        """The transcript of the first choice ("" when there is none)."""
        return (self.choices[0].message.content or "") if self.choices else ""

    @property
    def annotation(self) -> AudioAnnotation | None:
        """Detected language and emotion of the first choice."""
        if not self.choices or not self.choices[0].message.annotations:
            return None
        return self.choices[0].message.annotations[0]


class ChunkDelta(ResponseModel):
    content: str | None = None
    role: str | None = None
    annotations: list[AudioAnnotation] | None = None


class ChunkChoice(ResponseModel):
    index: int = 0
    delta: ChunkDelta = Field(default_factory=ChunkDelta)
    finish_reason: LenientFinishReason | None = None


class ChatCompletionChunk(ResponseModel):
    """One server-sent event of a streamed answer (`object: chat.completion.chunk`).

    With stream_options.include_usage the last chunk has no choices and carries `usage`.
    """

    id: str | None = None
    model: str | None = None
    object: str = "chat.completion.chunk"
    created: int | None = None
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: ChatUsage | None = None


class TextElement(ResponseModel):
    text: str | None = None


class MultimodalResponseMessage(ResponseModel):
    role: str = "assistant"
    content: list[TextElement] = Field(default_factory=list)
    annotations: list[AudioAnnotation] | None = None


class MultimodalChoice(ResponseModel):
    finish_reason: LenientFinishReason | None = None
    message: MultimodalResponseMessage = Field(default_factory=MultimodalResponseMessage)


class MultimodalOutput(ResponseModel):
    choices: list[MultimodalChoice] = Field(default_factory=list)


class TokensDetails(ResponseModel):
    text_tokens: int | None = None


class MultimodalUsage(ResponseModel):
    input_tokens: int | None = None
    output_tokens: int | None = None
    input_tokens_details: TokensDetails | None = None
    output_tokens_details: TokensDetails | None = None
    seconds: int | None = None


class MultimodalGenerationResponse(ResponseModel):
    """The DashScope synchronous answer.

    >>> answer = {"output": {"choices": [{"message": {"content": [{"text": "Hi."}]}}]}}
    >>> MultimodalGenerationResponse.parse(answer).text
    'Hi.'
    """

    request_id: str | None = None
    output: MultimodalOutput = Field(default_factory=MultimodalOutput)
    usage: MultimodalUsage | None = None

    @property
    def text(self) -> str:
        """The transcript of the first choice: its text elements joined."""
        if not self.output.choices:
            return ""
        return "".join(element.text or "" for element in self.output.choices[0].message.content)

    @property
    def annotation(self) -> AudioAnnotation | None:
        if not self.output.choices or not self.output.choices[0].message.annotations:
            return None
        return self.output.choices[0].message.annotations[0]


class SubmittedTask(ResponseModel):
    task_id: str
    task_status: DashScopeTaskStatus


class TaskSubmitResponse(ResponseModel):
    """`{"request_id": ..., "output": {"task_id": ..., "task_status": "PENDING"}}`."""

    request_id: str | None = None
    output: SubmittedTask

    @property
    def task_id(self) -> str:
        return self.output.task_id


class TaskResult(ResponseModel):
    transcription_url: str | None = None


class SubtaskResult(ResponseModel):
    """One element of `output.results` (the paraformer-style list; accepted for older task shapes)."""

    file_url: str | None = None
    transcription_url: str | None = None
    subtask_status: LenientTaskStatus | None = None
    code: str | None = None
    message: str | None = None


class TaskMetrics(ResponseModel):
    total: int | None = Field(default=None, alias="TOTAL")
    succeeded: int | None = Field(default=None, alias="SUCCEEDED")
    failed: int | None = Field(default=None, alias="FAILED")


class TaskOutput(ResponseModel):
    task_id: str
    task_status: DashScopeTaskStatus
    submit_time: str | None = None
    scheduled_time: str | None = None
    end_time: str | None = None
    result: TaskResult | None = None
    results: list[SubtaskResult] | None = None
    task_metrics: TaskMetrics | None = None
    code: str | None = None
    message: str | None = None


class TaskUsage(ResponseModel):
    seconds: int | None = None
    # paraformer tasks report `duration` instead.
    duration: int | None = None


class TaskFailure(ResponseModel):
    code: str
    message: str


class TaskStatusResponse(ResponseModel):
    """`GET /api/v1/tasks/{task_id}`: the task's state and, once SUCCEEDED, where the result is.

    >>> status = TaskStatusResponse.parse({"output": {"task_id": "t", "task_status": "RUNNING"}})
    >>> status.status.is_final, status.transcription_url
    (False, None)
    """

    request_id: str | None = None
    output: TaskOutput
    usage: TaskUsage | None = None

    @property
    def status(self) -> DashScopeTaskStatus:
        return self.output.task_status

    @property
    def transcription_url(self) -> str | None:
        """Where the TranscriptionResult JSON is (valid 24 hours), once the task has succeeded."""
        if self.output.result is not None and self.output.result.transcription_url:
            return self.output.result.transcription_url
        for subtask in self.output.results or []:
            if subtask.transcription_url and subtask.subtask_status in (None, DashScopeTaskStatus.SUCCEEDED):
                return subtask.transcription_url
        return None

    @property
    def failure(self) -> TaskFailure | None:
        """Code and message of a FAILED (or UNKNOWN) task; None while it runs or after it succeeded."""
        status = self.output.task_status
        if status not in (DashScopeTaskStatus.FAILED, DashScopeTaskStatus.UNKNOWN):
            return None
        failed = [sub for sub in self.output.results or [] if sub.code]
        code = self.output.code or (failed[0].code if failed else None)
        message = self.output.message or (failed[0].message if failed else None)
        if status is DashScopeTaskStatus.UNKNOWN and code is None:
            code, message = "TaskNotFound", "the task does not exist (or has expired)"
        return TaskFailure(code=code or "UnknownError", message=message or code or "the task failed")


class AudioInfo(ResponseModel):
    format: str | None = None
    sample_rate: int | None = None


def _check_span(begin: int, end: int, what: str) -> None:
    if begin > end:
        raise ValueError(f"{what} begins at {begin} ms, after it ends at {end} ms")


class TranscribedWord(ResponseModel):
    begin_time: NonNegativeInt
    end_time: NonNegativeInt
    text: str = ""
    punctuation: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_span(self.begin_time, self.end_time, "the word")
        return self


class TranscribedSentence(ResponseModel):
    sentence_id: int | None = None
    begin_time: NonNegativeInt
    end_time: NonNegativeInt
    language: LenientLanguage | None = None
    emotion: LenientEmotion | None = None
    text: str = ""
    words: list[TranscribedWord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        _check_span(self.begin_time, self.end_time, "the sentence")
        return self


class ChannelTranscript(ResponseModel):
    channel_id: int = 0
    text: str = ""
    sentences: list[TranscribedSentence] = Field(default_factory=list)


class TranscriptionResult(ResponseModel):
    """The result file of a filetrans task: one transcript per audio track, times in milliseconds.

    >>> TranscriptionResult.parse({"transcripts": [{"channel_id": 0, "text": "Hi."}]}).text
    'Hi.'
    """

    file_url: str | None = None
    audio_info: AudioInfo | None = None
    transcripts: list[ChannelTranscript] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """All tracks' text, one line per track in channel order."""
        return "\n".join(t.text for t in sorted(self.transcripts, key=lambda t: t.channel_id))

    def channel(self, channel_id: int) -> ChannelTranscript | None:
        return next((t for t in self.transcripts if t.channel_id == channel_id), None)


class DashScopeErrorBody(ResponseModel):
    """DashScope's error document (HTTP 4xx/5xx): `{"request_id", "code", "message"}`."""

    request_id: str | None = None
    code: str | None = None
    message: str | None = None


class OpenAIErrorDetail(ResponseModel):
    message: str | None = None
    type: str | None = None
    param: str | None = None
    # The openai SDK stringifies a numeric code; so do we.
    code: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _code_as_text(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("code"), int)
            and not isinstance(data["code"], bool)
        ):
            return {**data, "code": str(data["code"])}
        return data


class OpenAIErrorBody(ResponseModel):
    """The OpenAI-compatible error document: `{"error": {"message", "type", "code", "param"}}`.

    DashScope adds `request_id` (and sometimes `id`) beside `error`; both are kept.
    """

    error: OpenAIErrorDetail = Field(default_factory=OpenAIErrorDetail)
    request_id: str | None = None

    @property
    def code(self) -> str | None:
        return self.error.code

    @property
    def message(self) -> str | None:
        return self.error.message

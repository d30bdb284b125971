"""From the recogniser's answers to the canonical Transcript, and the completion message for the output topic.

>>> from shared.ops.asr import TranscriptionResult
>>> result = TranscriptionResult.parse({"transcripts": [{"channel_id": 0, "text": "Hi.",
...     "sentences": [{"begin_time": 240, "end_time": 900, "text": "Hi.", "language": "en"}]}]})
>>> transcript = transcript_from_filetrans(result, source={"bucket": "b", "key": "inbox/a.wav"})
>>> transcript.text, transcript.language, transcript.channels[0].sentences[0].begin_ms
('Hi.', 'en', 240)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from shared.clients.errors import MalformedResponseError
from shared.errors import InvalidRequestError
from shared.jobs.model import JobRecord, JobType, JobView, StepName
from shared.ops.enums import AsrModel
from shared.pipeline.inputs import (
    ConvertJobInput,
    MergeJobInput,
    TranscribeJobInput,
    UploadInput,
    input_of,
)

if TYPE_CHECKING:  # annotations only: the models load when a result is read (not at every cold start)
    from shared.ops.asr import ChatCompletion, MultimodalGenerationResponse, TranscriptionResult
    from shared.transcripts import Transcript

COMPLETION_MESSAGE_TYPE = "audiochain.job.finished"
COMPLETION_SCHEMA_VERSION = 1


def transcript_from_filetrans(
    result: TranscriptionResult,
    *,
    source: Mapping[str, Any] | None = None,
    language: str | None = None,
    duration_ms: int | None = None,
    task_id: str | None = None,
) -> Transcript:
    """A filetrans result file as a Transcript: one channel per track, sentences (and words) in time order.

    `language` is the one requested; when None, the language most sentences were detected in.
    `duration_ms` defaults to the end of the last sentence (the result file has no duration).
    Raises MalformedResponseError when the result cannot be a transcript.
    """
    from shared.transcripts import Transcript, TranscriptChannel, TranscriptSentence, TranscriptWord

    try:
        channels = tuple(
            TranscriptChannel(
                channel_id=track.channel_id,
                sentences=tuple(
                    TranscriptSentence(
                        begin_ms=sentence.begin_time,
                        end_ms=sentence.end_time,
                        text=sentence.text.strip(),
                        language=_text(sentence.language),
                        emotion=_text(sentence.emotion),
                        words=tuple(
                            TranscriptWord(
                                begin_ms=word.begin_time,
                                end_ms=word.end_time,
                                text=word.text.strip(),
                                punctuation=word.punctuation,
                            )
                            for word in sorted(sentence.words, key=lambda w: (w.begin_time, w.end_time))
                        ),
                    )
                    for sentence in sorted(track.sentences, key=lambda s: (s.begin_time, s.end_time))
                ),
            )
            for track in sorted(result.transcripts, key=lambda t: t.channel_id)
        )
    except ValidationError as exc:
        raise _malformed(
            f"the transcription result is not a usable transcript ({exc.error_count()} problems)"
        ) from exc
    detected = Counter(s.language for c in channels for s in c.sentences if s.language)
    ends = [s.end_ms for c in channels for s in c.sentences]
    engine: dict[str, Any] = {
        "service": "dashscope",
        "model": AsrModel.FLASH_FILETRANS.value,
        "mode": "filetrans",
    }
    if task_id:
        engine["task_id"] = task_id
    if result.audio_info is not None and result.audio_info.sample_rate:
        engine["sample_rate"] = result.audio_info.sample_rate
    return Transcript(
        language=language or (detected.most_common(1)[0][0] if detected else None),
        duration_ms=duration_ms if duration_ms is not None else (max(ends) if ends else None),
        source=dict(source or {}),
        engine=engine,
        channels=channels,
    )


def transcript_from_sync(
    response: MultimodalGenerationResponse,
    *,
    source: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> Transcript:
    """A synchronous answer as a Transcript: one sentence spanning the audio (the model gives no timings)."""
    seconds = response.usage.seconds if response.usage is not None else None
    return _single_sentence(
        response.text,
        response.annotation,
        seconds=seconds,
        request_id=response.request_id,
        mode="sync",
        source=source,
        language=language,
    )


def transcript_from_compatible(
    completion: ChatCompletion,
    *,
    source: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> Transcript:
    """An OpenAI-compatible answer (assembled from its stream) as a Transcript, like the synchronous one."""
    seconds = completion.usage.seconds if completion.usage is not None else None
    return _single_sentence(
        completion.text,
        completion.annotation,
        seconds=seconds,
        request_id=completion.id,
        mode="compatible",
        source=source,
        language=language,
    )


def _single_sentence(
    text: str | None,
    annotation: Any,
    *,
    seconds: int | None,
    request_id: str | None,
    mode: str,
    source: Mapping[str, Any] | None,
    language: str | None,
) -> Transcript:
    from shared.transcripts import Transcript, TranscriptChannel, TranscriptSentence

    text = (text or "").strip()
    duration_ms = seconds * 1000 if seconds is not None and seconds >= 0 else None
    detected = _text(annotation.language) if annotation else None
    sentences: tuple[TranscriptSentence, ...] = ()
    if text:
        sentences = (
            TranscriptSentence(
                begin_ms=0,
                end_ms=duration_ms or 0,
                text=text,
                language=detected,
                emotion=_text(annotation.emotion) if annotation else None,
            ),
        )
    engine = {"service": "dashscope", "model": AsrModel.FLASH.value, "mode": mode}
    if request_id:
        engine["request_id"] = request_id
    return Transcript(
        language=language or detected,
        duration_ms=duration_ms,
        source=dict(source or {}),
        engine=engine,
        timing="estimated",
        channels=(TranscriptChannel(channel_id=0, sentences=sentences),),
    )


def source_of(record: JobRecord, bucket: str) -> dict[str, Any]:
    """What the job worked on, for transcripts and completion messages (a job whose stored input no longer
    validates still gets one: its raw input, so its failure can be announced)."""
    try:
        return _validated_source(record, bucket)
    except InvalidRequestError:
        return {"bucket": bucket, "input": dict(record.input)}


def _validated_source(record: JobRecord, bucket: str) -> dict[str, Any]:
    if record.type is JobType.TRANSCRIBE_UPLOAD:
        upload = input_of(record.input, UploadInput)
        return {"bucket": upload.bucket, "key": upload.key, "etag": upload.etag}
    if record.type is JobType.TRANSCRIBE:
        return {"bucket": bucket, "key": input_of(record.input, TranscribeJobInput).source}
    if record.type is JobType.CONVERT:
        return {"bucket": bucket, "key": input_of(record.input, ConvertJobInput).source}
    if record.type is JobType.MERGE:
        return {"bucket": bucket, "keys": [clip.key for clip in input_of(record.input, MergeJobInput).clips]}
    return {}


def completion_message(
    view: JobView, record: JobRecord, bucket: str, *, completion_id: str | None = None
) -> str:
    """The JSON published to the output topic when a job ends (succeeded or failed).

    `{"type": "audiochain.job.finished", "schema_version": 1, "job_id", "job_type", "state", "bucket",
    "source", "outputs": {name: key}, "error": {code, message} | null, "transcript": {language,
    duration_ms, excerpt} (transcription jobs), "created_at", "finished_at", "completion_id"}`

    `completion_id` names the outcome (job id, state, retries): the same for a message published twice
    after a publisher crashed mid-publish, so a consumer can drop the repeat.
    """
    message: dict[str, Any] = {
        "type": COMPLETION_MESSAGE_TYPE,
        "schema_version": COMPLETION_SCHEMA_VERSION,
        "job_id": view.id,
        "job_type": view.type.value,
        "state": view.state.value,
        "bucket": bucket,
        "source": source_of(record, bucket),
        "outputs": dict(view.outputs),
        "error": {"code": view.error.code, "message": view.error.message} if view.error else None,
        "created_at": view.created_at.isoformat(),
        "finished_at": view.updated_at.isoformat(),
    }
    if completion_id is not None:
        message["completion_id"] = completion_id
    publish = view.step(StepName.PUBLISH_TRANSCRIPTS)
    if publish is not None and publish.result:
        message["transcript"] = {
            name: publish.result.get(name) for name in ("language", "duration_ms", "excerpt")
        }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = value.value if isinstance(value, Enum) else str(value)
    return text or None


def _malformed(message: str) -> MalformedResponseError:
    return MalformedResponseError(message, service="dashscope")

"""Asynchronous transcription: submit (`X-DashScope-Async: enable`), poll `GET /api/v1/tasks/{task_id}`.

Two request shapes are accepted on `POST /api/v1/services/audio/asr/transcription`:

    qwen3-asr-flash-filetrans   input.file_url (the seed)   -> output.result.transcription_url, usage.seconds
    paraformer family           input.file_urls (the SDK's `Transcription`)
                                                            -> output.results[] per file, usage.duration

Without the async header the answer is 403 AccessDenied "current user api does not support synchronous
calls", what DashScope says when an asynchronous-only model is called synchronously.

Tasks wait `config.task_start_delay` seconds in PENDING (so clients can watch PENDING -> RUNNING), run on
`cloud.tasks`, and store each file's result document in localcloud's OSS bucket
`localcloud-dashscope-results`, served through a V1 presigned URL valid for 24 hours after the task ended,
as DashScope's own. A failing file ends with a code from errors.py (FILE_403_FORBIDDEN, ...). Task times are
Beijing time, `YYYY-MM-DD HH:MM:SS.mmm`. An unknown task id answers `task_status: "UNKNOWN"`.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from localcloud.ports import ObjectCreated
from localcloud.services.dashscope.audio_source import FILETRANS_AUDIO_LIMIT
from localcloud.services.dashscope.errors import INTERNAL_ERROR, RecognitionFailure, api_error
from localcloud.services.dashscope.paraformer import PARAFORMER_MODELS, ParaformerRequest
from localcloud.services.dashscope.recognition import billed_seconds, check_channels, inspect_audio
from localcloud.services.dashscope.tasks import (
    FAILED,
    SUCCEEDED,
    FileOutcome,
    TaskRecord,
    TranscriptionJob,
)
from localcloud.services.dashscope.transcripts import ChannelRecognition, paraformer_result, qwen_result
from localcloud.services.dashscope.wire import json_object, ok, read_body, task_time
from localcloud.services.dashscope.worker import WorkerStopped
from shared.errors import InvalidRequestError
from shared.logging import get_logger
from shared.ops.asr import (
    ASYNC_HEADER,
    ASYNC_HEADER_VALUE,
    OSS_RESOURCE_RESOLVE_HEADER,
    OSS_RESOURCE_RESOLVE_VALUE,
    FiletransRequest,
)
from shared.ops.enums import AsrModel

if TYPE_CHECKING:
    from localcloud.services.dashscope.parts import DashScopeParts

log = get_logger("localcloud.dashscope")

OPERATION = FiletransRequest.operation
RESULT_BUCKET = "localcloud-dashscope-results"
RESULT_LIFETIME = 86400


def submit(service: DashScopeParts, request: Request, request_id: str) -> Response:
    """Validate and persist a transcription task, then queue it; answers PENDING with the task id."""
    if request.headers.get(ASYNC_HEADER, "").lower() != ASYNC_HEADER_VALUE:
        raise api_error(403, "AccessDenied", "current user api does not support synchronous calls")
    job = parse_job(json_object(read_body(request, OPERATION), OPERATION))
    if any(url.startswith("oss://") for url in job.file_urls) and (
        request.headers.get(OSS_RESOURCE_RESOLVE_HEADER, "").lower() != OSS_RESOURCE_RESOLVE_VALUE
    ):
        field = "input.file_url" if job.kind == "filetrans" else "input.file_urls"
        raise api_error(
            400,
            "InvalidParameter",
            f"{field}: oss:// audio is resolved only with the header "
            f"{OSS_RESOURCE_RESOLVE_HEADER}: {OSS_RESOURCE_RESOLVE_VALUE}",
        )
    record = service.tasks.create(job)
    service.transcriber.schedule(record.task_id)
    log.info(
        "dashscope.transcription.submitted", task_id=record.task_id, model=job.model, files=len(job.file_urls)
    )
    return ok(
        {"request_id": request_id, "output": {"task_id": record.task_id, "task_status": "PENDING"}},
        request_id,
    )


def parse_job(document: dict[str, Any]) -> TranscriptionJob:
    """The normalised job of a qwen filetrans or paraformer body; InvalidRequestError names the field."""
    model = document.get("model")
    if model in PARAFORMER_MODELS:
        paraformer = ParaformerRequest.from_body(document)
        hints = (paraformer.parameters and paraformer.parameters.language_hints) or ()
        return TranscriptionJob(
            kind="paraformer",
            model=paraformer.model,
            file_urls=tuple(audio.url for audio in paraformer.input.file_urls),
            channel_ids=paraformer.channel_ids,
            language_hints=hints,
            enable_words=True,
        )
    if model != AsrModel.FLASH_FILETRANS.value:
        raise InvalidRequestError.single(
            "model",
            "unsupported_model",
            f"{model!r} cannot be used with asynchronous transcription; use "
            f"{AsrModel.FLASH_FILETRANS.value} (input.file_url) or {', '.join(PARAFORMER_MODELS)} "
            "(input.file_urls)",
            OPERATION,
        )
    parsed = FiletransRequest.from_body(document)
    parameters = parsed.parameters
    return TranscriptionJob(
        kind="filetrans",
        model=parsed.model.value,
        file_urls=(parsed.file_url.url,),
        channel_ids=(parameters and parameters.channel_id) or (0,),
        language=parameters.language.value if parameters and parameters.language else None,
        enable_words=bool(parameters and parameters.enable_words),
    )


def get_task(service: DashScopeParts, task_id: str, request_id: str) -> Response:
    """The task's state; once SUCCEEDED, where its result documents are."""
    record = service.tasks.get(task_id)
    if record is None:
        return ok(
            {"request_id": request_id, "output": {"task_id": task_id, "task_status": "UNKNOWN"}}, request_id
        )
    output: dict[str, Any] = {
        "task_id": record.task_id,
        "task_status": record.status,
        "submit_time": task_time(record.submit_time),
    }
    if record.scheduled_time is not None:
        output["scheduled_time"] = task_time(record.scheduled_time)
    if record.end_time is not None:
        output["end_time"] = task_time(record.end_time)
    finished = record.status in (SUCCEEDED, FAILED)
    if record.job.kind == "filetrans" and record.status == SUCCEEDED:
        output["result"] = {"transcription_url": _result_url(service, record, record.outcomes[0])}
    if record.job.kind == "paraformer" and finished:
        output["results"] = [_subtask(service, record, outcome) for outcome in record.outcomes]
    succeeded = sum(1 for outcome in record.outcomes if outcome.status == SUCCEEDED)
    output["task_metrics"] = {
        "TOTAL": len(record.job.file_urls),
        "SUCCEEDED": succeeded,
        "FAILED": len(record.outcomes) - succeeded,
    }
    if record.status == FAILED:
        output["code"] = record.code
        output["message"] = record.message
    payload: dict[str, Any] = {"request_id": request_id, "output": output}
    if record.status == SUCCEEDED:
        payload["usage"] = {"duration" if record.job.kind == "paraformer" else "seconds": record.seconds}
    return ok(payload, request_id)


def _subtask(service: DashScopeParts, record: TaskRecord, outcome: FileOutcome) -> dict[str, Any]:
    if outcome.status == SUCCEEDED:
        return {
            "file_url": outcome.file_url,
            "transcription_url": _result_url(service, record, outcome),
            "subtask_status": SUCCEEDED,
        }
    return {
        "file_url": outcome.file_url,
        "code": outcome.code,
        "message": outcome.message,
        "subtask_status": FAILED,
    }


def _result_url(service: DashScopeParts, record: TaskRecord, outcome: FileOutcome) -> str:
    # Valid until 24 h after the task ended, whenever it is asked for; the same URL on every poll.
    assert outcome.result_key is not None and record.end_time is not None
    remaining = int(record.end_time) + RESULT_LIFETIME - int(time.time())
    url: str = service.cloud.oss().presign_get(RESULT_BUCKET, outcome.result_key, max(1, remaining))
    return url


class Transcriber:
    """Runs tasks on `cloud.tasks`: claim, fetch, probe, recognise each channel, store the result."""

    def __init__(self, service: DashScopeParts) -> None:
        self.service = service
        self._stopped = threading.Event()

    def start(self) -> None:
        """Create the result bucket and queue every task a previous run left unfinished."""
        self._stopped.clear()
        try:
            self.service.cloud.oss().store.create_bucket(RESULT_BUCKET)
        except LookupError:
            log.warning("dashscope.transcription.oss_not_running")
        for task_id in self.service.tasks.requeue_interrupted():
            self.schedule(task_id)

    def stop(self) -> None:
        # Wakes tasks still waiting out their start delay; they stay PENDING for the next start.
        self._stopped.set()

    def schedule(self, task_id: str) -> None:
        self.service.cloud.tasks.submit(f"dashscope-transcription:{task_id}", lambda: self.run(task_id))

    def run(self, task_id: str) -> None:
        if self._stopped.wait(self.service.config.task_start_delay):
            return  # localcloud is stopping: the task stays PENDING for the next start
        if not self.service.tasks.claim(task_id):
            return
        record = self.service.tasks.get(task_id)
        assert record is not None
        outcomes: list[FileOutcome] = []
        for index, file_url in enumerate(record.job.file_urls):
            if self._stopped.is_set():
                return  # left RUNNING: requeued and run again on the next start
            try:
                outcomes.append(self._transcribe(record, index, file_url))
            except WorkerStopped:
                return  # localcloud stopped under it: left RUNNING, run again on the next start
            except Exception as exc:
                log.exception("dashscope.transcription.crashed", task_id=task_id, file_index=index)
                failure = f"localcloud hit an internal error ({type(exc).__name__}); see its log"
                outcomes.append(FileOutcome(file_url, FAILED, code=INTERNAL_ERROR, message=failure))
        finished = self.service.tasks.finish(task_id, outcomes)
        log.info(
            "dashscope.transcription.finished", task_id=task_id, status=finished.status if finished else None
        )

    def _transcribe(self, record: TaskRecord, index: int, file_url: str) -> FileOutcome:
        job = record.job
        recognizer = self.service.recognizer
        try:
            language = job.language
            if job.kind == "paraformer":
                language = _language_from_hints(job.language_hints, recognizer.description.languages)
            recognizer.check_language(language)
            with self.service.fetcher.fetch(file_url, max_bytes=FILETRANS_AUDIO_LIMIT) as audio:
                info = inspect_audio(audio.path)
                check_channels(job.channel_ids, info)
                channels = self._recognize_channels(audio.path, language, job.channel_ids, job.enable_words)
            if job.kind == "paraformer":
                document = paraformer_result(file_url, info, channels)
                key = f"prod/{job.model}/{record.task_id}-{index}.json"
            else:
                document = qwen_result(file_url, info, channels, enable_words=job.enable_words)
                key = f"prod/{job.model}/{record.task_id}.json"
            self._store_result(key, document, record.task_id)
        except RecognitionFailure as failure:
            return FileOutcome(file_url, FAILED, code=failure.code, message=failure.message)
        seconds = billed_seconds(info.duration_ms) * len(job.channel_ids)
        return FileOutcome(file_url, SUCCEEDED, result_key=key, seconds=seconds)

    def _recognize_channels(
        self, path: Path, language: str | None, channel_ids: tuple[int, ...], enable_words: bool
    ) -> list[ChannelRecognition]:
        """Each requested track, recognised side by side on the recogniser's workers (a stereo call takes
        the time of its longer side, not of both)."""
        recognizer = self.service.recognizer

        def one(channel: int) -> ChannelRecognition:
            heard = recognizer.recognize(path, language=language, channel=channel, enable_words=enable_words)
            return ChannelRecognition(channel, heard)

        if len(channel_ids) == 1 or recognizer.workers == 1:
            return [one(channel) for channel in channel_ids]
        with ThreadPoolExecutor(min(len(channel_ids), recognizer.workers)) as pool:
            return list(pool.map(one, channel_ids))

    def _store_result(self, key: str, document: dict[str, Any], task_id: str) -> None:
        try:
            oss = self.service.cloud.oss()
        except LookupError:
            raise RecognitionFailure(
                INTERNAL_ERROR, "localcloud's OSS service is not running, so the result cannot be stored"
            ) from None
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        oss.store.create_bucket(RESULT_BUCKET)
        stored = oss.store.put_stream(RESULT_BUCKET, key, iter([data]), content_type="application/json")
        oss.store.notify_created(ObjectCreated("ObjectCreated:PutObject", stored, request_id=task_id))


def _language_from_hints(hints: tuple[str, ...], engine_languages: frozenset[str]) -> str | None:
    """The hint the engine can honour when there is one; None when it can honour several, so the engine
    detects which (Paraformer's hints name the languages that may be spoken); with none it can honour, the
    first hint (which then fails clearly).

    >>> _language_from_hints(("zh", "en"), frozenset({"en"}))
    'en'
    >>> print(_language_from_hints(("zh", "en"), frozenset({"en", "zh"})))
    None
    """
    honoured = [hint for hint in hints if hint in engine_languages]
    if len(honoured) > 1:
        return None
    return honoured[0] if honoured else (hints[0] if hints else None)

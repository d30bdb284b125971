"""localcloud's ICE (API 2020-11-09): `SubmitAudioProduceJob` (text to speech) and `GetSmartHandleJob`.

The text (plain or SSML, at most 2,000 characters) is spoken by localcloud's eSpeak NG engine
(`localcloud.engines.tts`) with EditingConfig's voice (`customizedVoice` wins over `voice`), volume,
speech_rate, pitch_rate and sample_rate (default 16000 Hz), and written as PCM (raw s16le mono), WAV or
MP3 to OutputConfig's bucket at `object` + the format's extension. Job states: Created → Executing →
Finished | Failed; GetSmartHandleJob then carries `JobResult.AiResult`, the sentence timings in seconds.

Choices where ICE's behaviour is not documented:
- An unknown voice name, a sample_rate eSpeak output cannot carry (above 48000 Hz) and a bucket that does
  not exist are refused up front (400 InvalidParameter naming the field / 404 ResourceNotFound); an
  `espeak:<name>` voice eSpeak lacks fails the job (InvalidParameter).
- `Overwrite` left out means false: an existing output object fails the job with FileAlreadyExists
  (nothing is replaced); `Overwrite=true` replaces it.
- `UserData.NotifyAddress` gets the callback described in `callback.py`.
Errors: 400 InvalidParameter / MissingParameter, 404 JobNotFound ("No such job."), 404
InvalidAction.NotFound. Unfinished jobs run again when localcloud starts, and an ended job's callback that
was never sent is sent then.

Example (the official SDK against a running LocalCloud):
    >>> client.submit_audio_produce_job(SubmitAudioProduceJobRequest(                  # doctest: +SKIP
    ...     editing_config='{"voice":"Andy","format":"MP3"}', input_config="Hello.",
    ...     output_config='{"bucket":"media","object":"tts/hello"}')).body.state
    'Created'
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from localcloud.engines.tts import SAMPLE_RATES, SpeechSynthesizer, resolve_voice, write
from localcloud.lifecycle import MediaTaskLifecycle, TaskFailure, coded_failure
from localcloud.ports import ObjectCreated, ObjectStorePort
from localcloud.services.base import RequestContext, ServiceHttpError
from localcloud.services.ice.callback import callback_event, deliver_callback
from localcloud.services.ice.errors import (
    FILE_ALREADY_EXISTS,
    JOB_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    SERVICE_UNAVAILABLE,
)
from localcloud.services.ice.jobs import IceJobRecord, IceJobStore
from localcloud.services.openapi import OpenApiRpcService, RpcAction, describe_problems, iso_seconds
from shared.errors import InvalidRequestError
from shared.logging import get_logger
from shared.ops.enums import IceJobState, IceOutputFormat
from shared.ops.ice import EditingConfig, GetSmartHandleJobRequest, SubmitAudioProduceJobRequest
from shared.ops.wire import compact_json

if TYPE_CHECKING:
    from localcloud.ports import Host

log = get_logger("localcloud.ice")

DEFAULT_SAMPLE_RATE = 16000
JOB_TYPE = "TextToSpeech"
_CONTENT_TYPES = {
    IceOutputFormat.MP3: "audio/mpeg",
    IceOutputFormat.WAV: "audio/wav",
    IceOutputFormat.PCM: "application/octet-stream",
}
_OPERATION = SubmitAudioProduceJobRequest.operation
_ENDED = (IceJobState.FINISHED, IceJobState.FAILED)


def _failure(error: Exception) -> TaskFailure | None:
    return coded_failure(
        error,
        coded=(ServiceHttpError,),
        invalid_code="InvalidParameter",
        describe=lambda invalid: describe_problems(invalid.problems),
    )


class IceService(OpenApiRpcService):
    name = "ice"
    product = "ice"
    api_version = "2020-11-09"
    invalid_parameter_code = "InvalidParameter"

    def __init__(self, cloud: Host) -> None:
        super().__init__(cloud)
        self.jobs = IceJobStore(cloud.state)
        self.lifecycle: MediaTaskLifecycle[IceJobRecord, str] = MediaTaskLifecycle(
            "ice",
            self.jobs,
            cloud.tasks,
            start_delay=self.config.task_start_delay,
            begin=self._begin,
            execute=self._execute,
            failure=_failure,
            finish=self._finish,
            pending_notification=lambda record: not record.notified and record.state in _ENDED,
            deliver=self._deliver_callback,
        )
        self.synthesizer = SpeechSynthesizer()

    def rpc_actions(self) -> Mapping[str, RpcAction]:
        return {
            "SubmitAudioProduceJob": self.submit_audio_produce_job,
            "GetSmartHandleJob": self.get_smart_handle_job,
        }

    def start(self) -> None:
        self.lifecycle.resume()

    # --- actions -------------------------------------------------------------------------------------

    def submit_audio_produce_job(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        request = SubmitAudioProduceJobRequest.from_query(params)
        _check_synthesizable(request.editing_config)
        bucket = request.output_config.bucket
        if not self._object_store().bucket_exists(bucket):
            raise RESOURCE_NOT_FOUND(
                f"OutputConfig.bucket: the bucket {bucket!r} does not exist in localcloud's OSS; "
                "create it first.",
            )
        now = time.time()
        record = IceJobRecord(
            job_id=uuid.uuid4().hex,
            media_id=uuid.uuid4().hex,
            state=IceJobState.CREATED,
            title=request.title or f"default_title_{iso_seconds(now)}",
            request=request.to_query(),
            request_id=ctx.request_id,
            created_at=now,
            modified_at=now,
        )
        self.jobs.insert(record)
        self.lifecycle.schedule(record.job_id)
        return {"JobId": record.job_id, "State": record.state.value, "MediaId": record.media_id}

    def get_smart_handle_job(self, params: Mapping[str, str], ctx: RequestContext) -> dict[str, Any]:
        job_id = GetSmartHandleJobRequest.from_query(params).job_id
        record = self.jobs.get(job_id)
        if record is None:
            raise JOB_NOT_FOUND(f"No such job: {job_id!r}.")
        request = SubmitAudioProduceJobRequest.from_query(record.request)
        info: dict[str, Any] = {
            "Title": record.title,
            "JobType": JOB_TYPE,
            "CreateTime": iso_seconds(record.created_at),
            "ModifiedTime": iso_seconds(record.modified_at),
            "UserId": self.config.account_id,
            "InputConfig": {"InputFile": request.input_config},
            "EditingConfig": echoed_editing_config(request.editing_config),
            "OutputConfig": {
                "Bucket": request.output_config.bucket,
                "Object": request.output_config.object_name,
            },
        }
        if request.description is not None:
            info["Description"] = request.description
        result: dict[str, Any] = {"MediaId": record.media_id}
        body: dict[str, Any] = {"JobId": record.job_id, "State": record.state.value}
        if request.user_data is not None:
            body["UserData"] = request.user_data
        if record.state is IceJobState.FINISHED:
            result["AiResult"] = record.ai_result or "[]"
            result["MediaUrl"] = body["Output"] = self.media_url(request)
        if record.state is IceJobState.FAILED:
            body["ErrorCode"] = record.error_code
            body["ErrorMessage"] = record.error_message
        body["SmartJobInfo"] = info
        body["JobResult"] = result
        return body

    # --- the work ------------------------------------------------------------------------------------

    def _begin(self, job_id: str) -> IceJobRecord | None:
        if not self.jobs.mark_executing(job_id):
            return None
        return self.jobs.get(job_id)

    def _execute(self, record: IceJobRecord) -> str:
        return self._produce(record, SubmitAudioProduceJobRequest.from_query(record.request))

    def _finish(self, job_id: str, ai_result: str | None, failure: TaskFailure | None) -> bool:
        if failure is None and ai_result is not None:
            return self.jobs.finish(job_id, ai_result=ai_result)
        failure = failure or TaskFailure("InternalError", "the job produced no result")
        return self.jobs.fail(job_id, failure.code, failure.message)

    def _deliver_callback(self, final: IceJobRecord) -> None:
        """Send an ended job's callback (the lifecycle sends it once, again after a restart if need be)."""
        log.info("ice.job.ended", job_id=final.job_id, state=final.state.value, code=final.error_code)
        request = SubmitAudioProduceJobRequest.from_query(final.request)
        if request.notify_address is not None:
            event = callback_event(
                final, account_id=self.config.account_id, media_url=self.media_url(request)
            )
            deliver_callback(request.notify_address, event, cloud=self.cloud)

    def media_url(self, request: SubmitAudioProduceJobRequest) -> str:
        """Where the speech can be fetched: a path-style URL on localcloud's own endpoint (signed GETs only).

        Built when asked, not stored: the endpoint's port may change between runs.
        """
        return f"{self.cloud.endpoint}/{request.output_config.bucket}/{quote(request.output_key)}"

    def _produce(self, record: IceJobRecord, request: SubmitAudioProduceJobRequest) -> str:
        """Synthesise and store the audio; returns the AiResult JSON text."""
        store = self._object_store()
        bucket, key = request.output_config.bucket, request.output_key
        overwrite = bool(request.overwrite)
        if not overwrite and store.exists(bucket, key):
            raise _already_exists(bucket, key)
        editing = request.editing_config
        speech = self.synthesizer.synthesize(
            request.input_config,
            voice=editing.effective_voice,
            volume=editing.volume,
            speech_rate=editing.speech_rate,
            pitch_rate=editing.pitch_rate,
            sample_rate=editing.sample_rate or DEFAULT_SAMPLE_RATE,
        )
        output_format = editing.output_format
        scratch = self.state.new_temp_path(suffix="." + output_format.extension)
        try:
            write(speech, scratch, output_format.value)
            try:
                written = store.put_file(
                    bucket,
                    key,
                    scratch,
                    content_type=_CONTENT_TYPES[output_format],
                    forbid_overwrite=not overwrite,
                )
            except ServiceHttpError as error:
                if error.code == "FileAlreadyExists":  # created meanwhile by someone else
                    raise _already_exists(bucket, key) from None
                raise
        finally:
            scratch.unlink(missing_ok=True)
        store.notify_created(ObjectCreated("ObjectCreated:PutObject", written, record.request_id))
        sentences = [{"content": s.content, "from": s.from_s, "to": s.to_s} for s in speech.sentences]
        return compact_json(sentences)

    def _object_store(self) -> ObjectStorePort:
        try:
            store = self.cloud.oss().store
        except LookupError:
            raise SERVICE_UNAVAILABLE(
                "localcloud's OSS is not running; ICE writes its audio there."
            ) from None
        return store


def echoed_editing_config(editing: EditingConfig) -> str:
    """EditingConfig as GetSmartHandleJob echoes it: compact JSON, sorted keys, defaults filled in."""
    echoed: dict[str, Any] = {
        "format": editing.format,
        "pitch_rate": editing.pitch_rate,
        "sample_rate": editing.sample_rate or DEFAULT_SAMPLE_RATE,
        "speech_rate": editing.speech_rate,
        "volume": editing.volume,
    }
    if editing.voice is not None:
        echoed["voice"] = editing.voice
    if editing.customized_voice is not None:
        echoed["customizedVoice"] = editing.customized_voice
    return compact_json(echoed, sort_keys=True)


def _check_synthesizable(editing: EditingConfig) -> None:
    """Refuse up front what the speech engine can never do, naming the EditingConfig field."""
    field = "EditingConfig.customizedVoice" if editing.customized_voice else "EditingConfig.voice"
    try:
        resolve_voice(editing.effective_voice)
    except InvalidRequestError as error:
        raise InvalidRequestError.single(
            field, "unknown_voice", error.problems[0].message, _OPERATION
        ) from None
    rate = editing.sample_rate or DEFAULT_SAMPLE_RATE
    if rate not in SAMPLE_RATES:
        rates = ", ".join(str(r) for r in sorted(SAMPLE_RATES))
        raise InvalidRequestError.single(
            "EditingConfig.sample_rate",
            "unsupported_sample_rate",
            f"localcloud's speech engine writes {rates} Hz, not {rate}",
            _OPERATION,
        )


def _already_exists(bucket: str, key: str) -> ServiceHttpError:
    return FILE_ALREADY_EXISTS(
        f"OutputConfig: oss://{bucket}/{key} already exists and Overwrite is not true; "
        "set Overwrite=true to replace it or choose another object name.",
    )

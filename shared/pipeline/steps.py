"""Carrying out steps: run a claimed attempt, and complete a submitted one from a poll or a notification.

Each function records its outcome in the job store (submitted, succeeded or failed); errors the shared
layer raises on purpose become a failed attempt — an InvalidRequestError never retries, a ServiceError
retries when it says it may. Anything else (a bug) propagates: the claim lapses and the sweep retries.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from shared.clients.errors import MalformedResponseError, ObjectNotFound
from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.jobs.model import TASK_TIMED_OUT, Claim, JobRecord, JobType, StepName, StepView
from shared.jobs.store import HeldClaim, JobSnapshot, JobStore, Transition
from shared.logging import get_logger
from shared.ops.enums import DashScopeTaskStatus, IceJobState, ImmTaskStatus
from shared.pipeline.inputs import TranscribeJobInput, input_of
from shared.pipeline.keys import (
    oss_uri,
    output_keys,
    step_outputs,
    step_targets,
    transcription_key,
    transcription_source,
)
from shared.pipeline.plans import (
    CompatiblePlan,
    OssConcatPlan,
    SyncPlan,
    plan_convert,
    plan_merge,
    plan_normalize,
    plan_speech,
    plan_transcription,
)
from shared.pipeline.ports import Clients, DashScopePort, IcePort, ImmPort
from shared.pipeline.results import (
    source_of,
    transcript_from_compatible,
    transcript_from_filetrans,
    transcript_from_sync,
)
from shared.pipeline.retry import task_failure_retryable
from shared.pipeline.settings import PipelineSettings

if TYPE_CHECKING:
    from shared.ops.asr import TaskStatusResponse

log = get_logger(__name__)
ClientT = TypeVar("ClientT")

SERVICE_OSS = "oss"
SERVICE_IMM = "imm"
SERVICE_ICE = "ice"
SERVICE_DASHSCOPE = "dashscope"


class StepRunner:
    """Runs a claimed attempt of a job's step and records its outcome (a plain class, not a dataclass:
    every function imports it, and a dataclass costs ~0.5 ms to define at cold start)."""

    def __init__(self, settings: PipelineSettings, store: JobStore, clients: Clients) -> None:
        self.settings = settings
        self.store = store
        self.clients = clients

    # Running a claimed attempt -----------------------------------------------------------------------

    def run(self, claim: Claim) -> JobSnapshot:
        """Do (or hand to a service) the claimed attempt's work, and record what happened; the job as
        that record left it (the caller goes on from it without reading the job again)."""
        held = claim.snapshot if isinstance(claim, HeldClaim) else None
        try:
            if claim.attempt > 1 and self._targets_exist(claim.record, claim.step_index):
                # An earlier attempt's task finished after all (its notification was lost): reuse it.
                return self._succeed(
                    claim.record,
                    claim.step_index,
                    claim.attempt,
                    {"detected_by": "existing_target"},
                    held=held,
                ).snapshot
            return self._dispatch(claim, held).snapshot
        except (InvalidRequestError, ServiceError) as error:
            return self.fail(claim.record, claim.step_index, claim.attempt, error, held=held).snapshot
        except Exception as error:
            # A fault of ours (a bug, an unexpected answer) must not hold the claim for a whole lease: the
            # attempt is recorded as failed, retryably, so a redelivery or the sweep tries the next one at
            # once (bounded by max attempts), and the error still reaches the handler to be reported.
            self.store.record_failed(
                claim.record.id,
                claim.step_index,
                claim.attempt,
                code="InternalError",
                message=f"{type(error).__name__}: {error}",
                retryable=True,
                snapshot=held,
            )
            raise

    def _dispatch(self, claim: Claim, held: JobSnapshot | None) -> Transition:
        record, step = claim.record, claim.step
        bucket = self.settings.bucket
        oss = self.clients.oss
        if step is StepName.CONVERT:
            plan = plan_normalize(record, self.settings) if record.type is JobType.TRANSCRIBE_UPLOAD else None
            plan = plan or plan_convert(record, self.settings)
            answer = oss.submit_convert(bucket, plan.source_key, plan.request)
            return self._submitted(claim, SERVICE_OSS, answer.task_id, plan.target_key, held)
        elif step is StepName.MERGE:
            merge = plan_merge(record, self.settings)
            if isinstance(merge, OssConcatPlan):
                answer = oss.submit_concat(bucket, merge.request)
                return self._submitted(claim, SERVICE_OSS, answer.task_id, merge.target_key, held)
            else:
                created = self._imm().create_media_convert_task(merge.request)
                return self._submitted(claim, SERVICE_IMM, created.task_id, merge.target_key, held)
        elif step is StepName.SYNTHESIZE:
            speech = plan_speech(record, self.settings)
            produced = self._ice().submit_audio_produce_job(speech.request)
            return self._submitted(claim, SERVICE_ICE, produced.job_id, speech.target_key, held)
        elif step is StepName.TRANSCRIBE:
            return self._transcribe(claim, held)
        return self._publish_transcripts(claim, held)

    def _transcribe(self, claim: Claim, held: JobSnapshot | None) -> Transition:
        record, bucket = claim.record, self.settings.bucket
        key = transcription_source(record, self.settings)
        info = self.clients.oss.head_object(bucket, key)
        url = self.clients.oss.presign_get(bucket, key, self.settings.presign_expiry_seconds)
        plan = plan_transcription(record, info.size, url, self.settings)
        dashscope = self._dashscope()
        if isinstance(plan, CompatiblePlan):
            from shared.ops.asr import assemble_stream  # recognition only: not at every cold start

            completion = assemble_stream(dashscope.chat_completion_stream(plan.request))
            seconds = completion.usage.seconds if completion.usage is not None else None
            document = {
                "mode": "compatible",
                "seconds": seconds,
                "result": completion.model_dump(mode="json"),
            }
            self._store_transcription(record, document)
            summary = {"mode": "compatible", "seconds": seconds, "request_id": completion.id}
            return self._succeed(record, claim.step_index, claim.attempt, summary, held=held)
        if isinstance(plan, SyncPlan):
            response = dashscope.multimodal_generation(plan.request)
            seconds = response.usage.seconds if response.usage is not None else None
            document = {"mode": "sync", "seconds": seconds, "result": response.model_dump(mode="json")}
            self._store_transcription(record, document)
            summary = {"mode": "sync", "seconds": seconds, "request_id": response.request_id}
            return self._succeed(record, claim.step_index, claim.attempt, summary, held=held)
        submitted = dashscope.submit_filetrans(plan.request)
        return self.store.record_submitted(
            record.id,
            claim.step_index,
            claim.attempt,
            service=SERVICE_DASHSCOPE,
            task_id=submitted.task_id,
            snapshot=held,
        )

    def _publish_transcripts(self, claim: Claim, held: JobSnapshot | None) -> Transition:
        # The recogniser's models and the renderers are imported by the step that needs them, so a
        # function's cold start does not load them (issue 11).
        from shared.ops.asr import ChatCompletion, MultimodalGenerationResponse, TranscriptionResult
        from shared.transcripts import (
            SubtitleStyle,
            channel_transcript,
            render_json,
            render_srt,
            render_txt,
            render_vtt,
        )

        record, bucket = claim.record, self.settings.bucket
        raw = self.clients.oss.get_object_bytes(bucket, transcription_key(self.settings, record.id))
        try:
            document = json.loads(raw)
            mode = document["mode"]
            language = _requested_language(record, self.settings)
            source = source_of(record, bucket)
            if mode == "sync":
                response = MultimodalGenerationResponse.parse(document["result"])
                transcript = transcript_from_sync(response, source=source, language=language)
            elif mode == "compatible":
                completion = ChatCompletion.parse(document["result"])
                transcript = transcript_from_compatible(completion, source=source, language=language)
            else:
                seconds = document.get("seconds")
                transcript = transcript_from_filetrans(
                    TranscriptionResult.parse(document["result"]),
                    source=source,
                    language=language,
                    duration_ms=seconds * 1000 if isinstance(seconds, int) else None,
                    task_id=document.get("task_id"),
                )
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise MalformedResponseError(
                f"the stored transcription of job {record.id} cannot be read ({type(exc).__name__})",
                service=SERVICE_DASHSCOPE,
            ) from exc
        keys = output_keys(record, self.settings)
        style = SubtitleStyle(
            line_chars=self.settings.subtitle_line_chars, lines=self.settings.subtitle_lines
        )
        renderings = [
            (keys.json, render_json(transcript)),
            (keys.srt, render_srt(transcript, style)),
            (keys.vtt, render_vtt(transcript, style)),
            (keys.txt, render_txt(transcript)),
        ]
        if len(keys.channels) > 1:  # each channel on its own too, unlabelled
            for channel_id in keys.channels:
                alone = channel_transcript(transcript, channel_id)
                renderings += [
                    (keys.per_channel(channel_id, "srt"), render_srt(alone, style)),
                    (keys.per_channel(channel_id, "vtt"), render_vtt(alone, style)),
                    (keys.per_channel(channel_id, "txt"), render_txt(alone)),
                ]
        for key, text in renderings:
            self.clients.oss.put_object(bucket, key, text.encode("utf-8"))
        summary = {
            "language": transcript.language,
            "duration_ms": transcript.duration_ms,
            "sentences": sum(len(channel.sentences) for channel in transcript.channels),
            "excerpt": transcript.excerpt(),
        }
        return self._succeed(record, claim.step_index, claim.attempt, summary, held=held)

    # Completing a submitted attempt ------------------------------------------------------------------

    def poll(self, snapshot: JobSnapshot, step: StepView, now: datetime) -> JobSnapshot | None:
        """Ask the service about a submitted attempt; when an outcome was recorded (on `snapshot`, the job
        as the sweep just read it), the job as that record left it, else None."""
        record = snapshot.record
        try:
            done = self._poll_service(record, step, snapshot)
        except (InvalidRequestError, ServiceError) as error:
            if not (isinstance(error, ServiceError) and error.retryable):
                return self.fail(record, step.index, step.attempt, error, held=snapshot).snapshot
            # Tried again next sweep, but still under the task timeout below: a status that can never
            # be read must not keep the job running (and polled) for ever.
            log.warning("step.poll.failed_retry_next_sweep", job_id=record.id, code=error.code)
            done = None
        if done is not None:
            return done.snapshot
        started = step.submitted_at or step.started_at
        if started is not None and now - started > self.settings.task_timeout:
            return self.store.record_failed(
                record.id,
                step.index,
                step.attempt,
                code=TASK_TIMED_OUT,
                message=f"the {step.service} task {step.task_id} did not finish within "
                f"{self.settings.task_timeout_seconds} s",
                retryable=True,
                now=now,
                snapshot=snapshot,
            ).snapshot
        return None

    def _poll_service(self, record: JobRecord, step: StepView, held: JobSnapshot) -> Transition | None:
        """The outcome the service reports, recorded on `held`; None while the task runs (or an IMM/ICE
        task in a state that is neither)."""
        task_id = step.task_id or ""
        if step.service == SERVICE_OSS:
            if not self._targets_exist(record, step.index):
                return None
            return self._succeed(
                record, step.index, step.attempt, {"detected_by": "sweep"}, task_id, held=held
            )
        if step.service == SERVICE_DASHSCOPE:
            status = self._dashscope().get_task(task_id)
            return self.complete_transcription(record, step.index, step.attempt, status, held=held)
        if step.service == SERVICE_IMM:
            if self.settings.imm_project is None or self.clients.imm is None:
                return None
            task = self.clients.imm.get_task(self.settings.imm_project, task_id)
            if task.status is ImmTaskStatus.SUCCEEDED:
                summary = {"status": task.status.value}
                return self._succeed(record, step.index, step.attempt, summary, task_id, held=held)
            if task.status.is_final:
                return self.task_failed(record, step.index, step.attempt, task.code, task.message, held=held)
            return None
        if step.service == SERVICE_ICE:
            job = self._ice().get_smart_handle_job(task_id)
            if job.state is IceJobState.FINISHED:
                summary = {"status": job.state.value}
                return self._succeed(record, step.index, step.attempt, summary, task_id, held=held)
            if job.state is IceJobState.FAILED:
                return self.task_failed(
                    record, step.index, step.attempt, job.error_code, job.error_message, held=held
                )
            return None
        log.warning("step.unknown_service", job_id=record.id, service=step.service)
        return None

    def complete_transcription(
        self,
        record: JobRecord,
        step_index: int,
        attempt: int,
        status: TaskStatusResponse,
        *,
        held: JobSnapshot | None = None,
    ) -> Transition | None:
        """Record a filetrans task's end (downloading its result); None while it still runs."""
        task_id = status.output.task_id
        if status.status is DashScopeTaskStatus.SUCCEEDED:
            url = status.transcription_url
            if url is None:
                raise MalformedResponseError(
                    f"task {task_id} SUCCEEDED without a transcription_url", service=SERVICE_DASHSCOPE
                )
            result = self._dashscope().download_transcription(url)
            seconds = status.usage.seconds if status.usage is not None else None
            document = {
                "mode": "filetrans",
                "task_id": task_id,
                "seconds": seconds,
                "result": result.model_dump(mode="json"),
            }
            self._store_transcription(record, document)
            summary = {"mode": "filetrans", "task_id": task_id, "seconds": seconds}
            return self._succeed(record, step_index, attempt, summary, task_id, held=held)
        failure = status.failure
        if failure is None:
            return None
        # UNKNOWN: the service lost the task (or it expired); a new submission can succeed.
        lost = status.status is DashScopeTaskStatus.UNKNOWN
        return self.store.record_failed(
            record.id,
            step_index,
            attempt,
            code=failure.code,
            message=failure.message,
            retryable=lost or task_failure_retryable(failure.code),
            snapshot=held,
        )

    def task_failed(
        self,
        record: JobRecord,
        step_index: int,
        attempt: int | None,
        code: str | None,
        message: str | None,
        *,
        held: JobSnapshot | None = None,
    ) -> Transition:
        """A service reported its task failed; retry only when the code says a retry can help. `held`:
        the job as the caller just read it (not read again)."""
        error_code = code or "TaskFailed"
        return self.store.record_failed(
            record.id,
            step_index,
            attempt,
            code=error_code,
            message=message or f"the task failed ({error_code})",
            retryable=task_failure_retryable(error_code),
            snapshot=held,
        )

    def succeed(
        self,
        record: JobRecord,
        step_index: int,
        attempt: int | None,
        task_id: str | None,
        *,
        held: JobSnapshot | None = None,
    ) -> Transition:
        """A service reported its task done (a notification): the step's outputs exist. `held` as for
        `task_failed`."""
        return self._succeed(record, step_index, attempt, {"detected_by": "notification"}, task_id, held=held)

    def fail(
        self,
        record: JobRecord,
        step_index: int,
        attempt: int | None,
        error: Exception,
        *,
        held: JobSnapshot | None = None,
    ) -> Transition:
        if isinstance(error, ServiceError):
            code, message, retryable = error.code, str(error), error.retryable
        else:
            code, message, retryable = getattr(error, "code", "InvalidParameter"), str(error), False
        log.warning(
            "job.step.failed", job_id=record.id, step_index=step_index, code=code, retryable=retryable
        )
        return self.store.record_failed(
            record.id, step_index, attempt, code=code, message=message, retryable=retryable, snapshot=held
        )

    # Helpers -----------------------------------------------------------------------------------------

    def _submitted(
        self, claim: Claim, service: str, task_id: str, target_key: str, held: JobSnapshot | None
    ) -> Transition:
        return self.store.record_submitted(
            claim.job_id,
            claim.step_index,
            claim.attempt,
            service=service,
            task_id=task_id,
            targets=(oss_uri(self.settings.bucket, target_key),),
            snapshot=held,
        )

    def _succeed(
        self,
        record: JobRecord,
        step_index: int,
        attempt: int | None,
        result: dict[str, Any],
        task_id: str | None = None,
        *,
        held: JobSnapshot | None = None,
    ) -> Transition:
        outputs = step_outputs(record, step_index, self.settings)
        return self.store.record_succeeded(
            record.id, step_index, attempt, outputs=outputs, result=result, task_id=task_id, snapshot=held
        )

    def _targets_exist(self, record: JobRecord, step_index: int) -> bool:
        targets = step_targets(record, step_index, self.settings)
        if not targets:
            return False
        for key in targets:
            try:
                self.clients.oss.head_object(self.settings.bucket, key)
            except ObjectNotFound:
                return False
        return True

    def _store_transcription(self, record: JobRecord, document: dict[str, Any]) -> None:
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        self.clients.oss.put_object(self.settings.bucket, transcription_key(self.settings, record.id), body)

    def _dashscope(self) -> DashScopePort:
        return _required(self.clients.dashscope, "dashscope")

    def _imm(self) -> ImmPort:
        return _required(self.clients.imm, "imm")

    def _ice(self) -> IcePort:
        return _required(self.clients.ice, "ice")


def _required(client: ClientT | None, name: str) -> ClientT:
    if client is None:
        raise ConfigurationError(f"this function has no {name} client, and the job needs one")
    return client


def _requested_language(record: JobRecord, settings: PipelineSettings) -> str | None:
    if record.type is JobType.TRANSCRIBE:
        language = input_of(record.input, TranscribeJobInput).language
    else:
        language = settings.asr_language
    return language.value if language is not None else None

"""The HTTP API's routes: one table (`OPERATIONS`) that both the router and the OpenAPI document read.

    POST /v1/jobs/convert | merge | speech | transcribe    submit a job (202, or 200 for a replayed key)
    GET  /v1/jobs                                         list jobs, newest first (type, state, cursor)
    GET  /v1/jobs/{job_id}                                one job
    GET  /v1/jobs/{job_id}/results                        its outputs with presigned download URLs
    POST /v1/jobs/{job_id}/retry | cancel                 job control (see `shared.api.control`)
    GET  /v1/jobs/{job_id}/events                         its timeline, every attempt of every step
    GET  /v1/health                                       no token needed
    GET  /openapi.json                                    no token needed (`servers`: the FC prefix)

Beside them, without a token, the browser pages of `shared.api.pages`: `/dashboard/` and `/docs/`.

Idempotency: a submission with an `Idempotency-Key` header is done once. The same key with the same body
answers the existing job (200, `Idempotency-Replayed: true`); with another body, 409
`IdempotencyConflict`. Keys are kept with the jobs, without expiry.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from shared.api import control
from shared.api.errors import IDEMPOTENCY_HEADER, ApiErrorCode, api_error
from shared.api.models import HealthStatus, JobList, JobListQuery, JobResults, OutputLink
from shared.api.operation import ApiCall, Handler, HeaderParameter, Operation, ResponseSpec
from shared.clients.errors import ObjectNotFound
from shared.errors import ConfigurationError, InvalidRequestError
from shared.jobs.control import jobs_of_source
from shared.jobs.errors import JobNotFound
from shared.jobs.ids import is_job_id
from shared.jobs.model import JobState, JobType, JobView
from shared.logging import get_logger
from shared.pipeline.inputs import ConvertJobInput, MergeJobInput, SpeechJobInput, TranscribeJobInput
from shared.pipeline.orchestrator import Orchestrator
from shared.runtime.responses import HttpResponse, json_response
from shared.runtime.wsgi import HttpRequest, QueryParams
from shared.transcripts.model import Transcript

__all__ = [
    "INLINE_TRANSCRIPT_BYTES",
    "OPERATIONS",
    "ApiCall",
    "HeaderParameter",
    "Operation",
    "ResponseSpec",
    "openapi_document",
]

MAX_IDEMPOTENCY_KEY_CHARS = 255
# A transcript up to this size is answered inline by the results route; larger ones are linked only.
INLINE_TRANSCRIPT_BYTES = 1024 * 1024
REPLAYED_HEADER = "Idempotency-Replayed"

log = get_logger(__name__)


# Routes ------------------------------------------------------------------------------------------------


def _health(call: ApiCall) -> HttpResponse:
    # No cloud call, but a configuration that cannot work shows here too (its problems go to the log).
    try:
        call.provider.settings(call.request.fc_context)
        call.provider.dashscope_api_key()
    except ConfigurationError:
        raise api_error(
            ApiErrorCode.SERVICE_UNAVAILABLE,
            "the API is misconfigured; the function's log names the problems",
        ) from None
    return json_response(HealthStatus())


def _openapi(call: ApiCall) -> HttpResponse:
    from shared.api.openapi import with_servers  # only this route describes the API (cold start, issue 11)

    return json_response(with_servers(openapi_document(), call.base_path))


def _submit(job_type: JobType) -> Handler:
    def submit(call: ApiCall) -> HttpResponse:
        body = call.request.json()
        key = _idempotency_key(call.request)
        orchestrator = call.orchestrator()
        view, created = orchestrator.submit_api_job_reporting(job_type, body, idempotency_key=key)
        replayed = not created
        location = f"{call.base_path}/v1/jobs/{view.id}"
        if replayed:
            return json_response(view, 200, [("Location", location), (REPLAYED_HEADER, "true")])
        return json_response(view, 202, [("Location", location)])

    submit.__name__ = f"submit_{job_type.value}"
    return submit


def _list_jobs(call: ApiCall) -> HttpResponse:
    query = JobListQuery.validate_wire(_single_values(call.request.query))
    if query.source is not None:
        return json_response(_jobs_of_source(call.orchestrator(), query))
    page = call.orchestrator().store.list(
        job_type=query.type, state=query.state, limit=query.limit, cursor=query.cursor
    )
    return json_response(JobList(jobs=page.jobs, next_cursor=page.next_cursor))


def _jobs_of_source(orchestrator: Orchestrator, query: JobListQuery) -> JobList:
    """One page of the jobs of `query.source` (usually one per version of an upload), newest first."""
    assert query.source is not None
    jobs: list[JobView] = []
    started = query.cursor is None
    for job_id in jobs_of_source(orchestrator.store, query.source):
        if not started:
            started = job_id == query.cursor
            continue
        try:
            view = orchestrator.store.read(job_id)
        except JobNotFound:
            continue  # indexed by a creator that stopped before job.json; its retry writes it
        if (query.type and view.type is not query.type) or (query.state and view.state is not query.state):
            continue
        jobs.append(view)
        if len(jobs) == query.limit:
            return JobList(jobs=jobs, next_cursor=view.id)
    return JobList(jobs=jobs, next_cursor=None)


def _get_job(call: ApiCall) -> HttpResponse:
    orchestrator = call.orchestrator()
    view = _job(orchestrator, call.request.path_params["job_id"])
    # Only a job with a callback_url has attempts: the others cost no listing (issue 11).
    callback = view.input.get("callback_url")
    attempts = tuple(orchestrator.webhooks.log.attempts(view.id)) if callback else ()
    return json_response(view.model_copy(update={"webhook_attempts": attempts}))


def _get_results(call: ApiCall) -> HttpResponse:
    orchestrator = call.orchestrator()
    view = _job(orchestrator, call.request.path_params["job_id"])
    settings = orchestrator.settings
    deliverables = {name: key for name, key in view.outputs.items() if key.startswith(settings.output_prefix)}
    seconds = settings.presign_expiry_seconds
    expires_at = orchestrator.clock().replace(microsecond=0) + timedelta(seconds=seconds)
    urls = orchestrator.output_urls(view.model_copy(update={"outputs": deliverables}), seconds)
    outputs = {
        name: OutputLink(key=key, url=urls[name], expires_at=expires_at) for name, key in deliverables.items()
    }
    ready = view.state is JobState.SUCCEEDED
    transcript = _inline_transcript(orchestrator, deliverables.get("json")) if ready else None
    audio_key = recognised_audio(view) if ready else None
    source_audio = None
    if audio_key is not None:
        url = orchestrator.clients.oss.presign_get(settings.bucket, audio_key, seconds)
        source_audio = OutputLink(key=audio_key, url=url, expires_at=expires_at)
    results = JobResults(
        job_id=view.id,
        type=view.type,
        state=view.state,
        ready=ready,
        outputs=outputs,
        transcript=transcript,
        source_audio=source_audio,
        error=view.error,
    )
    return json_response(results)


# Helpers -----------------------------------------------------------------------------------------------


def recognised_audio(view: JobView) -> str | None:
    """The key of the audio a transcription job's times refer to: the normalised upload (FLAC, which
    browsers play whatever was uploaded) or an API job's source; None for other jobs."""
    if view.type is JobType.TRANSCRIBE_UPLOAD:
        return view.outputs.get("normalized")
    if view.type is JobType.TRANSCRIBE:
        source = view.input.get("source")
        return source if isinstance(source, str) and source else None
    return None


def _job(orchestrator: Orchestrator, job_id: str) -> JobView:
    if not is_job_id(job_id):
        raise JobNotFound(job_id)  # a malformed id names no job: the same answer as an unknown one
    return orchestrator.store.read(job_id)  # a finished job costs one GET (issue 11)


def _idempotency_key(request: HttpRequest) -> str | None:
    values = request.headers.get_list(IDEMPOTENCY_HEADER)
    if not values:
        return None
    key = values[0].strip()
    problem = None
    if len(values) > 1:
        problem = ("single", "must be sent once")
    elif not key:
        problem = ("required", "must not be empty")
    elif len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not (key.isascii() and key.isprintable()):
        problem = ("format", f"must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters")
    if problem is not None:
        raise InvalidRequestError.single(IDEMPOTENCY_HEADER, problem[0], problem[1], "job submission")
    return key


def _single_values(query: QueryParams) -> dict[str, str]:
    repeated = [name for name in query if len(query.get_all(name)) > 1]
    if repeated:
        raise InvalidRequestError.single(repeated[0], "single", "must be given once", "job listing")
    return dict(query)


def _inline_transcript(orchestrator: Orchestrator, key: str | None) -> Transcript | None:
    if key is None:
        return None
    bucket = orchestrator.settings.bucket
    oss = orchestrator.clients.oss
    try:
        if oss.head_object(bucket, key).size > INLINE_TRANSCRIPT_BYTES:
            return None
        return Transcript.model_validate_json(oss.get_object_bytes(bucket, key))
    except ObjectNotFound:
        log.warning("api.transcript.missing", key=key)
        return None
    except ValueError:  # pydantic's ValidationError too: a transcript we cannot read is linked only
        log.warning("api.transcript.unreadable_linked_only", key=key)
        return None


# The table ---------------------------------------------------------------------------------------------

_PROTECTED = (
    ApiErrorCode.UNAUTHENTICATED,
    ApiErrorCode.INVALID_TOKEN,
    ApiErrorCode.API_TOKEN_NOT_CONFIGURED,
    ApiErrorCode.INTERNAL_ERROR,
)
_CLOUD = (ApiErrorCode.UPSTREAM_ERROR, ApiErrorCode.SERVICE_UNAVAILABLE)
_SUBMIT_ERRORS = (
    ApiErrorCode.INVALID_PARAMETER,
    ApiErrorCode.INVALID_JSON,
    ApiErrorCode.IDEMPOTENCY_CONFLICT,
    ApiErrorCode.PAYLOAD_TOO_LARGE,
    *_PROTECTED,
    *_CLOUD,
)
_CONTROL_ERRORS = (ApiErrorCode.JOB_NOT_FOUND, ApiErrorCode.JOB_STATE_CONFLICT, *_PROTECTED, *_CLOUD)
_IDEMPOTENCY = HeaderParameter(
    IDEMPOTENCY_HEADER,
    "Makes the submission safe to retry: the same key with the same body answers the job it created "
    "(200); with another body, 409 IdempotencyConflict.",
    MAX_IDEMPOTENCY_KEY_CHARS,
)
_CREATED_HEADERS = {"Location": "The job's URL (`/v1/jobs/{job_id}`)."}
_REPLAYED_HEADERS = {
    "Location": "The job's URL.",
    REPLAYED_HEADER: "`true`: this key was seen before; the answer is the job it created.",
}
_SUBMISSIONS = (
    (JobType.CONVERT, ConvertJobInput, "Transcode one object (OSS audio/convert)."),
    (JobType.MERGE, MergeJobInput, "Concatenate clips, then transcode the result."),
    (JobType.SPEECH, SpeechJobInput, "Synthesise speech from text or SSML (ICE)."),
    (JobType.TRANSCRIBE, TranscribeJobInput, "Transcribe an object to JSON, SRT, VTT and TXT (Qwen-ASR)."),
)

OPERATIONS: tuple[Operation, ...] = (
    *(
        Operation(
            method="POST",
            path=f"/v1/jobs/{job_type.value}",
            operation_id=f"submit{job_type.value.capitalize()}Job",
            summary=summary,
            handler=_submit(job_type),
            body=model,
            headers=(_IDEMPOTENCY,),
            responses=(
                ResponseSpec(202, "The job was created and started.", JobView, _CREATED_HEADERS),
                ResponseSpec(
                    200, "A replayed Idempotency-Key: the job it created.", JobView, _REPLAYED_HEADERS
                ),
            ),
            errors=_SUBMIT_ERRORS,
        )
        for job_type, model, summary in _SUBMISSIONS
    ),
    Operation(
        method="GET",
        path="/v1/jobs",
        operation_id="listJobs",
        summary="List jobs, newest first, a page at a time.",
        handler=_list_jobs,
        query=JobListQuery,
        responses=(ResponseSpec(200, "A page of jobs.", JobList),),
        errors=(ApiErrorCode.INVALID_PARAMETER, *_PROTECTED, *_CLOUD),
    ),
    Operation(
        method="GET",
        path="/v1/jobs/{job_id}",
        operation_id="getJob",
        summary="One job: its state, steps, outputs and error.",
        handler=_get_job,
        responses=(ResponseSpec(200, "The job.", JobView),),
        errors=(ApiErrorCode.JOB_NOT_FOUND, *_PROTECTED, *_CLOUD),
    ),
    Operation(
        method="GET",
        path="/v1/jobs/{job_id}/results",
        operation_id="getJobResults",
        summary="A job's outputs with presigned download URLs (and a transcript inline).",
        handler=_get_results,
        responses=(ResponseSpec(200, "The job's results so far (`ready` once it succeeded).", JobResults),),
        errors=(ApiErrorCode.JOB_NOT_FOUND, *_PROTECTED, *_CLOUD),
    ),
    Operation(
        method="POST",
        path="/v1/jobs/{job_id}/retry",
        operation_id="retryJob",
        summary="Run a failed job again from its failed step (a fresh attempt budget; history kept).",
        handler=control.retry,
        responses=(ResponseSpec(202, "The job, running again.", JobView),),
        errors=_CONTROL_ERRORS,
    ),
    Operation(
        method="POST",
        path="/v1/jobs/{job_id}/cancel",
        operation_id="cancelJob",
        summary="Stop an unfinished job at its current step; its later steps show `skipped`.",
        handler=control.cancel,
        responses=(ResponseSpec(200, "The job, failed with JobCancelled.", JobView),),
        errors=_CONTROL_ERRORS,
    ),
    Operation(
        method="GET",
        path="/v1/jobs/{job_id}/events",
        operation_id="getJobEvents",
        summary="A job's timeline: every attempt of every step, with errors.",
        handler=control.events,
        responses=(ResponseSpec(200, "The job's events, oldest first.", control.JobEvents),),
        errors=(ApiErrorCode.JOB_NOT_FOUND, *_PROTECTED, *_CLOUD),
    ),
    Operation(
        method="GET",
        path="/v1/health",
        operation_id="health",
        summary="Whether the function answers and its configuration can work. No token needed.",
        handler=_health,
        public=True,
        responses=(ResponseSpec(200, "The function is up.", HealthStatus),),
        errors=(ApiErrorCode.SERVICE_UNAVAILABLE,),
        tag="service",
    ),
    Operation(
        method="GET",
        path="/openapi.json",
        operation_id="openapi",
        summary="This document (OpenAPI 3.1). No token needed.",
        handler=_openapi,
        public=True,
        responses=(ResponseSpec(200, "The OpenAPI document."),),
        tag="service",
    ),
)


@functools.lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    """The document for the API's own routes (built on first use, then kept). Do not mutate it."""
    from shared.api.openapi import build_openapi

    return build_openapi(OPERATIONS)

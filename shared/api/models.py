"""What the HTTP API answers (and the listing's query), as pydantic models; the OpenAPI document's schemas
are generated from these and from the job input models of `shared.pipeline.inputs`.

    >>> JobListQuery.validate_wire({"limit": "5", "state": "running"}).limit
    5
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.errors import ApiErrorCode
from shared.jobs.model import JobState, JobType, JobView, StepError
from shared.ops.base import RequestModel
from shared.transcripts.model import Transcript

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "ErrorDetail",
    "ErrorDocument",
    "ErrorProblem",
    "HealthStatus",
    "JobList",
    "JobListQuery",
    "JobResults",
    "OutputLink",
]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_ANSWER = ConfigDict(defer_build=True, frozen=True)


class JobListQuery(RequestModel):
    """`GET /v1/jobs` query parameters."""

    operation: ClassVar[str] = "job listing"

    type: JobType | None = Field(None, description="Only jobs of this type.")
    state: JobState | None = Field(None, description="Only jobs in this state.")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Jobs per page.")
    cursor: str | None = Field(
        None, min_length=1, description="The previous page's `next_cursor`, for the page after it."
    )
    source: str | None = Field(
        None,
        min_length=1,
        max_length=1023,
        description="Only jobs of this object key (an upload's, or an API job's `source`), newest first.",
    )


class HealthStatus(BaseModel):
    """`GET /v1/health`: the function answers and its settings are valid (no cloud service is called)."""

    model_config = _ANSWER

    status: Literal["ok"] = "ok"
    service: str = "audiochain"


class JobList(BaseModel):
    """A page of jobs, newest first; pass `next_cursor` back as `cursor` for the next page (null: last)."""

    model_config = _ANSWER

    jobs: list[JobView]
    next_cursor: str | None = None


class OutputLink(BaseModel):
    """One finished object: its key in the pipeline's bucket and a presigned download URL."""

    model_config = _ANSWER

    key: str
    url: str = Field(description="Presigned GET URL; valid until `expires_at`.")
    expires_at: datetime


class JobResults(BaseModel):
    """`GET /v1/jobs/{job_id}/results`: what a job produced, ready to download.

    `outputs` lists the deliverables (audio, transcripts), never the intermediate objects under the work
    prefix. `transcript` holds a transcription job's transcript inline while it is small enough; when it
    is null for a finished transcription, download `outputs.json` instead.
    """

    model_config = _ANSWER

    job_id: str
    type: JobType
    state: JobState
    ready: bool = Field(description="True once the job succeeded: its outputs were written by then.")
    outputs: dict[str, OutputLink] = Field(default_factory=dict)
    transcript: Transcript | None = None
    source_audio: OutputLink | None = Field(
        None,
        description="A finished transcription's audio, the one its times refer to (the normalised upload, "
        "or the job's source): to play beside the transcript.",
    )
    error: StepError | None = None


class ErrorProblem(BaseModel):
    model_config = _ANSWER

    field: str
    rule: str
    message: str


class ErrorDetail(BaseModel):
    model_config = _ANSWER

    code: ApiErrorCode
    message: str
    field: str | None = Field(description="The offending parameter, header or body field; null if none.")
    request_id: str | None = Field(description="Quote it when reporting a problem.")
    problems: list[ErrorProblem] = Field(
        default_factory=list, description="Every broken rule (400 answers for invalid requests)."
    )


class ErrorDocument(BaseModel):
    """Every error answer."""

    model_config = _ANSWER

    error: ErrorDetail

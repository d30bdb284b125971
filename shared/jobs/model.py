"""What the job store keeps and what it hands out.

Stored documents (JSON in the jobs prefix; unknown fields ignored so older code reads newer records):

    JobRecord   jobs/<id>/job.json, immutable: id, type, created_at, input, idempotency key
    StepEvent   jobs/<id>/events/<NN>-<step>/<AA>-<kind>.json, one per transition, never rewritten

Views (derived by folding the events, see `shared.jobs.fold`):

    JobView     what the API shows: state, steps with attempts and timings, outputs, error
    StepView    one step of it

A job runs its type's steps in order; each step runs in attempts, each attempt moves
claimed → submitted → succeeded | failed (an attempt done synchronously goes claimed → succeeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.jobs.webhooks import WebhookAttempt


class StepName(str, Enum):
    CONVERT = "convert"
    TRANSCRIBE = "transcribe"
    PUBLISH_TRANSCRIPTS = "publish_transcripts"
    MERGE = "merge"
    SYNTHESIZE = "synthesize"


class JobType(str, Enum):
    """What a job does. `transcribe_upload` is the automatic chain; the others come from the HTTP API."""

    TRANSCRIBE_UPLOAD = "transcribe_upload"
    CONVERT = "convert"
    MERGE = "merge"
    SPEECH = "speech"
    TRANSCRIBE = "transcribe"

    @property
    def steps(self) -> tuple[StepName, ...]:
        """The steps of this job type, in the order they run.

        >>> [step.value for step in JobType.TRANSCRIBE_UPLOAD.steps]
        ['convert', 'transcribe', 'publish_transcripts']
        """
        return JOB_STEPS[self]


JOB_STEPS: dict[JobType, tuple[StepName, ...]] = {
    JobType.TRANSCRIBE_UPLOAD: (StepName.CONVERT, StepName.TRANSCRIBE, StepName.PUBLISH_TRANSCRIPTS),
    JobType.CONVERT: (StepName.CONVERT,),
    JobType.MERGE: (StepName.MERGE,),
    JobType.SPEECH: (StepName.SYNTHESIZE,),
    JobType.TRANSCRIBE: (StepName.TRANSCRIBE, StepName.PUBLISH_TRANSCRIPTS),
}


class EventKind(str, Enum):
    CLAIMED = "claimed"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Written by a person through the API (job control), not by an attempt: `retried` on the attempt whose
    # failure it lifts (a fresh attempt budget starts after it), `cancelled` on the step that was current.
    RETRIED = "retried"
    CANCELLED = "cancelled"


class StepState(str, Enum):
    PENDING = "pending"  # never claimed
    CLAIMED = "claimed"  # an attempt holds a live lease and has not submitted yet
    SUBMITTED = "submitted"  # a service task is running; its completion is awaited
    RETRYING = "retrying"  # the last attempt failed retryably or its lease expired: claim the next one
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # a later step of a failed job: it will not run unless the job is retried


class JobState(str, Enum):
    QUEUED = "queued"  # no step claimed yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


RETRIES_EXHAUSTED = "StepRetriesExhausted"
TASK_TIMED_OUT = "TaskTimedOut"
JOB_CANCELLED = "JobCancelled"

_STORED = ConfigDict(defer_build=True, frozen=True, extra="ignore")


class StepError(BaseModel):
    """Why an attempt (or the job) failed, and whether another attempt may help."""

    model_config = _STORED

    code: str
    message: str
    retryable: bool = False


class JobRecord(BaseModel):
    """The immutable definition of a job (`job.json`, also the body of its idempotency claim)."""

    model_config = _STORED

    schema_version: int = 1
    id: str
    type: JobType
    created_at: AwareDatetime
    idempotency_key: str
    # SHA-256 of the canonical JSON of type + input: the same key with a different request is a conflict.
    input_digest: str
    input: dict[str, Any] = Field(default_factory=dict)
    # Set when this job's steps differ from its type's (a merge IMM cannot write in the wanted container is
    # merged, then converted); None: the type's steps.
    step_names: tuple[StepName, ...] | None = None

    @property
    def steps(self) -> tuple[StepName, ...]:
        return self.step_names or self.type.steps


class StepEvent(BaseModel):
    """One transition of one attempt. Which fields are set depends on `kind`."""

    model_config = _STORED

    job_id: str
    step_index: int = Field(ge=0)
    step: StepName
    attempt: int = Field(ge=1)
    kind: EventKind
    at: AwareDatetime
    lease_expires_at: AwareDatetime | None = None  # claimed
    service: str | None = None  # submitted: oss, imm, ice, dashscope
    task_id: str | None = None  # submitted (and succeeded, when known)
    targets: tuple[str, ...] = ()  # submitted: oss://bucket/key the task writes
    outputs: dict[str, str] = Field(default_factory=dict)  # succeeded: name -> object key
    result: dict[str, Any] = Field(default_factory=dict)  # succeeded: a small summary
    error: StepError | None = None  # failed

    @property
    def identity(self) -> tuple[int, int, EventKind]:
        """What makes an event unique (and its storage key): step, attempt, kind."""
        return (self.step_index, self.attempt, self.kind)


class StepView(BaseModel):
    """One step as the fold sees it. `attempt` is 0 until the step is first claimed."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    index: int
    name: StepName
    state: StepState
    attempt: int = 0
    service: str | None = None
    task_id: str | None = None
    targets: tuple[str, ...] = ()
    started_at: AwareDatetime | None = None
    submitted_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    lease_expires_at: AwareDatetime | None = None
    error: StepError | None = None
    outputs: dict[str, str] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)


class JobView(BaseModel):
    """A job as the API shows it, derived from its record and events.

    >>> view = JobView.model_validate({"id": "j1", "type": "convert", "state": "queued",
    ...     "created_at": "2025-01-15T08:30:45Z", "updated_at": "2025-01-15T08:30:45Z"})
    >>> view.state.is_final, view.current_step
    (False, None)
    """

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str
    type: JobType
    state: JobState
    steps: tuple[StepView, ...] = ()
    outputs: dict[str, str] = Field(default_factory=dict)
    error: StepError | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    # What the job was asked to do (the upload's bucket/key/ETag, or the API request), so a caller can tell
    # jobs apart without reading the job record.
    input: dict[str, Any] = Field(default_factory=dict)
    # Webhook delivery attempts (jobs with a callback_url), oldest first; filled in by `GET /v1/jobs/{id}`.
    webhook_attempts: tuple[WebhookAttempt, ...] = ()

    @property
    def current_step(self) -> int | None:
        """Index of the first step that has not succeeded; None when every step has (or none exist)."""
        return next((step.index for step in self.steps if step.state is not StepState.SUCCEEDED), None)

    def step(self, name: StepName | str) -> StepView | None:
        wanted = StepName(name)
        return next((step for step in self.steps if step.name is wanted), None)


@dataclass(frozen=True)
class Claim:
    """The right to run one attempt of one step until `lease_expires_at`."""

    record: JobRecord
    step_index: int
    step: StepName
    attempt: int
    lease_expires_at: datetime

    @property
    def job_id(self) -> str:
        return self.record.id


class JobPage(NamedTuple):
    jobs: list[JobView]
    next_cursor: str | None


class TaskRef(NamedTuple):
    """Which attempt of which step submitted a service task (the `_tasks/` index)."""

    job_id: str
    step_index: int
    attempt: int
    service: str

"""Jobs: the model, the state machine (a fold over events) and the store kept in OSS, with idempotency.

    from shared.jobs import InMemoryBackend, JobStore, JobType

    store = JobStore(InMemoryBackend())
    view, created = store.create_or_get(JobType.CONVERT, {"source": "in/a.wav"}, "request-1")
    claim = store.claim_step(view.id, 0)          # None if someone else holds the step
    store.record_submitted(view.id, 0, claim.attempt, service="oss", task_id="t-1")
    store.record_succeeded(view.id, 0, outputs={"audio": "work/.../converted.mp3"})

Modules: `model` (types), `ids` (job ids), `layout` (key names), `fold` (the state machine),
`backend` (ObjectBackend, InMemoryBackend, OssBackend), `store` (JobStore), `errors`.
"""

from shared.jobs.backend import InMemoryBackend, ObjectBackend, OssBackend
from shared.jobs.errors import IdempotencyConflict, JobNotFound
from shared.jobs.fold import fold_job
from shared.jobs.ids import check_job_id, is_job_id, job_id_from_work_key, job_id_time, new_job_id
from shared.jobs.layout import JobLayout
from shared.jobs.model import (
    JOB_STEPS,
    RETRIES_EXHAUSTED,
    TASK_TIMED_OUT,
    Claim,
    EventKind,
    JobPage,
    JobRecord,
    JobState,
    JobType,
    JobView,
    StepError,
    StepEvent,
    StepName,
    StepState,
    StepView,
    TaskRef,
)
from shared.jobs.store import (
    DEFAULT_LEASE,
    DEFAULT_MAX_ATTEMPTS,
    HeldClaim,
    JobSnapshot,
    JobStore,
    Transition,
)

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_MAX_ATTEMPTS",
    "JOB_STEPS",
    "RETRIES_EXHAUSTED",
    "TASK_TIMED_OUT",
    "Claim",
    "EventKind",
    "HeldClaim",
    "IdempotencyConflict",
    "InMemoryBackend",
    "JobLayout",
    "JobNotFound",
    "JobPage",
    "JobRecord",
    "JobSnapshot",
    "JobState",
    "JobStore",
    "JobType",
    "JobView",
    "ObjectBackend",
    "OssBackend",
    "StepError",
    "StepEvent",
    "StepName",
    "StepState",
    "StepView",
    "TaskRef",
    "Transition",
    "check_job_id",
    "fold_job",
    "is_job_id",
    "job_id_from_work_key",
    "job_id_time",
    "new_job_id",
]

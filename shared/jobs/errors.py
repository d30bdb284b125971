"""Errors of the job store, placed in the shared error tree:

AudiochainError
├── JobNotFound                  no job has this id
├── JobStateConflict             a control (retry, cancel) the job's state does not allow
└── InvalidRequestError
    └── IdempotencyConflict      an idempotency key reused for a different request
"""

from __future__ import annotations

from shared.errors import AudiochainError, InvalidRequestError, Problem


class JobNotFound(AudiochainError):
    """No job has this id (an API answers 404)."""

    code = "JobNotFound"

    def __init__(self, job_id: str) -> None:
        super().__init__(f"no job {job_id!r}")
        self.job_id = job_id


class IdempotencyConflict(InvalidRequestError):
    """The idempotency key names an existing job whose request differs (an API answers 409)."""

    code = "IdempotencyKeyConflict"

    def __init__(self, job_id: str) -> None:
        super().__init__(
            Problem(
                "idempotency_key",
                "idempotency_key_reused",
                f"was already used for job {job_id} with a different request; "
                "send a new key for a new request, or repeat the original request unchanged",
            ),
            "job",
        )
        self.job_id = job_id


class JobStateConflict(AudiochainError):
    """The job's state does not allow the control asked for (an API answers 409 JobStateConflict)."""

    code = "JobStateConflict"

    def __init__(self, job_id: str, state: str, reason: str) -> None:
        super().__init__(f"job {job_id} is {state}: {reason}")
        self.job_id = job_id
        self.state = state

"""Which failures of a service *task* a new attempt can cure (the attempt budget still bounds them).

Transport-level answers are classified by `shared.clients.errors.is_retryable` (429, 5xx, Throttling...).
A task that ran and failed reports a code instead; besides throttling and server faults, these are
transient because a new submission starts from scratch:

- `FILE_DOWNLOAD_FAILED`: DashScope could not fetch the presigned audio (a network blip, a slow OSS
  answer); the next attempt presigns again and DashScope downloads again.
- `FILE_403_FORBIDDEN`: the presigned URL expired before DashScope fetched it (a long queue); the next
  attempt presigns a fresh URL.

    >>> task_failure_retryable("FILE_DOWNLOAD_FAILED"), task_failure_retryable("Throttling.RateQuota")
    (True, True)
    >>> task_failure_retryable("FILE_CHECK_FAILED")
    False
"""

from __future__ import annotations

from shared.clients.errors import is_retryable

TRANSIENT_TASK_CODES = frozenset({"FILE_DOWNLOAD_FAILED", "FILE_403_FORBIDDEN"})


def task_failure_retryable(code: str | None) -> bool:
    if not code:
        return False
    return code.upper() in TRANSIENT_TASK_CODES or is_retryable(None, code)

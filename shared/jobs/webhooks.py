"""The log of a job's webhook deliveries, kept next to its events.

    jobs/<job_id>/webhooks/<state>/<NN>.json    one per attempt of the delivery announcing <state>

An attempt is claimed by creating its document (create-if-absent, outcome `sending`), so two finalisers
racing on one job never send the same attempt twice; the claimer rewrites it with the outcome. An attempt
left `sending` (its sender died) counts as failed once `SENDING_TIMEOUT` has passed.

    >>> from shared.jobs.backend import InMemoryBackend
    >>> log = WebhookLog(InMemoryBackend(), "jobs/")
    >>> log.claim("j1", "succeeded", WebhookAttempt(delivery_id="d", state="succeeded", attempt=1,
    ...     at="2026-01-01T00:00:00Z"))
    True
    >>> [a.outcome for a in log.attempts("j1")]
    ['sending']
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.jobs.backend import ObjectBackend
from shared.logging import get_logger

__all__ = ["SENDING_TIMEOUT", "WebhookAttempt", "WebhookLog"]

SENDING_TIMEOUT = timedelta(minutes=2)

log = get_logger(__name__)


class WebhookAttempt(BaseModel):
    """One POST of one delivery, as the job's timeline shows it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    delivery_id: str = Field(description="The same on every attempt of one delivery.")
    state: str = Field(description="The job state the delivery announces.")
    attempt: int = Field(ge=1)
    at: AwareDatetime
    outcome: Literal["sending", "delivered", "failed", "abandoned"] = "sending"
    status: int | None = Field(None, description="The receiver's HTTP status, when it answered.")
    error: str | None = Field(None, description="Why the attempt failed, when it did.")
    next_attempt_at: AwareDatetime | None = Field(None, description="When the next attempt is due.")


class WebhookLog:
    def __init__(self, backend: ObjectBackend, prefix: str) -> None:
        self.backend = backend
        self.prefix = prefix

    def _folder(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}/webhooks/"

    def _key(self, job_id: str, state: str, attempt: int) -> str:
        return f"{self._folder(job_id)}{state}/{attempt:02d}.json"

    def attempts(self, job_id: str, state: str | None = None) -> list[WebhookAttempt]:
        """Every recorded attempt (of the delivery announcing `state`, when given), oldest first."""
        folder = self._folder(job_id) + (f"{state}/" if state else "")
        found = []
        for key in self.backend.list(folder):
            raw = self.backend.get(key)
            if raw is None:
                continue
            try:
                found.append(WebhookAttempt.model_validate_json(raw))
            except ValidationError:
                log.warning("webhook.attempt_unreadable", key=key)
        return sorted(found, key=lambda a: (a.at, a.attempt))

    def claim(self, job_id: str, state: str, attempt: WebhookAttempt) -> bool:
        """Create the attempt's document; False when another sender claimed this attempt first."""
        key = self._key(job_id, state, attempt.attempt)
        return self.backend.put_if_absent(key, attempt.model_dump_json().encode("utf-8"))

    def record(self, job_id: str, state: str, attempt: WebhookAttempt) -> None:
        """Rewrite a claimed attempt with its outcome."""
        self.backend.put(self._key(job_id, state, attempt.attempt), attempt.model_dump_json().encode("utf-8"))

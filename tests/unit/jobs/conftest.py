"""A fixed clock that tests can move, and helpers to build records and events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from shared.jobs.backend import InMemoryBackend
from shared.jobs.model import EventKind, JobRecord, JobType, StepEvent
from shared.jobs.store import JobStore

T0 = datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc)
JOB_ID = "j7ydecbtyzz0000000000000000"


@dataclass
class Clock:
    now: datetime = T0
    step: timedelta = field(default=timedelta(0))

    def __call__(self) -> datetime:
        current = self.now
        self.now += self.step
        return current

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend() -> InMemoryBackend:
    return InMemoryBackend()


@pytest.fixture
def store(backend: InMemoryBackend, clock: Clock) -> JobStore:
    return JobStore(backend, clock=clock, lease=timedelta(minutes=10), max_attempts=3)


def record(job_type: JobType = JobType.TRANSCRIBE_UPLOAD, job_id: str = JOB_ID) -> JobRecord:
    return JobRecord(id=job_id, type=job_type, created_at=T0, idempotency_key="k", input_digest="d")


def event(step_index: int, attempt: int, kind: EventKind, minute: int, **fields: Any) -> StepEvent:
    steps = JobType.TRANSCRIBE_UPLOAD.steps
    at = T0 + timedelta(minutes=minute)
    if kind is EventKind.CLAIMED and "lease_expires_at" not in fields:
        fields["lease_expires_at"] = at + timedelta(minutes=10)
    return StepEvent(
        job_id=fields.pop("job_id", JOB_ID),
        step_index=step_index,
        step=steps[step_index],
        attempt=attempt,
        kind=kind,
        at=at,
        **fields,
    )

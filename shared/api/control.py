"""Job-control route handlers (their entries are in `shared.api.routes.OPERATIONS`):

    POST /v1/jobs/{job_id}/retry     a failed job runs again from its failed step, keeping its history
    POST /v1/jobs/{job_id}/cancel    an unfinished job stops at its current step (JobCancelled)
    GET  /v1/jobs/{job_id}/events    the full timeline: every attempt of every step, with errors

Both controls are idempotent (see `shared.jobs.control`); a state that forbids them answers 409
JobStateConflict naming `state`.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.jobs.control import cancel_job, retry_job
from shared.jobs.errors import JobNotFound
from shared.jobs.ids import is_job_id
from shared.jobs.model import EventKind, JobView, StepEvent
from shared.pipeline.orchestrator import Orchestrator
from shared.runtime.responses import HttpResponse, json_response
from shared.runtime.wsgi import HttpRequest


class ApiCall(Protocol):
    """What these handlers use of `shared.api.routes.ApiCall` (named structurally: routes imports us)."""

    @property
    def request(self) -> HttpRequest: ...

    def orchestrator(self) -> Orchestrator: ...


_KIND_ORDER = {kind: order for order, kind in enumerate(EventKind)}


class JobEvents(BaseModel):
    """`GET /v1/jobs/{job_id}/events`: every transition of the job, oldest first."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    job_id: str
    events: list[StepEvent] = Field(description="Claims, submissions, outcomes and controls, oldest first.")


def _job_id(call: ApiCall) -> str:
    job_id = call.request.path_params["job_id"]
    if not is_job_id(job_id):
        raise JobNotFound(job_id)  # a malformed id names no job, as in the other routes
    return job_id


def retry(call: ApiCall) -> HttpResponse:
    orchestrator = call.orchestrator()
    job_id = _job_id(call)
    retry_job(orchestrator.store, job_id)
    return json_response(orchestrator.advance(job_id, recognise_now=False), 202)


def cancel(call: ApiCall) -> HttpResponse:
    orchestrator = call.orchestrator()
    job_id = _job_id(call)
    cancel_job(orchestrator.store, job_id)
    # Finalises: the completion message says cancelled.
    view: JobView = orchestrator.advance(job_id, recognise_now=False)
    return json_response(view)


def events(call: ApiCall) -> HttpResponse:
    snapshot = call.orchestrator().store.load(_job_id(call))
    ordered = sorted(snapshot.events, key=lambda e: (e.at, e.step_index, e.attempt, _KIND_ORDER[e.kind]))
    return json_response(JobEvents(job_id=snapshot.record.id, events=ordered))

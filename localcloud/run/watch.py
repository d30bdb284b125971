"""Following the run's uploads through the chain: find each upload's job, poll it, describe what changed.

The jobs come from audiochain's own HTTP API (the `api` function, bearer token). Each round is one
listing of the run's `transcribe_upload` jobs (`GET /v1/jobs`, newest first, paged, stopping at the run's
start): it finds new jobs, matched to their uploads by the key and ETag every job view carries, and shows
what changed. A job is read on its own (`GET /v1/jobs/{id}`, exact) only when the listing shows it
finished, and every job still running once every `FULL_REFRESH_ROUNDS` rounds, in case a listing view
lags a transition. Following N uploads thus costs one listing per round, not N reads (issue 11).

    watcher = JobWatcher(JobsApi(runtime.http_url("api"), token), since)
    for tracked, text in watcher.poll(uploads, elapsed=3.2):
        print(progress_line(3.2, tracked.item.name, 20, text))
    # [  3.2s] podcast-intro.mp3     convert: succeeded → transcribe: submitted
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from localcloud.run.inputs import RunInput
from shared.api.models import MAX_PAGE_SIZE, JobList
from shared.jobs.model import JobState, JobType, JobView, StepState, StepView

__all__ = ["JobWatcher", "JobsApi", "RunFailure", "Tracked", "describe_change", "progress_line"]

ModelT = TypeVar("ModelT", bound=BaseModel)

# How far before the run's start a listed job may have been created and still be one of ours (clock
# rounding); older jobs end the listing, which is newest first.
_LISTING_SLACK = timedelta(minutes=1)


class RunFailure(Exception):
    """The run cannot go on (the API or localcloud answered something unusable); the message says what."""


class JobsApi:
    """The two job routes of audiochain's HTTP API, with the bearer token."""

    def __init__(self, base_url: str, token: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
            transport=transport,
        )

    def recent_uploads(self, since: datetime) -> list[JobView]:
        """`transcribe_upload` jobs created at or after `since`, newest first (every page needed)."""
        found: list[JobView] = []
        params: dict[str, str] = {"type": JobType.TRANSCRIBE_UPLOAD.value, "limit": str(MAX_PAGE_SIZE)}
        while True:
            page = _parse(JobList, self._get("/v1/jobs", params), "GET /v1/jobs")
            for view in page.jobs:
                if view.created_at < since:
                    return found
                found.append(view)
            if page.next_cursor is None:
                return found
            params["cursor"] = page.next_cursor

    def job(self, job_id: str) -> JobView:
        return _parse(JobView, self._get(f"/v1/jobs/{job_id}", {}), f"GET /v1/jobs/{job_id}")

    def _get(self, path: str, params: dict[str, str]) -> Any:
        try:
            response = self._http.get(path, params=params)
        except httpx.HTTPError as error:
            raise RunFailure(f"the audiochain API did not answer GET {path}: {error}") from None
        if response.status_code != 200:
            raise RunFailure(f"the audiochain API answered GET {path} with {_describe_error(response)}")
        try:
            return response.json()
        except ValueError:
            raise RunFailure(f"the audiochain API answered GET {path} with something not JSON") from None

    def close(self) -> None:
        self._http.close()


def _parse(model: type[ModelT], data: Any, call: str) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RunFailure(f"the audiochain API answered {call} with an unexpected document: {error}") from None


def _describe_error(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return f"{response.status_code} {error['code']}: {error['message']}"
    except (ValueError, KeyError, TypeError):
        return f"{response.status_code} {response.text[:200]!r}"


@dataclass
class Tracked:
    """One uploaded file as the run follows it. Times are seconds since the run started."""

    item: RunInput
    key: str
    etag: str
    uploaded_at: float
    job_id: str | None = None
    view: JobView | None = None
    finished_at: float | None = None

    @property
    def finished(self) -> bool:
        return self.view is not None and self.view.state.is_final

    @property
    def succeeded(self) -> bool:
        return self.view is not None and self.view.state is JobState.SUCCEEDED


# Every this many rounds, each unfinished job is read on its own as well (see the module docstring).
FULL_REFRESH_ROUNDS = 20


class JobWatcher:
    """Matches uploads to jobs and reports each change of a job's steps (see the module docstring)."""

    def __init__(self, api: JobsApi, since: datetime) -> None:
        self.api = api
        self.since = since - _LISTING_SLACK
        self.rounds = 0

    def poll(self, uploads: list[Tracked], elapsed: float) -> list[tuple[Tracked, str]]:
        """One round: one listing matches new jobs and refreshes the others; (upload, what changed)."""
        self.rounds += 1
        listed = {view.id: view for view in self.api.recent_uploads(self.since)}
        if any(upload.job_id is None for upload in uploads):
            self._match(uploads, listed.values())
        full = self.rounds % FULL_REFRESH_ROUNDS == 0
        changes: list[tuple[Tracked, str]] = []
        for upload in uploads:
            if upload.job_id is None or upload.finished:
                continue
            view = listed.get(upload.job_id)
            if view is None or view.state.is_final or full:
                view = self.api.job(upload.job_id)  # exact, where it matters
            text = describe_change(upload.view, view)
            upload.view = view
            if view.state.is_final:
                upload.finished_at = elapsed
            if text:
                changes.append((upload, text))
        return changes

    def _match(self, uploads: list[Tracked], views: Iterable[JobView]) -> None:
        waiting = {upload.key: upload for upload in uploads if upload.job_id is None}
        for view in views:
            key, etag = view.input.get("key"), view.input.get("etag")
            if not isinstance(key, str) or key not in waiting:
                continue
            upload = waiting[key]
            if _same_version(etag if isinstance(etag, str) else "", upload.etag):
                upload.job_id = view.id
                del waiting[key]
            if not waiting:
                return


def _same_version(recorded: str, uploaded: str) -> bool:
    """Whether a job's recorded ETag is the upload's (a record without one matches by key alone)."""
    return not recorded or recorded.strip('"').upper() == uploaded.strip('"').upper()


HEARTBEAT_SECONDS = 15.0


def heartbeats(
    uploads: list[Tracked], last_said: dict[str, float], elapsed: float, every: float = HEARTBEAT_SECONDS
) -> list[tuple[Tracked, str]]:
    """A line for each unfinished upload nothing was said about for `every` seconds (a long recognition
    would otherwise look like a hang); `last_said` (upload key -> seconds) is updated for those."""
    lines = []
    for upload in uploads:
        if upload.finished:
            continue
        since = last_said.get(upload.key, upload.uploaded_at)
        if elapsed - since < every:
            continue
        last_said[upload.key] = elapsed
        lines.append((upload, f"{_what_it_waits_for(upload.view)} ({elapsed - since:.0f} s without news)"))
    return lines


def _what_it_waits_for(view: JobView | None) -> str:
    if view is None:
        return "waiting for its job to appear"
    index = view.current_step
    if index is None:
        return "finishing"
    step = view.steps[index]
    return f"{step.name.value}: still {step.state.value}"


def describe_change(before: JobView | None, after: JobView) -> str:
    """What changed between two views of a job, for one progress line ('' when nothing did).

    >>> from shared.jobs.model import StepName
    >>> def view(*states: str, state: str = "running") -> JobView:
    ...     steps = [StepView(index=i, name=n, state=s) for i, (n, s) in enumerate(zip(StepName, states))]
    ...     return JobView.model_validate({"id": "j1", "type": "transcribe_upload", "state": state,
    ...         "steps": steps, "created_at": "2025-01-15T08:30:45Z", "updated_at": "2025-01-15T08:30:45Z"})
    >>> describe_change(view("submitted", "pending"), view("succeeded", "submitted"))
    'convert: succeeded → transcribe: submitted'
    """
    if before is None:
        started = [_step_text(step) for step in after.steps if step.state is not StepState.PENDING]
        text = f"job {after.id}: {' → '.join(started) or 'queued'}"
    else:
        previous = {step.index: step for step in before.steps}
        changed = [
            _step_text(step)
            for step in after.steps
            if step.index not in previous
            or (previous[step.index].state, previous[step.index].attempt) != (step.state, step.attempt)
        ]
        text = " → ".join(changed)
    if after.state.is_final and (before is None or not before.state.is_final):
        ending = f"job {after.state.value}"
        if after.error is not None:
            ending += f" ({after.error.code}: {after.error.message})"
        text = f"{text} → {ending}" if text else ending
    return text


def _step_text(step: StepView) -> str:
    attempt = f" (attempt {step.attempt})" if step.attempt > 1 else ""
    return f"{step.name.value}: {step.state.value}{attempt}"


def progress_line(elapsed: float, name: str, width: int, text: str) -> str:
    """`[  3.2s] podcast-intro.mp3  convert: succeeded → transcribe: submitted`"""
    return f"[{elapsed:5.1f}s] {name:<{width}}  {text}"

"""Following the run's uploads through the chain: find each upload's job, poll it, describe what changed.

The jobs come from audiochain's own HTTP API (the `api` function, bearer token). What a round costs does not
grow with the run (issue 11):

- an upload not yet matched to its job is looked up by its key (`GET /v1/jobs?source=<key>`, the jobs of
  that one object), and matched by the ETag every job view carries;
- a job is read exactly (`GET /v1/jobs/{id}`) when the chain's output topic announces it finished (the
  run subscribes to it: `Completions`), and a few running jobs per round are read in turn for the progress
  lines, which also finds a job whose announcement was lost.

Following N uploads thus costs a bounded number of calls per round (LOOKUPS_PER_ROUND + REFRESH_PER_ROUND,
plus one per announced job), not N, and the run does O(N) work in all.

    watcher = JobWatcher(JobsApi(runtime.http_url("api"), token), completions)
    for tracked, text in watcher.poll(uploads, elapsed=3.2):
        print(progress_line(3.2, tracked.item.name, 20, text))
    # [  3.2s] podcast-intro.mp3     convert: succeeded → transcribe: submitted
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from localcloud.run.inputs import RunInput
from shared.api.models import MAX_PAGE_SIZE, JobList
from shared.jobs.model import JobState, JobType, JobView, StepState, StepView

__all__ = [
    "Completions",
    "JobWatcher",
    "JobsApi",
    "RunFailure",
    "Tracked",
    "describe_change",
    "progress_line",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


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

    def jobs_of(self, key: str) -> list[JobView]:
        """The `transcribe_upload` jobs of one uploaded object, newest first (one page: a run uploads each
        key once, and a re-upload's job is the newest)."""
        params = {"type": JobType.TRANSCRIBE_UPLOAD.value, "source": key, "limit": str(MAX_PAGE_SIZE)}
        return _parse(JobList, self._get("/v1/jobs", params), "GET /v1/jobs").jobs

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


class Completions:
    """Ids of the jobs the output topic announced finished; `deliver` is the run's subscription (it runs in
    MNS's delivery thread, the watcher takes the ids in its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._job_ids: set[str] = set()

    def deliver(self, body: bytes) -> None:
        """One message as published (STREAM format). Anything but a completion message is ignored: the
        topic is the user's too, and a bad message must not be redelivered forever."""
        try:
            message = json.loads(body)
        except ValueError:
            return
        job_id = message.get("job_id") if isinstance(message, dict) else None
        if isinstance(job_id, str):
            with self._lock:
                self._job_ids.add(job_id)

    def take(self) -> set[str]:
        """The ids announced since the last call."""
        with self._lock:
            taken, self._job_ids = self._job_ids, set()
        return taken


# Running jobs read per round (4 a second), in turn, for the progress lines (and to find a finished job whose
# announcement was lost). Small runs see every change at once; large ones see each job every few seconds.
REFRESH_PER_ROUND = 1
# Uploads not yet matched to their job, looked up per round (in turn): right after a large upload, or for
# an upload whose job never appears, a round still costs a bounded number of calls.
LOOKUPS_PER_ROUND = 8


class JobWatcher:
    """Matches uploads to jobs and reports each change of a job's steps (see the module docstring)."""

    def __init__(
        self, api: JobsApi, completions: Completions, *, refresh_per_round: int = REFRESH_PER_ROUND
    ) -> None:
        self.api = api
        self.completions = completions
        self.refresh_per_round = refresh_per_round
        self._announced: set[str] = set()
        self._turn = 0  # where the next round's progress reads start among the running jobs
        self._lookup_turn = 0  # the same among the uploads not matched yet

    def poll(self, uploads: list[Tracked], elapsed: float) -> list[tuple[Tracked, str]]:
        """One round: match new uploads, read the announced jobs and a few running ones; (upload, change)."""
        changes: list[tuple[Tracked, str]] = []
        unmatched = [upload for upload in uploads if upload.job_id is None]
        lookups, self._lookup_turn = _in_turn(unmatched, self._lookup_turn, LOOKUPS_PER_ROUND)
        for upload in lookups:
            self._match(upload, elapsed, changes)
        self._announced |= self.completions.take()
        running = [upload for upload in uploads if upload.job_id is not None and not upload.finished]
        announced = [upload for upload in running if upload.job_id in self._announced]
        others = [upload for upload in running if upload.job_id not in self._announced]
        turn, self._turn = _in_turn(others, self._turn, self.refresh_per_round)
        for upload in announced + turn:
            assert upload.job_id is not None
            self._update(upload, self.api.job(upload.job_id), elapsed, changes)
            if upload.finished:
                self._announced.discard(upload.job_id)
        return changes

    def _match(self, upload: Tracked, elapsed: float, changes: list[tuple[Tracked, str]]) -> None:
        for view in self.api.jobs_of(upload.key):
            etag = view.input.get("etag")
            if view.input.get("key") == upload.key and _same_version(
                etag if isinstance(etag, str) else "", upload.etag
            ):
                upload.job_id = view.id
                self._update(upload, view, elapsed, changes)
                return

    @staticmethod
    def _update(upload: Tracked, view: JobView, elapsed: float, changes: list[tuple[Tracked, str]]) -> None:
        text = describe_change(upload.view, view)
        upload.view = view
        if view.state.is_final:
            upload.finished_at = elapsed
        if text:
            changes.append((upload, text))


def _in_turn(items: list[Tracked], start: int, count: int) -> tuple[list[Tracked], int]:
    """Up to `count` of `items` from position `start` on, wrapping; and where the next turn starts.

    >>> _in_turn(list("abcde"), 4, 2)
    (['e', 'a'], 6)
    """
    if not items:
        return [], start
    first = start % len(items)
    chosen = (items[first:] + items[:first])[:count]
    return chosen, first + len(chosen)


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

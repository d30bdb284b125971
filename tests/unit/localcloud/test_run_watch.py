"""`localcloud run` follows its uploads with one listing per round, not one read per job."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from localcloud.run.inputs import RunInput
from localcloud.run.watch import FULL_REFRESH_ROUNDS, JobWatcher, Tracked
from shared.jobs.model import JobView

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)


def view(number: int, state: str, steps: tuple[str, ...]) -> JobView:
    names = ("convert", "transcribe", "publish_transcripts")
    return JobView.model_validate(
        {
            "id": f"j{number}",
            "type": "transcribe_upload",
            "state": state,
            "steps": [
                {"index": i, "name": names[i], "state": step_state, "attempt": 1}
                for i, step_state in enumerate(steps)
            ],
            "created_at": T0,
            "updated_at": T0,
            "input": {"key": f"inbox/f{number}.wav", "etag": f"E{number}"},
        }
    )


class CountingApi:
    """The listing answers what `jobs` holds; every call is counted."""

    def __init__(self, jobs: dict[str, JobView]) -> None:
        self.jobs = jobs
        self.listings = 0
        self.reads: list[str] = []

    def recent_uploads(self, since: datetime) -> list[JobView]:
        self.listings += 1
        return list(self.jobs.values())

    def job(self, job_id: str) -> JobView:
        self.reads.append(job_id)
        return self.jobs[job_id]


def tracked(count: int) -> list[Tracked]:
    item: Any = RunInput  # not used by the watcher
    return [Tracked(item, f"inbox/f{n}.wav", f"E{n}", 0.0) for n in range(count)]


def test_fifty_running_jobs_cost_one_listing_per_round_and_no_reads(tmp_path: Path) -> None:
    api = CountingApi({f"j{n}": view(n, "running", ("succeeded", "submitted", "pending")) for n in range(50)})
    watcher = JobWatcher(api, T0)  # type: ignore[arg-type]
    uploads = tracked(50)
    first = watcher.poll(uploads, 1.0)
    assert len(first) == 50 and all(upload.job_id is not None for upload in uploads)
    for _ in range(FULL_REFRESH_ROUNDS - 2):
        assert watcher.poll(uploads, 2.0) == []  # nothing changed: nothing said
    assert (api.listings, api.reads) == (FULL_REFRESH_ROUNDS - 1, [])
    watcher.poll(uploads, 3.0)  # the periodic full refresh reads each unfinished job once
    assert len(api.reads) == 50


def test_a_job_the_listing_shows_finished_is_confirmed_by_one_exact_read() -> None:
    api = CountingApi({"j0": view(0, "running", ("succeeded", "submitted", "pending"))})
    watcher = JobWatcher(api, T0)  # type: ignore[arg-type]
    uploads = tracked(1)
    watcher.poll(uploads, 1.0)
    api.jobs["j0"] = view(0, "succeeded", ("succeeded", "succeeded", "succeeded"))
    (change,) = watcher.poll(uploads, 2.0)
    assert change[0].finished and change[0].finished_at == 2.0
    assert api.reads == ["j0"]
    watcher.poll(uploads, 3.0)
    assert api.reads == ["j0"]  # finished: never read again

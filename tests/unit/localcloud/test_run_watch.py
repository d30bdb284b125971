"""`localcloud run` follows its uploads at a bounded cost per round, not one read per job per round."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from localcloud.run.inputs import RunInput
from localcloud.run.watch import LOOKUPS_PER_ROUND, REFRESH_PER_ROUND, Completions, JobWatcher, Tracked
from shared.jobs.model import JobView

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=timezone.utc)
RUNNING = ("succeeded", "submitted", "pending")
DONE = ("succeeded", "succeeded", "succeeded")


def view(number: int, state: str, steps: tuple[str, ...], etag: str | None = None) -> JobView:
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
            "input": {"key": f"inbox/f{number}.wav", "etag": etag or f"E{number}"},
        }
    )


class CountingApi:
    """Answers from `jobs` (by id); every call is counted."""

    def __init__(self, jobs: dict[str, JobView]) -> None:
        self.jobs = jobs
        self.lookups: list[str] = []
        self.reads: list[str] = []

    def jobs_of(self, key: str) -> list[JobView]:
        self.lookups.append(key)
        return [job for job in self.jobs.values() if job.input.get("key") == key]

    def job(self, job_id: str) -> JobView:
        self.reads.append(job_id)
        return self.jobs[job_id]


def tracked(count: int) -> list[Tracked]:
    item: Any = RunInput  # not used by the watcher
    return [Tracked(item, f"inbox/f{n}.wav", f"E{n}", 0.0) for n in range(count)]


def announce(completions: Completions, job_id: str) -> None:
    completions.deliver(json.dumps({"type": "audiochain.job.finished", "job_id": job_id}).encode())


def test_fifty_running_jobs_cost_a_bounded_number_of_calls_per_round() -> None:
    api = CountingApi({f"j{n}": view(n, "running", RUNNING) for n in range(50)})
    watcher = JobWatcher(api, Completions())  # type: ignore[arg-type]
    uploads = tracked(50)
    rounds = -(-50 // LOOKUPS_PER_ROUND)
    matched = 0
    for _ in range(rounds):
        before = (len(api.lookups), len(api.reads))
        matched += len(watcher.poll(uploads, 1.0))
        assert len(api.lookups) - before[0] <= LOOKUPS_PER_ROUND
        assert len(api.reads) - before[1] <= REFRESH_PER_ROUND
    assert matched == 50 and all(upload.job_id is not None for upload in uploads)
    reads = len(api.reads)
    for _ in range(30):
        assert watcher.poll(uploads, 2.0) == []  # nothing changed: nothing said
    assert len(api.lookups) == 50  # matched uploads are never looked up again
    assert len(api.reads) - reads == 30 * REFRESH_PER_ROUND
    assert len(set(api.reads)) == min(50, len(api.reads))  # in turn, not the same ones


def test_an_upload_whose_job_never_appears_costs_at_most_the_lookups_of_a_round() -> None:
    api = CountingApi({})
    watcher = JobWatcher(api, Completions())  # type: ignore[arg-type]
    uploads = tracked(40)
    for _ in range(10):
        watcher.poll(uploads, 1.0)
    assert len(api.lookups) == 10 * LOOKUPS_PER_ROUND and len(set(api.lookups)) == 40


def test_an_announced_job_is_read_at_once_and_then_never_again() -> None:
    api = CountingApi({f"j{n}": view(n, "running", RUNNING) for n in range(40)})
    completions = Completions()
    watcher = JobWatcher(api, completions, refresh_per_round=0)  # type: ignore[arg-type]
    uploads = tracked(40)
    for _ in range(-(-40 // LOOKUPS_PER_ROUND)):
        watcher.poll(uploads, 1.0)  # every upload matched
    api.jobs["j37"] = view(37, "succeeded", DONE)
    announce(completions, "j37")
    (change,) = watcher.poll(uploads, 2.0)
    assert change[0] is uploads[37] and change[0].finished and change[0].finished_at == 2.0
    assert api.reads == ["j37"]
    watcher.poll(uploads, 3.0)
    assert api.reads == ["j37"]


def test_a_lost_announcement_is_made_up_for_by_the_reads_in_turn() -> None:
    api = CountingApi({f"j{n}": view(n, "running", RUNNING) for n in range(6)})
    watcher = JobWatcher(api, Completions())  # type: ignore[arg-type]
    uploads = tracked(6)
    watcher.poll(uploads, 1.0)
    api.jobs["j4"] = view(4, "failed", ("succeeded", "failed", "pending"))
    for round_number in range(6):
        watcher.poll(uploads, 2.0 + round_number)
    assert uploads[4].finished and not uploads[3].finished


def test_an_announcement_before_the_match_is_kept_until_the_job_is_known() -> None:
    api = CountingApi({})
    completions = Completions()
    watcher = JobWatcher(api, completions, refresh_per_round=0)  # type: ignore[arg-type]
    uploads = tracked(1)
    announce(completions, "j0")
    watcher.poll(uploads, 1.0)  # no job for the upload yet
    api.jobs["j0"] = view(0, "running", RUNNING)
    watcher.poll(uploads, 2.0)  # matched as running; the announcement waits for the job's final state
    api.jobs["j0"] = view(0, "succeeded", DONE)
    watcher.poll(uploads, 3.0)
    assert uploads[0].finished


def test_an_older_version_of_the_key_is_not_the_uploads_job() -> None:
    api = CountingApi({"j0": view(0, "succeeded", DONE, etag="OLD")})
    watcher = JobWatcher(api, Completions())  # type: ignore[arg-type]
    uploads = tracked(1)
    watcher.poll(uploads, 1.0)
    assert uploads[0].job_id is None


def test_messages_that_are_not_completions_are_ignored() -> None:
    completions = Completions()
    for body in (b"not json", b"[1, 2]", b'{"job_id": 7}', b"{}"):
        completions.deliver(body)
    announce(completions, "j1")
    assert completions.take() == {"j1"}
    assert completions.take() == set()

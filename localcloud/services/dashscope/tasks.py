"""Asynchronous transcription tasks, kept in localcloud's SQLite database so a restart loses none.

A task is PENDING when submitted, RUNNING once a worker claims it, then SUCCEEDED or FAILED with one
outcome per file. A task left RUNNING by a stopped localcloud goes back to PENDING on the next start and is
run again from the beginning (recognition is deterministic, so the result is the same).

    store = TaskStore(state)
    record = store.create(job)
    if store.claim(record.task_id):
        store.finish(record.task_id, outcomes)
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Literal

from localcloud.lifecycle import TaskTable
from localcloud.state import StateStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dashscope_tasks (
    task_id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    status TEXT NOT NULL,
    submit_time REAL NOT NULL,
    scheduled_time REAL,
    end_time REAL,
    code TEXT,
    message TEXT,
    outcomes TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS dashscope_tasks_by_status ON dashscope_tasks(status, submit_time);
"""

PENDING = "PENDING"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
JobKind = Literal["filetrans", "paraformer"]


@dataclass(frozen=True)
class TranscriptionJob:
    """What a submitted request asks for, normalised across the qwen and paraformer request shapes."""

    kind: JobKind
    model: str
    file_urls: tuple[str, ...]
    channel_ids: tuple[int, ...] = (0,)
    language: str | None = None
    language_hints: tuple[str, ...] = ()
    enable_words: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TranscriptionJob:
        data = json.loads(text)
        data["file_urls"] = tuple(data["file_urls"])
        data["channel_ids"] = tuple(data["channel_ids"])
        data["language_hints"] = tuple(data["language_hints"])
        return cls(**data)


@dataclass(frozen=True)
class FileOutcome:
    """How one file of a task ended: its result object, or the failure code and message."""

    file_url: str
    status: str
    result_key: str | None = None
    code: str | None = None
    message: str | None = None
    seconds: int = 0


@dataclass(frozen=True)
class TaskRecord:
    task_id: str
    job: TranscriptionJob
    status: str
    submit_time: float
    scheduled_time: float | None = None
    end_time: float | None = None
    code: str | None = None
    message: str | None = None
    outcomes: tuple[FileOutcome, ...] = field(default_factory=tuple)

    @property
    def seconds(self) -> int:
        """Billed audio seconds of the files that succeeded (each requested channel counts)."""
        return sum(outcome.seconds for outcome in self.outcomes if outcome.status == SUCCEEDED)


def _outcomes_to_json(outcomes: tuple[FileOutcome, ...]) -> str:
    return json.dumps([asdict(outcome) for outcome in outcomes])


def _outcomes_from_json(text: str) -> tuple[FileOutcome, ...]:
    return tuple(FileOutcome(**item) for item in json.loads(text))


_OUTCOMES = (_outcomes_to_json, _outcomes_from_json)


class TaskStore(TaskTable[TaskRecord]):
    """The dashscope_tasks table (a `localcloud.lifecycle.TaskTable`): PENDING → RUNNING → SUCCEEDED |
    FAILED; the request and the per-file outcomes are kept as JSON. Transcription tasks announce nothing
    (the caller polls GET /api/v1/tasks/{id}), so the table has no `notified` column."""

    def __init__(self, state: StateStore) -> None:
        super().__init__(
            state,
            TaskRecord,
            table="dashscope_tasks",
            key="task_id",
            schema=_SCHEMA,
            state_column="status",
            open_states=(PENDING, RUNNING),
            created_column="submit_time",
            ended_column="end_time",
            notifies=False,
            codecs={"job": (TranscriptionJob.to_json, TranscriptionJob.from_json), "outcomes": _OUTCOMES},
        )

    def create(self, job: TranscriptionJob) -> TaskRecord:
        record = TaskRecord(str(uuid.uuid4()), job, PENDING, time.time())
        self.insert(record)
        return record

    def claim(self, task_id: str) -> bool:
        """PENDING -> RUNNING; False when another worker has it or it has finished."""
        return self.update(task_id, {"status": RUNNING, "scheduled_time": time.time()}, when=(PENDING,))

    def finish(self, task_id: str, outcomes: list[FileOutcome]) -> TaskRecord | None:
        """RUNNING -> SUCCEEDED when any file succeeded, else FAILED with the first file's failure."""
        failures = [outcome for outcome in outcomes if outcome.status != SUCCEEDED]
        if len(failures) < len(outcomes):
            status, code, message = SUCCEEDED, None, None
        elif failures:
            status, code, message = FAILED, failures[0].code, failures[0].message
        else:
            status, code, message = FAILED, "InternalError", "the task names no file"
        ending = {
            "status": status,
            "end_time": time.time(),
            "code": code,
            "message": message,
            "outcomes": tuple(outcomes),
        }
        self.update(task_id, ending, when=(RUNNING,))
        return self.get(task_id)

    def requeue_interrupted(self) -> list[str]:
        """Tasks a stopped localcloud left RUNNING go back to PENDING; returns all PENDING, oldest first."""
        with self.state.transaction() as db:
            db.execute(
                "UPDATE dashscope_tasks SET status = ?, scheduled_time = NULL WHERE status = ?",
                (PENDING, RUNNING),
            )
            rows = db.execute(
                "SELECT task_id FROM dashscope_tasks WHERE status = ? ORDER BY submit_time", (PENDING,)
            ).fetchall()
        return [row["task_id"] for row in rows]

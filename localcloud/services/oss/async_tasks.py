"""OSS async-processing tasks as rows of localcloud's SQLite state, so unfinished work survives a restart.

A row keeps the process string exactly as it was POSTed (and the source object from the request path),
so a resumed task re-parses the very request it was accepted with. `notified` records that the
completion message was published (or could not be), so a restart between finishing and publishing still
publishes it once.

The lifecycle around the table (resume, run, finish once, notify once) is localcloud/lifecycle.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from localcloud.lifecycle import TaskTable
from localcloud.state import StateStore
from shared.ops.enums import ImmTaskStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS oss_async_tasks (
    task_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    process TEXT NOT NULL,
    target_bucket TEXT NOT NULL,
    target_key TEXT NOT NULL,
    topic TEXT,
    status TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    notified INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class AsyncTaskRecord:
    task_id: str  # MediaConvert-<uuid>
    event_id: str
    request_id: str  # the RequestId of the JSON answer and of the notification
    bucket: str
    key: str  # the source object the request was POSTed to
    process: str  # the process string as received
    target_bucket: str
    target_key: str  # sys/saveas object with {autoext} resolved
    topic: str | None
    status: ImmTaskStatus
    code: str
    message: str
    created_at: float
    started_at: float | None
    ended_at: float | None
    notified: bool

    @property
    def target_uri(self) -> str:
        return f"oss://{self.target_bucket}/{self.target_key}"


class AsyncTaskStore(TaskTable[AsyncTaskRecord]):
    """The oss_async_tasks table: Running until finished once; see localcloud.lifecycle."""

    def __init__(self, state: StateStore) -> None:
        super().__init__(
            state,
            AsyncTaskRecord,
            table="oss_async_tasks",
            key="task_id",
            schema=_SCHEMA,
            state_column="status",
            open_states=(ImmTaskStatus.RUNNING.value,),
            created_column="created_at",
            ended_column="ended_at",
            notify_condition="topic IS NOT NULL",  # a task POSTed without notify.topic announces nothing
        )

    def mark_started(self, task_id: str, started_at: float) -> None:
        self.update(task_id, {"started_at": started_at}, when=self.open_states)

    def finish(self, task_id: str, status: ImmTaskStatus, code: str, message: str, ended_at: float) -> bool:
        """Record the outcome once; False when the task had already finished (a duplicate run)."""
        outcome = {"status": status, "code": code, "message": message, "ended_at": ended_at}
        return self.update(task_id, outcome, when=self.open_states)

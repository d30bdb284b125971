"""IMM tasks as rows of localcloud's SQLite state, so GetTask answers and unfinished work survive a restart.

A task row keeps the request exactly as its wire parameters (`CreateMediaConvertTaskRequest.to_query()`),
so a resumed task re-parses the very request it was created from. `notified` records that the task's
MNS notification was published (or that it has none), so a restart between finishing and publishing
still publishes it, once.

The lifecycle around the table (resume, run, finish once, notify once) is localcloud/lifecycle.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from localcloud.lifecycle import TaskTable
from localcloud.state import StateStore
from shared.ops.enums import ImmTaskStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS imm_tasks (
    task_id TEXT PRIMARY KEY,
    project_name TEXT NOT NULL,
    task_type TEXT NOT NULL,
    status TEXT NOT NULL,
    code TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    request TEXT NOT NULL,
    request_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL,
    progress INTEGER NOT NULL DEFAULT 0,
    notified INTEGER NOT NULL DEFAULT 1
);
"""
# Added after the first release of the schema. Tasks already in an older data directory count as notified
# (their notification, if any, went out with them); a new task is inserted with notified = 0.
_ADDED_COLUMNS = {"notified": "INTEGER NOT NULL DEFAULT 1"}


@dataclass(frozen=True)
class ImmTaskRecord:
    task_id: str
    project_name: str
    task_type: str
    status: ImmTaskStatus
    code: str
    message: str
    request: dict[str, str]  # the wire parameters of the creating request
    request_id: str
    event_id: str
    started_at: float
    ended_at: float | None
    progress: int
    notified: bool = False

    @property
    def user_data(self) -> str | None:
        return self.request.get("UserData")

    @property
    def tags(self) -> dict[str, str] | None:
        raw = self.request.get("Tags")
        return json.loads(raw) if raw else None


class ImmTaskStore(TaskTable[ImmTaskRecord]):
    """The imm_tasks table: Running until finished once (Succeeded or Failed); see localcloud.lifecycle."""

    def __init__(self, state: StateStore) -> None:
        super().__init__(
            state,
            ImmTaskRecord,
            table="imm_tasks",
            key="task_id",
            schema=_SCHEMA,
            state_column="status",
            open_states=(ImmTaskStatus.RUNNING.value,),
            created_column="started_at",
            ended_column="ended_at",
            added_columns=_ADDED_COLUMNS,
        )

    def set_progress(self, task_id: str, progress: int) -> None:
        self.update(task_id, {"progress": progress})

    def finish(self, task_id: str, status: ImmTaskStatus, code: str, message: str, ended_at: float) -> bool:
        """Record the outcome once; False when the task had already finished (a duplicate run)."""
        outcome = {"status": status, "code": code, "message": message, "ended_at": ended_at, "progress": 100}
        return self.update(task_id, outcome, when=self.open_states)

"""IMM tasks as rows of localcloud's SQLite state, so GetTask answers and unfinished work survive a restart.

A task row keeps the request exactly as its wire parameters (`CreateMediaConvertTaskRequest.to_query()`),
so a resumed task re-parses the very request it was created from. `notified` records that the task's
MNS notification was published (or that it has none), so a restart between finishing and publishing
still publishes it, once.

Example:
    >>> store = ImmTaskStore(state)                                             # doctest: +SKIP
    >>> store.insert(record); store.unfinished()                                # doctest: +SKIP
    ['MediaConvert-0f0c...']
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

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


class ImmTaskStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.ensure_schema(_SCHEMA)
        present = {row["name"] for row in state.query("PRAGMA table_info(imm_tasks)")}
        for name, declaration in _ADDED_COLUMNS.items():
            if name not in present:
                state.execute(f"ALTER TABLE imm_tasks ADD COLUMN {name} {declaration}")

    def insert(self, record: ImmTaskRecord) -> None:
        self.state.execute(
            "INSERT INTO imm_tasks (task_id, project_name, task_type, status, code, message, request, "
            "request_id, event_id, started_at, ended_at, progress, notified) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.task_id,
                record.project_name,
                record.task_type,
                record.status.value,
                record.code,
                record.message,
                json.dumps(record.request, ensure_ascii=False),
                record.request_id,
                record.event_id,
                record.started_at,
                record.ended_at,
                record.progress,
                int(record.notified),
            ),
        )

    def get(self, task_id: str) -> ImmTaskRecord | None:
        row = self.state.query_one("SELECT * FROM imm_tasks WHERE task_id = ?", (task_id,))
        return None if row is None else _record(row)

    def unfinished(self) -> list[str]:
        """Tasks still Running: created or started but never finished (localcloud stopped meanwhile)."""
        rows = self.state.query(
            "SELECT task_id FROM imm_tasks WHERE status = ? ORDER BY started_at",
            (ImmTaskStatus.RUNNING.value,),
        )
        return [row["task_id"] for row in rows]

    def unnotified(self) -> list[str]:
        """Finished tasks whose notification was never published: localcloud stopped in between."""
        rows = self.state.query(
            "SELECT task_id FROM imm_tasks WHERE status != ? AND notified = 0 ORDER BY ended_at",
            (ImmTaskStatus.RUNNING.value,),
        )
        return [row["task_id"] for row in rows]

    def mark_notified(self, task_id: str) -> None:
        self.state.execute("UPDATE imm_tasks SET notified = 1 WHERE task_id = ?", (task_id,))

    def set_progress(self, task_id: str, progress: int) -> None:
        self.state.execute("UPDATE imm_tasks SET progress = ? WHERE task_id = ?", (progress, task_id))

    def finish(self, task_id: str, status: ImmTaskStatus, code: str, message: str, ended_at: float) -> bool:
        """Record the outcome once; False when the task had already finished (a duplicate run)."""
        changed = self.state.execute(
            "UPDATE imm_tasks SET status = ?, code = ?, message = ?, ended_at = ?, progress = 100 "
            "WHERE task_id = ? AND status = ?",
            (status.value, code, message, ended_at, task_id, ImmTaskStatus.RUNNING.value),
        )
        return changed == 1


def _record(row: sqlite3.Row) -> ImmTaskRecord:
    return ImmTaskRecord(
        task_id=row["task_id"],
        project_name=row["project_name"],
        task_type=row["task_type"],
        status=ImmTaskStatus(row["status"]),
        code=row["code"],
        message=row["message"],
        request=json.loads(row["request"]),
        request_id=row["request_id"],
        event_id=row["event_id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        progress=row["progress"],
        notified=bool(row["notified"]),
    )

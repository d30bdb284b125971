"""OSS async-processing tasks as rows of localcloud's SQLite state, so unfinished work survives a restart.

A row keeps the process string exactly as it was POSTed (and the source object from the request path),
so a resumed task re-parses the very request it was accepted with. `notified` records that the
completion message was published (or could not be), so a restart between finishing and publishing still
publishes it once.

    >>> tasks = AsyncTaskStore(state)                                           # doctest: +SKIP
    >>> tasks.insert(record); tasks.unfinished()                                # doctest: +SKIP
    ['MediaConvert-0f0c...']
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

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


class AsyncTaskStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.ensure_schema(_SCHEMA)

    def insert(self, record: AsyncTaskRecord) -> None:
        self.state.execute(
            "INSERT INTO oss_async_tasks (task_id, event_id, request_id, bucket, key, process, "
            "target_bucket, target_key, topic, status, code, message, created_at, started_at, ended_at, "
            "notified) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.task_id,
                record.event_id,
                record.request_id,
                record.bucket,
                record.key,
                record.process,
                record.target_bucket,
                record.target_key,
                record.topic,
                record.status.value,
                record.code,
                record.message,
                record.created_at,
                record.started_at,
                record.ended_at,
                int(record.notified),
            ),
        )

    def get(self, task_id: str) -> AsyncTaskRecord | None:
        row = self.state.query_one("SELECT * FROM oss_async_tasks WHERE task_id = ?", (task_id,))
        return None if row is None else _record(row)

    def unfinished(self) -> list[str]:
        """Tasks accepted (or started) but never finished: localcloud stopped meanwhile."""
        rows = self.state.query(
            "SELECT task_id FROM oss_async_tasks WHERE status = ? ORDER BY created_at",
            (ImmTaskStatus.RUNNING.value,),
        )
        return [row["task_id"] for row in rows]

    def unnotified(self) -> list[str]:
        """Finished tasks whose completion message was never published."""
        rows = self.state.query(
            "SELECT task_id FROM oss_async_tasks WHERE status != ? AND notified = 0 AND topic IS NOT NULL "
            "ORDER BY ended_at",
            (ImmTaskStatus.RUNNING.value,),
        )
        return [row["task_id"] for row in rows]

    def mark_started(self, task_id: str, started_at: float) -> None:
        self.state.execute(
            "UPDATE oss_async_tasks SET started_at = ? WHERE task_id = ? AND status = ?",
            (started_at, task_id, ImmTaskStatus.RUNNING.value),
        )

    def finish(self, task_id: str, status: ImmTaskStatus, code: str, message: str, ended_at: float) -> bool:
        """Record the outcome once; False when the task had already finished (a duplicate run)."""
        changed = self.state.execute(
            "UPDATE oss_async_tasks SET status = ?, code = ?, message = ?, ended_at = ? "
            "WHERE task_id = ? AND status = ?",
            (status.value, code, message, ended_at, task_id, ImmTaskStatus.RUNNING.value),
        )
        return changed == 1

    def mark_notified(self, task_id: str) -> None:
        self.state.execute("UPDATE oss_async_tasks SET notified = 1 WHERE task_id = ?", (task_id,))


def _record(row: sqlite3.Row) -> AsyncTaskRecord:
    return AsyncTaskRecord(
        task_id=row["task_id"],
        event_id=row["event_id"],
        request_id=row["request_id"],
        bucket=row["bucket"],
        key=row["key"],
        process=row["process"],
        target_bucket=row["target_bucket"],
        target_key=row["target_key"],
        topic=row["topic"],
        status=ImmTaskStatus(row["status"]),
        code=row["code"],
        message=row["message"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        notified=bool(row["notified"]),
    )

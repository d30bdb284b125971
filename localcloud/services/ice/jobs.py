"""ICE audio-produce jobs as rows of localcloud's SQLite state: GetSmartHandleJob answers and resumption.

The request is kept as its wire parameters (`SubmitAudioProduceJobRequest.to_query()`), so a resumed job
re-parses the very request it was submitted with. States move Created → Executing → Finished | Failed.
`notified` records that the completion callback was sent (or tried, or that there is none), so a restart
between the end of a job and its callback still sends it, once.

Example:
    >>> jobs = IceJobStore(state)                                 # doctest: +SKIP
    >>> jobs.insert(record); jobs.unfinished()                    # doctest: +SKIP
    ['4c9e0f5d7a2b4e1f9c3d8a6b5e7f1a2c']
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from localcloud.state import StateStore
from shared.ops.enums import IceJobState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ice_jobs (
    job_id TEXT PRIMARY KEY,
    media_id TEXT NOT NULL,
    state TEXT NOT NULL,
    title TEXT NOT NULL,
    request TEXT NOT NULL,
    request_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    modified_at REAL NOT NULL,
    error_code TEXT,
    error_message TEXT,
    ai_result TEXT,
    notified INTEGER NOT NULL DEFAULT 1
);
"""
# Added after the first release of the schema. Jobs already in an older data directory count as notified
# (their callback, if any, went out with them); a new job is inserted with notified = 0.
_ADDED_COLUMNS = {"notified": "INTEGER NOT NULL DEFAULT 1"}


@dataclass(frozen=True)
class IceJobRecord:
    job_id: str
    media_id: str
    state: IceJobState
    title: str
    request: dict[str, str]  # the wire parameters of the submitting request
    request_id: str
    created_at: float
    modified_at: float
    error_code: str | None = None
    error_message: str | None = None
    ai_result: str | None = None  # JSON text: [{"content", "from", "to"}, ...]
    notified: bool = False


class IceJobStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        state.ensure_schema(_SCHEMA)
        present = {row["name"] for row in state.query("PRAGMA table_info(ice_jobs)")}
        for name, declaration in _ADDED_COLUMNS.items():
            if name not in present:
                state.execute(f"ALTER TABLE ice_jobs ADD COLUMN {name} {declaration}")

    def insert(self, record: IceJobRecord) -> None:
        self.state.execute(
            "INSERT INTO ice_jobs (job_id, media_id, state, title, request, request_id, created_at, "
            "modified_at, error_code, error_message, ai_result, notified) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.job_id,
                record.media_id,
                record.state.value,
                record.title,
                json.dumps(record.request, ensure_ascii=False),
                record.request_id,
                record.created_at,
                record.modified_at,
                record.error_code,
                record.error_message,
                record.ai_result,
                int(record.notified),
            ),
        )

    def get(self, job_id: str) -> IceJobRecord | None:
        row = self.state.query_one("SELECT * FROM ice_jobs WHERE job_id = ?", (job_id,))
        return None if row is None else _record(row)

    def unfinished(self) -> list[str]:
        """Jobs that never reached Finished or Failed (localcloud stopped while they waited or ran)."""
        rows = self.state.query(
            "SELECT job_id FROM ice_jobs WHERE state IN (?, ?) ORDER BY created_at",
            (IceJobState.CREATED.value, IceJobState.EXECUTING.value),
        )
        return [row["job_id"] for row in rows]

    def unnotified(self) -> list[str]:
        """Ended jobs whose callback was never sent: localcloud stopped in between."""
        rows = self.state.query(
            "SELECT job_id FROM ice_jobs WHERE state IN (?, ?) AND notified = 0 ORDER BY modified_at",
            (IceJobState.FINISHED.value, IceJobState.FAILED.value),
        )
        return [row["job_id"] for row in rows]

    def mark_notified(self, job_id: str) -> None:
        self.state.execute("UPDATE ice_jobs SET notified = 1 WHERE job_id = ?", (job_id,))

    def mark_executing(self, job_id: str) -> bool:
        """Created → Executing (a resumed job may already be Executing); False once the job has ended."""
        changed = self.state.execute(
            "UPDATE ice_jobs SET state = ?, modified_at = ? WHERE job_id = ? AND state IN (?, ?)",
            (
                IceJobState.EXECUTING.value,
                time.time(),
                job_id,
                IceJobState.CREATED.value,
                IceJobState.EXECUTING.value,
            ),
        )
        return changed == 1

    def finish(self, job_id: str, *, ai_result: str) -> bool:
        """Executing → Finished with the result; False when the job was not executing (a duplicate run)."""
        return self._end(job_id, IceJobState.FINISHED, ai_result=ai_result)

    def fail(self, job_id: str, code: str, message: str) -> bool:
        """Executing → Failed with a code; False when the job was not executing."""
        return self._end(job_id, IceJobState.FAILED, code=code, message=message)

    def _end(
        self,
        job_id: str,
        state: IceJobState,
        *,
        code: str | None = None,
        message: str | None = None,
        ai_result: str | None = None,
    ) -> bool:
        changed = self.state.execute(
            "UPDATE ice_jobs SET state = ?, modified_at = ?, error_code = ?, error_message = ?, "
            "ai_result = ? WHERE job_id = ? AND state = ?",
            (
                state.value,
                time.time(),
                code,
                message,
                ai_result,
                job_id,
                IceJobState.EXECUTING.value,
            ),
        )
        return changed == 1


def _record(row: sqlite3.Row) -> IceJobRecord:
    return IceJobRecord(
        job_id=row["job_id"],
        media_id=row["media_id"],
        state=IceJobState(row["state"]),
        title=row["title"],
        request=json.loads(row["request"]),
        request_id=row["request_id"],
        created_at=row["created_at"],
        modified_at=row["modified_at"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        ai_result=row["ai_result"],
        notified=bool(row["notified"]),
    )

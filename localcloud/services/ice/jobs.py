"""ICE audio-produce jobs as rows of localcloud's SQLite state: GetSmartHandleJob answers and resumption.

The request is kept as its wire parameters (`SubmitAudioProduceJobRequest.to_query()`), so a resumed job
re-parses the very request it was submitted with. States move Created → Executing → Finished | Failed.
`notified` records that the completion callback was sent (or tried, or that there is none), so a restart
between the end of a job and its callback still sends it, once.

The lifecycle around the table (resume, run, finish once, notify once) is localcloud/lifecycle.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from localcloud.lifecycle import TaskTable
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


class IceJobStore(TaskTable[IceJobRecord]):
    """The ice_jobs table: Created → Executing → Finished | Failed, ended once; see localcloud.lifecycle."""

    def __init__(self, state: StateStore) -> None:
        super().__init__(
            state,
            IceJobRecord,
            table="ice_jobs",
            key="job_id",
            schema=_SCHEMA,
            state_column="state",
            open_states=(IceJobState.CREATED.value, IceJobState.EXECUTING.value),
            created_column="created_at",
            ended_column="modified_at",
            added_columns=_ADDED_COLUMNS,
        )

    def mark_executing(self, job_id: str) -> bool:
        """Created → Executing (a resumed job may already be Executing); False once the job has ended."""
        return self.update(
            job_id, {"state": IceJobState.EXECUTING, "modified_at": time.time()}, when=self.open_states
        )

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
        ending = {
            "state": state,
            "modified_at": time.time(),
            "error_code": code,
            "error_message": message,
            "ai_result": ai_result,
        }
        return self.update(job_id, ending, when=(IceJobState.EXECUTING.value,))

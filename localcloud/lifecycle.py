"""One persisted media-task lifecycle for localcloud's asynchronous media services (OSS async processing,
IMM media conversion, ICE speech), as `dispatch.py` is for deliveries.

    table      a task is a row of localcloud's SQLite state (`TaskTable`): accepted work survives a restart
    resume     on start, unfinished tasks are run again and finished-but-unannounced ones announced
    run        on the shared task pool, after the configured start delay; `begin` re-reads the row and
               says whether the task may run (a duplicate or late run finds it ended and does nothing)
    finish     once: a compare-and-set on the task's state, so two runs cannot both finish it
    notify     once: the service's delivery (MNS message, HTTP callback), then `notified = 1`; a restart
               between finishing and notifying still notifies, once

A service supplies the hooks (`begin`, `execute`, `failure`, `finish`, `pending_notification`,
`deliver`); the order, the crash handling ("a bug must still end the task, never leave it running
forever") and the resume loop live here only.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import sqlite3
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from localcloud.metering import MEDIA_ENGINE_CPU
from localcloud.state import StateStore
from localcloud.tasks import TaskRunner
from shared.errors import InvalidRequestError
from shared.logging import get_logger

__all__ = ["MediaTaskLifecycle", "TaskFailure", "TaskTable", "coded_failure"]

RecordT = TypeVar("RecordT")
ResultT = TypeVar("ResultT")

log = get_logger("localcloud.lifecycle")


class TaskFailure(Exception):
    """How a task failed, in its service's terms (the code and message its API and notification carry)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def coded_failure(
    error: Exception,
    *,
    coded: tuple[type[Exception], ...],
    invalid_code: str,
    describe: Callable[[InvalidRequestError], str],
) -> TaskFailure | None:
    """The usual mapping of a run's error to its failure: a TaskFailure as raised; an error of one of the
    `coded` classes (each has `code` and `message`) as its own code; a request that no longer validates
    (InvalidRequestError) as `invalid_code` with `describe(error)`;
    anything else None (the lifecycle logs it as a crash and fails the task with InternalError)."""
    if isinstance(error, (TaskFailure, *coded)):
        return TaskFailure(getattr(error, "code"), getattr(error, "message"))  # noqa: B009 - any coded class
    if isinstance(error, InvalidRequestError):
        return TaskFailure(invalid_code, describe(error))
    return None


class TaskTable(Generic[RecordT]):
    """A task table whose rows are one frozen dataclass: the columns are its fields, by name.

    Values are stored as SQLite takes them; an Enum field as its value, a dict field as JSON, a bool as 0/1,
    and read back to the field's type; `codecs` name (encode, decode) for any other field (a nested model
    kept as JSON). `open_states` are the values of `state_column` of a task that has not ended;
    `notify_condition` (SQL) narrows the ended tasks to those that have a notification at all, and a table
    without a `notified` column (`notifies=False`) has none.
    """

    def __init__(
        self,
        state: StateStore,
        record: type[RecordT],
        *,
        table: str,
        key: str,
        schema: str,
        state_column: str,
        open_states: Sequence[str],
        created_column: str,
        ended_column: str,
        notify_condition: str = "",
        notifies: bool = True,
        added_columns: Mapping[str, str] | None = None,
        codecs: Mapping[str, tuple[Callable[[Any], object], Callable[[Any], object]]] | None = None,
    ) -> None:
        self.state = state
        self.record = record
        self.table = table
        self.key = key
        self.state_column = state_column
        self.open_states = tuple(open_states)
        self._created = created_column
        self._ended = ended_column
        self._notify_condition = f" AND {notify_condition}" if notify_condition else ""
        self._notifies = notifies
        self._codecs = dict(codecs or {})
        self._types = typing.get_type_hints(record)
        self._columns = [item.name for item in dataclasses.fields(record)]  # type: ignore[arg-type]
        state.ensure_schema(schema)
        present = {row["name"] for row in state.query(f"PRAGMA table_info({table})")}
        for name, declaration in (added_columns or {}).items():
            if name not in present:
                state.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def insert(self, record: RecordT) -> None:
        values = [self._encode(name, getattr(record, name)) for name in self._columns]
        marks = ", ".join("?" for _ in self._columns)
        self.state.execute(
            f"INSERT INTO {self.table} ({', '.join(self._columns)}) VALUES ({marks})", tuple(values)
        )

    def get(self, task_id: str) -> RecordT | None:
        row = self.state.query_one(f"SELECT * FROM {self.table} WHERE {self.key} = ?", (task_id,))
        return None if row is None else self._record(row)

    def unfinished(self) -> list[str]:
        """Tasks accepted (or started) but never ended: localcloud stopped meanwhile."""
        return self._keys("IN", "", self._created)

    def unnotified(self) -> list[str]:
        """Ended tasks whose notification was never delivered: localcloud stopped in between."""
        if not self._notifies:
            return []
        return self._keys("NOT IN", f" AND notified = 0{self._notify_condition}", self._ended)

    def _keys(self, membership: str, condition: str, order: str) -> list[str]:
        marks = ", ".join("?" for _ in self.open_states)
        rows = self.state.query(
            f"SELECT {self.key} FROM {self.table} WHERE {self.state_column} {membership} ({marks})"
            f"{condition} ORDER BY {order}",
            self.open_states,
        )
        return [row[self.key] for row in rows]

    def mark_notified(self, task_id: str) -> None:
        self.state.execute(f"UPDATE {self.table} SET notified = 1 WHERE {self.key} = ?", (task_id,))

    def update(self, task_id: str, values: Mapping[str, object], *, when: Sequence[str] = ()) -> bool:
        """Set columns of one task; with `when`, only while its state is one of those (compare-and-set).
        True when the row changed."""
        assignments = ", ".join(f"{name} = ?" for name in values)
        parameters: list[object] = [self._encode(name, value) for name, value in values.items()]
        sql = f"UPDATE {self.table} SET {assignments} WHERE {self.key} = ?"
        parameters.append(task_id)
        if when:
            sql += f" AND {self.state_column} IN ({', '.join('?' for _ in when)})"
            parameters.extend(when)
        return self.state.execute(sql, tuple(parameters)) == 1

    def _record(self, row: sqlite3.Row) -> RecordT:
        values = {name: self._decode(name, row[name]) for name in self._columns}
        return self.record(**values)

    def _encode(self, name: str, value: object) -> object:
        codec = self._codecs.get(name)
        return codec[0](value) if codec is not None else _to_column(value)

    def _decode(self, name: str, value: object) -> object:
        codec = self._codecs.get(name)
        return codec[1](value) if codec is not None else _from_column(value, self._types[name])


def _to_column(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _from_column(value: object, kind: Any) -> object:
    if value is None:
        return None
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is bool:
        return bool(value)
    if typing.get_origin(kind) is dict and isinstance(value, str):
        return json.loads(value)
    return value


class MediaTaskLifecycle(Generic[RecordT, ResultT]):
    """Resume, run, finish once, notify once (see the module docstring); `kind` names the log events."""

    def __init__(
        self,
        kind: str,
        table: TaskTable[RecordT],
        runner: TaskRunner,
        *,
        start_delay: float,
        begin: Callable[[str], RecordT | None],
        execute: Callable[[RecordT], ResultT],
        failure: Callable[[Exception], TaskFailure | None],
        finish: Callable[[str, ResultT | None, TaskFailure | None], bool],
        pending_notification: Callable[[RecordT], bool],
        deliver: Callable[[RecordT], None],
    ) -> None:
        self.kind = kind
        self.table = table
        self.runner = runner
        self.start_delay = start_delay
        self._begin = begin
        self._execute = execute
        self._failure = failure
        self._finish = finish
        self._pending_notification = pending_notification
        self._deliver = deliver

    def resume(self) -> None:
        """Run again what a previous run left unfinished; announce what it finished but never announced."""
        for task_id in self.table.unfinished():
            log.info("media_task.resumed", service=self.kind, task_id=task_id)
            self.schedule(task_id)
        for task_id in self.table.unnotified():
            self.runner.submit(f"{self.kind} notify {task_id}", functools.partial(self.notify, task_id))

    def schedule(self, task_id: str) -> None:
        self.runner.submit(
            f"{self.kind} {task_id}", functools.partial(self.run, task_id), delay=self.start_delay
        )

    def run(self, task_id: str) -> None:
        record = self._begin(task_id)
        if record is None:  # unknown, or already ended (a duplicate or late run)
            return
        result: ResultT | None = None
        failure: TaskFailure | None = None
        started = time.thread_time()
        try:
            result = self._execute(record)
        except Exception as error:
            failure = self._failure(error)
            if failure is None:  # a bug must still end the task, never leave it running forever
                log.exception("media_task.crashed", service=self.kind, task_id=task_id)
                failure = TaskFailure("InternalError", f"localcloud failed: {error!r}")
        finally:
            cpu_seconds = time.thread_time() - started
            MEDIA_ENGINE_CPU.add(self.kind, cpu_seconds)
        if self._finish(task_id, result, failure):
            log.info(
                "media_task.finished",
                service=self.kind,
                task_id=task_id,
                code=None if failure is None else failure.code,
                cpu_ms=round(cpu_seconds * 1000),
            )
            self.notify(task_id)

    def notify(self, task_id: str) -> None:
        """Deliver an ended task's notification once (again after a restart if it never went out)."""
        record = self.table.get(task_id)
        if record is None or not self._pending_notification(record):
            return
        self._deliver(record)
        self.table.mark_notified(task_id)

"""The media-task lifecycle every asynchronous localcloud service shares (localcloud/lifecycle.py)."""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from localcloud.lifecycle import MediaTaskLifecycle, TaskFailure, TaskTable, coded_failure
from localcloud.metering import MEDIA_ENGINE_CPU
from localcloud.services.dashscope.tasks import PENDING, SUCCEEDED, FileOutcome, TaskStore, TranscriptionJob
from localcloud.state import StateStore
from localcloud.tasks import TaskRunner
from shared.errors import InvalidRequestError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS demo_tasks (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    code TEXT,
    created_at REAL NOT NULL,
    ended_at REAL,
    notified INTEGER NOT NULL DEFAULT 0
);
"""


class Status(enum.Enum):
    RUNNING = "Running"
    DONE = "Done"
    FAILED = "Failed"


@dataclass(frozen=True)
class DemoTask:
    task_id: str
    status: Status
    request: dict[str, str]
    code: str | None
    created_at: float
    ended_at: float | None
    notified: bool


class Demo:
    """A service's side of the lifecycle, recording what happened."""

    def __init__(self, state: StateStore, runner: TaskRunner) -> None:
        self.table = TaskTable(
            state,
            DemoTask,
            table="demo_tasks",
            key="task_id",
            schema=_SCHEMA,
            state_column="status",
            open_states=(Status.RUNNING.value,),
            created_column="created_at",
            ended_column="ended_at",
        )
        self.runs: list[str] = []
        self.delivered: list[str] = []
        self.error: Exception | None = None
        self.lifecycle: MediaTaskLifecycle[DemoTask, str] = MediaTaskLifecycle(
            "demo",
            self.table,
            runner,
            start_delay=0.0,
            begin=self.begin,
            execute=self.execute,
            failure=lambda error: coded_failure(
                error, coded=(), invalid_code="InvalidParameter", describe=str
            ),
            finish=self.finish,
            pending_notification=lambda task: not task.notified and task.status is not Status.RUNNING,
            deliver=lambda task: self.delivered.append(task.task_id),
        )

    def begin(self, task_id: str) -> DemoTask | None:
        task = self.table.get(task_id)
        return task if task is not None and task.status is Status.RUNNING else None

    def execute(self, task: DemoTask) -> str:
        self.runs.append(task.task_id)
        if task.request.get("work") == "spin":
            deadline = time.thread_time() + 0.05
            while time.thread_time() < deadline:  # CPU, as a conversion spends it
                pass
        if self.error is not None:
            raise self.error
        return "ok"

    def finish(self, task_id: str, result: str | None, failure: TaskFailure | None) -> bool:
        status, code = (Status.DONE, None) if failure is None else (Status.FAILED, failure.code)
        return self.table.update(
            task_id, {"status": status, "code": code, "ended_at": 2.0}, when=self.table.open_states
        )


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(tmp_path)
    yield store
    store.close()


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner(1)
    yield tasks
    tasks.shutdown()


def _task(task_id: str, **changes: object) -> DemoTask:
    task = DemoTask(task_id, Status.RUNNING, {"a": "ü"}, None, 1.0, None, False)
    return replace(task, **changes)  # type: ignore[arg-type]


def test_a_row_reads_back_as_the_dataclass_it_was_written_from(state: StateStore, runner: TaskRunner) -> None:
    demo = Demo(state, runner)
    demo.table.insert(_task("t1"))
    assert demo.table.get("t1") == _task("t1")
    assert demo.table.get("missing") is None


def test_a_task_finishes_once_and_notifies_once_however_often_it_runs(
    state: StateStore, runner: TaskRunner
) -> None:
    demo = Demo(state, runner)
    demo.table.insert(_task("t1"))
    demo.lifecycle.run("t1")
    demo.lifecycle.run("t1")  # a duplicate run finds it ended
    demo.lifecycle.notify("t1")  # a late notification finds it announced
    assert demo.runs == ["t1"] and demo.delivered == ["t1"]
    finished = demo.table.get("t1")
    assert finished is not None and (finished.status, finished.notified) == (Status.DONE, True)


def test_a_crash_ends_the_task_with_internal_error_and_an_invalid_request_with_its_code(
    state: StateStore, runner: TaskRunner
) -> None:
    demo = Demo(state, runner)
    demo.table.insert(_task("crash"))
    demo.error = RuntimeError("bug")
    demo.lifecycle.run("crash")
    demo.table.insert(_task("invalid"))
    demo.error = InvalidRequestError.single("x", "rule", "bad x")
    demo.lifecycle.run("invalid")
    codes = {task_id: getattr(demo.table.get(task_id), "code", None) for task_id in ("crash", "invalid")}
    assert codes == {"crash": "InternalError", "invalid": "InvalidParameter"}
    assert demo.delivered == ["crash", "invalid"]


def test_resume_runs_the_unfinished_and_announces_the_finished_but_unannounced(
    state: StateStore, runner: TaskRunner
) -> None:
    demo = Demo(state, runner)
    demo.table.insert(_task("running"))
    demo.table.insert(_task("unannounced", status=Status.DONE, ended_at=3.0))
    demo.table.insert(_task("announced", status=Status.DONE, ended_at=4.0, notified=True))
    assert demo.table.unfinished() == ["running"]
    assert demo.table.unnotified() == ["unannounced"]
    demo.lifecycle.resume()
    assert runner.wait_idle(10)
    assert demo.runs == ["running"]
    assert sorted(demo.delivered) == ["running", "unannounced"]
    assert demo.table.unnotified() == [] and demo.table.unfinished() == []


def test_a_table_with_codecs_and_no_notifications_round_trips_nested_values(state: StateStore) -> None:
    tasks = TaskStore(state)
    job = TranscriptionJob(kind="filetrans", model="qwen3-asr-flash-filetrans", file_urls=("oss://b/a.wav",))
    created = tasks.create(job)
    assert tasks.get(created.task_id) == created and created.status == PENDING
    assert tasks.unfinished() == [created.task_id] and tasks.unnotified() == []
    assert tasks.claim(created.task_id) and not tasks.claim(created.task_id)
    outcome = FileOutcome("oss://b/a.wav", SUCCEEDED, result_key="r.json", seconds=3)
    finished = tasks.finish(created.task_id, [outcome])
    assert finished is not None and (finished.status, finished.outcomes, finished.job) == (
        SUCCEEDED,
        (outcome,),
        job,
    )
    assert tasks.unfinished() == []


def test_the_media_work_of_a_task_is_metered_as_its_service_s_engine_cpu(
    state: StateStore, runner: TaskRunner
) -> None:
    # Conversions run in localcloud's process: the benchmarks tell the media engine's CPU from the rest here.
    demo = Demo(state, runner)
    demo.table.insert(_task("busy", request={"work": "spin"}))
    before = MEDIA_ENGINE_CPU.seconds("demo")
    demo.lifecycle.run("busy")
    demo.lifecycle.run("busy")  # a duplicate run does no work, and meters none
    assert 0.05 <= MEDIA_ENGINE_CPU.seconds("demo") - before < 0.5

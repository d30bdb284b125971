"""The due-row dispatcher's sleep: a row that falls due between a pass's listing and its sleep is not left
for the idle period (it was: a restarted MNS left a pending delivery 60 s behind a 32-ms retry)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from localcloud.dispatch import IDLE_WAIT_SECONDS, DueRowDispatcher
from localcloud.state import StateStore


class _Rows(DueRowDispatcher):
    table = "test_rows"
    key_column = "id"

    def _attempt(self, row: sqlite3.Row) -> None:
        raise AssertionError("no attempt is made in these tests")


def _dispatcher(tmp_path: Path, now: list[float]) -> _Rows:
    state = StateStore(tmp_path)
    state.execute("CREATE TABLE test_rows (id TEXT PRIMARY KEY, next_attempt_at REAL NOT NULL)")
    return _Rows(state, workers=1, thread_name="test-rows", clock=lambda: now[0])


def test_a_row_due_since_the_listing_makes_the_sleep_a_millisecond(tmp_path: Path) -> None:
    now = [100.0]
    dispatcher = _dispatcher(tmp_path, now)
    dispatcher.state.execute("INSERT INTO test_rows VALUES ('late', 100.02)")
    now[0] = 100.05  # the pass listed at 100.0; by the time it computes its sleep the row is due
    assert dispatcher._time_to_next_due(100.0) == 0.001


def test_the_sleep_lasts_until_the_next_row_or_the_idle_period(tmp_path: Path) -> None:
    now = [100.0]
    dispatcher = _dispatcher(tmp_path, now)
    assert dispatcher._time_to_next_due(100.0) == IDLE_WAIT_SECONDS
    dispatcher.state.execute("INSERT INTO test_rows VALUES ('listed', 99.0)")  # in flight: not counted
    dispatcher.state.execute("INSERT INTO test_rows VALUES ('next', 102.5)")
    assert dispatcher._time_to_next_due(100.0) == 2.5

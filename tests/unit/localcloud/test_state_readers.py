"""StateStore reads: pooled WAL readers never wait for the writer; a transaction reads its own writes."""

from __future__ import annotations

import threading
from pathlib import Path

from localcloud.state import StateStore


def _store(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path)
    store.ensure_schema("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER);")
    store.execute("INSERT INTO t VALUES ('a', 1)")
    return store


def test_a_read_inside_a_transaction_sees_its_uncommitted_write(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with store.transaction() as db:
        db.execute("UPDATE t SET v = 2 WHERE k = 'a'")
        row = store.query_one("SELECT v FROM t WHERE k = 'a'")
        assert row is not None and row["v"] == 2
    store.close()


def test_another_thread_reads_the_committed_state_while_a_transaction_is_open(tmp_path: Path) -> None:
    store = _store(tmp_path)
    seen: list[int] = []
    with store.transaction() as db:
        db.execute("UPDATE t SET v = 3 WHERE k = 'a'")
        # The writer lock is held here: a reader serialised behind it would never finish before join().
        reader = threading.Thread(target=lambda: seen.append(store.query("SELECT v FROM t")[0]["v"]))
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive()
    assert seen == [1]
    row = store.query_one("SELECT v FROM t WHERE k = 'a'")
    assert row is not None and row["v"] == 3
    store.close()


def test_readers_are_reused_not_opened_per_call(tmp_path: Path) -> None:
    store = _store(tmp_path)
    for _ in range(50):
        store.query("SELECT v FROM t")
    assert len(store._all_readers) == 1
    store.close()

"""Concurrent handlers meeting at the store: exactly one of them wins each transition."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from shared.jobs.backend import InMemoryBackend
from shared.jobs.model import JobState
from shared.jobs.store import JobStore
from tests.unit.jobs.conftest import Clock

T = TypeVar("T")
CONTENDERS = 12


class InterleavingBackend(InMemoryBackend):
    """Yields the thread between operations, so the read-then-write windows really interleave."""

    def get(self, key: str) -> bytes | None:
        time.sleep(0)
        return super().get(key)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        time.sleep(0)
        return super().put_if_absent(key, data)

    def list(self, prefix: str, start_after: str = "") -> Iterator[str]:
        time.sleep(0)
        return super().list(prefix, start_after)


def race(action: Callable[[], T]) -> list[T]:
    barrier = threading.Barrier(CONTENDERS)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = action()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_creators_with_one_key_share_one_job(clock: Clock) -> None:
    store = JobStore(InterleavingBackend(), clock=clock)
    results = race(lambda: store.create_or_get("convert", {"source": "a.wav"}, "upload-1"))
    assert len({view.id for view, _ in results}) == 1
    assert sum(created for _, created in results) == 1


def test_racing_claimants_produce_exactly_one_claim(clock: Clock) -> None:
    store = JobStore(InterleavingBackend(), clock=clock)
    view, _ = store.create_or_get("convert", {"source": "a.wav"}, "upload-1")
    claims = race(lambda: store.claim_step(view.id, 0))
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1 and winners[0].attempt == 1


def test_racing_claimants_after_a_lapse_produce_exactly_one_second_attempt(clock: Clock) -> None:
    store = JobStore(InterleavingBackend(), clock=clock)
    view, _ = store.create_or_get("convert", {"source": "a.wav"}, "upload-1")
    assert store.claim_step(view.id, 0) is not None
    clock.advance(minutes=11)
    winners = [claim for claim in race(lambda: store.claim_step(view.id, 0)) if claim is not None]
    assert [claim.attempt for claim in winners] == [2]


def test_racing_completions_record_one_success(clock: Clock) -> None:
    store = JobStore(InterleavingBackend(), clock=clock)
    view, _ = store.create_or_get("convert", {"source": "a.wav"}, "upload-1")
    assert store.claim_step(view.id, 0) is not None
    transitions = race(lambda: store.record_succeeded(view.id, 0, outputs={"audio": "work/a.mp3"}))
    assert sum(transition.recorded for transition in transitions) == 1
    assert all(transition.view.state is JobState.SUCCEEDED for transition in transitions)

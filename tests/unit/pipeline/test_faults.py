"""The chain under duplicate deliveries and injected faults (a small run of the harness; the full-size
figures come from bench/chain_faults.py)."""

from __future__ import annotations

import pytest

from tests.unit.pipeline.faults import duplicate_delivery, faulty_chain


def test_triple_delivery_and_republished_notifications_duplicate_nothing() -> None:
    figures = duplicate_delivery(5, deliveries=3, republished=10).figures()
    assert figures["complete"] == 5
    assert figures["duplicate_jobs"] == 0
    assert figures["duplicate_convert_tasks"] == 0
    assert figures["duplicate_asr_tasks"] == 0
    assert figures["duplicate_completion_messages"] == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_chain_completes_under_faults_and_a_dropped_notification_window(seed: int) -> None:
    run = faulty_chain(5, rate=0.2, drop_ticks=3, max_ticks=40, seed=seed)
    figures = run.figures()
    assert sum(figures["faults_injected"].values()) > 0
    assert figures["complete"] == 5, figures
    assert figures["duplicate_jobs"] == 0
    assert figures["job_states"] == {"succeeded": 5}


def test_a_lost_upload_event_is_recovered_by_the_timer() -> None:
    run = faulty_chain(0)
    run.keys.append("inbox/lost.wav")
    run.world.oss.add("audiochain", "inbox/lost.wav", b"RIFF-lost")  # stored; its event never came
    for _ in range(5):
        run.tick()
    assert run.complete() == 1

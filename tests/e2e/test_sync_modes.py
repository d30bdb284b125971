"""The synchronous Qwen-ASR connection types through the HTTP API: the request answers 202 before any
recognition, and the recognition runs in on_notify (the pipeline topic's asynchronous trigger), without
the fetch_results timer ever firing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.jobs.model import JobState
from tests.e2e.conftest import BUCKET, REPORT, Chain, as_text, assert_recognised

Speech = Callable[[tuple[str, ...]], bytes]


@pytest.mark.parametrize("mode", ["sync", "compatible"])
def test_a_synchronous_mode_is_answered_at_once_and_recognised_off_the_request_path(
    chain: Chain, speech: Speech, mode: str
) -> None:
    chain.oss.put_object(BUCKET, "media/report.wav", speech(REPORT))
    chain.capture_pipeline()
    response = chain.http.post(
        "/v1/jobs/transcribe", json={"source": "media/report.wav", "mode": mode, "language": "en"}
    )
    assert response.status_code == 202, response.text
    answered = response.json()
    # Nothing was recognised within the request: the transcribe step was not even claimed.
    assert answered["state"] == "queued", answered
    assert [step["state"] for step in answered["steps"]] == ["pending", "pending"]

    chain.settle()  # on_notify's invocation, from the hand-off on the pipeline topic; no timer fired
    (handoff,) = chain.notifications(1)
    assert answered["id"] in handoff
    view = chain.job(answered["id"])
    assert view.state is JobState.SUCCEEDED, view.error
    result = chain.http.get(f"/v1/jobs/{view.id}/results").json()
    transcript = result["transcript"]
    assert (transcript["engine"]["mode"], transcript["timing"]) == (mode, "estimated")
    assert_recognised(as_text(REPORT), chain.text(view.outputs["txt"]))

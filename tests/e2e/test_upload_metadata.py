"""Per-upload options from the object's own metadata (x-oss-meta-*), through the OSS trigger: they win over
the prefix rule, are recorded on the job and shown by the API; a bad value is a failed job, not a log line."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from shared.jobs.model import JobState
from shared.transcripts.model import Transcript
from tests.e2e.conftest import BUCKET, REPORT, WEATHER, Chain
from tests.e2e.test_channels import assert_both_speakers_labelled, call_chain, stereo_call

Speech = Callable[[tuple[str, ...]], bytes]
__all__ = ["call_chain"]  # the fixture, shared with test_channels


def test_metadata_asks_for_both_channels_of_a_call_uploaded_outside_any_rule(
    call_chain: Chain, speech: Speech
) -> None:
    key = "inbox/notes/call.wav"
    metadata = {"channels": "0,1", "language": "en", "context": quote("weather report — tomorrow")}
    etag = call_chain.oss.put_object(
        BUCKET, key, stereo_call(speech(WEATHER), speech(REPORT)), metadata=metadata
    ).etag

    job_id = call_chain.job_of(key, etag)
    view = call_chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    shown = call_chain.http.get(f"/v1/jobs/{job_id}").json()["input"]  # what GET /v1/jobs/{id} shows
    assert (shown["channels"], shown["language"]) == ([0, 1], "en")
    assert shown["context"] == "weather report — tomorrow"
    assert shown["options_from"] == dict.fromkeys(("language", "channels", "context"), "metadata")
    transcript = Transcript.model_validate_json(call_chain.text(view.outputs["json"]))
    assert_both_speakers_labelled(transcript, call_chain.text(view.outputs["txt"]))


def test_metadata_that_breaks_a_rule_gives_a_failed_job_naming_the_header(call_chain: Chain) -> None:
    key = "inbox/calls/odd.wav"
    etag = call_chain.oss.put_object(BUCKET, key, b"RIFF-not-audio", metadata={"channels": "left,right"}).etag

    job_id = call_chain.job_of(key, etag)
    call_chain.settle()  # on_upload records the failure right after creating the job
    shown = call_chain.http.get(f"/v1/jobs/{job_id}").json()

    assert shown["state"] == "failed", shown
    assert shown["error"]["code"] == "InvalidUpload"
    assert "x-oss-meta-channels" in shown["error"]["message"] and "left,right" in shown["error"]["message"]
    assert call_chain.convert_tasks() == 0

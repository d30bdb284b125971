"""Submission-time refusals: what can be known at submission is a coded 400 naming the field, never a job
that fails after 202. Also: the voice list is the one localcloud's ICE speaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.engines.tts import VOICES
from shared.pipeline.voices import ICE_VOICES
from tests.unit.functions.api_helpers import CONVERT, MERGE, SPEECH, Api, error_of, open_api
from tests.unit.pipeline.fakes import make_world


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


CASES = [
    ("convert", _with(CONVERT, params={"f": "mp3", "ss": 2**70}), "params.ss"),
    ("convert", _with(CONVERT, params={"f": "mp3", "t": 2**31}), "params.t"),
    ("convert", _with(CONVERT, params={"f": "mp3", "ab": "64000"}), "params.ab"),
    ("convert", _with(CONVERT, params={"f": "mp3", "ac": True}), "params.ac"),
    (
        "merge",
        _with(MERGE, clips=[{"key": "media/a.wav", "ss": 2**63}, {"key": "media/b.wav"}]),
        "clips.0.ss",
    ),
    ("merge", _with(MERGE, align="1"), "align"),
    ("speech", _with(SPEECH, text="\x01\x02\x03"), "text"),
    ("speech", _with(SPEECH, text="!!! ... 🎉"), "text"),
    ("speech", _with(SPEECH, text="<speak> </speak>"), "text"),
    ("speech", _with(SPEECH, voice="Nobody"), "voice"),
    ("speech", _with(SPEECH, voice="espeak:fr"), "voice"),  # the fake world's ICE is no localcloud
    ("speech", _with(SPEECH, volume="50"), "volume"),
]


@pytest.mark.parametrize(("job_type", "body", "field"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_a_request_that_would_fail_later_is_refused_now(
    api: Api, job_type: str, body: dict[str, Any], field: str
) -> None:
    response = api.submit(job_type, body)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["code"] == "InvalidParameter"
    assert error["field"].replace("[", ".").replace("]", "") == field
    assert api.world.store.list().jobs == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_a_body_not_in_utf8_is_refused(api: Api, encoding: str) -> None:
    text = '{"text": "Grüße aus Köln", "voice": "Andy"}'
    response = api.client.post(
        "/v1/jobs/speech", content=text.encode(encoding), headers={"Content-Type": "application/json"}
    )
    error = error_of(response)
    assert (response.status_code, error["code"], error["field"]) == (400, "InvalidJson", "body")


def test_espeak_voices_are_accepted_where_ice_is_localcloud() -> None:
    world = make_world(ice_endpoint="http://127.0.0.1:9000")
    for api in open_api(world):
        assert api.submit("speech", _with(SPEECH, voice="espeak:en-us")).status_code == 202


def test_the_voice_list_is_the_one_localclouds_ice_speaks() -> None:
    assert set(VOICES) == ICE_VOICES

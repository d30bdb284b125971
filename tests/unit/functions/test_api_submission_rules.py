"""What can be known at submission is refused then, with a 400 naming the field (issue 8): a value
accepted with 202 and failing later leaves the caller with a failed job instead of a clear answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.functions.api_helpers import CONVERT, MERGE, Api, error_of, open_api
from tests.unit.pipeline.fakes import make_world


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


@pytest.mark.parametrize(
    ("job_type", "body", "field", "rule"),
    [
        ("convert", {**CONVERT, "params": {"f": "mp3", "ss": 2**70}}, "params.ss", "less_than_equal"),
        ("convert", {**CONVERT, "params": {"f": "mp3", "t": 2**31}}, "params.t", "less_than_equal"),
        ("convert", {**CONVERT, "params": {"f": "mp3", "ab": "64000"}}, "params.ab", "integer_type"),
        ("convert", {**CONVERT, "params": {"f": "mp3", "ss": "10"}}, "params.ss", "integer_type"),
        ("merge", {**MERGE, "params": {"f": "mp3", "ac": "2"}}, "params.ac", "integer_type"),
        ("speech", {"text": "\x01\x02\x1b"}, "text", "unspeakable"),
        ("speech", {"text": "?!… —"}, "text", "unspeakable"),
        ("speech", {"text": "<speak><break time='1s'/></speak>"}, "text", "unspeakable"),
    ],
)
def test_out_of_range_and_string_integers_are_refused_naming_the_field(
    api: Api, job_type: str, body: dict[str, Any], field: str, rule: str
) -> None:
    response = api.client.post(f"/v1/jobs/{job_type}", content=json.dumps(body).encode())
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("InvalidParameter", field)
    assert (error["problems"][0]["field"], error["problems"][0]["rule"]) == (field, rule)
    assert api.world.store.list().jobs == []


@pytest.mark.parametrize("text", ["会议记录", "42", "<speak>Hello <break time='1s'/> there</speak>"])
def test_text_with_something_to_speak_is_accepted(api: Api, text: str) -> None:
    response = api.client.post("/v1/jobs/speech", content=json.dumps({"text": text}).encode())
    assert response.status_code == 202, response.text


def test_the_largest_offset_still_accepted_is_the_32_bit_limit(api: Api) -> None:
    body = {**CONVERT, "params": {"f": "mp3", "ss": 2**31 - 1}}
    assert api.client.post("/v1/jobs/convert", content=json.dumps(body).encode()).status_code == 202


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_a_body_that_is_not_utf8_is_refused(api: Api, encoding: str) -> None:
    text = json.dumps({**CONVERT, "source": "media/é.wav"}, ensure_ascii=False)
    response = api.client.post(
        "/v1/jobs/convert", content=text.encode(encoding), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("InvalidJson", "body"), error
    assert api.world.store.list().jobs == []

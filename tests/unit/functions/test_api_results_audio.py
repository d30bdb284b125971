"""What the dashboard relies on in the JSON API: `servers` in the OpenAPI document (the FC prefix the
request came under), and the recognised audio linked from a finished transcription's results."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from shared.api.routes import openapi_document
from shared.pipeline.handlers import upload_handler
from tests.unit.functions.api_helpers import CONVERT, TOKEN, TRANSCRIBE, Api, open_api
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for
from tests.unit.pipeline.fakes import make_world
from tests.unit.runtime.wsgi_helpers import call, make_environ

PREFIX = "/2016-08-15/proxy/audiochain.LATEST/api"


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


def test_the_openapi_document_names_the_fc_prefix_it_was_fetched_under(api: Api) -> None:
    answer = call(api.handler, make_environ("GET", f"{PREFIX}/openapi.json"))
    document = answer.json()
    assert document["servers"] == [{"url": PREFIX, "description": "Function Compute's default trigger URL"}]
    assert list(document)[:4] == ["openapi", "jsonSchemaDialect", "info", "servers"]
    # Behind a custom domain (or FC 3.0's trigger URL) there is no prefix, so no servers entry.
    assert "servers" not in api.anonymous.get("/openapi.json").json()
    assert "servers" not in openapi_document()  # the cached document is never changed


def test_the_location_of_a_submission_keeps_the_prefix(api: Api) -> None:
    environ = make_environ(
        "POST",
        f"{PREFIX}/v1/jobs/convert",
        body=json.dumps(CONVERT).encode(),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    answer = call(api.handler, environ)
    assert answer.headers["location"] == f"{PREFIX}/v1/jobs/{answer.json()['id']}"


def test_a_finished_api_transcription_links_its_source_to_play(api: Api) -> None:
    job_id = api.submit("transcribe", TRANSCRIBE).json()["id"]
    assert api.client.get(f"/v1/jobs/{job_id}/results").json()["source_audio"] is None  # not yet
    (task_id,) = api.world.dashscope.status
    api.world.dashscope.status[task_id] = "SUCCEEDED"
    api.world.orchestrator.sweep()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    audio = results["source_audio"]
    assert audio["key"] == TRANSCRIBE["source"]
    assert audio["url"].startswith(f"https://{BUCKET}.oss.example/{TRANSCRIBE['source']}?")
    assert audio["expires_at"] == results["outputs"]["json"]["expires_at"]


def test_a_finished_upload_links_its_normalised_audio(api: Api) -> None:
    provider, _ = provider_for(api.world, "on_upload", uses_dashscope=False)
    etag = api.world.oss.add(BUCKET, "inbox/talk.wma")
    accepted = upload_handler(provider)(oss_event(("inbox/talk.wma", etag, 10)), context())["accepted"]
    job_id = accepted[0]["job_id"]
    api.world.oss.finish(api.world.oss.submissions[0])
    api.world.timer()
    (task_id,) = api.world.dashscope.status
    api.world.dashscope.status[task_id] = "SUCCEEDED"
    api.world.timer()
    audio = api.client.get(f"/v1/jobs/{job_id}/results").json()["source_audio"]
    # The FLAC the recogniser heard (browsers play it; they may not play the upload's own format).
    assert audio["key"] == f"work/{job_id}/normalized.flac"


def test_other_jobs_have_no_source_audio(api: Api) -> None:
    job_id = api.submit("convert", CONVERT).json()["id"]
    api.world.oss.finish(api.world.oss.submissions[0], b"ID3-mp3")
    api.world.orchestrator.sweep()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert results["ready"] is True and results["source_audio"] is None

"""The API's routes: submissions, validation naming the field, idempotency, listing, jobs, results, and
the HTTP errors (404, 405, 413, upstream failures)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from shared.errors import ServiceError
from shared.jobs.model import JobState
from shared.pipeline.handlers import upload_handler
from tests.unit.functions.api_helpers import (
    CONVERT,
    MERGE,
    SPEECH,
    TOKEN,
    TRANSCRIBE,
    Api,
    error_of,
    open_api,
)
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for
from tests.unit.pipeline.fakes import make_world
from tests.unit.runtime.wsgi_helpers import call, make_environ

UNKNOWN_JOB = "j7ydecbtyzz0000000000000000"


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


# Submitting --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("job_type", "body"),
    [("convert", CONVERT), ("merge", MERGE), ("speech", SPEECH), ("transcribe", TRANSCRIBE)],
)
def test_a_submission_creates_and_starts_a_job(api: Api, job_type: str, body: dict[str, Any]) -> None:
    response = api.submit(job_type, body)
    assert response.status_code == 202
    job = response.json()
    assert (job["type"], job["state"]) == (job_type, "running")
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert "idempotency-replayed" not in response.headers
    started = {
        "convert": len(api.world.oss.submissions),
        "merge": len(api.world.oss.submissions),
        "speech": len(api.world.ice.submitted),
        "transcribe": len(api.world.dashscope.filetrans),
    }
    assert started[job_type] == 1


@pytest.mark.parametrize(
    ("job_type", "body", "field", "rule"),
    [
        ("convert", {"source": "media/a.wav", "params": {"f": "wav"}}, "params.f", "enum"),
        ("convert", {"source": "media/missing.wav", "params": {"f": "mp3"}}, "source", "object_exists"),
        ("convert", {"params": {"f": "mp3"}}, "source", "missing"),
        ("convert", {**CONVERT, "colour": "blue"}, "colour", "extra_forbidden"),
        ("merge", {"clips": [{"key": "media/a.wav"}], "params": {"f": "mp3"}}, "clips", "too_short"),
        ("merge", {**MERGE, "align": 5}, "align", "align_range"),
        ("speech", {"text": "   "}, "text", "empty"),
        ("speech", {"text": "hi", "volume": 101}, "volume", "less_than_equal"),
        ("transcribe", {"source": "media/a.wav", "language": "xx"}, "language", "enum"),
        (
            "transcribe",
            {"source": "media/a.wav", "mode": "sync", "enable_words": True},
            "enable_words",
            "words_need_filetrans",
        ),
    ],
)
def test_an_invalid_body_is_refused_naming_the_field_and_rule(
    api: Api, job_type: str, body: dict[str, Any], field: str, rule: str
) -> None:
    response = api.submit(job_type, body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("InvalidParameter", field)
    assert (error["problems"][0]["field"], error["problems"][0]["rule"]) == (field, rule)
    assert api.world.store.list().jobs == []


def test_a_body_that_is_not_json_is_invalid_json(api: Api) -> None:
    response = api.client.post(
        "/v1/jobs/convert", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    error = error_of(response)
    assert (response.status_code, error["code"], error["field"]) == (400, "InvalidJson", "body")


@pytest.mark.parametrize(("content", "rule"), [(b"", "required"), (b"[1, 2]", "object")])
def test_a_body_that_is_not_an_object_is_refused(api: Api, content: bytes, rule: str) -> None:
    response = api.client.post("/v1/jobs/speech", content=content)
    error = error_of(response)
    assert (error["code"], error["field"], error["problems"][0]["rule"]) == ("InvalidParameter", "body", rule)


def test_the_same_idempotency_key_and_body_answers_the_existing_job(api: Api) -> None:
    first = api.submit("convert", CONVERT, **{"Idempotency-Key": "order-42"})
    again = api.submit("convert", json.loads(json.dumps(CONVERT)), **{"Idempotency-Key": "order-42"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert len(api.world.oss.submissions) == 1


def test_a_replayed_key_answers_its_job_even_after_the_source_was_deleted(api: Api) -> None:
    first = api.submit("convert", CONVERT, **{"Idempotency-Key": "order-43"})
    del api.world.oss.objects[(BUCKET, CONVERT["source"])]  # the client cleaned up before its retry
    again = api.submit("convert", CONVERT, **{"Idempotency-Key": "order-43"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotency-replayed"] == "true"
    other = {**CONVERT, "params": {"f": "aac"}}
    conflicting = api.submit("convert", other, **{"Idempotency-Key": "order-43"})
    assert (conflicting.status_code, error_of(conflicting)["code"]) == (409, "IdempotencyConflict")


def test_the_same_idempotency_key_with_another_body_is_a_conflict(api: Api) -> None:
    api.submit("convert", CONVERT, **{"Idempotency-Key": "order-42"})
    other = {"source": "media/b.wav", "params": {"f": "mp3"}}
    response = api.submit("convert", other, **{"Idempotency-Key": "order-42"})
    error = error_of(response)
    assert (response.status_code, error["code"], error["field"]) == (
        409,
        "IdempotencyConflict",
        "Idempotency-Key",
    )
    assert len(api.world.store.list().jobs) == 1


def test_submissions_without_a_key_are_separate_jobs(api: Api) -> None:
    ids = {api.submit("convert", CONVERT).json()["id"] for _ in range(2)}
    assert len(ids) == 2


@pytest.mark.parametrize("key", ["k" * 256, "caf\u00e9", "   ", "tab\there"])
def test_a_malformed_idempotency_key_is_refused(api: Api, key: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": key}
    answer = call(
        api.handler,
        make_environ("POST", "/v1/jobs/convert", body=json.dumps(CONVERT).encode(), headers=headers),
    )
    error = answer.json()["error"]
    assert (answer.status, error["code"], error["field"]) == (400, "InvalidParameter", "Idempotency-Key")
    assert api.world.store.list().jobs == []


# Reading -------------------------------------------------------------------------------------------------


def test_listing_pages_newest_first_and_filters(api: Api) -> None:
    created = []
    for body in (CONVERT, SPEECH, CONVERT):
        api.world.clock.advance(seconds=1)
        created.append(api.submit("speech" if body is SPEECH else "convert", body).json()["id"])
    page = api.client.get("/v1/jobs", params={"limit": 2}).json()
    assert [job["id"] for job in page["jobs"]] == created[::-1][:2]
    rest = api.client.get("/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert ([job["id"] for job in rest["jobs"]], rest["next_cursor"]) == ([created[0]], None)
    speech = api.client.get("/v1/jobs", params={"type": "speech", "state": "running"}).json()
    assert [job["id"] for job in speech["jobs"]] == [created[1]]
    assert api.client.get("/v1/jobs", params={"state": "succeeded"}).json() == {
        "jobs": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("state=done", "state"),
        ("type=transcode", "type"),
        ("cursor=nope", "cursor"),
        ("states=running", "states"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_a_bad_listing_parameter_is_refused_by_name(api: Api, query: str, field: str) -> None:
    response = api.client.get(f"/v1/jobs?{query}")
    error = error_of(response)
    assert (response.status_code, error["code"], error["field"]) == (400, "InvalidParameter", field)


def test_a_job_is_read_by_its_id(api: Api) -> None:
    job_id = api.submit("convert", CONVERT).json()["id"]
    job = api.client.get(f"/v1/jobs/{job_id}").json()
    assert (job["id"], job["type"], job["steps"][0]["name"]) == (job_id, "convert", "convert")


@pytest.mark.parametrize("job_id", [UNKNOWN_JOB, "not-a-job-id"])
def test_an_unknown_job_is_not_found(api: Api, job_id: str) -> None:
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/results"):
        response = api.client.get(path)
        error = error_of(response)
        assert (response.status_code, error["code"], error["field"]) == (404, "JobNotFound", "job_id")


def test_an_unfinished_jobs_results_are_not_ready(api: Api) -> None:
    job_id = api.submit("convert", CONVERT).json()["id"]
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert (results["state"], results["ready"], results["outputs"], results["transcript"]) == (
        "running",
        False,
        {},
        None,
    )


def test_a_finished_conversion_links_its_audio(api: Api) -> None:
    job_id = api.submit("convert", CONVERT).json()["id"]
    api.world.oss.finish(api.world.oss.submissions[0], b"ID3-mp3")
    api.world.orchestrator.sweep()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert results["ready"] is True
    audio = results["outputs"]["audio"]
    assert audio["key"] == f"outputs/{job_id}/a.mp3"
    assert audio["url"].startswith(f"https://{BUCKET}.oss.example/outputs/{job_id}/a.mp3?")
    assert audio["expires_at"].startswith("2025-01-15T14:00")  # the fake clock plus 6 hours


def test_result_links_are_signed_anew_on_each_get_so_none_outlives_the_credentials_of_its_request(
    api: Api,
) -> None:
    """The function's STS credentials change between invocations; links are never stored, each GET signs
    them with the credentials of that invocation and starts their lifetime then."""
    job_id = api.submit("convert", CONVERT).json()["id"]
    api.world.oss.finish(api.world.oss.submissions[0], b"ID3-mp3")
    api.world.orchestrator.sweep()
    first = api.client.get(f"/v1/jobs/{job_id}/results").json()["outputs"]["audio"]["expires_at"]
    api.world.clock.advance(hours=5)
    second = api.client.get(f"/v1/jobs/{job_id}/results").json()["outputs"]["audio"]["expires_at"]
    assert (first[:16], second[:16]) == ("2025-01-15T14:00", "2025-01-15T19:00")
    backend = api.world.backend
    stored = b"".join(backend.get(key) or b"" for key in backend.list(""))
    assert stored and b"Signature=" not in stored  # no link is kept with the job


def test_a_finished_transcription_answers_its_transcript_inline_and_links_every_rendering(api: Api) -> None:
    job_id = api.submit("transcribe", TRANSCRIBE).json()["id"]
    (task_id,) = api.world.dashscope.status
    api.world.dashscope.status[task_id] = "SUCCEEDED"
    api.world.orchestrator.sweep()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert (results["state"], results["ready"]) == ("succeeded", True)
    assert sorted(results["outputs"]) == ["json", "srt", "txt", "vtt"]  # never the work/ intermediates
    transcript = results["transcript"]
    assert transcript["language"] == "en"
    assert "Doris Jackson" in transcript["channels"][0]["sentences"][0]["text"]


def test_the_upload_chains_transcripts_are_results_too(api: Api) -> None:
    provider, _ = provider_for(api.world, "on_upload", uses_dashscope=False)
    etag = api.world.oss.add(BUCKET, "inbox/talk.wav")
    job_id = upload_handler(provider)(oss_event(("inbox/talk.wav", etag, 10)), context())["accepted"][0][
        "job_id"
    ]
    api.world.oss.finish(api.world.oss.submissions[0])
    api.world.timer()
    (task_id,) = api.world.dashscope.status
    api.world.dashscope.status[task_id] = "SUCCEEDED"
    api.world.timer()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert results["outputs"]["txt"]["key"] == "outputs/talk.wav/transcript.txt"
    assert "normalized" not in results["outputs"] and results["transcript"] is not None


def test_a_failed_job_answers_its_error(api: Api) -> None:
    job_id = api.submit("transcribe", TRANSCRIBE).json()["id"]
    for _ in range(api.world.settings.max_attempts):  # a transient failure is resubmitted: fail each try
        for task_id in api.world.dashscope.status:
            api.world.dashscope.status[task_id] = "FAILED"
        api.world.timer()
    results = api.client.get(f"/v1/jobs/{job_id}/results").json()
    assert (results["state"], results["ready"]) == ("failed", False)
    assert results["error"]["code"] == "StepRetriesExhausted"
    assert "FILE_DOWNLOAD_FAILED" in results["error"]["message"]


# HTTP errors -------------------------------------------------------------------------------------------


def test_an_unknown_route_is_not_found(api: Api) -> None:
    response = api.client.get("/v2/jobs")
    assert (response.status_code, error_of(response)["code"]) == (404, "NotFound")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/jobs", "GET, HEAD"),
        ("PUT", "/v1/jobs/convert", "GET, HEAD, POST"),  # also the pattern /v1/jobs/{job_id}
        ("DELETE", f"/v1/jobs/{UNKNOWN_JOB}/results", "GET, HEAD"),
        ("POST", "/v1/health", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_not_allowed(api: Api, method: str, path: str, allowed: str) -> None:
    response = api.client.request(method, path)
    assert (response.status_code, error_of(response)["code"]) == (405, "MethodNotAllowed")
    assert response.headers["allow"] == allowed


def test_a_body_over_the_limit_is_too_large(api: Api) -> None:
    response = api.client.post("/v1/jobs/speech", content=b"{" + b" " * (1024 * 1024) + b"}")
    error = error_of(response)
    assert (response.status_code, error["code"], error["field"]) == (413, "PayloadTooLarge", "body")


def test_a_head_request_answers_without_a_body(api: Api) -> None:
    response = api.anonymous.head("/v1/health")
    assert (response.status_code, response.content) == (200, b"")


@pytest.mark.parametrize(
    ("retryable", "status", "code"), [(True, 503, "ServiceUnavailable"), (False, 502, "UpstreamError")]
)
def test_a_failing_cloud_service_is_an_upstream_error(
    api: Api, monkeypatch: pytest.MonkeyPatch, retryable: bool, status: int, code: str
) -> None:
    def head(bucket: str, key: str) -> Any:
        raise ServiceError("no", service="oss", code="Boom", status=status, retryable=retryable)

    monkeypatch.setattr(api.world.oss, "head_object", head)
    response = api.submit("convert", CONVERT)
    assert (response.status_code, error_of(response)["code"]) == (status, code)


@pytest.mark.parametrize(
    "environment",
    [{"DASHSCOPE_API_KEY": ""}, {"AUDIOCHAIN_WORK_PREFIX": "inbox/work/"}, {"AUDIOCHAIN_REGION": "Mars"}],
)
def test_a_misconfigured_function_answers_an_internal_error_and_says_little(
    environment: dict[str, str],
) -> None:
    for api in open_api(make_world(), **environment):
        response = api.client.get("/v1/jobs")
        error = error_of(response)
        assert (response.status_code, error["code"]) == (500, "InternalError")
        assert not any(name in error["message"] for name in ("DASHSCOPE", "work_prefix", "region"))
        assert api.builder.builds == []
        health = api.anonymous.get("/v1/health")
        assert (health.status_code, error_of(health)["code"]) == (503, "ServiceUnavailable")


# Function Compute's request shape ----------------------------------------------------------------------


def test_the_default_trigger_urls_prefix_is_accepted_and_kept_in_locations(api: Api) -> None:
    prefix = "/2016-08-15/proxy/audiochain.LATEST/api"
    environ = make_environ(
        "POST",
        f"{prefix}/v1/jobs/convert",
        body=json.dumps(CONVERT).encode(),
        headers={"Authorization": f"Bearer {TOKEN}"},
        context=context("api", request_id="fc-request-1"),
    )
    answer = call(api.handler, environ)
    assert answer.status == 202
    assert answer.headers["location"] == f"{prefix}/v1/jobs/{answer.json()['id']}"
    assert api.builder.builds[-1].credentials.access_key_id == "STS.AccessKeyFromContext"
    listed = call(
        api.handler, make_environ("GET", f"{prefix}/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
    )
    assert listed.status == 200 and len(listed.json()["jobs"]) == 1


def test_errors_carry_fcs_request_id(api: Api) -> None:
    environ = make_environ("GET", "/v1/jobs/nope", context=context("api", request_id="fc-request-7"))
    answer = call(api.handler, environ)
    assert answer.json()["error"]["request_id"] == "fc-request-7"


def test_the_job_states_are_those_the_store_reports(api: Api) -> None:
    job_id = api.submit("speech", SPEECH).json()["id"]
    assert api.world.store.get(job_id).state is JobState.RUNNING


@pytest.mark.parametrize(
    ("job_type", "body", "field"),
    [
        ("convert", {"source": "a.wav", "params": {"f": "mp3"}}, "source"),
        ("transcribe", {"source": "private/a.wav"}, "source"),
        ("convert", {"source": "jobs/x/job.json", "params": {"f": "mp3"}}, "source"),
        ("merge", {"clips": [{"key": "media/a.wav"}, {"key": "work/j/x.wav"}], "params": {"f": "mp3"}},
         "clips[1].key"),
    ],
)  # fmt: skip
def test_a_source_outside_the_readable_folders_is_refused_naming_the_field(
    api: Api, job_type: str, body: dict[str, Any], field: str
) -> None:
    # The role may read sources only under the source prefix, the inbox and the outputs (template.yaml's
    # policy is written from the same SourcePrefix): anything else would fail on RAM after a 202.
    api.world.oss.add(BUCKET, "a.wav")

    response = api.submit(job_type, body)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["field"]) == ("InvalidParameter", field)
    assert error["problems"][0]["rule"] == "source_not_readable" and "'media/'" in error["message"]
    assert api.world.store.list().jobs == []


def test_sources_under_the_inbox_and_the_outputs_are_readable(api: Api) -> None:
    for key in ("inbox/talk.wav", "outputs/j1/converted.mp3"):
        api.world.oss.add(BUCKET, key)
        assert api.submit("convert", {"source": key, "params": {"f": "mp3"}}).status_code == 202


def test_a_speech_jobs_description_reaches_ice_and_shows_on_the_job(api: Api) -> None:
    description = "Chapter 3 narration — 第三章"
    created = api.submit("speech", {**SPEECH, "description": description})
    assert created.status_code == 202
    assert created.json()["input"]["description"] == description
    (request,) = api.world.ice.submitted
    assert request.description == description
    assert api.client.get(f"/v1/jobs/{created.json()['id']}").json()["input"]["description"] == description


def test_a_speech_description_over_1024_bytes_is_refused_naming_it(api: Api) -> None:
    refused = api.submit("speech", {**SPEECH, "description": "章" * 342})  # 1,026 bytes of UTF-8
    assert refused.status_code == 400
    error = error_of(refused)
    assert error["field"] == "description" and "1024 bytes" in error["message"]
    assert api.world.ice.submitted == []

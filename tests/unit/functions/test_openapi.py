"""The OpenAPI document: every route in it, every error code documented, and real answers valid against
its schemas (checked with tests/unit/functions/schema_check.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from shared.api.errors import ERROR_CATALOGUE, ApiErrorCode
from shared.api.openapi import build_openapi
from shared.api.routes import OPERATIONS, openapi_document
from tests.unit.functions.api_helpers import CONVERT, MERGE, SPEECH, TRANSCRIBE, Api, open_api
from tests.unit.functions.schema_check import SchemaError, validate
from tests.unit.pipeline.fakes import make_world

DOCUMENT = openapi_document()
JOB_ID = "j7ydecbtyzz0000000000000000"


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


def schema_of(path: str, method: str, status: int) -> dict[str, Any]:
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    schema: dict[str, Any] = responses[str(status)]["content"]["application/json"]["schema"]
    return schema


def check(response: httpx.Response, path: str) -> None:
    validate(response.json(), schema_of(path, response.request.method, response.status_code), DOCUMENT)


def documented_operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item}


def test_every_route_is_documented_and_nothing_else() -> None:
    assert documented_operations() == {(op.method, op.path) for op in OPERATIONS}
    ids = [item["operationId"] for path in DOCUMENT["paths"].values() for item in path.values()]
    assert len(ids) == len(set(ids)) == len(OPERATIONS)


def test_every_documented_route_is_served(api: Api) -> None:
    for method, path in documented_operations():
        concrete = path.replace("{job_id}", JOB_ID)
        response = api.client.request(method, concrete, json={} if method == "POST" else None)
        code = response.json().get("error", {}).get("code") if response.status_code >= 400 else None
        assert code not in ("NotFound", "MethodNotAllowed"), f"{method} {path} is documented but not routed"


def test_the_routes_documented_are_the_routes_the_router_serves(api: Api) -> None:
    patterns = {
        (method, re.compile("^" + re.sub(r"\\{[a-z_]+\\}", "[^/]+", re.escape(path)) + "$"))
        for method, path in documented_operations()
    }
    for method in ("GET", "POST", "PUT", "DELETE"):
        for path in (
            "/v1/jobs/merge",
            "/v1/jobs",
            "/v1/health",
            "/openapi.json",
            f"/v1/jobs/{JOB_ID}/results",
        ):
            response = api.client.request(method, path, json={} if method in ("POST", "PUT") else None)
            routed = (
                response.status_code not in (404, 405) or response.json()["error"]["code"] == "JobNotFound"
            )
            documented = any(m == method and pattern.match(path) for m, pattern in patterns)
            assert routed == documented, (method, path)


def test_every_error_code_is_documented_with_its_status() -> None:
    listed = {(item["code"], item["status"]) for item in DOCUMENT["x-error-codes"]}
    assert listed == {(info.code.value, info.status) for info in ERROR_CATALOGUE.values()}
    assert set(DOCUMENT["components"]["schemas"]["ApiErrorCode"]["enum"]) == {
        code.value for code in ApiErrorCode
    }
    for code in ApiErrorCode:
        assert f"| `{code.value}` | {ERROR_CATALOGUE[code].status} |" in DOCUMENT["info"]["description"]
    per_operation = {
        code
        for item in DOCUMENT["paths"].values()
        for operation in item.values()
        for answer in operation["responses"].values()
        for code in answer.get("x-error-codes", ())
    }
    # Unknown routes and wrong methods belong to no operation.
    assert per_operation | {"NotFound", "MethodNotAllowed"} == {code.value for code in ApiErrorCode}


def test_each_documented_error_status_matches_its_codes() -> None:
    for item in DOCUMENT["paths"].values():
        for operation in item.values():
            for status, answer in operation["responses"].items():
                for code in answer.get("x-error-codes", ()):
                    assert ERROR_CATALOGUE[ApiErrorCode(code)].status == int(status)


def test_protected_routes_need_the_bearer_token_and_public_ones_do_not() -> None:
    assert DOCUMENT["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The function's AUDIOCHAIN_API_TOKEN.",
    }
    assert DOCUMENT["security"] == [{"bearerAuth": []}]
    public = {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if operation.get("security") == []
    }
    assert public == {("GET", "/v1/health"), ("GET", "/openapi.json")}


def test_the_document_is_openapi_3_1_and_every_reference_resolves() -> None:
    assert DOCUMENT["openapi"] == "3.1.0"
    text = json.dumps(DOCUMENT)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in DOCUMENT["components"]["schemas"], ref
    assert build_openapi(OPERATIONS) == DOCUMENT  # generated, deterministic


def test_the_openapi_route_serves_this_document(api: Api) -> None:
    assert api.anonymous.get("/openapi.json").json() == json.loads(json.dumps(DOCUMENT))


def test_the_listing_parameters_come_from_the_query_model() -> None:
    parameters = DOCUMENT["paths"]["/v1/jobs"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in parameters] == [
        ("type", "query"),
        ("state", "query"),
        ("limit", "query"),
        ("cursor", "query"),
        ("source", "query"),
    ]
    limit = parameters[2]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 20)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/jobs/convert", CONVERT),
        ("/v1/jobs/merge", MERGE),
        ("/v1/jobs/speech", SPEECH),
        ("/v1/jobs/transcribe", TRANSCRIBE),
    ],
)
def test_request_bodies_the_api_accepts_match_their_schema(path: str, body: dict[str, Any]) -> None:
    schema = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    validate(body, schema, DOCUMENT)
    with pytest.raises(SchemaError):
        validate({**body, "unknown": 1}, schema, DOCUMENT)


def test_real_answers_validate_against_their_documented_schemas(api: Api) -> None:
    check(api.anonymous.get("/v1/health"), "/v1/health")
    check(api.anonymous.get("/openapi.json"), "/openapi.json")
    submitted = {}
    for job_type, body in (
        ("convert", CONVERT),
        ("merge", MERGE),
        ("speech", SPEECH),
        ("transcribe", TRANSCRIBE),
    ):
        response = api.submit(job_type, body, **{"Idempotency-Key": f"key-{job_type}"})
        check(response, f"/v1/jobs/{job_type}")
        submitted[job_type] = response.json()["id"]
        check(api.submit(job_type, body, **{"Idempotency-Key": f"key-{job_type}"}), f"/v1/jobs/{job_type}")
    (task_id,) = api.world.dashscope.status
    api.world.dashscope.status[task_id] = "SUCCEEDED"
    api.world.oss.finish(api.world.oss.submissions[0])
    api.world.orchestrator.sweep()
    check(api.client.get("/v1/jobs", params={"limit": 3}), "/v1/jobs")
    for job_id in submitted.values():
        check(api.client.get(f"/v1/jobs/{job_id}"), "/v1/jobs/{job_id}")
        check(api.client.get(f"/v1/jobs/{job_id}/results"), "/v1/jobs/{job_id}/results")
    transcript = api.client.get(f"/v1/jobs/{submitted['transcribe']}/results").json()["transcript"]
    assert transcript is not None  # the richest answer was among those checked


def test_real_error_answers_validate_against_their_documented_schemas(api: Api) -> None:
    api.submit("convert", CONVERT, **{"Idempotency-Key": "k"})
    answers = [
        (api.submit("convert", {"source": "media/a.wav", "params": {"f": "wav"}}), "/v1/jobs/convert"),
        (api.client.post("/v1/jobs/merge", content=b"{"), "/v1/jobs/merge"),
        (api.anonymous.get("/v1/jobs"), "/v1/jobs"),
        (api.client.get("/v1/jobs", headers={"Authorization": "Bearer wrong"}), "/v1/jobs"),
        (api.client.get(f"/v1/jobs/{JOB_ID}"), "/v1/jobs/{job_id}"),
        (
            api.submit("convert", {**CONVERT, "params": {"f": "aac"}}, **{"Idempotency-Key": "k"}),
            "/v1/jobs/convert",
        ),
        (api.client.post("/v1/jobs/speech", content=b" " * (1024 * 1024 + 1)), "/v1/jobs/speech"),
    ]
    assert [response.status_code for response, _ in answers] == [400, 400, 401, 401, 404, 409, 413]
    for response, path in answers:
        check(response, path)
    error_document = {"$ref": "#/components/schemas/ErrorDocument"}
    validate(api.client.delete("/v1/jobs").json(), error_document, DOCUMENT)
    validate(api.client.get("/v1/nowhere").json(), error_document, DOCUMENT)


def test_the_checker_refuses_an_answer_that_breaks_the_schema(api: Api) -> None:
    job = api.submit("convert", CONVERT).json()
    schema = schema_of("/v1/jobs/{job_id}", "GET", 200)
    broken = [
        {key: value for key, value in job.items() if key != "state"},
        {**job, "state": "paused"},
        {**job, "created_at": "yesterday"},
        {**job, "steps": [{"index": "zero"}]},
    ]
    for answer in broken:
        with pytest.raises((SchemaError, ValueError)):
            validate(answer, schema, DOCUMENT)
    with pytest.raises(SchemaError):
        validate(
            {"error": {"code": "Oops", "message": "", "field": None, "request_id": None}},
            {"$ref": "#/components/schemas/ErrorDocument"},
            DOCUMENT,
        )

"""FC 3.0 HTTP triggers: the `api` function's handler answers the JSON event FC 3.0's built-in runtimes send
(the shape of the Serverless Devs fc3 component's sample, src/subCommands/trigger-template/event-template/
http.json in devsapp/fc3) with a JSON response document, through the same app FC 2.0 reaches by WSGI."""

from __future__ import annotations

import base64
import copy
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from shared.runtime.fc3_http import is_http_event
from tests.unit.functions.api_helpers import TOKEN, Api, open_api
from tests.unit.pipeline.fakes import make_world

SAMPLE = json.loads((Path(__file__).parents[2] / "events" / "fc3" / "http.json").read_text(encoding="utf-8"))
# FC 3.0's Python context: request_id, credentials, function, region, account_id; no `service` any more.
CONTEXT = {
    "request_id": "1-6721f3c0-0a1b2c3d4e5f60718293a4b5",
    "function": {"name": "audiochain-api", "handler": "index.handler", "memory": 512, "timeout": 60},
    "region": "cn-hangzhou",
    "account_id": "1234567890123456",
    "credentials": {
        "access_key_id": "STS.ExampleKeyId",
        "access_key_secret": "fc3-context-secret-5d1c",
        "security_token": "fc3-context-token-7e2a",
    },
}


def event(
    method: str, path: str, body: bytes | str = b"", binary: bool = False, **headers: str
) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(SAMPLE)
    document["rawPath"] = path
    document["requestContext"]["http"].update(method=method, path=path)
    document["headers"].update(headers)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    document["isBase64Encoded"] = binary
    document["body"] = base64.b64encode(raw).decode("ascii") if binary else raw.decode("utf-8")
    return document


def invoke(handler: Any, request: Any) -> dict[str, Any]:
    """Call the handler the way FC 3.0's runtime does: (event, context), a JSON document back."""
    answer: dict[str, Any] = handler(request, CONTEXT)
    assert isinstance(answer, dict)
    return answer


@pytest.fixture
def api() -> Any:
    yield from open_api(make_world())


def test_the_deployed_module_answers_the_vendor_sample_health_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDIOCHAIN_API_TOKEN", TOKEN)
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-example")  # as the stack's environment sets it
    module = importlib.import_module("functions.api.index")

    answer = invoke(module.handler, SAMPLE)

    assert answer["statusCode"] == 200 and answer["isBase64Encoded"] is False
    assert json.loads(answer["body"])["status"] == "ok"


def test_the_deployed_module_refuses_an_unauthenticated_submission_with_the_json_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDIOCHAIN_API_TOKEN", TOKEN)
    module = importlib.import_module("functions.api.index")
    submission = event("POST", "/v1/jobs/convert", '{"source": "media/a.wav", "params": {"f": "mp3"}}')

    answer = invoke(module.handler, json.dumps(submission).encode("utf-8"))  # bytes, as the runtime passes

    assert answer["statusCode"] == 401
    headers = {name.lower(): value for name, value in answer["headers"].items()}
    assert headers["www-authenticate"].startswith("Bearer")
    error = json.loads(answer["body"])["error"]
    assert (error["code"], error["field"]) == ("Unauthenticated", "Authorization")


def test_a_base64_body_reaches_the_app_decoded_and_the_job_is_accepted(api: Api) -> None:
    body = json.dumps({"source": "media/a.wav", "params": {"f": "mp3"}})
    submission = event(
        "POST", "/v1/jobs/convert", body.encode("utf-8"), binary=True,
        Authorization=f"Bearer {TOKEN}", **{"Content-Type": "application/json"},
    )  # fmt: skip

    answer = invoke(api.handler, submission)

    assert answer["statusCode"] == 202, answer
    assert json.loads(answer["body"])["type"] == "convert"


def test_query_parameters_arrive_as_the_query_string(api: Api) -> None:
    listing = event("GET", "/v1/jobs", Authorization=f"Bearer {TOKEN}")
    listing["queryParameters"] = {"limit": "1"}

    answer = invoke(api.handler, listing)

    assert answer["statusCode"] == 200
    assert "jobs" in json.loads(answer["body"])


def test_a_malformed_event_is_a_400_naming_the_field(api: Api) -> None:
    broken = event("POST", "/v1/jobs/convert", "x", binary=False)
    broken["isBase64Encoded"] = True
    broken["body"] = "not base64!"

    answer = invoke(api.handler, broken)

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["field"] == "body"


def test_fc2_wsgi_calls_still_work_and_are_not_taken_for_fc3_events(api: Api) -> None:
    assert api.anonymous.get("/v1/health").status_code == 200
    assert not is_http_event({"REQUEST_METHOD": "GET", "PATH_INFO": "/v1/health"})
    assert is_http_event(SAMPLE) and is_http_event(json.dumps(SAMPLE))

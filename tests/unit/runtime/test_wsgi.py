from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.logging import configure_logging, reset_logging
from shared.runtime.context import FcContext
from shared.runtime.wsgi import HttpError, HttpRequest, HttpResponse, Router, json_response
from tests.unit.runtime.wsgi_helpers import call, make_environ


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="debug")
    yield stream
    reset_logging()


class JobView(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    job_id: str = Field(alias="JobId")


def build_router(max_body_bytes: int = 64) -> Router:
    router = Router(max_body_bytes=max_body_bytes)
    seen: dict[str, HttpRequest] = {}

    @router.route("GET", "/jobs/{job_id}")
    def get_job(request: HttpRequest) -> HttpResponse:
        seen["request"] = request
        return json_response({"job_id": request.path_params["job_id"]})

    @router.route("POST", "/jobs")
    def submit(request: HttpRequest) -> HttpResponse:
        document = request.json()
        if "format" not in document:
            raise InvalidRequestError.single("format", "required", "is required", "submit")
        return json_response({"accepted": document["format"]}, status=202)

    @router.route("DELETE", "/jobs/{job_id}")
    def delete(request: HttpRequest) -> None:
        return None

    @router.route("GET", "/jobs/{job_id}/view")
    def view(request: HttpRequest) -> JobView:
        return JobView(job_id=request.path_params["job_id"])

    @router.route("GET", "/boom")
    def boom(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("database password is hunter2")

    @router.route("GET", "/teapot")
    def teapot(request: HttpRequest) -> HttpResponse:
        raise HttpError(409, "JobConflict", "job already exists", field="job_id")

    @router.route("GET", "/oss/{mode}")
    def oss(request: HttpRequest) -> HttpResponse:
        retryable = request.path_params["mode"] == "busy"
        raise ServiceError("OSS said no", service="oss", code="SlowDown", status=503, retryable=retryable)

    router.seen = seen  # type: ignore[attr-defined]
    return router


def test_a_route_with_a_path_parameter_answers_json_with_a_length() -> None:
    answer = call(build_router().wsgi_app, make_environ("GET", "/jobs/job-42"))
    assert answer.status == 200
    assert answer.json() == {"job_id": "job-42"}
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert answer.headers["content-length"] == str(len(answer.body))


def test_the_request_exposes_query_headers_client_and_context() -> None:
    router = build_router()
    context = FcContext.local(request_id="req-7").to_fc_dict()
    environ = make_environ(
        "GET", "/jobs/j1", query="tag=a&tag=b&empty=", headers={"X-Custom": "yes"}, context=context
    )
    call(router.wsgi_app, environ)
    request: HttpRequest = router.seen["request"]  # type: ignore[attr-defined]
    assert request.query["tag"] == "a"
    assert request.query.get_all("tag") == ["a", "b"]
    assert request.query["empty"] == ""
    assert request.headers["x-custom"] == request.headers["X-CUSTOM"] == "yes"
    assert request.headers["content-type"] == "application/json"
    assert request.client_ip == "203.0.113.7"
    assert request.request_uri == "https://api.example.com/jobs/j1?tag=a&tag=b&empty="
    assert request.fc_context is not None and request.fc_context.request_id == "req-7"
    assert request.request_id == "req-7"


def test_a_json_body_is_read_up_to_content_length() -> None:
    answer = call(build_router().wsgi_app, make_environ("POST", "/jobs", body=b'{"format": "mp3"}'))
    assert (answer.status, answer.json()) == (202, {"accepted": "mp3"})


def test_an_invalid_request_error_becomes_a_400_naming_the_field() -> None:
    environ = make_environ("POST", "/jobs", body=b"{}", headers={"x-fc-request-id": "hdr-1"})
    answer = call(build_router().wsgi_app, environ)
    assert answer.status == 400
    error = answer.json()["error"]
    assert (error["code"], error["field"], error["request_id"]) == ("InvalidParameter", "format", "hdr-1")
    assert error["problems"] == [{"field": "format", "rule": "required", "message": "is required"}]


def test_a_malformed_json_body_is_a_400_on_the_body_field() -> None:
    answer = call(build_router().wsgi_app, make_environ("POST", "/jobs", body=b"{oops"))
    error = answer.json()["error"]
    assert (answer.status, error["field"], error["problems"][0]["rule"]) == (400, "body", "json")


def test_a_json_body_nested_too_deep_to_parse_is_a_400_on_the_body_field() -> None:
    router = build_router(max_body_bytes=1024 * 1024)
    answer = call(router.wsgi_app, make_environ("POST", "/jobs", body=b"[" * 200_000))
    error = answer.json()["error"]
    assert (answer.status, error["field"], error["problems"][0]["rule"]) == (400, "body", "json")


def test_a_body_above_the_limit_is_refused_with_413_before_being_read() -> None:
    environ = make_environ("POST", "/jobs", body=b"x" * 65)
    answer = call(build_router(max_body_bytes=64).wsgi_app, environ)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "PayloadTooLarge"
    assert environ["wsgi.input"].tell() == 0


def test_a_body_without_content_length_is_still_bounded() -> None:
    environ = make_environ("POST", "/jobs", body=b"x" * 100, content_length="")
    assert call(build_router(max_body_bytes=64).wsgi_app, environ).status == 413


def test_a_malformed_content_length_is_a_400() -> None:
    answer = call(build_router().wsgi_app, make_environ("POST", "/jobs", body=b"{}", content_length="ten"))
    error = answer.json()["error"]
    assert (answer.status, error["code"], error["field"]) == (400, "InvalidContentLength", "Content-Length")


def test_a_body_shorter_than_announced_is_a_400() -> None:
    answer = call(build_router().wsgi_app, make_environ("POST", "/jobs", body=b"{}", content_length="20"))
    assert (answer.status, answer.json()["error"]["code"]) == (400, "IncompleteBody")


def test_an_unknown_path_is_a_404_with_the_request_id() -> None:
    context = {"request_id": "req-404"}
    answer = call(build_router().wsgi_app, make_environ("GET", "/nowhere", context=context))
    assert answer.status == 404
    assert answer.json() == {
        "error": {
            "code": "NotFound",
            "message": "no route for GET /nowhere",
            "field": None,
            "request_id": "req-404",
        }
    }


def test_a_known_path_with_the_wrong_method_is_a_405_listing_allowed_methods() -> None:
    answer = call(build_router().wsgi_app, make_environ("PUT", "/jobs/j1"))
    assert answer.status == 405
    assert answer.json()["error"]["code"] == "MethodNotAllowed"
    assert answer.headers["allow"] == "DELETE, GET, HEAD"


def test_head_uses_the_get_route_without_a_body() -> None:
    answer = call(build_router().wsgi_app, make_environ("HEAD", "/jobs/j1"))
    assert answer.status == 200
    assert answer.body == b""
    assert answer.headers["content-length"] == str(len(b'{"job_id":"j1"}'))


def test_a_trailing_slash_reaches_the_same_route() -> None:
    assert call(build_router().wsgi_app, make_environ("GET", "/jobs/j1/")).json() == {"job_id": "j1"}


def test_a_utf8_path_delivered_as_latin1_is_recovered() -> None:
    path = "/jobs/café".encode().decode("latin-1")  # what PEP 3333 servers put in PATH_INFO
    assert call(build_router().wsgi_app, make_environ("GET", path)).json() == {"job_id": "café"}


def test_a_handler_returning_none_answers_204() -> None:
    answer = call(build_router().wsgi_app, make_environ("DELETE", "/jobs/j1"))
    assert (answer.status, answer.body) == (204, b"")


def test_a_handler_returning_a_model_answers_it_by_alias() -> None:
    assert call(build_router().wsgi_app, make_environ("GET", "/jobs/j9/view")).json() == {"JobId": "j9"}


def test_an_unexpected_error_is_a_500_that_hides_its_details_but_gives_the_request_id(
    quiet_logs: io.StringIO,
) -> None:
    answer = call(build_router().wsgi_app, make_environ("GET", "/boom", headers={"x-fc-request-id": "r-500"}))
    error = answer.json()["error"]
    assert (answer.status, error["code"], error["request_id"]) == (500, "InternalError", "r-500")
    assert "hunter2" not in answer.body.decode()
    assert "RuntimeError" in quiet_logs.getvalue()


def test_an_http_error_raised_by_a_handler_keeps_its_status_code_and_field() -> None:
    answer = call(build_router().wsgi_app, make_environ("GET", "/teapot"))
    error = answer.json()["error"]
    assert (answer.status, error["code"], error["field"]) == (409, "JobConflict", "job_id")


@pytest.mark.parametrize(
    ("mode", "status", "code"), [("busy", 503, "ServiceUnavailable"), ("no", 502, "UpstreamError")]
)
def test_a_service_error_maps_to_502_or_503_by_retryability(mode: str, status: int, code: str) -> None:
    answer = call(build_router().wsgi_app, make_environ("GET", f"/oss/{mode}"))
    assert (answer.status, answer.json()["error"]["code"]) == (status, code)


def test_a_malformed_fc_context_is_our_failure_not_the_callers() -> None:
    answer = call(build_router().wsgi_app, make_environ("GET", "/jobs/j1", context={"function": {}}))
    assert (answer.status, answer.json()["error"]["code"]) == (500, "InternalError")


@pytest.mark.parametrize(
    ("method", "pattern"),
    [("GET", "jobs"), ("GET", "/a/{x}/{x}"), ("G E T", "/a"), ("GET", "/jobs/{job_id}")],
)
def test_impossible_routes_are_refused_at_registration(method: str, pattern: str) -> None:
    router = build_router()
    with pytest.raises(ConfigurationError):
        router.add_route(method, pattern, lambda request: None)


def test_the_request_can_be_built_without_a_body_stream() -> None:
    request = HttpRequest.from_environ({"REQUEST_METHOD": "get"})
    assert (request.method, request.path, request.body, request.request_id) == ("GET", "/", b"", None)


def test_an_empty_body_read_as_json_is_refused_as_required() -> None:
    request = HttpRequest.from_environ(make_environ("POST", "/jobs"))
    with pytest.raises(InvalidRequestError) as caught:
        request.json()
    assert (caught.value.field, caught.value.rule) == ("body", "required")


def test_json_response_serialises_models_enums_and_dates() -> None:
    from datetime import datetime, timezone
    from enum import Enum

    class Colour(str, Enum):
        RED = "red"

    data: dict[str, Any] = {
        "m": JobView(job_id="j"),
        "c": Colour.RED,
        "t": datetime(2024, 1, 1, tzinfo=timezone.utc),
    }
    assert json_response(data).body == b'{"m":{"JobId":"j"},"c":"red","t":"2024-01-01T00:00:00+00:00"}'


def test_a_json_body_with_an_integer_too_long_to_convert_is_a_bad_request() -> None:
    import io

    from shared.errors import InvalidRequestError
    from shared.runtime.wsgi import HttpRequest

    body = b"1" * 5000
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    request = HttpRequest.from_environ(environ, max_body_bytes=1 << 20)
    with pytest.raises(InvalidRequestError) as caught:
        request.json()
    assert (caught.value.field, caught.value.rule) == ("body", "json")

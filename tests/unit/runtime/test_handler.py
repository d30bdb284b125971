from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import structlog

from shared.auth.credentials import Credentials
from shared.errors import InvalidRequestError, ServiceError
from shared.events.oss import OssEvent
from shared.logging import configure_logging, get_logger, reset_logging
from shared.runtime import handler as handler_module
from shared.runtime.context import FcContext
from shared.runtime.handler import bind_correlation, fc_handler
from shared.runtime.http_handler import http_handler
from tests.unit.runtime.wsgi_helpers import call, make_environ

SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream, level="debug")
    yield stream
    reset_logging()


@pytest.fixture(autouse=True)
def fresh_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handler_module, "_cold_start", handler_module._ColdStart())


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def context(request_id: str = "req-1", **kwargs: Any) -> dict[str, Any]:
    return FcContext.local(request_id=request_id, function_name="on_upload", **kwargs).to_fc_dict()


def test_the_function_gets_the_event_bytes_and_a_typed_context(logs: io.StringIO) -> None:
    received: dict[str, Any] = {}

    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> str:
        received.update(event=event, ctx=ctx)
        return "done"

    assert handler(b'{"a": 1}', context(retry_count=1)) == "done"
    assert received["event"] == b'{"a": 1}'
    assert isinstance(received["ctx"], FcContext)
    assert received["ctx"].retry_count == 1


def test_the_log_context_is_bound_during_the_invocation_and_gone_after(logs: io.StringIO) -> None:
    seen: dict[str, Any] = {}

    @fc_handler("on_upload")
    def handler(event: bytes, ctx: FcContext) -> None:
        bind_correlation(job_id="job-9")
        seen.update(structlog.contextvars.get_contextvars())
        get_logger("test").info("working")

    handler(b"{}", context("req-77", retry_count=2))
    assert seen == {
        "request_id": "req-77",
        "function": "on_upload",
        "cold_start": True,
        "retry_count": 2,
        "job_id": "job-9",
    }
    assert structlog.contextvars.get_contextvars() == {}
    (line,) = [line for line in lines(logs) if line["event"] == "working"]
    assert (line["request_id"], line["job_id"], line["logger"]) == ("req-77", "job-9", "test")


def test_cold_start_is_true_only_for_the_first_invocation_of_the_process(logs: io.StringIO) -> None:
    flags: list[bool] = []

    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        flags.append(structlog.contextvars.get_contextvars()["cold_start"])

    for _ in range(3):
        handler(b"", context())
    assert flags == [True, False, False]


def test_exactly_one_of_many_concurrent_first_invocations_is_the_cold_start() -> None:
    cold_start = handler_module._ColdStart()
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def claim() -> None:
        barrier.wait()
        results.append(cold_start.claim())

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]


def test_concurrent_invocations_in_threads_never_share_log_context(logs: io.StringIO) -> None:
    barrier = threading.Barrier(4)

    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        bind_correlation(job_id="job-for-" + ctx.request_id)
        barrier.wait()  # every invocation has bound its ids before any of them logs
        get_logger("test").info("concurrent")

    threads = [threading.Thread(target=handler, args=(b"", context(f"req-{n}"))) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = [line for line in lines(logs) if line["event"] == "concurrent"]
    assert len(concurrent) == 4
    assert all(line["job_id"] == "job-for-" + line["request_id"] for line in concurrent)
    assert {line["request_id"] for line in concurrent} == {"req-0", "req-1", "req-2", "req-3"}


def test_a_malformed_event_is_refused_without_raising_so_fc_does_not_retry_it(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> int:
        return len(OssEvent.from_bytes(event).events)

    result = handler(b'{"events": [{"eventName": "ObjectCreated:PutObject", "oss": {}}]}', context("req-bad"))
    assert isinstance(result, dict)
    assert result["status"] == "refused"
    assert result["request_id"] == "req-bad"
    assert result["error"]["code"] == "InvalidParameter"
    assert result["error"]["field"] == "events[0].oss.bucket"
    assert {p["field"] for p in result["error"]["problems"]} == {
        "events[0].oss.bucket",
        "events[0].oss.object",
    }
    json.dumps(result)  # FC JSON-encodes the return value
    (refused,) = [line for line in lines(logs) if line["event"] == "event.refused"]
    assert refused["level"] == "warning"


def test_a_retryable_service_error_is_re_raised_for_fc_to_retry(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        raise ServiceError("busy", service="imm", code="Throttling", retryable=True)

    with pytest.raises(ServiceError):
        handler(b"", context())
    (line,) = [line for line in lines(logs) if line["event"] == "invocation.retryable_failure"]
    assert (line["service"], line["code"]) == ("imm", "Throttling")


def test_a_non_retryable_service_error_is_logged_with_its_traceback_and_re_raised(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        raise ServiceError("denied", service="oss", code="AccessDenied", status=403)

    with pytest.raises(ServiceError):
        handler(b"", context())
    (line,) = [line for line in lines(logs) if line["event"] == "invocation.failed"]
    assert "Traceback" in line["exception"]


def test_any_other_error_is_logged_with_its_traceback_and_re_raised(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        raise KeyError("surprise")

    with pytest.raises(KeyError):
        handler(b"", context("req-err"))
    (line,) = [line for line in lines(logs) if line["event"] == "invocation.failed"]
    assert line["level"] == "error"
    assert line["request_id"] == "req-err"
    assert "KeyError" in line["exception"]


def test_a_broken_context_is_raised_not_refused(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        raise AssertionError("never called")

    with pytest.raises(InvalidRequestError):
        handler(b"", {"function": {"name": "x"}})


@pytest.mark.parametrize(
    ("decorator_name", "ctx_name", "expected"),
    [("api", "from_context", "api"), (None, "from_context", "from_context"), (None, "", "my_function")],
)
def test_the_logged_function_name_prefers_the_decorator_then_the_context(
    logs: io.StringIO, decorator_name: str | None, ctx_name: str, expected: str
) -> None:
    names: list[str] = []

    def my_function(event: bytes, ctx: FcContext) -> None:
        names.append(structlog.contextvars.get_contextvars()["function"])

    fc_handler(decorator_name)(my_function)(b"", {"request_id": "r", "function": {"name": ctx_name}})
    assert names == [expected]


@pytest.mark.parametrize(
    ("event", "expected"),
    [("text é", "text é".encode()), (bytearray(b"ab"), b"ab"), ({"a": 1}, b'{"a": 1}')],
)
def test_local_runtimes_may_pass_text_or_documents_which_arrive_as_bytes(
    logs: io.StringIO, event: Any, expected: bytes
) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> bytes:
        return event

    assert handler(event, context()) == expected


def test_an_event_of_an_unusable_type_is_refused(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        raise AssertionError("never called")

    result = handler(42, context())
    assert isinstance(result, dict)
    assert (result["error"]["field"], result["error"]["rule"]) == ("event", "bytes")


def test_the_context_credentials_are_redacted_even_when_logged_by_mistake(logs: io.StringIO) -> None:
    @fc_handler()
    def handler(event: bytes, ctx: FcContext) -> None:
        get_logger("careless").info(
            "debugging", note=f"secret is {ctx.require_credentials().access_key_secret}"
        )

    handler(b"", context(credentials=Credentials("STS.AK", SECRET, "CAISsecuritytokenvalue000000000000")))
    assert SECRET not in logs.getvalue()
    assert "secret is [REDACTED]" in logs.getvalue()


def raw_app_raising(exc: Exception, *, after_start: bool = False) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if after_start:
            start_response("200 OK", [("Content-Type", "text/plain")])
        raise exc

    return app


def test_http_handler_maps_an_invalid_request_to_400_with_code_and_field(logs: io.StringIO) -> None:
    app = http_handler(raw_app_raising(InvalidRequestError.single("voice", "one_of", "unknown voice")))
    answer = call(app, make_environ("POST", "/speech", headers={"x-fc-request-id": "hdr-9"}))
    error = answer.json()["error"]
    assert answer.status == 400
    assert (error["code"], error["field"], error["request_id"]) == ("InvalidParameter", "voice", "hdr-9")


def test_http_handler_maps_anything_else_to_500_with_the_context_request_id(logs: io.StringIO) -> None:
    app = http_handler(raw_app_raising(ValueError("x")))
    answer = call(app, make_environ("GET", "/", context=context("ctx-req")))
    error = answer.json()["error"]
    assert (answer.status, error["code"], error["request_id"]) == (500, "InternalError", "ctx-req")
    (line,) = [line for line in lines(logs) if line["event"] == "http.unhandled_error"]
    assert (line["request_id"], line["method"], line["path"]) == ("ctx-req", "GET", "/")


def test_http_handler_replaces_a_started_response_passing_exc_info(logs: io.StringIO) -> None:
    app = http_handler(raw_app_raising(RuntimeError("late"), after_start=True))
    answer = call(app, make_environ("GET", "/"))
    assert answer.status == 500
    assert answer.exc_info is not None and isinstance(answer.exc_info[1], RuntimeError)


def test_http_handler_generates_a_request_id_when_fc_gave_none(logs: io.StringIO) -> None:
    answer = call(http_handler(raw_app_raising(ValueError("x"))), make_environ("GET", "/"))
    uuid.UUID(answer.json()["error"]["request_id"])


def test_http_handler_binds_the_log_context_for_the_app_and_clears_it_after(logs: io.StringIO) -> None:
    seen: dict[str, Any] = {}

    @http_handler(name="api")
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.update(structlog.contextvars.get_contextvars())
        start_response("204 No Content", [])
        return [b""]

    answer = call(app, make_environ("DELETE", "/jobs/j1", context=context("req-h")))
    assert answer.status == 204
    assert app.__name__ == "app"
    assert seen == {
        "request_id": "req-h",
        "function": "api",
        "cold_start": True,
        "method": "DELETE",
        "path": "/jobs/j1",
    }
    assert structlog.contextvars.get_contextvars() == {}

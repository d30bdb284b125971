"""Running handlers (results, errors, timeouts, initializer), loading them from files, asynchronous retry and
age rules with a controlled clock, and FC's HTTP-trigger signature (vectors from the official fc2 SDK)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.runtime import environment
from localcloud.runtime.context import FcCredentials, ServiceMeta
from localcloud.runtime.execution import FunctionInstance, result_bytes
from localcloud.runtime.http_trigger import fc_signature, fc_string_to_sign
from localcloud.runtime.invoke import AsyncInvoker, Finished, retry_delay
from localcloud.runtime.loader import HandlerLoadError, load_entry
from localcloud.runtime.template import AsyncConfig, FunctionSpec
from localcloud.runtime.triggers_spec import Destination
from localcloud.state import StateStore


def _instance(
    handler: Callable[..., Any],
    *,
    timeout: int = 5,
    initializer: Callable[..., Any] | None = None,
    async_config: AsyncConfig | None = None,
) -> FunctionInstance:
    spec = FunctionSpec(
        service="svc",
        name="fn",
        handler="index.handler",
        runtime="python3.10",
        code_uri="x.zip",
        timeout=timeout,
        initializer="index.initialize" if initializer else None,
        async_config=async_config or AsyncConfig(),
    )
    return FunctionInstance(
        spec,
        ServiceMeta("svc"),
        handler=handler,
        initializer=initializer,
        layer={"RUNTIME_UNIT_VARIABLE": "set"},
        credentials=FcCredentials("ak", "sk", "token"),
        region="cn-hangzhou",
        account_id="1",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, b""), (b"raw", b"raw"), ("text é", "text é".encode()), ({"a": [1]}, b'{"a":[1]}'), (7, b"7")],
)
def test_results_are_returned_as_fcs_python_runtime_sends_them(value: object, expected: bytes) -> None:
    assert result_bytes(value) == expected


def test_a_handler_runs_in_its_environment_layer_with_the_context() -> None:
    seen: dict[str, Any] = {}

    def handler(event: bytes, context: Any) -> str:
        seen.update(variable=os.environ.get("RUNTIME_UNIT_VARIABLE"), request_id=context.request_id)
        return event.decode().upper()

    with environment.installed():
        outcome = _instance(handler).invoke_event(b"hi", request_id="r-1", retry_count=0)
    assert outcome.succeeded and outcome.payload == b"HI"
    assert seen == {"variable": "set", "request_id": "r-1"}


def test_an_unserialisable_result_fails_the_invocation() -> None:
    outcome = _instance(lambda event, context: object()).invoke_event(b"", request_id="r", retry_count=0)
    assert not outcome.succeeded
    assert json.loads(outcome.payload)["errorType"] == "TypeError"


def test_a_failed_initializer_fails_the_invocation_and_is_tried_again_next_time() -> None:
    attempts: list[str] = []

    def initializer(context: Any) -> None:
        attempts.append(context.request_id)
        if len(attempts) == 1:
            raise RuntimeError("cold start failed")

    instance = _instance(lambda event, context: "ok", initializer=initializer)
    first = instance.invoke_event(b"", request_id="r-1", retry_count=0)
    second = instance.invoke_event(b"", request_id="r-2", retry_count=0)
    third = instance.invoke_event(b"", request_id="r-3", retry_count=0)
    assert (first.succeeded, first.error_type) == (False, "InitializationError")
    assert second.succeeded and third.succeeded
    assert attempts == ["r-1", "r-2"]


def test_a_handler_past_its_timeout_is_abandoned_and_reported() -> None:
    release = threading.Event()
    outcome = _instance(lambda event, context: release.wait(5), timeout=1).invoke_event(
        b"", request_id="r", retry_count=0
    )
    release.set()
    assert outcome.timed_out and not outcome.succeeded
    assert outcome.error_type == "UnhandledInvocationError"


def test_two_functions_with_an_index_module_each_load_their_own(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.py").write_text(f"def handler(event, context):\n    return {name!r}\n")
    one = load_entry(tmp_path, "svc", "one", "index.handler")
    two = load_entry(tmp_path, "svc", "two", "index.handler")
    assert (one(b"", None), two(b"", None)) == ("one", "two")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (None, "no code at"),
        ("x = 1\n", "defines no 'handler'"),
        ("handler = 5\n", "is not callable"),
        ("raise RuntimeError('broken at import')\n", "RuntimeError: broken at import"),
    ],
)
def test_a_handler_that_cannot_be_loaded_is_refused_naming_the_function(
    tmp_path: Path, source: str | None, message: str
) -> None:
    (tmp_path / "fn").mkdir()
    if source is not None:
        (tmp_path / "fn" / "index.py").write_text(source)
    with pytest.raises(HandlerLoadError, match=message) as refused:
        load_entry(tmp_path, "svc-bad", "fn", "index.handler")
    assert str(refused.value).startswith("function fn:")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    store = StateStore(tmp_path)
    yield store
    store.close()


def _run_invoker(
    state: StateStore, instance: FunctionInstance, clock: _Clock, attempts: int
) -> tuple[list[Finished], list[tuple[Destination, dict[str, Any]]]]:
    """Submit one invocation and drive the invoker's attempts one by one, advancing the fake clock."""
    finished: list[Finished] = []
    delivered: list[tuple[Destination, dict[str, Any]]] = []
    invoker = AsyncInvoker(
        state,
        lambda service, function: instance,
        lambda _, destination, record: delivered.append((destination, json.loads(record))),
        retry_scale=1.0,
        clock=clock,
    )
    invoker.listeners.append(finished.append)
    invoker.submit(instance.spec, b"payload", request_id="req-1")
    for _ in range(attempts):
        (row,) = state.query("SELECT * FROM fc_async_invocations")
        clock.now = max(clock.now, float(row["next_attempt_at"]))
        invoker._guarded_attempt(row)
        if not invoker.pending():
            break
    return finished, delivered


def test_retries_wait_longer_each_time_and_stop_after_max_retry_attempts(state: StateStore) -> None:
    failures = Destination("queue", "dead", "acs:mns:cn-hangzhou:1:/queues/dead/messages")
    calls: list[int] = []

    def handler(event: bytes, context: Any) -> None:
        calls.append(context.retry_count)
        raise RuntimeError("no")

    instance = _instance(handler, async_config=AsyncConfig(max_retry_attempts=2, on_failure=failures))
    clock = _Clock()
    start = clock.now
    finished, delivered = _run_invoker(state, instance, clock, attempts=10)
    assert calls == [0, 1, 2]
    assert clock.now - start == retry_delay(1) + retry_delay(2)
    assert [f.condition for f in finished] == ["RetriesExhausted"]
    ((destination, record),) = delivered
    assert destination is failures
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == "payload"


def test_an_invocation_older_than_its_maximum_age_is_dropped_with_event_age_exceeded(
    state: StateStore,
) -> None:
    failures = Destination("topic", "failures", "acs:mns:cn-hangzhou:1:/topics/failures/messages")
    calls: list[int] = []

    def handler(event: bytes, context: Any) -> None:
        calls.append(context.retry_count)
        raise RuntimeError("no")

    # The second retry would wait 2 s, past a 2-second maximum age counted from submission.
    config = AsyncConfig(max_retry_attempts=8, max_event_age_seconds=2, on_failure=failures)
    finished, delivered = _run_invoker(state, _instance(handler, async_config=config), _Clock(), attempts=10)
    assert calls == [0, 1]
    assert [(f.condition, f.attempts) for f in finished] == [("EventAgeExceeded", 2)]
    assert delivered[0][1]["requestContext"]["condition"] == "EventAgeExceeded"


def test_a_success_goes_to_the_on_success_destination_only(state: StateStore) -> None:
    success = Destination("function", "sink", "acs:fc:cn-hangzhou:1:services/svc/functions/sink", "svc")
    config = AsyncConfig(on_success=success, on_failure=Destination("queue", "dead", "arn"))
    finished, delivered = _run_invoker(
        state, _instance(lambda e, c: {"done": 1}, async_config=config), _Clock(), 3
    )
    assert [f.condition for f in finished] == ["Success"]
    ((destination, record),) = delivered
    assert destination is success
    assert record["responsePayload"] == '{"done":1}'
    assert record["responseContext"]["functionError"] == ""


def test_retry_delays_double_and_are_capped() -> None:
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(30) == 300.0


# Captured from the official aliyun-fc2 SDK (fc2.auth.Auth.sign_request, version 2.5.2) for the
# credentials localcloud / localcloud-secret.
SDK_VECTORS = [
    (
        "GET",
        "/2016-08-15/proxy/fixture/signed_web/a b/é",
        {
            "date": "Mon, 01 Jan 2024 00:00:00 GMT",
            "content-type": "application/json",
            "content-length": "0",
            "x-fc-security-token": "sts-token",
            "x-fc-invocation-type": "Sync",
            "host": "h",
        },
        [("z", "1"), ("a", "2"), ("a", "3"), ("empty", "")],
        "DHJocrHeipqjmJeZAsfUnBpPk3y54Wna4B0hP8axD7w=",
    ),
    (
        "POST",
        "/2016-08-15/proxy/fixture/signed_web/",
        {"date": "Mon, 01 Jan 2024 00:00:00 GMT", "content-type": "text/plain", "content-md5": "abc=="},
        [],
        "lEfi5EYzjAeKdASlnqSboKnEAqwvO9Lpi2JbJU67V8c=",
    ),
]


@pytest.mark.parametrize(("method", "path", "headers", "query", "expected"), SDK_VECTORS)
def test_the_http_trigger_signature_matches_the_official_sdk(
    method: str, path: str, headers: dict[str, str], query: list[tuple[str, str]], expected: str
) -> None:
    assert fc_signature("localcloud-secret", fc_string_to_sign(method, path, headers, query)) == expected

"""Asynchronous invocations: retries with the same request id, destinations with FC's record, timeouts,
the initializer, and synchronous invocation errors."""

from __future__ import annotations

import json
import uuid

import pytest

from localcloud.runtime import InvocationFailed
from shared.errors import InvalidRequestError
from tests.functional.runtime.conftest import Project
from tests.functional.runtime.project import DEAD_LETTER_QUEUE, SUCCESS_QUEUE, records


def _queue_records(project: Project, queue: str) -> list[dict[str, object]]:
    mns = project.cloud.mns()
    found = []
    while (message := mns.receive(queue)) is not None:
        found.append(json.loads(message.body))
    return found


def test_a_function_failing_twice_succeeds_on_the_third_attempt_with_one_request_id(project: Project) -> None:
    marker = uuid.uuid4().hex
    request_id = project.runtime.invoke_async("flaky", json.dumps({"marker": marker}))
    assert project.runtime.wait_idle(10)

    calls = [e for e in records(project.root, "flaky") if marker in e["event"]]
    assert [c["context"]["retry_count"] for c in calls] == [0, 1, 2]
    assert {c["context"]["request_id"] for c in calls} == {request_id}

    (record,) = [r for r in _queue_records(project, SUCCESS_QUEUE) if marker in str(r["requestPayload"])]
    account = project.cloud.config.account_id
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"acs:fc:cn-hangzhou:{account}:services/fixture.LATEST/functions/flaky",
        "condition": "Success",
        "approximateInvokeCount": 3,
    }
    assert record["responseContext"] == {"statusCode": 200, "functionError": ""}
    assert record["responsePayload"] == "succeeded at last"
    assert json.loads(str(record["requestPayload"])) == {"marker": marker}
    assert str(record["timestamp"]).endswith("Z")


def test_a_function_that_always_fails_lands_in_the_dead_letter_queue_after_its_retries(
    project: Project,
) -> None:
    marker = uuid.uuid4().hex
    request_id = project.runtime.invoke_async("doomed", marker)
    assert project.runtime.wait_idle(10)

    calls = [e for e in records(project.root, "doomed") if e["event"] == marker]
    assert len(calls) == 3  # the first attempt and MaxAsyncRetryAttempts: 2

    (record,) = [r for r in _queue_records(project, DEAD_LETTER_QUEUE) if r["requestPayload"] == marker]
    context = record["requestContext"]
    assert isinstance(context, dict)
    assert context["requestId"] == request_id
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3
    assert record["responseContext"] == {"statusCode": 200, "functionError": "UnhandledInvocationError"}
    error = json.loads(str(record["responsePayload"]))
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "doomed to fail"
    assert any("doomed to fail" in line for line in error["stackTrace"])


def test_a_function_destination_receives_the_record_as_its_event(project: Project) -> None:
    marker = uuid.uuid4().hex
    request_id = project.runtime.invoke_async("initialised", marker)
    assert project.runtime.wait_idle(10)

    (delivered,) = [json.loads(e["event"]) for e in records(project.root, "sink") if marker in e["event"]]
    assert delivered["requestContext"]["requestId"] == request_id
    assert delivered["requestContext"]["condition"] == "Success"
    assert delivered["requestPayload"] == marker


def test_the_initializer_runs_once_before_the_first_invocation(project: Project) -> None:
    first = project.runtime.invoke("initialised", b"one")
    second = project.runtime.invoke("initialised", b"two")
    assert first == second == b"1"


def test_a_synchronous_invocation_returns_the_handlers_result_as_bytes(project: Project) -> None:
    assert json.loads(project.runtime.invoke("echo", b"hello")) == {"ok": True, "bytes": 5}


def test_a_synchronous_invocation_that_raises_reports_fcs_error_document(project: Project) -> None:
    with pytest.raises(InvocationFailed) as failure:
        project.runtime.invoke("doomed", b"sync")
    assert failure.value.outcome.error_type == "UnhandledInvocationError"
    assert json.loads(failure.value.outcome.payload)["errorType"] == "ValueError"


def test_a_handler_that_overruns_its_timeout_is_reported_as_timed_out(project: Project) -> None:
    with pytest.raises(InvocationFailed) as failure:
        project.runtime.invoke("slow", b"1.3")
    assert failure.value.outcome.timed_out
    assert json.loads(failure.value.outcome.payload)["errorMessage"] == "Function timed out after 1 seconds"


def test_an_unknown_function_is_named_in_the_error(project: Project) -> None:
    with pytest.raises(LookupError, match="no function 'nope'"):
        project.runtime.invoke_async("nope", b"")


def test_an_oversized_asynchronous_payload_is_refused_with_the_field_named(project: Project) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        project.runtime.invoke_async("echo", b"x" * (128 * 1024 + 1))
    assert refused.value.field == "event"
    assert refused.value.rule == "max_bytes"


def test_destination_queues_exist_after_start(project: Project) -> None:
    mns = project.cloud.mns()
    assert mns.queue_exists(DEAD_LETTER_QUEUE)
    assert mns.queue_exists(SUCCESS_QUEUE)


def test_an_http_function_cannot_be_invoked_with_an_event(project: Project) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        project.runtime.invoke("web", b"{}")
    assert (refused.value.field, refused.value.rule) == ("function", "event_function")
    with pytest.raises(InvalidRequestError):
        project.runtime.invoke_async("web", b"{}")


def test_a_stale_listing_of_a_finished_invocation_does_not_run_it_again(project: Project) -> None:
    # The dispatcher can list a row just before the attempt in flight ends; acting on that stale row would
    # invoke the function a second time. The attempt must re-read the row and find nothing due.
    marker = uuid.uuid4().hex
    invoker = project.runtime.async_invoker
    state = project.cloud.state
    request_id = project.runtime.invoke_async("flaky", json.dumps({"marker": marker}))
    listed = state.query_one("SELECT * FROM fc_async_invocations WHERE request_id = ?", (request_id,))
    assert listed is not None
    assert project.runtime.wait_idle(10)
    before = [e for e in records(project.root, "flaky") if marker in e["event"]]

    invoker._guarded_attempt(listed)  # the stale row of an invocation that already succeeded

    after = [e for e in records(project.root, "flaky") if marker in e["event"]]
    assert before and len(after) == len(before)  # `flaky` may succeed at once when other tests ran first

"""The common client base: retries, replay safety, error translation, size caps, timeouts, logging."""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from shared.clients.base import RequestBody, RetryPolicy, ServiceClient, Timeouts
from shared.clients.errors import ResponseTooLargeError, openapi_error_parser
from shared.errors import InvalidRequestError, ServiceResponseError, TransportError
from tests.unit.clients.conftest import Recorder, Sleeps

SECRET_QUERY = "x-oss-signature=SECRETSIGNATURE&security-token=SECRETTOKEN"


class ProbeClient(ServiceClient):
    """The smallest concrete client: one endpoint, OpenAPI-style error documents."""

    service = "probe"

    def __init__(self, **options: Any) -> None:
        super().__init__(error_parser=openapi_error_parser("probe"), **options)

    def fetch(
        self,
        *,
        method: str = "GET",
        idempotent: bool = True,
        body: RequestBody | None = None,
        max_bytes: int = 1024,
    ) -> httpx.Response:
        url = httpx.URL(f"https://probe.example.com/things/a%20b?{SECRET_QUERY}")
        return self._call(
            method, url, operation="Fetch", idempotent=idempotent, body=body, max_bytes=max_bytes
        )


def probe(recorder: Recorder, retry: RetryPolicy, **options: Any) -> ProbeClient:
    return ProbeClient(transport=recorder.transport, retry=retry, **options)


def error(status: int, code: str, request_id: str = "REQ-1") -> httpx.Response:
    return httpx.Response(status, json={"Code": code, "Message": f"{code} happened", "RequestId": request_id})


OK = httpx.Response(200, json={"ok": True})


class BrokenStream(httpx.SyncByteStream):
    """A body that breaks after its first chunk, like a connection reset mid-answer."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"ok":'
        raise httpx.ReadError("connection reset by peer")


# Retrying ----------------------------------------------------------------------------------------------


def test_a_throttled_then_unavailable_request_is_retried_until_it_succeeds(
    retry: RetryPolicy, sleeps: Sleeps
) -> None:
    recorder = Recorder([httpx.Response(429), error(503, "ServiceUnavailable"), OK])
    response = probe(recorder, retry).fetch()
    assert response.json() == {"ok": True}
    assert len(recorder.requests) == 3
    assert sleeps.waits == [0.2, 0.4]


def test_retries_are_bounded_and_the_last_error_is_raised(retry: RetryPolicy, sleeps: Sleeps) -> None:
    recorder = Recorder([error(500, "InternalError", "REQ-LAST")])
    with pytest.raises(ServiceResponseError) as caught:
        probe(recorder, retry).fetch()
    assert len(recorder.requests) == 4
    assert len(sleeps.waits) == 3
    assert (caught.value.status, caught.value.code, caught.value.request_id) == (
        500,
        "InternalError",
        "REQ-LAST",
    )
    assert caught.value.retryable is True


def test_a_client_error_is_raised_at_once_without_retrying(retry: RetryPolicy, sleeps: Sleeps) -> None:
    recorder = Recorder([error(400, "InvalidParameter"), OK])
    with pytest.raises(ServiceResponseError) as caught:
        probe(recorder, retry).fetch()
    assert len(recorder.requests) == 1
    assert sleeps.waits == []
    assert caught.value.code == "InvalidParameter"
    assert caught.value.retryable is False


def test_a_throttling_code_is_retried_even_with_a_400_status(retry: RetryPolicy) -> None:
    recorder = Recorder([error(400, "Throttling.User"), OK])
    probe(recorder, retry).fetch()
    assert len(recorder.requests) == 2


def test_a_clock_skew_error_is_not_retried(retry: RetryPolicy) -> None:
    recorder = Recorder([error(403, "RequestTimeTooSkewed"), OK])
    with pytest.raises(ServiceResponseError):
        probe(recorder, retry).fetch()
    assert len(recorder.requests) == 1


def test_timeouts_are_retried_then_translated_into_a_transport_error(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.ReadTimeout("read timed out")])
    with pytest.raises(TransportError) as caught:
        probe(recorder, retry).fetch()
    assert len(recorder.requests) == 4
    assert caught.value.code == "ReadTimeout"
    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_a_connection_failure_then_success_returns_the_answer(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.ConnectError("connection refused"), OK])
    assert probe(recorder, retry).fetch().status_code == 200


def test_a_non_idempotent_request_is_not_replayed_after_a_read_timeout(retry: RetryPolicy) -> None:
    # The service may have acted on it: a replay could, for example, start a second task.
    recorder = Recorder([httpx.ReadTimeout("read timed out"), OK])
    with pytest.raises(TransportError):
        probe(recorder, retry).fetch(method="POST", idempotent=False)
    assert len(recorder.requests) == 1


def test_a_non_idempotent_request_is_replayed_when_it_never_left(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.ConnectTimeout("connect timed out"), OK])
    probe(recorder, retry).fetch(method="POST", idempotent=False)
    assert len(recorder.requests) == 2


def test_a_non_idempotent_request_is_replayed_when_throttled(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.Response(429), error(400, "Throttling"), OK])
    probe(recorder, retry).fetch(method="POST", idempotent=False)
    assert len(recorder.requests) == 3


def test_a_non_idempotent_request_is_not_replayed_after_a_server_fault(retry: RetryPolicy) -> None:
    recorder = Recorder([error(500, "InternalError"), OK])
    with pytest.raises(ServiceResponseError) as caught:
        probe(recorder, retry).fetch(method="POST", idempotent=False)
    assert len(recorder.requests) == 1
    assert caught.value.retryable is True  # the caller may still decide to try again later


def test_an_answer_broken_mid_body_is_retried_for_an_idempotent_request(retry: RetryPolicy) -> None:
    recorder = Recorder([lambda request: httpx.Response(200, stream=BrokenStream()), OK])
    assert probe(recorder, retry).fetch().json() == {"ok": True}
    assert len(recorder.requests) == 2


def test_an_answer_broken_mid_body_is_a_transport_error_for_a_non_idempotent_request(
    retry: RetryPolicy,
) -> None:
    recorder = Recorder([lambda request: httpx.Response(200, stream=BrokenStream()), OK])
    with pytest.raises(TransportError) as caught:
        probe(recorder, retry).fetch(method="POST", idempotent=False)
    assert caught.value.code == "ReadError"
    assert len(recorder.requests) == 1


def test_the_service_retry_after_header_is_honoured_up_to_the_maximum_delay(
    retry: RetryPolicy, sleeps: Sleeps
) -> None:
    recorder = Recorder(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(429, headers={"Retry-After": "60"}),
            OK,
        ]
    )
    probe(recorder, retry).fetch()
    assert sleeps.waits == [3.0, 5.0]


def test_a_policy_of_one_attempt_never_retries(sleeps: Sleeps) -> None:
    recorder = Recorder([httpx.Response(503), OK])
    with pytest.raises(ServiceResponseError):
        probe(recorder, RetryPolicy.never()).fetch()
    assert len(recorder.requests) == 1


# Replaying bodies --------------------------------------------------------------------------------------


def test_a_stream_body_that_was_consumed_is_never_replayed(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.Response(503), OK])
    body = RequestBody(iter([b"first ", b"second"]))
    with pytest.raises(ServiceResponseError) as caught:
        probe(recorder, retry).fetch(method="PUT", body=body)
    assert caught.value.status == 503
    assert recorder.bodies == [b"first second"]


def test_a_stream_body_that_never_started_flowing_can_be_sent_on_retry(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.ConnectError("connection refused"), OK])
    body = RequestBody(iter([b"first ", b"second"]))
    probe(recorder, retry).fetch(method="PUT", body=body)
    assert recorder.bodies == [b"first second"]


def test_a_seekable_file_body_is_rewound_and_sent_whole_on_each_attempt(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.Response(503), OK])
    file = io.BytesIO(b"HEADERaudio-bytes")
    file.seek(6)  # upload from the current position, as file APIs do
    probe(recorder, retry).fetch(method="PUT", body=RequestBody(file))
    assert recorder.bodies == [b"audio-bytes", b"audio-bytes"]
    assert all(request.headers["Content-Length"] == "11" for request in recorder.requests)
    assert all("Transfer-Encoding" not in request.headers for request in recorder.requests)


def test_a_text_body_is_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        RequestBody("not bytes")  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.rule) == ("data", "bytes")


# Backoff -----------------------------------------------------------------------------------------------


def test_backoff_grows_exponentially_with_full_jitter_and_a_ceiling() -> None:
    largest = RetryPolicy(base_delay=0.2, max_delay=1.0, random=lambda: 1.0)
    assert [largest.delay(n) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    half = RetryPolicy(base_delay=0.2, max_delay=1.0, random=lambda: 0.5)
    assert [half.delay(n) for n in range(1, 4)] == [0.1, 0.2, 0.4]
    assert RetryPolicy(random=lambda: 0.0).delay(3) == 0.0


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"base_delay": -1}, "base_delay"),
        ({"max_delay": "5"}, "max_delay"),
    ],
)
def test_a_retry_policy_that_cannot_work_is_refused(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        RetryPolicy(**options)
    assert caught.value.field == field


# Size caps, timeouts, client ownership -----------------------------------------------------------------


def test_an_answer_declared_larger_than_the_cap_is_refused_unread(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.Response(200, content=b"x" * 2048)])
    with pytest.raises(ResponseTooLargeError) as caught:
        probe(recorder, retry).fetch(max_bytes=1024)
    assert caught.value.limit == 1024
    assert len(recorder.requests) == 1


def test_an_undeclared_answer_is_cut_off_at_the_cap(retry: RetryPolicy) -> None:
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        for index in range(1000):
            produced.append(index)
            yield b"y" * 512

    recorder = Recorder([lambda request: httpx.Response(200, content=endless())])
    with pytest.raises(ResponseTooLargeError):
        probe(recorder, retry).fetch(max_bytes=1024)
    assert len(produced) < 10


def test_every_request_carries_all_four_timeouts_explicitly(retry: RetryPolicy) -> None:
    recorder = Recorder([OK])
    probe(recorder, retry, timeouts=Timeouts(connect=1, read=2, write=3, pool=4)).fetch()
    assert recorder.last.extensions["timeout"] == {"connect": 1, "read": 2, "write": 3, "pool": 4}


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        Timeouts(read=0)
    assert (caught.value.field, caught.value.rule) == ("read", "positive")


def test_an_injected_http_client_is_used_and_left_open(retry: RetryPolicy) -> None:
    recorder = Recorder([OK])
    shared_http = httpx.Client(transport=recorder.transport)
    client = ProbeClient(http=shared_http, retry=retry)
    client.fetch()
    client.close()
    assert len(recorder.requests) == 1
    assert not shared_http.is_closed
    shared_http.close()


def test_a_client_builds_its_http_client_on_first_use_and_closes_it(retry: RetryPolicy) -> None:
    recorder = Recorder([OK])
    with probe(recorder, retry) as client:
        assert client._http is None  # nothing is built at construction (cold starts stay cheap)
        client.fetch()
        built = client.http
    assert built.is_closed


def test_passing_both_an_http_client_and_a_transport_is_refused() -> None:
    with httpx.Client() as http, pytest.raises(InvalidRequestError) as caught:
        ProbeClient(http=http, transport=httpx.MockTransport(lambda request: OK))
    assert caught.value.rule == "exclusive"


# What reaches the logs ---------------------------------------------------------------------------------


class SigningAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "OSS4-HMAC-SHA256 Credential=AK,Signature=SECRETSIGNATURE"
        yield request


@pytest.mark.usefixtures("debug_logging")
def test_each_attempt_is_logged_with_service_method_and_path_but_no_query_or_headers(
    retry: RetryPolicy,
) -> None:
    recorder = Recorder([httpx.Response(503), OK])
    client = ProbeClient(transport=recorder.transport, retry=retry, auth=SigningAuth())
    with capture_logs() as logs:
        client.fetch()
    attempts = [entry for entry in logs if entry["event"] == "client.service_call"]
    assert [(entry["outcome"], entry["log_level"]) for entry in attempts] == [
        ("retrying", "warning"),
        ("ok", "debug"),
    ]
    assert attempts[-1]["service"] == "probe"
    assert attempts[-1]["method"] == "GET"
    assert attempts[-1]["path"] == "/things/a b"
    text = repr(logs)
    assert "SECRET" not in text
    assert "?" not in text
    assert "Authorization" not in text and "authorization" not in text


def test_a_transport_error_message_never_repeats_a_query_string(retry: RetryPolicy) -> None:
    recorder = Recorder([httpx.ConnectError(f"cannot reach https://probe.example.com/things?{SECRET_QUERY}")])
    with capture_logs() as logs, pytest.raises(TransportError) as caught:
        probe(recorder, RetryPolicy.never()).fetch()
    assert "SECRET" not in str(caught.value)
    assert "probe.example.com/things?<redacted>" in str(caught.value)
    assert "SECRET" not in repr(logs)


def test_a_client_keeps_no_cookie_a_service_sets(retry: RetryPolicy) -> None:
    # The cloud APIs authenticate by signature; parsing every answer's Set-Cookie only cost CPU.
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"})

    client = ProbeClient(transport=Recorder([answer, answer]).transport, retry=retry)
    client.fetch()
    client.fetch()
    assert seen == [None, None]
    assert len(client.http.cookies) == 0

"""What every service client shares: one httpx.Client, explicit timeouts, retries, error translation, logs.

A client subclass builds URLs and bodies, and calls `_call` (answer read into memory, size-capped) or
`_open` (answer streamed). Both retry what a retry can fix, translate every failure into shared.errors
with `raise ... from`, and log each attempt as `client.service_call` with method, host and path — never the
query string or headers, which may carry signatures, tokens and presigned URLs. An answer (`ok`, or a 404
`not_found`) is logged at DEBUG, a failure or a retry at WARNING.

Retrying follows one rule: a request is sent again only if doing so cannot do something twice.
Idempotent requests are retried on throttling, server faults and transport failures; others only when
the request provably never reached the service (connect failures) or the service turned it away
(429, 503, Throttling.*). A body streamed from an iterator is never replayed once it started flowing.

>>> import httpx
>>> policy = RetryPolicy(max_attempts=3, sleep=lambda seconds: None)
>>> policy.max_attempts
3
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.cookiejar import CookieJar
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from typing_extensions import Self

from shared.clients.body import RequestBody, RequestContent
from shared.clients.errors import (
    ErrorParser,
    MalformedResponseError,
    ResponseTooLargeError,
    transport_error,
    was_not_sent,
    was_refused,
)
from shared.clients.policy import RetryPolicy, Timeouts
from shared.errors import InvalidRequestError, ServiceResponseError
from shared.logging import get_logger

__all__ = [
    "DEFAULT_RESPONSE_LIMIT",
    "USE_CLIENT_AUTH",
    "ModelT",
    "RequestBody",
    "RequestContent",
    "RetryPolicy",
    "ServiceClient",
    "Timeouts",
    "normalize_endpoint",
]

_log = get_logger("audiochain.clients")
ModelT = TypeVar("ModelT", bound=BaseModel)

USER_AGENT = "audiochain"
_CHUNK_SIZE = 64 * 1024
# Error documents are small; never read more than this of one, whatever the server claims.
_ERROR_BODY_LIMIT = 64 * 1024
# Default cap for answers read into memory (JSON and XML documents, not media).
DEFAULT_RESPONSE_LIMIT = 16 * 1024 * 1024


class _UseClientAuth:
    """Marker: use the client's own signer (as opposed to None, which sends the request unsigned)."""


USE_CLIENT_AUTH = _UseClientAuth()


def normalize_endpoint(endpoint: str, *, field_name: str = "endpoint", operation: str = "") -> httpx.URL:
    """`oss-cn-hangzhou.aliyuncs.com` -> `https://oss-cn-hangzhou.aliyuncs.com`; refuse anything else odd."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise InvalidRequestError.single(
            field_name, "required", "must be a non-empty URL or host name", operation
        )
    text = endpoint.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise InvalidRequestError.single(field_name, "url", f"is not a valid URL: {exc}", operation) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError.single(field_name, "url", "must be an http(s) URL with a host", operation)
    if url.query or url.fragment:
        raise InvalidRequestError.single(
            field_name, "url", "must not carry a query string or fragment", operation
        )
    return url.copy_with(raw_path=url.raw_path.rstrip(b"/") or b"/")


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing: the cloud APIs we call authenticate by signature, never by cookie,
    and parsing every answer's `Set-Cookie` cost ~0.1 ms of CPU per call."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class ServiceClient:
    """Base of the service clients: owns (or borrows) an httpx.Client and runs every call through it.

    Pass `http` to share a client (it is not closed by us), or `transport` to have one built lazily on
    first use around it (tests pass httpx.MockTransport). Not both.
    """

    service: str = "service"
    default_timeouts: ClassVar[Timeouts] = Timeouts()

    def __init__(
        self,
        *,
        error_parser: ErrorParser,
        auth: httpx.Auth | None = None,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if http is not None and transport is not None:
            raise InvalidRequestError.single(
                "transport",
                "exclusive",
                "pass either an httpx.Client (http) or a transport, not both",
                type(self).__name__,
            )
        self._error_parser = error_parser
        self._auth = auth
        self._http = http
        self._owns_http = http is None
        self._transport = transport
        self.timeouts = timeouts or self.default_timeouts
        self.retry = retry or RetryPolicy()
        self._lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
        """The httpx.Client, built on first use (never at construction: cold starts stay cheap)."""
        if self._http is None:
            with self._lock:
                if self._http is None:
                    self._http = httpx.Client(
                        transport=self._transport,
                        timeout=self.timeouts.to_httpx(),
                        follow_redirects=False,
                        headers={"User-Agent": USER_AGENT},
                        cookies=_NoCookies(),
                    )
        return self._http

    def close(self) -> None:
        """Close the httpx.Client if this client built it."""
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # The two ways to call a service -------------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: httpx.URL,
        *,
        operation: str,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
        body: RequestBody | None = None,
        auth: httpx.Auth | _UseClientAuth | None = USE_CLIENT_AUTH,
        timeouts: Timeouts | None = None,
        max_bytes: int = DEFAULT_RESPONSE_LIMIT,
        extensions: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send with retries and return the successful response with its body read (at most max_bytes)."""
        return self._send(
            method,
            url,
            operation=operation,
            idempotent=idempotent,
            headers=headers,
            body=body,
            auth=auth,
            timeouts=timeouts,
            read_limit=max_bytes,
            extensions=extensions,
        )

    @contextmanager
    def _open(
        self,
        method: str,
        url: httpx.URL,
        *,
        operation: str,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
        body: RequestBody | None = None,
        auth: httpx.Auth | _UseClientAuth | None = USE_CLIENT_AUTH,
        timeouts: Timeouts | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> Iterator[httpx.Response]:
        """Send with retries and yield the successful response unread; it is closed on exit.

        Retries end once the response is handed over: a failure while reading is the caller's, and
        `iter_response_bytes` translates it.
        """
        response = self._send(
            method,
            url,
            operation=operation,
            idempotent=idempotent,
            headers=headers,
            body=body,
            auth=auth,
            timeouts=timeouts,
            read_limit=None,
            extensions=extensions,
        )
        try:
            yield response
        finally:
            response.close()

    def iter_response_bytes(
        self,
        response: httpx.Response,
        *,
        chunk_size: int = _CHUNK_SIZE,
        max_bytes: int | None = None,
        raw: bool = False,
    ) -> Iterator[bytes]:
        """Stream a response body, translating transport failures and enforcing an optional cap.

        `raw=True` yields the bytes as sent, without undoing a Content-Encoding (stored objects).
        """
        received = 0
        chunks = _raw_chunks(response, chunk_size) if raw else response.iter_bytes(chunk_size)
        try:
            for chunk in chunks:
                received += len(chunk)
                if max_bytes is not None and received > max_bytes:
                    raise ResponseTooLargeError(
                        f"{_describe(response)}: answer exceeds {max_bytes} bytes",
                        service=self.service,
                        limit=max_bytes,
                    )
                yield chunk
        except httpx.RequestError as exc:
            raise transport_error(
                self.service, exc, method=response.request.method, path=response.request.url.path
            ) from exc

    # Reading answers ----------------------------------------------------------------------------------

    def json_object(self, response: httpx.Response) -> dict[str, Any]:
        """The body as a JSON object, or MalformedResponseError naming what was wrong with it."""
        try:
            data = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self.malformed(response, f"the answer is not JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise self.malformed(response, f"expected a JSON object, got {type(data).__name__}")
        return data

    def parse_model(self, model: type[ModelT], data: Any, response: httpx.Response) -> ModelT:
        """Validate a decoded answer against a response model, translating pydantic's errors."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}"
                for err in exc.errors()
            )
            raise self.malformed(response, f"unexpected {model.__name__}: {problems}") from exc

    def malformed(self, response: httpx.Response, detail: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"{_describe(response)}: {detail}",
            service=self.service,
            status=response.status_code,
            request_id=self.request_id_of(response),
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        """The service's request id header (each service names it differently)."""
        return None

    # Internals ----------------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: httpx.URL,
        *,
        operation: str,
        idempotent: bool,
        headers: Mapping[str, str] | None,
        body: RequestBody | None,
        auth: httpx.Auth | _UseClientAuth | None,
        timeouts: Timeouts | None,
        read_limit: int | None,
        extensions: Mapping[str, Any] | None,
    ) -> httpx.Response:
        body = body or RequestBody(None)
        request_auth = self._auth if isinstance(auth, _UseClientAuth) else auth
        timeout = (timeouts or self.timeouts).to_httpx()
        log = _log.bind(
            service=self.service, operation=operation, method=method, host=url.host, path=url.path
        )
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            request = self.http.build_request(
                method,
                url,
                headers=_with_length(headers, body),
                content=body.for_attempt(),
                timeout=timeout,
                extensions=dict(extensions or {}),
            )
            try:
                response = self.http.send(request, auth=request_auth, stream=True)
            except httpx.RequestError as exc:
                if self._retry_after_transport_failure(
                    log, exc, attempt=attempt, started=started, body=body, idempotent=idempotent
                ):
                    continue
                raise transport_error(self.service, exc, method=method, path=url.path) from exc

            if response.is_success:
                if read_limit is not None:
                    try:
                        _read_capped(response, read_limit, self.service)
                    except httpx.RequestError as exc:
                        response.close()
                        # The service answered, so it acted: only an idempotent request may go again.
                        if self._retry_after_transport_failure(
                            log, exc, attempt=attempt, started=started, body=body, idempotent=idempotent
                        ):
                            continue
                        raise transport_error(self.service, exc, method=method, path=url.path) from exc
                    except ResponseTooLargeError:
                        response.close()
                        raise
                # DEBUG: a job makes ~100 calls, and a line each was most of a function's log volume (Log
                # Service bills it) and ~0.1 ms of CPU per call; failures and retries stay at WARNING.
                log.debug(
                    "client.service_call",
                    attempt=attempt,
                    outcome="ok",
                    status=response.status_code,
                    elapsed_ms=_ms(started),
                )
                return response

            error = self._error_from(response)
            safe_to_repeat = idempotent or was_refused(error)
            if error.retryable and self._may_retry(attempt, body, safe_to_repeat):
                self._pause(
                    log,
                    attempt,
                    started,
                    code=error.code,
                    status=error.status,
                    request_id=error.request_id,
                    retry_after=_retry_after(response),
                )
                continue
            # A 404 is how a caller learns an object is absent (an idempotency claim not taken yet, a
            # snapshot not written yet, a HEAD before a retry): an answer like an `ok`, logged as one.
            level = log.debug if error.status == 404 else log.warning
            level(
                "client.service_call",
                attempt=attempt,
                outcome="not_found" if error.status == 404 else "failed",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                elapsed_ms=_ms(started),
            )
            raise error

    def _retry_after_transport_failure(
        self,
        log: Any,
        exc: httpx.RequestError,
        *,
        attempt: int,
        started: float,
        body: RequestBody,
        idempotent: bool,
    ) -> bool:
        """Log a transport failure; sleep and return True when the request should be sent again."""
        code = type(exc).__name__
        safe_to_repeat = idempotent or was_not_sent(exc)
        if self._may_retry(attempt, body, safe_to_repeat):
            self._pause(log, attempt, started, code=code, retry_after=None)
            return True
        log.warning(
            "client.service_call", attempt=attempt, outcome="failed", code=code, elapsed_ms=_ms(started)
        )
        return False

    def _error_from(self, response: httpx.Response) -> ServiceResponseError:
        try:
            error_body = b"".join(_iter_capped(response, _ERROR_BODY_LIMIT))
        except httpx.RequestError:
            # The status already says it failed; a broken error body only costs us the details.
            error_body = b""
        finally:
            response.close()
        return self._error_parser(response, error_body)

    def _may_retry(self, attempt: int, body: RequestBody, safe_to_repeat: bool) -> bool:
        return safe_to_repeat and attempt < self.retry.max_attempts and body.replayable

    def _pause(
        self,
        log: Any,
        attempt: int,
        started: float,
        *,
        code: str,
        status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None,
    ) -> None:
        wait = self.retry.delay(attempt, retry_after)
        log.warning(
            "client.service_call",
            attempt=attempt,
            outcome="retrying",
            status=status,
            code=code,
            request_id=request_id,
            elapsed_ms=_ms(started),
            retry_in_ms=round(wait * 1000),
        )
        self.retry.sleep(wait)


def _with_length(headers: Mapping[str, str] | None, body: RequestBody) -> dict[str, str]:
    merged = dict(headers or {})
    # A file of known size goes out with Content-Length rather than chunked encoding, which OSS prefers.
    if body.data is None and body.length is not None:
        merged.setdefault("Content-Length", str(body.length))
    return merged


def _iter_capped(response: httpx.Response, limit: int) -> Iterator[bytes]:
    received = 0
    for chunk in response.iter_bytes():
        take = chunk[: max(0, limit - received)]
        received += len(take)
        if take:
            yield take
        if received >= limit:
            return


def _read_capped(response: httpx.Response, limit: int, service: str) -> None:
    """Read the whole body into the response, refusing (without reading on) anything over `limit`."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLargeError(
            f"{_describe(response)}: answer of {declared} bytes exceeds {limit}",
            service=service,
            limit=limit,
        )
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > limit:
            raise ResponseTooLargeError(
                f"{_describe(response)}: answer exceeds {limit} bytes",
                service=service,
                limit=limit,
            )
        chunks.append(chunk)
    # Hand the bytes back to httpx so `.content`, `.json()` and `.text` work as usual.
    response._content = b"".join(chunks)


def _describe(response: httpx.Response) -> str:
    return f"{response.request.method} {response.request.url.path}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _raw_chunks(response: httpx.Response, chunk_size: int) -> Iterator[bytes]:
    """The body as sent; a response that was already read (e.g. a test double's) is served from memory."""
    try:
        body = response.content
    except httpx.ResponseNotRead:
        return response.iter_raw(chunk_size)
    return (body[start : start + chunk_size] for start in range(0, len(body), chunk_size))

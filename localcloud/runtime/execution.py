"""Running one function's code: initializer once, handler per invocation, in a worker thread with a timeout.

`FunctionInstance` is what FC calls an instance: the imported entry points, the environment layer and
whether the initializer has run. Each invocation runs in a thread of its own, inside the function's
environment layer (environment.py), and the caller waits at most the function's `Timeout`. Python cannot
stop a thread, so a handler that overruns is abandoned: the invocation is reported as failed ("Function
timed out after N seconds", FC's wording) while the thread runs on in the background, as a timed-out FC
instance would until it is recycled.

Results follow FC's Python runtime: `bytes` as they are, `str` as UTF-8, None as an empty body, anything
else JSON-encoded. A handler that raises fails the invocation with FC's error document
`{"errorMessage", "errorType", "stackTrace"}`.

    >>> instance.invoke_event(b"{}", request_id="r-1", retry_count=0).succeeded    # doctest: +SKIP
    True
"""

from __future__ import annotations

import io
import json
import os
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from localcloud.runtime.context import FcContext, FcCredentials, FunctionMeta, ServiceMeta
from localcloud.runtime.environment import Layer, run_in_layer
from localcloud.runtime.events import error_document
from localcloud.runtime.fc3 import FC3_VERSION, http_event, http_result
from localcloud.runtime.template import FunctionSpec
from shared.logging import get_logger

log = get_logger("localcloud.runtime")

UNHANDLED = "UnhandledInvocationError"


@dataclass(frozen=True)
class Outcome:
    """How one invocation ended: the result bytes, or FC's error document and the error's type."""

    succeeded: bool
    payload: bytes
    error_type: str | None = None
    error_message: str | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class HttpResult:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


class InvocationFailed(Exception):
    """A synchronous invocation that failed; `outcome` holds FC's error document."""

    def __init__(self, function: str, request_id: str, outcome: Outcome) -> None:
        reason = f"{outcome.error_type}: {outcome.error_message}"
        super().__init__(f"function {function} failed (request {request_id}): {reason}")
        self.function = function
        self.request_id = request_id
        self.outcome = outcome


class FunctionInstance:
    def __init__(
        self,
        spec: FunctionSpec,
        service: ServiceMeta,
        *,
        handler: Callable[..., Any],
        initializer: Callable[..., Any] | None,
        layer: Layer,
        credentials: FcCredentials,
        region: str,
        account_id: str,
        fc_version: int = 2,
    ) -> None:
        self.spec = spec
        # 2: HTTP functions are WSGI apps (FC 2.0); 3: they take FC 3.0's JSON event (localcloud.runtime.fc3).
        self.fc_version = fc_version
        self.service = service
        self.handler = handler
        self.initializer = initializer
        self.layer = layer
        self.credentials = credentials
        self.region = region
        self.account_id = account_id
        self.meta = FunctionMeta(
            spec.name,
            spec.handler,
            spec.memory,
            spec.timeout,
            spec.initializer,
            spec.initialization_timeout if spec.initializer else None,
        )
        self._init_lock = threading.Lock()
        self._initialized = initializer is None

    @property
    def name(self) -> str:
        return self.spec.name

    def context(self, request_id: str, retry_count: int = 0) -> FcContext:
        return FcContext.build(
            request_id=request_id,
            function=self.meta,
            service=self.service,
            credentials=self.credentials,
            region=self.region,
            account_id=self.account_id,
            retry_count=retry_count,
        )

    def invoke_event(self, event: bytes, *, request_id: str, retry_count: int) -> Outcome:
        """Run the event handler `handler(event, context)` and report how it ended."""
        context = self.context(request_id, retry_count)
        failed_init = self._ensure_initialized(context)
        if failed_init is not None:
            return failed_init
        done, value, error = self._run(lambda: self.handler(event, context), self.spec.timeout, request_id)
        if not done:
            return _timeout(self.spec.timeout)
        if error is not None:
            return self._failure(error, request_id)
        try:
            return Outcome(True, result_bytes(value))
        except (TypeError, ValueError) as exc:
            return self._failure(exc, request_id)

    def invoke_http(self, environ: dict[str, Any], request_id: str) -> HttpResult | Outcome:
        """Run the WSGI handler on `environ`; an Outcome when it failed or overran its timeout."""
        context = self.context(request_id)
        environ["fc.context"] = context
        failed_init = self._ensure_initialized(context)
        if failed_init is not None:
            return failed_init

        def call() -> HttpResult:
            if self.fc_version == FC3_VERSION:
                body = environ["wsgi.input"].read()
                event = http_event(
                    environ, body, request_id=request_id, account_id=self.account_id, region=self.region
                )
                return HttpResult(*http_result(self.handler(json.dumps(event).encode("utf-8"), context)))
            # FC's WSGI environ starts from the function's process environment.
            merged: dict[str, Any] = dict(os.environ)
            merged.update(environ)
            return _collect_wsgi(self.handler, merged)

        done, value, error = self._run(call, self.spec.timeout, request_id)
        if not done:
            return _timeout(self.spec.timeout)
        if error is not None:
            return self._failure(error, request_id)
        assert isinstance(value, HttpResult)
        return value

    def _ensure_initialized(self, context: FcContext) -> Outcome | None:
        if self._initialized or self.initializer is None:
            return None
        initializer = self.initializer
        with self._init_lock:
            if self._initialized:
                return None
            limit = self.spec.initialization_timeout
            done, _, error = self._run(lambda: initializer(context), limit, context.request_id)
            if not done:
                return _timeout(limit, what="Initializer")
            if error is not None:
                outcome = self._failure(error, context.request_id)
                return Outcome(False, outcome.payload, "InitializationError", outcome.error_message)
            self._initialized = True
            return None

    def _run(
        self, work: Callable[[], Any], timeout: float, request_id: str
    ) -> tuple[bool, Any, BaseException | None]:
        """(finished in time, value, exception) of `work` run in a thread inside the environment layer."""
        holder: dict[str, Any] = {}

        def target() -> None:
            try:
                holder["value"] = run_in_layer(self.layer, work)
            except BaseException as exc:  # everything the handler raises is the invocation's result
                holder["error"] = exc

        thread = threading.Thread(target=target, name=f"fc-{self.spec.name}-{request_id[:8]}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            log.warning(
                "runtime.function.timed_out_thread_abandoned",
                function=self.spec.name,
                request_id=request_id,
                timeout=timeout,
            )
            return False, None, None
        return True, holder.get("value"), holder.get("error")

    def _failure(self, error: BaseException, request_id: str) -> Outcome:
        stack = traceback.format_exception(type(error), error, error.__traceback__)
        log.warning(
            "runtime.function.failed",
            function=self.spec.name,
            request_id=request_id,
            error_type=type(error).__name__,
            error=str(error),
        )
        return Outcome(False, error_document(type(error).__name__, str(error), stack), UNHANDLED, str(error))


def result_bytes(value: Any) -> bytes:
    """A handler's return value as FC's Python runtime sends it back."""
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _timeout(seconds: int | float, *, what: str = "Function") -> Outcome:
    message = f"{what} timed out after {seconds:g} seconds"
    return Outcome(False, error_document("FunctionTimeout", message), UNHANDLED, message, timed_out=True)


def _collect_wsgi(app: Callable[..., Any], environ: dict[str, Any]) -> HttpResult:
    started: dict[str, Any] = {}
    written = io.BytesIO()

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], Any]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started["status"] = status
        started["headers"] = list(headers)
        return written.write

    iterable: Iterable[bytes] = app(environ, start_response)
    try:
        for chunk in iterable:
            written.write(chunk)
    finally:
        close = getattr(iterable, "close", None)
        if callable(close):
            close()
    if "status" not in started:
        raise RuntimeError("the WSGI handler returned without calling start_response")
    return HttpResult(started["status"], started["headers"], written.getvalue())

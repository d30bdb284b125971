"""Suite-wide set-up."""

from __future__ import annotations

import http.client
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared.logging import configure_logging
from shared.pipeline.provider import PipelineProvider


@pytest.fixture(autouse=True, scope="session")
def _logging_configured_once() -> None:
    """Configure logging before any test. A logger's first use configures it otherwise, and if that first
    use falls inside `structlog.testing.capture_logs()`, it replaces the capture and the test sees nothing:
    whether a test passed would depend on which test ran first in its worker."""
    configure_logging()


@pytest.fixture(autouse=True)
def _no_log_context_from_earlier_tests() -> None:
    """Start each test with an empty structlog context. Tests that call a handler's inner function directly
    bind correlation ids (job, task, message) that FC's wrapper would have cleared after the invocation; left
    over, they showed up in the next test's log lines in the same worker."""
    structlog.contextvars.clear_contextvars()


# Held (not weakly) for the session: an SDK client made and dropped inside a test would otherwise be
# collected, its socket unclosed, before the test's teardown could close it; and a connection a module
# fixture keeps opens again in a later test, to be closed again after it.
_SDK_CONNECTIONS: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True, scope="session")
def _vendor_sdk_connections_tracked() -> Iterator[None]:
    """Track every http.client connection (the MNS SDK's own, and urllib3's under requests-based SDKs such
    as oss2 and the Tea SDKs of IMM and ICE); `_vendor_sdk_connections_closed` closes them."""
    init = http.client.HTTPConnection.__init__

    def tracked_init(self: http.client.HTTPConnection, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)  # every subclass passes here, MNS's with its own connect() too
        _SDK_CONNECTIONS.append(self)

    http.client.HTTPConnection.__init__ = tracked_init  # type: ignore[method-assign]
    yield
    http.client.HTTPConnection.__init__ = init  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _vendor_sdk_connections_closed() -> Iterator[None]:
    """Close what the vendor SDKs left open after each test. localcloud keeps HTTP/1.1 connections alive,
    as the cloud does, and those SDKs keep theirs for their clients' lifetime without ever closing them:
    each socket would be collected unclosed, a ResourceWarning (an error here) in whichever later test the
    collector ran. A closed http.client connection opens again on its next request, so clients that
    outlive a test (module fixtures) go on working. Our own clients close theirs and are not touched."""
    yield
    for connection in _SDK_CONNECTIONS:
        connection.close()


@pytest.fixture(autouse=True, scope="session")
def _function_instances_closed() -> Iterator[None]:
    """Close, at the end, the httpx.Client each function instance keeps for its life: the functions the
    tests import (`functions.<name>.index`) and those localcloud's runtime loads stay in `sys.modules`, as
    an FC instance stays warm, and with connections kept alive their sockets would be reported unclosed
    when the worker exits."""
    yield
    for module in list(sys.modules.values()):
        provider = getattr(module, "_provider", None)
        if isinstance(provider, PipelineProvider):
            provider.close()

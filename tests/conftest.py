"""Suite-wide set-up."""

from __future__ import annotations

import pytest
import structlog

from shared.logging import configure_logging


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

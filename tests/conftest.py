"""Suite-wide set-up."""

from __future__ import annotations

import pytest

from shared.logging import configure_logging


@pytest.fixture(autouse=True, scope="session")
def _logging_configured_once() -> None:
    """Configure logging before any test. A logger's first use configures it otherwise, and if that first
    use falls inside `structlog.testing.capture_logs()`, it replaces the capture and the test sees nothing:
    whether a test passed would depend on which test ran first in its worker."""
    configure_logging()

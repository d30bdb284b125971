"""What the three event functions share: their names, the handler type, and FC's `initialize` hook.

The entry points live one module per trigger (`upload`, `notify`, `sweep`), so that a function's cold start
imports its own event models and steps only (issue 11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.pipeline.provider import PipelineProvider
from shared.runtime.context import FcContext

__all__ = ["FETCH_RESULTS", "ON_NOTIFY", "ON_UPLOAD", "EventHandler", "initializer"]

ON_UPLOAD = "on_upload"
ON_NOTIFY = "on_notify"
FETCH_RESULTS = "fetch_results"

EventHandler = Callable[[Any, Any], dict[str, Any]]


def initializer(provider: PipelineProvider) -> Callable[[Any], None]:
    """FC's `initialize(context)` hook for a function: validate the configuration before any event."""

    def initialize(context: Any) -> None:
        fc_context = FcContext.from_fc(context) if context is not None else None
        provider.initialize(fc_context)

    return initialize

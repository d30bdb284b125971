"""What the three event functions share: their names, the handler type, and FC's `initialize` hook.

The entry points live one module per trigger (`upload`, `notify`, `sweep`), so that a function's cold start
imports its own event models and steps only (issue 11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shared.pipeline.provider import PipelineProvider
from shared.runtime.context import FcContext
from shared.runtime.handler import fc_handler

if TYPE_CHECKING:
    from shared.pipeline.orchestrator import Orchestrator

__all__ = ["FETCH_RESULTS", "ON_NOTIFY", "ON_UPLOAD", "EventHandler", "initializer", "orchestrated_handler"]

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


def orchestrated_handler(
    name: str,
    handle: Callable[[bytes, Orchestrator], dict[str, Any]],
    provider: PipelineProvider | None,
    *,
    uses_dashscope: bool,
) -> EventHandler:
    """FC's `handler(event, context)` for an event function whose body needs only the orchestrator: the
    provider builds it once per credentials and settings, `fc_handler` does FC's part around it."""
    source = provider or PipelineProvider(name, uses_dashscope=uses_dashscope)

    @fc_handler(name)
    def handler(event: bytes, context: FcContext) -> dict[str, Any]:
        return handle(event, source.orchestrator(context))

    return handler

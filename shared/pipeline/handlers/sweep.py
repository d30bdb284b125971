"""fetch_results' body: a timer tick in, one budgeted sweep over the unfinished jobs and one slice of inbox
reconciliation, a report out.

    handler = sweep_handler()         # functions/fetch_results/index.py (timer trigger)
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.errors import InvalidRequestError
from shared.events.timer import TimerEvent
from shared.pipeline.handlers.common import FETCH_RESULTS, EventHandler
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.pipeline.reconcile import InboxReconciler
from shared.runtime.context import FcContext
from shared.runtime.handler import fc_handler

__all__ = [
    "MAX_SWEEP_JOBS",
    "SWEEP_RESERVE_SECONDS",
    "handle_timer_event",
    "sweep_budget",
    "sweep_handler",
    "sweep_limit",
]

MAX_SWEEP_JOBS = 10_000


def sweep_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """fetch_results' `handler(event, context)`."""
    source = provider or PipelineProvider(FETCH_RESULTS, uses_dashscope=True)

    @fc_handler(FETCH_RESULTS)
    def handler(event: bytes, context: FcContext) -> dict[str, Any]:
        return handle_timer_event(event, source.orchestrator(context), budget_seconds=sweep_budget(context))

    return handler


def handle_timer_event(
    event: bytes, orchestrator: Orchestrator, *, budget_seconds: float | None = None
) -> dict[str, Any]:
    """One sweep over the unfinished jobs, then one slice of inbox reconciliation (`shared.pipeline.
    reconcile`) when the sweep finished within its budget. The timer's payload may cap the sweep:
    `{"max_jobs": 20}`.

    An empty event (`b""` or `{}`, a manual invocation from the console) sweeps without a cap. The sweep
    stops after `budget_seconds` (see `sweep_budget`); the next tick carries on.
    """
    limit = sweep_limit(event)
    tick = orchestrator.clock()  # the reconciler's passes are spaced by ticks, not by sweep durations
    report = orchestrator.sweep(limit=limit, budget_seconds=budget_seconds)
    answer: dict[str, Any] = {"status": "swept", "max_jobs": limit, **asdict(report)}
    if not report.stopped_early:
        # Uploads whose event was lost get their job here, a bounded slice of the inbox per tick.
        answer["reconcile"] = asdict(InboxReconciler(orchestrator).run(now=tick))
    return answer


# Time kept back from the function's timeout: the job being examined when the budget runs out must still
# be able to finish its calls (each bounded by the clients' timeouts and retries).
SWEEP_RESERVE_SECONDS = 15.0


def sweep_budget(context: FcContext) -> float | None:
    """How long a sweep may run in this invocation: the function's timeout less a reserve (None: unknown)."""
    timeout = context.function.timeout if context.function is not None else None
    if not timeout:
        return None
    return max(1.0, float(timeout) - SWEEP_RESERVE_SECONDS)


def sweep_limit(event: bytes) -> int | None:
    """The `max_jobs` of the timer's payload (None: no cap); InvalidRequestError naming the field."""
    if event.strip() in (b"", b"{}"):
        return None
    payload = TimerEvent.from_bytes(event).payload_json()
    if not isinstance(payload, dict) or "max_jobs" not in payload:
        return None
    value = payload["max_jobs"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SWEEP_JOBS:
        raise InvalidRequestError.single(
            "payload.max_jobs",
            "range",
            f"must be an integer from 1 to {MAX_SWEEP_JOBS}, got {value!r}",
            "timer event",
        )
    return value

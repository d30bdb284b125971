"""The event functions' bodies: OSS upload, MNS notification and timer events in, a JSON summary out.

Each `functions/<name>/index.py` is one line over this module:

    handler = upload_handler()        # on_upload: OSS trigger
    handler = notify_handler()        # on_notify: MNS topic trigger (JSON or STREAM format)
    handler = sweep_handler()         # fetch_results: timer trigger

The handlers are `shared.runtime.handler.fc_handler` functions, so its error mapping applies: a malformed
event (InvalidRequestError) is logged and refused without a retry; a retryable ServiceError is raised so
FC retries the invocation (MNS re-pushes a notification); anything else (a ConfigurationError above
all) is logged and raised. Every operation is idempotent, so FC's retries and duplicate deliveries
change nothing twice.

Example (tests pass a provider whose builder returns an orchestrator over fakes):
    >>> handler = upload_handler(PipelineProvider("on_upload"))
    >>> handler(b'{"events": []}', {"request_id": "r-1"})["status"]   # doctest: +SKIP
    'refused'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.events.mns import MnsMessage
from shared.events.notifications import IceCallback, parse_notification
from shared.events.oss import OssEvent, OssRecord
from shared.events.timer import TimerEvent
from shared.logging import get_logger
from shared.pipeline.decide import Accept, Ignore, decide_upload
from shared.pipeline.handoff import JobDue, parse_job_due
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.pipeline.reconcile import InboxReconciler
from shared.runtime.context import FcContext
from shared.runtime.handler import bind_correlation, fc_handler

__all__ = [
    "FETCH_RESULTS",
    "MAX_SWEEP_JOBS",
    "ON_NOTIFY",
    "ON_UPLOAD",
    "handle_notification_event",
    "handle_timer_event",
    "handle_upload_event",
    "initializer",
    "notify_handler",
    "sweep_handler",
    "sweep_limit",
    "upload_handler",
]

ON_UPLOAD = "on_upload"
ON_NOTIFY = "on_notify"
FETCH_RESULTS = "fetch_results"
MAX_SWEEP_JOBS = 10_000

EventHandler = Callable[[Any, Any], dict[str, Any]]

log = get_logger(__name__)


# The FC entry points -----------------------------------------------------------------------------------


def upload_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """on_upload's `handler(event, context)`. The function has no DashScope key: it only starts jobs."""
    source = provider or PipelineProvider(ON_UPLOAD, uses_dashscope=False)

    @fc_handler(ON_UPLOAD)
    def handler(event: bytes, context: FcContext) -> dict[str, Any]:
        return handle_upload_event(event, source.orchestrator(context))

    return handler


def notify_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """on_notify's `handler(event, context)`."""
    source = provider or PipelineProvider(ON_NOTIFY, uses_dashscope=True)

    @fc_handler(ON_NOTIFY)
    def handler(event: bytes, context: FcContext) -> dict[str, Any]:
        return handle_notification_event(event, source.orchestrator(context))

    return handler


def sweep_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """fetch_results' `handler(event, context)`."""
    source = provider or PipelineProvider(FETCH_RESULTS, uses_dashscope=True)

    @fc_handler(FETCH_RESULTS)
    def handler(event: bytes, context: FcContext) -> dict[str, Any]:
        return handle_timer_event(event, source.orchestrator(context), budget_seconds=sweep_budget(context))

    return handler


def initializer(provider: PipelineProvider) -> Callable[[Any], None]:
    """FC's `initialize(context)` hook for a function: validate the configuration before any event."""

    def initialize(context: Any) -> None:
        fc_context = FcContext.from_fc(context) if context is not None else None
        provider.initialize(fc_context)

    return initialize


# The bodies --------------------------------------------------------------------------------------------


def handle_upload_event(event: bytes, orchestrator: Orchestrator) -> dict[str, Any]:
    """Start (or find) the job of every upload the OSS event announces; say what became of each record.

    A record that is no upload is reported with the decision's reason. A retryable service failure on
    one record does not stop the others; it is raised at the end so FC retries the whole event (the
    records already handled find their jobs again). A job that already exists and whose next step needs a
    client this function lacks (recognition: on_upload has no DashScope key) is left to on_notify and
    the sweep, and reported as `deferred`.
    """
    records = OssEvent.from_bytes(event).events
    accepted: list[dict[str, Any]] = []
    ignored: list[dict[str, Any]] = []
    deferred: list[dict[str, Any]] = []
    failure: ServiceError | None = None
    for index, record in enumerate(records):
        decision = decide_upload(record, orchestrator.settings)
        if isinstance(decision, Ignore):
            ignored.append(_ignored(index, record, decision.reason, decision.detail))
            continue
        try:
            view = orchestrator.handle_upload(record)
        except InvalidRequestError as error:
            log.warning("upload.record.refused", index=index, key=decision.key, error=str(error))
            ignored.append(_ignored(index, record, "invalid_record", str(error)))
            continue
        except ServiceError as error:
            log.warning("upload.record.failed", index=index, key=decision.key, code=error.code)
            failure = failure or error
            continue
        except ConfigurationError:
            existing = _existing_job(orchestrator, decision)
            if existing is None:
                raise
            log.info("upload.job.waits_for_other_function", job_id=existing, key=decision.key)
            deferred.append({"index": index, "key": decision.key, "job_id": existing})
            continue
        if view is None:
            detail = "the object is gone, empty, or was replaced by a newer version (whose event starts it)"
            ignored.append(_ignored(index, record, "object_unavailable", detail))
            continue
        if len(records) == 1:
            bind_correlation(job_id=view.id)
        accepted.append({"index": index, "key": decision.key, "job_id": view.id, "state": view.state.value})
    if failure is not None:
        raise failure
    return {
        "status": "handled",
        "records": len(records),
        "accepted": accepted,
        "ignored": ignored,
        "deferred": deferred,
    }


def handle_notification_event(event: bytes, orchestrator: Orchestrator) -> dict[str, Any]:
    """Record a task's completion and advance its job. Either MNS trigger format is accepted (the
    template uses JSON); a body that is no completion notification is refused (acknowledged, not
    retried), and a notification for no job we know is acknowledged with `status: ignored`.

    A job-due message (`shared.pipeline.handoff`: the HTTP API's synchronous recognitions) advances its
    job here, recognition included."""
    message = MnsMessage.from_bytes(event)
    due = _job_due(message)
    if due is not None:
        return _handle_job_due(due, message, orchestrator)
    notification = parse_notification(message)
    task_id = notification.job_id if isinstance(notification, IceCallback) else notification.task_id
    status = getattr(notification.status, "value", notification.status)
    bind_correlation(task_id=task_id, message_id=message.message_id)
    view = orchestrator.handle_notification(notification)
    summary: dict[str, Any] = {"message_id": message.message_id, "task_id": task_id, "task_status": status}
    if view is None:
        return {"status": "ignored", "reason": "unknown_job", **summary}
    bind_correlation(job_id=view.id)
    return {"status": "handled", "job_id": view.id, "job_state": view.state.value, **summary}


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
    report = orchestrator.sweep(limit=limit, budget_seconds=budget_seconds)
    answer: dict[str, Any] = {"status": "swept", "max_jobs": limit, **asdict(report)}
    if not report.stopped_early:
        # Uploads whose event was lost get their job here, a bounded slice of the inbox per tick.
        answer["reconcile"] = asdict(InboxReconciler(orchestrator).run())
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


def _job_due(message: MnsMessage) -> JobDue | None:
    try:
        document = message.body_json()
    except InvalidRequestError:
        return None  # parse_notification refuses it with its own, fuller message
    return parse_job_due(document)


def _handle_job_due(due: JobDue, message: MnsMessage, orchestrator: Orchestrator) -> dict[str, Any]:
    bind_correlation(job_id=due.job_id, message_id=message.message_id)
    view = orchestrator.handle_job_due(due)
    summary: dict[str, Any] = {"message_id": message.message_id, "job_id": due.job_id, "reason": due.reason}
    if view is None:
        return {"status": "ignored", **summary, "reason": "unknown_job"}
    return {"status": "handled", "job_state": view.state.value, **summary}


def _ignored(index: int, record: OssRecord, reason: str, detail: str) -> dict[str, Any]:
    return {"index": index, "key": record.key, "reason": reason, "detail": detail}


def _existing_job(orchestrator: Orchestrator, decision: Accept) -> str | None:
    found = orchestrator.store.find(decision.idempotency_key)
    return found.id if found is not None else None

"""on_notify's body: a completion notification (or a job-due message) from the MNS topic trigger in, the
job recorded and advanced, a summary out.

    handler = notify_handler()        # functions/on_notify/index.py (MNS topic trigger, JSON or STREAM)
"""

from __future__ import annotations

from typing import Any

from shared.errors import InvalidRequestError
from shared.events.mns import MnsMessage
from shared.events.notifications import IceCallback, parse_notification
from shared.pipeline.handlers.common import ON_NOTIFY, EventHandler, orchestrated_handler
from shared.pipeline.handoff import JobDue, parse_job_due
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.runtime.handler import bind_correlation

__all__ = ["handle_notification_event", "notify_handler"]


def notify_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """on_notify's `handler(event, context)`."""
    return orchestrated_handler(ON_NOTIFY, handle_notification_event, provider, uses_dashscope=True)


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

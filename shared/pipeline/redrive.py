"""Redriving the dead-letter queue: every event FC parked after its retries ran out is replayed once.

FC sends a failed asynchronous invocation (OSS trigger events, timer ticks) to the destination queue as
its *destination record* (see localcloud/runtime/events.py and /work/shared/reference/fc2-and-events.md):

    {"requestContext": {"requestId", "functionArn", "condition", ...}, "requestPayload": "<event text>", ...}

`redrive` takes each message, replays its `requestPayload` through the body of the function the ARN
names (`on_upload` and `on_notify`; a timer tick needs no replay, the next tick does its work), and
deletes the message once the replay succeeded. A replay that fails leaves the message parked (it shows
again after its visibility timeout) and is reported. Within one run a message is replayed at most once,
even when it becomes visible again before the run ends; across runs a replayed message is gone. Every
handler is idempotent, so a replay of an event whose work was done meanwhile changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from shared.clients.mns import ReceivedMessage
from shared.logging import get_logger
from shared.pipeline.handlers.common import FETCH_RESULTS, ON_NOTIFY, ON_UPLOAD
from shared.pipeline.handlers.notify import handle_notification_event
from shared.pipeline.handlers.upload import handle_upload_event
from shared.pipeline.orchestrator import Orchestrator

log = get_logger(__name__)

DEFAULT_MAX_MESSAGES = 1000


class DeadLetterQueue(Protocol):
    def receive(
        self, queue: str, *, wait_seconds: int | None = None, base64_body: bool = False
    ) -> ReceivedMessage | None: ...

    def delete(self, queue: str, receipt_handle: str) -> None: ...


@dataclass
class RedriveReport:
    replayed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)  # nothing to replay (timer ticks); deleted
    failed: list[dict[str, Any]] = field(default_factory=list)  # left parked


@dataclass(frozen=True)
class ParkedEvent:
    function: str
    payload: bytes
    request_id: str | None
    condition: str | None


def parse_parked(body: str) -> ParkedEvent:
    """The function and event of a destination record; ValueError naming what is missing."""
    document = json.loads(body)
    if not isinstance(document, dict):
        raise ValueError("the message is not a destination record (a JSON object)")
    context = document.get("requestContext")
    payload = document.get("requestPayload")
    if not isinstance(context, dict) or not isinstance(payload, str):
        raise ValueError("the message has no requestContext and requestPayload")
    arn = context.get("functionArn")
    if not isinstance(arn, str) or "functions/" not in arn:
        raise ValueError(f"requestContext.functionArn names no function: {arn!r}")
    function = arn.rsplit("functions/", 1)[1].split("/", 1)[0].split(":", 1)[0]
    request_id = context.get("requestId")
    condition = context.get("condition")
    return ParkedEvent(
        function=function,
        payload=_payload_bytes(payload),
        request_id=request_id if isinstance(request_id, str) else None,
        condition=condition if isinstance(condition, str) else None,
    )


def _payload_bytes(text: str) -> bytes:
    # FC gives a payload that is not UTF-8 text base64-encoded; JSON events always start with '{'.
    if text.lstrip().startswith("{"):
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode("utf-8")


def redrive(
    queue_client: DeadLetterQueue,
    queue: str,
    orchestrator: Orchestrator,
    *,
    max_messages: int = DEFAULT_MAX_MESSAGES,
    replay: Callable[[ParkedEvent, Orchestrator], dict[str, Any]] | None = None,
) -> RedriveReport:
    """Replay up to `max_messages` parked events once each (see the module docstring)."""
    report = RedriveReport()
    run = replay or replay_event
    seen: set[str] = set()
    while len(seen) < max_messages:
        message = queue_client.receive(queue, wait_seconds=0)
        if message is None or message.message_id in seen:
            break  # the queue is empty, or what is left already failed in this run
        seen.add(message.message_id)
        summary: dict[str, Any] = {"message_id": message.message_id}
        try:
            parked = parse_parked(message.body)
        except ValueError as error:
            log.error(
                "redrive.unreadable",
                message_id=message.message_id,
                error=str(error),
            )
            report.failed.append({**summary, "error": str(error)})
            continue
        summary.update(function=parked.function, request_id=parked.request_id)
        if parked.function == FETCH_RESULTS:
            queue_client.delete(queue, message.receipt_handle)
            report.skipped.append({**summary, "reason": "a timer tick: the next tick does its work"})
            continue
        try:
            # Each replay in a copy of the context, as an invocation runs: its log correlation ids
            # (job id, task id) stay with it.
            result = contextvars.copy_context().run(run, parked, orchestrator)
        except Exception as error:  # every failure is reported; the message stays for the next run
            log.warning("redrive.replay.failed", **summary, error=f"{type(error).__name__}: {error}")
            report.failed.append({**summary, "error": f"{type(error).__name__}: {error}"})
            continue
        queue_client.delete(queue, message.receipt_handle)
        log.info("redrive.replayed", **summary)
        report.replayed.append({**summary, "result": result})
    return report


def replay_event(parked: ParkedEvent, orchestrator: Orchestrator) -> dict[str, Any]:
    """Run a parked event through its function's body (the same code the FC handler runs)."""
    if parked.function == ON_UPLOAD:
        return handle_upload_event(parked.payload, orchestrator)
    if parked.function == ON_NOTIFY:
        return handle_notification_event(parked.payload, orchestrator)
    raise ValueError(f"no replay for function {parked.function!r}")

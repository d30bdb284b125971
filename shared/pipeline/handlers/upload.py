"""on_upload's body: the OSS upload event in, the job of each upload started (or found), a summary out.

handler = upload_handler()        # functions/on_upload/index.py (OSS trigger)
"""

from __future__ import annotations

from typing import Any

from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.events.oss import OssEvent, OssRecord
from shared.logging import get_logger
from shared.pipeline.decide import Accept, Ignore, decide_upload
from shared.pipeline.handlers.common import ON_UPLOAD, EventHandler, orchestrated_handler
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.runtime.handler import bind_correlation

__all__ = ["handle_upload_event", "upload_handler"]

log = get_logger("shared.pipeline.handlers")


def upload_handler(provider: PipelineProvider | None = None) -> EventHandler:
    """on_upload's `handler(event, context)`. The function has no DashScope key: it only starts jobs."""
    return orchestrated_handler(ON_UPLOAD, handle_upload_event, provider, uses_dashscope=False)


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


def _ignored(index: int, record: OssRecord, reason: str, detail: str) -> dict[str, Any]:
    return {"index": index, "key": record.key, "reason": reason, "detail": detail}


def _existing_job(orchestrator: Orchestrator, decision: Accept) -> str | None:
    found = orchestrator.store.find(decision.idempotency_key)
    return found.id if found is not None else None

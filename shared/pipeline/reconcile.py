"""Inbox reconciliation: uploads whose event never started a job (lost, dead-lettered, refused while the
trigger was being wired) are found by listing the inbox and started, a bounded slice per timer tick.

Each tick lists at most `limit` inbox objects after a *watermark* (the last key looked at, kept in
`jobs/_reconcile/inbox.json`), so the cost per tick is one LIST page plus two GETs per object it checks,
whatever the bucket's size; at the end of the inbox the watermark wraps to the start, and the next pass
waits until PASS_INTERVAL after this one ended (`shared.pipeline.reconcile_mark`). An object younger
than `min_age` is left to its event (most are in flight for a second or two), so reconciliation does not
race the trigger; when it does meet a job it finds it through the same idempotency key, so it never
creates a second one. A job found failed before the object's LastModified is an upload of the same content
made after the failure whose event was lost: it is retried, as that event would have had it
(`shared.pipeline.reupload`).

An object's job is read once, not on every pass: the watermark also records which objects earlier passes
settled (`shared.pipeline.reconcile_mark`), and later passes list them without reading their jobs.
Re-checking every object on every pass made the sweep's reads grow with the inbox times the ticks it
lived: a 200-file `localcloud run` read 7,200 claims (issue 11); a deployed inbox of 10,000 objects cost
400 GETs a minute for ever. An object whose start failed is checked again on the next pass, and once a day
a full pass checks everything.

    report = InboxReconciler(orchestrator).run(limit=200)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

from shared.auth.clock import as_utc
from shared.clients.oss_models import ListResult
from shared.errors import InvalidRequestError, ServiceError
from shared.events.oss import OssRecord
from shared.jobs.model import JobState, JobView
from shared.logging import get_logger
from shared.pipeline.decide import Accept, decide_upload
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.reconcile_mark import PASS_INTERVAL, Watermark, inbox_scope
from shared.pipeline.reupload import retry_after_reupload
from shared.pipeline.settings import PipelineSettings

DEFAULT_LIMIT = 200
DEFAULT_MIN_AGE = timedelta(minutes=2)
WATERMARK_NAME = "_reconcile/inbox.json"

log = get_logger(__name__)


class InboxLister(Protocol):
    def iter_list_pages(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int = 1000,
        start_after: str | None = None,
    ) -> Iterator[ListResult]: ...


@dataclass
class ReconcileReport:
    listed: int = 0
    settled: int = 0  # listed, but settled by an earlier pass: not read again
    young: int = 0  # younger than min_age: left to their events this pass
    started: int = 0  # uploads with no job that got one now
    retried: int = 0  # failed jobs of objects uploaded again after the failure (their event lost)
    failed: int = 0  # uploads whose start failed (retried next pass)
    wrapped: bool = False  # the listing reached the end of the inbox; the next pass starts over
    resting: bool = False  # the last pass ended less than `pass_interval` ago: nothing listed this tick


class InboxReconciler:
    def __init__(
        self,
        orchestrator: Orchestrator,
        *,
        min_age: timedelta = DEFAULT_MIN_AGE,
        pass_interval: timedelta = PASS_INTERVAL,
    ) -> None:
        self.orchestrator = orchestrator
        self.min_age = min_age
        self.pass_interval = pass_interval
        self._watermark_key = orchestrator.store.layout.prefix + WATERMARK_NAME

    def run(self, *, limit: int = DEFAULT_LIMIT, now: datetime | None = None) -> ReconcileReport:
        orchestrator = self.orchestrator
        report = ReconcileReport()
        oss = orchestrator.clients.oss
        if not hasattr(oss, "iter_list_pages"):
            return report  # a client that cannot list (some test doubles): nothing to reconcile with
        lister: InboxLister = oss  # type: ignore[assignment]
        settings = orchestrator.settings
        moment = as_utc(now if now is not None else orchestrator.clock())
        mark = self._watermark(settings)
        if mark.resting(moment, self.pass_interval):
            report.resting = True
            return report
        if not mark.after or mark.pass_started is None:
            mark.begin_pass(moment)
        pages = lister.iter_list_pages(
            settings.bucket, settings.inbox_prefix, page_size=min(limit, 1000), start_after=mark.after or None
        )
        for summary in (item for page in pages for item in page.objects):
            if report.listed + report.young >= limit:
                break
            mark.after = summary.key
            modified = as_utc(summary.last_modified) if summary.last_modified is not None else None
            if modified is not None and moment - modified < self.min_age:
                # Left to its event. Newer than any `verified_before` this pass can earn, so the next
                # pass checks it; stopping here instead let one key rewritten every minute stall the pass.
                report.young += 1
                continue
            report.listed += 1
            if mark.is_settled(summary.key, summary.etag, modified):
                report.settled += 1
            elif self._settle(summary.key, summary.etag, summary.size, modified, report):
                mark.settled(summary.key, summary.etag, modified)
            else:
                mark.failed(summary.key, modified)
        else:
            report.wrapped = True
            mark.end_pass(moment)
        self._save_watermark(mark)
        return report

    def _settle(
        self, key: str, etag: str, size: int, modified: datetime | None, report: ReconcileReport
    ) -> bool:
        """Check one listed object and start its job if it has none (or retry it if it failed before the
        object was written); False when that failed (the object is then checked again on the next pass, and
        the others go on: one object that always fails, a damaged claim say, must not stop reconciliation
        of every key after it)."""
        orchestrator = self.orchestrator
        record = _record(orchestrator.settings.bucket, key, etag, size, modified)
        try:
            decision = decide_upload(record, orchestrator.settings)
            if not isinstance(decision, Accept):
                return True
            existing = self._existing_job(decision)
            if existing is not None:
                self._retry_if_uploaded_again(existing, record, report)
                return True
            view = orchestrator.handle_upload(record)
        except (ServiceError, InvalidRequestError) as error:
            report.failed += 1
            log.warning("reconcile.upload.failed", key=key, code=error.code)
            return False
        except Exception:
            report.failed += 1
            log.exception("reconcile.upload.failed", key=key, code="InternalError")
            return False
        if view is not None:
            report.started += 1
            log.warning("reconcile.upload.started", key=key, job_id=view.id)
        return True

    def _existing_job(self, decision: Accept) -> JobView | None:
        store = self.orchestrator.store
        found = store.created_view(decision.idempotency_key)
        if found is not None:
            return found
        # An event's ETag and a listing's may differ in case (producers disagree): try the other spelling.
        etag = decision.etag or ""
        for spelling in {etag.upper(), etag.lower()} - {etag}:
            key = decision.idempotency_key[: -len(etag)] + spelling if etag else ""
            found = store.created_view(key) if key else None
            if found is not None:
                return found
        return None

    def _retry_if_uploaded_again(self, job: JobView, record: OssRecord, report: ReconcileReport) -> None:
        """The same content uploaded again after its job failed, whose event was lost: retried from the
        failed step, as the event would have had it (a job that failed after the upload is left alone)."""
        if job.state is not JobState.FAILED:
            return
        if retry_after_reupload(self.orchestrator.store, job, record):
            report.retried += 1
            log.warning("reconcile.upload.retried", key=record.raw_key, job_id=job.id)
            self.orchestrator.advance(job.id)

    def _watermark(self, settings: PipelineSettings) -> Watermark:
        mark = Watermark.parse(self.orchestrator.store.backend.get(self._watermark_key))
        scope = inbox_scope(settings.bucket, settings.inbox_prefix, settings.accepted_suffixes)
        return mark if mark.scope == scope else Watermark(scope=scope)  # another inbox: start afresh

    def _save_watermark(self, mark: Watermark) -> None:
        self.orchestrator.store.backend.put(self._watermark_key, mark.encode())


def _record(bucket: str, key: str, etag: str, size: int, modified: datetime | None = None) -> OssRecord:
    """The OSS event the object's upload would have delivered (what the handler decides on), timed at
    the object's LastModified when the listing gives one.

    The key goes URL-encoded, so that its first reading (the decoded one, see OssRecord.candidate_keys) is
    the key itself whatever `%` or `+` it holds: the idempotency key is then the one its event makes.
    """
    encoded = quote(key, safe="/")
    document: dict[str, object] = {
        "eventName": "ObjectCreated:PutObject",
        "oss": {"bucket": {"name": bucket}, "object": {"key": encoded, "eTag": etag, "size": size}},
    }
    if modified is not None:
        document["eventTime"] = modified.isoformat()
    return OssRecord.model_validate(document)

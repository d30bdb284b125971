"""Uploading an object again after its job failed runs that job again.

An upload's job is keyed by bucket, key and ETag, so the same content uploaded again is the same job: its
event finds the failed job rather than starting a new one. When the event is newer than the failure
(OSS's `eventTime` after the job's last change), it is a new upload, not a redelivery of the first one,
and the job is retried from its failed step (as `POST /v1/jobs/{id}/retry` would), keeping its history.
Redeliveries of the original event predate the failure and change nothing; a redelivery of the
re-upload's event finds the job running again and changes nothing either. Not retried: a cancelled job
(cancelling was a decision) and an upload the rules refused (`InvalidUpload`: same bytes, same verdict,
until the rules change; then use the retry route).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from shared.jobs.control import retry_job
from shared.jobs.errors import JobStateConflict
from shared.jobs.model import JOB_CANCELLED, JobState, JobView
from shared.jobs.store import JobStore
from shared.logging import get_logger

if TYPE_CHECKING:
    from shared.events.oss import OssRecord

log = get_logger(__name__)

INVALID_UPLOAD = "InvalidUpload"
_NOT_RETRIED = (JOB_CANCELLED, INVALID_UPLOAD)


def event_time(record: OssRecord) -> datetime | None:
    """The record's `eventTime` as an aware datetime, or None when absent or unreadable."""
    raw = record.event_time
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def retry_after_reupload(store: JobStore, job: JobView, record: OssRecord) -> bool:
    """Retry `job` when `record` is an upload of its object made after the job failed; True if retried."""
    if job.state is not JobState.FAILED:
        return False
    uploaded_at = event_time(record)
    if uploaded_at is None or uploaded_at <= job.updated_at:
        return False  # the original upload's event again (or one that cannot be placed in time)
    code = job.error.code if job.error is not None else ""
    if code in _NOT_RETRIED:
        log.info("upload.reupload.not_retried", job_id=job.id, code=code)
        return False
    try:
        retry_job(store, job.id)
    except JobStateConflict as conflict:  # retried meanwhile, or its attempt budget is spent
        log.info("upload.reupload.not_retried", job_id=job.id, reason=str(conflict))
        return False
    log.info("upload.reupload.retried", job_id=job.id, failed_code=code)
    return True

"""Should an OSS event start the chain? A pure decision: `Accept` (with the job's idempotency key) or
`Ignore` (with a reason code and a sentence).

    >>> from shared.events import OssRecord
    >>> from shared.pipeline.settings import PipelineSettings
    >>> record = OssRecord.model_validate({"eventName": "ObjectCreated:CompleteMultipartUpload",
    ...     "oss": {"bucket": {"name": "audiochain"},
    ...             "object": {"key": "inbox/Talk.WAV", "eTag": "E1", "size": 10}}})
    >>> decision = decide_upload(record, PipelineSettings())
    >>> decision.relative_key, decision.idempotency_key
    ('Talk.WAV', 'upload:audiochain/inbox/Talk.WAV@E1')

The idempotency key is bucket + key + ETag: the identity of one version of one object. Not the OSS
request id: a redelivered or duplicated event for the same version must find the same job, and two
events for one upload can carry different request ids. Without an ETag the request id (else the event
time) stands in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from shared.pipeline.settings import PipelineSettings

if TYPE_CHECKING:
    from shared.events.oss import OssRecord  # a type only: the HTTP API decides on no OSS event

APPEND_EVENT = "ObjectCreated:AppendObject"


class Accept(NamedTuple):
    """Start (or find) the job for this object version."""

    bucket: str
    key: str
    # Every reading of the event's key that is an inbox upload, most likely first: the handler uses the
    # one that exists (whether FC URL-encodes keys is undocumented; see shared.events.oss).
    candidate_keys: tuple[str, ...]
    etag: str | None
    size: int | None
    relative_key: str
    idempotency_key: str
    event_type: str


class Ignore(NamedTuple):
    """Nothing to do; `reason` is a stable code for logs and metrics."""

    reason: str
    detail: str


def decide_upload(record: OssRecord, settings: PipelineSettings) -> Accept | Ignore:
    """Accept every ObjectCreated variant (multipart completion included) of a non-empty object under the
    inbox prefix whose suffix (in any case) is accepted; ignore everything else, saying why."""
    event_type = record.event_type
    if not record.is_object_created:
        return Ignore("not_object_created", f"{event_type} does not announce a complete new object")
    if event_type == APPEND_EVENT:
        return Ignore(
            "appendable_object",
            "an appendable object fires an event after every append; its audio may still be growing",
        )
    if record.bucket != settings.bucket:
        return Ignore("other_bucket", f"bucket {record.bucket!r} is not the pipeline's {settings.bucket!r}")
    if record.raw_key.endswith("/"):
        return Ignore("directory_marker", f"{record.raw_key!r} is a folder marker, not a file")
    candidates = tuple(key for key in record.candidate_keys() if key.startswith(settings.inbox_prefix))
    if not candidates:
        return Ignore("outside_inbox", f"{record.key!r} is not under {settings.inbox_prefix!r}")
    candidates = tuple(key for key in candidates if settings.matches_inbox(key))
    if not candidates:
        allowed = " ".join(settings.accepted_suffixes)
        return Ignore("unsupported_suffix", f"{record.key!r} does not end with one of: {allowed}")
    if record.size == 0:
        return Ignore("empty_object", f"{record.key!r} is empty (0 bytes)")
    key = candidates[0]
    etag = record.etag
    if etag:
        version = etag
    elif record.request_id:
        version = f"request:{record.request_id}"
    else:
        version = f"time:{record.event_time or ''}"
    return Accept(
        bucket=record.bucket,
        key=key,
        candidate_keys=candidates,
        etag=etag,
        size=record.size,
        relative_key=key[len(settings.inbox_prefix) :],
        idempotency_key=f"upload:{record.bucket}/{key}@{version}",
        event_type=event_type,
    )

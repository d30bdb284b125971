"""`state.json`: the job's record and every event known to the last writer, so a read costs O(1) requests.

The event objects stay the truth. The snapshot is a cache of them that each winning writer keeps current,
and a read checks it against one listing of the job's `events/` folder: an event the snapshot lacks (its
writer stopped before rewriting the snapshot, or two writers raced) is read on its own and the snapshot
repaired. A current snapshot therefore makes a read one GET and one LIST whatever the job's history, where
folding from scratch costs a GET per event.

Merging is a union by event key: events are immutable and written create-if-absent, so two snapshots can
only differ by which events they hold, never by what an event says.

    >>> from datetime import datetime, timezone
    >>> from shared.jobs.model import JobRecord, JobView
    >>> at = datetime(2025, 1, 15, tzinfo=timezone.utc)
    >>> record = JobRecord(id="j1", type="convert", created_at=at, idempotency_key="k", input_digest="d")
    >>> view = JobView(id="j1", type="convert", state="queued", created_at=at, updated_at=at)
    >>> document = decode_snapshot(encode_snapshot(record, {}, view), "j1")
    >>> document.record.id, document.events, document.view.state.value
    ('j1', {}, 'queued')
    >>> decode_snapshot(b'{"event_count": 0, "view": {}}', "j1") is None  # the first layout: no record
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import NamedTuple

from pydantic import ValidationError

from shared.jobs.model import JobRecord, JobView, StepEvent

SNAPSHOT_SCHEMA = 2


class SnapshotDocument(NamedTuple):
    """A decoded `state.json`: the record, events by their storage key, and the view folded when written."""

    record: JobRecord
    events: dict[str, StepEvent]
    view: JobView


def encode_snapshot(
    record: JobRecord, events: Mapping[str, StepEvent], view: JobView, *, sealed: bool = False
) -> bytes:
    """The bytes of `state.json` (events sorted by key, so equal snapshots encode equally). `sealed` only
    from the sweep's settling read (`JobStore.seal`): every other writer's snapshot is unsealed."""
    document: dict[str, object] = {
        "schema": SNAPSHOT_SCHEMA,
        "event_count": len(events),
        "record": record.model_dump(mode="json"),
        "events": {key: events[key].model_dump(mode="json") for key in sorted(events)},
        "view": view.model_dump(mode="json"),
    }
    if sealed:
        document["sealed"] = True
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode_snapshot(raw: bytes, job_id: str) -> SnapshotDocument | None:
    """The snapshot in `raw`; None when it is unreadable, of another layout or of another job (the
    caller then rebuilds it from the events, which is always possible)."""
    try:
        document = json.loads(raw)
        if not isinstance(document, dict) or document.get("schema") != SNAPSHOT_SCHEMA:
            return None
        record = JobRecord.model_validate(document["record"])
        events = {str(key): StepEvent.model_validate(value) for key, value in document["events"].items()}
        view = JobView.model_validate(document["view"])
    except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
        return None
    if record.id != job_id or view.id != job_id or any(e.job_id != job_id for e in events.values()):
        return None
    return SnapshotDocument(record, events, view)


def listed_view(raw: bytes, job_id: str, *, sealed_only: bool = False) -> JobView | None:
    """Only the view of a snapshot (a listing needs nothing else); None when there is none to trust.
    `sealed_only`: None too unless the snapshot is sealed (a finished job the sweep settled)."""
    try:
        document = json.loads(raw)
        if not isinstance(document, dict) or document.get("schema") != SNAPSHOT_SCHEMA:
            return None
        if sealed_only and document.get("sealed") is not True:
            return None
        view = JobView.model_validate(document["view"])
    except (ValueError, KeyError, TypeError, ValidationError):
        return None
    return view if view.id == job_id else None


__all__ = [
    "SNAPSHOT_SCHEMA",
    "SnapshotDocument",
    "decode_snapshot",
    "encode_snapshot",
    "listed_view",
]

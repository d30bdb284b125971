"""What inbox reconciliation remembers between ticks (`jobs/_reconcile/inbox.json`): where its pass is, and
which objects earlier passes settled, so that an object's job is read once rather than on every pass.

Two records say an object is settled (it has its job, or is not one for the chain):

- `verified_before`: every object whose LastModified is older was met and settled by a pass. It is set at
  the end of a pass to the pass's start less SETTLE_MARGIN (which covers any skew between the function's
  clock and OSS's: OSS refuses requests signed more than 15 minutes off, so the skew is below that);
- `recent`: key → ETag (and LastModified) of the objects settled since, newer than `verified_before`; an
  object is skipped only while its ETag is the one settled. At most RECENT_LIMIT are kept; beyond that
  they are simply read again.

An object whose check or start failed goes into `retry` and is checked on every pass, whatever its age,
until it is settled; only when more than RETRY_LIMIT fail does `verified_before` stay at the oldest of the
others (`failed_before`), so that one broken object never makes every pass read everything again.

A pass that reached the end of the inbox records when (`pass_ended`), and the next one starts no sooner than
PASS_INTERVAL later: a tick between passes costs one GET of this record, not a LIST of the inbox. Deployed,
the timer fires once a minute and every tick starts a pass as before; `localcloud run` ticks every 2 s, and
listing a 200-file inbox on each of those ticks grew the run's cost with its files times its length (issue
11). Nothing reconciliation looks for is younger than two minutes, so a pass every minute loses nothing.

A full pass, which skips nothing, runs once every FULL_PASS_EVERY: whatever these rules could miss (an
object listed later than its LastModified suggests, say) waits a day at most, not for ever. The record is
tied to the inbox it was made for (`scope`: bucket, prefix, accepted suffixes); a change starts afresh.

    >>> mark = Watermark.parse(b'{"after": "inbox/b.wav", "pass_started": "2026-12-05T10:00:00Z"}')
    >>> mark.after, mark.pass_started.hour, mark.credited, mark.verified_before
    ('inbox/b.wav', 10, False, None)
    >>> Watermark.parse(mark.encode()) == mark, Watermark.parse(b"not json") == Watermark()
    (True, True)
    >>> mark.end_pass(mark.pass_started + timedelta(seconds=3))
    >>> [mark.resting(mark.pass_ended + timedelta(seconds=s)) for s in (-5, 0, 49, 50)]
    [False, True, True, False]
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.auth.clock import as_utc

__all__ = [
    "FULL_PASS_EVERY",
    "PASS_INTERVAL",
    "RECENT_LIMIT",
    "RETRY_LIMIT",
    "SETTLE_MARGIN",
    "Watermark",
    "inbox_scope",
]

SETTLE_MARGIN = timedelta(minutes=15)
FULL_PASS_EVERY = timedelta(hours=24)
# Below the deployed timer's minute, so that each deployed tick still starts a pass.
PASS_INTERVAL = timedelta(seconds=50)
RECENT_LIMIT = 2000  # ~300 KB of record, read and written each tick
RETRY_LIMIT = 500
RECENT_KEY_LIMIT = 200  # characters


def inbox_scope(bucket: str, prefix: str, suffixes: tuple[str, ...]) -> str:
    """What the record is valid for: what decides which objects are uploads.

    >>> inbox_scope("media", "inbox/", (".wav", ".mp3")) == inbox_scope("media", "inbox/", (".mp3", ".wav"))
    True
    """
    text = json.dumps([bucket, prefix, sorted(suffixes)], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Watermark:
    scope: str = ""
    after: str = ""  # the last key the pass looked at ("" between passes)
    pass_started: datetime | None = None
    credited: bool = False  # the pass's start is known, so its end may move `verified_before`
    full: bool = False  # this pass skips nothing
    failed_before: datetime | None = None  # the oldest failed object that found no room in `retry`
    verified_before: datetime | None = None
    full_pass_at: datetime | None = None
    pass_ended: datetime | None = None  # when the last pass reached the end of the inbox
    recent: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    retry: set[str] = field(default_factory=set)

    def begin_pass(self, moment: datetime) -> None:
        """A new pass from the start of the inbox; or, for a record whose pass start was lost, the rest
        of that pass without credit."""
        self.credited = not self.after
        self.pass_started = moment
        self.failed_before = None
        self.full = self.full_pass_at is None or moment - self.full_pass_at >= FULL_PASS_EVERY
        if self.full:
            self.retry.clear()  # a full pass checks everything anyway; keys since deleted drop out here

    def resting(self, moment: datetime, interval: timedelta = PASS_INTERVAL) -> bool:
        """Whether this tick starts no pass: the last one ended less than `interval` ago. A pass in
        progress always goes on, and a `pass_ended` in the future (a clock set back) never holds one up."""
        if self.after or self.pass_ended is None:
            return False
        return timedelta(0) <= moment - self.pass_ended < interval

    def is_settled(self, key: str, etag: str, modified: datetime | None) -> bool:
        if self.full or modified is None or key in self.retry:
            return False
        if self.verified_before is not None and modified < self.verified_before:
            return True
        known = self.recent.get(key)
        return known is not None and known[0].upper() == etag.upper()

    def settled(self, key: str, etag: str, modified: datetime | None) -> None:
        self.retry.discard(key)
        if modified is None or len(key) > RECENT_KEY_LIMIT:
            return  # a long key is read again until older than `verified_before`: the record stays small
        if key in self.recent or len(self.recent) < RECENT_LIMIT:
            self.recent[key] = (etag, modified)

    def failed(self, key: str, modified: datetime | None) -> None:
        self.recent.pop(key, None)
        if key in self.retry or len(self.retry) < RETRY_LIMIT:
            self.retry.add(key)
        elif modified is not None and (self.failed_before is None or modified < self.failed_before):
            self.failed_before = modified

    def end_pass(self, moment: datetime) -> None:
        self.pass_ended = moment
        if self.credited and self.pass_started is not None:
            verified = self.pass_started - SETTLE_MARGIN
            if self.failed_before is not None:
                verified = min(verified, self.failed_before)
            self.verified_before = verified
            self.recent = {k: v for k, v in self.recent.items() if v[1] >= verified}
            if self.full:
                self.full_pass_at = self.pass_started
        self.after, self.pass_started, self.credited, self.full, self.failed_before = (
            "",
            None,
            False,
            False,
            None,
        )

    @classmethod
    def parse(cls, raw: bytes | None) -> Watermark:
        try:
            data = json.loads(raw) if raw is not None else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            return cls()
        return cls(
            _text(data.get("scope")),
            _text(data.get("after")),
            _time(data.get("pass_started")),
            data.get("credited") is True,
            data.get("full") is True,
            _time(data.get("failed_before")),
            _time(data.get("verified_before")),
            _time(data.get("full_pass_at")),
            _time(data.get("pass_ended")),
            _recent(data.get("recent")),
            _keys(data.get("retry")),
        )

    def encode(self) -> bytes:
        data = {
            "scope": self.scope,
            "after": self.after,
            "pass_started": _iso(self.pass_started),
            "credited": self.credited,
            "full": self.full,
            "failed_before": _iso(self.failed_before),
            "verified_before": _iso(self.verified_before),
            "full_pass_at": _iso(self.full_pass_at),
            "pass_ended": _iso(self.pass_ended),
            "recent": {key: [etag, _iso(when)] for key, (etag, when) in self.recent.items()},
            "retry": sorted(self.retry),
        }
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _time(value: object) -> datetime | None:
    """An ISO time from the record; anything else (absent, damaged) as unknown, which is safe: an unknown
    `verified_before` skips nothing, an unknown pass start earns no credit."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _keys(value: Any) -> set[str]:
    return {key for key in value if isinstance(key, str)} if isinstance(value, list) else set()


def _recent(value: Any) -> dict[str, tuple[str, datetime]]:
    if not isinstance(value, dict):
        return {}
    recent = {}
    for key, entry in value.items():
        if isinstance(key, str) and isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str):
            when = _time(entry[1])
            if when is not None:
                recent[key] = (entry[0], when)
    return recent

"""OSS event records shaped like FC's sample (tests/events/oss_put.json), varied per test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events.oss import OssEvent, OssRecord

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "oss_put.json"


def oss_record(
    key: str = "inbox/talk.wav",
    *,
    event_name: str = "ObjectCreated:PutObject",
    bucket: str = "audiochain",
    etag: str | None = "688A7BF4F233DC9C88A80BF985AB0001",
    size: int | None = 122539,
    request_id: str = "58F9FF2D3DF792092E12044C",
    **extra: Any,
) -> OssRecord:
    document = json.loads(SAMPLE.read_text())
    raw = document["events"][0]
    raw["eventName"] = event_name
    raw["oss"]["bucket"]["name"] = bucket
    raw["oss"]["object"]["key"] = key
    raw["responseElements"]["requestId"] = request_id
    for name, value in (("eTag", etag), ("size", size)):
        if value is None:
            raw["oss"]["object"].pop(name, None)
        else:
            raw["oss"]["object"][name] = value
    raw.update(extra)
    return OssEvent.from_bytes(json.dumps(document).encode()).events[0]

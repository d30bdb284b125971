"""Every key OSS accepts becomes a finished job through localcloud (issue 8): ideographic spaces, TAB,
U+202E and keys at OSS's 1023-byte limit once got no job at all, only a log line."""

from __future__ import annotations

import pytest

from tests.functional.functions.conftest import DROVE, Chain, spoken_wav

KEYS = [
    "inbox/会议\u3000记录.wav",
    "inbox/tab\there.wav",
    "inbox/rtl\u202eoverride.wav",
    "inbox/" + "k" * (1023 - len("inbox/.wav")) + ".wav",
]


@pytest.mark.parametrize("key", KEYS, ids=["ideographic-space", "tab", "rtl-override", "1023-bytes"])
def test_an_upload_with_any_legal_key_runs_to_the_end(chain: Chain, key: str) -> None:
    assert len(key.encode()) <= 1023
    answer = chain.on_upload(chain.upload(key, spoken_wav(DROVE)))
    assert answer["ignored"] == [], answer["ignored"]
    (accepted,) = answer["accepted"]
    job_id = accepted["job_id"]
    assert accepted["key"] == key
    for notification in chain.take_notifications():
        chain.on_notify(notification)
    with chain.api() as api:
        view = chain.sweep_until_final(api, [job_id])[job_id]
    assert view["state"] == "succeeded", view["error"]
    assert view["input"]["key"] == key

"""A catalogue of bad (and awkward but valid) inputs for the whole surface: API bodies, query strings and
routes, OSS and MNS events, and upload keys OSS accepts. `run_catalogue` sends each one and tallies what
came back; tests/unit/functions/test_bad_inputs.py asserts on the tally, bench/bad_inputs.py prints it.

Rules checked: every invalid API request answers a coded 4xx (InvalidParameter / InvalidJson / JobNotFound /
JobStateConflict / NotFound / MethodNotAllowed) naming the field where there is one; no 5xx; every
malformed event is refused without raising; every upload OSS accepts gets a job; no job is left unfinished
once its tasks completed; no traceback is logged.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import structlog

from shared.pipeline.handlers import handle_timer_event, notify_handler, upload_handler
from tests.unit.functions.api_helpers import CONVERT, MERGE, SPEECH, TRANSCRIBE, open_api
from tests.unit.functions.helpers import BUCKET, context, mns_json_event, oss_event, provider_for
from tests.unit.pipeline.fakes import World, make_world

UNKNOWN_JOB = "j7ydecbtyzz0000000000000000"


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**body, **changes}


def _params(**params: Any) -> dict[str, Any]:
    return _with(CONVERT, params={"f": "mp3", **params})


BAD_BODIES: list[tuple[str, Any]] = [
    # convert
    ("convert", {}),
    ("convert", {"source": "media/a.wav"}),
    ("convert", {"params": {"f": "mp3"}}),
    ("convert", _with(CONVERT, source="")),
    ("convert", _with(CONVERT, source="/media/a.wav")),
    ("convert", _with(CONVERT, source="media/\x00a.wav")),
    ("convert", _with(CONVERT, source="m" * 1024)),
    ("convert", _with(CONVERT, source="media/missing.wav")),
    ("convert", _with(CONVERT, source="media/")),
    ("convert", _with(CONVERT, source=7)),
    ("convert", _with(CONVERT, unknown=1)),
    ("convert", _params(f="exe")),
    ("convert", _params(f=None)),
    ("convert", _params(ab="64000")),
    ("convert", _params(ab=True)),
    ("convert", _params(ab=1)),
    ("convert", _params(ab=2**70)),
    ("convert", _params(ss=-1)),
    ("convert", _params(ss=2**70)),
    ("convert", _params(t=2**31)),
    ("convert", _params(ss="10")),
    ("convert", _params(aq=101)),
    ("convert", _params(ab=64000, aq=5)),
    ("convert", _params(ar=12345)),
    ("convert", _params(ac=0)),
    ("convert", _params(ac=99)),
    ("convert", _params(abopt="1")),
    ("convert", _params(adepth=24)),
    ("convert", _params(ab=1.5)),
    ("convert", _with(CONVERT, params="f_mp3")),
    # merge
    ("merge", {}),
    ("merge", _with(MERGE, clips=[])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav"}])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav"}] * 101)),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav", "ss": -5}, {"key": "media/b.wav"}])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav", "ss": 2**63}, {"key": "media/b.wav"}])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav", "t": "5"}, {"key": "media/b.wav"}])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav"}, {"key": "media/none.wav"}])),
    ("merge", _with(MERGE, clips=[{"key": "media/a.wav"}, {"nokey": 1}])),
    ("merge", _with(MERGE, clips="media/a.wav")),
    ("merge", _with(MERGE, align=5)),
    ("merge", _with(MERGE, align="0")),
    ("merge", _with(MERGE, align=-1)),
    ("merge", _with(MERGE, engine="ffmpeg")),
    ("merge", _with(MERGE, params={"f": "mp3", "ab": "x"})),
    # speech
    ("speech", {}),
    ("speech", _with(SPEECH, text="")),
    ("speech", _with(SPEECH, text="   ")),
    ("speech", _with(SPEECH, text="\x01\x02\x03")),
    ("speech", _with(SPEECH, text="\u200b\u200b")),
    ("speech", _with(SPEECH, text="🎉🎉🎉")),
    ("speech", _with(SPEECH, text="x" * 2001)),
    ("speech", _with(SPEECH, text="<speak><unclosed></speak>")),
    ("speech", _with(SPEECH, text="<speak>   </speak>")),
    ("speech", _with(SPEECH, text=12)),
    ("speech", _with(SPEECH, voice="Nobody")),
    ("speech", _with(SPEECH, voice="espeak:en-us")),
    ("speech", _with(SPEECH, voice="../../etc")),
    ("speech", _with(SPEECH, voice="")),
    ("speech", _with(SPEECH, format="EXE")),
    ("speech", _with(SPEECH, volume=101)),
    ("speech", _with(SPEECH, volume="50")),
    ("speech", _with(SPEECH, speech_rate=501)),
    ("speech", _with(SPEECH, pitch_rate=-501)),
    ("speech", _with(SPEECH, sample_rate=12345)),
    ("speech", _with(SPEECH, title="")),
    # transcribe
    ("transcribe", {}),
    ("transcribe", _with(TRANSCRIBE, mode="fast")),
    ("transcribe", _with(TRANSCRIBE, language="klingon")),
    ("transcribe", _with(TRANSCRIBE, enable_itn="yes")),
    ("transcribe", _with(TRANSCRIBE, enable_itn=True, language="ja")),
    ("transcribe", _with(TRANSCRIBE, enable_words=True, mode="sync")),
    ("transcribe", _with(TRANSCRIBE, context="")),
    ("transcribe", _with(TRANSCRIBE, context="x" * 20001)),
    ("transcribe", _with(TRANSCRIBE, source="media/none.wav")),
    ("transcribe", [TRANSCRIBE]),
    ("transcribe", "media/a.wav"),
    ("transcribe", None),
    ("transcribe", 42),
]

RAW_BODIES: list[tuple[str, bytes]] = [
    ("speech", json.dumps(SPEECH).encode("utf-16")),
    ("speech", json.dumps(SPEECH).encode("utf-32")),
    ("speech", '{"text": "Grüße", "voice": "Andy"}'.encode("latin-1")),
    ("speech", b"\xff\xfe\x00"),
    ("convert", b""),
    ("convert", b"   "),
    ("convert", b"{"),
    ("convert", b"[" * 100_000),
    ("convert", b'{"source": "media/a.wav", "params": {"f": "mp3", "ab": 1' + b"0" * 5000 + b"}}"),
    ("convert", b"NaN"),
    ("merge", b'{"clips": [1, 2], "params": {"f": "mp3"}}'),
    ("transcribe", b'{"source": "media/a.wav",}'),
]

BAD_QUERIES: list[str] = [
    "/v1/jobs?limit=0",
    "/v1/jobs?limit=1001",
    "/v1/jobs?limit=abc",
    "/v1/jobs?limit=1&limit=2",
    "/v1/jobs?state=bogus",
    "/v1/jobs?type=bogus",
    "/v1/jobs?source=",
    "/v1/jobs?bogus=1",
    "/v1/jobs/nope",
    f"/v1/jobs/{UNKNOWN_JOB}",
    f"/v1/jobs/{UNKNOWN_JOB}/events",
    f"/v1/jobs/{UNKNOWN_JOB}/results",
    "/v2/jobs",
]

BAD_POSTS: list[str] = [
    f"/v1/jobs/{UNKNOWN_JOB}/retry",
    f"/v1/jobs/{UNKNOWN_JOB}/cancel",
    "/v1/jobs/nope/retry",
    "/v1/jobs/bogus",
]

BAD_EVENTS: list[bytes] = [
    b"",
    b"not json",
    b"[]",
    b"{}",
    b'{"events": "x"}',
    b'{"events": [{}]}',
    b'{"events": [{"eventName": "ObjectCreated:PutObject"}]}',
    b'{"events": [{"eventName": "ObjectCreated:PutObject", "oss": {"bucket": {}, "object": {}}}]}',
    b"\xff\xfe",
    b'{"events": [' + b"[" * 10_000 + b"]}",
]

BAD_NOTIFICATIONS: list[bytes] = [
    b"",
    b"not json",
    b"{}",
    b'{"Message": "not json either"}',
    mns_json_event({"TaskId": "unknown-task", "Status": "Succeeded"}),
    mns_json_event('{"Status": 3}'),
    mns_json_event({"TaskId": ""}),
]

AWKWARD_KEYS: list[str] = [
    "inbox/会议\u3000记录.wav",
    "inbox/中文 文件名.mp3",
    "inbox/emoji 🎙️ take 2.mp3",
    "inbox/tab\there.wav",
    "inbox/bell\x07.wav",
    "inbox/rtl\u202eoverride.wav",
    "inbox/a/../../jobs/x.wav",
    "inbox/./dot.wav",
    "inbox/double//slash.wav",
    "inbox/100%+plus&amp.wav",
    "inbox/" + "a" * (1023 - 10) + ".wav",
    "inbox/" + "长" * 337 + ".wav",
    "inbox/UPPER.WAV",
]


@dataclass
class Tally:
    requests: int = 0
    coded_4xx: int = 0
    named_field: int = 0
    server_errors: list[str] = field(default_factory=list)
    uncoded: list[str] = field(default_factory=list)
    events: int = 0
    events_refused: int = 0
    events_raised: list[str] = field(default_factory=list)
    uploads: int = 0
    uploads_with_job: int = 0
    stuck_jobs: int = 0
    tracebacks: int = 0
    codes: Counter[str] = field(default_factory=Counter)

    @property
    def bad_inputs(self) -> int:
        return self.requests + self.events


def _answer(tally: Tally, label: str, status: int, document: Any) -> None:
    tally.requests += 1
    if status >= 500:
        tally.server_errors.append(f"{label}: {status}")
        return
    error = document.get("error") if isinstance(document, dict) else None
    if 400 <= status < 500 and isinstance(error, dict) and error.get("code"):
        tally.coded_4xx += 1
        tally.codes[error["code"]] += 1
        tally.named_field += bool(error.get("field")) or error["code"] in ("NotFound", "MethodNotAllowed")
    else:
        tally.uncoded.append(f"{label}: {status}")


def _send_events(tally: Tally, world: World) -> None:
    on_upload = upload_handler(provider_for(world, "on_upload", uses_dashscope=False)[0])
    on_notify = notify_handler(provider_for(world, "on_notify")[0])
    for handler, events in ((on_upload, BAD_EVENTS), (on_notify, BAD_NOTIFICATIONS)):
        for event in events:
            tally.events += 1
            try:
                result = handler(event, context())
            except Exception as error:  # a malformed event must be refused, never raised
                tally.events_raised.append(f"{event[:30]!r}: {type(error).__name__}")
                continue
            tally.events_refused += result.get("status") in ("refused", "ignored")


def run_catalogue() -> Tally:
    tally = Tally()
    world = make_world()
    with structlog.testing.capture_logs() as logs:
        for api in open_api(world):
            for job_type, body in BAD_BODIES:
                response = api.submit(job_type, body)
                _answer(tally, f"POST {job_type} {str(body)[:60]}", response.status_code, response.json())
            for job_type, raw in RAW_BODIES:
                response = api.client.post(
                    f"/v1/jobs/{job_type}", content=raw, headers={"Content-Type": "application/json"}
                )
                _answer(tally, f"POST {job_type} raw {raw[:20]!r}", response.status_code, response.json())
            for path in BAD_QUERIES:
                response = api.client.get(path)
                _answer(tally, f"GET {path}", response.status_code, response.json())
            for path in BAD_POSTS:
                response = api.client.post(path)
                _answer(tally, f"POST {path}", response.status_code, response.json())
            for key in ("Idempotency-Key",):
                response = api.submit("convert", CONVERT, **{key: "x" * 300})
                _answer(tally, "POST long idempotency key", response.status_code, response.json())
            finished = api.submit("convert", CONVERT).json()["id"]
            world.store.record_succeeded(finished, 0, 1, outputs={"audio": "outputs/x.mp3"})
            for path in (f"/v1/jobs/{finished}/retry", f"/v1/jobs/{finished}/cancel"):
                response = api.client.post(path)
                _answer(tally, f"POST {path}", response.status_code, response.json())
        on_upload = upload_handler(provider_for(world, "on_upload", uses_dashscope=False)[0])
        _send_events(tally, world)
        for key in AWKWARD_KEYS:
            tally.uploads += 1
            etag = world.oss.add(BUCKET, key, b"RIFF-" + key.encode())
            result = on_upload(oss_event((key, etag, 10)), context())
            if result.get("accepted"):
                tally.uploads_with_job += 1
        for _ in range(5):  # every task finishes; the sweep carries each job to its end
            for submission in world.oss.submissions:
                world.oss.finish(submission)
            for task_id in world.dashscope.status:
                world.dashscope.status[task_id] = "SUCCEEDED"
            handle_timer_event(b"{}", world.orchestrator)
            world.clock.advance(seconds=60)
        jobs = world.store.list(limit=1000).jobs
        tally.stuck_jobs = sum(not world.store.get(job.id).state.is_final for job in jobs)
    tally.tracebacks = sum(1 for line in logs if line.get("exc_info") or line.get("exception"))
    return tally

"""on_upload: OSS trigger events in, jobs started (or records ignored with a reason) out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.errors import ServiceError
from shared.jobs.model import JobState, StepState
from shared.pipeline.handlers import upload_handler
from shared.pipeline.orchestrator import Orchestrator
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for, sample
from tests.unit.pipeline.fakes import World, make_world

Handler = Any


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def handler(world: World) -> Handler:
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False)
    return upload_handler(provider)


def uploaded(world: World, key: str, data: bytes = b"RIFF-audio") -> tuple[str, str, int]:
    return key, world.oss.add(BUCKET, key, data), len(data)


def test_an_upload_starts_its_job_and_the_answer_names_it(world: World, handler: Handler) -> None:
    result = handler(oss_event(uploaded(world, "inbox/talk.wav")), context())
    assert result["status"] == "handled" and result["ignored"] == [] and result["deferred"] == []
    (accepted,) = result["accepted"]
    view = world.store.get(accepted["job_id"])
    assert (accepted["key"], accepted["state"]) == ("inbox/talk.wav", "running")
    assert view.steps[0].state is StepState.SUBMITTED
    (submission,) = world.oss.submissions
    assert submission.target == f"work/{view.id}/normalized.flac"


def test_the_same_event_three_times_makes_one_job_and_one_conversion(world: World, handler: Handler) -> None:
    event = oss_event(uploaded(world, "inbox/talk.wav"))
    answers = [handler(event, context(request_id=f"retry-{n}")) for n in range(3)]
    assert len({answer["accepted"][0]["job_id"] for answer in answers}) == 1
    assert len(world.oss.submissions) == 1
    assert len(world.store.list().jobs) == 1


def test_every_record_of_an_event_is_handled(world: World, handler: Handler) -> None:
    document = sample("oss_multi_record.json")
    for record in document["events"]:
        key, etag, _ = uploaded(
            world, record["oss"]["object"]["key"], record["oss"]["object"]["key"].encode()
        )
        record["oss"]["bucket"]["name"] = BUCKET
        record["oss"]["object"].update(eTag=etag, size=len(key))
    result = handler(json.dumps(document).encode(), context())
    assert [item["key"] for item in result["accepted"]] == ["inbox/first.mp3", "inbox/second.wav"]
    assert len(world.oss.submissions) == 2


def test_a_key_sent_url_encoded_finds_its_object(world: World, handler: Handler) -> None:
    document = sample("oss_key_space_unicode.json")
    record = document["events"][0]
    key = "inbox/Interview 2024 \u2013 caf\u00e9.wav"
    _, etag, size = uploaded(world, key)
    record["oss"]["bucket"]["name"] = BUCKET
    record["oss"]["object"].update(eTag=etag, size=size)
    result = handler(json.dumps(document).encode(), context())
    assert result["accepted"][0]["key"] == key


def test_records_that_are_not_uploads_are_ignored_with_their_reasons(world: World, handler: Handler) -> None:
    event = json.loads(
        oss_event(
            uploaded(world, "outputs/talk.wav/transcript.json"),
            uploaded(world, "inbox/notes.txt"),
            ("inbox/part.wav", "E1", 10),
            uploaded(world, "inbox/empty.wav", b""),
        )
    )
    event["events"][2]["eventName"] = "ObjectCreated:UploadPart"
    other_bucket = json.loads(oss_event(("inbox/a.wav", "E2", 10), bucket="someone-else"))["events"][0]
    event["events"].append(other_bucket)
    result = handler(json.dumps(event).encode(), context())
    reasons = [(item["key"], item["reason"]) for item in result["ignored"]]
    assert reasons == [
        ("outputs/talk.wav/transcript.json", "outside_inbox"),
        ("inbox/notes.txt", "unsupported_suffix"),
        ("inbox/part.wav", "not_object_created"),
        ("inbox/empty.wav", "empty_object"),
        ("inbox/a.wav", "other_bucket"),
    ]
    assert all(item["detail"] for item in result["ignored"])
    assert result["accepted"] == [] and world.oss.submissions == []


def test_an_object_gone_before_the_event_arrives_is_reported_unavailable(
    world: World, handler: Handler
) -> None:
    result = handler(oss_event(("inbox/gone.wav", "0CC175B9C0F1B6A831C399E269772661", 10)), context())
    assert [item["reason"] for item in result["ignored"]] == ["object_unavailable"]
    assert world.store.list().jobs == []


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (b"not json", "event"),
        (b'{"events": []}', "events"),
        (
            b'{"events": [{"eventName": "ObjectCreated:PutObject", "oss": {"bucket": {"name": "b"}}}]}',
            "events[0].oss.object",
        ),
    ],
)
def test_a_malformed_event_is_refused_not_retried(
    world: World, handler: Handler, event: bytes, field: str
) -> None:
    result = handler(event, context())
    assert result["status"] == "refused"
    assert result["error"]["field"] == field
    assert world.oss.submissions == []


def test_a_retryable_failure_is_raised_after_the_other_records_are_handled(
    world: World, handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttled = ServiceError("slow down", service="oss", code="Throttling", status=503, retryable=True)
    head = world.oss.head_object

    def flaky_head(bucket: str, key: str) -> Any:
        if key == "inbox/first.wav":
            raise throttled
        return head(bucket, key)

    monkeypatch.setattr(world.oss, "head_object", flaky_head)
    event = oss_event(uploaded(world, "inbox/first.wav"), uploaded(world, "inbox/second.wav", b"other"))
    with pytest.raises(ServiceError) as raised:
        handler(event, context())
    assert raised.value is throttled
    assert [job.state for job in world.store.list().jobs] == [JobState.RUNNING]
    assert [submission.source for submission in world.oss.submissions] == ["inbox/second.wav"]


def test_a_redelivered_upload_whose_job_awaits_recognition_is_deferred_not_failed(world: World) -> None:
    # on_upload has no DashScope key: its orchestrator cannot run the recognition step.
    no_dashscope = Orchestrator(
        world.settings, world.store, world.oss, mns=world.mns, ice=world.ice, clock=world.clock
    )
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False, orchestrator=no_dashscope)
    handler = upload_handler(provider)
    event = oss_event(uploaded(world, "inbox/talk.wav"))
    job_id = handler(event, context())["accepted"][0]["job_id"]
    world.oss.finish(world.oss.submissions[0])
    world.store.record_succeeded(job_id, 0, outputs={"normalized": world.oss.submissions[0].target})
    result = handler(event, context(request_id="redelivery"))
    assert result["accepted"] == []
    assert result["deferred"] == [{"index": 0, "key": "inbox/talk.wav", "job_id": job_id}]
    assert world.store.get(job_id).steps[1].state is StepState.PENDING


# Every key OSS accepts (UTF-8, 1..1023 bytes) must get a job: the idempotency claim is a hash, so the
# key needs no printable-only or short-length rule of its own (issue 8).
LEGAL_BUT_UNUSUAL_KEYS = [
    "inbox/会议\u3000记录.wav",  # ideographic space, common in Chinese file names
    "inbox/tab\there.wav",
    "inbox/rtl\u202eoverride.wav",
    "inbox/" + "x" * (998 - len("inbox/") - len(".wav")) + ".wav",  # 998 bytes
    "inbox/" + "x" * (1023 - len("inbox/") - len(".wav")) + ".wav",  # 1023 bytes, the OSS maximum
    "inbox/" + "録" * ((1023 - len("inbox/.wav")) // 3) + ".wav",  # ~1023 bytes of 3-byte characters
]


@pytest.mark.parametrize("key", LEGAL_BUT_UNUSUAL_KEYS, ids=lambda key: f"{len(key.encode())}B-{key[6:14]!r}")
def test_every_legal_oss_key_gets_a_job_and_keeps_its_readable_key(
    world: World, handler: Handler, key: str
) -> None:
    assert len(key.encode()) <= 1023
    result = handler(oss_event(uploaded(world, key)), context())
    assert result["ignored"] == [], result["ignored"]
    (accepted,) = result["accepted"]
    assert accepted["key"] == key
    record = world.store.load(accepted["job_id"]).record
    assert key in record.idempotency_key and record.input["key"] == key
    assert world.store.find(record.idempotency_key) is not None
    event = oss_event((key, world.oss.head_object(BUCKET, key).etag, len(b"RIFF-audio")))
    again = handler(event, context(request_id="redelivery"))
    assert [item["job_id"] for item in again["accepted"]] == [accepted["job_id"]]
    assert len(world.store.list().jobs) == 1

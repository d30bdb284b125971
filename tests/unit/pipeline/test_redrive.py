"""Redriving the dead-letter queue: each parked event replayed once, deleted when it worked, kept when not."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from shared.clients.mns import ReceivedMessage
from shared.pipeline.redrive import parse_parked, redrive
from tests.unit.functions.helpers import BUCKET, oss_event
from tests.unit.pipeline.fakes import make_world

ARN = "acs:fc:cn-hangzhou:123456789:services/audiochain.LATEST/functions/{}"


def record(function: str, payload: str, request_id: str = "r-1") -> str:
    return json.dumps(
        {
            "timestamp": "2025-01-15T08:30:45.000Z",
            "requestContext": {
                "requestId": request_id,
                "functionArn": ARN.format(function),
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 4,
            },
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "functionError": "UnhandledInvocationError"},
            "responsePayload": "{}",
        }
    )


@dataclass
class FakeQueue:
    """An MNS queue: a received message stays (invisible, then visible again) until deleted."""

    bodies: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    received: list[str] = field(default_factory=list)

    def receive(
        self, queue: str, *, wait_seconds: int | None = None, base64_body: bool = False
    ) -> ReceivedMessage | None:
        # Visibility expires at once: a failed message comes straight back, as the worst case.
        for message_id, body in self.bodies.items():
            if message_id not in self.deleted:
                self.received.append(message_id)
                return ReceivedMessage(message_id, f"h-{message_id}", body, "", 1, 0, 0, 0, 8)
        return None

    def delete(self, queue: str, receipt_handle: str) -> None:
        self.deleted.append(receipt_handle.removeprefix("h-"))


def test_each_parked_event_is_replayed_once_and_a_failing_one_stays_parked() -> None:
    world = make_world()
    etag = world.oss.add(BUCKET, "inbox/parked.wav", b"RIFF-parked")
    queue = FakeQueue(
        {
            "m-upload": record("on_upload", oss_event(("inbox/parked.wav", etag, 11)).decode()),
            "m-timer": record("fetch_results", "{}"),
            "m-broken": record("on_notify", "not an event"),
        }
    )
    report = redrive(queue, "audiochain-dead-letter", world.orchestrator)
    assert [r["message_id"] for r in report.replayed] == ["m-upload"]
    assert [r["message_id"] for r in report.skipped] == ["m-timer"]
    assert [r["message_id"] for r in report.failed] == ["m-broken"]
    assert sorted(queue.deleted) == ["m-timer", "m-upload"]
    assert queue.received.count("m-broken") <= 2  # seen once more at most, then the run stops
    (job,) = world.store.list().jobs
    assert job.input["key"] == "inbox/parked.wav"
    # A second run replays nothing new: the upload's message is gone, the job is not duplicated.
    again = redrive(queue, "audiochain-dead-letter", world.orchestrator)
    assert again.replayed == [] and len(world.store.list().jobs) == 1


def test_the_function_is_read_from_fc2_and_fc3_arns() -> None:
    fc3 = json.dumps(
        {
            "requestContext": {"functionArn": "acs:fc:cn-hangzhou:1:functions/on_notify"},
            "requestPayload": "{}",
        }
    )
    assert parse_parked(fc3).function == "on_notify"
    assert parse_parked(record("on_upload", "{}")).function == "on_upload"

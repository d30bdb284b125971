"""MNSTopic trigger: messages published to the topic invoke the function synchronously, in JSON or STREAM
format, and a failing function is retried by MNS."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.clients.mns import MnsClient
from shared.events.mns import MnsFormat, MnsMessage
from tests.functional.runtime.conftest import Project
from tests.functional.runtime.project import FLAKY_TOPIC, JSON_TOPIC, STREAM_TOPIC, records


def _messages(project: Project, marker: str) -> list[tuple[MnsMessage, dict[str, Any]]]:
    assert project.runtime.wait_idle(10)
    found = []
    for entry in records(project.root, "echo"):
        if marker in entry["event"]:
            found.append((MnsMessage.from_bytes(entry["event"]), entry))
    return found


def test_a_json_format_trigger_gets_the_json_envelope_that_mns_message_parses(
    project: Project, mns_client: MnsClient
) -> None:
    marker = uuid.uuid4().hex
    published = mns_client.publish(JSON_TOPIC, json.dumps({"job_id": marker}), tag="jobs")

    ((message, entry),) = _messages(project, marker)
    assert message.format is MnsFormat.JSON
    assert message.body_json() == {"job_id": marker}
    assert message.message_id == published.message_id
    assert message.topic_name == JSON_TOPIC
    assert message.subscription_name == "fc-fixture-echo-json"
    assert message.publish_time is not None
    assert entry["context"]["retry_count"] == 0


def test_a_stream_format_trigger_gets_the_raw_body(project: Project, mns_client: MnsClient) -> None:
    marker = uuid.uuid4().hex
    mns_client.publish(STREAM_TOPIC, json.dumps({"job_id": marker}))

    ((message, _),) = _messages(project, marker)
    assert message.format is MnsFormat.STREAM
    assert message.message_id is None
    assert message.body_json() == {"job_id": marker}


def test_a_base64_body_from_an_sdk_decodes_through_the_json_trigger(
    project: Project, mns_client: MnsClient
) -> None:
    marker = uuid.uuid4().hex
    mns_client.publish(JSON_TOPIC, json.dumps({"job_id": marker}), base64_body=True)
    assert project.runtime.wait_idle(10)
    decoded = [
        MnsMessage.from_bytes(entry["event"], MnsFormat.JSON).body_json()
        for entry in records(project.root, "echo")
        if entry["event"].startswith("{") and '"TopicName":"' + JSON_TOPIC in entry["event"]
    ]
    assert {"job_id": marker} in [item for item in decoded if isinstance(item, dict)]


def test_the_internal_publish_api_reaches_the_function_too(project: Project) -> None:
    marker = uuid.uuid4().hex
    project.cloud.mns().publish(STREAM_TOPIC, f"plain text {marker}")
    ((message, _),) = _messages(project, marker)
    assert message.body == f"plain text {marker}"


def test_a_function_failing_twice_is_retried_by_mns_until_it_succeeds(
    project: Project, mns_client: MnsClient
) -> None:
    marker = uuid.uuid4().hex
    mns_client.publish(FLAKY_TOPIC, json.dumps({"job_id": marker}))
    assert project.runtime.wait_idle(10)

    calls = [e for e in records(project.root, "mns_flaky") if marker in e["event"]]
    assert len(calls) == 3
    bodies = {MnsMessage.from_bytes(e["event"]).message_id for e in calls}
    assert len(bodies) == 1  # the same message each time
    assert len({e["context"]["request_id"] for e in calls}) == 3  # each push is a new invocation
    assert project.cloud.mns().pending_deliveries(FLAKY_TOPIC) == 0


def test_trigger_topics_exist_after_start(project: Project) -> None:
    mns = project.cloud.mns()
    assert all(mns.topic_exists(name) for name in (JSON_TOPIC, STREAM_TOPIC, FLAKY_TOPIC))

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.events.mns import MnsMessage
from shared.events.notifications import IceCallback, TaskNotification, parse_notification
from shared.ops.enums import ImmTaskStatus

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def load_json(name: str) -> Any:
    return json.loads(load(name))


def parse_task(body: Any) -> TaskNotification:
    notification = parse_notification(body)
    assert isinstance(notification, TaskNotification)
    return notification


def test_the_documented_imm_notification_parses_its_json_string_content() -> None:
    note = parse_task(load("imm_notification.json"))
    assert note.task_id == "MediaConvert-db7f0a4e-7c1d-4b7e-9a43-2f1e5c8d9b60"
    assert note.task_type == "MediaConvert"
    assert note.status is ImmTaskStatus.SUCCEEDED
    assert note.succeeded and note.is_final and not note.failed
    assert note.project_name == "test-project"
    assert note.source_keys() == [("bucket", "in/a.mp3")]
    assert note.target_keys() == [("bucket", "out/a.aac")]


def test_the_envelope_is_kept_beside_the_content() -> None:
    note = parse_task(load("imm_notification.json"))
    assert note.envelope is not None
    assert note.envelope.source == "acs.imm"
    assert note.envelope.type == "imm:Task:MediaConvert"
    assert note.envelope.time == "1724133063161"


def test_a_failed_async_processing_notification_carries_code_message_and_user_data() -> None:
    note = parse_task(load("oss_async_notification_failed.json"))
    assert note.status is ImmTaskStatus.FAILED
    assert note.failed and note.is_final and not note.succeeded
    assert note.code == "InvalidParameter.ResourceContentBad"
    assert note.message == "The source audio could not be decoded."
    assert note.user_data_json() == {"job_id": "job-20240902-0007"}
    assert note.target_keys() == [("audiochain-demo", "work/broken.wav")]


def test_a_notification_arriving_through_a_json_format_mns_event_parses_from_the_message() -> None:
    message = MnsMessage.from_bytes(load("mns_json.json"))
    assert parse_task(message).task_type == "MediaConvert"


def test_a_base64_encoded_notification_parses_from_the_mns_message() -> None:
    note = parse_task(MnsMessage.from_bytes(load("mns_json_base64.json")))
    assert note.succeeded
    assert note.target_keys() == [("audiochain-demo", "work/talk.wav")]


def test_a_raw_stream_notification_parses_from_the_mns_message() -> None:
    assert parse_task(MnsMessage.from_bytes(load("mns_stream_raw.txt"))).failed


def test_raw_base64_bytes_are_accepted_too() -> None:
    encoded = base64.b64encode(load("imm_notification.json"))
    assert parse_task(encoded).succeeded


def test_an_unknown_status_is_kept_as_text_and_is_not_final() -> None:
    note = parse_task({"TaskId": "t", "Status": "Throttled"})
    assert note.status == "Throttled"
    assert note.known_status is None
    assert not (note.succeeded or note.failed or note.is_final)


def test_status_is_recognised_whatever_its_case() -> None:
    assert parse_task({"TaskId": "t", "Status": "succeeded"}).status is ImmTaskStatus.SUCCEEDED


def test_a_bare_content_document_is_read_as_a_task_notification() -> None:
    content = json.loads(load_json("imm_notification.json")["content"])
    assert parse_task(content).task_id == content["TaskId"]


def test_target_keys_skip_uris_that_are_not_oss_objects() -> None:
    note = parse_task(
        {
            "TaskId": "t",
            "Status": "Succeeded",
            "Targets": [
                {"URI": "https://example.com/x"},
                {"URI": "oss://only-bucket"},
                {"URI": "oss://b/k/1.wav"},
            ],
        }
    )
    assert note.target_keys() == [("b", "k/1.wav")]


def test_empty_user_data_reads_as_none() -> None:
    assert parse_task(load("imm_notification.json")).user_data_json() is None


def test_user_data_that_is_not_json_is_refused_when_read_as_json() -> None:
    note = parse_task({"TaskId": "t", "Status": "Running", "UserData": "job 7"})
    with pytest.raises(InvalidRequestError) as caught:
        note.user_data_json()
    assert (caught.value.field, caught.value.rule) == ("UserData", "json")


def test_an_envelope_whose_content_is_not_json_is_refused_naming_content() -> None:
    envelope = load_json("imm_notification.json")
    envelope["content"] = "{broken"
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification(envelope)
    assert (caught.value.field, caught.value.rule) == ("content", "json")


def test_an_envelope_whose_content_lacks_a_status_is_refused_naming_the_field() -> None:
    envelope = load_json("imm_notification.json")
    content = json.loads(envelope["content"])
    del content["Status"]
    envelope["content"] = json.dumps(content)
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification(envelope)
    assert caught.value.field == "content.Status"


def test_the_ice_callback_is_flattened_from_its_message_body() -> None:
    callback = parse_notification(load("ice_callback.json"))
    assert isinstance(callback, IceCallback)
    assert callback.event_type == "ProduceMediaComplete"
    assert callback.job_id == "****20b48fb04483915d4f2cd8ac****"
    assert callback.media_id == "****2bcbfcfa30fccb36f72dca22****"
    assert callback.media_url is not None and callback.media_url.endswith("job-20240902-0010.mp3")
    assert callback.succeeded and callback.is_final
    assert callback.user_data_json() == {
        "NotifyAddress": "ice-callback-audiochain",
        "job_id": "job-20240902-0010",
    }


def test_a_flat_ice_callback_with_state_and_unknown_fields_is_understood() -> None:
    callback = parse_notification(
        {"JobId": "j-1", "State": "Failed", "Type": "AudioProduce", "Code": "Bad", "Novel": 1}
    )
    assert isinstance(callback, IceCallback)
    assert callback.status == "Failed"
    assert callback.failed and not callback.succeeded
    assert callback.job_type == "AudioProduce"
    assert callback.error_code == "Bad"
    assert callback.model_extra is not None and callback.model_extra["Novel"] == 1


def test_an_ice_callback_with_user_data_as_an_object_is_readable() -> None:
    callback = parse_notification({"JobId": "j-1", "Status": "Success", "UserData": {"job_id": "x"}})
    assert isinstance(callback, IceCallback)
    assert callback.user_data_json() == {"job_id": "x"}


def test_an_ice_callback_without_job_or_media_id_is_refused() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification({"EventType": "ProduceMediaComplete", "Status": "Success"})
    assert (caught.value.field, caught.value.rule) == ("JobId", "required")


@pytest.mark.parametrize(
    "body",
    [{"hello": "world"}, b'{"Status": "Succeeded"}', b'{"content": "{}"}'],
)
def test_anything_else_is_refused_with_a_message_listing_what_was_seen(body: Any) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification(body)
    assert (caught.value.field, caught.value.rule) == ("body", "unknown_notification")
    assert "its keys:" in str(caught.value)


@pytest.mark.parametrize(("body", "rule"), [(b"not json at all", "json"), (b"[1, 2]", "object")])
def test_a_body_that_is_not_a_json_object_is_refused(body: bytes, rule: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification(body)
    assert (caught.value.field, caught.value.rule) == ("body", rule)


def test_a_notification_nested_too_deep_to_parse_is_refused_as_not_json() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_notification(b"[" * 200_000)
    assert (caught.value.field, caught.value.rule) == ("body", "json")


def test_user_data_nested_too_deep_to_parse_is_refused_as_not_json() -> None:
    note = parse_notification({"TaskId": "t-1", "Status": "Succeeded", "UserData": "[" * 200_000})
    with pytest.raises(InvalidRequestError) as caught:
        note.user_data_json()
    assert (caught.value.field, caught.value.rule) == ("UserData", "json")

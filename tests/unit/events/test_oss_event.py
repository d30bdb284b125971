from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.events.oss import OssEvent, OssRecord, decode_event_key

EVENTS = Path(__file__).resolve().parents[2] / "events"
# The sample key: spaces, an en dash and an accented letter.
UNICODE_KEY = "inbox/Interview 2024 \u2013 caf\u00e9.wav"


def load(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


def record_with(**object_fields: Any) -> dict[str, Any]:
    return {
        "eventName": "ObjectCreated:PutObject",
        "oss": {"bucket": {"name": "b"}, "object": {"key": "k", **object_fields}},
    }


def test_the_documented_put_event_parses_into_bucket_key_and_etag() -> None:
    event = OssEvent.from_bytes(load("oss_put.json"))
    (record,) = event.events
    assert record.bucket == "testbucket"
    assert record.key == "source/a.wav"
    assert record.etag == "688A7BF4F233DC9C88A80BF985AB****"
    assert record.size == 122539
    assert record.request_id == "58F9FF2D3DF792092E12044C"
    assert record.region == "cn-hangzhou"
    assert record.oss.object_.object_meta is not None
    assert record.oss.object_.object_meta.mime_type == "audio/wav"
    assert record.oss.object_.object_meta.user_meta == {"x-oss-meta-lang": "en"}
    assert record.is_object_created


def test_a_multipart_upload_counts_as_an_object_created_and_its_etag_loses_its_quotes() -> None:
    (record,) = OssEvent.from_bytes(load("oss_multipart.json")).events
    assert record.event_name == "ObjectCreated:CompleteMultipartUpload"
    assert record.is_object_created
    assert record.etag == "3F6C2A9B1D7E4F5A8C0B2D4E6F8A1C3E-4"


def test_every_record_of_a_multi_record_event_is_kept_in_order() -> None:
    event = OssEvent.from_bytes(load("oss_multi_record.json"))
    assert [r.key for r in event.records] == ["inbox/first.mp3", "inbox/second.wav"]
    assert [r.key for r in event.object_created()] == ["inbox/first.mp3", "inbox/second.wav"]


def test_an_event_without_object_meta_still_parses() -> None:
    (record,) = OssEvent.from_bytes(load("oss_no_objectmeta.json")).events
    assert record.oss.object_.object_meta is None
    assert record.key == "source/b.mp3"


def test_url_encoded_and_raw_unicode_keys_decode_to_the_same_key() -> None:
    (encoded,) = OssEvent.from_bytes(load("oss_key_space_unicode.json")).events
    (plain,) = OssEvent.from_bytes(load("oss_key_plain_unicode.json")).events
    assert encoded.key == plain.key == UNICODE_KEY
    assert encoded.raw_key == "inbox/Interview%202024%20%E2%80%93%20caf%C3%A9.wav"
    assert plain.raw_key == plain.key


def test_candidate_keys_offer_both_readings_of_an_encoded_key() -> None:
    (encoded,) = OssEvent.from_bytes(load("oss_key_space_unicode.json")).events
    assert encoded.candidate_keys() == [
        UNICODE_KEY,
        "inbox/Interview%202024%20%E2%80%93%20caf%C3%A9.wav",
    ]


def test_a_plain_key_has_a_single_candidate() -> None:
    (plain,) = OssEvent.from_bytes(load("oss_key_plain_unicode.json")).events
    assert plain.candidate_keys() == [UNICODE_KEY]


def test_a_key_with_a_plus_also_offers_the_form_encoded_reading() -> None:
    record = OssRecord.model_validate(record_with(key="inbox/my+song.wav"))
    assert record.key == "inbox/my+song.wav"
    assert record.candidate_keys() == ["inbox/my+song.wav", "inbox/my song.wav"]


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("a%20b.wav", "a b.wav"),
        ("caf%C3%A9.wav", "café.wav"),
        ("50%off.wav", "50%off.wav"),  # no valid escape: literal
        ("%FF%FE.wav", "%FF%FE.wav"),  # escapes that are not UTF-8: literal
        ("café 50%.wav", "café 50%.wav"),  # raw non-ASCII with a lone percent sign
        ("100%41.wav", "100A.wav"),  # the documented ambiguity: a literal "%41" is read as an escape
    ],
)
def test_key_decoding_follows_the_documented_heuristic(raw: str, decoded: str) -> None:
    assert decode_event_key(raw) == decoded


def test_the_ambiguous_literal_escape_keeps_the_raw_key_as_a_candidate() -> None:
    record = OssRecord.model_validate(record_with(key="100%41.wav"))
    assert record.candidate_keys() == ["100A.wav", "100%41.wav"]


@pytest.mark.parametrize(
    ("event_name", "created"),
    [
        ("ObjectCreated:PutObject", True),
        ("ObjectCreated:PostObject", True),
        ("ObjectCreated:CopyObject", True),
        ("ObjectCreated:CompleteMultipartUpload", True),
        ("ObjectCreated:AppendObject", True),
        ("ObjectCreated:PutSymlink", True),
        ("oss:ObjectCreated:PutObject", True),
        ("ObjectCreated:InitiateMultipartUpload", False),
        ("ObjectCreated:UploadPart", False),
        ("ObjectCreated:UploadPartCopy", False),
        ("ObjectRemoved:DeleteObject", False),
    ],
)
def test_is_object_created_covers_every_variant_that_leaves_a_readable_object(
    event_name: str, created: bool
) -> None:
    record = OssRecord.model_validate({**record_with(), "eventName": event_name})
    assert record.is_object_created is created


def test_the_idempotency_key_is_stable_across_redeliveries_and_differs_per_upload() -> None:
    first = OssEvent.from_bytes(load("oss_put.json")).events[0]
    again = OssEvent.from_bytes(load("oss_put.json")).events[0]
    document = json.loads(load("oss_put.json"))
    document["events"][0]["responseElements"]["requestId"] = "ANOTHER-UPLOAD"
    reupload = OssEvent.from_bytes(json.dumps(document)).events[0]
    assert first.idempotency_key == again.idempotency_key
    assert first.idempotency_key != reupload.idempotency_key
    assert len(first.idempotency_key) == 64


def test_unknown_fields_are_tolerated_and_kept() -> None:
    document = json.loads(load("oss_put.json"))
    document["events"][0]["newField"] = {"x": 1}
    (record,) = OssEvent.from_bytes(json.dumps(document)).events
    assert record.model_extra == {"newField": {"x": 1}}


def test_a_missing_key_is_refused_naming_its_field() -> None:
    document = json.loads(load("oss_put.json"))
    del document["events"][0]["oss"]["object"]["key"]
    with pytest.raises(InvalidRequestError) as caught:
        OssEvent.from_bytes(json.dumps(document))
    assert caught.value.field == "events[0].oss.object.key"
    assert caught.value.rule == "missing"


def test_a_missing_bucket_name_in_the_second_record_is_refused_naming_its_field() -> None:
    document = json.loads(load("oss_multi_record.json"))
    document["events"][1]["oss"]["bucket"]["name"] = ""
    with pytest.raises(InvalidRequestError) as caught:
        OssEvent.from_bytes(json.dumps(document))
    assert caught.value.field == "events[1].oss.bucket.name"


def test_a_missing_event_name_is_refused_naming_its_field() -> None:
    document = json.loads(load("oss_put.json"))
    del document["events"][0]["eventName"]
    with pytest.raises(InvalidRequestError) as caught:
        OssEvent.from_bytes(json.dumps(document))
    assert caught.value.field == "events[0].eventName"


@pytest.mark.parametrize(
    ("raw", "field", "rule"),
    [
        (b"{not json", "event", "json"),
        (b"\xff\xfe", "event", "utf8"),
        (b"[]", "event", "model_type"),
        (b'{"events": []}', "events", "too_short"),
        (b'{"events": "x"}', "events", "list_type"),
    ],
)
def test_malformed_events_are_refused_with_a_clear_error(raw: bytes, field: str, rule: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OssEvent.from_bytes(raw)
    assert caught.value.field == field
    assert caught.value.rule == rule


def test_an_event_nested_too_deep_to_parse_is_refused_as_not_json() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        OssEvent.from_bytes(b"[" * 200_000)
    assert (caught.value.field, caught.value.rule) == ("event", "json")

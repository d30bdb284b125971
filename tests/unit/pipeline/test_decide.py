from __future__ import annotations

import pytest

from shared.pipeline.decide import Accept, Ignore, decide_upload
from shared.pipeline.settings import PipelineSettings
from tests.unit.pipeline.events import oss_record

SETTINGS = PipelineSettings()


@pytest.mark.parametrize(
    "event_name",
    [
        "ObjectCreated:PutObject",
        "ObjectCreated:PostObject",
        "ObjectCreated:CopyObject",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectCreated:PutSymlink",
        "oss:ObjectCreated:PutObject",  # the trigger configuration's spelling, should it ever appear
    ],
)
def test_every_object_created_variant_with_a_complete_object_is_accepted(event_name: str) -> None:
    decision = decide_upload(oss_record(event_name=event_name), SETTINGS)
    assert isinstance(decision, Accept)
    assert (decision.key, decision.relative_key) == ("inbox/talk.wav", "talk.wav")


@pytest.mark.parametrize(
    ("event_name", "reason"),
    [
        ("ObjectCreated:InitiateMultipartUpload", "not_object_created"),
        ("ObjectCreated:UploadPart", "not_object_created"),
        ("ObjectCreated:UploadPartCopy", "not_object_created"),
        ("ObjectRemoved:DeleteObject", "not_object_created"),
        ("ObjectCreated:AppendObject", "appendable_object"),
    ],
)
def test_events_without_a_finished_object_are_ignored_with_a_reason(event_name: str, reason: str) -> None:
    decision = decide_upload(oss_record(event_name=event_name), SETTINGS)
    assert isinstance(decision, Ignore) and decision.reason == reason


@pytest.mark.parametrize(
    "key", ["inbox/a.wav", "inbox/A.WAV", "inbox/b.Mp3", "inbox/deep/c.FLAC", "inbox/d.m4a", "inbox/e.OpUs"]
)
def test_accepted_suffixes_match_in_any_case(key: str) -> None:
    assert isinstance(decide_upload(oss_record(key), SETTINGS), Accept)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("inbox/notes.txt", "unsupported_suffix"),
        ("inbox/a.wav.json", "unsupported_suffix"),
        ("inbox/wav", "unsupported_suffix"),
        ("outputs/a.wav/transcript.json", "outside_inbox"),
        ("work/j7ydecbtyzz0000000000000000/normalized.flac", "outside_inbox"),
        ("inboxes/a.wav", "outside_inbox"),
        ("inbox/folder.wav/", "directory_marker"),
        ("inbox/", "directory_marker"),
    ],
)
def test_keys_outside_the_rule_are_ignored_with_a_reason(key: str, reason: str) -> None:
    decision = decide_upload(oss_record(key), SETTINGS)
    assert isinstance(decision, Ignore) and decision.reason == reason, decision


def test_zero_byte_objects_and_other_buckets_are_ignored() -> None:
    empty = decide_upload(oss_record(size=0), SETTINGS)
    assert isinstance(empty, Ignore) and empty.reason == "empty_object"
    other = decide_upload(oss_record(bucket="someone-else"), SETTINGS)
    assert isinstance(other, Ignore) and other.reason == "other_bucket"


def test_the_idempotency_key_is_bucket_key_and_etag_not_the_request_id() -> None:
    first = decide_upload(oss_record(request_id="REQ-1"), SETTINGS)
    duplicate = decide_upload(oss_record(request_id="REQ-2"), SETTINGS)
    new_version = decide_upload(oss_record(etag="FFFF0000FFFF0000FFFF0000FFFF0000"), SETTINGS)
    assert isinstance(first, Accept) and isinstance(duplicate, Accept) and isinstance(new_version, Accept)
    assert first.idempotency_key == duplicate.idempotency_key
    assert new_version.idempotency_key != first.idempotency_key


def test_without_an_etag_the_request_id_identifies_the_version() -> None:
    decision = decide_upload(oss_record(etag=None, request_id="REQ-9"), SETTINGS)
    assert isinstance(decision, Accept)
    assert decision.idempotency_key == "upload:audiochain/inbox/talk.wav@request:REQ-9"


def test_a_percent_encoded_key_offers_every_reading_most_likely_first() -> None:
    decision = decide_upload(oss_record("inbox/my%20song+1.wav"), SETTINGS)
    assert isinstance(decision, Accept)
    assert decision.candidate_keys == ("inbox/my song+1.wav", "inbox/my%20song+1.wav", "inbox/my song 1.wav")


def test_a_custom_inbox_and_suffix_list_are_honoured() -> None:
    settings = PipelineSettings(inbox_prefix="uploads/audio/", accepted_suffixes=(".ogg",))
    assert isinstance(decide_upload(oss_record("uploads/audio/x.OGG"), settings), Accept)
    ignored = decide_upload(oss_record("uploads/audio/x.wav"), settings)
    assert isinstance(ignored, Ignore) and ignored.reason == "unsupported_suffix"

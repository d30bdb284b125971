"""Recognition options from an upload's own metadata (x-oss-meta-*), read by HEAD, over the prefix rules;
a bad value is a visible failed job naming the header."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from shared.errors import InvalidRequestError
from shared.jobs.model import JobState, StepState
from shared.pipeline.inputs import UploadInput, input_of
from shared.pipeline.keys import normalized_key
from shared.pipeline.plans import FiletransPlan, plan_normalize, plan_transcription
from shared.pipeline.upload_options import upload_options
from tests.unit.pipeline.events import oss_record
from tests.unit.pipeline.fakes import World, make_world

BUCKET = "audiochain"
RULES = '[{"prefix": "calls/", "channels": [0, 1], "language": "en", "context": "refund order"}]'


@pytest.fixture
def world() -> World:
    return make_world(upload_rules=RULES)


def upload(world: World, key: str, metadata: dict[str, str]) -> str:
    etag = world.oss.add(BUCKET, key, b"RIFF-audio", metadata=metadata)
    view = world.orchestrator.handle_upload(oss_record(key, etag=etag, size=10))
    assert view is not None
    return view.id


def test_metadata_sets_language_channels_and_context_and_the_job_says_so(world: World) -> None:
    job_id = upload(
        world,
        "inbox/talks/a.wav",
        {"language": "zh", "channels": "0,1", "context": quote("客服 退款"), "author": "x"},
    )
    record = world.store.load(job_id).record
    assert record.input["language"] == "zh" and record.input["channels"] == [0, 1]
    assert record.input["context"] == "客服 退款"
    assert record.input["options_from"] == dict.fromkeys(("language", "channels", "context"), "metadata")
    assert "author" not in record.input  # the uploader's own metadata is none of ours
    assert world.store.get(job_id).input["options_from"]["language"] == "metadata"  # GET /v1/jobs/{id}
    assert "ac_2" in plan_normalize(record, world.settings).request.to_process()
    plan = plan_transcription(record, 10, "https://x.invalid/a.flac", world.settings)
    assert isinstance(plan, FiletransPlan)
    parameters = plan.request.to_body()["parameters"]
    assert (parameters["language"], parameters["channel_id"]) == ("zh", [0, 1])


def test_metadata_wins_over_the_rule_one_option_at_a_time(world: World) -> None:
    job_id = upload(world, "inbox/calls/b.wav", {"Language": "ja"})
    upload_input = input_of(world.store.load(job_id).record.input, UploadInput)
    assert upload_input.language is not None and upload_input.language.value == "ja"
    assert upload_input.channels == (0, 1) and upload_input.context == "refund order"
    assert upload_input.options_from == {
        "language": "metadata",
        "channels": "rule calls/",
        "context": "rule calls/",
    }


def test_mono_and_auto_in_metadata_undo_the_rules_channels_and_language(world: World) -> None:
    job_id = upload(world, "inbox/calls/c.wav", {"channels": "mono", "language": "auto"})
    record = world.store.load(job_id).record
    upload_input = input_of(record.input, UploadInput)
    assert upload_input.channels is None and upload_input.language is None
    assert "ac_1" in plan_normalize(record, world.settings).request.to_process()


def test_an_upload_without_metadata_or_rule_records_no_options(world: World) -> None:
    job_id = upload(world, "inbox/plain.wav", {})
    record = world.store.load(job_id).record
    assert "options_from" not in record.input and "language" not in record.input


@pytest.mark.parametrize(
    ("metadata", "header", "rule"),
    [
        ({"language": "klingon"}, "x-oss-meta-language", "enum"),
        ({"channels": "left,right"}, "x-oss-meta-channels", "channel_list"),
        ({"channels": "0,0"}, "x-oss-meta-channels", "channel_list"),
        ({"channels": "9"}, "x-oss-meta-channels", "channel_list"),
        ({"context": "%FF%FE"}, "x-oss-meta-context", "percent_encoding"),
        ({"context": "%20"}, "x-oss-meta-context", "empty"),
    ],
)
def test_bad_metadata_fails_the_job_visibly_naming_the_header(
    world: World, metadata: dict[str, str], header: str, rule: str
) -> None:
    job_id = upload(world, "inbox/bad.wav", metadata)
    view = world.store.get(job_id)
    assert view.state is JobState.FAILED and view.error is not None
    assert view.error.code == "InvalidUpload" and header in view.error.message
    assert [step.state for step in view.steps[1:]] == [StepState.SKIPPED] * 2
    assert world.oss.submissions == []  # nothing was converted under options nobody asked for
    assert (BUCKET, normalized_key(world.settings, job_id)) not in world.oss.objects
    with pytest.raises(InvalidRequestError) as caught:
        upload_options(None, metadata)
    assert (caught.value.field, caught.value.rule) == (header, rule)


def test_every_bad_header_is_named_at_once(world: World) -> None:
    job_id = upload(world, "inbox/worse.wav", {"language": "xx", "channels": "a"})
    view = world.store.get(job_id)
    assert view.error is not None
    assert "x-oss-meta-language" in view.error.message and "x-oss-meta-channels" in view.error.message


def test_a_redelivered_event_finds_the_job_without_reading_the_metadata_again(world: World) -> None:
    key = "inbox/twice.wav"
    etag = world.oss.add(BUCKET, key, b"RIFF-audio", metadata={"language": "de"})
    first = world.orchestrator.handle_upload(oss_record(key, etag=etag, size=10))
    world.oss.metadata[(BUCKET, key)] = {"language": "fr"}  # changed after the job was made
    again = world.orchestrator.handle_upload(oss_record(key, etag=etag, size=10))
    assert first is not None and again is not None and again.id == first.id
    assert world.store.load(first.id).record.input["language"] == "de"

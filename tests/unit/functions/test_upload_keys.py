"""on_upload: every key OSS accepts gets a job (or a visible, failed one), never only a log line."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.jobs.model import JobState, StepState
from shared.pipeline import inputs as inputs_module
from shared.pipeline.handlers import upload_handler
from shared.pipeline.keys import output_keys
from tests.unit.functions.helpers import BUCKET, context, oss_event, provider_for
from tests.unit.pipeline.fakes import World, make_world

Handler = Any

LEGAL_KEYS = [
    "inbox/会议\u3000记录.wav",  # ideographic space, common in Chinese file names
    "inbox/tab\there.wav",
    "inbox/rtl\u202eoverride.wav",
    "inbox/emoji 🎙️ take 2.mp3",
    "inbox/bell\x07and\x1fus.wav",
]


def _exact_1023() -> str:
    stem = "inbox/"
    filler = "a" * (1023 - len(stem.encode()) - len(".wav"))
    return f"{stem}{filler}.wav"


@pytest.fixture
def world() -> World:
    return make_world()


@pytest.fixture
def handler(world: World) -> Handler:
    provider, _ = provider_for(world, "on_upload", uses_dashscope=False)
    return upload_handler(provider)


@pytest.mark.parametrize(
    "key", [*LEGAL_KEYS, _exact_1023(), "inbox/" + "长" * 337 + ".wav"], ids=lambda k: repr(k[:24])
)
def test_every_legal_oss_key_gets_a_running_job(world: World, handler: Handler, key: str) -> None:
    assert len(key.encode("utf-8")) <= 1023
    etag = world.oss.add(BUCKET, key, b"RIFF-audio")
    result = handler(oss_event((key, etag, 10)), context())
    assert result["ignored"] == [], result
    (accepted,) = result["accepted"]
    view = world.store.get(accepted["job_id"])
    assert view.state is JobState.RUNNING and view.input["key"] == key
    record = world.store.load(view.id).record
    assert key in record.idempotency_key  # the readable key is kept; only the claim's name is hashed
    # The same event again finds the same job.
    again = handler(oss_event((key, etag, 10)), context())
    assert again["accepted"][0]["job_id"] == view.id


def test_dot_segments_never_reach_a_derived_output_key(world: World, handler: Handler) -> None:
    key = "inbox/a/../../jobs/x.wav"
    etag = world.oss.add(BUCKET, key, b"RIFF-audio")
    (accepted,) = handler(oss_event((key, etag, 10)), context())["accepted"]
    record = world.store.load(accepted["job_id"]).record
    keys = output_keys(record, world.settings).as_dict().values()
    assert all(f"outputs/{record.id}/" in key for key in keys)
    assert not any("/../" in key for key in keys)


def test_an_upload_the_chain_cannot_run_gets_a_visible_failed_job(
    world: World, handler: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> None:
        raise InvalidRequestError.single("key", "some_rule", "cannot be run", "upload job")

    monkeypatch.setattr(inputs_module.UploadInput, "build", staticmethod(refuse))
    key = "inbox/refused.wav"
    etag = world.oss.add(BUCKET, key, b"RIFF-audio")
    result = handler(oss_event((key, etag, 10)), context())
    (accepted,) = result["accepted"]
    view = world.store.get(accepted["job_id"])
    assert view.state is JobState.FAILED and view.error is not None
    assert view.error.code == "InvalidUpload" and "cannot be run" in view.error.message
    assert [step.state for step in view.steps[1:]] == [StepState.SKIPPED] * 2
    assert world.store.list().jobs[0].id == view.id

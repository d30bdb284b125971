"""Per-upload recognition options: upload rules, channels kept through normalisation, filetrans channel_id."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from shared.errors import ConfigurationError, InvalidRequestError
from shared.jobs.model import JobRecord
from shared.pipeline.inputs import parse_job_input
from shared.pipeline.plans import PLACEHOLDER_JOB_ID, FiletransPlan, plan_normalize, plan_transcription
from shared.pipeline.settings import PipelineSettings


def upload_record(**options: Any) -> JobRecord:
    return JobRecord(
        id=PLACEHOLDER_JOB_ID,
        type="transcribe_upload",  # type: ignore[arg-type]
        idempotency_key="k",
        input_digest="d",
        created_at=datetime(2025, 1, 15, tzinfo=timezone.utc),
        input={"bucket": "audiochain", "key": "inbox/calls/a.wav", "relative_key": "calls/a.wav", **options},
    )


def test_an_upload_without_channels_is_mixed_to_mono_and_recognised_as_one_track() -> None:
    record = upload_record()

    assert "ac_1" in plan_normalize(record, PipelineSettings()).request.to_process()
    plan = plan_transcription(record, 1000, "https://x.invalid/a.flac", PipelineSettings())
    assert isinstance(plan, FiletransPlan)
    assert plan.request.to_body()["parameters"]["channel_id"] == [0]


def test_an_upload_with_channels_keeps_them_and_asks_filetrans_for_each() -> None:
    record = upload_record(channels=[0, 1], language="zh", context="会议")
    settings = PipelineSettings(sync_asr_max_bytes=10_000)  # would go sync, but channels need filetrans

    assert "ac_2" in plan_normalize(record, settings).request.to_process()
    plan = plan_transcription(record, 1000, "https://x.invalid/a.flac", settings)
    assert isinstance(plan, FiletransPlan)
    parameters = plan.request.to_body()["parameters"]
    assert parameters["channel_id"] == [0, 1] and parameters["language"] == "zh"


def test_rules_come_from_json_and_the_longest_prefix_wins() -> None:
    settings = PipelineSettings.from_env(
        {
            "AUDIOCHAIN_UPLOAD_RULES": '[{"prefix": "calls/", "channels": [0, 1]},'
            ' {"prefix": "calls/zh/", "language": "zh", "channels": [1]}]'
        }
    )

    assert [rule.prefix for rule in settings.upload_rules] == ["calls/", "calls/zh/"]


@pytest.mark.parametrize(
    ("rules", "complaint"),
    [
        ("not json", "not JSON"),
        ('[{"prefix": "calls/", "channels": [0, 0]}]', "each channel may be listed once"),
        ('[{"prefix": "calls/", "channels": [8]}]', "upload_rules[0.channels.0]"),
        ('[{"prefix": "calls/", "speed": 2}]', "upload_rules[0.speed]"),
        ('[{"channels": [0]}]', "upload_rules[0.prefix]"),
    ],
)
def test_a_bad_rule_is_a_configuration_error_naming_where(rules: str, complaint: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PipelineSettings.from_env({"AUDIOCHAIN_UPLOAD_RULES": rules})

    assert complaint in str(caught.value)


def test_api_channels_are_refused_for_the_synchronous_modes_naming_the_field() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_job_input("transcribe", {"source": "a.wav", "channels": [0, 1], "mode": "compatible"})

    assert caught.value.field == "channels" and caught.value.rule == "channels_need_filetrans"

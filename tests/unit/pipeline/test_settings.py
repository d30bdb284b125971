from __future__ import annotations

from typing import Any

import pytest

from shared.errors import ConfigurationError
from shared.pipeline.settings import DEFAULT_SUFFIXES, PipelineSettings


def test_the_defaults_form_a_working_configuration() -> None:
    settings = PipelineSettings().validate()
    assert (settings.bucket, settings.inbox_prefix, settings.work_prefix) == ("audiochain", "inbox/", "work/")
    assert settings.accepted_suffixes == DEFAULT_SUFFIXES
    assert settings.sync_asr_max_bytes == 0  # filetrans by default: subtitles need timings


def test_the_environment_is_read_and_explicit_arguments_win() -> None:
    environ = {
        "AUDIOCHAIN_BUCKET": "media",
        "FC_REGION": "cn-shanghai",
        "AUDIOCHAIN_INBOX_PREFIX": "uploads/",
        "AUDIOCHAIN_OUTPUT_TOPIC": "",
        "AUDIOCHAIN_IMM_PROJECT": "audio-project",
        "AUDIOCHAIN_OSS_ENDPOINT": "http://127.0.0.1:9000",
        "FC_ACCOUNT_ID": "1234567890",
    }
    settings = PipelineSettings.from_env(environ, bucket="explicit-bucket")
    assert settings.bucket == "explicit-bucket"
    assert (settings.region, settings.inbox_prefix, settings.imm_project) == (
        "cn-shanghai",
        "uploads/",
        "audio-project",
    )
    assert settings.output_topic is None  # an empty variable switches publishing off
    assert settings.oss_endpoint_url == "http://127.0.0.1:9000"
    assert settings.mns_endpoint_url == "https://1234567890.mns.cn-shanghai.aliyuncs.com"
    assert settings.imm_endpoint_url == "https://imm.cn-shanghai.aliyuncs.com"
    assert settings.dashscope_endpoint_url == "https://dashscope.aliyuncs.com"


def test_audiochain_region_beats_the_function_compute_region() -> None:
    settings = PipelineSettings.from_env({"AUDIOCHAIN_REGION": "ap-southeast-1", "FC_REGION": "cn-beijing"})
    assert settings.region == "ap-southeast-1"
    assert settings.dashscope_endpoint_url == "https://dashscope-intl.aliyuncs.com"


def test_without_an_account_id_the_mns_endpoint_must_be_configured() -> None:
    with pytest.raises(ConfigurationError, match="AUDIOCHAIN_MNS_ENDPOINT"):
        _ = PipelineSettings().mns_endpoint_url


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"work_prefix": "inbox/work/"}, "work_prefix: 'inbox/work/' overlaps inbox_prefix"),
        ({"output_prefix": "inbox/"}, "output_prefix: 'inbox/' overlaps inbox_prefix"),
        ({"inbox_prefix": "jobs/inbox/"}, "jobs_prefix: 'jobs/' overlaps inbox_prefix"),
        ({"inbox_prefix": ""}, "inbox_prefix: must not be empty"),
        ({"inbox_prefix": "inbox"}, "must be a folder"),
        (
            {"work_prefix": "data/", "output_prefix": "data/out/"},
            "work_prefix: 'data/' overlaps output_prefix",
        ),
    ],
)
def test_a_configuration_whose_outputs_would_re_trigger_the_inbox_is_refused(
    overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PipelineSettings.from_env({}, **overrides)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"bucket": "Not_A_Bucket"}, "bucket:"),
        ({"pipeline_topic": "9-topic"}, "pipeline_topic:"),
        ({"output_topic": "audiochain-pipeline"}, "output_topic: must differ from pipeline_topic"),
        ({"accepted_suffixes": ()}, "accepted_suffixes: must list"),
        ({"accepted_suffixes": (".wav", ".w a v")}, "'.w a v' is not a file suffix"),
        ({"sync_asr_max_bytes": 11 * 1024 * 1024}, "sync_asr_max_bytes"),
        ({"presign_expiry_seconds": 60}, "presign_expiry_seconds"),
        ({"oss_endpoint": "oss.example.com"}, "oss_endpoint"),
        ({"imm_project": "has space"}, "imm_project"),
        ({"step_lease_seconds": 5}, "step_lease_seconds"),
        ({"max_attempts": "many"}, "max_attempts"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_setting(
    overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        PipelineSettings.from_env({}, **overrides)
    assert fragment in str(caught.value)


def test_suffixes_are_normalised_to_lower_case_with_a_dot() -> None:
    settings = PipelineSettings.from_env({}, accepted_suffixes="WAV, .Mp3,flac")
    assert settings.accepted_suffixes == (".wav", ".mp3", ".flac")
    assert settings.matches_inbox("inbox/Talk.MP3")
    assert not settings.matches_inbox("inbox/talk.mp3.json")
    assert not settings.matches_inbox("inbox/folder.wav/")
    assert not settings.matches_inbox("elsewhere/talk.wav")


def test_an_upload_rules_webhook_must_be_deliverable() -> None:
    rules = '[{"prefix": "calls/", "callback_url": "http://127.0.0.1:9/hook"}]'
    with pytest.raises(
        ConfigurationError, match=r"upload_rules\[0\]\.callback_url: AUDIOCHAIN_WEBHOOK_SECRET"
    ):
        PipelineSettings(upload_rules=rules).validate()
    secret = "webhook-secret-for-settings-test-0123456789"
    with pytest.raises(ConfigurationError, match=r"must be https://"):
        PipelineSettings(upload_rules=rules, webhook_secret=secret).validate()
    local = PipelineSettings(upload_rules=rules, webhook_secret=secret, oss_endpoint="http://127.0.0.1:9000")
    assert local.validate().upload_rules[0].callback_url == "http://127.0.0.1:9/hook"
    with pytest.raises(ConfigurationError, match="callback_url"):
        PipelineSettings(upload_rules='[{"prefix": "a/", "callback_url": "ftp://x"}]')

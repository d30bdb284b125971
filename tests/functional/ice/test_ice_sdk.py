"""The official ICE SDK, unmodified, against localcloud: speech in every format, results and refusals."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any, NamedTuple

import pytest
from alibabacloud_ice20201109 import models as ice_models
from alibabacloud_ice20201109.client import Client as IceSdkClient
from alibabacloud_tea_openapi.exceptions import ClientException

from localcloud.engines.probe import probe
from localcloud.server import LocalCloud
from shared.clients.ice import IceClient
from shared.ops.ice import GetSmartHandleJobResponse
from tests.functional.ice.conftest import BUCKET, sdk_client, submit_request, wait_for_final_state

pytestmark = pytest.mark.sdk

ERROR_FIELDS = {"RequestId", "HostId", "Code", "Message", "Recommend"}
TOLERANCE_S = 0.05


def refused(call: Any) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    assert set(caught.value.data) >= ERROR_FIELDS
    return caught.value


class SpeechCase(NamedTuple):
    voice: str
    format: str
    text: str
    sentences: list[str]


SPEECH_CASES = [
    SpeechCase(
        "Andy", "MP3", "Hello there. This is a speech test.", ["Hello there.", "This is a speech test."]
    ),
    SpeechCase("Emily", "WAV", "Good morning. See you soon.", ["Good morning.", "See you soon."]),
    SpeechCase("Siqi", "MP3", "你好。今天天气很好。", ["你好。", "今天天气很好。"]),
    SpeechCase("xiaoyun", "PCM", "欢迎使用。谢谢。", ["欢迎使用。", "谢谢。"]),
]


@pytest.mark.parametrize("case", SPEECH_CASES, ids=[f"{c.voice}-{c.format}" for c in SPEECH_CASES])
def test_speech_is_written_in_the_requested_format_with_sentence_timings(
    ice_cloud: LocalCloud, ice_sdk: IceSdkClient, case: SpeechCase
) -> None:
    voice, fmt, text, sentences = case
    key = f"tts/{voice}-{uuid.uuid4().hex[:6]}"
    request = submit_request(text, {"voice": voice, "format": fmt, "volume": 50}, key, title="speech")

    submitted = ice_sdk.submit_audio_produce_job(request).body
    final = wait_for_final_state(ice_cloud, ice_sdk, submitted.job_id)

    assert submitted.state == "Created" and submitted.request_id and submitted.media_id
    assert final.state == "Finished"
    parsed = GetSmartHandleJobResponse.parse(final.to_map())
    timings = parsed.sentences()
    assert [sentence.content for sentence in timings] == sentences
    assert timings[0].from_ == 0.0
    assert all(a.to == b.from_ and a.from_ < a.to for a, b in itertools.pairwise(timings))
    written = ice_cloud.oss().store.head(BUCKET, f"{key}.{fmt.lower()}")
    if fmt == "PCM":  # raw 16-bit mono at the default 16000 Hz
        duration = written.size / 2 / 16000
    else:
        info = probe(written.path)
        assert (info.sample_rate, info.channels) == (16000, 1)
        assert info.codec == ("mp3float" if fmt == "MP3" else "pcm_s16le")
        duration = info.duration_ms / 1000
    assert timings[-1].to == pytest.approx(duration, abs=TOLERANCE_S)
    assert final.job_result.media_id == submitted.media_id


def test_the_finished_job_describes_its_input_editing_and_output(
    ice_cloud: LocalCloud, ice_sdk: IceSdkClient, ice_client: IceClient
) -> None:
    key = f"tts/describe-{uuid.uuid4().hex[:6]}"
    editing = {"voice": "Andy", "format": "wav", "volume": 70, "speech_rate": 100, "sample_rate": 24000}
    request = submit_request("Describe me.", editing, key, user_data='{"job":"j-7"}', description="a test")

    job_id = ice_sdk.submit_audio_produce_job(request).body.job_id
    final = wait_for_final_state(ice_cloud, ice_sdk, job_id)

    info = final.smart_job_info
    assert (info.job_type, info.description) == ("TextToSpeech", "a test")
    assert info.title.startswith("default_title_")  # no Title given: named by date, as ICE does
    assert info.input_config.input_file == "Describe me."
    assert (info.output_config.bucket, info.output_config.object) == (BUCKET, key)
    assert final.user_data == '{"job":"j-7"}'
    # The SDK's model has no EditingConfig; ICE's documented answer does, and our client reads it.
    ours = ice_client.get_smart_handle_job(job_id).smart_job_info
    echoed = ours.editing() if ours is not None else None
    assert echoed is not None
    assert (echoed.voice, echoed.volume, echoed.speech_rate, echoed.sample_rate) == ("Andy", 70, 100, 24000)
    assert probe(ice_cloud.oss().store.head(BUCKET, f"{key}.wav").path).sample_rate == 24000
    assert final.job_result.media_url.endswith(f"/{BUCKET}/{key}.wav")


def test_an_existing_output_fails_the_job_unless_overwrite_is_true(
    ice_cloud: LocalCloud, ice_sdk: IceSdkClient
) -> None:
    key = f"tts/overwrite-{uuid.uuid4().hex[:6]}"
    store = ice_cloud.oss().store
    first = ice_sdk.submit_audio_produce_job(
        submit_request("First.", {"voice": "Andy", "format": "MP3"}, key)
    )
    wait_for_final_state(ice_cloud, ice_sdk, first.body.job_id)
    original = store.head(BUCKET, f"{key}.mp3").etag

    kept = ice_sdk.submit_audio_produce_job(
        submit_request("Second.", {"voice": "Andy", "format": "MP3"}, key)
    )
    refused_job = wait_for_final_state(ice_cloud, ice_sdk, kept.body.job_id)
    replaced = ice_sdk.submit_audio_produce_job(
        submit_request("Third, longer text.", {"voice": "Andy", "format": "MP3"}, key, overwrite=True)
    )
    replacing_job = wait_for_final_state(ice_cloud, ice_sdk, replaced.body.job_id)

    assert (refused_job.state, refused_job.error_code) == ("Failed", "FileAlreadyExists")
    assert "Overwrite" in refused_job.error_message
    assert replacing_job.state == "Finished"
    assert store.head(BUCKET, f"{key}.mp3").etag != original


def test_speech_rate_and_volume_change_the_audio(ice_cloud: LocalCloud, ice_sdk: IceSdkClient) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    variants: dict[str, dict[str, Any]] = {
        "normal": {"voice": "Andy", "format": "PCM"},
        "fast": {"voice": "Andy", "format": "PCM", "speech_rate": 500},
        "quiet": {"voice": "Andy", "format": "PCM", "volume": 10},
    }
    results: dict[str, tuple[int, int]] = {}  # samples, peak
    for name, editing in variants.items():
        key = f"tts/rate-{name}-{uuid.uuid4().hex[:6]}"
        job = ice_sdk.submit_audio_produce_job(submit_request(text, editing, key)).body.job_id
        assert wait_for_final_state(ice_cloud, ice_sdk, job).state == "Finished"
        pcm = ice_cloud.oss().store.head(BUCKET, f"{key}.pcm").path.read_bytes()
        samples = memoryview(pcm).cast("h")
        results[name] = (len(samples), max(abs(value) for value in samples))

    assert results["fast"][0] < 0.7 * results["normal"][0]
    assert results["quiet"][1] < 0.5 * results["normal"][1]


def test_an_unknown_voice_is_refused_naming_the_field(ice_sdk: IceSdkClient) -> None:
    request = submit_request("Hi.", {"voice": "NoSuchVoice", "format": "MP3"}, "tts/x")

    error = refused(lambda: ice_sdk.submit_audio_produce_job(request))

    assert (error.status_code, error.code) == (400, "InvalidParameter")
    assert "EditingConfig.voice" in error.message and "unknown_voice" in error.message


@pytest.mark.parametrize(
    ("fields", "field", "rule"),
    [
        ({"input_config": "x" * 2001}, "InputConfig", "too_long"),
        ({"editing_config": '{"voice":"Andy","format":"OGG"}'}, "EditingConfig.format", "enum"),
        ({"editing_config": '{"voice":"Andy","format":"MP3","volume":101}'}, "EditingConfig.volume", "range"),
        (
            {"output_config": '{"bucket":"Bad_Bucket","object":"a"}'},
            "OutputConfig.bucket",
            "bucket_characters",
        ),
        ({"user_data": '{"NotifyAddress":"ftp://x"}'}, "UserData", "notify_address"),
        (
            {"editing_config": '{"voice":"Andy","format":"MP3","sample_rate":96000}'},
            "EditingConfig.sample_rate",
            "unsupported_sample_rate",
        ),
    ],
)
def test_invalid_parameters_are_refused_naming_the_field_and_rule(
    ice_sdk: IceSdkClient, fields: dict[str, str], field: str, rule: str
) -> None:
    wire = {
        "editing_config": '{"voice":"Andy","format":"MP3"}',
        "input_config": "Hello.",
        "output_config": json.dumps({"bucket": BUCKET, "object": "tts/invalid"}),
    }
    wire.update(fields)

    error = refused(lambda: ice_sdk.submit_audio_produce_job(ice_models.SubmitAudioProduceJobRequest(**wire)))

    assert (error.status_code, error.code) == (400, "InvalidParameter")
    assert field in error.message and f"rule: {rule}" in error.message


def test_a_missing_required_parameter_gets_missing_parameter(ice_sdk: IceSdkClient) -> None:
    request = ice_models.SubmitAudioProduceJobRequest(
        editing_config='{"voice":"Andy","format":"MP3"}', input_config="Hello."
    )

    error = refused(lambda: ice_sdk.submit_audio_produce_job(request))

    assert (error.status_code, error.code) == (400, "MissingParameter")
    assert "OutputConfig" in error.message


def test_an_output_bucket_that_does_not_exist_is_refused(ice_sdk: IceSdkClient) -> None:
    request = ice_models.SubmitAudioProduceJobRequest(
        editing_config='{"voice":"Andy","format":"MP3"}',
        input_config="Hello.",
        output_config='{"bucket":"no-such-bucket","object":"a"}',
    )

    error = refused(lambda: ice_sdk.submit_audio_produce_job(request))

    assert (error.status_code, error.code) == (404, "ResourceNotFound")


def test_an_unknown_job_is_not_found(ice_sdk: IceSdkClient) -> None:
    error = refused(lambda: ice_sdk.get_smart_handle_job(ice_models.GetSmartHandleJobRequest(job_id="nope")))

    assert (error.status_code, error.code) == (404, "JobNotFound")


def test_a_request_signed_with_the_wrong_secret_is_refused(ice_cloud: LocalCloud) -> None:
    client = sdk_client(ice_cloud, secret="wrong")

    error = refused(lambda: client.get_smart_handle_job(ice_models.GetSmartHandleJobRequest(job_id="x")))

    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")

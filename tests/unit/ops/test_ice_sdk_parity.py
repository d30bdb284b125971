"""The official ICE SDK and our models must agree on the wire, both ways (offline: `call_api` is replaced)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.ops.ice import GetSmartHandleJobRequest, SubmitAudioProduceJobRequest

ice_client = pytest.importorskip("alibabacloud_ice20201109.client")
ice_models = pytest.importorskip("alibabacloud_ice20201109.models")
openapi_models = pytest.importorskip("alibabacloud_tea_openapi.models")
darabonba_runtime = pytest.importorskip("darabonba.runtime")


def sdk_query(operation: str, request: Any) -> dict[str, str]:
    config = openapi_models.Config(
        access_key_id="LTAI5tFixedAccessKeyId",
        access_key_secret="FixedAccessKeySecret0123456789abcd",
        region_id="cn-hangzhou",
        endpoint="ice.cn-hangzhou.aliyuncs.com",
    )
    client = ice_client.Client(config)
    captured: dict[str, dict[str, str]] = {}

    def call_api(params: Any, api_request: Any, runtime: Any) -> dict[str, Any]:
        captured["query"] = dict(api_request.query)
        return {
            "body": {"RequestId": "R", "JobId": "J", "State": "Created"},
            "headers": {},
            "statusCode": 200,
        }

    client.call_api = call_api
    getattr(client, f"{operation}_with_options")(request, darabonba_runtime.RuntimeOptions())
    return captured["query"]


def test_our_tts_request_matches_what_the_sdk_sends_for_the_same_strings() -> None:
    ours = SubmitAudioProduceJobRequest.build(
        EditingConfig={"customizedVoice": "my-voice-01", "format": "WAV", "volume": 80, "speech_rate": -125},
        OutputConfig={"bucket": "examplebucket", "object": "语音/输出"},
        InputConfig="<speak>你好世界</speak>",
        Title="标题",
        UserData={"NotifyAddress": "https://example.com/callback"},
        Overwrite=False,
    )
    query = ours.to_query()
    sdk_request = ice_models.SubmitAudioProduceJobRequest(
        editing_config=query["EditingConfig"],
        output_config=query["OutputConfig"],
        input_config=query["InputConfig"],
        title="标题",
        user_data=query["UserData"],
        overwrite=False,
    )
    sent = sdk_query("submit_audio_produce_job", sdk_request)
    assert sent == query
    assert SubmitAudioProduceJobRequest.from_query(sent) == ours


def test_get_smart_handle_job_query_matches_the_sdk() -> None:
    sent = sdk_query("get_smart_handle_job", ice_models.GetSmartHandleJobRequest(job_id="job-1"))
    assert GetSmartHandleJobRequest.build(JobId="job-1").to_query() == sent

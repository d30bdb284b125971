"""The official IMM SDK and our models must agree on the wire, both ways.

The SDK client is built offline and its `call_api` replaced, so we see the query it would send without
any socket being opened.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.ops.imm import CreateMediaConvertTaskRequest, GetTaskRequest

imm_client = pytest.importorskip("alibabacloud_imm20200930.client")
imm_models = pytest.importorskip("alibabacloud_imm20200930.models")
openapi_models = pytest.importorskip("alibabacloud_tea_openapi.models")
darabonba_runtime = pytest.importorskip("darabonba.runtime")


def sdk_query(operation: str, request: Any) -> dict[str, str]:
    config = openapi_models.Config(
        access_key_id="LTAI5tFixedAccessKeyId",
        access_key_secret="FixedAccessKeySecret0123456789abcd",
        region_id="cn-hangzhou",
        endpoint="imm.cn-hangzhou.aliyuncs.com",
    )
    client = imm_client.Client(config)
    captured: dict[str, dict[str, str]] = {}

    def call_api(params: Any, api_request: Any, runtime: Any) -> dict[str, Any]:
        captured["query"] = dict(api_request.query)
        return {"body": {"RequestId": "R", "TaskId": "T"}, "headers": {}, "statusCode": 200}

    client.call_api = call_api
    getattr(client, f"{operation}_with_options")(request, darabonba_runtime.RuntimeOptions())
    return captured["query"]


def without_sdk_empty_lists(query: dict[str, str]) -> dict[str, str]:
    """Drop what the SDK always adds and we need not send: TargetGroups=[] and Sources[].Subtitles=[]."""
    trimmed = {name: value for name, value in query.items() if name != "TargetGroups"}
    sources = json.loads(trimmed["Sources"])
    for source in sources:
        assert source.pop("Subtitles") == []
    trimmed["Sources"] = json.dumps(sources, separators=(",", ":"), ensure_ascii=False)
    return trimmed


def merge_request_for_sdk() -> Any:
    transcode = imm_models.TargetAudioTranscodeAudio(
        codec="mp3", bitrate=128000, bitrate_option="fixed", channel=2, sample_rate=44100
    )
    return imm_models.CreateMediaConvertTaskRequest(
        project_name="test-project",
        alignment_index=1,
        sources=[
            imm_models.CreateMediaConvertTaskRequestSources(uri="oss://test-bucket/片头.mp3", start_time=1.5),
            imm_models.CreateMediaConvertTaskRequestSources(uri="oss://test-bucket/main.mp3", duration=30.0),
        ],
        targets=[
            imm_models.CreateMediaConvertTaskRequestTargets(
                uri="oss://test-bucket/concat.{autoext}",
                container="mp3",
                audio=imm_models.TargetAudio(transcode_audio=transcode),
            )
        ],
        notification=imm_models.Notification(mns=imm_models.MNS(topic_name="test-mns-topic")),
        tags={"team": "audio", "batch": "7"},
        user_data='{"id":"job-1"}',
    )


def test_a_merge_request_from_the_sdk_parses_and_is_sent_back_identically() -> None:
    query = sdk_query("create_media_convert_task", merge_request_for_sdk())
    parsed = CreateMediaConvertTaskRequest.from_query(query)
    assert parsed.is_merge and parsed.alignment_index == 1
    assert parsed.to_query() == without_sdk_empty_lists(query)


def test_our_merge_request_matches_what_the_sdk_sends_for_the_same_input() -> None:
    ours = CreateMediaConvertTaskRequest.build(
        ProjectName="test-project",
        AlignmentIndex=1,
        Sources=[
            {"URI": "oss://test-bucket/片头.mp3", "StartTime": 1.5},
            {"URI": "oss://test-bucket/main.mp3", "Duration": 30.0},
        ],
        Targets=[
            {
                "URI": "oss://test-bucket/concat.{autoext}",
                "Container": "mp3",
                "Audio": {
                    "TranscodeAudio": {
                        "Codec": "mp3",
                        "Bitrate": 128000,
                        "BitrateOption": "fixed",
                        "Channel": 2,
                        "SampleRate": 44100,
                    }
                },
            }
        ],
        Notification={"MNS": {"TopicName": "test-mns-topic"}},
        Tags={"team": "audio", "batch": "7"},
        UserData='{"id":"job-1"}',
    )
    assert ours.to_query() == without_sdk_empty_lists(
        sdk_query("create_media_convert_task", merge_request_for_sdk())
    )


def test_get_task_queries_match_the_sdk() -> None:
    sdk_request = imm_models.GetTaskRequest(
        project_name="test-project",
        task_id="MediaConvert-1",
        task_type="MediaConvert",
        request_definition=True,
    )
    query = sdk_query("get_task", sdk_request)
    ours = GetTaskRequest.build(ProjectName="test-project", TaskId="MediaConvert-1", RequestDefinition=True)
    assert ours.to_query() == query
    assert GetTaskRequest.from_query(query) == ours

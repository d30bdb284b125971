from __future__ import annotations

import doctest
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import shared.ops.imm
from shared.errors import InvalidRequestError
from shared.ops.enums import ImmAudioCodec, ImmContainer, ImmTaskStatus
from shared.ops.imm import (
    CreateMediaConvertTaskRequest,
    CreateMediaConvertTaskResponse,
    GetTaskRequest,
    GetTaskResponse,
    parse_oss_uri,
    resolve_target_uri,
    unflatten_query,
)

# vectors/out_openapi_capture.txt, section 1: the URL alibabacloud-imm20200930 5.0.3 builds.
SDK_CAPTURE_URL = (
    "https://imm.cn-hangzhou.aliyuncs.com/?Notification=%7B%22MNS%22%3A%7B%22TopicName%22%3A%22AudioConvert"
    "%22%7D%7D&ProjectName=test-project&Sources=%5B%7B%22Subtitles%22%3A%5B%5D%2C%22URI%22%3A%22oss%3A%2F%2F"
    "examplebucket%2Fsrc.mp3%22%7D%5D&TargetGroups=%5B%5D&Targets=%5B%7B%22Audio%22%3A%7B%22TranscodeAudio"
    "%22%3A%7B%22Bitrate%22%3A96000%2C%22Codec%22%3A%22aac%22%7D%7D%2C%22Container%22%3A%22aac%22%2C%22URI"
    "%22%3A%22oss%3A%2F%2Fexamplebucket%2Fdest.aac%22%7D%5D&UserData=%7B%22id%22%3A%22job-1%22%7D"
)
# Section 3: the generic client's flattened form, query and form body together.
FLATTENED_PARAMS = {
    "ProjectName": "test-project",
    "Sources.1.URI": "oss://examplebucket/src.mp3",
    "Targets.1.Audio.TranscodeAudio.Codec": "aac",
    "Targets.1.URI": "oss://examplebucket/dest.aac",
    "Targets.1.Container": "aac",
}


def capture_params() -> dict[str, str]:
    return dict(parse_qsl(urlsplit(SDK_CAPTURE_URL).query, keep_blank_values=True))


# The two request examples of the seed (imm-audio-merge.txt), verbatim.
SEED_THREE_SEGMENTS_TO_AAC: dict[str, Any] = {
    "ProjectName": "test-project",
    "AlignmentIndex": 1,
    "Notification": {"MNS": {"TopicName": "test-mns-topic"}},
    "Sources": [
        {"URI": "oss://test-bucket/video-demo/head.mp3"},
        {"URI": "oss://test-bucket/video-demo/test.mp3"},
        {"URI": "oss://test-bucket/video-demo/tail.mp3"},
    ],
    "Targets": [
        {
            "Audio": {
                "TranscodeAudio": {"Bitrate": 96000, "Channel": 2, "Codec": "aac", "SampleRate": 44100}
            },
            "Container": "aac",
            "URI": "oss://test-bucket/video-demo/concat.{autoext}",
        }
    ],
}
SEED_TWO_SEGMENTS_TO_MP3: dict[str, Any] = {
    "ProjectName": "test-project",
    "AlignmentIndex": 0,
    "Notification": {"MNS": {"TopicName": "test-mns-topic"}},
    "Sources": [
        {"URI": "oss://test-bucket/video-demo/test.mp3"},
        {"URI": "oss://test-bucket/video-demo/test1.mp3"},
    ],
    "Targets": [
        {
            "Audio": {
                "TranscodeAudio": {"Bitrate": 128000, "Channel": 2, "Codec": "mp3", "SampleRate": 44100}
            },
            "Container": "mp3",
            "URI": "oss://test-bucket/video-demo/concat.{autoext}",
        }
    ],
}


def test_the_sdk_capture_is_reproduced_parameter_for_parameter() -> None:
    params = capture_params()
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="test-project",
        Sources=[{"URI": "oss://examplebucket/src.mp3"}],
        Targets=[
            {
                "URI": "oss://examplebucket/dest.aac",
                "Container": "aac",
                "Audio": {"TranscodeAudio": {"Codec": "aac", "Bitrate": 96000}},
            }
        ],
        Notification={"MNS": {"TopicName": "AudioConvert"}},
        UserData='{"id":"job-1"}',
    )
    query = request.to_query()
    # The SDK adds empty Subtitles and TargetGroups lists; everything else must be string-equal.
    expected = {name: value for name, value in params.items() if name != "TargetGroups"}
    expected["Sources"] = expected["Sources"].replace('"Subtitles":[],', "")
    assert query == expected


def test_the_sdk_capture_parses_into_the_same_request() -> None:
    parsed = CreateMediaConvertTaskRequest.from_query(capture_params())
    assert parsed.project_name == "test-project"
    assert [source.uri for source in parsed.sources] == ["oss://examplebucket/src.mp3"]
    target = parsed.targets[0]
    assert target.container is ImmContainer.AAC
    assert target.audio is not None and target.audio.transcode_audio is not None
    assert target.audio.transcode_audio.codec is ImmAudioCodec.AAC
    assert target.audio.transcode_audio.bitrate == 96000
    assert parsed.notification is not None and parsed.notification.mns.topic_name == "AudioConvert"
    assert parsed.user_data == '{"id":"job-1"}'
    assert "AlignmentIndex" not in parsed.to_query()


@pytest.mark.parametrize(
    "example", [SEED_THREE_SEGMENTS_TO_AAC, SEED_TWO_SEGMENTS_TO_MP3], ids=["aac", "mp3"]
)
def test_the_seed_examples_build_and_parse_back_equal(example: dict[str, Any]) -> None:
    request = CreateMediaConvertTaskRequest.build(**example)
    query = request.to_query()
    assert CreateMediaConvertTaskRequest.from_query(query) == request
    # The wire JSON carries exactly the seed's documents.
    assert json.loads(query["Sources"]) == example["Sources"]
    assert json.loads(query["Targets"]) == example["Targets"]
    assert json.loads(query["Notification"]) == example["Notification"]
    assert query["AlignmentIndex"] == str(example["AlignmentIndex"])
    assert request.is_merge


def test_the_seed_alignment_index_names_the_primary_file() -> None:
    request = CreateMediaConvertTaskRequest.build(**SEED_THREE_SEGMENTS_TO_AAC)
    assert request.sources[request.alignment_index].key == "video-demo/test.mp3"


def test_the_seed_target_resolves_autoext_to_the_container_extension() -> None:
    request = CreateMediaConvertTaskRequest.build(**SEED_TWO_SEGMENTS_TO_MP3)
    assert request.targets[0].resolved_uri == "oss://test-bucket/video-demo/concat.mp3"


def test_the_flattened_form_parses_like_the_json_form() -> None:
    parsed = CreateMediaConvertTaskRequest.from_query(FLATTENED_PARAMS)
    assert parsed.sources[0].uri == "oss://examplebucket/src.mp3"
    assert parsed.targets[0].audio is not None and parsed.targets[0].audio.transcode_audio is not None
    assert parsed.targets[0].audio.transcode_audio.codec is ImmAudioCodec.AAC
    assert CreateMediaConvertTaskRequest.from_query(parsed.to_query()) == parsed


def test_flattened_numbers_and_booleans_arrive_as_text_and_are_read_as_values() -> None:
    params = dict(FLATTENED_PARAMS)
    params.update(
        {
            "Sources.2.URI": "oss://examplebucket/b.mp3",
            "Sources.2.StartTime": "1.5",
            "AlignmentIndex": "1",
            "Targets.1.Audio.TranscodeAudio.Bitrate": "96000",
            "Targets.1.Audio.TranscodeAudio.SampleRate": "44100",
        }
    )
    parsed = CreateMediaConvertTaskRequest.from_query(params)
    assert parsed.alignment_index == 1
    assert parsed.sources[1].start_time == 1.5
    audio = parsed.targets[0].audio
    assert audio is not None and audio.transcode_audio is not None
    assert (audio.transcode_audio.bitrate, audio.transcode_audio.sample_rate) == (96000, 44100)


def test_unflattening_orders_list_items_by_their_number_not_their_arrival() -> None:
    tree = unflatten_query({"Sources.2.URI": "b", "Sources.1.URI": "a", "Tags.team": "audio"})
    assert tree == {"Sources": [{"URI": "a"}, {"URI": "b"}], "Tags": {"team": "audio"}}


def test_unflattening_refuses_gaps_in_list_numbers() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        unflatten_query({"Sources.1.URI": "a", "Sources.3.URI": "c"})
    assert (caught.value.field, caught.value.rule) == ("Sources", "flattened_index")


def test_container_and_codec_are_read_in_any_case_and_sent_in_lower_case() -> None:
    example = json.loads(json.dumps(SEED_THREE_SEGMENTS_TO_AAC))
    example["Targets"][0]["Container"] = "AAC"
    example["Targets"][0]["Audio"]["TranscodeAudio"]["Codec"] = "Aac"
    query = CreateMediaConvertTaskRequest.build(**example).to_query()
    assert json.loads(query["Targets"])[0]["Container"] == "aac"
    assert json.loads(query["Targets"])[0]["Audio"]["TranscodeAudio"]["Codec"] == "aac"


def test_non_ascii_names_and_tags_are_kept_verbatim_in_compact_json() -> None:
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="p",
        Sources=[{"URI": "oss://bucket/片头.mp3"}],
        Targets=[{"URI": "oss://bucket/合并.{autoext}", "Container": "mp3"}],
        Tags={"owner": "音频", "batch": "7"},
    )
    query = request.to_query()
    assert query["Sources"] == '[{"URI":"oss://bucket/片头.mp3"}]'
    assert query["Targets"] == '[{"Container":"mp3","URI":"oss://bucket/合并.{autoext}"}]'
    assert query["Tags"] == '{"owner":"音频","batch":"7"}'
    assert CreateMediaConvertTaskRequest.from_query(query) == request


def test_alignment_index_is_sent_whenever_it_was_given_even_as_zero() -> None:
    given = CreateMediaConvertTaskRequest.build(**SEED_TWO_SEGMENTS_TO_MP3)
    left_out = CreateMediaConvertTaskRequest.build(
        **{key: value for key, value in SEED_TWO_SEGMENTS_TO_MP3.items() if key != "AlignmentIndex"}
    )
    assert given.to_query()["AlignmentIndex"] == "0"
    assert "AlignmentIndex" not in left_out.to_query()
    assert left_out.alignment_index == 0


def test_parse_oss_uri_splits_bucket_and_key_at_the_first_slash() -> None:
    assert parse_oss_uri("oss://test-bucket/video-demo/head.mp3") == ("test-bucket", "video-demo/head.mp3")
    assert parse_oss_uri("oss://abc/a/b/c.{autoext}") == ("abc", "a/b/c.{autoext}")


@pytest.mark.parametrize(
    ("uri", "rule"),
    [
        ("https://bucket/key.mp3", "oss_uri"),
        ("oss://bucket", "oss_uri"),
        ("oss://bucket/", "oss_uri"),
        ("oss://Bucket_1/key.mp3", "bucket_characters"),
        ("oss://bucket//key.mp3", "key_leading_slash"),
        ("oss://bucket/folder/", "folder_key"),
        ("oss://bucket/" + "k" * 1024, "key_length"),
    ],
)
def test_parse_oss_uri_names_the_rule_a_bad_uri_breaks(uri: str, rule: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        parse_oss_uri(uri, field="Sources.0.URI")
    assert (caught.value.field, caught.value.rule) == ("Sources.0.URI", rule)


@pytest.mark.parametrize(
    ("uri", "container", "resolved"),
    [
        ("oss://b1b/concat.{autoext}", "aac", "oss://b1b/concat.aac"),
        ("oss://b1b/{autoext}/concat.{autoext}", ImmContainer.FLAC, "oss://b1b/flac/concat.flac"),
        ("oss://b1b/dir.v2/outputAudio", "OPUS", "oss://b1b/dir.v2/outputAudio.opus"),
        ("oss://b1b/dest.aac", "aac", "oss://b1b/dest.aac"),
    ],
)
def test_target_uris_resolve_as_imm_names_its_outputs(uri: str, container: str, resolved: str) -> None:
    assert resolve_target_uri(uri, container) == resolved


def test_resolving_a_target_with_an_unknown_container_names_the_container() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        resolve_target_uri("oss://b1b/x.{autoext}", "mp4")
    assert (caught.value.field, caught.value.rule) == ("Container", "enum")


def test_the_create_response_of_the_capture_parses() -> None:
    response = CreateMediaConvertTaskResponse.parse(
        {
            "EventId": "2C2-1I0EG57VR37J4rQ8oKG6C9*****",
            "RequestId": "91AC8C98-0F36-49D2-8290-742E24D*****",
            "TaskId": "MediaConvert-8a6d8f2f-3c12-4a5b-9a3e-0f5a4d1c****",
        }
    )
    assert response.task_id.startswith("MediaConvert-")
    assert response.event_id == "2C2-1I0EG57VR37J4rQ8oKG6C9*****"


def test_get_task_request_defaults_to_media_convert_and_round_trips() -> None:
    request = GetTaskRequest.build(
        ProjectName="test-project", TaskId="MediaConvert-1", RequestDefinition=True
    )
    query = request.to_query()
    assert query == {
        "ProjectName": "test-project",
        "TaskId": "MediaConvert-1",
        "TaskType": "MediaConvert",
        "RequestDefinition": "True",
    }
    assert GetTaskRequest.from_query(query) == request
    assert GetTaskRequest.from_query({**query, "RequestDefinition": "false"}).request_definition is False


def test_get_task_response_parses_every_documented_field_and_keeps_new_ones() -> None:
    response = GetTaskResponse.parse(
        {
            "RequestId": "R-1",
            "EventId": "E-1",
            "ProjectName": "test-project",
            "TaskId": "MediaConvert-1",
            "TaskType": "MediaConvert",
            "Status": "Failed",
            "Code": "ResourceNotFound",
            "Message": "The specified resource oss://b1b/x.mp3 is not found.",
            "StartTime": "2025-01-15T08:30:45.123Z",
            "EndTime": "2025-01-15T08:30:47.456Z",
            "UserData": '{"id":"job-1"}',
            "Progress": 100,
            "TaskRequestDefinition": '{"ProjectName":"test-project"}',
            "Tags": {"batch": "7"},
            "SomethingNew": True,
        }
    )
    assert response.status is ImmTaskStatus.FAILED and response.is_final
    assert (response.code, response.progress, response.tags) == ("ResourceNotFound", 100, {"batch": "7"})
    assert response.model_extra == {"SomethingNew": True}


def test_a_running_task_is_not_final() -> None:
    assert not GetTaskResponse.parse({"TaskId": "t", "Status": "Running"}).is_final


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(shared.ops.imm).failed == 0

"""Every kind of bad IMM and ICE request is refused with an error naming the wire field and the rule."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.ops.ice import GetSmartHandleJobRequest, SubmitAudioProduceJobRequest
from shared.ops.imm import CreateMediaConvertTaskRequest, GetTaskRequest

# The seed's three-segment merge, the base every IMM case breaks in one place.
MERGE: dict[str, Any] = {
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
TTS: dict[str, Any] = {
    "EditingConfig": {"voice": "zhitian_emo", "format": "mp3"},
    "OutputConfig": {"bucket": "examplebucket", "object": "tts/out"},
    "InputConfig": "Hello, this is a test.",
    "Title": "test-tts",
}


def merge_with(change: Callable[[dict[str, Any]], object]) -> Callable[[], object]:
    def attempt() -> object:
        data = copy.deepcopy(MERGE)
        change(data)
        return CreateMediaConvertTaskRequest.build(**data)

    return attempt


def merge_query_with(extra: dict[str, str]) -> Callable[[], object]:
    def attempt() -> object:
        query = CreateMediaConvertTaskRequest.build(**MERGE).to_query()
        query.update(extra)
        return CreateMediaConvertTaskRequest.from_query(query)

    return attempt


def tts_with(change: Callable[[dict[str, Any]], object]) -> Callable[[], object]:
    def attempt() -> object:
        data = copy.deepcopy(TTS)
        change(data)
        return SubmitAudioProduceJobRequest.build(**data)

    return attempt


def tts_query_with(extra: dict[str, str]) -> Callable[[], object]:
    def attempt() -> object:
        query = SubmitAudioProduceJobRequest.build(**TTS).to_query()
        query.update(extra)
        return SubmitAudioProduceJobRequest.from_query(query)

    return attempt


def transcode(data: dict[str, Any]) -> dict[str, Any]:
    audio: dict[str, Any] = data["Targets"][0]["Audio"]["TranscodeAudio"]
    return audio


TRANSCODE = "Targets[0].Audio.TranscodeAudio"

CASES: list[tuple[str, Callable[[], object], str, str]] = [
    # --- IMM CreateMediaConvertTask -------------------------------------------------------------------
    (
        "project name starting with a digit",
        merge_with(lambda d: d.update(ProjectName="1-project")),
        "ProjectName",
        "project_name",
    ),
    ("project name left out", merge_with(lambda d: d.pop("ProjectName")), "ProjectName", "missing"),
    ("no sources", merge_with(lambda d: d.update(Sources=[])), "Sources", "too_short"),
    (
        "source that is an https URL",
        merge_with(lambda d: d["Sources"][0].update(URI="https://x.com/a.mp3")),
        "Sources[0].URI",
        "oss_uri",
    ),
    (
        "source with {autoext}",
        merge_with(lambda d: d["Sources"][1].update(URI="oss://test-bucket/a.{autoext}")),
        "Sources[1].URI",
        "oss_uri",
    ),
    (
        "source bucket in upper case",
        merge_with(lambda d: d["Sources"][2].update(URI="oss://Test/a.mp3")),
        "Sources[2].URI",
        "bucket_characters",
    ),
    (
        "negative source start",
        merge_with(lambda d: d["Sources"][0].update(StartTime=-1)),
        "Sources[0].StartTime",
        "range",
    ),
    (
        "source duration that is not a number",
        merge_query_with({"Sources": '[{"URI":"oss://b1b/a.mp3","Duration":NaN}]', "AlignmentIndex": "0"}),
        "Sources[0].Duration",
        "range",
    ),
    (
        "alignment index past the last source",
        merge_with(lambda d: d.update(AlignmentIndex=3)),
        "AlignmentIndex",
        "alignment_index",
    ),
    (
        "negative alignment index",
        merge_with(lambda d: d.update(AlignmentIndex=-1)),
        "AlignmentIndex",
        "alignment_index",
    ),
    ("no targets", merge_with(lambda d: d.update(Targets=[])), "Targets", "too_short"),
    (
        "video container",
        merge_with(lambda d: d["Targets"][0].update(Container="mp4")),
        "Targets[0].Container",
        "enum",
    ),
    ("copy codec", merge_with(lambda d: transcode(d).update(Codec="copy")), f"{TRANSCODE}.Codec", "enum"),
    (
        "bitrate under 1000",
        merge_with(lambda d: transcode(d).update(Bitrate=999)),
        f"{TRANSCODE}.Bitrate",
        "range",
    ),
    (
        "bitrate given as true",
        merge_with(lambda d: transcode(d).update(Bitrate=True)),
        f"{TRANSCODE}.Bitrate",
        "number_type",
    ),
    ("nine channels", merge_with(lambda d: transcode(d).update(Channel=9)), f"{TRANSCODE}.Channel", "range"),
    (
        "sample rate outside the set",
        merge_with(lambda d: transcode(d).update(SampleRate=44000)),
        f"{TRANSCODE}.SampleRate",
        "sample_rate",
    ),
    (
        "mp3 at 96 kHz",
        merge_with(
            lambda d: (
                transcode(d).update(Codec="mp3", SampleRate=96000),
                d["Targets"][0].update(Container="mp3"),
            )
        ),
        f"{TRANSCODE}.SampleRate",
        "codec_limit",
    ),
    (
        "mp3 with three channels",
        merge_with(
            lambda d: (transcode(d).update(Codec="mp3", Channel=3), d["Targets"][0].update(Container="mp3"))
        ),
        f"{TRANSCODE}.Channel",
        "codec_limit",
    ),
    (
        "quality together with bitrate",
        merge_with(lambda d: transcode(d).update(Quality=80)),
        f"{TRANSCODE}.Quality",
        "mutually_exclusive",
    ),
    (
        "bitrate option without bitrate",
        merge_with(lambda d: (transcode(d).pop("Bitrate"), transcode(d).update(BitrateOption="fixed"))),
        f"{TRANSCODE}.BitrateOption",
        "requires",
    ),
    (
        "bit depth for aac",
        merge_with(lambda d: transcode(d).update(BitsPerSample=24)),
        f"{TRANSCODE}.BitsPerSample",
        "codec_limit",
    ),
    (
        "aac in an mp3 container",
        merge_with(lambda d: d["Targets"][0].update(Container="mp3")),
        "Targets[0].Container",
        "codec_container",
    ),
    (
        "audio disabled and transcoded",
        merge_with(lambda d: d["Targets"][0]["Audio"].update(DisableAudio=True)),
        "Targets[0].Audio.DisableAudio",
        "mutually_exclusive",
    ),
    (
        "merge that would stream-copy",
        merge_with(lambda d: d["Targets"][0].pop("Audio")),
        "Targets",
        "transcode_required",
    ),
    (
        "target field IMM has but audio does not use",
        merge_with(lambda d: d["Targets"][0].update(Speed=0.5)),
        "Targets[0].Speed",
        "extra_forbidden",
    ),
    (
        "topic name with an underscore",
        merge_with(lambda d: d["Notification"]["MNS"].update(TopicName="a_b")),
        "Notification.MNS.TopicName",
        "mns_name",
    ),
    (
        "user data over 2048 bytes",
        merge_with(lambda d: d.update(UserData="数" * 683)),
        "UserData",
        "too_long",
    ),
    (
        "sources that are not JSON",
        merge_query_with({"Sources": "[{URI:oss://b}]"}),
        "Sources",
        "invalid_json",
    ),
    (
        "HLS target groups",
        merge_query_with({"TargetGroups": '[{"URI":"oss://test-bucket/a.m3u8"}]'}),
        "TargetGroups",
        "unsupported",
    ),
    (
        "subtitles on a source",
        merge_query_with({"Sources": '[{"URI":"oss://b1b/a.mp3","Subtitles":[{}]}]', "AlignmentIndex": "0"}),
        "Sources[0].Subtitles",
        "unsupported",
    ),
    (
        "sources sent both as JSON and flattened",
        merge_query_with({"Sources.1.URI": "oss://b1b/a.mp3"}),
        "Sources",
        "conflicting_parameters",
    ),
    (
        "flattened alignment index that is not a number",
        merge_query_with({"AlignmentIndex": "first"}),
        "AlignmentIndex",
        "int_parsing",
    ),
    # --- IMM GetTask --------------------------------------------------------------------------------------
    ("empty task id", lambda: GetTaskRequest.build(ProjectName="p", TaskId=""), "TaskId", "empty"),
    (
        "task type with a space",
        lambda: GetTaskRequest.build(ProjectName="p", TaskId="t", TaskType="Media Convert"),
        "TaskType",
        "task_type",
    ),
    # --- ICE SubmitAudioProduceJob ------------------------------------------------------------------------
    (
        "no voice at all",
        tts_with(lambda d: d["EditingConfig"].pop("voice")),
        "EditingConfig.voice",
        "voice_required",
    ),
    (
        "ogg output",
        tts_with(lambda d: d["EditingConfig"].update(format="ogg")),
        "EditingConfig.format",
        "enum",
    ),
    (
        "format left out",
        tts_with(lambda d: d["EditingConfig"].pop("format")),
        "EditingConfig.format",
        "missing",
    ),
    (
        "volume over 100",
        tts_with(lambda d: d["EditingConfig"].update(volume=101)),
        "EditingConfig.volume",
        "range",
    ),
    (
        "speech rate under -500",
        tts_with(lambda d: d["EditingConfig"].update(speech_rate=-501)),
        "EditingConfig.speech_rate",
        "range",
    ),
    (
        "pitch rate over 500",
        tts_with(lambda d: d["EditingConfig"].update(pitch_rate=600)),
        "EditingConfig.pitch_rate",
        "range",
    ),
    (
        "unknown editing key",
        tts_with(lambda d: d["EditingConfig"].update(speed=2)),
        "EditingConfig.speed",
        "extra_forbidden",
    ),
    (
        "editing config that is not JSON",
        tts_query_with({"EditingConfig": "{voice: Siqi}"}),
        "EditingConfig",
        "invalid_json",
    ),
    (
        "output bucket with an underscore",
        tts_with(lambda d: d["OutputConfig"].update(bucket="my_bucket")),
        "OutputConfig.bucket",
        "bucket_characters",
    ),
    (
        "output object left out",
        tts_with(lambda d: d["OutputConfig"].pop("object")),
        "OutputConfig.object",
        "missing",
    ),
    ("blank text", tts_with(lambda d: d.update(InputConfig="   ")), "InputConfig", "empty"),
    (
        "text over 2000 characters",
        tts_with(lambda d: d.update(InputConfig="a" * 2001)),
        "InputConfig",
        "too_long",
    ),
    (
        "SSML that is not well-formed",
        tts_with(lambda d: d.update(InputConfig="<speak>Hello<break></speak>")),
        "InputConfig",
        "ssml",
    ),
    ("title over 128 bytes", tts_with(lambda d: d.update(Title="题" * 43)), "Title", "too_long"),
    (
        "description over 1024 bytes",
        tts_with(lambda d: d.update(Description="d" * 1025)),
        "Description",
        "too_long",
    ),
    ("user data that is not JSON", tts_with(lambda d: d.update(UserData="job-2")), "UserData", "json_object"),
    (
        "user data that is a JSON list",
        tts_with(lambda d: d.update(UserData="[1, 2]")),
        "UserData",
        "json_object",
    ),
    (
        "user data over 512 bytes",
        tts_with(lambda d: d.update(UserData={"k": "v" * 510})),
        "UserData",
        "too_long",
    ),
    (
        "notify address on ftp",
        tts_with(lambda d: d.update(UserData={"NotifyAddress": "ftp://x.com/cb"})),
        "UserData",
        "notify_address",
    ),
    ("overwrite that is not a boolean", tts_query_with({"Overwrite": "maybe"}), "Overwrite", "bool_parsing"),
    # --- ICE GetSmartHandleJob ----------------------------------------------------------------------------
    ("empty job id", lambda: GetSmartHandleJobRequest.build(JobId=" "), "JobId", "empty"),
]


@pytest.mark.parametrize(
    ("attempt", "field", "rule"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_an_invalid_request_names_the_field_and_the_rule(
    attempt: Callable[[], object], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        attempt()
    problems = [(problem.field, problem.rule) for problem in caught.value.problems]
    assert (field, rule) in problems
    # One broken rule gives one problem: no echo of the same fault under another name.
    assert len(problems) == 1, problems
    assert field in str(caught.value)


def test_the_table_covers_both_services_broadly() -> None:
    assert len(CASES) >= 15
    assert len({rule for *_, rule in CASES}) >= 20


def test_every_problem_of_a_request_is_reported_at_once() -> None:
    data = copy.deepcopy(MERGE)
    data.update(ProjectName="", AlignmentIndex=9)
    data["Targets"][0]["Audio"]["TranscodeAudio"]["Channel"] = 0
    with pytest.raises(InvalidRequestError) as caught:
        CreateMediaConvertTaskRequest.build(**data)
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"ProjectName", "AlignmentIndex", f"{TRANSCODE}.Channel"}
    assert caught.value.operation == "CreateMediaConvertTask"


def test_the_base_payloads_are_valid() -> None:
    assert CreateMediaConvertTaskRequest.build(**MERGE).is_merge
    assert json.loads(SubmitAudioProduceJobRequest.build(**TTS).to_query()["OutputConfig"])["bucket"]

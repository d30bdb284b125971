from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from shared.errors import InvalidRequestError
from shared.jobs.model import JobRecord, JobType
from shared.pipeline.inputs import MergeEngine, parse_job_input
from shared.pipeline.keys import output_keys, step_outputs, step_targets
from shared.pipeline.plans import (
    FiletransPlan,
    ImmMergePlan,
    OssConcatPlan,
    SyncPlan,
    choose_merge_engine,
    plan_convert,
    plan_merge,
    plan_normalize,
    plan_speech,
    plan_transcription,
    preflight,
)
from shared.pipeline.settings import PipelineSettings

JOB_ID = "j7ydecbtyzz0000000000000000"
SETTINGS = PipelineSettings()
IMM_SETTINGS = PipelineSettings(imm_project="audio-project")
URL = "https://audiochain.oss.example/work/x.flac?Signature=s"


def job(job_type: JobType, data: dict[str, Any]) -> JobRecord:
    job_input = parse_job_input(job_type, data).model_dump(mode="json", by_alias=True, exclude_unset=True)
    return JobRecord(
        id=JOB_ID,
        type=job_type,
        created_at=datetime(2025, 1, 15, tzinfo=timezone.utc),
        idempotency_key="k",
        input_digest="d",
        input=job_input,
    )


UPLOAD = job(
    JobType.TRANSCRIBE_UPLOAD,
    {"bucket": "audiochain", "key": "inbox/talks/a.wav", "relative_key": "talks/a.wav"},
)


def merge_input(clips: list[dict[str, Any]], **extra: Any) -> Any:
    return parse_job_input("merge", {"clips": clips, "params": {"f": "mp3", "ar": 44100}, **extra})


def test_normalising_writes_flac_16k_mono_16_bit_to_the_jobs_work_folder_and_notifies() -> None:
    plan = plan_normalize(UPLOAD, SETTINGS)
    assert plan.source_key == "inbox/talks/a.wav"
    assert plan.target_key == f"work/{JOB_ID}/normalized.flac"
    head, destination = plan.request.to_process().split("|")
    assert head == "audio/convert,f_flac,ar_16000,ac_1,adepth_16"
    assert destination.endswith("/notify,topic_YXVkaW9jaGFpbi1waXBlbGluZQ")  # audiochain-pipeline
    assert step_targets(UPLOAD, 0, SETTINGS) == (plan.target_key,)


def test_a_convert_job_keeps_the_callers_parameters() -> None:
    record = job(
        JobType.CONVERT, {"source": "music/a.wav", "params": {"f": "opus", "ab": 96000, "ar": 48000}}
    )
    plan = plan_convert(record, SETTINGS)
    assert plan.request.to_process().startswith("audio/convert,f_opus,ab_96000,ar_48000|")
    assert plan.target_key == f"outputs/{JOB_ID}/a.opus"
    assert step_outputs(record, 0, SETTINGS) == {"audio": plan.target_key}


@pytest.mark.parametrize(
    ("clips", "engine", "expected"),
    [
        ([{"key": "a.mp3", "t": 500}, {"key": "b.mp3"}], "auto", MergeEngine.OSS),
        ([{"key": f"{i}.mp3"} for i in range(12)], "auto", MergeEngine.IMM),
        ([{"key": "a.mp3", "t": 500}, {"key": "b.mp3", "ss": 10}], "auto", MergeEngine.IMM),
        ([{"key": "a.mp3"}, {"key": "b.mp3"}], "imm", MergeEngine.IMM),
    ],
)
def test_merging_uses_oss_concat_when_it_can_and_imm_otherwise(
    clips: list[dict[str, Any]], engine: str, expected: MergeEngine
) -> None:
    assert choose_merge_engine(merge_input(clips, engine=engine), imm_available=True) is expected


@pytest.mark.parametrize(
    ("clips", "extra", "imm", "rule"),
    [
        ([{"key": f"{i}.mp3"} for i in range(12)], {"engine": "oss"}, True, "concat_unsupported"),
        ([{"key": f"{i}.mp3"} for i in range(12)], {}, False, "imm_unavailable"),
        (
            [{"key": "a.mp3"}, {"key": "b.mp3"}],
            {"engine": "imm", "params": {"f": "mp3", "t": 100}},
            True,
            "imm_unsupported",
        ),
    ],
)
def test_a_merge_no_engine_can_run_is_refused_on_the_engine_field(
    clips: list[dict[str, Any]], extra: dict[str, Any], imm: bool, rule: str
) -> None:
    request = merge_input(clips, **extra)
    with pytest.raises(InvalidRequestError) as caught:
        choose_merge_engine(request, imm_available=imm)
    assert (caught.value.field, caught.value.rule) == ("engine", rule)


TRIMMED_TWICE_FIRST: list[dict[str, Any]] = [
    {"key": "a.mp3", "t": 500},
    {"key": "b.mp3", "ss": 100},
    {"key": "c.mp3"},
]


def test_a_merge_whose_concat_order_depends_on_the_reading_of_pre_goes_to_imm_when_it_can() -> None:
    assert choose_merge_engine(merge_input(TRIMMED_TWICE_FIRST), imm_available=True) is MergeEngine.IMM
    # Without IMM (or when asked for OSS) concat still runs it, by seed-notes' reading of the table.
    assert choose_merge_engine(merge_input(TRIMMED_TWICE_FIRST), imm_available=False) is MergeEngine.OSS
    asked = merge_input(TRIMMED_TWICE_FIRST, engine="oss")
    assert choose_merge_engine(asked, imm_available=True) is MergeEngine.OSS
    # One trimmed clip before the first whole one is a single /pre: no doubt, concat it is.
    one_before = merge_input(TRIMMED_TWICE_FIRST[1:])
    assert choose_merge_engine(one_before, imm_available=True) is MergeEngine.OSS


def test_an_oss_merge_posts_to_an_untrimmed_clip_in_order() -> None:
    record = job(
        JobType.MERGE,
        {"clips": [{"key": "intro.mp3", "t": 5000}, {"key": "talk.mp3"}], "params": {"f": "mp3"}},
    )
    plan = plan_merge(record, SETTINGS)
    assert isinstance(plan, OssConcatPlan)
    wire = plan.request.to_wire()
    assert wire.source_key == "talk.mp3"
    assert wire.process.startswith("audio/concat,f_mp3/pre,o_aW50cm8ubXAz,t_5000|")
    assert plan.target_key == f"outputs/{JOB_ID}/merged.mp3"


def test_an_imm_merge_lists_sources_in_order_with_trims_in_seconds() -> None:
    clips = [{"key": "a.mp3", "ss": 1500}, {"key": "b.mp3", "t": 2000}]
    record = job(JobType.MERGE, {"clips": clips, "params": {"f": "aac", "ab": 96000, "ac": 2}, "align": 1})
    plan = plan_merge(record, IMM_SETTINGS)
    assert isinstance(plan, ImmMergePlan)
    query = plan.request.to_query()
    assert json.loads(query["Sources"]) == [
        {"StartTime": 1.5, "URI": "oss://audiochain/a.mp3"},
        {"Duration": 2.0, "URI": "oss://audiochain/b.mp3"},
    ]
    assert json.loads(query["Targets"]) == [
        {
            "Audio": {"TranscodeAudio": {"Bitrate": 96000, "Channel": 2, "Codec": "aac"}},
            "Container": "aac",
            "URI": f"oss://audiochain/outputs/{JOB_ID}/merged.aac",
        }
    ]
    assert query["AlignmentIndex"] == "1"
    assert json.loads(query["Notification"]) == {"MNS": {"TopicName": "audiochain-pipeline"}}
    assert json.loads(query["UserData"]) == {"job_id": JOB_ID}


def test_speech_is_written_to_the_job_folder_and_calls_back_with_the_job_id() -> None:
    record = job(
        JobType.SPEECH, {"text": "Hello there.", "voice": "zhitian_emo", "format": "wav", "volume": 70}
    )
    plan = plan_speech(record, SETTINGS)
    query = plan.request.to_query()
    assert plan.target_key == f"outputs/{JOB_ID}/speech.wav"
    assert json.loads(query["OutputConfig"]) == {"bucket": "audiochain", "object": f"outputs/{JOB_ID}/speech"}
    assert json.loads(query["EditingConfig"])["volume"] == 70
    assert json.loads(query["UserData"]) == {"NotifyAddress": "audiochain-pipeline", "job_id": JOB_ID}
    assert query["Overwrite"] == "True"


def test_transcription_uses_filetrans_with_word_timings_by_default() -> None:
    plan = plan_transcription(UPLOAD, 5 * 1024 * 1024, URL, SETTINGS)
    assert isinstance(plan, FiletransPlan)
    body = plan.request.to_body()
    assert body["input"]["file_url"] == URL
    assert body["parameters"]["enable_words"] is True


def test_small_audio_goes_to_the_synchronous_model_below_the_threshold() -> None:
    settings = PipelineSettings(sync_asr_max_bytes=1_000_000)
    assert isinstance(plan_transcription(UPLOAD, 999_999, URL, settings), SyncPlan)
    assert isinstance(plan_transcription(UPLOAD, 1_000_001, URL, settings), FiletransPlan)
    assert isinstance(plan_transcription(UPLOAD, 0, URL, settings), FiletransPlan)


def test_an_api_job_names_its_mode_and_language() -> None:
    sync = job(JobType.TRANSCRIBE, {"source": "a.wav", "mode": "sync", "language": "en", "enable_itn": True})
    plan = plan_transcription(sync, 50_000, URL, SETTINGS)
    assert isinstance(plan, SyncPlan)
    assert plan.request.to_body()["parameters"]["asr_options"] == {"enable_itn": True, "language": "en"}
    with pytest.raises(InvalidRequestError) as caught:
        plan_transcription(sync, 11 * 1024 * 1024, URL, SETTINGS)
    assert (caught.value.field, caught.value.rule) == ("mode", "sync_too_large")


def test_word_timings_are_left_out_for_a_language_without_them() -> None:
    arabic = job(JobType.TRANSCRIBE, {"source": "a.wav", "language": "ar"})
    plan = plan_transcription(arabic, 100, URL, SETTINGS)
    assert isinstance(plan, FiletransPlan)
    assert plan.request.to_body()["parameters"] == {"language": "ar", "enable_itn": False, "channel_id": [0]}


def test_output_keys_mirror_the_inbox_relative_key() -> None:
    keys = output_keys(UPLOAD, SETTINGS)
    assert keys.json == "outputs/talks/a.wav/transcript.json"
    assert keys.srt == "outputs/talks/a.wav/transcript.srt"
    assert keys.as_dict()["vtt"] == "outputs/talks/a.wav/transcript.vtt"
    api = job(JobType.TRANSCRIBE, {"source": "music/a.wav"})
    assert output_keys(api, SETTINGS).txt == f"outputs/{JOB_ID}/transcript.txt"


def test_a_mirrored_key_too_long_for_oss_falls_back_to_the_job_id() -> None:
    relative = "x" * 1000 + ".wav"
    record = job(
        JobType.TRANSCRIBE_UPLOAD,
        {"bucket": "audiochain", "key": "inbox/" + relative, "relative_key": relative},
    )
    assert output_keys(record, SETTINGS).json == f"outputs/{JOB_ID}/transcript.json"


def test_preflight_refuses_what_planning_would_refuse_later() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        preflight(
            JobType.CONVERT,
            parse_job_input("convert", {"source": "a.wav", "params": {"f": "amr", "ar": 44100}}),
            SETTINGS,
        )
    assert caught.value.field == "params.ar"
    preflight(JobType.SPEECH, parse_job_input("speech", {"text": "hi"}), SETTINGS)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("media/会议 记录.m4a", "会议 记录.mp3"),
        ("media/take.2.final.wav", "take.2.final.mp3"),
        ("media/no-extension", "no-extension.mp3"),
        ("media/..", "converted.mp3"),
        ("media/.wav", "converted.mp3"),
        ("media/" + "é" * 300 + ".wav", "é" * 100 + ".mp3"),  # 200 bytes of UTF-8, cut between characters
    ],
)
def test_a_convert_output_is_named_after_its_source_inside_the_jobs_folder(source: str, name: str) -> None:
    record = job(JobType.CONVERT, {"source": source, "params": {"f": "mp3"}})
    assert plan_convert(record, SETTINGS).target_key == f"outputs/{JOB_ID}/{name}"

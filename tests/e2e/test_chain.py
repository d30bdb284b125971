"""The automatic chain end to end, driven only by triggers (and timer fires): uploads with an official SDK,
events delivered three times, notifications out of order, a notification lost."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable

import oss2
import pytest

from shared.jobs.model import JobState
from shared.transcripts.model import Transcript
from tests.e2e.conftest import (
    BUCKET,
    REPORT,
    WEATHER,
    Chain,
    as_text,
    assert_recognised,
    dump,
    step_attempts,
)
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET

Speech = Callable[[tuple[str, ...]], bytes]
SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+?)(?:\n\n|\n?$)", re.S)
VTT_CUE = re.compile(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n(.+?)(?:\n\n|\n?$)", re.S)
ONE_OF_EACH = {
    "convert": ("succeeded", 1),
    "transcribe": ("succeeded", 1),
    "publish_transcripts": ("succeeded", 1),
}


def seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def assert_cues_in_order(cues: list[tuple[str, str]]) -> None:
    assert cues, "no cues"
    times = [(seconds(begin), seconds(end)) for begin, end in cues]
    assert all(begin < end for begin, end in times), times
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(times)), times


@pytest.mark.sdk
def test_an_upload_made_with_oss2_reaches_a_transcript_through_the_triggers_alone(
    chain: Chain, speech: Speech
) -> None:
    bucket = oss2.Bucket(
        oss2.AuthV4(ACCESS_KEY_ID, ACCESS_KEY_SECRET), chain.cloud.endpoint, BUCKET, region="cn-hangzhou"
    )
    key = "inbox/sdk/weather report.wav"
    answer = bucket.put_object(key, speech(WEATHER), headers={"Content-Type": "audio/wav"})
    assert answer.status == 200

    job_id = chain.job_of(key, answer.etag)
    view = chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert step_attempts(view) == ONE_OF_EACH
    folder = "outputs/sdk/weather report.wav/"
    assert {fmt: view.outputs[fmt] for fmt in ("json", "srt", "vtt", "txt")} == {
        fmt: f"{folder}transcript.{fmt}" for fmt in ("json", "srt", "vtt", "txt")
    }
    text = bucket.get_object(folder + "transcript.txt").read().decode("utf-8")
    assert_recognised(as_text(WEATHER), text)
    document = Transcript.model_validate_json(bucket.get_object(folder + "transcript.json").read())
    assert document.model_dump(mode="json")["source"]["key"] == key
    srt = bucket.get_object(folder + "transcript.srt").read().decode("utf-8")
    cues = SRT_CUE.findall(srt)
    assert [int(number) for number, *_ in cues] == list(range(1, len(cues) + 1))
    assert_cues_in_order([(begin, end) for _, begin, end, _ in cues])
    assert_recognised(as_text(WEATHER), " ".join(cue_text for *_, cue_text in cues))
    vtt = bucket.get_object(folder + "transcript.vtt").read().decode("utf-8")
    assert vtt.startswith("WEBVTT\n\n")
    vtt_cues = VTT_CUE.findall(vtt)
    assert_cues_in_order([(begin, end) for begin, end, _ in vtt_cues])
    assert len(vtt_cues) == len(cues)
    results = chain.http.get(f"/v1/jobs/{job_id}/results").json()
    assert results["ready"] is True and results["transcript"]["language"] == "en"


def test_every_oss_event_and_notification_delivered_three_times_yields_one_task_per_step(
    chain: Chain, speech: Speech
) -> None:
    uploads = chain.capture_uploads()
    chain.capture_pipeline()
    chain.pause_notify()
    key = "inbox/thrice.wav"
    etag = chain.upload(key, speech(REPORT))
    (created,) = [event for event in uploads if event.record.key == key]
    chain.announce(created)
    chain.announce(created)  # the OSS trigger has now fired three times for one upload
    chain.settle()
    (notification,) = chain.notifications(1)
    job_id = chain.job_of(key, etag)
    assert [job.id for job in chain.jobs()] == [job_id]
    assert chain.convert_tasks() == 1

    chain.resume_notify()
    for _ in range(3):  # one burst: the deliveries may well run side by side
        chain.publish(notification)
    chain.settle()
    assert len(chain.notifications(4)) == 4  # the original, then the three copies on_notify received
    assert chain.transcription_tasks() == 1

    view = chain.drive([job_id])[job_id]
    assert view.state is JobState.SUCCEEDED, view.error
    assert step_attempts(view) == ONE_OF_EACH
    assert (chain.convert_tasks(), chain.transcription_tasks()) == (1, 1)
    assert [job.id for job in chain.jobs()] == [job_id]
    assert_recognised(as_text(REPORT), chain.text(view.outputs["txt"]))


def test_a_notification_delivered_after_later_ones_changes_nothing_and_the_jobs_still_succeed(
    chain: Chain, speech: Speech
) -> None:
    chain.capture_pipeline()
    chain.pause_notify()
    first_etag = chain.upload("inbox/first.wav", speech(WEATHER))
    chain.settle()
    second_etag = chain.upload("inbox/second.wav", speech(REPORT))
    chain.settle()
    first_note, second_note = chain.notifications(2)
    assert "inbox/first.wav" in first_note and "inbox/second.wav" in second_note
    first = chain.job_of("inbox/first.wav", first_etag)
    second = chain.job_of("inbox/second.wav", second_etag)

    chain.resume_notify()
    chain.publish(second_note)  # the later upload's notification first
    chain.settle()
    chain.publish(first_note)
    chain.settle()
    views = chain.drive([first, second])
    assert {view.state for view in views.values()} == {JobState.SUCCEEDED}
    counts = (chain.convert_tasks(), chain.transcription_tasks())
    assert counts == (2, 2)

    for stale in (first_note, second_note, first_note):  # long after both jobs moved on
        chain.publish(stale)
    chain.settle()
    assert {job_id: dump(chain.job(job_id)) for job_id in views} == {
        job_id: dump(view) for job_id, view in views.items()
    }
    assert (chain.convert_tasks(), chain.transcription_tasks()) == counts
    assert_recognised(as_text(WEATHER), chain.text("outputs/first.wav/transcript.txt"))
    assert_recognised(as_text(REPORT), chain.text("outputs/second.wav/transcript.txt"))


def test_a_dropped_conversion_notification_is_recovered_by_the_fetch_results_timer(
    chain: Chain, speech: Speech
) -> None:
    chain.capture_pipeline()
    chain.pause_notify()  # on_notify never hears of this conversion
    key = "inbox/lost.wav"
    job_id = chain.job_of(key, chain.upload(key, speech(WEATHER)))
    chain.notifications(1)
    chain.settle()
    waiting = chain.job(job_id)
    assert step_attempts(waiting)["convert"] == ("submitted", 1)

    view = chain.drive([job_id])[job_id]

    assert view.state is JobState.SUCCEEDED, view.error
    assert view.steps[0].result == {"detected_by": "sweep"}
    assert step_attempts(view) == ONE_OF_EACH
    assert (chain.convert_tasks(), chain.transcription_tasks()) == (1, 1)
    assert_recognised(as_text(WEATHER), chain.text(view.outputs["txt"]))
    completion = json.loads(chain.text(f"jobs/{job_id}/completion.json"))
    assert completion["job_id"] == job_id and completion["state"] == "succeeded"

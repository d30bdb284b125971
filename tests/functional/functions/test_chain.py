"""The automatic chain through the real handlers and localcloud: upload → on_upload → OSS conversion →
notification → on_notify → recognition → fetch_results → transcripts and a completion message."""

from __future__ import annotations

import json
import re

from localcloud.engines.wer import wer_report
from tests.functional.functions.conftest import DROVE, MAX_WER, REPORT, Chain, completion, spoken_wav


def assert_recognised(reference: str, text: str) -> None:
    report = wer_report(reference, text)
    assert report.wer < MAX_WER, f"WER {report.wer:.2f} for {text!r} (spoken: {reference!r})"


def test_an_upload_becomes_transcripts_and_a_completion_message_whatever_is_repeated(chain: Chain) -> None:
    event = chain.upload("inbox/talk.wav", spoken_wav(DROVE))
    answers = [chain.on_upload(event) for _ in range(3)]
    job_ids = {answer["accepted"][0]["job_id"] for answer in answers}
    assert len(job_ids) == 1
    (job_id,) = job_ids
    (notification,) = chain.take_notifications()
    assert chain.convert_tasks() == 1

    handled = [chain.on_notify(notification) for _ in range(3)]
    assert {(answer["status"], answer["job_id"]) for answer in handled} == {("handled", job_id)}
    assert chain.transcription_tasks() == 1

    with chain.api() as api:
        view = chain.sweep_until_final(api, [job_id])[job_id]
        results = api.get(f"/v1/jobs/{job_id}/results").json()
    assert view["state"] == "succeeded", view["error"]
    assert chain.transcription_tasks() == 1
    folder = "outputs/talk.wav/"
    assert view["outputs"]["txt"] == folder + "transcript.txt"
    assert_recognised(DROVE, chain.read_text(folder + "transcript.txt"))
    document = json.loads(chain.read_text(folder + "transcript.json"))
    assert document["source"] == {
        "bucket": chain.bucket,
        "key": "inbox/talk.wav",
        "etag": document["source"]["etag"],
    }
    assert document["channels"][0]["sentences"][0]["words"], "filetrans gives word timings"
    assert re.match(r"1\n00:00:\d\d,\d{3} --> 00:00:\d\d,\d{3}\n", chain.read_text(folder + "transcript.srt"))
    assert chain.read_text(folder + "transcript.vtt").startswith("WEBVTT\n")
    message = completion(chain, job_id)
    assert (message["type"], message["state"], message["job_type"]) == (
        "audiochain.job.finished",
        "succeeded",
        "transcribe_upload",
    )
    assert_recognised(DROVE, message["transcript"]["excerpt"])
    assert results["ready"] and results["transcript"]["language"] == "en"
    assert len([event for event in chain.completions if job_id in event.decode()]) == 1


def test_notifications_out_of_order_and_stale_ones_change_nothing_twice(chain: Chain) -> None:
    first = chain.on_upload(chain.upload("inbox/first.wav", spoken_wav(DROVE)))["accepted"][0]["job_id"]
    chain.settle()
    second = chain.on_upload(chain.upload("inbox/second.wav", spoken_wav(REPORT)))["accepted"][0]["job_id"]
    notifications = chain.take_notifications()
    assert len(notifications) == 2
    # The second job's notification first, then the first's, then both again once the jobs have moved on.
    for event in [*reversed(notifications), *notifications]:
        assert chain.on_notify(event)["status"] == "handled"
    with chain.api() as api:
        views = chain.sweep_until_final(api, [first, second])
    assert {view["state"] for view in views.values()} == {"succeeded"}
    assert chain.transcription_tasks() == 2
    for event in notifications:  # long after the end
        assert chain.on_notify(event)["job_state"] == "succeeded"
    assert chain.transcription_tasks() == 2
    assert_recognised(REPORT, chain.read_text("outputs/second.wav/transcript.txt"))
    assert_recognised(DROVE, chain.read_text("outputs/first.wav/transcript.txt"))


def test_a_dropped_notification_is_recovered_by_fetch_results(chain: Chain) -> None:
    job_id = chain.on_upload(chain.upload("inbox/lost.wav", spoken_wav(REPORT)))["accepted"][0]["job_id"]
    assert len(chain.take_notifications()) == 1  # and never delivered
    with chain.api() as api:
        view = chain.sweep_until_final(api, [job_id])[job_id]
    assert view["state"] == "succeeded"
    assert view["steps"][0]["result"] == {"detected_by": "sweep"}
    assert_recognised(REPORT, chain.read_text("outputs/lost.wav/transcript.txt"))
    assert completion(chain, job_id)["state"] == "succeeded"


def test_uploads_that_are_not_audio_for_the_chain_start_nothing(chain: Chain) -> None:
    event = chain.upload("inbox/notes.txt", b"not audio")
    answer = chain.on_upload(event)
    assert [item["reason"] for item in answer["ignored"]] == ["unsupported_suffix"]
    assert chain.take_notifications() == [] and chain.convert_tasks() == 0


def test_a_foreign_message_on_the_pipeline_topic_is_acknowledged(chain: Chain) -> None:
    chain.cloud.mns().publish(chain.pipeline_topic, '{"hello": "world"}')
    (event,) = chain.take_notifications()
    assert chain.on_notify(event)["status"] == "refused"

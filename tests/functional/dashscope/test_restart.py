"""Asynchronous tasks survive a localcloud restart: finished results stay, pending work resumes."""

from __future__ import annotations

from pathlib import Path

from localcloud.server import LocalCloud
from shared.clients.dashscope import DashScopeClient
from shared.ops.asr import FiletransRequest
from shared.ops.enums import DashScopeTaskStatus
from tests.functional.conftest import API_KEY, make_config
from tests.functional.dashscope.conftest import BUCKET, Speech, assert_recognised, upload

SERVICES = ("oss", "dashscope")


def test_a_finished_task_keeps_its_result_across_a_restart(tmp_path: Path, speech: Speech) -> None:
    config = make_config(tmp_path / "localcloud")
    request = FiletransRequest.for_file(f"oss://{BUCKET}/{speech.short.key}", enable_words=True)
    with LocalCloud(config, services=SERVICES) as before:
        upload(before, speech)
        with DashScopeClient(before.endpoint, API_KEY) as client:
            task_id = client.submit_filetrans(request).task_id
            assert before.tasks.wait_idle(60)
            finished = client.get_task(task_id)
            assert finished.transcription_url is not None
            original = client.download_transcription(finished.transcription_url)

    with LocalCloud(config, services=SERVICES) as after, DashScopeClient(after.endpoint, API_KEY) as client:
        status = client.get_task(task_id)
        assert status.status is DashScopeTaskStatus.SUCCEEDED
        assert status.output.end_time == finished.output.end_time
        assert status.transcription_url is not None and status.transcription_url.startswith(after.endpoint)
        assert client.download_transcription(status.transcription_url) == original
    assert_recognised(speech.short.text, original.text)


def test_a_pending_task_is_resumed_after_a_restart(tmp_path: Path, speech: Speech) -> None:
    data_dir = tmp_path / "localcloud"
    request = FiletransRequest.for_file(f"oss://{BUCKET}/{speech.short.key}")
    # A long start delay holds the task in PENDING; stopping localcloud does not wait it out.
    with LocalCloud(make_config(data_dir, task_start_delay=300.0), services=SERVICES) as before:
        upload(before, speech)
        with DashScopeClient(before.endpoint, API_KEY) as client:
            task_id = client.submit_filetrans(request).task_id
            pending = client.get_task(task_id)
    assert pending.status is DashScopeTaskStatus.PENDING
    assert pending.output.submit_time is not None and pending.output.scheduled_time is None

    with LocalCloud(make_config(data_dir), services=SERVICES) as after:
        assert after.tasks.wait_idle(60)
        with DashScopeClient(after.endpoint, API_KEY) as client:
            status = client.get_task(task_id)
            assert status.status is DashScopeTaskStatus.SUCCEEDED
            assert status.output.submit_time == pending.output.submit_time
            assert status.transcription_url is not None
            result = client.download_transcription(status.transcription_url)
    assert_recognised(speech.short.text, result.text)

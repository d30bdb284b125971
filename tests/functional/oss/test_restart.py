"""A restart loses nothing: objects, uploads in progress, tasks that never ran, messages never published."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import oss2
import pytest

from localcloud.engines.media import probe
from localcloud.engines.testaudio import write_tone
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.auth import Credentials
from shared.clients.oss import OssClient
from shared.encoding import b64url_encode
from shared.ops.enums import ImmTaskStatus
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config
from tests.functional.oss.conftest import REGION
from tests.functional.oss.notifications import existing_queue, received_notifications, subscribe_queue

pytestmark = pytest.mark.sdk  # the MNS queue is created with the official MNS SDK

_SERVICES = ("oss", "mns")


def _client(cloud: LocalCloud) -> OssClient:
    return OssClient(cloud.endpoint, REGION, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET))


def _oss(cloud: LocalCloud) -> OssService:
    service: OssService = cloud.oss()
    return service


def test_objects_and_an_upload_in_progress_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path / "lc")
    with LocalCloud(config, services=_SERVICES) as first:
        _oss(first).store.create_bucket("keep")
        with _client(first) as oss:
            put = oss.put_object("keep", "a/b.txt", b"kept", metadata={"lang": "en"})
        bucket = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), first.endpoint, "keep")
        upload_id = bucket.init_multipart_upload("parts.bin").upload_id
        part = bucket.upload_part("parts.bin", upload_id, 1, b"part one")

    with LocalCloud(config, services=_SERVICES) as second:
        with _client(second) as oss:
            info = oss.head_object("keep", "a/b.txt")
            body = oss.get_object_bytes("keep", "a/b.txt")
        bucket = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), second.endpoint, "keep")
        parts = bucket.list_parts("parts.bin", upload_id).parts
        bucket.complete_multipart_upload("parts.bin", upload_id, [oss2.models.PartInfo(1, part.etag)])
        joined = bucket.get_object("parts.bin").read()

    assert (body, info.etag) == (b"kept", put.etag)
    assert {name.lower(): value for name, value in info.metadata.items()} == {"lang": "en"}
    assert [(p.part_number, p.etag) for p in parts] == [(1, part.etag)]
    assert joined == b"part one"


def _convert(cloud: LocalCloud, tmp_path: Path) -> str:
    """Upload a tone and submit audio/convert with a notification; returns the TaskId."""
    _oss(cloud).store.create_bucket("media")
    write_tone(tmp_path / "tone.wav", seconds=1.0, sample_rate=16000, frequency=600)
    process = (
        f"audio/convert,f_opus,ar_48000,ac_1|sys/saveas,b_{b64url_encode('media')},o_{b64url_encode('out.{autoext}')}"
        f"/notify,topic_{b64url_encode('Restarts')}"
    )
    with _client(cloud) as oss:
        oss.put_object("media", "tone.wav", (tmp_path / "tone.wav").read_bytes())
        return oss.async_process("media", "tone.wav", process).task_id


def test_a_task_accepted_but_never_run_runs_and_notifies_when_localcloud_starts_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path / "lc")
    with LocalCloud(config, services=_SERVICES) as first:
        subscribe_queue(first, "Restarts", "restart-results")
        submit = first.tasks.submit

        def drop_oss_tasks(name: str, work: Callable[[], None], *, delay: float = 0.0) -> None:
            if not name.startswith("oss.async "):  # the process "dies" before the task runs
                submit(name, work, delay=delay)

        monkeypatch.setattr(first.tasks, "submit", drop_oss_tasks)
        task_id = _convert(first, tmp_path)
        interrupted = _oss(first).get_async_task(task_id)

    with LocalCloud(config, services=_SERVICES) as second:
        notes = received_notifications(second, existing_queue(second, "restart-results"))
        finished = _oss(second).get_async_task(task_id)
        output = probe(_oss(second).store.head("media", "out.opus").path)

    assert interrupted is not None and interrupted.status is ImmTaskStatus.RUNNING
    assert finished is not None and finished.status is ImmTaskStatus.SUCCEEDED
    assert (output.codec, output.sample_rate, output.channels) == ("opus", 48000, 1)
    assert notes[task_id].succeeded


def test_a_finished_task_whose_message_was_never_published_is_published_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path / "lc")
    with LocalCloud(config, services=_SERVICES) as first:
        subscribe_queue(first, "Restarts", "restart-results")
        processor = _oss(first).processor
        monkeypatch.setattr(
            processor.lifecycle, "notify", lambda task_id: None
        )  # "dies" right after finishing
        task_id = _convert(first, tmp_path)
        first.tasks.wait_idle(30)
        unsent = _oss(first).get_async_task(task_id)

    with LocalCloud(config, services=_SERVICES) as second:
        notes = received_notifications(second, existing_queue(second, "restart-results"))
        sent = _oss(second).get_async_task(task_id)

    assert unsent is not None and (unsent.status, unsent.notified) == (ImmTaskStatus.SUCCEEDED, False)
    assert sent is not None and sent.notified
    assert notes[task_id].succeeded


def test_a_task_still_queued_when_localcloud_stops_is_left_for_the_next_start(tmp_path: Path) -> None:
    config = make_config(tmp_path / "lc", workers=1)
    first = LocalCloud(config, services=_SERVICES).start()
    release, busy = threading.Event(), threading.Event()

    def hold_the_only_worker() -> None:
        busy.set()
        release.wait(30)

    first.tasks.submit("busy worker", hold_the_only_worker)
    assert busy.wait(10)
    subscribe_queue(first, "Restarts", "restart-results")
    task_id = _convert(first, tmp_path)  # queued behind the busy worker
    stopping = threading.Thread(target=first.stop)
    stopping.start()
    for _ in range(3000):  # stop() has begun once the runner says so
        if first.tasks.stopping:
            break
        release.wait(0.01)
    release.set()  # the running work ends; what is still queued must not start now
    stopping.join(30)
    assert not stopping.is_alive()

    second = LocalCloud(config, services=_SERVICES)
    left = _oss(second).get_async_task(task_id)
    unwritten = not _oss(second).store.exists("media", "out.opus")
    with second:
        notes = received_notifications(second, existing_queue(second, "restart-results"))
        finished = _oss(second).get_async_task(task_id)

    assert left is not None and left.status is ImmTaskStatus.RUNNING and unwritten
    assert finished is not None and finished.status is ImmTaskStatus.SUCCEEDED
    assert notes[task_id].succeeded


def test_a_body_left_half_written_by_a_crash_is_removed_on_the_next_start(tmp_path: Path) -> None:
    config = make_config(tmp_path / "lc")
    with LocalCloud(config, services=("oss",)) as first:
        scratch = first.state.new_temp_path()
    scratch.write_bytes(b"the first 4 MiB of an upload the process died in")  # what a crash leaves

    with LocalCloud(config, services=("oss",)) as second:
        leftovers = list(second.state.tmp_dir.iterdir())

    assert leftovers == []


def test_the_buckets_answered_from_memory_are_the_ones_in_the_state_across_a_restart(tmp_path: Path) -> None:
    """Bucket existence is kept in memory (no query per request): it follows create, delete and restart."""
    config = make_config(tmp_path / "cloud")
    with LocalCloud(config, services=("oss",)) as cloud:
        client = _client(cloud)
        assert not client.bucket_exists("kept") and not client.bucket_exists("dropped")
        client.create_bucket("kept")
        client.create_bucket("dropped")
        _oss(cloud).store.delete_bucket("dropped")
        assert client.bucket_exists("kept") and not client.bucket_exists("dropped")
        client.close()
    with LocalCloud(config, services=("oss",)) as cloud:
        client = _client(cloud)
        assert client.bucket_exists("kept") and not client.bucket_exists("dropped")
        client.close()

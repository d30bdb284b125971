"""audiochain's own ImmClient against localcloud: containers, trimming, object events, restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest

from localcloud.engines.probe import probe
from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.mns.topics import SubscriptionAttributes
from shared.auth import Credentials
from shared.clients.imm import ImmClient
from shared.events.notifications import TaskNotification, parse_notification
from shared.ops.enums import ImmTaskStatus
from shared.ops.imm import CreateMediaConvertTaskRequest
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config
from tests.functional.imm.conftest import BUCKET, IMM_SERVICES, PutTone, make_tone_uploader

TOLERANCE_MS = 50.0


def convert(
    cloud: LocalCloud, client: ImmClient, sources: list[dict[str, Any]], target: dict[str, Any], **extra: Any
) -> str:
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="audiochain", Sources=sources, Targets=[target], **extra
    )
    task_id = client.create_media_convert_task(request).task_id
    assert cloud.tasks.wait_idle(30)
    return task_id


class ContainerCase(NamedTuple):
    container: str
    transcode_audio: dict[str, Any]
    codec: str  # what probe reports for the written file
    sample_rate: int
    channels: int


CONTAINER_CASES = [
    ContainerCase("wav", {"Codec": "pcm_s16le", "SampleRate": 22050, "Channel": 1}, "pcm_s16le", 22050, 1),
    ContainerCase("m4a", {"Codec": "aac", "Bitrate": 64000}, "aac", 44100, 2),
    ContainerCase("flac", {"Codec": "flac", "BitsPerSample": 24}, "flac", 44100, 2),
    ContainerCase("opus", {"Codec": "opus", "SampleRate": 48000}, "opus", 48000, 2),
    ContainerCase("ogg", {"Codec": "vorbis", "Channel": 2}, "vorbis", 44100, 2),
    ContainerCase("ac3", {"Codec": "ac3", "SampleRate": 48000, "Channel": 1}, "ac3", 48000, 1),
    ContainerCase("wma", {"Codec": "wmav2", "Bitrate": 96000}, "wmav2", 44100, 2),
]


@pytest.mark.parametrize("case", CONTAINER_CASES, ids=[case.container for case in CONTAINER_CASES])
def test_each_audio_container_is_written_with_its_codec_rate_and_channels(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone, case: ContainerCase
) -> None:
    folder = f"containers/{case.container}"
    first = put_tone(f"{folder}/a.wav", seconds=1.0, sample_rate=44100, channels=2)
    second = put_tone(f"{folder}/b.flac", seconds=0.75, sample_rate=16000, channels=1)
    target = {
        "URI": f"oss://{BUCKET}/{folder}/merged.{{autoext}}",
        "Container": case.container,
        "Audio": {"TranscodeAudio": case.transcode_audio},
    }

    task_id = convert(imm_cloud, imm_client, [{"URI": first}, {"URI": second}], target)

    task = imm_client.get_task("audiochain", task_id)
    assert (task.status, task.code) == (ImmTaskStatus.SUCCEEDED, "")
    written = imm_cloud.oss().store.head(BUCKET, f"{folder}/merged.{case.container}")
    info = probe(written.path)
    assert (info.codec, info.sample_rate, info.channels) == (case.codec, case.sample_rate, case.channels)
    assert info.duration_ms == pytest.approx(1750.0, abs=TOLERANCE_MS)


@pytest.mark.parametrize(("container", "codec"), [("oga", "flac"), ("amr", "amrnb"), ("wav", "pcm_s16le")])
def test_one_source_without_transcode_settings_is_reencoded_with_everything_inherited(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone, container: str, codec: str
) -> None:
    source = put_tone(f"inherit-all/{container}/in.wav", seconds=1.0, sample_rate=8000, channels=1)
    target = {"URI": f"oss://{BUCKET}/inherit-all/{container}/out", "Container": container}

    convert(imm_cloud, imm_client, [{"URI": source}], target)

    # No extension in the URI: IMM appends the container's.
    info = probe(imm_cloud.oss().store.head(BUCKET, f"inherit-all/{container}/out.{container}").path)
    assert (info.codec, info.sample_rate, info.channels) == (codec, 8000, 1)
    assert info.duration_ms == pytest.approx(1000.0, abs=TOLERANCE_MS)


def test_a_mono_vorbis_output_fails_with_unsupported_by_local_engine(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone
) -> None:
    source = put_tone("vorbis-mono/in.wav", seconds=0.5, channels=1)
    target = {"URI": f"oss://{BUCKET}/vorbis-mono/out.ogg", "Container": "ogg"}

    task_id = convert(imm_cloud, imm_client, [{"URI": source}], target)

    task = imm_client.get_task("audiochain", task_id)
    assert (task.status, task.code) == (ImmTaskStatus.FAILED, "UnsupportedByLocalEngine")
    assert not imm_cloud.oss().store.exists(BUCKET, "vorbis-mono/out.ogg")


def test_source_start_time_and_duration_trim_each_clip(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone
) -> None:
    first = put_tone("trim/a.wav", seconds=3.0)
    second = put_tone("trim/b.wav", seconds=2.0)
    sources = [{"URI": first, "StartTime": 1.0, "Duration": 1.5}, {"URI": second, "StartTime": 0.5}]
    target = {
        "URI": f"oss://{BUCKET}/trim/out.flac",
        "Container": "flac",
        "Audio": {"TranscodeAudio": {"Codec": "flac"}},
    }

    convert(imm_cloud, imm_client, sources, target)

    info = probe(imm_cloud.oss().store.head(BUCKET, "trim/out.flac").path)
    assert info.duration_ms == pytest.approx(3000.0, abs=TOLERANCE_MS)


def test_the_alignment_index_source_gives_the_inherited_rate_and_channels(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone
) -> None:
    first = put_tone("align/a.wav", seconds=0.5, sample_rate=44100, channels=2)
    second = put_tone("align/b.wav", seconds=0.5, sample_rate=24000, channels=1)
    target = {
        "URI": f"oss://{BUCKET}/align/out.aac",
        "Container": "aac",
        "Audio": {"TranscodeAudio": {"Codec": "aac"}},
    }

    convert(imm_cloud, imm_client, [{"URI": first}, {"URI": second}], target, AlignmentIndex=1)

    info = probe(imm_cloud.oss().store.head(BUCKET, "align/out.aac").path)
    assert (info.sample_rate, info.channels) == (24000, 1)


def test_an_inherited_rate_the_format_cannot_take_fails_the_task_with_the_engines_code(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone
) -> None:
    source = put_tone("inherited/a.wav", seconds=0.5, sample_rate=44100, channels=1)
    target = {
        "URI": f"oss://{BUCKET}/inherited/out.opus",
        "Container": "opus",
        "Audio": {"TranscodeAudio": {"Codec": "opus"}},
    }

    task_id = convert(imm_cloud, imm_client, [{"URI": source}], target)

    task = imm_client.get_task("audiochain", task_id)
    assert (task.status, task.code) == (ImmTaskStatus.FAILED, "InvalidParameter.Inherited")
    assert "TranscodeAudio.SampleRate" in (task.message or "")


def test_every_written_target_is_announced_to_object_created_listeners(
    imm_cloud: LocalCloud, imm_client: ImmClient, put_tone: PutTone
) -> None:
    seen: list[ObjectCreated] = []
    store = imm_cloud.oss().store
    store.add_listener(seen.append)
    source = put_tone("events/a.wav", seconds=0.3)
    targets = [
        {
            "URI": f"oss://{BUCKET}/events/out.mp3",
            "Container": "mp3",
            "Audio": {"TranscodeAudio": {"Codec": "mp3"}},
        },
        {"URI": f"oss://{BUCKET}/events/out.flac", "Container": "flac"},
    ]
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="audiochain", Sources=[{"URI": source}], Targets=targets
    )

    imm_client.create_media_convert_task(request)
    imm_cloud.tasks.wait_idle(30)

    announced = [
        (event.event_name, event.record.key) for event in seen if event.record.key.startswith("events/out")
    ]
    assert announced == [
        ("ObjectCreated:PutObject", "events/out.mp3"),
        ("ObjectCreated:PutObject", "events/out.flac"),
    ]


def test_a_task_left_unfinished_by_a_stop_runs_when_localcloud_starts_again(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="audiochain",
        Sources=[{"URI": f"oss://{BUCKET}/restart/in.wav"}],
        Targets=[{"URI": f"oss://{BUCKET}/restart/out.mp3", "Container": "mp3"}],
    )
    with LocalCloud(make_config(data_dir), services=IMM_SERVICES) as first:
        store = first.oss().store
        store.create_bucket(BUCKET)
        make_tone_uploader(store, tmp_path)("restart/in.wav", seconds=0.5)
        # Simulate a crash before the worker picked the task up: it is persisted but never run.
        first.tasks.submit = lambda *args, **kwargs: None  # type: ignore[method-assign]
        with ImmClient(first.endpoint, credentials) as client:
            task_id = client.create_media_convert_task(request).task_id
            assert client.get_task("audiochain", task_id).status is ImmTaskStatus.RUNNING

    with LocalCloud(make_config(data_dir), services=IMM_SERVICES) as second:
        assert second.tasks.wait_idle(30)
        with ImmClient(second.endpoint, credentials) as client:
            task = client.get_task("audiochain", task_id)
        assert task.status is ImmTaskStatus.SUCCEEDED
        assert probe(second.oss().store.head(BUCKET, "restart/out.mp3").path).codec == "mp3float"


def test_a_finished_task_whose_notification_was_never_published_publishes_it_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "state"
    credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    request = CreateMediaConvertTaskRequest.build(
        ProjectName="audiochain",
        Sources=[{"URI": f"oss://{BUCKET}/restart/in.wav"}],
        Targets=[{"URI": f"oss://{BUCKET}/restart/out.mp3", "Container": "mp3"}],
        Notification={"MNS": {"TopicName": "imm-restarts"}},
    )
    with LocalCloud(make_config(data_dir), services=IMM_SERVICES) as first:
        store = first.oss().store
        store.create_bucket(BUCKET)
        make_tone_uploader(store, tmp_path)("restart/in.wav", seconds=0.5)
        mns = first.mns()
        mns.ensure_topic("imm-restarts")
        mns.ensure_queue("imm-restarts-done")
        endpoint = f"acs:mns:{first.config.region}:{first.config.account_id}:queues/imm-restarts-done"
        mns.topics.subscribe(
            "imm-restarts", "done", SubscriptionAttributes(endpoint, "BACKOFF_RETRY", "SIMPLIFIED")
        )
        imm = first.imm()
        monkeypatch.setattr(imm.lifecycle, "notify", lambda task_id: None)  # "dies" right after finishing
        with ImmClient(first.endpoint, credentials) as client:
            task_id = client.create_media_convert_task(request).task_id
            assert first.tasks.wait_idle(30)
            finished = client.get_task("audiochain", task_id).status

    with LocalCloud(make_config(data_dir), services=IMM_SERVICES) as second:
        assert second.tasks.wait_idle(30)
        assert second.mns().wait_deliveries(10)
        waiting = second.mns().queues.get("imm-restarts-done").active_messages
        message = second.mns().receive("imm-restarts-done", wait_seconds=5)

    assert finished is ImmTaskStatus.SUCCEEDED
    assert message is not None
    notification = parse_notification(message.body)
    assert isinstance(notification, TaskNotification)
    assert (notification.task_id, notification.succeeded) == (task_id, True)
    assert waiting == 1

"""POST ?x-oss-async-process: what is refused at once (with the parameter and rule named), what fails as
a task (with the engine's code, in the notification too), and what a finished task leaves behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest
from mns.queue import Queue

from localcloud.engines.media import probe
from localcloud.engines.testaudio import write_tone
from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.auth import Credentials, OssV4Auth
from shared.clients.oss import OssClient
from shared.encoding import b64url_encode
from shared.errors import ServiceResponseError
from shared.ops.enums import ImmTaskStatus
from shared.ops.oss import AudioConcatRequest
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.audio_checks import decoded_pcm, dominant_frequency
from tests.functional.oss.conftest import REGION, Harness
from tests.functional.oss.notifications import received_notifications, subscribe_queue

pytestmark = pytest.mark.sdk  # the notification queue is subscribed with the official MNS SDK

TOPIC = "ConvertDone"


@pytest.fixture(scope="module")
def tone_wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("audio") / "stereo.wav"
    write_tone(path, seconds=1.0, sample_rate=44100, channels=2, frequency=440)
    return path.read_bytes()


@pytest.fixture(scope="module")
def queue(oss_cloud: LocalCloud) -> Queue:
    return subscribe_queue(oss_cloud, TOPIC, "convert-done")


@pytest.fixture
def source(client: OssClient, bucket: str, tone_wav: bytes) -> str:
    client.put_object(bucket, "in/stereo.wav", tone_wav)
    return "in/stereo.wav"


@pytest.fixture
def signed(oss_cloud: LocalCloud) -> Iterator[httpx.Client]:
    auth = OssV4Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        yield http


def _saveas(bucket: str, key: str) -> str:
    return f"sys/saveas,b_{b64url_encode(bucket)},o_{b64url_encode(key)}"


def _notify(topic: str = TOPIC) -> str:
    return f"/notify,topic_{b64url_encode(topic)}"


def _refusal(error: pytest.ExceptionInfo[ServiceResponseError]) -> tuple[int | None, str, str]:
    return error.value.status, error.value.code, error.value.message


def test_a_process_string_that_breaks_a_rule_is_invalid_argument_naming_the_parameter_and_rule(
    client: OssClient, bucket: str, source: str
) -> None:
    with pytest.raises(ServiceResponseError) as rate:
        client.async_process(bucket, source, f"audio/convert,f_mp3,ar_96000|{_saveas(bucket, 'o.mp3')}")
    with pytest.raises(ServiceResponseError) as both:
        client.async_process(bucket, source, f"audio/convert,f_aac,ab_96000,aq_50|{_saveas(bucket, 'o.aac')}")
    with pytest.raises(ServiceResponseError) as no_saveas:
        client.async_process(bucket, source, "audio/convert,f_mp3")

    status, code, message = _refusal(rate)
    assert (status, code) == (400, "InvalidArgument")
    assert "ar (format_sample_rate)" in message and "96000" in message
    assert "aq (mutually_exclusive)" in _refusal(both)[2]
    assert "sys/saveas (required)" in _refusal(no_saveas)[2]


def test_a_missing_source_object_is_no_such_key(client: OssClient, bucket: str) -> None:
    with pytest.raises(ServiceResponseError) as missing:
        client.async_process(bucket, "in/none.wav", f"audio/convert,f_mp3|{_saveas(bucket, 'o.mp3')}")

    assert _refusal(missing)[:2] == (404, "NoSuchKey")


def test_a_missing_concat_clip_is_no_such_key_and_shows_a_trailing_newline(
    client: OssClient, bucket: str, source: str
) -> None:
    clip = b64url_encode("pre1.mp3\n")  # as `echo pre1.mp3 | base64` writes it
    process = f"audio/concat,f_mp3,ar_44100,ac_1/pre,o_{clip}|{_saveas(bucket, 'o.mp3')}"
    client.put_object(bucket, "pre1.mp3", b"not the object the string names")

    with pytest.raises(ServiceResponseError) as missing:
        client.async_process(bucket, source, process)

    status, code, message = _refusal(missing)
    assert (status, code) == (404, "NoSuchKey")
    assert "pre[0].o" in message and "'pre1.mp3\\n'" in message and "newline" in message


def test_a_saveas_bucket_that_does_not_exist_is_no_such_bucket(
    client: OssClient, bucket: str, source: str
) -> None:
    with pytest.raises(ServiceResponseError) as missing:
        client.async_process(bucket, source, f"audio/convert,f_mp3|{_saveas('no-such-out', 'o.mp3')}")

    status, code, message = _refusal(missing)
    assert (status, code) == (404, "NoSuchBucket") and "sys/saveas.b" in message


def test_a_notify_topic_that_does_not_exist_in_mns_is_invalid_argument(
    client: OssClient, bucket: str, source: str
) -> None:
    with pytest.raises(ServiceResponseError) as missing:
        client.async_process(
            bucket, source, f"audio/convert,f_mp3|{_saveas(bucket, 'o.mp3')}{_notify('NoSuchTopic')}"
        )

    status, code, message = _refusal(missing)
    assert (
        (status, code) == (400, "InvalidArgument") and "notify.topic" in message and "NoSuchTopic" in message
    )


def test_a_form_encoded_body_is_accepted_and_a_body_without_the_field_is_refused(
    signed: httpx.Client, oss_cloud: LocalCloud, oss_service: OssService, bucket: str, source: str
) -> None:
    process = f"audio/convert,f_mp3,ar_22050,ac_1|{_saveas(bucket, 'form.{autoext}')}"
    form = "x-oss-async-process=" + quote(process, safe="")

    accepted = signed.post(
        f"/{bucket}/{source}?x-oss-async-process",
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    refused = signed.post(f"/{bucket}/{source}?x-oss-async-process", content=process.encode())
    oss_cloud.tasks.wait_idle(30)

    assert accepted.status_code == 200 and set(accepted.json()) == {"EventId", "RequestId", "TaskId"}
    assert accepted.headers["Content-Type"].startswith("application/json")
    assert accepted.headers["x-oss-request-id"] != accepted.json()["RequestId"]
    assert oss_service.store.exists(bucket, "form.mp3")
    document = ElementTree.fromstring(refused.content)
    assert refused.status_code == 400 and document.findtext("Code") == "InvalidArgument"
    assert "body (missing_prefix)" in (document.findtext("Message") or "")


def test_a_finished_task_writes_the_output_announces_it_and_notifies_success(
    harness: Harness, queue: Queue, bucket: str, source: str, created_events: list[ObjectCreated]
) -> None:
    process = f"audio/convert,f_mp3,ar_16000,ac_1|{_saveas(bucket, 'out/{autoext}/a.{autoext}')}{_notify()}"

    answer = harness.client.async_process(bucket, source, process)
    notes = received_notifications(harness.cloud, queue)

    task = harness.service.get_async_task(answer.task_id)
    written = harness.service.store.head(bucket, "out/mp3/a.mp3")
    assert task is not None and task.status is ImmTaskStatus.SUCCEEDED
    assert written.content_type == "audio/mpeg"
    assert [(e.event_name, e.record.key) for e in created_events][-1] == (
        "ObjectCreated:PutObject",
        "out/mp3/a.mp3",
    )
    note = notes[answer.task_id]
    assert note.envelope is not None
    assert (note.envelope.source, note.envelope.type) == ("acs.imm", "imm:Task:MediaConvert")
    account = harness.cloud.config.account_id
    assert note.envelope.subject == f"acs:imm:{REGION}:{account}:{bucket}/imm:Task:MediaConvert"
    assert (note.project_name, note.status) == (bucket, ImmTaskStatus.SUCCEEDED)
    assert note.target_keys() == [(bucket, "out/mp3/a.mp3")]


class Failure(NamedTuple):
    source_rate: int
    source_channels: int
    params: str
    code: str
    mentions: str


@pytest.mark.parametrize(
    "case",
    [
        Failure(44100, 2, "f_amr", "InvalidParameter.Inherited", "inherited"),  # AMR: 8/16 kHz mono only
        Failure(8000, 1, "f_mp3,ab_320000,abopt_2", "BitrateBelowTarget", "abopt=2"),  # a 128 kbit/s WAV
        Failure(44100, 2, "f_amr,ar_16000,ac_1", "UnsupportedByLocalEngine", "AMR-WB"),
    ],
    ids=lambda case: case.code,
)
def test_a_task_the_engine_cannot_do_fails_with_its_code_in_the_notification(
    harness: Harness, queue: Queue, bucket: str, tmp_path: Path, case: Failure
) -> None:
    write_tone(tmp_path / "in.wav", seconds=1.0, sample_rate=case.source_rate, channels=case.source_channels)
    harness.client.put_object(bucket, "in/tone.wav", (tmp_path / "in.wav").read_bytes())
    process = f"audio/convert,{case.params}|{_saveas(bucket, 'fail.{autoext}')}{_notify()}"

    answer = harness.client.async_process(bucket, "in/tone.wav", process)
    notes = received_notifications(harness.cloud, queue)

    note = notes[answer.task_id]
    message = note.message or ""
    assert note.failed and note.code == case.code
    assert case.mentions in message
    assert "blobs" not in message  # objects are named as oss:// URIs, never as local files
    assert case.code == "UnsupportedByLocalEngine" or f"oss://{bucket}/in/tone.wav" in message
    assert [key for key in ("fail.amr", "fail.mp3") if harness.service.store.exists(bucket, key)] == []


def test_our_client_submits_an_ordered_concat_and_the_clips_play_in_that_order(
    harness: Harness, bucket: str, tmp_path: Path
) -> None:
    for name, frequency in (("intro.wav", 300.0), ("talk.wav", 700.0)):
        write_tone(tmp_path / name, seconds=2.0, sample_rate=16000, frequency=frequency)
        harness.client.put_object(bucket, name, (tmp_path / name).read_bytes())
    request = AudioConcatRequest.build(
        clips=[{"object": "intro.wav", "t": 1000}, {"object": "talk.wav"}],
        params={"f": "flac", "ar": 16000, "ac": 1},
        saveas={"bucket": bucket, "object": "joined.{autoext}"},
    )

    answer = harness.client.submit_concat(bucket, request)
    harness.cloud.tasks.wait_idle(30)

    task = harness.service.get_async_task(answer.task_id)
    assert task is not None and task.status is ImmTaskStatus.SUCCEEDED, task
    joined = harness.service.store.head(bucket, "joined.flac").path
    assert probe(joined).duration_ms == pytest.approx(3000, abs=50)
    samples = decoded_pcm(joined)
    assert [dominant_frequency(samples, centre, [300.0, 700.0]) for centre in (500, 2000)] == [300.0, 700.0]

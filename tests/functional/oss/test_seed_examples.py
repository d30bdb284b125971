"""Every example of the audio/convert and audio/concat seeds, run through localcloud for real.

The REST examples are sent byte for byte with audiochain's OssClient; their base64 names were made with
`echo` and end in a newline, so the objects they read and write carry that newline too (seed-notes.md).
The SDK examples run with oss2 as the seeds write them (V1 `Auth` for convert, `ProviderAuthV4` with a
region for concat). Outputs are probed: codec, sample rate, channels and duration (±50 ms), and the
concat order is read back from the dominant tone of each stretch. Notifications arrive in an MNS queue.
"""

from __future__ import annotations

import array
import base64
from dataclasses import dataclass
from pathlib import Path

import oss2
import pytest
from mns.queue import Queue
from oss2.credentials import StaticCredentialsProvider

from localcloud.engines.media import AudioInfo, probe
from localcloud.engines.testaudio import write_tone
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.clients.oss import OssClient
from shared.events.notifications import TaskNotification
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.audio_checks import decoded_pcm, dominant_frequency
from tests.functional.oss.conftest import REGION, Harness
from tests.functional.oss.notifications import received_notifications, subscribe_queue

pytestmark = pytest.mark.sdk  # oss2 examples; the results queue is made with the MNS SDK

TOLERANCE_MS = 50
TONES = [300.0, 500.0, 700.0, 900.0, 1100.0]

CONVERT_MP3_TO_AAC = (
    "audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqcHJlZml4LnthdXRvZXh0fQo"
    "/notify,topic_QXVkaW9Db252ZXJ0"
)
CONVERT_WAV_TO_OPUS = (
    "audio/convert,f_opus,ab_96000,ar_48000,ac_2|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo"
    "/notify,topic_QXVkaW9Db252ZXJ0"
)
CONCAT_FIVE_CLIPS = (
    "audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2/pre,o_cHJlMS5tcDMK/pre,o_cHJlMi53YXYK,t_2000"
    "/sur,o_c3VyMS5hYWMK,ss_4000,t_10000/sur,o_c3VyMi53bWEK,ss_10000"
    "|sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQo/notify,topic_QXVkaW9Db252ZXJ0"
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Short generated sources: one tone per clip so the concat order can be heard back."""
    folder = tmp_path_factory.mktemp("seed-audio")
    specs = {
        "example.mp3": (15.0, 44100, 2, 440.0, "mp3"),
        "example.wav": (12.0, 16000, 1, 440.0, "wav"),
        "pre1.mp3": (12.0, 22050, 1, 300.0, "mp3"),
        "pre2.wav": (4.0, 16000, 1, 500.0, "wav"),
        "example.oga": (12.0, 24000, 1, 700.0, "oga"),
        "sur1.aac": (15.0, 22050, 1, 900.0, "aac"),
        "sur2.wma": (13.0, 22050, 2, 1100.0, "wma"),
        "src1.mp3": (3.0, 44100, 1, 300.0, "mp3"),
        "src2.mp3": (3.0, 44100, 1, 500.0, "mp3"),
    }
    paths = {}
    for name, (seconds, rate, channels, frequency, fmt) in specs.items():
        paths[name] = folder / name
        write_tone(
            paths[name], seconds=seconds, sample_rate=rate, channels=channels, frequency=frequency, format=fmt
        )
    return paths


@dataclass(frozen=True)
class SeedRun:
    """Everything a seed example needs: localcloud, its OSS, our client, the sources, the results queue."""

    cloud: LocalCloud
    service: OssService
    client: OssClient
    sources: dict[str, Path]
    queue: Queue

    def output(self, bucket: str, key: str) -> AudioInfo:
        return probe(self.service.store.head(bucket, key).path)

    def samples(self, bucket: str, key: str) -> array.array[int]:
        return decoded_pcm(self.service.store.head(bucket, key).path)

    def notifications(self) -> dict[str, TaskNotification]:
        return received_notifications(self.cloud, self.queue)


@pytest.fixture(scope="module")
def queue(oss_cloud: LocalCloud) -> Queue:
    return subscribe_queue(oss_cloud, "AudioConvert", "seed-results")


@pytest.fixture
def seed(harness: Harness, sources: dict[str, Path], queue: Queue) -> SeedRun:
    for name in ("video-demo", "outbucket", "examplebucket"):
        harness.service.store.create_bucket(name)
    return SeedRun(harness.cloud, harness.service, harness.client, sources, queue)


def test_seed_rest_mp3_to_aac_takes_the_audio_from_the_tenth_second(seed: SeedRun) -> None:
    seed.client.put_object("video-demo", "example.mp3", seed.sources["example.mp3"].read_bytes())

    answer = seed.client.async_process("video-demo", "example.mp3", CONVERT_MP3_TO_AAC)
    notes = seed.notifications()

    info = seed.output("outbucket", "outobjprefix.aac\n")  # the seed's name ends in a newline
    assert (info.codec, info.sample_rate, info.channels) == ("aac", 44100, 2)  # ar/ac inherited
    expected_ms = probe(seed.sources["example.mp3"]).duration_ms - 10_000
    assert info.duration_ms == pytest.approx(expected_ms, abs=TOLERANCE_MS)
    note = notes[answer.task_id]
    assert note.succeeded and (note.code, note.task_type) == ("", "MediaConvert")
    assert note.target_keys() == [("outbucket", "outobjprefix.aac\n")]
    assert note.source_keys() == [("video-demo", "example.mp3")]
    assert note.request_id == answer.request_id


def test_seed_rest_wav_to_opus_is_48k_stereo(seed: SeedRun) -> None:
    seed.client.put_object("video-demo", "example.wav", seed.sources["example.wav"].read_bytes())

    answer = seed.client.async_process("video-demo", "example.wav", CONVERT_WAV_TO_OPUS)
    notes = seed.notifications()

    info = seed.output("outbucket", "outobj.opus\n")
    assert (info.codec, info.sample_rate, info.channels) == ("opus", 48000, 2)
    assert info.duration_ms == pytest.approx(12_000, abs=TOLERANCE_MS)
    assert notes[answer.task_id].succeeded


def test_seed_rest_five_clip_concat_plays_pre_source_sur_in_order_aligned_on_clip_2(seed: SeedRun) -> None:
    for name in ("pre1.mp3\n", "pre2.wav\n", "example.oga", "sur1.aac\n", "sur2.wma\n"):
        seed.client.put_object("video-demo", name, seed.sources[name.strip()].read_bytes())

    answer = seed.client.async_process("video-demo", "example.oga", CONCAT_FIVE_CLIPS)
    notes = seed.notifications()

    lengths = [
        probe(seed.sources["pre1.mp3"]).duration_ms,  # whole
        2000.0,  # t_2000
        probe(seed.sources["example.oga"]).duration_ms,  # the source object, whole
        10_000.0,  # ss_4000,t_10000
        probe(seed.sources["sur2.wma"]).duration_ms - 10_000,  # ss_10000 to the end
    ]
    info = seed.output("outbucket", "outobj.aac\n")
    assert (info.codec, info.sample_rate, info.channels) == ("aac", 44100, 1)
    assert info.duration_ms == pytest.approx(sum(lengths), abs=TOLERANCE_MS)
    samples = seed.samples("outbucket", "outobj.aac\n")
    middles = [sum(lengths[:index]) + length / 2 for index, length in enumerate(lengths)]
    heard = [dominant_frequency(samples, middle, TONES) for middle in middles]
    assert heard == TONES  # pre1 300, pre2 500, example.oga 700, sur1 900, sur2 1100
    note = notes[answer.task_id]
    assert note.succeeded
    read = [key for _, key in note.source_keys()]
    assert read == ["pre1.mp3\n", "pre2.wav\n", "example.oga", "sur1.aac\n", "sur2.wma\n"]


def test_seed_python_sdk_convert_with_oss2_v1_auth(seed: SeedRun) -> None:
    bucket = oss2.Bucket(oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET), seed.cloud.endpoint, "examplebucket")
    bucket.put_object_from_file("src.mp3", str(seed.sources["example.mp3"]))
    style = "audio/convert,ss_10000,t_60000,f_aac,ab_96000"
    process = (
        f"{style}|sys/saveas,b_{_b64('examplebucket')},o_{_b64('dest.aac')}/notify,topic_QXVkaW9Db252ZXJ0"
    )

    result = bucket.async_process_object("src.mp3", process)
    notes = seed.notifications()

    info = seed.output("examplebucket", "dest.aac")
    assert (info.codec, info.sample_rate, info.channels) == ("aac", 44100, 2)
    expected_ms = probe(seed.sources["example.mp3"]).duration_ms - 10_000
    assert info.duration_ms == pytest.approx(expected_ms, abs=TOLERANCE_MS)
    assert notes[result.task_id].succeeded


def test_seed_python_sdk_concat_quick_start_with_provider_auth_v4(seed: SeedRun) -> None:
    auth = oss2.ProviderAuthV4(StaticCredentialsProvider(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
    bucket = oss2.Bucket(auth, seed.cloud.endpoint, "examplebucket", region=REGION)
    for name in ("src1.mp3", "src2.mp3"):
        bucket.put_object_from_file(name, str(seed.sources[name]))
    clips = f"/pre,o_{_b64('src1.mp3')}/pre,o_{_b64('src2.mp3')},t_0"
    style = f"audio/concat,f_aac,ac_1,ar_44100,ab_96000,align_2{clips}"
    process = (
        f"{style}|sys/saveas,b_{_b64('examplebucket')},o_{_b64('merged.aac')}/notify,topic_QXVkaW9Db252ZXJ0"
    )

    result = bucket.async_process_object("src1.mp3", process)
    notes = seed.notifications()

    # The quick start POSTs to src1.mp3 and lists src1 and src2 as /pre: src1, src2, then src1 again.
    lengths = [probe(seed.sources[name]).duration_ms for name in ("src1.mp3", "src2.mp3", "src1.mp3")]
    info = seed.output("examplebucket", "merged.aac")
    assert (info.codec, info.sample_rate, info.channels) == ("aac", 44100, 1)
    assert info.duration_ms == pytest.approx(sum(lengths), abs=TOLERANCE_MS)
    samples = seed.samples("examplebucket", "merged.aac")
    assert [dominant_frequency(samples, centre, TONES) for centre in (1500, 4500, 7500)] == [
        300.0,
        500.0,
        300.0,
    ]
    assert notes[result.task_id].succeeded

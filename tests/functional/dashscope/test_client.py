"""audiochain's own DashScopeClient against localcloud: every connection type, result download, failures."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from localcloud.engines.wer import word_error_rate
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.dashscope import DashScopeClient
from shared.errors import ServiceResponseError
from shared.ops.asr import (
    ChatCompletionRequest,
    FiletransRequest,
    MultimodalGenerationRequest,
    TaskStatusResponse,
    assemble_stream,
)
from shared.ops.enums import DashScopeTaskStatus
from tests.functional.conftest import API_KEY
from tests.functional.dashscope.conftest import (
    BUCKET,
    CALL_BACK,
    TRAIN,
    Speech,
    assert_recognised,
    expired_url,
    presigned,
)


@pytest.fixture
def client(asr_cloud: LocalCloud) -> Iterator[DashScopeClient]:
    with DashScopeClient(asr_cloud.endpoint, API_KEY) as dashscope:
        yield dashscope


def _run(cloud: LocalCloud, client: DashScopeClient, request: FiletransRequest) -> TaskStatusResponse:
    task_id = client.submit_filetrans(request).task_id
    assert cloud.tasks.wait_idle(60)
    return client.wait_for_task(task_id, timeout=10, poll_interval=0.05)


def test_chat_completion_recognises_oss_audio(client: DashScopeClient, speech: Speech) -> None:
    answer = client.chat_completion(ChatCompletionRequest.for_audio(f"oss://{BUCKET}/{speech.short.key}"))

    assert_recognised(speech.short.text, answer.text)
    assert answer.annotation is not None and answer.annotation.language == "en"


def test_chat_completion_stream_assembles_to_the_same_kind_of_answer(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech
) -> None:
    request = ChatCompletionRequest.for_audio(
        presigned(asr_cloud, speech.short.key), language="en", stream=True, include_usage=True
    )
    answer = assemble_stream(client.chat_completion_stream(request))

    assert_recognised(speech.short.text, answer.text)
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.seconds == -(-speech.short.duration_ms // 1000)


def test_multimodal_generation_recognises_the_us_model(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech
) -> None:
    request = MultimodalGenerationRequest.for_audio(
        presigned(asr_cloud, speech.short.key), model="qwen3-asr-flash-us", context="Meeting places."
    )
    answer = client.multimodal_generation(request)

    assert_recognised(speech.short.text, answer.text)
    assert answer.request_id


def test_filetrans_recognises_each_requested_channel_of_a_stereo_file(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech
) -> None:
    clip = speech.stereo
    request = FiletransRequest.for_file(presigned(asr_cloud, clip.key), channel_ids=[0, 1], language="en")
    status = _run(asr_cloud, client, request)

    assert status.status is DashScopeTaskStatus.SUCCEEDED
    assert status.usage is not None and status.usage.seconds == 2 * -(-clip.duration_ms // 1000)
    assert status.transcription_url is not None
    result = client.download_transcription(status.transcription_url)
    left, right = result.channel(0), result.channel(1)
    assert left is not None and right is not None
    assert_recognised(CALL_BACK, left.text)
    assert_recognised(TRAIN, right.text)
    # Each channel is heard on its own: its transcript is nearer its own sentence than the other one.
    assert word_error_rate(CALL_BACK, left.text) < word_error_rate(TRAIN, left.text)
    assert word_error_rate(TRAIN, right.text) < word_error_rate(CALL_BACK, right.text)
    for transcript in (left, right):
        assert all(not sentence.words for sentence in transcript.sentences)
        assert all(0 <= s.begin_time <= s.end_time <= clip.duration_ms for s in transcript.sentences)


def test_an_expired_presigned_url_fails_the_task_as_forbidden(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech, credentials: Credentials
) -> None:
    status = _run(
        asr_cloud, client, FiletransRequest.for_file(expired_url(asr_cloud, credentials, speech.short.key))
    )

    assert status.status is DashScopeTaskStatus.FAILED
    assert status.failure is not None and status.failure.code == "FILE_403_FORBIDDEN"
    assert "expired" in status.failure.message
    assert status.output.end_time is not None and status.transcription_url is None


def test_a_missing_object_fails_the_task_as_not_found(asr_cloud: LocalCloud, client: DashScopeClient) -> None:
    status = _run(asr_cloud, client, FiletransRequest.for_file(presigned(asr_cloud, "nothing-here.wav")))

    assert status.failure is not None and status.failure.code == "FILE_404_NOT_FOUND"


def test_an_unreachable_server_fails_the_task_as_a_download_failure(
    asr_cloud: LocalCloud, client: DashScopeClient
) -> None:
    status = _run(asr_cloud, client, FiletransRequest.for_file("http://127.0.0.1:1/recording.wav"))

    assert status.failure is not None and status.failure.code == "FILE_DOWNLOAD_FAILED"


def test_a_file_that_is_not_audio_fails_the_task_as_undecodable(
    asr_cloud: LocalCloud, client: DashScopeClient
) -> None:
    asr_cloud.oss().store.put_stream(BUCKET, "notes.wav", iter([b"these are not audio samples"]))
    status = _run(asr_cloud, client, FiletransRequest.for_file(f"oss://{BUCKET}/notes.wav"))

    assert status.failure is not None and status.failure.code == "FILE_DECODE_FAILED"
    assert str(asr_cloud.config.data_dir) not in status.failure.message


def test_a_channel_the_file_lacks_fails_the_task(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech
) -> None:
    request = FiletransRequest.for_file(presigned(asr_cloud, speech.short.key), channel_ids=[0, 1])
    status = _run(asr_cloud, client, request)

    assert status.failure is not None and status.failure.code == "CHANNEL_ID_OUT_OF_RANGE"
    assert "1 channel(s)" in status.failure.message


def test_a_language_the_engine_lacks_fails_the_task_with_advice(
    asr_cloud: LocalCloud, client: DashScopeClient, speech: Speech
) -> None:
    # Filipino: a Qwen-ASR language that no bundled engine knows (Whisper has no code for it).
    request = FiletransRequest.for_file(presigned(asr_cloud, speech.short.key), language="fil")
    status = _run(asr_cloud, client, request)

    assert status.failure is not None and status.failure.code == "UNSUPPORTED_LANGUAGE"
    assert "only, not 'fil'" in status.failure.message
    assert "LOCALCLOUD_ASR_ENGINE" in status.failure.message


def test_a_synchronous_call_with_undecodable_audio_is_refused_naming_the_audio(
    asr_cloud: LocalCloud, client: DashScopeClient
) -> None:
    asr_cloud.oss().store.put_stream(BUCKET, "junk.mp3", iter([b"\x00" * 2048]))
    with pytest.raises(ServiceResponseError) as caught:
        client.multimodal_generation(MultimodalGenerationRequest.for_audio(f"oss://{BUCKET}/junk.mp3"))

    assert (caught.value.status, caught.value.code) == (400, "InvalidParameter")
    assert caught.value.message.startswith("input.messages[0].content[0].audio: ")
    assert caught.value.message.endswith("(FILE_DECODE_FAILED)")


def test_oss_audio_without_the_resolve_header_is_refused(asr_cloud: LocalCloud, speech: Speech) -> None:
    body = {
        "model": "qwen3-asr-flash",
        "input": {
            "messages": [{"role": "user", "content": [{"audio": f"oss://{BUCKET}/{speech.short.key}"}]}]
        },
    }
    response = httpx.post(
        f"{asr_cloud.endpoint}/api/v1/services/aigc/multimodal-generation/generation",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )

    assert response.status_code == 400
    assert "X-DashScope-OssResourceResolve" in response.json()["message"]


def test_an_invalid_submit_body_is_refused_naming_the_field(asr_cloud: LocalCloud) -> None:
    response = httpx.post(
        f"{asr_cloud.endpoint}/api/v1/services/audio/asr/transcription",
        json={"model": "qwen3-asr-flash-filetrans", "input": {"file_url": "ftp://host/a.wav"}},
        headers={"Authorization": f"Bearer {API_KEY}", "X-DashScope-Async": "enable"},
    )

    assert response.status_code == 400
    document = response.json()
    assert document["code"] == "InvalidParameter"
    assert "input.file_url" in document["message"]


def test_an_unknown_path_is_not_found_in_dashscope_style(asr_cloud: LocalCloud) -> None:
    response = httpx.post(
        f"{asr_cloud.endpoint}/api/v1/services/audio/tts/nothing",
        headers={"Authorization": f"Bearer {API_KEY}"},
    )

    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"

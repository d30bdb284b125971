"""The unmodified `dashscope` SDK: MultiModalConversation, QwenTranscription and Transcription."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import dashscope
import httpx
import pytest
from dashscope.api_entities.dashscope_response import MultiModalConversationResponse
from dashscope.audio.asr import Transcription
from dashscope.audio.qwen_asr import QwenTranscription
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from localcloud.server import LocalCloud
from tests.functional.conftest import API_KEY
from tests.functional.dashscope.conftest import Clip, Speech, assert_recognised, presigned

pytestmark = pytest.mark.sdk


@pytest.fixture
def cloud(asr_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> LocalCloud:
    """The shared localcloud, with the dashscope SDK pointed at it."""
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{asr_cloud.endpoint}/api/v1")
    return asr_cloud


@pytest.fixture
def outside_server(speech: Speech) -> Iterator[str]:
    """A plain web server (not localcloud) serving the short clip at /audio/short.wav, via a redirect."""

    def app(environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        if request.path == "/redirect/short.wav":
            response = Response(status=302, headers={"Location": "/audio/short.wav"})
        elif request.path == "/audio/short.wav":
            response = Response(speech.short.path.read_bytes(), content_type="audio/wav")
        else:
            response = Response("not here", status=404)
        return response(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _converse(**arguments: Any) -> MultiModalConversationResponse:
    response = dashscope.MultiModalConversation.call(**arguments)
    assert isinstance(response, MultiModalConversationResponse), "a call without stream=True is one response"
    return response


def _messages(audio: str) -> list[Any]:
    return [{"role": "system", "content": [{"text": ""}]}, {"role": "user", "content": [{"audio": audio}]}]


def _download(url: str) -> dict[str, Any]:
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def _assert_timings(clip: Clip, sentences: list[dict[str, Any]], *, words: bool) -> None:
    previous_end = 0
    for sentence in sentences:
        assert previous_end <= sentence["begin_time"] <= sentence["end_time"] <= clip.duration_ms
        previous_end = sentence["end_time"]
        if words:
            spans = [(word["begin_time"], word["end_time"]) for word in sentence["words"]]
            assert spans, "each sentence should carry its words"
            assert spans == sorted(spans)
            assert all(sentence["begin_time"] <= b <= e <= sentence["end_time"] for b, e in spans)
            joined = "".join(word["text"] + word["punctuation"] for word in sentence["words"])
            assert joined == sentence["text"]


def test_multimodal_conversation_call_answers_as_the_seed(cloud: LocalCloud, speech: Speech) -> None:
    clip = speech.short
    response = _converse(
        api_key=API_KEY,
        model="qwen3-asr-flash",
        messages=_messages(presigned(cloud, clip.key)),
        result_format="message",
        asr_options={"enable_itn": False},
    )

    assert response.status_code == 200, response
    choice = response.output.choices[0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["annotations"] == [
        {"language": "en", "type": "audio_info", "emotion": "neutral"}
    ]
    assert_recognised(clip.text, choice["message"]["content"][0]["text"])
    assert response.usage["seconds"] == -(-clip.duration_ms // 1000)
    assert response.usage["output_tokens_details"]["text_tokens"] > 0
    assert response.request_id


def test_multimodal_conversation_with_another_language_fails_clearly(
    cloud: LocalCloud, speech: Speech
) -> None:
    response = _converse(
        api_key=API_KEY,
        model="qwen3-asr-flash-us",
        messages=_messages(presigned(cloud, speech.short.key)),
        asr_options={"language": "fil"},  # Filipino: a Qwen-ASR language no bundled engine knows
    )

    assert response.status_code == 400
    assert response.code == "UnsupportedLanguage"
    assert "only, not 'fil'" in response.message and "LOCALCLOUD_ASR_ENGINE" in response.message


def test_qwen_transcription_runs_a_filetrans_task_with_word_timings(
    cloud: LocalCloud, speech: Speech
) -> None:
    clip = speech.two_sentences
    url = presigned(cloud, clip.key)
    submitted = QwenTranscription.async_call(
        api_key=API_KEY, model="qwen3-asr-flash-filetrans", file_url=url, enable_words=True, channel_id=[0]
    )
    assert submitted.status_code == 200, submitted
    assert submitted.output.task_status == "PENDING"
    assert cloud.tasks.wait_idle(60)

    fetched = QwenTranscription.fetch(task=submitted, api_key=API_KEY)
    waited = QwenTranscription.wait(task=submitted, api_key=API_KEY)

    for response in (fetched, waited):
        assert response.output.task_status == "SUCCEEDED"
        assert response.output["task_id"] == submitted.output.task_id
        assert response.usage["seconds"] == -(-clip.duration_ms // 1000)
    output = waited.output
    for name in ("submit_time", "scheduled_time", "end_time"):
        assert len(output[name]) == len("2025-10-27 14:19:31.150"), output[name]
    assert output["submit_time"] <= output["scheduled_time"] <= output["end_time"]
    assert output["task_metrics"] == {"TOTAL": 1, "SUCCEEDED": 1, "FAILED": 0}
    result = _download(output["result"]["transcription_url"])
    assert result["file_url"] == url
    assert result["audio_info"] == {"format": "wav", "sample_rate": 16000}
    [transcript] = result["transcripts"]
    assert transcript["channel_id"] == 0
    assert_recognised(clip.text, transcript["text"])
    sentences = transcript["sentences"]
    assert len(sentences) >= 2, "the 0.6 s pause between the two sentences should end the first"
    assert [s["sentence_id"] for s in sentences] == list(range(len(sentences)))
    assert all(s["language"] == "en" and s["emotion"] == "neutral" for s in sentences)
    _assert_timings(clip, sentences, words=True)


def test_transcription_takes_paraformer_file_urls_and_answers_per_file(
    cloud: LocalCloud, speech: Speech, outside_server: str
) -> None:
    files = [f"{outside_server}/redirect/short.wav", presigned(cloud, "no-such-recording.wav")]
    submitted = Transcription.async_call(
        api_key=API_KEY, model="paraformer-v2", file_urls=files, language_hints=["zh", "en"]
    )
    assert submitted.status_code == 200, submitted
    assert cloud.tasks.wait_idle(60)

    response = Transcription.wait(task=submitted, api_key=API_KEY)

    assert response.output.task_status == "SUCCEEDED"
    assert response.output["task_metrics"] == {"TOTAL": 2, "SUCCEEDED": 1, "FAILED": 1}
    recognised, missing = response.output["results"]
    assert (recognised["file_url"], recognised["subtask_status"]) == (files[0], "SUCCEEDED")
    assert (missing["subtask_status"], missing["code"]) == ("FAILED", "FILE_404_NOT_FOUND")
    assert response.usage["duration"] == -(-speech.short.duration_ms // 1000)
    result = _download(recognised["transcription_url"])
    assert result["properties"]["original_sampling_rate"] == 16000
    [transcript] = result["transcripts"]
    assert_recognised(speech.short.text, transcript["text"])
    assert transcript["sentences"][0]["sentence_id"] == 1
    _assert_timings(speech.short, transcript["sentences"], words=True)


def test_an_unknown_task_is_reported_unknown(cloud: LocalCloud) -> None:
    response = QwenTranscription.fetch(task="no-such-task", api_key=API_KEY)

    assert response.status_code == 200
    assert response.output.task_status == "UNKNOWN"


def test_a_wrong_api_key_is_refused(cloud: LocalCloud, speech: Speech) -> None:
    response = _converse(
        api_key="sk-wrong", model="qwen3-asr-flash", messages=_messages(presigned(cloud, speech.short.key))
    )

    assert (response.status_code, response.code, response.message) == (
        401,
        "InvalidApiKey",
        "Invalid API-key provided.",
    )


def test_filetrans_without_the_async_header_is_refused_as_dashscope_does(
    asr_cloud: LocalCloud, speech: Speech
) -> None:
    body = {
        "model": "qwen3-asr-flash-filetrans",
        "input": {"file_url": presigned(asr_cloud, speech.short.key)},
    }
    response = httpx.post(
        f"{asr_cloud.endpoint}/api/v1/services/audio/asr/transcription",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )

    assert response.status_code == 403
    document = response.json()
    assert (document["code"], document["message"]) == (
        "AccessDenied",
        "current user api does not support synchronous calls",
    )
    assert document["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("authorization", [None, "Bearer", "bearer"])
def test_a_request_without_an_api_key_is_refused(asr_cloud: LocalCloud, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = httpx.get(f"{asr_cloud.endpoint}/api/v1/tasks/some-task", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "InvalidApiKey"  # DashScope's JSON, not OSS's XML

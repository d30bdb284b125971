"""The dashscope SDK's documented `file://` pattern against localcloud: the SDK asks `/api/v1/uploads` for a
policy, posts the file to OSS, and sends the model `oss://…` with `X-DashScope-OssResourceResolve`."""

from __future__ import annotations

import base64
import json
from typing import Any

import dashscope
import httpx
import pytest
from dashscope.api_entities.dashscope_response import MultiModalConversationResponse

from localcloud.server import LocalCloud
from localcloud.services.dashscope.audio_source import UPLOAD_BUCKET
from tests.functional.conftest import API_KEY
from tests.functional.dashscope.conftest import Speech, assert_recognised

pytestmark = pytest.mark.sdk


@pytest.fixture
def cloud(asr_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> LocalCloud:
    monkeypatch.setattr(dashscope, "base_http_api_url", f"{asr_cloud.endpoint}/api/v1")
    return asr_cloud


def _messages(audio: str) -> list[Any]:
    return [{"role": "system", "content": [{"text": ""}]}, {"role": "user", "content": [{"audio": audio}]}]


def test_the_sdks_file_uri_example_is_uploaded_and_recognised(cloud: LocalCloud, speech: Speech) -> None:
    clip = speech.short
    response = dashscope.MultiModalConversation.call(
        api_key=API_KEY, model="qwen3-asr-flash", messages=_messages(f"file://{clip.path}")
    )
    assert isinstance(response, MultiModalConversationResponse)
    assert response.status_code == 200, response
    assert_recognised(clip.text, response.output.choices[0]["message"]["content"][0]["text"])
    uploaded = [record.key for record in cloud.oss().store.list(UPLOAD_BUCKET)]
    assert any(key.endswith("/" + clip.path.name) for key in uploaded), uploaded


def policy(cloud: LocalCloud) -> dict[str, Any]:
    answer = httpx.get(
        f"{cloud.endpoint}/api/v1/uploads",
        params={"action": "getPolicy", "model": "qwen3-asr-flash"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def post(data: dict[str, Any], key: str, content: bytes, **changes: str) -> httpx.Response:
    form = {
        "OSSAccessKeyId": data["oss_access_key_id"],
        "Signature": data["signature"],
        "policy": data["policy"],
        "key": key,
        "x-oss-object-acl": data["x_oss_object_acl"],
        "x-oss-forbid-overwrite": data["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        **changes,
    }
    return httpx.post(data["upload_host"], data=form, files={"file": ("a.wav", content)})


def test_a_policy_allows_its_own_directory_only_and_is_checked(cloud: LocalCloud) -> None:
    data = policy(cloud)
    document = json.loads(base64.b64decode(data["policy"]))
    assert {"bucket": UPLOAD_BUCKET} in document["conditions"]
    assert post(data, f"{data['upload_dir']}/ok.wav", b"RIFF").status_code == 200
    outside = post(data, "dashscope-instant/elsewhere/x.wav", b"RIFF")
    assert (outside.status_code, "starts-with" in outside.text or "Policy" in outside.text) == (403, True)
    forged = post(data, f"{data['upload_dir']}/forged.wav", b"RIFF", Signature="AAAA" + data["signature"][4:])
    assert forged.status_code == 403 and "SignatureDoesNotMatch" in forged.text
    again = post(data, f"{data['upload_dir']}/ok.wav", b"RIFF")  # x-oss-forbid-overwrite: true
    assert again.status_code == 409
    assert policy(cloud)["upload_dir"] != data["upload_dir"]  # a directory per policy: no collisions


def test_uploads_need_the_api_key_and_the_get_policy_action(cloud: LocalCloud) -> None:
    url = f"{cloud.endpoint}/api/v1/uploads"
    assert httpx.get(url, params={"action": "getPolicy", "model": "m"}).status_code == 401
    wrong = httpx.get(
        url, params={"action": "other", "model": "m"}, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert wrong.status_code == 400 and "action" in wrong.json()["message"]


def test_an_uploaded_file_is_resolved_only_with_the_resolve_header(cloud: LocalCloud, speech: Speech) -> None:
    data = policy(cloud)
    key = f"{data['upload_dir']}/short.wav"
    assert post(data, key, speech.short.path.read_bytes()).status_code == 200
    body = {"model": "qwen3-asr-flash", "input": {"messages": _messages(f"oss://{key}")}}
    url = f"{cloud.endpoint}/api/v1/services/aigc/multimodal-generation/generation"
    headers = {"Authorization": f"Bearer {API_KEY}"}
    refused = httpx.post(url, json=body, headers=headers, timeout=60)
    assert refused.status_code == 400, refused.text
    resolved = httpx.post(
        url, json=body, headers={**headers, "X-DashScope-OssResourceResolve": "enable"}, timeout=60
    )
    assert resolved.status_code == 200, resolved.text
    missing = {"model": "qwen3-asr-flash", "input": {"messages": _messages(f"oss://{key}.gone")}}
    gone = httpx.post(
        url, json=missing, headers={**headers, "X-DashScope-OssResourceResolve": "enable"}, timeout=60
    )
    assert gone.status_code == 400 and "FILE_404_NOT_FOUND" in gone.text, gone.text

"""localcloud's DashScope with plug-in engines (tests/unit/localcloud/scripted_engine.py) in its worker:
recognition outside localcloud's process, engine failures on every connection type, stopping mid-task.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud.server import LocalCloud
from shared.clients.dashscope import DashScopeClient
from shared.ops.asr import FiletransRequest
from shared.ops.enums import DashScopeTaskStatus
from tests.functional.conftest import API_KEY, make_config
from tests.functional.dashscope.conftest import BUCKET, Speech
from tests.unit.localcloud.scripted_engine import FAILING_SPEC, SPEC

SERVICES = ("oss", "dashscope")
CHAT_PATH = "/compatible-mode/v1/chat/completions"


@pytest.fixture(scope="module")
def scripted_cloud(tmp_path_factory: pytest.TempPathFactory, speech: Speech) -> Iterator[LocalCloud]:
    """OSS and DashScope with the scripted engine, which hears the id of the process it runs in."""
    config = make_config(tmp_path_factory.mktemp("scripted"), asr_engine=SPEC)
    with LocalCloud(config, services=SERVICES) as cloud:
        _store_clip_as(cloud, speech, "short.wav")
        yield cloud


@pytest.fixture(scope="module")
def failing_cloud(tmp_path_factory: pytest.TempPathFactory, speech: Speech) -> Iterator[LocalCloud]:
    """OSS and DashScope with an engine that raises RuntimeError whatever it is given."""
    config = make_config(tmp_path_factory.mktemp("failing"), asr_engine=FAILING_SPEC)
    with LocalCloud(config, services=SERVICES) as cloud:
        _store_clip_as(cloud, speech, "short.wav")
        yield cloud


def _store_clip_as(cloud: LocalCloud, speech: Speech, *keys: str) -> None:
    store = cloud.oss().store
    store.create_bucket(BUCKET)
    for key in keys:
        with open(speech.short.path, "rb") as body:
            store.put_stream(BUCKET, key, body, content_type="audio/wav")


def _chat(cloud: LocalCloud, key: str, **extra: Any) -> httpx.Response:
    body = {
        "model": "qwen3-asr-flash",
        "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": key}}]}],
        **extra,
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "X-DashScope-OssResourceResolve": "enable"}
    return httpx.post(f"{cloud.endpoint}{CHAT_PATH}", json=body, headers=headers, timeout=60)


def _events(response: httpx.Response) -> list[str]:
    return [line.removeprefix("data: ") for line in response.text.splitlines() if line]


def test_recognition_runs_outside_localclouds_own_process(scripted_cloud: LocalCloud) -> None:
    response = _chat(scripted_cloud, f"oss://{BUCKET}/short.wav")

    assert response.status_code == 200, response.text
    heard = response.json()["choices"][0]["message"]["content"]
    assert heard.startswith("Process ")
    assert heard != f"Process {os.getpid()}."


def test_an_engine_failing_in_a_stream_ends_it_with_an_error_event_and_no_done(
    failing_cloud: LocalCloud,
) -> None:
    response = _chat(failing_cloud, f"oss://{BUCKET}/short.wav", stream=True)

    assert response.headers["content-type"].startswith("text/event-stream")
    first, *rest = _events(response)
    assert json.loads(first)["choices"][0]["delta"] == {"content": "", "role": "assistant"}
    [last] = rest
    error = json.loads(last)["error"]
    assert (error["code"], error["type"]) == ("internal_error", "server_error")
    assert "RuntimeError" in error["message"]


def test_an_engine_failing_in_a_whole_answer_is_an_internal_error(failing_cloud: LocalCloud) -> None:
    response = _chat(failing_cloud, f"oss://{BUCKET}/short.wav")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"


def test_an_engine_failing_in_a_task_fails_the_task_as_an_internal_error(failing_cloud: LocalCloud) -> None:
    with DashScopeClient(failing_cloud.endpoint, API_KEY) as client:
        task_id = client.submit_filetrans(FiletransRequest.for_file(f"oss://{BUCKET}/short.wav")).task_id
        assert failing_cloud.tasks.wait_idle(60)
        status = client.get_task(task_id)

    assert status.status is DashScopeTaskStatus.FAILED
    assert status.failure is not None and status.failure.code == "InternalError"


def test_a_task_cut_short_by_stopping_is_left_to_run_on_the_next_start(
    tmp_path: Path, speech: Speech
) -> None:
    config = make_config(tmp_path / "localcloud", asr_engine=SPEC)
    with LocalCloud(config, services=SERVICES) as cloud, DashScopeClient(cloud.endpoint, API_KEY) as client:
        _store_clip_as(cloud, speech, "short.wav")
        # What a stop between two files of a task looks like: the worker is gone, the task thread is not.
        cloud.dashscope().recognizer.close()
        task_id = client.submit_filetrans(FiletransRequest.for_file(f"oss://{BUCKET}/short.wav")).task_id
        assert cloud.tasks.wait_idle(60)
        stopped = client.get_task(task_id)
    assert stopped.status is DashScopeTaskStatus.RUNNING

    with LocalCloud(config, services=SERVICES) as again, DashScopeClient(again.endpoint, API_KEY) as client:
        assert again.tasks.wait_idle(60)
        resumed = client.get_task(task_id)
    assert resumed.status is DashScopeTaskStatus.SUCCEEDED

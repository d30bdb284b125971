"""The API function over the fake world, driven in process through httpx.WSGITransport (no sockets)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from shared.api.app import create_api_handler
from shared.runtime.http_handler import WsgiApp
from tests.unit.functions.helpers import BUCKET, FakeBuilder, provider_for
from tests.unit.pipeline.fakes import World

TOKEN = "test-token-0123456789abcdefghijklmnopqrstuvwxyz"
SOURCES = ("media/a.wav", "media/b.wav")
CONVERT: dict[str, Any] = {"source": "media/a.wav", "params": {"f": "mp3", "ab": 128000}}
MERGE = {"clips": [{"key": "media/a.wav"}, {"key": "media/b.wav", "ss": 500}], "params": {"f": "mp3"}}
SPEECH = {"text": "Hello there. How are you?", "voice": "Andy", "format": "MP3"}
TRANSCRIBE = {"source": "media/a.wav", "language": "en"}
BASE_ENVIRONMENT = {
    "AUDIOCHAIN_API_TOKEN": TOKEN,
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "EnvKey",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret",
}


@dataclass
class Api:
    world: World
    handler: WsgiApp
    client: httpx.Client  # sends the right token
    anonymous: httpx.Client  # sends none
    builder: FakeBuilder

    def submit(self, job_type: str, body: Any, **headers: str) -> httpx.Response:
        return self.client.post(f"/v1/jobs/{job_type}", json=body, headers=headers)


def open_api(world: World, **environment: str) -> Iterator[Api]:
    for key in SOURCES:
        world.oss.add(BUCKET, key)
    provider, builder = provider_for(world, "api", environ={**BASE_ENVIRONMENT, **environment})
    handler = create_api_handler(provider)
    transport = httpx.WSGITransport(app=handler)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with (
        httpx.Client(transport=transport, base_url="https://api.test", headers=auth) as client,
        httpx.Client(transport=transport, base_url="https://api.test") as anonymous,
    ):
        yield Api(world, handler, client, anonymous, builder)


def error_of(response: httpx.Response) -> dict[str, Any]:
    document = response.json()
    assert set(document) == {"error"}
    error: dict[str, Any] = document["error"]
    assert {"code", "message", "field", "request_id"} <= set(error)
    assert error["request_id"]
    return error

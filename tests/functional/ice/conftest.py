"""Fixtures for ICE functional tests: localcloud with OSS, MNS and ICE, and a callback receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from alibabacloud_ice20201109 import models as ice_models
from alibabacloud_ice20201109.client import Client as IceSdkClient
from alibabacloud_tea_openapi import models as open_api_models

from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.ice import IceClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config

BUCKET = "media-bucket"
ICE_SERVICES = ("oss", "mns", "ice")


@pytest.fixture(scope="module")
def ice_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """OSS, MNS and ICE on a free loopback port, with one bucket for the speech."""
    with LocalCloud(make_config(tmp_path_factory.mktemp("ice-cloud")), services=ICE_SERVICES) as cloud:
        cloud.oss().store.create_bucket(BUCKET)
        yield cloud


def sdk_client(cloud: LocalCloud, *, secret: str = ACCESS_KEY_SECRET) -> IceSdkClient:
    return IceSdkClient(
        open_api_models.Config(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=secret,
            endpoint=f"127.0.0.1:{cloud.port}",
            protocol="http",
            region_id="cn-hangzhou",
        )
    )


@pytest.fixture
def ice_sdk(ice_cloud: LocalCloud) -> IceSdkClient:
    """The official ICE SDK, unmodified, pointed at localcloud."""
    return sdk_client(ice_cloud)


@pytest.fixture
def ice_client(ice_cloud: LocalCloud) -> Iterator[IceClient]:
    """audiochain's own ICE client, pointed at localcloud."""
    client = IceClient(ice_cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
    yield client
    client.close()


def submit_request(
    text: str, editing: dict[str, Any], key: str, **fields: Any
) -> ice_models.SubmitAudioProduceJobRequest:
    return ice_models.SubmitAudioProduceJobRequest(
        editing_config=json.dumps(editing),
        input_config=text,
        output_config=json.dumps({"bucket": BUCKET, "object": key}),
        **fields,
    )


def wait_for_final_state(
    cloud: LocalCloud, client: IceSdkClient, job_id: str
) -> ice_models.GetSmartHandleJobResponseBody:
    """GetSmartHandleJob until Finished or Failed (the task pool is drained between polls, no sleeping)."""
    request = ice_models.GetSmartHandleJobRequest(job_id=job_id)
    for _ in range(50):
        body = client.get_smart_handle_job(request).body
        if body.state in ("Finished", "Failed"):
            return body
        assert cloud.tasks.wait_idle(30)
    raise AssertionError(f"job {job_id} never ended")


class CallbackReceiver:
    """A tiny HTTP server on loopback that records every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ice-callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    yield receiver
    receiver.close()

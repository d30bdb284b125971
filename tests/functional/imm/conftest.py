"""Fixtures for IMM functional tests: localcloud with OSS, MNS and IMM; sources from engines.testaudio."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alibabacloud_imm20200930.client import Client as ImmSdkClient
from alibabacloud_tea_openapi import models as open_api_models

from localcloud.engines.testaudio import write_tone
from localcloud.server import LocalCloud
from localcloud.services.oss.store import ObjectStore
from shared.auth import Credentials
from shared.clients.imm import ImmClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config

BUCKET = "test-bucket"
IMM_SERVICES = ("oss", "mns", "imm")

PutTone = Callable[..., str]


@pytest.fixture(scope="module")
def imm_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """OSS, MNS and IMM on a free loopback port, with the bucket the seed examples use."""
    with LocalCloud(make_config(tmp_path_factory.mktemp("imm-cloud")), services=IMM_SERVICES) as cloud:
        cloud.oss().store.create_bucket(BUCKET)
        yield cloud


@pytest.fixture
def put_tone(imm_cloud: LocalCloud, tmp_path: Path) -> PutTone:
    """Upload a generated tone as `oss://test-bucket/<key>`; returns the URI."""
    return make_tone_uploader(imm_cloud.oss().store, tmp_path)


def make_tone_uploader(store: ObjectStore, scratch: Path) -> PutTone:
    def put(
        key: str, *, seconds: float, sample_rate: int = 44100, channels: int = 2, frequency: float = 440.0
    ) -> str:
        local = scratch / f"tone-{len(list(scratch.iterdir()))}.{key.rsplit('.', 1)[-1]}"
        write_tone(local, seconds=seconds, sample_rate=sample_rate, channels=channels, frequency=frequency,
                   format=local.suffix[1:])  # fmt: skip
        store.put_file(BUCKET, key, local, content_type="audio/mpeg")
        return f"oss://{BUCKET}/{key}"

    return put


@pytest.fixture
def imm_sdk(imm_cloud: LocalCloud) -> ImmSdkClient:
    """The official IMM SDK, unmodified, pointed at localcloud."""
    return sdk_client(imm_cloud)


def sdk_client(cloud: LocalCloud, *, secret: str = ACCESS_KEY_SECRET) -> ImmSdkClient:
    return ImmSdkClient(
        open_api_models.Config(
            access_key_id=ACCESS_KEY_ID,
            access_key_secret=secret,
            endpoint=f"127.0.0.1:{cloud.port}",
            protocol="http",
            region_id="cn-hangzhou",
        )
    )


@pytest.fixture
def imm_client(imm_cloud: LocalCloud) -> Iterator[ImmClient]:
    """audiochain's own IMM client, pointed at localcloud."""
    client = ImmClient(imm_cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET))
    yield client
    client.close()

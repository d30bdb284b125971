"""Fixtures for the OSS functional tests: localcloud's OSS (and MNS) on a loopback port, and clients.

One localcloud serves a whole test module (stopping the edge server takes half a second); each test gets
buckets of its own, so tests never see each other's objects. Official SDKs are used unmodified: only the
endpoint (http://127.0.0.1:<port>) and credentials change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.auth import Credentials
from shared.clients.oss import OssClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config

REGION = "cn-hangzhou"
_bucket_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def oss_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """OSS and MNS only: the async-processing notifications need MNS, nothing else is loaded."""
    with LocalCloud(make_config(tmp_path_factory.mktemp("localcloud")), services=("oss", "mns")) as running:
        yield running


@pytest.fixture
def oss_service(oss_cloud: LocalCloud) -> OssService:
    service: OssService = oss_cloud.oss()
    return service


def new_bucket(service: OssService, stem: str = "media") -> str:
    name = f"{stem}-{next(_bucket_numbers)}"
    service.store.create_bucket(name)
    return name


@pytest.fixture
def bucket(oss_service: OssService) -> str:
    """A bucket of this test's own."""
    return new_bucket(oss_service)


@pytest.fixture
def created_events(oss_service: OssService, bucket: str) -> Iterator[list[ObjectCreated]]:
    """Every ObjectCreated announced in this test's bucket (what the FC runtime turns into trigger events)."""
    events: list[ObjectCreated] = []

    def collect(event: ObjectCreated) -> None:
        if event.record.bucket == bucket:
            events.append(event)

    oss_service.store.add_listener(collect)
    yield events
    oss_service.store.listeners.remove(collect)


@pytest.fixture
def client(oss_cloud: LocalCloud) -> Iterator[OssClient]:
    """audiochain's own OSS client, path-style on the loopback endpoint, signing with V4."""
    with OssClient(oss_cloud.endpoint, REGION, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as oss:
        yield oss


@dataclass(frozen=True)
class Harness:
    """The running localcloud, its OSS provider, and audiochain's client for it."""

    cloud: LocalCloud
    service: OssService
    client: OssClient


@pytest.fixture
def harness(oss_cloud: LocalCloud, oss_service: OssService, client: OssClient) -> Harness:
    return Harness(oss_cloud, oss_service, client)

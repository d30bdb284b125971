"""Fixtures for the local FC runtime: localcloud (OSS and MNS) running the fixture project's functions.

One localcloud per test module (start and stop cost more than most tests); tests keep apart by using
keys, topics' messages and markers of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localcloud.runtime import FunctionRuntime
from localcloud.server import LocalCloud
from shared.auth import Credentials
from shared.clients.mns import MnsClient
from shared.clients.oss import OssClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET, make_config
from tests.functional.runtime.project import write_project


@dataclass
class Project:
    root: Path
    cloud: LocalCloud

    @property
    def runtime(self) -> FunctionRuntime:
        assert self.cloud.runtime is not None
        return self.cloud.runtime

    @property
    def records_dir(self) -> Path:
        return self.root / "records"


def start_project(root: Path, data_dir: Path, **overrides: object) -> LocalCloud:
    template = root / "template.yaml"
    cloud = LocalCloud(
        make_config(data_dir, **overrides),
        services=("oss", "mns"),
        template=template,
        parameters={"RecordDir": str(root / "records")},
    )
    return cloud.start()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    root = tmp_path_factory.mktemp("project")
    write_project(root)
    cloud = start_project(root, root / "localcloud")
    try:
        yield Project(root, cloud)
    finally:
        cloud.stop()


@pytest.fixture
def oss_client(project: Project) -> Iterator[OssClient]:
    # Closed: localcloud keeps connections alive, and an unclosed client's socket is a ResourceWarning.
    credentials = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    with OssClient(project.cloud.endpoint, "cn-hangzhou", credentials) as client:
        yield client


@pytest.fixture
def mns_client(project: Project) -> Iterator[MnsClient]:
    with MnsClient(project.cloud.endpoint, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)) as client:
        yield client

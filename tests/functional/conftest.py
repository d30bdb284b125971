"""Fixtures for functional tests: localcloud on a free loopback port with a fresh data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.config import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_ACCESS_KEY_SECRET,
    DEFAULT_DASHSCOPE_API_KEY,
    LocalCloudConfig,
)
from localcloud.server import LocalCloud
from shared.auth import Credentials

ACCESS_KEY_ID = DEFAULT_ACCESS_KEY_ID
ACCESS_KEY_SECRET = DEFAULT_ACCESS_KEY_SECRET
API_KEY = DEFAULT_DASHSCOPE_API_KEY


def make_config(data_dir: Path, **overrides: object) -> LocalCloudConfig:
    values: dict[str, object] = {"port": 0, "data_dir": data_dir, "retry_scale": 0.001}
    values.update(overrides)
    return LocalCloudConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    """Every service, on a free loopback port."""
    with LocalCloud(make_config(tmp_path / "localcloud")) as running:
        yield running

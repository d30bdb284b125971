from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from deploy.template import load_template
from tests.unit.deploy.helpers import FUNCTIONS, TEMPLATE


@pytest.fixture(scope="session")
def repo_template() -> dict[str, Any]:
    return load_template(TEMPLATE)


@pytest.fixture
def template(repo_template: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the repository's template, free to break."""
    return copy.deepcopy(repo_template)


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    """A repository with the real template, a small shared/ package and a handler per function."""
    root = tmp_path / "repo"
    (root / "shared" / "ops").mkdir(parents=True)
    (root / "shared" / "__init__.py").write_text('"""shared"""\n')
    (root / "shared" / "ops" / "__init__.py").write_text("")
    (root / "shared" / "ops" / "base.py").write_text("VALUE = 1\n")
    (root / "shared" / "ops" / "py.typed").write_text("")
    (root / "shared" / "ops" / "__pycache__").mkdir()
    (root / "shared" / "ops" / "__pycache__" / "base.cpython-311.pyc").write_bytes(b"\0")
    (root / "shared" / "tests").mkdir()
    (root / "shared" / "tests" / "test_base.py").write_text("def test_x() -> None: ...\n")
    (root / "template.yaml").write_text(TEMPLATE.read_text())
    for name in FUNCTIONS:
        (root / "functions" / name).mkdir(parents=True)
        handler = f"def handler(event, context):\n    return {name!r}, VALUE\n"
        (root / "functions" / name / "index.py").write_text(
            f"from shared.ops.base import VALUE\n\n\n{handler}"
        )
    return root

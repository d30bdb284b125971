"""The developer tooling says what it does: every make target is in `make help`, the checkers are pinned."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
# The same pattern as the Makefile's `help` target.
HELP_LINE = re.compile(r"^([a-zA-Z0-9_-]+):.*## ", re.MULTILINE)


def test_every_phony_target_is_listed_by_make_help() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = {
        target for line in re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE) for target in line.split()
    }
    assert {"test", "test-e2e", "typecheck", "lint"} <= phony
    assert phony - set(HELP_LINE.findall(makefile)) == set()


def test_ruff_and_mypy_are_pinned_to_one_version() -> None:
    # pyproject.toml read as text: tomllib is Python 3.11+, and the project supports 3.10.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for tool in ("ruff", "mypy"):
        specs = re.findall(rf'^\s*"({tool}[^"]*)",', text, re.MULTILINE)
        assert len(specs) == 1 and re.fullmatch(rf"{tool}==\d+(\.\d+)+", specs[0]), specs


def test_the_pre_commit_hooks_run_the_pinned_tools_from_the_venv() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    assert all(entry.startswith(".venv/bin/") for entry in entries)
    assert any("mypy" in entry and " tests" in entry for entry in entries)

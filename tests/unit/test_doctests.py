"""Every example in a docstring runs, as part of the suite: a doc example that no longer works is a bug.

One test per module that holds examples (`>>>`), so a failure names the module; examples marked
`# doctest: +SKIP` are the ones that need a running service or the network, and are shown, not run.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shared", "localcloud", "functions", "deploy")


def _modules_with_examples() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "node_modules" in parts or ">>> " not in path.read_text(encoding="utf-8"):
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules_with_examples()


def test_the_examples_are_found() -> None:
    # Guards the finder itself: were it to find nothing, every test below would vanish silently.
    assert len(MODULES) > 60 and "shared.pipeline.keys" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_the_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    tests = [test for test in doctest.DocTestFinder().find(module) if test.examples]
    assert tests, f"{name} has '>>> ' in it but no docstring example doctest can find"
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test, out=output.write)
    assert runner.failures == 0, output.getvalue()

"""Each package's public surface is explicit: a package whose `__init__` imports names declares them in
`__all__` (and every declared name exists); one that imports nothing is a namespace of submodules."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.unit.architecture.importgraph import ROOT

PACKAGES = ("shared", "localcloud", "functions")


def _package_inits() -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("__init__.py")):
            found.append(".".join(path.relative_to(ROOT).parent.parts))
    return found


def _imports_names(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."), "__init__.py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(
        isinstance(node, (ast.Import, ast.ImportFrom))
        and not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
        for node in tree.body
    )


@pytest.mark.parametrize("name", _package_inits())
def test_a_package_that_imports_names_declares_them_in_all(name: str) -> None:
    module = importlib.import_module(name)
    declared = getattr(module, "__all__", None)
    if declared is None:
        assert not _imports_names(name), f"{name}/__init__.py imports names but has no __all__"
        return
    missing = [item for item in declared if not hasattr(module, item)]
    assert missing == [], f"{name}.__all__ names what it does not define: {missing}"
    assert len(set(declared)) == len(declared)

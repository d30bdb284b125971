"""No import circle in shared/ or localcloud/, counting TYPE_CHECKING and function-local imports.

A circle hidden behind a function-local import still means neither module can be understood, tested or
moved without the other; behind TYPE_CHECKING it still means mypy must see both at once. The graph comes
from tests/unit/architecture/importgraph.py.
"""

from __future__ import annotations

from pathlib import Path

from tests.unit.architecture.importgraph import ROOT, ImportGraph


def test_shared_localcloud_functions_and_deploy_have_no_import_circle() -> None:
    graph = ImportGraph.of_packages(ROOT, ("shared", "localcloud", "functions", "deploy"))
    assert graph.cycles() == []


def test_a_circle_through_a_type_only_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f() -> None:\n    from pkg.c import g\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import A\n"
    )
    (package / "d.py").write_text("import pkg.a\n")  # imports into the circle, is not part of it
    assert ImportGraph.of_packages(tmp_path, ("pkg",)).cycles() == [["pkg.a", "pkg.b", "pkg.c"]]

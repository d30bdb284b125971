"""localcloud's services raise errors through their catalogues (`ErrorCode` named constructors in
`<service>/errors.py`, or a module's own catalogue block), never as `ServiceHttpError(status, "Code", …)`
literals: a status and a code written at each raise drift apart."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.architecture.importgraph import ROOT, ImportGraph


def literal_errors(graph: ImportGraph) -> list[str]:
    found: list[str] = []
    for module, path in graph.modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            args = node.args
            literal = len(args) >= 2 and all(isinstance(arg, ast.Constant) for arg in args[:2])
            if node.func.id == "ServiceHttpError" and literal:
                status, code = (ast.literal_eval(arg) for arg in args[:2])
                found.append(f"{module}:{node.lineno} ServiceHttpError({status!r}, {code!r}, …)")
    return found


def test_services_raise_errors_through_their_catalogues() -> None:
    assert literal_errors(ImportGraph.of_packages(ROOT, ("localcloud",))) == []


def test_a_literal_error_is_found(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        'raise ServiceHttpError(404, "NoSuchKey", "gone")\nraise NO_SUCH_KEY("gone")\n', encoding="utf-8"
    )
    graph = ImportGraph(modules={"sample": source})
    assert literal_errors(graph) == ["sample:1 ServiceHttpError(404, 'NoSuchKey', …)"]

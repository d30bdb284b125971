"""Validators name their rule with shared.errors.rule_error (PydanticCustomError), never as text: a
`ValueError("rule: message")` would reach the API as rule `value_error` with the id inside the message."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.unit.architecture.importgraph import ROOT, ImportGraph

_RULE_PREFIX = re.compile(r"^[a-z][a-z0-9_]*: ")


def rule_ids_in_text(graph: ImportGraph) -> list[str]:
    found: list[str] = []
    for module, path in graph.modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Raise):
                continue
            call = node.exc
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.args):
                continue
            if call.func.id != "ValueError":
                continue
            first = call.args[0]
            while isinstance(first, ast.BinOp):  # "rule: ..." + more
                first = first.left
            if isinstance(first, ast.JoinedStr) and first.values:
                first = first.values[0]
            text = first.value if isinstance(first, ast.Constant) else None
            if isinstance(text, str) and _RULE_PREFIX.match(text):
                found.append(f"{module}:{node.lineno} {text[:40]!r}")
    return found


def test_no_validator_encodes_its_rule_id_in_the_message() -> None:
    graph = ImportGraph.of_packages(ROOT, ("shared", "localcloud"))
    assert rule_ids_in_text(graph) == []


def test_a_rule_id_in_text_is_found(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        'raise ValueError(f"range: {x} is too big")\nraise ValueError("a plain sentence: fine")\n'
        'raise ValueError("json_object: not a " + kind)\n',
        encoding="utf-8",
    )
    graph = ImportGraph(modules={"sample": source})
    assert rule_ids_in_text(graph) == ["sample:1 'range: '", "sample:3 'json_object: not a '"]

"""Every logger in shared/, localcloud/ and functions/ comes from shared.logging.get_logger, so every
line passes the redaction processor (presigned URLs, signatures, tokens) whoever configured logging."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.unit.architecture.importgraph import ROOT, ImportGraph

# Calls that make a logger around shared.logging's redacting set-up.
_BYPASSES = {("structlog", "get_logger"), ("structlog", "wrap_logger"), ("logging", "getLogger")}
_SET_UP = "shared.logging"


def _method_calls(graph: ImportGraph) -> Iterator[tuple[str, ast.Call, str, str]]:
    """(module, call, owner name, method) for every `name.method(...)` call in the graph's modules."""
    for module, path in graph.modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if isinstance(owner, ast.Name):
                    yield module, node, owner.id, node.func.attr


def logger_bypasses(graph: ImportGraph) -> list[str]:
    found = [
        f"{module}:{call.lineno} {owner}.{method}()"
        for module, call, owner, method in _method_calls(graph)
        if module != _SET_UP and (owner, method) in _BYPASSES
    ]
    for module, path in graph.modules.items():
        for imp in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                module != _SET_UP
                and isinstance(imp, ast.ImportFrom)
                and imp.module in ("structlog", "logging")
            ):
                names = {alias.name for alias in imp.names}
                if names & {"get_logger", "wrap_logger", "getLogger"}:
                    found.append(f"{module}:{imp.lineno} from {imp.module} import {', '.join(sorted(names))}")
    return found


def test_every_logger_goes_through_the_redacting_set_up() -> None:
    graph = ImportGraph.of_packages(ROOT, ("shared", "localcloud", "functions"))
    assert logger_bypasses(graph) == []


def test_a_bypass_is_found(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text('import structlog\nlog = structlog.get_logger("x")\n', encoding="utf-8")
    graph = ImportGraph(modules={"sample": source})
    assert logger_bypasses(graph) == ["sample:2 structlog.get_logger()"]


# Event names are dotted, lower-case, stable: `<area>.<subject>.<what>` (e.g. `job.step.transition`);
# what varies goes in keys, so a log query by event never has to match free text.
_EVENT_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}


def free_text_events(graph: ImportGraph) -> list[str]:
    found: list[str] = []
    for module, call, owner, method in _method_calls(graph):
        if method not in _LEVELS or "log" not in owner:
            continue
        event = call.args[0] if call.args else None
        text = event.value if isinstance(event, ast.Constant) else None
        if isinstance(text, str) and not _EVENT_NAME.match(text):
            found.append(f"{module}:{call.lineno} {text!r}")
    return found


def test_every_log_event_has_a_dotted_name() -> None:
    graph = ImportGraph.of_packages(ROOT, ("shared", "localcloud", "functions"))
    assert free_text_events(graph) == []


def test_a_free_text_event_is_found(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text('log.info("job.created", id=1)\nlog.warning("upload refused")\n', encoding="utf-8")
    graph = ImportGraph(modules={"sample": source})
    assert free_text_events(graph) == ["sample:2 'upload refused'"]

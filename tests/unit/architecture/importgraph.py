"""The project's import graph, read from the source with `ast` (nothing is imported or executed).

Every `import` statement counts, wherever it stands: at module level, inside a function, under
`if TYPE_CHECKING:`. A function-local or type-only import still couples two modules (a change to one can
break the other), and it is how import circles hide from the interpreter, so the architecture tests see all
of them. String imports (`importlib.import_module("…")`) are not statements and are not counted: the one
place that uses them, localcloud/services/registry.py, is the composition root that names every service.

    >>> graph = ImportGraph.of_packages(ROOT, ("shared",))
    >>> "shared.pipeline.keys" in graph.modules
    True
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__"})


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, and where (for the failure message)."""

    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer}:{self.line} imports {self.imported}"


@dataclass
class ImportGraph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    @classmethod
    def of_packages(cls, root: Path, packages: Iterable[str]) -> ImportGraph:
        graph = cls()
        for package in packages:
            for path in sorted((root / package).rglob("*.py")):
                if not _SKIPPED_DIRS.intersection(path.relative_to(root).parts):
                    graph.modules[_module_name(root, path)] = path
        for module, path in graph.modules.items():
            graph.imports.extend(graph._imports_of(module, path))
        return graph

    def _imports_of(self, module: str, path: Path) -> Iterator[Import]:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(module, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, is_package, node.module, node.level)
                for alias in node.names:
                    # `from pkg import name` imports the submodule pkg.name when there is one.
                    candidate = f"{base}.{alias.name}"
                    yield Import(module, candidate if candidate in self.modules else base, node.lineno)

    def internal_edges(self) -> dict[str, set[str]]:
        """Module → the project modules it imports (imports of outside packages left out)."""
        edges: dict[str, set[str]] = {module: set() for module in self.modules}
        for imp in self.imports:
            if imp.imported in self.modules and imp.imported != imp.importer:
                edges[imp.importer].add(imp.imported)
        return edges

    def cycles(self) -> list[list[str]]:
        """Every import circle: the strongly connected components with more than one module (Tarjan)."""
        components = _strongly_connected(self.internal_edges())
        return sorted(sorted(component) for component in components if len(component) > 1)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str, is_package: bool, name: str | None, level: int) -> str:
    """`from ..x import y` inside `module` → the absolute name of `..x`.

    >>> _absolute("a.b.c", False, "x", 2)
    'a.x'
    >>> _absolute("a.b", True, None, 1)
    'a.b'
    """
    if level == 0:
        return name or ""
    parts = module.split(".")
    keep = len(parts) - level + (1 if is_package else 0)
    base = parts[:keep]
    return ".".join([*base, name] if name else base)


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    # Iterative Tarjan: the graph has a few hundred modules, but recursion depth should not depend on it.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = counter
                    counter += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components

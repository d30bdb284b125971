"""The layer contracts of ARCHITECTURE.md, enforced on every `make test`.

An own test over `ast` rather than import-linter: the project needs its import graph anyway for the
import-circle test (which must count TYPE_CHECKING and function-local imports), the rules fit in a table
here, and it adds no dev dependency that must be pinned and kept working on a fresh machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.architecture.importgraph import ROOT, Import, ImportGraph

PACKAGES = ("shared", "localcloud", "functions", "deploy")

# (who, what it must never import, why) — prefixes of dotted module names.
CONTRACTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "functions",
        ("localcloud", "deploy", "bench", "tests"),
        "a deployed function is its handler plus shared/: nothing else ships in its zip",
    ),
    (
        "shared",
        ("localcloud", "functions", "deploy", "bench", "tests"),
        "shared/ is deployed; localcloud is the offline twin and never runs in Function Compute",
    ),
    *(
        (
            low,
            ("shared.pipeline", "shared.jobs", "shared.api"),
            "the building blocks (operations, signing, clients, events, transcripts) know nothing of jobs",
        )
        for low in (
            "shared.ops",
            "shared.auth",
            "shared.clients",
            "shared.events",
            "shared.transcripts",
            "shared.encoding",
            "shared.lazy",
            "shared.errors",
            "shared.env",
        )
    ),
    ("shared.jobs", ("shared.pipeline", "shared.api"), "the job store is below the pipeline that drives it"),
    ("shared.pipeline", ("shared.api",), "the HTTP API drives the pipeline, never the reverse"),
)


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


# localcloud's service packages: each reaches the others only through localcloud.ports (Host.oss(),
# Host.mns() and the data types that cross them), never by importing their modules.
SERVICE_PACKAGES = ("oss", "mns", "imm", "ice", "dashscope")
# Who may name a service package: the composition root builds them, the server offers them typed.
SERVICE_COMPOSERS = ("localcloud.services.registry", "localcloud.server")


def contract_violations(graph: ImportGraph) -> list[str]:
    """Every import that breaks a contract, as `importer:line imports module (why)`."""
    broken: list[str] = []
    for imp in graph.imports:
        for who, forbidden, why in CONTRACTS:
            if _matches(imp.importer, who) and any(_matches(imp.imported, f) for f in forbidden):
                broken.append(f"{imp} ({why})")
        broken.extend(_function_to_function(imp))
        broken.extend(_service_to_service(imp))
    return broken


def _service_package(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] == ["localcloud", "services"] and len(parts) > 2 and parts[2] in SERVICE_PACKAGES:
        return parts[2]
    return None


def _service_to_service(imp: Import) -> list[str]:
    target = _service_package(imp.imported)
    if target is None or imp.importer in SERVICE_COMPOSERS or not imp.importer.startswith("localcloud."):
        return []
    if _service_package(imp.importer) == target:
        return []
    return [f"{imp} (localcloud services and the runtime reach a service only through localcloud.ports)"]


def _function_to_function(imp: Import) -> list[str]:
    # functions.api must not reach into functions.on_upload: each function is packaged alone.
    importer, imported = imp.importer.split("."), imp.imported.split(".")
    crosses = importer[0] == imported[0] == "functions" and importer[1:2] != imported[1:2]
    if crosses and len(importer) > 1 and len(imported) > 1:
        return [f"{imp} (each function is packaged alone)"]
    return []


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph.of_packages(ROOT, PACKAGES)


def test_the_tree_keeps_every_layer_contract(graph: ImportGraph) -> None:
    assert contract_violations(graph) == []


def test_a_wrong_import_breaks_the_contract(graph: ImportGraph) -> None:
    # The contract must be able to fail: the import the review added by hand, `import localcloud.config` in
    # shared/pipeline/keys.py, is reported with its place and reason.
    graph.imports.append(Import("shared.pipeline.keys", "localcloud.config", 1))
    graph.imports.append(Import("shared.ops.asr.plans", "shared.jobs.model", 2))
    graph.imports.append(Import("functions.api.index", "functions.on_upload.index", 3))
    graph.imports.append(Import("localcloud.services.imm.service", "localcloud.services.oss.store", 4))
    graph.imports.append(Import("localcloud.runtime.triggers", "localcloud.services.mns.service", 5))
    broken = contract_violations(graph)
    assert broken == [
        "shared.pipeline.keys:1 imports localcloud.config (shared/ is deployed; localcloud is the offline "
        "twin and never runs in Function Compute)",
        "shared.ops.asr.plans:2 imports shared.jobs.model (the building blocks (operations, signing, "
        "clients, events, transcripts) know nothing of jobs)",
        "functions.api.index:3 imports functions.on_upload.index (each function is packaged alone)",
        "localcloud.services.imm.service:4 imports localcloud.services.oss.store (localcloud services and "
        "the runtime reach a service only through localcloud.ports)",
        "localcloud.runtime.triggers:5 imports localcloud.services.mns.service (localcloud services and the "
        "runtime reach a service only through localcloud.ports)",
    ]


def test_imports_under_type_checking_and_inside_functions_count(tmp_path: Path) -> None:
    package = tmp_path / "shared"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "late.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from localcloud.server import LocalCloud\n"
        "def f() -> None:\n"
        "    import localcloud.config\n"
        "    from . import sibling\n"
    )
    (package / "sibling.py").write_text("")
    graph = ImportGraph.of_packages(tmp_path, ("shared",))
    assert [str(imp) for imp in graph.imports] == [
        "shared.late:1 imports typing",
        "shared.late:3 imports localcloud.server",
        "shared.late:5 imports localcloud.config",
        "shared.late:6 imports shared.sibling",
    ]
    assert len(contract_violations(graph)) == 2

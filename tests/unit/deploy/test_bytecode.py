"""The bytecode shipped in code packages: hash-based, deterministic, never shadowing an edited source."""

from __future__ import annotations

import io
import json
import platform
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deploy import build
from deploy.build import build_packages
from deploy.bytecode import compile_package
from shared.errors import ConfigurationError
from tests.unit.deploy.helpers import FUNCTIONS
from tests.unit.deploy.test_packaging import assemble_api, fake_site_packages

_TAG = sys.implementation.cache_tag
_UNCHECKED, _CHECKED = 0b01, 0b11  # PEP 552 flags: hash-based, and whether the source is checked


def _flags(pyc: Path) -> int:
    return int.from_bytes(pyc.read_bytes()[4:8], "little")


def _pyc(package: Path, module: str) -> Path:
    source = package / module
    return source.parent / "__pycache__" / f"{source.stem}.{_TAG}.pyc"


def _run(package: Path, code: str) -> str:
    """`code` run the way FC runs a package: only the package on the path, nothing written (-B)."""
    snippet = f"import sys; sys.path.insert(0, '.'); {code}"
    command = [sys.executable, "-I", "-S", "-B", "-c", snippet]
    completed = subprocess.run(command, cwd=package, capture_output=True, text=True, check=True)
    return completed.stdout.strip()


def test_dependencies_load_unchecked_and_our_own_sources_are_checked(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package, fake_site_packages(tmp_path))
    compile_package(package, sys.executable)
    assert _flags(_pyc(package, "httpx/__init__.py")) == _UNCHECKED
    assert _flags(_pyc(package, "typing_extensions.py")) == _UNCHECKED
    assert _flags(_pyc(package, "index.py")) == _CHECKED
    assert _flags(_pyc(package, "shared/ops/base.py")) == _CHECKED


def test_a_source_edited_after_the_build_is_not_shadowed(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package, fake_site_packages(tmp_path))
    compile_package(package, sys.executable)
    assert _run(package, "import index; print(index.handler(None, None))") == "('api', 1)"
    (package / "shared" / "ops" / "base.py").write_text("VALUE = 2\n")  # the console's code editor, say
    assert _run(package, "import index; print(index.handler(None, None))") == "('api', 2)"


def test_the_bytecode_is_what_python_loads(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package, fake_site_packages(tmp_path))
    compile_package(package, sys.executable)
    # A dependency's bytecode is trusted as it is: proof that the shipped file, not the source, is loaded.
    (package / "httpx" / "__init__.py").write_text("VERSION = 'edited'\n")
    assert _run(package, "import httpx; print(httpx.VERSION)") == "fake"


def test_equal_inputs_give_byte_identical_zips_with_bytecode(fake_repo: Path, tmp_path: Path) -> None:
    site = fake_site_packages(tmp_path)
    python = sys.executable
    first, second = (
        build_packages(FUNCTIONS, root=fake_repo, out=tmp_path / out, site_packages=site, python=python)
        for out in ("one", "two")
    )
    for a, b in zip(first, second, strict=True):
        assert a.zip_path.read_bytes() == b.zip_path.read_bytes()
    with zipfile.ZipFile(first[0].zip_path) as archive:
        assert f"shared/ops/__pycache__/base.{_TAG}.pyc" in archive.namelist()


def test_a_module_that_does_not_compile_fails_the_build_by_name(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package, fake_site_packages(tmp_path))
    (package / "httpx" / "broken.py").write_text("def broken(:\n")
    with pytest.raises(ConfigurationError, match=r"api: bytecode compilation failed:(.|\n)*broken\.py"):
        compile_package(package, sys.executable)


def test_set_constants_compile_to_the_same_bytes_whatever_the_build(fake_repo: Path, tmp_path: Path) -> None:
    # `in {...}` compiles to a frozenset constant, which CPython 3.10's marshal writes in hash order (3.11
    # sorts it): without a fixed PYTHONHASHSEED two builds differ. Hence the runtime's own interpreter.
    python = build.target_python()
    if python is None:
        pytest.skip("no CPython 3.10 here (the build then ships no bytecode)")
    names = ", ".join(f"'name-{n}'" for n in range(40))
    (fake_repo / "shared" / "ops" / "names.py").write_text(
        f"def known(name):\n    return name in {{{names}}}\n"
    )
    compiled = []
    for out in ("one", "two", "three"):
        package = tmp_path / out
        assemble_api(fake_repo, package)
        compile_package(package, python)
        pyc = package / "shared" / "ops" / "__pycache__" / "names.cpython-310.pyc"
        compiled.append(pyc.read_bytes())
    assert compiled[0] == compiled[1] == compiled[2]


def test_a_relative_package_path_is_compiled_too(
    fake_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assemble_api(fake_repo, tmp_path / "api")
    monkeypatch.chdir(tmp_path)
    compile_package(Path("api"), sys.executable)
    assert _pyc(tmp_path / "api", "shared/ops/base.py").is_file()


def test_the_command_ships_bytecode_and_names_its_interpreter(
    fake_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = fake_site_packages(tmp_path)
    monkeypatch.setattr(build, "target_python", lambda explicit=None: sys.executable)
    monkeypatch.setattr(build, "deployed_pins", lambda: ([], []))
    monkeypatch.setattr(build, "vendor", lambda *args, **kwargs: site)
    monkeypatch.setattr(build, "import_check", lambda *args, **kwargs: None)
    assert build.main(["--root", str(fake_repo)], out=io.StringIO()) == 0
    manifest = json.loads((fake_repo / "build" / "manifest.json").read_text())
    assert manifest["bytecode"] == f"CPython {platform.python_version()}"
    with zipfile.ZipFile(fake_repo / "build" / "api.zip") as archive:
        assert f"__pycache__/index.{_TAG}.pyc" in archive.namelist()


def test_an_interpreter_asked_for_that_cannot_compile_stops_the_build(fake_repo: Path) -> None:
    out = io.StringIO()
    assert build.main(["--root", str(fake_repo), "--python", "/nonexistent/python3.10"], out=out) == 2
    assert "is not a CPython 3.10 interpreter" in out.getvalue()
    assert not (fake_repo / "build").exists()

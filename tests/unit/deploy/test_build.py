from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from deploy.build import (
    build_packages,
    function_names,
    handler_sources,
    import_check,
    main,
    manifest,
    top_level_modules,
)
from shared.errors import ConfigurationError
from tests.unit.deploy.helpers import FUNCTIONS, function_properties
from tests.unit.deploy.test_packaging import fake_site_packages


def test_the_functions_to_build_are_read_from_the_template(template: dict[str, Any]) -> None:
    assert function_names(template) == list(FUNCTIONS)


def test_a_code_uri_that_make_build_does_not_write_is_refused(template: dict[str, Any]) -> None:
    function_properties(template, "api")["CodeUri"] = "./functions/api"
    with pytest.raises(ConfigurationError, match=r"CodeUri must be build/api\.zip"):
        function_names(template)


def test_a_template_without_functions_has_nothing_to_build() -> None:
    with pytest.raises(ConfigurationError, match="no function"):
        function_names({"Resources": {}})


def test_every_missing_handler_is_named_at_once(fake_repo: Path) -> None:
    (fake_repo / "functions" / "api" / "index.py").unlink()
    (fake_repo / "functions" / "on_notify" / "index.py").unlink()
    with pytest.raises(ConfigurationError, match=r"functions/api/index\.py, functions/on_notify/index\.py"):
        handler_sources(FUNCTIONS, fake_repo)


def test_each_function_gets_a_directory_and_a_zip(fake_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    built = build_packages(FUNCTIONS, root=fake_repo, out=out, site_packages=fake_site_packages(tmp_path))
    assert [function.name for function in built] == list(FUNCTIONS)
    for function in built:
        assert function.zip_path == out / f"{function.name}.zip"
        assert (function.package_dir / "index.py").read_text().endswith(f"return {function.name!r}, VALUE\n")
        assert (function.package_dir / "httpx" / "__init__.py").is_file()
        assert not list(function.package_dir.rglob("__pycache__"))
        assert not (function.package_dir / "shared" / "tests").exists()


def test_the_manifest_is_the_same_document_on_every_build(fake_repo: Path, tmp_path: Path) -> None:
    site = fake_site_packages(tmp_path)
    first = manifest(
        build_packages(FUNCTIONS, root=fake_repo, out=tmp_path / "a", site_packages=site), [], {}
    )
    second = manifest(
        build_packages(FUNCTIONS, root=fake_repo, out=tmp_path / "b", site_packages=site), [], {}
    )
    assert first == second


def test_the_manifest_records_versions_sizes_and_digests(fake_repo: Path, tmp_path: Path) -> None:
    built = build_packages(["api"], root=fake_repo, out=tmp_path / "build", site_packages=None)
    document = json.loads(manifest(built, ["httpx==0.28.1"], {"httpx": "0.28.1", "idna": "3.20"}))
    assert document["runtime"] == "python3.10"
    assert document["bytecode"] is None  # no interpreter was given to compile it
    assert json.loads(manifest(built, [], {}, "CPython 3.10.13"))["bytecode"] == "CPython 3.10.13"
    assert document["platform"] == "manylinux2014_x86_64"
    assert document["requirements"] == ["httpx==0.28.1"]
    assert document["vendored"] == {"httpx": "0.28.1", "idna": "3.20"}
    entry = document["functions"]["api"]
    assert entry["zip"] == "api.zip"
    assert entry["zip_bytes"] == (tmp_path / "build" / "api.zip").stat().st_size
    assert entry["files"] == 5
    assert set(entry) == {"zip", "sha256", "zip_bytes", "unpacked_bytes", "files"}


def test_vendored_top_level_modules_are_packages_and_single_files(tmp_path: Path) -> None:
    assert top_level_modules(fake_site_packages(tmp_path)) == ["httpx", "typing_extensions"]


def test_the_import_check_passes_a_self_contained_package(fake_repo: Path, tmp_path: Path) -> None:
    built = build_packages(["api"], root=fake_repo, out=tmp_path, site_packages=fake_site_packages(tmp_path))
    assert import_check(built[0].package_dir, sys.executable, ["httpx", "typing_extensions"]) is None


def test_the_import_check_reports_what_the_package_lacks(fake_repo: Path, tmp_path: Path) -> None:
    (fake_repo / "functions" / "api" / "index.py").write_text(
        "import pydantic_not_vendored\nhandler = None\n"
    )
    built = build_packages(["api"], root=fake_repo, out=tmp_path, site_packages=None)
    error = import_check(built[0].package_dir, sys.executable)
    assert error is not None and "pydantic_not_vendored" in error


def test_the_import_check_wants_a_callable_handler(fake_repo: Path, tmp_path: Path) -> None:
    (fake_repo / "functions" / "api" / "index.py").write_text("handler = 'not callable'\n")
    built = build_packages(["api"], root=fake_repo, out=tmp_path, site_packages=None)
    assert import_check(built[0].package_dir, sys.executable) == "index.handler is not callable"


def test_the_command_fails_early_and_clearly_when_a_handler_is_missing(fake_repo: Path) -> None:
    (fake_repo / "functions" / "fetch_results" / "index.py").unlink()
    out = io.StringIO()
    assert main(["--root", str(fake_repo)], out=out) == 2
    assert out.getvalue() == "error: handler source missing: functions/fetch_results/index.py\n"
    assert not (fake_repo / "build").exists(), "nothing is downloaded for a build that cannot succeed"

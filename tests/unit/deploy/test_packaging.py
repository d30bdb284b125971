from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

import pytest

from deploy.packaging import ZIP_EPOCH, assemble, describe, is_packaged, select_files, write_zip


@pytest.mark.parametrize(
    ("path", "packaged"),
    [
        ("shared/ops/base.py", True),
        ("shared/ops/py.typed", True),
        ("shared/data/voices.json", True),
        ("shared/__pycache__/base.cpython-310.pyc", False),
        ("shared/ops/base.pyc", False),
        ("shared/tests/test_base.py", False),
        ("shared/ops/test/helpers.py", False),
        ("shared/ops/test_base.py", False),
        ("shared/ops/base_test.py", False),
        ("shared/conftest.py", False),
        ("shared/.mypy_cache/x.json", False),
        ("shared/testing.py", True),
        ("shared/attest.py", True),
    ],
)
def test_only_runtime_files_are_packaged(path: str, packaged: bool) -> None:
    assert is_packaged(PurePosixPath(path)) is packaged


def test_file_selection_is_sorted_and_relative(fake_repo: Path) -> None:
    assert select_files(fake_repo / "shared") == [
        PurePosixPath("__init__.py"),
        PurePosixPath("ops/__init__.py"),
        PurePosixPath("ops/base.py"),
        PurePosixPath("ops/py.typed"),
    ]


def test_symbolic_links_are_refused_rather_than_followed(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text("")
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    with pytest.raises(ValueError, match="symbolic links"):
        select_files(tmp_path)


def fake_site_packages(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "httpx").mkdir(parents=True)
    (site / "httpx" / "__init__.py").write_text("VERSION = 'fake'\n")
    (site / "httpx-0.28.1.dist-info").mkdir()
    (site / "httpx-0.28.1.dist-info" / "METADATA").write_text("Name: httpx\nVersion: 0.28.1\n")
    (site / "typing_extensions.py").write_text("")
    return site


def assemble_api(repo: Path, package: Path, site_packages: Path | None = None) -> list[PurePosixPath]:
    return assemble(
        package,
        handler_module=repo / "functions" / "api" / "index.py",
        shared_dir=repo / "shared",
        site_packages=site_packages,
    )


def test_a_package_holds_the_handler_shared_and_the_dependencies_at_its_root(
    fake_repo: Path, tmp_path: Path
) -> None:
    package = tmp_path / "build" / "api"
    files = assemble(
        package,
        handler_module=fake_repo / "functions" / "api" / "index.py",
        shared_dir=fake_repo / "shared",
        site_packages=fake_site_packages(tmp_path),
    )
    assert [str(path) for path in files] == [
        "httpx/__init__.py",
        "httpx-0.28.1.dist-info/METADATA",
        "index.py",
        "shared/__init__.py",
        "shared/ops/__init__.py",
        "shared/ops/base.py",
        "shared/ops/py.typed",
        "typing_extensions.py",
    ]
    assert (package / "index.py").read_text() == (fake_repo / "functions" / "api" / "index.py").read_text()


def test_assembling_again_starts_from_an_empty_directory(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    package.mkdir()
    (package / "stale.py").write_text("")
    assemble_api(fake_repo, package)
    assert not (package / "stale.py").exists()


def test_a_dependency_may_not_overwrite_the_functions_own_files(fake_repo: Path, tmp_path: Path) -> None:
    site = fake_site_packages(tmp_path)
    (site / "shared").mkdir()
    (site / "shared" / "__init__.py").write_text("")
    with pytest.raises(ValueError, match="overwrite"):
        assemble_api(fake_repo, tmp_path / "api", site)


def test_zips_are_byte_identical_whatever_the_file_times(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package)
    write_zip(package, tmp_path / "first.zip")
    for path in package.rglob("*.py"):
        path.touch()
    (package / "index.py").chmod(0o755)
    write_zip(package, tmp_path / "second.zip")
    assert (tmp_path / "first.zip").read_bytes() == (tmp_path / "second.zip").read_bytes()


def test_zip_entries_are_sorted_dated_1980_and_readable_by_all(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    assemble_api(fake_repo, package)
    write_zip(package, tmp_path / "api.zip")
    with zipfile.ZipFile(tmp_path / "api.zip") as archive:
        entries = archive.infolist()
        assert [entry.filename for entry in entries] == sorted(entry.filename for entry in entries)
        assert {entry.date_time for entry in entries} == {ZIP_EPOCH}
        assert {entry.external_attr >> 16 for entry in entries} == {0o100644}
        assert archive.read("index.py") == (package / "index.py").read_bytes()
        assert archive.testzip() is None
    assert not (tmp_path / "api.zip.partial").exists()


def test_a_package_description_counts_files_and_bytes(fake_repo: Path, tmp_path: Path) -> None:
    package = tmp_path / "api"
    files = assemble_api(fake_repo, package)
    write_zip(package, tmp_path / "api.zip")
    info = describe(package, tmp_path / "api.zip")
    assert info.files == len(files) == 5
    assert info.unpacked_bytes == sum((package / path).stat().st_size for path in files)
    assert info.zip_bytes == (tmp_path / "api.zip").stat().st_size
    assert len(info.sha256) == 64

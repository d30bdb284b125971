"""Assembling one function's code directory and its zip, byte for byte the same on every run.

A package holds `index.py` (from `functions/<name>/index.py`) at its root, the `shared/` package without
tests or caches, and the vendored dependencies. The zip lists its entries in sorted order with a fixed
timestamp and fixed permissions, so equal inputs give an equal zip (and an equal sha256 in the manifest).

    >>> is_packaged(PurePosixPath("shared/ops/base.py"))
    True
    >>> is_packaged(PurePosixPath("shared/__pycache__/base.cpython-310.pyc"))
    False
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Directories and files that never ship: caches, tests, and type-checker or editor leftovers.
EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo", ".orig", ".rej", ".swp"})
EXCLUDED_NAMES = frozenset({"conftest.py", ".DS_Store"})
# 1980-01-01, the earliest time a zip entry can carry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Regular file, rw-r--r--: nothing in a package is run as a program (shared objects need no x bit).
_FILE_MODE = 0o100644


@dataclass(frozen=True)
class PackageInfo:
    """What a built package weighs."""

    files: int
    unpacked_bytes: int
    zip_bytes: int
    sha256: str


def is_packaged(relative: PurePosixPath) -> bool:
    """Whether a file at this path (relative to its source root) belongs in a package."""
    if any(part in EXCLUDED_DIRS for part in relative.parts[:-1]):
        return False
    name = relative.name
    if name in EXCLUDED_NAMES or relative.suffix in EXCLUDED_SUFFIXES:
        return False
    return not (name.startswith("test_") and name.endswith(".py")) and not name.endswith("_test.py")


def select_files(root: Path) -> list[PurePosixPath]:
    """Every packaged file under `root`, as sorted paths relative to it. Symbolic links are refused."""
    selected: list[PurePosixPath] = []
    for path in root.rglob("*"):
        if path.is_symlink():
            raise ValueError(f"{path}: symbolic links are not packaged; copy the file instead")
        if path.is_file():
            relative = PurePosixPath(path.relative_to(root).as_posix())
            if is_packaged(relative):
                selected.append(relative)
    return sorted(selected)


def copy_tree(source: Path, destination: Path, files: Iterable[PurePosixPath]) -> None:
    """Copy the listed files (relative to `source`) under `destination`, keeping their relative paths."""
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target)


def assemble(
    package_dir: Path, *, handler_module: Path, shared_dir: Path, site_packages: Path | None
) -> list[PurePosixPath]:
    """Build `package_dir` from scratch; returns the packaged files relative to it.

    `handler_module` becomes `index.py`; `shared_dir` is copied as `shared/`; `site_packages` (the
    vendored dependencies) is copied to the root, where FC's Python path finds it.
    """
    if package_dir.exists():
        shutil.rmtree(package_dir)
    package_dir.mkdir(parents=True)
    shutil.copyfile(handler_module, package_dir / "index.py")
    copy_tree(shared_dir, package_dir / "shared", select_files(shared_dir))
    if site_packages is not None:
        vendored = select_files(site_packages)
        clashes = [str(path) for path in vendored if path.parts[0] in {"index.py", "shared"}]
        if clashes:
            raise ValueError(f"vendored files would overwrite the function's own: {', '.join(clashes)}")
        copy_tree(site_packages, package_dir, vendored)
    return select_files(package_dir)


def write_zip(package_dir: Path, zip_path: Path) -> None:
    """Write `zip_path` from every file under `package_dir`: sorted entries, fixed time, fixed modes."""
    temporary = zip_path.with_suffix(".zip.partial")
    with zipfile.ZipFile(temporary, "w") as archive:
        for relative in sorted(
            PurePosixPath(p.relative_to(package_dir).as_posix()) for p in _files(package_dir)
        ):
            entry = zipfile.ZipInfo(str(relative), date_time=ZIP_EPOCH)
            entry.create_system = 3  # Unix, so the mode bits below are honoured when FC unpacks
            entry.external_attr = _FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (package_dir / relative).read_bytes(), compresslevel=9)
    temporary.replace(zip_path)


def describe(package_dir: Path, zip_path: Path) -> PackageInfo:
    """Count and weigh a built package and its zip."""
    files = list(_files(package_dir))
    return PackageInfo(
        files=len(files),
        unpacked_bytes=sum(path.stat().st_size for path in files),
        zip_bytes=zip_path.stat().st_size,
        sha256=hashlib.sha256(zip_path.read_bytes()).hexdigest(),
    )


def _files(root: Path) -> Iterable[Path]:
    return (path for path in root.rglob("*") if path.is_file())

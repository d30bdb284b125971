"""`python -m deploy.build`: one deployable code package per function of `template.yaml`.

For each function `<name>` (its CodeUri is `build/<name>.zip`) it writes `build/<name>/` and
`build/<name>.zip`: `functions/<name>/index.py` as `index.py`, the `shared/` package (no tests, no
caches) and httpx, pydantic, structlog with their dependencies vendored for linux x86_64 / CPython 3.10.
Nothing from localcloud or the development extras is packaged. `build/manifest.json` records versions,
sizes and sha256 digests; equal inputs give byte-identical zips. When a CPython 3.10 interpreter is found
(on PATH or under pyenv), it compiles each package's bytecode (`deploy.bytecode`: FC's code directory is
read-only, so a package without it compiles every module on each cold start) and then imports the package in
isolation (no site-packages, no environment) to prove it is self-contained and that shared/ runs on 3.10.

    $ .venv/bin/python -m deploy.build
    api            build/api.zip                5.4 MB zipped   14.7 MB unpacked   880 files  import ok
    ...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from deploy.bytecode import compile_package
from deploy.packaging import PackageInfo, assemble, describe, write_zip
from deploy.rules import TARGET_PYTHON, TARGET_RUNTIME
from deploy.template import iter_functions, load_template
from deploy.vendor import PLATFORM, deployed_pins, vendor, vendored_versions
from shared.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
# Run by CPython 3.10 inside a package: the handler, every module of shared/ (catches code that needs a
# newer Python), and each vendored top-level module named on the command line.
_IMPORT_PROBE = """
import importlib, pkgutil, sys
sys.path.insert(0, ".")
import index
if not callable(getattr(index, "handler", None)):
    sys.exit("index.handler is not callable")
import shared
for module in pkgutil.walk_packages(shared.__path__, "shared."):
    importlib.import_module(module.name)
for name in sys.argv[1:]:
    importlib.import_module(name)
"""


@dataclass(frozen=True)
class BuiltFunction:
    """One function's package and zip, with their weights."""

    name: str
    package_dir: Path
    zip_path: Path
    info: PackageInfo


def function_names(template: Mapping[str, Any]) -> list[str]:
    """The functions to package, in template order. Each CodeUri must be `build/<name>.zip`."""
    names: list[str] = []
    for function in iter_functions(template):
        expected = f"build/{function.name}.zip"
        if function.properties.get("CodeUri") != expected:
            raise ConfigurationError(f"{function.path}/Properties/CodeUri must be {expected} to be built")
        names.append(function.name)
    if not names:
        raise ConfigurationError("the template declares no function to build")
    return names


def handler_sources(names: Sequence[str], root: Path) -> dict[str, Path]:
    """`functions/<name>/index.py` for each name; ConfigurationError names every one that is missing."""
    handlers = {name: root / "functions" / name / "index.py" for name in names}
    missing = [str(path.relative_to(root)) for path in handlers.values() if not path.is_file()]
    if missing:
        raise ConfigurationError(f"handler source missing: {', '.join(missing)}")
    if not (root / "shared" / "__init__.py").is_file():
        raise ConfigurationError(f"{root / 'shared'} is not a Python package")
    return handlers


def build_packages(
    names: Sequence[str], *, root: Path, out: Path, site_packages: Path | None, python: str | None = None
) -> list[BuiltFunction]:
    """Assemble and zip each named function from `root`'s sources into `out`, with bytecode compiled by
    `python` when one is given.

    Raises ConfigurationError naming every function whose `functions/<name>/index.py` is missing, or the
    modules that did not compile.
    """
    handlers = handler_sources(names, root)
    shared_dir = root / "shared"
    built: list[BuiltFunction] = []
    for name in names:
        package_dir = out / name
        zip_path = out / f"{name}.zip"
        try:
            assemble(
                package_dir, handler_module=handlers[name], shared_dir=shared_dir, site_packages=site_packages
            )
        except ValueError as exc:
            raise ConfigurationError(f"{name}: {exc}") from exc
        if python is not None:
            compile_package(package_dir, python)
        write_zip(package_dir, zip_path)
        built.append(BuiltFunction(name, package_dir, zip_path, describe(package_dir, zip_path)))
    return built


def manifest(
    built: Sequence[BuiltFunction],
    requirements: Sequence[str],
    vendored: Mapping[str, str],
    bytecode: str | None = None,
) -> str:
    """The manifest document: deterministic JSON (sorted keys, no timestamps), ending in a newline.
    `bytecode`: the interpreter that compiled the packages' .pyc files ("CPython 3.10.13": equal zips need
    the same release), None when none were compiled."""
    document = {
        "runtime": TARGET_RUNTIME,
        "bytecode": bytecode,
        "platform": PLATFORM,
        "requirements": list(requirements),
        "vendored": dict(vendored),
        "functions": {
            function.name: {
                "zip": function.zip_path.name,
                "sha256": function.info.sha256,
                "zip_bytes": function.info.zip_bytes,
                "unpacked_bytes": function.info.unpacked_bytes,
                "files": function.info.files,
            }
            for function in built
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def target_python(explicit: str | None = None) -> str | None:
    """A CPython interpreter of the FC runtime's version: `explicit`, else one on PATH or under pyenv."""
    candidates = [explicit] if explicit else [shutil.which(f"python{TARGET_PYTHON}")]
    if not explicit:
        pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
        candidates += [
            str(path) for path in sorted(pyenv_root.glob(f"versions/{TARGET_PYTHON}.*/bin/python3"))
        ]
    probe = "import sys, platform; print(platform.python_implementation(), '%d.%d' % sys.version_info[:2])"
    for candidate in filter(None, candidates):
        try:
            completed = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, check=False)
        except OSError:
            continue
        if completed.stdout.split() == ["CPython", TARGET_PYTHON]:
            return candidate
    return None


def interpreter_version(python: str) -> str:
    """ "CPython 3.10.13": the implementation and release of `python`."""
    probe = "import platform; print(platform.python_implementation(), platform.python_version())"
    completed = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=False, timeout=60)
    return completed.stdout.strip() or "unknown"


def top_level_modules(site_packages: Path) -> list[str]:
    """The importable top-level names of a vendored tree (packages and single-file modules)."""
    names = [path.name for path in site_packages.iterdir() if (path / "__init__.py").is_file()]
    names += [path.stem for path in site_packages.glob("*.py")]
    return sorted(names)


def import_check(package_dir: Path, python: str, modules: Sequence[str] = ()) -> str | None:
    """Import the package's handler, all of shared/ and `modules` with `python` in isolation (no
    site-packages, no environment); returns the error text, or None when every import worked."""
    completed = subprocess.run(
        [python, "-I", "-S", "-c", _IMPORT_PROBE, *modules],
        cwd=package_dir,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode == 0:
        return None
    lines = (completed.stderr or completed.stdout).strip().splitlines()
    return "\n".join(lines[-8:])


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Command-line entry point; returns the exit status (0 built, 1 a package failed its import, 2 error)."""
    parser = argparse.ArgumentParser(prog="python -m deploy.build", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="repository root (sources)")
    parser.add_argument("--out", type=Path, help="output directory (default: <root>/build)")
    parser.add_argument(
        "--python", help=f"the CPython {TARGET_PYTHON} that compiles the bytecode and checks the imports"
    )
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    out_dir: Path = (args.out or root / "build").resolve()
    python = target_python(args.python)
    if args.python and python is None:
        print(f"error: --python {args.python} is not a CPython {TARGET_PYTHON} interpreter", file=out)
        return 2
    try:
        names = function_names(load_template(root / "template.yaml"))
        handler_sources(names, root)  # before vendoring: a missing handler should not cost a download
        requirements, constraints = deployed_pins()
        site_packages = vendor(out_dir / ".vendor", requirements, constraints)
        built = build_packages(names, root=root, out=out_dir, site_packages=site_packages, python=python)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=out)
        return 2
    bytecode = interpreter_version(python) if python is not None else None
    (out_dir / "manifest.json").write_text(
        manifest(built, requirements, vendored_versions(site_packages), bytecode), encoding="utf-8"
    )
    if python is None:
        print(
            f"warning: no CPython {TARGET_PYTHON} found: the packages carry no bytecode, so each cold start "
            "compiles every module it imports (about twice the CPU)",
            file=out,
        )
    vendored_modules = top_level_modules(site_packages)
    failures = 0
    for function in built:
        verdict = f"import not checked (no CPython {TARGET_PYTHON} found)"
        if python is not None:
            error = import_check(function.package_dir, python, vendored_modules)
            verdict = "import ok" if error is None else f"IMPORT FAILED:\n{error}"
            failures += error is not None
        info = function.info
        print(
            f"{function.name:<14} {_display(function.zip_path):<26}{_megabytes(info.zip_bytes):>9} zipped"
            f" {_megabytes(info.unpacked_bytes):>9} unpacked {info.files:>5} files  {verdict}",
            file=out,
        )
    print(f"manifest: {out_dir / 'manifest.json'}", file=out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

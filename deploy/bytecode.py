"""Precompiled bytecode in each code package, so that a new FC instance does not compile every module.

FC unpacks a code package into /code, which is read-only: "[Errno 30] Read-only file system: '/code/.xxx'"
(https://www.alibabacloud.com/help/doc-detail/181824.htm). Python cannot write the `__pycache__` it would
otherwise keep there, so a package without bytecode makes every new instance compile each module it imports,
its dependencies' included: `api` took 0.57 s of CPU to import that way and 0.26 s with the bytecode shipped
(`python -m bench.cold_start [--without-bytecode]`, bench/RESULTS.md).

The .pyc files are hash-based (PEP 552), because a zip entry's time is fixed at 1980 (`deploy.packaging`)
and an unpacker may or may not restore it, so a timestamp-checked .pyc could never be trusted:

- the vendored dependencies: unchecked-hash, loaded without reading their source (nobody edits them in place);
- `index.py` and `shared/`: checked-hash, so a source edited after the build (in the console's code editor,
  say) is compiled afresh instead of being shadowed by stale bytecode.

They are compiled by the runtime's own interpreter version (CPython 3.10; the file names carry its cache tag,
`cpython-310`, so any other version ignores them), in one process, files in sorted order, with
PYTHONHASHSEED=0: the same inputs and interpreter give the same bytes (a set's constants are written in hash
order, and marshal's back-references depend on what the process compiled before).

    >>> own_sources_pattern(Path("/b/api"))
    '^/b/api/(index\\\\.py$|shared/)'
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from shared.errors import ConfigurationError

__all__ = ["OWN_SOURCES", "compile_package", "own_sources_pattern"]

OWN_SOURCES = ("index.py", "shared")
_ENVIRONMENT = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
_TIMEOUT_S = 300


def own_sources_pattern(package_dir: Path) -> str:
    """compileall's `-x` pattern for the package's own sources (matched against full paths)."""
    return f"^{re.escape(str(package_dir))}/(index\\.py$|shared/)"


def compile_package(package_dir: Path, python: str) -> None:
    """Write hash-based bytecode for every module under `package_dir` with the interpreter `python`.

    Raises ConfigurationError naming what failed to compile: a module the runtime could not compile either.
    """
    # Absolute: compileall runs in the package directory, and a relative path would name nothing there
    # (it then compiles nothing and still succeeds).
    package_dir = package_dir.resolve()
    common = ["-q", "-s", str(package_dir)]
    dependencies = ["-x", own_sources_pattern(package_dir), str(package_dir)]
    _compileall(python, [*common, "--invalidation-mode", "unchecked-hash", *dependencies], package_dir)
    own = [str(package_dir / name) for name in OWN_SOURCES if (package_dir / name).exists()]
    if own:  # with no path at all, compileall would compile everything on the interpreter's sys.path
        _compileall(python, [*common, "-f", "--invalidation-mode", "checked-hash", *own], package_dir)


def _compileall(python: str, arguments: Sequence[str], package_dir: Path) -> None:
    # -S: no site-packages; not -I or -E, which would ignore PYTHONHASHSEED.
    try:
        completed = subprocess.run(
            [python, "-S", "-m", "compileall", *arguments],
            cwd=package_dir,
            env=_ENVIRONMENT,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigurationError(
            f"{package_dir.name}: bytecode compilation with {python} failed: {exc}"
        ) from exc
    if completed.returncode != 0:
        problem = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-8:])
        raise ConfigurationError(f"{package_dir.name}: bytecode compilation failed:\n{problem}")

"""The deployed dependencies, vendored for Function Compute: linux x86_64, CPython 3.10, wheels only.

What is deployed is the project's own runtime requirement list (httpx, pydantic, structlog: the
`dependencies` of pyproject.toml, as installed), pinned to the versions installed in the development
environment, with every other installed distribution as a constraint, so the transitive dependencies are
the ones the tests ran with. A dependency that only CPython 3.10 needs (absent from a newer venv) is
resolved by pip and named in the build manifest.

pip evaluates environment markers against the interpreter running it, not against `--python-version`:
run from a 3.11 venv it leaves out `exceptiongroup; python_version < "3.11"` (anyio needs it on 3.10).
So after pip, every vendored distribution's requirements are evaluated for the FC runtime and whatever is
still missing is added, until the set is closed.

The vendored tree is cached under the build directory and reused while the pins and pip options are
unchanged, so a second `make build` does not ask the package index again.

    >>> base_requirements(["httpx<1,>=0.27", 'av>=12; extra == "local"'])
    ['httpx']
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from deploy.rules import TARGET_PYTHON
from shared.errors import ConfigurationError

PROJECT = "audiochain"
PLATFORM = "manylinux2014_x86_64"
PIP_TARGET_OPTIONS = (
    "--platform",
    PLATFORM,
    "--python-version",
    TARGET_PYTHON,
    "--implementation",
    "cp",
    "--only-binary=:all:",
    "--no-compile",
    "--no-input",
    "--disable-pip-version-check",
)
# Console scripts whose shebang names this machine's interpreter: useless in FC, different per machine.
UNDEPLOYED_TOP_LEVEL = ("bin",)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA_MARKER = re.compile(r";.*\bextra\s*==")
_STAMP = ".vendor-stamp"
_MAX_ROUNDS = 10
# Bump when the way the tree is made changes, so cached trees made the old way are not reused.
_RECIPE = "vendor-recipe-2"
# The marker environment of FC 2.0's python3.10 runtime (Debian-based linux, x86_64).
TARGET_MARKER_ENVIRONMENT: Mapping[str, str] = {
    "implementation_name": "cpython",
    "implementation_version": f"{TARGET_PYTHON}.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_python_implementation": "CPython",
    "platform_system": "Linux",
    "python_full_version": f"{TARGET_PYTHON}.0",
    "python_version": TARGET_PYTHON,
    "sys_platform": "linux",
    "extra": "",
}


def normalise(name: str) -> str:
    """A distribution name in PEP 503 normal form (`Typing_Extensions` -> `typing-extensions`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def base_requirements(requirements: Iterable[str]) -> list[str]:
    """The names of the requirements that belong to no extra (what the deployed code needs)."""
    names: list[str] = []
    for requirement in requirements:
        match = _NAME.match(requirement)
        if match and not _EXTRA_MARKER.search(requirement):
            names.append(normalise(match.group(1)))
    return names


def pins(names: Sequence[str], installed: Mapping[str, str]) -> list[str]:
    """`name==version` for each name, from `installed` (normalised name -> version).

    Raises ConfigurationError for a requirement the development environment does not have.
    """
    missing = [name for name in names if name not in installed]
    if missing:
        raise ConfigurationError(
            f"not installed in this environment: {', '.join(missing)} (run `make install` first)"
        )
    return [f"{name}=={installed[name]}" for name in names]


def installed_distributions() -> dict[str, str]:
    """Every distribution installed beside this interpreter, as normalised name -> version."""
    found: dict[str, str] = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(normalise(name), distribution.version)
    return found


def deployed_pins() -> tuple[list[str], list[str]]:
    """(requirements, constraints) for the vendored tree, read from the installed project metadata."""
    try:
        declared = importlib.metadata.requires(PROJECT) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise ConfigurationError(f"{PROJECT} is not installed here - run `make install` first") from exc
    installed = installed_distributions()
    requirements = pins(base_requirements(declared), installed)
    constraints = [f"{name}=={version}" for name, version in sorted(installed.items()) if name != PROJECT]
    return requirements, constraints


def vendor_key(requirements: Sequence[str], constraints: Sequence[str]) -> str:
    """A digest of everything that decides the vendored tree's content."""
    digest = hashlib.sha256(_RECIPE.encode() + b"\n")
    for line in (*PIP_TARGET_OPTIONS, "--", *requirements, "--", *constraints):
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def pip_command(target: Path, requirements_file: Path, constraints_file: Path) -> list[str]:
    """The pip invocation that fills `target` with wheels for the FC runtime."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--target",
        str(target),
        *PIP_TARGET_OPTIONS,
        "-r",
        str(requirements_file),
        "-c",
        str(constraints_file),
    ]


def vendor(cache_dir: Path, requirements: Sequence[str], constraints: Sequence[str]) -> Path:
    """The directory of vendored distributions for these pins, installed now or reused from `cache_dir`.

    Raises ConfigurationError when pip fails (its output is included).
    """
    key = vendor_key(requirements, constraints)
    target = cache_dir / "site-packages"
    stamp = cache_dir / _STAMP
    if target.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key:
        return target
    shutil.rmtree(cache_dir, ignore_errors=True)
    cache_dir.mkdir(parents=True)
    requirements_file = cache_dir / "requirements.txt"
    constraints_file = cache_dir / "constraints.txt"
    requirements_file.write_text("".join(f"{line}\n" for line in requirements), encoding="utf-8")
    constraints_file.write_text("".join(f"{line}\n" for line in constraints), encoding="utf-8")
    _run_pip(pip_command(target, requirements_file, constraints_file), requirements)
    for _ in range(_MAX_ROUNDS):
        missing = missing_requirements(target)
        if not missing:
            break
        missing_file = cache_dir / "missing.txt"
        missing_file.write_text("".join(f"{line}\n" for line in missing), encoding="utf-8")
        # --no-deps: pip would judge their requirements by this interpreter's markers again.
        _run_pip([*pip_command(target, missing_file, constraints_file), "--no-deps"], missing)
    else:
        raise ConfigurationError(f"the vendored dependencies did not close after {_MAX_ROUNDS} rounds")
    for name in UNDEPLOYED_TOP_LEVEL:
        shutil.rmtree(target / name, ignore_errors=True)
    stamp.write_text(key + "\n", encoding="utf-8")
    return target


def vendored_versions(site_packages: Path) -> dict[str, str]:
    """The distributions in a vendored tree, read from their `.dist-info` directory names."""
    versions: dict[str, str] = {}
    for info in site_packages.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        versions[normalise(name)] = version
    return dict(sorted(versions.items()))


def missing_requirements(
    site_packages: Path, environment: Mapping[str, str] = TARGET_MARKER_ENVIRONMENT
) -> list[str]:
    """Requirements of the vendored distributions that apply in `environment` and are not vendored.

    Raises ConfigurationError when a vendored version does not satisfy a requirement that applies.

    >>> missing_requirements(Path("/nonexistent"))
    []
    """
    vendored = vendored_versions(site_packages)
    missing: dict[str, str] = {}
    for info in sorted(site_packages.glob("*.dist-info")):
        for line in _requires_dist(info / "METADATA"):
            try:
                requirement = Requirement(line)
            except InvalidRequirement as exc:
                raise ConfigurationError(f"{info.name}: unreadable requirement {line!r} ({exc})") from exc
            if requirement.marker is not None and not requirement.marker.evaluate(dict(environment)):
                continue
            name = normalise(requirement.name)
            if name not in vendored:
                missing.setdefault(name, f"{name}{requirement.specifier}")
                continue
            if not _satisfies(requirement, vendored[name]):
                raise ConfigurationError(
                    f"{info.name} needs {requirement} on CPython {TARGET_PYTHON}, "
                    f"but {name} {vendored[name]} was vendored"
                )
    return sorted(missing.values())


def _satisfies(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


def _requires_dist(metadata: Path) -> list[str]:
    if not metadata.is_file():
        return []
    prefix = "requires-dist:"
    lines = metadata.read_text(encoding="utf-8", errors="replace").split("\n\n", 1)[0].splitlines()
    return [line[len(prefix) :].strip() for line in lines if line.lower().startswith(prefix)]


def _run_pip(command: list[str], what: Sequence[str]) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise ConfigurationError(
            f"pip could not vendor {', '.join(what)} for {PLATFORM} / CPython {TARGET_PYTHON}:\n"
            f"{completed.stdout}{completed.stderr}"
        )

"""Running Fun's own validator (`fun validate`, npm package `@alicloud/fun`) offline.

Fun's last schema lists runtimes only up to `python3`, while FC 2.0 runs `python3.9` and `python3.10`.
The template states the runtime that is deployed; Fun is shown a copy in which those newer Python runtimes
read `python3`, so it checks everything else. Nothing else in the copy changes.

Fun reports usage to an analytics service unless its profile says `report: false`, checks npm for updates
unless told not to, and skips validation altogether when `IGNORE_TPL_VALIDATION` is set: the run gets a
private HOME with such a profile, the opt-outs set, and that variable removed.

    >>> copy, notes = fun_readable_copy({"Resources": {}})
    >>> copy, notes
    ({'Resources': {}}, [])
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deploy.template import iter_functions
from shared.errors import ConfigurationError

# FC 2.0 runtimes that Fun's schema predates, and the value of its enum that stands for them.
FUN_RUNTIME_ALIASES: Mapping[str, str] = {"python3.9": "python3", "python3.10": "python3"}
DEFAULT_FUN = Path(__file__).resolve().parent / "node_modules" / ".bin" / "fun"
_DROPPED_ENV = ("IGNORE_TPL_VALIDATION", "XDG_CONFIG_HOME")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class RuntimeAlias:
    """One runtime shown to Fun under another name."""

    path: str
    runtime: str
    shown_as: str


@dataclass(frozen=True)
class FunResult:
    """What `fun validate` said: its exit status and its output without colour codes."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def fun_readable_copy(template: Mapping[str, Any]) -> tuple[dict[str, Any], list[RuntimeAlias]]:
    """A deep copy of `template` with the runtimes in FUN_RUNTIME_ALIASES replaced, and each replacement."""
    readable: dict[str, Any] = copy.deepcopy(dict(template))
    aliases: list[RuntimeAlias] = []
    for function in iter_functions(readable):
        properties = function.properties
        runtime = properties.get("Runtime")
        # FunctionSpec.properties is the very dict inside `readable`, so this edits the copy only.
        if isinstance(properties, dict) and isinstance(runtime, str) and runtime in FUN_RUNTIME_ALIASES:
            properties["Runtime"] = FUN_RUNTIME_ALIASES[runtime]
            aliases.append(
                RuntimeAlias(f"{function.path}/Properties/Runtime", runtime, properties["Runtime"])
            )
    return readable, aliases


def fun_environment(base: Mapping[str, str], home: Path) -> dict[str, str]:
    """The environment for a Fun run: `base` less the skip switch, a private HOME, no calls home."""
    environment = {name: value for name, value in base.items() if name not in _DROPPED_ENV}
    environment.update(
        HOME=str(home),
        FUN_DISABLE_VERSION_CHECK="1",
        NO_UPDATE_NOTIFIER="1",
        FORCE_COLOR="0",
    )
    return environment


def write_fun_profile(home: Path) -> Path:
    """Write the Fun profile that turns its usage reports off; returns its path."""
    profile = home / ".fcli" / "config.yaml"
    profile.parent.mkdir(parents=True, exist_ok=True)
    profile.write_text("report: false\n", encoding="utf-8")
    return profile


def ensure_fun(fun: Path) -> None:
    """Raise ConfigurationError, saying how to fix it, when Fun or Node.js is missing."""
    if shutil.which("node") is None:
        raise ConfigurationError("Node.js is not installed: `fun validate` needs `node` and `npm` on PATH")
    if not fun.exists():
        raise ConfigurationError(
            f"{fun} is missing: run `make validate-template`, which installs Fun with `npm ci` in deploy/"
        )


def run_fun_validate(
    template: Mapping[str, Any], *, fun: Path = DEFAULT_FUN, timeout: float = 120
) -> FunResult:
    """Run `fun validate -t <copy>` on a Fun-readable copy of `template`, in a scratch directory.

    Raises ConfigurationError when Fun cannot run or does not finish within `timeout` seconds.
    """
    ensure_fun(fun)
    readable, _ = fun_readable_copy(template)
    with tempfile.TemporaryDirectory(prefix="audiochain-fun-") as scratch:
        workdir = Path(scratch)
        copy_path = workdir / "template.yaml"
        copy_path.write_text(yaml.safe_dump(readable, sort_keys=False, allow_unicode=True), encoding="utf-8")
        home = workdir / "home"
        write_fun_profile(home)
        try:
            # cwd is the scratch directory: Fun loads a `.env` file from its working directory.
            completed = subprocess.run(
                [str(fun), "validate", "-t", str(copy_path)],
                cwd=workdir,
                env=fun_environment(os.environ, home),
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ConfigurationError(f"`fun validate` did not finish within {timeout:g} s") from exc
        except OSError as exc:
            raise ConfigurationError(f"`fun validate` could not start: {exc}") from exc
    output = _ANSI.sub("", completed.stdout + completed.stderr).replace(str(copy_path), "<template copy>")
    return FunResult(completed.returncode, output.strip())

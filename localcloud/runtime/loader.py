"""Importing a function's handler the way its deployment package would.

`make build` puts `functions/<name>/index.py` at the root of the function's zip with `shared/` beside it,
so a handler `index.handler` is the attribute `handler` of the module `index`. Locally every function
has an `index.py`, so each is imported from its file under a name of its own
(`localcloud_functions__<service>__<function>__index`), never as `index`: two functions' modules must not
replace each other in `sys.modules`. The project root (the directory holding `shared/`) is put on
`sys.path` so the handlers' `from shared...` imports work as they do in the zip.

    >>> entry = load_entry(Path("functions"), "audiochain", "api", "index.handler")   # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from shared.errors import ConfigurationError

_PACKAGE = "localcloud_functions"
_lock = threading.Lock()


class HandlerLoadError(ConfigurationError):
    """A handler that cannot be imported or is not callable; the message names function and file."""


def ensure_project_root(root: Path) -> None:
    """Put `root` on sys.path (once) when it holds the `shared` package the handlers import."""
    resolved = str(root.resolve())
    if (root / "shared").is_dir() and resolved not in sys.path:
        sys.path.insert(0, resolved)


def module_path(functions_dir: Path, function: str, entry_point: str) -> Path:
    """`functions/<function>/<module path>.py` for an entry point `module.attribute`."""
    module = entry_point.rpartition(".")[0]
    return functions_dir / function / Path(*module.split(".")).with_suffix(".py")


def load_entry(functions_dir: Path, service: str, function: str, entry_point: str) -> Callable[..., Any]:
    """The callable named by `entry_point` (e.g. `index.handler`) in the function's code directory."""
    path = module_path(functions_dir, function, entry_point)
    module = _load_module(path, _module_name(service, function, entry_point), function)
    attribute = entry_point.rpartition(".")[2]
    entry = getattr(module, attribute, None)
    if entry is None:
        raise HandlerLoadError(
            f"function {function}: {path} defines no {attribute!r} (handler {entry_point})"
        )
    if not callable(entry):
        raise HandlerLoadError(f"function {function}: {entry_point} in {path} is not callable")
    return entry  # type: ignore[no-any-return]


def _module_name(service: str, function: str, entry_point: str) -> str:
    module = entry_point.rpartition(".")[0]
    parts = [_identifier(service), _identifier(function), *module.split(".")]
    # Flat (no dots): a dotted name would make Python look for parent packages that do not exist.
    return "__".join([_PACKAGE, *parts])


def _identifier(text: str) -> str:
    cleaned = re.sub(r"\W", "_", text)
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"


def _load_module(path: Path, name: str, function: str) -> ModuleType:
    with _lock:
        existing = sys.modules.get(name)
        if existing is not None and getattr(existing, "__file__", None) == str(path):
            return existing
        if not path.is_file():
            raise HandlerLoadError(f"function {function}: no code at {path}")
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise HandlerLoadError(f"function {function}: {path} cannot be imported as a Python module")
        module = importlib.util.module_from_spec(spec)
        # Registered before it runs, as `import` does: dataclasses and pickling look modules up by name.
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(name, None)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise HandlerLoadError(
                f"function {function}: importing {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return module

"""Per-invocation environment variables for functions that share one process.

In Function Compute every function has a process of its own with its own `EnvironmentVariables`. Locally
all functions share the localcloud process, so a plain `os.environ` can hold one function's values at a
time. Two simple answers are wrong here: setting the union at start gives every function the others'
variables (and FC_FUNCTION_NAME cannot be right for all of them), and swapping `os.environ` under a lock
per invocation serialises every function and breaks on a timed-out handler that keeps running.

What this module does instead: while a runtime runs, `os.environ` is replaced by a `LayeredEnviron`
that shares the original's storage (writes go where they always went, `putenv` included) but reads
through a per-invocation *layer* held in a context variable. The runtime runs each handler in a context
whose layer holds that function's variables, and hides (reads as unset) every variable another function
defines or that audiochain reads, so a developer's shell cannot leak real credentials or endpoints into
a local run. Code that reads `os.environ` / `os.getenv` at call time - all of audiochain does - sees
exactly its function's environment, concurrently, without locks. Outside an invocation nothing changes.

Limits (documented, accepted): threads a handler starts itself do not inherit the layer unless they run
in a copied context (`contextvars.copy_context().run`); C code calling `getenv(3)` and child processes
see the process environment, not the layer; a module that bound `from os import environ` before the
runtime started keeps the original object.

    >>> with installed():
    ...     with layer({"GREETING": "hello", "HOME": None}):
    ...         os.environ.get("GREETING"), "HOME" in os.environ
    ('hello', False)
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

Layer = Mapping[str, str | None]  # None: the variable reads as unset

_LAYER: contextvars.ContextVar[Layer | None] = contextvars.ContextVar(
    "localcloud_fc_environment", default=None
)


class _Installation:
    """How many runtimes asked for the layered environ, and the `os.environ` to put back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.original: os._Environ[str] | None = None


_installation = _Installation()


class LayeredEnviron(os._Environ[str]):
    """`os.environ` that consults the current invocation's layer first (see the module docstring)."""

    def __init__(self, original: os._Environ[str]) -> None:
        # Same storage and codecs as the original: nothing written while installed is lost on removal.
        super().__init__(
            original._data,  # type: ignore[attr-defined]
            original.encodekey,  # type: ignore[attr-defined]
            original.decodekey,  # type: ignore[attr-defined]
            original.encodevalue,  # type: ignore[attr-defined]
            original.decodevalue,  # type: ignore[attr-defined]
        )

    def __getitem__(self, key: str) -> str:
        current = _LAYER.get()
        if current is not None and key in current:
            value = current[key]
            if value is None:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def __iter__(self) -> Iterator[str]:
        current = _LAYER.get()
        if current is None:
            yield from super().__iter__()
            return
        for key in list(super().__iter__()):
            if key not in current:
                yield key
        for key, value in current.items():
            if value is not None:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __repr__(self) -> str:
        return f"LayeredEnviron({dict(self)!r})"


def install() -> None:
    """Replace `os.environ` with a LayeredEnviron (counted: every install() needs its uninstall())."""
    with _installation.lock:
        if _installation.count == 0 and not isinstance(os.environ, LayeredEnviron):
            _installation.original = os.environ
            # Rebinding (not clearing) is the point: the layered object shares the original's storage.
            os.environ = LayeredEnviron(os.environ)  # noqa: B003
        _installation.count += 1


def uninstall() -> None:
    """Undo one install(); the last one puts the original `os.environ` back."""
    with _installation.lock:
        if _installation.count == 0:
            return
        _installation.count -= 1
        if _installation.count == 0 and _installation.original is not None:
            os.environ = _installation.original  # noqa: B003
            _installation.original = None


@contextlib.contextmanager
def installed() -> Iterator[None]:
    install()
    try:
        yield
    finally:
        uninstall()


@contextlib.contextmanager
def layer(values: Layer) -> Iterator[None]:
    """Apply `values` to `os.environ` reads in the current context (a thread or a copied context)."""
    token = _LAYER.set(dict(values))
    try:
        yield
    finally:
        _LAYER.reset(token)


def run_in_layer(values: Layer, function: Any, *args: Any) -> Any:
    """Call `function(*args)` in a fresh context whose environment layer is `values`."""
    context = contextvars.copy_context()
    context.run(_LAYER.set, dict(values))
    return context.run(function, *args)

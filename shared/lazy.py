"""Packages whose names load their module on first use (PEP 562), so importing one model does not import
them all at a function's cold start (issue 11).

    __getattr__ = names_loaded_on_use(__name__, {"AudioConvertRequest": "shared.ops.oss.convert"})
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["names_loaded_on_use"]


def names_loaded_on_use(package: str, module_of: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: a name in `module_of` is read from its module, imported then,
    and kept in the package so later lookups are plain attribute reads.

    >>> getattr_ = names_loaded_on_use("shared.ops", {"ASR_MAX_REQUEST_BYTES": "shared.ops.limits"})
    >>> getattr_("ASR_MAX_REQUEST_BYTES")
    10485760
    """

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

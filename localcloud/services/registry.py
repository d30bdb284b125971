"""The services localcloud runs, in start-up order (storage and messaging first: the others use them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localcloud.server import LocalCloud
    from localcloud.services.base import BaseService

SERVICE_FACTORIES: list[Callable[[LocalCloud], BaseService]] = []

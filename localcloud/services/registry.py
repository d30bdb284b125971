"""The services localcloud runs, in start-up order (storage and messaging first: the others use them).

Each entry names the module and class, imported only when that service is started, so `LocalCloud(...,
services=("oss", "mns"))` runs a subset (tests of one service need not load the speech engines).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from localcloud.ports import Host
    from localcloud.services.base import BaseService

SERVICES: dict[str, tuple[str, str]] = {
    "oss": ("localcloud.services.oss.service", "OssService"),
    "mns": ("localcloud.services.mns.service", "MnsService"),
    "imm": ("localcloud.services.imm", "ImmService"),
    "ice": ("localcloud.services.ice", "IceService"),
    "dashscope": ("localcloud.services.dashscope.service", "DashScopeService"),
}
ALL_SERVICES: tuple[str, ...] = tuple(SERVICES)


def build(name: str, cloud: Host) -> BaseService:
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    module_name, class_name = SERVICES[name]
    factory = getattr(importlib.import_module(module_name), class_name)
    service: BaseService = factory(cloud)
    return service

"""One small httpx client per service: OSS, MNS, IMM, ICE and DashScope, over a common base.

    >>> from shared.clients import OssClient, RetryPolicy
    >>> RetryPolicy().max_attempts
    4

Every client takes `http=` (a shared httpx.Client) or `transport=` (tests: httpx.MockTransport), explicit
`timeouts=` and a `retry=` policy, and raises only shared.errors (plus the subclasses in
`shared.clients.errors`). Names are imported on first use, so a function that talks only to OSS does not
pay, at cold start, for the DashScope and OpenAPI models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.clients.base import RequestBody, RetryPolicy, ServiceClient, Timeouts
    from shared.clients.dashscope import DashScopeClient
    from shared.clients.errors import (
        MalformedResponseError,
        NotFound,
        ObjectAlreadyExists,
        ObjectNotFound,
        ResponseTooLargeError,
        WaitTimeoutError,
    )
    from shared.clients.ice import IceClient
    from shared.clients.imm import ImmClient
    from shared.clients.mns import MnsClient, PublishResult, ReceivedMessage, SendResult, VisibilityResult
    from shared.clients.openapi import OpenApiClient
    from shared.clients.oss import ObjectDownload, OssClient
    from shared.clients.oss_models import ListResult, ObjectInfo, ObjectSummary, PutObjectResult

_EXPORTS = {
    "RequestBody": "shared.clients.base",
    "RetryPolicy": "shared.clients.base",
    "ServiceClient": "shared.clients.base",
    "Timeouts": "shared.clients.base",
    "DashScopeClient": "shared.clients.dashscope",
    "MalformedResponseError": "shared.clients.errors",
    "NotFound": "shared.clients.errors",
    "ObjectAlreadyExists": "shared.clients.errors",
    "ObjectNotFound": "shared.clients.errors",
    "ResponseTooLargeError": "shared.clients.errors",
    "WaitTimeoutError": "shared.clients.errors",
    "IceClient": "shared.clients.ice",
    "ImmClient": "shared.clients.imm",
    "MnsClient": "shared.clients.mns",
    "PublishResult": "shared.clients.mns",
    "ReceivedMessage": "shared.clients.mns",
    "SendResult": "shared.clients.mns",
    "VisibilityResult": "shared.clients.mns",
    "OpenApiClient": "shared.clients.openapi",
    "ObjectDownload": "shared.clients.oss",
    "OssClient": "shared.clients.oss",
    "ListResult": "shared.clients.oss_models",
    "ObjectInfo": "shared.clients.oss_models",
    "ObjectSummary": "shared.clients.oss_models",
    "PutObjectResult": "shared.clients.oss_models",
}

__all__ = [
    "DashScopeClient",
    "IceClient",
    "ImmClient",
    "ListResult",
    "MalformedResponseError",
    "MnsClient",
    "NotFound",
    "ObjectAlreadyExists",
    "ObjectDownload",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectSummary",
    "OpenApiClient",
    "OssClient",
    "PublishResult",
    "PutObjectResult",
    "ReceivedMessage",
    "RequestBody",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SendResult",
    "ServiceClient",
    "Timeouts",
    "VisibilityResult",
    "WaitTimeoutError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shared.clients' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

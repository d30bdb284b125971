"""The Function Compute 2.0 invocation context as a typed, immutable value.

FC's Python runtime hands every handler a context object (`context.request_id`,
`context.credentials.access_key_id`, `context.function.memory` …); localcloud's runtime hands a plain
dict with the same keys, or a simple object. `FcContext.from_fc()` accepts all three and refuses a
malformed one with an error naming the field (`context.function.memory`).

The service role's STS credentials ride along as `FcContext.credentials` but never appear in repr():
a context logged by accident leaks nothing.

Example:
    >>> ctx = FcContext.from_fc({"request_id": "r-1", "function": {"name": "on_upload", "memory": 512}})
    >>> ctx.function.name, ctx.function.memory, ctx.retry_count
    ('on_upload', 512, 0)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.auth.credentials import Credentials, FcContextCredentialsProvider
from shared.errors import CredentialsError, InvalidRequestError

_OPERATION = "FC context"


class FunctionInfo(NamedTuple):
    """`context.function`: which function runs, with its memory (MB) and timeout (s)."""

    name: str = ""
    handler: str = ""
    memory: int | None = None
    timeout: int | None = None


class ServiceInfo(NamedTuple):
    """`context.service`: the FC service, its Log Service destination and the invoked qualifier."""

    name: str = ""
    log_project: str = ""
    log_store: str = ""
    qualifier: str = ""
    version_id: str = ""


@dataclass(frozen=True)
class FcContext:
    """One invocation's context. Build it with `from_fc()` (FC or localcloud) or `local()` (tests)."""

    request_id: str
    function: FunctionInfo = field(default_factory=FunctionInfo)
    service: ServiceInfo = field(default_factory=ServiceInfo)
    region: str = ""
    account_id: str = ""
    retry_count: int = 0
    # The service role's STS credentials; None when the service has no role (or a local run has none).
    credentials: Credentials | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_fc(cls, source: object) -> FcContext:
        """Build from FC's context object, a dict with the same keys, or a simple object.

        Raises InvalidRequestError naming the field (`context.request_id`, `context.function.memory` …)
        and CredentialsError when the credentials are half present.

        >>> FcContext.from_fc({"request_id": "r-1"}).request_id
        'r-1'
        """
        if isinstance(source, FcContext):
            return source
        if source is None:
            raise InvalidRequestError.single("context", "required", "no FC context was given", _OPERATION)
        request_id = _text(source, "request_id", "context.request_id")
        if not request_id:
            raise InvalidRequestError.single(
                "context.request_id", "required", "the invocation has no request id", _OPERATION
            )
        function_source = _read(source, "function")
        service_source = _read(source, "service")
        function = FunctionInfo(
            name=_text(function_source, "name", "context.function.name"),
            handler=_text(function_source, "handler", "context.function.handler"),
            memory=_integer(function_source, "memory", "context.function.memory"),
            timeout=_integer(function_source, "timeout", "context.function.timeout"),
        )
        service = ServiceInfo(
            **{
                name: _text(service_source, name, f"context.service.{name}")
                for name in ("name", "log_project", "log_store", "qualifier", "version_id")
            }
        )
        return cls(
            request_id=request_id,
            function=function,
            service=service,
            region=_text(source, "region", "context.region"),
            account_id=_text(source, "account_id", "context.account_id"),
            retry_count=_integer(source, "retry_count", "context.retry_count") or 0,
            credentials=_credentials(source),
        )

    @classmethod
    def local(
        cls,
        *,
        function_name: str = "local-function",
        request_id: str | None = None,
        credentials: Credentials | None = None,
        region: str = "cn-hangzhou",
        account_id: str = "1234567890123456",
        retry_count: int = 0,
        handler: str = "index.handler",
        memory: int = 512,
        timeout: int = 60,
        service_name: str = "audiochain",
    ) -> FcContext:
        """A context for tests and local runs; the request id is a fresh UUID unless given.

        >>> FcContext.local(function_name="on_upload").function.name
        'on_upload'
        """
        return cls(
            request_id=request_id or str(uuid.uuid4()),
            function=FunctionInfo(name=function_name, handler=handler, memory=memory, timeout=timeout),
            service=ServiceInfo(name=service_name, qualifier="LATEST"),
            region=region,
            account_id=account_id,
            retry_count=retry_count,
            credentials=credentials,
        )

    def require_credentials(self) -> Credentials:
        """The context's credentials, or CredentialsError saying the service needs a role."""
        if self.credentials is None:
            raise CredentialsError(
                "the Function Compute context carries no credentials: give the service a role (RAM) "
                "or pass credentials explicitly"
            )
        return self.credentials

    def to_fc_dict(self) -> dict[str, Any]:
        """The dict form `from_fc()` reads back, credentials included (for localcloud's runtime)."""
        credentials = None
        if self.credentials is not None:
            credentials = {
                "access_key_id": self.credentials.access_key_id,
                "access_key_secret": self.credentials.access_key_secret,
                "security_token": self.credentials.security_token or "",
            }
        return {
            "request_id": self.request_id,
            "credentials": credentials,
            "function": {
                "name": self.function.name,
                "handler": self.function.handler,
                "memory": self.function.memory,
                "timeout": self.function.timeout,
            },
            "service": {
                "name": self.service.name,
                "log_project": self.service.log_project,
                "log_store": self.service.log_store,
                "qualifier": self.service.qualifier,
                "version_id": self.service.version_id,
            },
            "region": self.region,
            "account_id": self.account_id,
            "retry_count": self.retry_count,
        }


def _read(source: object, name: str) -> object | None:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def _text(source: object, name: str, wire_field: str) -> str:
    value = _read(source, name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError.single(
            wire_field, "string", f"must be a string, got {type(value).__name__}", _OPERATION
        )
    return str(value)


def _integer(source: object, name: str, wire_field: str) -> int | None:
    value = _read(source, name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRequestError.single(
            wire_field, "integer", "must be an integer, got a boolean", _OPERATION
        )
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        raise InvalidRequestError.single(
            wire_field, "integer", f"must be an integer, got {value!r}", _OPERATION
        )
    if number < 0:
        raise InvalidRequestError.single(
            wire_field, "non_negative", f"must not be negative ({number})", _OPERATION
        )
    return number


def _credentials(source: object) -> Credentials | None:
    raw = _read(source, "credentials")
    if raw is None or isinstance(raw, Credentials):
        return raw
    return FcContextCredentialsProvider({"credentials": raw}).find_credentials()

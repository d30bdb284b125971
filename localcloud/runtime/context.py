"""The context object handed to every handler, shaped like FC 2.0's Python runtime's, and the function's
environment variables.

Attributes, as FC names them: `request_id`, `credentials.access_key_id / .access_key_secret /
.security_token`, `function.name / .handler / .memory / .timeout`, `service.name / .log_project /
.log_store / .qualifier / .version_id`, `region`, `account_id`, `retry_count`.

Request ids: a fresh UUID per invocation. An asynchronous invocation keeps its request id across its
retries (FC reports one request id per asynchronous invocation - its destination record and its
invocation-status API name one id however many attempts ran), and `retry_count` counts the attempts
before the current one. An MNS topic trigger's push retries are new invocations to FC, so each gets a
new id with `retry_count` 0.

Credentials: localcloud's access key with a local STS token (`LOCAL_SECURITY_TOKEN`), so the code paths
that send `x-oss-security-token` / `x-acs-security-token` run; localcloud ignores the token.

    >>> context = FcContext.build(request_id="r-1", function=FunctionMeta("api", "index.handler", 512, 60),
    ...     service=ServiceMeta("audiochain"), credentials=FcCredentials("ak", "secret", "token"),
    ...     region="cn-hangzhou", account_id="1", retry_count=0)
    >>> context.function.memory, context.credentials.security_token
    (512, 'token')
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shared import env

LOCAL_SECURITY_TOKEN = "localcloud-sts-token"
QUALIFIER = "LATEST"


@dataclass(frozen=True)
class FcCredentials:
    access_key_id: str
    access_key_secret: str
    security_token: str

    def __repr__(self) -> str:
        return (
            f"FcCredentials(access_key_id={self.access_key_id!r}, access_key_secret=***, security_token=***)"
        )


@dataclass(frozen=True)
class FunctionMeta:
    name: str
    handler: str
    memory: int
    timeout: int
    initializer: str | None = None
    initialization_timeout: int | None = None


@dataclass(frozen=True)
class ServiceMeta:
    name: str
    log_project: str = ""
    log_store: str = ""
    qualifier: str = QUALIFIER
    version_id: str = ""


@dataclass(frozen=True)
class FcContext:
    """What a handler receives as `context` (attributes only, as FC's object offers them)."""

    request_id: str
    credentials: FcCredentials
    function: FunctionMeta
    service: ServiceMeta
    region: str
    account_id: str
    retry_count: int = 0

    @classmethod
    def build(
        cls,
        *,
        request_id: str,
        function: FunctionMeta,
        service: ServiceMeta,
        credentials: FcCredentials,
        region: str,
        account_id: str,
        retry_count: int = 0,
    ) -> FcContext:
        return cls(request_id, credentials, function, service, region, account_id, retry_count)

    def as_dict(self) -> dict[str, Any]:
        """The same data as plain dicts (what `shared.runtime.context.FcContext.from_fc` also reads)."""
        return {
            "request_id": self.request_id,
            "credentials": {
                "access_key_id": self.credentials.access_key_id,
                "access_key_secret": self.credentials.access_key_secret,
                "security_token": self.credentials.security_token,
            },
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


def new_request_id() -> str:
    return str(uuid.uuid4())


# Variables audiochain reads, hidden from every function that does not set them itself, so that values
# from the developer's shell (real credentials, real endpoints) never reach a local invocation.
HIDDEN_BY_DEFAULT = frozenset(
    value
    for name, value in vars(env).items()
    if name.isupper() and isinstance(value, str) and not name.startswith("_")
)


def function_environment(
    *,
    template_variables: dict[str, str],
    function: FunctionMeta,
    service: ServiceMeta,
    credentials: FcCredentials,
    region: str,
    account_id: str,
    endpoint: str,
    instance_id: str,
) -> dict[str, str]:
    """One function's variables: the template's, then FC's own, credentials and localcloud's endpoints.

    FC's variables, the credentials and the endpoint overrides win over the template: a local run must
    never reach a real endpoint with a value copied from a deployment.
    """
    values = dict(template_variables)
    values.update(
        {
            env.FC_FUNCTION_NAME: function.name,
            env.FC_SERVICE_NAME: service.name,
            env.FC_REGION: region,
            env.FC_ACCOUNT_ID: account_id,
            env.FC_FUNCTION_MEMORY_SIZE: str(function.memory),
            env.FC_QUALIFIER: service.qualifier,
            env.FC_INSTANCE_ID: instance_id,
            "FC_FUNCTION_HANDLER": function.handler,
            "FC_FUNCTION_TIMEOUT": str(function.timeout),
            env.ALIBABA_CLOUD_ACCESS_KEY_ID: credentials.access_key_id,
            env.ALIBABA_CLOUD_ACCESS_KEY_SECRET: credentials.access_key_secret,
            env.ALIBABA_CLOUD_SECURITY_TOKEN: credentials.security_token,
            env.AUDIOCHAIN_OSS_ENDPOINT: endpoint,
            env.AUDIOCHAIN_MNS_ENDPOINT: endpoint,
            env.AUDIOCHAIN_IMM_ENDPOINT: endpoint,
            env.AUDIOCHAIN_ICE_ENDPOINT: endpoint,
            env.AUDIOCHAIN_DASHSCOPE_ENDPOINT: endpoint,
        }
    )
    return values


def environment_layer(own: dict[str, str], hidden: frozenset[str]) -> dict[str, str | None]:
    """The layer for one function: its own values, and every other known name read as unset."""
    layer: dict[str, str | None] = dict.fromkeys(hidden - set(own))
    layer.update(own)
    return layer

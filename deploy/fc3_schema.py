"""The Serverless Devs `fc3` properties our s.yaml uses, as strict pydantic models (offline validation).

Modelled on the component's own JSON Schema (devsapp/fc3, src/schema.json: the function properties, ITrigger,
IOssTriggerConfig, IMnsTriggerConfig, ITimerTriggerConfig, IHttpTriggerConfig, IAsyncInvokeConfig, ILogConfig,
IRuntime) and its test projects (__tests__/e2e/trigger/other/s.yaml). Only what we use is modelled, and
nothing else is allowed: an unknown or misspelt property, or a trigger whose config does not fit its type,
fails here instead of at `s deploy`.

    >>> document = {"edition": "3.0.0", "name": "x", "resources": {"f": {"component": "fc3", "props": {
    ...     "region": "cn-hangzhou", "functionName": "f", "runtime": "python3.10", "handler": "index.handler",
    ...     "code": "build/f.zip"}}}}
    >>> validate_s_yaml(document).resources["f"].props.runtime
    'python3.10'
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import Self

from shared.errors import ConfigurationError

__all__ = ["FunctionProps", "SYaml", "Trigger", "validate_s_yaml"]

# IRuntime: the Python runtimes the component accepts.
PythonRuntime = Literal["python3.9", "python3.10", "python3.12"]
OssEvent = Literal[
    "oss:ObjectCreated:*",
    "oss:ObjectCreated:PutObject",
    "oss:ObjectCreated:PostObject",
    "oss:ObjectCreated:CopyObject",
    "oss:ObjectCreated:CompleteMultipartUpload",
    "oss:ObjectCreated:AppendObject",
]
HttpMethod = Literal["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OssKeyFilter(_Strict):
    prefix: str
    suffix: str


class OssFilter(_Strict):
    key: OssKeyFilter


class OssTriggerConfig(_Strict):
    events: list[OssEvent] = Field(min_length=1)
    filter: OssFilter


class MnsTriggerConfig(_Strict):
    notifyContentFormat: Literal["JSON", "STREAM"]
    notifyStrategy: Literal["BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"]
    filterTag: str | None = None


class TimerTriggerConfig(_Strict):
    cronExpression: str = Field(pattern=r"^(\S+\s+){5}\S+$", description="Six fields, seconds first (UTC).")
    enable: bool
    payload: str | None = None


class HttpTriggerConfig(_Strict):
    authType: Literal["anonymous", "function", "jwt"]
    methods: list[HttpMethod] = Field(min_length=1)
    disableURLInternet: bool | None = None


_TRIGGER_CONFIGS: dict[str, type[_Strict]] = {
    "oss": OssTriggerConfig,
    "mns_topic": MnsTriggerConfig,
    "timer": TimerTriggerConfig,
    "http": HttpTriggerConfig,
}


class Trigger(_Strict):
    triggerName: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
    triggerType: Literal["oss", "mns_topic", "timer", "http"]
    triggerConfig: dict[str, Any]
    sourceArn: str | None = None
    invocationRole: str | None = None
    qualifier: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _config_fits_the_type(self) -> Self:
        _TRIGGER_CONFIGS[self.triggerType].model_validate(self.triggerConfig)
        if self.triggerType in ("oss", "mns_topic") and not self.sourceArn:
            raise ValueError(
                f"a {self.triggerType} trigger needs sourceArn (the bucket or topic it listens to)"
            )
        return self


class Destination(_Strict):
    destination: str


class DestinationConfig(_Strict):
    onFailure: Destination | None = None
    onSuccess: Destination | None = None


class AsyncInvokeConfig(_Strict):
    maxAsyncRetryAttempts: int = Field(ge=0, le=8)
    maxAsyncEventAgeInSeconds: int = Field(ge=1, le=2_592_000)
    destinationConfig: DestinationConfig | None = None


class LogConfig(_Strict):
    project: str
    logstore: str
    enableRequestMetrics: bool | None = None
    enableInstanceMetrics: bool | None = None


class Hook(_Strict):
    handler: str
    timeout: int = Field(ge=1, le=600)


class InstanceLifecycleConfig(_Strict):
    initializer: Hook | None = None
    preStop: Hook | None = None


class FunctionProps(_Strict):
    region: str
    functionName: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
    runtime: PythonRuntime
    handler: str
    code: str
    description: str | None = None
    memorySize: int | None = Field(None, ge=128, le=32768, multiple_of=64)
    timeout: int | None = Field(None, ge=1, le=86400)
    internetAccess: bool | None = None
    role: str | None = None
    logConfig: LogConfig | None = None
    environmentVariables: dict[str, str] = Field(default_factory=dict)
    instanceLifecycleConfig: InstanceLifecycleConfig | None = None
    asyncInvokeConfig: AsyncInvokeConfig | None = None
    triggers: list[Trigger] = Field(default_factory=list)


class Resource(_Strict):
    component: Literal["fc3"]
    props: FunctionProps


class SYaml(_Strict):
    edition: Literal["3.0.0"]
    name: str
    access: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    resources: dict[str, Resource] = Field(min_length=1)


def validate_s_yaml(document: object) -> SYaml:
    """The document as an SYaml; ConfigurationError listing each problem with its path."""
    try:
        return SYaml.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"s.yaml: {problems}") from None

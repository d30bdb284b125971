"""template.yaml (Fun / ROS `Aliyun::Serverless-2018-04-03`) read into the typed model the runtime runs.

`load_template(path, parameters=..., region=..., account_id=...)` parses the YAML (safe_load: YAML tags
such as `!Ref` are refused, as Fun's loader refuses them), resolves the parameters and the `Ref` /
`Fn::Sub` intrinsics (intrinsics.py), and checks what the runtime relies on. Every refusal is a
TemplateError whose message starts with the template location (`Resources/audiochain/on_upload/
Properties/Timeout: ...`).

Functions are keys nested inside an `Aliyun::Serverless::Service` resource. Defaults follow Fun:
`Timeout` 3 s, `MemorySize` 128 MB, `InstanceConcurrency` 1, `InitializationTimeout` 3 s; an
`AsyncConfiguration` absent or silent on retries means 3 retries and a maximum event age of 86400 s.
Trigger models and their checks live in triggers_spec.py.

    >>> template = load_template(Path("template.yaml"), parameters={"ApiToken": "t" * 32,
    ...                          "DashScopeApiKey": "sk-local"})                       # doctest: +SKIP
    >>> template.function("on_upload").async_config.max_retry_attempts                   # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localcloud.runtime.intrinsics import (
    PSEUDO_ACCOUNT_ID,
    PSEUDO_REGION,
    PSEUDO_STACK_ID,
    PSEUDO_STACK_NAME,
    Scope,
    TemplateError,
    resolve_intrinsics,
    resolve_parameters,
)
from localcloud.runtime.triggers_spec import Destination, Trigger, parse_destination, parse_trigger

SERVICE_TYPE = "Aliyun::Serverless::Service"
FUNCTION_TYPE = "Aliyun::Serverless::Function"
LOCAL_STACK_NAME = "localcloud"

_SERVICE_KEYS = frozenset({"Type", "Properties", "DependsOn", "Metadata"})
_FUNCTION_KEYS = frozenset({"Type", "Properties", "Events", "DependsOn", "Metadata"})
_FUNCTION_PROPERTIES = frozenset(
    {
        "Handler",
        "Runtime",
        "CodeUri",
        "Initializer",
        "InitializationTimeout",
        "MemorySize",
        "Timeout",
        "EnvironmentVariables",
        "InstanceConcurrency",
        "Layers",
        "AsyncConfiguration",
        "Description",
        "InstanceType",
        "CAPort",
        "CustomContainerConfig",
        "InstanceLifecycleConfig",
    }
)
_ASYNC_PROPERTIES = frozenset(
    {"Destination", "MaxAsyncEventAgeInSeconds", "MaxAsyncRetryAttempts", "StatefulInvocation"}
)
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
DEFAULT_INITIALIZATION_TIMEOUT = 3
DEFAULT_ASYNC_RETRIES = 3
DEFAULT_EVENT_AGE = 86400


@dataclass(frozen=True)
class AsyncConfig:
    """`AsyncConfiguration`: how failed asynchronous invocations are retried and where results go."""

    max_retry_attempts: int = DEFAULT_ASYNC_RETRIES
    max_event_age_seconds: int = DEFAULT_EVENT_AGE
    on_success: Destination | None = None
    on_failure: Destination | None = None
    stateful: bool = False


@dataclass(frozen=True)
class FunctionSpec:
    """One function, its resolved properties and its triggers."""

    service: str
    name: str
    handler: str
    runtime: str
    code_uri: str
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    instance_concurrency: int = 1
    initializer: str | None = None
    initialization_timeout: int = DEFAULT_INITIALIZATION_TIMEOUT
    environment: Mapping[str, str] = field(default_factory=dict)
    async_config: AsyncConfig = field(default_factory=AsyncConfig)
    triggers: tuple[Trigger, ...] = ()

    @property
    def location(self) -> str:
        return f"Resources/{self.service}/{self.name}"

    def arn(self, region: str, account_id: str) -> str:
        return f"acs:fc:{region}:{account_id}:services/{self.service}.LATEST/functions/{self.name}"

    def trigger(self, name: str) -> Trigger:
        for trigger in self.triggers:
            if trigger.name == name:
                return trigger
        known = ", ".join(t.name for t in self.triggers) or "none"
        raise LookupError(f"function {self.name} has no trigger {name!r} (its triggers: {known})")


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    log_project: str = ""
    log_store: str = ""
    functions: tuple[FunctionSpec, ...] = ()


@dataclass(frozen=True)
class Template:
    """The resolved template: services with their functions, and the parameter values used."""

    source: str
    services: tuple[ServiceSpec, ...]
    parameters: Mapping[str, str]
    parameter_specs: Mapping[str, Mapping[str, Any]]
    region: str
    account_id: str

    @property
    def functions(self) -> tuple[FunctionSpec, ...]:
        return tuple(function for service in self.services for function in service.functions)

    def service(self, name: str) -> ServiceSpec:
        for service in self.services:
            if service.name == name:
                return service
        raise LookupError(f"{self.source} has no service {name!r}")

    def function(self, name: str) -> FunctionSpec:
        """A function by name, or by `service/name` when several services define the same name."""
        service_name, _, function_name = name.rpartition("/")
        found = [
            f
            for f in self.functions
            if f.name == function_name and (not service_name or f.service == service_name)
        ]
        if not found:
            known = ", ".join(f.name for f in self.functions) or "none"
            raise LookupError(f"{self.source} has no function {name!r} (its functions: {known})")
        if len(found) > 1:
            raise LookupError(f"function name {name!r} is ambiguous: write it as service/function")
        return found[0]


def load_template(
    path: Path,
    *,
    parameters: Mapping[str, str] | None = None,
    region: str,
    account_id: str,
) -> Template:
    """Read, resolve and check a template file; TemplateError (a ConfigurationError) names the location."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(str(path), f"cannot read the template ({exc.strerror or exc})") from None
    return parse_template(
        read_document(text, str(path)),
        source=str(path),
        parameters=parameters or {},
        region=region,
        account_id=account_id,
    )


def read_document(text: str, source: str) -> dict[str, Any]:
    """The template's YAML document; YAML tags and anything but a mapping with `Resources` are refused."""
    try:
        document = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        raise TemplateError(
            source, f"{exc.problem}: write intrinsic functions in their long form (`Ref:`, `Fn::Sub:`)"
        ) from None
    except yaml.YAMLError as exc:
        raise TemplateError(source, f"not valid YAML ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(source, "the template must be a mapping with a `Resources` mapping")
    return document


def declared_parameters(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    section = document.get("Parameters") or {}
    if not isinstance(section, Mapping):
        raise TemplateError("Parameters", "must be a mapping of parameter names to their declarations")
    declared: dict[str, Mapping[str, Any]] = {}
    for name, spec in section.items():
        if not isinstance(spec, Mapping):
            raise TemplateError(f"Parameters/{name}", "must be a mapping (Type, Default, ...)")
        declared[str(name)] = spec
    return declared


def parse_template(
    document: Mapping[str, Any],
    *,
    source: str,
    parameters: Mapping[str, str],
    region: str,
    account_id: str,
) -> Template:
    declared = declared_parameters(document)
    values = resolve_parameters(declared, parameters)
    resources: Mapping[str, Any] = document["Resources"]
    scope = Scope(
        parameters=values,
        pseudo={
            PSEUDO_REGION: region,
            PSEUDO_ACCOUNT_ID: account_id,
            PSEUDO_STACK_NAME: LOCAL_STACK_NAME,
            PSEUDO_STACK_ID: LOCAL_STACK_NAME,
        },
        resources=frozenset(str(name) for name in resources),
    )
    services: list[ServiceSpec] = []
    for name, resource in resources.items():
        if isinstance(resource, Mapping) and resource.get("Type") == SERVICE_TYPE:
            services.append(_service(str(name), resource, scope, region, account_id))
    if not any(service.functions for service in services):
        raise TemplateError(
            f"{source}: Resources", f"defines no {FUNCTION_TYPE} inside an {SERVICE_TYPE} resource"
        )
    return Template(
        source=source,
        services=tuple(services),
        parameters=values,
        parameter_specs=declared,
        region=region,
        account_id=account_id,
    )


def _service(
    name: str, resource: Mapping[str, Any], scope: Scope, region: str, account_id: str
) -> ServiceSpec:
    location = f"Resources/{name}"
    properties = resolve_intrinsics(resource.get("Properties") or {}, scope, f"{location}/Properties")
    if not isinstance(properties, Mapping):
        raise TemplateError(f"{location}/Properties", "must be a mapping")
    log_config = properties.get("LogConfig") or {}
    if not isinstance(log_config, Mapping):
        raise TemplateError(f"{location}/Properties/LogConfig", "must be a mapping")
    functions = []
    for key, value in resource.items():
        if key in _SERVICE_KEYS:
            continue
        if not isinstance(value, Mapping) or value.get("Type") != FUNCTION_TYPE:
            raise TemplateError(f"{location}/{key}", f"only {FUNCTION_TYPE} resources may nest in a service")
        functions.append(_function(name, str(key), value, scope, region=region, account_id=account_id))
    return ServiceSpec(
        name=name,
        log_project=str(log_config.get("Project") or ""),
        log_store=str(log_config.get("Logstore") or ""),
        functions=tuple(functions),
    )


def _function(
    service: str, name: str, resource: Mapping[str, Any], scope: Scope, *, region: str, account_id: str
) -> FunctionSpec:
    location = f"Resources/{service}/{name}"
    unexpected = sorted(set(resource) - _FUNCTION_KEYS)
    if unexpected:
        raise TemplateError(location, f"unknown key(s) {', '.join(unexpected)}")
    here = f"{location}/Properties"
    properties = resolve_intrinsics(resource.get("Properties") or {}, scope, here)
    if not isinstance(properties, Mapping):
        raise TemplateError(here, "must be a mapping")
    unknown = sorted(set(properties) - _FUNCTION_PROPERTIES)
    if unknown:
        raise TemplateError(here, f"unknown property(ies) {', '.join(unknown)}")
    runtime = _text(properties, "Runtime", here, required=True)
    if not runtime.startswith("python3"):
        raise TemplateError(
            f"{here}/Runtime", f"the local runtime runs Python functions only (got {runtime!r})"
        )
    triggers_source = resolve_intrinsics(resource.get("Events") or {}, scope, f"{location}/Events")
    if not isinstance(triggers_source, Mapping):
        raise TemplateError(f"{location}/Events", "must be a mapping of trigger names to triggers")
    triggers = tuple(
        parse_trigger(str(trigger_name), spec, f"{location}/Events/{trigger_name}", region)
        for trigger_name, spec in triggers_source.items()
    )
    kinds = {type(trigger).__name__ for trigger in triggers}
    if "HttpTrigger" in kinds and len(kinds) > 1:
        raise TemplateError(
            f"{location}/Events", "a function with an HTTP trigger can have no other trigger type"
        )
    return FunctionSpec(
        service=service,
        name=name,
        handler=_entry_point(properties, "Handler", here, required=True) or "",
        runtime=runtime,
        code_uri=_text(properties, "CodeUri", here, required=True),
        timeout=_integer(properties, "Timeout", here, DEFAULT_TIMEOUT, low=1, high=86400),
        memory=_integer(properties, "MemorySize", here, DEFAULT_MEMORY, low=128, high=32768),
        instance_concurrency=_integer(properties, "InstanceConcurrency", here, 1, low=1, high=200),
        initializer=_entry_point(properties, "Initializer", here, required=False),
        initialization_timeout=_integer(
            properties, "InitializationTimeout", here, DEFAULT_INITIALIZATION_TIMEOUT, low=1, high=300
        ),
        environment=_environment(properties.get("EnvironmentVariables"), f"{here}/EnvironmentVariables"),
        async_config=_async_config(
            properties.get("AsyncConfiguration"), f"{here}/AsyncConfiguration", region, account_id
        ),
        triggers=triggers,
    )


def _text(properties: Mapping[str, Any], name: str, location: str, *, required: bool) -> str:
    value = properties.get(name)
    if value is None:
        if required:
            raise TemplateError(location, f"the required property {name} is missing")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise TemplateError(f"{location}/{name}", f"must be a non-empty string (got {value!r})")
    return value


def _entry_point(properties: Mapping[str, Any], name: str, location: str, *, required: bool) -> str | None:
    value = _text(properties, name, location, required=required)
    if not value:
        return None
    module, _, attribute = value.rpartition(".")
    if not module or not attribute.isidentifier() or not all(p.isidentifier() for p in module.split(".")):
        raise TemplateError(
            f"{location}/{name}", f"must be written module.function, e.g. index.handler (got {value!r})"
        )
    return value


def _integer(
    properties: Mapping[str, Any], name: str, location: str, default: int, *, low: int, high: int
) -> int:
    value = properties.get(name, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TemplateError(f"{location}/{name}", f"must be an integer from {low} to {high} (got {value!r})")
    return value


def _environment(value: Any, location: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TemplateError(location, "must be a mapping of variable names to values")
    environment: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise TemplateError(f"{location}/{key}", "is not a valid environment variable name")
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise TemplateError(f"{location}/{key}", f"must be text (got {type(item).__name__})")
        environment[key] = str(item)
    return environment


def _async_config(value: Any, location: str, region: str, account_id: str) -> AsyncConfig:
    if value is None:
        return AsyncConfig()
    if not isinstance(value, Mapping):
        raise TemplateError(location, "must be a mapping")
    unknown = sorted(set(value) - _ASYNC_PROPERTIES)
    if unknown:
        raise TemplateError(location, f"unknown property(ies) {', '.join(unknown)}")
    destination = value.get("Destination") or {}
    if not isinstance(destination, Mapping) or set(destination) - {"OnSuccess", "OnFailure"}:
        raise TemplateError(f"{location}/Destination", "must be a mapping with OnSuccess and/or OnFailure")
    stateful = value.get("StatefulInvocation", False)
    if not isinstance(stateful, bool):
        raise TemplateError(f"{location}/StatefulInvocation", "must be true or false")
    return AsyncConfig(
        max_retry_attempts=_integer(
            value, "MaxAsyncRetryAttempts", location, DEFAULT_ASYNC_RETRIES, low=0, high=8
        ),
        max_event_age_seconds=_integer(
            value, "MaxAsyncEventAgeInSeconds", location, DEFAULT_EVENT_AGE, low=1, high=604800
        ),
        on_success=_destination(
            destination.get("OnSuccess"), f"{location}/Destination/OnSuccess", region, account_id
        ),
        on_failure=_destination(
            destination.get("OnFailure"), f"{location}/Destination/OnFailure", region, account_id
        ),
        stateful=stateful,
    )


def _destination(value: Any, location: str, region: str, account_id: str) -> Destination | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TemplateError(location, "must be a destination ARN (acs:mns:... or acs:fc:...)")
    return parse_destination(value, location, region=region, account_id=account_id)

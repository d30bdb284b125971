"""Reading `template.yaml` (Fun / ROS `Aliyun::Serverless-2018-04-03`) into plain data.

Functions are keys nested in an `Aliyun::Serverless::Service` resource beside `Type` and `Properties`.
Parameters are referenced with the long forms `{"Ref": name}` and `{"Fn::Sub": text}`.

    >>> template = parse_template("Resources:\\n  svc:\\n    Type: 'Aliyun::Serverless::Service'\\n"
    ...                           "    fn:\\n      Type: 'Aliyun::Serverless::Function'\\n")
    >>> [function.name for function in iter_functions(template)]
    ['fn']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shared.errors import ConfigurationError

SERVICE_TYPE = "Aliyun::Serverless::Service"
FUNCTION_TYPE = "Aliyun::Serverless::Function"
_SERVICE_KEYS = frozenset({"Type", "Properties", "DependsOn"})
_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template: where it sits and what it declares."""

    service: str
    name: str
    properties: Mapping[str, Any]
    events: Mapping[str, Any]

    @property
    def path(self) -> str:
        """The function's path in the template, written as Fun writes it (slash-separated)."""
        return f"Resources/{self.service}/{self.name}"


def load_template(path: Path) -> dict[str, Any]:
    """Read and parse a template file; a missing, unreadable or malformed file raises ConfigurationError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: no such template file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{path}: cannot be read ({exc})") from exc
    return parse_template(text, source=str(path))


def parse_template(text: str, *, source: str = "template") -> dict[str, Any]:
    """Parse template text. Short-form tags (`!Ref`) are refused: Fun's loader cannot read them either."""
    try:
        data = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        raise ConfigurationError(
            f"{source}: {exc.problem} - write intrinsic functions in their long form (`Ref:`, `Fn::Sub:`); "
            "Fun's loader rejects YAML tags such as !Ref"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: the template must be a mapping at the top level")
    resources = data.get("Resources")
    if not isinstance(resources, dict):
        raise ConfigurationError(f"{source}: `Resources` must be a mapping")
    return data


def iter_services(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every `Aliyun::Serverless::Service` resource as (name, resource)."""
    for name, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, Mapping) and resource.get("Type") == SERVICE_TYPE:
            yield str(name), resource


def iter_functions(template: Mapping[str, Any]) -> Iterator[FunctionSpec]:
    """Every function nested in a service, in template order."""
    for service_name, service in iter_services(template):
        for key, value in service.items():
            if key in _SERVICE_KEYS or not isinstance(value, Mapping):
                continue
            if value.get("Type") != FUNCTION_TYPE:
                continue
            properties = value.get("Properties")
            events = value.get("Events")
            yield FunctionSpec(
                service=service_name,
                name=str(key),
                properties=properties if isinstance(properties, Mapping) else {},
                events=events if isinstance(events, Mapping) else {},
            )


def parameters(template: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    """The `Parameters` section ({} when absent)."""
    section = template.get("Parameters")
    if not isinstance(section, Mapping):
        return {}
    return {str(name): spec for name, spec in section.items() if isinstance(spec, Mapping)}


def referenced_parameter(value: object) -> str | None:
    """The parameter name of a `{"Ref": name}` value, None for anything else."""
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


def text_shape(value: object) -> str | None:
    """The text a string-valued property will have, with each `${...}` of an `Fn::Sub` shown as `{...}`.

    Used to check the shape of ARNs whose parts come from parameters. None when the value is neither a
    string nor a one-string `Fn::Sub`.

    >>> text_shape({"Fn::Sub": "acs:mns:${ALIYUN::Region}:/queues/${Queue}/messages"})
    'acs:mns:{ALIYUN-Region}:/queues/{Queue}/messages'
    """
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
        # Colons inside pseudo-parameter names would confuse ARN field splitting.
        return _SUB_PLACEHOLDER.sub(lambda m: "{" + m.group(1).replace("::", "-") + "}", value["Fn::Sub"])
    return None

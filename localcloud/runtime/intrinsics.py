"""Template parameters and the two intrinsic functions audiochain's template uses: `Ref` and `Fn::Sub`.

ROS (and Fun) resolve a template in two steps, and so does this module:

1. `resolve_parameters(declared, given)` gives every declared parameter its value - the one given, else
   its `Default` - checked against `Type`, `AllowedValues`, `AllowedPattern`, `MinLength`/`MaxLength` and
   `MinValue`/`MaxValue`. A parameter with neither is an error naming it.
2. `resolve_intrinsics(value, scope, location)` replaces, anywhere in a property tree, `{"Ref": name}`
   with the parameter's (or pseudo parameter's) value and `{"Fn::Sub": text}` / `{"Fn::Sub": [text,
   {name: value}]}` with the text whose `${name}` placeholders are filled in (`${!name}` is the literal
   `${name}`). A `Ref` to a resource gives the resource's name, as ROS gives its physical id.

Pseudo parameters: `ALIYUN::Region`, `ALIYUN::AccountId`, `ALIYUN::StackName`, `ALIYUN::StackId`.
Other intrinsic functions (`Fn::Join`, `Fn::GetAtt` ...) are refused with the location named: the
runtime would otherwise run with a value nobody wrote.

    >>> scope = Scope({"Bucket": "media"}, {"ALIYUN::Region": "cn-hangzhou"})
    >>> resolve_intrinsics({"Fn::Sub": "acs:oss:${ALIYUN::Region}:*:${Bucket}"}, scope, "Resources/x")
    'acs:oss:cn-hangzhou:*:media'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ConfigurationError

PSEUDO_REGION = "ALIYUN::Region"
PSEUDO_ACCOUNT_ID = "ALIYUN::AccountId"
PSEUDO_STACK_NAME = "ALIYUN::StackName"
PSEUDO_STACK_ID = "ALIYUN::StackId"

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_PARAMETER_TYPES = frozenset({"String", "Number", "CommaDelimitedList", "Boolean", "Json"})


class TemplateError(ConfigurationError):
    """A template the local runtime cannot run; `location` is the path in the template (`Resources/...`)."""

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location


@dataclass(frozen=True)
class Scope:
    """What `Ref` and `${...}` may name: parameters, pseudo parameters and resource names."""

    parameters: Mapping[str, str]
    pseudo: Mapping[str, str]
    resources: frozenset[str] = field(default_factory=frozenset)

    def lookup(self, name: str, location: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return name
        raise TemplateError(location, f"refers to {name!r}, which is neither a parameter nor a resource")


def resolve_parameters(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, str], *, location: str = "Parameters"
) -> dict[str, str]:
    """Every declared parameter's value as text (given beats Default), checked against its constraints."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise TemplateError(
            location,
            f"no parameter named {', '.join(map(repr, unknown))} is declared "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
        )
    values: dict[str, str] = {}
    missing: list[str] = []
    for name, spec in declared.items():
        here = f"{location}/{name}"
        if name in given:
            value = given[name]
        elif "Default" in spec:
            value = _scalar_text(spec["Default"], f"{here}/Default")
        else:
            missing.append(name)
            continue
        check_parameter(name, spec, value, here)
        values[name] = value
    if missing:
        raise TemplateError(
            location,
            f"parameter(s) {', '.join(missing)} have no Default and were not given a value "
            "(pass --parameter Name=Value)",
        )
    return values


def check_parameter(name: str, spec: Mapping[str, Any], value: str, location: str) -> None:
    """Refuse a value that breaks one of the parameter's declared constraints."""
    kind = spec.get("Type", "String")
    if kind not in _PARAMETER_TYPES:
        raise TemplateError(f"{location}/Type", f"must be one of {', '.join(sorted(_PARAMETER_TYPES))}")
    shown = "(hidden)" if spec.get("NoEcho") else repr(value)
    if kind == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(location, f"{name} must be a number, got {shown}") from None
        for bound, beyond in (("MinValue", number.__lt__), ("MaxValue", number.__gt__)):
            if bound in spec and beyond(float(spec[bound])):
                raise TemplateError(location, f"{name} breaks {bound} {spec[bound]} (got {shown})")
    if kind == "Boolean" and value.lower() not in ("true", "false"):
        raise TemplateError(location, f"{name} must be true or false, got {shown}")
    if kind == "Json":
        try:
            json.loads(value)
        except json.JSONDecodeError:
            raise TemplateError(location, f"{name} must be JSON text, got {shown}") from None
    allowed = spec.get("AllowedValues")
    if isinstance(allowed, list) and value not in [_scalar_text(item, location) for item in allowed]:
        raise TemplateError(location, f"{name} must be one of {allowed} (got {shown})")
    pattern = spec.get("AllowedPattern")
    if isinstance(pattern, str) and re.fullmatch(pattern, value) is None:
        raise TemplateError(location, f"{name} must match AllowedPattern {pattern!r} (got {shown})")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise TemplateError(location, f"{name} must be at least {spec['MinLength']} characters long")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise TemplateError(location, f"{name} must be at most {spec['MaxLength']} characters long")


def resolve_intrinsics(value: Any, scope: Scope, location: str) -> Any:
    """`value` with every `Ref` and `Fn::Sub` replaced by text; other intrinsic functions are refused."""
    if isinstance(value, Mapping):
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                if not isinstance(argument, str):
                    raise TemplateError(location, "Ref takes the name of a parameter or resource")
                return scope.lookup(argument, location)
            if key == "Fn::Sub":
                return _substitute(argument, scope, location)
            if isinstance(key, str) and key.startswith("Fn::"):
                raise TemplateError(location, f"the intrinsic function {key} is not supported locally")
        return {key: resolve_intrinsics(item, scope, f"{location}/{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_intrinsics(item, scope, f"{location}/{index}") for index, item in enumerate(value)]
    return value


def _substitute(argument: Any, scope: Scope, location: str) -> str:
    local: Mapping[str, Any] = {}
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], Mapping):
        text, local = argument[0], argument[1]
    else:
        text = argument
    if not isinstance(text, str):
        raise TemplateError(location, "Fn::Sub takes a string, or a list of a string and a mapping")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in local:
            return _scalar_text(resolve_intrinsics(local[name], scope, location), location)
        if "." in name and name.split(".", 1)[0] in scope.resources:
            raise TemplateError(location, f"${{{name}}} reads a resource attribute, which is not supported")
        return scope.lookup(name, location)

    return _PLACEHOLDER.sub(fill, text)


def _scalar_text(value: Any, location: str) -> str:
    """Parameter values are text in ROS; YAML may have read a number or a boolean."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return ",".join(str(item) for item in value)
    raise TemplateError(location, f"must be text, got {type(value).__name__}")

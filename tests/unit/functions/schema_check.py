"""A JSON Schema (2020-12) checker for the keywords pydantic's schemas and the OpenAPI document use.

Small on purpose (no dependency beyond the project's), and strict: a keyword it does not know fails
the check rather than being skipped, so a schema it cannot judge never passes silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly"}
)
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaError(AssertionError):
    pass


def validate(instance: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str = "$") -> None:
    """Raise SchemaError naming the path where `instance` breaks `schema` (refs resolved in `document`)."""
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS:
            continue
        check = _KEYWORDS.get(keyword)
        if check is None:
            raise SchemaError(f"{path}: the checker does not know the keyword {keyword!r}")
        check(instance, value, schema, document, path)


def _ref(instance: Any, ref: str, schema: Mapping[str, Any], document: Mapping[str, Any], path: str) -> None:
    if not ref.startswith("#/"):
        raise SchemaError(f"{path}: only local references are supported, not {ref!r}")
    target: Any = document
    for part in ref[2:].split("/"):
        if part not in target:
            raise SchemaError(f"{path}: the reference {ref!r} resolves to nothing")
        target = target[part]
    validate(instance, target, document, path)


def _is(instance: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if name == "number":
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)
    return isinstance(instance, _TYPES[name])


def _type(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    names = value if isinstance(value, list) else [value]
    if not any(_is(instance, name) for name in names):
        raise SchemaError(f"{path}: {instance!r} is not of type {value}")


def _properties(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if isinstance(instance, dict):
        for name, subschema in value.items():
            if name in instance:
                validate(instance[name], subschema, document, f"{path}.{name}")


def _required(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if isinstance(instance, dict):
        missing = [name for name in value if name not in instance]
        if missing:
            raise SchemaError(f"{path}: missing required {missing}")


def _additional(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if not isinstance(instance, dict):
        return
    extra = [name for name in instance if name not in schema.get("properties", {})]
    for name in extra:
        if value is False:
            raise SchemaError(f"{path}: unexpected property {name!r}")
        if isinstance(value, Mapping):
            validate(instance[name], value, document, f"{path}.{name}")


def _items(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if isinstance(instance, list):
        start = len(schema.get("prefixItems", ()))
        for index, item in enumerate(instance[start:], start):
            if value is False:
                raise SchemaError(f"{path}: no item allowed at [{index}]")
            validate(item, value, document, f"{path}[{index}]")


def _prefix_items(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if isinstance(instance, list):
        for index, (item, subschema) in enumerate(zip(instance, value, strict=False)):
            validate(item, subschema, document, f"{path}[{index}]")


def _any_of(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    failures = []
    for subschema in value:
        try:
            validate(instance, subschema, document, path)
            return
        except SchemaError as error:
            failures.append(str(error))
    raise SchemaError(f"{path}: matches none of anyOf ({'; '.join(failures)})")


def _one_of(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    matches = 0
    for subschema in value:
        try:
            validate(instance, subschema, document, path)
            matches += 1
        except SchemaError:
            pass
    if matches != 1:
        raise SchemaError(f"{path}: matches {matches} of oneOf, not exactly one")


def _all_of(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    for subschema in value:
        validate(instance, subschema, document, path)


def _enum(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    # JSON tells true from 1; Python's == does not.
    if not any(v == instance and isinstance(v, bool) == isinstance(instance, bool) for v in value):
        raise SchemaError(f"{path}: {instance!r} is not one of {value}")


def _const(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if instance != value:
        raise SchemaError(f"{path}: {instance!r} is not {value!r}")


def _bound(name: str, ok: Any) -> Any:
    def check(
        instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
    ) -> None:
        if _is(instance, "number") and not ok(instance, value):
            raise SchemaError(f"{path}: {instance!r} breaks {name} {value}")

    return check


def _length(name: str, kind: str, ok: Any) -> Any:
    def check(
        instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
    ) -> None:
        if _is(instance, kind) and not ok(len(instance), value):
            raise SchemaError(f"{path}: length {len(instance)} breaks {name} {value}")

    return check


def _pattern(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if isinstance(instance, str) and re.search(value, instance) is None:
        raise SchemaError(f"{path}: {instance!r} does not match {value!r}")


def _format(
    instance: Any, value: Any, schema: Mapping[str, Any], document: Mapping[str, Any], path: str
) -> None:
    if value == "date-time" and isinstance(instance, str):
        moment = datetime.fromisoformat(instance.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise SchemaError(f"{path}: {instance!r} has no time zone")
    elif value not in ("date-time", "uri", "email"):
        raise SchemaError(f"{path}: the checker does not know the format {value!r}")


_KEYWORDS: dict[str, Any] = {
    "$ref": _ref,
    "type": _type,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "items": _items,
    "prefixItems": _prefix_items,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "allOf": _all_of,
    "enum": _enum,
    "const": _const,
    "minimum": _bound("minimum", lambda x, v: x >= v),
    "maximum": _bound("maximum", lambda x, v: x <= v),
    "exclusiveMinimum": _bound("exclusiveMinimum", lambda x, v: x > v),
    "exclusiveMaximum": _bound("exclusiveMaximum", lambda x, v: x < v),
    "minLength": _length("minLength", "string", lambda n, v: n >= v),
    "maxLength": _length("maxLength", "string", lambda n, v: n <= v),
    "minItems": _length("minItems", "array", lambda n, v: n >= v),
    "maxItems": _length("maxItems", "array", lambda n, v: n <= v),
    "pattern": _pattern,
    "format": _format,
}

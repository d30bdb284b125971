"""Wire-level helpers every request model shares: names and keys as OSS accepts them, JSON as the OpenAPI
SDKs write it, and the flattened RPC parameter form (`Sources.1.URI=...`).

Validators raise `rule_error(rule, sentence)` (shared.errors); pydantic reports the rule as the error type.

    >>> check_bucket_name("audiochain")
    'audiochain'
    >>> unflatten_query({"Sources.1.URI": "oss://b/a.mp3"})
    {'Sources': [{'URI': 'oss://b/a.mp3'}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from shared.errors import InvalidRequestError, rule_error

MAX_KEY_BYTES = 1023
_BUCKET_CHARS = re.compile(r"[a-z0-9-]+")
_CONTROL_NAMES = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL byte"}


def utf8_size(text: str) -> int:
    """Length in bytes of the UTF-8 encoding; lone surrogates (possible from JSON escapes) are refused."""
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise rule_error("utf8", "contains characters that cannot be encoded as UTF-8") from None


def compact_json(value: object, *, sort_keys: bool = False) -> str:
    """JSON as the OpenAPI SDKs write it: no spaces, non-ASCII characters kept as they are."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)


def decode_json_text(value: object) -> object:
    """Before-validator: a parameter that arrives as a JSON string is decoded; anything else passes."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise rule_error("invalid_json", f"is not valid JSON ({exc.msg} at position {exc.pos})") from None


def refuse_bool(value: object) -> object:
    """Before-validator for numbers: pydantic's lax mode would read true as 1."""
    if isinstance(value, bool):
        raise rule_error("number_type", "must be a number, not true or false")
    return value


def whole_number(value: object) -> object:
    """Before-validator for a JSON integer: neither true/false nor a string of digits (`"ab": "64000"`)
    is silently read as a number; the seeds type these fields as integers."""
    refuse_bool(value)
    if isinstance(value, (str, bytes)):
        raise rule_error("integer_type", f"must be a JSON number, not the string {value!r}")
    return value


def unflatten_query(params: Mapping[str, str], operation: str = "") -> dict[str, Any]:
    """Rebuild nested parameters from the flattened form: `Sources.1.URI=x` -> `{"Sources": [{"URI": x}]}`.

    List positions are 1-based and must run 1, 2, 3 ... without gaps. Plain names pass through unchanged.
    """
    tree: dict[str, Any] = {}
    for name, value in params.items():
        parts = name.split(".")
        node = tree
        for depth, part in enumerate(parts):
            here = ".".join(parts[: depth + 1])
            if not part:
                raise InvalidRequestError.single(
                    name, "parameter_name", "has an empty path segment", operation
                )
            if depth == len(parts) - 1:
                if part in node:
                    raise _conflict(here, operation)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _conflict(here, operation)
                node = child
    return {name: _listify(value, name, operation) for name, value in tree.items()}


def _conflict(name: str, operation: str) -> InvalidRequestError:
    return InvalidRequestError.single(
        name, "conflicting_parameters", "is given both as a value and as flattened sub-parameters", operation
    )


def _listify(node: object, path: str, operation: str) -> object:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        positions = sorted(int(key) for key in node)
        if positions != list(range(1, len(positions) + 1)):
            raise InvalidRequestError.single(
                path, "flattened_index", "list items must be numbered 1, 2, 3 ... without gaps", operation
            )
        by_position = {int(key): value for key, value in node.items()}
        return [_listify(by_position[i], f"{path}.{i}", operation) for i in positions]
    return {key: _listify(value, f"{path}.{key}", operation) for key, value in node.items()}


def describe_control_characters(name: str) -> str | None:
    """A sentence naming the control characters in `name` (None when there are none)."""
    found = [(index, char) for index, char in enumerate(name) if ord(char) < 0x20 or ord(char) == 0x7F]
    if not found:
        return None
    index, char = found[0]
    what = _CONTROL_NAMES.get(char, "a control character")
    where = "at the end" if index == len(name) - 1 else f"at position {index}"
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    hint = (
        " — usually left by `echo` before base64-encoding" if char == "\n" and index == len(name) - 1 else ""
    )
    return f"{name!r} contains {what} (U+{ord(char):04X}) {where}{more}{hint}"


def check_object_key(key: str, *, allow_control: bool = False, allow_folder: bool = True) -> str:
    """Validate an OSS object key; raises rule_error(rule, sentence) for pydantic to report.

    `allow_folder=False` also refuses a key ending in '/', which names a folder rather than an object.
    """
    size = utf8_size(key)
    if not 1 <= size <= MAX_KEY_BYTES:
        raise rule_error("key_length", f"an object key is 1 to {MAX_KEY_BYTES} bytes of UTF-8, got {size}")
    if key[0] in "/\\":
        raise rule_error("key_leading_slash", f"an object key must not start with '/' or '\\\\', got {key!r}")
    problem = describe_control_characters(key)
    if problem and not allow_control:
        raise rule_error("control_character", f"{problem}; object keys must not contain control characters")
    if key.endswith("/") and not allow_folder:
        raise rule_error("folder_key", f"{key!r} ends with '/', which names a folder, not an object")
    return key


def check_bucket_name(name: str) -> str:
    """Validate an OSS bucket name (3-63 characters: lowercase letters, digits, hyphens inside)."""
    if not 3 <= len(name) <= 63:
        raise rule_error("bucket_length", f"a bucket name is 3 to 63 characters, got {len(name)} in {name!r}")
    if not _BUCKET_CHARS.fullmatch(name):
        raise rule_error(
            "bucket_characters", f"a bucket name has only lowercase letters, digits and '-', got {name!r}"
        )
    if name[0] == "-" or name[-1] == "-":
        raise rule_error("bucket_hyphen", f"a bucket name must not start or end with '-', got {name!r}")
    return name

"""Recognition options per upload, from the object's own metadata, over the prefix rules.

An uploader that knows what a file is says so when it uploads it, with no rule to deploy:

    x-oss-meta-language: zh            one of the seed's languages (`auto`: let the model detect it)
    x-oss-meta-channels: 0,1           tracks recognised separately (`mono`: mix down, whatever the rule says)
    x-oss-meta-context: %E5%AE%A2...   context text (vocabulary, names), percent-encoded UTF-8

Metadata wins over the upload rule of the key's prefix (`shared.pipeline.recognition`), one option at a
time: a `language` header under a `calls/` rule keeps the rule's channels. What each option came from is
recorded on the job (`options_from`), so `GET /v1/jobs/{id}` shows why an upload was recognised as it was.

The values come from a HEAD of the upload (the same HEAD that checks the version is the one announced):
the OSS trigger's `objectMeta.userMeta` is absent from older events, so the event is not relied on.
HTTP header values are ASCII, so OSS leaves non-ASCII metadata to the client to encode; `context` is
percent-decoded (as `ossutil`/browsers send it); a value that breaks a rule is an InvalidRequestError
naming the header, which the orchestrator turns into a failed job (`InvalidUpload`), never a log line only.
Other `x-oss-meta-*` names are the uploader's own business and are ignored.

    >>> options = upload_options(None, {"language": "zh", "channels": "0, 1"})
    >>> options.fields["language"].value, options.fields["channels"], options.sources
    ('zh', (0, 1), {'channels': 'metadata', 'language': 'metadata'})
    >>> upload_options(None, {"context": "%E4%BC%9A%E8%AE%AE"}).fields["context"]
    '会议'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import TypeAdapter, ValidationError

from shared.errors import InvalidRequestError, Problem
from shared.ops.enums import AsrLanguage
from shared.pipeline.recognition import MAX_CONTEXT_CHARACTERS, Channels, UploadRule

__all__ = ["METADATA_PREFIX", "UploadOptions", "upload_options"]

METADATA_PREFIX = "x-oss-meta-"
OPTIONS = ("language", "channels", "context")
MIX_DOWN = "mono"
AUTO_LANGUAGE = "auto"
_OPERATION = "upload metadata"


@functools.cache
def _channels_adapter() -> TypeAdapter[Channels]:
    # Built on first use: a TypeAdapter made at import builds its schema (and loads pydantic's plugin
    # machinery) at every cold start, for metadata most uploads do not carry (issue 11).
    return TypeAdapter(Channels)


@dataclass(frozen=True)
class UploadOptions:
    """The options an upload is recognised with, and where each came from (`rule <prefix>` or
    `metadata`). A None value set by metadata (`auto`, `mono`) overrides a rule's."""

    fields: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)  # the raw values read, for the job's record


def upload_options(rule: UploadRule | None, metadata: Mapping[str, str]) -> UploadOptions:
    """The rule's options overlaid with the object's metadata (names without `x-oss-meta-`, any case).

    Raises InvalidRequestError naming the header (`x-oss-meta-channels`) and the rule it breaks.
    """
    fields: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if rule is not None:
        for name, value in rule.model_dump(exclude={"prefix"}, exclude_none=True).items():
            fields[name] = value
            if name in OPTIONS:  # a rule's callback_url is recorded as such, not as a recognition option
                sources[name] = f"rule {rule.prefix}"
    ours = {name.lower(): value for name, value in metadata.items() if name.lower() in OPTIONS}
    problems: list[Problem] = []
    for name, raw in sorted(ours.items()):
        try:
            fields[name] = _PARSERS[name](raw.strip())
        except InvalidRequestError as error:
            problems.extend(error.problems)
            continue
        sources[name] = "metadata"
    if problems:
        raise InvalidRequestError(problems, _OPERATION)
    return UploadOptions(fields, sources, ours)


def _language(value: str) -> AsrLanguage | None:
    if value.lower() == AUTO_LANGUAGE:
        return None
    try:
        return AsrLanguage(value.lower())
    except ValueError:
        allowed = ", ".join(language.value for language in AsrLanguage)
        message = f"must be {AUTO_LANGUAGE} or one of {allowed}, got {value!r}"
        raise _problem("language", "enum", message) from None


def _channels(value: str) -> tuple[int, ...] | None:
    if value.lower() == MIX_DOWN:
        return None
    parts = [part.strip() for part in value.split(",")]
    if not all(part.isdigit() for part in parts):
        message = f"must be {MIX_DOWN} or 0-based channel numbers like 0,1, got {value!r}"
        raise _problem("channels", "channel_list", message)
    try:
        return _channels_adapter().validate_python(tuple(int(part) for part in parts))
    except ValidationError as error:
        message = "; ".join(str(problem["msg"]) for problem in error.errors(include_url=False))
        raise _problem("channels", "channel_list", f"{message} (got {value!r})") from None


def _context(value: str) -> str:
    try:
        text = unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise _problem("context", "percent_encoding", "is not percent-encoded UTF-8 text") from None
    if not text.strip():
        raise _problem("context", "empty", "must not be blank")
    if len(text) > MAX_CONTEXT_CHARACTERS:
        message = f"is {len(text)} characters, at most {MAX_CONTEXT_CHARACTERS}"
        raise _problem("context", "max_length", message)
    return text


def _problem(name: str, rule: str, message: str) -> InvalidRequestError:
    return InvalidRequestError.single(METADATA_PREFIX + name, rule, message, _OPERATION)


_PARSERS = {"language": _language, "channels": _channels, "context": _context}

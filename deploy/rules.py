"""House rules for `template.yaml`: what Fun's schema cannot know about audiochain.

Fun's `fun validate` checks the template's shape; these rules check that it fits this project: handlers and
code paths that `make build` produces, the runtime the vendored wheels were built for, environment names
that `shared/env.py` declares, secrets passed only by reference, references to declared parameters, async
retry bounds and dead-letter destinations, FC's six-field cron, and written prefixes outside the inbox.

    >>> from deploy.template import parse_template
    >>> check_template(parse_template("Resources: {}"), env_names=frozenset())
    []
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from deploy.template import FunctionSpec, iter_functions, parameters, referenced_parameter, text_shape
from shared import env as shared_env
from shared.errors import Problem
from shared.pipeline.settings import PipelineSettings

RULES = (
    "function-name",
    "runtime",
    "handler",
    "code-uri",
    "env-name",
    "secret-by-reference",
    "async-retries",
    "async-event-age",
    "async-destination",
    "dead-letter",
    "http-only",
    "cron",
    "payload",
    "unknown-reference",
    "prefix",
    "prefix-overlap",
    "timeout-below-lease",
)
TARGET_PYTHON = "3.10"
TARGET_RUNTIME = f"python{TARGET_PYTHON}"
HANDLER = "index.handler"
INBOX_PREFIX_PARAMETER = "InboxPrefix"
# FC allows letters, digits, '_' and '-'; a Python package directory (functions/<name>/) allows no '-'.
_FUNCTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SECRET_WORDS = ("TOKEN", "API_KEY", "SECRET", "PASSWORD")
_EVENT_TRIGGERS = frozenset({"OSS", "MNSTopic", "Timer"})
_MAX_RETRIES = 8
_FC_DEFAULT_TIMEOUT = 3  # FC's default function Timeout, seconds
_DEFAULT_LEASE_SECONDS = PipelineSettings.model_fields["step_lease_seconds"].default
_MAX_EVENT_AGE = 604_800
_DESTINATION = re.compile(
    r"^acs:mns:[^:]*:[^:]*:/(queues|topics)/[^/]+/messages$"
    r"|^acs:fc:[^:]*:[^:]*:services/[^/]+/functions/[^/]+$"
)
_EVERY = re.compile(r"^@every \d+[smh]$")
_SUB_NAMES = re.compile(r"\$\{([^}!]*)\}")


def check_template(template: Mapping[str, Any], *, env_names: frozenset[str]) -> list[Problem]:
    """Every house rule the template breaks (empty when it keeps them all).

    `env_names` is the set of environment variable names the code reads (see `declared_env_names`).
    """
    problems: list[Problem] = []
    problems += _check_references(template)
    problems += _check_prefixes(template)
    for function in iter_functions(template):
        problems += _check_function(function, template, env_names)
    return problems


def declared_env_names() -> frozenset[str]:
    """The environment variable names declared in `shared/env.py`."""
    return frozenset(
        value for name, value in vars(shared_env).items() if name.isupper() and isinstance(value, str)
    )


def _check_function(
    function: FunctionSpec, template: Mapping[str, Any], env_names: frozenset[str]
) -> Iterator[Problem]:
    props = function.properties
    path = function.path
    if not _FUNCTION_NAME.fullmatch(function.name):
        yield Problem(path, "function-name", "names are lower-case letters, digits and '_' (a package name)")
    if props.get("Runtime") != TARGET_RUNTIME:
        yield Problem(
            f"{path}/Properties/Runtime",
            "runtime",
            f"must be {TARGET_RUNTIME}: `make build` vendors wheels for CPython {TARGET_PYTHON}",
        )
    if props.get("Handler") != HANDLER:
        yield Problem(
            f"{path}/Properties/Handler", "handler", f"must be {HANDLER} (index.py at the zip root)"
        )
    expected_uri = f"build/{function.name}.zip"
    if props.get("CodeUri") != expected_uri:
        yield Problem(
            f"{path}/Properties/CodeUri", "code-uri", f"must be {expected_uri}, what `make build` writes"
        )
    yield from _check_environment(function, template, env_names)
    yield from _check_timeout(function)
    yield from _check_async(function)
    yield from _check_events(function)


def _check_environment(
    function: FunctionSpec, template: Mapping[str, Any], env_names: frozenset[str]
) -> Iterator[Problem]:
    variables = function.properties.get("EnvironmentVariables") or {}
    if not isinstance(variables, Mapping):
        return
    declared = parameters(template)
    for name, value in variables.items():
        field = f"{function.path}/Properties/EnvironmentVariables/{name}"
        if name not in env_names:
            yield Problem(field, "env-name", "not a name declared in shared/env.py (a typo is read as unset)")
        if not any(word in str(name) for word in _SECRET_WORDS):
            continue
        parameter = referenced_parameter(value)
        spec = declared.get(parameter or "")
        if parameter is None or spec is None:
            yield Problem(field, "secret-by-reference", "a secret must be a Ref to a NoEcho parameter")
        elif spec.get("NoEcho") is not True:
            yield Problem(field, "secret-by-reference", f"parameter {parameter} must set NoEcho: true")
        elif spec.get("Default") not in (None, ""):
            yield Problem(field, "secret-by-reference", f"parameter {parameter} must not carry a Default")


def _check_timeout(function: FunctionSpec) -> Iterator[Problem]:
    """A step's claim (lease) must outlive any invocation that holds it: FC stops an invocation at its
    Timeout, so a hung call can never still be working when the claim expires and another attempt starts."""
    timeout = function.properties.get("Timeout", _FC_DEFAULT_TIMEOUT)
    variables = function.properties.get("EnvironmentVariables") or {}
    lease = variables.get(shared_env.AUDIOCHAIN_STEP_LEASE_SECONDS, _DEFAULT_LEASE_SECONDS)
    try:
        timeout_seconds, lease_seconds = int(timeout), int(lease)
    except (TypeError, ValueError):
        return  # a reference: resolved at deploy time, not checkable here
    if timeout_seconds >= lease_seconds:
        yield Problem(
            f"{function.path}/Properties/Timeout",
            "timeout-below-lease",
            f"must be below the step lease ({lease_seconds} s): a claim must outlive its invocation",
        )


def _check_async(function: FunctionSpec) -> Iterator[Problem]:
    config = function.properties.get("AsyncConfiguration")
    field = f"{function.path}/Properties/AsyncConfiguration"
    triggers = {str(event.get("Type")) for event in function.events.values() if isinstance(event, Mapping)}
    if not isinstance(config, Mapping):
        if triggers & _EVENT_TRIGGERS:
            yield Problem(field, "dead-letter", "event functions need an OnFailure destination")
        return
    retries = config.get("MaxAsyncRetryAttempts")
    if retries is not None and not (isinstance(retries, int) and 0 <= retries <= _MAX_RETRIES):
        yield Problem(f"{field}/MaxAsyncRetryAttempts", "async-retries", f"must be 0 to {_MAX_RETRIES}")
    age = config.get("MaxAsyncEventAgeInSeconds")
    if age is not None and not (isinstance(age, int) and 1 <= age <= _MAX_EVENT_AGE):
        yield Problem(
            f"{field}/MaxAsyncEventAgeInSeconds", "async-event-age", f"must be 1 to {_MAX_EVENT_AGE}"
        )
    destination = config.get("Destination")
    destination = destination if isinstance(destination, Mapping) else {}
    for outcome in ("OnSuccess", "OnFailure"):
        if outcome not in destination:
            continue
        shape = text_shape(destination[outcome])
        if shape is None or not _DESTINATION.fullmatch(shape):
            yield Problem(
                f"{field}/Destination/{outcome}",
                "async-destination",
                "must be acs:mns:<region>:<account>:/queues|topics/<name>/messages "
                "or acs:fc:<region>:<account>:services/<service>/functions/<function>",
            )
    if triggers & _EVENT_TRIGGERS and "OnFailure" not in destination:
        yield Problem(f"{field}/Destination", "dead-letter", "event functions need an OnFailure destination")


def _check_events(function: FunctionSpec) -> Iterator[Problem]:
    events = {name: event for name, event in function.events.items() if isinstance(event, Mapping)}
    kinds = [str(event.get("Type")) for event in events.values()]
    if "HTTP" in kinds and len(kinds) > 1:
        yield Problem(
            f"{function.path}/Events", "http-only", "a function with an HTTP trigger can have no other"
        )
    for name, event in events.items():
        if event.get("Type") != "Timer":
            continue
        props = event.get("Properties") or {}
        field = f"{function.path}/Events/{name}/Properties"
        cron = props.get("CronExpression")
        if not isinstance(cron, str) or not (len(cron.split()) == 6 or _EVERY.fullmatch(cron)):
            yield Problem(
                f"{field}/CronExpression",
                "cron",
                "FC cron has six fields, seconds first, or is '@every <n>m'",
            )
        payload = props.get("Payload")
        if payload is not None:
            try:
                json.loads(payload)
            except (TypeError, ValueError):
                yield Problem(
                    f"{field}/Payload", "payload", "must be a JSON document (the handler parses it)"
                )


def _check_references(template: Mapping[str, Any]) -> Iterator[Problem]:
    declared = set(parameters(template))
    for path, name in _references(template.get("Resources") or {}, "Resources"):
        if name not in declared and not name.startswith("ALIYUN::"):
            yield Problem(path, "unknown-reference", f"{name} is not a declared parameter")


def _references(node: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        if len(node) == 1 and isinstance(node.get("Ref"), str):
            yield path, node["Ref"]
            return
        if len(node) == 1 and isinstance(node.get("Fn::Sub"), str):
            for name in _SUB_NAMES.findall(node["Fn::Sub"]):
                yield path, name
            return
        for key, value in node.items():
            yield from _references(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _references(value, f"{path}/{index}")


def _check_prefixes(template: Mapping[str, Any]) -> Iterator[Problem]:
    prefixes: dict[str, str] = {}
    for name, spec in parameters(template).items():
        default = spec.get("Default")
        if name.endswith("Prefix") and isinstance(default, str):
            prefixes[name] = default
    for name, value in prefixes.items():
        if not value.endswith("/"):
            yield Problem(f"Parameters/{name}/Default", "prefix", "a prefix is a folder: end it with '/'")
    inbox = prefixes.get(INBOX_PREFIX_PARAMETER)
    if inbox is None:
        return
    # The same rule as the pipeline settings: nothing the chain writes may look like an upload.
    for name, value in prefixes.items():
        if name != INBOX_PREFIX_PARAMETER and (value.startswith(inbox) or inbox.startswith(value)):
            yield Problem(
                f"Parameters/{name}/Default",
                "prefix-overlap",
                f"overlaps {INBOX_PREFIX_PARAMETER} ({inbox!r}): writes there would re-trigger on_upload",
            )

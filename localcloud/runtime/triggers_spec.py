"""The trigger and destination models of template.yaml, and the checks that build them.

Triggers (`Events` of a function), with Fun's property names:

OSS       `BucketName`, `Events` (`oss:ObjectCreated:*` or named `oss:...` events), `Filter.Key.Prefix` and
          `Filter.Key.Suffix` (both required; empty matches any key).
MNSTopic  `TopicName`; `Region` (must be localcloud's), `NotifyContentFormat` STREAM (default) or JSON,
          `NotifyStrategy` BACKOFF_RETRY (default) or EXPONENTIAL_DECAY_RETRY, `FilterTag`.
HTTP      `AuthType` ANONYMOUS or FUNCTION, `Methods` from GET, POST, PUT, DELETE, HEAD (and PATCH, OPTIONS).
Timer     `CronExpression` (cron.py), `Enable` (default true), `Payload` (text; default empty).

Destinations (`AsyncConfiguration.Destination.OnSuccess/OnFailure`) are ARNs:
`acs:mns:<region>:<account>:/queues/<queue>/messages`, `acs:mns:<region>:<account>:/topics/<topic>/messages`
or `acs:fc:<region>:<account>:services/<service>[.<qualifier>]/functions/<function>`; the region and
account must be localcloud's, since nothing else is reachable.

    >>> parse_destination("acs:mns:cn-hangzhou:1:/queues/dead/messages", "x", region="cn-hangzhou",
    ...                   account_id="1").name
    'dead'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from localcloud.runtime.cron import CronError, Schedule, parse_schedule
from localcloud.runtime.intrinsics import TemplateError

HTTP_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"})
NOTIFY_FORMATS = frozenset({"STREAM", "JSON"})
NOTIFY_STRATEGIES = frozenset({"BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"})
_OSS_EVENT = re.compile(r"oss:(ObjectCreated|ObjectRemoved|ObjectReplication|ObjectModified):(\*|[A-Za-z]+)")
_MNS_DESTINATION = re.compile(r"acs:mns:([^:]*):([^:]*):/(queues|topics)/([^/]+)/messages")
_FC_DESTINATION = re.compile(r"acs:fc:([^:]*):([^:]*):services/([^/.]+)(?:\.[^/]+)?/functions/([^/]+)")


@dataclass(frozen=True)
class OssTrigger:
    name: str
    bucket: str
    events: tuple[str, ...]  # as configured, with the `oss:` prefix
    prefix: str = ""
    suffix: str = ""

    def matches(self, bucket: str, key: str, event_name: str) -> bool:
        """Whether an object event (`ObjectCreated:PutObject`, no prefix) in bucket/key fires this trigger."""
        if bucket != self.bucket or not key.startswith(self.prefix) or not key.endswith(self.suffix):
            return False
        family = event_name.split(":", 1)[0]
        return any(
            configured.removeprefix("oss:") in (event_name, f"{family}:*") for configured in self.events
        )


@dataclass(frozen=True)
class MnsTopicTrigger:
    name: str
    topic: str
    content_format: str = "STREAM"
    strategy: str = "BACKOFF_RETRY"
    filter_tag: str | None = None


@dataclass(frozen=True)
class HttpTrigger:
    name: str
    auth_type: str = "ANONYMOUS"
    methods: frozenset[str] = frozenset({"GET"})


@dataclass(frozen=True)
class TimerTrigger:
    name: str
    schedule: Schedule
    enabled: bool = True
    payload: str = ""

    @property
    def cron_expression(self) -> str:
        return self.schedule.expression


Trigger = OssTrigger | MnsTopicTrigger | HttpTrigger | TimerTrigger


@dataclass(frozen=True)
class Destination:
    """Where an asynchronous invocation's record goes."""

    kind: Literal["queue", "topic", "function"]
    name: str  # the queue, topic or function name
    arn: str
    service: str | None = None  # for a function destination


def parse_trigger(name: str, spec: Any, location: str, region: str) -> Trigger:
    if not isinstance(spec, Mapping):
        raise TemplateError(location, "must be a mapping with Type and Properties")
    kind = spec.get("Type")
    properties = spec.get("Properties") or {}
    if not isinstance(properties, Mapping):
        raise TemplateError(f"{location}/Properties", "must be a mapping")
    here = f"{location}/Properties"
    if kind == "OSS":
        return _oss(name, properties, here)
    if kind == "MNSTopic":
        return _mns_topic(name, properties, here, region)
    if kind == "HTTP":
        return _http(name, properties, here)
    if kind == "Timer":
        return _timer(name, properties, here)
    raise TemplateError(
        f"{location}/Type", f"trigger type {kind!r} is not supported locally (OSS, MNSTopic, HTTP, Timer are)"
    )


def parse_destination(arn: str, location: str, *, region: str, account_id: str) -> Destination:
    mns = _MNS_DESTINATION.fullmatch(arn)
    fc = _FC_DESTINATION.fullmatch(arn)
    if mns is None and fc is None:
        raise TemplateError(
            location,
            f"{arn!r} is not a destination the local runtime can reach: use acs:mns:<region>:<account>:"
            "/queues/<q>/messages, .../topics/<t>/messages or acs:fc:<region>:<account>:services/<s>/"
            "functions/<f>",
        )
    match = mns or fc
    assert match is not None
    arn_region, arn_account = match.group(1), match.group(2)
    if arn_region not in (region, "*", "") or arn_account not in (account_id, "*", ""):
        raise TemplateError(
            location,
            f"{arn!r} names region {arn_region!r} / account {arn_account!r}; localcloud is "
            f"{region!r} / {account_id!r}",
        )
    if mns is not None:
        kind: Literal["queue", "topic"] = "queue" if mns.group(3) == "queues" else "topic"
        return Destination(kind=kind, name=mns.group(4), arn=arn)
    assert fc is not None
    return Destination(kind="function", name=fc.group(4), arn=arn, service=fc.group(3))


def _oss(name: str, properties: Mapping[str, Any], location: str) -> OssTrigger:
    bucket = _required_text(properties, "BucketName", location)
    events = properties.get("Events")
    if not isinstance(events, list) or not events:
        raise TemplateError(f"{location}/Events", "must be a non-empty list such as [oss:ObjectCreated:*]")
    for index, event in enumerate(events):
        if not isinstance(event, str) or _OSS_EVENT.fullmatch(event) is None:
            raise TemplateError(
                f"{location}/Events/{index}",
                f"{event!r} is not an OSS event such as oss:ObjectCreated:PutObject",
            )
    key_filter = (
        (properties.get("Filter") or {}).get("Key") if isinstance(properties.get("Filter"), Mapping) else None
    )
    if not isinstance(key_filter, Mapping) or "Prefix" not in key_filter or "Suffix" not in key_filter:
        raise TemplateError(
            f"{location}/Filter", "needs Key.Prefix and Key.Suffix (write '' to match any key)"
        )
    prefix, suffix = key_filter["Prefix"], key_filter["Suffix"]
    for label, value in (("Prefix", prefix), ("Suffix", suffix)):
        if not isinstance(value, str):
            raise TemplateError(f"{location}/Filter/Key/{label}", "must be text ('' matches any key)")
    return OssTrigger(name=name, bucket=bucket, events=tuple(events), prefix=prefix, suffix=suffix)


def _mns_topic(name: str, properties: Mapping[str, Any], location: str, region: str) -> MnsTopicTrigger:
    topic = _required_text(properties, "TopicName", location)
    trigger_region = properties.get("Region")
    if trigger_region not in (None, "", region):
        raise TemplateError(
            f"{location}/Region", f"localcloud runs in {region!r} only (got {trigger_region!r})"
        )
    content_format = _choice(properties, "NotifyContentFormat", location, NOTIFY_FORMATS, "STREAM")
    strategy = _choice(properties, "NotifyStrategy", location, NOTIFY_STRATEGIES, "BACKOFF_RETRY")
    filter_tag = properties.get("FilterTag")
    if filter_tag is not None and not isinstance(filter_tag, str):
        raise TemplateError(f"{location}/FilterTag", "must be text")
    return MnsTopicTrigger(name, topic, content_format, strategy, filter_tag or None)


def _http(name: str, properties: Mapping[str, Any], location: str) -> HttpTrigger:
    auth_type = _choice(properties, "AuthType", location, frozenset({"ANONYMOUS", "FUNCTION"}), "ANONYMOUS")
    methods = properties.get("Methods", ["GET"])
    if not isinstance(methods, list) or not methods:
        raise TemplateError(f"{location}/Methods", "must be a non-empty list of HTTP methods")
    normalised = set()
    for index, method in enumerate(methods):
        if not isinstance(method, str) or method.upper() not in HTTP_METHODS:
            raise TemplateError(
                f"{location}/Methods/{index}", f"{method!r} is not one of {', '.join(sorted(HTTP_METHODS))}"
            )
        normalised.add(method.upper())
    return HttpTrigger(name=name, auth_type=auth_type, methods=frozenset(normalised))


def _timer(name: str, properties: Mapping[str, Any], location: str) -> TimerTrigger:
    expression = _required_text(properties, "CronExpression", location)
    try:
        schedule = parse_schedule(expression)
    except CronError as exc:
        raise TemplateError(f"{location}/CronExpression", str(exc)) from None
    enabled = properties.get("Enable", True)
    if not isinstance(enabled, bool):
        raise TemplateError(f"{location}/Enable", "must be true or false")
    payload = properties.get("Payload", "")
    if payload is None:
        payload = ""
    if not isinstance(payload, str):
        raise TemplateError(f"{location}/Payload", "must be text (quote a JSON payload)")
    return TimerTrigger(name=name, schedule=schedule, enabled=enabled, payload=payload)


def _required_text(properties: Mapping[str, Any], name: str, location: str) -> str:
    value = properties.get(name)
    if not isinstance(value, str) or not value:
        raise TemplateError(f"{location}/{name}", f"is required and must be non-empty text (got {value!r})")
    return value


def _choice(
    properties: Mapping[str, Any], name: str, location: str, allowed: frozenset[str], default: str
) -> str:
    value = properties.get(name, default)
    if not isinstance(value, str) or value.upper() not in allowed:
        raise TemplateError(
            f"{location}/{name}", f"must be one of {', '.join(sorted(allowed))} (got {value!r})"
        )
    return value.upper()

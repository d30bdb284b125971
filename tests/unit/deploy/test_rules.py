from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from deploy.rules import RULES, check_template, declared_env_names
from tests.unit.deploy.helpers import function_events, function_properties

Breakage = Callable[[dict[str, Any]], None]


def rules_broken(template: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (problem.rule, problem.field) for problem in check_template(template, env_names=declared_env_names())
    ]


def test_the_repository_template_keeps_every_house_rule(template: dict[str, Any]) -> None:
    assert rules_broken(template) == []


def test_the_environment_names_come_from_shared_env() -> None:
    names = declared_env_names()
    assert {"AUDIOCHAIN_BUCKET", "AUDIOCHAIN_API_TOKEN", "DASHSCOPE_API_KEY"} <= names


def _set(name: str, key: str, value: Any) -> Breakage:
    def breaks(template: dict[str, Any]) -> None:
        function_properties(template, name)[key] = value

    return breaks


def _env(name: str, variable: str, value: Any) -> Breakage:
    def breaks(template: dict[str, Any]) -> None:
        function_properties(template, name)["EnvironmentVariables"][variable] = value

    return breaks


def _async(name: str, key: str, value: Any) -> Breakage:
    def breaks(template: dict[str, Any]) -> None:
        function_properties(template, name)["AsyncConfiguration"][key] = value

    return breaks


def _timer(key: str, value: Any) -> Breakage:
    def breaks(template: dict[str, Any]) -> None:
        function_events(template, "fetch_results")["sweep"]["Properties"][key] = value

    return breaks


def _drop_async(template: dict[str, Any]) -> None:
    del function_properties(template, "on_upload")["AsyncConfiguration"]


def _second_trigger_on_api(template: dict[str, Any]) -> None:
    function_events(template, "api")["tick"] = {
        "Type": "Timer",
        "Properties": {"CronExpression": "0 * * * * *"},
    }


def _rename_function(template: dict[str, Any]) -> None:
    service = template["Resources"]["audiochain"]
    service["On-Upload"] = service.pop("on_upload")


def _api_token_default(template: dict[str, Any]) -> None:
    template["Parameters"]["ApiToken"]["Default"] = "not-so-secret-but-now-in-the-template"


def _api_token_echoed(template: dict[str, Any]) -> None:
    del template["Parameters"]["ApiToken"]["NoEcho"]


def _nested_prefix(template: dict[str, Any]) -> None:
    template["Parameters"]["WorkPrefix"]["Default"] = "inbox/work/"


def _prefix_without_slash(template: dict[str, Any]) -> None:
    template["Parameters"]["JobsPrefix"]["Default"] = "jobs"


def _undeclared_reference(template: dict[str, Any]) -> None:
    function_events(template, "on_notify")["pipeline"]["Properties"]["TopicName"] = {"Ref": "PipeTopic"}


def _undeclared_sub_name(template: dict[str, Any]) -> None:
    statement = template["Resources"]["audiochain"]["Properties"]["Policies"][0]["Statement"][0]
    statement["Resource"] = {"Fn::Sub": "acs:oss:*:*:${Bucket}/*"}


CASES: dict[str, tuple[Breakage, str, str]] = {
    "timeout at the lease": (
        _set("on_notify", "Timeout", 600),
        "timeout-below-lease",
        "Resources/audiochain/on_notify/Properties/Timeout",
    ),
    "lease shortened below the timeout": (
        _env("fetch_results", "AUDIOCHAIN_STEP_LEASE_SECONDS", "50"),
        "timeout-below-lease",
        "Resources/audiochain/fetch_results/Properties/Timeout",
    ),
    "runtime": (
        _set("api", "Runtime", "python3.9"),
        "runtime",
        "Resources/audiochain/api/Properties/Runtime",
    ),
    "handler": (
        _set("api", "Handler", "main.handler"),
        "handler",
        "Resources/audiochain/api/Properties/Handler",
    ),
    "code uri": (
        _set("on_notify", "CodeUri", "functions/on_notify"),
        "code-uri",
        "Resources/audiochain/on_notify/Properties/CodeUri",
    ),
    "function name": (_rename_function, "function-name", "Resources/audiochain/On-Upload"),
    "env typo": (
        _env("api", "AUDIOCHAIN_BUCKT", "x"),
        "env-name",
        "Resources/audiochain/api/Properties/EnvironmentVariables/AUDIOCHAIN_BUCKT",
    ),
    "literal secret": (
        _env("api", "AUDIOCHAIN_API_TOKEN", "s3cr3t"),
        "secret-by-reference",
        "Resources/audiochain/api/Properties/EnvironmentVariables/AUDIOCHAIN_API_TOKEN",
    ),
    "secret with default": (
        _api_token_default,
        "secret-by-reference",
        "Resources/audiochain/api/Properties/EnvironmentVariables/AUDIOCHAIN_API_TOKEN",
    ),
    "secret echoed": (
        _api_token_echoed,
        "secret-by-reference",
        "Resources/audiochain/api/Properties/EnvironmentVariables/AUDIOCHAIN_API_TOKEN",
    ),
    "too many retries": (
        _async("on_upload", "MaxAsyncRetryAttempts", 9),
        "async-retries",
        "Resources/audiochain/on_upload/Properties/AsyncConfiguration/MaxAsyncRetryAttempts",
    ),
    "event age zero": (
        _async("on_notify", "MaxAsyncEventAgeInSeconds", 0),
        "async-event-age",
        "Resources/audiochain/on_notify/Properties/AsyncConfiguration/MaxAsyncEventAgeInSeconds",
    ),
    "destination shape": (
        _async("on_upload", "Destination", {"OnFailure": "acs:mns:::/queues/dead"}),
        "async-destination",
        "Resources/audiochain/on_upload/Properties/AsyncConfiguration/Destination/OnFailure",
    ),
    "no dead letter": (
        _async("fetch_results", "Destination", {}),
        "dead-letter",
        "Resources/audiochain/fetch_results/Properties/AsyncConfiguration/Destination",
    ),
    "no async configuration": (
        _drop_async,
        "dead-letter",
        "Resources/audiochain/on_upload/Properties/AsyncConfiguration",
    ),
    "http shares a function": (_second_trigger_on_api, "http-only", "Resources/audiochain/api/Events"),
    "five-field cron": (
        _timer("CronExpression", "*/1 * * * *"),
        "cron",
        "Resources/audiochain/fetch_results/Events/sweep/Properties/CronExpression",
    ),
    "payload not json": (
        _timer("Payload", "sweep=true"),
        "payload",
        "Resources/audiochain/fetch_results/Events/sweep/Properties/Payload",
    ),
    "nested prefixes": (_nested_prefix, "prefix-overlap", "Parameters/WorkPrefix/Default"),
    "prefix without slash": (_prefix_without_slash, "prefix", "Parameters/JobsPrefix/Default"),
    "undeclared ref": (
        _undeclared_reference,
        "unknown-reference",
        "Resources/audiochain/on_notify/Events/pipeline/Properties/TopicName",
    ),
    "undeclared sub name": (
        _undeclared_sub_name,
        "unknown-reference",
        "Resources/audiochain/Properties/Policies/0/Statement/0/Resource",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_broken_house_rule_is_reported_with_its_field(template: dict[str, Any], case: str) -> None:
    breaks, rule, field = CASES[case]
    breaks(template)
    assert (rule, field) in rules_broken(template)


def test_every_declared_rule_has_a_case_that_breaks_it() -> None:
    assert {rule for _, rule, _ in CASES.values()} == set(RULES)


def test_function_destinations_and_every_schedules_are_accepted(template: dict[str, Any]) -> None:
    destination = {
        "OnFailure": {"Fn::Sub": "acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:services/s/functions/f"}
    }
    function_properties(template, "on_upload")["AsyncConfiguration"]["Destination"] = destination
    function_events(template, "fetch_results")["sweep"]["Properties"]["CronExpression"] = "@every 5m"
    assert rules_broken(template) == []


def test_only_prefixes_that_overlap_the_inbox_are_refused(template: dict[str, Any]) -> None:
    template["Parameters"]["OutputPrefix"]["Default"] = "work/outputs/"
    assert rules_broken(template) == []
    template["Parameters"]["InboxPrefix"]["Default"] = "work/inbox/"
    assert ("prefix-overlap", "Parameters/WorkPrefix/Default") in rules_broken(template)

"""Template resolution and validation: parameters, Ref / Fn::Sub, the function and trigger model, and
refusals that name the template location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from localcloud.runtime.intrinsics import Scope, TemplateError, resolve_intrinsics, resolve_parameters
from localcloud.runtime.template import Template, load_template, parse_template, read_document
from localcloud.runtime.triggers_spec import HttpTrigger, MnsTopicTrigger, OssTrigger, TimerTrigger

REPO_TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
REGION, ACCOUNT = "cn-shanghai", "5555"


def _function(**properties: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Handler": "index.handler", "Runtime": "python3.10", "CodeUri": "build/f.zip"}
    base.update(properties)
    return {"Type": "Aliyun::Serverless::Function", "Properties": base}


def _document(function: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "Parameters": {"Bucket": {"Type": "String", "Default": "media"}},
        "Resources": {"svc": {"Type": "Aliyun::Serverless::Service", "fn": function or _function()}},
    }
    document.update(extra)
    return document


def _parse(document: dict[str, Any], parameters: dict[str, str] | None = None) -> Template:
    return parse_template(
        document, source="t.yaml", parameters=parameters or {}, region=REGION, account_id=ACCOUNT
    )


def _refusal(document: dict[str, Any], parameters: dict[str, str] | None = None) -> TemplateError:
    with pytest.raises(TemplateError) as refused:
        _parse(document, parameters)
    return refused.value


def test_ref_and_sub_resolve_parameters_and_pseudo_parameters() -> None:
    function = _function(
        EnvironmentVariables={
            "BUCKET": {"Ref": "Bucket"},
            "REGION": {"Ref": "ALIYUN::Region"},
            "ARN": {"Fn::Sub": "acs:oss:${ALIYUN::Region}:${ALIYUN::AccountId}:${Bucket}/${!Literal}"},
            "LISTED": {"Fn::Sub": ["${Bucket}-${Suffix}", {"Suffix": "x"}]},
            "SERVICE": {"Ref": "svc"},
            "NUMBER": 5,
        }
    )
    environment = _parse(_document(function)).function("fn").environment
    assert environment == {
        "BUCKET": "media",
        "REGION": REGION,
        "ARN": f"acs:oss:{REGION}:{ACCOUNT}:media/${{Literal}}",
        "LISTED": "media-x",
        "SERVICE": "svc",
        "NUMBER": "5",
    }


def test_a_given_parameter_beats_its_default() -> None:
    function = _function(EnvironmentVariables={"BUCKET": {"Ref": "Bucket"}})
    assert _parse(_document(function), {"Bucket": "other"}).function("fn").environment == {"BUCKET": "other"}


def test_defaults_follow_fun() -> None:
    spec = _parse(_document()).function("fn")
    assert (spec.timeout, spec.memory, spec.instance_concurrency, spec.initializer) == (3, 128, 1, None)
    assert (spec.async_config.max_retry_attempts, spec.async_config.max_event_age_seconds) == (3, 86400)
    assert spec.arn(REGION, ACCOUNT) == f"acs:fc:{REGION}:{ACCOUNT}:services/svc.LATEST/functions/fn"


@pytest.mark.parametrize(
    ("spec", "value", "message"),
    [
        ({"AllowedPattern": "^[a-z]+/$"}, "Inbox", "AllowedPattern"),
        ({"AllowedValues": ["INFO", "DEBUG"]}, "TRACE", "must be one of"),
        ({"MinLength": 32, "NoEcho": True}, "short", "at least 32"),
        ({"MaxLength": 3}, "toolong", "at most 3"),
        ({"Type": "Number", "MaxValue": 10}, "11", "MaxValue"),
        ({"Type": "Number"}, "ten", "must be a number"),
    ],
)
def test_a_parameter_value_breaking_a_constraint_is_refused_naming_the_parameter(
    spec: dict[str, Any], value: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message) as refused:
        resolve_parameters({"Setting": {"Type": "String", **spec}}, {"Setting": value})
    assert refused.value.location == "Parameters/Setting"


def test_a_noecho_value_is_never_shown_in_an_error() -> None:
    with pytest.raises(TemplateError) as refused:
        resolve_parameters({"Token": {"NoEcho": True, "AllowedPattern": "^x+$"}}, {"Token": "s3cret"})
    assert "s3cret" not in str(refused.value)


def test_an_undeclared_parameter_and_a_missing_one_are_both_named() -> None:
    with pytest.raises(TemplateError, match="'Nope'"):
        resolve_parameters({"A": {"Default": "1"}}, {"Nope": "x"})
    with pytest.raises(TemplateError, match="Required have no Default"):
        resolve_parameters({"Required": {"Type": "String"}}, {})


def test_a_ref_to_something_unknown_names_the_location() -> None:
    function = _function(EnvironmentVariables={"X": {"Ref": "Missing"}})
    refusal = _refusal(_document(function))
    assert refusal.location == "Resources/svc/fn/Properties/EnvironmentVariables/X"
    assert "'Missing'" in str(refusal)


def test_unsupported_intrinsic_functions_are_refused() -> None:
    with pytest.raises(TemplateError, match=r"Fn::Join is not supported"):
        resolve_intrinsics({"Fn::Join": ["-", ["a", "b"]]}, Scope({}, {}), "here")
    with pytest.raises(TemplateError, match="resource attribute"):
        resolve_intrinsics({"Fn::Sub": "${svc.Arn}"}, Scope({}, {}, frozenset({"svc"})), "here")


def test_yaml_tags_are_refused_with_the_long_form_suggested() -> None:
    with pytest.raises(TemplateError, match="long form"):
        read_document("Resources:\n  x: !Ref Bucket\n", "t.yaml")


@pytest.mark.parametrize(
    ("properties", "location", "message"),
    [
        ({"Timeout": 0}, "Properties/Timeout", "from 1 to 86400"),
        ({"MemorySize": "lots"}, "Properties/MemorySize", "integer"),
        ({"Runtime": "nodejs14"}, "Properties/Runtime", "Python functions only"),
        ({"Handler": "handler"}, "Properties/Handler", "module.function"),
        ({"Colour": "red"}, "Properties", "unknown property(ies) Colour"),
        ({"EnvironmentVariables": {"FLAG": True}}, "EnvironmentVariables/FLAG", "must be text"),
        ({"AsyncConfiguration": {"MaxAsyncRetryAttempts": 9}}, "MaxAsyncRetryAttempts", "from 0 to 8"),
        ({"AsyncConfiguration": {"MaxAsyncEventAgeInSeconds": 0}}, "MaxAsyncEventAgeInSeconds", "from 1"),
        (
            {"AsyncConfiguration": {"Destination": {"OnFailure": "acs:eventbridge:cn-shanghai:5555:bus/x"}}},
            "Destination/OnFailure",
            "not a destination",
        ),
        (
            {
                "AsyncConfiguration": {
                    "Destination": {"OnFailure": "acs:mns:cn-beijing:5555:/queues/q/messages"}
                }
            },
            "Destination/OnFailure",
            "region 'cn-beijing'",
        ),
    ],
)
def test_a_bad_function_property_is_refused_naming_resource_and_property(
    properties: dict[str, Any], location: str, message: str
) -> None:
    refusal = _refusal(_document(_function(**properties)))
    assert location in refusal.location
    assert refusal.location.startswith("Resources/svc/fn")
    assert message in str(refusal)


def test_a_handler_missing_entirely_is_named() -> None:
    function = _function()
    del function["Properties"]["Handler"]
    assert "required property Handler" in str(_refusal(_document(function)))


def test_destinations_resolve_to_queues_topics_and_functions() -> None:
    destination = {
        "OnSuccess": {
            "Fn::Sub": "acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:services/svc.LATEST/functions/fn"
        },
        "OnFailure": {"Fn::Sub": "acs:mns:${ALIYUN::Region}:${ALIYUN::AccountId}:/topics/failures/messages"},
    }
    config = (
        _parse(_document(_function(AsyncConfiguration={"Destination": destination})))
        .function("fn")
        .async_config
    )
    assert config.on_success is not None and config.on_failure is not None
    assert (config.on_success.kind, config.on_success.service, config.on_success.name) == (
        "function",
        "svc",
        "fn",
    )
    assert (config.on_failure.kind, config.on_failure.name) == ("topic", "failures")


def _with_events(events: dict[str, Any]) -> dict[str, Any]:
    function = _function()
    function["Events"] = events
    return _document(function)


def test_every_trigger_type_is_modelled() -> None:
    events = {
        "up": {
            "Type": "OSS",
            "Properties": {
                "BucketName": {"Ref": "Bucket"},
                "Events": ["oss:ObjectCreated:*"],
                "Filter": {"Key": {"Prefix": "in/", "Suffix": ".wav"}},
            },
        },
        "mns": {"Type": "MNSTopic", "Properties": {"TopicName": "t", "NotifyContentFormat": "json"}},
        "tick": {"Type": "Timer", "Properties": {"CronExpression": "0 */5 * * * *", "Payload": "{}"}},
    }
    oss, mns, timer = _parse(_with_events(events)).function("fn").triggers
    assert oss == OssTrigger("up", "media", ("oss:ObjectCreated:*",), "in/", ".wav")
    assert mns == MnsTopicTrigger("mns", "t", "JSON", "BACKOFF_RETRY", None)
    assert isinstance(timer, TimerTrigger) and timer.enabled and timer.payload == "{}"
    http = _parse(_with_events({"web": {"Type": "HTTP", "Properties": {"Methods": ["get", "POST"]}}}))
    assert http.function("fn").triggers == (HttpTrigger("web", "ANONYMOUS", frozenset({"GET", "POST"})),)


@pytest.mark.parametrize(
    ("events", "location", "message"),
    [
        ({"x": {"Type": "CDN", "Properties": {}}}, "Events/x/Type", "not supported locally"),
        (
            {"x": {"Type": "OSS", "Properties": {"BucketName": "b", "Events": ["oss:ObjectCreated:*"]}}},
            "Events/x/Properties/Filter",
            "Key.Prefix and Key.Suffix",
        ),
        (
            {"x": {"Type": "OSS", "Properties": {"BucketName": "b", "Events": ["ObjectCreated:*"]}}},
            "Events/x/Properties/Events/0",
            "not an OSS event",
        ),
        ({"x": {"Type": "MNSTopic", "Properties": {}}}, "TopicName", "is required"),
        (
            {"x": {"Type": "MNSTopic", "Properties": {"TopicName": "t", "NotifyStrategy": "NOW"}}},
            "NotifyStrategy",
            "one of",
        ),
        (
            {"x": {"Type": "MNSTopic", "Properties": {"TopicName": "t", "Region": "cn-beijing"}}},
            "Region",
            "runs in",
        ),
        ({"x": {"Type": "HTTP", "Properties": {"Methods": ["TRACE"]}}}, "Methods/0", "'TRACE'"),
        ({"x": {"Type": "Timer", "Properties": {"CronExpression": "* * * *"}}}, "CronExpression", "6 fields"),
        (
            {"x": {"Type": "Timer", "Properties": {"CronExpression": "@every 1m", "Enable": "yes"}}},
            "Enable",
            "true or false",
        ),
        (
            {
                "h": {"Type": "HTTP", "Properties": {}},
                "t": {"Type": "MNSTopic", "Properties": {"TopicName": "t"}},
            },
            "Events",
            "no other trigger type",
        ),
    ],
)
def test_a_bad_trigger_is_refused_naming_its_location(
    events: dict[str, Any], location: str, message: str
) -> None:
    refusal = _refusal(_with_events(events))
    assert refusal.location.endswith(location) or location in refusal.location
    assert message in str(refusal)


def test_a_template_without_functions_is_refused() -> None:
    document = {"Resources": {"svc": {"Type": "Aliyun::Serverless::Service"}}}
    assert "defines no" in str(_refusal(document))


def test_function_lookup_names_the_known_functions() -> None:
    template = _parse(_document())
    with pytest.raises(LookupError, match="its functions: fn"):
        template.function("other")
    assert template.function("svc/fn").name == "fn"


def test_the_repository_template_resolves_with_its_secrets_given(tmp_path: Path) -> None:
    template = load_template(
        REPO_TEMPLATE,
        parameters={"ApiToken": "t" * 32, "DashScopeApiKey": "sk-test", "WebhookSecret": "w" * 32},
        region=REGION,
        account_id=ACCOUNT,
    )
    assert [s.name for s in template.services] == ["audiochain"]
    service = template.service("audiochain")
    assert (service.log_project, service.log_store) == ("audiochain-logs", "functions")
    upload = template.function("on_upload")
    assert upload.environment["AUDIOCHAIN_REGION"] == REGION
    assert upload.async_config.on_failure is not None
    assert (
        upload.async_config.on_failure.arn
        == f"acs:mns:{REGION}:{ACCOUNT}:/queues/audiochain-dead-letter/messages"
    )
    assert "DASHSCOPE_API_KEY" not in upload.environment
    assert template.function("api").instance_concurrency == 10


def test_the_repository_template_without_its_secrets_names_them() -> None:
    document = yaml.safe_load(REPO_TEMPLATE.read_text(encoding="utf-8"))
    with pytest.raises(TemplateError, match="ApiToken, WebhookSecret, DashScopeApiKey have no Default"):
        _parse(document)

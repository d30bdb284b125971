from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.template import (
    iter_functions,
    load_template,
    parameters,
    parse_template,
    referenced_parameter,
    text_shape,
)
from shared.errors import ConfigurationError
from tests.unit.deploy.helpers import FUNCTIONS


def test_the_template_declares_the_four_functions_in_one_service(repo_template: dict[str, Any]) -> None:
    functions = list(iter_functions(repo_template))
    assert [function.name for function in functions] == list(FUNCTIONS)
    assert {function.service for function in functions} == {"audiochain"}
    assert functions[0].path == "Resources/audiochain/api"


def test_each_function_has_the_trigger_the_chain_needs(repo_template: dict[str, Any]) -> None:
    kinds = {
        function.name: [event["Type"] for event in function.events.values()]
        for function in iter_functions(repo_template)
    }
    assert kinds == {
        "api": ["HTTP"],
        "on_upload": ["OSS"],
        "on_notify": ["MNSTopic"],
        "fetch_results": ["Timer"],
    }


def test_the_secrets_are_noecho_parameters_without_a_value(repo_template: dict[str, Any]) -> None:
    declared = parameters(repo_template)
    for name in ("ApiToken", "DashScopeApiKey"):
        assert declared[name]["NoEcho"] is True
        assert "Default" not in declared[name]


def test_a_missing_template_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no such template file"):
        load_template(tmp_path / "template.yaml")


def test_short_form_tags_are_refused_with_the_long_form_named() -> None:
    with pytest.raises(ConfigurationError, match="long form"):
        parse_template("Resources:\n  a:\n    b: !Ref Bucket\n")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Resources: [unclosed", "not valid YAML"),
        ("- a list\n", "mapping at the top level"),
        ("Parameters: {}\n", "`Resources` must be a mapping"),
    ],
)
def test_malformed_templates_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ConfigurationError, match=reason):
        parse_template(text)


def test_functions_outside_a_service_and_service_properties_are_not_functions() -> None:
    template = parse_template(
        "Resources:\n"
        "  lone:\n    Type: 'Aliyun::Serverless::Function'\n"
        "  svc:\n    Type: 'Aliyun::Serverless::Service'\n    Properties: {Description: x}\n"
        "    fn:\n      Type: 'Aliyun::Serverless::Function'\n      Properties: {Handler: index.handler}\n"
    )
    assert [(f.name, dict(f.properties)) for f in iter_functions(template)] == [
        ("fn", {"Handler": "index.handler"})
    ]


def test_a_ref_names_its_parameter_and_nothing_else_does() -> None:
    assert referenced_parameter({"Ref": "BucketName"}) == "BucketName"
    assert referenced_parameter({"Ref": "A", "Other": 1}) is None
    assert referenced_parameter("BucketName") is None


def test_the_text_shape_of_a_sub_keeps_arn_fields_apart() -> None:
    shape = text_shape({"Fn::Sub": "acs:mns:${ALIYUN::Region}:${ALIYUN::AccountId}:/queues/${Q}/messages"})
    assert shape == "acs:mns:{ALIYUN-Region}:{ALIYUN-AccountId}:/queues/{Q}/messages"
    assert text_shape("plain") == "plain"
    assert text_shape({"Fn::Join": ["", []]}) is None

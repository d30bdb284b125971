"""s.yaml for Serverless Devs fc3: generated from template.yaml, checked in, validated offline, not stale."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.fc3 import main, render_s_yaml, s_yaml_document
from deploy.fc3_schema import validate_s_yaml
from deploy.template import load_template
from shared.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = load_template(ROOT / "template.yaml")


def test_the_checked_in_s_yaml_is_what_the_template_gives() -> None:
    assert (ROOT / "s.yaml").read_text(encoding="utf-8") == render_s_yaml(TEMPLATE), "run `make s-yaml`"


def test_the_check_command_reports_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "s.yaml"
    stale.write_text(
        render_s_yaml(TEMPLATE).replace("memorySize: 512", "memorySize: 1024", 1), encoding="utf-8"
    )

    assert main(["--template", str(ROOT / "template.yaml"), "--out", str(stale), "--check"]) == 1
    assert "stale" in capsys.readouterr().err


def test_every_function_trigger_and_variable_of_the_template_is_in_s_yaml() -> None:
    document = yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))
    resources = document["resources"]
    assert set(resources) == {"api", "on_upload", "on_notify", "fetch_results"}
    triggers = {name: [t["triggerType"] for t in r["props"]["triggers"]] for name, r in resources.items()}
    assert triggers == {
        "api": ["http"],
        "on_upload": ["oss"],
        "on_notify": ["mns_topic"],
        "fetch_results": ["timer"],
    }
    upload = resources["on_upload"]["props"]
    assert upload["triggers"][0]["triggerConfig"]["filter"]["key"]["prefix"] == "${vars.InboxPrefix}"
    assert upload["asyncInvokeConfig"]["destinationConfig"]["onFailure"]["destination"] == (
        "acs:mns:${vars.region}:${config('AccountID')}:/queues/${vars.DeadLetterQueue}/messages"
    )
    notify = resources["on_notify"]["props"]["triggers"][0]["triggerConfig"]
    assert notify == {"notifyContentFormat": "JSON", "notifyStrategy": "EXPONENTIAL_DECAY_RETRY"}
    timer = resources["fetch_results"]["props"]["triggers"][0]["triggerConfig"]
    assert timer["cronExpression"] == "0 */1 * * * *" and timer["payload"] == '{"sweep": true}'
    api = resources["api"]["props"]["environmentVariables"]
    # Secrets come from the deployer's environment, never from the file.
    assert api["AUDIOCHAIN_API_TOKEN"] == "${env('AUDIOCHAIN_API_TOKEN')}"
    assert api["DASHSCOPE_API_KEY"] == "${env('DASHSCOPE_API_KEY')}"


def _document() -> dict[str, Any]:
    return copy.deepcopy(s_yaml_document(TEMPLATE))


def test_an_unknown_property_is_refused_naming_it() -> None:
    document = _document()
    document["resources"]["api"]["props"]["memorysize"] = 512  # misspelt

    with pytest.raises(ConfigurationError) as caught:
        validate_s_yaml(document)

    assert "resources.api.props.memorysize" in str(caught.value)


@pytest.mark.parametrize(
    ("function", "change", "where"),
    [
        ("on_notify", {"notifyStrategy": "RETRY_FOREVER"}, "notifyStrategy"),
        ("on_upload", {"events": ["oss:ObjectCreated:Everything"]}, "events"),
        ("fetch_results", {"cronExpression": "*/1 * * * *"}, "cronExpression"),
        ("api", {"authType": "ANONYMOUS"}, "authType"),
    ],
)
def test_a_trigger_config_that_does_not_fit_its_type_is_refused(
    function: str, change: dict[str, Any], where: str
) -> None:
    document = _document()
    document["resources"][function]["props"]["triggers"][0]["triggerConfig"].update(change)

    with pytest.raises(ConfigurationError) as caught:
        validate_s_yaml(document)

    assert where in str(caught.value)


def test_an_oss_trigger_without_its_source_is_refused() -> None:
    document = _document()
    del document["resources"]["on_upload"]["props"]["triggers"][0]["sourceArn"]

    with pytest.raises(ConfigurationError, match="sourceArn"):
        validate_s_yaml(document)

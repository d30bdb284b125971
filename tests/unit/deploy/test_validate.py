"""The validator end to end. The tests that run Fun itself need Node.js and `deploy/node_modules` (which
`make validate-template` installs before the test suite runs); without them they are skipped, saying so.
Fun opens no socket here: its usage reports and update check are switched off (see deploy/fun.py)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.fun import DEFAULT_FUN
from deploy.rules import RULES
from deploy.validate import main
from tests.unit.deploy.helpers import TEMPLATE, function_events, function_properties
from tests.unit.deploy.test_fun import fake_fun

needs_fun = pytest.mark.skipif(
    shutil.which("node") is None or not DEFAULT_FUN.exists(),
    reason="Fun is not installed: it needs Node.js, and `make validate-template` installs it in deploy/",
)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def write(template: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


@needs_fun
def test_fun_accepts_the_repository_template() -> None:
    status, output = run(str(TEMPLATE))
    assert status == 0, output
    assert "fun validate passed (Runtime python3.10 shown to Fun as python3 in 4 function(s))" in output
    assert output.rstrip().endswith("valid")


@needs_fun
def test_fun_rejects_a_broken_copy_and_names_the_field(template: dict[str, Any], tmp_path: Path) -> None:
    function_events(template, "api")["http"]["Properties"]["AuthType"] = "NONE"
    function_properties(template, "on_upload")["MemorySize"] = 300
    status, output = run(str(write(template, tmp_path / "broken.yaml")))
    assert status == 1
    assert "fun validate failed" in output
    assert "Resources/audiochain/api/Events/http/Properties/AuthType" in output
    assert "Resources/audiochain/on_upload/Properties/MemorySize" in output
    assert output.rstrip().endswith("NOT valid")


def test_a_house_rule_fails_the_check_even_when_fun_passes(template: dict[str, Any], tmp_path: Path) -> None:
    fun, _ = fake_fun(tmp_path)
    function_properties(template, "api")["Handler"] = "app.handler"
    status, output = run(str(write(template, tmp_path / "t.yaml")), "--fun", str(fun))
    assert status == 1
    assert "[handler] Resources/audiochain/api/Properties/Handler: must be index.handler" in output


def test_a_fun_failure_fails_the_check_even_when_the_house_rules_pass(tmp_path: Path) -> None:
    fun, _ = fake_fun(tmp_path, exit_status=255, output="fun ERR! template is not valid")
    status, output = run(str(TEMPLATE), "--fun", str(fun))
    assert status == 1
    assert "  fun ERR! template is not valid" in output
    assert f"{len(RULES)} house rules passed" in output


def test_a_template_that_cannot_be_read_is_an_error_not_a_verdict(tmp_path: Path) -> None:
    status, output = run(str(tmp_path / "missing.yaml"))
    assert status == 2
    assert output.startswith("error: ") and "no such template file" in output

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.fun import fun_environment, fun_readable_copy, run_fun_validate, write_fun_profile
from shared.errors import ConfigurationError
from tests.unit.deploy.helpers import function_properties


def fake_fun(tmp_path: Path, *, exit_status: int = 0, output: str = "") -> tuple[Path, Path]:
    """An executable standing in for `fun`: it records what it was given, prints `output`, exits."""
    record = tmp_path / "record.json"
    script = tmp_path / "fun"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, pathlib, sys\n"
        "template = pathlib.Path(sys.argv[sys.argv.index('-t') + 1])\n"
        "profile = pathlib.Path(os.environ['HOME'], '.fcli', 'config.yaml')\n"
        f"pathlib.Path({str(record)!r}).write_text(json.dumps({{\n"
        "    'argv': sys.argv[1:], 'cwd': os.getcwd(), 'env': dict(os.environ),\n"
        "    'template': template.read_text(), 'template_path': str(template),\n"
        "    'profile': profile.read_text(),\n"
        "}))\n"
        f"print({output!r}, end='')\n"
        f"sys.exit({exit_status})\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, record


def test_fun_sees_python3_where_the_template_says_python3_10(template: dict[str, Any]) -> None:
    readable, aliases = fun_readable_copy(template)
    assert function_properties(readable, "api")["Runtime"] == "python3"
    assert function_properties(template, "api")["Runtime"] == "python3.10"
    first = aliases[0]
    assert (first.path, first.runtime, first.shown_as) == (
        "Resources/audiochain/api/Properties/Runtime",
        "python3.10",
        "python3",
    )
    assert len(aliases) == 4


def test_runtimes_fun_knows_or_nobody_knows_are_left_for_fun_to_judge(template: dict[str, Any]) -> None:
    function_properties(template, "api")["Runtime"] = "python3.12"
    function_properties(template, "on_upload")["Runtime"] = "python3"
    readable, aliases = fun_readable_copy(template)
    assert function_properties(readable, "api")["Runtime"] == "python3.12"
    assert function_properties(readable, "on_upload")["Runtime"] == "python3"
    assert len(aliases) == 2


def test_the_fun_environment_cannot_skip_validation_or_call_home(tmp_path: Path) -> None:
    base = {"PATH": "/bin", "IGNORE_TPL_VALIDATION": "1", "XDG_CONFIG_HOME": "/elsewhere", "HOME": "/root"}
    environment = fun_environment(base, tmp_path)
    assert "IGNORE_TPL_VALIDATION" not in environment
    assert "XDG_CONFIG_HOME" not in environment
    assert environment["HOME"] == str(tmp_path)
    assert environment["FUN_DISABLE_VERSION_CHECK"] == "1"
    assert environment["NO_UPDATE_NOTIFIER"] == "1"
    assert environment["PATH"] == "/bin"


def test_the_fun_profile_turns_usage_reports_off(tmp_path: Path) -> None:
    profile = write_fun_profile(tmp_path)
    assert yaml.safe_load(profile.read_text()) == {"report": False}
    assert profile == tmp_path / ".fcli" / "config.yaml"


def test_fun_is_run_on_a_readable_copy_in_a_scratch_home(
    template: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IGNORE_TPL_VALIDATION", "1")
    fun, record = fake_fun(tmp_path)
    result = run_fun_validate(template, fun=fun)
    seen = json.loads(record.read_text())
    assert result.ok
    assert seen["argv"][:2] == ["validate", "-t"]
    assert "IGNORE_TPL_VALIDATION" not in seen["env"]
    assert yaml.safe_load(seen["profile"]) == {"report": False}
    assert Path(seen["cwd"]) == Path(seen["template_path"]).parent
    copied = yaml.safe_load(seen["template"])
    assert function_properties(copied, "fetch_results")["Runtime"] == "python3"
    assert copied["Parameters"] == template["Parameters"]
    assert not Path(seen["cwd"]).exists(), "the scratch directory is removed afterwards"


def test_fun_failures_come_back_with_their_words_and_no_colour_codes(
    template: dict[str, Any], tmp_path: Path
) -> None:
    fun, _ = fake_fun(tmp_path, exit_status=255, output="\x1b[31mfun ERR!\x1b[39m template is not valid\n")
    result = run_fun_validate(template, fun=fun)
    assert not result.ok
    assert result.returncode == 255
    assert result.output == "fun ERR! template is not valid"


def test_a_missing_fun_says_how_to_install_it(template: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="make validate-template"):
        run_fun_validate(template, fun=tmp_path / "no-fun")


def test_a_missing_node_is_named(
    template: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fun, _ = fake_fun(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ConfigurationError, match=r"Node\.js"):
        run_fun_validate(template, fun=fun)

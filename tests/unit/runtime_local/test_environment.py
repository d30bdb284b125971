"""Per-invocation environment layers over a shared os.environ, and local parameter values."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.runtime import environment
from localcloud.runtime.context import (
    HIDDEN_BY_DEFAULT,
    FcCredentials,
    FunctionMeta,
    ServiceMeta,
    environment_layer,
    function_environment,
)
from localcloud.runtime.parameters import local_parameter_values


@pytest.fixture
def layered() -> Iterator[None]:
    with environment.installed():
        yield


def test_a_layer_adds_overrides_and_hides_variables_only_inside_its_context(
    layered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME_TEST_SHELL", "from-shell")
    monkeypatch.setenv("RUNTIME_TEST_HIDDEN", "secret")
    with environment.layer(
        {"RUNTIME_TEST_OWN": "mine", "RUNTIME_TEST_SHELL": "overridden", "RUNTIME_TEST_HIDDEN": None}
    ):
        assert os.environ["RUNTIME_TEST_OWN"] == "mine"
        assert os.getenv("RUNTIME_TEST_SHELL") == "overridden"
        assert "RUNTIME_TEST_HIDDEN" not in os.environ
        assert os.environ.get("RUNTIME_TEST_HIDDEN") is None
        names = set(os.environ)
        assert "RUNTIME_TEST_OWN" in names and "RUNTIME_TEST_HIDDEN" not in names
        assert dict(os.environ)["RUNTIME_TEST_SHELL"] == "overridden"
        assert len(os.environ) == len(names)
    assert os.environ["RUNTIME_TEST_SHELL"] == "from-shell"
    assert "RUNTIME_TEST_OWN" not in os.environ


def test_concurrent_invocations_each_see_their_own_layer(layered: None) -> None:
    seen: dict[str, list[str | None]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def run(name: str) -> None:
        def body() -> None:
            for _ in range(50):
                barrier.wait()
                seen[name].append(os.environ.get("RUNTIME_TEST_FUNCTION"))

        environment.run_in_layer({"RUNTIME_TEST_FUNCTION": name}, body)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a": ["a"] * 50, "b": ["b"] * 50}


def test_writes_while_installed_survive_uninstalling(monkeypatch: pytest.MonkeyPatch) -> None:
    original = os.environ
    with environment.installed():
        assert isinstance(os.environ, environment.LayeredEnviron)
        monkeypatch.setenv("RUNTIME_TEST_WRITTEN", "kept")
    assert os.environ is original
    assert os.environ["RUNTIME_TEST_WRITTEN"] == "kept"


def test_nested_installs_restore_the_original_only_at_the_last_uninstall() -> None:
    original = os.environ
    environment.install()
    environment.install()
    environment.uninstall()
    assert isinstance(os.environ, environment.LayeredEnviron)
    environment.uninstall()
    assert os.environ is original


def test_a_function_environment_puts_fc_variables_credentials_and_endpoints_over_the_template() -> None:
    values = function_environment(
        template_variables={
            "GREETING": "hi",
            "AUDIOCHAIN_OSS_ENDPOINT": "https://oss-cn-hangzhou.aliyuncs.com",
        },
        function=FunctionMeta("f", "index.handler", 256, 30),
        service=ServiceMeta("svc"),
        credentials=FcCredentials("ak", "sk", "token"),
        region="cn-hangzhou",
        account_id="1",
        endpoint="http://127.0.0.1:9000",
        instance_id="i-1",
    )
    assert values["GREETING"] == "hi"
    assert values["AUDIOCHAIN_OSS_ENDPOINT"] == "http://127.0.0.1:9000"  # never a real endpoint locally
    assert values["FC_FUNCTION_MEMORY_SIZE"] == "256"
    assert values["ALIBABA_CLOUD_SECURITY_TOKEN"] == "token"
    layer = environment_layer(values, HIDDEN_BY_DEFAULT | {"OTHER_FUNCTIONS_VARIABLE"})
    assert layer["OTHER_FUNCTIONS_VARIABLE"] is None
    assert layer["OSS_ACCESS_KEY_ID"] is None  # the SDK fallback name is hidden too
    assert layer["GREETING"] == "hi"


def test_credentials_never_show_their_secret_in_repr() -> None:
    shown = repr(FcCredentials("ak", "SECRET-VALUE", "TOKEN-VALUE"))
    assert "SECRET-VALUE" not in shown and "TOKEN-VALUE" not in shown and "'ak'" in shown


def test_local_values_are_generated_for_noecho_parameters_and_kept_across_runs(tmp_path: Path) -> None:
    declared: dict[str, dict[str, object]] = {
        "ApiToken": {"Type": "String", "NoEcho": True, "MinLength": 40},
        "DashScopeApiKey": {"Type": "String", "NoEcho": True},
        "Bucket": {"Type": "String", "Default": "media"},
        "Required": {"Type": "String"},
    }
    values, supplied = local_parameter_values(declared, {"Bucket": "given"}, tmp_path, "sk-local")
    assert len(values["ApiToken"]) >= 40
    assert values["DashScopeApiKey"] == "sk-local"
    assert values["Bucket"] == "given"
    assert "Required" not in values  # not a secret: template resolution names it
    assert set(supplied) == {"ApiToken", "DashScopeApiKey"}
    assert json.loads((tmp_path / "parameters.json").read_text()) == {"ApiToken": values["ApiToken"]}
    assert (tmp_path / "parameters.json").stat().st_mode & 0o077 == 0

    again, _ = local_parameter_values(declared, {}, tmp_path, "sk-local")
    assert again["ApiToken"] == values["ApiToken"]


def test_a_given_secret_wins_and_is_never_stored(tmp_path: Path) -> None:
    declared = {"ApiToken": {"Type": "String", "NoEcho": True}}
    values, supplied = local_parameter_values(declared, {"ApiToken": "given-token"}, tmp_path, "sk")
    assert values["ApiToken"] == "given-token"
    assert supplied == {}
    assert not (tmp_path / "parameters.json").exists()

"""The vendoring logic without pip: pins, cache reuse and marker evaluation for CPython 3.10. The pip
download itself is exercised by `make build` (it needs the package index; unit tests open no sockets)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from deploy.vendor import (
    PIP_TARGET_OPTIONS,
    base_requirements,
    deployed_pins,
    missing_requirements,
    normalise,
    pins,
    pip_command,
    vendor,
    vendor_key,
    vendored_versions,
)
from shared.errors import ConfigurationError


def dist_info(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    headers = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    headers += [f"Requires-Dist: {requirement}" for requirement in requires]
    # The body after the blank line is the long description: never read as requirements.
    info.joinpath("METADATA").write_text("\n".join(headers) + "\n\nRequires-Dist: not-a-header\n")


def test_only_requirements_outside_extras_are_deployed() -> None:
    declared = [
        "httpx<1,>=0.27",
        "pydantic<3,>=2.6",
        "structlog>=24.1",
        'av>=12; extra == "local"',
        'ruff; extra=="dev"',
    ]
    assert base_requirements(declared) == ["httpx", "pydantic", "structlog"]


def test_names_are_compared_in_normal_form() -> None:
    assert normalise("Typing_Extensions") == "typing-extensions"
    assert normalise("zope.interface") == "zope-interface"


def test_deployed_requirements_are_pinned_to_the_installed_versions() -> None:
    assert pins(["httpx", "pydantic"], {"httpx": "0.28.1", "pydantic": "2.14.3"}) == [
        "httpx==0.28.1",
        "pydantic==2.14.3",
    ]


def test_a_requirement_missing_from_the_environment_is_named() -> None:
    with pytest.raises(ConfigurationError, match="structlog"):
        pins(["httpx", "structlog"], {"httpx": "0.28.1"})


def test_this_environment_pins_exactly_the_three_deployed_libraries() -> None:
    requirements, constraints = deployed_pins()
    assert [requirement.split("==")[0] for requirement in requirements] == ["httpx", "pydantic", "structlog"]
    assert not any(line.startswith("audiochain==") for line in constraints)
    assert all("==" in line for line in constraints)


def test_the_cache_key_changes_with_any_pin() -> None:
    key = vendor_key(["httpx==0.28.1"], ["idna==3.20"])
    assert key == vendor_key(["httpx==0.28.1"], ["idna==3.20"])
    assert key != vendor_key(["httpx==0.28.0"], ["idna==3.20"])
    assert key != vendor_key(["httpx==0.28.1"], ["idna==3.19"])


def test_pip_is_asked_for_linux_cpython_3_10_wheels_only(tmp_path: Path) -> None:
    command = pip_command(tmp_path / "t", tmp_path / "r.txt", tmp_path / "c.txt")
    assert command[1:4] == ["-m", "pip", "install"]
    for option in ("--platform", "manylinux2014_x86_64", "--python-version", "3.10", "--only-binary=:all:"):
        assert option in command
    assert set(PIP_TARGET_OPTIONS) <= set(command)


def test_requirements_are_judged_by_the_runtime_python_not_this_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "anyio", "4.16.0", 'exceptiongroup>=1.0.2; python_version < "3.11"', "idna>=2.8")
    dist_info(site, "idna", "3.20")
    dist_info(
        site,
        "structlog",
        "26.1.0",
        "typing-extensions; python_version < '3.11'",
        'colorama; sys_platform == "win32"',
    )
    dist_info(site, "httpx", "0.28.1", 'click==8.*; extra == "cli"')
    assert missing_requirements(site) == ["exceptiongroup>=1.0.2", "typing-extensions"]


def test_a_vendored_version_that_breaks_a_runtime_requirement_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    dist_info(site, "anyio", "4.16.0", "typing_extensions>=4.16.0; python_version < '3.15'")
    dist_info(site, "typing_extensions", "4.1.0")
    with pytest.raises(ConfigurationError, match=r"typing_extensions>=4\.16\.0"):
        missing_requirements(site)


def test_vendored_versions_are_read_from_dist_info_names(tmp_path: Path) -> None:
    dist_info(tmp_path, "typing_extensions", "4.16.0")
    dist_info(tmp_path, "pydantic_core", "2.50.4")
    assert vendored_versions(tmp_path) == {"pydantic-core": "2.50.4", "typing-extensions": "4.16.0"}


def test_a_cached_tree_with_the_same_pins_is_reused_without_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / ".vendor"
    (cache / "site-packages").mkdir(parents=True)
    (cache / ".vendor-stamp").write_text(vendor_key(["httpx==0.28.1"], []) + "\n")

    def no_pip(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("pip must not run for an up-to-date cache")

    monkeypatch.setattr(subprocess, "run", no_pip)
    assert vendor(cache, ["httpx==0.28.1"], []) == cache / "site-packages"


def test_a_stale_tree_is_rebuilt_then_closed_and_stamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / ".vendor"
    (cache / "site-packages" / "old").mkdir(parents=True)
    (cache / ".vendor-stamp").write_text("another key\n")
    calls: list[list[str]] = []

    def fake_pip(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        if "--no-deps" in command:
            dist_info(target, "exceptiongroup", "1.3.1")
        else:
            dist_info(target, "anyio", "4.16.0", 'exceptiongroup>=1.0.2; python_version < "3.11"')
            (target / "bin").mkdir()
            (target / "bin" / "httpx").write_text("#!/somewhere/python\n")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_pip)
    site = vendor(cache, ["anyio==4.16.0"], ["idna==3.20"])
    assert len(calls) == 2
    assert (cache / "missing.txt").read_text() == "exceptiongroup>=1.0.2\n"
    assert vendored_versions(site) == {"anyio": "4.16.0", "exceptiongroup": "1.3.1"}
    assert not (site / "old").exists() and not (site / "bin").exists()
    assert (cache / ".vendor-stamp").read_text().strip() == vendor_key(["anyio==4.16.0"], ["idna==3.20"])


def test_a_pip_failure_is_reported_with_pips_own_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution found for httpx==9")

    monkeypatch.setattr(subprocess, "run", failing_pip)
    with pytest.raises(ConfigurationError, match="No matching distribution found"):
        vendor(tmp_path / ".vendor", ["httpx==9"], [])
    assert not (tmp_path / ".vendor" / ".vendor-stamp").exists()

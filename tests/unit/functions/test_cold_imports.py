"""A function's cold start loads no service client or model it does not need before its first call (issue
11): DashScope, IMM and ICE clients are built on first use, the recogniser's answers and the transcript
renderers are imported by the steps that read them. Each function is imported in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DEFERRED = (
    "shared.clients.dashscope",
    "shared.clients.imm",
    "shared.clients.ice",
    "shared.ops.ice",
    "shared.ops.imm",
    "shared.ops.asr.audio",
    "shared.ops.asr.responses",
    "shared.ops.asr.stream",
)
EVENT_FUNCTIONS = ("on_upload", "on_notify", "fetch_results")
# What each function's trigger never needs: the other triggers' events and handlers, the WSGI layer, the
# ACS3 signer of IMM and ICE (their clients load it when first used) and the transcript renderers.
NOT_LOADED_BY = {
    "on_upload": (
        "shared.events.mns",
        "shared.events.notifications",
        "shared.events.timer",
        "shared.pipeline.handlers.notify",
        "shared.pipeline.handlers.sweep",
        "shared.runtime.wsgi",
        "shared.clients.mns",
        "shared.auth.acs3",
    ),
    "on_notify": (
        "shared.events.oss",
        "shared.events.timer",
        "shared.pipeline.handlers.upload",
        "shared.pipeline.handlers.sweep",
        "shared.runtime.wsgi",
        "shared.auth.acs3",
    ),
    "fetch_results": (
        "shared.events.mns",
        "shared.events.notifications",
        "shared.pipeline.handlers.upload",
        "shared.pipeline.handlers.notify",
        "shared.runtime.wsgi",
        "shared.auth.acs3",
    ),
    "api": (
        "shared.events.oss",
        "shared.events.mns",
        "shared.events.notifications",
        "shared.events.timer",
        "shared.transcripts.render",
        "shared.auth.acs3",
        "shared.api.openapi",  # built by GET /openapi.json when first asked
    ),
}


def loaded_after_import(function: str) -> set[str]:
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module('functions.{function}.index')\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(answer.stdout))


@pytest.mark.parametrize("function", (*EVENT_FUNCTIONS, "api"))
def test_importing_a_function_leaves_the_service_clients_and_answer_models_for_later(function: str) -> None:
    loaded = loaded_after_import(function)
    assert not loaded & set(DEFERRED)
    if function in EVENT_FUNCTIONS:
        assert "shared.transcripts" not in loaded  # rendered by the publishing step only


@pytest.mark.parametrize("function", sorted(NOT_LOADED_BY))
def test_a_function_loads_nothing_of_the_other_triggers(function: str) -> None:
    loaded = loaded_after_import(function)
    assert sorted(loaded & set(NOT_LOADED_BY[function])) == []

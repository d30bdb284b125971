"""What a handler sees (context attributes, environment variables) and timer triggers."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from shared.events.timer import TimerEvent
from tests.functional.runtime.conftest import Project, start_project
from tests.functional.runtime.project import BUCKET, HANDLERS, records, wait_for, write_project


def _last_call(project: Project, function: str, marker: str) -> dict[str, object]:
    (entry,) = [e for e in records(project.root, function) if e["event"] == marker]
    return entry


def test_the_context_has_fcs_attributes_and_localcloud_credentials_with_a_security_token(
    project: Project,
) -> None:
    marker = uuid.uuid4().hex
    project.runtime.invoke("echo", marker)
    context = _last_call(project, "echo", marker)["context"]
    config = project.cloud.config
    assert context == {
        "request_id": context["request_id"],  # type: ignore[index]
        "retry_count": 0,
        "region": config.region,
        "account_id": config.account_id,
        "credentials": {
            "access_key_id": "localcloud",
            "access_key_secret": "localcloud-secret",
            "security_token": "localcloud-sts-token",
        },
        "function": {"name": "echo", "handler": "index.handler", "memory": 256, "timeout": 10},
        "service": {
            "name": "fixture",
            "log_project": "fixture-logs",
            "log_store": "functions",
            "qualifier": "LATEST",
            "version_id": "",
        },
        "shared_context_request_id": context["request_id"],  # type: ignore[index]
    }


def test_each_function_sees_its_own_variables_fcs_variables_and_localcloud_endpoints(
    project: Project,
) -> None:
    marker = uuid.uuid4().hex
    project.runtime.invoke("echo", marker)
    project.runtime.invoke("sink", marker)
    echo = _last_call(project, "echo", marker)["env"]
    sink = _last_call(project, "sink", marker)["env"]
    endpoint = project.cloud.endpoint
    assert isinstance(echo, dict) and isinstance(sink, dict)
    assert echo["GREETING"] == "hello"
    assert echo["AUDIOCHAIN_BUCKET"] == BUCKET
    assert echo["FC_FUNCTION_NAME"] == "echo"
    assert echo["FC_FUNCTION_MEMORY_SIZE"] == "256"
    assert echo["FC_SERVICE_NAME"] == "fixture"
    assert echo["FC_REGION"] == "cn-hangzhou"
    assert echo["FC_QUALIFIER"] == "LATEST"
    assert echo["ALIBABA_CLOUD_SECURITY_TOKEN"] == "localcloud-sts-token"
    for name in ("OSS", "MNS", "IMM", "ICE", "DASHSCOPE"):
        assert echo[f"AUDIOCHAIN_{name}_ENDPOINT"] == endpoint
    # Generated locally: the NoEcho token (long enough for MinLength) and localcloud's DashScope key.
    assert len(str(echo["AUDIOCHAIN_API_TOKEN"])) >= 32
    assert echo["DASHSCOPE_API_KEY"] == "sk-localcloud"
    assert project.runtime.local_parameters["ApiToken"] == echo["AUDIOCHAIN_API_TOKEN"]
    # sink defines none of echo's variables: they read as unset there, and its FC variables are its own.
    assert (
        sink["GREETING"] is None
        and sink["AUDIOCHAIN_BUCKET"] is None
        and sink["AUDIOCHAIN_API_TOKEN"] is None
    )
    assert sink["FC_FUNCTION_NAME"] == "sink"
    assert sink["FC_FUNCTION_MEMORY_SIZE"] == "128"


def test_function_variables_never_leak_into_the_process_environment(project: Project) -> None:
    project.runtime.invoke("echo", b"leak check")
    assert "GREETING" not in os.environ
    assert os.environ.get("FC_FUNCTION_NAME") is None


def test_a_shell_credential_is_hidden_from_functions(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OSS_ACCESS_KEY_ID", "real-cloud-key")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "real-cloud-key")
    marker = uuid.uuid4().hex
    project.runtime.invoke("echo", marker)
    env = _last_call(project, "echo", marker)["env"]
    assert isinstance(env, dict)
    assert env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "localcloud"
    assert os.environ["OSS_ACCESS_KEY_ID"] == "real-cloud-key"  # the test itself still sees its own


def test_firing_a_timer_invokes_the_function_with_fcs_timer_event(project: Project) -> None:
    request_id = project.runtime.fire_timer("echo")
    assert project.runtime.wait_idle(10)
    (entry,) = [e for e in records(project.root, "echo") if e["context"]["request_id"] == request_id]
    timer = TimerEvent.from_bytes(entry["event"])
    assert timer.trigger_name == "tick"
    assert timer.payload_json() == {"sweep": True}


def test_firing_a_timer_on_a_function_without_one_is_refused(project: Project) -> None:
    with pytest.raises(LookupError, match="timer triggers"):
        project.runtime.fire_timer("sink")


SCHEDULED_TEMPLATE = """
ROSTemplateFormatVersion: '2015-09-01'
Transform: 'Aliyun::Serverless-2018-04-03'
Parameters:
  RecordDir:
    Type: String
Resources:
  clock:
    Type: 'Aliyun::Serverless::Service'
    echo:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/echo.zip
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
      Events:
        every-second:
          Type: Timer
          Properties:
            CronExpression: '* * * * * *'
            Payload: 'tick'
    sink:
      Type: 'Aliyun::Serverless::Function'
      Properties:
        Handler: index.handler
        Runtime: python3.10
        CodeUri: build/sink.zip
        EnvironmentVariables:
          RECORD_DIR:
            Ref: RecordDir
      Events:
        disabled:
          Type: Timer
          Properties:
            CronExpression: '* * * * * *'
            Enable: false
"""


def test_an_enabled_timer_fires_on_its_schedule_and_a_disabled_one_never_does(tmp_path: Path) -> None:
    root = tmp_path / "clock"
    write_project(
        root, template=SCHEDULED_TEMPLATE, handlers={"echo": HANDLERS["echo"], "sink": HANDLERS["sink"]}
    )
    cloud = start_project(root, tmp_path / "data")
    try:
        fired = wait_for(lambda: len(records(root, "echo")) >= 2, timeout=5)
        assert fired
        times = [TimerEvent.from_bytes(e["event"]).trigger_time for e in records(root, "echo")[:2]]
        assert (times[1] - times[0]).total_seconds() == 1.0
        assert all(t.microsecond == 0 for t in times)
        assert records(root, "sink") == []
    finally:
        cloud.stop()

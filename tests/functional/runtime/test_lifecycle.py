"""Starting, stopping and restarting the runtime; the repository's own template.yaml;
`python -m localcloud up`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from localcloud.runtime import FunctionRuntime, HandlerLoadError
from localcloud.runtime.triggers_spec import HttpTrigger, MnsTopicTrigger, OssTrigger, TimerTrigger
from localcloud.server import LocalCloud
from shared.errors import ConfigurationError
from tests.functional.conftest import make_config
from tests.functional.runtime.conftest import start_project
from tests.functional.runtime.project import records, wait_for, write_project

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_a_pending_async_invocation_survives_a_restart_and_keeps_its_request_id(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root)
    marker = uuid.uuid4().hex
    # retry_scale 1: the first retry waits a whole second, long enough to stop localcloud before it.
    first = start_project(root, tmp_path / "data", retry_scale=1.0)
    try:
        assert first.runtime is not None
        token = first.runtime.local_parameters["ApiToken"]
        request_id = first.runtime.invoke_async("flaky", marker)
        wait_for(lambda: [e for e in records(root, "flaky") if e["event"] == marker])
    finally:
        first.stop()
    assert len([e for e in records(root, "flaky") if e["event"] == marker]) == 1

    second = start_project(root, tmp_path / "data")
    try:
        assert second.runtime is not None
        assert second.runtime.wait_idle(10)
        calls = [e for e in records(root, "flaky") if e["event"] == marker]
        assert [c["context"]["retry_count"] for c in calls] == [0, 1, 2]
        assert {c["context"]["request_id"] for c in calls} == {request_id}
        assert second.runtime.local_parameters["ApiToken"] == token  # generated once, kept
    finally:
        second.stop()


def test_an_invocation_queued_before_start_runs_once_started(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root)
    cloud = LocalCloud(
        make_config(tmp_path / "data"),
        services=("oss", "mns"),
        template=root / "template.yaml",
        parameters={"RecordDir": str(root / "records")},
    )
    assert cloud.runtime is not None
    cloud.runtime.invoke_async("sink", b"queued early")
    cloud.start()
    try:
        assert cloud.wait_idle(10)
        assert [e["event"] for e in records(root, "sink")] == ["queued early"]
    finally:
        cloud.stop()


def test_a_handler_that_cannot_be_imported_stops_the_start_with_the_function_named(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root)
    (root / "functions" / "sink" / "index.py").write_text("import no_such_module_anywhere\n")
    cloud = LocalCloud(
        make_config(tmp_path / "data"),
        services=("oss", "mns"),
        template=root / "template.yaml",
        parameters={"RecordDir": str(root / "records")},
    )
    with pytest.raises(HandlerLoadError, match=r"function sink: importing .*sink/index.py failed"):
        cloud.start()
    assert cloud.edge.fc_proxy is None


def test_a_template_needing_a_service_that_is_not_running_is_refused_at_start(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root)
    cloud = LocalCloud(
        make_config(tmp_path / "data"),
        services=("oss",),
        template=root / "template.yaml",
        parameters={"RecordDir": str(root / "records")},
    )
    with pytest.raises(ConfigurationError, match="needs localcloud's mns service"):
        cloud.start()


def test_a_missing_parameter_without_default_is_named(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write_project(root)
    with pytest.raises(ConfigurationError, match="RecordDir have no Default"):
        LocalCloud(make_config(tmp_path / "data"), services=("oss", "mns"), template=root / "template.yaml")


def test_the_repository_template_loads_and_resolves_with_local_parameter_values(tmp_path: Path) -> None:
    cloud = LocalCloud(make_config(tmp_path / "data"), services=("oss", "mns"))
    runtime = FunctionRuntime(cloud, REPO_ROOT / "template.yaml")
    try:
        template = runtime.template
        names = {f.name for f in template.functions}
        assert names == {"api", "on_upload", "on_notify", "fetch_results"}
        api = template.function("api")
        assert isinstance(api.triggers[0], HttpTrigger)
        assert api.environment["AUDIOCHAIN_API_TOKEN"] == runtime.local_parameters["ApiToken"]
        assert api.environment["DASHSCOPE_API_KEY"] == "sk-localcloud"
        assert api.environment["AUDIOCHAIN_REGION"] == cloud.config.region
        upload = template.function("on_upload")
        trigger = upload.triggers[0]
        assert isinstance(trigger, OssTrigger)
        assert (trigger.bucket, trigger.prefix, trigger.suffix) == ("audiochain", "inbox/", "")
        assert upload.async_config.on_failure is not None
        assert upload.async_config.on_failure.name == "audiochain-dead-letter"
        notify = template.function("on_notify").triggers[0]
        assert isinstance(notify, MnsTopicTrigger)
        assert (notify.topic, notify.content_format, notify.strategy) == (
            "audiochain-pipeline",
            "JSON",
            "EXPONENTIAL_DECAY_RETRY",
        )
        sweep = template.function("fetch_results")
        assert isinstance(sweep.triggers[0], TimerTrigger)
        assert sweep.async_config.max_retry_attempts == 0
    finally:
        cloud.state.close()


def test_the_repository_functions_start_on_the_runtime(tmp_path: Path) -> None:
    missing = [
        name
        for name in ("api", "on_upload", "on_notify", "fetch_results")
        if not (REPO_ROOT / "functions" / name / "index.py").is_file()
    ]
    if missing:
        pytest.skip(f"functions/<name>/index.py not written yet for: {', '.join(missing)}")
    cloud = LocalCloud(make_config(tmp_path / "data"), template=REPO_ROOT / "template.yaml")
    cloud.start()
    try:
        mns = cloud.mns()
        assert cloud.oss().store.bucket_exists("audiochain")
        assert mns.topic_exists("audiochain-pipeline") and mns.topic_exists("audiochain-output")
        assert mns.queue_exists("audiochain-dead-letter")
    finally:
        cloud.stop()


def test_localcloud_up_runs_the_template_and_prints_the_http_url_and_the_generated_token(
    tmp_path: Path,
) -> None:
    root = tmp_path / "project"
    write_project(root)
    command = [
        sys.executable, "-m", "localcloud", "up", "--port", "0", "--data", str(tmp_path / "data"),
        "--template", str(root / "template.yaml"), "--parameter", f"RecordDir={root / 'records'}",
    ]  # fmt: skip
    environ = {**os.environ, "AUDIOCHAIN_LOG_LEVEL": "WARNING"}
    # Not ignored in the child: an "ignored" SIGINT in this pytest process would be inherited through exec,
    # and Python then never turns Ctrl-C into KeyboardInterrupt (a handler is reset to the default instead).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=environ
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1].strip() != "Ctrl-C to stop.":
            line = process.stdout.readline()
            assert line, f"localcloud exited early: {''.join(lines)}"
            lines.append(line)
        banner = "".join(lines)
        assert "/2016-08-15/proxy/fixture/web/" in banner
        assert "parameter ApiToken = lc-" in banner
        assert "function fixture/echo" in banner
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # Generous: stopping waits for a recognition worker's call in progress and then up to 10 s per
            # worker to exit; on a CI machine whose cores the rest of the suite saturates that took > 30 s.
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0


def test_the_triggers_are_wired_before_the_port_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An upload stored between "port open" and "triggers wired" never got its event (kill -9 and restart
    # during uploads lost one): the runtime must start while the port does not answer yet.
    seen: list[bool] = []
    original = FunctionRuntime.start

    def start(self: FunctionRuntime) -> FunctionRuntime:
        cloud = self.cloud
        serving = getattr(cloud, "_thread", None)
        seen.append(serving is not None and serving.is_alive())
        return original(self)

    monkeypatch.setattr(FunctionRuntime, "start", start)
    root = tmp_path / "project"
    write_project(root)
    cloud = start_project(root, tmp_path / "data")
    try:
        assert seen == [False]
        assert cloud.runtime is not None and cloud.runtime.wait_idle(10)
    finally:
        cloud.stop()

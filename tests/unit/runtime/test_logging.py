from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared.errors import ConfigurationError
from shared.logging import configure_logging, get_logger, reset_logging

ACCESS_KEY_SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
SECURITY_TOKEN = "CAIS8wF1q6Ft5B2yfSjIr5bSEsLJgrJy0oeJQUvDj2UiUPxmtJvDkzz2IHhMfXZoBOsdtPw0lWBR7/sYlqJ4T55IQ1"
DASHSCOPE_KEY = "sk-3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
PRESIGNED_V4 = (
    "https://audiochain-demo.oss-cn-hangzhou.aliyuncs.com/work/talk.wav"
    "?x-oss-signature-version=OSS4-HMAC-SHA256"
    "&x-oss-credential=LTAI5tExampleKeyId%2F20250417%2Fcn-hangzhou%2Foss%2Faliyun_v4_request"
    "&x-oss-date=20250417T111111Z&x-oss-expires=3600"
    "&x-oss-security-token=CAISabcdefghijklmnopqrstuvwxyz0123"
    "&x-oss-signature=d1f5e7c0a4b8e2f6a9c3d7e1b5f9a3c7d1e5f9a3b7c1d5e9f3a7b1c5d9e3f7a1"
)
PRESIGNED_V1 = (
    "https://audiochain-demo.oss-cn-hangzhou.aliyuncs.com/work/talk.wav"
    "?OSSAccessKeyId=LTAI5tExampleKeyId&Expires=1713352271&Signature=Zm9vYmFyYmF6cXV4%2Bqq%3D"
    "&security-token=CAISzyxwvutsrqponmlkjihgfedcba9876"
)
V4_AUTHORIZATION = (
    "OSS4-HMAC-SHA256 Credential=LTAI5tExampleKeyId/20250417/cn-hangzhou/oss/aliyun_v4_request,"
    "Signature=a7c3554c729d71929e0b84489addee6b2e8d5cb48595adfc51868c299c0c218e"
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out, level="debug")
    yield out
    reset_logging()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_the_bound_context_the_level_and_an_iso_utc_timestamp(stream: io.StringIO) -> None:
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        get_logger("demo").info("job.submitted", job_id="j-1")
    finally:
        structlog.contextvars.clear_contextvars()
    (line,) = lines(stream)
    assert line["request_id"] == "r-1"
    assert (line["event"], line["level"], line["logger"], line["job_id"]) == (
        "job.submitted",
        "info",
        "demo",
        "j-1",
    )
    assert line["timestamp"].endswith("Z") and "T" in line["timestamp"]


def test_secrets_logged_under_telling_names_are_replaced_whole(stream: io.StringIO) -> None:
    get_logger().info(
        "signing",
        access_key_id="LTAI5tExampleKeyId",
        access_key_secret=ACCESS_KEY_SECRET,
        security_token=SECURITY_TOKEN,
        api_key=DASHSCOPE_KEY,
        password="hunter2",
        headers={"Authorization": V4_AUTHORIZATION, "x-oss-date": "20250417T111111Z"},
        credentials={"nested": {"anything": "at-all"}},
        usage={"input_tokens": 25, "output_tokens": 7},
    )
    text = stream.getvalue()
    for secret in (ACCESS_KEY_SECRET, SECURITY_TOKEN, DASHSCOPE_KEY, "hunter2", "a7c3554c729d", "at-all"):
        assert secret not in text
    (line,) = lines(stream)
    assert line["access_key_id"] == "LTAI5tExampleKeyId"  # an id is not a secret and helps debugging
    assert line["headers"] == {"Authorization": "[REDACTED]", "x-oss-date": "20250417T111111Z"}
    assert line["usage"] == {"input_tokens": 25, "output_tokens": 7}


def test_presigned_urls_keep_their_path_but_lose_their_signatures(stream: io.StringIO) -> None:
    get_logger().info("download", url=PRESIGNED_V4, legacy=[PRESIGNED_V1])
    (line,) = lines(stream)
    assert line["url"].startswith("https://audiochain-demo.oss-cn-hangzhou.aliyuncs.com/work/talk.wav?")
    assert "x-oss-expires=3600" in line["url"]
    assert "x-oss-signature-version=OSS4-HMAC-SHA256" in line["url"]
    assert "x-oss-signature=[REDACTED]" in line["url"]
    assert "x-oss-credential=[REDACTED]" in line["url"]
    assert "x-oss-security-token=[REDACTED]" in line["url"]
    assert "Expires=1713352271" in line["legacy"][0]
    for secret in ("d1f5e7c0a4b8", "LTAI5tExampleKeyId", "CAISabcdef", "Zm9vYmFy", "CAISzyxw"):
        assert secret not in stream.getvalue()


def test_secrets_inside_messages_and_exception_tracebacks_are_scrubbed(stream: io.StringIO) -> None:
    log = get_logger("client")
    try:
        raise RuntimeError(f"GET {PRESIGNED_V1} failed; Authorization: Bearer {DASHSCOPE_KEY}")
    except RuntimeError:
        log.exception(f"request failed with {DASHSCOPE_KEY}")
    (line,) = lines(stream)
    assert (
        "RuntimeError: GET https://audiochain-demo.oss-cn-hangzhou.aliyuncs.com/work/talk.wav"
        in line["exception"]
    )
    assert DASHSCOPE_KEY not in stream.getvalue()
    assert "Zm9vYmFy" not in stream.getvalue()
    assert line["event"] == "request failed with [REDACTED]"


def test_console_format_is_redacted_too() -> None:
    out = io.StringIO()
    configure_logging(fmt="console", stream=out)
    try:
        get_logger().info("hello", url=PRESIGNED_V4, token=SECURITY_TOKEN)
    finally:
        reset_logging()
    text = out.getvalue()
    assert "hello" in text and "[REDACTED]" in text
    assert SECURITY_TOKEN not in text and "d1f5e7c0a4b8" not in text
    assert not text.lstrip().startswith("{")


def test_the_level_filters_lower_lines() -> None:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out, level="warning")
    try:
        get_logger().info("hidden")
        get_logger().warning("shown")
    finally:
        reset_logging()
    assert [line["event"] for line in lines(out)] == ["shown"]


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_console_output_and_a_pipe_gets_json() -> None:
    tty, pipe = FakeTty(), io.StringIO()
    try:
        configure_logging(stream=tty, environ={})
        get_logger().info("on tty")
        configure_logging(stream=pipe, environ={})
        get_logger().info("in pipe")
    finally:
        reset_logging()
    assert not tty.getvalue().lstrip().startswith("{")
    assert json.loads(pipe.getvalue())["event"] == "in pipe"


def test_the_environment_overrides_the_tty_default_and_is_read_at_call_time() -> None:
    tty = FakeTty()
    try:
        configure_logging(
            stream=tty, environ={"AUDIOCHAIN_LOG_FORMAT": "JSON", "AUDIOCHAIN_LOG_LEVEL": "error"}
        )
        get_logger().warning("filtered")
        get_logger().error("kept")
    finally:
        reset_logging()
    assert [json.loads(line)["event"] for line in tty.getvalue().splitlines()] == ["kept"]


def test_explicit_arguments_beat_the_environment() -> None:
    out = io.StringIO()
    try:
        configure_logging(stream=out, fmt="json", level="debug", environ={"AUDIOCHAIN_LOG_FORMAT": "console"})
        get_logger().debug("explicit")
    finally:
        reset_logging()
    assert json.loads(out.getvalue())["event"] == "explicit"


def test_a_second_call_without_arguments_changes_nothing(stream: io.StringIO) -> None:
    configure_logging()
    get_logger().info("still here")
    assert lines(stream)[-1]["event"] == "still here"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"AUDIOCHAIN_LOG_FORMAT": "xml"}, "AUDIOCHAIN_LOG_FORMAT"),
        ({"AUDIOCHAIN_LOG_LEVEL": "loud"}, "AUDIOCHAIN_LOG_LEVEL"),
    ],
)
def test_an_unusable_setting_is_a_configuration_error_naming_the_variable(
    environ: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        configure_logging(stream=io.StringIO(), environ=environ)
    reset_logging()


def test_a_logger_obtained_before_configuration_configures_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reset_logging()
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setenv("AUDIOCHAIN_LOG_FORMAT", "json")
    log = get_logger("early").bind(stage="import")
    try:
        log.info("first line", signature="abc123")
    finally:
        reset_logging()
    line = json.loads(out.getvalue())
    assert (line["logger"], line["stage"], line["signature"]) == ("early", "import", "[REDACTED]")


def test_urls_logged_by_httpx_through_the_standard_library_are_scrubbed(stream: io.StringIO) -> None:
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    httpx_logger = logging.getLogger("httpx")
    httpx_logger.addHandler(handler)
    previous_level = httpx_logger.level
    httpx_logger.setLevel(logging.INFO)
    try:
        httpx_logger.info('HTTP Request: %s %s "%s"', "GET", PRESIGNED_V4, "HTTP/1.1 200 OK")
    finally:
        httpx_logger.removeHandler(handler)
        httpx_logger.setLevel(previous_level)
    text = captured.getvalue()
    assert "talk.wav" in text and "HTTP/1.1 200 OK" in text
    assert "d1f5e7c0a4b8" not in text and "x-oss-signature=[REDACTED]" in text

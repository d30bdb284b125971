"""Across the clients: logs never hold secrets or query strings; the package surface; the doctests."""

from __future__ import annotations

import doctest
import importlib

import httpx
import pytest
from structlog.testing import capture_logs

import shared.clients
from shared.auth.credentials import Credentials
from shared.clients import DashScopeClient, ImmClient, MnsClient, OssClient, RetryPolicy
from shared.errors import ServiceError
from tests.unit.clients.conftest import ACCESS_KEY_SECRET, STS_TOKEN, Recorder, fixed_clock

API_KEY = "sk-logtest0123456789"
RECEIPT = "1-RECEIPTHANDLE=="


def answer_for(request: httpx.Request) -> httpx.Response:
    host = request.url.host
    if "mns" in host:
        return httpx.Response(204)
    if "imm" in host:
        return httpx.Response(200, json={"RequestId": "r", "TaskId": "t", "Status": "Running"})
    if "dashscope" in host or "result" in host:
        return httpx.Response(200, json={"transcripts": []})
    return httpx.Response(
        200,
        json={"EventId": "e", "RequestId": "r", "TaskId": "t"},
    )


def signature_of(authorization: str) -> str:
    """The signature part of an OSS4 / ACS3 (`...,Signature=<hex>`) or MNS (`MNS <AK>:<base64>`) header."""
    if "Signature=" in authorization:
        return authorization.rsplit("Signature=", 1)[1]
    return authorization.rsplit(":", 1)[1]


@pytest.mark.usefixtures("debug_logging")
def test_no_log_line_carries_a_query_string_header_token_signature_or_key() -> None:
    recorder = Recorder([answer_for])
    credentials = Credentials("LTAI5tFixedAccessKeyId", ACCESS_KEY_SECRET, STS_TOKEN)
    retry = RetryPolicy(sleep=lambda seconds: None)
    oss = OssClient(
        "https://oss-cn-hangzhou.aliyuncs.com",
        "cn-hangzhou",
        credentials,
        transport=recorder.transport,
        clock=fixed_clock,
        retry=retry,
    )
    mns = MnsClient(
        "https://1.mns.cn-hangzhou.aliyuncs.com", credentials, transport=recorder.transport, retry=retry
    )
    imm = ImmClient(
        "https://imm.cn-hangzhou.aliyuncs.com", credentials, transport=recorder.transport, retry=retry
    )
    dashscope = DashScopeClient(
        "https://dashscope.aliyuncs.com", API_KEY, transport=recorder.transport, retry=retry
    )
    presigned = oss.presign_get("examplebucket", "in/a.mp3", 600)
    with capture_logs() as logs:
        oss.async_process("examplebucket", "in/a.mp3", "audio/convert,f_mp3|sys/saveas,b_YQ,o_Yg")
        mns.delete("audio-queue", RECEIPT)
        imm.get_task("project", "MediaConvert-1")
        dashscope.download_transcription(presigned.replace("examplebucket.oss", "result.oss"))
    assert len([entry for entry in logs if entry["event"] == "client.service_call"]) == 4
    signatures = [signature_of(request.headers["Authorization"]) for request in recorder.requests[:3]]
    assert all(len(signature) >= 20 for signature in signatures)
    text = repr(logs)
    for secret in [
        ACCESS_KEY_SECRET,
        STS_TOKEN,
        API_KEY,
        RECEIPT,
        "x-oss-signature",
        "x-oss-credential",
        *signatures,
    ]:
        assert secret not in text
    assert "?" not in text
    assert all("headers" not in entry and "url" not in entry for entry in logs)


def test_the_package_exports_every_client_lazily() -> None:
    for name in shared.clients.__all__:
        assert getattr(shared.clients, name).__name__ == name
    with pytest.raises(AttributeError):
        shared.clients.NoSuchThing  # noqa: B018


@pytest.mark.parametrize(
    "module",
    [
        "base",
        "body",
        "policy",
        "errors",
        "xmlsafe",
        "oss",
        "mns",
        "openapi",
        "imm",
        "ice",
        "dashscope",
        "__init__",
    ],
)
def test_the_docstring_examples_run(module: str) -> None:
    name = "shared.clients" if module == "__init__" else f"shared.clients.{module}"
    with capture_logs():  # the examples make calls, whose log lines are not part of their output
        result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.usefixtures("debug_logging")
def test_a_404_is_logged_as_an_answer_and_a_server_fault_as_a_warning() -> None:
    # Absent objects are how the job store learns a claim or a snapshot is not there yet: not a warning.
    def answer(request: httpx.Request) -> httpx.Response:
        status = 404 if request.url.path.endswith("absent") else 403
        body = f"<Error><Code>{'NoSuchKey' if status == 404 else 'AccessDenied'}</Code></Error>"
        return httpx.Response(status, text=body, headers={"Content-Type": "application/xml"})

    recorder = Recorder([answer, answer])
    oss = OssClient(
        "https://oss-cn-hangzhou.aliyuncs.com",
        "cn-hangzhou",
        Credentials("LTAI5tFixedAccessKeyId", ACCESS_KEY_SECRET, STS_TOKEN),
        transport=recorder.transport,
        clock=fixed_clock,
        retry=RetryPolicy(sleep=lambda seconds: None),
    )
    with capture_logs() as logs:
        for key in ("absent", "forbidden"):
            with pytest.raises(ServiceError):  # ObjectNotFound and the access error alike
                oss.get_object_bytes("examplebucket", key)
    calls = [
        (entry["log_level"], entry["outcome"]) for entry in logs if entry["event"] == "client.service_call"
    ]
    assert calls == [("debug", "not_found"), ("warning", "failed")]

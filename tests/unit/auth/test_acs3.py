from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import NamedTuple

import httpx
import pytest

from shared.auth import (
    EMPTY_BODY_SHA256,
    Acs3Auth,
    Credentials,
    acs3_authorization,
    acs3_canonical_query,
    acs3_canonical_request,
    acs3_signature,
    acs3_string_to_sign,
    parse_acs3_authorization,
)
from shared.auth._primitives import sha256_hex, url_query_pairs
from shared.errors import InvalidRequestError
from tests.unit.auth.fixed import (
    AK_ID,
    AK_SECRET,
    NONCE,
    STATIC,
    STS,
    STS_TOKEN,
    fixed_clock,
    fixed_nonce,
    send_signed,
)

DOC_QUERY = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
DOC_HEADERS = {
    "host": "ecs.cn-shanghai.aliyuncs.com",
    "x-acs-action": "RunInstances",
    "x-acs-version": "2014-05-26",
    "x-acs-date": "2023-10-26T10:22:32Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-content-sha256": EMPTY_BODY_SHA256,
}
DOC_SIGNED = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"


def test_documentation_vector_canonical_request_matches_byte_for_byte() -> None:
    canonical = acs3_canonical_request(
        "POST", "/", DOC_QUERY, DOC_HEADERS, DOC_HEADERS.keys(), EMPTY_BODY_SHA256
    )
    assert canonical == (
        "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\n"
        "host:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\n"
        f"x-acs-content-sha256:{EMPTY_BODY_SHA256}\nx-acs-date:2023-10-26T10:22:32Z\n"
        "x-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\n"
        f"{DOC_SIGNED}\n{EMPTY_BODY_SHA256}"
    )
    string_to_sign = acs3_string_to_sign(canonical)
    assert (
        string_to_sign == "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    )
    signature = acs3_signature("YourAccessKeySecret", string_to_sign)
    assert acs3_authorization("YourAccessKeyId", DOC_HEADERS.keys(), signature) == (
        f"ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders={DOC_SIGNED},"
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_documentation_vector_reproduces_through_the_httpx_flow() -> None:
    auth = Acs3Auth(
        Credentials("YourAccessKeyId", "YourAccessKeySecret"),
        clock=lambda: datetime(2023, 10, 26, 10, 22, 32, tzinfo=timezone.utc),
        nonce=lambda: "3156853299f313e23d1673dc12e1703d",
    )
    sent = send_signed(
        auth,
        "POST",
        "https://ecs.cn-shanghai.aliyuncs.com/",
        params=DOC_QUERY,
        headers={"x-acs-action": "RunInstances", "x-acs-version": "2014-05-26"},
    )
    assert sent.headers["Authorization"].endswith(
        "Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_sdk_query_encoding_vector_uses_rfc3986() -> None:
    assert acs3_canonical_query({"test": " ~/*-+"}) == "test=%20~%2F%2A-%2B"
    assert acs3_canonical_query([("b", "2"), ("a", ""), ("b", "1")]) == "a=&b=1&b=2"


USER_AGENT = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2"
IMM_QUERY = {
    "Notification": json.dumps({"MNS": {"TopicName": "AudioConvert"}}, separators=(",", ":")),
    "ProjectName": "test-project",
    "Sources": '[{"Subtitles":[],"URI":"oss://examplebucket/src.mp3"}]',
    "TargetGroups": "[]",
    "Targets": '[{"Audio":{"TranscodeAudio":{"Bitrate":96000,"Codec":"aac"}},"Container":"aac",'
    '"URI":"oss://examplebucket/dest.aac"}]',
    "UserData": '{"id":"job-1"}',
}
ICE_QUERY = {
    "Description": "tts job",
    "EditingConfig": '{"voice":"zhitian_emo","format":"mp3","volume":50,"speech_rate":0,"pitch_rate":0}',
    "InputConfig": "Hello, this is a test.",
    "OutputConfig": '{"bucket":"examplebucket","object":"tts/out"}',
    "Overwrite": "True",
    "Title": "test-tts",
    "UserData": '{"id":"job-2"}',
}


class SdkCase(NamedTuple):
    host: str
    action: str
    version: str
    query: dict[str, str]
    credentials: Credentials
    canonical_hash: str
    signature: str


SDK_CASES = [
    pytest.param(
        SdkCase(
            "imm.cn-hangzhou.aliyuncs.com",
            "CreateMediaConvertTask",
            "2020-09-30",
            IMM_QUERY,
            STATIC,
            "4434447a445e6aa464577facc8bceb38a4d9f9ada448800ae40547fccc7f7d67",
            "c75af99a18899f550a191ae65cb95eb92aec5e5e27b6bcf919a3d2f0f537a79e",
        ),
        id="imm",
    ),
    pytest.param(
        SdkCase(
            "imm.cn-hangzhou.aliyuncs.com",
            "CreateMediaConvertTask",
            "2020-09-30",
            IMM_QUERY,
            STS,
            "2183e32e5c76a3c37b704d56209c5f5a530ac3cdee87cdbbda77b34178461b3b",
            "98f00b6a49231069a2293bf20c2ef1cdcc48cd1a3f2c4980476c1ad2e6b16020",
        ),
        id="imm-sts",
    ),
    pytest.param(
        SdkCase(
            "ice.cn-hangzhou.aliyuncs.com",
            "SubmitAudioProduceJob",
            "2020-11-09",
            ICE_QUERY,
            STATIC,
            "e77c98d8d60001b3c8d88c92f6ba278544b23a11a465e5ac6c7a0e8c82fd0795",
            "0fc1a712fb48074920a7b51d9d51f37afac84e2d7812fb31d88668c46733e834",
        ),
        id="ice",
    ),
    pytest.param(
        SdkCase(
            "ice.cn-hangzhou.aliyuncs.com",
            "SubmitAudioProduceJob",
            "2020-11-09",
            ICE_QUERY,
            STS,
            "8628b29e8f223e97260cf525d501f4da6f97bdedf376b5762855ae5441f29104",
            "c6f1d2d4ae33f21f590a53cb0ef10eab0dce35611487496537072b29ae0fe946",
        ),
        id="ice-sts",
    ),
]


def sdk_headers(case: SdkCase) -> dict[str, str]:
    """The header set the official SDK signs (it adds accept, user-agent and its own x-acs-* markers)."""
    sts = case.credentials.security_token
    headers = {
        "host": case.host,
        "x-acs-version": case.version,
        "x-acs-action": case.action,
        "user-agent": USER_AGENT,
        "x-acs-date": "2025-01-15T08:30:45Z",
        "x-acs-signature-nonce": NONCE,
        "accept": "application/json",
        "x-acs-content-sha256": EMPTY_BODY_SHA256,
        "x-acs-credentials-provider": "static_sts" if sts else "static_ak",
    }
    if sts:
        headers["x-acs-accesskey-id"] = case.credentials.access_key_id
        headers["x-acs-security-token"] = sts
    return headers


@pytest.mark.parametrize("case", SDK_CASES)
def test_sdk_captures_reproduce_through_the_pure_functions(case: SdkCase) -> None:
    headers = sdk_headers(case)
    canonical = acs3_canonical_request("POST", "/", case.query, headers, headers.keys(), EMPTY_BODY_SHA256)
    string_to_sign = acs3_string_to_sign(canonical)
    assert string_to_sign == f"ACS3-HMAC-SHA256\n{case.canonical_hash}"
    assert acs3_signature(AK_SECRET, string_to_sign) == case.signature


@pytest.mark.parametrize("case", SDK_CASES)
def test_sdk_captures_reproduce_through_the_httpx_flow_with_the_sdk_extra_headers(case: SdkCase) -> None:
    sts = case.credentials.security_token
    extra = {
        "accept": "application/json",
        "user-agent": USER_AGENT,
        "x-acs-action": case.action,
        "x-acs-version": case.version,
        "x-acs-credentials-provider": "static_sts" if sts else "static_ak",
    }
    if sts:
        extra["x-acs-accesskey-id"] = case.credentials.access_key_id
    auth = Acs3Auth(
        case.credentials, clock=fixed_clock, nonce=fixed_nonce, signed_headers=["accept", "User-Agent"]
    )
    sent = send_signed(auth, "POST", f"https://{case.host}/", params=case.query, headers=extra)
    names = ";".join(sorted(sdk_headers(case)))
    assert sent.headers["Authorization"] == (
        f"ACS3-HMAC-SHA256 Credential={AK_ID},SignedHeaders={names},Signature={case.signature}"
    )
    assert sent.headers.get("x-acs-security-token") == sts


def test_ice_canonical_query_writes_spaces_as_percent_20_although_httpx_sends_plus() -> None:
    request = httpx.Request("POST", "https://ice.cn-hangzhou.aliyuncs.com/", params=ICE_QUERY)
    assert b"Description=tts+job" in request.url.query
    assert acs3_canonical_query(url_query_pairs(request.url)).startswith(
        "Description=tts%20job&EditingConfig=%7B%22voice%22%3A%22zhitian_emo%22"
    )


FORM_BODY = (
    b"Flag=True&Space=a+b%2A~&Targets.1.Audio.TranscodeAudio.Codec=aac"
    b"&Targets.1.URI=oss%3A%2F%2Fexamplebucket%2Fdest.aac"
)


def test_form_body_is_hashed_and_content_type_is_signed_as_the_sdk_does() -> None:
    assert sha256_hex(FORM_BODY) == "e9285c5bf202bbb4b4b83d2dc9b857b3ed8d39a380e278e12eeb2e770e9fa7f8"
    auth = Acs3Auth(STATIC, clock=fixed_clock, nonce=fixed_nonce, signed_headers=["accept", "user-agent"])
    sent = send_signed(
        auth,
        "POST",
        "https://imm.cn-hangzhou.aliyuncs.com/",
        params={"ProjectName": "test-project", "Sources.1.URI": "oss://examplebucket/src.mp3"},
        headers={
            "accept": "application/json",
            "user-agent": USER_AGENT,
            "content-type": "application/x-www-form-urlencoded",
            "x-acs-action": "CreateMediaConvertTask",
            "x-acs-version": "2020-09-30",
            "x-acs-credentials-provider": "static_ak",
        },
        content=FORM_BODY,
    )
    assert sent.headers["x-acs-content-sha256"] == sha256_hex(FORM_BODY)
    assert sent.headers["Authorization"].endswith(
        "SignedHeaders=accept;content-type;host;user-agent;x-acs-action;x-acs-content-sha256;"
        "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=4ca37242f75b2da9a4a22431b07e54c2ae37dfb772691742e537606eb7ce0343"
    )


def test_the_flow_signs_host_and_every_x_acs_header_by_default_and_verifies() -> None:
    auth = Acs3Auth(STS, clock=fixed_clock, nonce=fixed_nonce)
    sent = send_signed(
        auth,
        "POST",
        "https://imm.cn-hangzhou.aliyuncs.com/",
        params=IMM_QUERY,
        headers={
            "x-acs-action": "CreateMediaConvertTask",
            "x-acs-version": "2020-09-30",
            "accept": "application/json",
        },
    )
    assert sent.headers["x-acs-date"] == "2025-01-15T08:30:45Z"
    assert sent.headers["x-acs-signature-nonce"] == NONCE
    assert sent.headers["x-acs-content-sha256"] == EMPTY_BODY_SHA256
    assert sent.headers["x-acs-security-token"] == STS_TOKEN
    key_id, names, signature = parse_acs3_authorization(sent.headers["Authorization"])
    assert key_id == AK_ID
    assert names == (
        "host",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-date",
        "x-acs-security-token",
        "x-acs-signature-nonce",
        "x-acs-version",
    )
    canonical = acs3_canonical_request(
        sent.method,
        sent.url.path,
        url_query_pairs(sent.url),
        sent.headers,
        names,
        sent.headers["x-acs-content-sha256"],
    )
    assert acs3_signature(AK_SECRET, acs3_string_to_sign(canonical)) == signature


def test_the_default_nonce_differs_between_requests() -> None:
    auth = Acs3Auth(STATIC, clock=fixed_clock)
    first = send_signed(auth, "POST", "https://imm.cn-hangzhou.aliyuncs.com/")
    second = send_signed(auth, "POST", "https://imm.cn-hangzhou.aliyuncs.com/")
    assert first.headers["x-acs-signature-nonce"] != second.headers["x-acs-signature-nonce"]
    assert len(first.headers["x-acs-signature-nonce"]) == 32


def test_a_stale_acs_token_is_dropped_when_the_credentials_have_none() -> None:
    auth = Acs3Auth(STATIC, clock=fixed_clock, nonce=fixed_nonce)
    sent = send_signed(
        auth, "POST", "https://imm.cn-hangzhou.aliyuncs.com/", headers={"x-acs-security-token": "old"}
    )
    assert "x-acs-security-token" not in sent.headers
    assert "x-acs-security-token" not in sent.headers["Authorization"]


def test_a_signed_header_missing_from_the_request_is_named() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        acs3_canonical_request("POST", "/", {}, {"host": "h"}, ["host", "x-acs-date"], EMPTY_BODY_SHA256)
    assert caught.value.field == "signed_header_names"
    assert "x-acs-date" in str(caught.value)


def test_acs3_authorization_parses_into_its_three_parts() -> None:
    header = f"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders={DOC_SIGNED},Signature=" + "0" * 64
    assert parse_acs3_authorization(header) == ("AK", tuple(DOC_SIGNED.split(";")), "0" * 64)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SM3 Credential=AK,SignedHeaders=host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=AK,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=Host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host;;date,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=short",
        "ACS3-HMAC-SHA256 Credential=AK,Credential=AK,SignedHeaders=host,Signature=" + "0" * 64,
    ],
)
def test_malformed_acs3_authorization_headers_raise_value_error(header: str) -> None:
    with pytest.raises(ValueError):
        parse_acs3_authorization(header)

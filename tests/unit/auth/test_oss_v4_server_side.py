"""What localcloud does with what it receives: parse the Authorization, recompute with the same functions."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from shared.auth import (
    OssV4Auth,
    OssV4AuthorizationHeader,
    oss_bucket_and_key,
    oss_v4_canonical_request,
    oss_v4_signature,
    oss_v4_signing_key,
    oss_v4_string_to_sign,
    parse_oss_v4_authorization,
    presign_oss_v4,
)
from shared.auth._primitives import url_query_pairs
from tests.unit.auth.fixed import (
    AK_ID,
    AK_SECRET,
    ASYNC_BODY,
    ASYNC_URL,
    FIXED_DT,
    STS,
    fixed_clock,
    send_signed,
)

V2_HEADER = (
    f"OSS4-HMAC-SHA256 Credential={AK_ID}/20250115/cn-hangzhou/oss/aliyun_v4_request,"
    "Signature=54ce9a9d7f7309f00c1e9a85d48ad587d10a7dcda94a2bfa3fa85f3d20424cdb"
)
OSS2_HEADER = (
    f"OSS4-HMAC-SHA256 Credential={AK_ID}/20250115/cn-hangzhou/oss/aliyun_v4_request, "
    "Signature=ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"
)


def test_v2_sdk_header_without_spaces_parses() -> None:
    parsed = parse_oss_v4_authorization(V2_HEADER)
    assert parsed == OssV4AuthorizationHeader(
        access_key_id=AK_ID,
        scope_day="20250115",
        region="cn-hangzhou",
        service="oss",
        additional_headers=(),
        signature="54ce9a9d7f7309f00c1e9a85d48ad587d10a7dcda94a2bfa3fa85f3d20424cdb",
    )
    assert parsed.scope == "20250115/cn-hangzhou/oss/aliyun_v4_request"


def test_oss2_header_with_spaces_and_additional_headers_last_parses() -> None:
    parsed = parse_oss_v4_authorization(OSS2_HEADER + ", AdditionalHeaders=host;range")
    assert parsed.additional_headers == ("host", "range")
    assert parsed.signature.startswith("ccf511c7")


@pytest.mark.parametrize(
    "header",
    [
        "",
        "OSS LTAI:abc",
        "OSS4-HMAC-SHA256",
        "OSS4-HMAC-SHA256 Signature=" + "a" * 64,
        f"OSS4-HMAC-SHA256 Credential={AK_ID}/20250115/cn-hangzhou/oss/aliyun_v4_request",
        "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss,Signature=" + "a" * 64,
        "OSS4-HMAC-SHA256 Credential=AK/2025-01-15/cn-hangzhou/oss/aliyun_v4_request,Signature=" + "a" * 64,
        "OSS4-HMAC-SHA256 Credential=/20250115/cn-hangzhou/oss/aliyun_v4_request,Signature=" + "a" * 64,
        "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss/aliyun_v4_request,Signature=XYZ",
        "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss/aliyun_v4_request,Signature=" + "A" * 64,
        "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss/aliyun_v4_request,Nonce=1,Signature="
        + "a" * 64,
        V2_HEADER + ",Signature=" + "b" * 64,
        "OSS4-HMAC-SHA256 Credential=AK/20250115/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=Host,"
        "Signature=" + "a" * 64,
    ],
)
def test_malformed_v4_authorization_headers_raise_value_error(header: str) -> None:
    with pytest.raises(ValueError):
        parse_oss_v4_authorization(header)


def verify_header_signed(request: httpx.Request, secret: str) -> bool:
    parsed = parse_oss_v4_authorization(request.headers["Authorization"])
    bucket, key = oss_bucket_and_key(request)
    canonical = oss_v4_canonical_request(
        request.method, bucket, key, url_query_pairs(request.url), request.headers, parsed.additional_headers
    )
    string_to_sign = oss_v4_string_to_sign(request.headers["x-oss-date"], parsed.scope, canonical)
    expected = oss_v4_signature(oss_v4_signing_key(secret, parsed.scope_day, parsed.region), string_to_sign)
    return hmac.compare_digest(expected, parsed.signature)


def test_a_server_verifies_a_signed_request_with_the_same_functions() -> None:
    auth = OssV4Auth(STS, "cn-hangzhou", clock=fixed_clock, additional_headers=["range"])
    sent = send_signed(auth, "POST", ASYNC_URL, content=ASYNC_BODY, headers={"Range": "bytes=0-9"})
    assert ",AdditionalHeaders=range," in sent.headers["Authorization"]
    assert verify_header_signed(sent, AK_SECRET)
    assert not verify_header_signed(sent, "another-secret")


def test_a_server_notices_a_header_changed_after_signing() -> None:
    sent = send_signed(
        OssV4Auth(STS, "cn-hangzhou", clock=fixed_clock), "POST", ASYNC_URL, content=ASYNC_BODY
    )
    sent.headers["x-oss-security-token"] = "forged"
    assert not verify_header_signed(sent, AK_SECRET)


def test_a_server_verifies_a_presigned_url_by_recomputing_without_the_signature() -> None:
    url = presign_oss_v4(
        "GET",
        "http://127.0.0.1:9000",
        "examplebucket",
        "in/a b.mp3",
        credentials=STS,
        region="cn-hangzhou",
        expires=600,
        now=FIXED_DT,
        path_style=True,
        query={"response-content-type": "audio/mpeg"},
    )
    request = httpx.Request("GET", url)
    pairs = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    signature = pairs.pop("x-oss-signature")
    day = pairs["x-oss-date"][:8]
    bucket, key = oss_bucket_and_key(request)
    assert (bucket, key) == ("examplebucket", "in/a b.mp3")
    canonical = oss_v4_canonical_request("GET", bucket, key, pairs, {})
    scope = pairs["x-oss-credential"].split("/", 1)[1]
    string_to_sign = oss_v4_string_to_sign(pairs["x-oss-date"], scope, canonical)
    assert oss_v4_signature(oss_v4_signing_key(AK_SECRET, day, "cn-hangzhou"), string_to_sign) == signature

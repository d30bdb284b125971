from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from shared.auth import (
    Credentials,
    OssV4Auth,
    oss_v4_canonical_request,
    oss_v4_scope,
    oss_v4_signature,
    oss_v4_signing_key,
    oss_v4_string_to_sign,
)
from shared.auth._primitives import sha256_hex
from tests.unit.auth.fixed import (
    AK_ID,
    AK_SECRET,
    ASYNC_BODY,
    ASYNC_URL,
    STATIC,
    STS,
    STS_TOKEN,
    V2_CONTENT_MD5,
    fixed_clock,
    send_signed,
)

SCOPE = "20250115/cn-hangzhou/oss/aliyun_v4_request"


def test_signing_key_for_the_fixed_inputs_matches_the_reference() -> None:
    key = oss_v4_signing_key(AK_SECRET, "20250115", "cn-hangzhou")
    assert key.hex() == "534591212f153ca2ccb272a9409e941cf6062bccfb26b00c7f6b8c180b4ab817"


def test_signing_key_writes_the_region_without_the_oss_prefix() -> None:
    assert oss_v4_signing_key(AK_SECRET, "20250115", "oss-cn-hangzhou") == oss_v4_signing_key(
        AK_SECRET, "20250115", "cn-hangzhou"
    )
    assert oss_v4_scope("20250115", "oss-cn-hangzhou") == SCOPE


def test_async_process_canonical_request_in_v2_style_matches_the_reference_byte_for_byte() -> None:
    headers = {
        "Content-MD5": V2_CONTENT_MD5,
        "User-Agent": "alibabacloud-python-sdk-v2/1.4.1",
        "x-oss-date": "20250115T083045Z",
        "Date": "Wed, 15 Jan 2025 08:30:45 GMT",
        "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
    }
    canonical = oss_v4_canonical_request(
        "POST", "examplebucket", "src.mp3", {"x-oss-async-process": ""}, headers
    )
    assert canonical == (
        "POST\n/examplebucket/src.mp3\nx-oss-async-process\ncontent-md5:3n1GRjR8kxW+KRXHdCCwfQ==\n"
        "x-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20250115T083045Z\n\n\nUNSIGNED-PAYLOAD"
    )


@pytest.mark.parametrize(
    ("token", "string_to_sign_hash", "signature"),
    [
        (
            None,
            "77450f86026c19ce980499c9817b6f1e755cf87604d2449f3a9227d5897895b0",
            "ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9",
        ),
        (
            STS_TOKEN,
            "5412314bf17a3cfbb69b5824f8e5585f399b97d6bda798f866f7a2ccbf77e227",
            "b66b16027464211f27808907451549e37ee5032ff818335f7937275ebfc36e19",
        ),
    ],
)
def test_async_process_strings_to_sign_match_the_oss2_captures(
    token: str | None, string_to_sign_hash: str, signature: str
) -> None:
    headers = {"x-oss-date": "20250115T083045Z", "x-oss-content-sha256": "UNSIGNED-PAYLOAD"}
    if token:
        headers["x-oss-security-token"] = token
    canonical = oss_v4_canonical_request(
        "POST", "examplebucket", "src.mp3", [("x-oss-async-process", None)], headers
    )
    string_to_sign = oss_v4_string_to_sign("20250115T083045Z", SCOPE, canonical)
    assert string_to_sign == f"OSS4-HMAC-SHA256\n20250115T083045Z\n{SCOPE}\n{string_to_sign_hash}"
    key = oss_v4_signing_key(AK_SECRET, "20250115", "cn-hangzhou")
    assert oss_v4_signature(key, string_to_sign) == signature


@pytest.mark.parametrize(
    ("credentials", "content_md5", "signature"),
    [
        (STATIC, V2_CONTENT_MD5, "54ce9a9d7f7309f00c1e9a85d48ad587d10a7dcda94a2bfa3fa85f3d20424cdb"),
        (STS, V2_CONTENT_MD5, "c9482e476cae771ec2385bda61eec0245a822dd375a1a96263c5dc9834188218"),
        (STATIC, None, "ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"),
        (STS, None, "b66b16027464211f27808907451549e37ee5032ff818335f7937275ebfc36e19"),
    ],
    ids=["v2-style", "v2-style-sts", "oss2-style", "oss2-style-sts"],
)
def test_async_process_request_sent_through_httpx_carries_the_sdk_authorization(
    credentials: Credentials, content_md5: str | None, signature: str
) -> None:
    headers = {"Content-MD5": content_md5} if content_md5 else {}
    auth = OssV4Auth(credentials, "oss-cn-hangzhou", clock=fixed_clock)
    sent = send_signed(auth, "POST", ASYNC_URL, content=ASYNC_BODY, headers=headers)
    assert (
        sent.headers["Authorization"] == f"OSS4-HMAC-SHA256 Credential={AK_ID}/{SCOPE},Signature={signature}"
    )
    assert sent.headers["x-oss-date"] == "20250115T083045Z"
    assert sent.headers["x-oss-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert sent.headers.get("x-oss-security-token") == credentials.security_token
    assert sent.content == ASYNC_BODY
    assert len(sent.content) == 141


def test_path_style_request_signs_the_same_resource_as_virtual_hosted() -> None:
    auth = OssV4Auth(STATIC, "cn-hangzhou", clock=fixed_clock)
    virtual = send_signed(auth, "POST", ASYNC_URL, content=ASYNC_BODY)
    path_style = send_signed(
        auth, "POST", "http://127.0.0.1:9000/examplebucket/src.mp3?x-oss-async-process=", content=ASYNC_BODY
    )
    assert path_style.headers["Authorization"] == virtual.headers["Authorization"]
    assert virtual.headers["Authorization"].endswith(
        "Signature=ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"
    )


def test_request_extensions_name_the_bucket_and_key_explicitly() -> None:
    auth = OssV4Auth(STATIC, "cn-hangzhou", clock=fixed_clock)
    sent = send_signed(
        auth,
        "POST",
        "https://media.example.com/src.mp3?x-oss-async-process=",
        content=ASYNC_BODY,
        extensions={"oss_bucket": "examplebucket", "oss_key": "src.mp3"},
    )
    assert sent.headers["Authorization"].endswith(
        "Signature=ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"
    )


def test_a_stale_security_token_is_dropped_when_the_credentials_have_none() -> None:
    auth = OssV4Auth(STATIC, "cn-hangzhou", clock=fixed_clock)
    sent = send_signed(auth, "POST", ASYNC_URL, content=ASYNC_BODY, headers={"x-oss-security-token": "old"})
    assert "x-oss-security-token" not in sent.headers
    assert sent.headers["Authorization"].endswith(
        "ccf511c76c448f203c8139ed614f4fd32700ec62322adaff4b50d38889b015d9"
    )


def test_credentials_are_fetched_for_every_request_so_rotation_takes_effect() -> None:
    issued = iter([Credentials("AK-ONE", "SK1"), Credentials("AK-TWO", "SK2", "tok")])

    class RotatingProvider:
        def get_credentials(self) -> Credentials:
            return next(issued)

    auth = OssV4Auth(RotatingProvider(), "cn-hangzhou", clock=fixed_clock)
    first = send_signed(auth, "GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/a.mp3")
    second = send_signed(auth, "GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/a.mp3")
    assert "Credential=AK-ONE/" in first.headers["Authorization"]
    assert "Credential=AK-TWO/" in second.headers["Authorization"]
    assert second.headers["x-oss-security-token"] == "tok"


def test_a_naive_clock_is_refused_with_a_clear_error() -> None:
    auth = OssV4Auth(STATIC, "cn-hangzhou", clock=lambda: datetime(2025, 1, 15, 8, 30, 45))
    with pytest.raises(ValueError, match="clock: must be timezone-aware"):
        auth.sign(httpx.Request("GET", "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/a.mp3"))


def test_an_empty_region_is_refused_when_the_signer_is_built() -> None:
    with pytest.raises(ValueError, match="region"):
        OssV4Auth(STATIC, "  ")


# -- the alibabacloud-oss-v2 unit-test vectors (out_oss_v2_capture.txt, section 0) -------------------------
SDK_KEY = "1234+-/123/1.txt"
SDK_QUERY = {
    "param1": "value1",
    "+param1": "value3",
    "|param1": "value4",
    "+param2": "",
    "|param2": "",
    "param2": "",
}
SDK_URL_QUERY = "param1=value1&%2Bparam1=value3&%7Cparam1=value4&%2Bparam2=&%7Cparam2=&param2="
SDK_HEADERS = {
    "x-oss-head1": "value",
    "abc": "value",
    "ZAbc": "value",
    "XYZ": "value",
    "content-type": "text/plain",
    "x-oss-content-sha256": "UNSIGNED-PAYLOAD",
}
SDK_CANONICAL_QUERY = "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2"
HEADER_VECTORS = [
    pytest.param(
        1702743657,
        None,
        (),
        "f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe",
        id="auth_header",
    ),
    pytest.param(
        1702784856,
        "token",
        (),
        "69494678fb11579d4ee12996e2796d9e2ba43c34aa4c723c4aec018f3d6b86b8",
        "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,"
        "Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea",
        id="auth_header_with_token",
    ),
    pytest.param(
        1702747512,
        None,
        ("ZAbc", "abc"),
        "16b86004ed2cc3406dd7a13081bd940ef6a5ad49e508da2d4fdf84e8a5dd2145",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
        id="auth_header_with_additional_headers",
    ),
    pytest.param(
        1702747512,
        None,
        ("x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"),
        "16b86004ed2cc3406dd7a13081bd940ef6a5ad49e508da2d4fdf84e8a5dd2145",
        "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,"
        "AdditionalHeaders=abc;zabc,Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f",
        id="additional_headers_that_are_signed_anyway_or_absent_are_ignored",
    ),
]


@pytest.mark.parametrize(("epoch", "token", "additional", "canonical_hash", "authorization"), HEADER_VECTORS)
def test_sdk_header_vectors_reproduce_through_the_pure_functions(
    epoch: int, token: str | None, additional: tuple[str, ...], canonical_hash: str, authorization: str
) -> None:
    timestamp = datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    headers = {**SDK_HEADERS, "x-oss-date": timestamp}
    if token:
        headers["x-oss-security-token"] = token
    canonical = oss_v4_canonical_request("PUT", "bucket", SDK_KEY, SDK_QUERY, headers, additional)
    assert canonical.split("\n")[1:3] == ["/bucket/1234%2B-/123/1.txt", SDK_CANONICAL_QUERY]
    scope = oss_v4_scope(timestamp[:8], "cn-hangzhou")
    string_to_sign = oss_v4_string_to_sign(timestamp, scope, canonical)
    assert string_to_sign.split("\n")[3] == canonical_hash
    signature = oss_v4_signature(oss_v4_signing_key("sk", timestamp[:8], "cn-hangzhou"), string_to_sign)
    assert authorization.endswith(f"Signature={signature}")


@pytest.mark.parametrize(("epoch", "token", "additional", "canonical_hash", "authorization"), HEADER_VECTORS)
def test_sdk_header_vectors_reproduce_through_the_httpx_flow(
    epoch: int, token: str | None, additional: tuple[str, ...], canonical_hash: str, authorization: str
) -> None:
    auth = OssV4Auth(
        Credentials("ak", "sk", token),
        "cn-hangzhou",
        clock=lambda: datetime.fromtimestamp(epoch, timezone.utc),
        additional_headers=additional,
    )
    url = f"http://bucket.oss-cn-hangzhou.aliyuncs.com/1234%2B-/123/1.txt?{SDK_URL_QUERY}"
    sent = send_signed(auth, "PUT", url, headers=SDK_HEADERS, content=b"hello")
    assert sent.headers["Authorization"] == authorization


def test_sdk_additional_headers_canonical_request_lists_them_after_the_headers() -> None:
    headers = {**SDK_HEADERS, "x-oss-date": "20231216T172512Z"}
    canonical = oss_v4_canonical_request("PUT", "bucket", SDK_KEY, SDK_QUERY, headers, ["ZAbc", "abc"])
    assert canonical == (
        f"PUT\n/bucket/1234%2B-/123/1.txt\n{SDK_CANONICAL_QUERY}\nabc:value\ncontent-type:text/plain\n"
        "x-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T172512Z\nx-oss-head1:value\nzabc:value\n"
        "\nabc;zabc\nUNSIGNED-PAYLOAD"
    )
    assert sha256_hex(canonical) == "16b86004ed2cc3406dd7a13081bd940ef6a5ad49e508da2d4fdf84e8a5dd2145"


def test_query_names_and_values_are_encoded_and_repeated_names_are_kept() -> None:
    canonical = oss_v4_canonical_request(
        "GET", "b", "k", [("b", "2"), ("a", "x/y z"), ("b", "1"), ("c", None)], {"x-oss-date": "t"}
    )
    assert canonical.split("\n")[2] == "a=x%2Fy%20z&b=1&b=2&c"


def test_bucket_and_service_requests_have_short_canonical_uris() -> None:
    assert oss_v4_canonical_request("GET", "bucket", "", {}, {}).split("\n")[1] == "/bucket/"
    assert oss_v4_canonical_request("GET", None, None, {}, {}).split("\n")[1] == "/"


@pytest.mark.parametrize(
    ("query", "field"),
    [({"a": 1}, "query.a"), ("a=b", "query"), ([("a",)], "query"), ({"": "x"}, "query")],
)
def test_malformed_query_input_names_the_field(query: object, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        oss_v4_canonical_request("GET", "b", "k", query, {})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "day",
    [
        "2025-01-15",
        "2025011",
        "",
        "yyyymmdd",
        "20250115\n",
        "\uff12\uff10\uff12\uff15\uff10\uff11\uff11\uff15",
    ],
)
def test_a_scope_day_not_written_yyyymmdd_is_refused(day: str) -> None:
    with pytest.raises(ValueError, match="day"):
        oss_v4_scope(day, "cn-hangzhou")

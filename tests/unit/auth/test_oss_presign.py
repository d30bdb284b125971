from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from shared.auth import Credentials, oss_v4_canonical_request, oss_v4_string_to_sign, presign_oss_v4
from shared.auth._primitives import sha256_hex
from shared.errors import InvalidRequestError
from tests.unit.auth.fixed import FIXED_DT, STATIC, STS

ENDPOINT = "https://oss-cn-hangzhou.aliyuncs.com"
SDK_URL = "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3"
CREDENTIAL = "LTAI5tFixedAccessKeyId%2F20250115%2Fcn-hangzhou%2Foss%2Faliyun_v4_request"
V2_URL = (
    f"{SDK_URL}?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20250115T083045Z&x-oss-expires=3600"
    f"&x-oss-credential={CREDENTIAL}"
    "&x-oss-signature=39842766a02f8cbc1a7156d6e1c233e200cffd8808593dbba8615f22d6fac8e0"
)
V2_URL_STS = (
    f"{SDK_URL}?x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20250115T083045Z&x-oss-expires=3600"
    f"&x-oss-credential={CREDENTIAL}&x-oss-security-token=CAISFixedSecurityToken%2B%2F%3D%3D"
    "&x-oss-signature=784c6399f28d1ea4d480e7daf58526a89ca4334e49ef5db537640ee0dbc8c522"
)
OSS2_URL_STS = (
    f"{SDK_URL}?x-oss-security-token=CAISFixedSecurityToken%2B%2F%3D%3D&x-oss-date=20250115T083045Z"
    f"&x-oss-expires=3600&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-credential={CREDENTIAL}"
    "&x-oss-signature=784c6399f28d1ea4d480e7daf58526a89ca4334e49ef5db537640ee0dbc8c522"
)


def presign(**overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "credentials": STATIC,
        "region": "cn-hangzhou",
        "expires": 3600,
        "now": FIXED_DT,
        "path_style": False,
    }
    arguments.update(overrides)
    method = arguments.pop("method", "GET")
    url_base = arguments.pop("url_base", ENDPOINT)
    bucket = arguments.pop("bucket", "examplebucket")
    key = arguments.pop("key", "src.mp3")
    return presign_oss_v4(method, url_base, bucket, key, **arguments)


def test_presigned_get_is_exactly_the_v2_sdk_url() -> None:
    assert presign() == V2_URL


def test_presigned_get_with_an_sts_token_is_exactly_the_v2_sdk_url() -> None:
    assert presign(credentials=STS) == V2_URL_STS


def test_presigned_get_carries_the_same_parameters_as_oss2_in_another_order() -> None:
    ours = parse_qsl(urlsplit(presign(credentials=STS)).query)
    oss2 = parse_qsl(urlsplit(OSS2_URL_STS).query)
    assert sorted(ours) == sorted(oss2)


def test_presigned_canonical_request_matches_the_capture() -> None:
    pairs = [
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-date", "20250115T083045Z"),
        ("x-oss-expires", "3600"),
        ("x-oss-credential", "LTAI5tFixedAccessKeyId/20250115/cn-hangzhou/oss/aliyun_v4_request"),
    ]
    canonical = oss_v4_canonical_request("GET", "examplebucket", "src.mp3", pairs, {})
    assert canonical == (
        f"GET\n/examplebucket/src.mp3\nx-oss-credential={CREDENTIAL}&x-oss-date=20250115T083045Z"
        "&x-oss-expires=3600&x-oss-signature-version=OSS4-HMAC-SHA256\n\n\nUNSIGNED-PAYLOAD"
    )
    string_to_sign = oss_v4_string_to_sign(
        "20250115T083045Z", "20250115/cn-hangzhou/oss/aliyun_v4_request", canonical
    )
    assert string_to_sign.endswith("ef349898e5d3b8663105e6c773bb174c38d3bbe81c6ca97cc593d8ddcfbd2810")


def test_path_style_presigned_url_puts_the_bucket_in_the_path_and_keeps_the_signature() -> None:
    url = presign(url_base="http://127.0.0.1:9000", path_style=True)
    assert url == V2_URL.replace(SDK_URL, "http://127.0.0.1:9000/examplebucket/src.mp3")


def test_an_endpoint_that_already_names_the_bucket_is_not_prefixed_twice() -> None:
    assert presign(url_base="https://examplebucket.oss-cn-hangzhou.aliyuncs.com/") == V2_URL


def test_keys_are_percent_encoded_in_the_path_but_keep_their_slashes() -> None:
    url = presign(key="in box/a+b é.mp3")
    assert url.startswith(
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/in%20box/a%2Bb%20%C3%A9.mp3?x-oss-signature-version="
    )


SDK_QUERY = {
    "param1": "value1",
    "+param1": "value3",
    "|param1": "value4",
    "+param2": "",
    "|param2": "",
    "param2": "",
}
SDK_HEADERS = {
    "x-oss-head1": "value",
    "abc": "value",
    "ZAbc": "value",
    "XYZ": "value",
    "content-type": "application/octet-stream",
}


@pytest.mark.parametrize(
    ("epoch", "token", "signature"),
    [
        (1702781677, None, "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"),
        (1702785388, "token", "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"),
    ],
    ids=["auth_query", "auth_query_with_token"],
)
def test_sdk_query_vectors_sign_headers_and_caller_parameters(
    epoch: int, token: str | None, signature: str
) -> None:
    url = presign(
        method="PUT",
        url_base="http://oss-cn-hangzhou.aliyuncs.com",
        bucket="bucket",
        key="1234+-/123/1.txt",
        credentials=Credentials("ak", "sk", token),
        expires=599,
        now=datetime.fromtimestamp(epoch, timezone.utc),
        query=SDK_QUERY,
        headers=SDK_HEADERS,
    )
    assert url.endswith(f"&x-oss-signature={signature}")
    if token is None:
        # The SDK test URL has no object path; everything after it is identical.
        sdk_url = (
            "http://bucket.oss-cn-hangzhou.aliyuncs.com?param1=value1&%2Bparam1=value3&%7Cparam1=value4"
            "&%2Bparam2&%7Cparam2&param2&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231217T025437Z"
            "&x-oss-expires=599&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request"
            "&x-oss-signature=a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"
        )
        assert url == sdk_url.replace(".com?", ".com/1234%2B-/123/1.txt?")


def test_sdk_query_vector_string_to_sign_matches_the_capture() -> None:
    pairs = [
        *SDK_QUERY.items(),
        ("x-oss-signature-version", "OSS4-HMAC-SHA256"),
        ("x-oss-date", "20231217T025437Z"),
        ("x-oss-expires", "599"),
        ("x-oss-credential", "ak/20231217/cn-hangzhou/oss/aliyun_v4_request"),
    ]
    canonical = oss_v4_canonical_request("PUT", "bucket", "1234+-/123/1.txt", pairs, SDK_HEADERS)
    assert sha256_hex(canonical) == "48814c11f278d51662015bf2f896b66ca10b6de0187ed8d952e341bbce0aa336"


@pytest.mark.parametrize(
    ("overrides", "field", "rule"),
    [
        ({"expires": 0}, "expires", "range"),
        ({"expires": 604801}, "expires", "range"),
        ({"expires": -5}, "expires", "range"),
        ({"expires": "3600"}, "expires", "integer"),
        ({"expires": True}, "expires", "integer"),
        ({"expires": 3600.0}, "expires", "integer"),
        ({"now": datetime(2025, 1, 15, 8, 30, 45)}, "now", "timezone_aware"),
        ({"now": "2025-01-15"}, "now", "datetime"),
        ({"bucket": "Example_Bucket"}, "bucket", "bucket_name"),
        ({"bucket": "ab"}, "bucket", "bucket_name"),
        ({"bucket": "examplebucket\n"}, "bucket", "bucket_name"),
        ({"key": ""}, "key", "required"),
        ({"key": "/abs.mp3"}, "key", "object_key"),
        ({"key": "k" * 1024}, "key", "object_key"),
        ({"method": "PATCH"}, "method", "http_method"),
        ({"url_base": "ftp://oss-cn-hangzhou.aliyuncs.com"}, "url_base", "url"),
        ({"url_base": "oss-cn-hangzhou.aliyuncs.com"}, "url_base", "url"),
        ({"url_base": "https://oss-cn-hangzhou.aliyuncs.com/prefix"}, "url_base", "endpoint_only"),
        ({"query": {"x-oss-signature": "forged"}}, "query", "reserved_parameter"),
        ({"query": {"x-oss-expires": "1"}}, "query", "reserved_parameter"),
        ({"region": ""}, "region", "required"),
        ({"credentials": "LTAI:secret"}, "credentials", "credentials"),
    ],
)
def test_bad_presign_input_is_refused_naming_field_and_rule(
    overrides: dict[str, Any], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        presign(**overrides)
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_the_longest_allowed_expiry_is_seven_days() -> None:
    assert "&x-oss-expires=604800&" in presign(expires=604800)


def test_a_presign_time_in_another_zone_is_converted_to_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert presign(now=FIXED_DT.astimezone(shanghai)) == V2_URL

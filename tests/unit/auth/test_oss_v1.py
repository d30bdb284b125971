from __future__ import annotations

import pytest

from shared.auth import (
    OSS_V1_SUB_RESOURCES,
    Credentials,
    OssV1Auth,
    oss_v1_canonical_resource,
    oss_v1_signature,
    oss_v1_string_to_sign,
    parse_oss_v1_authorization,
    presign_oss_v1,
)
from shared.errors import InvalidRequestError
from tests.unit.auth.fixed import (
    AK_ID,
    AK_SECRET,
    ASYNC_BODY,
    ASYNC_URL,
    FIXED_DT,
    STATIC,
    STS,
    STS_TOKEN,
    V2_CONTENT_MD5,
    fixed_clock,
    send_signed,
)

DATE = "Wed, 15 Jan 2025 08:30:45 GMT"
ASYNC_RESOURCE = "/examplebucket/src.mp3?x-oss-async-process"


def test_oss2_async_process_string_to_sign_and_signature_match_the_capture() -> None:
    resource = oss_v1_canonical_resource("examplebucket", "src.mp3", {"x-oss-async-process": ""})
    string_to_sign = oss_v1_string_to_sign("POST", "", "", DATE, {"date": DATE}, resource)
    assert string_to_sign == f"POST\n\n\n{DATE}\n{ASYNC_RESOURCE}"
    assert oss_v1_signature(AK_SECRET, string_to_sign) == "h3Q8qsbbUrKFe+fe9e5iZeg7iXs="


def test_oss2_async_process_with_sts_signs_the_token_header() -> None:
    headers = {"x-oss-security-token": STS_TOKEN, "date": DATE}
    string_to_sign = oss_v1_string_to_sign("POST", "", "", DATE, headers, ASYNC_RESOURCE)
    assert string_to_sign == f"POST\n\n\n{DATE}\nx-oss-security-token:{STS_TOKEN}\n{ASYNC_RESOURCE}"
    assert oss_v1_signature(AK_SECRET, string_to_sign) == "iiCHvAg6ZyVjnyYVZa911K/imcg="


def test_v2_sdk_signer_v1_vector_reproduces_with_its_shorter_sub_resource_list() -> None:
    v2_sub_resources = OSS_V1_SUB_RESOURCES - {"x-oss-async-process"}
    resource = oss_v1_canonical_resource(
        "examplebucket", "src.mp3", {"x-oss-async-process": ""}, sub_resources=v2_sub_resources
    )
    string_to_sign = oss_v1_string_to_sign("POST", V2_CONTENT_MD5, "", DATE, {}, resource)
    assert string_to_sign == f"POST\n{V2_CONTENT_MD5}\n\n{DATE}\n/examplebucket/src.mp3"
    assert oss_v1_signature(AK_SECRET, string_to_sign) == "G+3FBqh3JofvARQar8W8+NIqbEs="


@pytest.mark.parametrize(
    ("credentials", "authorization"),
    [
        (STATIC, f"OSS {AK_ID}:h3Q8qsbbUrKFe+fe9e5iZeg7iXs="),
        (STS, f"OSS {AK_ID}:iiCHvAg6ZyVjnyYVZa911K/imcg="),
    ],
)
def test_async_process_request_sent_through_httpx_carries_the_oss2_authorization(
    credentials: Credentials, authorization: str
) -> None:
    sent = send_signed(OssV1Auth(credentials, clock=fixed_clock), "POST", ASYNC_URL, content=ASYNC_BODY)
    assert sent.headers["Authorization"] == authorization
    assert sent.headers["date"] == DATE
    assert sent.headers.get("x-oss-security-token") == credentials.security_token


def test_path_style_v1_request_signs_the_same_resource() -> None:
    sent = send_signed(
        OssV1Auth(STATIC, clock=fixed_clock),
        "POST",
        "http://127.0.0.1:9000/examplebucket/src.mp3?x-oss-async-process=",
        content=ASYNC_BODY,
    )
    assert sent.headers["Authorization"] == f"OSS {AK_ID}:h3Q8qsbbUrKFe+fe9e5iZeg7iXs="


def test_only_known_sub_resources_enter_the_resource_sorted_with_raw_values() -> None:
    query = [("x-oss-process", "audio/info"), ("prefix", "a/"), ("acl", ""), ("uploadId", "id 1")]
    assert (
        oss_v1_canonical_resource("b", "k.mp3", query)
        == "/b/k.mp3?acl&uploadId=id 1&x-oss-process=audio/info"
    )
    assert oss_v1_canonical_resource("b", "", {"max-keys": "10"}) == "/b/"
    assert oss_v1_canonical_resource(None, None, {}) == "/"


def test_x_oss_headers_are_lower_cased_and_sorted_in_the_string_to_sign() -> None:
    headers = {"X-OSS-Meta-B": "2", "x-oss-meta-a": "1", "Content-Type": "audio/mpeg"}
    string_to_sign = oss_v1_string_to_sign("put", "", "audio/mpeg", DATE, headers, "/b/k")
    assert string_to_sign == f"PUT\n\naudio/mpeg\n{DATE}\nx-oss-meta-a:1\nx-oss-meta-b:2\n/b/k"


def test_presigned_v1_get_is_exactly_the_oss2_url() -> None:
    url = presign_oss_v1(
        "GET",
        "https://oss-cn-hangzhou.aliyuncs.com",
        "examplebucket",
        "src.mp3",
        credentials=STATIC,
        expires=3600,
        now=FIXED_DT,
        path_style=False,
    )
    assert url == (
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?OSSAccessKeyId=LTAI5tFixedAccessKeyId"
        "&Expires=1736933445&Signature=Bu5v2JDZ5yYS1OK16vyUyy%2BZq1Q%3D"
    )


def test_presigned_v1_get_with_sts_is_exactly_the_oss2_url() -> None:
    url = presign_oss_v1(
        "GET",
        "https://oss-cn-hangzhou.aliyuncs.com",
        "examplebucket",
        "src.mp3",
        credentials=STS,
        expires=3600,
        now=FIXED_DT,
        path_style=False,
    )
    assert url == (
        "https://examplebucket.oss-cn-hangzhou.aliyuncs.com/src.mp3?security-token=CAISFixedSecurityToken%2B%2F%3D%3D"
        "&OSSAccessKeyId=LTAI5tFixedAccessKeyId&Expires=1736933445&Signature=4WBLR%2Fc41e7SCZsl5OHfg8AlUj4%3D"
    )


def test_presigned_v1_string_to_sign_uses_the_expiry_epoch_and_the_raw_token() -> None:
    resource = oss_v1_canonical_resource("examplebucket", "src.mp3", {"security-token": STS_TOKEN})
    string_to_sign = oss_v1_string_to_sign("GET", "", "", "1736933445", {}, resource)
    assert string_to_sign == f"GET\n\n\n1736933445\n/examplebucket/src.mp3?security-token={STS_TOKEN}"
    assert oss_v1_signature(AK_SECRET, string_to_sign) == "4WBLR/c41e7SCZsl5OHfg8AlUj4="


def test_path_style_presigned_v1_url_keeps_the_signature() -> None:
    url = presign_oss_v1(
        "GET",
        "http://127.0.0.1:9000",
        "examplebucket",
        "src.mp3",
        credentials=STATIC,
        expires=3600,
        now=FIXED_DT,
        path_style=True,
    )
    assert url == (
        "http://127.0.0.1:9000/examplebucket/src.mp3?OSSAccessKeyId=LTAI5tFixedAccessKeyId"
        "&Expires=1736933445&Signature=Bu5v2JDZ5yYS1OK16vyUyy%2BZq1Q%3D"
    )


@pytest.mark.parametrize(
    ("expires", "query", "field", "rule"),
    [
        (0, None, "expires", "range"),
        (-1, None, "expires", "range"),
        ("60", None, "expires", "integer"),
        (60, {"Signature": "x"}, "query", "reserved_parameter"),
        (60, {"security-token": "x"}, "query", "reserved_parameter"),
    ],
)
def test_presigned_v1_refuses_bad_expiry_and_reserved_parameters(
    expires: object, query: dict[str, str] | None, field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        presign_oss_v1(
            "GET",
            "https://oss-cn-hangzhou.aliyuncs.com",
            "examplebucket",
            "a.mp3",
            credentials=STATIC,
            expires=expires,  # type: ignore[arg-type]
            now=FIXED_DT,
            path_style=False,
            query=query,
        )
    assert (caught.value.field, caught.value.rule) == (field, rule)


def test_v1_authorization_header_parses_into_key_id_and_signature() -> None:
    assert parse_oss_v1_authorization(f"OSS {AK_ID}:h3Q8qsbbUrKFe+fe9e5iZeg7iXs=") == (
        AK_ID,
        "h3Q8qsbbUrKFe+fe9e5iZeg7iXs=",
    )


@pytest.mark.parametrize("header", ["", "OSS", "OSS AK", "OSS :sig", "OSS AK:", "OSS4 AK:sig", "Bearer x"])
def test_malformed_v1_authorization_headers_raise_value_error(header: str) -> None:
    with pytest.raises(ValueError, match="Authorization"):
        parse_oss_v1_authorization(header)

from __future__ import annotations

import logging
import sys
from typing import NamedTuple

import pytest

from shared.auth.credentials import Credentials
from shared.runtime.redaction import (
    REDACTED,
    RedactingFilter,
    is_sensitive_key,
    redact,
    register_secret,
    scrub_text,
)


@pytest.mark.parametrize(
    "name",
    [
        "secret",
        "access_key_secret",
        "AccessKeySecret",
        "accessKeySecret",
        "security_token",
        "SecurityToken",
        "x-oss-security-token",
        "Authorization",
        "x-oss-signature",
        "Signature",
        "api_key",
        "apiKey",
        "DASHSCOPE_API_KEY",
        "password",
        "credentials",
        "x-oss-credential",
        "Cookie",
    ],
)
def test_names_that_hold_secrets_are_recognised(name: str) -> None:
    assert is_sensitive_key(name)


@pytest.mark.parametrize("name", ["key", "object_key", "access_key_id", "max_tokens", "input_tokens", "eTag"])
def test_ordinary_names_are_left_alone(name: str) -> None:
    assert not is_sensitive_key(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("curl -H 'Authorization: Bearer abcdefghijklmnop'", "curl -H 'Authorization: Bearer [REDACTED]'"),
        ("OSS LTAI5tExampleKeyId:Zm9vYmFyYmF6cXV4+/=", "OSS [REDACTED]"),
        ("key sk-0123456789abcdef0123456789abcdef used", "key [REDACTED] used"),
        ("token CAISabcdefghijklmnopqrstuvwxyz0123 expired", "token [REDACTED] expired"),
        ('{"AccessKeySecret": "s3cr3tvalue"}', '{"AccessKeySecret": "[REDACTED]"}'),
        ("password=hunter2 user=bob", "password=[REDACTED] user=bob"),
        (
            "a?Signature=abc&Expires=1&OSSAccessKeyId=LTAI",
            "a?Signature=[REDACTED]&Expires=1&OSSAccessKeyId=[REDACTED]",
        ),
        ("OSS notifications are delivered", "OSS notifications are delivered"),
        ("the token count was 25", "the token count was 25"),
    ],
)
def test_free_text_is_scrubbed_by_pattern(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_registered_secrets_are_removed_verbatim_wherever_they_appear() -> None:
    register_secret("plain-looking-secret-value-42", None, "short")
    assert scrub_text("x plain-looking-secret-value-42 y") == f"x {REDACTED} y"
    assert scrub_text("short stays") == "short stays"


def test_containers_are_walked_and_header_pairs_judged_by_their_name() -> None:
    value = {
        "request": {"headers": [("Authorization", "OSS a:b"), ("Host", "b.oss.aliyuncs.com")], "size": 3},
        "tags": ("x", "y"),
        "flag": True,
        "nothing": None,
        "raw": b"token=abcdef",
    }
    assert redact(value) == {
        "request": {"headers": [["Authorization", REDACTED], ["Host", "b.oss.aliyuncs.com"]], "size": 3},
        "tags": ["x", "y"],
        "flag": True,
        "nothing": None,
        "raw": f"token={REDACTED}",
    }


def test_arbitrary_objects_are_logged_through_their_scrubbed_repr() -> None:
    class Leaky:
        def __repr__(self) -> str:
            return "Leaky(access_key_secret='abcdef123456')"

    assert redact(Leaky()) == f"Leaky(access_key_secret='{REDACTED}')"
    assert "topsecretvalue" not in str(redact(Credentials("AK", "topsecretvalue", "tok")))


def test_a_self_referencing_structure_does_not_loop_forever() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert "nested too deep" in str(redact(loop))


def test_the_stdlib_filter_scrubs_message_arguments_and_tracebacks() -> None:
    try:
        raise ValueError("https://x/y?x-oss-signature=deadbeef")
    except ValueError:
        record = logging.LogRecord(
            "httpx", logging.ERROR, __file__, 1, "GET %s", ("/k?Signature=abc",), sys.exc_info()
        )
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"GET /k?Signature={REDACTED}"
    assert record.exc_text is not None
    assert "deadbeef" not in record.exc_text and "x-oss-signature=[REDACTED]" in record.exc_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "Authorization: MNS LTAI5tFixedAccessKeyId:p94blq3Ngi8Q0El1G21b/x5qroo=",
            "p94blq3Ngi8Q0El1G21b/x5qroo=",
        ),
        (
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET=FixedAccessKeySecret0123456789abcd",
            "FixedAccessKeySecret0123456789abcd",
        ),
        (
            "environ({'OSS_ACCESS_KEY_SECRET': 'FixedAccessKeySecret0123456789abcd'})",
            "FixedAccessKeySecret0123456789abcd",
        ),
        (
            "AUDIOCHAIN_API_TOKEN=Zx8_abcdefghijklmnopqrstuvwxyz0123456",
            "Zx8_abcdefghijklmnopqrstuvwxyz0123456",
        ),
        (
            "file_url=https%3A%2F%2Fb.oss-cn-hangzhou.aliyuncs.com%2Fa.wav"
            "%3Fx-oss-date%3D1%26x-oss-signature%3Ddeadbeef0123456789%26x-oss-expires%3D60",
            "deadbeef0123456789",
        ),
        (
            "next=https%3A%2F%2Fb.oss-cn-hangzhou.aliyuncs.com%2Fa.wav%3FExpires%3D1%26Signature%3Dab%252Bcdef",
            "ab%252Bcdef",
        ),
    ],
)
def test_secrets_written_in_other_spellings_are_scrubbed_too(text: str, secret: str) -> None:
    assert secret not in scrub_text(text)


def test_a_presigned_url_used_as_a_mapping_key_is_scrubbed() -> None:
    logged = redact({"by_url": {"https://b.oss-cn-hangzhou.aliyuncs.com/a?x-oss-signature=deadbeef": 200}})
    assert "deadbeef" not in str(logged)


class _Record(NamedTuple):
    name: str
    url: str


def test_a_record_is_logged_by_field_name_with_its_secrets_scrubbed() -> None:
    record = _Record("token", "https://b.oss.example.com/k?OSSAccessKeyId=AK&Signature=abc")
    logged = redact(record)
    assert isinstance(logged, dict) and set(logged) == {"name", "url"}
    assert logged["name"] == "token" and "abc" not in logged["url"]  # not mistaken for a header pair

from __future__ import annotations

import pytest

from shared.auth import (
    MNS_VERSION,
    Credentials,
    MnsAuth,
    mns_signature,
    mns_string_to_sign,
    parse_mns_authorization,
)
from tests.unit.auth.fixed import AK_ID, AK_SECRET, STATIC, STS, STS_TOKEN, fixed_clock, send_signed

HOST = "https://1234567890123456.mns.cn-hangzhou.aliyuncs.com"
DATE = "Wed, 15 Jan 2025 08:30:45 GMT"
XML = "text/xml;charset=UTF-8"
PUBLISH_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageBody>'
    b"{&quot;event&quot;:&quot;done&quot;,&quot;id&quot;:&quot;job-1&quot;}</MessageBody>"
    b"<MessageTag>audio</MessageTag></Message>"
)
SEND_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?><Message xmlns="http://mns.aliyuncs.com/doc/v1/">'
    b"<MessageBody>eyJldmVudCI6ImRvbmUifQ==</MessageBody></Message>"
)
RECEIPT = "1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA=="


@pytest.mark.parametrize(
    ("method", "content_md5", "content_type", "resource", "signature"),
    [
        (
            "POST",
            "Njg3ZGZlMzJkOGNjZWIyZTFjNGMzNWM2ZTIyNDQ4MGI=",
            XML,
            "/topics/AudioConvert/messages",
            "vubX/g/1PRDepVhXWUJYa7XCEL4=",
        ),
        ("GET", "", "", "/queues/audio-queue/messages?waitseconds=10", "5+vBDcb8Mgnyqs4PszssPs5/Gng="),
        (
            "DELETE",
            "",
            "",
            f"/queues/audio-queue/messages?ReceiptHandle={RECEIPT}",
            "dz4cTuOMIPl7Gqzk4d3p3J4G7vM=",
        ),
        (
            "POST",
            "YTcyODA5N2EyNDZhMzQwZjM3YzM5ZjVlZmYyNTFjMzQ=",
            XML,
            "/queues/audio-queue/messages",
            "4yEud8vLMc7F2MQWm9ri6PkOPco=",
        ),
    ],
    ids=["publish", "receive", "delete", "send"],
)
def test_sdk_captures_reproduce_through_the_pure_functions(
    method: str, content_md5: str, content_type: str, resource: str, signature: str
) -> None:
    headers = {
        "x-mns-version": "2015-06-06",
        "host": "1234567890123456.mns.cn-hangzhou.aliyuncs.com",
        "date": DATE,
    }
    string_to_sign = mns_string_to_sign(method, content_md5, content_type, DATE, headers, resource)
    assert (
        string_to_sign
        == f"{method}\n{content_md5}\n{content_type}\n{DATE}\nx-mns-version:2015-06-06\n{resource}"
    )
    assert mns_signature(AK_SECRET, string_to_sign) == signature


@pytest.mark.parametrize("credentials", [STATIC, STS], ids=["ak", "sts"])
def test_publish_without_content_md5_matches_the_reference_vector_and_keeps_the_token_unsigned(
    credentials: Credentials,
) -> None:
    sent = send_signed(
        MnsAuth(credentials, clock=fixed_clock),
        "POST",
        f"{HOST}/topics/AudioConvert/messages",
        content=PUBLISH_BODY,
        headers={"content-type": XML},
    )
    assert sent.headers["Authorization"] == f"MNS {AK_ID}:p94blq3Ngi8Q0El1G21b/x5qroo="
    assert sent.headers["date"] == DATE
    assert sent.headers["x-mns-version"] == MNS_VERSION
    assert "content-md5" not in sent.headers
    assert sent.headers.get("security-token") == credentials.security_token


@pytest.mark.parametrize(
    ("method", "target", "signature"),
    [
        ("GET", "/queues/audio-queue/messages?waitseconds=10", "5+vBDcb8Mgnyqs4PszssPs5/Gng="),
        ("DELETE", f"/queues/audio-queue/messages?ReceiptHandle={RECEIPT}", "dz4cTuOMIPl7Gqzk4d3p3J4G7vM="),
    ],
)
def test_receive_and_delete_through_httpx_carry_the_sdk_authorization(
    method: str, target: str, signature: str
) -> None:
    sent = send_signed(MnsAuth(STS, clock=fixed_clock), method, f"{HOST}{target}")
    assert sent.url.raw_path.decode() == target
    assert sent.headers["Authorization"] == f"MNS {AK_ID}:{signature}"
    assert sent.headers["security-token"] == STS_TOKEN


def test_a_caller_chosen_mns_version_and_content_md5_are_kept_and_signed() -> None:
    sent = send_signed(
        MnsAuth(STATIC, clock=fixed_clock),
        "POST",
        f"{HOST}/topics/AudioConvert/messages",
        content=PUBLISH_BODY,
        headers={
            "content-type": XML,
            "content-md5": "Njg3ZGZlMzJkOGNjZWIyZTFjNGMzNWM2ZTIyNDQ4MGI=",
            "x-mns-version": "2015-06-06",
        },
    )
    assert sent.headers["Authorization"] == f"MNS {AK_ID}:vubX/g/1PRDepVhXWUJYa7XCEL4="


def test_a_stale_mns_token_is_dropped_when_the_credentials_have_none() -> None:
    sent = send_signed(
        MnsAuth(STATIC, clock=fixed_clock),
        "GET",
        f"{HOST}/queues/q/messages",
        headers={"security-token": "old"},
    )
    assert "security-token" not in sent.headers


def test_x_mns_headers_are_lower_cased_and_sorted() -> None:
    headers = {"X-MNS-Version": "2015-06-06", "x-mns-user-request-id": "r1", "Content-Type": XML}
    assert mns_string_to_sign("put", "", XML, DATE, headers, "/queues/q") == (
        f"PUT\n\n{XML}\n{DATE}\nx-mns-user-request-id:r1\nx-mns-version:2015-06-06\n/queues/q"
    )


def test_mns_authorization_parses_into_key_id_and_signature() -> None:
    assert parse_mns_authorization(f"MNS {AK_ID}:p94blq3Ngi8Q0El1G21b/x5qroo=") == (
        AK_ID,
        "p94blq3Ngi8Q0El1G21b/x5qroo=",
    )


@pytest.mark.parametrize("header", ["", "MNS", "MNS AK", "MNS :sig", "MNS AK:", "OSS AK:sig"])
def test_malformed_mns_authorization_headers_raise_value_error(header: str) -> None:
    with pytest.raises(ValueError, match="Authorization"):
        parse_mns_authorization(header)

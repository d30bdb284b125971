"""Every service's error document becomes the shared error tree, with code, request id and retryability."""

from __future__ import annotations

import base64

import httpx
import pytest

from shared.clients.errors import (
    NotFound,
    ObjectAlreadyExists,
    ObjectNotFound,
    code_from_status,
    dashscope_error_from_document,
    is_retryable,
    openapi_error_parser,
    parse_dashscope_error,
    parse_mns_error,
    parse_oss_error,
    redact_urls,
)
from shared.clients.xmlsafe import UnsafeXmlError, parse_xml
from shared.errors import ServiceError, ServiceResponseError

OSS_ACCESS_DENIED = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>AccessDenied</Code>
  <Message>You have no right to access this object because of bucket acl.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>examplebucket.oss-cn-hangzhou.aliyuncs.com</HostId>
  <EC>0003-00000001</EC>
</Error>"""

MNS_QUEUE_MISSING = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error xmlns="http://mns.aliyuncs.com/doc/v1/">
  <Code>QueueNotExist</Code>
  <Message>The queue name you provided is not exist.</Message>
  <RequestId>5F290C926D472878-2-14D9529A8FA-200000001</RequestId>
  <HostId>http://1234567890123456.mns.cn-hangzhou.aliyuncs.com</HostId>
</Error>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Error><Code>&lol3;</Code><Message>&lol3;</Message></Error>"""


def answer(status: int, content: bytes = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://example.com/object")
    return httpx.Response(status, content=content, headers=headers, request=request)


# OSS ---------------------------------------------------------------------------------------------------


def test_an_oss_xml_error_gives_code_message_and_request_id() -> None:
    err = parse_oss_error(answer(403), OSS_ACCESS_DENIED)
    assert type(err) is ServiceResponseError
    assert (err.service, err.code, err.status) == ("oss", "AccessDenied", 403)
    assert err.request_id == "5C3D9175B6FC201293AD****"
    assert "bucket acl" in err.message and "EC 0003-00000001" in err.message
    assert err.retryable is False


def test_an_oss_no_such_key_error_is_an_object_not_found() -> None:
    body = b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
    err = parse_oss_error(answer(404, headers={"x-oss-request-id": "RID-404"}), body)
    assert isinstance(err, ObjectNotFound) and isinstance(err, NotFound)
    assert (err.code, err.request_id) == ("NoSuchKey", "RID-404")


def test_a_head_404_without_a_body_is_an_object_not_found_from_the_status() -> None:
    err = parse_oss_error(answer(404, headers={"x-oss-request-id": "RID-HEAD"}), b"")
    assert isinstance(err, ObjectNotFound)
    assert (err.code, err.status, err.request_id) == ("NoSuchKey", 404, "RID-HEAD")


def test_a_head_error_reads_the_base64_x_oss_err_header() -> None:
    encoded = base64.b64encode(
        b"<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>"
    ).decode()
    err = parse_oss_error(answer(404, headers={"x-oss-err": encoded}), b"")
    assert isinstance(err, NotFound) and not isinstance(err, ObjectNotFound)
    assert err.code == "NoSuchBucket"


def test_a_file_already_exists_error_is_an_object_already_exists() -> None:
    body = b"<Error><Code>FileAlreadyExists</Code><Message>The object already exists.</Message></Error>"
    err = parse_oss_error(answer(409), body)
    assert isinstance(err, ObjectAlreadyExists)


def test_an_oss_server_fault_without_a_document_is_retryable_and_says_what_came_back() -> None:
    err = parse_oss_error(answer(502), b"<html><body>Bad Gateway</body></html>")
    assert (err.code, err.retryable) == ("BadGateway", True)
    assert "Bad Gateway" in err.message


def test_a_readable_document_without_a_message_is_not_called_unreadable() -> None:
    err = parse_oss_error(answer(403), b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
    assert err.code == "SignatureDoesNotMatch"
    assert err.message == "HTTP 403 Forbidden"


# MNS ---------------------------------------------------------------------------------------------------


def test_an_mns_namespaced_error_gives_code_and_request_id() -> None:
    err = parse_mns_error(answer(404), MNS_QUEUE_MISSING)
    assert isinstance(err, NotFound)
    assert (err.service, err.code) == ("mns", "QueueNotExist")
    assert err.request_id == "5F290C926D472878-2-14D9529A8FA-200000001"


def test_an_mns_error_without_a_body_takes_the_request_id_header() -> None:
    err = parse_mns_error(answer(503, headers={"x-mns-request-id": "MNS-RID"}), b"")
    assert (err.code, err.request_id, err.retryable) == ("ServiceUnavailable", "MNS-RID", True)


# OpenAPI -----------------------------------------------------------------------------------------------


def test_an_openapi_json_error_gives_code_request_id_and_the_diagnosis_link() -> None:
    body = (
        b'{"RequestId":"91AC8C98-0F36-49D2","HostId":"imm.cn-hangzhou.aliyuncs.com","Code":"InvalidArgument",'
        b'"Message":"Specified parameter ProjectName is not valid.",'
        b'"Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidArgument"}'
    )
    err = openapi_error_parser("imm")(answer(400), body)
    assert (err.service, err.code, err.request_id) == ("imm", "InvalidArgument", "91AC8C98-0F36-49D2")
    assert "ProjectName is not valid" in err.message
    assert "diagnosis: https://api.aliyun.com/troubleshoot" in err.message


def test_openapi_throttling_is_retryable_whatever_the_status() -> None:
    err = openapi_error_parser("ice")(
        answer(400), b'{"Code":"Throttling.User","Message":"Request was denied"}'
    )
    assert err.retryable is True


# DashScope ---------------------------------------------------------------------------------------------


def test_a_dashscope_json_error_gives_code_and_request_id() -> None:
    body = b'{"request_id":"54dc32fd-968b","code":"InvalidApiKey","message":"Invalid API-key provided."}'
    err = parse_dashscope_error(answer(401), body)
    assert (err.service, err.code, err.request_id, err.status) == (
        "dashscope",
        "InvalidApiKey",
        "54dc32fd-968b",
        401,
    )
    assert err.retryable is False


def test_an_openai_compatible_error_gives_code_and_the_request_id_header() -> None:
    body = (
        b'{"error":{"message":"Requests rate limit exceeded","type":"limit_requests",'
        b'"code":"limit_requests"}}'
    )
    err = parse_dashscope_error(answer(429, headers={"x-request-id": "chatcmpl-req-1"}), body)
    assert (err.code, err.request_id, err.retryable) == ("limit_requests", "chatcmpl-req-1", True)
    assert err.message == "Requests rate limit exceeded"


def test_an_openai_compatible_error_without_a_code_falls_back_to_its_type() -> None:
    err = dashscope_error_from_document(
        {"error": {"message": "bad", "type": "invalid_request_error", "code": None}}
    )
    assert err.code == "invalid_request_error"


# Safety and classification -----------------------------------------------------------------------------


def test_an_error_document_declaring_entities_is_refused_not_expanded() -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(BILLION_LAUGHS)
    err = parse_oss_error(answer(400), BILLION_LAUGHS)
    assert err.code == "BadRequest"
    assert "lollol" not in err.message


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [
        (429, "TooManyRequests", True),
        (500, "InternalError", True),
        (502, "BadGateway", True),
        (503, "ServiceUnavailable", True),
        (501, "NotImplemented", False),
        (400, "Throttling", True),
        (400, "Throttling.User", True),
        (400, "ThrottlingX", False),
        (400, "RequestTimeout", True),
        (403, "RequestTimeTooSkewed", False),
        (403, "SignatureDoesNotMatch", False),
        (404, "NoSuchKey", False),
    ],
)
def test_retryability_follows_status_and_code(status: int, code: str, retryable: bool) -> None:
    assert is_retryable(status, code) is retryable


def test_status_codes_become_readable_codes() -> None:
    assert [code_from_status(s) for s in (400, 404, 429, 503, 599)] == [
        "BadRequest",
        "NotFound",
        "TooManyRequests",
        "ServiceUnavailable",
        "HTTP599",
    ]


def test_query_strings_are_removed_from_urls_in_messages() -> None:
    text = "GET https://b.oss-cn-hangzhou.aliyuncs.com/a.mp3?x-oss-signature=abc&x-oss-credential=AK failed"
    assert redact_urls(text) == "GET https://b.oss-cn-hangzhou.aliyuncs.com/a.mp3?<redacted> failed"


def test_every_parsed_error_belongs_to_the_service_error_tree() -> None:
    for err in (
        parse_oss_error(answer(500), b""),
        parse_mns_error(answer(500), b""),
        openapi_error_parser("imm")(answer(500), b""),
        parse_dashscope_error(answer(500), b""),
    ):
        assert isinstance(err, ServiceError)
        assert err.retryable is True

"""The local runtime's FC 3.0 mode: requests become FC 3.0 HTTP events, answers become HTTP responses."""

from __future__ import annotations

import base64

import pytest

from localcloud.config import LocalCloudConfig
from localcloud.runtime.fc3 import http_event, http_result
from shared.runtime.fc3_http import environ_from_event, parse_http_event


def test_a_binary_body_travels_as_base64_and_back_to_the_same_bytes() -> None:
    body = bytes(range(256))
    event = http_event(
        {"REQUEST_METHOD": "PUT", "PATH_INFO": "/v1/x", "CONTENT_TYPE": "audio/wav", "HTTP_X_TRACE": "t"},
        body,
        request_id="r-1",
        account_id="1",
        region="cn-hangzhou",
    )

    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body
    assert event["headers"] == {"Content-Type": "audio/wav", "X-Trace": "t"}
    # What the deployed side (shared.runtime.fc3_http) makes of it: the same request again.
    document = parse_http_event(event)
    assert document is not None
    environ = environ_from_event(document)
    assert (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["wsgi.input"].read()) == (
        "PUT",
        "/v1/x",
        body,
    )


def test_the_functions_answer_becomes_the_http_response() -> None:
    status, headers, body = http_result(
        {"statusCode": 202, "headers": {"Location": "/v1/jobs/j1"}, "body": "e30=", "isBase64Encoded": True}
    )
    assert (status, headers, body) == ("202 Accepted", [("Location", "/v1/jobs/j1")], b"{}")


@pytest.mark.parametrize(
    "answer", [None, {"body": "x"}, {"statusCode": "200"}, {"statusCode": 200, "body": 5}]
)
def test_an_answer_that_is_not_fc3s_response_document_is_an_error(answer: object) -> None:
    with pytest.raises(ValueError):
        http_result(answer)


def test_the_fc_version_is_2_or_3() -> None:
    assert LocalCloudConfig.from_environment({"LOCALCLOUD_FC_VERSION": "3"}).fc_version == 3
    assert LocalCloudConfig.from_environment({}).fc_version == 2
    with pytest.raises(ValueError, match="expected 2 or 3"):
        LocalCloudConfig.from_environment({"LOCALCLOUD_FC_VERSION": "4"})

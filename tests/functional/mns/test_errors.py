"""Refusals: unsigned and tampered requests, and bad input, answered with MNS's codes and XML."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from localcloud.server import LocalCloud
from localcloud.services.mns.service import MnsService
from shared.auth import Credentials, MnsAuth
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET

NS = "{http://mns.aliyuncs.com/doc/v1/}"
XML = {"Content-Type": "text/xml;charset=UTF-8"}


def _error(response: httpx.Response) -> dict[str, str]:
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}Error"
    return {child.tag.replace(NS, ""): child.text or "" for child in root}


def _send_signed(
    cloud: LocalCloud, request: httpx.Request, credentials: Credentials, *, clock: Any = None
) -> httpx.Response:
    auth = MnsAuth(credentials) if clock is None else MnsAuth(credentials, clock=clock)
    auth.sign(request)
    with httpx.Client(trust_env=False) as client:
        return client.send(request)


# ------------------------------------------------------------------------------------------ authentication


def test_an_unsigned_request_is_refused_with_missing_authorization_header(cloud: LocalCloud) -> None:
    response = httpx.get(f"{cloud.endpoint}/queues/anything", trust_env=False)

    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "MissingAuthorizationHeader")
    assert error["RequestId"] == response.headers["x-mns-request-id"]
    assert error["HostId"]
    assert response.headers["x-mns-version"] == "2015-06-06"


def test_a_request_altered_after_signing_is_refused_with_signature_does_not_match(
    cloud: LocalCloud, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("guarded")
    mns.ensure_queue(queue)
    request = httpx.Request("GET", f"{cloud.endpoint}/queues/{queue}")
    MnsAuth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)).sign(request)
    request.headers["x-mns-version"] = "2015-06-07"

    with httpx.Client(trust_env=False) as client:
        response = client.send(request)

    assert (response.status_code, _error(response)["Code"]) == (403, "SignatureDoesNotMatch")


def test_a_wrong_secret_is_refused_with_signature_does_not_match(cloud: LocalCloud) -> None:
    request = httpx.Request("GET", f"{cloud.endpoint}/queues")
    response = _send_signed(cloud, request, Credentials(ACCESS_KEY_ID, "not-the-secret"))
    assert (response.status_code, _error(response)["Code"]) == (403, "SignatureDoesNotMatch")


def test_an_unknown_access_key_is_refused_with_invalid_access_key_id(cloud: LocalCloud) -> None:
    request = httpx.Request("GET", f"{cloud.endpoint}/queues")
    response = _send_signed(cloud, request, Credentials("nobody", "whatever"))
    assert (response.status_code, _error(response)["Code"]) == (403, "InvalidAccessKeyId")


def test_a_request_signed_an_hour_ago_is_refused_with_time_expired(cloud: LocalCloud) -> None:
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    request = httpx.Request("GET", f"{cloud.endpoint}/queues")
    response = _send_signed(
        cloud, request, Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), clock=lambda: an_hour_ago
    )
    assert (response.status_code, _error(response)["Code"]) == (408, "TimeExpired")


def test_a_malformed_authorization_header_is_refused(cloud: LocalCloud) -> None:
    response = httpx.get(
        f"{cloud.endpoint}/queues",
        headers={"Authorization": "MNS no-colon-here", "Date": "Wed, 15 Jan 2025 08:30:45 GMT"},
        trust_env=False,
    )
    assert (response.status_code, _error(response)["Code"]) == (400, "InvalidAuthorizationHeader")


@pytest.mark.sdk
def test_the_official_sdk_with_a_wrong_secret_sees_signature_does_not_match(
    cloud: LocalCloud, unique: Callable[[str], str]
) -> None:
    from mns.account import Account
    from mns.mns_exception import MNSServerException
    from mns.queue import QueueMeta

    account = Account(cloud.endpoint, ACCESS_KEY_ID, "not-the-secret")
    with pytest.raises(MNSServerException) as refused:
        account.get_queue(unique("jobs")).create(QueueMeta())
    assert refused.value.type == "SignatureDoesNotMatch"


# -------------------------------------------------------------------------------------------- bad input


def test_a_body_that_does_not_match_its_content_md5_is_refused(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    body = b'<?xml version="1.0" encoding="utf-8"?><Message><MessageBody>x</MessageBody></Message>'
    wrong = base64.b64encode(b"0" * 32).decode()

    response = signed_http.post(
        f"/queues/{queue}/messages", content=body, headers={**XML, "Content-MD5": wrong}
    )

    assert (response.status_code, _error(response)["Code"]) == (400, "InvalidDegist")


def test_xml_that_is_not_well_formed_is_refused_with_malformed_xml(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    response = signed_http.post(f"/queues/{queue}/messages", content=b"<Message><MessageBody>", headers=XML)
    assert (response.status_code, _error(response)["Code"]) == (400, "MalformedXML")


def test_a_document_with_a_dtd_is_refused_before_parsing(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    body = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Message><MessageBody>&a;</MessageBody></Message>'
    response = signed_http.post(f"/queues/{queue}/messages", content=body, headers=XML)
    assert (response.status_code, _error(response)["Code"]) == (400, "MalformedXML")


def test_a_document_with_the_wrong_root_names_the_expected_one(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    response = signed_http.post(f"/queues/{queue}/messages", content=b"<Topic/>", headers=XML)
    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "InvalidArgument")
    assert "<Message>" in error["Message"]


def test_a_body_larger_than_the_queue_allows_is_refused_naming_message_body(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("small")
    created = signed_http.put(
        f"/queues/{queue}",
        content=b"<Queue><MaximumMessageSize>1024</MaximumMessageSize></Queue>",
        headers=XML,
    )
    assert created.status_code == 201
    body = f"<Message><MessageBody>{'x' * 1025}</MessageBody></Message>".encode()

    response = signed_http.post(f"/queues/{queue}/messages", content=body, headers=XML)

    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "InvalidArgument")
    assert "MessageBody" in error["Message"] and "1024" in error["Message"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("waitseconds=31", "waitseconds"),
        ("waitseconds=soon", "waitseconds"),
        ("numOfMessages=17", "numOfMessages"),
    ],
)
def test_receive_parameters_out_of_range_are_refused_by_name(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str], query: str, named: str
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    response = signed_http.get(f"/queues/{queue}/messages?{query}")
    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "InvalidArgument")
    assert named in error["Message"]


def test_delete_without_a_receipt_handle_is_refused(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    queue = unique("jobs")
    mns.ensure_queue(queue)
    response = signed_http.delete(f"/queues/{queue}/messages")
    assert (response.status_code, _error(response)["Code"]) == (400, "MissingReceiptHandle")


def test_an_invalid_queue_name_is_refused_naming_the_rule(signed_http: httpx.Client) -> None:
    response = signed_http.put("/queues/bad_name!", content=b"", headers=XML)
    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "InvalidArgument")
    assert "queue name" in error["Message"]


def test_an_unknown_resource_is_refused_with_invalid_request_url(signed_http: httpx.Client) -> None:
    response = signed_http.get("/queues/jobs/elsewhere")
    assert (response.status_code, _error(response)["Code"]) == (400, "InvalidRequestURL")


def test_an_unknown_notify_strategy_is_refused_by_name(
    signed_http: httpx.Client, mns: MnsService, unique: Callable[[str], str]
) -> None:
    topic = unique("events")
    mns.ensure_topic(topic)
    body = (
        b"<Subscription><Endpoint>http://127.0.0.1:9/x</Endpoint>"
        b"<NotifyStrategy>SOMETIMES</NotifyStrategy></Subscription>"
    )
    response = signed_http.put(f"/topics/{topic}/subscriptions/sub", content=body, headers=XML)
    error = _error(response)
    assert (response.status_code, error["Code"]) == (400, "InvalidArgument")
    assert "NotifyStrategy" in error["Message"]

"""PostObject: browser-style form uploads signed by a policy (V1 and V4), checked against its conditions."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import httpx
import pytest

from localcloud.ports import ObjectCreated
from localcloud.server import LocalCloud
from localcloud.services.oss.service import OssService
from shared.auth import Credentials, OssV4Auth, oss_v1_signature, oss_v4_signature, oss_v4_signing_key
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION


def _policy(conditions: list[object], *, expires_in: timedelta = timedelta(minutes=10)) -> str:
    expiration = (datetime.now(timezone.utc) + expires_in).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return base64.b64encode(
        json.dumps({"expiration": expiration, "conditions": conditions}).encode()
    ).decode()


def _v1_fields(policy: str, secret: str = ACCESS_KEY_SECRET) -> dict[str, str]:
    return {"OSSAccessKeyId": ACCESS_KEY_ID, "policy": policy, "Signature": oss_v1_signature(secret, policy)}


def _v4_fields(policy: str) -> dict[str, str]:
    now = datetime.now(timezone.utc)
    day = now.strftime("%Y%m%d")
    return {
        "x-oss-signature-version": "OSS4-HMAC-SHA256",
        "x-oss-credential": f"{ACCESS_KEY_ID}/{day}/{REGION}/oss/aliyun_v4_request",
        "x-oss-date": now.strftime("%Y%m%dT%H%M%SZ"),
        "policy": policy,
        "x-oss-signature": oss_v4_signature(oss_v4_signing_key(ACCESS_KEY_SECRET, day, REGION), policy),
    }


def _post(
    cloud: LocalCloud, bucket: str, fields: dict[str, str], data: bytes = b"RIFF...."
) -> httpx.Response:
    return httpx.post(
        f"{cloud.endpoint}/{bucket}/", data=fields, files={"file": ("take 1.wav", data, "audio/wav")}
    )


@pytest.mark.parametrize("signing", [_v1_fields, _v4_fields], ids=["v1", "v4"])
def test_a_signed_form_upload_stores_the_file_and_announces_a_post_object(
    oss_cloud: LocalCloud,
    oss_service: OssService,
    bucket: str,
    created_events: list[ObjectCreated],
    signing: Callable[[str], dict[str, str]],
) -> None:
    policy = _policy(
        [{"bucket": bucket}, ["starts-with", "$key", "uploads/"], ["content-length-range", 1, 1000]]
    )
    fields = {"key": "uploads/${filename}", "x-oss-meta-origin": "browser", **signing(policy)}

    response = _post(oss_cloud, bucket, fields)

    record = oss_service.store.head(bucket, "uploads/take 1.wav")
    assert response.status_code == 204
    assert response.headers["ETag"] == record.quoted_etag
    assert (record.content_type, record.metadata) == ("audio/wav", {"origin": "browser"})
    assert [event.event_name for event in created_events] == ["ObjectCreated:PostObject"]


def test_success_action_status_201_answers_a_post_response_document(
    oss_cloud: LocalCloud, bucket: str
) -> None:
    fields = {"key": "a.wav", "success_action_status": "201", **_v1_fields(_policy([]))}

    response = _post(oss_cloud, bucket, fields)

    document = ElementTree.fromstring(response.content)
    assert (response.status_code, document.tag, document.findtext("Key")) == (201, "PostResponse", "a.wav")


@pytest.mark.parametrize(
    ("conditions", "fields"),
    [
        ([["starts-with", "$key", "uploads/"]], {"key": "elsewhere/a.wav"}),
        ([["content-length-range", 1, 4]], {"key": "a.wav"}),
        ([{"bucket": "another-bucket"}], {"key": "a.wav"}),
    ],
    ids=["key-prefix", "too-large", "other-bucket"],
)
def test_a_form_that_breaks_its_policy_is_access_denied(
    oss_cloud: LocalCloud,
    oss_service: OssService,
    bucket: str,
    conditions: list[object],
    fields: dict[str, str],
) -> None:
    response = _post(oss_cloud, bucket, {**fields, **_v1_fields(_policy(conditions))})

    assert response.status_code == 403
    assert ElementTree.fromstring(response.content).findtext("Code") == "AccessDenied"
    assert "Policy Condition failed" in response.text
    assert oss_service.store.list(bucket) == []


def test_an_expired_policy_a_wrong_signature_and_no_policy_are_refused(
    oss_cloud: LocalCloud, bucket: str
) -> None:
    expired = _post(
        oss_cloud, bucket, {"key": "a.wav", **_v1_fields(_policy([], expires_in=timedelta(minutes=-1)))}
    )
    wrong = _post(oss_cloud, bucket, {"key": "a.wav", **_v1_fields(_policy([]), secret="not-the-secret")})
    anonymous = _post(oss_cloud, bucket, {"key": "a.wav"})

    codes = [ElementTree.fromstring(r.content).findtext("Code") for r in (expired, wrong, anonymous)]
    assert [r.status_code for r in (expired, wrong, anonymous)] == [403, 403, 403]
    assert codes == ["AccessDenied", "SignatureDoesNotMatch", "AccessDenied"]
    assert "expired" in expired.text


@pytest.mark.parametrize(
    "condition",
    [
        ["content-length-range", "ten", 100],
        ["content-length-range", None, 100],
        ["content-length-range", 1, [2]],
        ["content-length-range", 1.5, 100],
        ["content-length-range", 100, 10],
    ],
    ids=["word", "null", "list", "fraction", "max-below-min"],
)
def test_a_content_length_range_that_is_not_two_ordered_whole_numbers_is_refused_naming_the_policy(
    oss_cloud: LocalCloud, oss_service: OssService, bucket: str, condition: list[object]
) -> None:
    response = _post(oss_cloud, bucket, {"key": "a.wav", **_v1_fields(_policy([condition]))})

    document = ElementTree.fromstring(response.content)
    assert response.status_code == 400
    assert (document.findtext("Code"), document.findtext("ArgumentName")) == ("InvalidArgument", "policy")
    assert "content-length-range" in (document.findtext("Message") or "")
    assert oss_service.store.list(bucket) == []


def test_form_metadata_in_any_script_is_stored_and_served_back_as_utf8(
    oss_cloud: LocalCloud, bucket: str
) -> None:
    fields = {"key": "titled.wav", "x-oss-meta-title": "日本語のタイトル", **_v1_fields(_policy([]))}
    stored = _post(oss_cloud, bucket, fields)
    auth = OssV4Auth(Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth, timeout=5) as http:
        head = http.head(f"/{bucket}/titled.wav")
        got = http.get(f"/{bucket}/titled.wav")

    assert stored.status_code == 204
    assert (head.status_code, got.status_code, got.content) == (200, 200, b"RIFF....")
    assert head.headers["x-oss-meta-title"] == got.headers["x-oss-meta-title"] == "日本語のタイトル"


def test_a_form_field_that_would_break_a_response_header_is_refused_naming_it(
    oss_cloud: LocalCloud, oss_service: OssService, bucket: str
) -> None:
    fields = {"key": "a.wav", "x-oss-meta-note": "line one\r\nX-Injected: yes", **_v1_fields(_policy([]))}

    response = _post(oss_cloud, bucket, fields)

    document = ElementTree.fromstring(response.content)
    assert response.status_code == 400
    assert document.findtext("Code") == "InvalidArgument"
    assert document.findtext("ArgumentName") == "x-oss-meta-note"
    assert oss_service.store.list(bucket) == []

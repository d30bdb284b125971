"""Who may call OSS, and how refusals look: real codes, OSS's XML error document, x-oss-request-id."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from xml.etree import ElementTree

import httpx
import pytest

from localcloud.server import LocalCloud
from localcloud.services.base import ServiceHttpError
from localcloud.services.oss.service import OssService
from shared.auth import Credentials, OssV1Auth, OssV4Auth, presign_oss_v1, presign_oss_v4
from shared.clients.oss import OssClient
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.oss.conftest import REGION

_CREDENTIALS = Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)


def _error(response: httpx.Response) -> dict[str, str]:
    root = ElementTree.fromstring(response.content)
    assert root.tag == "Error"
    return {child.tag: child.text or "" for child in root}


@pytest.fixture
def stored(client: OssClient, bucket: str) -> str:
    client.put_object(bucket, "in/a.txt", b"hello")
    return bucket


@pytest.fixture
def plain(oss_cloud: LocalCloud) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=oss_cloud.endpoint) as http:
        yield http


def test_an_unsigned_request_is_access_denied_in_an_oss_error_document(
    plain: httpx.Client, stored: str
) -> None:
    response = plain.get(f"/{stored}/in/a.txt")

    error = _error(response)
    assert response.status_code == 403
    assert error["Code"] == "AccessDenied"
    assert error["RequestId"] == response.headers["x-oss-request-id"]
    assert set(error) >= {"Code", "Message", "RequestId", "HostId"}
    assert response.headers["Content-Type"].startswith("application/xml")


def test_a_tampered_presigned_url_does_not_match_its_signature(plain: httpx.Client, stored: str) -> None:
    url = presign_oss_v4(
        "GET",
        str(plain.base_url).rstrip("/"),
        stored,
        "in/a.txt",
        credentials=_CREDENTIALS,
        region=REGION,
        expires=600,
        now=datetime.now(timezone.utc),
        path_style=True,
    )

    genuine = plain.get(url)
    tampered = plain.get(url.replace("in/a.txt", "in/b.txt"))

    assert (genuine.status_code, genuine.content) == (200, b"hello")
    assert tampered.status_code == 403
    assert _error(tampered)["Code"] == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_an_expired_presigned_url_is_refused_as_request_has_expired(
    plain: httpx.Client, stored: str, version: str
) -> None:
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    common = {"credentials": _CREDENTIALS, "expires": 60, "now": two_hours_ago, "path_style": True}
    base = str(plain.base_url).rstrip("/")
    if version == "v1":
        url = presign_oss_v1("GET", base, stored, "in/a.txt", **common)  # type: ignore[arg-type]
    else:
        url = presign_oss_v4("GET", base, stored, "in/a.txt", region=REGION, **common)  # type: ignore[arg-type]

    response = plain.get(url)

    assert response.status_code == 403
    assert (_error(response)["Code"], _error(response)["Message"]) == ("AccessDenied", "Request has expired.")


def test_an_unknown_access_key_is_invalid_access_key_id(oss_cloud: LocalCloud, stored: str) -> None:
    auth = OssV4Auth(Credentials("nobody", "secret"), REGION)
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        response = http.get(f"/{stored}/in/a.txt")

    assert response.status_code == 403
    assert _error(response)["Code"] == "InvalidAccessKeyId"


def test_a_wrong_secret_signed_with_v1_does_not_match(oss_cloud: LocalCloud, stored: str) -> None:
    auth = OssV1Auth(Credentials(ACCESS_KEY_ID, "not-the-secret"))
    with httpx.Client(base_url=oss_cloud.endpoint, auth=auth) as http:
        response = http.get(f"/{stored}/in/a.txt")

    assert response.status_code == 403
    assert _error(response)["Code"] == "SignatureDoesNotMatch"


def test_a_head_error_has_no_body_and_carries_the_document_in_x_oss_err(
    oss_cloud: LocalCloud, stored: str
) -> None:
    with httpx.Client(base_url=oss_cloud.endpoint, auth=OssV4Auth(_CREDENTIALS, REGION)) as http:
        response = http.head(f"/{stored}/missing.txt")

    assert (response.status_code, response.content) == (404, b"")
    document = ElementTree.fromstring(base64.b64decode(response.headers["x-oss-err"]))
    assert document.findtext("Code") == "NoSuchKey"
    assert document.findtext("Key") == "missing.txt"


def test_a_sub_resource_localcloud_does_not_implement_is_501_naming_it(
    oss_cloud: LocalCloud, stored: str
) -> None:
    with httpx.Client(base_url=oss_cloud.endpoint, auth=OssV4Auth(_CREDENTIALS, REGION)) as http:
        tagging = http.get(f"/{stored}/in/a.txt?tagging")
        lifecycle = http.put(f"/{stored}/?lifecycle", content=b"<LifecycleConfiguration/>")
        process = http.get(f"/{stored}/in/a.txt?x-oss-process=image/resize,w_10")

    assert [r.status_code for r in (tagging, lifecycle, process)] == [501, 501, 501]
    assert _error(tagging)["Code"] == "NotImplemented" and "tagging" in _error(tagging)["Message"]
    assert "lifecycle" in _error(lifecycle)["Message"]
    assert "x-oss-async-process" in _error(process)["Message"]


def test_a_method_an_object_does_not_take_is_405_method_not_allowed(
    oss_cloud: LocalCloud, stored: str
) -> None:
    with httpx.Client(base_url=oss_cloud.endpoint, auth=OssV4Auth(_CREDENTIALS, REGION)) as http:
        response = http.post(f"/{stored}/in/a.txt", content=b"")

    assert response.status_code == 405
    assert _error(response)["Code"] == "MethodNotAllowed"


def test_resolve_url_accepts_oss_urls_and_presigned_urls_and_refuses_unsigned_ones(
    oss_service: OssService, oss_cloud: LocalCloud, stored: str
) -> None:
    presigned = oss_service.presign_get(stored, "in/a.txt", expires=600)

    by_uri = oss_service.resolve_url(f"oss://{stored}/in/a.txt")
    by_url = oss_service.resolve_url(presigned)
    fetched = httpx.get(presigned)
    with pytest.raises(ServiceHttpError) as unsigned:
        oss_service.resolve_url(f"{oss_cloud.endpoint}/{stored}/in/a.txt")
    with pytest.raises(ServiceHttpError) as expired:
        oss_service.resolve_url(presigned, now=datetime.now(timezone.utc) + timedelta(days=1))
    with pytest.raises(ServiceHttpError) as missing:
        oss_service.resolve_url(f"oss://{stored}/in/nothing.txt")

    assert by_uri.etag == by_url.etag and by_url.size == 5
    assert "OSSAccessKeyId=" in presigned and presigned.startswith(oss_cloud.endpoint)
    assert (fetched.status_code, fetched.content) == (200, b"hello")
    assert (unsigned.value.status, unsigned.value.code) == (403, "AccessDenied")
    assert (expired.value.code, expired.value.message) == ("AccessDenied", "Request has expired.")
    assert (missing.value.status, missing.value.code) == (404, "NoSuchKey")


@pytest.mark.parametrize(
    "key", ["in/what now?.mp3", "in/100%.wav", "in/take#2.wav", "in/a+b c.wav", "in/ü é.wav"]
)
@pytest.mark.parametrize("version", ["v1", "v4"])
def test_resolve_url_finds_an_object_whose_key_needs_percent_encoding(
    oss_service: OssService, oss_cloud: LocalCloud, bucket: str, key: str, version: str
) -> None:
    oss_service.store.put_stream(bucket, key, iter([b"speech"]))
    if version == "v1":
        url = oss_service.presign_get(bucket, key, expires=600)
    else:
        url = presign_oss_v4(
            "GET",
            oss_cloud.endpoint,
            bucket,
            key,
            credentials=_CREDENTIALS,
            region=REGION,
            expires=600,
            now=datetime.now(timezone.utc),
            path_style=True,
        )

    resolved = oss_service.resolve_url(url)
    fetched = httpx.get(url)

    assert (resolved.bucket, resolved.key) == (bucket, key)
    assert (fetched.status_code, fetched.content) == (200, b"speech")


@pytest.mark.parametrize("name", ["queues", "topics", "api", "compatible-mode"])
def test_a_bucket_named_like_another_services_path_is_still_served_by_oss(
    oss_service: OssService, oss_cloud: LocalCloud, client: OssClient, name: str
) -> None:
    oss_service.store.create_bucket(name)
    client.put_object(name, "v1/a.txt", b"mine")
    url = presign_oss_v1(
        "GET",
        oss_cloud.endpoint,
        name,
        "v1/a.txt",
        credentials=_CREDENTIALS,
        expires=600,
        now=datetime.now(timezone.utc),
        path_style=True,
    )

    fetched = httpx.get(url)
    listed = [entry.key for entry in client.iter_objects(name)]

    assert (fetched.status_code, fetched.content) == (200, b"mine")
    assert listed == ["v1/a.txt"]

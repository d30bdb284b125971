"""HTTP trigger through localcloud's edge port: FC's WSGI environ in, the app's response out."""

from __future__ import annotations

import uuid
from email.utils import formatdate
from urllib.parse import quote

import httpx

from localcloud.runtime.http_trigger import fc_signature, fc_string_to_sign
from tests.functional.conftest import ACCESS_KEY_ID, ACCESS_KEY_SECRET
from tests.functional.runtime.conftest import Project


def _client(project: Project) -> httpx.Client:
    return httpx.Client(base_url=project.cloud.endpoint, timeout=10, trust_env=False)


def test_a_post_reaches_the_wsgi_app_with_fcs_environ_and_its_response_comes_back(project: Project) -> None:
    with _client(project) as client:
        response = client.post(
            "/2016-08-15/proxy/fixture/web/jobs/42/résumé",
            params={"page": "2", "q": "a b"},
            content=b'{"hello": "world"}',
            headers={"Content-Type": "application/json", "X-Custom": "custom-value"},
        )
    assert response.status_code == 201
    assert response.headers["X-Echo"] == "yes"
    assert uuid.UUID(response.headers["X-Fc-Request-Id"])
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["path"] == "/jobs/42/résumé"
    assert seen["query"] == "page=2&q=a+b"
    assert seen["content_type"] == "application/json"
    assert seen["content_length"] == str(len(b'{"hello": "world"}'))
    assert seen["body"] == '{"hello": "world"}'
    assert seen["custom_header"] == "custom-value"
    assert seen["remote_addr"] == "127.0.0.1"
    assert seen["request_uri"] == (
        f"{project.cloud.endpoint}/2016-08-15/proxy/fixture/web/jobs/42/{quote('résumé')}?page=2&q=a+b"
    )
    assert seen["context"]["request_id"] == response.headers["X-Fc-Request-Id"]
    assert seen["context"]["function"]["name"] == "web"
    assert seen["context"]["service"]["name"] == "fixture"
    assert seen["web_only"] == "only-here"
    assert seen["greeting"] is None  # echo's variable is not web's


def test_the_function_root_and_a_qualified_service_name_both_route(project: Project) -> None:
    with _client(project) as client:
        bare = client.get("/2016-08-15/proxy/fixture/web")
        qualified = client.get("/2016-08-15/proxy/fixture.LATEST/web/")
    assert bare.status_code == qualified.status_code == 200
    assert bare.json()["path"] == qualified.json()["path"] == "/"
    assert bare.json()["content_type"] == "application/octet-stream"


def test_a_method_the_trigger_does_not_list_is_refused_with_405(project: Project) -> None:
    with _client(project) as client:
        response = client.delete("/2016-08-15/proxy/fixture/web/jobs/1")
    assert response.status_code == 405
    assert response.json()["ErrorCode"] == "MethodNotAllowed"


def test_an_unknown_function_or_one_without_an_http_trigger_is_404(project: Project) -> None:
    with _client(project) as client:
        unknown = client.get("/2016-08-15/proxy/fixture/nope/")
        not_http = client.get("/2016-08-15/proxy/fixture/echo/")
        no_function = client.get("/2016-08-15/proxy/fixture")
    assert unknown.status_code == not_http.status_code == no_function.status_code == 404
    assert unknown.json()["ErrorCode"] == "FunctionNotFound"


def test_an_app_that_raises_answers_502_with_fcs_error_type(project: Project) -> None:
    with _client(project) as client:
        response = client.get("/2016-08-15/proxy/fixture/web/boom")
    assert response.status_code == 502
    assert response.headers["X-Fc-Error-Type"] == "UnhandledInvocationError"
    assert response.json()["errorMessage"] == "boom on purpose"


def test_a_function_auth_trigger_refuses_an_unsigned_request(project: Project) -> None:
    with _client(project) as client:
        response = client.get("/2016-08-15/proxy/fixture/signed_web/")
    assert response.status_code == 403
    assert response.json()["ErrorCode"] == "AccessDenied"


def _signed_headers(path: str, query: list[tuple[str, str]], secret: str) -> dict[str, str]:
    headers = {"date": formatdate(usegmt=True), "x-fc-trace": "t-1"}
    signature = fc_signature(secret, fc_string_to_sign("GET", path, headers, query))
    return {**headers, "authorization": f"FC {ACCESS_KEY_ID}:{signature}"}


def test_a_function_auth_trigger_accepts_a_correctly_signed_request_and_refuses_a_wrong_one(
    project: Project,
) -> None:
    path = "/2016-08-15/proxy/fixture/signed_web/items"
    query = [("b", "2"), ("a", "1")]
    with _client(project) as client:
        good = client.get(path, params=tuple(query), headers=_signed_headers(path, query, ACCESS_KEY_SECRET))
        bad = client.get(path, params=tuple(query), headers=_signed_headers(path, query, "not-the-secret"))
    assert good.status_code == 200
    assert good.json()["path"] == "/items"
    assert bad.status_code == 403
    assert bad.json()["ErrorCode"] == "SignatureNotMatch"

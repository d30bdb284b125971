"""The API's bearer token: missing, wrong, unconfigured; the public routes need none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.api.auth import authenticate, bearer_token
from shared.runtime.responses import HttpError
from tests.unit.functions.api_helpers import TOKEN, Api, error_of, open_api
from tests.unit.pipeline.fakes import make_world


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world())


@pytest.fixture
def unconfigured() -> Iterator[Api]:
    yield from open_api(make_world(), AUDIOCHAIN_API_TOKEN="  ")


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/jobs/j7ydecbtyzz0000000000000000", "/v1/nowhere"])
def test_a_request_without_a_token_is_unauthenticated(api: Api, path: str) -> None:
    response = api.anonymous.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="audiochain"'
    error = error_of(response)
    assert (error["code"], error["field"]) == ("Unauthenticated", "Authorization")


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", TOKEN])
def test_credentials_that_are_not_a_bearer_token_are_unauthenticated(api: Api, header: str) -> None:
    response = api.anonymous.get("/v1/jobs", headers={"Authorization": header})
    assert error_of(response)["code"] == "Unauthenticated"


@pytest.mark.parametrize("token", [TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "x"])
def test_a_wrong_token_is_refused(api: Api, token: str) -> None:
    response = api.anonymous.get("/v1/jobs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert error_of(response)["code"] == "InvalidToken"


def test_the_scheme_is_case_insensitive(api: Api) -> None:
    assert api.anonymous.get("/v1/jobs", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_without_a_configured_token_every_protected_route_is_closed(unconfigured: Api) -> None:
    response = unconfigured.client.get("/v1/jobs")
    assert response.status_code == 503
    assert error_of(response)["code"] == "ApiTokenNotConfigured"
    assert unconfigured.client.post("/v1/jobs/convert", json={}).status_code == 503


def test_health_and_the_openapi_document_need_no_token(api: Api, unconfigured: Api) -> None:
    for client in (api.anonymous, unconfigured.anonymous):
        assert client.get("/v1/health").json() == {"status": "ok", "service": "audiochain"}
        assert client.get("/openapi.json").json()["openapi"] == "3.1.0"


def test_an_anonymous_upload_is_refused_before_its_body_is_read(api: Api) -> None:
    response = api.anonymous.post("/v1/jobs/convert", content=b"x" * (2 * 1024 * 1024))
    assert error_of(response)["code"] == "Unauthenticated"


def test_nothing_is_built_for_a_refused_request(api: Api) -> None:
    api.anonymous.get("/v1/jobs")
    assert api.builder.builds == []


def test_bearer_token_reads_only_the_bearer_scheme() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("  BEARER   abc  ") == "abc"
    assert bearer_token("Token abc") is None
    assert bearer_token(None) is None


def test_authenticate_fails_closed_on_an_empty_configured_token() -> None:
    with pytest.raises(HttpError) as raised:
        authenticate("Bearer ", "")
    assert (raised.value.status, raised.value.code) == (503, "ApiTokenNotConfigured")

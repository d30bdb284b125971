"""The browser pages of the `api` function (dashboard, docs): served without a token, with their content
types and a strict Content-Security-Policy, on FC 2.0 (WSGI, with and without the default trigger's
prefix) and FC 3.0 (JSON HTTP events); and what the pages themselves must respect (no inline script, no
markup built from data, every referenced file shipped)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from shared.api.pages import CONTENT_TYPES, PAGES, STATIC_ROOT, StaticPages, media_origin
from shared.errors import ConfigurationError
from tests.unit.functions.api_helpers import Api, open_api
from tests.unit.functions.test_api_fc3 import event, invoke
from tests.unit.pipeline.fakes import make_world
from tests.unit.runtime.wsgi_helpers import call, make_environ

PREFIX = "/2016-08-15/proxy/audiochain/api"
FILES = [(page, path.name) for page in PAGES for path in sorted((STATIC_ROOT / page).iterdir())]


@pytest.fixture
def api() -> Iterator[Api]:
    yield from open_api(make_world(), AUDIOCHAIN_OSS_ENDPOINT="https://oss-cn-shanghai.aliyuncs.com")


@pytest.mark.parametrize("prefix", ["", PREFIX])
@pytest.mark.parametrize(("page", "name"), FILES)
def test_every_file_is_served_without_a_token_with_its_content_type(
    api: Api, prefix: str, page: str, name: str
) -> None:
    path = f"{prefix}/{page}/" + ("" if name == "index.html" else name)
    response = api.anonymous.get(path)
    assert response.status_code == 200, response.text
    assert response.content == (STATIC_ROOT / page / name).read_bytes()
    assert response.headers["content-type"] == CONTENT_TYPES[Path(name).suffix]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("page", PAGES)
def test_a_page_has_a_strict_content_security_policy(api: Api, page: str) -> None:
    response = api.anonymous.get(f"/{page}/")
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    for directive in ("script-src", "style-src", "connect-src", "img-src", "form-action"):
        assert policy[directive] == "'self'", directive  # no 'unsafe-inline', no CDN
    # Audio plays from presigned URLs: the bucket's own origin, as the OSS client presigns them.
    assert policy["media-src"] == "'self' https://audiochain.oss-cn-shanghai.aliyuncs.com"
    assert (policy["base-uri"], policy["frame-ancestors"]) == ("'none'", "'none'")
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("prefix", ["", PREFIX])
@pytest.mark.parametrize("page", PAGES)
def test_a_page_without_its_slash_is_redirected_relatively(api: Api, prefix: str, page: str) -> None:
    response = api.anonymous.get(f"{prefix}/{page}")
    # Relative: it resolves under whatever prefix the browser used, which the function may not see.
    assert (response.status_code, response.headers["location"]) == (301, f"{page}/")


# Raw paths (an HTTP client would resolve the dot segments before sending them).
@pytest.mark.parametrize(
    "path", ["/dashboard/nothing.js", "/dashboard/app.js/", "/docs/index.htm", "/docs/.x"]
)
def test_an_unknown_file_is_not_found(api: Api, path: str) -> None:
    answer = call(api.handler, make_environ("GET", path))
    assert (answer.status, answer.json()["error"]["code"]) == (404, "NotFound")


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/../v1/jobs",
        "/docs/x/../../v1/jobs",
        "/dashboards/v1/jobs",
        "/dashboard/..",
        "/dashboard/../docs/docs.js",
    ],
)
def test_no_api_route_is_reached_without_a_token_through_a_pages_name(api: Api, path: str) -> None:
    answer = call(api.handler, make_environ("GET", path))
    assert (answer.status, answer.json()["error"]["code"]) == (401, "Unauthenticated")


def test_a_repeat_visit_costs_a_304(api: Api) -> None:
    first = api.anonymous.get("/dashboard/app.js")
    again = api.anonymous.get("/dashboard/app.js", headers={"If-None-Match": f'"x", {first.headers["etag"]}'})
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    changed = api.anonymous.get("/dashboard/app.js", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_head_answers_the_headers_only(api: Api) -> None:
    response = api.anonymous.head("/docs/")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len((STATIC_ROOT / "docs" / "index.html").read_bytes())


def test_only_get_and_head_are_allowed(api: Api) -> None:
    response = api.client.post("/dashboard/", content=b"{}")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")


@pytest.mark.parametrize(("path", "name"), [("/dashboard/", "index.html"), ("/dashboard/favicon.svg", "")])
def test_fc3_http_events_get_the_pages_as_text(api: Api, path: str, name: str) -> None:
    answer = invoke(api.handler, event("GET", path))
    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is False
    expected = STATIC_ROOT / "dashboard" / (name or Path(path).name)
    assert answer["body"] == expected.read_text(encoding="utf-8")
    assert answer["headers"]["Content-Type"] == CONTENT_TYPES[expected.suffix]


def test_a_misconfigured_deployment_still_serves_the_page_with_self_only_media() -> None:
    for api in open_api(make_world(), AUDIOCHAIN_OSS_ENDPOINT="ftp://nowhere"):
        response = api.anonymous.get("/dashboard/")
        assert response.status_code == 200
        assert "media-src 'self';" in response.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("bucket", "endpoint", "origin"),
    [
        ("b1", "oss-cn-hangzhou.aliyuncs.com", "https://b1.oss-cn-hangzhou.aliyuncs.com"),
        ("b1", "https://b1.oss-cn-hangzhou.aliyuncs.com", "https://b1.oss-cn-hangzhou.aliyuncs.com"),
        ("b1", "http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("b1", "http://localhost:9000", "http://localhost:9000"),
    ],
)
def test_the_media_origin_is_where_presigned_urls_point(bucket: str, endpoint: str, origin: str) -> None:
    assert media_origin(bucket, endpoint) == origin


def test_a_page_folder_without_an_index_or_with_an_unknown_file_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dashboard").mkdir()
    with pytest.raises(ConfigurationError, match=r"has no index\.html"):
        StaticPages(root=tmp_path, pages=["dashboard"])
    (tmp_path / "dashboard" / "index.html").write_text("<!doctype html>")
    (tmp_path / "dashboard" / "logo.png").write_bytes(b"\x89PNG")
    with pytest.raises(ConfigurationError, match=r"logo\.png has no known content type"):
        StaticPages(root=tmp_path, pages=["dashboard"])


# What the files themselves must respect ----------------------------------------------------------------


class _References(HTMLParser):
    """Every src/href of a page, and what the CSP would block: inline scripts, style and event handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.references += [value for name, value in attrs if name in ("src", "href") and value]
        self.inline += [f"<{tag} {name}>" for name, _ in attrs if name == "style" or name.startswith("on")]
        if tag == "script":
            self._in_script = "src" not in named
        if tag == "style":
            self.inline.append("<style>")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("<script> without src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


@pytest.mark.parametrize("page", PAGES)
def test_a_pages_references_are_shipped_and_nothing_inline_would_be_blocked(page: str) -> None:
    parser = _References()
    parser.feed((STATIC_ROOT / page / "index.html").read_text(encoding="utf-8"))
    assert parser.inline == []
    for reference in parser.references:
        if reference.startswith("#"):
            continue
        assert not re.match(r"^[a-z]+:|^//", reference), f"{reference}: pages load nothing from elsewhere"
        target = (STATIC_ROOT / page / reference).resolve()
        if reference.endswith("/") or reference.endswith(".json"):
            continue  # another page, or the API's own document
        assert target.is_file(), f"{page}/index.html refers to {reference}, which is not shipped"


@pytest.mark.parametrize(("page", "name"), [(page, name) for page, name in FILES if name.endswith(".js")])
def test_scripts_import_only_shipped_modules_and_never_build_markup(page: str, name: str) -> None:
    source = (STATIC_ROOT / page / name).read_text(encoding="utf-8")
    for module in re.findall(r'^import .* from "([^"]+)";$', source, flags=re.M):
        assert module.startswith("./") and (STATIC_ROOT / page / module).is_file(), module
    # Job data (object keys, errors, transcripts) must never be parsed as HTML, nor code built from text.
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("):
        assert forbidden not in source, f"{page}/{name} uses {forbidden}"
    assert "localStorage" not in source, "the token is kept for the tab only (sessionStorage)"

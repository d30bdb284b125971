"""The browser pages the `api` function serves without a token: the jobs dashboard and the API docs.

    GET /dashboard/          the jobs dashboard (static/dashboard/index.html)
    GET /dashboard/<file>    its scripts and style
    GET /docs/               the API reference, rendered in the browser from /openapi.json
    GET /docs/<file>         its script
    GET /dashboard, /docs    301 to the same path with a trailing slash (relative Location)

The pages hold no data: their scripts call the JSON API with the token the user types. Every URL they use
is relative (`../v1/jobs`, `../openapi.json`), so they work under FC 2.0's default-trigger prefix
(`/2016-08-15/proxy/<service>/<function>/`), behind a custom domain, and on localcloud alike; that is
also why a page is only served at its slash form (relative URLs resolve against the last `/`).

Files are read from `shared/api/static/<page>/` when the app starts (a few tens of kB, shipped in the
function's zip by `make build`). Only the names found there are served, so no request path ever reaches
the file system. Each answer carries a strict Content-Security-Policy (scripts, styles and API calls
from this origin only; audio also from the bucket's origin, where presigned result URLs point), an ETag
(a repeat visit costs a 304), and `no-cache` so a redeploy is picked up at once.

In the cloud a browser shows them only through a custom domain: on FC's default `*.fc.aliyuncs.com` trigger
URL the platform forces `Content-Disposition: attachment` onto answers, and the page is downloaded
(Alibaba Cloud, FC 2.0 user guide, "HTTP handlers": a function "may be downloaded in a forceful manner").

    >>> site = StaticPages()
    >>> site.is_public("/dashboard/app.js"), site.is_public("/v1/jobs")
    (True, False)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from shared.auth.oss_target import object_url
from shared.clients.base import normalize_endpoint
from shared.clients.oss_models import is_path_style_host
from shared.errors import ConfigurationError, InvalidRequestError
from shared.logging import get_logger
from shared.pipeline.provider import PipelineProvider
from shared.runtime.responses import ErrorCode, HttpError, HttpResponse
from shared.runtime.wsgi import HttpRequest

__all__ = ["CONTENT_TYPES", "PAGES", "STATIC_ROOT", "StaticFile", "StaticPages", "media_origin"]

STATIC_ROOT = Path(__file__).with_name("static")
PAGES = ("dashboard", "docs")
INDEX = "index.html"
# Module scripts are refused by browsers unless served with a JavaScript media type (strict MIME checks).
CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

log = get_logger(__name__)

PageHandler = Callable[[HttpRequest], HttpResponse]


class StaticFile(NamedTuple):
    name: str
    body: bytes
    content_type: str

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def _read_page(folder: Path) -> dict[str, StaticFile]:
    if not (folder / INDEX).is_file():
        raise ConfigurationError(f"{folder} has no {INDEX}: the function's package is incomplete")
    files: dict[str, StaticFile] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type is None:
            # Served with a guessed type it would be sniffed or refused; better to fail at start-up.
            raise ConfigurationError(f"{path} has no known content type ({', '.join(CONTENT_TYPES)})")
        files[path.name] = StaticFile(path.name, path.read_bytes(), content_type)
    return files


def media_origin(bucket: str, oss_endpoint: str) -> str:
    """The origin of the bucket's presigned URLs, built the way `OssClient.presign_get` builds them.

    >>> media_origin("audiochain", "https://oss-cn-hangzhou.aliyuncs.com")
    'https://audiochain.oss-cn-hangzhou.aliyuncs.com'
    >>> media_origin("audiochain", "http://127.0.0.1:9000")
    'http://127.0.0.1:9000'
    """
    url = normalize_endpoint(oss_endpoint, field_name="oss_endpoint")
    base = f"{url.scheme}://{url.netloc.decode('ascii')}"
    parts = urlsplit(object_url(base, bucket, "k", path_style=is_path_style_host(url.host)))
    return f"{parts.scheme}://{parts.netloc}"


class StaticPages:
    """The pages of `shared/api/static`, read once; `routes()` for the router, `is_public` for auth."""

    def __init__(
        self,
        provider: PipelineProvider | None = None,
        *,
        root: Path = STATIC_ROOT,
        pages: Iterable[str] = PAGES,
    ) -> None:
        self._provider = provider
        self._pages = {page: _read_page(root / page) for page in pages}

    def files(self, page: str) -> Mapping[str, StaticFile]:
        return self._pages[page]

    def is_public(self, path: str) -> bool:
        """Whether a route path (FC prefix removed) is a page or one of its files: they need no token.

        Exactly those shapes, so that no other route hides behind a page's name (`/docs/../v1/jobs`).

        >>> site = StaticPages()
        >>> [site.is_public(p) for p in ("/docs", "/docs/", "/docs/docs.js", "/docs/../v1/jobs", "/docs/a/b")]
        [True, True, True, False, False]
        """
        page, _, rest = path.removeprefix("/").partition("/")
        rest = rest.removesuffix("/")
        return page in self._pages and "/" not in rest and rest not in (".", "..")

    def routes(self) -> list[tuple[str, str, PageHandler]]:
        """(method, pattern, handler) for every page: its index and its files (HEAD falls back to GET)."""
        routes: list[tuple[str, str, PageHandler]] = []
        for page in self._pages:
            routes.append(("GET", f"/{page}", self._index(page)))
            routes.append(("GET", f"/{page}/{{name}}", self._file(page)))
        return routes

    def _index(self, page: str) -> PageHandler:
        def index(request: HttpRequest) -> HttpResponse:
            if not request.path.endswith("/"):
                # Relative, so it resolves under whatever prefix the request arrived with.
                return HttpResponse(301, [("Location", f"{page}/"), ("Cache-Control", "no-cache")])
            return self._serve(request, self._pages[page][INDEX])

        index.__name__ = f"{page}_index"
        return index

    def _file(self, page: str) -> PageHandler:
        def serve_file(request: HttpRequest) -> HttpResponse:
            name = request.path_params["name"]
            found = self._pages[page].get(name)
            if found is None or request.path.endswith("/"):
                raise HttpError(404, ErrorCode.NOT_FOUND, f"the {page} page has no file {name!r}")
            return self._serve(request, found)

        serve_file.__name__ = f"{page}_file"
        return serve_file

    def _serve(self, request: HttpRequest, file: StaticFile) -> HttpResponse:
        headers = [
            ("Content-Type", file.content_type),
            ("ETag", file.etag),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ]
        if file.name == INDEX:
            headers += [("Content-Security-Policy", self._policy(request)), ("X-Frame-Options", "DENY")]
        wanted = request.headers.get("if-none-match", "")
        if file.etag in (tag.strip() for tag in wanted.split(",")):
            return HttpResponse(304, headers)
        return HttpResponse(200, headers, file.body)

    def _policy(self, request: HttpRequest) -> str:
        media = ["'self'"]
        origin = self._media_origin(request)
        if origin is not None:
            media.append(origin)
        return "; ".join(
            (
                "default-src 'none'",
                "script-src 'self'",
                "style-src 'self'",
                "img-src 'self'",
                "connect-src 'self'",
                f"media-src {' '.join(dict.fromkeys(media))}",
                "base-uri 'none'",
                "form-action 'self'",
                "frame-ancestors 'none'",
            )
        )

    def _media_origin(self, request: HttpRequest) -> str | None:
        if self._provider is None:
            return None
        try:
            settings = self._provider.settings(request.fc_context)
            return media_origin(settings.bucket, settings.oss_endpoint_url)
        except (ConfigurationError, InvalidRequestError):
            # The page still loads; its API calls then report the misconfiguration themselves.
            log.warning("api.pages.media_origin_unknown")
            return None

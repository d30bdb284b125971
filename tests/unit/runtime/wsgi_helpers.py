"""Drive a WSGI app the way FC's Python runtime does, and capture what it answers."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes
    exc_info: Any = None

    def json(self) -> Any:
        return json.loads(self.body)


def make_environ(
    method: str = "GET",
    path: str = "/",
    *,
    query: str = "",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    context: Any = None,
    content_length: str | None = None,
) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "https",
        "REMOTE_ADDR": "203.0.113.7",
        "fc.request_uri": f"https://api.example.com{path}" + (f"?{query}" if query else ""),
    }
    if context is not None:
        environ["fc.context"] = context
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def call(app: WsgiApp, environ: dict[str, Any]) -> Answer:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured.update(
            status=int(status.split(maxsplit=1)[0]), headers=httpx.Headers(headers), exc_info=exc_info
        )

    body = b"".join(app(environ, start_response))
    return Answer(captured["status"], captured["headers"], body, captured["exc_info"])

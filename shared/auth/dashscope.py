"""DashScope authentication: a bearer API key.

>>> import httpx
>>> request = httpx.Request("GET", "https://dashscope.aliyuncs.com/api/v1/tasks/t-1")
>>> DashScopeBearerAuth("sk-123").sign(request)
>>> request.headers["Authorization"]
'Bearer sk-123'
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from shared.errors import CredentialsError


class DashScopeBearerAuth(httpx.Auth):
    """Adds `Authorization: Bearer <api key>`; repr() never shows the key."""

    def __init__(self, api_key: str) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise CredentialsError("the DashScope API key is empty")
        if any(ch.isspace() for ch in api_key.strip()):
            raise CredentialsError("the DashScope API key contains whitespace")
        self._api_key = api_key.strip()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    def sign(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self._api_key}"

    def __repr__(self) -> str:
        return "DashScopeBearerAuth(api_key='***')"

"""Fixtures for the client tests: fixed credentials and clock, a recording transport, no sleeping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import pytest

from shared.auth.credentials import Credentials
from shared.clients.base import RetryPolicy
from shared.logging import configure_logging

# The fixed inputs of /work/shared/reference/vectors/fixed_inputs.py.
ACCESS_KEY_ID = "LTAI5tFixedAccessKeyId"
ACCESS_KEY_SECRET = "FixedAccessKeySecret0123456789abcd"
STS_TOKEN = "CAISFixedSecurityToken+/=="
FIXED_NOW = datetime(2025, 1, 15, 8, 30, 45, tzinfo=timezone.utc)
NONCE = "3f8c2a1e-9b7d-4c6e-8a5f-1d2e3f4a5b6c"


def fixed_clock() -> datetime:
    return FIXED_NOW


def fixed_nonce() -> str:
    return NONCE


Reply = httpx.Response | BaseException | Callable[[httpx.Request], httpx.Response]


@dataclass
class Recorder:
    """A MockTransport that records each request (body read) and answers from a script.

    Each scripted reply is a response, an exception to raise, or a callable; the last one repeats.
    """

    replies: list[Reply] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        self.bodies.append(request.read())
        return _fresh(reply)

    @property
    def transport(self) -> httpx.BaseTransport:
        return HandlerTransport(self)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


class HandlerTransport(httpx.BaseTransport):
    """Like httpx.MockTransport, but the request body is left for the handler to read (or not).

    MockTransport reads every body before calling its handler, which would hide whether a client
    streams its upload and whether a failed attempt consumed a one-shot body.
    """

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self._handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._handler(request)


def _fresh(response: httpx.Response) -> httpx.Response:
    """A copy of a scripted response, so a repeated reply can be read again."""
    return httpx.Response(response.status_code, headers=response.headers, content=response.content)


@dataclass
class Sleeps:
    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    """The default policy with sleeping recorded instead of done, and the largest jitter every time."""
    return RetryPolicy(sleep=sleeps, random=lambda: 1.0)


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)


@pytest.fixture
def sts_credentials() -> Credentials:
    return Credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET, STS_TOKEN)


def chunks_of(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Log at DEBUG for one test: a call's `ok` and `not_found` lines are DEBUG (failures are WARNING)."""
    configure_logging(level="debug")
    yield
    configure_logging(level="info")

"""Alibaba Cloud OpenAPI in RPC style, signed with ACS3: the transport IMM and ICE share.

Every call is `POST /?<parameters>` with an empty body and the headers `x-acs-action`, `x-acs-version`
and `accept: application/json`; the answer is a JSON object (errors carry `Code`, `Message`, `RequestId`).

    >>> import httpx
    >>> from shared.auth.credentials import Credentials
    >>> client = OpenApiClient(
    ...     "imm.cn-hangzhou.aliyuncs.com", Credentials("AK", "SK"), version="2020-09-30", service="imm",
    ...     transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"RequestId": "r"})),
    ... )
    >>> client.call("GetTask", {"ProjectName": "p", "TaskId": "t"}, idempotent=True)
    {'RequestId': 'r'}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shared.auth.acs3 import Acs3Auth
from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.clients.base import ModelT, RetryPolicy, ServiceClient, Timeouts, normalize_endpoint
from shared.clients.errors import openapi_error_parser
from shared.encoding import percent_encode
from shared.errors import InvalidRequestError

_ACTION = re.compile(r"[A-Z][A-Za-z0-9]{0,127}")
_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")


class OpenApiClient(ServiceClient):
    """RPC calls to one OpenAPI product endpoint at one API version."""

    default_timeouts = Timeouts(connect=5.0, read=30.0, write=30.0, pool=5.0)
    # Product clients (IMM, ICE) set these instead of repeating the constructor.
    api_version: str = ""
    service_name: str = ""

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialsProvider | Credentials,
        *,
        version: str | None = None,
        service: str | None = None,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
        nonce: Callable[[], str] | None = None,
    ) -> None:
        version = version or self.api_version
        service = service or self.service_name or "openapi"
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise InvalidRequestError.single(
                "version", "api_version", "must look like 2020-09-30", "OpenApiClient"
            )
        self.service = service
        self.version = version
        self.endpoint = normalize_endpoint(endpoint, operation="OpenApiClient")
        auth = (
            Acs3Auth(credentials, clock=clock)
            if nonce is None
            else Acs3Auth(credentials, clock=clock, nonce=nonce)
        )
        super().__init__(
            error_parser=openapi_error_parser(service),
            auth=auth,
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        value = response.headers.get("x-acs-request-id")
        return str(value) if value else None

    def call(self, action: str, parameters: Mapping[str, str], *, idempotent: bool) -> dict[str, Any]:
        """Call `action` with RPC parameters (already in wire form: strings, JSON encoded where needed).

        `idempotent=False` for actions that create something, so an unclear failure is not replayed.
        """
        return self._rpc(action, parameters, idempotent=idempotent)[1]

    def call_model(
        self, action: str, parameters: Mapping[str, str], answer: type[ModelT], *, idempotent: bool
    ) -> ModelT:
        """`call`, with the answer validated against a response model (MalformedResponseError if it fails)."""
        response, data = self._rpc(action, parameters, idempotent=idempotent)
        return self.parse_model(answer, data, response)

    def _rpc(
        self, action: str, parameters: Mapping[str, str], *, idempotent: bool
    ) -> tuple[httpx.Response, dict[str, Any]]:
        if not isinstance(action, str) or not _ACTION.fullmatch(action):
            raise InvalidRequestError.single(
                "action", "action_name", f"must be an API action name, got {action!r}"
            )
        query = _rpc_query(parameters, action)
        # RPC actions live at "/"; an endpoint path prefix (a local stand-in behind a proxy) is kept in front.
        root = self.endpoint.raw_path.rstrip(b"/") + b"/"
        url = self.endpoint.copy_with(raw_path=root + b"?" + query.encode("ascii") if query else root)
        response = self._call(
            "POST",
            url,
            operation=action,
            idempotent=idempotent,
            headers={"x-acs-action": action, "x-acs-version": self.version, "accept": "application/json"},
        )
        data = self.json_object(response)
        if "RequestId" not in data and self.request_id_of(response):
            data["RequestId"] = self.request_id_of(response)
        return response, data


def _rpc_query(parameters: Mapping[str, str], operation: str) -> str:
    """Sorted, RFC 3986 encoded (spaces as %20, `+` as %2B): the form the ACS3 signature covers."""
    if not isinstance(parameters, Mapping):
        raise InvalidRequestError.single(
            "parameters", "mapping", "must be a mapping of names to strings", operation
        )
    pairs = []
    for name, value in parameters.items():
        if not isinstance(name, str) or not name:
            raise InvalidRequestError.single(
                "parameters", "name", f"names must be non-empty strings: {name!r}", operation
            )
        if not isinstance(value, str):
            raise InvalidRequestError.single(
                name, "string", f"must already be a wire string, got {type(value).__name__}", operation
            )
        pairs.append((percent_encode(name), percent_encode(value)))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))

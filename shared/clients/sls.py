"""Log Service (SLS): the few operations `deploy.bootstrap` needs — a project and a logstore, read and made.

Requests go to `<project>.<region>.log.aliyuncs.com` (the project is a host label, like an OSS bucket),
signed with SLS signature V1 (shared.auth.sls). Operations as documented in the Log Service API
reference: CreateProject (`POST /`, JSON `projectName`, `description`), GetProject (`GET /`),
CreateLogStore (`POST /logstores`, JSON `logstoreName`, `ttl`, `shardCount`), GetLogStore
(`GET /logstores/<name>`); a missing one answers 404 ProjectNotExist / LogStoreNotExist.

    >>> import httpx
    >>> from shared.auth.credentials import Credentials
    >>> answer = httpx.Response(404, json={"errorCode": "ProjectNotExist"})
    >>> missing = httpx.MockTransport(lambda request: answer)
    >>> sls = SlsClient("https://cn-hangzhou.log.aliyuncs.com", Credentials("AK", "SK"), transport=missing)
    >>> sls.project_exists("audiochain-logs")
    False
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider
from shared.auth.sls import SlsAuth
from shared.clients.base import RequestBody, RetryPolicy, ServiceClient, Timeouts, normalize_endpoint
from shared.clients.errors import NotFound, parse_sls_error
from shared.errors import InvalidRequestError

# Log Service's naming rules: projects 3-63 of [a-z0-9-], starting and ending with a letter or digit;
# logstores 2-63 of [a-z0-9_-], the same ends.
_PROJECT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_LOGSTORE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,61}[a-z0-9]")
DEFAULT_TTL_DAYS = 30
DEFAULT_SHARDS = 2


_NAME_RULES = {
    "project": (_PROJECT_NAME, "must be 3-63 of a-z, 0-9 and '-', not starting or ending with '-'"),
    "logstore": (
        _LOGSTORE_NAME,
        "must be 2-63 of a-z, 0-9, '_' and '-', not starting or ending with '_' or '-'",
    ),
}


def _checked(kind: str, name: object, operation: str) -> str:
    pattern, rule = _NAME_RULES[kind]
    if not isinstance(name, str) or not pattern.fullmatch(name):
        raise InvalidRequestError.single(kind, f"sls_{kind}_name", rule, operation)
    return name


def check_project_name(name: str, operation: str = "Log Service") -> str:
    return _checked("project", name, operation)


def check_logstore_name(name: str, operation: str = "Log Service") -> str:
    return _checked("logstore", name, operation)


class SlsClient(ServiceClient):
    """Log Service in one region (`https://<region>.log.aliyuncs.com`)."""

    service = "sls"
    default_timeouts = Timeouts(connect=5.0, read=30.0, write=30.0, pool=5.0)

    def __init__(
        self,
        endpoint: str,
        credentials: CredentialsProvider | Credentials,
        *,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.endpoint = normalize_endpoint(endpoint, operation="SlsClient")
        super().__init__(
            error_parser=parse_sls_error,
            auth=SlsAuth(credentials, clock=clock),
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        value = response.headers.get("x-log-requestid")
        return str(value) if value else None

    def project_exists(self, project: str) -> bool:
        try:
            self._call("GET", self._url(project, "/"), operation="GetProject", idempotent=True)
        except NotFound:
            return False
        return True

    def create_project(self, project: str, description: str) -> None:
        body = {"projectName": check_project_name(project, "CreateProject"), "description": description}
        self._post(project, "/", body, "CreateProject")

    def logstore_exists(self, project: str, logstore: str) -> bool:
        name = check_logstore_name(logstore, "GetLogStore")
        try:
            url = self._url(project, f"/logstores/{name}")
            self._call("GET", url, operation="GetLogStore", idempotent=True)
        except NotFound:
            return False
        return True

    def create_logstore(
        self, project: str, logstore: str, *, ttl_days: int = DEFAULT_TTL_DAYS, shards: int = DEFAULT_SHARDS
    ) -> None:
        body = {
            "logstoreName": check_logstore_name(logstore, "CreateLogStore"),
            "ttl": ttl_days,
            "shardCount": shards,
        }
        self._post(project, "/logstores", body, "CreateLogStore")

    def _post(self, project: str, path: str, body: Mapping[str, object], operation: str) -> None:
        # Not idempotent on the wire (a repeat answers ...AlreadyExist); bootstrap reads before it creates.
        self._call(
            "POST",
            self._url(project, path),
            operation=operation,
            idempotent=False,
            headers={"Content-Type": "application/json"},
            body=RequestBody(json.dumps(body).encode("utf-8")),
        )

    def _url(self, project: str, path: str) -> httpx.URL:
        check_project_name(project)
        host = self.endpoint.host
        netloc = f"{project}.{host}" + (f":{self.endpoint.port}" if self.endpoint.port else "")
        return httpx.URL(f"{self.endpoint.scheme}://{netloc}{path}")

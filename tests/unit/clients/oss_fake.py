"""An in-memory OSS speaking just enough of the wire protocol to prove keys and signatures round-trip."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from shared.auth.credentials import Credentials
from shared.auth.oss import OssV4Auth
from tests.unit.clients.conftest import fixed_clock


@dataclass
class FakeOss:
    """Objects by (bucket, key). Every request must carry a V4 signature that matches its URL."""

    credentials: Credentials
    region: str = "cn-hangzhou"
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self._signature_matches(request):
            return httpx.Response(403, content=b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        bucket = request.url.host.split(".", 1)[0]
        key = request.url.path[1:]  # httpx gives the path percent-decoded
        if request.method == "PUT":
            self.objects[(bucket, key)] = request.read()
            return httpx.Response(
                200, headers={"ETag": f'"{hashlib.md5(self.objects[(bucket, key)]).hexdigest().upper()}"'}
            )
        if request.method == "GET" and not key:
            return self._listing(bucket, request.url.params.get("prefix", ""))
        if (bucket, key) not in self.objects:
            return httpx.Response(
                404, content=b"<Error><Code>NoSuchKey</Code><Message>missing</Message></Error>"
            )
        return httpx.Response(200, content=self.objects[(bucket, key)])

    def _signature_matches(self, request: httpx.Request) -> bool:
        # Re-sign from the URL alone (no hints from the client) and compare.
        clone = httpx.Request(
            request.method,
            request.url,
            headers={
                name: value for name, value in request.headers.items() if name.lower() != "authorization"
            },
        )
        OssV4Auth(self.credentials, self.region, clock=fixed_clock).sign(clone)
        return bool(clone.headers["Authorization"] == request.headers.get("Authorization"))

    def _listing(self, bucket: str, prefix: str) -> httpx.Response:
        entries = "".join(
            f'<Contents><Key>{quote(key, safe="/")}</Key><Size>{len(data)}</Size><ETag>"E"</ETag>'
            "<LastModified>2025-01-15T08:30:45.000Z</LastModified></Contents>"
            for (owner, key), data in sorted(self.objects.items())
            if owner == bucket and key.startswith(prefix)
        )
        document = (
            f"<ListBucketResult><Name>{bucket}</Name><EncodingType>url</EncodingType>"
            f"<IsTruncated>false</IsTruncated>{entries}</ListBucketResult>"
        )
        return httpx.Response(200, content=document.encode("utf-8"))

"""OSS: objects in and out (streamed), listings, presigned URLs and asynchronous audio processing.

    >>> import httpx
    >>> from shared.auth.credentials import Credentials, StaticCredentialsProvider
    >>> oss = OssClient(
    ...     "https://oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou",
    ...     StaticCredentialsProvider(Credentials("AK", "SK")),
    ...     transport=httpx.MockTransport(lambda request: httpx.Response(200, headers={"ETag": '"A1"'})),
    ... )
    >>> oss.put_object("examplebucket", "in/a b+c.mp3", b"ID3...").etag
    'A1'

Requests address objects virtual-hosted (`<bucket>.<endpoint>/<key>`) on real endpoints and path-style
(`<endpoint>/<bucket>/<key>`) on IP addresses and single-label hosts such as `localhost`, where there is
no DNS for buckets. Keys are percent-encoded per RFC 3986 with `/` kept, so spaces, `+`, `%` and
non-ASCII keys round-trip.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

from shared.auth.clock import Clock, utc_now
from shared.auth.credentials import Credentials, CredentialsProvider, as_provider
from shared.auth.oss import OssV4Auth, oss_v4_region, presign_oss_v4
from shared.auth.oss_target import BUCKET_EXTENSION, KEY_EXTENSION, object_url
from shared.clients.base import (
    DEFAULT_RESPONSE_LIMIT,
    RequestBody,
    RequestContent,
    RetryPolicy,
    ServiceClient,
    Timeouts,
    normalize_endpoint,
)
from shared.clients.errors import NotFound, ObjectAlreadyExists, parse_oss_error
from shared.clients.oss_models import (
    ListResult,
    ObjectInfo,
    ObjectSummary,
    PutObjectResult,
    check_bucket,
    check_content_md5,
    check_key,
    check_limit,
    check_listing_text,
    encode_query,
    guess_content_type,
    is_path_style_host,
    metadata_headers,
    parse_list_objects_v2,
    range_header,
    strip_etag,
)
from shared.clients.xmlsafe import UnsafeXmlError
from shared.errors import InvalidRequestError, ServiceResponseError, TransportError

if TYPE_CHECKING:
    from shared.ops.oss import AsyncProcessResponse, AudioConcatRequest, AudioConvertRequest

# DeleteMultipleObjects takes at most this many keys per request; the body is kept within 2 MiB, which
# localcloud enforces (the OSS documentation names no size, only the count).
MAX_DELETE_KEYS = 1000
MAX_DELETE_BODY = 2 * 1024 * 1024
# Characters XML 1.0 cannot carry, even escaped (a key may hold them; OSS allows any UTF-8).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Job records and other small documents; media goes through get_object / download_to.
DEFAULT_DOCUMENT_LIMIT = 8 * 1024 * 1024
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_DOWNLOAD_CHUNK = 256 * 1024


@dataclass
class ObjectDownload:
    """An object being read: its headers now, its bytes as you iterate (nothing is buffered)."""

    info: ObjectInfo
    status: int
    _response: httpx.Response = field(repr=False)
    _client: OssClient = field(repr=False)

    @property
    def content_length(self) -> int | None:
        """The length of this body as declared by the service (the range's length for a ranged read)."""
        value = self._response.headers.get("content-length", "")
        return int(value) if value.isdigit() else None

    def iter_bytes(self, chunk_size: int = _DOWNLOAD_CHUNK) -> Iterator[bytes]:
        return self._client.iter_response_bytes(self._response, chunk_size=chunk_size, raw=True)


class OssClient(ServiceClient):
    """One OSS endpoint (region), any bucket in it.

    `path_style=None` picks path-style for IP addresses and single-label hosts, virtual-hosted otherwise.
    """

    service = "oss"
    default_timeouts = Timeouts(connect=5.0, read=60.0, write=60.0, pool=5.0)

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: CredentialsProvider | Credentials,
        *,
        path_style: bool | None = None,
        http: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        url = normalize_endpoint(endpoint, operation="OssClient")
        if url.raw_path not in (b"", b"/"):
            raise InvalidRequestError.single(
                "endpoint", "endpoint_only", "must be scheme, host and port only (no path)", "OssClient"
            )
        self._credentials = as_provider(credentials)
        self._region = oss_v4_region(region)  # "oss-cn-hangzhou" and "cn-hangzhou" both sign as cn-hangzhou
        self._clock = clock
        self.endpoint_base = f"{url.scheme}://{url.netloc.decode('ascii')}"
        self.path_style = is_path_style_host(url.host) if path_style is None else path_style
        auth = OssV4Auth(self._credentials, self._region, clock=clock, endpoint_host=url.host)
        super().__init__(
            error_parser=parse_oss_error,
            auth=auth,
            http=http,
            transport=transport,
            timeouts=timeouts,
            retry=retry,
        )

    def request_id_of(self, response: httpx.Response) -> str | None:
        value = response.headers.get("x-oss-request-id")
        return str(value) if value else None

    # Writing -------------------------------------------------------------------------------------------

    def put_object(
        self,
        bucket: str,
        key: str,
        data: RequestContent,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        forbid_overwrite: bool = False,
        content_md5: str | None = None,
    ) -> PutObjectResult:
        """Upload bytes, a binary file (streamed, Content-Length from its size) or an iterable of chunks.

        For bytes the Content-MD5 is computed so OSS rejects a corrupted upload. With
        `forbid_overwrite=True` an existing object makes this raise ObjectAlreadyExists.
        """
        operation = "PutObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        body = RequestBody(data)
        headers = {
            "Content-Type": content_type or guess_content_type(key),
            **metadata_headers(metadata, operation),
        }
        if content_md5 is not None:
            headers["Content-MD5"] = check_content_md5(content_md5, operation)
        elif body.data is not None:
            headers["Content-MD5"] = base64.b64encode(
                hashlib.md5(body.data, usedforsecurity=False).digest()
            ).decode("ascii")
        if forbid_overwrite:
            headers["x-oss-forbid-overwrite"] = "true"
        response = self._call(
            "PUT",
            self._url(bucket, key),
            operation=operation,
            # A replayed create-if-absent would find its own first write and report a conflict.
            idempotent=not forbid_overwrite,
            headers=headers,
            body=body,
            extensions=_target(bucket, key),
        )
        return PutObjectResult(
            etag=strip_etag(response.headers.get("etag", "")), request_id=self.request_id_of(response)
        )

    def put_object_if_absent(
        self,
        bucket: str,
        key: str,
        data: RequestContent,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        content_md5: str | None = None,
    ) -> bool:
        """Create the object only if no object has this key: True if created, False if it already existed.

        The job store's create-if-absent primitive (`x-oss-forbid-overwrite: true`; OSS answers 409
        FileAlreadyExists when the key is taken).

            oss.put_object_if_absent("jobs", "claims/abc.json", b"{}")  # True, and False ever after
        """
        try:
            self.put_object(
                bucket,
                key,
                data,
                content_type=content_type,
                metadata=metadata,
                forbid_overwrite=True,
                content_md5=content_md5,
            )
        except ObjectAlreadyExists:
            return False
        return True

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete an object; deleting a missing object succeeds, as in OSS."""
        operation = "DeleteObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        self._call(
            "DELETE",
            self._url(bucket, key),
            operation=operation,
            idempotent=True,
            extensions=_target(bucket, key),
        )

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        """DeleteMultipleObjects: delete up to MAX_DELETE_KEYS objects (a body of at most MAX_DELETE_BODY
        bytes) in one request, in quiet mode: missing objects count as deleted, as in `delete_object`, and
        OSS answers with the keys it could not delete, raised here as a ServiceResponseError naming them.
        OSS requires the body's Content-MD5.

        One request instead of one per key: the sweep unschedules its due entries this way, a POST per
        sweep rather than a DELETE per job looked at (issue 11).
        https://www.alibabacloud.com/help/en/oss/developer-reference/deletemultipleobjects
        """
        operation = "DeleteMultipleObjects"
        check_bucket(bucket, operation)
        if not 1 <= len(keys) <= MAX_DELETE_KEYS:
            raise InvalidRequestError.single("keys", "count", f"1 to {MAX_DELETE_KEYS} keys, got {len(keys)}")
        for key in keys:
            check_key(key, operation)
            if not xml_safe_key(key):
                raise InvalidRequestError.single(
                    "keys", "xml", f"{key!r} holds a character XML 1.0 cannot carry; delete it on its own"
                )
        body = delete_document(keys)
        if len(body) > MAX_DELETE_BODY:
            raise InvalidRequestError.single(
                "keys", "size", f"the Delete document is {len(body)} bytes, at most {MAX_DELETE_BODY}"
            )
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode("ascii")
        response = self._call(
            "POST",
            self._url(bucket, "").copy_with(query=b"delete"),
            operation=operation,
            idempotent=True,
            headers={"Content-Type": "application/xml", "Content-MD5": md5},
            body=RequestBody(body),
            extensions=_target(bucket, ""),
        )
        if b"<Key>" in response.content:  # quiet mode lists only what failed
            raise ServiceResponseError(
                f"DeleteMultipleObjects left keys in {bucket}: {response.text[:300]}",
                service="oss",
                code="DeleteIncomplete",
                status=response.status_code,
                request_id=self.request_id_of(response),
            )

    # Buckets (deploy.bootstrap) ------------------------------------------------------------------------

    def bucket_exists(self, bucket: str) -> bool:
        """GetBucketInfo: does the bucket exist (and may these credentials read it)? 404 NoSuchBucket: no."""
        operation = "GetBucketInfo"
        check_bucket(bucket, operation)
        url = self._url(bucket, "").copy_with(query=b"bucketInfo")
        try:
            self._call("GET", url, operation=operation, idempotent=True, extensions=_target(bucket, ""))
        except NotFound:
            return False
        return True

    def create_bucket(self, bucket: str, *, storage_class: str = "Standard") -> None:
        """PutBucket in this client's region, private, with the given storage class."""
        operation = "PutBucket"
        check_bucket(bucket, operation)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration>'
            f"<StorageClass>{storage_class}</StorageClass></CreateBucketConfiguration>"
        ).encode()
        self._call(
            "PUT",
            self._url(bucket, ""),
            operation=operation,
            idempotent=True,
            headers={"Content-Type": "application/xml", "x-oss-acl": "private"},
            body=RequestBody(body),
            extensions=_target(bucket, ""),
        )

    # Reading -------------------------------------------------------------------------------------------

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        """Size, ETag, type, time and metadata of an object; raises ObjectNotFound when there is none."""
        operation = "HeadObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        response = self._call(
            "HEAD",
            self._url(bucket, key),
            operation=operation,
            idempotent=True,
            extensions=_target(bucket, key),
        )
        return ObjectInfo.from_headers(response.headers)

    @contextmanager
    def get_object(
        self, bucket: str, key: str, *, byte_range: tuple[int, int | None] | None = None
    ) -> Iterator[ObjectDownload]:
        """Open an object for streaming; `byte_range=(first, last)` is inclusive (`last=None`: to the end).

        with oss.get_object("media", "in/a.wav") as download:
            for chunk in download.iter_bytes():
                sink.write(chunk)
        """
        operation = "GetObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        # An object is returned as stored: ask for no transfer compression (as the official SDKs do), and
        # read the body raw below, so a stored `Content-Encoding: gzip` object is not unpacked on the way.
        headers = {"Accept-Encoding": "identity"}
        if byte_range is not None:
            headers["Range"] = range_header(byte_range, operation)
        with self._open(
            "GET",
            self._url(bucket, key),
            operation=operation,
            idempotent=True,
            headers=headers,
            extensions=_target(bucket, key),
        ) as response:
            yield ObjectDownload(
                ObjectInfo.from_headers(response.headers), response.status_code, response, self
            )

    def get_object_bytes(self, bucket: str, key: str, *, max_bytes: int = DEFAULT_DOCUMENT_LIMIT) -> bytes:
        """A small object (job record, JSON document) in memory; a larger one raises ResponseTooLargeError."""
        operation = "GetObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        check_limit(max_bytes, operation)
        response = self._call(
            "GET",
            self._url(bucket, key),
            operation=operation,
            idempotent=True,
            max_bytes=max_bytes,
            extensions=_target(bucket, key),
        )
        return response.content

    def download_to(
        self,
        bucket: str,
        key: str,
        destination: str | os.PathLike[str] | IO[bytes],
        *,
        chunk_size: int = _DOWNLOAD_CHUNK,
    ) -> ObjectInfo:
        """Stream an object to a path (written to a temporary sibling, then renamed) or a binary file.

        A body shorter than its Content-Length is a TransportError, and leaves no file behind at a path.
        """
        if isinstance(destination, (str, os.PathLike)):
            path = Path(destination)
            if not path.parent.is_dir():
                raise InvalidRequestError.single(
                    "destination",
                    "directory_exists",
                    f"the folder {str(path.parent)!r} does not exist",
                    "GetObject",
                )
            return self._download_to_path(bucket, key, path, chunk_size)
        if not hasattr(destination, "write"):
            raise InvalidRequestError.single(
                "destination", "path_or_file", "must be a path or a binary file open for writing", "GetObject"
            )
        return self._download_to_file(bucket, key, destination, chunk_size)

    def _download_to_path(self, bucket: str, key: str, path: Path, chunk_size: int) -> ObjectInfo:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                info = self._download_to_file(bucket, key, file, chunk_size)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return info

    def _download_to_file(self, bucket: str, key: str, file: IO[bytes], chunk_size: int) -> ObjectInfo:
        with self.get_object(bucket, key) as download:
            written = 0
            for chunk in download.iter_bytes(chunk_size):
                file.write(chunk)
                written += len(chunk)
            expected = download.content_length
        if expected is not None and written != expected:
            raise TransportError(
                f"GetObject {bucket}/{key}: received {written} of {expected} bytes",
                service=self.service,
                code="IncompleteBody",
            )
        return download.info

    # Listing -------------------------------------------------------------------------------------------

    def list_objects_v2(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        max_keys: int = 1000,
        continuation_token: str | None = None,
        start_after: str | None = None,
    ) -> ListResult:
        """One page of objects under `prefix` (keys URL-encoded on the wire, decoded here)."""
        operation = "ListObjectsV2"
        check_bucket(bucket, operation)
        if isinstance(max_keys, bool) or not isinstance(max_keys, int) or not 1 <= max_keys <= 1000:
            raise InvalidRequestError.single(
                "max_keys", "range", f"must be 1..1000, got {max_keys!r}", operation
            )
        params: list[tuple[str, str | None]] = [
            ("list-type", "2"),
            ("encoding-type", "url"),
            ("max-keys", str(max_keys)),
            ("prefix", check_listing_text(prefix, "prefix", operation)),
        ]
        for name, value in (
            ("delimiter", delimiter),
            ("continuation-token", continuation_token),
            ("start-after", start_after),
        ):
            if value is not None:
                params.append((name, check_listing_text(value, name.replace("-", "_"), operation)))
        url = self._url(bucket, "").copy_with(query=encode_query(params).encode("ascii"))
        response = self._call(
            "GET", url, operation=operation, idempotent=True, extensions=_target(bucket, "")
        )
        try:
            return parse_list_objects_v2(response.content)
        except (ValueError, UnsafeXmlError) as exc:
            raise self.malformed(response, f"unreadable listing ({exc})") from exc

    def iter_list_pages(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int = 1000,
        start_after: str | None = None,
    ) -> Iterator[ListResult]:
        """Every page of a listing, following continuation tokens."""
        token: str | None = None
        while True:
            page = self.list_objects_v2(
                bucket,
                prefix,
                delimiter=delimiter,
                max_keys=page_size,
                continuation_token=token,
                start_after=start_after,
            )
            yield page
            if not page.is_truncated:
                return
            token, start_after = page.next_token, None

    def iter_objects(
        self, bucket: str, prefix: str = "", *, page_size: int = 1000
    ) -> Iterator[ObjectSummary]:
        """Every object under `prefix`, across pages."""
        for page in self.iter_list_pages(bucket, prefix, page_size=page_size):
            yield from page.objects

    # Processing and sharing ----------------------------------------------------------------------------

    def async_process(self, bucket: str, key: str, process: str) -> AsyncProcessResponse:
        """Submit an asynchronous processing task on `key` (POST `/<key>?x-oss-async-process`).

        The body is the raw bytes `x-oss-async-process=<process>` with no Content-Type, as the SDKs send.
        """
        # The async-processing models load with the first submission, not at every cold start.
        from shared.ops.oss import ASYNC_PROCESS_PARAM, AsyncProcessResponse, async_process_body

        operation = "AsyncProcessObject"
        check_bucket(bucket, operation)
        check_key(key, operation)
        if not isinstance(process, str) or not process.strip():
            raise InvalidRequestError.single(
                "process", "required", "must be a non-empty process string", operation
            )
        if not process.isascii() or not process.isprintable():
            raise InvalidRequestError.single(
                "process",
                "printable_ascii",
                "must be printable ASCII (names travel URL-safe base64 encoded)",
                operation,
            )
        url = self._url(bucket, key).copy_with(query=f"{ASYNC_PROCESS_PARAM}=".encode("ascii"))
        response = self._call(
            "POST",
            url,
            operation=operation,
            # Each accepted submission starts a task; a replay after an unclear failure would start two.
            idempotent=False,
            body=RequestBody(async_process_body(process)),
            extensions=_target(bucket, key),
            max_bytes=DEFAULT_RESPONSE_LIMIT,
        )
        data = self.json_object(response)
        data.setdefault("RequestId", self.request_id_of(response))
        return self.parse_model(AsyncProcessResponse, data, response)

    def submit_convert(self, bucket: str, key: str, request: AudioConvertRequest) -> AsyncProcessResponse:
        """Submit audio/convert of `bucket/key` as built by AudioConvertRequest."""
        return self.async_process(bucket, key, request.to_process())

    def submit_concat(self, bucket: str, request: AudioConcatRequest) -> AsyncProcessResponse:
        """Submit audio/concat; the request decides which clip is the POST's source object."""
        wire = request.to_wire()
        return self.async_process(bucket, wire.source_key, wire.process)

    def presign_get(self, bucket: str, key: str, expires: int | timedelta = 3600) -> str:
        """A V4 presigned GET URL valid for `expires` seconds (at most 7 days). Never log it."""
        seconds = int(expires.total_seconds()) if isinstance(expires, timedelta) else expires
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not 1 <= seconds <= _MAX_PRESIGN_SECONDS
        ):
            raise InvalidRequestError.single(
                "expires",
                "range",
                f"must be 1..{_MAX_PRESIGN_SECONDS} seconds, got {expires!r}",
                "PresignGet",
            )
        check_bucket(bucket, "PresignGet")
        check_key(key, "PresignGet")
        return presign_oss_v4(
            "GET",
            self.endpoint_base,
            bucket,
            key,
            credentials=self._credentials.get_credentials(),
            region=self._region,
            expires=seconds,
            now=self._clock(),
            path_style=self.path_style,
        )

    # URLs ----------------------------------------------------------------------------------------------

    def _url(self, bucket: str, key: str) -> httpx.URL:
        return httpx.URL(object_url(self.endpoint_base, bucket, key, path_style=self.path_style))


def delete_document(keys: list[str]) -> bytes:
    """The quiet DeleteMultipleObjects body for `keys` (each XML-safe).

    >>> delete_document(["a&b.json"])[-68:]
    b'<Quiet>true</Quiet><Object><Key>a&amp;b.json</Key></Object></Delete>'
    """
    entries = "".join(f"<Object><Key>{_xml_text(key)}</Key></Object>" for key in keys)
    head = '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>'
    return (head + entries + "</Delete>").encode("utf-8")


def delete_entry_size(key: str) -> int:
    """The bytes one key adds to a Delete document."""
    return len(_xml_text(key).encode("utf-8")) + len("<Object><Key></Key></Object>")


def xml_safe_key(key: str) -> bool:
    """Whether XML 1.0 can carry `key` (DeleteMultipleObjects takes keys in an XML body).

    >>> xml_safe_key("inbox/会议 记录.wav"), xml_safe_key("inbox/bell\\x07.wav")
    (True, False)
    """
    return _NOT_XML.search(key) is None


def _xml_text(text: str) -> str:
    """`text` as XML character data (a CR as a reference: a parser would turn a raw one into LF).

    >>> _xml_text("a&b <c>\\r")
    'a&amp;b &lt;c&gt;&#13;'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _target(bucket: str, key: str) -> dict[str, str]:
    """Tell the signer exactly which bucket and key it signs for, whatever the URL style."""
    return {BUCKET_EXTENSION: bucket, KEY_EXTENSION: key}

"""localcloud's OSS: path-style REST (`/<bucket>/<key>`, `GET /` lists buckets) on the object store.

Every request is authenticated with `localcloud.authn.verify_oss` (V4 or V1, header or presigned URL;
anonymous requests are refused), then routed by method and sub-resource to one handler:

    service   GET /                                   ListBuckets
    bucket    PUT, DELETE, GET (?list-type=2 for V2), GET ?uploads|?location|?bucketInfo|?acl, POST ?delete,
              POST multipart/form-data (PostObject, signed by its policy: see post_object.py)
    object    PUT (x-oss-copy-source: CopyObject), GET (Range), HEAD, DELETE,
              POST ?uploads, PUT ?partNumber&uploadId, POST ?uploadId, DELETE ?uploadId, GET ?uploadId,
              POST ?x-oss-async-process (audio/convert and audio/concat, see process.py)

Errors are OSS XML documents with `x-oss-request-id` (HEAD: status only, the document base64-encoded in
`x-oss-err`); a sub-resource localcloud does not implement is 501 NotImplemented naming it.

Other services use the internal API: `.store` (the ObjectStore), `.uploads`, `.resolve_url(url)` and
`.presign_get(bucket, key, expires)`; async tasks can be read with `.get_async_task(task_id)`.

    >>> with LocalCloud(config, services=("oss",)) as cloud:                          # doctest: +SKIP
    ...     url = cloud.oss().presign_get("media", "in/a.wav", expires=600)
    ...     httpx.get(url).status_code
    200
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from localcloud import authn
from localcloud.config import DEFAULT_ACCESS_KEY_ID
from localcloud.ports import ObjectRecord
from localcloud.services.base import BaseService, RequestContext, ServiceHttpError
from localcloud.services.oss import buckets, objects, post_object, uploads, wire
from localcloud.services.oss.async_tasks import AsyncTaskRecord
from localcloud.services.oss.call import Call
from localcloud.services.oss.errors import INVALID_ARGUMENT, METHOD_NOT_ALLOWED, NOT_IMPLEMENTED
from localcloud.services.oss.multipart import MultipartUploads
from localcloud.services.oss.process import AsyncProcessor
from localcloud.services.oss.store import ObjectStore, check_bucket_name
from shared.auth import OSS_V1_SUB_RESOURCES, Credentials, presign_oss_v1
from shared.errors import InvalidRequestError
from shared.logging import get_logger

if TYPE_CHECKING:
    from localcloud.ports import Host

log = get_logger("localcloud.oss")

Handler = Callable[["OssService", Call], Response]

# Query parameters OSS counts as sub-resources but which change nothing here: response header overrides,
# listing tokens, request-payer and traffic-limit hints, GetObjectMeta (answered like HeadObject).
_HARMLESS = frozenset(
    {
        "continuation-token",
        "security-token",
        "x-oss-traffic-limit",
        "x-oss-request-payer",
        "objectMeta",
        "response-content-type",
        "response-content-language",
        "response-expires",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
    }
)
# (method, sub-resources present) -> handler. Anything else is 501 NotImplemented (it names a sub-resource
# localcloud does not implement) or 405 MethodNotAllowed.
_BUCKET_ROUTES: dict[tuple[str, frozenset[str]], Handler] = {
    ("GET", frozenset()): buckets.list_objects_any,
    ("GET", frozenset({"uploads"})): uploads.list_uploads,
    ("GET", frozenset({"location"})): buckets.get_location,
    ("GET", frozenset({"bucketInfo"})): buckets.get_bucket_info,
    ("GET", frozenset({"acl"})): buckets.get_bucket_acl,
    ("PUT", frozenset()): buckets.create_bucket,
    ("DELETE", frozenset()): buckets.delete_bucket,
    ("HEAD", frozenset()): buckets.head_bucket,
    ("POST", frozenset({"delete"})): buckets.delete_multiple_objects,
}
_OBJECT_ROUTES: dict[tuple[str, frozenset[str]], Handler] = {
    ("PUT", frozenset()): objects.put_or_copy_object,
    ("PUT", frozenset({"partNumber", "uploadId"})): uploads.upload_part,
    ("PUT", frozenset({"partNumber"})): uploads.upload_part,
    ("PUT", frozenset({"uploadId"})): uploads.upload_part,
    ("GET", frozenset()): objects.get_object,
    ("GET", frozenset({"uploadId"})): uploads.list_parts,
    ("HEAD", frozenset()): objects.head_object,
    ("DELETE", frozenset()): objects.delete_object,
    ("DELETE", frozenset({"uploadId"})): uploads.abort_upload,
    ("POST", frozenset({"uploads"})): uploads.initiate_upload,
    ("POST", frozenset({"uploadId"})): uploads.complete_upload,
    ("POST", frozenset({"x-oss-async-process"})): lambda service, call: service.processor.submit(call),
}


class OssService(BaseService):
    name = "oss"

    def __init__(self, cloud: Host) -> None:
        super().__init__(cloud)
        self.store = ObjectStore(self.state)
        self.uploads = MultipartUploads(self.store)
        self.processor: AsyncProcessor = AsyncProcessor(self)

    def start(self) -> None:
        """Run again the async tasks a previous run left queued or running, and unsent notifications."""
        self.processor.resume()

    # --- internal API ---------------------------------------------------------------------------------

    def resolve_url(self, url: str, *, now: datetime | None = None) -> ObjectRecord:
        """The object an `oss://bucket/key` URL or a (presigned) URL on localcloud's endpoint names.

        An http URL is authenticated exactly like a GET of it (403 AccessDenied when unsigned or expired,
        SignatureDoesNotMatch when tampered); a missing object is 404 NoSuchKey / NoSuchBucket.
        """
        if url.startswith("oss://"):
            bucket, _, key = url[len("oss://") :].partition("/")
            if not bucket or not key:
                raise INVALID_ARGUMENT(f"{url!r} is not an oss://bucket/key URL.")
            return self.store.head(bucket, key)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not self._is_own_endpoint(parts.hostname, parts.port):
            raise INVALID_ARGUMENT(
                f"{parts.scheme}://{parts.netloc}/… is neither oss://bucket/key nor localcloud's own "
                f"endpoint ({self.cloud.endpoint}).",
            )
        # The path goes in still percent-encoded, as it arrives on the wire: decoded first, a key holding
        # `?` or `#` would be cut short by the URL parsing again.
        builder = EnvironBuilder(
            method="GET",
            path=parts.path or "/",
            query_string=parts.query,
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        request = Request(builder.get_environ())
        target_bucket, target_key = _split_path(request.path)
        if target_bucket is None or not target_key:
            raise INVALID_ARGUMENT("The URL must name an object: /<bucket>/<key>.")
        authn.verify_oss(request, self.config, target_bucket, target_key, now=now)
        return self.store.head(target_bucket, target_key)

    def presign_get(self, bucket: str, key: str, expires: int = 86400) -> str:
        """A V1 presigned GET URL on localcloud's endpoint, signed with the default credentials."""
        access_key_id = (
            DEFAULT_ACCESS_KEY_ID
            if DEFAULT_ACCESS_KEY_ID in self.config.credentials
            else next(iter(self.config.credentials))
        )
        credentials = Credentials(access_key_id, self.config.credentials[access_key_id])
        return presign_oss_v1(
            "GET",
            self.cloud.endpoint,
            bucket,
            key,
            credentials=credentials,
            expires=expires,
            now=datetime.now(timezone.utc),
            path_style=True,
        )

    def get_async_task(self, task_id: str) -> AsyncTaskRecord | None:
        """An async-processing task (audio/convert, audio/concat) by its TaskId."""
        return self.processor.tasks.get(task_id)

    # --- HTTP -----------------------------------------------------------------------------------------

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        try:
            return self._handle(request, ctx)
        except InvalidRequestError as exc:
            return self._refuse(request, ctx, wire.invalid_argument(exc))
        except ServiceHttpError as error:
            return self._refuse(request, ctx, error)

    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response:
        return wire.error_response(error, ctx.request_id, host_id=self.config.host, head=False)

    def _refuse(self, request: Request, ctx: RequestContext, error: ServiceHttpError) -> Response:
        log.info(
            "oss.request.refused",
            method=request.method,
            path=request.path,
            status=error.status,
            code=error.code,
        )
        # An unread request body needs no care: werkzeug's server drains it and closes every connection.
        return wire.error_response(error, ctx.request_id, host_id=request.host, head=request.method == "HEAD")

    def _handle(self, request: Request, ctx: RequestContext) -> Response:
        bucket, key = _split_path(request.path)
        if bucket is not None and post_object.is_post_object(request, key):
            check_bucket_name(bucket)  # a browser form: signed by its policy, not an Authorization header
            return post_object.post_object(self, Call(request, ctx, bucket, key))
        ctx.access_key_id = authn.verify_oss(request, self.config, bucket, key)
        if bucket is None:
            if request.method != "GET":
                raise _method_not_allowed(request.method, "Service")
            return buckets.list_buckets(self, Call(request, ctx, "", ""))
        check_bucket_name(bucket)
        sub_resources = frozenset(
            name for name in request.args if name in OSS_V1_SUB_RESOURCES and name not in _HARMLESS
        )
        routes = _OBJECT_ROUTES if key else _BUCKET_ROUTES
        handler = routes.get((request.method, sub_resources))
        if handler is None:
            raise _unroutable(request.method, sub_resources, "Object" if key else "Bucket")
        return handler(self, Call(request, ctx, bucket, key))

    def _is_own_endpoint(self, host: str | None, port: int | None) -> bool:
        local_names = {self.config.host, "127.0.0.1", "localhost", "::1"}
        return host in local_names and (port or 80) == self.cloud.port


def _split_path(path: str) -> tuple[str | None, str]:
    """`/bucket/a/b.mp3` → ("bucket", "a/b.mp3"); `/bucket/` → ("bucket", ""); `/` → (None, "")."""
    bucket, _, key = path[1:].partition("/")
    return (bucket or None), key


def _unroutable(method: str, sub_resources: frozenset[str], resource_type: str) -> ServiceHttpError:
    if not sub_resources:
        return _method_not_allowed(method, resource_type)
    names = ", ".join(sorted(sub_resources))
    if "x-oss-process" in sub_resources:
        detail = "x-oss-process (synchronous processing); audio is processed with POST ?x-oss-async-process"
    else:
        article = "an" if resource_type == "Object" else "a"
        detail = f"{method} on {article} {resource_type.lower()} with the sub-resource(s) {names}"
    return NOT_IMPLEMENTED(f"localcloud's OSS does not implement {detail}.", SubResource=names)


def _method_not_allowed(method: str, resource_type: str) -> ServiceHttpError:
    return METHOD_NOT_ALLOWED(
        "The specified method is not allowed against this resource.",
        Method=method,
        ResourceType=resource_type,
    )

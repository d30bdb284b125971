"""DashScope's temporary file uploads, as the dashscope SDK uses them for `file://` audio.

The SDK (dashscope 2.0.2, `dashscope/utils/oss_utils.py`: `OssUtils.get_upload_certificate` and `upload`)
turns a local `file://` path into a URL in three steps:

1. `GET /api/v1/uploads?action=getPolicy&model=<model>` with the API key answers, under `data`, an OSS
   PostObject policy: `policy` (base64 JSON), `signature`, `oss_access_key_id`, `upload_host`,
   `upload_dir`, `expire_in_seconds`, `max_file_size_mb`, `capacity_limit_mb`, `x_oss_object_acl`,
   `x_oss_forbid_overwrite`;
2. it POSTs the file as a form to `upload_host` with `key = upload_dir + "/" + <file name>`;
3. it sends the model `oss://<key>` with the header `X-DashScope-OssResourceResolve: enable`.

Here the policy is signed (OSS signature V1) with one of localcloud's own access keys, valid for the
uploads bucket `UPLOAD_BUCKET` only, under a directory of its own per policy (`dashscope-instant/<date>/
<uuid>`, so files of the same name never collide), for `EXPIRE_SECONDS`, up to `MAX_FILE_SIZE_MB`.
localcloud's OSS PostObject checks the signature and every condition. The `oss://` URL names the key,
not a bucket, as DashScope's own do; `audio_source.upload_url` maps it back to the object.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from localcloud.services.dashscope.audio_source import UPLOAD_BUCKET, UPLOAD_DIR_ROOT
from localcloud.services.dashscope.errors import api_error
from shared.auth import oss_v1_signature

if TYPE_CHECKING:
    from localcloud.services.dashscope.parts import DashScopeParts

EXPIRE_SECONDS = 3600
MAX_FILE_SIZE_MB = 2048  # filetrans takes files up to 2 GB (the seed)
CAPACITY_LIMIT_MB = 999999999


def get_policy(service: DashScopeParts, request: Request, request_id: str) -> Response:
    """`GET /api/v1/uploads?action=getPolicy&model=...`: a PostObject policy for one upload directory."""
    action = request.args.get("action", "")
    if action != "getPolicy":
        raise api_error(400, "InvalidParameter", f"action: must be getPolicy, got {action!r}")
    model = request.args.get("model", "")
    if not model:
        raise api_error(400, "InvalidParameter", "model: the model the file is uploaded for is required")
    access_key_id, secret = next(iter(service.config.credentials.items()))
    service.cloud.oss().store.create_bucket(UPLOAD_BUCKET)
    now = datetime.now(timezone.utc)
    upload_dir = f"{UPLOAD_DIR_ROOT}/{now:%Y-%m-%d}/{uuid.uuid4()}"
    document = {
        "expiration": (now + timedelta(seconds=EXPIRE_SECONDS)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conditions": [
            {"bucket": UPLOAD_BUCKET},
            ["starts-with", "$key", upload_dir + "/"],
            ["content-length-range", 0, MAX_FILE_SIZE_MB * 1024 * 1024],
        ],
    }
    policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    data = {
        "policy": policy,
        "signature": oss_v1_signature(secret, policy),
        "oss_access_key_id": access_key_id,
        "upload_host": f"{request.host_url.rstrip('/')}/{UPLOAD_BUCKET}",
        "upload_dir": upload_dir,
        "expire_in_seconds": EXPIRE_SECONDS,
        "max_file_size_mb": MAX_FILE_SIZE_MB,
        "capacity_limit_mb": CAPACITY_LIMIT_MB,
        "x_oss_object_acl": "private",
        "x_oss_forbid_overwrite": "true",
    }
    body = json.dumps({"request_id": request_id, "data": data})
    return Response(body, status=200, content_type="application/json")

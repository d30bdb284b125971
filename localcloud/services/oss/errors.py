"""OSS's error catalogue as localcloud answers it (see `ErrorCode` in localcloud.services.base)."""

from __future__ import annotations

from localcloud.services.base import ErrorCode

ACCESS_DENIED = ErrorCode(403, "AccessDenied")
BUCKET_NOT_EMPTY = ErrorCode(409, "BucketNotEmpty")
ENTITY_TOO_SMALL = ErrorCode(400, "EntityTooSmall")
FILE_ALREADY_EXISTS = ErrorCode(409, "FileAlreadyExists")
INVALID_ACCESS_KEY_ID = ErrorCode(403, "InvalidAccessKeyId")
INVALID_ARGUMENT = ErrorCode(400, "InvalidArgument")
INVALID_BUCKET_NAME = ErrorCode(400, "InvalidBucketName")
INVALID_DIGEST = ErrorCode(400, "InvalidDigest")
INVALID_OBJECT_NAME = ErrorCode(400, "InvalidObjectName")
INVALID_PART = ErrorCode(400, "InvalidPart")
INVALID_PART_ORDER = ErrorCode(400, "InvalidPartOrder")
INVALID_RANGE = ErrorCode(416, "InvalidRange")
MALFORMED_XML = ErrorCode(400, "MalformedXML")
METHOD_NOT_ALLOWED = ErrorCode(405, "MethodNotAllowed")
MISSING_CONTENT_LENGTH = ErrorCode(411, "MissingContentLength")
NOT_IMPLEMENTED = ErrorCode(501, "NotImplemented")
NOT_MODIFIED = ErrorCode(304, "NotModified")
NO_SUCH_BUCKET = ErrorCode(404, "NoSuchBucket")
NO_SUCH_KEY = ErrorCode(404, "NoSuchKey")
NO_SUCH_UPLOAD = ErrorCode(404, "NoSuchUpload")
PRECONDITION_FAILED = ErrorCode(412, "PreconditionFailed")
SERVICE_UNAVAILABLE = ErrorCode(503, "ServiceUnavailable")
SIGNATURE_DOES_NOT_MATCH = ErrorCode(403, "SignatureDoesNotMatch")

"""ICE's error catalogue as localcloud answers it: each code once, with its HTTP status.

Raise `NO_SUCH_THING("message", **extra)`: an `ErrorCode` is a named constructor of ServiceHttpError, so
a status and a code can never drift apart between two places that raise the same error.
"""

from __future__ import annotations

from localcloud.services.base import ErrorCode

FILE_ALREADY_EXISTS = ErrorCode(409, "FileAlreadyExists")
JOB_NOT_FOUND = ErrorCode(404, "JobNotFound")
RESOURCE_NOT_FOUND = ErrorCode(404, "ResourceNotFound")
SERVICE_UNAVAILABLE = ErrorCode(503, "ServiceUnavailable")

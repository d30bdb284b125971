"""IMM's error catalogue as localcloud answers it (see `ErrorCode` in localcloud.services.base)."""

from __future__ import annotations

from localcloud.services.base import ErrorCode

RESOURCE_NOT_FOUND = ErrorCode(404, "ResourceNotFound")
SERVICE_UNAVAILABLE = ErrorCode(503, "ServiceUnavailable")
RESOURCE_ALREADY_EXISTS = ErrorCode(409, "ResourceAlreadyExists")

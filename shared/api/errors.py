"""The HTTP API's error codes and the mapping of every failure onto them.

Every error answer is `{"error": {"code", "message", "field", "request_id"}}`; a 400 for broken rules adds
`problems`, every rule broken (`field`, `rule`, `message`), since one request can break several.
The codes are stable: clients may branch on them.

    code                    status  meaning
    InvalidParameter        400     a parameter, header or body field breaks a rule; `field` names it
    InvalidJson             400     the body is not JSON
    Unauthenticated         401     no `Authorization: Bearer <token>` header
    InvalidToken            401     the bearer token is wrong
    NotFound                404     no such route
    JobNotFound             404     no job has this id
    MethodNotAllowed        405     the route exists, not with this method (`Allow` lists those it has)
    IdempotencyConflict     409     the Idempotency-Key was used for a different request
    PayloadTooLarge         413     the body exceeds the limit
    InternalError           500     a fault of ours (or a misconfiguration); quote the request id
    UpstreamError           502     a cloud service refused; retrying will not help
    ServiceUnavailable      503     a cloud service failed or throttled; retry later
    ApiTokenNotConfigured   503     the function has no AUDIOCHAIN_API_TOKEN: every protected route is shut

    >>> api_error_response(JobNotFound("j1"), request_id="r-1").status
    404
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from shared.errors import ConfigurationError, CredentialsError, InvalidRequestError, ServiceError
from shared.jobs.errors import IdempotencyConflict, JobNotFound, JobStateConflict
from shared.logging import get_logger
from shared.runtime.responses import ErrorCode, HttpError, HttpResponse, error_response

__all__ = ["ERROR_CATALOGUE", "ApiErrorCode", "ErrorInfo", "api_error", "api_error_response"]

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ApiErrorCode(str, Enum):
    """Every `error.code` the API answers with."""

    INVALID_PARAMETER = "InvalidParameter"
    INVALID_JSON = "InvalidJson"
    UNAUTHENTICATED = "Unauthenticated"
    INVALID_TOKEN = "InvalidToken"
    NOT_FOUND = "NotFound"
    JOB_NOT_FOUND = "JobNotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    IDEMPOTENCY_CONFLICT = "IdempotencyConflict"
    JOB_STATE_CONFLICT = "JobStateConflict"
    PAYLOAD_TOO_LARGE = "PayloadTooLarge"
    INTERNAL_ERROR = "InternalError"
    UPSTREAM_ERROR = "UpstreamError"
    SERVICE_UNAVAILABLE = "ServiceUnavailable"
    API_TOKEN_NOT_CONFIGURED = "ApiTokenNotConfigured"


class ErrorInfo(NamedTuple):
    code: ApiErrorCode
    status: int
    meaning: str


ERROR_CATALOGUE: dict[ApiErrorCode, ErrorInfo] = {
    info.code: info
    for info in (
        ErrorInfo(
            ApiErrorCode.INVALID_PARAMETER,
            400,
            "A parameter, header or body field breaks a rule; `field` names it.",
        ),
        ErrorInfo(ApiErrorCode.INVALID_JSON, 400, "The request body is not JSON."),
        ErrorInfo(ApiErrorCode.UNAUTHENTICATED, 401, "No `Authorization: Bearer <token>` header."),
        ErrorInfo(ApiErrorCode.INVALID_TOKEN, 401, "The bearer token is wrong."),
        ErrorInfo(ApiErrorCode.NOT_FOUND, 404, "No such route."),
        ErrorInfo(ApiErrorCode.JOB_NOT_FOUND, 404, "No job has this id."),
        ErrorInfo(
            ApiErrorCode.METHOD_NOT_ALLOWED,
            405,
            "The route exists but not with this method; the `Allow` header lists its methods.",
        ),
        ErrorInfo(
            ApiErrorCode.IDEMPOTENCY_CONFLICT,
            409,
            "The Idempotency-Key was already used for a different request.",
        ),
        ErrorInfo(
            ApiErrorCode.JOB_STATE_CONFLICT,
            409,
            "The job's state does not allow this control (retry a failed job, cancel an unfinished one).",
        ),
        ErrorInfo(ApiErrorCode.PAYLOAD_TOO_LARGE, 413, "The request body exceeds the limit."),
        ErrorInfo(
            ApiErrorCode.INTERNAL_ERROR,
            500,
            "A fault (or a misconfiguration) of the API; quote the request id when reporting it.",
        ),
        ErrorInfo(
            ApiErrorCode.UPSTREAM_ERROR, 502, "A cloud service refused the work; retrying will not help."
        ),
        ErrorInfo(
            ApiErrorCode.SERVICE_UNAVAILABLE,
            503,
            "A cloud service failed or throttled; retrying later may succeed.",
        ),
        ErrorInfo(
            ApiErrorCode.API_TOKEN_NOT_CONFIGURED,
            503,
            "The API has no token configured (AUDIOCHAIN_API_TOKEN), so every protected route is closed.",
        ),
    )
}

# Codes the WSGI layer produces for a malformed request line or body, reported as InvalidParameter.
_REQUEST_FORMAT_CODES = frozenset(
    {ErrorCode.BAD_REQUEST, ErrorCode.INVALID_CONTENT_LENGTH, ErrorCode.INCOMPLETE_BODY}
)

log = get_logger(__name__)


def api_error(
    code: ApiErrorCode, message: str, *, field: str | None = None, headers: tuple[tuple[str, str], ...] = ()
) -> HttpError:
    """An HttpError with the catalogue's status for `code` (raise it from a route)."""
    return HttpError(ERROR_CATALOGUE[code].status, code.value, message, field=field, headers=headers)


def api_error_response(exc: BaseException, *, request_id: str | None) -> HttpResponse:
    """The JSON error answer for any exception, logged at the level it deserves."""
    if isinstance(exc, HttpError):
        code = ApiErrorCode.INVALID_PARAMETER.value if exc.code in _REQUEST_FORMAT_CODES else exc.code
        level = log.error if exc.status >= 500 else log.info
        level("api.error", status=exc.status, code=code, message=exc.message)
        return error_response(
            exc.status, code, exc.message, field=exc.field, request_id=request_id, headers=exc.headers
        )
    if isinstance(exc, IdempotencyConflict):
        log.info("api.idempotency_conflict", job_id=exc.job_id)
        message = exc.problems[0].message
        return _answer(
            ApiErrorCode.IDEMPOTENCY_CONFLICT,
            f"{IDEMPOTENCY_HEADER} {message}",
            request_id,
            field=IDEMPOTENCY_HEADER,
        )
    if isinstance(exc, InvalidRequestError):
        problems = [{"field": p.field, "rule": p.rule, "message": p.message} for p in exc.problems]
        log.info("api.invalid_request", problems=problems)
        code = ApiErrorCode.INVALID_PARAMETER
        if exc.field == "body" and exc.rule == "json":
            code = ApiErrorCode.INVALID_JSON
        return error_response(
            400,
            code.value,
            str(exc),
            field=exc.field or None,
            request_id=request_id,
            problems=problems,
        )
    if isinstance(exc, JobStateConflict):
        log.info("api.job_state_conflict", job_id=exc.job_id, state=exc.state)
        return _answer(ApiErrorCode.JOB_STATE_CONFLICT, str(exc), request_id, field="state")
    if isinstance(exc, JobNotFound):
        return _answer(ApiErrorCode.JOB_NOT_FOUND, f"no job {exc.job_id!r}", request_id, field="job_id")
    if isinstance(exc, (ConfigurationError, CredentialsError)):
        log.error("api.misconfigured", error=str(exc), error_type=type(exc).__name__)
        message = "the API is misconfigured; quote the request id when reporting it"
        return _answer(ApiErrorCode.INTERNAL_ERROR, message, request_id)
    if isinstance(exc, ServiceError):
        log.warning(
            "api.service_error", service=exc.service, code=exc.code, retryable=exc.retryable, error=str(exc)
        )
        if exc.retryable:
            return _answer(ApiErrorCode.SERVICE_UNAVAILABLE, str(exc), request_id)
        return _answer(ApiErrorCode.UPSTREAM_ERROR, str(exc), request_id)
    log.error("api.unhandled_error", exc_info=exc)
    message = "internal error; quote the request id when reporting it"
    return _answer(ApiErrorCode.INTERNAL_ERROR, message, request_id)


def _answer(
    code: ApiErrorCode, message: str, request_id: str | None, field: str | None = None
) -> HttpResponse:
    return error_response(
        ERROR_CATALOGUE[code].status, code.value, message, field=field, request_id=request_id
    )

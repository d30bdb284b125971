"""What goes wrong in localcloud's DashScope, and how each wire style says it.

Synchronous refusals are ServiceHttpError, rendered either DashScope style

    {"request_id": "...", "code": "InvalidParameter", "message": "..."}

or, under /compatible-mode/, OpenAI style

    {"error": {"message": "...", "type": "invalid_request_error", "param": "...", "code": "..."},
     "request_id": "..."}

Work on the audio itself (fetching, decoding, recognising) fails with RecognitionFailure, whose code is the
one an asynchronous task ends with (`output.code`, FAILED). The seed shows FILE_403_FORBIDDEN; the rest of
the FILE_* family follows Alibaba's file-transcription naming:

    FILE_403_FORBIDDEN       the audio URL was refused: expired, tampered or unsigned presigned URL
    FILE_404_NOT_FOUND       no such object, bucket or page
    FILE_DOWNLOAD_FAILED     any other failure on the way: refused connection, timeout, 5xx, bad redirect
    FILE_TOO_LARGE           more bytes than the model takes (10 MB synchronous, 2 GB filetrans)
    FILE_DECODE_FAILED       not audio FFmpeg can decode, or no audio stream
    CHANNEL_ID_OUT_OF_RANGE  a channel_id the file does not have
    UNSUPPORTED_LANGUAGE     a language the configured recognition engine does not recognise
    InternalError            the engine failed unexpectedly or is misconfigured

A synchronous call reports the same failure as HTTP 400 InvalidParameter (`invalid_parameter_error`) whose
message ends with the code; an unsupported language is 400 UnsupportedLanguage (`unsupported_language`).
"""

from __future__ import annotations

from typing import Literal

from werkzeug.wrappers import Response

from localcloud.services.base import ServiceHttpError, json_response
from shared.errors import InvalidRequestError

ErrorStyle = Literal["dashscope", "openai"]

FILE_403_FORBIDDEN = "FILE_403_FORBIDDEN"
FILE_404_NOT_FOUND = "FILE_404_NOT_FOUND"
FILE_DOWNLOAD_FAILED = "FILE_DOWNLOAD_FAILED"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
FILE_DECODE_FAILED = "FILE_DECODE_FAILED"
CHANNEL_ID_OUT_OF_RANGE = "CHANNEL_ID_OUT_OF_RANGE"
UNSUPPORTED_LANGUAGE = "UNSUPPORTED_LANGUAGE"
INTERNAL_ERROR = "InternalError"

REQUEST_ID_HEADER = "X-Request-Id"


class RecognitionFailure(Exception):
    """The audio could not be fetched, decoded or recognised; `code` is one of the codes above."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_http(self, *, audio_field: str, language_field: str) -> ServiceHttpError:
        """The synchronous answer to this failure, naming the request field to blame."""
        if self.code == UNSUPPORTED_LANGUAGE:
            return api_error(
                400,
                "UnsupportedLanguage",
                f"{language_field}: {self.message}",
                openai_code="unsupported_language",
                param=language_field,
            )
        if self.code == INTERNAL_ERROR:
            return api_error(500, "InternalError", self.message, openai_code="internal_error")
        return api_error(
            400,
            "InvalidParameter",
            f"{audio_field}: {self.message} ({self.code})",
            openai_code="invalid_parameter_error",
            param=audio_field,
        )


def api_error(
    status: int, code: str, message: str, *, openai_code: str | None = None, param: str | None = None
) -> ServiceHttpError:
    """A refusal that renders in both styles: `code` for DashScope, `openai_code` and `param` for OpenAI."""
    extra: dict[str, str] = {}
    if openai_code:
        extra["openai_code"] = openai_code
    if param:
        extra["param"] = param
    return ServiceHttpError(status, code, message, **extra)


def invalid_request(exc: InvalidRequestError) -> ServiceHttpError:
    """400 InvalidParameter naming the first broken field (every problem is in the message)."""
    return api_error(
        400, "InvalidParameter", str(exc), openai_code="invalid_parameter_error", param=exc.field or None
    )


def invalid_api_key() -> ServiceHttpError:
    return api_error(401, "InvalidApiKey", "Invalid API-key provided.", openai_code="invalid_api_key")


def not_found(method: str, path: str) -> ServiceHttpError:
    return api_error(
        404, "NotFound", f"{method} {path} is not a DashScope API localcloud serves.", openai_code="not_found"
    )


def method_not_allowed(method: str, path: str, allowed: str) -> ServiceHttpError:
    return api_error(
        405,
        "MethodNotAllowed",
        f"{method} is not allowed on {path}; use {allowed}.",
        openai_code="method_not_allowed",
    )


def render(error: ServiceHttpError, request_id: str, style: ErrorStyle) -> Response:
    """The error document in the caller's style, with the request id in body and header."""
    headers = {REQUEST_ID_HEADER: request_id}
    if style == "openai":
        return json_response(openai_error_document(error, request_id), error.status, headers)
    payload = {"request_id": request_id, "code": error.code, "message": error.message}
    return json_response(payload, error.status, headers)


def openai_error_document(error: ServiceHttpError, request_id: str) -> dict[str, object]:
    """`{"error": {...}, "request_id"}`: the answer body, and the event a failing stream ends with."""
    return {
        "error": {
            "message": error.message,
            "type": "invalid_request_error" if error.status < 500 else "server_error",
            "param": error.extra.get("param"),
            "code": error.extra.get("openai_code") or error.code,
        },
        "request_id": request_id,
    }

"""Bearer-token authentication of the HTTP API (`Authorization: Bearer <AUDIOCHAIN_API_TOKEN>`).

The HTTP trigger is ANONYMOUS (FC's own signature would make every client sign with an AccessKey), so the
function checks a shared token itself:

- no token configured → 503 `ApiTokenNotConfigured` (fail closed: an empty variable must never open
  the API);
- no bearer credentials in the request → 401 `Unauthenticated`, with `WWW-Authenticate: Bearer`;
- a wrong token → 401 `InvalidToken`, with `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750).

The comparison takes the same time whatever the token's prefix (hmac.compare_digest), so the token
cannot be guessed a character at a time.

    >>> from shared.runtime.responses import HttpError
    >>> authenticate("Bearer s3cret-token", "s3cret-token")
    >>> try:
    ...     authenticate(None, "s3cret-token")
    ... except HttpError as error:
    ...     print(error.status, error.code)
    401 Unauthenticated
"""

from __future__ import annotations

import hmac

from shared.api.errors import ApiErrorCode, api_error

__all__ = ["REALM", "authenticate", "bearer_token"]

REALM = "audiochain"
_CHALLENGE = f'Bearer realm="{REALM}"'


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value; None for any other scheme."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(authorization: str | None, configured_token: str | None) -> None:
    """Raise the HttpError the request deserves, or return when its bearer token is the configured one."""
    expected = (configured_token or "").strip()
    if not expected:
        raise api_error(
            ApiErrorCode.API_TOKEN_NOT_CONFIGURED,
            "the API has no token configured (AUDIOCHAIN_API_TOKEN); it refuses every protected request",
        )
    given = bearer_token(authorization)
    if given is None:
        raise api_error(
            ApiErrorCode.UNAUTHENTICATED,
            "send the API token as 'Authorization: Bearer <token>'",
            field="Authorization",
            headers=(("WWW-Authenticate", _CHALLENGE),),
        )
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise api_error(
            ApiErrorCode.INVALID_TOKEN,
            "the bearer token is not valid",
            field="Authorization",
            headers=(("WWW-Authenticate", f'{_CHALLENGE}, error="invalid_token"'),),
        )

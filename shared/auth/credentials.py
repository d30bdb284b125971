"""Access keys and where to find them: explicit, the Function Compute context, or the environment.

Resolution order (an explicit argument beats the platform, the platform beats the environment):

1. `Credentials` passed explicitly;
2. the FC invocation context (`context.credentials`, the service role's STS credentials);
3. the environment: `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`, then the OSS
   SDKs' `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` / `OSS_SESSION_TOKEN`.

Providers read their source each time `get_credentials()` is called, so rotated STS credentials are
picked up without rebuilding clients.

    >>> variables = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "SK"}
    >>> resolve_credentials(environ=variables).get_credentials().access_key_id
    'AK'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from shared import env
from shared.errors import CredentialsError

_ENV_SETS: tuple[tuple[str, str, str], ...] = (
    (env.ALIBABA_CLOUD_ACCESS_KEY_ID, env.ALIBABA_CLOUD_ACCESS_KEY_SECRET, env.ALIBABA_CLOUD_SECURITY_TOKEN),
    (env.OSS_ACCESS_KEY_ID, env.OSS_ACCESS_KEY_SECRET, env.OSS_SESSION_TOKEN),
)
_MISSING_HINT = (
    "pass Credentials explicitly, run inside Function Compute with a service role, or set "
    f"{env.ALIBABA_CLOUD_ACCESS_KEY_ID} and {env.ALIBABA_CLOUD_ACCESS_KEY_SECRET} "
    f"(plus {env.ALIBABA_CLOUD_SECURITY_TOKEN} for STS credentials); "
    f"{env.OSS_ACCESS_KEY_ID}, {env.OSS_ACCESS_KEY_SECRET} and {env.OSS_SESSION_TOKEN} are accepted too"
)


@dataclass(frozen=True)
class Credentials:
    """An access key pair, with the STS token when the pair is temporary.

    repr() and str() show the key id only: secrets must never reach a log line.

    >>> Credentials("LTAI5tExample", "secret", "token")
    Credentials(access_key_id='LTAI5tExample', access_key_secret='***', security_token='***')
    """

    access_key_id: str
    access_key_secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("access_key_id", "access_key_secret"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise CredentialsError(f"Credentials.{name} must be a non-empty string")
        if self.security_token is not None and not isinstance(self.security_token, str):
            raise CredentialsError("Credentials.security_token must be a string or None")
        if self.security_token == "":
            object.__setattr__(self, "security_token", None)  # an empty token means "not STS"

    def __repr__(self) -> str:
        token = "'***'" if self.security_token else "None"
        masked = f"access_key_secret='***', security_token={token}"
        return f"Credentials(access_key_id={self.access_key_id!r}, {masked})"

    __str__ = __repr__


@runtime_checkable
class CredentialsProvider(Protocol):
    """Anything that can hand out the credentials to sign the next request with."""

    def get_credentials(self) -> Credentials: ...


class StaticCredentialsProvider:
    """Always the same credentials."""

    def __init__(self, credentials: Credentials) -> None:
        if not isinstance(credentials, Credentials):
            raise CredentialsError(f"expected Credentials, got {type(credentials).__name__}")
        self._credentials = credentials

    def get_credentials(self) -> Credentials:
        return self._credentials

    def __repr__(self) -> str:
        return f"StaticCredentialsProvider({self._credentials!r})"


class EnvironmentCredentialsProvider:
    """Credentials from environment variables, read at each call (`os.environ` unless a mapping is given)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    def find_credentials(self) -> Credentials | None:
        """The first complete set of variables, or None when no variable of any set is present."""
        environ = os.environ if self._environ is None else self._environ
        incomplete: list[str] = []
        for id_name, secret_name, token_name in _ENV_SETS:
            key_id = (environ.get(id_name) or "").strip()
            secret = (environ.get(secret_name) or "").strip()
            if key_id and secret:
                return Credentials(key_id, secret, (environ.get(token_name) or "").strip() or None)
            if key_id or secret:
                missing = secret_name if key_id else id_name
                present = id_name if key_id else secret_name
                incomplete.append(f"{present} is set but {missing} is not")
        if incomplete:
            raise CredentialsError(f"incomplete credentials in the environment: {'; '.join(incomplete)}")
        return None

    def get_credentials(self) -> Credentials:
        found = self.find_credentials()
        if found is None:
            raise CredentialsError(f"no Alibaba Cloud credentials in the environment: {_MISSING_HINT}")
        return found

    def __repr__(self) -> str:
        source = "os.environ" if self._environ is None else "mapping"
        return f"EnvironmentCredentialsProvider({source})"


class FcContextCredentialsProvider:
    """The service role's STS credentials from a Function Compute context, read at each call.

    Accepts FC's context object (`context.credentials.access_key_id` ...), a mapping shaped the same way
    (`{"credentials": {"access_key_id": ...}}`), or the credentials mapping itself. camelCase keys
    (`accessKeyId`, `accessKeySecret`, `securityToken`) are accepted in mappings as well.
    """

    def __init__(self, context: object) -> None:
        self._context = context

    def find_credentials(self) -> Credentials | None:
        """The context's credentials, or None when the context carries none (no service role)."""
        source = _lookup(self._context, "credentials")
        if source is None and _lookup(self._context, "access_key_id", "accessKeyId") is not None:
            source = self._context
        if source is None:
            return None
        key_id = _text(_lookup(source, "access_key_id", "accessKeyId"))
        secret = _text(_lookup(source, "access_key_secret", "accessKeySecret"))
        token = _text(_lookup(source, "security_token", "securityToken"))
        if not key_id and not secret:
            return None
        if not (key_id and secret):
            missing = "access_key_secret" if key_id else "access_key_id"
            raise CredentialsError(
                f"the Function Compute context credentials are incomplete: {missing} is empty"
            )
        return Credentials(key_id, secret, token or None)

    def get_credentials(self) -> Credentials:
        found = self.find_credentials()
        if found is None:
            raise CredentialsError(
                "the Function Compute context carries no credentials: give the service a role, or "
                + _MISSING_HINT
            )
        return found

    def __repr__(self) -> str:
        return "FcContextCredentialsProvider()"


def resolve_credentials(
    explicit: Credentials | None = None,
    *,
    context: object | None = None,
    environ: Mapping[str, str] | None = None,
) -> CredentialsProvider:
    """Pick the credentials source: explicit, else the FC context, else the environment.

    Raises CredentialsError naming the variables to set when none of them has credentials.

    >>> resolve_credentials(Credentials("AK", "SK")).get_credentials().access_key_id
    'AK'
    """
    if explicit is not None:
        return StaticCredentialsProvider(explicit)
    if context is not None:
        from_context = FcContextCredentialsProvider(context)
        if from_context.find_credentials() is not None:
            return from_context
    from_environment = EnvironmentCredentialsProvider(environ)
    if from_environment.find_credentials() is None:
        raise CredentialsError(f"no Alibaba Cloud credentials found: {_MISSING_HINT}")
    return from_environment


def resolve_dashscope_api_key(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The DashScope API key: the explicit one, else `DASHSCOPE_API_KEY`.

    >>> resolve_dashscope_api_key(environ={"DASHSCOPE_API_KEY": "sk-123"})
    'sk-123'
    """
    if explicit is not None:
        if not isinstance(explicit, str) or not explicit.strip():
            raise CredentialsError("the DashScope API key passed explicitly is empty")
        return explicit.strip()
    source = os.environ if environ is None else environ
    key = (source.get(env.DASHSCOPE_API_KEY) or "").strip()
    if not key:
        raise CredentialsError(f"no DashScope API key: pass one explicitly or set {env.DASHSCOPE_API_KEY}")
    return key


def as_provider(credentials: CredentialsProvider | Credentials) -> CredentialsProvider:
    """Let signers take either a provider or a plain Credentials value."""
    if isinstance(credentials, Credentials):
        return StaticCredentialsProvider(credentials)
    if not callable(getattr(credentials, "get_credentials", None)):
        raise CredentialsError(
            f"expected Credentials or a CredentialsProvider, got {type(credentials).__name__}"
        )
    return credentials


def _lookup(source: object, *names: str) -> object | None:
    for name in names:
        value: object = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        if value is not None:
            return value
    return None


def _text(value: object | None) -> str:
    return value.strip() if isinstance(value, str) else ""

"""The one error tree of audiochain's shared layer.

    AudiochainError
    ├── InvalidRequestError      bad input, refused before anything is sent (names field and rule)
    ├── ConfigurationError       settings that cannot work (missing bucket, a looping prefix rule …)
    ├── CredentialsError         no usable credentials could be found
    └── ServiceError             a call to a cloud service did not succeed
        ├── ServiceResponseError the service answered with an error document (code, request id)
        └── TransportError       no usable answer: connection failure, timeout, broken stream

Every ServiceError says whether retrying can help (`retryable`), so retry loops and job state machines
decide in one place. Clients translate httpx and service errors into this tree with `raise ... from`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from pydantic import ValidationError


class AudiochainError(Exception):
    """Base of every error raised on purpose by audiochain."""

    code: str = "InternalError"


class Problem(NamedTuple):
    """One reason a request was refused: which field, which rule, and a sentence for humans."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidRequestError(AudiochainError, ValueError):
    """Input that breaks a documented rule. Raised before any request leaves the process.

    `problems` lists every broken rule found (at least one); `str()` names each field and rule.
    """

    code = "InvalidParameter"

    def __init__(self, problems: Sequence[Problem] | Problem, operation: str = "") -> None:
        self.problems: tuple[Problem, ...] = (problems,) if isinstance(problems, Problem) else tuple(problems)
        if not self.problems:
            raise ValueError("InvalidRequestError needs at least one problem")
        self.operation = operation
        super().__init__(self._render())

    @classmethod
    def single(cls, field: str, rule: str, message: str, operation: str = "") -> InvalidRequestError:
        return cls(Problem(field, rule, message), operation)

    @property
    def field(self) -> str:
        return self.problems[0].field

    @property
    def rule(self) -> str:
        return self.problems[0].rule

    def _render(self) -> str:
        head = f"invalid {self.operation} request" if self.operation else "invalid request"
        body = "; ".join(str(p) for p in self.problems)
        return f"{head}: {body}"

    @classmethod
    def from_validation_error(cls, exc: ValidationError, operation: str = "") -> InvalidRequestError:
        """Translate pydantic's error list, keeping the wire names of the fields (aliases)."""
        return cls(list(_problems_from_pydantic(exc.errors(include_url=False))), operation)


def _problems_from_pydantic(errors: Iterable[Mapping[str, object]]) -> Iterable[Problem]:
    for err in errors:
        loc = err.get("loc") or ()
        assert isinstance(loc, tuple)
        field = _field_path(part for part in loc if part != "__root__")
        message = str(err.get("msg", "is invalid"))
        # Our validators raise rule_error(rule, sentence): pydantic reports the rule as the error's type.
        # Anything else keeps pydantic's own type (value_error, int_parsing, ...) and its message.
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        yield Problem(field=field, rule=str(err.get("type", "invalid")), message=message)


def rule_error(rule: str, message: str) -> PydanticCustomError:
    """A validation failure that names its rule (`oss_uri`, `range`, ...).

    Raised inside a pydantic validator, pydantic reports `rule` as the error's type and `message` as its
    text, so `InvalidRequestError.from_validation_error` needs no parsing; elsewhere it is a ValueError like
    any other (`rule_of` reads it back). Braces in `message` are kept as they are.

    >>> error = rule_error("oss_uri", "must look like oss://bucket/key")
    >>> rule_of(error), isinstance(error, ValueError)
    (('oss_uri', 'must look like oss://bucket/key'), True)
    """
    return PydanticCustomError(rule, message)


def rule_of(error: ValueError) -> tuple[str, str]:
    """(rule, message) of a failure raised with `rule_error`; ("invalid", text) of any other ValueError."""
    if isinstance(error, PydanticCustomError):
        return error.type, error.message()
    return "invalid", str(error)


def _field_path(parts: Iterable[object]) -> str:
    """`("Sources", 0, "URI")` -> `Sources[0].URI`: list positions in brackets, as people write them."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


class ConfigurationError(AudiochainError):
    """Settings that cannot work; raised at start-up, before any event is handled."""

    code = "InvalidConfiguration"


class CredentialsError(AudiochainError):
    """No usable credentials: nothing explicit, nothing in the environment or the FC context."""

    code = "MissingCredentials"


class ServiceError(AudiochainError):
    """A call to OSS, MNS, IMM, ICE or DashScope did not succeed."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        code: str = "ServiceError",
        status: int | None = None,
        request_id: str | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.service = service
        self.code = code
        self.status = status
        self.request_id = request_id
        self.retryable = retryable

    def __str__(self) -> str:
        parts = [f"{self.service} {self.code}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return f"{self.message} ({', '.join(parts)})"


class ServiceResponseError(ServiceError):
    """The service answered with an error document (OSS XML, MNS XML, OpenAPI JSON, DashScope JSON)."""


class TransportError(ServiceError):
    """No usable answer: connection refused or reset, timeout, or a response cut short."""

    def __init__(self, message: str, *, service: str, code: str = "TransportError") -> None:
        super().__init__(message, service=service, code=code, retryable=True)

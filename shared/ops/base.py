"""Base classes for request and response models.

Requests are strict (unknown fields refused, frozen); responses are lenient (services add fields over
time and a new field must never break a deployed function).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError
from typing_extensions import Self

from shared.errors import InvalidRequestError


class RequestModel(BaseModel):
    """A request we build: every field validated, unknown fields refused, immutable once built."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True, populate_by_name=True)

    # Human name of the operation, used in error messages ("invalid audio/convert request: ...").
    operation: ClassVar[str] = ""

    @classmethod
    def build(cls, **data: Any) -> Self:
        """Validate and build, turning pydantic's errors into an InvalidRequestError naming field and rule."""
        try:
            return cls(**data)
        except ValidationError as exc:
            raise InvalidRequestError.from_validation_error(exc, cls._operation()) from None

    @classmethod
    def validate_wire(cls, data: Any) -> Self:
        """Validate a mapping (wire names or field names), with the same error translation as build()."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidRequestError.from_validation_error(exc, cls._operation()) from None

    @classmethod
    def _operation(cls) -> str:
        return cls.operation or cls.__name__


class ResponseModel(BaseModel):
    """A response we parse: lenient about extra fields, tolerant of services that add to their answers."""

    model_config = ConfigDict(defer_build=True, extra="allow", populate_by_name=True)

    @classmethod
    def parse(cls, data: Any) -> Self:
        return cls.model_validate(data)

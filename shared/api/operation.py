"""What one HTTP API route is: the call a handler gets, and the description the router and OpenAPI read.

Kept apart from `shared.api.routes` (the table of them) so that `shared.api.openapi` can describe
operations without importing the table that serves its document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from pydantic import BaseModel

from shared.api.errors import ApiErrorCode
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.provider import PipelineProvider
from shared.runtime.responses import HttpResponse
from shared.runtime.wsgi import HttpRequest

__all__ = ["ApiCall", "Handler", "HeaderParameter", "Operation", "ResponseSpec"]


class ApiCall(NamedTuple):
    """One request as a route sees it: the request, where to get an orchestrator, the FC path prefix."""

    request: HttpRequest
    provider: PipelineProvider
    base_path: str = ""

    def orchestrator(self) -> Orchestrator:
        return self.provider.orchestrator(self.request.fc_context)


Handler = Callable[[ApiCall], HttpResponse]


class ResponseSpec(NamedTuple):
    status: int
    description: str
    model: type[BaseModel] | None = None
    headers: Mapping[str, str] | None = None  # header name -> description


class HeaderParameter(NamedTuple):
    name: str
    description: str
    max_length: int | None = None


class Operation(NamedTuple):
    """One route: how it is called, what it answers, and the error codes it may return."""

    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    responses: tuple[ResponseSpec, ...]
    errors: tuple[ApiErrorCode, ...] = ()
    public: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[HeaderParameter, ...] = ()
    tag: str = "jobs"

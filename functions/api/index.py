"""api: the HTTP API (HTTP trigger, WSGI) - submit convert, merge, speech and transcription jobs; read them.

See shared.api (routes, auth, OpenAPI document at /openapi.json).
"""

from __future__ import annotations

from shared.api.app import API_FUNCTION, create_api_handler
from shared.pipeline.handlers.common import initializer
from shared.pipeline.provider import PipelineProvider

_provider = PipelineProvider(API_FUNCTION, uses_dashscope=True)

handler = create_api_handler(_provider)
initialize = initializer(_provider)

"""localcloud's DashScope provider: authenticates, routes, and renders errors in the caller's style.

Every request needs `Authorization: Bearer <key>` with a key from `config.api_keys` (default
`sk-localcloud`); otherwise 401 InvalidApiKey "Invalid API-key provided." (OpenAI style `invalid_api_key`
under /compatible-mode/).

    POST /compatible-mode/v1/chat/completions                     compatible.chat_completions
    POST /api/v1/services/aigc/multimodal-generation/generation   multimodal.generation
    POST /api/v1/services/audio/asr/transcription                 filetrans.submit (X-DashScope-Async)
    GET  /api/v1/tasks/{task_id}                                  filetrans.get_task

    >>> with LocalCloud(config, services=("oss", "dashscope")) as cloud:                # doctest: +SKIP
    ...     client = OpenAI(api_key="sk-localcloud", base_url=f"{cloud.endpoint}/compatible-mode/v1")
    ...     client.chat.completions.create(model="qwen3-asr-flash", messages=[...]).choices[0].message.content
    'Hello there.'

Recognition is local (see recognition.py), in a worker process started on first use and ended by
`stop()`: the shipped PocketSphinx engine recognises English only and detects no emotion (every answer
says "neutral"); context text and enable_itn are accepted and ignored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from localcloud import authn
from localcloud.services.base import BaseService, RequestContext, ServiceHttpError
from localcloud.services.dashscope import compatible, filetrans, multimodal, uploads
from localcloud.services.dashscope.audio_source import AudioFetcher
from localcloud.services.dashscope.errors import (
    ErrorStyle,
    api_error,
    invalid_api_key,
    invalid_request,
    method_not_allowed,
    not_found,
    render,
)
from localcloud.services.dashscope.recognition import Recognizer
from localcloud.services.dashscope.tasks import TaskStore
from localcloud.services.dashscope.worker import WorkerStopped
from shared.errors import InvalidRequestError
from shared.logging import get_logger
from shared.ops.asr import CHAT_COMPLETIONS_PATH, MULTIMODAL_GENERATION_PATH, TRANSCRIPTION_PATH

if TYPE_CHECKING:
    from localcloud.ports import Host

log = get_logger("localcloud.dashscope")

Handler = Callable[["DashScopeService", Request, str], Response]
UPLOADS_PATH = "/api/v1/uploads"  # the SDK's OssUtils.get_upload_certificate (see uploads.py)
_ROUTES: dict[str, tuple[str, Handler]] = {
    CHAT_COMPLETIONS_PATH: ("POST", compatible.chat_completions),
    MULTIMODAL_GENERATION_PATH: ("POST", multimodal.generation),
    TRANSCRIPTION_PATH: ("POST", filetrans.submit),
    UPLOADS_PATH: ("GET", uploads.get_policy),
}
_TASKS_PREFIX = "/api/v1/tasks/"


class DashScopeService(BaseService):
    """Qwen-ASR (and paraformer-style file transcription) answered by a local recognition engine."""

    name = "dashscope"

    def __init__(self, cloud: Host) -> None:
        super().__init__(cloud)
        self.recognizer = Recognizer(self.config.asr_engine, self.config.asr_workers)
        self.fetcher = AudioFetcher(cloud)
        self.tasks = TaskStore(self.state)
        self.transcriber = filetrans.Transcriber(self)

    def start(self) -> None:
        """Create the result bucket and resume the transcription tasks a previous run left unfinished."""
        self.transcriber.start()

    def stop(self) -> None:
        self.transcriber.stop()
        self.recognizer.close()
        self.fetcher.close()

    # --- HTTP -----------------------------------------------------------------------------------------

    def handle(self, request: Request, ctx: RequestContext) -> Response:
        # DashScope request ids are lower-case UUIDs, unlike OSS's; every answer carries one.
        ctx.request_id = str(uuid.uuid4())
        style: ErrorStyle = "openai" if request.path.startswith("/compatible-mode/") else "dashscope"
        try:
            self._authenticate(request)
            return self._route(request, ctx.request_id)
        except InvalidRequestError as exc:
            error = invalid_request(exc)
        except ServiceHttpError as refused:
            error = refused
        except WorkerStopped:
            error = api_error(
                503, "ServiceUnavailable", "localcloud is stopping", openai_code="service_unavailable"
            )
        except Exception:
            log.exception("dashscope.request.failed", method=request.method, path=request.path)
            error = api_error(
                500,
                "InternalError",
                "localcloud hit an internal error; see its log",
                openai_code="internal_error",
            )
        log.info(
            "dashscope.request.refused",
            method=request.method,
            path=request.path,
            status=error.status,
            code=error.code,
            request_id=ctx.request_id,
        )
        return render(error, ctx.request_id, style)

    def render_error(self, error: ServiceHttpError, ctx: RequestContext) -> Response:
        return render(error, ctx.request_id, "dashscope")

    def _authenticate(self, request: Request) -> None:
        key = authn.bearer_key(request)
        if key is None or key not in self.config.api_keys:
            raise invalid_api_key()

    def _route(self, request: Request, request_id: str) -> Response:
        path = request.path
        if path.startswith(_TASKS_PREFIX) and "/" not in path[len(_TASKS_PREFIX) :]:
            task_id = path[len(_TASKS_PREFIX) :]
            if not task_id:
                raise not_found(request.method, path)
            if request.method != "GET":
                raise method_not_allowed(request.method, path, "GET")
            return filetrans.get_task(self, task_id, request_id)
        route = _ROUTES.get(path)
        if route is None:
            raise not_found(request.method, path)
        method, handler = route
        if request.method != method:
            raise method_not_allowed(request.method, path, method)
        return handler(self, request, request_id)

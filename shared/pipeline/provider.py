"""What each FC function instance builds once and reuses: validated settings and orchestrators.

    provider = PipelineProvider("on_notify", uses_dashscope=True)
    settings = provider.settings(context)            # validated; ConfigurationError (logged) otherwise
    orchestrator = provider.orchestrator(context)    # over the context's STS credentials

Nothing is read or built when a provider is made (handlers make theirs at import time); the first
invocation reads the environment, validates the settings and fails loudly with ConfigurationError when
they cannot work (a prefix layout that would re-trigger the inbox, a missing DashScope key in a function
that transcribes …), logging every problem.

Settings are cached by the environment they were read from, orchestrators by settings, credentials and
DashScope key: the service role's STS credentials rotate, and an orchestrator built over old ones is
simply no longer picked (a few are kept, the oldest dropped). Every orchestrator of a provider shares one
httpx.Client, which holds connections but never credentials (each client signs its own requests), so
instances with `InstanceConcurrency > 1` share it safely between threads.

Example:
    >>> provider = PipelineProvider("on_upload", environ={"AUDIOCHAIN_BUCKET": "media"})
    >>> provider.settings().bucket
    'media'
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from shared import env
from shared.auth.credentials import Credentials, resolve_credentials, resolve_dashscope_api_key
from shared.errors import ConfigurationError, CredentialsError
from shared.logging import get_logger
from shared.pipeline.orchestrator import Orchestrator
from shared.pipeline.settings import PipelineSettings
from shared.pipeline.wiring import build_orchestrator
from shared.runtime.context import FcContext

__all__ = ["OrchestratorBuilder", "PipelineProvider"]

log = get_logger(__name__)

# Variables that can change what the settings are: everything audiochain and FC put in the environment.
_SETTINGS_VARIABLE_PREFIXES = ("AUDIOCHAIN_", "FC_")
_DEFAULT_CACHE_SIZE = 4
_USER_AGENT = "audiochain"


class OrchestratorBuilder(Protocol):
    """How an orchestrator is made (`shared.pipeline.wiring.build_orchestrator`; tests pass fakes)."""

    def __call__(
        self,
        settings: PipelineSettings,
        credentials: Credentials,
        *,
        dashscope_api_key: str | None,
        http: httpx.Client,
    ) -> Orchestrator: ...


class PipelineProvider:
    """Settings and orchestrators for the function `function_name`; thread-safe, cheap to construct.

    `uses_dashscope`: the function runs recognition steps, so DASHSCOPE_API_KEY must be set.
    `environ` (default `os.environ`, read at each call), `transport` (the shared httpx.Client's, for
    tests) and `builder` replace what a deployed function uses.
    """

    def __init__(
        self,
        function_name: str,
        *,
        uses_dashscope: bool = False,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        builder: OrchestratorBuilder = build_orchestrator,
        cache_size: int = _DEFAULT_CACHE_SIZE,
    ) -> None:
        if cache_size < 1:
            raise ConfigurationError(f"cache_size must be at least 1, got {cache_size}")
        self.function_name = function_name
        self.uses_dashscope = uses_dashscope
        self._environ = environ
        self._transport = transport
        self._builder = builder
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._settings: OrderedDict[tuple[Any, ...], PipelineSettings] = OrderedDict()
        self._orchestrators: OrderedDict[tuple[Any, ...], Orchestrator] = OrderedDict()

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment this provider reads (at call time: never captured at import)."""
        return os.environ if self._environ is None else self._environ

    # Settings ----------------------------------------------------------------------------------------

    def settings(self, context: FcContext | None = None) -> PipelineSettings:
        """Validated settings from the environment; the context fills in region and account id when the
        environment has neither. Raises ConfigurationError, after logging every problem."""
        environ = self.environ
        explicit = _context_fallbacks(environ, context)
        key = (_snapshot(environ), tuple(sorted(explicit.items())))
        with self._lock:
            cached = self._settings.get(key)
            if cached is not None:
                self._settings.move_to_end(key)
                return cached
        try:
            settings = PipelineSettings.from_env(environ, **explicit)
        except ConfigurationError as error:
            log.error(
                "configuration.invalid",
                function=self.function_name,
                problems=_problems(error),
                error=str(error),
            )
            raise
        with self._lock:
            self._settings[key] = settings
            _trim(self._settings, self._cache_size)
        return settings

    def dashscope_api_key(self) -> str | None:
        """The DashScope key for a function that transcribes (ConfigurationError when unset); else None."""
        if not self.uses_dashscope:
            return None
        try:
            return resolve_dashscope_api_key(environ=self.environ)
        except CredentialsError as error:
            log.error("configuration.invalid", function=self.function_name, problems=[str(error)])
            raise ConfigurationError(
                f"the {self.function_name} function runs recognition steps and needs "
                f"{env.DASHSCOPE_API_KEY}: {error}"
            ) from None

    def initialize(self, context: FcContext | None = None) -> PipelineSettings:
        """Check everything that can be checked before the first event (FC's Initializer hook)."""
        settings = self.settings(context)
        self.dashscope_api_key()
        log.info(
            "configuration.valid",
            function=self.function_name,
            bucket=settings.bucket,
            inbox_prefix=settings.inbox_prefix,
            pipeline_topic=settings.pipeline_topic,
        )
        return settings

    # Orchestrators -----------------------------------------------------------------------------------

    def credentials(self, context: FcContext | None) -> Credentials:
        """The context's STS credentials, else the environment's (CredentialsError when neither has)."""
        explicit = context.credentials if context is not None else None
        return resolve_credentials(explicit, environ=self.environ).get_credentials()

    def orchestrator(self, context: FcContext | None = None) -> Orchestrator:
        """An orchestrator over the invocation's credentials; reused while nothing it depends on changes."""
        settings = self.settings(context)
        api_key = self.dashscope_api_key()
        credentials = self.credentials(context)
        key = (settings, credentials, api_key)
        with self._lock:
            cached = self._orchestrators.get(key)
            if cached is not None:
                self._orchestrators.move_to_end(key)
                return cached
            # Building makes no request, so holding the lock costs nothing noticeable.
            orchestrator = self._builder(
                settings, credentials, dashscope_api_key=api_key, http=self._shared_http()
            )
            self._orchestrators[key] = orchestrator
            # A dropped orchestrator may still be serving another thread: it keeps working, since the
            # httpx.Client it uses is the provider's and stays open.
            _trim(self._orchestrators, self._cache_size)
            return orchestrator

    def close(self) -> None:
        """Close the shared httpx.Client and forget every cached value (tests; FC never calls it)."""
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
            self._settings.clear()
            self._orchestrators.clear()

    def _shared_http(self) -> httpx.Client:
        # Called with the lock held. Timeouts are set per request by each service client.
        if self._http is None:
            self._http = httpx.Client(
                transport=self._transport, follow_redirects=False, headers={"User-Agent": _USER_AGENT}
            )
        return self._http


def _snapshot(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (name, value) for name, value in environ.items() if name.startswith(_SETTINGS_VARIABLE_PREFIXES)
        )
    )


def _context_fallbacks(environ: Mapping[str, str], context: FcContext | None) -> dict[str, str]:
    """Region and account id from the FC context, for an environment that names neither."""
    if context is None:
        return {}
    explicit: dict[str, str] = {}
    if context.region and not any(
        (environ.get(name) or "").strip() for name in (env.AUDIOCHAIN_REGION, env.FC_REGION)
    ):
        explicit["region"] = context.region
    if context.account_id and not (environ.get(env.FC_ACCOUNT_ID) or "").strip():
        explicit["account_id"] = context.account_id
    return explicit


def _problems(error: ConfigurationError) -> list[str]:
    text = str(error).removeprefix("invalid pipeline settings: ")
    return [problem for problem in text.split("; ") if problem]


def _trim(cache: OrderedDict[Any, Any], size: int) -> None:
    while len(cache) > size:
        cache.popitem(last=False)

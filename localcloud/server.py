"""LocalCloud: the services, their state, the task pool and the edge port, started and stopped together.

    with LocalCloud(LocalCloudConfig(port=0, data_dir=tmp)) as cloud:   # port 0: any free loopback port
        client = OssClient(cloud.endpoint, ...)

`cloud.app` is the WSGI app itself, for in-process tests through httpx.WSGITransport.
With `template=Path("template.yaml")` the local FC runtime (localcloud.runtime) runs the template's
functions too: it starts after the services and the port is bound, before the port answers (so no object
is stored before its trigger is wired), and stops before them (`cloud.runtime`).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

from werkzeug.serving import BaseWSGIServer, make_server

from localcloud.config import LocalCloudConfig
from localcloud.edge import Edge
from localcloud.keepalive import KeepAliveRequestHandler, close_all
from localcloud.state import StateStore
from localcloud.tasks import TaskRunner
from shared.logging import get_logger

if TYPE_CHECKING:
    from localcloud.runtime import FunctionRuntime
    from localcloud.services.base import BaseService
    from localcloud.services.dashscope.service import DashScopeService
    from localcloud.services.ice.service import IceService
    from localcloud.services.imm.service import ImmService
    from localcloud.services.mns.service import MnsService
    from localcloud.services.oss.service import OssService

    ServiceT = TypeVar("ServiceT", bound=BaseService)

log = get_logger("localcloud")
# How often functions waiting for their resources (`create_resources=False`) look again.
_RESOURCE_POLL_SECONDS = 0.5


class _QuietRequestHandler(KeepAliveRequestHandler):
    """werkzeug's access log writes the whole request line, query string included; presigned URLs carry
    signatures and security tokens there. Log the method, path and status only, through structlog."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.debug("edge.request", method=self.command, path=path, status=str(code))


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class LocalCloud:
    def __init__(
        self,
        config: LocalCloudConfig | None = None,
        *,
        services: Sequence[str] | None = None,
        template: Path | str | None = None,
        parameters: Mapping[str, str] | None = None,
        functions_dir: Path | str = "functions",
        create_resources: bool = True,
    ) -> None:
        self.config = config or LocalCloudConfig()
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.state = StateStore(self.config.data_dir)
        self.tasks = TaskRunner(self.config.workers)
        self.edge = Edge()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._runtime_waiter: threading.Thread | None = None
        self._port = self.config.port
        self.services: dict[str, BaseService] = {}
        self._build_services(services)
        self.runtime: FunctionRuntime | None = None
        if template is not None:
            from localcloud.runtime import FunctionRuntime

            try:
                self.runtime = FunctionRuntime(
                    self,
                    template,
                    parameters=parameters,
                    functions_dir=functions_dir,
                    create_resources=create_resources,
                )
            except BaseException:
                self.tasks.shutdown(wait=False)
                self.state.close()
                raise

    # --- composition -----------------------------------------------------------------------------------

    def _build_services(self, names: Sequence[str] | None) -> None:
        # Imported here so that `import localcloud.server` stays light and services may import LocalCloud.
        from localcloud.services import registry

        for name in registry.ALL_SERVICES:
            if names is None or name in names:
                service = registry.build(name, self)
                self.services[service.name] = service
                self.edge.register(service)

    # Typed accessors: LocalCloud is the `localcloud.ports.Host` services are given (they see OSS and MNS
    # through the narrow OssPort/MnsPort); tests and tools get each service's full, typed interface here.

    def running(self, name: str) -> bool:
        return name in self.services

    def oss(self) -> OssService:
        from localcloud.services.oss.service import OssService

        return self._running("oss", OssService)

    def mns(self) -> MnsService:
        from localcloud.services.mns.service import MnsService

        return self._running("mns", MnsService)

    def imm(self) -> ImmService:
        from localcloud.services.imm.service import ImmService

        return self._running("imm", ImmService)

    def ice(self) -> IceService:
        from localcloud.services.ice.service import IceService

        return self._running("ice", IceService)

    def dashscope(self) -> DashScopeService:
        from localcloud.services.dashscope.service import DashScopeService

        return self._running("dashscope", DashScopeService)

    def _running(self, name: str, kind: type[ServiceT]) -> ServiceT:
        service = self.services.get(name)
        if service is None:
            raise LookupError(f"localcloud service {name!r} is not running")
        if not isinstance(service, kind):  # registry.SERVICES names another class: a wiring bug
            raise TypeError(f"localcloud service {name!r} is a {type(service).__name__}, not {kind.__name__}")
        return service

    @property
    def app(self) -> Edge:
        return self.edge

    @property
    def endpoint(self) -> str:
        return f"http://{self.config.host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    # --- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> LocalCloud:
        """Start the services and serve the edge port in a background thread."""
        for service in self.services.values():
            service.start()
        self._server = make_server(
            self.config.host, self.config.port, self.edge, threaded=True, request_handler=_QuietRequestHandler
        )
        self._port = self._server.server_port
        # The triggers are wired before the port answers, as the cloud delivers an event for every object
        # it accepted: an upload that came in between would otherwise never get one. The socket is bound
        # and listening already (the functions' environment names its port); a client that connects now
        # waits in the listen backlog until the thread below serves it.
        missing: list[str] = []
        if self.runtime is not None:
            from localcloud.runtime import ResourcesMissing

            try:
                self.runtime.start()
            except ResourcesMissing as error:
                missing = error.missing  # wait for them below, with the port open: bootstrap needs it
            except BaseException:
                self._server.server_close()  # never served: shutdown() would wait for ever
                self._server = None
                self.stop()
                raise
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll interval
            name="localcloud-edge",
            daemon=True,
        )
        self._thread.start()
        log.info("localcloud.listening", endpoint=self.endpoint, data_dir=str(self.config.data_dir))
        if missing:
            self._runtime_waiter = threading.Thread(
                target=self._start_runtime_when_ready, args=(missing,), name="localcloud-runtime-waiter"
            )
            self._runtime_waiter.start()
        return self

    def _start_runtime_when_ready(self, missing: list[str]) -> None:
        """Start the functions once the resources they need exist, as `s deploy` can only succeed after
        `deploy.bootstrap`. An upload that lands between the bucket's creation and the triggers' wiring
        has no event; the timer's inbox reconciliation picks it up."""
        from localcloud.runtime import ResourcesMissing

        runtime = self.runtime
        assert runtime is not None
        log.warning(
            "runtime.waiting_for_resources",
            missing=missing,
            hint=f"python -m deploy.bootstrap --endpoint {self.endpoint}",
        )
        while not self._stopping.wait(_RESOURCE_POLL_SECONDS):
            if runtime.missing_resources():
                continue
            try:
                runtime.start()
            except ResourcesMissing:
                continue
            log.info("runtime.resources_ready")
            return

    def wait_runtime_started(self, timeout: float) -> bool:
        """True once the functions run (at once, unless they wait for their resources)."""
        deadline = time.monotonic() + timeout
        while self.runtime is not None and not self.runtime.started:
            if time.monotonic() >= deadline or self._stopping.is_set():
                return False
            time.sleep(0.05)
        return self.runtime is not None

    def _start_runtime(self) -> None:
        if self.runtime is None:
            return
        try:
            self.runtime.start()
        except BaseException:
            self.stop()
            raise

    def start_services_only(self) -> LocalCloud:
        """Start the services without a port (in-process tests through `app`)."""
        for service in self.services.values():
            service.start()
        self._start_runtime()
        return self

    def serve_forever(self, on_started: Callable[[LocalCloud], None] | None = None) -> None:
        """Foreground mode for `python -m localcloud up`; returns on Ctrl-C (SIGINT) or SIGTERM."""
        # SIGTERM (a process manager, `kill`) stops as cleanly as Ctrl-C: running tasks finish, state closes.
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt) if main_thread else None
        self.start()
        assert self._thread is not None
        try:
            if on_started is not None:
                on_started(self)
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            log.info("localcloud.stopping")
        finally:
            self.stop()
            if main_thread:
                signal.signal(signal.SIGTERM, previous)

    def stop(self) -> None:
        self._stopping.set()
        if self._runtime_waiter is not None:
            self._runtime_waiter.join()
            self._runtime_waiter = None
        if self.runtime is not None:
            self.runtime.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            close_all(self._server)
            self._server = None
        for service in reversed(list(self.services.values())):
            service.stop()
        self.tasks.shutdown(wait=True)
        self.state.close()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        if self.runtime is not None:
            return self.runtime.wait_idle(timeout)
        return self.tasks.wait_idle(timeout)

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""FunctionRuntime: template.yaml's functions running inside localcloud, wired to its OSS, MNS and edge.

    cloud = LocalCloud(config).start()
    runtime = FunctionRuntime(cloud, Path("template.yaml")).start()
    runtime.invoke("api", b"{}")                        # synchronous: the result bytes
    request_id = runtime.invoke_async("on_upload", event)  # persisted, retried, destinations
    runtime.fire_timer("fetch_results")                 # the timer trigger, now
    runtime.wait_idle()                                 # async work, MNS pushes and media tasks all done

`python -m localcloud up` builds one through `LocalCloud(config, template=...)`. What `start()` does:
imports every handler (a broken one stops the start with the function and file named), creates what the
template names (the OSS trigger buckets, MNS trigger topics, destination queues and topics, and every
parameter whose name ends in Bucket/BucketName, Topic/TopicName or Queue/QueueName, such as
PipelineTopic, OutputTopic and DeadLetterQueue), then connects the triggers (triggers.py), the HTTP proxy
(http_trigger.py), the asynchronous invoker (invoke.py) and the timer scheduler.

Parameters: given values win, then Defaults, then local values for deploy-time secrets (parameters.py);
`local_parameters` holds what was supplied locally so `up` can print it. Environment variables are
applied per invocation (environment.py), never set process-wide.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from localcloud.config import DEFAULT_ACCESS_KEY_ID, DEFAULT_DASHSCOPE_API_KEY
from localcloud.runtime import environment
from localcloud.runtime.context import (
    HIDDEN_BY_DEFAULT,
    LOCAL_SECURITY_TOKEN,
    FcCredentials,
    FunctionMeta,
    ServiceMeta,
    environment_layer,
    function_environment,
    new_request_id,
)
from localcloud.runtime.events import timer_event
from localcloud.runtime.execution import FunctionInstance, InvocationFailed
from localcloud.runtime.http_trigger import HttpProxy
from localcloud.runtime.invoke import AsyncInvoker
from localcloud.runtime.loader import ensure_project_root, load_entry
from localcloud.runtime.parameters import local_parameter_values
from localcloud.runtime.template import (
    FunctionSpec,
    Template,
    declared_parameters,
    parse_template,
    read_document,
)
from localcloud.runtime.triggers import OssTriggers, TimerScheduler, mns_deliver, subscription_name
from localcloud.runtime.triggers_spec import (
    Destination,
    HttpTrigger,
    MnsTopicTrigger,
    OssTrigger,
    TimerTrigger,
)
from localcloud.services.base import ServiceHttpError
from shared.errors import ConfigurationError, InvalidRequestError
from shared.logging import get_logger

if TYPE_CHECKING:
    from localcloud.edge import Edge
    from localcloud.ports import Host, MnsPort, OssPort

    class FunctionHost(Host, Protocol):
        """What the runtime needs of the cloud: a service's `Host`, plus the edge to mount FC's proxy on."""

        @property
        def edge(self) -> Edge: ...


log = get_logger("localcloud.runtime")


class ResourcesMissing(ConfigurationError):
    """The runtime was told not to create resources, and some the template names do not exist yet."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"the template's resources do not exist: {'; '.join(missing)}. Create them with "
            "`python -m deploy.bootstrap --endpoint <this localcloud>` (make bootstrap ENDPOINT=...)"
        )
        self.missing = missing


_RESOURCE_SUFFIXES = {
    "bucket": ("Bucket", "BucketName"),
    "topic": ("Topic", "TopicName"),
    "queue": ("Queue", "QueueName"),
}


class FunctionRuntime:
    """The local FC 2.0 runtime for one template (see the module docstring)."""

    def __init__(
        self,
        cloud: FunctionHost,
        template_path: Path | str,
        *,
        parameters: Mapping[str, str] | None = None,
        functions_dir: Path | str = "functions",
        create_resources: bool = True,
    ) -> None:
        self.cloud = cloud
        # True: make the bucket, topics and queues the template names (a convenience for local runs).
        # False: require them, as Function Compute does; `python -m deploy.bootstrap` creates them.
        self.create_resources = create_resources
        self.config = cloud.config
        self.template_path = Path(template_path)
        self.project_root = self.template_path.resolve().parent
        directory = Path(functions_dir)
        self.functions_dir = directory if directory.is_absolute() else self.project_root / directory
        try:
            text = self.template_path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"{self.template_path}: cannot read the template ({exc})") from None
        document = read_document(text, str(self.template_path))
        values, self.local_parameters = local_parameter_values(
            declared_parameters(document),
            dict(parameters or {}),
            self.config.data_dir / "runtime",
            _dashscope_key(self.config.api_keys),
        )
        self.template: Template = parse_template(
            document,
            source=str(self.template_path),
            parameters=values,
            region=self.config.region,
            account_id=self.config.account_id,
        )
        self.credentials = FcCredentials(*_default_key(self.config.credentials), LOCAL_SECURITY_TOKEN)
        self.instance_id = f"localcloud-{uuid.uuid4().hex[:12]}"
        self.async_invoker = AsyncInvoker(
            cloud.state,
            self._instance_or_none,
            self._deliver_destination,
            retry_scale=self.config.retry_scale,
        )
        self._instances: dict[tuple[str, str], FunctionInstance] = {}
        self._oss_listener: OssTriggers | None = None
        self._timers: TimerScheduler | None = None
        self._subscriptions: list[tuple[str, str]] = []
        self._started = False

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> FunctionRuntime:
        """Import the handlers, create the resources, connect the triggers. Returns self."""
        if self._started:
            return self
        environment.install()
        try:
            ensure_project_root(self.project_root)
            self._instances = {(f.service, f.name): self._load(f) for f in self.template.functions}
            if self.create_resources:
                self._create_resources()
            else:
                self._require_resources()
            self._connect_triggers()
            self.async_invoker.start()
            assert self._timers is not None
            self._timers.start()
        except BaseException:
            self._disconnect()
            environment.uninstall()
            raise
        self._started = True
        log.info("runtime.started", template=str(self.template_path), functions=len(self._instances))
        return self

    @property
    def started(self) -> bool:
        return self._started

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._disconnect()
        self.async_invoker.stop()
        environment.uninstall()

    def _disconnect(self) -> None:
        if self._timers is not None:
            self._timers.stop()
        if self._oss_listener is not None:
            self._oss_listener.active = False
        if self.cloud.edge.fc_proxy is not None and isinstance(self.cloud.edge.fc_proxy, HttpProxy):
            self.cloud.edge.fc_proxy = None
        mns = self.cloud.mns() if self.cloud.running("mns") else None
        for topic, name in self._subscriptions:
            if mns is not None:
                mns.unsubscribe_local(topic, name)
        self._subscriptions.clear()

    # --- invocation API ------------------------------------------------------------------------------------

    def invoke(self, function: str, event: bytes | str = b"") -> bytes:
        """Invoke synchronously; the result bytes, or InvocationFailed carrying FC's error document."""
        instance = self._instance(function)
        _require_event_function(instance.spec)
        return self._invoke_sync(instance, _as_bytes(event))

    def invoke_async(self, function: str, event: bytes | str = b"") -> str:
        """Queue an asynchronous invocation (persisted; it runs once the runtime is started)."""
        spec = self.template.function(function)
        _require_event_function(spec)
        return self.async_invoker.submit(spec, _as_bytes(event))

    def fire_timer(self, function: str, trigger: str | None = None) -> str:
        """Fire a timer trigger now (the function's only one when `trigger` is None); the request id."""
        instance, chosen = self._timer(function, trigger)
        assert self._timers is not None
        return self._timers.fire(instance, chosen)

    def run_timer(self, function: str, trigger: str | None = None) -> bytes:
        """Invoke the function with its timer's event now and wait for the answer (InvocationFailed when
        it failed). A driver that fires faster than the deployed period uses this to start a sweep only
        once the last one ended, as the deployed minute and the sweep's budget guarantee (`run`)."""
        instance, chosen = self._timer(function, trigger)
        event = timer_event(chosen.name, datetime.now(timezone.utc), chosen.payload)
        return self._invoke_sync(instance, event)

    def _timer(self, function: str, trigger: str | None) -> tuple[FunctionInstance, TimerTrigger]:
        instance = self._instance(function)
        timers = [t for t in instance.spec.triggers if isinstance(t, TimerTrigger)]
        chosen = [t for t in timers if trigger is None or t.name == trigger]
        if len(chosen) != 1:
            names = ", ".join(t.name for t in timers) or "none"
            raise LookupError(f"function {function}: name one of its timer triggers ({names})")
        return instance, chosen[0]

    def http_url(self, function: str) -> str:
        spec = self.template.function(function)
        return f"{self.cloud.endpoint}/2016-08-15/proxy/{spec.service}/{spec.name}/"

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until asynchronous invocations, MNS pushes and localcloud's media tasks are all done."""
        deadline = time.monotonic() + timeout
        mns = self.cloud.mns() if self.cloud.running("mns") else None
        quiet_rounds = 0
        while time.monotonic() < deadline:
            busy = (
                self.async_invoker.pending() > 0
                or (mns is not None and mns.pending_deliveries() > 0)
                or not self.cloud.tasks.idle()
            )
            quiet_rounds = 0 if busy else quiet_rounds + 1
            if quiet_rounds >= 3:  # one kind of work often starts another: be sure all stayed quiet
                return True
            time.sleep(0.02)
        return False

    def describe(self) -> list[str]:
        """Human-readable lines: each function with its triggers, and locally supplied parameters."""
        lines = []
        for spec in self.template.functions:
            kinds = ", ".join(f"{type(t).__name__.removesuffix('Trigger')}:{t.name}" for t in spec.triggers)
            lines.append(f"function {spec.service}/{spec.name}  [{kinds or 'no triggers'}]")
            if any(isinstance(t, HttpTrigger) for t in spec.triggers):
                lines.append(f"  HTTP  {self.http_url(spec.name)}")
        for name, value in sorted(self.local_parameters.items()):
            lines.append(f"parameter {name} = {value}  (local value)")
        return lines

    # --- internals -----------------------------------------------------------------------------------------

    def _instance(self, function: str) -> FunctionInstance:
        if not self._started:
            raise ConfigurationError("the function runtime is not started: call start() first")
        spec = self.template.function(function)
        return self._instances[(spec.service, spec.name)]

    def _instance_or_none(self, service: str, function: str) -> FunctionInstance | None:
        return self._instances.get((service, function))

    def _invoke_sync(self, instance: FunctionInstance, event: bytes) -> bytes:
        request_id = new_request_id()
        outcome = instance.invoke_event(event, request_id=request_id, retry_count=0)
        if not outcome.succeeded:
            raise InvocationFailed(instance.name, request_id, outcome)
        return outcome.payload

    def _submit(self, instance: FunctionInstance, payload: bytes) -> str:
        return self.async_invoker.submit(instance.spec, payload)

    def _load(self, spec: FunctionSpec) -> FunctionInstance:
        service = self.template.service(spec.service)
        meta = ServiceMeta(spec.service, service.log_project, service.log_store)
        own = function_environment(
            template_variables=dict(spec.environment),
            function=_meta_of(spec),
            service=meta,
            credentials=self.credentials,
            region=self.config.region,
            account_id=self.config.account_id,
            endpoint=self.cloud.endpoint,
            instance_id=f"{self.instance_id}-{spec.name}",
        )
        every_template_name = frozenset(k for f in self.template.functions for k in f.environment)
        return FunctionInstance(
            spec,
            meta,
            handler=load_entry(self.functions_dir, spec.service, spec.name, spec.handler),
            initializer=(
                load_entry(self.functions_dir, spec.service, spec.name, spec.initializer)
                if spec.initializer
                else None
            ),
            layer=environment_layer(own, HIDDEN_BY_DEFAULT | every_template_name),
            credentials=self.credentials,
            fc_version=self.config.fc_version,
            region=self.config.region,
            account_id=self.config.account_id,
        )

    def _connect_triggers(self) -> None:
        oss_bindings: list[tuple[FunctionInstance, OssTrigger]] = []
        timer_bindings: list[tuple[FunctionInstance, TimerTrigger]] = []
        for instance in self._instances.values():
            for trigger in instance.spec.triggers:
                if isinstance(trigger, OssTrigger):
                    oss_bindings.append((instance, trigger))
                elif isinstance(trigger, TimerTrigger):
                    timer_bindings.append((instance, trigger))
                elif isinstance(trigger, MnsTopicTrigger):
                    self._subscribe(instance, trigger)
        if oss_bindings:
            self._oss_listener = OssTriggers(
                oss_bindings, self._submit, region=self.config.region, account_id=self.config.account_id
            )
            self._oss_listener.active = True
            self._oss().store.add_listener(self._oss_listener)
        self.cloud.edge.fc_proxy = HttpProxy(self._find_http, self.config)
        self._timers = TimerScheduler(timer_bindings, self._submit)

    def _subscribe(self, instance: FunctionInstance, trigger: MnsTopicTrigger) -> None:
        mns = self._mns()
        name = subscription_name(instance.spec.service, instance.name, trigger.name)
        mns.subscribe_local(
            trigger.topic,
            name,
            mns_deliver(instance, trigger, self._invoke_sync),
            content_format=trigger.content_format,
            strategy=trigger.strategy,
            filter_tag=trigger.filter_tag,
        )
        self._subscriptions.append((trigger.topic, name))

    def _find_http(self, service: str, function: str) -> tuple[FunctionInstance, HttpTrigger] | None:
        instance = self._instances.get((service, function))
        if instance is None:
            return None
        for trigger in instance.spec.triggers:
            if isinstance(trigger, HttpTrigger):
                return instance, trigger
        return None

    def _deliver_destination(
        self, instance: FunctionInstance, destination: Destination, record: bytes
    ) -> None:
        if destination.kind == "function":
            target = self.template.function(
                f"{destination.service or instance.spec.service}/{destination.name}"
            )
            self.async_invoker.submit(target, record)
        elif destination.kind == "queue":
            self._mns().send(destination.name, record.decode("utf-8"))
        else:
            self._mns().publish(destination.name, record.decode("utf-8"))

    def _destination_function(self, spec: FunctionSpec, destination: Destination) -> FunctionSpec:
        try:
            return self.template.function(f"{destination.service or spec.service}/{destination.name}")
        except LookupError as exc:
            raise ConfigurationError(f"{spec.location}/AsyncConfiguration: {exc}") from None

    def _create_resources(self) -> None:
        for kind, names in self._wanted_resources().items():
            for name, origin in names.items():
                try:
                    if kind == "bucket":
                        self._oss().store.create_bucket(name)
                    elif kind == "topic":
                        self._mns().ensure_topic(name)
                    else:
                        self._mns().ensure_queue(name)
                except ServiceHttpError as exc:
                    raise ConfigurationError(
                        f"{origin}: cannot create {kind} {name!r}: {exc.message}"
                    ) from None

    def missing_resources(self) -> list[str]:
        """What the template uses and the cloud lacks, e.g. `bucket 'audiochain' (parameter BucketName)`."""
        return [
            f"{kind} {name!r} ({origin})"
            for kind, names in self._wanted_resources().items()
            for name, origin in names.items()
            if not self._resource_exists(kind, name)
        ]

    def _resource_exists(self, kind: str, name: str) -> bool:
        if kind == "bucket":
            return self._oss().store.bucket_exists(name)
        if kind == "topic":
            return self._mns().topic_exists(name)
        return self._mns().queue_exists(name)

    def _require_resources(self) -> None:
        missing = self.missing_resources()
        if missing:
            raise ResourcesMissing(missing)

    def _wanted_resources(self) -> dict[str, dict[str, str]]:
        """Kind → name → where the template asks for it (parameters, triggers, async destinations)."""
        wanted: dict[str, dict[str, str]] = {"bucket": {}, "topic": {}, "queue": {}}
        for name, value in self.template.parameters.items():
            for kind, suffixes in _RESOURCE_SUFFIXES.items():
                if value and name.endswith(suffixes):
                    wanted[kind].setdefault(value, f"parameter {name}")
        for spec in self.template.functions:
            for trigger in spec.triggers:
                if isinstance(trigger, OssTrigger):
                    wanted["bucket"].setdefault(trigger.bucket, f"{spec.location}/Events/{trigger.name}")
                elif isinstance(trigger, MnsTopicTrigger):
                    wanted["topic"].setdefault(trigger.topic, f"{spec.location}/Events/{trigger.name}")
            for destination in (spec.async_config.on_success, spec.async_config.on_failure):
                if destination is not None and destination.kind in ("queue", "topic"):
                    wanted[destination.kind].setdefault(
                        destination.name, f"{spec.location}/AsyncConfiguration"
                    )
                elif destination is not None:
                    target = self._destination_function(spec, destination)
                    if _is_http_function(target):
                        raise ConfigurationError(
                            f"{spec.location}/AsyncConfiguration: the destination {target.name} is an HTTP "
                            "function; only event functions can be destinations"
                        )
        return wanted

    def _oss(self) -> OssPort:
        self._require("oss")
        return self.cloud.oss()

    def _mns(self) -> MnsPort:
        self._require("mns")
        return self.cloud.mns()

    def _require(self, service: str) -> None:
        if not self.cloud.running(service):
            raise ConfigurationError(
                f"{self.template_path} needs localcloud's {service} service, which is not running"
            )


def _is_http_function(spec: FunctionSpec) -> bool:
    return any(isinstance(trigger, HttpTrigger) for trigger in spec.triggers)


def _require_event_function(spec: FunctionSpec) -> None:
    if _is_http_function(spec):
        raise InvalidRequestError.single(
            "function",
            "event_function",
            f"{spec.name} is an HTTP function (WSGI): call it over HTTP, not with an event",
            "InvokeFunction",
        )


def _meta_of(spec: FunctionSpec) -> FunctionMeta:
    return FunctionMeta(spec.name, spec.handler, spec.memory, spec.timeout)


def _as_bytes(event: bytes | str) -> bytes:
    return event.encode("utf-8") if isinstance(event, str) else bytes(event)


def _default_key(credentials: Mapping[str, str]) -> tuple[str, str]:
    if DEFAULT_ACCESS_KEY_ID in credentials:
        return DEFAULT_ACCESS_KEY_ID, credentials[DEFAULT_ACCESS_KEY_ID]
    key_id = sorted(credentials)[0]
    return key_id, credentials[key_id]


def _dashscope_key(api_keys: frozenset[str]) -> str:
    return DEFAULT_DASHSCOPE_API_KEY if DEFAULT_DASHSCOPE_API_KEY in api_keys else sorted(api_keys)[0]

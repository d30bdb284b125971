"""Wiring the template's triggers to localcloud: OSS object events, MNS topic subscriptions, timers.

OSS      a listener on the object store; each created object that matches a trigger (bucket, event name,
         `Filter.Key.Prefix`/`Suffix`) invokes the function ASYNCHRONOUSLY with the OSS event (events.py).
         The store announces ObjectCreated events only, so ObjectRemoved triggers never fire locally.
MNSTopic a local subscription `fc-<service>-<function>-<trigger>` (underscores become hyphens: MNS names
         allow letters, digits and hyphens) on the topic, in the trigger's NotifyContentFormat and
         NotifyStrategy; each push invokes the function SYNCHRONOUSLY and raises when it fails, so MNS
         retries on the strategy's schedule, exactly as FC's MNS trigger behaves. Registering the same
         name at every start resumes the deliveries left pending by a stop.
Timer    one scheduler thread; each enabled trigger fires at its schedule's next moment (UTC) and
         invokes the function ASYNCHRONOUSLY with the timer event. Moments missed while localcloud was
         down are not replayed (FC does not replay them either). `fire()` fires one now (tests, make run).

    >>> subscription_name("audiochain", "on_notify", "pipeline")
    'fc-audiochain-on-notify-pipeline'
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone

from localcloud.ports import ObjectCreated
from localcloud.runtime.cron import EverySchedule
from localcloud.runtime.events import oss_event, rule_id, timer_event
from localcloud.runtime.execution import FunctionInstance, InvocationFailed
from localcloud.runtime.triggers_spec import MnsTopicTrigger, OssTrigger, TimerTrigger
from shared.logging import get_logger

log = get_logger("localcloud.runtime")

SubmitAsync = Callable[[FunctionInstance, bytes], str]
_MNS_NAME_BAD = re.compile(r"[^A-Za-z0-9-]")


def subscription_name(service: str, function: str, trigger: str) -> str:
    return _MNS_NAME_BAD.sub("-", f"fc-{service}-{function}-{trigger}")[:256]


class OssTriggers:
    """The object-store listener that turns created objects into OSS trigger invocations."""

    def __init__(
        self,
        bindings: list[tuple[FunctionInstance, OssTrigger]],
        submit: SubmitAsync,
        *,
        region: str,
        account_id: str,
    ) -> None:
        self._bindings = bindings
        self._submit = submit
        self._region = region
        self._account_id = account_id
        self.active = False

    def __call__(self, created: ObjectCreated) -> None:
        if not self.active:
            return  # the store keeps its listeners after a stop; a stopped runtime ignores events
        record = created.record
        for instance, trigger in self._bindings:
            if not trigger.matches(record.bucket, record.key, created.event_name.removeprefix("oss:")):
                continue
            event = oss_event(
                created,
                region=self._region,
                account_id=self._account_id,
                rule_id=rule_id(instance.spec.service, instance.name, trigger.name),
            )
            request_id = self._submit(instance, event)
            log.info(
                "runtime.trigger.oss_fired",
                function=instance.name,
                trigger=trigger.name,
                bucket=record.bucket,
                request_id=request_id,
            )


def mns_deliver(
    instance: FunctionInstance, trigger: MnsTopicTrigger, invoke: Callable[[FunctionInstance, bytes], bytes]
) -> Callable[[bytes], None]:
    """The `deliver` callable for an MNS topic trigger: a synchronous invocation that raises on failure."""

    def deliver(event: bytes) -> None:
        try:
            invoke(instance, event)
        except InvocationFailed as failure:
            log.warning(
                "runtime.trigger.mns_failed_will_retry",
                function=instance.name,
                trigger=trigger.name,
                request_id=failure.request_id,
            )
            raise

    return deliver


class TimerScheduler:
    """One thread firing every enabled timer trigger at its schedule's moments."""

    def __init__(
        self,
        bindings: list[tuple[FunctionInstance, TimerTrigger]],
        submit: SubmitAsync,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._bindings = [(instance, trigger) for instance, trigger in bindings if trigger.enabled]
        self._submit = submit
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at: datetime | None = None

    def start(self) -> None:
        if not self._bindings:
            return
        self._stop.clear()
        self._started_at = self._clock()
        self._thread = threading.Thread(target=self._run, name="fc-timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def fire(self, instance: FunctionInstance, trigger: TimerTrigger, at: datetime | None = None) -> str:
        """Invoke the function now with this trigger's event (whether or not the trigger is enabled)."""
        moment = at or self._clock()
        request_id = self._submit(instance, timer_event(trigger.name, moment, trigger.payload))
        log.info(
            "runtime.trigger.timer_fired", function=instance.name, trigger=trigger.name, request_id=request_id
        )
        return request_id

    def _next(self, trigger: TimerTrigger, after: datetime) -> datetime | None:
        schedule = trigger.schedule
        if isinstance(schedule, EverySchedule):
            return schedule.next_after(after, start=self._started_at)
        return schedule.next_after(after)

    def _run(self) -> None:
        now = self._clock()
        upcoming = {index: self._next(trigger, now) for index, (_, trigger) in enumerate(self._bindings)}
        while not self._stop.is_set():
            due = [moment for moment in upcoming.values() if moment is not None]
            if not due:
                return
            wait = (min(due) - self._clock()).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 60.0)):
                return
            now = self._clock()
            for index, moment in list(upcoming.items()):
                if moment is None or moment > now:
                    continue
                instance, trigger = self._bindings[index]
                try:
                    self.fire(instance, trigger, moment)
                except Exception:
                    log.exception(
                        "runtime.trigger.timer_not_fired", function=instance.name, trigger=trigger.name
                    )
                upcoming[index] = self._next(trigger, now)

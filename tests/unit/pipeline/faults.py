"""A fault-injection harness for the chain: the fake world's services behind an injectable layer that fails
a share of sends (503, 429 throttling, a hang cut off by the client's timeout, a dropped answer after the
service acted) under the real clients' retry rule, with FC's and MNS's delivery rules around the handlers
(an upload event retried 3 times then dead-lettered; a notification retried on the next tick; a window of
notifications dropped) and the timer firing every simulated minute.

It drives the handlers the functions run (`handle_upload_event`, `handle_notification_event`,
`handle_timer_event`) against the fake world of tests/unit/pipeline/fakes.py: no sockets, a simulated
clock. Used small by tests/unit/pipeline/test_faults.py and at full size by bench/chain_faults.py.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ServiceError
from shared.jobs.model import JobState
from shared.pipeline.handlers import handle_notification_event, handle_timer_event, handle_upload_event
from shared.pipeline.orchestrator import Orchestrator
from tests.unit.functions.helpers import BUCKET, envelope, mns_json_event, oss_event
from tests.unit.pipeline.fakes import Submission, World, make_world

FAULT_KINDS = ("503", "429", "hang", "dropped")
_ERRORS = {
    "503": ("ServiceUnavailable", 503),
    "429": ("Throttling", 429),
    "hang": ("RequestTimeout", None),  # the client's read timeout (shorter than the lease) cut it off
    "dropped": ("RequestTimeout", None),  # the service acted; its answer never arrived
}
INJECTED = {
    "oss": frozenset({"submit_convert", "head_object", "get_object_bytes", "put_object", "iter_list_pages"}),
    "dashscope": frozenset({"submit_filetrans", "get_task", "download_transcription"}),
    "mns": frozenset({"publish"}),
}
# The operations that start work: the client sends them again only after a refusal.
NOT_IDEMPOTENT = frozenset({"submit_convert", "submit_filetrans", "publish"})
CLIENT_TRIES = 3  # shared.clients.base.RetryPolicy's default max_attempts
FC_ASYNC_RETRIES = 3  # FC retries a failed asynchronous invocation 3 times, then sends it to the DLQ


@dataclass
class Faults:
    rate: float
    rng: random.Random
    injected: Counter[str] = field(default_factory=Counter)
    enabled: bool = True

    def call(self, service: str, name: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One call as the real client makes it: up to CLIENT_TRIES sends, each failing at `rate`; a send
        is repeated after a refusal (503, 429: the service did nothing) or, for an idempotent operation,
        after any failure (shared.clients.base's rule)."""
        for attempt in range(1, CLIENT_TRIES + 1):
            if not (self.enabled and self.rng.random() < self.rate):
                return method(*args, **kwargs)
            kind = self.rng.choice(FAULT_KINDS)
            self.injected[kind] += 1
            if kind == "dropped":
                method(*args, **kwargs)
            refused = kind in ("503", "429")
            if attempt < CLIENT_TRIES and (refused or name not in NOT_IDEMPOTENT):
                continue
            code, status = _ERRORS[kind]
            raise ServiceError(f"injected {kind}", service=service, code=code, status=status, retryable=True)
        raise AssertionError("unreachable")


class Faulty:
    """`inner` with the calls named in INJECTED[service] passing through `faults`."""

    def __init__(self, inner: object, service: str, faults: Faults) -> None:
        self._inner = inner
        self._service = service
        self._faults = faults

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name in INJECTED[self._service]:
            return functools.partial(self._faults.call, self._service, name, attribute)
        return attribute


@dataclass
class ChainRun:
    world: World
    orchestrator: Orchestrator
    faults: Faults
    keys: list[str]
    ticks: int = 0
    dead_letters: list[bytes] = field(default_factory=list)
    notifications_dropped: int = 0
    notifications_delivered: int = 0
    notified: set[str] = field(default_factory=set)
    delivered_bodies: list[bytes] = field(default_factory=list)

    # What FC and MNS do around the handlers -------------------------------------------------------------

    def upload(self, key: str, deliveries: int = 1) -> None:
        data = b"RIFF-audio-" + key.encode()
        etag = self.world.oss.add(BUCKET, key, data)
        event = oss_event((key, etag, len(data)))
        for _ in range(deliveries):
            self._invoke_async(event)

    def _invoke_async(self, event: bytes) -> None:
        for _ in range(1 + FC_ASYNC_RETRIES):
            try:
                _isolated(handle_upload_event, event, self.orchestrator)
                return
            except ServiceError:
                continue
        self.dead_letters.append(event)

    def _notify(self, submission: Submission, dropped: bool) -> None:
        self.world.oss.finish(submission)
        if dropped:
            self.notifications_dropped += 1
            self.notified.add(submission.task_id)
            return
        body = mns_json_event(envelope(submission))
        try:
            _isolated(handle_notification_event, body, self.orchestrator)
        except ServiceError:
            return  # MNS pushes it again (next tick)
        self.notified.add(submission.task_id)
        self.notifications_delivered += 1
        self.delivered_bodies.append(body)

    def tick(self, *, drop_notifications: bool = False) -> None:
        """One simulated minute: tasks finish and notify, DashScope tasks end, the timer fires."""
        for submission in list(self.world.oss.submissions):
            if submission.task_id not in self.notified:
                self._notify(submission, drop_notifications)
        for task_id, status in list(self.world.dashscope.status.items()):
            if status == "RUNNING":
                self.world.dashscope.status[task_id] = "SUCCEEDED"
        with contextlib.suppress(ServiceError):  # the next tick sweeps again
            _isolated(handle_timer_event, b"{}", self.orchestrator)
        self.world.clock.advance(seconds=60)
        self.ticks += 1

    def republish(self, count: int, rng: random.Random) -> None:
        for _ in range(count):
            _isolated(handle_notification_event, rng.choice(self.delivered_bodies), self.orchestrator)

    # What came of it ----------------------------------------------------------------------------------

    def jobs_by_key(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for job in self.world.store.list(limit=1000).jobs:
            found.setdefault(str(job.input.get("key")), []).append(job.id)
        return found

    def complete(self) -> int:
        """Uploads whose (single) job succeeded and whose completion message went out."""
        published = self.completions()
        done = 0
        for key in self.keys:
            jobs = self.jobs_by_key().get(key, [])
            if len(jobs) == 1 and self.world.store.get(jobs[0]).state is JobState.SUCCEEDED:
                done += published[jobs[0]] >= 1
        return done

    def completions(self) -> Counter[str]:
        return Counter(json.loads(body)["job_id"] for _, body in self.world.mns.published)

    def figures(self) -> dict[str, Any]:
        jobs = self.jobs_by_key()
        tasks = Counter(sub.target.split("/")[1] for sub in self.world.oss.submissions)
        asr = Counter(request.input.file_url.url.split("/")[4] for request in self.world.dashscope.filetrans)
        states = Counter(self.world.store.get(j).state.value for ids in jobs.values() for j in ids)
        return {
            "uploads": len(self.keys),
            "complete": self.complete(),
            "duplicate_jobs": sum(len(ids) - 1 for ids in jobs.values()),
            "duplicate_convert_tasks": sum(n - 1 for n in tasks.values()),
            "duplicate_asr_tasks": sum(n - 1 for n in asr.values()),
            "duplicate_completion_messages": sum(n - 1 for n in self.completions().values()),
            "job_states": dict(states),
            "ticks": self.ticks,
            "faults_injected": dict(self.faults.injected),
            "dead_letters": len(self.dead_letters),
            "notifications_delivered": self.notifications_delivered,
            "notifications_dropped": self.notifications_dropped,
        }


def _isolated(body: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run a handler body in its own context, as each FC invocation does: the log correlation ids it
    binds (job id, task id) stay with it instead of leaking into later tests."""
    return contextvars.copy_context().run(body, *args)


def chain_run(uploads: int, *, rate: float = 0.0, seed: int = 8) -> ChainRun:
    world = make_world()
    faults = Faults(rate, random.Random(seed))
    orchestrator = Orchestrator(
        world.settings,
        world.store,
        Faulty(world.oss, "oss", faults),  # type: ignore[arg-type]
        mns=Faulty(world.mns, "mns", faults),  # type: ignore[arg-type]
        dashscope=Faulty(world.dashscope, "dashscope", faults),  # type: ignore[arg-type]
        imm=world.imm,
        ice=world.ice,
        clock=world.clock,
    )
    keys = [f"inbox/talk-{n:02d}.wav" for n in range(uploads)]
    return ChainRun(world, orchestrator, faults, keys)


def duplicate_delivery(
    uploads: int, *, deliveries: int = 3, republished: int = 40, seed: int = 8
) -> ChainRun:
    """Each upload delivered `deliveries` times, then `republished` notifications delivered again."""
    run = chain_run(uploads, seed=seed)
    for key in run.keys:
        run.upload(key, deliveries)
    for _ in range(5):
        run.tick()
    run.republish(republished, random.Random(seed))
    run.tick()
    return run


def faulty_chain(
    uploads: int, *, rate: float = 0.2, drop_ticks: int = 5, max_ticks: int = 60, seed: int = 8
) -> ChainRun:
    """`rate` of service calls failing, the first `drop_ticks` minutes' notifications dropped; ticks until
    every upload completed (or `max_ticks`)."""
    run = chain_run(uploads, rate=rate, seed=seed)
    for key in run.keys:
        run.upload(key)
    while run.ticks < max_ticks and run.complete() < uploads:
        run.tick(drop_notifications=run.ticks < drop_ticks)
    return run

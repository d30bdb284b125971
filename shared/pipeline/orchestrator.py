"""The chain's operations, as the FC handlers call them. Every one is idempotent.

    orchestrator = Orchestrator(settings, store, oss, mns=mns, dashscope=dashscope, imm=imm, ice=ice)

    on_upload (OSS trigger)      for record in OssEvent.from_bytes(event).events:
                                     orchestrator.handle_upload(record)
    on_notify (MNS topic)        note = parse_notification(MnsMessage.from_bytes(event))
                                 orchestrator.handle_notification(note)
    fetch_results (timer)        orchestrator.sweep()
    api (HTTP)                   orchestrator.submit_api_job("merge", body, idempotency_key=header)
                                 orchestrator.store.get(job_id) / .store.list(...)

The rules are pure (decide, plans, keys, results); this class performs the I/O through the injected
clients and records every step in the job store. Duplicate events, redelivered notifications and
concurrent invocations meet at the store's create-if-absent writes, so each step is submitted once per
attempt whatever arrives twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from shared.auth.clock import Clock, as_utc, utc_now
from shared.clients.errors import ObjectNotFound
from shared.clients.oss_models import ObjectInfo
from shared.errors import ConfigurationError, InvalidRequestError, ServiceError
from shared.jobs.control import index_source
from shared.jobs.errors import JobNotFound
from shared.jobs.ids import job_id_time
from shared.jobs.model import JobRecord, JobType, JobView, StepName, StepState
from shared.jobs.outbox import CompletionOutbox, outcome_of
from shared.jobs.store import DueEntry, JobSnapshot, JobStore
from shared.jobs.webhooks import WebhookLog
from shared.logging import get_logger
from shared.ops.enums import DashScopeTaskStatus
from shared.ops.limits import ASR_MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from shared.pipeline.decide import Ignore, decide_upload
from shared.pipeline.handoff import JobDue, publish_job_due, recognises_synchronously
from shared.pipeline.inputs import (
    ConvertJobInput,
    MergeEngine,
    MergeJobInput,
    TranscribeJobInput,
    TranscribeMode,
    UploadInput,
    api_job_type,
    parse_job_input,
)
from shared.pipeline.keys import job_id_from_key, step_targets, transcription_source
from shared.pipeline.plans import choose_merge_engine, job_steps, preflight
from shared.pipeline.ports import Clients, DashScopePort, IcePort, ImmPort, MnsPort, OssPort
from shared.pipeline.recognition import rule_for
from shared.pipeline.results import completion_message
from shared.pipeline.retry import retry_due
from shared.pipeline.reupload import INVALID_UPLOAD, retry_after_reupload
from shared.pipeline.schedule import (
    KEEP_IN_PLACE,
    DroppedEntries,
    PollHint,
    PollTimes,
    next_check,
    next_poll,
    poll_hint,
)
from shared.pipeline.settings import PipelineSettings
from shared.pipeline.settle import MAX_SETTLE_ENTRIES, settle_due_jobs, settle_time
from shared.pipeline.steps import StepRunner
from shared.pipeline.upload_options import upload_options
from shared.pipeline.webhooks import WebhookDispatcher, WebhookSender, check_callback_allowed, send_with_httpx

log = get_logger(__name__)

if TYPE_CHECKING:
    # Completion notifications reach on_notify only: the other functions' cold start leaves their models
    # unloaded (issue 11), so the code below that tells them apart imports them where it runs.
    from shared.events.notifications import IceCallback, TaskNotification
    from shared.events.oss import OssRecord

    Notification = TaskNotification | IceCallback


@dataclass
class SweepReport:
    """What one sweep did (for the timer handler's log line)."""

    examined: int = 0
    completed: int = 0  # submitted tasks found finished (or failed) by polling
    advanced: int = 0  # jobs whose next step was claimed and run
    finalized: int = 0  # finished jobs whose completion was published and marker removed
    errors: int = 0
    polled: int = 0  # submitted tasks whose service was asked (or whose target was looked for)
    waiting: int = 0  # unfinished jobs not due yet: not read at all
    stopped_early: bool = False  # the time budget ran out before every unfinished job was examined
    settled: int = 0  # finished jobs sealed by their second look (shared.pipeline.settle)
    reopened: int = 0  # finished jobs whose second look found them changed: back in the sweep


class Orchestrator:
    """Runs jobs through their steps. Stateless apart from its collaborators and a memory of when to poll
    running recognitions next (`PollTimes`, an optimisation): safe to share between the threads of an
    instance (`InstanceConcurrency > 1`)."""

    def __init__(
        self,
        settings: PipelineSettings,
        store: JobStore,
        oss: OssPort,
        *,
        mns: MnsPort | None = None,
        dashscope: DashScopePort | None = None,
        imm: ImmPort | None = None,
        ice: IcePort | None = None,
        clock: Clock = utc_now,
        webhook_sender: WebhookSender = send_with_httpx,
    ) -> None:
        self.settings = settings.validate()
        if store.layout.prefix != settings.jobs_prefix:
            raise ConfigurationError(
                f"the job store keeps jobs under {store.layout.prefix!r}, the settings say "
                f"{settings.jobs_prefix!r}"
            )
        self.store = store
        self.clients = Clients(oss=oss, mns=mns, dashscope=dashscope, imm=imm, ice=ice)
        self.clock = clock
        self.runner = StepRunner(settings, store, self.clients)
        self.poll_times = PollTimes()
        self.outbox = CompletionOutbox(store.backend, store.layout)
        self.webhooks = WebhookDispatcher(
            settings, WebhookLog(store.backend, store.layout.prefix), webhook_sender
        )

    # Uploads -----------------------------------------------------------------------------------------

    def handle_upload(self, record: OssRecord) -> JobView | None:
        """Start (or find and advance) the job for one OSS event record; None when it is not an upload."""
        decision = decide_upload(record, self.settings)
        if isinstance(decision, Ignore):
            log.info("upload.ignored", reason=decision.reason, detail=decision.detail, key=record.raw_key)
            return None
        existing = self.store.find(decision.idempotency_key)
        if existing is not None:
            log.info("upload.job.exists", job_id=existing.id, key=decision.key)
            index_source(self.store, str(existing.input.get("key", decision.key)), existing.id)
            retry_after_reupload(self.store, existing, record)
            return self.advance(existing.id)
        found = self._resolve_upload(decision.candidate_keys, decision.etag)
        if found is None:
            return None
        key, etag, info = found
        fields: dict[str, Any] = {"bucket": decision.bucket, "key": key, "etag": etag}
        fields["relative_key"] = relative_key = key[len(self.settings.inbox_prefix) :]
        rule = rule_for(self.settings.upload_rules, relative_key)
        try:
            # How the rule and the object's metadata say to recognise it, recorded on the job.
            options = upload_options(rule, info.metadata)
            fields.update(options.fields)
            if options.sources:
                fields["options_from"] = options.sources
            job_input: BaseModel | dict[str, Any] = UploadInput.build(**fields)
        except InvalidRequestError as error:
            return self._reject_upload(decision.idempotency_key, fields, error)
        view, _ = self.store.create_or_get(JobType.TRANSCRIBE_UPLOAD, job_input, decision.idempotency_key)
        index_source(self.store, key, view.id)
        return self.advance(view.id)

    def _reject_upload(
        self, idempotency_key: str, fields: dict[str, Any], error: InvalidRequestError
    ) -> JobView:
        """An upload the bucket accepted but the chain cannot run still gets a job, failed at once with the
        reason: it is listed, found by `?source=`, announced, and can be retried once the rules allow it."""
        log.warning("upload.refused", key=fields["key"], code=error.code, error=str(error))
        view, _ = self.store.create_or_get(JobType.TRANSCRIBE_UPLOAD, fields, idempotency_key)
        index_source(self.store, fields["key"], view.id)
        claim = self.store.claim_step(view.id, 0)
        if claim is not None:
            self.store.record_failed(
                view.id, 0, claim.attempt, code=INVALID_UPLOAD, message=str(error), retryable=False
            )
        return self.advance(view.id)

    def handle_uploads(self, records: Iterable[OssRecord]) -> list[JobView]:
        """`handle_upload` for every record of an event (an OSS event may carry several)."""
        views = (self.handle_upload(record) for record in records)
        return [view for view in views if view is not None]

    def _resolve_upload(
        self, candidates: Iterable[str], etag: str | None
    ) -> tuple[str, str | None, ObjectInfo] | None:
        """The candidate key that exists (HEAD, whose answer is kept: it carries the user metadata), or
        None when the object is gone, empty or replaced."""
        for key in candidates:
            try:
                info = self.clients.oss.head_object(self.settings.bucket, key)
            except ObjectNotFound:
                continue
            if info.size == 0:
                log.info("upload.ignored", reason="empty_object", key=key)
                return None
            if etag and info.etag and info.etag.lower() != etag.lower():
                # A newer version replaced this one; its own event starts its own job.
                log.info("upload.ignored", reason="superseded", key=key)
                return None
            return key, etag or info.etag or None, info
        log.info("upload.ignored", reason="object_gone", candidates=list(candidates))
        return None

    # Notifications -----------------------------------------------------------------------------------

    def handle_notification(self, notification: Notification) -> JobView | None:
        """Record a task's completion (OSS/IMM notification or ICE callback) and advance its job.

        Matched by TaskId through the task index, else by target key (`…/<job_id>/…`), else by the
        job id in UserData. A notification for no job we know is logged and ignored, never raised.
        """
        match = self._match(notification)
        if match is None:
            log.warning(
                "notification.unknown_job_ignored",
                task_id=_task_id(notification),
                status=getattr(notification.status, "value", notification.status),
            )
            return None
        from shared.events.notifications import TaskNotification

        record, step_index, attempt, loaded = match
        task_id = _task_id(notification)
        if isinstance(notification, TaskNotification):
            final, succeeded = notification.is_final, notification.succeeded
            code, message = notification.code, notification.message
        else:
            final, succeeded = notification.is_final, notification.succeeded
            code, message = notification.error_code, notification.error_message
        if not final:
            return loaded.view
        # Recorded on the job as the match just read it, and advanced from what the record left: the
        # job is read once per notification, not three times.
        if succeeded:
            recorded = self.runner.succeed(record, step_index, attempt, task_id, held=loaded)
        else:
            recorded = self.runner.task_failed(record, step_index, attempt, code, message, held=loaded)
        after, left = self._advance(record.id, None, loaded=recorded.snapshot)
        if not left:
            self._file_moved_on(after)
        return after.view

    def _file_moved_on(self, snapshot: JobSnapshot) -> None:
        """File a job a notification moved on (a new step submitted, a submission backing off, a
        completion still to publish) at its next check: the look filed earlier, the repair look of an
        announced conversion, may be minutes off. Not best effort: a failed PUT fails the notification's
        handling, the notification is delivered again, and handling it again (idempotent) files the job.
        A new upload's job is not filed: with no entry it is due at once, and the sweep's first look
        files it."""
        now = self.clock()
        hinted = poll_hint(snapshot)
        due = next_check(snapshot, now, self.store.lease, self.settings.task_timeout)
        self.store.schedule(snapshot.record.id, due, hinted.encode() if hinted is not None else None)

    def _match(self, notification: Notification) -> tuple[JobRecord, int, int | None, JobSnapshot] | None:
        """The job, step and attempt a notification is about, and the job as read to find them."""
        from shared.events.notifications import TaskNotification

        task_id = _task_id(notification)
        ref = self.store.find_task(task_id) if task_id else None
        if ref is not None:
            snapshot = self._load(ref.job_id)
            if snapshot is not None:
                return snapshot.record, ref.step_index, ref.attempt, snapshot
        targets = notification.target_keys() if isinstance(notification, TaskNotification) else []
        for bucket, key in targets:
            job_id = job_id_from_key(key, self.settings)
            snapshot = self._load(job_id) if bucket == self.settings.bucket and job_id else None
            if snapshot is None:
                continue
            for index in range(len(snapshot.record.steps)):
                if key in step_targets(snapshot.record, index, self.settings):
                    return snapshot.record, index, None, snapshot
        job_id = _user_data_job_id(notification)
        snapshot = self._load(job_id) if job_id else None
        if snapshot is not None:
            record = snapshot.record
            tasked = [i for i in range(len(record.steps)) if step_targets(record, i, self.settings)]
            if tasked:
                return record, tasked[0], None, snapshot
        return None

    def _load(self, job_id: str) -> JobSnapshot | None:
        try:
            return self.store.load(job_id)
        except (JobNotFound, InvalidRequestError):
            return None

    # Advancing ---------------------------------------------------------------------------------------

    def advance(self, job_id: str, now: datetime | None = None, *, recognise_now: bool = True) -> JobView:
        """Claim and run whatever step is due, as far as the job can go now; returns the job.

        A step that completes at once (synchronous recognition, publishing transcripts) is followed by
        the next; the loop stops at a step in flight or held by someone else, and after a failure (the
        sweep makes the next attempt, which spaces retries out). A finished job is finalised.

        `recognise_now=False` (the HTTP API) stops before a synchronous recognition instead and hands it
        to on_notify (`shared.pipeline.handoff`), so no request waits for one.
        """
        return self._advance(job_id, now, recognise_now=recognise_now)[0].view

    def _advance(
        self,
        job_id: str,
        now: datetime | None,
        *,
        recognise_now: bool = True,
        loaded: JobSnapshot | None = None,
    ) -> tuple[JobSnapshot, bool]:
        """`advance`, answering the job's last snapshot and whether it was finalised and deactivated.
        `loaded`: the job as the caller just read it (nothing written since), used instead of a read."""
        tried: set[int] = set()
        while True:
            snapshot = loaded if loaded is not None else self.store.load(job_id, now=now)
            loaded = None
            view = snapshot.view
            if view.state.is_final:
                finalized = self._finalize(snapshot, now)
                if not finalized:
                    self._file_unfinalized(job_id, now)
                return snapshot, finalized
            index = view.current_step
            assert index is not None  # a job that is not final has a step left
            step = view.steps[index]
            if index in tried or step.state in (StepState.CLAIMED, StepState.SUBMITTED):
                return snapshot, False
            tried.add(index)
            job_input = self._stored_input(snapshot.record)
            if job_input is None:
                self._fail_unrunnable(snapshot.record, index, now)
                continue  # the reload finds the job failed and finalises it
            self._require_step_client(snapshot.record.type, job_input, snapshot.record.steps[index])
            if not recognise_now and self._recognises_synchronously(snapshot.record, index):
                publish_job_due(self.clients.mns, self.settings, job_id, snapshot.record.steps[index])
                return snapshot, False
            claim = self.store.claim_step(job_id, index, now=now, snapshot=snapshot)
            if claim is not None:
                # The job as the step's record left it (settled): the next round goes on from it.
                loaded = self.runner.run(claim)

    def _file_unfinalized(self, job_id: str, now: datetime | None) -> None:
        """A finished job whose completion is still to go out is due at once, with no hint: its entry may
        still name the recognition it ran (a job cancelled mid-recognition), and the sweep would poll
        that task without reading the job until the task ended. Best effort: without it the job is
        finalised when that task ends or times out."""
        try:
            self.store.schedule(job_id, now if now is not None else self.clock())
        except ServiceError as error:
            log.warning("job.schedule.failed", job_id=job_id, code=error.code)

    def _finalize(self, snapshot: JobSnapshot, now: datetime | None = None) -> bool:
        """Publish the completion message once per outcome, deliver the job's webhook (if it has a
        callback_url), then drop the job from the sweep.

        The outbox hands the publishing turn to one finaliser (duplicate deliveries finalise at once);
        the others leave the job active, so the sweep checks again that the message went out. A webhook
        whose retry is pending keeps the job in the sweep too. True when the job left the sweep.
        """
        view, record = snapshot.view, snapshot.record
        self.store.write_snapshot(snapshot)  # a racing recorder may have left a stale one for listings
        topic = self.settings.output_topic
        outcome = outcome_of(view, snapshot.events)
        if topic is not None and not self.outbox.sent(view.id, outcome):
            if self.clients.mns is None:
                log.info("completion.deferred_to_mns_function", job_id=view.id)
                return False
            turn = self.outbox.take_turn(view.id, outcome, as_utc(self.clock()))
            if turn is None:
                return False
            message = completion_message(
                view, record, self.settings.bucket, completion_id=f"{view.id}:{outcome}"
            )
            try:
                self.clients.mns.publish(topic, message)
            except ServiceError as error:
                log.warning("completion.publish_failed_sweep_retries", job_id=view.id, code=error.code)
                self.outbox.release_turn(view.id, outcome, turn)
                return False
            self.outbox.mark_sent(view.id, outcome, message)
            self.store.mark_completion_published(view.id, message)
        moment = as_utc(now if now is not None else self.clock())
        if not self.webhooks.deliver(view, record, moment):
            log.info("webhook.pending_sweep_retries", job_id=view.id)
            return False
        # The second look is filed before the job leaves the sweep: a failed filing leaves it in the sweep
        # (shared.pipeline.settle).
        self.store.settle_later(view.id, settle_time(self.store, view, moment), outcome)
        self.store.deactivate(view.id)
        if view.error is not None:
            log.warning(
                "job.failed",
                job_id=view.id,
                job_type=view.type.value,
                code=view.error.code,
                error=view.error.message,
            )
        else:
            log.info("job.finished", job_id=view.id, job_type=view.type.value, state=view.state.value)
        return True

    # The timer ---------------------------------------------------------------------------------------

    def sweep(
        self,
        now: datetime | None = None,
        *,
        limit: int | None = None,
        budget_seconds: float | None = None,
    ) -> SweepReport:
        """Look after the unfinished jobs that are due: poll submitted tasks (DashScope, IMM, ICE; HEAD
        the target of an OSS task whose notification never came), fail tasks past their timeout, retry
        stale or retryably failed attempts, run steps never claimed, and finalise finished jobs.

        Only jobs whose due time has come are read (the due index, `shared.pipeline.schedule`); each is
        filed again at its next check. An unfinished job with no entry at all (new, or its entry was lost
        with a sweep that stopped) is due at once, so the index needs no repair of its own: listing it and
        the `_active/` markers costs a LIST per 1,000 jobs. The earliest due go first, and a job looked
        at is filed later, so when a backlog outlasts one sweep (`budget_seconds` stops it before the
        function's own timeout), the next ones reach the jobs this one did not.
        """
        moment = as_utc(now if now is not None else self.clock())
        report = SweepReport()
        deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
        dropped = DroppedEntries(self.store)
        due, report.waiting = self._due_jobs(moment, dropped)
        # Jobs whose kept entry this instance has polled before go last: their entry keeps its old time.
        due.sort(key=lambda item: self._polled_before(item[1]))
        try:
            for job_id, fired in due:
                if self._poll_later(fired, moment):
                    report.waiting += 1  # its entry is kept in place, its next poll still to come
                    continue
                if limit is not None and report.examined >= limit:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    report.stopped_early = True
                    break
                report.examined += 1
                try:
                    self._sweep_due_job(job_id, fired, moment, report, dropped)
                except JobNotFound:
                    # The marker is written before job.json: a young one may belong to a creator still at
                    # work, so only a marker older than a lease counts as left behind.
                    if moment - job_id_time(job_id) > self.store.lease:
                        self.store.deactivate(job_id)
                except Exception:
                    # One job's trouble must not stop the others; its entries stay due for the next sweep.
                    report.errors += 1
                    log.exception("sweep.job.failed", job_id=job_id)
                    continue
                dropped.add(fired)
            self._settle_due(moment, deadline, limit, report)
        finally:
            dropped.flush()
        log.info("sweep.done", **vars(report))
        return report

    def _settle_due(
        self, moment: datetime, deadline: float | None, limit: int | None, report: SweepReport
    ) -> None:
        """The sweep's second looks at finished jobs (shared.pipeline.settle), after the unfinished ones and
        within the same time budget and `limit`. Trouble there fails no sweep, and a settling backlog does
        not count as the sweep stopping early (that would hold back inbox reconciliation)."""
        if deadline is not None and time.monotonic() >= deadline:
            return
        announced = self.outbox.sent if self.settings.output_topic is not None else None
        try:
            settled = settle_due_jobs(
                self.store,
                moment,
                announced=announced,
                deadline=deadline,
                limit=limit if limit is not None else MAX_SETTLE_ENTRIES,
            )
        except Exception:
            report.errors += 1
            log.exception("sweep.settle.failed")
            return
        report.settled, report.reopened = settled.settled, settled.reopened
        report.errors += settled.errors

    def _sweep_due_job(
        self,
        job_id: str,
        fired: list[DueEntry],
        moment: datetime,
        report: SweepReport,
        dropped: DroppedEntries,
    ) -> None:
        """Poll the job's task from its hint, or act on the job; either way, file it again."""
        timeout = self.settings.task_timeout
        hint = self._running_task(fired, moment)
        if hint is not None:
            # Only GetTask was needed: the job is not read, and filed again with its hint only when its
            # next poll is far off (`shared.pipeline.schedule`: KEEP_IN_PLACE).
            report.polled += 1
            due = next_poll(hint.submitted_at, moment, timeout)
            if due - moment < KEEP_IN_PLACE:
                self.poll_times.remember(hint.task_id, due)
                dropped.keep(fired[-1])
            else:
                self.poll_times.forget(hint.task_id)
                dropped.keep(self.store.schedule(job_id, due, hint.encode()))
            return
        after = self._sweep_job(job_id, moment, report)
        if after is not None:
            hinted = poll_hint(after)
            dropped.keep(
                self.store.schedule(
                    job_id,
                    next_check(after, moment, self.store.lease, timeout),
                    hinted.encode() if hinted is not None else None,
                )
            )

    @staticmethod
    def _fired_hint(fired: list[DueEntry]) -> PollHint | None:
        """The task the job's latest fired entry names, if any (the one entry that counts)."""
        return PollHint.parse(fired[-1].hint) if fired else None

    def _polled_before(self, fired: list[DueEntry]) -> bool:
        """Whether the job's fired entry is a kept one this instance has polled: such entries keep their
        old time and would otherwise come first in every sweep, ahead of jobs never looked at."""
        hint = self._fired_hint(fired)
        return hint is not None and self.poll_times.known(hint.task_id)

    def _poll_later(self, fired: list[DueEntry], now: datetime) -> bool:
        """Whether the job's fired entry is a kept one whose task this instance polls later."""
        hint = self._fired_hint(fired)
        return hint is not None and self.poll_times.waiting(hint.task_id, now)

    def _running_task(self, fired: list[DueEntry], now: datetime) -> PollHint | None:
        """The hint of the job's latest entry when the DashScope task it names is still queued or running
        (then the job need not be read). Anything else (no hint, past the task timeout, an error, an
        outcome) gives None: the job goes down the full path, which reads it and polls again."""
        hint = self._fired_hint(fired)
        dashscope = self.clients.dashscope
        if hint is None or dashscope is None or now - hint.submitted_at > self.settings.task_timeout:
            return None
        try:
            status = dashscope.get_task(hint.task_id)
        except ServiceError:
            return None
        running = status.status in (DashScopeTaskStatus.PENDING, DashScopeTaskStatus.RUNNING)
        if not running:
            self.poll_times.forget(hint.task_id)
        return hint if running else None

    def _due_jobs(
        self, now: datetime, dropped: DroppedEntries
    ) -> tuple[list[tuple[str, list[DueEntry]]], int]:
        """The unfinished jobs due at `now`, earliest first, with the index entries that made each due;
        and how many unfinished jobs are not due yet. Entries of finished jobs are dropped."""
        active = list(self.store.active_jobs())
        unfinished = set(active)
        fired: dict[str, list[DueEntry]] = {}
        filed: set[str] = set()
        for entry in self.store.due_index():
            if entry.job_id not in unfinished:
                dropped.add([entry])
                continue
            filed.add(entry.job_id)
            if entry.at <= now:
                fired.setdefault(entry.job_id, []).append(entry)
        for job_id in reversed(active):  # oldest first
            if job_id not in filed:
                fired[job_id] = []
        return list(fired.items()), len(unfinished) - len(fired)

    def _sweep_job(self, job_id: str, now: datetime, report: SweepReport) -> JobSnapshot | None:
        """Act on one due job; its snapshot to file it again by, or None when it left the sweep."""
        snapshot = self.store.load(job_id, now=now)
        view = snapshot.view
        if view.state.is_final:
            report.finalized += 1
            return None if self._finalize(snapshot, now) else snapshot
        index = view.current_step
        assert index is not None
        step = view.steps[index]
        if step.state is StepState.CLAIMED:
            return snapshot  # someone holds a live lease
        if step.state is StepState.RETRYING and now < retry_due(snapshot, index, self.store.lease):
            return snapshot  # backing off: a throttled or failing service gets time to recover
        if step.state is StepState.SUBMITTED:
            report.polled += 1
            recorded = self.runner.poll(snapshot, step, now)
            if recorded is None:
                return snapshot
            report.completed += 1
            after, left = self._advance(job_id, now, loaded=recorded)  # from what the poll's record left
        else:
            report.advanced += 1
            after, left = self._advance(job_id, now, loaded=snapshot)
        if after.view.state.is_final:
            report.finalized += 1
        return None if left else after

    # The HTTP API ------------------------------------------------------------------------------------

    def submit_api_job(
        self,
        job_type: JobType | str,
        request: BaseModel | Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> JobView:
        """Validate, create (or find, for a repeated Idempotency-Key) and start an API job.

        Raises InvalidRequestError naming the field (a missing source object included) and
        IdempotencyConflict when the key was used for a different request. Without a key every call
        creates a job.
        """
        return self.submit_api_job_reporting(job_type, request, idempotency_key)[0]

    def submit_api_job_reporting(
        self,
        job_type: JobType | str,
        request: BaseModel | Mapping[str, Any],
        idempotency_key: str | None = None,
    ) -> tuple[JobView, bool]:
        """`submit_api_job`, also saying whether this call created the job (False: a replayed key)."""
        kind = api_job_type(job_type)
        job_input = parse_job_input(kind, request)
        if idempotency_key is not None and (
            not isinstance(idempotency_key, str) or not idempotency_key.strip()
        ):
            raise InvalidRequestError.single(
                "idempotency_key", "required", "must be a non-empty string", "job"
            )
        key = f"api:{idempotency_key}" if idempotency_key is not None else f"api:{uuid.uuid4()}"
        if idempotency_key is not None and self.store.find(key) is not None:
            # A replay answers the job the key made (or 409 for another body), whatever changed since:
            # its source may be gone by now, and checking it again would refuse a request that succeeded.
            view, created = self.store.create_or_get(kind, job_input, key)
            return self.advance(view.id, recognise_now=False), created
        preflight(kind, job_input, self.settings)
        check_callback_allowed(job_input, self.settings)
        self._check_api_sources(kind, job_input)
        steps = job_steps(kind, job_input, self.settings)
        for step in steps:
            self._require_step_client(kind, job_input, step)
        view, created = self.store.create_or_get(kind, job_input, key, steps=steps)
        if isinstance(job_input, (ConvertJobInput, TranscribeJobInput)):
            index_source(self.store, job_input.source, view.id)
        log.info("api.job.submitted", job_id=view.id, job_type=kind.value, created=created)
        return self.advance(view.id, recognise_now=False), created

    def output_urls(self, view: JobView, expires: int | None = None) -> dict[str, str]:
        """Presigned GET URLs of a job's outputs (never log them)."""
        seconds = expires if expires is not None else self.settings.presign_expiry_seconds
        return {
            name: self.clients.oss.presign_get(self.settings.bucket, key, seconds)
            for name, key in view.outputs.items()
        }

    def _check_api_sources(self, kind: JobType, job_input: BaseModel) -> None:
        sources: list[tuple[str, str]] = []
        if isinstance(job_input, (ConvertJobInput, TranscribeJobInput)):
            sources.append(("source", job_input.source))
        elif isinstance(job_input, MergeJobInput):
            sources.extend((f"clips[{i}].key", clip.key) for i, clip in enumerate(job_input.clips))
        operation = f"{kind.value} job"
        readable = self.settings.readable_prefixes
        for field, key in sources:
            if not key.startswith(readable):
                raise InvalidRequestError.single(
                    field,
                    "source_not_readable",
                    f"{key!r} is outside the folders the functions may read sources from "
                    f"({', '.join(repr(prefix) for prefix in readable)}); upload it under {readable[0]!r}",
                    operation,
                )
            try:
                info = self.clients.oss.head_object(self.settings.bucket, key)
            except ObjectNotFound:
                raise InvalidRequestError.single(
                    field, "object_exists", f"no object {key!r} in bucket {self.settings.bucket!r}", operation
                ) from None
            sync = isinstance(job_input, TranscribeJobInput) and job_input.mode is TranscribeMode.SYNC
            if sync and info.size > MAX_REQUEST_BYTES:
                raise InvalidRequestError.single(
                    "mode",
                    "sync_too_large",
                    f"the synchronous model takes audio up to {MAX_REQUEST_BYTES} bytes; "
                    f"{key!r} is {info.size}",
                    operation,
                )

    # Clients -----------------------------------------------------------------------------------------

    def _recognises_synchronously(self, record: JobRecord, index: int) -> bool:
        def source_size() -> int | None:
            try:
                key = transcription_source(record, self.settings)
                return self.clients.oss.head_object(self.settings.bucket, key).size
            except ObjectNotFound:
                return None  # the step fails on it when it runs, wherever that is

        return recognises_synchronously(record, index, self.settings, source_size)

    def handle_job_due(self, due: JobDue) -> JobView | None:
        """A job-due message (on_notify): run what the job has due, synchronous recognition included;
        None when no such job exists."""
        try:
            return self.advance(due.job_id)
        except JobNotFound:
            log.warning("handoff.unknown_job_ignored", job_id=due.job_id)
            return None

    def _stored_input(self, record: JobRecord) -> BaseModel | None:
        """The job's input, or None when it no longer validates (accepted under rules this code no longer
        shares, or edited by hand): such a job can never run."""
        try:
            return parse_job_input(record.type, record.input)
        except InvalidRequestError as error:
            log.error("job.input.invalid", job_id=record.id, error=str(error))
            return None

    def _fail_unrunnable(self, record: JobRecord, index: int, now: datetime | None) -> None:
        claim = self.store.claim_step(record.id, index, now=now)
        if claim is None:
            return  # someone else holds the step; they will meet the same input
        self.store.record_failed(
            record.id,
            index,
            claim.attempt,
            code="InvalidStoredInput",
            message="the job's stored input no longer validates and the job cannot run",
            retryable=False,
        )

    def _require_step_client(self, kind: JobType, job_input: BaseModel, step: StepName) -> None:
        """Refuse before claiming: a claim taken without the client to use it would only lapse."""
        needed: str | None = None
        if step is StepName.TRANSCRIBE and self.clients.dashscope is None:
            needed = "dashscope"
        elif step is StepName.SYNTHESIZE and self.clients.ice is None:
            needed = "ice"
        elif step is StepName.MERGE and isinstance(job_input, MergeJobInput) and self.clients.imm is None:
            engine = choose_merge_engine(job_input, imm_available=self.settings.imm_project is not None)
            needed = "imm" if engine is MergeEngine.IMM else None
        if needed is not None:
            raise ConfigurationError(f"the {step.value} step of a {kind.value} job needs a {needed} client")


def _task_id(notification: Notification) -> str | None:
    from shared.events.notifications import TaskNotification

    if isinstance(notification, TaskNotification):
        return notification.task_id or None
    return notification.job_id or None


def _user_data_job_id(notification: Notification) -> str | None:
    try:
        data = notification.user_data_json()
    except InvalidRequestError:
        return None
    value = data.get("job_id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None

"""Recognition off the request path: the HTTP API hands a synchronous recognition to on_notify.

The synchronous connection types (`sync`: DashScope multimodal-generation, `compatible`: the OpenAI
chat/completions stream) recognise for as long as their HTTP call lasts (44 s for a 214 s file); an API
request that ran them would hold its caller and the `api` function (60 s timeout) for all of it. So the
API creates the job, answers 202 at once, and publishes a *job-due* message on the pipeline topic:

    {"kind": "audiochain.job_due", "job_id": "j…", "step": "transcribe", "reason": "synchronous_recognition"}

The topic's trigger invokes on_notify asynchronously (120 s timeout; MNS re-pushes a failed delivery with
EXPONENTIAL_DECAY_RETRY), and on_notify advances the job: it claims the step and recognises there. The
message only says "look at this job": advancing is idempotent, so a duplicate or late one changes
nothing, and one that is lost (or an API without MNS) costs a delay, never the job, because the timer's
sweep runs every step nobody claimed. Filetrans needs no hand-off: submitting its task is quick.

    >>> body = job_due_body("j" + "0" * 26, StepName.TRANSCRIBE)
    >>> parse_job_due(json.loads(body)).step
    <StepName.TRANSCRIBE: 'transcribe'>
    >>> parse_job_due({"TaskId": "t-1", "Status": "Succeeded"}) is None   # a task notification
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from shared.errors import InvalidRequestError, ServiceError, rule_error
from shared.jobs.ids import is_job_id
from shared.jobs.model import JobRecord, StepName
from shared.logging import get_logger
from shared.pipeline.inputs import TranscribeMode
from shared.pipeline.plans import recognition_mode, recognition_options
from shared.pipeline.ports import MnsPort
from shared.pipeline.settings import PipelineSettings

__all__ = [
    "JOB_DUE_KIND",
    "SYNCHRONOUS_RECOGNITION",
    "JobDue",
    "job_due_body",
    "parse_job_due",
    "publish_job_due",
    "recognises_synchronously",
]

log = get_logger(__name__)

JOB_DUE_KIND = "audiochain.job_due"
SYNCHRONOUS_RECOGNITION = "synchronous_recognition"
_OPERATION = "job-due message"
_SYNCHRONOUS_MODES = (TranscribeMode.SYNC, TranscribeMode.COMPATIBLE)


class JobDue(BaseModel):
    """A job with a step due that the publisher would not run itself."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    kind: Literal["audiochain.job_due"]
    job_id: str
    step: StepName
    reason: str = SYNCHRONOUS_RECOGNITION

    @field_validator("job_id")
    @classmethod
    def _job_id_rules(cls, value: str) -> str:
        if not is_job_id(value):
            raise rule_error("job_id", f"is not a job id: {value[:40]!r}")
        return value


def job_due_body(job_id: str, step: StepName, reason: str = SYNCHRONOUS_RECOGNITION) -> str:
    """The message body that asks on_notify to advance `job_id`."""
    due = JobDue(kind=JOB_DUE_KIND, job_id=job_id, step=step, reason=reason)
    return json.dumps(due.model_dump(mode="json"), separators=(",", ":"))


def parse_job_due(document: Any) -> JobDue | None:
    """The job-due message in a decoded MNS body; None for anything else (a task notification, an ICE
    callback: `parse_notification` reads those). A body that says it is one but breaks its rules is
    refused with InvalidRequestError naming the field."""
    if not isinstance(document, Mapping) or document.get("kind") != JOB_DUE_KIND:
        return None
    try:
        return JobDue.model_validate(dict(document))
    except ValidationError as error:
        raise InvalidRequestError.from_validation_error(error, _OPERATION) from None


def recognises_synchronously(
    record: JobRecord, step_index: int, settings: PipelineSettings, source_size: Callable[[], int | None]
) -> bool:
    """Whether running this step means waiting for a synchronous recognition. `source_size` is asked
    (a HEAD) only when the answer depends on it: `auto` with a synchronous threshold configured."""
    if record.steps[step_index] is not StepName.TRANSCRIBE:
        return False
    options = recognition_options(record, settings)
    if options.channels is not None:
        return False
    if options.mode in _SYNCHRONOUS_MODES:
        return True
    if options.mode is not TranscribeMode.AUTO or settings.sync_asr_max_bytes == 0:
        return False
    return recognition_mode(options, source_size(), settings) in _SYNCHRONOUS_MODES


def publish_job_due(mns: MnsPort | None, settings: PipelineSettings, job_id: str, step: StepName) -> bool:
    """Ask on_notify (through the pipeline topic) to run the job's due step; False when the message
    could not go out, and the timer's sweep will run the step instead."""
    topic = settings.pipeline_topic
    if mns is None:
        log.info("handoff.no_mns_sweep_runs_it", job_id=job_id, step=step.value)
        return False
    try:
        mns.publish(topic, job_due_body(job_id, step))
    except ServiceError as error:
        log.warning("handoff.publish_failed_sweep_runs_it", job_id=job_id, code=error.code)
        return False
    log.info("handoff.published", job_id=job_id, step=step.value, topic=topic)
    return True

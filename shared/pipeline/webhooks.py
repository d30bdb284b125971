"""Per-job webhooks: when a job with a `callback_url` ends, POST its summary there, signed, until it lands.

The body is the completion message the output topic gets (`shared.pipeline.results.completion_message`)
plus `delivery_id`; the headers are `shared.auth.webhook`'s (delivery id, timestamp, HMAC-SHA256 signature)
and `Audiochain-Attempt`. One delivery per terminal state the job reaches (a job a late success revived
after its failure was announced gets a second one), at least once: the finaliser that sees the job final
sends an attempt, records it in the job's webhook log, and keeps the job in the sweep until an attempt got
a 2xx answer or the attempts ran out. Retries back off: 30 s, 1, 2, 4 ... minutes, at most an hour apart,
`MAX_ATTEMPTS` in all; the timer's sweep makes them. Redirects are not followed (a 3xx is a failure).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import httpx
from pydantic import BaseModel

from shared.auth.webhook import signature_headers
from shared.errors import InvalidRequestError
from shared.jobs.model import JobRecord, JobView
from shared.jobs.webhooks import SENDING_TIMEOUT, WebhookAttempt, WebhookLog
from shared.logging import get_logger
from shared.pipeline.callback_url import is_plain_http, loopback_http_allowed
from shared.pipeline.results import completion_message
from shared.pipeline.settings import PipelineSettings

__all__ = [
    "ATTEMPT_HEADER",
    "MAX_ATTEMPTS",
    "WebhookDispatcher",
    "WebhookSender",
    "backoff",
    "check_callback_allowed",
    "delivery_id",
    "send_with_httpx",
]

ATTEMPT_HEADER = "Audiochain-Attempt"
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
SEND_TIMEOUT_SECONDS = 10.0

# (url, body, headers) -> the receiver's HTTP status; raises httpx.HTTPError or OSError when none came.
WebhookSender = Callable[[str, bytes, Mapping[str, str]], int]

log = get_logger(__name__)


def send_with_httpx(url: str, body: bytes, headers: Mapping[str, str]) -> int:
    # trust_env=False: a proxy from the environment must not see (or break) a loopback receiver.
    with httpx.Client(timeout=SEND_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client:
        return client.post(url, content=body, headers=dict(headers)).status_code


def delivery_id(job_id: str, state: str) -> str:
    """Stable across attempts and finalisers: derived from the job and the state announced.

    >>> delivery_id("j1", "succeeded") == delivery_id("j1", "succeeded") != delivery_id("j1", "failed")
    True
    """
    return "whd_" + hashlib.sha256(f"{job_id}:{state}".encode()).hexdigest()[:32]


def backoff(attempt: int, first: timedelta = FIRST_BACKOFF) -> timedelta:
    """The wait after failed attempt number `attempt` (1-based): `first`, doubling, at most an hour.

    >>> [int(backoff(n).total_seconds()) for n in (1, 2, 3, 8, 12)]
    [30, 60, 120, 3600, 3600]
    """
    wait: timedelta = first * (2 ** min(attempt - 1, 16))
    return min(wait, MAX_BACKOFF)


def check_callback_allowed(job_input: BaseModel, settings: PipelineSettings) -> None:
    """Refuse at submission a `callback_url` this deployment cannot deliver to (InvalidRequestError)."""
    url = getattr(job_input, "callback_url", None)
    if url is None:
        return
    operation = getattr(job_input, "operation", "job")
    if settings.webhook_secret is None:
        raise InvalidRequestError.single(
            "callback_url",
            "webhooks_off",
            "this deployment signs no webhooks: AUDIOCHAIN_WEBHOOK_SECRET is not set",
            operation,
        )
    if is_plain_http(url) and not loopback_http_allowed(settings.oss_endpoint):
        raise InvalidRequestError.single(
            "callback_url", "https", "must be https:// (http:// only against localcloud)", operation
        )


class WebhookDispatcher:
    """Sends (and records) the webhook of a finished job; see the module docstring."""

    def __init__(self, settings: PipelineSettings, log_: WebhookLog, sender: WebhookSender) -> None:
        self.settings = settings
        self.log = log_
        self.sender = sender

    def deliver(self, view: JobView, record: JobRecord, now: datetime) -> bool:
        """Make the attempt that is due, if one is; True when nothing is left to do for the job's state
        (no callback_url, delivered, or given up), False while a retry is pending or another finaliser
        is sending."""
        url = record.input.get("callback_url")
        if not isinstance(url, str) or not url or not view.state.is_final:
            return True
        state = view.state.value
        attempts = self.log.attempts(view.id, state)
        if any(a.outcome in ("delivered", "abandoned") for a in attempts):
            return True
        last = attempts[-1] if attempts else None
        if last is not None and last.outcome == "sending":
            if now - last.at < SENDING_TIMEOUT:
                return False  # another finaliser is sending it right now
            stopped = "the sender stopped before an answer"
            last = last.model_copy(update={"outcome": "failed", "error": stopped})
            self.log.record(view.id, state, last)
        if last is not None and last.next_attempt_at is not None and now < last.next_attempt_at:
            return False
        number = (last.attempt + 1) if last is not None else 1
        attempt = WebhookAttempt(delivery_id=delivery_id(view.id, state), state=state, attempt=number, at=now)
        if not self.log.claim(view.id, state, attempt):
            return False
        outcome = self._send(url, view, record, attempt)
        self.log.record(view.id, state, outcome)
        log.info(
            "webhook.attempt",
            job_id=view.id,
            delivery_id=attempt.delivery_id,
            attempt=number,
            outcome=outcome.outcome,
            status=outcome.status,
        )
        return outcome.outcome in ("delivered", "abandoned")

    def _send(self, url: str, view: JobView, record: JobRecord, attempt: WebhookAttempt) -> WebhookAttempt:
        secret = self.settings.webhook_secret
        refusal = None
        if secret is None:
            refusal = "AUDIOCHAIN_WEBHOOK_SECRET was unset since the job was submitted"
        elif is_plain_http(url) and not loopback_http_allowed(self.settings.oss_endpoint):
            refusal = "plain http:// is allowed only against localcloud"
        if refusal is not None or secret is None:
            return attempt.model_copy(update={"outcome": "abandoned", "error": refusal})
        message = json.loads(completion_message(view, record, self.settings.bucket))
        body = json.dumps(
            {"delivery_id": attempt.delivery_id, **message}, ensure_ascii=False, separators=(",", ":")
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "audiochain-webhook/1",
            ATTEMPT_HEADER: str(attempt.attempt),
            # The wall clock, not the sweep's `now`: the receiver checks it against its own clock.
            **signature_headers(
                secret.get_secret_value(), body, timestamp=int(time.time()), delivery_id=attempt.delivery_id
            ),
        }
        status: int | None = None
        try:
            status = self.sender(url, body, headers)
        except (httpx.HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        else:
            if 200 <= status < 300:
                return attempt.model_copy(update={"outcome": "delivered", "status": status})
            error = f"the receiver answered HTTP {status}"
        if attempt.attempt >= MAX_ATTEMPTS:
            return attempt.model_copy(update={"outcome": "abandoned", "status": status, "error": error})
        first = timedelta(seconds=self.settings.webhook_retry_seconds)
        retry_at = attempt.at + backoff(attempt.attempt, first)
        return attempt.model_copy(
            update={"outcome": "failed", "status": status, "error": error, "next_attempt_at": retry_at}
        )

"""ICE's completion callback for an audio-produce job (`UserData.NotifyAddress`).

ICE documents its callbacks ("Configure a callback upon editing completion", event list) as
`{"EventType", "UserId", "EventTime", "MessageBody": {...}}`; the audio job's own fields are not published.
localcloud sends the editing-completion event, ProduceMediaComplete, with these fields:

    {"EventType": "ProduceMediaComplete", "UserId": 1234567890123456, "EventTime": "2025-01-15T08:30:45Z",
     "MessageBody": {"Status": "Success" | "Fail", "JobId": "...", "MediaId": "...",
                     "JobType": "TextToSpeech", "State": "Finished" | "Failed", "MediaURL": "...",
                     "UserData": "{...}", "ErrorCode": "...", "ErrorMessage": "..."}}

(`MediaURL` only on success, the error fields only on failure.) `shared.events.notifications.IceCallback`
reads it. The address is an http(s) URL (POSTed as JSON, retried twice on failure) or the name of an MNS
queue or topic in localcloud's MNS (sent or published as the JSON text); a queue wins over a topic of the
same name. A callback that cannot be delivered is logged; it never changes the job.

Example:
    >>> deliver_callback("ice-callback-demo", event, cloud=cloud)   # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import httpx

from localcloud.services.base import ServiceHttpError
from localcloud.services.ice.jobs import IceJobRecord
from localcloud.services.openapi import iso_seconds
from shared.logging import get_logger
from shared.ops.enums import IceJobState

if TYPE_CHECKING:
    from localcloud.ports import Host

log = get_logger("localcloud.ice")

EVENT_TYPE = "ProduceMediaComplete"
_HTTP_ATTEMPTS = 3
_HTTP_TIMEOUT = httpx.Timeout(5.0)
_RETRY_PAUSE_SECONDS = 1.0


def callback_event(record: IceJobRecord, *, account_id: str, media_url: str) -> dict[str, Any]:
    """The callback body for a job that has ended."""
    finished = record.state is IceJobState.FINISHED
    body: dict[str, Any] = {
        "Status": "Success" if finished else "Fail",
        "JobId": record.job_id,
        "MediaId": record.media_id,
        "JobType": "TextToSpeech",
        "State": record.state.value,
    }
    if finished:
        body["MediaURL"] = media_url
    if record.request.get("UserData") is not None:
        body["UserData"] = record.request["UserData"]
    if not finished:
        body["ErrorCode"] = record.error_code or ""
        body["ErrorMessage"] = record.error_message or ""
    return {
        "EventType": EVENT_TYPE,
        "UserId": int(account_id) if account_id.isdigit() else account_id,
        "EventTime": iso_seconds(record.modified_at),
        "MessageBody": body,
    }


def deliver_callback(address: str, event: dict[str, Any], *, cloud: Host) -> bool:
    """Send `event` to an http(s) URL or an MNS queue/topic; True when it was accepted."""
    text = json.dumps(event, ensure_ascii=False)
    if address.startswith(("http://", "https://")):
        return _post(address, text, retry_scale=cloud.config.retry_scale)
    try:
        mns = cloud.mns()
    except LookupError:
        log.warning("ice.callback.dropped_mns_not_running", address=address)
        return False
    try:
        if mns.queue_exists(address):
            mns.send(address, text)
        elif mns.topic_exists(address):
            mns.publish(address, text)
        else:
            log.warning("ice.callback.dropped_no_such_queue_or_topic", address=address)
            return False
    except ServiceHttpError as error:
        log.warning("ice.callback.not_delivered", address=address, code=error.code)
        return False
    return True


def _post(url: str, text: str, *, retry_scale: float) -> bool:
    pause = threading.Event()
    # trust_env=False: a developer's HTTP(S)_PROXY must not capture callbacks to loopback endpoints (MNS
    # pushes are sent the same way).
    with httpx.Client(timeout=_HTTP_TIMEOUT, trust_env=False) as http:
        for attempt in range(1, _HTTP_ATTEMPTS + 1):
            try:
                response = http.post(
                    url, content=text.encode("utf-8"), headers={"Content-Type": "application/json"}
                )
                if response.is_success:
                    return True
                log.warning("ice.callback.refused", status=response.status_code, attempt=attempt)
            except httpx.HTTPError as error:
                log.warning("ice.callback.failed", error=type(error).__name__, attempt=attempt)
            if attempt < _HTTP_ATTEMPTS:
                pause.wait(_RETRY_PAUSE_SECONDS * retry_scale)
    return False

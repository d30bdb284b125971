"""The event payloads the local runtime hands to functions, and the asynchronous destination record.

OSS trigger event: `{"events": [record]}` with one record shaped exactly as FC's documentation shows
(see /work/shared/reference/fc2-and-events.md). `eventName` carries no `oss:` prefix. The object key is
URL-encoded (UTF-8 percent-escapes, `/` kept, a space as `%20`): real OSS triggers have been seen sending
encoded keys for spaces and non-ASCII names, and `shared.events.oss.OssRecord.key` decodes them (a key
with no special character is the same either way). `userMeta` names carry the `x-oss-meta-` prefix.

Timer trigger event: `{"triggerTime": "2024-01-01T00:00:00Z", "triggerName": ..., "payload": ...}`.

Destination record (FC "asynchronous invocation destination"):
    {"timestamp": "2024-01-01T00:00:00.000Z",
     "requestContext": {"requestId", "functionArn", "condition", "approximateInvokeCount"},
     "requestPayload": "<the event as text>",
     "responseContext": {"statusCode": 200, "functionError": ""},
     "responsePayload": "<the result as text, or FC's error document>"}
`condition` is "Success", "RetriesExhausted" or "EventAgeExceeded" (FC's documentation shows the field
but not its values; these are the values of the platform FC's destinations mirror). `functionError` is
"" on success and "UnhandledInvocationError" (FC's error type for a handler that raised or timed out)
otherwise. Payloads that are not UTF-8 are given base64-encoded.

    >>> json.loads(timer_event("tick", datetime(2024, 1, 1, tzinfo=timezone.utc), "{}"))["triggerTime"]
    '2024-01-01T00:00:00Z'
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from localcloud.ports import ObjectCreated

OSS_META_PREFIX = "x-oss-meta-"


def encode_event_key(key: str) -> str:
    """The key as the OSS trigger event carries it (percent-encoded UTF-8, `/` kept).

    >>> encode_event_key("inbox/my song é.wav")
    'inbox/my%20song%20%C3%A9.wav'
    """
    return quote(key, safe="/")


def oss_record(created: ObjectCreated, *, region: str, account_id: str, rule_id: str) -> dict[str, Any]:
    record = created.record
    return {
        "eventName": created.event_name.removeprefix("oss:"),
        "eventSource": "acs:oss",
        "eventTime": iso_millis(created.event_time),
        "eventVersion": "1.0",
        "oss": {
            "bucket": {
                "arn": f"acs:oss:{region}:{account_id}:{record.bucket}",
                "name": record.bucket,
                "ownerIdentity": account_id,
            },
            "object": {
                "deltaSize": record.size,
                "eTag": record.etag,
                "key": encode_event_key(record.key),
                "objectMeta": {
                    "mimeType": record.content_type,
                    "userMeta": {
                        f"{OSS_META_PREFIX}{name}": value for name, value in record.metadata.items()
                    },
                },
                "size": record.size,
            },
            "ossSchemaVersion": "1.0",
            "ruleId": rule_id,
        },
        "region": region,
        "requestParameters": {"sourceIPAddress": created.source_ip},
        "responseElements": {"requestId": created.request_id},
        "userIdentity": {"principalId": account_id},
    }


def oss_event(created: ObjectCreated, *, region: str, account_id: str, rule_id: str) -> bytes:
    """The OSS trigger's event bytes for one created object."""
    document = {"events": [oss_record(created, region=region, account_id=account_id, rule_id=rule_id)]}
    return _dump(document)


def rule_id(*parts: str) -> str:
    """A stable 40-hex-digit rule id for a trigger (OSS gives each trigger rule such an id)."""
    return hashlib.sha1("/".join(parts).encode("utf-8")).hexdigest()  # an identifier, not a secret


def timer_event(trigger_name: str, fired_at: datetime, payload: str) -> bytes:
    moment = fired_at.astimezone(timezone.utc).replace(microsecond=0)
    document = {
        "triggerTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": trigger_name,
        "payload": payload,
    }
    return _dump(document)


def destination_record(
    *,
    request_id: str,
    function_arn: str,
    condition: str,
    invoke_count: int,
    request_payload: bytes,
    succeeded: bool,
    response_payload: bytes,
    at: float,
) -> bytes:
    """FC's destination record for one finished asynchronous invocation (see the module docstring)."""
    document = {
        "timestamp": iso_millis(at),
        "requestContext": {
            "requestId": request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "requestPayload": payload_text(request_payload),
        "responseContext": {
            "statusCode": 200,
            "functionError": "" if succeeded else "UnhandledInvocationError",
        },
        "responsePayload": payload_text(response_payload),
    }
    return _dump(document)


def error_document(error_type: str, message: str, stack: list[str] | None = None) -> bytes:
    """FC's Python runtime error body: `{"errorMessage", "errorType", "stackTrace"}`."""
    return _dump({"errorMessage": message, "errorType": error_type, "stackTrace": stack or []})


def payload_text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode("ascii")


def iso_millis(epoch_seconds: float) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _dump(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

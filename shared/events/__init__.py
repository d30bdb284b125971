"""Models of what arrives at our functions: OSS, MNS topic and timer trigger events, and completion
notifications (OSS async processing, IMM tasks, ICE callbacks).

Each parses from the raw event bytes and refuses a malformed event with an InvalidRequestError naming
the wire field, which the handler decorator turns into a logged, non-retried refusal.

    >>> from shared.errors import InvalidRequestError
    >>> from shared.events import OssEvent
    >>> try:
    ...     OssEvent.from_bytes(b'{"events": []}')
    ... except InvalidRequestError as refused:
    ...     print(refused.problems[0].field)
    events

Each name loads its module on first use (PEP 562): a function's cold start imports the events of its own
trigger only (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
    from shared.events.mns import MnsFormat, MnsMessage
    from shared.events.notifications import (
        IceCallback,
        NotificationEnvelope,
        TaskNotification,
        parse_notification,
    )
    from shared.events.oss import OssEvent, OssRecord, decode_event_key
    from shared.events.timer import TimerEvent

_MNS = "shared.events.mns"
_NOTIFICATIONS = "shared.events.notifications"
_OSS = "shared.events.oss"
_MODULE_OF = {
    "IceCallback": _NOTIFICATIONS,
    "MnsFormat": _MNS,
    "MnsMessage": _MNS,
    "NotificationEnvelope": _NOTIFICATIONS,
    "OssEvent": _OSS,
    "OssRecord": _OSS,
    "TaskNotification": _NOTIFICATIONS,
    "TimerEvent": "shared.events.timer",
    "decode_event_key": _OSS,
    "parse_notification": _NOTIFICATIONS,
}

__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)

__all__ = [
    "IceCallback",
    "MnsFormat",
    "MnsMessage",
    "NotificationEnvelope",
    "OssEvent",
    "OssRecord",
    "TaskNotification",
    "TimerEvent",
    "decode_event_key",
    "parse_notification",
]

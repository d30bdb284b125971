"""Models of what arrives at our functions: OSS, MNS topic and timer trigger events, and completion
notifications (OSS async processing, IMM tasks, ICE callbacks).

Each parses from the raw event bytes and refuses a malformed event with an InvalidRequestError naming
the wire field, which the handler decorator turns into a logged, non-retried refusal.

    >>> from shared.events import OssEvent
"""

from shared.events.mns import MnsFormat, MnsMessage
from shared.events.notifications import (
    IceCallback,
    NotificationEnvelope,
    TaskNotification,
    parse_notification,
)
from shared.events.oss import OssEvent, OssRecord, decode_event_key
from shared.events.timer import TimerEvent

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

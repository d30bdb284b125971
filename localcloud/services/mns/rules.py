"""MNS's documented limits and defaults, the checks built on them, and the errors MNS answers with.

Every check raises ServiceHttpError with the code and status the real service uses, and a message that
names the element and the rule, e.g. `InvalidArgument: The value of VisibilityTimeout should be between
1 and 43200 seconds, got 0.`

    >>> bounded_int("Priority", "3", 1, 16, unit="")
    3
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from localcloud.services.base import ServiceHttpError
from localcloud.services.mns.errors import (
    INVALID_ARGUMENT,
    MESSAGE_NOT_EXIST,
    QUEUE_NOT_EXIST,
    RECEIPT_HANDLE_ERROR,
    SUBSCRIPTION_NOT_EXIST,
    TOPIC_NOT_EXIST,
)

MNS_XMLNS = "http://mns.aliyuncs.com/doc/v1/"
MNS_API_VERSION = "2015-06-06"

# Names: letters, digits and hyphens, starting with a letter or digit (newer accounts allow a digit).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,255}")
MAX_TAG_CHARS = 16
# XML 1.0 cannot carry most C0 control characters; bodies holding them must be sent base64-encoded.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Range:
    low: int
    high: int
    default: int

    def parse(self, element: str, text: str, unit: str = "seconds") -> int:
        return bounded_int(element, text, self.low, self.high, unit=unit)


# Queue attributes (CreateQueue / SetQueueAttributes).
DELAY_SECONDS = Range(0, 604800, 0)
MAXIMUM_MESSAGE_SIZE = Range(1024, 65536, 65536)
MESSAGE_RETENTION_PERIOD = Range(60, 604800, 345600)
VISIBILITY_TIMEOUT = Range(1, 43200, 30)
POLLING_WAIT_SECONDS = Range(0, 30, 0)
# Messages.
PRIORITY = Range(1, 16, 8)
WAIT_SECONDS = Range(0, 30, 0)
BATCH_SIZE = Range(1, 16, 16)
LIST_RET_NUMBER = Range(1, 1000, 1000)
# Topics keep messages for a day; the period is fixed, not an attribute one can set.
TOPIC_RETENTION_SECONDS = 86400

NOTIFY_STRATEGIES = ("BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY")
NOTIFY_CONTENT_FORMATS = ("XML", "JSON", "SIMPLIFIED")
# The FC MNSTopic trigger's formats, for subscriptions made in process by the local function runtime.
LOCAL_CONTENT_FORMATS = ("JSON", "STREAM")


def invalid_argument(message: str) -> ServiceHttpError:
    return INVALID_ARGUMENT(message)


def check_name(name: str, kind: str) -> str:
    """A queue, topic or subscription name; InvalidArgument naming the kind otherwise."""
    if not _NAME.fullmatch(name):
        raise invalid_argument(
            f"The {kind} name {name!r} is not valid: use 1-256 letters, digits and hyphens, "
            "starting with a letter or a digit."
        )
    return name


def bounded_int(element: str, text: str, low: int, high: int, *, unit: str = "seconds") -> int:
    """Parse an integer element or parameter and check its documented range."""
    try:
        value = int(text.strip())
    except ValueError:
        raise invalid_argument(f"The value of {element} must be an integer, got {text!r}.") from None
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise invalid_argument(
            f"The value of {element} should be between {low} and {high}{suffix}, got {value}."
        )
    return value


def parse_bool(element: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise invalid_argument(f"The value of {element} must be True or False, got {text!r}.")
    return lowered == "true"


def check_body(body: str, maximum_bytes: int, element: str = "MessageBody") -> str:
    size = len(body.encode("utf-8"))
    if not 1 <= size <= maximum_bytes:
        raise invalid_argument(
            f"The value of {element} should be between 1 and {maximum_bytes} bytes, got {size}."
        )
    if _INVALID_XML_CHARS.search(body):
        raise invalid_argument(
            f"{element} holds control characters XML cannot carry; encode the body with base64."
        )
    return body


def check_tag(tag: str, element: str = "MessageTag") -> str:
    if not 1 <= len(tag) <= MAX_TAG_CHARS or _INVALID_XML_CHARS.search(tag):
        raise invalid_argument(
            f"The value of {element} should be 1 to {MAX_TAG_CHARS} printable characters, got {tag!r}."
        )
    return tag


def check_choice(element: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise invalid_argument(f"The value of {element} must be one of {', '.join(choices)}, got {value!r}.")
    return value


# ------------------------------------------------------------------------------ the errors MNS answers


def queue_not_exist(name: str) -> ServiceHttpError:
    return QUEUE_NOT_EXIST(f"The queue name you provided is not exist: {name}.")


def topic_not_exist(name: str) -> ServiceHttpError:
    return TOPIC_NOT_EXIST(f"The topic name you provided is not exist: {name}.")


def subscription_not_exist(topic: str, name: str) -> ServiceHttpError:
    return SUBSCRIPTION_NOT_EXIST(f"The subscription {name} of topic {topic} is not exist.")


def message_not_exist() -> ServiceHttpError:
    return MESSAGE_NOT_EXIST("Message not exist.")


def receipt_handle_error(detail: str) -> ServiceHttpError:
    message = f"The receipt handle you provide is not valid: {detail}"
    return RECEIPT_HANDLE_ERROR(message)


def already_exists(code: str, kind: str, name: str) -> ServiceHttpError:
    return ServiceHttpError(
        409, code, f"The {kind} {name} already exists with different attributes; set them or pick a new name."
    )


def new_message_id(now_ms: int) -> str:
    """An id shaped like MNS's own (`5F290C926D472878-1-17F8A3C2E1D-200000001`), unique per message."""
    token = secrets.token_hex(8).upper()
    return f"{token}-1-{now_ms:X}-{secrets.randbelow(10**9):09d}"


@dataclass(frozen=True)
class Endpoint:
    """Where a subscription delivers: an HTTP(S) URL, or a queue of this account and region."""

    kind: str  # "http" or "queue"
    target: str  # the URL, or the queue name


_QUEUE_ENDPOINT = re.compile(r"acs:mns:(?P<region>[^:]+):(?P<account>[^:]+):queues/(?P<queue>[^/]+)")


def parse_endpoint(endpoint: str, *, region: str, account_id: str) -> Endpoint:
    """Check a subscription's Endpoint the way Subscribe does; InvalidArgument naming the rule otherwise."""
    text = endpoint.strip()
    if text.startswith(("http://", "https://")):
        host = text.split("://", 1)[1].split("/", 1)[0]
        if not host or any(ch.isspace() for ch in text):
            raise invalid_argument(f"The value of Endpoint is not a valid HTTP URL: {endpoint!r}.")
        return Endpoint("http", text)
    matched = _QUEUE_ENDPOINT.fullmatch(text)
    if matched:
        if (matched["region"], matched["account"]) != (region, account_id):
            raise invalid_argument(
                f"The queue endpoint must be in this account and region "
                f"(acs:mns:{region}:{account_id}:queues/<name>), got {endpoint!r}."
            )
        return Endpoint("queue", check_name(matched["queue"], "queue"))
    raise invalid_argument(
        "The value of Endpoint must be an http(s):// URL or acs:mns:<region>:<account>:queues/<name> "
        f"(localcloud sends no mail or SMS), got {endpoint!r}."
    )

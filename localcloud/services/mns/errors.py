"""MNS's error catalogue as localcloud answers it (see `ErrorCode` in localcloud.services.base)."""

from __future__ import annotations

from localcloud.services.base import ErrorCode

INVALID_ARGUMENT = ErrorCode(400, "InvalidArgument")
INVALID_DEGIST = ErrorCode(400, "InvalidDegist")  # sic: MNS's own spelling of the code
INVALID_REQUEST_URL = ErrorCode(400, "InvalidRequestURL")
MALFORMED_XML = ErrorCode(400, "MalformedXML")
MESSAGE_NOT_EXIST = ErrorCode(404, "MessageNotExist")
MISSING_RECEIPT_HANDLE = ErrorCode(400, "MissingReceiptHandle")
MISSING_VISIBILITY_TIMEOUT = ErrorCode(400, "MissingVisibilityTimeout")
QUEUE_NOT_EXIST = ErrorCode(404, "QueueNotExist")
RECEIPT_HANDLE_ERROR = ErrorCode(400, "ReceiptHandleError")
SUBSCRIPTION_NOT_EXIST = ErrorCode(404, "SubscriptionNotExist")
TOPIC_NOT_EXIST = ErrorCode(404, "TopicNotExist")

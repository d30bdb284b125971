"""The event functions' bodies: OSS upload, MNS notification and timer events in, a JSON summary out.

Each `functions/<name>/index.py` is one line over one module of this package:

    handler = upload_handler()        # on_upload: OSS trigger                     (`upload`)
    handler = notify_handler()        # on_notify: MNS topic trigger, JSON or STREAM (`notify`)
    handler = sweep_handler()         # fetch_results: timer trigger                (`sweep`)
    initialize = initializer(provider)  # FC's initialize hook, all three          (`common`)

The handlers are `shared.runtime.handler.fc_handler` functions, so its error mapping applies: a malformed
event (InvalidRequestError) is logged and refused without a retry; a retryable ServiceError is raised so
FC retries the invocation (MNS re-pushes a notification); anything else (a ConfigurationError above
all) is logged and raised. Every operation is idempotent, so FC's retries and duplicate deliveries
change nothing twice.

One module per trigger, each name loaded on first use (PEP 562): a function's cold start imports its own
event models and steps, not the other functions' (issue 11).

    >>> from shared.pipeline.handlers import ON_UPLOAD, sweep_limit
    >>> ON_UPLOAD, sweep_limit(b"{}")
    ('on_upload', None)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
    from shared.pipeline.handlers.common import FETCH_RESULTS, ON_NOTIFY, ON_UPLOAD, EventHandler, initializer
    from shared.pipeline.handlers.notify import handle_notification_event, notify_handler
    from shared.pipeline.handlers.sweep import (
        MAX_SWEEP_JOBS,
        SWEEP_RESERVE_SECONDS,
        handle_timer_event,
        sweep_budget,
        sweep_handler,
        sweep_limit,
    )
    from shared.pipeline.handlers.upload import handle_upload_event, upload_handler

_COMMON = "shared.pipeline.handlers.common"
_NOTIFY = "shared.pipeline.handlers.notify"
_SWEEP = "shared.pipeline.handlers.sweep"
_UPLOAD = "shared.pipeline.handlers.upload"
_MODULE_OF = {
    "EventHandler": _COMMON,
    "FETCH_RESULTS": _COMMON,
    "MAX_SWEEP_JOBS": _SWEEP,
    "ON_NOTIFY": _COMMON,
    "ON_UPLOAD": _COMMON,
    "SWEEP_RESERVE_SECONDS": _SWEEP,
    "handle_notification_event": _NOTIFY,
    "handle_timer_event": _SWEEP,
    "handle_upload_event": _UPLOAD,
    "initializer": _COMMON,
    "notify_handler": _NOTIFY,
    "sweep_budget": _SWEEP,
    "sweep_handler": _SWEEP,
    "sweep_limit": _SWEEP,
    "upload_handler": _UPLOAD,
}

__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)

__all__ = [
    "FETCH_RESULTS",
    "MAX_SWEEP_JOBS",
    "ON_NOTIFY",
    "ON_UPLOAD",
    "SWEEP_RESERVE_SECONDS",
    "EventHandler",
    "handle_notification_event",
    "handle_timer_event",
    "handle_upload_event",
    "initializer",
    "notify_handler",
    "sweep_budget",
    "sweep_handler",
    "sweep_limit",
    "upload_handler",
]

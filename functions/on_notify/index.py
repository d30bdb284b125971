"""on_notify: a task-completion notification (MNS topic trigger) - match it to its job, start the next step.

See shared.pipeline.handlers.
"""

from __future__ import annotations

from shared.pipeline.handlers.common import ON_NOTIFY, initializer
from shared.pipeline.handlers.notify import notify_handler
from shared.pipeline.provider import PipelineProvider

_provider = PipelineProvider(ON_NOTIFY, uses_dashscope=True)

handler = notify_handler(_provider)
initialize = initializer(_provider)

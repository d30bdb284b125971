"""fetch_results: the timer's sweep - poll pending tasks, write results, announce finished jobs.

See shared.pipeline.handlers.
"""

from __future__ import annotations

from shared.pipeline.handlers.common import FETCH_RESULTS, initializer
from shared.pipeline.handlers.sweep import sweep_handler
from shared.pipeline.provider import PipelineProvider

_provider = PipelineProvider(FETCH_RESULTS, uses_dashscope=True)

handler = sweep_handler(_provider)
initialize = initializer(_provider)

"""`python -m localcloud run` (`make run`): the whole chain over some files on this machine.

Modules: `command` (options, the run from start to summary), `inputs` (generated samples, checking the
user's files), `session` (upload, follow, copy), `watch` (the API, matching jobs to uploads, progress lines),
`report` (the per-file results and run-summary.json).
"""

from __future__ import annotations

from localcloud.run.command import (
    DEFAULT_OUT_DIR,
    DEFAULT_RUN_DATA_DIR,
    LOG_NAME,
    SUMMARY_NAME,
    RunOptions,
    execute,
    options_from_arguments,
)

__all__ = [
    "DEFAULT_OUT_DIR",
    "DEFAULT_RUN_DATA_DIR",
    "LOG_NAME",
    "SUMMARY_NAME",
    "RunOptions",
    "execute",
    "options_from_arguments",
]

"""The local Function Compute 2.0 runtime: template.yaml's functions running inside localcloud.

    from localcloud.runtime import FunctionRuntime
    runtime = FunctionRuntime(cloud, "template.yaml").start()

Modules: template.py / triggers_spec.py / intrinsics.py (the template model), parameters.py (local
values for deploy-time secrets), loader.py (importing handlers), context.py and environment.py (what a
handler sees), execution.py (running a handler with its timeout), invoke.py (asynchronous invocations),
triggers.py, http_trigger.py and cron.py (the triggers), runtime.py (FunctionRuntime, tying it together).
"""

from __future__ import annotations

from localcloud.runtime.execution import InvocationFailed, Outcome
from localcloud.runtime.intrinsics import TemplateError
from localcloud.runtime.loader import HandlerLoadError
from localcloud.runtime.runtime import FunctionRuntime, ResourcesMissing
from localcloud.runtime.template import FunctionSpec, Template, load_template

__all__ = [
    "FunctionRuntime",
    "FunctionSpec",
    "HandlerLoadError",
    "InvocationFailed",
    "Outcome",
    "ResourcesMissing",
    "Template",
    "TemplateError",
    "load_template",
]

"""on_upload: an object arrived under the inbox prefix (OSS trigger) - start its job.

The job is claimed idempotently (bucket + key + ETag), then the normalising conversion is submitted with
a completion notification to the pipeline topic. Records that are not uploads are ignored with a reason.
See shared.pipeline.handlers.
"""

from __future__ import annotations

from shared.pipeline.handlers.common import ON_UPLOAD, initializer
from shared.pipeline.handlers.upload import upload_handler
from shared.pipeline.provider import PipelineProvider

_provider = PipelineProvider(ON_UPLOAD, uses_dashscope=False)

handler = upload_handler(_provider)
initialize = initializer(_provider)

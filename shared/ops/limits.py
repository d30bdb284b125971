"""Size limits from the seed documents, without the request models they constrain.

Code that only checks a size (the pipeline's job inputs, its choice of recognition mode) imports the limit
from here, so it does not load the service's models at a function's cold start (issue 11); the model modules
re-export the same names.

    >>> ASR_MAX_REQUEST_BYTES // (1024 * 1024), ICE_DESCRIPTION_MAX_BYTES
    (10, 1024)
"""

from __future__ import annotations

__all__ = ["ASR_MAX_REQUEST_BYTES", "ICE_DESCRIPTION_MAX_BYTES", "OSS_CONCAT_MAX_OBJECTS"]

# Qwen-ASR: the whole request body (JSON, UTF-8), a data: URL's audio included, at most 10 MiB.
ASR_MAX_REQUEST_BYTES = 10 * 1024 * 1024
# OSS audio/concat: at most 11 objects merged, the source object included.
OSS_CONCAT_MAX_OBJECTS = 11
# ICE SubmitAudioProduceJob: Description, at most 1,024 bytes.
ICE_DESCRIPTION_MAX_BYTES = 1024

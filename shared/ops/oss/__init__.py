"""OSS asynchronous audio processing (`x-oss-async-process`): audio/convert and audio/concat, one import away.

Build a request, send `async_process_body(request.to_process())` to `POST /<key>?x-oss-async-process`, read
the answer with `AsyncProcessResponse.parse`. On the receiving side (localcloud), `parse_process` reads the
string and says which action it is.

    >>> request = AudioConvertRequest.build(
    ...     params={"f": "mp3", "ar": 16000, "ac": 1},
    ...     saveas={"bucket": "work", "object": "norm/a.{autoext}"},
    ... )
    >>> request.to_process()
    'audio/convert,f_mp3,ar_16000,ac_1|sys/saveas,b_d29yaw,o_bm9ybS9hLnthdXRvZXh0fQ'
    >>> isinstance(parse_process(request.to_process()), AudioConvertRequest)
    True

Modules behind this one: `common` (the process-string grammar and the request body), `params`
(output parameters and per-format limits), `saveas` (sys/saveas and notify), `convert`, `concat`.
"""

from __future__ import annotations

from pydantic import Field

from shared.ops.base import ResponseModel
from shared.ops.oss.common import (
    ASYNC_PROCESS_PARAM,
    CONCAT_ACTION,
    CONVERT_ACTION,
    async_process_body,
    process_from_body,
    split_process,
)
from shared.ops.oss.concat import MAX_OBJECTS, AudioConcatRequest, ConcatClip, ConcatWire, ParsedConcat
from shared.ops.oss.convert import AudioConvertRequest
from shared.ops.oss.params import CONCAT_ORDER, CONVERT_ORDER, FORMAT_LIMITS, ConvertParams, check_inherited
from shared.ops.oss.saveas import Notify, SaveAs, resolve_autoext

__all__ = [
    "ASYNC_PROCESS_PARAM",
    "CONCAT_ORDER",
    "CONVERT_ORDER",
    "FORMAT_LIMITS",
    "MAX_OBJECTS",
    "AsyncProcessResponse",
    "AudioConcatRequest",
    "AudioConvertRequest",
    "ConcatClip",
    "ConcatWire",
    "ConvertParams",
    "Notify",
    "ParsedConcat",
    "SaveAs",
    "async_process_body",
    "check_inherited",
    "parse_process",
    "process_from_body",
    "resolve_autoext",
]


class AsyncProcessResponse(ResponseModel):
    """The JSON answer to an async-processing request.

    >>> AsyncProcessResponse.parse({"EventId": "e", "RequestId": "r", "TaskId": "t"}).task_id
    't'
    """

    event_id: str = Field(alias="EventId")
    request_id: str = Field(alias="RequestId")
    task_id: str = Field(alias="TaskId")


def parse_process(process: str) -> AudioConvertRequest | ParsedConcat:
    """Read a process string and dispatch on its action.

    audio/concat comes back as a ParsedConcat (its `/pre` and `/sur` lists as written), because the source
    object is in the request path, not in the string; call `.to_request(key)` for the ordered clip list.
    """
    parts = split_process(process)
    if parts.action == CONVERT_ACTION:
        return AudioConvertRequest.from_parts(parts)
    assert parts.action == CONCAT_ACTION  # split_process admits only these two actions
    return ParsedConcat.from_parts(parts)

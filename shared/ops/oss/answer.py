"""The answer to an async-processing request, and reading a process string back into its request.

>>> AsyncProcessResponse.parse({"EventId": "e", "RequestId": "r", "TaskId": "t"}).task_id
't'
"""

from __future__ import annotations

from pydantic import Field

from shared.ops.base import ResponseModel
from shared.ops.oss.common import CONCAT_ACTION, CONVERT_ACTION, split_process
from shared.ops.oss.concat import ParsedConcat
from shared.ops.oss.convert import AudioConvertRequest

__all__ = ["AsyncProcessResponse", "parse_process"]


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

"""OSS asynchronous audio processing (`x-oss-async-process`): audio/convert and audio/concat, one import away.

Build a request, send `async_process_body(request.to_process())` to `POST /<key>?x-oss-async-process`, read
the answer with `AsyncProcessResponse.parse`. On the receiving side (localcloud), `parse_process` reads the
string and says which action it is.

    >>> from shared.ops.oss import AudioConvertRequest, parse_process
    >>> request = AudioConvertRequest.build(
    ...     params={"f": "mp3", "ar": 16000, "ac": 1},
    ...     saveas={"bucket": "work", "object": "norm/a.{autoext}"},
    ... )
    >>> request.to_process()
    'audio/convert,f_mp3,ar_16000,ac_1|sys/saveas,b_d29yaw,o_bm9ybS9hLnthdXRvZXh0fQ'
    >>> isinstance(parse_process(request.to_process()), AudioConvertRequest)
    True

Modules behind this one: `common` (the process-string grammar and the request body), `params`
(output parameters and per-format limits), `saveas` (sys/saveas and notify), `convert`, `concat`, and
`answer` (the service's answer, and reading a process string back). Each name loads its module on first use
(PEP 562): the pipeline's job inputs need `params` alone, and a function's cold start must not load every
request model with it (issue 11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.lazy import names_loaded_on_use

if TYPE_CHECKING:
    from shared.ops.oss.answer import AsyncProcessResponse, parse_process
    from shared.ops.oss.common import ASYNC_PROCESS_PARAM, async_process_body, process_from_body
    from shared.ops.oss.concat import MAX_OBJECTS, AudioConcatRequest, ConcatClip, ConcatWire, ParsedConcat
    from shared.ops.oss.convert import AudioConvertRequest
    from shared.ops.oss.params import (
        CONCAT_ORDER,
        CONVERT_ORDER,
        FORMAT_LIMITS,
        ConvertParams,
        check_inherited,
    )
    from shared.ops.oss.saveas import Notify, SaveAs, resolve_autoext

_MODULE_OF = {
    "ASYNC_PROCESS_PARAM": "shared.ops.oss.common",
    "AsyncProcessResponse": "shared.ops.oss.answer",
    "AudioConcatRequest": "shared.ops.oss.concat",
    "AudioConvertRequest": "shared.ops.oss.convert",
    "CONCAT_ORDER": "shared.ops.oss.params",
    "CONVERT_ORDER": "shared.ops.oss.params",
    "ConcatClip": "shared.ops.oss.concat",
    "ConcatWire": "shared.ops.oss.concat",
    "ConvertParams": "shared.ops.oss.params",
    "FORMAT_LIMITS": "shared.ops.oss.params",
    "MAX_OBJECTS": "shared.ops.oss.concat",
    "Notify": "shared.ops.oss.saveas",
    "ParsedConcat": "shared.ops.oss.concat",
    "SaveAs": "shared.ops.oss.saveas",
    "async_process_body": "shared.ops.oss.common",
    "check_inherited": "shared.ops.oss.params",
    "parse_process": "shared.ops.oss.answer",
    "process_from_body": "shared.ops.oss.common",
    "resolve_autoext": "shared.ops.oss.saveas",
}


__getattr__ = names_loaded_on_use(__name__, _MODULE_OF)


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

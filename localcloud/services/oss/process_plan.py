"""What an async-processing request asks for, in engine terms: the parsed process string resolved against
the object it was POSTed to, the engine's TranscodeSpec, and the per-format check of inherited values.

    >>> plan = plan_process("audio/convert,f_mp3,ar_16000|sys/saveas,b_bWVkaWE,o_YS57YXV0b2V4dH0", "a.wav")
    >>> plan.sources, plan.target_key
    ((('source', 'a.wav'),), 'a.mp3')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.ops.oss import (
    AudioConvertRequest,
    ConcatClip,
    ConvertParams,
    Notify,
    SaveAs,
    parse_process,
    resolve_autoext,
)

if TYPE_CHECKING:
    from localcloud.engines.spec import TranscodeSpec


@dataclass(frozen=True)
class ProcessPlan:
    """A parsed process string resolved against its source object: what to read, how, and where to write."""

    params: ConvertParams
    sources: tuple[tuple[str, str], ...]  # (label, key) in output order, all in the request's bucket
    clips: tuple[ConcatClip, ...] | None  # None for audio/convert
    align: int
    saveas: SaveAs
    notify: Notify | None
    warnings: tuple[str, ...]

    @property
    def target_key(self) -> str:
        return resolve_autoext(self.saveas.object, self.params.f)


def plan_process(process: str, source_key: str) -> ProcessPlan:
    """Parse a process string POSTed to `source_key` (InvalidRequestError naming field and rule)."""
    parsed = parse_process(process)
    if isinstance(parsed, AudioConvertRequest):
        return ProcessPlan(
            parsed.params,
            (("source", source_key),),
            None,
            0,
            parsed.saveas,
            parsed.notify,
            tuple(parsed.wire_warnings),
        )
    request = parsed.to_request(source_key)
    labels = [f"pre[{index}].o" for index in range(len(parsed.pre))] + ["source"]
    labels += [f"sur[{index}].o" for index in range(len(parsed.sur))]
    sources = tuple(zip(labels, (clip.object for clip in request.clips), strict=True))
    return ProcessPlan(
        request.params,
        sources,
        tuple(request.clips),
        request.align,
        request.saveas,
        request.notify,
        tuple(parsed.wire_warnings),
    )


def transcode_spec(params: ConvertParams) -> TranscodeSpec:
    """The engine's TranscodeSpec for the output parameters (ar/ac None: inherited from the source)."""
    from localcloud.engines.spec import TranscodeSpec  # the media engine loads FFmpeg: only tasks need it

    return TranscodeSpec(
        format=params.f.value,
        ss_ms=params.ss,
        t_ms=params.t,
        sample_rate=None if params.ar is None else int(params.ar),
        channels=params.ac,
        bitrate=params.ab,
        quality=params.aq,
        bitrate_option=0 if params.abopt is None else int(params.abopt.value),
        bit_depth=None if params.adepth is None else int(params.adepth),
    )


def output_check(params: ConvertParams) -> Callable[[str, int, int], Sequence[str]]:
    """The engine's check_output: per-format rules applied to the values the output inherits."""

    def check(_format: str, sample_rate: int, channels: int) -> list[str]:
        return [
            f"{problem.field} ({problem.rule}): {problem.message}"
            for problem in params.inherited_problems(sample_rate, channels)
        ]

    return check

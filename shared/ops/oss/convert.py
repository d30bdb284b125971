"""OSS `audio/convert`: transcode one object asynchronously, written as an `x-oss-async-process` string."""

from __future__ import annotations

from typing import ClassVar

from shared.errors import InvalidRequestError
from shared.ops.base import RequestModel
from shared.ops.oss.common import (
    CONVERT_ACTION,
    LITERAL_NAMES,
    ProblemCollector,
    ProcessParts,
    split_process,
    structure_error,
)
from shared.ops.oss.params import CONVERT_ORDER, ConvertParams
from shared.ops.oss.saveas import Notify, SaveAs, destination_wire, parse_destination


class AudioConvertRequest(RequestModel):
    """An audio/convert task: output parameters, where to save (required), and whom to notify.

    >>> request = AudioConvertRequest.build(
    ...     params={"ss": 10000, "t": 60000, "f": "aac", "ab": 96000},
    ...     saveas={"bucket": "examplebucket", "object": "dest.aac"},
    ...     notify={"topic": "AudioConvert"},
    ... )
    >>> request.to_process()
    'audio/convert,ss_10000,t_60000,f_aac,ab_96000|sys/saveas,b_ZXhhbXBsZWJ1Y2tldA,o_ZGVzdC5hYWM/notify,topic_QXVkaW9Db252ZXJ0'
    >>> AudioConvertRequest.from_process(request.to_process()) == request
    True
    """

    operation: ClassVar[str] = CONVERT_ACTION

    params: ConvertParams
    saveas: SaveAs
    notify: Notify | None = None

    def to_process(self) -> str:
        """The process string, parameters in the order the seed's examples use."""
        head = ",".join([CONVERT_ACTION, *self.params.wire_items(CONVERT_ORDER)])
        return f"{head}|{destination_wire(self.saveas, self.notify)}"

    @classmethod
    def from_process(cls, process: str) -> AudioConvertRequest:
        """Parse a process string; names are taken literally (see `wire_warnings`)."""
        return cls.from_parts(split_process(process, CONVERT_ACTION))

    @classmethod
    def from_parts(cls, parts: ProcessParts) -> AudioConvertRequest:
        """Build from an already split process string (see `parse_process`)."""
        if parts.action != CONVERT_ACTION:
            raise structure_error(
                f"is {parts.action}, not {CONVERT_ACTION}; "
                "use parse_process() or AudioConcatRequest.from_wire()",
                CONVERT_ACTION,
                rule="wrong_action",
            )
        if parts.clips:
            raise structure_error(
                f"{CONVERT_ACTION} takes no /pre or /sur clips (found /{parts.clips[0].name}); "
                "merging is audio/concat",
                CONVERT_ACTION,
                rule="unexpected_step",
            )
        collector = ProblemCollector()
        params = None
        try:
            params = ConvertParams.from_step(parts.action_step, CONVERT_ACTION)
        except InvalidRequestError as exc:
            collector.absorb(exc)
        saveas, notify = parse_destination(parts.saveas, parts.notify, CONVERT_ACTION, collector)
        collector.raise_if_any(CONVERT_ACTION)
        data = {"params": params, "saveas": saveas, "notify": notify}
        return cls.model_validate(data, context={LITERAL_NAMES: True})

    @property
    def wire_warnings(self) -> list[str]:
        """Names taken literally from a process string that are probably not what was meant."""
        return self.saveas.wire_warnings

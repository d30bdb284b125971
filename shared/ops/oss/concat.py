"""OSS `audio/concat`: merge up to 11 objects in order, written as an `x-oss-async-process` string.

The request is `POST /<source object>?x-oss-async-process` with
`audio/concat,<output params>,align_N/pre,o_…,ss_…,t_…/sur,o_…|sys/saveas,…`. We read it as the seeds'
worked example shows (seed-notes.md): the output is the `/pre` clips in written order, then the source object
whole, then the `/sur` clips in written order; `align` indexes that list. The source object therefore
cannot be trimmed, and an ordered clip list can only be sent when one of its clips is untrimmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator, model_validator
from typing_extensions import Self

from shared.encoding import b64url_encode
from shared.errors import InvalidRequestError
from shared.ops.base import RequestModel
from shared.ops.limits import OSS_CONCAT_MAX_OBJECTS
from shared.ops.oss.common import (
    CONCAT_ACTION,
    LITERAL_NAMES,
    ProblemCollector,
    ProcessParts,
    WireStep,
    async_process_body,
    check_known_params,
    emitted_params,
    literal_names,
    raise_field_problems,
    split_process,
    structure_error,
    validate_from_wire,
    wire_int,
)
from shared.ops.oss.params import CONCAT_ORDER, ConvertParams, WireInt
from shared.ops.oss.saveas import (
    Notify,
    SaveAs,
    decoded_name,
    destination_wire,
    parse_destination,
)
from shared.ops.wire import check_object_key, describe_control_characters

MIN_OBJECTS = 2
MAX_OBJECTS = OSS_CONCAT_MAX_OBJECTS  # the source object included
_CLIP_KEYS = ("o", "ss", "t")
_COUNT_RULE = f"audio/concat merges {MIN_OBJECTS} to {MAX_OBJECTS} objects, the source object included"


class ConcatClip(RequestModel):
    """One object in the merge, optionally trimmed: `o_<object>[,ss_<ms>][,t_<ms>]`.

    >>> ConcatClip.build(object="pre2.wav", t=2000).to_wire()
    'o_cHJlMi53YXY,t_2000'
    """

    operation: ClassVar[str] = "audio/concat clip"

    object: str
    ss: WireInt = Field(0, ge=0, description="Start offset in milliseconds; 0 starts at the beginning.")
    t: WireInt = Field(0, ge=0, description="Duration in milliseconds; 0 runs to the end.")

    @field_validator("object")
    @classmethod
    def _object_rules(cls, value: str, info: ValidationInfo) -> str:
        return check_object_key(value, allow_control=literal_names(info))

    @property
    def untrimmed(self) -> bool:
        """Whether the whole object is used (only such a clip can be the request's source object)."""
        return self.ss == 0 and self.t == 0

    def to_wire(self) -> str:
        return ",".join([f"o_{b64url_encode(self.object)}", *emitted_params(self, ("ss", "t"))])

    @classmethod
    def from_step(cls, step: WireStep, operation: str) -> ConcatClip:
        collector = ProblemCollector()
        check_known_params(step, _CLIP_KEYS, f"/{step.name}", collector)
        data: dict[str, Any] = {"object": decoded_name(step, "o", collector)}
        for key in ("ss", "t"):
            if key in step.params:
                data[key] = wire_int(step, key, collector)
        collector.raise_if_any(operation)
        return validate_from_wire(cls, data, label=step.label, operation=operation, rename={"object": "o"})

    def wire_warning(self, label: str) -> str | None:
        """Why this clip's name, taken literally from a process string, is probably not what was meant."""
        problem = describe_control_characters(self.object)
        return f"{label}.o: {problem}; that literal object is read" if problem else None


@dataclass(frozen=True)
class ConcatWire:
    """What is sent: `POST /<source_key>?x-oss-async-process` with `process` in the body."""

    source_key: str
    process: str

    @property
    def body(self) -> bytes:
        return async_process_body(self.process)


def _list_problems(total: int, align: int, note: str = "") -> list[tuple[str, str, str]]:
    problems = []
    if not MIN_OBJECTS <= total <= MAX_OBJECTS:
        problems.append(("clips", "clip_count", f"{_COUNT_RULE}{note}; got {total}"))
    if align >= max(total, 1):
        problems.append(
            ("align", "align_range", f"align is a 0-based index into the {total} merged objects; got {align}")
        )
    return problems


def _concat_process(
    request: ParsedConcat | AudioConcatRequest, pre: Sequence[ConcatClip], sur: Sequence[ConcatClip]
) -> str:
    items = [CONCAT_ACTION, *request.params.wire_items(CONCAT_ORDER), *emitted_params(request, ("align",))]
    clips = "".join(
        f"/{side},{clip.to_wire()}" for side, group in (("pre", pre), ("sur", sur)) for clip in group
    )
    return ",".join(items) + clips + "|" + destination_wire(request.saveas, request.notify)


class AudioConcatRequest(RequestModel):
    """An audio/concat task as an ordered clip list: the output is `clips` in this order.

    >>> request = AudioConcatRequest.build(
    ...     clips=[{"object": "intro.mp3", "t": 5000}, {"object": "talk.mp3"}],
    ...     params={"f": "mp3", "ar": 44100, "ac": 1},
    ...     saveas={"bucket": "outbucket", "object": "talk.{autoext}"},
    ... )
    >>> wire = request.to_wire()
    >>> wire.source_key, wire.process.split("|")[0]
    ('talk.mp3', 'audio/concat,f_mp3,ac_1,ar_44100/pre,o_aW50cm8ubXAz,t_5000')
    >>> AudioConcatRequest.from_wire(wire.source_key, wire.process) == request
    True
    """

    operation: ClassVar[str] = CONCAT_ACTION

    clips: list[ConcatClip]
    params: ConvertParams
    align: WireInt = Field(
        0, ge=0, description="Index of the clip whose sample rate and channels are the defaults."
    )
    saveas: SaveAs
    notify: Notify | None = None

    @model_validator(mode="after")
    def _check_list(self) -> Self:
        raise_field_problems(self, _list_problems(len(self.clips), self.align))
        return self

    @property
    def align_clip(self) -> ConcatClip:
        """The clip whose sample rate and channel count the output inherits when ar/ac are not set."""
        return self.clips[self.align]

    def source_index(self) -> int:
        """Which clip is sent as the request's source object: the first untrimmed one, so that as few clips
        as possible go as `/pre`. The seed's prose ("before all previously listed clips") and its table
        disagree on the order of several `/pre` clips; with none or one, both readings give the same
        order (see `reading_independent`). Raises when no clip is untrimmed."""
        for index, clip in enumerate(self.clips):
            if clip.untrimmed:
                return index
        raise InvalidRequestError.single(
            "clips",
            "no_untrimmed_clip",
            "audio/concat is sent to one source object, which it always uses whole, so one clip must be "
            f"untrimmed (ss=0 and t=0) and none of the {len(self.clips)} is; add an untrimmed clip, "
            "trim the clips first with audio/convert, or merge with IMM CreateMediaConvertTask "
            "(an ordered Sources list)",
            CONCAT_ACTION,
        )

    def reading_independent(self) -> bool:
        """Whether the merged order is the same under both readings of `/pre` (at most one `/pre` clip)."""
        return self.source_index() <= 1

    def to_wire(self) -> ConcatWire:
        """The source object to POST to and the process string (`/pre` before it, `/sur` after it)."""
        index = self.source_index()
        process = _concat_process(self, self.clips[:index], self.clips[index + 1 :])
        return ConcatWire(self.clips[index].object, process)

    @classmethod
    def from_wire(cls, source_key: str, process: str) -> AudioConcatRequest:
        """Parse what was POSTed: the source object key and the process string."""
        return ParsedConcat.from_parts(split_process(process, CONCAT_ACTION)).to_request(source_key)

    @property
    def wire_warnings(self) -> list[str]:
        """Names taken literally from a process string that are probably not what was meant."""
        found = [clip.wire_warning(f"clips[{index}]") for index, clip in enumerate(self.clips)]
        return [warning for warning in found if warning] + self.saveas.wire_warnings


class ParsedConcat(RequestModel):
    """An audio/concat process string read without its source object: the `/pre` and `/sur` lists as written.

    The source object comes from the request path; `to_request(key)` puts it between the two lists.

    >>> parsed = ParsedConcat.from_process(
    ...     "audio/concat,f_aac,align_1/pre,o_YS5tcDM/sur,o_Yy5tcDM,ss_500"
    ...     "|sys/saveas,b_b3V0YnVja2V0,o_bS5hYWM"
    ... )
    >>> [clip.object for clip in parsed.to_request("b.mp3").clips]
    ['a.mp3', 'b.mp3', 'c.mp3']
    """

    operation: ClassVar[str] = CONCAT_ACTION

    params: ConvertParams
    align: WireInt = Field(0, ge=0)
    pre: list[ConcatClip] = Field(default_factory=list)
    sur: list[ConcatClip] = Field(default_factory=list)
    saveas: SaveAs
    notify: Notify | None = None

    @model_validator(mode="after")
    def _check_list(self) -> Self:
        note = " (so 1 to 10 /pre and /sur clips)"
        raise_field_problems(self, _list_problems(self.object_count, self.align, note))
        return self

    @property
    def object_count(self) -> int:
        """How many objects are merged: the /pre clips, the source object and the /sur clips."""
        return len(self.pre) + 1 + len(self.sur)

    def to_process(self) -> str:
        return _concat_process(self, self.pre, self.sur)

    def to_request(self, source_key: str) -> AudioConcatRequest:
        """The ordered request once the source object (from the request path) is known."""
        source = validate_from_wire(
            ConcatClip,
            {"object": source_key},
            label="",
            operation=CONCAT_ACTION,
            rename={"object": "source_key"},
        )
        data: dict[str, Any] = {
            "clips": [*self.pre, source, *self.sur],
            "params": self.params,
            "saveas": self.saveas,
            "notify": self.notify,
        }
        if "align" in self.model_fields_set:
            data["align"] = self.align
        return AudioConcatRequest.model_validate(data, context={LITERAL_NAMES: True})

    @classmethod
    def from_process(cls, process: str) -> ParsedConcat:
        return cls.from_parts(split_process(process, CONCAT_ACTION))

    @classmethod
    def from_parts(cls, parts: ProcessParts) -> ParsedConcat:
        """Build from an already split process string (see `parse_process`)."""
        if parts.action != CONCAT_ACTION:
            raise structure_error(
                f"is {parts.action}, not {CONCAT_ACTION}; use parse_process() or AudioConvertRequest",
                CONCAT_ACTION,
                rule="wrong_action",
            )
        collector = ProblemCollector()
        action = parts.action_step
        data: dict[str, Any] = {"pre": [], "sur": []}
        try:
            data["params"] = ConvertParams.from_step(action, CONCAT_ACTION, ignore=("align",))
        except InvalidRequestError as exc:
            collector.absorb(exc)
        if "align" in parts.params:
            data["align"] = wire_int(action, "align", collector)
        for step in parts.clips:
            try:
                data[step.name].append(ConcatClip.from_step(step, CONCAT_ACTION))
            except InvalidRequestError as exc:
                collector.absorb(exc)
        data["saveas"], data["notify"] = parse_destination(
            parts.saveas, parts.notify, CONCAT_ACTION, collector
        )
        collector.raise_if_any(CONCAT_ACTION)
        return validate_from_wire(cls, data, label="", operation=CONCAT_ACTION)

    @property
    def wire_warnings(self) -> list[str]:
        """Names taken literally from the process string that are probably not what was meant."""
        labelled = [(f"pre[{i}]", clip) for i, clip in enumerate(self.pre)]
        labelled += [(f"sur[{i}]", clip) for i, clip in enumerate(self.sur)]
        found = [clip.wire_warning(label) for label, clip in labelled]
        return [warning for warning in found if warning] + self.saveas.wire_warnings

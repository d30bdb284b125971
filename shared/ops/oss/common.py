"""The grammar of OSS async-processing strings, and helpers the audio/convert and audio/concat models share.

A process string is a pipeline of steps separated by `|`. A step is a name, then `key_value` parameters
after `,`, then sub-steps introduced by `/`:

    audio/concat,f_aac,align_1/pre,o_cHJlMS5tcDM/sur,o_c3VyMS5hYWM|sys/saveas,b_b3V0YnVja2V0,o_b3V0LmFhYw

No value ever contains `/` (values are digits, format names or URL-safe base64), so splitting on `/` is
exact once the two-part names (`audio/convert`, `audio/concat`, `sys/saveas`) are put back together.
`notify` may follow `sys/saveas` as a sub-step (`/notify`, as the seeds write it) or as a step (`|notify`).

Errors raised while parsing name the wire field the way the string spells it: `ar`, `align`,
`pre[1].o`, `sys/saveas.b`, `notify.topic`; structural faults name `process`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError, ValidationInfo
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.errors import InvalidRequestError, Problem
from shared.ops.enums import AudioFormat

CONVERT_ACTION = "audio/convert"
CONCAT_ACTION = "audio/concat"
SAVEAS_STEP = "sys/saveas"
NOTIFY_STEP = "notify"
CLIP_STEPS = ("pre", "sur")

# Validation context flag: names decoded from a process string are taken literally (control characters
# included) because that is what the server would see; names given to a builder are held to the rules.
LITERAL_NAMES = "literal_names"

# First halves of the two-part step names; the `/` after them belongs to the name, not the grammar.
_NAMESPACES = frozenset({"audio", "sys"})
# More digits than any documented value needs; also keeps int() far from Python's digit limit.
_MAX_DIGITS = 15

ModelT = TypeVar("ModelT", bound=BaseModel)


class WireStep(NamedTuple):
    """One step or sub-step as written: its name, its parameters in written order, and its error label."""

    name: str
    params: dict[str, str]
    label: str = ""
    # Keys written more than once (with the values after the first); reported by check_known_params,
    # which knows the step's label.
    repeated: tuple[tuple[str, str], ...] = ()

    def relabel(self, label: str) -> WireStep:
        return WireStep(self.name, self.params, label, self.repeated)

    def field(self, key: str) -> str:
        """How errors name parameter `key` of this step (`ar`, `pre[0].o`, `sys/saveas.b`)."""
        return qualify(self.label, key)


class ProcessParts(NamedTuple):
    """A process string split into its action step, the action's clips, and the output destination."""

    action_step: WireStep
    saveas: WireStep
    clips: tuple[WireStep, ...] = ()
    notify: WireStep | None = None

    @property
    def action(self) -> str:
        return self.action_step.name

    @property
    def params(self) -> dict[str, str]:
        return self.action_step.params


class ProblemCollector:
    """Gathers the problems of several independent parts so one error reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.problems.append(Problem(field_name, rule, message))

    def absorb(self, error: InvalidRequestError) -> None:
        self.problems.extend(error.problems)

    def raise_if_any(self, operation: str) -> None:
        if self.problems:
            raise InvalidRequestError(self.problems, operation)


def as_audio_format(fmt: AudioFormat | str) -> AudioFormat:
    """`fmt` as an AudioFormat, or an InvalidRequestError naming `f` and the allowed values."""
    try:
        return AudioFormat(fmt)
    except ValueError:
        allowed = ", ".join(member.value for member in AudioFormat)
        raise InvalidRequestError.single("f", "enum", f"must be one of {allowed}, got {fmt!r}") from None


def qualify(label: str, key: str) -> str:
    return f"{label}.{key}" if label else key


def structure_error(message: str, operation: str, rule: str = "malformed") -> InvalidRequestError:
    return InvalidRequestError.single("process", rule, message, operation)


def split_process(process: object, operation: str = "async process") -> ProcessParts:
    """Split a process string into its parts without judging the values.

    >>> parts = split_process("audio/convert,f_mp3|sys/saveas,b_YnVja2V0,o_b3V0Lm1wMw/notify,topic_VA")
    >>> parts.action, parts.params, parts.saveas.params["b"], parts.notify is not None
    ('audio/convert', {'f': 'mp3'}, 'YnVja2V0', True)
    """
    if not isinstance(process, str) or not process:
        raise structure_error(
            "must be a non-empty process string such as 'audio/convert,f_mp3|sys/saveas,…'",
            operation,
            rule="required",
        )
    segments = process.split("|")
    if not all(segments):
        raise structure_error("has an empty step (two '|' in a row, or '|' at either end)", operation)

    action, *clip_steps = _split_segment(segments[0], operation)
    if action.name not in (CONVERT_ACTION, CONCAT_ACTION):
        written = segments[0].partition(",")[0]
        raise structure_error(
            f"must start with {CONVERT_ACTION} or {CONCAT_ACTION}, not {written!r}",
            operation,
            rule="unsupported_action",
        )
    clips = _label_clips(clip_steps, operation)

    saveas: WireStep | None = None
    notify: WireStep | None = None
    for segment in segments[1:]:
        head, *subs = _split_segment(segment, operation)
        if head.name == SAVEAS_STEP and all(sub.name == NOTIFY_STEP for sub in subs) and len(subs) <= 1:
            steps = [head, *subs]
        elif head.name == NOTIFY_STEP and not subs:
            steps = [head]
        else:
            names = "/".join(step.name for step in (head, *subs))
            raise structure_error(
                f"has an unknown step {names!r}; after the action only '{SAVEAS_STEP},b_…,o_…' "
                f"and 'notify,topic_…' (as '/notify' or '|notify') may follow",
                operation,
                rule="unknown_step",
            )
        for step in steps:
            if step.name == SAVEAS_STEP:
                if saveas is not None:
                    raise structure_error(f"names {SAVEAS_STEP} twice", operation, rule="duplicate_step")
                saveas = step.relabel(SAVEAS_STEP)
            else:
                if notify is not None:
                    raise structure_error("names notify twice", operation, rule="duplicate_step")
                notify = step.relabel(NOTIFY_STEP)

    if saveas is None:
        raise InvalidRequestError.single(
            SAVEAS_STEP,
            "required",
            "async processing needs '|sys/saveas,b_<bucket>,o_<object>' to say where the output goes",
            operation,
        )
    return ProcessParts(action, saveas, clips, notify)


def _split_segment(segment: str, operation: str) -> list[WireStep]:
    pieces = segment.split("/")
    if len(pieces) > 1 and pieces[0] in _NAMESPACES:
        pieces[0:2] = [f"{pieces[0]}/{pieces[1]}"]
    steps = []
    for piece in pieces:
        name, comma, text = piece.partition(",")
        if not name:
            raise structure_error(f"has a step with no name in {segment!r}", operation)
        params: dict[str, str] = {}
        repeated: list[tuple[str, str]] = []
        for token in text.split(",") if comma else ():
            key, underscore, value = token.partition("_")
            if not underscore or not key:
                raise structure_error(
                    f"parameter {token!r} of {name} is not written as key_value (for example 'f_mp3')",
                    operation,
                    rule="malformed_parameter",
                )
            if key in params:
                repeated.append((key, value))
            else:
                params[key] = value
        steps.append(WireStep(name, params, repeated=tuple(repeated)))
    return steps


def _label_clips(steps: Sequence[WireStep], operation: str) -> tuple[WireStep, ...]:
    counts = dict.fromkeys(CLIP_STEPS, 0)
    labelled = []
    for step in steps:
        if step.name not in counts:
            raise structure_error(
                f"has an unknown sub-step '/{step.name}' after the action; only /pre and /sur "
                f"(audio/concat clips) may follow it",
                operation,
                rule="unknown_step",
            )
        labelled.append(step.relabel(f"{step.name}[{counts[step.name]}]"))
        counts[step.name] += 1
    return tuple(labelled)


def check_known_params(step: WireStep, known: Sequence[str], what: str, collector: ProblemCollector) -> None:
    """Report every parameter of `step` that `what` does not take, and every parameter written twice."""
    for key, value in step.repeated:
        collector.add(
            step.field(key),
            "duplicate_parameter",
            f"{what} gives {key} twice ({step.params[key]!r} and {value!r})",
        )
    for key in step.params:
        if key not in known:
            collector.add(
                step.field(key),
                "unknown_parameter",
                f"{what} has no parameter {key!r}; it takes {', '.join(known)}",
            )


def wire_int(step: WireStep, key: str, collector: ProblemCollector) -> int | None:
    """The integer value of parameter `key`, or None (with a problem recorded) when it is not plain digits."""
    text = step.params[key]
    if text.isascii() and text.isdigit() and len(text) <= _MAX_DIGITS:
        return int(text)
    collector.add(
        step.field(key),
        "integer",
        f"must be a whole number written in at most {_MAX_DIGITS} digits, got {text!r}",
    )
    return None


def literal_names(info: ValidationInfo) -> bool:
    """Whether this validation is of names decoded from a process string (kept literally)."""
    return isinstance(info.context, Mapping) and bool(info.context.get(LITERAL_NAMES))


def validate_from_wire(
    model: type[ModelT],
    data: Mapping[str, Any],
    *,
    label: str,
    operation: str,
    rename: Mapping[str, str] | None = None,
) -> ModelT:
    """Validate values read from a process string, naming errors the way the string spells the fields.

    `rename` maps model field names to wire keys (`object` → `o`); `label` prefixes them (`pre[0]`).
    """
    try:
        return model.model_validate(data, context={LITERAL_NAMES: True})
    except ValidationError as exc:
        raw = InvalidRequestError.from_validation_error(exc, operation)
    renames = rename or {}
    problems = []
    for problem in raw.problems:
        head, dot, rest = problem.field.partition(".")
        wire_name = qualify(label, renames.get(head, head) + dot + rest)
        problems.append(Problem(wire_name, problem.rule, problem.message))
    raise InvalidRequestError(problems, operation) from None


def raise_field_problems(model: BaseModel, problems: Sequence[tuple[str, str, str]]) -> None:
    """Raise cross-field problems from an after-validator, each located at its own field.

    A plain ValueError from a model validator carries no location; a ValidationError keeps the field
    (and pydantic nests it under the parent's field when the model is part of a larger one).
    """
    if not problems:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError(rule, message), loc=(name,), input=getattr(model, name, None)
        )
        for name, rule, message in problems
    ]
    raise ValidationError.from_exception_data(type(model).__name__, details)


def wire_value(value: object) -> str:
    """How a field value is written on the wire: enums by their value, integers in decimal."""
    if isinstance(value, Enum):
        value = value.value
    return str(value)


def emitted_params(model: BaseModel, order: Sequence[str]) -> list[str]:
    """`key_value` items for the fields in `order` that differ from their default or were given explicitly.

    Keeping an explicit zero (`t_0`) lets a parsed string come back out exactly as it went in.
    """
    items = []
    fields = type(model).model_fields
    for name in order:
        value = getattr(model, name)
        if value is None:
            continue
        if value == fields[name].default and name not in model.model_fields_set:
            continue
        items.append(f"{name}_{wire_value(value)}")
    return items


ASYNC_PROCESS_PARAM = "x-oss-async-process"
_BODY_PREFIX = f"{ASYNC_PROCESS_PARAM}=".encode("ascii")


def async_process_body(process: str) -> bytes:
    """The body of `POST /<key>?x-oss-async-process`: the raw bytes `x-oss-async-process=<process>`.

    Not form-encoded (`|`, `/` and `,` go as they are), exactly as both official Python SDKs send it.

    >>> async_process_body("audio/convert,f_mp3|sys/saveas,b_YnVja2V0,o_eC5tcDM")
    b'x-oss-async-process=audio/convert,f_mp3|sys/saveas,b_YnVja2V0,o_eC5tcDM'
    """
    if not isinstance(process, str) or not process:
        raise InvalidRequestError.single("process", "required", "must be a non-empty process string")
    return _BODY_PREFIX + process.encode("utf-8")


def process_from_body(body: bytes) -> str:
    """The process string in an async-processing request body (the inverse of async_process_body)."""
    if not body.startswith(_BODY_PREFIX):
        raise InvalidRequestError.single(
            "body", "missing_prefix", f"an async-processing body starts with {_BODY_PREFIX.decode()!r}"
        )
    try:
        return body[len(_BODY_PREFIX) :].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestError.single("body", "utf8", "the process string is not UTF-8 text") from None

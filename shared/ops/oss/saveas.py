"""Where an async task writes (`sys/saveas,b_…,o_…`) and whom it tells (`notify,topic_…`).

Names travel as URL-safe base64 without padding. Builders refuse names that break OSS's rules; parsers take
decoded names literally, because that is what the server would see. The seeds' REST examples were encoded
with `echo`, so their names end in a newline (`b3V0b2JqLnthdXRvZXh0fQo` is "outobj.{autoext}\\n"): a parsed
request keeps that name and reports it in `wire_warnings`; a builder refuses it and says it is a newline.
"""

from __future__ import annotations

import re
from typing import ClassVar

from pydantic import ValidationInfo, field_validator

from shared.encoding import b64url_decode_text, b64url_encode
from shared.errors import InvalidRequestError, rule_error
from shared.ops.base import RequestModel
from shared.ops.enums import AudioFormat
from shared.ops.oss.common import (
    NOTIFY_STEP,
    SAVEAS_STEP,
    ProblemCollector,
    WireStep,
    as_audio_format,
    check_known_params,
    literal_names,
    validate_from_wire,
)
from shared.ops.wire import (
    check_bucket_name,
    check_object_key,
    describe_control_characters,
)

AUTOEXT = "{autoext}"
# MNS topic names: a letter first, then letters, digits and hyphens, at most 256 characters.
_TOPIC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,255}")


def resolve_autoext(key: str, fmt: AudioFormat | str) -> str:
    """Replace every `{autoext}` in an object key with the output format's extension.

    >>> resolve_autoext("out/{autoext}/song.{autoext}", "opus")
    'out/opus/song.opus'
    """
    return key.replace(AUTOEXT, as_audio_format(fmt).extension)


def decoded_name(step: WireStep, key: str, collector: ProblemCollector) -> str | None:
    """The name in parameter `key` of `step`, decoded literally; None (problem recorded) when unusable."""
    if key not in step.params:
        collector.add(step.field(key), "required", f"{step.name} needs {key}_<URL-safe base64>")
        return None
    text = step.params[key]
    try:
        return b64url_decode_text(text)
    except ValueError as exc:
        collector.add(step.field(key), "base64", f"{text!r} {exc}")
        return None


class SaveAs(RequestModel):
    """The output object of an async task: `sys/saveas,b_<bucket>,o_<object>`.

    >>> SaveAs.build(bucket="outbucket", object="outobj.{autoext}").to_wire()
    'sys/saveas,b_b3V0YnVja2V0,o_b3V0b2JqLnthdXRvZXh0fQ'
    """

    operation: ClassVar[str] = SAVEAS_STEP

    bucket: str
    object: str

    @field_validator("bucket")
    @classmethod
    def _bucket_rules(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("object")
    @classmethod
    def _object_rules(cls, value: str, info: ValidationInfo) -> str:
        return check_object_key(value, allow_control=literal_names(info))

    def to_wire(self) -> str:
        return f"{SAVEAS_STEP},b_{b64url_encode(self.bucket)},o_{b64url_encode(self.object)}"

    def resolved_object(self, fmt: AudioFormat | str) -> str:
        """The object key with `{autoext}` replaced by the extension of `fmt`."""
        return resolve_autoext(self.object, fmt)

    @property
    def wire_warnings(self) -> list[str]:
        """Why the names, taken literally from a process string, are probably not what was meant."""
        problem = describe_control_characters(self.object)
        return (
            [f"{SAVEAS_STEP}.o: {problem}; the output is written under that literal name"] if problem else []
        )

    @classmethod
    def from_step(cls, step: WireStep, operation: str) -> SaveAs:
        collector = ProblemCollector()
        check_known_params(step, ("b", "o"), SAVEAS_STEP, collector)
        bucket, key = decoded_name(step, "b", collector), decoded_name(step, "o", collector)
        collector.raise_if_any(operation)
        rename = {"bucket": "b", "object": "o"}
        data = {"bucket": bucket, "object": key}
        return validate_from_wire(cls, data, label=step.label, operation=operation, rename=rename)


class Notify(RequestModel):
    """The MNS topic told when an async task ends: `notify,topic_<topic>`.

    >>> Notify.build(topic="AudioConvert").to_wire()
    'notify,topic_QXVkaW9Db252ZXJ0'
    """

    operation: ClassVar[str] = NOTIFY_STEP

    topic: str

    @field_validator("topic")
    @classmethod
    def _topic_rules(cls, value: str) -> str:
        if not _TOPIC_NAME.fullmatch(value):
            raise rule_error(
                "topic_name",
                "an MNS topic name starts with a letter and has only letters, digits and '-', "
                f"at most 256 characters; got {value!r}",
            )
        return value

    def to_wire(self) -> str:
        return f"{NOTIFY_STEP},topic_{b64url_encode(self.topic)}"

    @classmethod
    def from_step(cls, step: WireStep, operation: str) -> Notify:
        collector = ProblemCollector()
        check_known_params(step, ("topic",), NOTIFY_STEP, collector)
        topic = decoded_name(step, "topic", collector)
        collector.raise_if_any(operation)
        return validate_from_wire(cls, {"topic": topic}, label=step.label, operation=operation)


def destination_wire(saveas: SaveAs, notify: Notify | None) -> str:
    """`sys/saveas,…[/notify,…]`, the part after `|`. We write `/notify`, as the seeds' examples do."""
    return saveas.to_wire() + (f"/{notify.to_wire()}" if notify else "")


def parse_destination(
    saveas_step: WireStep, notify_step: WireStep | None, operation: str, collector: ProblemCollector
) -> tuple[SaveAs | None, Notify | None]:
    """Read sys/saveas and notify, recording problems in `collector` instead of stopping at the first."""
    saveas = notify = None
    try:
        saveas = SaveAs.from_step(saveas_step, operation)
    except InvalidRequestError as exc:
        collector.absorb(exc)
    if notify_step is not None:
        try:
            notify = Notify.from_step(notify_step, operation)
        except InvalidRequestError as exc:
            collector.absorb(exc)
    return saveas, notify

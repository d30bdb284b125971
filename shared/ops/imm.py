"""IMM 2020-09-30 `CreateMediaConvertTask` (audio merging and transcoding) and `GetTask`.

IMM is an RPC-style OpenAPI: parameters travel in the query of `POST /` with an empty body. `Sources`,
`Targets`, `Notification` and `Tags` each travel as one compact JSON string (no spaces, non-ASCII kept,
object keys in the order the official SDK writes them, which is alphabetical).

    >>> request = CreateMediaConvertTaskRequest.build(
    ...     ProjectName="test-project",
    ...     Sources=[{"URI": "oss://bucket/a.mp3"}, {"URI": "oss://bucket/b.mp3"}],
    ...     Targets=[{"URI": "oss://bucket/ab.{autoext}", "Container": "mp3",
    ...               "Audio": {"TranscodeAudio": {"Codec": "mp3", "Bitrate": 128000}}}],
    ... )
    >>> request.to_query()["Sources"]
    '[{"URI":"oss://bucket/a.mp3"},{"URI":"oss://bucket/b.mp3"}]'
    >>> CreateMediaConvertTaskRequest.from_query(request.to_query()) == request
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from typing_extensions import Self

from shared.errors import InvalidRequestError, rule_error, rule_of
from shared.ops.base import RequestModel, ResponseModel
from shared.ops.enums import ImmAudioCodec, ImmContainer, ImmTaskStatus, SampleRate
from shared.ops.wire import (
    check_bucket_name,
    check_object_key,
    compact_json,
    decode_json_text,
    refuse_bool,
    unflatten_query,
    utf8_size,
)

__all__ = [
    "CreateMediaConvertTaskRequest",
    "CreateMediaConvertTaskResponse",
    "GetTaskRequest",
    "GetTaskResponse",
    "ImmSource",
    "ImmTarget",
    "MnsNotification",
    "Notification",
    "TargetAudio",
    "TranscodeAudio",
    "check_bucket_name",
    "check_object_key",
    "compact_json",
    "decode_json_text",
    "parse_oss_uri",
    "refuse_bool",
    "resolve_target_uri",
    "unflatten_query",
    "utf8_size",
]

AUTOEXT = "{autoext}"
_OSS_SCHEME = "oss://"
_PROJECT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_MNS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,255}")
_TASK_TYPE = re.compile(r"[A-Za-z]{1,64}")
_USER_DATA_MAX_BYTES = 2048

# Limits the SDK documents for TranscodeAudio, the same as the OSS audio/convert rules.
_MAX_CHANNELS = {ImmAudioCodec.MP3: 2, ImmAudioCodec.AC3: 6}
_CODEC_SAMPLE_RATES = {
    ImmAudioCodec.MP3: frozenset(int(rate) for rate in SampleRate if rate <= 48000),
    ImmAudioCodec.OPUS: frozenset({8000, 12000, 16000, 24000, 48000}),
    ImmAudioCodec.AC3: frozenset({32000, 44100, 48000}),
}
# Which codecs each audio-only container can carry; anything else fails inside IMM after submission.
_CONTAINER_CODECS = {
    ImmContainer.AAC: frozenset({ImmAudioCodec.AAC}),
    ImmContainer.M4A: frozenset({ImmAudioCodec.AAC}),
    ImmContainer.MP3: frozenset({ImmAudioCodec.MP3}),
    ImmContainer.FLAC: frozenset({ImmAudioCodec.FLAC}),
    ImmContainer.OPUS: frozenset({ImmAudioCodec.OPUS}),
    ImmContainer.AC3: frozenset({ImmAudioCodec.AC3}),
    ImmContainer.OGG: frozenset({ImmAudioCodec.VORBIS, ImmAudioCodec.OPUS, ImmAudioCodec.FLAC}),
    ImmContainer.WAV: frozenset({ImmAudioCodec.PCM_S16LE}),
    ImmContainer.WMA: frozenset({ImmAudioCodec.WMAV2}),
    ImmContainer.OGA: frozenset({ImmAudioCodec.VORBIS, ImmAudioCodec.OPUS, ImmAudioCodec.FLAC}),
    ImmContainer.AMR: frozenset({ImmAudioCodec.AMR}),
}
_RATE_OPTIONS = ("fixed", "adaptive")


def _non_empty_json_list(value: object) -> object:
    # Checked before the items: pydantic's min_length counts only items that validated, so one bad item
    # would also be reported as "too short".
    value = decode_json_text(value)
    if isinstance(value, (list, tuple)) and not value:
        raise rule_error("too_short", "must list at least one item")
    return value


_PROJECT_NAME_RULE = "must be 1-128 letters, digits, '-' or '_', starting with a letter or '_'"


def _check_project_name(value: str) -> str:
    if not _PROJECT_NAME.fullmatch(value):
        raise rule_error("project_name", _PROJECT_NAME_RULE)
    return value


def checked_project_name(value: object, operation: str) -> str:
    """A ProjectName that follows IMM's rule, or InvalidRequestError naming the field and the rule."""
    if not isinstance(value, str) or not _PROJECT_NAME.fullmatch(value):
        raise InvalidRequestError.single("ProjectName", "project_name", _PROJECT_NAME_RULE, operation)
    return value


WireInt = Annotated[int, BeforeValidator(refuse_bool)]
WireFloat = Annotated[float, BeforeValidator(refuse_bool)]


def _lower_text(value: object) -> object:
    # IMM's documents spell containers and codecs in lower case; "AAC" from a summary table means the same.
    return value.lower() if isinstance(value, str) else value


def _split_oss_uri(uri: str, *, allow_autoext: bool = False) -> tuple[str, str]:
    """Split `oss://bucket/key`, raising rule_error(rule, sentence) for use inside validators."""
    if not uri.startswith(_OSS_SCHEME):
        raise rule_error("oss_uri", f"{uri!r} must have the form oss://<bucket>/<object key>")
    bucket, slash, key = uri[len(_OSS_SCHEME) :].partition("/")
    if not slash or not key:
        raise rule_error("oss_uri", f"{uri!r} names no object; expected oss://<bucket>/<object key>")
    check_bucket_name(bucket)
    check_object_key(key, allow_folder=False)
    if AUTOEXT in key and not allow_autoext:
        raise rule_error("oss_uri", f"{AUTOEXT} is only allowed in a target URI, not in {uri!r}")
    return bucket, key


def parse_oss_uri(uri: str, *, field: str = "URI", allow_autoext: bool = True) -> tuple[str, str]:
    """Split an `oss://bucket/key` URI into bucket and key, checking both against the OSS naming rules.

    >>> parse_oss_uri("oss://test-bucket/video-demo/head.mp3")
    ('test-bucket', 'video-demo/head.mp3')

    Raises InvalidRequestError naming `field` and the broken rule.
    """
    try:
        return _split_oss_uri(uri, allow_autoext=allow_autoext)
    except ValueError as exc:
        rule, message = rule_of(exc)
        raise InvalidRequestError.single(field, rule, message) from None


def resolve_target_uri(uri: str, container: ImmContainer | str) -> str:
    """The URI IMM writes to: `{autoext}` becomes the container's extension; a key without one gets it.

    >>> resolve_target_uri("oss://test-bucket/video-demo/concat.{autoext}", "aac")
    'oss://test-bucket/video-demo/concat.aac'
    >>> resolve_target_uri("oss://examplebucket/outputAudio", ImmContainer.MP3)
    'oss://examplebucket/outputAudio.mp3'
    """
    try:
        extension = ImmContainer(_lower_text(container)).value
    except ValueError:
        valid = ", ".join(member.value for member in ImmContainer)
        raise InvalidRequestError.single("Container", "enum", f"must be one of {valid}") from None
    _, key = parse_oss_uri(uri)
    if AUTOEXT in key:
        return uri.replace(AUTOEXT, extension)
    # IMM's rule: "If the URI does not have a file extension, the final output URI is generated based
    # on the URI and Container".
    last_segment = key.rsplit("/", 1)[-1]
    return uri if "." in last_segment else f"{uri}.{extension}"


class ImmSource(RequestModel):
    """One input of `Sources`; inputs are concatenated in list order."""

    uri: str = Field(alias="URI")
    start_time: WireFloat | None = Field(default=None, alias="StartTime")
    duration: WireFloat | None = Field(default=None, alias="Duration")
    # The SDK always sends `"Subtitles":[]`; audio outputs cannot carry subtitles, so only empty is valid.
    subtitles: tuple[Any, ...] = Field(default=(), alias="Subtitles", exclude=True)

    @field_validator("uri")
    @classmethod
    def _uri_names_an_object(cls, value: str) -> str:
        _split_oss_uri(value)
        return value

    @field_validator("start_time", "duration")
    @classmethod
    def _seconds_not_negative(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise rule_error("range", "must be 0 or more seconds (0 means from the start / to the end)")
        return value

    @field_validator("subtitles")
    @classmethod
    def _no_subtitles(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if value:
            raise rule_error(
                "unsupported", "subtitles cannot be added to an audio output; send an empty list"
            )
        return value

    @property
    def bucket(self) -> str:
        return _split_oss_uri(self.uri)[0]

    @property
    def key(self) -> str:
        return _split_oss_uri(self.uri)[1]


class TranscodeAudio(RequestModel):
    """`Targets[].Audio.TranscodeAudio`: how the audio stream is encoded.

    Field order matters: each check may look at fields declared above it.
    """

    codec: Annotated[ImmAudioCodec, BeforeValidator(_lower_text)] = Field(alias="Codec")
    bitrate: WireInt | None = Field(default=None, alias="Bitrate")
    bitrate_option: str | None = Field(default=None, alias="BitrateOption")
    quality: WireInt | None = Field(default=None, alias="Quality")
    channel: WireInt | None = Field(default=None, alias="Channel")
    sample_rate: WireInt | None = Field(default=None, alias="SampleRate")
    sample_rate_option: str | None = Field(default=None, alias="SampleRateOption")
    bits_per_sample: WireInt | None = Field(default=None, alias="BitsPerSample")

    @field_validator("bitrate")
    @classmethod
    def _bitrate_in_range(cls, value: int | None) -> int | None:
        if value is not None and not 1000 <= value <= 10_000_000:
            raise rule_error("range", "must be between 1000 and 10000000 bit/s")
        return value

    @field_validator("bitrate_option")
    @classmethod
    def _bitrate_option_needs_bitrate(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _rate_option(value, info, "bitrate", "Bitrate")

    @field_validator("quality")
    @classmethod
    def _quality_excludes_bitrate(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if not 0 <= value <= 100:
            raise rule_error("range", "must be between 0 and 100")
        if info.data.get("bitrate") is not None:
            raise rule_error("mutually_exclusive", "set either Bitrate or Quality, not both")
        return value

    @field_validator("channel")
    @classmethod
    def _channel_fits_codec(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if not 1 <= value <= 8:
            raise rule_error("range", "must be between 1 and 8")
        codec = info.data.get("codec")
        if isinstance(codec, ImmAudioCodec) and value > _MAX_CHANNELS.get(codec, 8):
            raise rule_error("codec_limit", f"{codec.value} allows at most {_MAX_CHANNELS[codec]} channels")
        return value

    @field_validator("sample_rate")
    @classmethod
    def _sample_rate_fits_codec(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if value not in {rate.value for rate in SampleRate}:
            valid = ", ".join(str(rate.value) for rate in SampleRate)
            raise rule_error("sample_rate", f"must be one of {valid} Hz")
        codec = info.data.get("codec")
        allowed = _CODEC_SAMPLE_RATES.get(codec) if isinstance(codec, ImmAudioCodec) else None
        if isinstance(codec, ImmAudioCodec) and allowed is not None and value not in allowed:
            listed = ", ".join(str(rate) for rate in sorted(allowed))
            raise rule_error("codec_limit", f"{codec.value} allows only {listed} Hz")
        return value

    @field_validator("sample_rate_option")
    @classmethod
    def _sample_rate_option_needs_rate(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _rate_option(value, info, "sample_rate", "SampleRate")

    @field_validator("bits_per_sample")
    @classmethod
    def _bit_depth_for_flac_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        if value not in (16, 24):
            raise rule_error("range", "must be 16 or 24")
        if info.data.get("codec") not in (None, ImmAudioCodec.FLAC):
            raise rule_error("codec_limit", "BitsPerSample applies only when Codec is flac")
        return value


def _rate_option(value: str | None, info: ValidationInfo, partner: str, partner_wire: str) -> str | None:
    if value is None:
        return value
    if value not in _RATE_OPTIONS:
        raise rule_error("enum", f"must be one of {', '.join(_RATE_OPTIONS)}")
    if info.data.get(partner) is None:
        raise rule_error("requires", f"only meaningful together with {partner_wire}")
    return value


class TargetAudio(RequestModel):
    """`Targets[].Audio`. Left out entirely, IMM copies the first audio stream (impossible when merging)."""

    transcode_audio: TranscodeAudio | None = Field(default=None, alias="TranscodeAudio")
    disable_audio: bool | None = Field(default=None, alias="DisableAudio")

    @field_validator("disable_audio")
    @classmethod
    def _disable_excludes_transcode(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("transcode_audio") is not None:
            raise rule_error(
                "mutually_exclusive", "DisableAudio true drops the stream TranscodeAudio describes"
            )
        return value


class ImmTarget(RequestModel):
    """One output of `Targets`: where it goes, its container and its audio encoding."""

    uri: str = Field(alias="URI")
    audio: TargetAudio | None = Field(default=None, alias="Audio")
    container: Annotated[ImmContainer, BeforeValidator(_lower_text)] = Field(alias="Container")

    @field_validator("uri")
    @classmethod
    def _uri_names_an_object(cls, value: str) -> str:
        _split_oss_uri(value, allow_autoext=True)
        return value

    @field_validator("container")
    @classmethod
    def _container_holds_codec(cls, value: ImmContainer, info: ValidationInfo) -> ImmContainer:
        audio = info.data.get("audio")
        if isinstance(audio, TargetAudio):
            if audio.disable_audio:
                raise rule_error(
                    "empty_output", f"an audio-only {value.value} file with audio disabled is empty"
                )
            codec = audio.transcode_audio.codec if audio.transcode_audio else None
            if codec is not None and codec not in _CONTAINER_CODECS[value]:
                allowed = ", ".join(sorted(c.value for c in _CONTAINER_CODECS[value]))
                raise rule_error(
                    "codec_container", f"a {value.value} file holds {allowed}, not {codec.value}"
                )
        return value

    @property
    def resolved_uri(self) -> str:
        """The URI IMM will actually write (see `resolve_target_uri`)."""
        return resolve_target_uri(self.uri, self.container)


class MnsNotification(RequestModel):
    topic_name: str = Field(alias="TopicName")

    @field_validator("topic_name")
    @classmethod
    def _topic_name_rules(cls, value: str) -> str:
        if not _MNS_NAME.fullmatch(value):
            raise rule_error(
                "mns_name",
                "must start with a letter and hold 1-256 letters, digits or hyphens",
            )
        return value


class Notification(RequestModel):
    """Where IMM reports the finished task; audiochain uses an MNS topic."""

    mns: MnsNotification = Field(alias="MNS")


class CreateMediaConvertTaskRequest(RequestModel):
    """`CreateMediaConvertTask`: transcode one source, or concatenate several in order (merging)."""

    operation: ClassVar[str] = "CreateMediaConvertTask"

    project_name: str = Field(alias="ProjectName")
    sources: Annotated[tuple[ImmSource, ...], BeforeValidator(_non_empty_json_list)] = Field(alias="Sources")
    alignment_index: WireInt = Field(default=0, alias="AlignmentIndex")
    targets: Annotated[tuple[ImmTarget, ...], BeforeValidator(_non_empty_json_list)] = Field(alias="Targets")
    notification: Annotated[Notification | None, BeforeValidator(decode_json_text)] = Field(
        default=None, alias="Notification"
    )
    user_data: str | None = Field(default=None, alias="UserData")
    tags: Annotated[dict[str, str] | None, BeforeValidator(decode_json_text)] = Field(
        default=None, alias="Tags"
    )
    # HLS packaging; the SDK always sends `TargetGroups=[]`, which is all an audio chain can use.
    target_groups: Annotated[tuple[Any, ...], BeforeValidator(decode_json_text)] = Field(
        default=(), alias="TargetGroups", exclude=True
    )

    @field_validator("project_name")
    @classmethod
    def _project_name_rules(cls, value: str) -> str:
        return _check_project_name(value)

    @field_validator("alignment_index")
    @classmethod
    def _alignment_index_within_sources(cls, value: int, info: ValidationInfo) -> int:
        sources = info.data.get("sources")
        count = len(sources) if sources is not None else None
        if value < 0 or (count is not None and value >= count):
            bound = f"0..{count - 1}" if count else "a position in Sources"
            raise rule_error("alignment_index", f"must index a source ({bound}, 0-based), got {value}")
        return value

    @field_validator("targets")
    @classmethod
    def _merging_transcodes(cls, value: tuple[ImmTarget, ...], info: ValidationInfo) -> tuple[ImmTarget, ...]:
        sources = info.data.get("sources")
        if sources is not None and len(sources) > 1:
            for index, target in enumerate(value):
                if target.audio is None or target.audio.transcode_audio is None:
                    raise rule_error(
                        "transcode_required",
                        f"Targets[{index}] needs Audio.TranscodeAudio with a Codec; "
                        "merged audio cannot be stream-copied",
                    )
        return value

    @field_validator("user_data")
    @classmethod
    def _user_data_size(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) > _USER_DATA_MAX_BYTES:
            raise rule_error("too_long", f"must be at most {_USER_DATA_MAX_BYTES} bytes of UTF-8")
        return value

    @field_validator("target_groups")
    @classmethod
    def _no_target_groups(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if value:
            raise rule_error(
                "unsupported", "HLS target groups are not an audio operation; send an empty list"
            )
        return value

    @property
    def is_merge(self) -> bool:
        """True when several sources are concatenated into each target."""
        return len(self.sources) > 1

    def to_query(self) -> dict[str, str]:
        """The RPC query parameters, JSON-encoded exactly as the official SDK does."""
        wire = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        query = {"ProjectName": self.project_name}
        if "alignment_index" in self.model_fields_set:
            query["AlignmentIndex"] = str(self.alignment_index)
        if "Notification" in wire:
            query["Notification"] = compact_json(wire["Notification"], sort_keys=True)
        query["Sources"] = compact_json(wire["Sources"], sort_keys=True)
        if self.tags is not None:
            query["Tags"] = compact_json(self.tags)
        query["Targets"] = compact_json(wire["Targets"], sort_keys=True)
        if self.user_data is not None:
            query["UserData"] = self.user_data
        return query

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Self:
        """Parse what an SDK sent: JSON-string parameters or the flattened `Sources.1.URI=...` form."""
        return cls.validate_wire(unflatten_query(params, cls.operation))


class CreateMediaConvertTaskResponse(ResponseModel):
    event_id: str | None = Field(default=None, alias="EventId")
    request_id: str = Field(alias="RequestId")
    task_id: str = Field(alias="TaskId")


class GetTaskRequest(RequestModel):
    """`GetTask`: the state of an asynchronous IMM task.

    >>> GetTaskRequest.build(ProjectName="p", TaskId="MediaConvert-1").to_query()
    {'ProjectName': 'p', 'TaskId': 'MediaConvert-1', 'TaskType': 'MediaConvert'}
    """

    operation: ClassVar[str] = "GetTask"

    project_name: str = Field(alias="ProjectName")
    task_type: str = Field(default="MediaConvert", alias="TaskType")
    task_id: str = Field(alias="TaskId")
    request_definition: bool = Field(default=False, alias="RequestDefinition")

    @field_validator("task_id")
    @classmethod
    def _task_id_given(cls, value: str) -> str:
        if not value.strip():
            raise rule_error("empty", "must be the TaskId CreateMediaConvertTask returned")
        return value

    @field_validator("project_name")
    @classmethod
    def _project_name_rules(cls, value: str) -> str:
        return _check_project_name(value)

    @field_validator("task_type")
    @classmethod
    def _task_type_is_a_word(cls, value: str) -> str:
        if not _TASK_TYPE.fullmatch(value):
            raise rule_error("task_type", "must be an IMM task type such as MediaConvert")
        return value

    def to_query(self) -> dict[str, str]:
        query = {"ProjectName": self.project_name, "TaskId": self.task_id, "TaskType": self.task_type}
        if self.request_definition:
            query["RequestDefinition"] = "True"
        return query

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Self:
        return cls.validate_wire(dict(params))


class GetTaskResponse(ResponseModel):
    """`GetTask`'s answer (the SDK's GetTaskResponseBody)."""

    request_id: str | None = Field(default=None, alias="RequestId")
    event_id: str | None = Field(default=None, alias="EventId")
    project_name: str | None = Field(default=None, alias="ProjectName")
    task_id: str = Field(alias="TaskId")
    task_type: str | None = Field(default=None, alias="TaskType")
    status: ImmTaskStatus = Field(alias="Status")
    code: str | None = Field(default=None, alias="Code")
    message: str | None = Field(default=None, alias="Message")
    start_time: str | None = Field(default=None, alias="StartTime")
    end_time: str | None = Field(default=None, alias="EndTime")
    user_data: str | None = Field(default=None, alias="UserData")
    progress: int | None = Field(default=None, alias="Progress")
    task_request_definition: str | None = Field(default=None, alias="TaskRequestDefinition")
    tags: dict[str, Any] | None = Field(default=None, alias="Tags")

    @property
    def is_final(self) -> bool:
        return self.status.is_final

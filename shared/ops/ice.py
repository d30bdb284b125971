"""ICE 2020-11-09 `SubmitAudioProduceJob` (text to speech) and `GetSmartHandleJob`.

ICE is an RPC-style OpenAPI: parameters travel in the query of `POST /` with an empty body.
`EditingConfig` and `OutputConfig` are JSON documents sent as plain strings, `InputConfig` is the text itself.

    >>> request = SubmitAudioProduceJobRequest.build(
    ...     EditingConfig={"voice": "zhitian_emo", "format": "mp3"},
    ...     OutputConfig={"bucket": "examplebucket", "object": "tts/out"},
    ...     InputConfig="Hello, this is a test.",
    ... )
    >>> request.to_query()["EditingConfig"]
    '{"voice":"zhitian_emo","format":"mp3","volume":50,"speech_rate":0,"pitch_rate":0}'
    >>> request.output_key
    'tts/out.mp3'
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit
from xml.etree import ElementTree

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from typing_extensions import Self

from shared.errors import InvalidRequestError, ServiceResponseError, rule_error, rule_of
from shared.ops.base import RequestModel, ResponseModel
from shared.ops.enums import IceJobState, IceOutputFormat, SampleRate
from shared.ops.limits import ICE_DESCRIPTION_MAX_BYTES
from shared.ops.wire import (
    check_bucket_name,
    check_object_key,
    compact_json,
    decode_json_text,
    refuse_bool,
    utf8_size,
)

__all__ = [
    "AiSentence",
    "EditingConfig",
    "GetSmartHandleJobRequest",
    "GetSmartHandleJobResponse",
    "JobResult",
    "OutputConfig",
    "SmartJobInfo",
    "SubmitAudioProduceJobRequest",
    "SubmitAudioProduceJobResponse",
]

_INPUT_MAX_CHARACTERS = 2000
_TITLE_MAX_BYTES = 128
DESCRIPTION_MAX_BYTES = ICE_DESCRIPTION_MAX_BYTES
_USER_DATA_MAX_BYTES = 512
# `espeak:<voice>` is localcloud's twin only (its eSpeak voices); the pipeline lets it through only when ICE
# is on loopback (shared.pipeline.voices).
_VOICE_NAME = re.compile(r"(?:espeak:)?[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")
_MNS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,255}")
_SPEECH_RANGE = (-500, 500)

WireInt = Annotated[int, BeforeValidator(refuse_bool)]


def _in_range(value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise rule_error("range", f"must be between {low} and {high}")
    return value


class EditingConfig(RequestModel):
    """`EditingConfig`: voice, output format, volume, speed and pitch of the synthesised speech.

    `format` keeps the spelling it was given ("mp3" as the SDK sample sends it, "MP3" as the document
    writes it); `output_format` is the parsed value.

    >>> EditingConfig.from_json('{"voice":"Siqi","customizedVoice":"v-1","format":"WAV"}').effective_voice
    'v-1'
    """

    operation: ClassVar[str] = "SubmitAudioProduceJob"

    customized_voice: str | None = Field(default=None, alias="customizedVoice")
    voice: str | None = Field(default=None, validate_default=True)
    format: str
    volume: WireInt = 50
    speech_rate: WireInt = 0
    pitch_rate: WireInt = 0
    sample_rate: WireInt | None = None

    @field_validator("customized_voice")
    @classmethod
    def _customized_voice_is_an_id(cls, value: str | None) -> str | None:
        if value is not None and not _VOICE_NAME.fullmatch(value):
            raise rule_error("voice_name", "must be a voice id of letters, digits, '_', '-' or '.'")
        return value

    @field_validator("voice")
    @classmethod
    def _some_voice_is_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not _VOICE_NAME.fullmatch(value):
            raise rule_error("voice_name", "must be a voice name of letters, digits, '_', '-' or '.'")
        if value is None and info.data.get("customized_voice") is None and "customized_voice" in info.data:
            raise rule_error("voice_required", "set voice or customizedVoice")
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _format_in_any_case(cls, value: object) -> object:
        if isinstance(value, IceOutputFormat):
            return value.value
        if isinstance(value, str) and value.upper() not in {member.value for member in IceOutputFormat}:
            valid = ", ".join(member.value for member in IceOutputFormat)
            raise rule_error("enum", f"must be one of {valid} (any case), got {value!r}")
        return value

    @field_validator("volume")
    @classmethod
    def _volume_range(cls, value: int) -> int:
        return _in_range(value, 0, 100)

    @field_validator("speech_rate", "pitch_rate")
    @classmethod
    def _rate_range(cls, value: int) -> int:
        return _in_range(value, *_SPEECH_RANGE)

    @field_validator("sample_rate")
    @classmethod
    def _sample_rate_known(cls, value: int | None) -> int | None:
        if value is not None and value not in {int(rate) for rate in SampleRate}:
            valid = ", ".join(str(int(rate)) for rate in SampleRate)
            raise rule_error("sample_rate", f"must be one of {valid} Hz")
        return value

    @property
    def output_format(self) -> IceOutputFormat:
        return IceOutputFormat(self.format.upper())

    @property
    def effective_voice(self) -> str:
        """The voice ICE uses: customizedVoice wins over voice."""
        voice = self.customized_voice or self.voice
        assert voice is not None  # guaranteed by validation
        return voice

    def to_json(self) -> str:
        """Compact JSON in the SDK sample's key order: voice, format, volume, speech_rate, pitch_rate."""
        wire: dict[str, object] = {}
        if self.voice is not None:
            wire["voice"] = self.voice
        if self.customized_voice is not None:
            wire["customizedVoice"] = self.customized_voice
        wire["format"] = self.format
        wire["volume"] = self.volume
        wire["speech_rate"] = self.speech_rate
        wire["pitch_rate"] = self.pitch_rate
        if self.sample_rate is not None:
            wire["sample_rate"] = self.sample_rate
        return compact_json(wire)

    @classmethod
    def from_json(cls, text: str) -> Self:
        return cls.validate_wire(_decode_json_or_refuse(text, "EditingConfig", cls.operation))


class OutputConfig(RequestModel):
    """`OutputConfig`: where the audio goes. ICE appends the format's extension to `object`."""

    operation: ClassVar[str] = "SubmitAudioProduceJob"

    bucket: str
    object_name: str = Field(alias="object")

    @field_validator("bucket")
    @classmethod
    def _bucket_rules(cls, value: str) -> str:
        return check_bucket_name(value)

    @field_validator("object_name")
    @classmethod
    def _object_rules(cls, value: str) -> str:
        return check_object_key(value, allow_folder=False)

    def key_for(self, output_format: IceOutputFormat | str) -> str:
        """The object key ICE writes for a format.

        >>> OutputConfig.build(bucket="my-bucket", object="target_audio").key_for("MP3")
        'target_audio.mp3'
        """
        if not isinstance(output_format, IceOutputFormat):
            try:
                output_format = IceOutputFormat(output_format.upper())
            except ValueError:
                valid = ", ".join(member.value for member in IceOutputFormat)
                raise InvalidRequestError.single("format", "enum", f"must be one of {valid}") from None
        return f"{self.object_name}.{output_format.extension}"

    def to_json(self) -> str:
        return compact_json({"bucket": self.bucket, "object": self.object_name})


def _decode_json_or_refuse(text: str, field: str, operation: str) -> object:
    try:
        return decode_json_text(text)
    except ValueError as exc:
        rule, message = rule_of(exc)
        raise InvalidRequestError.single(field, rule, message, operation) from None


def _user_data_json(value: object) -> object:
    # Accept a mapping for convenience; the wire form is compact JSON.
    return compact_json(value) if isinstance(value, Mapping) else value


class SubmitAudioProduceJobRequest(RequestModel):
    """`SubmitAudioProduceJob`: synthesise `InputConfig` (plain text or SSML) into an audio file in OSS."""

    operation: ClassVar[str] = "SubmitAudioProduceJob"

    editing_config: Annotated[EditingConfig, BeforeValidator(decode_json_text)] = Field(alias="EditingConfig")
    output_config: Annotated[OutputConfig, BeforeValidator(decode_json_text)] = Field(alias="OutputConfig")
    input_config: str = Field(alias="InputConfig")
    title: str | None = Field(default=None, alias="Title")
    description: str | None = Field(default=None, alias="Description")
    user_data: Annotated[str | None, BeforeValidator(_user_data_json)] = Field(default=None, alias="UserData")
    overwrite: bool | None = Field(default=None, alias="Overwrite")

    @field_validator("input_config")
    @classmethod
    def _text_rules(cls, value: str) -> str:
        if not value.strip():
            raise rule_error("empty", "the text to synthesise must not be empty")
        if len(value) > _INPUT_MAX_CHARACTERS:
            raise rule_error("too_long", f"at most {_INPUT_MAX_CHARACTERS} characters, got {len(value)}")
        if value.lstrip().startswith("<speak"):
            try:
                ElementTree.fromstring(value)
            except ElementTree.ParseError as exc:
                raise rule_error("ssml", f"the SSML document is not well-formed XML ({exc})") from None
        return value

    @field_validator("title")
    @classmethod
    def _title_size(cls, value: str | None) -> str | None:
        return _bounded_text(value, _TITLE_MAX_BYTES, "leave Title out to let ICE name the job by date")

    @field_validator("description")
    @classmethod
    def _description_size(cls, value: str | None) -> str | None:
        return _bounded_text(value, DESCRIPTION_MAX_BYTES, "leave Description out instead")

    @field_validator("user_data")
    @classmethod
    def _user_data_rules(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if utf8_size(value) > _USER_DATA_MAX_BYTES:
            raise rule_error("too_long", f"must be at most {_USER_DATA_MAX_BYTES} bytes of UTF-8")
        try:
            document = json.loads(value)
        except json.JSONDecodeError:
            raise rule_error("json_object", 'must be a JSON object such as {"NotifyAddress": ...}') from None
        if not isinstance(document, dict):
            raise rule_error("json_object", "must be a JSON object, not a JSON " + type(document).__name__)
        if "NotifyAddress" in document:
            _check_notify_address(document["NotifyAddress"])
        return value

    @property
    def output_key(self) -> str:
        """The object key ICE writes: `OutputConfig.object` plus the format's extension."""
        return self.output_config.key_for(self.editing_config.output_format)

    @property
    def notify_address(self) -> str | None:
        """`UserData.NotifyAddress`: an http(s) callback URL or an MNS queue/topic name."""
        if self.user_data is None:
            return None
        address = json.loads(self.user_data).get("NotifyAddress")
        return address if isinstance(address, str) else None

    def to_query(self) -> dict[str, str]:
        """The RPC query parameters, exactly as the official SDK sends them."""
        query: dict[str, str] = {}
        if self.description is not None:
            query["Description"] = self.description
        query["EditingConfig"] = self.editing_config.to_json()
        query["InputConfig"] = self.input_config
        query["OutputConfig"] = self.output_config.to_json()
        if self.overwrite is not None:
            query["Overwrite"] = str(self.overwrite)  # the SDK writes Python's True / False
        if self.title is not None:
            query["Title"] = self.title
        if self.user_data is not None:
            query["UserData"] = self.user_data
        return query

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Self:
        return cls.validate_wire(dict(params))


def _bounded_text(value: str | None, max_bytes: int, hint: str) -> str | None:
    if value is None:
        return value
    if not value:
        raise rule_error("empty", f"must not be empty; {hint}")
    if utf8_size(value) > max_bytes:
        raise rule_error("too_long", f"must be at most {max_bytes} bytes of UTF-8")
    return value


def _check_notify_address(address: object) -> None:
    if not isinstance(address, str):
        raise rule_error("notify_address", "NotifyAddress must be a string")
    if address.startswith(("http://", "https://")):
        if not urlsplit(address).hostname:
            raise rule_error("notify_address", f"{address!r} is not an http(s) URL with a host")
    elif not _MNS_NAME.fullmatch(address):
        raise rule_error(
            "notify_address", f"{address!r} is neither an http(s) URL nor an MNS queue or topic name"
        )


class SubmitAudioProduceJobResponse(ResponseModel):
    request_id: str | None = Field(default=None, alias="RequestId")
    job_id: str = Field(alias="JobId")
    state: IceJobState = Field(alias="State")
    media_id: str | None = Field(default=None, alias="MediaId")


class GetSmartHandleJobRequest(RequestModel):
    """`GetSmartHandleJob`: the state and result of a smart job such as text to speech.

    >>> GetSmartHandleJobRequest.build(JobId="job-1").to_query()
    {'JobId': 'job-1'}
    """

    operation: ClassVar[str] = "GetSmartHandleJob"

    job_id: str = Field(alias="JobId")

    @field_validator("job_id")
    @classmethod
    def _job_id_given(cls, value: str) -> str:
        if not value.strip():
            raise rule_error("empty", "must be the JobId SubmitAudioProduceJob returned")
        return value

    def to_query(self) -> dict[str, str]:
        return {"JobId": self.job_id}

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Self:
        return cls.validate_wire(dict(params))


class AiSentence(ResponseModel):
    """One sentence of `JobResult.AiResult`, times in seconds from the start of the audio."""

    content: str
    from_: float = Field(alias="from")
    to: float


class SmartJobInputConfig(ResponseModel):
    input_file: str | None = Field(default=None, alias="InputFile")


class SmartJobOutputConfig(ResponseModel):
    bucket: str | None = Field(default=None, alias="Bucket")
    object_name: str | None = Field(default=None, alias="Object")


class SmartJobInfo(ResponseModel):
    title: str | None = Field(default=None, alias="Title")
    description: str | None = Field(default=None, alias="Description")
    job_type: str | None = Field(default=None, alias="JobType")
    create_time: str | None = Field(default=None, alias="CreateTime")
    modified_time: str | None = Field(default=None, alias="ModifiedTime")
    user_id: str | None = Field(default=None, alias="UserId")
    input_config: SmartJobInputConfig | None = Field(default=None, alias="InputConfig")
    editing_config: str | None = Field(default=None, alias="EditingConfig")
    output_config: SmartJobOutputConfig | None = Field(default=None, alias="OutputConfig")

    def editing(self) -> EditingConfig | None:
        """`EditingConfig` as ICE echoes it (a JSON string), parsed; None when absent."""
        if not self.editing_config:
            return None
        try:
            return EditingConfig.from_json(self.editing_config)
        except InvalidRequestError as exc:
            raise ServiceResponseError(
                f"ICE echoed an EditingConfig that does not parse: {exc}",
                service="ice",
                code="MalformedEditingConfig",
            ) from exc


class JobResult(ResponseModel):
    media_id: str | None = Field(default=None, alias="MediaId")
    media_url: str | None = Field(default=None, alias="MediaUrl")
    ai_result: str | None = Field(default=None, alias="AiResult")
    usage: str | None = Field(default=None, alias="Usage")


class GetSmartHandleJobResponse(ResponseModel):
    """`GetSmartHandleJob`'s answer; `sentences()` reads the sentence timings of a finished TTS job."""

    request_id: str | None = Field(default=None, alias="RequestId")
    job_id: str = Field(alias="JobId")
    state: IceJobState = Field(alias="State")
    user_data: str | None = Field(default=None, alias="UserData")
    error_code: str | None = Field(default=None, alias="ErrorCode")
    error_message: str | None = Field(default=None, alias="ErrorMessage")
    output: str | None = Field(default=None, alias="Output")
    smart_job_info: SmartJobInfo | None = Field(default=None, alias="SmartJobInfo")
    job_result: JobResult | None = Field(default=None, alias="JobResult")

    def sentences(self) -> list[AiSentence]:
        """The sentence timings in `JobResult.AiResult`; empty while there is no result yet."""
        raw = self.job_result.ai_result if self.job_result else None
        if raw is None or not raw.strip():
            return []
        try:
            items: Any = json.loads(raw)
            if not isinstance(items, list):
                raise TypeError("not a list")
            return [AiSentence.model_validate(item) for item in items]
        except (ValueError, TypeError, ValidationError) as exc:
            raise ServiceResponseError(
                f"ICE returned an AiResult that is not a list of sentence timings: {exc}",
                service="ice",
                code="MalformedAiResult",
                request_id=self.request_id,
            ) from exc

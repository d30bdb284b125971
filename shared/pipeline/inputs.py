"""The input of each job type: what `job.json` keeps and what the HTTP API accepts as a request body.

Objects are named by key in the pipeline's bucket. Every refusal is an InvalidRequestError naming the
field and the rule.

    >>> request = parse_job_input("convert", {"source": "music/a.wav", "params": {"f": "mp3", "ab": 128000}})
    >>> request.source, request.params.f.value
    ('music/a.wav', 'mp3')
    >>> try:
    ...     parse_job_input("merge", {"clips": [{"key": "a.mp3"}], "params": {"f": "mp3"}})
    ... except InvalidRequestError as error:
    ...     print(error.field, error.rule)
    clips too_short
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from xml.etree import ElementTree

from pydantic import BaseModel, BeforeValidator, Field, StrictBool, field_validator, model_validator
from typing_extensions import Self

from shared.errors import InvalidRequestError, rule_error
from shared.jobs.model import JobType
from shared.ops.base import RequestModel
from shared.ops.enums import AsrLanguage, IceOutputFormat, SampleRate
from shared.ops.limits import ICE_DESCRIPTION_MAX_BYTES as DESCRIPTION_MAX_BYTES
from shared.ops.oss.common import raise_field_problems
from shared.ops.oss.params import ConvertParams
from shared.ops.wire import check_object_key, utf8_size, whole_number
from shared.pipeline.callback_url import CallbackUrl
from shared.pipeline.recognition import Channels

MAX_MERGE_CLIPS = 100
MAX_SPEECH_CHARACTERS = 2000
MAX_CONTEXT_CHARACTERS = 20000
_VOICE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
# An ICE voice, or (localcloud only; see shared.pipeline.voices) `espeak:<eSpeak voice>` such as espeak:en-us.
_SPEAKER_PATTERN = r"(?:espeak:)?[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}"
# Offsets and durations in milliseconds: OSS reads them as 32-bit integers (24 days is far beyond any clip).
MAX_MILLISECONDS = 2**31 - 1

RequestModelT = TypeVar("RequestModelT", bound=RequestModel)
_CALLBACK_DESCRIPTION = (
    "Where to POST the job's summary, signed, when it ends (succeeded or failed); https:// only "
    "(http:// to a loopback host against localcloud). See the README's Webhooks section."
)


def _object_key(value: object) -> object:
    if isinstance(value, str):
        check_object_key(value, allow_folder=False)
    return value


ObjectKey = Annotated[str, BeforeValidator(_object_key)]
JsonInt = Annotated[int, BeforeValidator(whole_number)]


def _uploaded_key(value: object) -> object:
    if isinstance(value, str):
        # OSS stores keys with control characters (a TAB, U+202E in names copied from documents): an upload
        # the bucket accepted must get a job, so only the length and leading-slash rules apply.
        check_object_key(value, allow_control=True, allow_folder=False)
    return value


UploadedKey = Annotated[str, BeforeValidator(_uploaded_key)]


class UploadInput(RequestModel):
    """`transcribe_upload`: an object that arrived in the inbox (bucket, key, the version's ETag)."""

    operation: ClassVar[str] = "upload job"

    bucket: str
    key: UploadedKey
    etag: str | None = None
    relative_key: str = Field(min_length=1, description="The key without the inbox prefix.")
    # How to recognise it, from the upload rule its key matched (shared/pipeline/recognition.py).
    language: AsrLanguage | None = None
    channels: Channels | None = Field(
        None, description="Tracks recognised separately; default: mixed to mono."
    )
    context: str | None = Field(None, min_length=1, max_length=MAX_CONTEXT_CHARACTERS)
    callback_url: CallbackUrl | None = Field(None, description="From the upload rule: the job's webhook.")
    options_from: dict[Literal["language", "channels", "context"], str] | None = Field(
        None,
        description="Where each option came from: 'metadata' (x-oss-meta-*) or 'rule <prefix>'.",
    )


class ConvertJobInput(RequestModel):
    """`convert`: transcode one object with OSS audio/convert (`params` as the seed names them)."""

    operation: ClassVar[str] = "convert job"

    source: ObjectKey
    params: ConvertParams
    callback_url: CallbackUrl | None = Field(None, description=_CALLBACK_DESCRIPTION)


class MergeClip(RequestModel):
    key: ObjectKey
    ss: JsonInt = Field(
        0, ge=0, le=MAX_MILLISECONDS, description="Start offset in milliseconds; 0 starts at the beginning."
    )
    t: JsonInt = Field(
        0, ge=0, le=MAX_MILLISECONDS, description="Duration in milliseconds; 0 runs to the end."
    )


class MergeEngine(str, Enum):
    AUTO = "auto"  # OSS audio/concat when the request can be written as one, IMM otherwise
    OSS = "oss"
    IMM = "imm"


class MergeJobInput(RequestModel):
    """`merge`: concatenate clips in order, then transcode the result with `params`."""

    operation: ClassVar[str] = "merge job"

    clips: list[MergeClip] = Field(min_length=2, max_length=MAX_MERGE_CLIPS)
    params: ConvertParams
    align: JsonInt = Field(
        0, ge=0, le=MAX_MERGE_CLIPS, description="The clip whose sample rate and channels are the defaults."
    )
    engine: MergeEngine = MergeEngine.AUTO
    callback_url: CallbackUrl | None = Field(None, description=_CALLBACK_DESCRIPTION)

    @model_validator(mode="after")
    def _align_within_clips(self) -> Self:
        if self.align >= len(self.clips):
            message = f"align indexes the {len(self.clips)} clips (0-based); got {self.align}"
            raise_field_problems(self, [("align", "align_range", message)])
        return self


def _any_case_format(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class SpeechJobInput(RequestModel):
    """`speech`: synthesise text (or SSML) with ICE SubmitAudioProduceJob."""

    operation: ClassVar[str] = "speech job"

    text: str = Field(min_length=1, max_length=MAX_SPEECH_CHARACTERS)
    voice: str = Field("Siqi", pattern=_SPEAKER_PATTERN)
    customized_voice: str | None = Field(None, pattern=_VOICE_PATTERN)
    format: Annotated[IceOutputFormat, BeforeValidator(_any_case_format)] = IceOutputFormat.MP3
    volume: JsonInt = Field(50, ge=0, le=100)
    speech_rate: JsonInt = Field(0, ge=-500, le=500)
    pitch_rate: JsonInt = Field(0, ge=-500, le=500)
    sample_rate: SampleRate | None = None
    title: str | None = Field(None, min_length=1, max_length=128)
    description: str | None = Field(
        None, min_length=1, description="ICE's job Description: at most 1,024 bytes of UTF-8."
    )
    callback_url: CallbackUrl | None = Field(None, description=_CALLBACK_DESCRIPTION)

    @field_validator("description")
    @classmethod
    def _description_size(cls, value: str | None) -> str | None:
        if value is not None and utf8_size(value) > DESCRIPTION_MAX_BYTES:
            raise rule_error("too_long", f"must be at most {DESCRIPTION_MAX_BYTES} bytes of UTF-8")
        return value

    @field_validator("text")
    @classmethod
    def _text_rules(cls, value: str) -> str:
        if not value.strip():
            raise rule_error("empty", "the text to synthesise must not be blank")
        spoken = value
        if value.lstrip().startswith("<speak"):
            try:
                spoken = "".join(ElementTree.fromstring(value).itertext())
            except ElementTree.ParseError as exc:
                raise rule_error("ssml", f"the SSML document is not well-formed XML ({exc})") from None
        if not any(unicodedata.category(char)[0] in "LN" for char in spoken):
            # Control characters, punctuation or emoji alone: the synthesiser would fail after the 202.
            raise rule_error("unspeakable", "the text has no letters or digits to speak")
        return value


class TranscribeMode(str, Enum):
    AUTO = "auto"  # by size: synchronous below the configured threshold, filetrans otherwise
    SYNC = "sync"  # qwen3-asr-flash, DashScope synchronous API: text only, no timings
    COMPATIBLE = "compatible"  # qwen3-asr-flash, OpenAI-compatible chat/completions (streamed): text only
    FILETRANS = "filetrans"  # qwen3-asr-flash-filetrans: sentences and words with timings


class TranscribeJobInput(RequestModel):
    """`transcribe`: recognise speech in an object and write JSON, SRT, VTT and TXT transcripts."""

    operation: ClassVar[str] = "transcribe job"

    source: ObjectKey
    mode: TranscribeMode = TranscribeMode.AUTO
    language: AsrLanguage | None = None
    enable_itn: StrictBool = False
    enable_words: StrictBool | None = Field(
        None, description="Word timings; default: when the language has them."
    )
    context: str | None = Field(None, min_length=1, max_length=MAX_CONTEXT_CHARACTERS)
    channels: Channels | None = Field(
        None, description="Qwen-ASR channel_id: tracks recognised separately (filetrans); default [0]."
    )
    callback_url: CallbackUrl | None = Field(None, description=_CALLBACK_DESCRIPTION)

    @model_validator(mode="after")
    def _language_rules(self) -> Self:
        problems = []
        if self.channels is not None and self.mode in (TranscribeMode.SYNC, TranscribeMode.COMPATIBLE):
            problems.append(
                (
                    "channels",
                    "channels_need_filetrans",
                    "the synchronous models hear one track; use filetrans",
                )
            )
        language = self.language
        if self.enable_itn and language is not None and not language.supports_itn:
            problems.append(
                ("enable_itn", "itn_language", f"applies to zh and en only, not {language.value!r}")
            )
        if self.enable_words and language is not None and not language.supports_words:
            problems.append(
                ("enable_words", "words_language", f"word timings are not available for {language.value!r}")
            )
        if self.enable_words and self.mode is TranscribeMode.SYNC:
            problems.append(
                (
                    "enable_words",
                    "words_need_filetrans",
                    "the synchronous model returns no timings; use filetrans",
                )
            )
        raise_field_problems(self, problems)
        return self


JOB_INPUTS: dict[JobType, type[RequestModel]] = {
    JobType.TRANSCRIBE_UPLOAD: UploadInput,
    JobType.CONVERT: ConvertJobInput,
    JobType.MERGE: MergeJobInput,
    JobType.SPEECH: SpeechJobInput,
    JobType.TRANSCRIBE: TranscribeJobInput,
}
API_JOB_TYPES = (JobType.CONVERT, JobType.MERGE, JobType.SPEECH, JobType.TRANSCRIBE)


def api_job_type(value: JobType | str) -> JobType:
    """A job type the HTTP API may submit (every type but the automatic `transcribe_upload`)."""
    try:
        job_type = JobType(value)
    except ValueError:
        job_type = None
    if job_type not in API_JOB_TYPES:
        allowed = ", ".join(kind.value for kind in API_JOB_TYPES)
        raise InvalidRequestError.single(
            "type", "job_type", f"must be one of {allowed}, got {value!r}", "job"
        )
    assert job_type is not None
    return job_type


def parse_job_input(job_type: JobType | str, data: BaseModel | Mapping[str, Any]) -> RequestModel:
    """Validate a request body (or an already built input) for `job_type`."""
    model = JOB_INPUTS[JobType(job_type)]
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump(by_alias=True, exclude_unset=True)
    if not isinstance(data, Mapping):
        raise InvalidRequestError.single(
            "body", "object", f"must be a JSON object, got {type(data).__name__}", model.operation
        )
    return model.validate_wire(dict(data))


def input_of(record_input: Mapping[str, Any], model: type[RequestModelT]) -> RequestModelT:
    """A stored job input, read back into its model."""
    return model.validate_wire(dict(record_input))

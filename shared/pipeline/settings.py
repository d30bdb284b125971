"""The chain's settings: one frozen model, built once at start-up; explicit arguments beat the environment.

    >>> settings = PipelineSettings.from_env({"AUDIOCHAIN_BUCKET": "media", "FC_REGION": "cn-beijing"})
    >>> settings.bucket, settings.region, settings.oss_endpoint_url
    ('media', 'cn-beijing', 'https://oss-cn-beijing.aliyuncs.com')
    >>> try:
    ...     PipelineSettings.from_env({}, inbox_prefix="inbox/", work_prefix="inbox/work/")
    ... except ConfigurationError as error:
    ...     print(str(error)[:84])
    invalid pipeline settings: work_prefix: 'inbox/work/' overlaps inbox_prefix 'inbox/'

`validate()` refuses a configuration that cannot work, above all one whose outputs would re-trigger the
inbox rule: every prefix the chain writes under (work, output, jobs) must be disjoint from the inbox
prefix (neither may start with the other), so nothing the chain writes can ever look like an upload.

Environment variables (names in `shared.env`): AUDIOCHAIN_BUCKET, AUDIOCHAIN_REGION (else FC_REGION),
AUDIOCHAIN_INBOX_PREFIX, AUDIOCHAIN_WORK_PREFIX, AUDIOCHAIN_OUTPUT_PREFIX, AUDIOCHAIN_JOBS_PREFIX,
AUDIOCHAIN_PIPELINE_TOPIC, AUDIOCHAIN_OUTPUT_TOPIC (empty: publish nothing), AUDIOCHAIN_IMM_PROJECT,
AUDIOCHAIN_{OSS,MNS,IMM,ICE,DASHSCOPE}_ENDPOINT, FC_ACCOUNT_ID (for the default MNS endpoint). The
other settings have no variable yet and are set by argument.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from typing_extensions import Self

from shared import env
from shared.errors import ConfigurationError, InvalidRequestError, rule_of
from shared.ops.enums import AsrLanguage
from shared.ops.limits import ASR_MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from shared.ops.wire import check_bucket_name
from shared.pipeline.callback_url import is_plain_http, loopback_http_allowed
from shared.pipeline.recognition import UploadRule, parse_rules

DEFAULT_SUFFIXES = (
    ".wav",
    ".mp3",
    ".m4a",
    ".aac",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".amr",
    ".wma",
    ".webm",
    ".mp4",
)
_MNS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,255}")
_PROJECT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_REGION = re.compile(r"[a-z0-9]+(-[a-z0-9]+)+")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,16}")
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600

# Settings read from the environment: field -> variables, first set wins.
_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "bucket": (env.AUDIOCHAIN_BUCKET,),
    "region": (env.AUDIOCHAIN_REGION, env.FC_REGION),
    "inbox_prefix": (env.AUDIOCHAIN_INBOX_PREFIX,),
    "work_prefix": (env.AUDIOCHAIN_WORK_PREFIX,),
    "output_prefix": (env.AUDIOCHAIN_OUTPUT_PREFIX,),
    "jobs_prefix": (env.AUDIOCHAIN_JOBS_PREFIX,),
    "source_prefix": (env.AUDIOCHAIN_SOURCE_PREFIX,),
    "pipeline_topic": (env.AUDIOCHAIN_PIPELINE_TOPIC,),
    "output_topic": (env.AUDIOCHAIN_OUTPUT_TOPIC,),
    "imm_project": (env.AUDIOCHAIN_IMM_PROJECT,),
    "oss_endpoint": (env.AUDIOCHAIN_OSS_ENDPOINT,),
    "mns_endpoint": (env.AUDIOCHAIN_MNS_ENDPOINT,),
    "imm_endpoint": (env.AUDIOCHAIN_IMM_ENDPOINT,),
    "ice_endpoint": (env.AUDIOCHAIN_ICE_ENDPOINT,),
    "dashscope_endpoint": (env.AUDIOCHAIN_DASHSCOPE_ENDPOINT,),
    "account_id": (env.FC_ACCOUNT_ID,),
    "accepted_suffixes": (env.AUDIOCHAIN_INBOX_SUFFIXES,),
    "sync_asr_max_bytes": (env.AUDIOCHAIN_SYNC_ASR_MAX_BYTES,),
    "presign_expiry_seconds": (env.AUDIOCHAIN_PRESIGN_SECONDS,),
    "step_lease_seconds": (env.AUDIOCHAIN_STEP_LEASE_SECONDS,),
    "max_attempts": (env.AUDIOCHAIN_MAX_ATTEMPTS,),
    "task_timeout_seconds": (env.AUDIOCHAIN_TASK_TIMEOUT_SECONDS,),
    "asr_language": (env.AUDIOCHAIN_ASR_LANGUAGE,),
    "upload_rules": (env.AUDIOCHAIN_UPLOAD_RULES,),
    "subtitle_line_chars": (env.AUDIOCHAIN_SUBTITLE_LINE_CHARS,),
    "subtitle_lines": (env.AUDIOCHAIN_SUBTITLE_LINES,),
    "webhook_secret": (env.AUDIOCHAIN_WEBHOOK_SECRET,),
    "webhook_retry_seconds": (env.AUDIOCHAIN_WEBHOOK_RETRY_SECONDS,),
}
# Optional settings an empty variable switches off (rather than leaving the default).
_EMPTY_MEANS_NONE = frozenset({"output_topic", "imm_project", "webhook_secret"})


class PipelineSettings(BaseModel):
    """Everything the chain needs to know about where things are and how to run them."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    bucket: str = "audiochain"
    region: str = "cn-hangzhou"
    inbox_prefix: str = "inbox/"
    accepted_suffixes: tuple[str, ...] = DEFAULT_SUFFIXES
    work_prefix: str = "work/"
    output_prefix: str = "outputs/"
    jobs_prefix: str = "jobs/"
    # Where API jobs may read their sources (besides the inbox and the outputs): the one rule the template's
    # policy statements are written from, so a job accepted here can be read by the functions' role.
    source_prefix: str = "media/"
    pipeline_topic: str = "audiochain-pipeline"
    output_topic: str | None = "audiochain-output"
    # Normalised audio at most this large is transcribed synchronously (qwen3-asr-flash, text only, no
    # timings); larger goes to filetrans, which returns sentence and word timings. 0: always filetrans,
    # because subtitles need the timings.
    sync_asr_max_bytes: int = Field(default=0, ge=0)
    presign_expiry_seconds: int = Field(default=6 * 3600, ge=1)
    asr_language: AsrLanguage | None = None
    asr_enable_words: bool = True
    # Per-upload recognition options by key prefix (language, channels, context): pipeline/recognition.py.
    upload_rules: tuple[UploadRule, ...] = ()
    # Subtitle lines: characters per line and lines per cue (transcripts/render.py has the other limits).
    subtitle_line_chars: int = Field(default=42, ge=10, le=200)
    subtitle_lines: int = Field(default=2, ge=1, le=5)
    imm_project: str | None = None
    # How long a claimed step is its claimant's: above every function's Timeout (120 s at most, a house rule
    # checks it), so a live invocation never loses its claim, and short enough that a crashed one's step is
    # taken over within minutes.
    step_lease_seconds: int = Field(default=300, ge=1)
    max_attempts: int = Field(default=5, ge=1, le=99)
    # A submitted task neither reported nor found finished after this long is failed (retryably).
    task_timeout_seconds: int = Field(default=6 * 3600, ge=1)
    account_id: str | None = None
    oss_endpoint: str | None = None
    mns_endpoint: str | None = None
    imm_endpoint: str | None = None
    ice_endpoint: str | None = None
    dashscope_endpoint: str | None = None
    # Signs job webhooks (shared.auth.webhook); SecretStr keeps it out of reprs and logs.
    webhook_secret: SecretStr | None = None
    # The wait before a failed webhook's second attempt; it doubles after each failure, up to an hour.
    webhook_retry_seconds: int = Field(default=30, ge=1, le=3600)

    @field_validator("upload_rules", mode="before")
    @classmethod
    def _rules_from_json(cls, value: Any) -> Any:
        return parse_rules(value) if isinstance(value, str) else value

    @field_validator("accepted_suffixes", mode="before")
    @classmethod
    def _normalise_suffixes(cls, value: Any) -> Any:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)):
            return value
        normalised = []
        for item in items:
            if not isinstance(item, str):
                return value  # let the type check report it
            text = item.strip().lower()
            if text:
                normalised.append(text if text.startswith(".") else f".{text}")
        return tuple(dict.fromkeys(normalised))

    # Building ----------------------------------------------------------------------------------------

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, /, **explicit: Any) -> Self:
        """Settings from `environ` (os.environ when None), explicit keyword arguments winning; validated."""
        source = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variables in _ENVIRONMENT.items():
            for variable in variables:
                raw = source.get(variable)
                if raw is None:
                    continue
                text = raw.strip()
                if text:
                    values[name] = text
                    break
                if name in _EMPTY_MEANS_NONE:
                    values[name] = None
                    break
        values.update(explicit)
        settings = cls.build(**values)
        settings.validate()
        return settings

    @classmethod
    def build(cls, **values: Any) -> Self:
        """Construct, turning a type error into a ConfigurationError that names the setting."""
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = InvalidRequestError.from_validation_error(exc, "pipeline settings").problems
            raise ConfigurationError(
                "invalid pipeline settings: " + "; ".join(str(problem) for problem in problems)
            ) from None

    @property
    def readable_prefixes(self) -> tuple[str, ...]:
        """Where an API job's sources may be: the source prefix, the inbox and the outputs (the same folders
        the template grants GetObject on for sources)."""
        return (self.source_prefix, self.inbox_prefix, self.output_prefix)

    # Checking ----------------------------------------------------------------------------------------

    def validate(self) -> Self:  # type: ignore[override]  # pydantic's deprecated classmethod of this name
        """Refuse a configuration that cannot work (ConfigurationError listing every problem)."""
        problems = [
            *self._prefix_problems(),
            *self._name_problems(),
            *self._limit_problems(),
            *self._rule_problems(),
        ]
        if problems:
            raise ConfigurationError("invalid pipeline settings: " + "; ".join(problems))
        return self

    def _prefix_problems(self) -> list[str]:
        problems = []
        prefixes = {
            "inbox_prefix": self.inbox_prefix,
            "work_prefix": self.work_prefix,
            "output_prefix": self.output_prefix,
            "jobs_prefix": self.jobs_prefix,
            "source_prefix": self.source_prefix,
        }
        for name, prefix in prefixes.items():
            if not prefix:
                problems.append(
                    f"{name}: must not be empty (an empty prefix is the whole bucket, which would include "
                    "everything the chain writes)"
                )
            elif not prefix.endswith("/") or prefix.startswith("/") or "//" in prefix:
                problems.append(f"{name}: {prefix!r} must be a folder such as 'inbox/' (end with '/')")
            elif not prefix.isprintable():
                problems.append(f"{name}: {prefix!r} must not contain control characters")
        if problems:
            return problems
        # Sources are read, never written: they may sit anywhere but in what the chain writes or watches.
        written = [
            (name, prefix)
            for name, prefix in prefixes.items()
            if name not in ("inbox_prefix", "source_prefix")
        ]
        for name, prefix in [*written, ("inbox_prefix", self.inbox_prefix)]:
            if _overlap(self.source_prefix, prefix):
                problems.append(f"source_prefix: {self.source_prefix!r} overlaps {name} {prefix!r}")
        for name, prefix in written:
            if _overlap(prefix, self.inbox_prefix):
                problems.append(
                    f"{name}: {prefix!r} overlaps inbox_prefix {self.inbox_prefix!r}: objects the chain "
                    "writes there would re-trigger the inbox rule (an endless loop)"
                )
        for index, (name, prefix) in enumerate(written):
            for other, other_prefix in written[index + 1 :]:
                if _overlap(prefix, other_prefix):
                    problems.append(f"{name}: {prefix!r} overlaps {other} {other_prefix!r}; keep them apart")
        return problems

    def _name_problems(self) -> list[str]:
        problems = []
        try:
            check_bucket_name(self.bucket)
        except ValueError as exc:
            problems.append(f"bucket: {rule_of(exc)[1]}")
        if not _REGION.fullmatch(self.region):
            problems.append(f"region: {self.region!r} is not a region id such as 'cn-hangzhou'")
        for name in ("pipeline_topic", "output_topic"):
            topic = getattr(self, name)
            if topic is not None and not _MNS_NAME.fullmatch(topic):
                problems.append(
                    f"{name}: {topic!r} is not an MNS topic name (a letter, then letters, digits, '-')"
                )
        if self.output_topic is not None and self.output_topic == self.pipeline_topic:
            problems.append(
                "output_topic: must differ from pipeline_topic, or completion messages would be fed back "
                "to the notification handler"
            )
        if self.imm_project is not None and not _PROJECT_NAME.fullmatch(self.imm_project):
            problems.append(f"imm_project: {self.imm_project!r} is not an IMM project name")
        if not self.accepted_suffixes:
            problems.append("accepted_suffixes: must list at least one suffix such as '.wav'")
        problems.extend(
            f"accepted_suffixes: {suffix!r} is not a file suffix such as '.wav'"
            for suffix in self.accepted_suffixes
            if not _SUFFIX.fullmatch(suffix)
        )
        for name in ("oss_endpoint", "mns_endpoint", "imm_endpoint", "ice_endpoint", "dashscope_endpoint"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"https?://[^\s/?#]+/?", value):
                problems.append(f"{name}: {value!r} must be scheme and host, such as 'https://host:port'")
        return problems

    def _rule_problems(self) -> list[str]:
        """An upload rule's webhook must be deliverable, as an API job's `callback_url` is at submission."""
        problems = []
        for index, rule in enumerate(self.upload_rules):
            field = f"upload_rules[{index}].callback_url"
            if rule.callback_url is None:
                continue
            if self.webhook_secret is None:
                problems.append(f"{field}: AUDIOCHAIN_WEBHOOK_SECRET is not set, so no webhook can be signed")
            elif is_plain_http(rule.callback_url) and not loopback_http_allowed(self.oss_endpoint):
                problems.append(f"{field}: must be https:// (http:// only against localcloud)")
        return problems

    def _limit_problems(self) -> list[str]:
        problems = []
        if self.sync_asr_max_bytes > MAX_REQUEST_BYTES:
            problems.append(
                f"sync_asr_max_bytes: qwen3-asr-flash takes audio up to {MAX_REQUEST_BYTES} bytes, "
                f"not {self.sync_asr_max_bytes}"
            )
        if not 300 <= self.presign_expiry_seconds <= _MAX_PRESIGN_SECONDS:
            problems.append(
                f"presign_expiry_seconds: must be 300..{_MAX_PRESIGN_SECONDS} (the recogniser must still be "
                f"able to fetch the audio), got {self.presign_expiry_seconds}"
            )
        if self.step_lease_seconds < 30:
            problems.append(f"step_lease_seconds: must be at least 30, got {self.step_lease_seconds}")
        if self.task_timeout_seconds < self.step_lease_seconds:
            problems.append("task_timeout_seconds: must be at least step_lease_seconds")
        return problems

    # Derived values ----------------------------------------------------------------------------------

    def matches_inbox(self, key: str) -> bool:
        """Whether `key` is an upload: under the inbox prefix, with an accepted suffix (in any case)."""
        return (
            key.startswith(self.inbox_prefix)
            and not key.endswith("/")
            and key.lower().endswith(self.accepted_suffixes)
        )

    @property
    def step_lease(self) -> timedelta:
        return timedelta(seconds=self.step_lease_seconds)

    @property
    def task_timeout(self) -> timedelta:
        return timedelta(seconds=self.task_timeout_seconds)

    @property
    def oss_endpoint_url(self) -> str:
        return self.oss_endpoint or f"https://oss-{self.region}.aliyuncs.com"

    @property
    def imm_endpoint_url(self) -> str:
        return self.imm_endpoint or f"https://imm.{self.region}.aliyuncs.com"

    @property
    def ice_endpoint_url(self) -> str:
        return self.ice_endpoint or f"https://ice.{self.region}.aliyuncs.com"

    @property
    def dashscope_endpoint_url(self) -> str:
        """Beijing for mainland regions, Virginia for US regions, Singapore otherwise (as the seed lists)."""
        if self.dashscope_endpoint:
            return self.dashscope_endpoint
        if self.region.startswith("cn-") and not self.region.startswith("cn-hongkong"):
            return "https://dashscope.aliyuncs.com"
        if self.region.startswith("us-"):
            return "https://dashscope-us.aliyuncs.com"
        return "https://dashscope-intl.aliyuncs.com"

    @property
    def mns_endpoint_url(self) -> str:
        """The MNS account endpoint; needs AUDIOCHAIN_MNS_ENDPOINT or the account id (FC_ACCOUNT_ID)."""
        if self.mns_endpoint:
            return self.mns_endpoint
        if not self.account_id:
            raise ConfigurationError(
                f"no MNS endpoint: set {env.AUDIOCHAIN_MNS_ENDPOINT}, or run where {env.FC_ACCOUNT_ID} is set"
            )
        return f"https://{self.account_id}.mns.{self.region}.aliyuncs.com"


def _overlap(first: str, second: str) -> bool:
    return first.startswith(second) or second.startswith(first)

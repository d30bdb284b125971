"""How an upload is recognised: its language, channels and context text, chosen per upload by prefix rules.

A deployment lists rules in `AUDIOCHAIN_UPLOAD_RULES` (JSON), matched against the key below the inbox prefix;
the longest matching prefix wins, and what it sets is recorded in the job's input, so `GET /v1/jobs/{id}`
shows how the upload was recognised:

    AUDIOCHAIN_UPLOAD_RULES='[{"prefix": "calls/", "channels": [0, 1]},
                              {"prefix": "zh/", "language": "zh", "context": "会议 纪要"}]'

`channels` are Qwen-ASR's `channel_id` (0-based tracks, each recognised and billed separately). Without it a
recording is mixed down to mono before recognition, which suits one speaker or the same sound on every
channel (most music, lectures, podcasts); a call recorded agent-left, customer-right needs `[0, 1]`, so that
each speaker is recognised on a clean track and the transcript labels who said what.

    >>> rules = parse_rules('[{"prefix": "calls/", "channels": [0, 1]},'
    ...                     ' {"prefix": "calls/zh/", "language": "zh"}]')
    >>> rule_for(rules, "calls/zh/a.wav").language.value, rule_for(rules, "calls/b.wav").channels
    ('zh', (0, 1))
    >>> rule_for(rules, "other.wav") is None
    True
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError

from shared.errors import ConfigurationError
from shared.ops.enums import AsrLanguage
from shared.pipeline.callback_url import CallbackUrl

__all__ = ["MAX_CHANNELS", "Channels", "UploadRule", "normalize_channel_count", "parse_rules", "rule_for"]

MAX_CHANNELS = 8  # OSS audio/convert's channel limit (`ac` 1-8), so a normalised file keeps them all
MAX_CONTEXT_CHARACTERS = 20000


def _distinct(value: tuple[int, ...]) -> tuple[int, ...]:
    if len(set(value)) != len(value):
        raise ValueError(f"each channel may be listed once, got {list(value)}")
    return value


Channels = Annotated[
    tuple[Annotated[StrictInt, Field(ge=0, lt=MAX_CHANNELS)], ...],
    Field(min_length=1, max_length=MAX_CHANNELS),
    AfterValidator(_distinct),
]


class UploadRule(BaseModel):
    """What uploads under `prefix` (relative to the inbox) are recognised with."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    prefix: str = Field(min_length=1, description="Relative to the inbox prefix, e.g. 'calls/'.")
    language: AsrLanguage | None = None
    channels: Channels | None = None
    context: str | None = Field(None, min_length=1, max_length=MAX_CONTEXT_CHARACTERS)
    callback_url: CallbackUrl | None = Field(
        None,
        description="Where the job's webhook goes (see the API's callback_url); needs the webhook secret.",
    )


@functools.cache
def _rules_adapter() -> TypeAdapter[tuple[UploadRule, ...]]:
    # Built on first use, not at import: most cold starts never parse rules (issue 11, cold start).
    return TypeAdapter(tuple[UploadRule, ...])


def parse_rules(value: str | Sequence[Any]) -> tuple[UploadRule, ...]:
    """Rules from JSON text or a list of mappings; ConfigurationError naming the rule and the field."""
    try:
        data = json.loads(value) if isinstance(value, str) else value
        return _rules_adapter().validate_python(data)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"upload_rules: not JSON ({exc.msg} at character {exc.pos})") from None
    except ValidationError as exc:
        where = "; ".join(
            f"upload_rules[{'.'.join(str(part) for part in error['loc'])}]: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid upload rules: {where}") from None


def rule_for(rules: Sequence[UploadRule], relative_key: str) -> UploadRule | None:
    """The rule with the longest prefix of `relative_key`, or None."""
    matching = [rule for rule in rules if relative_key.startswith(rule.prefix)]
    return max(matching, key=lambda rule: len(rule.prefix), default=None)


def normalize_channel_count(channels: Sequence[int] | None) -> int:
    """`ac` for the normalised FLAC: 1 (mixed down) without channels, else enough to keep every one listed."""
    return 1 if not channels else max(channels) + 1

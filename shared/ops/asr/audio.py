"""Qwen-ASR building blocks: the audio reference, the request size rule and the usage arithmetic.

The seed allows three ways to hand audio to Qwen-ASR:

    https://host/welcome.mp3          a publicly reachable http(s) URL
    oss://bucket/key                  a DashScope temporary upload (RESTful calls only; send the
                                      `X-DashScope-OssResourceResolve: enable` header with it)
    data:audio/mpeg;base64,<data>     the audio itself, standard base64

Size rule we adopt (the seed says "10 MB", base64 adds a third): the request body, encoded as compact
JSON in UTF-8 (see `AsrBodyModel.to_json_bytes`), must not exceed MAX_REQUEST_BYTES = ASR_MAX_REQUEST_BYTES
bytes. The request models check it and name the data URL's field when the audio is what does not fit.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError, model_serializer, model_validator
from typing_extensions import Self

from shared.errors import InvalidRequestError, Problem
from shared.ops.base import RequestModel

MAX_REQUEST_BYTES = 10 * 1024 * 1024
AUDIO_TOKENS_PER_SECOND = 25

_MEDIA_TYPE = re.compile(r"audio/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DATA_URL_PREFIX = "data:"
_BASE64_MARKER = ";base64,"
# Tags of the message unions: pydantic puts them in error locations, people do not write them.
_UNION_TAGS = frozenset({"system", "user"})


def audio_tokens_for(seconds: float) -> int:
    """Audio tokens Qwen-ASR bills for `seconds` of audio: 25 per second.

    Rounding we adopt: the duration is rounded UP to whole seconds, and anything under one second
    (zero included) counts as one second. So 0.2 s -> 25, 1.0 s -> 25, 1.01 s -> 50.

    >>> audio_tokens_for(3.2)
    100
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise InvalidRequestError.single("seconds", "finite_number", "must be a finite number of seconds")
    if seconds < 0:
        raise InvalidRequestError.single("seconds", "non_negative", "must not be negative")
    return max(1, math.ceil(seconds)) * AUDIO_TOKENS_PER_SECOND


class FieldError(ValueError):
    """A validator's refusal that names a field below the place where the validator runs.

    A model validator runs at its model's location; `path` (relative to it) lets the error name the
    exact field, e.g. ("messages", 1, "content", 0, "input_audio", "data"). The rule and the message are
    kept apart (pydantic wraps this error as a plain value_error; `_translate` reads them from it).
    """

    def __init__(self, rule: str, message: str, path: Sequence[str | int] = ()) -> None:
        self.rule = rule
        self.message = message
        self.path = tuple(path)
        where = f" ({field_path(self.path)})" if self.path else ""
        super().__init__(f"{rule}: {message}{where}")


def field_path(loc: Sequence[str | int]) -> str:
    """Render a location as people write it: ("messages", 1, "content", 0) -> "messages[1].content[0]"."""
    out = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(previous, int) and part in _UNION_TAGS:
            continue
        else:
            out += f".{part}" if out else part
        previous = part
    return out


class AsrRequestModel(RequestModel):
    """RequestModel whose errors name fields with bracketed indexes (`messages[1].content[0]...`)."""

    @classmethod
    def build(cls, **data: Any) -> Self:
        try:
            return cls(**data)
        except ValidationError as exc:
            raise _translate(exc, cls._operation()) from None

    @classmethod
    def validate_wire(cls, data: Any) -> Self:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _translate(exc, cls._operation()) from None


class AsrBodyModel(AsrRequestModel):
    """A whole request body: parsed from and rendered to the exact JSON a client sends."""

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Self:
        """Parse a decoded JSON request body (what a client sent), refusing what the seed does not allow."""
        if not isinstance(body, Mapping):
            raise InvalidRequestError.single("body", "json_object", "must be a JSON object", cls._operation())
        return cls.validate_wire(dict(body))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Self:
        """Parse a raw JSON request body."""
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidRequestError.single(
                "body", "json", f"is not valid JSON ({exc})", cls._operation()
            ) from None
        return cls.from_body(body)

    def to_body(self) -> dict[str, Any]:
        """The exact JSON body: fields left unset (and nulls) are not sent."""
        body: dict[str, Any] = self.model_dump(
            mode="json", by_alias=True, exclude_unset=True, exclude_none=True
        )
        return body

    def to_json_bytes(self) -> bytes:
        """The body as sent: compact JSON, UTF-8. The 10 MB rule is measured on these bytes."""
        return json.dumps(self.to_body(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _translate(exc: ValidationError, operation: str) -> InvalidRequestError:
    translated = InvalidRequestError.from_validation_error(exc, operation)
    problems = []
    for err, problem in zip(exc.errors(include_url=False), translated.problems, strict=True):
        loc: tuple[str | int, ...] = tuple(err.get("loc") or ())
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc += cause.path
            rule, message = cause.rule, cause.message
        else:
            rule, message = problem.rule, problem.message
        problems.append(Problem(field_path(loc), rule, message))
    return InvalidRequestError(problems, operation)


class AudioSourceKind(str, Enum):
    HTTP = "http"
    OSS = "oss"
    DATA = "data"


class AudioInput(AsrRequestModel):
    """Audio handed to Qwen-ASR: an http(s) URL, an `oss://` URL or a base64 data URL.

    On the wire it is a plain string; in a request model it validates and serialises as one.

    >>> AudioInput.from_bytes(b"RIFF", "audio/wav").url
    'data:audio/wav;base64,UklGRg=='
    >>> AudioInput.build(url="https://example.com/a.mp3").kind
    <AudioSourceKind.HTTP: 'http'>
    """

    operation = "Qwen-ASR audio"

    url: str

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        # On the wire the audio is a bare string; build(url=...) passes a mapping.
        path: tuple[str, ...] = ()
        if isinstance(value, str):
            url = value
        elif isinstance(value, Mapping) and isinstance(value.get("url"), str):
            url, path = value["url"], ("url",)
        elif isinstance(value, (AudioInput, Mapping)):
            return value
        else:
            raise FieldError("string_type", "must be a string: an http(s), oss:// or data URL")
        problem = audio_url_problem(url)
        if problem is not None:
            raise FieldError(*problem, path)
        return {"url": url}

    @model_serializer
    def _as_string(self) -> str:
        return self.url

    @classmethod
    def from_url(cls, url: str) -> AudioInput:
        return cls.build(url=url)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str) -> AudioInput:
        """Inline audio as a data URL. Refused if even alone it exceeds the request limit."""
        if not isinstance(data, (bytes, bytearray)) or not data:
            raise InvalidRequestError.single("data", "empty_audio", "must be non-empty bytes", cls.operation)
        if not isinstance(media_type, str) or not _MEDIA_TYPE.fullmatch(media_type):
            raise InvalidRequestError.single(
                "media_type", "data_url_media_type", f"{media_type!r} is not an audio/<subtype> media type"
            )
        encoded_size = (
            len(_DATA_URL_PREFIX) + len(media_type) + len(_BASE64_MARKER) + 4 * math.ceil(len(data) / 3)
        )
        if encoded_size > MAX_REQUEST_BYTES:
            raise InvalidRequestError.single(
                "data",
                "request_too_large",
                f"{len(data)} bytes of audio become {encoded_size} bytes of base64, over the "
                f"{MAX_REQUEST_BYTES}-byte request limit; use a URL and the filetrans model instead",
                cls.operation,
            )
        encoded = base64.b64encode(bytes(data)).decode("ascii")
        return cls.build(url=f"{_DATA_URL_PREFIX}{media_type}{_BASE64_MARKER}{encoded}")

    @property
    def kind(self) -> AudioSourceKind:
        if self.url.startswith(_DATA_URL_PREFIX):
            return AudioSourceKind.DATA
        if self.url.startswith("oss://"):
            return AudioSourceKind.OSS
        return AudioSourceKind.HTTP

    @property
    def media_type(self) -> str | None:
        """The data URL's media type; None for URLs."""
        if self.kind is not AudioSourceKind.DATA:
            return None
        return self.url[len(_DATA_URL_PREFIX) : self.url.index(_BASE64_MARKER)]

    @property
    def decoded_size(self) -> int | None:
        """Bytes of audio a data URL carries (computed from the base64 length); None for URLs."""
        if self.kind is not AudioSourceKind.DATA:
            return None
        encoded = self.url[self.url.index(_BASE64_MARKER) + len(_BASE64_MARKER) :]
        return len(encoded) // 4 * 3 - (len(encoded) - len(encoded.rstrip("=")))

    def decoded_bytes(self) -> bytes:
        """The audio a data URL carries (localcloud uses this). Raises ValueError for URLs."""
        if self.kind is not AudioSourceKind.DATA:
            raise ValueError("only a data URL carries its audio")
        return base64.b64decode(self.url[self.url.index(_BASE64_MARKER) + len(_BASE64_MARKER) :])

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        yield "url", str(self)

    def __str__(self) -> str:
        # A data URL can be megabytes long: never print (or log) it whole.
        if self.kind is AudioSourceKind.DATA:
            return f"data:{self.media_type};base64,<{self.decoded_size} bytes>"
        return self.url


def audio_url_problem(url: str) -> tuple[str, str] | None:
    """(rule, sentence) saying why `url` cannot be Qwen-ASR audio, or None when it can."""
    if url.startswith(_DATA_URL_PREFIX):
        return _data_url_problem(url)
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        return "audio_url", "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return "audio_url", f"is not a valid URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None if parts.hostname else ("audio_url", "an http(s) URL needs a host")
    if scheme == "oss":
        if not parts.netloc or not parts.path.strip("/"):
            return "audio_url", "an oss:// URL needs a bucket and an object key (oss://bucket/key)"
        return None
    return "audio_url", "must be an http(s) URL, an oss:// URL or a data:<mediatype>;base64,<data> URL"


def _data_url_problem(url: str) -> tuple[str, str] | None:
    head, marker, encoded = url.partition(_BASE64_MARKER)
    media_type = head[len(_DATA_URL_PREFIX) :]
    if not marker:
        return "data_url_format", "a data URL must read data:<mediatype>;base64,<data>"
    if not _MEDIA_TYPE.fullmatch(media_type):
        return "data_url_media_type", f"{media_type!r} is not an audio/<subtype> media type"
    if not encoded:
        return "empty_audio", "the data URL carries no audio"
    # The regex first: b64decode's own message does not say what is wrong with the alphabet.
    if not _BASE64_BODY.fullmatch(encoded):
        return "data_url_base64", "the data is not standard base64 (A-Z a-z 0-9 + /, '=' padding)"
    try:
        base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        return "data_url_base64", f"the data is not valid base64 ({exc})"
    return None


def check_request_size(
    request: AsrBodyModel,
    audio: AudioInput,
    audio_path: Sequence[str | int],
    context_path: Sequence[str | int] | None = None,
) -> None:
    """Refuse a request whose encoded body exceeds MAX_REQUEST_BYTES, naming the field to blame.

    Called from the requests' model validators; raises FieldError. Inline audio is blamed (and told how
    large it may be given the rest of the request); with URL audio only the context text can be that big.
    """
    size = len(request.to_json_bytes())
    if size <= MAX_REQUEST_BYTES:
        return
    if audio.kind is not AudioSourceKind.DATA or audio.media_type is None:
        raise FieldError(
            "request_too_large",
            f"the encoded request body is {size} bytes, over the {MAX_REQUEST_BYTES}-byte limit",
            context_path if context_path is not None else audio_path,
        )
    room_for_url = MAX_REQUEST_BYTES - (size - len(audio.url))
    room_for_base64 = room_for_url - len(_DATA_URL_PREFIX) - len(audio.media_type) - len(_BASE64_MARKER)
    max_audio = max(0, room_for_base64) // 4 * 3
    raise FieldError(
        "request_too_large",
        f"the encoded request body is {size} bytes, over the {MAX_REQUEST_BYTES}-byte limit; "
        f"base64 adds a third, so this request fits at most {max_audio} bytes of audio "
        f"(this data URL carries {audio.decoded_size}); use the filetrans model for longer audio",
        audio_path,
    )

"""What both synchronous connection types share: audio in hand, probed, then recognised (channel 0).

A SyncJob is prepared before any answer byte goes out, so every problem with the audio (unreachable,
undecodable, an unsupported language) is an HTTP error naming the request field, never a broken stream.

    job = prepare_job(service, request, parsed.audio, language, audio_field=..., language_field=...)
    with job:
        recognition = job.recognize()
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request

from localcloud.engines.asr import Recognition
from localcloud.engines.probe import AudioInfo
from localcloud.services.dashscope.audio_source import SYNC_AUDIO_LIMIT, FetchedAudio
from localcloud.services.dashscope.errors import RecognitionFailure, api_error
from localcloud.services.dashscope.recognition import Recognizer, inspect_audio
from shared.ops.asr import (
    OSS_RESOURCE_RESOLVE_HEADER,
    OSS_RESOURCE_RESOLVE_VALUE,
    AudioInput,
    AudioSourceKind,
)
from shared.ops.enums import AsrLanguage

if TYPE_CHECKING:
    from localcloud.services.dashscope.parts import DashScopeParts


@dataclass
class SyncJob:
    """Fetched, probed audio waiting for recognition; close it (or use `with`) to drop the local copy."""

    recognizer: Recognizer
    audio: FetchedAudio
    info: AudioInfo
    language: str | None
    audio_field: str
    language_field: str

    def recognize(self) -> Recognition:
        """Channel 0 (the synchronous models take one track), without word timings."""
        try:
            return self.recognizer.recognize(
                self.audio.path, language=self.language, channel=0, enable_words=False
            )
        except RecognitionFailure as failure:
            raise failure.to_http(audio_field=self.audio_field, language_field=self.language_field) from None

    def close(self) -> None:
        self.audio.close()

    def __enter__(self) -> SyncJob:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def prepare_job(
    service: DashScopeParts,
    request: Request,
    audio: AudioInput,
    language: AsrLanguage | None,
    *,
    audio_field: str,
    language_field: str,
) -> SyncJob:
    """Check the language and the OSS header, fetch and probe the audio; HTTP errors name the field."""
    if audio.kind is AudioSourceKind.OSS and (
        request.headers.get(OSS_RESOURCE_RESOLVE_HEADER, "").lower() != OSS_RESOURCE_RESOLVE_VALUE
    ):
        raise api_error(
            400,
            "InvalidParameter",
            f"{audio_field}: oss:// audio is resolved only with the header "
            f"{OSS_RESOURCE_RESOLVE_HEADER}: {OSS_RESOURCE_RESOLVE_VALUE}",
            openai_code="invalid_parameter_error",
            param=audio_field,
        )
    code = language.value if language is not None else None
    fetched: FetchedAudio | None = None
    try:
        service.recognizer.check_language(code)
        fetched = service.fetcher.fetch(audio.url, max_bytes=SYNC_AUDIO_LIMIT)
        info = inspect_audio(fetched.path)
    except RecognitionFailure as failure:
        if fetched is not None:
            fetched.close()
        raise failure.to_http(audio_field=audio_field, language_field=language_field) from None
    return SyncJob(service.recognizer, fetched, info, code, audio_field, language_field)

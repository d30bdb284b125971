"""Fetch the audio a Qwen-ASR request names into a local file the recognition engine can read.

    data:audio/wav;base64,...          decoded into a temporary file
    oss://bucket/key                   localcloud's OSS object, hard-linked (an overwrite mid-way is harmless)
    http(s) URL on localcloud's port   verified exactly as a GET would be (`OssService.resolve_url`): an
                                       expired or tampered presigned URL is FILE_403_FORBIDDEN, a missing
                                       object FILE_404_NOT_FOUND
    any other http(s) URL              downloaded with httpx (timeouts, at most 5 redirects)

Failures are RecognitionFailure with the codes of errors.py. Messages name the URL without its query
string: presigned URLs carry signatures.

    >>> with fetcher.fetch("oss://media/in/a.wav", max_bytes=SYNC_AUDIO_LIMIT) as audio:  # doctest: +SKIP
    ...     engine.recognize(str(audio.path))
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpx

from localcloud.services.base import ServiceHttpError
from localcloud.services.dashscope.errors import (
    FILE_403_FORBIDDEN,
    FILE_404_NOT_FOUND,
    FILE_DOWNLOAD_FAILED,
    FILE_TOO_LARGE,
    RecognitionFailure,
)
from shared.ops.asr import AudioInput

if TYPE_CHECKING:
    from localcloud.ports import Host

# qwen3-asr-flash takes up to 10 MB of audio (the seed); filetrans files up to 2 GB.
SYNC_AUDIO_LIMIT = 10 * 1024 * 1024
FILETRANS_AUDIO_LIMIT = 2 * 1024 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
# Where files the dashscope SDK uploads for `file://` audio land (uploads.py hands out the policies).
UPLOAD_BUCKET = "localcloud-dashscope-uploads"
UPLOAD_DIR_ROOT = "dashscope-instant"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_EXTENSION = re.compile(r"\.[a-z0-9]{1,5}")
_MEDIA_TYPE_EXTENSIONS = {
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/aac": ".aac", "audio/flac": ".flac",
    "audio/x-flac": ".flac", "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a", "audio/m4a": ".m4a", "audio/amr": ".amr", "audio/webm": ".webm",
    "audio/x-ms-wma": ".wma",
}  # fmt: skip


@dataclass
class FetchedAudio:
    """A local copy of the audio; `close()` (or leaving the `with` block) removes it."""

    path: Path
    size: int

    def close(self) -> None:
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> FetchedAudio:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AudioFetcher:
    """Brings audio from any of the accepted sources into localcloud's temporary directory."""

    def __init__(
        self,
        cloud: Host,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.cloud = cloud
        self.timeout = timeout
        self._transport = transport
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def fetch(self, url: str, *, max_bytes: int) -> FetchedAudio:
        """A local file holding the audio `url` names; RecognitionFailure when it cannot be had."""
        if url.startswith("data:"):
            return self._from_data_url(url, max_bytes)
        parts = urlsplit(url)
        if parts.scheme == "oss" or self._is_localcloud(parts.hostname, parts.port):
            return self._from_oss(url, max_bytes)
        return self._download(url, max_bytes)

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # --- sources ---------------------------------------------------------------------------------------

    def _from_data_url(self, url: str, max_bytes: int) -> FetchedAudio:
        audio = AudioInput.from_url(url)
        data = audio.decoded_bytes()
        _check_size(len(data), max_bytes, "the data URL")
        target = self.cloud.state.new_temp_path(_MEDIA_TYPE_EXTENSIONS.get(audio.media_type or "", ""))
        target.write_bytes(data)
        return FetchedAudio(target, len(data))

    def _from_oss(self, url: str, max_bytes: int) -> FetchedAudio:
        where = _describe(url)
        uploaded = upload_url(url)
        if uploaded is not None:  # a file the SDK uploaded: its oss:// URL names the key, not a bucket
            url = f"oss://{uploaded[0]}/{uploaded[1]}"
        try:
            oss = self.cloud.oss()
        except LookupError:
            raise RecognitionFailure(
                FILE_DOWNLOAD_FAILED, f"cannot read {where}: localcloud's OSS service is not running"
            ) from None
        try:
            record = oss.resolve_url(url)
        except ServiceHttpError as error:
            code = {403: FILE_403_FORBIDDEN, 404: FILE_404_NOT_FOUND}.get(error.status, FILE_DOWNLOAD_FAILED)
            raise RecognitionFailure(
                code, f"OSS refused {where} with {error.status} {error.code}: {error.message}"
            ) from None
        _check_size(record.size, max_bytes, where)
        target = self.cloud.state.new_temp_path(_suffix(record.key))
        try:
            os.link(record.path, target)
        except FileNotFoundError:
            raise RecognitionFailure(
                FILE_DOWNLOAD_FAILED, f"{where} was replaced or deleted while being read; try again"
            ) from None
        except OSError:
            shutil.copyfile(record.path, target)
        return FetchedAudio(target, record.size)

    def _download(self, url: str, max_bytes: int) -> FetchedAudio:
        where = _describe(url)
        target = self.cloud.state.new_temp_path(_suffix(urlsplit(url).path))
        try:
            with self._client().stream("GET", url) as response:
                _check_status(response.status_code, where)
                declared = response.headers.get("content-length", "")
                if declared.isdigit():
                    _check_size(int(declared), max_bytes, where)
                size = 0
                with open(target, "wb") as out:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        _check_size(size, max_bytes, where)
                        out.write(chunk)
        except httpx.TimeoutException:
            target.unlink(missing_ok=True)
            raise RecognitionFailure(
                FILE_DOWNLOAD_FAILED, f"downloading {where} timed out after {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            target.unlink(missing_ok=True)
            raise RecognitionFailure(
                FILE_DOWNLOAD_FAILED, f"downloading {where} failed ({type(exc).__name__})"
            ) from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return FetchedAudio(target, size)

    # --- helpers ---------------------------------------------------------------------------------------

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=min(10.0, self.timeout)),
                    follow_redirects=True,
                    max_redirects=5,
                    transport=self._transport,
                )
            return self._http

    def _is_localcloud(self, host: str | None, port: int | None) -> bool:
        if host is None:
            return False
        names = _LOOPBACK | {self.cloud.config.host}
        return host in names and (port or 80) == self.cloud.port


def _check_status(status: int, where: str) -> None:
    if 200 <= status < 300:
        return
    code = {403: FILE_403_FORBIDDEN, 404: FILE_404_NOT_FOUND}.get(status, FILE_DOWNLOAD_FAILED)
    raise RecognitionFailure(code, f"{where} answered HTTP {status}")


def _check_size(size: int, limit: int, where: str) -> None:
    if size > limit:
        raise RecognitionFailure(FILE_TOO_LARGE, f"{where} holds more than {limit} bytes, the model's limit")


def _describe(url: str) -> str:
    """The URL without query or fragment (a presigned URL's signature stays out of messages and logs)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _suffix(path: str) -> str:
    # The engine uses the extension to name the format ("m4a" rather than FFmpeg's "mov,mp4,m4a,...").
    suffix = PurePosixPath(unquote(path)).suffix.lower()
    return suffix if _EXTENSION.fullmatch(suffix) else ""


def upload_url(url: str) -> tuple[str, str] | None:
    """(bucket, key) when `url` is an `oss://` URL of a file uploaded through a policy of `get_policy`.

    >>> upload_url("oss://dashscope-instant/2026-12-05/0f1e/talk.wav")
    ('localcloud-dashscope-uploads', 'dashscope-instant/2026-12-05/0f1e/talk.wav')
    >>> upload_url("oss://audiochain/work/j1/normalized.flac") is None
    True
    """
    prefix = f"oss://{UPLOAD_DIR_ROOT}/"
    if not url.startswith(prefix):
        return None
    return UPLOAD_BUCKET, url[len("oss://") :]

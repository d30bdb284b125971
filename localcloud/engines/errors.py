"""The error localcloud's engines raise when a media task cannot be done.

    MediaError(code, message)
      code  one of the stable strings below; the OSS/IMM emulators copy it into the failed task's
            status so a caller can branch on it
      message  a sentence naming the parameter or file and the rule that was broken

Engines raise MediaError for problems with the *media* (a corrupt source, an inherited sample rate the
output format cannot take, an encoder this FFmpeg build lacks). Malformed arguments to an engine call
(a negative `ss`, an unknown format) are refused earlier with the shared layer's InvalidRequestError.

Example:
    >>> err = MediaError(MediaError.NO_AUDIO_STREAM, "clip.mp4: the file has no audio stream")
    >>> (err.code, str(err))
    ('NoAudioStream', 'NoAudioStream: clip.mp4: the file has no audio stream')
"""

from __future__ import annotations

from typing import ClassVar


class MediaError(Exception):
    """A media task failed for a reason the caller can act on; `code` is stable, `message` is for humans."""

    # The source is missing, unreadable, not a media file, or cannot be decoded.
    INVALID_SOURCE: ClassVar[str] = "InvalidSource"
    # The source is a media file but carries no audio stream.
    NO_AUDIO_STREAM: ClassVar[str] = "NoAudioStream"
    # An explicitly requested value the output cannot honour (a rate the encoder lacks, ss past the end).
    INVALID_PARAMETER: ClassVar[str] = "InvalidParameter"
    # A value left to default (ar/ac taken from the source or the align clip) does not fit the format.
    INVALID_INHERITED: ClassVar[str] = "InvalidParameter.Inherited"
    # abopt=2 and a source's bitrate is below the requested ab.
    BITRATE_BELOW_TARGET: ClassVar[str] = "BitrateBelowTarget"
    # The real service could do it, but the FFmpeg bundled with localcloud cannot (e.g. AMR-WB encoding).
    UNSUPPORTED_BY_LOCAL_ENGINE: ClassVar[str] = "UnsupportedByLocalEngine"
    # The encoder or muxer failed, or the output could not be written.
    ENCODE_FAILED: ClassVar[str] = "EncodeFailed"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[MediaError], tuple[str, str]]:
        # Engines may run in worker processes: keep the error picklable with its two arguments.
        return (type(self), (self.code, self.message))

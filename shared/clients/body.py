"""Request bodies that know whether they may be sent twice.

>>> body = RequestBody(iter([b"a", b"b"]))
>>> body.replayable
True
>>> b"".join(body.for_attempt()), body.replayable
(b'ab', False)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, cast

from shared.errors import InvalidRequestError

_CHUNK_SIZE = 64 * 1024

RequestContent = bytes | bytearray | memoryview | Iterable[bytes] | IO[bytes]
"""A request body: bytes, an iterable of byte chunks, or a binary file object."""


class RequestBody:
    """A request body that knows whether it can be sent again.

    Bytes and seekable files can be replayed (files are rewound to where they started); iterators and
    pipes are one-shot: once the first chunk has been pulled, a retry would send a truncated body.
    """

    def __init__(self, content: RequestContent | None, *, field_name: str = "data") -> None:
        self._bytes: bytes | None = None
        self._file: IO[bytes] | None = None
        self._iterable: Iterable[bytes] | None = None
        self._file_start = 0
        self._started = False
        self._field_name = field_name
        self.length: int | None = None
        if content is None:
            self._bytes = b""
        elif isinstance(content, (bytes, bytearray, memoryview)):
            self._bytes = bytes(content)
        elif isinstance(content, str):
            raise InvalidRequestError.single(
                field_name, "bytes", "must be bytes, a binary file or an iterable of bytes, not str"
            )
        elif hasattr(content, "read"):
            self._file = cast("IO[bytes]", content)
            self._file_start, self.length = _seekable_extent(self._file)
        elif isinstance(content, Iterable):
            self._iterable = content
        else:
            raise InvalidRequestError.single(
                field_name,
                "bytes",
                f"must be bytes, a binary file or an iterable of bytes, got {type(content).__name__}",
            )
        if self._bytes is not None:
            self.length = len(self._bytes)

    @property
    def data(self) -> bytes | None:
        """The whole body when it is in memory."""
        return self._bytes

    @property
    def replayable(self) -> bool:
        if self._bytes is not None:
            return True
        if self._file is not None and self.length is not None:
            return True
        return not self._started

    def for_attempt(self) -> bytes | Iterator[bytes]:
        """The content to hand to httpx for one attempt."""
        if self._bytes is not None:
            return self._bytes
        if self._file is not None:
            if self.length is not None:
                self._file.seek(self._file_start)
            return self._tracked(_read_chunks(self._file))
        assert self._iterable is not None
        return self._tracked(iter(self._iterable))

    def _tracked(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        self._started = True
        for chunk in chunks:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise InvalidRequestError.single(
                    self._field_name, "bytes", f"chunks must be bytes, got {type(chunk).__name__}"
                )
            yield bytes(chunk)


def _seekable_extent(stream: IO[bytes]) -> tuple[int, int | None]:
    """(start, remaining length) of a seekable file; (0, None) for pipes and sockets."""
    try:
        if not stream.seekable():
            return 0, None
        start = stream.tell()
        end = stream.seek(0, 2)
        stream.seek(start)
    except (OSError, ValueError, AttributeError):
        return 0, None
    return start, end - start


def _read_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = stream.read(_CHUNK_SIZE)
        if not chunk:
            return
        yield chunk

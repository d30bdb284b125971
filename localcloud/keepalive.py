"""The edge port's HTTP/1.1 handler: werkzeug's WSGI request handler with persistent connections.

werkzeug's development server closes every connection after one response, so each request to localcloud
cost a TCP connect and accept, a new thread, and a 10 ms drain before the close; with ~100 OSS requests per
job that was a quarter of the chain's CPU (issue 11, `bench/chain_scale.py`). This handler keeps the
connection open between requests, as OSS, MNS and FC do:

- one thread per connection (werkzeug's threaded server), reused by every request on it, so a request that
  waits (an MNS long poll, an HTTP function calling OSS) never starves another, as a fixed pool could;
- the app reads the body through a stream bounded by `Content-Length` (or de-chunked), never past it into
  the next request; whatever the app left unread is drained afterwards, up to `DRAIN_LIMIT`, else the
  connection is closed;
- a response without `Content-Length` is sent chunked, and never has a body on HEAD, 1xx, 204 or 304;
- a response body longer than its `Content-Length` is cut there, a shorter one closes the connection, and a
  request whose `Content-Length` is not one non-negative integer is refused (400) and the connection closed:
  either would make the two ends disagree on where the next message starts;
- `Connection: close` from the client (or HTTP/1.0) closes after the response; an idle connection is closed
  after `IDLE_TIMEOUT` seconds, quietly; `close_all(server)` ends open ones when the server stops.

Environ keys are werkzeug's (`make_environ`): `REQUEST_URI`/`RAW_URI`, `wsgi.input_terminated` for chunked
bodies, and the rest as before.
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, DechunkedInput, WSGIRequestHandler

__all__ = ["DRAIN_LIMIT", "DRAIN_SECONDS", "IDLE_TIMEOUT", "KeepAliveRequestHandler", "close_all"]

# Unread body bytes read and dropped after a response to keep the connection; more and it is closed.
DRAIN_LIMIT = 1024 * 1024
# Seconds an idle connection is kept (httpx lets go of its idle ones after 5 s).
IDLE_TIMEOUT = 120.0
# How long a refused upload above DRAIN_LIMIT is still read (and dropped) before the connection closes.
DRAIN_SECONDS = 2.0
_NO_BODY_STATUSES = (204, 304)
_DIGITS = re.compile(r"[0-9]{1,19}")


class _BoundedInput(io.RawIOBase):
    """The request body as `wsgi.input`: at most `length` bytes of the connection, then end of stream."""

    def __init__(self, stream: Any, length: int) -> None:
        super().__init__()
        self._stream = stream
        self.remaining = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        # Filled whole, as a buffered file is (`read(n)` gives n bytes unless the body ends first): code
        # that reads `limit + 1` bytes to find an oversized body must not take a short read for its end.
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self.remaining)
        if wanted == 0:
            return 0
        got = self._stream.readinto(view[:wanted])
        if got < wanted:
            raise ConnectionError(
                f"the client closed the connection with {self.remaining - got} body bytes unsent"
            )
        self.remaining -= got
        return int(got)

    def readline(self, size: int | None = -1) -> bytes:
        limit = self.remaining if size is None or size < 0 else min(size, self.remaining)
        if limit == 0:
            return b""
        line: bytes = self._stream.readline(limit)
        self.remaining -= len(line)
        return line

    def drain(self, limit: int) -> bool:
        """Read and drop what the app left: True when the connection can go on. More than `limit` bytes
        left (an upload the app refused) are still read for up to DRAIN_SECONDS, as werkzeug does, so the
        client that is still sending sees the answer rather than a reset; the connection then closes."""
        if self.remaining > limit:
            _discard_for(self, DRAIN_SECONDS)
            return False
        while self.remaining:
            if not self.read(min(self.remaining, 65536)):
                return False
        return True


class _ChunkedInput(DechunkedInput):
    """werkzeug's de-chunking body, able to say whether the final chunk was read."""

    def drain(self, limit: int) -> bool:
        drained = 0
        while not self._done:  # werkzeug's flag: the zero-length chunk was read
            data = self.read(65536)
            drained += len(data)
            if not data:
                return self._done
            if drained > limit:
                _discard_for(self, DRAIN_SECONDS)
                return False
        return True


def _discard_for(stream: io.RawIOBase, seconds: float) -> None:
    """Read and drop from `stream` until it ends, fails, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    with contextlib.suppress(OSError, ValueError):
        while time.monotonic() < deadline and stream.read(65536):
            pass


class KeepAliveRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, answering each request without closing the connection (see the module)."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    # The head goes out with the first piece of the body, each piece flushed as the app yields it, with
    # Nagle off: on a kept connection, head and body in two small writes waited out the client's delayed
    # ACK (~40 ms a request).
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024

    def setup(self) -> None:
        super().setup()
        _connections(self.server).add(self.connection)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server reports a connection that sat idle for `timeout` as an error ("Request timed out"),
        # which werkzeug prints to stderr: with kept connections that is the normal end of an idle one
        # (a long `localcloud run` printed it in the middle of its progress lines).
        if format.startswith("Request timed out"):
            return
        super().log_error(format, *args)

    def finish(self) -> None:
        _connections(self.server).discard(self.connection)
        super().finish()

    def run_wsgi(self) -> None:
        # `Expect: 100-continue` was answered by http.server's parse_request (HTTP/1.1) already.
        self.environ = environ = self.make_environ()
        body = self._body(environ)
        if body is None:
            self._refuse(environ, 400, b"Bad Request: Content-Length must be one non-negative integer")
            return
        environ["wsgi.input"] = body
        response = _Response(self)
        try:
            answer = self.server.app(environ, response.start)
            try:
                response.send(answer)
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
            if not response.framed:
                self.close_connection = True  # the body did not match its Content-Length
            # What the app left unread is read now, within DRAIN_SECONDS even if the client stalls.
            self.connection.settimeout(DRAIN_SECONDS)
            try:
                if not body.drain(DRAIN_LIMIT):
                    self.close_connection = True
            finally:
                self.connection.settimeout(self.timeout)
        except (TimeoutError, ConnectionError) as error:
            self.connection_dropped(error, environ)
            self.close_connection = True
        except Exception as error:
            self.close_connection = True
            if not response.started:
                self._refuse(environ, 500, b"Internal Server Error")
            self.server.log("error", f"Error on request {self.command} {self.path}: {error!r}")

    def _body(self, environ: dict[str, Any]) -> _BoundedInput | _ChunkedInput | None:
        """The body stream, or None when its framing cannot be trusted (refused, then closed)."""
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or ()}
        if environ.get("wsgi.input_terminated"):
            if lengths:
                self.close_connection = True  # both framings given: serve it chunked, keep nothing after
            return _ChunkedInput(self.rfile)  # type: ignore[arg-type]  # a BufferedReader is an IO[bytes]
        if not lengths:
            return _BoundedInput(self.rfile, 0)
        if len(lengths) != 1 or not _DIGITS.fullmatch(next(iter(lengths))):
            self.close_connection = True  # where the next request starts is unknown
            return None
        return _BoundedInput(self.rfile, int(next(iter(lengths))))

    def _refuse(self, environ: dict[str, Any], status: int, text: bytes) -> None:
        """Answer `status` with `text` and close; a head the app's answer half built is dropped first."""
        self._headers_buffer: list[bytes] = []
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(text)
            self.wfile.flush()
        except OSError as error:
            self.connection_dropped(error, environ)


class _Response:
    """One response written to the connection: framing by Content-Length, else chunked."""

    def __init__(self, handler: KeepAliveRequestHandler) -> None:
        self._handler = handler
        self._status: str | None = None
        self._headers: list[tuple[str, str]] = []
        self.started = False
        self._chunked = False
        self._bodyless = False
        self._declared: int | None = None  # the Content-Length the app set
        self._sent = 0
        self.framed = True  # False once the body and its Content-Length disagree

    def start(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self._status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self._status, self._headers = status, list(headers)
        return self.write

    def send(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)
        if not self.started:
            self.write(b"")
        if self._chunked:
            self._handler.wfile.write(b"0\r\n\r\n")
        self._handler.wfile.flush()
        if self._declared is not None and not self._bodyless and self._sent != self._declared:
            self.framed = False  # short: the client learns it from the connection closing

    def write(self, data: bytes) -> None:
        if not self.started:
            self._send_head()
        if data and not self._bodyless and self._declared is not None:
            room = self._declared - self._sent
            if len(data) > room:
                self.framed = False  # never more than announced: the excess would start a false response
                data = data[: max(room, 0)]
        if data and not self._bodyless:
            self._sent += len(data)
            out = self._handler.wfile
            if self._chunked:
                out.write(b"%x\r\n" % len(data))
                out.write(data)
                out.write(b"\r\n")
            else:
                out.write(data)
            out.flush()  # each piece as the app yields it (server-sent events), the head with the first

    def _send_head(self) -> None:
        handler = self._handler
        if self._status is None:
            raise AssertionError("the app wrote before start_response")
        code_text, _, reason = self._status.partition(" ")
        code = int(code_text)
        handler.send_response(code, reason)
        names = set()
        for name, value in self._headers:
            handler.send_header(name, value)
            names.add(name.lower())
            if name.lower() == "content-length" and _DIGITS.fullmatch(value.strip()):
                self._declared = int(value.strip())
        self._bodyless = handler.command == "HEAD" or 100 <= code < 200 or code in _NO_BODY_STATUSES
        if "content-length" not in names and not self._bodyless:
            if handler.request_version >= "HTTP/1.1":
                self._chunked = True
                handler.send_header("Transfer-Encoding", "chunked")
            else:
                handler.close_connection = True  # HTTP/1.0: the body ends with the connection
        if handler.close_connection and "connection" not in names:
            handler.send_header("Connection", "close")
        handler.end_headers()
        self.started = True


_REGISTRY_LOCK = threading.Lock()


def _connections(server: BaseWSGIServer) -> set[socket.socket]:
    with _REGISTRY_LOCK:
        found: set[socket.socket] | None = getattr(server, "_open_connections", None)
        if found is None:
            found = set()
            server._open_connections = found  # type: ignore[attr-defined]
        return found


def close_all(server: BaseWSGIServer) -> None:
    """End every open connection of a stopped server: a client's next request on one then fails to
    connect, as it would to a stopped service, instead of reaching an app that was shut down."""
    for connection in list(_connections(server)):
        with contextlib.suppress(OSError):  # already closed by the client
            connection.shutdown(socket.SHUT_RDWR)

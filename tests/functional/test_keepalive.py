"""The edge port keeps HTTP/1.1 connections alive (localcloud/keepalive.py), with every response framed so the
next request on the connection is read from the right byte."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from localcloud import keepalive
from localcloud.keepalive import DRAIN_LIMIT, KeepAliveRequestHandler, close_all


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    body = environ["wsgi.input"].read() if path == "/echo" else b""
    if path == "/echo":
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    if path == "/stream":  # no Content-Length: sent chunked
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"one,", b"two,", b"three"]
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    if path in ("/long", "/short"):  # a body that disagrees with its Content-Length (an app's bug)
        start_response("200 OK", [("Content-Length", "4")])
        return [b"abcdefgh" if path == "/long" else b"ab"]
    if path == "/latin":  # a header value HTTP cannot carry
        start_response("200 OK", [("Content-Disposition", 'attachment; filename="€.txt"')])
        return [b"x"]
    if path == "/refuse":  # an upload refused without reading it
        start_response("403 Forbidden", [("Content-Length", "6")])
        return [b"denied"]
    start_response("200 OK", [("Content-Length", "5")])  # /ignore: the body is never read
    return [b"fine!"]


@pytest.fixture
def server() -> Iterator[BaseWSGIServer]:
    served = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAliveRequestHandler)
    thread = threading.Thread(target=served.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served
    served.shutdown()
    served.server_close()
    close_all(served)


@pytest.fixture
def connection(server: BaseWSGIServer) -> Iterator[http.client.HTTPConnection]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    yield conn
    conn.close()


def ask(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, **headers: str) -> Any:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.getheader("Connection"), response.read()


def test_requests_on_one_connection_are_answered_in_turn_without_reconnecting(
    connection: http.client.HTTPConnection,
) -> None:
    assert ask(connection, "POST", "/echo", b"first") == (200, None, b"first")
    kept = connection.sock
    assert ask(connection, "POST", "/echo", b"second") == (200, None, b"second")
    assert connection.sock is kept


def test_a_body_the_app_left_unread_is_drained_so_the_next_request_starts_where_it_should(
    connection: http.client.HTTPConnection,
) -> None:
    assert ask(connection, "PUT", "/ignore", b"x" * 100_000) == (200, None, b"fine!")
    assert ask(connection, "POST", "/echo", b"after") == (200, None, b"after")


def test_chunked_bodies_both_ways_keep_the_framing(connection: http.client.HTTPConnection) -> None:
    pieces = iter([b"al", b"pha", b"bet"])  # no length: http.client sends it chunked
    assert ask(connection, "POST", "/echo", pieces) == (200, None, b"alphabet")
    status, _, body = ask(connection, "GET", "/stream")
    assert (status, body) == (200, b"one,two,three")
    assert ask(connection, "GET", "/empty") == (204, None, b"")
    assert ask(connection, "HEAD", "/stream") == (200, None, b"")
    assert ask(connection, "POST", "/echo", b"still in step") == (200, None, b"still in step")


def test_a_large_unread_body_closes_the_connection_instead_of_being_read(
    server: BaseWSGIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keepalive, "DRAIN_SECONDS", 0.2)  # how long a stalled sender is waited for
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as raw:
        head = f"PUT /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: {DRAIN_LIMIT * 4}\r\n\r\n"
        raw.sendall(head.encode() + b"x" * 1000)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"fine!")


def test_a_client_asking_to_close_is_answered_with_connection_close(
    connection: http.client.HTTPConnection,
) -> None:
    assert ask(connection, "POST", "/echo", b"bye", Connection="close") == (200, "close", b"bye")


def test_stopping_the_server_ends_its_kept_connections(server: BaseWSGIServer) -> None:
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as raw:
        raw.sendall(b"GET /ignore HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(65536).endswith(b"fine!")
        server.shutdown()
        server.server_close()
        close_all(server)
        assert raw.recv(65536) == b""  # closed by the server, not left waiting for a next request


def test_an_idle_connection_is_closed_after_the_idle_timeout_without_an_error_line(
    server: BaseWSGIServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(KeepAliveRequestHandler, "timeout", 0.2)
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as raw:
        raw.sendall(b"GET /ignore HTTP/1.1\r\nHost: x\r\n\r\n")
        assert raw.recv(65536).endswith(b"fine!")
        assert raw.recv(65536) == b""  # then nothing is sent: the server closes the connection
    assert "timed out" not in caplog.text


def raw_exchange(server: BaseWSGIServer, request: bytes) -> bytes:
    """Send `request` on a fresh connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize("length", ["-5", "abc", "3, 4"])
def test_a_content_length_that_frames_nothing_is_refused_and_the_connection_closed(
    server: BaseWSGIServer, length: str
) -> None:
    # A negative length once let the body run as a second, smuggled request.
    answer = raw_exchange(
        server, f"POST /echo HTTP/1.1\r\nContent-Length: {length}\r\n\r\nGET /x HTTP/1.1\r\n\r\n".encode()
    )
    assert answer.startswith(b"HTTP/1.1 400") and answer.count(b"HTTP/1.1") == 1


def test_a_body_longer_than_its_content_length_is_cut_there_and_the_connection_closed(
    server: BaseWSGIServer,
) -> None:
    answer = raw_exchange(server, b"GET /long HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.endswith(b"\r\n\r\nabcd")  # the excess would have been read as the next response


def test_a_body_shorter_than_its_content_length_closes_the_connection_at_once(server: BaseWSGIServer) -> None:
    answer = raw_exchange(server, b"GET /short HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.endswith(b"\r\n\r\nab")  # and the client sees the end now, not after the idle timeout


def test_a_header_the_app_cannot_send_gives_a_clean_500(server: BaseWSGIServer) -> None:
    answer = raw_exchange(server, b"GET /latin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500") and b"200 OK" not in answer


def test_a_large_upload_refused_unread_still_gets_its_answer(connection: http.client.HTTPConnection) -> None:
    # The rest of the body is read and dropped before closing: closing on unread data resets the connection.
    assert ask(connection, "PUT", "/refuse", b"x" * (8 * DRAIN_LIMIT)) == (403, None, b"denied")


def test_expect_100_continue_is_answered_once(server: BaseWSGIServer) -> None:
    answer = raw_exchange(
        server,
        b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    assert answer.count(b"100 Continue") == 1 and answer.endswith(b"hi")

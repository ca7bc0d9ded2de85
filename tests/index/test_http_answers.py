"""How the direct path reads an index's answers, byte for byte: bodies framed by their length,
by chunks or by the end of the connection; interim answers; connections kept, replaced or
closed; answers that are not HTTP. A scripted server on 127.0.0.1 sends exactly the bytes each
test gives it."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from wheelnext_jupyter.index.transfer import NotDirect, TransferError, Transfers

ROOT = Path(__file__).resolve().parents[2]


class ScriptedServer:
    """Answers the n-th request with the n-th script: bytes to send, then whether to close."""

    def __init__(self, scripts: list[tuple[bytes, bool]]) -> None:
        self.scripts = list(scripts)
        self.requests: list[tuple[int, bytes]] = []
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._answer, args=(conn, number), daemon=True).start()

    def _answer(self, conn: socket.socket, number: int) -> None:
        with conn:
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    data = conn.recv(65536)
                    if not data:
                        return
                    pending += data
                head, _, pending = pending.partition(b"\r\n\r\n")
                with self._lock:
                    self.requests.append((number, head))
                    answer, close = self.scripts.pop(0)
                conn.sendall(answer)
                if close:
                    return


@pytest.fixture
def transfers() -> Iterator[Transfers]:
    made = Transfers(
        context=lambda: pytest.fail("no TLS here"),
        timeout=5,
        headers={"User-Agent": "test"},
        credentials=lambda url: None,
    )
    yield made
    made.close()


def _ok(body: bytes, *fields: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *fields]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _blocks(transfers: Transfers, url: str, size: int = 7) -> tuple[int, list[bytes]]:
    """Status and body of a GET, read `size` bytes at a time."""
    with transfers.get(url, {}) as got:
        blocks = []
        buffer = bytearray(size)
        while count := got.readinto(buffer):
            blocks.append(bytes(buffer[:count]))
        return got.status_code, blocks


def test_a_body_of_known_length_is_read_and_its_connection_kept_for_the_next_request(
    transfers: Transfers,
) -> None:
    with ScriptedServer([(_ok(b"first body"), False), (_ok(b"second"), False)]) as server:
        with transfers.get(f"{server.url}/a/", {}) as got:
            assert (got.status_code, got.read()) == (200, b"first body")
        assert b"".join(_blocks(transfers, f"{server.url}/b/")[1]) == b"second"
    assert server.connections == 1
    assert [number for number, _ in server.requests] == [1, 1]


def test_the_request_names_host_and_port_and_asks_for_the_body_unencoded(
    transfers: Transfers,
) -> None:
    with (
        ScriptedServer([(_ok(b""), False)]) as server,
        transfers.get(f"{server.url}/simple/x/?q=1", {"Accept": "text/html"}) as got,
    ):
        got.read()
    lines = server.requests[0][1].decode().split("\r\n")
    assert lines[0] == "GET /simple/x/?q=1 HTTP/1.1"
    assert set(lines[1:]) == {
        f"Host: 127.0.0.1:{server.port}",
        "Accept-Encoding: identity",
        "User-Agent: test",
        "Accept: text/html",
    }


def test_chunks_are_read_in_blocks_and_whole_and_the_trailer_skipped(
    transfers: Transfers,
) -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1;ext=1\r\n \r\n10\r\n" + b"w" * 16 + b"\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    with ScriptedServer([(chunked, False), (chunked, False), (_ok(b"after"), False)]) as server:
        _, blocks = _blocks(transfers, f"{server.url}/a/", size=4)
        with transfers.get(f"{server.url}/b/", {}) as got:
            whole = got.read()
        with transfers.get(f"{server.url}/c/", {}) as got:
            after = got.read()
    assert b"".join(blocks) == whole == b"hello " + b"w" * 16
    assert max(len(b) for b in blocks) == 4
    # The last chunk and trailer read, the connection carried the next request.
    assert after == b"after"
    assert server.connections == 1


def test_an_interim_answer_is_skipped_for_the_real_one(transfers: Transfers) -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\n" + _ok(b"real")
    with ScriptedServer([(answer, False)]) as server, transfers.get(f"{server.url}/a/", {}) as got:
        assert (got.status_code, got.read()) == (200, b"real")


def test_an_answer_without_a_body_leaves_the_connection_ready(transfers: Transfers) -> None:
    not_modified = b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'
    with ScriptedServer([(not_modified, False), (_ok(b"next"), False)]) as server:
        with transfers.get(f"{server.url}/a/", {}) as got:
            assert (got.status_code, got.headers.get("etag"), got.read()) == (304, '"x"', b"")
        with transfers.get(f"{server.url}/b/", {}) as got:
            assert got.read() == b"next"
    assert server.connections == 1


def test_a_body_that_ends_with_the_connection_is_read_to_its_end_and_not_reused(
    transfers: Transfers,
) -> None:
    old = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 3000
    with ScriptedServer([(old, True), (_ok(b"new"), False)]) as server:
        assert b"".join(_blocks(transfers, f"{server.url}/a/", size=1000)[1]) == b"z" * 3000
        with transfers.get(f"{server.url}/b/", {}) as got:
            assert got.read() == b"new"
    assert server.connections == 2


def test_a_body_cut_short_fails_naming_the_bytes_missing(transfers: Transfers) -> None:
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    with ScriptedServer([(short, True), (short, True)]) as server:
        with pytest.raises(TransferError, match="7 bytes before the end"):
            _blocks(transfers, f"{server.url}/a/")
        with (
            pytest.raises(TransferError, match="7 bytes before the end"),
            transfers.get(f"{server.url}/a/", {}) as got,
        ):
            got.read()


def test_a_chunk_cut_short_fails(transfers: Transfers) -> None:
    short = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc"
    with (
        ScriptedServer([(short, True)]) as server,
        pytest.raises(TransferError, match="inside a chunk"),
    ):
        _blocks(transfers, f"{server.url}/a/")


@pytest.mark.parametrize(
    "answer",
    [b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/2 200\r\n\r\n"],
    ids=["not-http", "no-status", "http-2"],
)
def test_an_answer_that_is_not_http_1_fails_as_a_network_error(
    transfers: Transfers, answer: bytes
) -> None:
    with (
        ScriptedServer([(answer, True)]) as server,
        pytest.raises(TransferError, match="not an HTTP/1 status line"),
    ):
        _blocks(transfers, f"{server.url}/a/")


def test_a_kept_connection_the_server_has_closed_is_replaced_once(transfers: Transfers) -> None:
    with ScriptedServer([(_ok(b"one"), True), (_ok(b"two"), False)]) as server:
        # The server closes after answering, which this client does not know: the next
        # request finds the kept connection closed and goes again on a new one.
        with transfers.get(f"{server.url}/a/", {}) as got:
            assert got.read() == b"one"
        with transfers.get(f"{server.url}/b/", {}) as got:
            assert got.read() == b"two"
    assert server.connections == 2


def test_a_server_that_answers_nothing_fails_as_a_network_error(transfers: Transfers) -> None:
    with (
        ScriptedServer([(b"", True)]) as server,
        pytest.raises(TransferError, match="without answering"),
    ):
        _blocks(transfers, f"{server.url}/a/")


def test_a_url_with_a_space_or_beyond_ascii_is_left_to_httpx(transfers: Transfers) -> None:
    with ScriptedServer([]) as server:
        for path in ("/a b/", "/caf\u00e9/"):
            with pytest.raises(NotDirect), transfers.get(f"{server.url}{path}", {}):
                pass
    assert server.requests == []


def test_a_header_value_with_a_line_break_is_refused(transfers: Transfers) -> None:
    with (
        ScriptedServer([]) as server,
        pytest.raises(ValueError, match="line break"),
        transfers.get(f"{server.url}/a/", {"X-Bad": "a\r\nInjected: 1"}),
    ):
        pass
    assert server.requests == []


def test_the_command_line_starts_without_an_http_client_tls_or_email_parser() -> None:
    # Each costs milliseconds at every start; a plain-HTTP index needs none of them.
    code = (
        "import sys, wheelnext_jupyter.cli; "
        "print(sorted(m for m in ('http.client', 'ssl', 'email.parser') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"

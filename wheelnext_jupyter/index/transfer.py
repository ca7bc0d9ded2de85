"""Index requests over a small HTTP/1.1 client of our own: file bodies in large blocks, pages
and metadata whole.

httpx hands a response body over read by read: at most 64 KiB on a plain connection, one TLS
record (16 KiB) on an encrypted one, each passing through several layers of Python with the GIL
held — about a tenth of a millisecond a read, a tenth of a second of interpreter time for every
16 MB over TLS, while other threads resolve and unpack. Here a body is read with `readinto`
into blocks of a mebibyte: the loop over the connection's reads runs in the buffered socket
reader, and the GIL is released while it waits. A small request costs less than half of what it
costs through httpx's layers (0.3 ms of processor time against 0.8).

The client reads only what index requests need: GET, status line and header fields, bodies
framed by `Content-Length`, chunks, or the end of the connection. The standard library's
`http.client` would do as much, but importing it (and the `email` package it parses header
fields with, and `ssl`) takes 20 to 30 ms of every command's start; `ssl` is imported here only
for https.

For http and https URLs that no proxy applies to (as the environment's `*_PROXY` and
`NO_PROXY` say, read as httpx reads them); anything else stays with httpx. Redirects are
followed (credentials go only to the origin they belong to); a redirect somewhere this path
does not take, a URL that is not plain ASCII, or a body in an encoding the caller did not offer,
raises `NotDirect` so that the caller uses httpx for it. Network failures raise `TransferError`,
which callers retry as they retry httpx's transport errors.
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import io
    import ssl

#: Bytes per block handed to the caller.
BLOCK = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
#: Limits on an answer's head, as `http.client` sets them: a server that sends more is broken.
_MAX_LINE = 65536
_MAX_FIELDS = 100

_Origin = tuple[str, str, int]


def _proxies() -> Mapping[str, str]:
    """`urllib.request.getproxies()`, asked for every request: on Linux it only reads the
    environment's `*_proxy` variables, so where there is none (most often) the answer is known
    from the names alone, without decoding every variable twice as it does."""
    if sys.platform.startswith("linux") and not any(
        name[-6:].lower() == "_proxy" for name in os.environ
    ):
        return {}
    import urllib.request  # only where proxies may be set: it costs milliseconds to import

    return urllib.request.getproxies()


class TransferError(Exception):
    """The network failed a request (connecting, reading, timing out, redirects without end);
    worth another attempt."""


class NotDirect(Exception):
    """This URL (or where it redirects) is for httpx: a proxy applies, or an encoded body."""


class _BadAnswer(Exception):
    """The server's answer is not HTTP/1.x as this client reads it, or it stopped half way."""


class Headers:
    """An answer's header fields by name, in any case; of a repeated field, the first."""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._fields.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


class _Connection:
    """One connection to an origin, kept alive between requests."""

    def __init__(
        self, origin: _Origin, timeout: float, context: Callable[[], ssl.SSLContext]
    ) -> None:
        self.origin = origin
        self.sock: socket.socket | None = None
        self.reader: io.BufferedReader | None = None
        self._timeout = timeout
        self._context = context

    def connect(self) -> None:
        scheme, host, port = self.origin
        # An ASCII name as bytes: given text, the resolver first imports the IDNA codec
        # (milliseconds at every command's first connection).
        address = host.encode("ascii") if host.isascii() else host
        sock = socket.create_connection((address, port), self._timeout)  # type: ignore[arg-type]
        try:
            with contextlib.suppress(OSError):  # not every transport has the option
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self._context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.reader = sock.makefile("rb")

    def close(self) -> None:
        reader, sock = self.reader, self.sock
        self.reader = self.sock = None
        if reader is not None:
            with contextlib.suppress(OSError):
                reader.close()
        if sock is not None:
            sock.close()


class _Answer:
    """The status and header fields of an answer, and its body as it arrives."""

    def __init__(self, reader: io.BufferedReader) -> None:
        self._reader = reader
        while True:
            version, self.status = _status_line(reader)
            fields = _header_fields(reader)
            if not 100 <= self.status < 200 or self.status == 101:
                break  # 1xx: an interim answer, the real one follows
        self.headers = Headers(fields)
        connection = {t.strip().lower() for t in fields.get("connection", "").split(",")}
        self.will_close = "close" in connection or (
            version == "HTTP/1.0" and "keep-alive" not in connection
        )
        coding = fields.get("transfer-encoding", "").split(",")[-1].strip().lower()
        bodiless = self.status in (204, 304) or 100 <= self.status < 200
        self.chunked = coding == "chunked" and not bodiless
        #: Bytes of the body still to come when its length is known; None: chunks, or until
        #: the connection closes.
        self.length: int | None = None
        #: Bytes of the current chunk still to come, and whether a chunk has begun (its line
        #: break is read before the next size).
        self._chunk_left = 0
        self._in_chunk = False
        if bodiless:
            self.length = 0
        elif not self.chunked:
            self.length = _content_length(fields.get("content-length"))
            if self.length is None:
                self.will_close = True  # the body ends with the connection
        self.done = self.length == 0 and not self.chunked

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Up to `len(buffer)` next bytes of the body into `buffer`; 0 at its end."""
        if self.done or not len(buffer):
            return 0
        if self.chunked:
            return self._readinto_chunk(buffer)
        if self.length is None:
            count = self._reader.readinto(buffer)
            if not count:
                self.done = True
            return count
        with memoryview(buffer) as view, view[: self.length] as part:
            count = self._reader.readinto(part)
        if not count:
            raise _BadAnswer(f"the connection closed {self.length} bytes before the end")
        self.length -= count
        self.done = self.length == 0
        return count

    def read(self) -> bytes:
        """The rest of the body."""
        if self.done:
            return b""
        if self.length is not None and not self.chunked:
            data = self._reader.read(self.length)
            if len(data) < self.length:
                missing = self.length - len(data)
                raise _BadAnswer(f"the connection closed {missing} bytes before the end")
            self.length, self.done = 0, True
            return data
        if not self.chunked:
            data = self._reader.read()
            self.done = True
            return data
        parts: list[bytes] = []
        while not self.done:
            if not self._chunk_left and not self._next_chunk():
                break
            data = self._reader.read(self._chunk_left)
            if len(data) < self._chunk_left:
                raise _BadAnswer("the connection closed inside a chunk")
            parts.append(data)
            self._chunk_left = 0
        return b"".join(parts)

    def _readinto_chunk(self, buffer: memoryview | bytearray) -> int:
        if not self._chunk_left and not self._next_chunk():
            return 0
        with memoryview(buffer) as view, view[: self._chunk_left] as part:
            count = self._reader.readinto(part)
        if not count:
            raise _BadAnswer("the connection closed inside a chunk")
        self._chunk_left -= count
        return count

    def _next_chunk(self) -> bool:
        """Move to the next chunk; False (and done) after the last one and its trailer."""
        reader = self._reader
        # The line break that ends the chunk just read.
        if self._in_chunk and reader.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
            raise _BadAnswer("a chunk does not end where its size says")
        line = reader.readline(_MAX_LINE + 1)
        if not line:
            raise _BadAnswer("the connection closed before the last chunk")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadAnswer(f"a chunk size is not a number: {line[:40]!r}") from None
        if size < 0:
            raise _BadAnswer(f"a chunk size is not a number: {line[:40]!r}")
        if size == 0:
            _header_fields(reader)  # the trailer, ignored
            self.done = True
            return False
        self._chunk_left = size
        self._in_chunk = True
        return True


def _status_line(reader: io.BufferedReader) -> tuple[str, int]:
    line = reader.readline(_MAX_LINE + 1)
    if not line:
        raise _BadAnswer("the server closed the connection without answering")
    if len(line) > _MAX_LINE:
        raise _BadAnswer("the status line is too long")
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise _BadAnswer(f"not an HTTP/1 status line: {line[:40]!r}")
    status = int(parts[1])
    if not 100 <= status <= 999:
        raise _BadAnswer(f"not an HTTP/1 status line: {line[:40]!r}")
    return parts[0], status


def _header_fields(reader: io.BufferedReader) -> dict[str, str]:
    fields: dict[str, str] = {}
    last = ""
    for _ in range(_MAX_FIELDS + 1):
        line = reader.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise _BadAnswer("a header field is too long")
        if line in (b"\r\n", b"\n", b""):
            return fields
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and last:
            fields[last] += " " + text.strip()  # an obsolete folded line continues the field
            continue
        name, colon, value = text.partition(":")
        if not colon:
            continue  # not a field: skipped, as `http.client` does
        last = name.strip().lower()
        fields.setdefault(last, value.strip())
    raise _BadAnswer(f"more than {_MAX_FIELDS} header fields")


def _content_length(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        length = int(text)
    except ValueError:
        return None
    return length if length >= 0 else None


class Transfer:
    """An answered GET: its status and headers, and its body in blocks (`iter_bytes`) or whole
    (`read`)."""

    def __init__(self, url: str, answer: _Answer) -> None:
        self.url = url
        self.status_code = answer.status
        self.headers = answer.headers
        self._answer = answer

    def iter_bytes(self) -> Iterator[memoryview]:
        """The body in blocks of up to `BLOCK` bytes, each valid until the next is asked for
        (one buffer serves the whole body)."""
        block = bytearray(BLOCK)
        while True:
            count = self.readinto(block)
            if not count:
                return
            yield memoryview(block)[:count]

    def readinto(self, buffer: memoryview | bytearray) -> int:
        """Read the body's next bytes into `buffer` (up to its size; the GIL is released while
        they arrive); 0 at the end of the body."""
        try:
            return self._answer.readinto(buffer)
        except (OSError, _BadAnswer) as exc:
            raise _transport_error(exc) from None

    def read(self) -> bytes:
        """The whole body, decoded if it came gzip-compressed."""
        try:
            body = self._answer.read()
        except (OSError, _BadAnswer) as exc:
            raise _transport_error(exc) from None
        if _encoding(self._answer) != "gzip":
            return body
        try:
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        except zlib.error as exc:
            raise TransferError(f"the gzip body cannot be decoded: {exc}") from None


class Transfers:
    """Keep-alive connections per origin, shared by the download threads."""

    def __init__(
        self,
        *,
        context: Callable[[], ssl.SSLContext],
        timeout: float,
        headers: Mapping[str, str],
        credentials: Callable[[str], tuple[str, str] | None],
    ) -> None:
        self._context = context
        self._timeout = timeout
        self._headers = dict(headers)
        self._credentials = credentials
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False
        #: The connections of the requests under way for each `stop` event (see `abort`).
        self._stoppable: dict[threading.Event, set[_Connection]] = {}

    def direct(self, url: str) -> bool:
        """Whether this path takes `url`: http or https, and no proxy for its host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False
        proxies = _proxies()
        if not (proxies.get(parts.scheme) or proxies.get("all")):
            return True
        import urllib.request

        return bool(urllib.request.proxy_bypass(parts.hostname))

    @contextlib.contextmanager
    def get(
        self,
        url: str,
        headers: Mapping[str, str],
        *,
        gzip: bool = False,
        stop: threading.Event | None = None,
    ) -> Iterator[Transfer]:
        """GET `url` (without userinfo), following redirects; the connection goes back to the
        pool once the body has been read to its end. With `gzip`, a gzip body is accepted
        (`Transfer.read` decodes it); any other encoding raises `NotDirect`. With `stop`, once
        it is set no request starts, and `abort(stop)` ends the one under way (`TransferError`)
        wherever it waits: for the connection, the answer or the body."""
        for _ in range(_MAX_REDIRECTS + 1):
            if not self.direct(url):
                raise NotDirect(url)
            connection, answer = self._request(url, headers, stop)
            try:
                location = answer.headers.get("Location")
                if answer.status in _REDIRECTS and location:
                    try:
                        answer.read()
                    except (OSError, _BadAnswer) as exc:
                        connection.close()
                        raise _transport_error(exc) from None
                    self._release(connection, answer)
                    url = urljoin(url, location)
                    continue
                encoding = _encoding(answer)
                if (
                    answer.status < 300
                    and encoding != "identity"
                    and not (gzip and encoding == "gzip")
                ):
                    connection.close()
                    raise NotDirect(url)
                try:
                    yield Transfer(url, answer)
                except BaseException:
                    connection.close()
                    raise
                self._release(connection, answer)
                return
            finally:
                self._unwatch(stop, connection)
        raise TransferError(f"more than {_MAX_REDIRECTS} redirects from {url}")

    def abort(self, stop: threading.Event) -> None:
        """End at once the requests under way for `stop`, which the caller has set: their
        connections are shut down, and each fails with `TransferError`."""
        with self._lock:
            connections = list(self._stoppable.get(stop, ()))
        for connection in connections:
            sock = connection.sock
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _request(
        self, url: str, headers: Mapping[str, str], stop: threading.Event | None
    ) -> tuple[_Connection, _Answer]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or ""
        origin = (parts.scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {**self._headers, **headers}
        credentials = self._credentials(url)
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        shown_host = f"[{host}]" if ":" in host else host
        if port != (443 if parts.scheme == "https" else 80):
            shown_host = f"{shown_host}:{port}"
        request = _request_bytes(url, target, shown_host, sent)
        connection, reused = self._take(origin)
        try:
            answer = self._send(connection, request, stop)
        except (OSError, _BadAnswer) as exc:
            if not reused or (stop is not None and stop.is_set()):
                raise _transport_error(exc) from None
            # An idle connection the server has closed meanwhile: once more on a new one.
            connection, _ = self._take(origin, fresh=True)
            try:
                answer = self._send(connection, request, stop)
            except (OSError, _BadAnswer) as again:
                raise _transport_error(again) from None
        return connection, answer

    def _send(
        self, connection: _Connection, request: bytes, stop: threading.Event | None
    ) -> _Answer:
        """The answer to `request` on `connection`, which `abort(stop)` can end meanwhile
        (and which stays listed for it on success; closed on failure)."""
        self._watch(stop, connection)
        try:
            if connection.sock is None:
                connection.connect()  # here, so that the check below follows it
            if stop is not None and stop.is_set():
                # Set before the socket existed for `abort` to shut down.
                raise ConnectionAbortedError("the request was stopped")
            assert connection.sock is not None and connection.reader is not None
            connection.sock.sendall(request)
            return _Answer(connection.reader)
        except BaseException:
            connection.close()
            self._unwatch(stop, connection)
            raise

    def _watch(self, stop: threading.Event | None, connection: _Connection) -> None:
        if stop is not None:
            with self._lock:
                self._stoppable.setdefault(stop, set()).add(connection)

    def _unwatch(self, stop: threading.Event | None, connection: _Connection) -> None:
        if stop is not None:
            with self._lock:
                watched = self._stoppable.get(stop)
                if watched is not None:
                    watched.discard(connection)
                    if not watched:
                        del self._stoppable[stop]

    def _take(self, origin: _Origin, *, fresh: bool = False) -> tuple[_Connection, bool]:
        if not fresh:
            with self._lock:
                idle = self._idle.get(origin)
                if idle:
                    return idle.pop(), True
        return _Connection(origin, self._timeout, self._context), False

    def _release(self, connection: _Connection, answer: _Answer) -> None:
        # Reusable only once the body has been read to its end, on a connection kept alive.
        if not answer.done or answer.will_close:
            connection.close()
            return
        with self._lock:
            if not self._closed:
                self._idle.setdefault(connection.origin, []).append(connection)
                return
        connection.close()


def _request_bytes(url: str, target: str, host: str, headers: Mapping[str, str]) -> bytes:
    """GET `target` as sent on the wire; `NotDirect` for what only httpx can send (a URL that
    is not plain ASCII or holds a space: httpx quotes it)."""
    if not target.isascii() or any(c <= " " or c == "\x7f" for c in target):
        raise NotDirect(url)
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}"]
    if not any(name.lower() == "accept-encoding" for name in headers):
        lines.append("Accept-Encoding: identity")
    for name, value in headers.items():
        if any(c in name or c in value for c in "\r\n\0"):
            raise ValueError(f"header field {name!r} holds a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _encoding(answer: _Answer) -> str:
    return (answer.headers.get("Content-Encoding") or "identity").strip().lower()


def _transport_error(exc: BaseException) -> TransferError:
    if isinstance(exc, _BadAnswer):
        return TransferError(str(exc))
    return TransferError(f"{type(exc).__name__}: {exc}")


__all__ = ["BLOCK", "Headers", "NotDirect", "Transfer", "TransferError", "Transfers"]

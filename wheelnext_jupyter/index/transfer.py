"""Index requests over the standard library's HTTP client: file bodies in large blocks, pages
and metadata whole.

httpx hands a response body over read by read: at most 64 KiB on a plain connection, one TLS
record (16 KiB) on an encrypted one, each passing through several layers of Python with the GIL
held — about a tenth of a millisecond a read, a tenth of a second of interpreter time for every
16 MB over TLS, while other threads resolve and unpack. Here a body is read with `readinto`
into blocks of a mebibyte: the loop over the connection's reads runs in the buffered socket
reader, and the GIL is released while it waits. A small request costs less than half of what it
costs through httpx's layers (0.3 ms of processor time against 0.8).

For http and https URLs that no proxy applies to (as the environment's `*_PROXY` and
`NO_PROXY` say, read as httpx reads them); anything else stays with httpx. Redirects are
followed (credentials go only to the origin they belong to); a redirect somewhere this path
does not take, or a body in an encoding the caller did not offer, raises `NotDirect` so that
the caller uses httpx for it. Network failures raise `TransferError`, which callers retry as
they retry httpx's transport errors.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import socket
import ssl
import sys
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

#: Bytes per block handed to the caller.
BLOCK = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10

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


class Transfer:
    """An answered GET: its status and headers, and its body in blocks (`iter_bytes`) or whole
    (`read`)."""

    def __init__(self, url: str, response: http.client.HTTPResponse) -> None:
        self.url = url
        self.status_code = response.status
        self.headers = response.headers
        self._response = response

    def iter_bytes(self) -> Iterator[memoryview]:
        """The body in blocks of up to `BLOCK` bytes, each valid until the next is asked for
        (one buffer serves the whole body)."""
        response = self._response
        block = bytearray(BLOCK)
        while True:
            try:
                count = response.readinto(block)
            except (OSError, http.client.HTTPException) as exc:
                raise _transport_error(exc) from None
            if not count:
                # http.client ends a body cut short quietly: say so, for a retry.
                if response.length:
                    raise TransferError(
                        f"the connection closed {response.length} bytes before the end"
                    )
                return
            yield memoryview(block)[:count]

    def readinto(self, buffer: memoryview) -> int:
        """Read the body's next bytes into `buffer` (up to its size; the GIL is released while
        they arrive); 0 at the end of the body."""
        response = self._response
        try:
            count = response.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_error(exc) from None
        if not count and response.length:
            raise TransferError(f"the connection closed {response.length} bytes before the end")
        return count

    def read(self) -> bytes:
        """The whole body, decoded if it came gzip-compressed."""
        try:
            body = self._response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise _transport_error(exc) from None
        if _encoding(self._response) != "gzip":
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
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._closed = False
        #: The connections of the requests under way for each `stop` event (see `abort`).
        self._stoppable: dict[threading.Event, set[http.client.HTTPConnection]] = {}

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
            origin, connection, response = self._request(url, headers, stop)
            try:
                location = response.getheader("Location")
                if response.status in _REDIRECTS and location:
                    response.read()
                    self._release(origin, connection, response)
                    url = urljoin(url, location)
                    continue
                encoding = _encoding(response)
                if (
                    response.status < 300
                    and encoding != "identity"
                    and not (gzip and encoding == "gzip")
                ):
                    connection.close()
                    raise NotDirect(url)
                try:
                    yield Transfer(url, response)
                except BaseException:
                    connection.close()
                    raise
                self._release(origin, connection, response)
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
    ) -> tuple[_Origin, http.client.HTTPConnection, http.client.HTTPResponse]:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = (parts.scheme, parts.hostname or "", port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {**self._headers, **headers}
        credentials = self._credentials(url)
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode()
            sent["Authorization"] = f"Basic {token}"
        connection, reused = self._take(origin)
        try:
            response = self._send(connection, target, sent, stop)
        except (OSError, http.client.HTTPException) as exc:
            if not reused or (stop is not None and stop.is_set()):
                raise _transport_error(exc) from None
            # An idle connection the server has closed meanwhile: once more on a new one.
            connection, _ = self._take(origin, fresh=True)
            try:
                response = self._send(connection, target, sent, stop)
            except (OSError, http.client.HTTPException) as again:
                raise _transport_error(again) from None
        return origin, connection, response

    def _send(
        self,
        connection: http.client.HTTPConnection,
        target: str,
        headers: Mapping[str, str],
        stop: threading.Event | None,
    ) -> http.client.HTTPResponse:
        """The answer to GET `target` on `connection`, which `abort(stop)` can end meanwhile
        (and which stays listed for it on success; closed on failure)."""
        self._watch(stop, connection)
        try:
            if connection.sock is None:
                connection.connect()  # here, so that the check below follows it
            if stop is not None and stop.is_set():
                # Set before the socket existed for `abort` to shut down.
                raise ConnectionAbortedError("the request was stopped")
            connection.request("GET", target, headers=headers)
            return connection.getresponse()
        except BaseException:
            connection.close()
            self._unwatch(stop, connection)
            raise

    def _watch(self, stop: threading.Event | None, connection: http.client.HTTPConnection) -> None:
        if stop is not None:
            with self._lock:
                self._stoppable.setdefault(stop, set()).add(connection)

    def _unwatch(
        self, stop: threading.Event | None, connection: http.client.HTTPConnection
    ) -> None:
        if stop is not None:
            with self._lock:
                watched = self._stoppable.get(stop)
                if watched is not None:
                    watched.discard(connection)
                    if not watched:
                        del self._stoppable[stop]

    def _take(
        self, origin: _Origin, *, fresh: bool = False
    ) -> tuple[http.client.HTTPConnection, bool]:
        if not fresh:
            with self._lock:
                idle = self._idle.get(origin)
                if idle:
                    return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                host, port, timeout=self._timeout, context=self._context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._timeout)
        return connection, False

    def _release(
        self,
        origin: _Origin,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
    ) -> None:
        # Reusable only once the body has been read to its end, on a connection kept alive.
        if not response.isclosed() or response.will_close:
            connection.close()
            return
        with self._lock:
            if not self._closed:
                self._idle.setdefault(origin, []).append(connection)
                return
        connection.close()


def _encoding(response: http.client.HTTPResponse) -> str:
    return (response.getheader("Content-Encoding") or "identity").strip().lower()


def _transport_error(exc: BaseException) -> TransferError:
    return TransferError(f"{type(exc).__name__}: {exc}")


__all__ = ["BLOCK", "NotDirect", "Transfer", "TransferError", "Transfers"]

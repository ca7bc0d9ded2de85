"""Serve a directory on 127.0.0.1 with the standard library's static file server.

Directory URLs answer with their `index.html`, which is all a PEP 503 index laid out as
directories needs. Requests are not logged: the notebook output stays readable.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from wheelnext_jupyter.workers import start_thread


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 - the base class declares it as a plain class attribute
        **SimpleHTTPRequestHandler.extensions_map,
        ".whl": "application/octet-stream",
        ".metadata": "application/octet-stream",
        ".json": "application/json",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Listener(ThreadingHTTPServer):
    # The standard library's backlog of 5 overflows when an install opens a dozen connections
    # at once, and each handshake dropped then stalls its request for a retransmission.
    request_queue_size = 128


class DemoServer:
    """`with DemoServer(root, port=0) as server: server.url` — a free port when `port` is 0."""

    def __init__(self, root: Path, *, port: int = 0) -> None:
        handler = functools.partial(_QuietHandler, directory=str(root))
        try:
            self._httpd = _Listener(("127.0.0.1", port), handler)
        except OSError as exc:
            raise DemoServerError(
                f"cannot serve the demo index on 127.0.0.1:{port}: {exc.strerror}; "
                "choose another port with --port (0 picks a free one)"
            ) from None
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoServer:
        """Serve from a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        start_thread(self._thread)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DemoServerError(OSError):
    """The demo index could not be served; the message says why and what to do."""

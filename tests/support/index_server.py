"""A real simple-API index on 127.0.0.1 for tests, with faults switched on per path.

Layout served from `root`: one directory per project (its normalised name) holding wheels,
sdists, PEP 658 `<file>.metadata` files and `{name}-{version}-variants.json` files.

    /simple/<project>/        project page, JSON or HTML (see `mode`)
    /files/<project>/<file>   the files themselves (pages link to them with relative URLs)
    /flat/                    one HTML page linking every file of every project (find-links)

    with IndexServer(root) as server:
        server.faults["/simple/demo/"] = Fault("status", status=500, times=1)
        ...server.index_url...
        server.requests  # every request seen, for cache tests

Page responses carry `Cache-Control: <server.cache_control>` and a strong ETag, and answer a
matching `If-None-Match` with 304. Files carry an immutable max-age.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import html
import json
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from tests.support.wheels import BuiltWheel, build_wheel, write_metadata_file, write_variants_json

#: The certificate a `tls` server presents.
TLS_CERT = Path(__file__).resolve().parents[1] / "data" / "tls" / "cert.pem"

Mode = Literal["negotiate", "json", "html"]
FaultKind = Literal[
    "status",  # answer with `status` (404, 500, 503, ...)
    "reset",  # close the connection with a TCP reset, no response
    "truncate",  # announce the full Content-Length, send half the body, close
    "slow",  # sleep `delay` seconds before answering normally
    "wrong-hash",  # pages publish a wrong sha256 for this file path (the file itself is fine)
    "malformed",  # a body that is not valid JSON / HTML of the right content type
    "redirect",  # answer 302 to `location`
    "gzip",  # send the body gzip-compressed, with Content-Encoding: gzip
    "deflate",  # send the body zlib-compressed, with Content-Encoding: deflate
    "chunked",  # send the body in chunks (Transfer-Encoding: chunked), gzip-compressed if asked
    "stall",  # send the headers and half the body, then nothing for `delay` seconds, then the rest
    "silent",  # record the request, then send nothing for `delay` seconds, then answer normally
]


@dataclass
class Fault:
    kind: FaultKind
    status: int = 500
    delay: float = 2.0
    #: Fires this many times, then the path behaves normally; None = every time.
    times: int | None = None
    #: Where a redirect points.
    location: str = ""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    #: The status the server answered with (0 for reset/truncated connections).
    status: int
    #: `time.monotonic()` when the request arrived and when its answer was ready.
    started: float = 0.0
    answered: float = 0.0
    #: The client's port: requests on one kept-alive connection share it.
    client_port: int = 0


@dataclass
class IndexTree:
    """Builds the directory an `IndexServer` serves."""

    root: Path

    def project_dir(self, name: str) -> Path:
        path = self.root / canonicalize_name(name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def add_wheel(
        self, name: str, version: str, *, metadata_file: bool = True, **kwargs: Any
    ) -> BuiltWheel:
        """Build a wheel into the project's directory (kwargs as `build_wheel`)."""
        built = build_wheel(self.project_dir(name), name, version, **kwargs)
        if metadata_file:
            write_metadata_file(built)
        return built

    def add_variants_json(self, name: str, version: str, variants: Any, **kwargs: Any) -> Path:
        return write_variants_json(self.project_dir(name), name, version, variants, **kwargs)

    def add_file(self, name: str, filename: str, content: bytes) -> Path:
        path = self.project_dir(name) / filename
        path.write_bytes(content)
        return path


@dataclass
class IndexServer:
    root: Path
    mode: Mode = "negotiate"
    #: Cache-Control of project pages.
    cache_control: str = "max-age=600"
    api_version: str = "1.4"
    #: Which key (JSON) or attribute (HTML, with `data-` prefix) announces metadata files.
    metadata_key: str = "core-metadata"
    #: False: metadata files are never announced, as by an index that has none (benchmarks).
    announce_metadata: bool = True
    #: Answer range requests for files (206 with Content-Range), as most servers do.
    ranges: bool = False
    faults: dict[str, Fault] = field(default_factory=dict)
    #: filename → yank reason ("" = yanked without a reason).
    yanked: dict[str, str] = field(default_factory=dict)
    #: filename → Requires-Python specifier.
    requires_python: dict[str, str] = field(default_factory=dict)
    #: project → (status, reason) per PEP 792.
    project_status: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: (user, password) required by HTTP Basic auth when set.
    credentials: tuple[str, str] | None = None
    #: Serve HTTPS with the certificate in tests/data/tls (clients must trust `TLS_CERT`).
    tls: bool = False
    #: The files never change while served (benchmarks): their digests are computed once, as a
    #: real index stores them, instead of on every page request.
    immutable_files: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._digests: dict[Path, tuple[str, int]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> IndexServer:
        handler = type("Handler", (_Handler,), {"index": self})
        self._httpd = LoopbackHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(TLS_CERT, TLS_CERT.with_name("key.pem"))
            # The handshake happens in the handler's thread, not in the accepting one.
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def flat_url(self) -> str:
        return f"{self.url}/flat/"

    def url_with_credentials(self, path: str = "/simple/") -> str:
        assert self.credentials is not None
        user, password = self.credentials
        return f"http://{user}:{password}@127.0.0.1:{self._httpd.server_address[1]}{path}"  # type: ignore[union-attr]

    def requests_for(self, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- internals ---------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None:
                return None
            if fault.times is not None:
                if fault.times <= 0:
                    return None
                fault.times -= 1
            return fault

    def _peek_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None or (fault.times is not None and fault.times <= 0):
                return None
            return fault

    def _record(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        status: int,
        started: float,
        client_port: int = 0,
    ) -> None:
        answered = time.monotonic()
        with self._lock:
            self.requests.append(
                RecordedRequest(method, path, dict(headers), status, started, answered, client_port)
            )

    def peak_in_flight(self, suffix: str) -> int:
        """The most requests for paths ending in `suffix` that were being answered at once."""
        with self._lock:
            spans = [(r.started, r.answered) for r in self.requests if r.path.endswith(suffix)]
        events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
        peak = current = 0
        for _, change in events:
            current += change
            peak = max(peak, current)
        return peak

    def project_files(self, project: str) -> list[Path]:
        directory = self.root / project
        return sorted(
            p for p in directory.iterdir() if p.is_file() and not p.name.endswith(".metadata")
        )

    def _digest(self, path: Path) -> tuple[str, int]:
        with self._lock:
            known = self._digests.get(path)
        if known is not None:
            return known
        data = path.read_bytes()
        found = (hashlib.sha256(data).hexdigest(), len(data))
        if self.immutable_files:
            with self._lock:
                self._digests[path] = found
        return found

    def _file_entries(self, project: str, files: Iterable[Path]) -> list[dict[str, Any]]:
        entries = []
        for path in files:
            digest, size = self._digest(path)
            file_path = f"/files/{project}/{path.name}"
            wrong = self._peek_fault(file_path)
            if wrong is not None and wrong.kind == "wrong-hash":
                digest = hashlib.sha256(path.read_bytes() + b"tampered").hexdigest()
            entry: dict[str, Any] = {
                "filename": path.name,
                "path": file_path,
                "sha256": digest,
                "size": size,
            }
            metadata = path.with_name(path.name + ".metadata")
            if metadata.exists():
                entry["metadata-sha256"] = hashlib.sha256(metadata.read_bytes()).hexdigest()
            entries.append(entry)
        return entries

    def render_json(self, project: str) -> bytes:
        files = []
        status = self.project_status.get(project)
        if not (status and status[0] == "quarantined"):
            for entry in self._file_entries(project, self.project_files(project)):
                item: dict[str, Any] = {
                    "filename": entry["filename"],
                    "url": f"../..{entry['path']}",
                    "hashes": {"sha256": entry["sha256"]},
                    "size": entry["size"],
                }
                if "metadata-sha256" in entry and self.announce_metadata:
                    item[self.metadata_key] = {"sha256": entry["metadata-sha256"]}
                if entry["filename"] in self.requires_python:
                    item["requires-python"] = self.requires_python[entry["filename"]]
                if entry["filename"] in self.yanked:
                    item["yanked"] = self.yanked[entry["filename"]] or True
                files.append(item)
        doc: dict[str, Any] = {
            "meta": {"api-version": self.api_version},
            "name": project,
            "files": files,
        }
        if status:
            doc["project-status"] = {"status": status[0], "reason": status[1]}
        return json.dumps(doc, indent=1).encode()

    def render_html(self, project: str, *, flat: bool = False) -> bytes:
        head = [f'<meta name="pypi:repository-version" content="{self.api_version}">']
        status = None if flat else self.project_status.get(project)
        if status:
            head.append(f'<meta name="pypi:project-status" content="{html.escape(status[0])}">')
            if status[1]:
                head.append(
                    f'<meta name="pypi:project-status-reason" content="{html.escape(status[1])}">'
                )
        anchors = []
        projects = sorted(p.name for p in self.root.iterdir() if p.is_dir()) if flat else [project]
        for name in projects:
            if status and status[0] == "quarantined":
                break
            for entry in self._file_entries(name, self.project_files(name)):
                href = entry["path"] if flat else f"../..{entry['path']}"
                attrs = [f'href="{html.escape(href)}#sha256={entry["sha256"]}"']
                if "metadata-sha256" in entry and self.announce_metadata:
                    attrs.append(f'data-{self.metadata_key}="sha256={entry["metadata-sha256"]}"')
                if entry["filename"] in self.requires_python:
                    spec = html.escape(self.requires_python[entry["filename"]])
                    attrs.append(f'data-requires-python="{spec}"')
                if entry["filename"] in self.yanked:
                    attrs.append(f'data-yanked="{html.escape(self.yanked[entry["filename"]])}"')
                anchors.append(f"<a {' '.join(attrs)}>{html.escape(entry['filename'])}</a><br>")
        body = (
            "<!DOCTYPE html>\n<html><head>"
            + "".join(head)
            + f"<title>Links for {project}</title></head><body>\n"
            + "\n".join(anchors)
            + "\n</body></html>\n"
        )
        return body.encode()


class LoopbackHTTPServer(ThreadingHTTPServer):
    # The standard library listens with a backlog of 5: a client opening a dozen connections
    # at once (uv does, and our own downloads can) overflowed it, and a dropped handshake
    # stalled a request for a retransmission (200 ms or more) now and then. Real indexes
    # accept far more.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    index: IndexServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without this, keep-alive clients wait for the
    # delayed ACK (about 40 ms) on every response.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_error(self) -> None:  # the client went away on purpose in fault tests
        pass

    def do_GET(self) -> None:
        # Every answer is recorded before it is sent: a client that has its answer may count
        # the requests at once.
        started = time.monotonic()
        index = self.index
        path = unquote(self.path.split("?", 1)[0])
        headers = {k.lower(): v for k, v in self.headers.items()}
        if index.credentials is not None and not self._authorised():
            index._record("GET", path, headers, 401, started)
            self._send(401, b"unauthorised", "text/plain", {"WWW-Authenticate": 'Basic realm="t"'})
            return
        fault = index._take_fault(path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "reset":
            index._record("GET", path, headers, 0, started)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if fault is not None and fault.kind == "status":
            index._record("GET", path, headers, fault.status, started)
            self._send(fault.status, b"fault", "text/plain")
            return
        if fault is not None and fault.kind == "redirect":
            index._record("GET", path, headers, 302, started)
            self._send(302, b"moved", "text/plain", {"Location": fault.location})
            return
        status, body, content_type, extra = self._route(path, headers, fault)
        if fault is not None and fault.kind == "truncate":
            index._record("GET", path, headers, 0, started)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        etag = extra.get("ETag")
        if status == 200 and etag and etag in headers.get("if-none-match", ""):
            index._record("GET", path, headers, 304, started)
            self._send(304, b"", None, {k: v for k, v in extra.items()})
            return
        if fault is not None and fault.kind == "gzip":
            body = gzip.compress(body)
            extra = {**extra, "Content-Encoding": "gzip"}
        if fault is not None and fault.kind == "deflate":
            body = zlib.compress(body)
            extra = {**extra, "Content-Encoding": "deflate"}
        part = _byte_range(headers.get("range"), len(body)) if index.ranges else None
        if part is not None and status == 200 and fault is None:
            first, stop = part
            index._record("GET", path, headers, 206, started, self.client_address[1])
            extra = {**extra, "Content-Range": f"bytes {first}-{stop - 1}/{len(body)}"}
            self._send(206, body[first:stop], content_type, extra)
            return
        index._record("GET", path, headers, status, started, self.client_address[1])
        if fault is not None and fault.kind == "silent":
            time.sleep(fault.delay)
            fault = None
        if fault is not None and fault.kind == "stall":
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(fault.delay)
            with contextlib.suppress(OSError):  # the client may have given up meanwhile
                self.wfile.write(body[len(body) // 2 :])
            return
        if fault is not None and fault.kind == "chunked":
            if "gzip" in headers.get("accept-encoding", ""):
                body = gzip.compress(body)
                extra = {**extra, "Content-Encoding": "gzip"}
            self._send_chunked(status, body, content_type, extra)
            return
        self._send(status, body, content_type, extra)

    def do_HEAD(self) -> None:
        # What a GET would answer, without the body (uv asks this before reading parts of a
        # wheel); faults apply to GET only.
        started = time.monotonic()
        index = self.index
        path = unquote(self.path.split("?", 1)[0])
        headers = {k.lower(): v for k, v in self.headers.items()}
        if index.credentials is not None and not self._authorised():
            index._record("HEAD", path, headers, 401, started)
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="t"'})
            return
        status, body, content_type, extra = self._route(path, headers, None)
        index._record("HEAD", path, headers, status, started)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def _authorised(self) -> bool:
        import base64

        assert self.index.credentials is not None
        user, password = self.index.credentials
        expected = base64.b64encode(f"{user}:{password}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _route(
        self, path: str, headers: Mapping[str, str], fault: Fault | None
    ) -> tuple[int, bytes, str, dict[str, str]]:
        index = self.index
        parts = [p for p in path.split("/") if p]
        malformed = fault is not None and fault.kind == "malformed"
        if path == "/flat/":
            body = b"<html><body><a href=" if malformed else index.render_html("", flat=True)
            return 200, body, "text/html", self._cache_headers(body)
        if len(parts) == 2 and parts[0] == "simple":
            project = canonicalize_name(parts[1])
            if not (index.root / project).is_dir():
                return 404, b"not found", "text/plain", {}
            as_json = index.mode == "json" or (
                index.mode == "negotiate" and _prefers_json(headers.get("accept", ""))
            )
            if as_json:
                body = (
                    b'{"meta": {"api-version": "1.4"}, "files": ['
                    if malformed
                    else (index.render_json(project))
                )
                content_type = "application/vnd.pypi.simple.v1+json"
            else:
                body = b"\x00\xff not html" if malformed else index.render_html(project)
                content_type = (
                    "application/vnd.pypi.simple.v1+html"
                    if index.mode == "negotiate"
                    else "text/html"
                )
            return 200, body, content_type, self._cache_headers(body)
        if len(parts) == 3 and parts[0] == "files":
            file = index.root / parts[1] / parts[2]
            if not file.is_file():
                return 404, b"not found", "text/plain", {}
            body = file.read_bytes()
            if malformed:
                body = b"garbage"
            content_type = (
                "application/json" if file.suffix == ".json" else "application/octet-stream"
            )
            extra = {"Cache-Control": "max-age=365000000, immutable"}
            if file.name.endswith("-variants.json"):
                extra = self._cache_headers(body)
            return 200, body, content_type, extra
        return 404, b"not found", "text/plain", {}

    def _cache_headers(self, body: bytes) -> dict[str, str]:
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"ETag": etag}
        if self.index.cache_control:
            headers["Cache-Control"] = self.index.cache_control
        return headers

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def _send_chunked(
        self, status: int, body: bytes, content_type: str, extra: Mapping[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        size = max(1, len(body) // 3)
        for start in range(0, len(body), size):
            piece = body[start : start + size]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def _byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """[first, stop) of `Range: bytes=FIRST-[LAST]` or `bytes=-SUFFIX` (one range only)."""
    if not value or not value.startswith("bytes=") or "," in value:
        return None
    first, _, last = value[len("bytes=") :].partition("-")
    if not first:
        return (max(0, size - int(last)), size) if last.isdigit() and int(last) else None
    if not first.isdigit() or int(first) >= size:
        return None
    stop = min(size, int(last) + 1) if last.isdigit() else size
    return int(first), stop


def _prefers_json(accept: str) -> bool:
    best, best_q = "", -1.0
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = media, q
    return best.endswith("+json")

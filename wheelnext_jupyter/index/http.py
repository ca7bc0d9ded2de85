"""One pooled HTTP client for every index request: retries, caching, credentials, redaction.

The public API is synchronous; `get_many` runs requests on a thread pool. Requests go over the
project's own HTTP/1.1 client with kept-alive connections (`index.transfer`) where no proxy
applies, else through one shared `httpx.Client` (its connection pool is thread-safe), made
when first needed (`index.httpx_fallback`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from wheelnext_jupyter.index.auth import CredentialStore
from wheelnext_jupyter.index.cache import CacheControl, CacheEntry, DiskCache
from wheelnext_jupyter.index.errors import IndexHTTPError, IndexNetworkError
from wheelnext_jupyter.index.redact import redact_text, redact_url
from wheelnext_jupyter.index.transfer import NotDirect, TransferError, Transfers
from wheelnext_jupyter.paths import file_url_path
from wheelnext_jupyter.record import MutableRecord, Record, field, replace
from wheelnext_jupyter.trust_store import default_context, default_verify, tls_context
from wheelnext_jupyter.workers import RequestPool

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Iterable

    import httpx

    from wheelnext_jupyter.index.wheel_tail import Chunk

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_TIMEOUT = 15.0
DEFAULT_RETRIES = 3
USER_AGENT = "wheelnext-jupyter"


class Response(Record):
    """A response body with what callers need to interpret it."""

    #: The requested URL without credentials.
    url: str
    status: int
    content_type: str | None
    body: bytes
    #: True when no request was sent (memory or fresh disk entry) or the server answered 304.
    from_cache: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _Answer(Protocol):
    """What `_send` returns: a `_Fetched` from the direct path or an `httpx.Response`, read
    whole."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def content(self) -> bytes: ...


def network_error(exc: BaseException) -> bool:
    """Whether `exc` is a network failure worth another attempt."""
    if isinstance(exc, TransferError):
        return True
    # An httpx error can only come from the httpx client, which has imported httpx: when it
    # is not imported, nothing else (a 404, a cancelled download) imports it just to look.
    loaded = sys.modules.get("httpx")
    return loaded is not None and isinstance(exc, loaded.TransportError)


class _Flight(MutableRecord):
    """A request under way, which other callers of its URL wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    error: IndexNetworkError | IndexHTTPError | None = None


def _again(error: IndexNetworkError | IndexHTTPError) -> IndexNetworkError | IndexHTTPError:
    """The same failure as a new exception, for another caller: an exception carries the
    traceback of the thread that raised it."""
    if isinstance(error, IndexHTTPError):
        return IndexHTTPError(str(error), url=error.url, status=error.status)
    return IndexNetworkError(str(error), url=error.url, source=error.source)


class HttpClient:
    """Fetches URLs with pooling, bounded retries, an on-disk and an in-memory cache.

    404 comes back as a `Response` (callers decide what "not here" means); other 4xx raise
    `IndexHTTPError`; connect errors, timeouts, broken bodies and 5xx are retried `retries` times
    with exponential backoff, then raise `IndexNetworkError`. Messages name URLs redacted.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.25,
        max_workers: int = 8,
        credentials: CredentialStore | None = None,
        verify: ssl.SSLContext | bool | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.credentials = credentials or CredentialStore()
        self.disk = DiskCache(cache_dir) if cache_dir is not None else None
        self.retries = max(0, retries)
        self.backoff = backoff
        self.max_workers = max(1, max_workers)
        self._clock = clock
        self._memory: dict[tuple[str, str], Response] = {}
        #: Requests under way, by cache key: a second caller of the same URL waits for the
        #: answer instead of asking again (the resolver and its lookahead often want one page
        #: or metadata file at the same moment).
        self._flights: dict[tuple[str, str], _Flight] = {}
        self._memory_lock = threading.Lock()
        #: Hosts that answered a range request with the whole file.
        self._no_ranges: set[str] = set()
        chosen = default_verify() if verify is None else verify
        self._verify = chosen
        #: The default trust store, which `trust_store.load_ahead` may have loaded already.
        self._default_store = verify is None and chosen is True
        self._context = None if isinstance(chosen, bool) else chosen
        self._context_lock = threading.Lock()
        self._timeout = timeout
        self._transport = transport
        self._httpx: httpx.Client | None = None
        self._httpx_lock = threading.Lock()
        #: Requests over the direct client (`index.transfer`); None with a custom transport (tests,
        #: mocks), which then serves every request.
        self.transfers = (
            Transfers(
                context=self.ssl_context,
                timeout=timeout,
                headers={"User-Agent": USER_AGENT},
                credentials=self.credentials.lookup,
            )
            if transport is None
            else None
        )

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context of every https request, made at the first one: loading a trust
        store takes tens of milliseconds that an index on plain HTTP never needs."""
        with self._context_lock:
            if self._context is None:
                self._context = (
                    default_context() if self._default_store else tls_context(self._verify)
                )
            return self._context

    @property
    def httpx_client(self) -> httpx.Client:
        """The httpx client, made at first use: for proxies, encodings the direct path did not
        offer, and a given transport."""
        with self._httpx_lock:
            if self._httpx is None:
                from wheelnext_jupyter.index.httpx_fallback import make_client

                self._httpx = make_client(
                    context=self.ssl_context,
                    verify=self._verify,
                    timeout=self._timeout,
                    max_connections=self.max_workers * 2,
                    headers={"User-Agent": USER_AGENT},
                    transport=self._transport,
                )
            return self._httpx

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._httpx_lock:
            made, self._httpx = self._httpx, None
        if made is not None:
            made.close()
        if self.transfers is not None:
            self.transfers.close()

    def __repr__(self) -> str:
        return f"HttpClient(cache={self.disk.directory if self.disk else None})"

    # --- public ------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        refresh: bool = False,
        immutable: bool = False,
        source: str | None = None,
    ) -> Response:
        """GET `url` through the caches.

        `immutable` marks content addressed by hash: any cached copy is final. `refresh` skips
        the caches' freshness (a stored validator is still sent, so an unchanged page costs a
        304). `source` names the index in error messages.
        """
        if url.startswith("file:"):
            return _read_local(url, source)
        url = self.credentials.remember(url)
        key = (url, accept)
        if refresh:
            return self._get(url, accept, key, refresh=True, immutable=immutable, source=source)
        while True:
            with self._memory_lock:
                hit = self._memory.get(key)
                flight = None if hit is not None else self._flights.get(key)
                if hit is None and flight is None:
                    self._flights[key] = mine = _Flight()
            if hit is not None:
                return replace(hit, from_cache=True)
            if flight is None:
                break
            flight.done.wait()
            # The index refused, or failed after every retry: asking again at once would only
            # make this caller wait as long again for the same answer.
            if flight.error is not None:
                raise _again(flight.error)
            # Otherwise the answer is in memory now, or (`no-store`) this caller asks itself.
        try:
            return self._get(url, accept, key, refresh=False, immutable=immutable, source=source)
        except (IndexNetworkError, IndexHTTPError) as exc:
            mine.error = exc
            raise
        finally:
            with self._memory_lock:
                del self._flights[key]
            mine.done.set()

    def get_range(self, url: str, first: int, last: int | None) -> Chunk | None:
        """Bytes `first` to `last` of a file (its last `-first` bytes when `first` is negative
        and `last` None), by one range request, neither cached nor retried; None unless the
        server answers with that part (206 and its Content-Range). Only over a direct
        connection (no proxy); any failure is None: callers read the whole file instead."""
        # Imported here: only indexes without metadata files are read this way.
        from wheelnext_jupyter.index.wheel_tail import Chunk

        transfers = self.transfers
        if transfers is None:
            return None
        url = self.credentials.remember(url)
        origin = urlsplit(url).netloc
        if origin in self._no_ranges:
            return None
        spec = f"bytes={first}" if first < 0 else f"bytes={first}-{'' if last is None else last}"
        try:
            with transfers.get(url, {"Range": spec, "Accept-Encoding": "identity"}) as got:
                if got.status_code == 200:
                    # The whole file is coming: left unread (the connection is closed, not
                    # kept), and this server is not asked for parts again.
                    self._no_ranges.add(origin)
                if got.status_code != 206:
                    return None
                part = _content_range(got.headers.get("Content-Range"))
                if part is None:
                    return None
                return Chunk(part[0], part[1], got.read())
        except (NotDirect, TransferError, OSError, ValueError):
            return None

    def _get(
        self,
        url: str,
        accept: str,
        key: tuple[str, str],
        *,
        refresh: bool,
        immutable: bool,
        source: str | None,
    ) -> Response:
        entry = self.disk.load(url, accept) if self.disk is not None else None
        if entry is not None and not refresh and (immutable or entry.is_fresh(self._clock())):
            return self._remember(key, _from_entry(entry, from_cache=True), entry.cache_control)
        headers = {"Accept": accept}
        if refresh:
            headers["Cache-Control"] = "max-age=0"
        if entry is not None:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        raw = self._send(url, headers, source)
        if raw.status_code == 304 and entry is not None:
            control = raw.headers.get("Cache-Control", entry.cache_control)
            renewed = CacheEntry(
                url=url,
                accept=accept,
                content_type=entry.content_type,
                etag=raw.headers.get("ETag", entry.etag),
                last_modified=raw.headers.get("Last-Modified", entry.last_modified),
                cache_control=control,
                stored_at=self._clock(),
                body=entry.body,
            )
            self._store(renewed)
            logger.debug("revalidated %s (304)", redact_url(url))
            return self._remember(key, _from_entry(renewed, from_cache=True), control)
        if raw.status_code == 404:
            # Remembered for the process only: a name absent from a higher index is asked
            # about once per run, but a later run sees it as soon as it is published.
            missing = Response(url, 404, raw.headers.get("Content-Type"), b"")
            return self._remember(key, missing, raw.headers.get("Cache-Control"))
        if raw.status_code >= 400:
            raise IndexHTTPError(
                f"{_named(source)}{redact_url(url)} answered HTTP {raw.status_code}"
                f"{_hint(raw.status_code)}",
                url=redact_url(url),
                status=raw.status_code,
            )
        body = raw.content
        control_header = raw.headers.get("Cache-Control")
        if immutable and control_header is None:
            control_header = "max-age=365000000, immutable"
        fresh = CacheEntry(
            url=url,
            accept=accept,
            content_type=raw.headers.get("Content-Type"),
            etag=raw.headers.get("ETag"),
            last_modified=raw.headers.get("Last-Modified"),
            cache_control=control_header,
            stored_at=self._clock(),
            body=body,
        )
        if not CacheControl.parse(control_header).no_store:
            self._store(fresh)
        elif self.disk is not None:
            self.disk.delete(url, accept)
        return self._remember(key, _from_entry(fresh, from_cache=False), control_header)

    def get_many(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R | BaseException]:
        """Run `fn` over `items` on the pool; each result is a value or the exception raised."""
        items = list(items)
        if len(items) <= 1:
            return [_call(fn, item) for item in items]
        with RequestPool(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(lambda item: _call(fn, item), items))

    def forget(self, url: str, accept: str = "*/*") -> None:
        """Drop one URL from both caches (e.g. after its content failed a hash check)."""
        url = self.credentials.remember(url)
        with self._memory_lock:
            self._memory.pop((url, accept), None)
        if self.disk is not None:
            self.disk.delete(url, accept)

    # --- internals ---------------------------------------------------------------------------

    def _remember(self, key: tuple[str, str], response: Response, control: str | None) -> Response:
        if not CacheControl.parse(control).no_store:
            with self._memory_lock:
                self._memory[key] = response
        return response

    def _store(self, entry: CacheEntry) -> None:
        if self.disk is not None:
            self.disk.store(entry)

    def _send(self, url: str, headers: dict[str, str], source: str | None) -> _Answer:
        attempts = self.retries + 1
        last_problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                response = self._fetch(url, headers)
            except Exception as exc:
                if not network_error(exc):
                    raise
                last_problem = f"{type(exc).__name__}: {redact_text(str(exc)) or 'no detail'}"
                logger.info(
                    "%s (attempt %d/%d): %s", redact_url(url), attempt + 1, attempts, last_problem
                )
                continue
            if response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                logger.info(
                    "%s (attempt %d/%d): %s", redact_url(url), attempt + 1, attempts, last_problem
                )
                continue
            return response
        raise IndexNetworkError(
            f"{_named(source)}could not fetch {redact_url(url)} after {attempts} attempts "
            f"({last_problem}); check the network and the index URL, or try again later",
            url=redact_url(url),
            source=redact_text(source) if source else None,
        )

    def _fetch(self, url: str, headers: dict[str, str]) -> _Answer:
        transfers = self.transfers
        if transfers is not None:
            # `get` decides whether the direct path takes the URL (and raises NotDirect before
            # anything is sent if not): asking here as well would read the proxy settings twice.
            try:
                # Pages compress well (a large project's JSON page by tenfold): gzip is offered.
                with transfers.get(url, {**headers, "Accept-Encoding": "gzip"}, gzip=True) as got:
                    return _Fetched(got.status_code, got.headers, got.read())
            except NotDirect:
                pass  # a proxy, or an encoding not offered: httpx takes the whole request
        from wheelnext_jupyter.index.httpx_fallback import basic_auth

        auth = basic_auth(self.credentials.lookup(url))
        response = self.httpx_client.get(url, headers=headers, auth=auth)
        response.read()
        return response


def _content_range(value: str | None) -> tuple[int, int] | None:
    """(first byte, file size) of `Content-Range: bytes FIRST-LAST/SIZE`."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, size = value[len("bytes ") :].partition("/")
    first, _, _ = span.partition("-")
    if not (first.isdigit() and size.isdigit()):
        return None
    return int(first), int(size)


def _read_local(url: str, source: str | None) -> Response:
    """A `file:` URL as pip reads a local index: a directory stands for its `index.html`; a
    file or directory that is not there is a 404 (pip ignores such a location with a warning),
    so a configured local index that is missing holds no project rather than failing them all."""
    path = file_url_path(url)
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Response(url, 404, None, b"")
    except OSError as exc:
        where = f"index {source!r}: " if source else ""
        raise IndexNetworkError(
            f"{where}cannot read {path}: {exc.strerror}; check the index's directory",
            url=url,
            source=source,
        ) from None
    suffix = path.suffix.lower()
    content_type = (
        "text/html"
        if suffix in (".html", ".htm")
        else "application/json"
        if suffix == ".json"
        else "application/octet-stream"
    )
    return Response(url, 200, content_type, body)


class _Fetched(Record):
    status_code: int
    headers: Any
    content: bytes


def _named(source: str | None) -> str:
    return f"index {redact_text(source)!r}: " if source else ""


def _hint(status: int) -> str:
    if status in (401, 403):
        return (
            " (not authorised); put credentials in the index URL (user:password@host) or in "
            "~/.netrc"
        )
    if status == 406:
        return " (no acceptable content type); the server does not speak the simple API"
    return ""


def _from_entry(entry: CacheEntry, *, from_cache: bool) -> Response:
    return Response(entry.url, 200, entry.content_type, entry.body, from_cache=from_cache)


def _call(fn: Callable[[T], R], item: T) -> R | BaseException:
    try:
        return fn(item)
    except Exception as exc:
        return exc


__all__ = [
    "DEFAULT_TIMEOUT",
    "HttpClient",
    "Response",
    "network_error",
]

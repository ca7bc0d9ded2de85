"""Fetch distribution files: streamed to disk, checked against the index's hashes, cached by hash.

A file is never held whole in memory: it is written to a temporary `.part` file while every
published digest is computed, and moved into the cache (`<cache>/<sha256[:2]>/<sha256>/<filename>`)
only when they all match. A `.part` left by an interrupted run is resumed with a range request
when the server allows it, and started over otherwise. A file already in the cache under the
digest the index published costs no request at all. Local files (find-links directories) are
hash-checked in place and not copied. Bodies are read in large blocks where `index.transfer`
can take the URL, through httpx otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from filelock import FileLock

from wheelnext_jupyter.index.errors import HashMismatch, IndexHTTPError, IndexNetworkError
from wheelnext_jupyter.index.http import network_error
from wheelnext_jupyter.index.redact import redact_text, redact_url
from wheelnext_jupyter.index.transfer import NotDirect

if TYPE_CHECKING:
    from wheelnext_jupyter.index.http import HttpClient
    from wheelnext_jupyter.index.models import IndexFile

_CHUNK = 1 << 20
_PARTIAL_DIR = ".partial"

#: Called with the number of new bytes each time a chunk is written (or a cached file is found).
BytesCallback = Callable[[int], None]


@dataclass(frozen=True)
class FetchedFile:
    """A distribution file on local disk whose content matches what the index published."""

    path: Path
    filename: str
    #: Hex sha256 of the content (computed here, whatever the index published).
    sha256: str
    size: int
    #: True when no byte was transferred (cache hit or a local find-links file).
    from_cache: bool


class DownloadCancelled(Exception):
    """The downloader was cancelled; the part already downloaded is kept for a later resume."""


class WheelCache:
    """Verified files addressed by their sha256; safe to share between processes."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, filename: str) -> Path:
        return self.root / sha256[:2] / sha256 / filename

    def lookup(self, sha256: str, filename: str) -> Path | None:
        path = self.path_for(sha256.lower(), filename)
        return path if path.is_file() else None

    def partial(self, key: str) -> Path:
        """Where a download in progress is written (the same name across runs, to resume)."""
        return self.root / _PARTIAL_DIR / f"{key}.part"

    def store(self, partial: Path, sha256: str, filename: str) -> Path:
        path = self.path_for(sha256, filename)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic on one file system: a reader sees no file or the whole, verified one.
        partial.replace(path)
        return path


class _Body(Protocol):
    status_code: int

    def iter_bytes(self) -> Iterator[bytes] | Iterator[memoryview]: ...


class _Digests:
    """sha256 plus every published algorithm hashlib knows, fed as bytes arrive."""

    def __init__(self, published: Mapping[str, str]) -> None:
        algorithms = {"sha256"} | {a for a in published if a in hashlib.algorithms_available}
        self._hashers = {a: hashlib.new(a) for a in sorted(algorithms)}
        self.size = 0

    def update(self, block: bytes | memoryview) -> None:
        for hasher in self._hashers.values():
            hasher.update(block)
        self.size += len(block)

    def hexdigest(self, algorithm: str) -> str:
        return self._hashers[algorithm].hexdigest()


def _check(digests: _Digests, published: Mapping[str, str], filename: str, where: str) -> None:
    for algorithm, expected in sorted(published.items()):
        if algorithm not in hashlib.algorithms_available:
            continue
        got = digests.hexdigest(algorithm)
        if got != expected.lower():
            raise HashMismatch(
                f"{filename} from {where}: {algorithm} is {got}, but the index published "
                f"{expected}; the file changed after publication or was tampered with in "
                "transit — nothing was installed; report it to the index operator",
                url=where,
                algorithm=algorithm,
                expected=expected,
                got=got,
            )


def _hash_file(path: Path, digests: _Digests, on_bytes: BytesCallback | None = None) -> None:
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(_CHUNK), b""):
            digests.update(block)
            if on_bytes is not None:
                on_bytes(len(block))


class Downloader:
    """Fetches index files through an `HttpClient`'s pool and credential store into a cache.

    Thread-safe: the engine runs one `fetch` per worker thread.
    """

    def __init__(
        self, client: HttpClient, cache: WheelCache, *, cancelled: threading.Event | None = None
    ) -> None:
        self.client = client
        self.cache = cache
        #: Once set, downloads in progress stop at their next chunk (`DownloadCancelled`).
        self.cancelled = cancelled or threading.Event()

    def _cached(
        self, file: IndexFile, sha256: str | None, on_bytes: BytesCallback | None
    ) -> FetchedFile | None:
        """The file from the wheel cache, when the index published its sha256 and it is there."""
        if sha256 is None:
            return None
        cached = self.cache.lookup(sha256, file.filename)
        if cached is None:
            return None
        size = cached.stat().st_size
        if on_bytes is not None:
            on_bytes(size)
        return FetchedFile(cached, file.filename, sha256.lower(), size, True)

    def fetch(
        self, file: IndexFile, *, source: str, on_bytes: BytesCallback | None = None
    ) -> FetchedFile:
        """The file on disk, hash-checked; `source` names the index in messages."""
        scheme = urlsplit(file.url).scheme
        if scheme == "file":
            return self._local(file, source, on_bytes)
        published = {k.lower(): v for k, v in file.hashes.items()}
        sha256 = published.get("sha256")
        found = self._cached(file, sha256, on_bytes)
        if found is not None:
            return found
        key = sha256.lower() if sha256 else hashlib.sha256(file.url.encode()).hexdigest()
        partial = self.cache.partial(key)
        partial.parent.mkdir(parents=True, exist_ok=True)
        # Two installs fetching the same file take turns; the second then finds it cached.
        with FileLock(str(partial) + ".lock"):
            found = self._cached(file, sha256, on_bytes)
            if found is not None:
                return found
            digests = self._download(file, partial, source, published, on_bytes)
            try:
                _check(digests, published, file.filename, source)
            except HashMismatch:
                partial.unlink(missing_ok=True)
                raise
            sha = digests.hexdigest("sha256")
            path = self.cache.store(partial, sha, file.filename)
        return FetchedFile(path, file.filename, sha, digests.size, False)

    def _local(self, file: IndexFile, source: str, on_bytes: BytesCallback | None) -> FetchedFile:
        parts = urlsplit(file.url)
        path = Path(url2pathname(unquote(parts.path)))
        digests = _Digests(file.hashes)
        _hash_file(path, digests, on_bytes)
        _check(digests, {k.lower(): v for k, v in file.hashes.items()}, file.filename, source)
        return FetchedFile(path, file.filename, digests.hexdigest("sha256"), digests.size, True)

    def _download(
        self,
        file: IndexFile,
        partial: Path,
        source: str,
        published: Mapping[str, str],
        on_bytes: BytesCallback | None,
    ) -> _Digests:
        url = self.client.credentials.remember(file.url)
        shown = redact_url(url)
        attempts = self.client.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.client.backoff * (2 ** (attempt - 1)))
            digests = _Digests(published)
            offset = partial.stat().st_size if partial.exists() else 0
            headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                with self._open(url, headers) as response:
                    status = response.status_code
                    if status == 416 and offset:
                        # The part is already complete (or stale): start over.
                        partial.unlink(missing_ok=True)
                        problem = "HTTP 416"
                        continue
                    if status >= 500:
                        problem = f"HTTP {status}"
                        continue
                    if status >= 400:
                        raise IndexHTTPError(
                            f"index {source!r}: {shown} answered HTTP {status}"
                            + (
                                " (not authorised); put credentials in the index URL or ~/.netrc"
                                if status in (401, 403)
                                else ""
                            ),
                            url=shown,
                            status=status,
                        )
                    resumed = status == 206 and offset > 0
                    with partial.open("ab" if resumed else "wb") as out:
                        if resumed:
                            with partial.open("rb") as head:
                                _feed(head, digests, offset)
                            if on_bytes is not None:
                                on_bytes(offset)
                        _copy(response.iter_bytes(), out, digests, on_bytes, self.cancelled)
                return digests
            except Exception as exc:
                if not network_error(exc):
                    raise
                # The bytes written so far stay in the .part file for the next attempt.
                problem = f"{type(exc).__name__}: {redact_text(str(exc)) or 'no detail'}"
        raise IndexNetworkError(
            f"index {source!r}: could not download {file.filename} from {shown} after "
            f"{attempts} attempts ({problem}); check the network and try again — the part "
            "already downloaded is kept and resumed",
            url=shown,
            source=source,
        )

    @contextlib.contextmanager
    def _open(self, url: str, headers: dict[str, str]) -> Iterator[_Body]:
        """GET `url`: in large blocks where the direct path takes it, else through httpx."""
        transfers = self.client.transfers
        if transfers is not None:
            try:
                with transfers.get(url, headers) as transfer:
                    yield transfer
                return
            except NotDirect:
                pass  # raised before anything was yielded: httpx takes the whole request
        from wheelnext_jupyter.index.httpx_fallback import basic_auth

        auth = basic_auth(self.client.credentials.lookup(url))
        # The index client's pooled connections: downloads reuse the connections the page and
        # metadata requests opened.
        with self.client.httpx_client.stream("GET", url, headers=headers, auth=auth) as response:
            yield response


def _feed(stream: BinaryIO, digests: _Digests, length: int) -> None:
    remaining = length
    while remaining > 0:
        block = stream.read(min(_CHUNK, remaining))
        if not block:
            break
        digests.update(block)
        remaining -= len(block)


def _copy(
    chunks: Iterator[bytes] | Iterator[memoryview],
    out: BinaryIO,
    digests: _Digests,
    on_bytes: BytesCallback | None,
    cancelled: threading.Event,
) -> None:
    # Blocks go through as the connection delivers them (tens of KiB, no re-chunking copy);
    # progress is reported per MiB or so.
    unreported = 0
    for block in chunks:
        if cancelled.is_set():
            raise DownloadCancelled("download cancelled")
        out.write(block)
        digests.update(block)
        unreported += len(block)
        if on_bytes is not None and unreported >= _CHUNK:
            on_bytes(unreported)
            unreported = 0
    if on_bytes is not None and unreported:
        on_bytes(unreported)


__all__ = ["DownloadCancelled", "Downloader", "FetchedFile", "WheelCache"]

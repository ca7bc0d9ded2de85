"""Fetch distribution files: streamed to disk or memory, checked against the index's hashes,
cached by hash.

A file is written to a temporary `.part` file while every published digest is computed, and
moved into the cache (`<cache>/<sha256[:2]>/<sha256>/<filename>`) only when they all match. A
`.part` left by an interrupted run is resumed with a range request when the server allows it,
and started over otherwise. A file already in the cache under the digest the index published
costs no request at all. Local files (find-links directories) are hash-checked in place and not
copied. Bodies are read in large blocks where `index.transfer` can take the URL, through httpx
otherwise.

Given an unpacked cache (`unpacked`, set when the wheels will be unpacked into it), a wheel the
index published with its sha256 and size is downloaded into memory instead, up to a size and a
total: it is unpacked from there and its members kept in that cache, so writing and reading back
a wheel file would be work for nothing. A wheel whose unpacked entry is there already is fetched
as that entry, without a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlsplit

from wheelnext_jupyter.index.errors import HashMismatch, IndexHTTPError, IndexNetworkError
from wheelnext_jupyter.index.http import network_error
from wheelnext_jupyter.index.redact import redact_text, redact_url
from wheelnext_jupyter.index.sources import LOCK_NAMING
from wheelnext_jupyter.index.transfer import NotDirect, Transfer
from wheelnext_jupyter.paths import file_url_path
from wheelnext_jupyter.record import Record

if TYPE_CHECKING:
    from wheelnext_jupyter.index.http import HttpClient
    from wheelnext_jupyter.index.models import IndexFile
    from wheelnext_jupyter.install.unpacked_cache import (
        CachedArchive,
        CachedWheel,
        UnpackedCache,
    )

_CHUNK = 1 << 20
_PARTIAL_DIR = ".partial"
#: Larger downloads go to disk, where an interrupted one can be resumed.
MEMORY_FILE_LIMIT = 256 << 20
#: What one downloader (one install) downloads into memory at most, all files together; the
#: rest goes to disk.
MEMORY_BUDGET = 1 << 30

#: Called with the number of new bytes each time a chunk is written (or a cached file is found).
BytesCallback = Callable[[int], None]


class FetchedFile(Record):
    """A distribution file whose content matches what the index published: a file on local
    disk (`path`), a download kept in memory (`content`), or a wheel the unpacked cache holds
    (`entry`), exactly one of them."""

    path: Path | None
    filename: str
    #: Hex sha256 of the content (computed here, whatever the index published).
    sha256: str
    size: int
    #: True when no byte was transferred (cache hit or a local find-links file).
    from_cache: bool
    content: mmap.mmap | None = None
    entry: CachedWheel | None = None

    def core_metadata(self) -> bytes:
        """The wheel's `*.dist-info/METADATA`, read where the file is (memory, disk or the
        unpacked cache) without unpacking anything else. Raises `MetadataUnavailable` for a
        wheel without one, `InvalidWheel` for an unreadable archive and, from the unpacked
        cache, `StaleEntry` for a changed entry."""
        from wheelnext_jupyter.index.errors import MetadataUnavailable
        from wheelnext_jupyter.index.sources import dist_info_member
        from wheelnext_jupyter.install.archive import WheelArchive

        with contextlib.ExitStack() as stack:
            archive: CachedArchive | WheelArchive
            if self.entry is not None:
                archive = self.entry.archive()
            else:
                where = self.path if self.path is not None else Path(self.filename)
                archive = stack.enter_context(WheelArchive(where, content=self.content))
            names = [member.filename for member in archive.infolist()]
            try:
                return archive.read(dist_info_member(names, self.filename, "METADATA"))
            except KeyError:
                raise MetadataUnavailable(f"{self.filename} has no METADATA") from None

    def release(self) -> None:
        """Free the memory of a download kept in memory, once nothing reads it any more."""
        if self.content is not None:
            with contextlib.suppress(BufferError):
                self.content.close()


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

    def keep(self, fetched: FetchedFile) -> Path | None:
        """Write a download kept in memory into the cache (when its unpacked entry could not be
        made); None if it cannot be written (it is only a cache)."""
        if fetched.content is None:
            return fetched.path
        partial = self.partial(f"{fetched.sha256}.{threading.get_ident()}")
        try:
            partial.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                out.write(fetched.content)
            return self.store(partial, fetched.sha256, fetched.filename)
        except (OSError, ValueError):
            partial.unlink(missing_ok=True)
            return None


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


def _source(source: str) -> str:
    """A source as download errors name it: "index 'NAME'", or "lock file PATH"."""
    return source if source.startswith(LOCK_NAMING) else f"index {source!r}"


def _check(digests: _Digests, published: Mapping[str, str], filename: str, where: str) -> None:
    for algorithm, expected in sorted(published.items()):
        if algorithm not in hashlib.algorithms_available:
            continue
        got = digests.hexdigest(algorithm)
        if got != expected.lower():
            if where.startswith(LOCK_NAMING):
                given = "the lock gives"
                why = "the file changed since it was locked, or the lock was edited"
                way_out = "lock again from files you trust"
            else:
                given = "the index published"
                why = "the file changed after publication or was tampered with in transit"
                way_out = "report it to the index operator"
            raise HashMismatch(
                f"{filename} from {where}: {algorithm} is {got}, but {given} {expected}; {why} "
                f"— nothing was installed; {way_out}",
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
        self,
        client: HttpClient,
        cache: WheelCache,
        *,
        cancelled: threading.Event | None = None,
        unpacked: UnpackedCache | None = None,
    ) -> None:
        self.client = client
        self.cache = cache
        #: Once set, downloads in progress stop at their next chunk (`DownloadCancelled`);
        #: `cancel()` sets it and also ends the requests under way.
        self.cancelled = cancelled or threading.Event()
        #: The unpacked cache the wheels go into, when they do: wheels are then fetched as its
        #: entries, or downloaded into memory.
        self.unpacked = unpacked
        self._in_memory = 0
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Stop every download: each ends with `DownloadCancelled` at once, even one whose
        server has gone quiet (it would otherwise wait out the timeout), and none retries."""
        self.cancelled.set()
        transfers = self.client.transfers
        if transfers is not None:
            transfers.abort(self.cancelled)

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

    def local(self, file: IndexFile) -> FetchedFile | None:
        """The file from this machine's caches (the wheel cache, or its unpacked entry) without
        a request, or None."""
        sha256 = {k.lower(): v for k, v in file.hashes.items()}.get("sha256")
        return self._cached(file, sha256, None) or self._unpacked_entry(file, sha256, None)

    def _unpacked_entry(
        self, file: IndexFile, sha256: str | None, on_bytes: BytesCallback | None
    ) -> FetchedFile | None:
        if sha256 is None or self.unpacked is None or not file.filename.endswith(".whl"):
            return None
        entry = self.unpacked.lookup(sha256)
        if entry is None or (file.size is not None and entry.size != file.size):
            return None
        if on_bytes is not None:
            on_bytes(entry.size)
        return FetchedFile(None, file.filename, sha256.lower(), entry.size, True, entry=entry)

    def fetch(
        self,
        file: IndexFile,
        *,
        source: str,
        on_bytes: BytesCallback | None = None,
        entries: bool = True,
    ) -> FetchedFile:
        """The file, hash-checked; `source` names the index in messages. Without `entries`, a
        wheel is not fetched as its unpacked entry (one that turned out to be changed)."""
        scheme = urlsplit(file.url).scheme
        if scheme == "file":
            return self._local(file, source, on_bytes)
        published = {k.lower(): v for k, v in file.hashes.items()}
        sha256 = published.get("sha256")
        found = self._cached(file, sha256, on_bytes)
        if found is None and entries:
            found = self._unpacked_entry(file, sha256, on_bytes)
        if found is not None:
            return found
        if sha256 is not None and self._reserve_memory(file):
            assert file.size is not None
            try:
                return self._fetch_into_memory(file, source, published, sha256, on_bytes)
            except _NotAsPublished:
                # The index's size was wrong (its hash can still be right): to disk, where
                # any size fits.
                self._return_memory(file.size)
            except BaseException:
                self._return_memory(file.size)
                raise
        key = sha256.lower() if sha256 else hashlib.sha256(file.url.encode()).hexdigest()
        partial = self.cache.partial(key)
        partial.parent.mkdir(parents=True, exist_ok=True)
        # Two installs fetching the same file take turns; the second then finds it cached.
        # (Imported here: downloads into memory, the usual case, need no lock.)
        from wheelnext_jupyter.file_lock import FileLock

        with FileLock(str(partial) + ".lock"):
            found = self._cached(file, sha256, on_bytes)
            if found is not None:
                return found
            digests = self._download(file, _FileSink(partial), source, published, on_bytes)
            try:
                _check(digests, published, file.filename, source)
            except HashMismatch:
                partial.unlink(missing_ok=True)
                raise
            sha = digests.hexdigest("sha256")
            path = self.cache.store(partial, sha, file.filename)
        return FetchedFile(path, file.filename, sha, digests.size, False)

    def _reserve_memory(self, file: IndexFile) -> bool:
        """Whether `file` is downloaded into memory (its size counted against the budget)."""
        size = file.size
        if self.unpacked is None or size is None or not 0 < size <= MEMORY_FILE_LIMIT:
            return False
        if not file.filename.endswith(".whl"):
            return False
        with self._lock:
            if self._in_memory + size > MEMORY_BUDGET:
                return False
            self._in_memory += size
        return True

    def _return_memory(self, size: int) -> None:
        with self._lock:
            self._in_memory -= size

    def _fetch_into_memory(
        self,
        file: IndexFile,
        source: str,
        published: Mapping[str, str],
        sha256: str,
        on_bytes: BytesCallback | None,
    ) -> FetchedFile:
        assert file.size is not None
        if hasattr(mmap, "MAP_PRIVATE"):
            # Private, so that the kernel may back it with huge pages (a fault per 2 MiB instead
            # of per 4 KiB); shared anonymous memory never gets them.
            content = mmap.mmap(-1, file.size, flags=mmap.MAP_PRIVATE)
        else:  # Windows: anonymous memory takes no flags
            content = mmap.mmap(-1, file.size)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            with contextlib.suppress(OSError):
                content.madvise(mmap.MADV_HUGEPAGE)
        try:
            sink = _MemorySink(content)
            digests = self._download(file, sink, source, published, on_bytes)
            _check(digests, published, file.filename, source)
            if digests.size != file.size:
                raise _NotAsPublished
        except BaseException:
            content.close()
            raise
        return FetchedFile(None, file.filename, sha256.lower(), file.size, False, content=content)

    def _local(self, file: IndexFile, source: str, on_bytes: BytesCallback | None) -> FetchedFile:
        path = file_url_path(file.url)
        digests = _Digests(file.hashes)
        _hash_file(path, digests, on_bytes)
        _check(digests, {k.lower(): v for k, v in file.hashes.items()}, file.filename, source)
        return FetchedFile(path, file.filename, digests.hexdigest("sha256"), digests.size, True)

    def _download(
        self,
        file: IndexFile,
        sink: _FileSink | _MemorySink,
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
            if self.cancelled.is_set():
                raise DownloadCancelled("download cancelled")
            digests = _Digests(published)
            offset = sink.offset()
            headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                with self._open(url, headers) as response:
                    status = response.status_code
                    if status == 416 and offset:
                        # The part is already complete (or stale): start over.
                        sink.restart()
                        problem = "HTTP 416"
                        continue
                    if status >= 500:
                        problem = f"HTTP {status}"
                        continue
                    if status >= 400:
                        raise IndexHTTPError(
                            f"{_source(source)}: {shown} answered HTTP {status}"
                            + (
                                " (not authorised); put credentials in the index URL or ~/.netrc"
                                if status in (401, 403)
                                else "; the lock names a file that is not there: lock again"
                                if source.startswith(LOCK_NAMING)
                                else ""
                            ),
                            url=shown,
                            status=status,
                        )
                    resumed = status == 206 and offset > 0
                    if isinstance(sink, _MemorySink) and isinstance(response, Transfer):
                        sink.receive(response, digests, on_bytes, self.cancelled)
                        return digests
                    with sink.writer(resumed, digests) as write:
                        if resumed and on_bytes is not None:
                            on_bytes(offset)
                        _copy(response.iter_bytes(), write, digests, on_bytes, self.cancelled)
                return digests
            except Exception as exc:
                if not network_error(exc):
                    raise
                if self.cancelled.is_set():
                    # `cancel()` ended the body: no other attempt.
                    raise DownloadCancelled("download cancelled") from None
                # On disk, the bytes written so far stay in the .part file for the next attempt.
                problem = f"{type(exc).__name__}: {redact_text(str(exc)) or 'no detail'}"
        raise IndexNetworkError(
            f"{_source(source)}: could not download {file.filename} from {shown} after "
            f"{attempts} attempts ({problem}); check the network and try again"
            + (" — the part already downloaded is kept and resumed" if sink.resumable else ""),
            url=shown,
            source=source,
        )

    @contextlib.contextmanager
    def _open(self, url: str, headers: dict[str, str]) -> Iterator[_Body]:
        """GET `url`: in large blocks where the direct path takes it, else through httpx."""
        transfers = self.client.transfers
        if transfers is not None:
            try:
                with transfers.get(url, headers, stop=self.cancelled) as transfer:
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


class _FileSink:
    """A download into a `.part` file, resumed where an earlier attempt stopped."""

    resumable = True

    def __init__(self, partial: Path) -> None:
        self.partial = partial

    def offset(self) -> int:
        return self.partial.stat().st_size if self.partial.exists() else 0

    def restart(self) -> None:
        self.partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def writer(self, resumed: bool, digests: _Digests) -> Iterator[_Write]:
        with self.partial.open("ab" if resumed else "wb") as out:
            if resumed:
                with self.partial.open("rb") as head:
                    _feed(head, digests, self.partial.stat().st_size)
            yield out.write


class _MemorySink:
    """A download into memory of the size the index published; every attempt starts over."""

    resumable = False

    def __init__(self, content: mmap.mmap) -> None:
        self.content = content

    def offset(self) -> int:
        return 0

    def restart(self) -> None:
        pass

    @contextlib.contextmanager
    def writer(self, resumed: bool, digests: _Digests) -> Iterator[_Write]:
        content, end = self.content, len(self.content)
        position = 0

        def write(block: bytes | memoryview) -> int:
            nonlocal position
            size = len(block)
            if position + size > end:
                raise _NotAsPublished
            content[position : position + size] = block
            position += size
            return size

        yield write

    def receive(
        self,
        transfer: Transfer,
        digests: _Digests,
        on_bytes: BytesCallback | None,
        cancelled: threading.Event,
    ) -> None:
        """The body read straight into the mapping and hashed there, a mebibyte at a time: no
        block in between to fill and copy out of (`writer` is for bodies httpx hands over)."""
        view = memoryview(self.content)
        end = len(view)
        position = unreported = 0
        try:
            while position < end:
                if cancelled.is_set():
                    raise DownloadCancelled("download cancelled")
                with view[position : min(end, position + _CHUNK)] as part:
                    count = transfer.readinto(part)
                    if not count:
                        break  # shorter than published: the caller compares the sizes
                    digests.update(part[:count])
                position += count
                unreported += count
                if on_bytes is not None and unreported >= _CHUNK:
                    on_bytes(unreported)
                    unreported = 0
            else:
                # Full: one more byte would make the body longer than published.
                with memoryview(bytearray(1)) as extra:
                    if transfer.readinto(extra):
                        raise _NotAsPublished
        finally:
            view.release()
        if on_bytes is not None and unreported:
            on_bytes(unreported)


class _NotAsPublished(Exception):
    """The body is not of the size the index published: downloaded again, to disk."""


_Write = Callable[[bytes | memoryview], int]


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
    write: _Write,
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
        write(block)
        digests.update(block)
        unreported += len(block)
        if on_bytes is not None and unreported >= _CHUNK:
            on_bytes(unreported)
            unreported = 0
    if on_bytes is not None and unreported:
        on_bytes(unreported)


__all__ = ["DownloadCancelled", "Downloader", "FetchedFile", "WheelCache"]

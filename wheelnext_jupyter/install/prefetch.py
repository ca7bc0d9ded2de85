"""Download, and unpack, the wheels the resolver pins while it is still resolving.

Resolution reads index pages and metadata files; the wheels themselves are needed only by the
installer. A `Prefetcher` starts downloading each wheel as soon as the resolver pins it, so a
large download (a GPU build of a few hundred megabytes) overlaps the rest of the resolution.
With a staging area it also unpacks each wheel as soon as it has arrived, with the default
install options (no bytecode, the built-in installer), on a core the resolver leaves idle. The
installer finds each file fetched, or staged, or under way, and takes it over.

Downloads and unpacking have threads of their own, so a wheel being unpacked never holds up the
download of the next one. Of the wheels waiting to be downloaded, and of those waiting to be
unpacked, the largest goes first (by the size the index gave, where it gave one): the longest job
then never starts last, behind a queue of small ones pinned before it.

The resolver's lookahead passes on its guesses too (`guessed`): the file it expects the resolver
to pin for a project starts downloading before the pin. A guess the resolver then pins is the
same download; a guess still waiting when the resolver pins another file of that project is
dropped. A pin that the resolver later replaces, like a wrong guess already under way, leaves
its file in the wheel cache (or its members in the unpacked cache) and its staged tree in the
staging area (removed with it). Whatever is still running when the install is over, or when no
install follows, is cancelled; a download to disk keeps its part for a later resume.

Byte progress is not lost: bytes received before the installer asks for a file are reported to
it at once, and the rest as they arrive.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING

from wheelnext_jupyter.record import MutableRecord, field
from wheelnext_jupyter.workers import WorkerPool, start_thread

if TYPE_CHECKING:
    from collections.abc import Callable

    from wheelnext_jupyter.index.models import IndexFile
    from wheelnext_jupyter.install.download import BytesCallback, Downloader, FetchedFile
    from wheelnext_jupyter.install.staging import StagedWheel, StagingArea


#: The size a waited-for file is queued with: before any real one.
_URGENT = 1 << 62


class _Tracked(MutableRecord):
    fetched: Future[FetchedFile] = field(default_factory=Future)
    #: The wheel staged with `requested` and no bytecode; None when it was not staged here.
    staged: Future[StagedWheel | None] = field(default_factory=Future)
    received: int = 0
    sink: BytesCallback | None = None
    started: bool = False
    #: A guess the resolver replaced with another file: not downloaded if it has not started,
    #: never unpacked.
    dropped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_bytes(self, count: int) -> None:
        with self.lock:
            self.received += count
            if self.sink is not None:
                self.sink(count)

    def attach(self, sink: BytesCallback | None) -> None:
        with self.lock:
            if sink is not None and self.received:
                sink(self.received)
            self.sink = sink


class Prefetcher:
    """Fetches (and, given `make_area`, stages) pinned wheels in the background.

    Downloads go through its own `Downloader`, whose cancellation `close()` sets. `unpacking`
    bounds how many wheels unpack at once, here and in the installer that takes over. The
    staging area is made at the first pin (on a thread of its own), so a plan that installs
    nothing writes nothing; an area that cannot be made leaves wheels downloaded only.
    """

    def __init__(
        self,
        downloader: Downloader,
        *,
        unpacking: threading.Semaphore,
        make_area: Callable[[], StagingArea] | None = None,
        workers: int = 6,
        unpackers: int = 2,
    ) -> None:
        self._downloader = downloader
        self.unpacking = unpacking
        self._make_area = make_area
        #: Owned by the prefetcher: closed by `close()`, after every worker has stopped.
        self._area: StagingArea | None = None
        #: Set once the area is made (or could not be); None until the first pin starts it.
        self._area_made: threading.Event | None = None
        self._pool = WorkerPool(max_workers=workers, thread_name_prefix="wheelnext-prefetch")
        self._unpackers = WorkerPool(
            max_workers=max(1, unpackers), thread_name_prefix="wheelnext-unpack"
        )
        #: Pinned wheels waiting for a download thread: (-size, order, tracked, file, source,
        #: requested).
        self._pending: list[tuple[int, int, _Tracked, IndexFile, str, bool]] = []
        #: Downloaded wheels waiting to be unpacked: (-size, order, tracked, file, requested).
        self._waiting: list[tuple[int, int, _Tracked, FetchedFile, bool]] = []
        self._order = itertools.count()
        self._files: dict[str, _Tracked] = {}
        #: Project name → (URL, tracked) of the lookahead's guess, until the resolver pins one.
        self._guesses: dict[str, tuple[str, _Tracked]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def pinned(self, file: IndexFile, source: str, *, requested: bool) -> None:
        """Start on `file` (once per URL) unless closed."""
        with self._lock:
            guess = self._guesses.pop(file.name, None)
            if guess is not None and guess[0] != file.url:
                url, tracked = guess
                tracked.dropped = True
                if not tracked.started:
                    del self._files[url]
            self._start(file, source, requested)

    def guessed(self, file: IndexFile, source: str, *, requested: bool) -> None:
        """Start on `file`, which the resolver is expected to pin (once per URL)."""
        with self._lock:
            if file.url not in self._files and file.name not in self._guesses:
                tracked = self._start(file, source, requested)
                if tracked is not None:
                    self._guesses[file.name] = (file.url, tracked)

    def fetched(self, file: IndexFile, source: str, *, requested: bool) -> FetchedFile:
        """`file`, downloaded (and then staged) here as a pinned file is, waited for: the
        resolver reads the core metadata of a wheel the index publishes no metadata file for
        from the download the install then uses. Started now unless it is already; one
        waiting for a download thread goes ahead of the rest. A failed download raises its
        error; once closed, `DownloadCancelled`."""
        with self._lock:
            if self._guesses.get(file.name, ("",))[0] == file.url:
                # Waited for now: no longer a guess that another pin of the project drops.
                del self._guesses[file.name]
            tracked = self._files.get(file.url)
            if tracked is None:
                tracked = self._start(file, source, requested, urgent=True)
            elif not tracked.started and not tracked.dropped:
                self._queue(tracked, file, source, requested, urgent=True)
        if tracked is None:
            from wheelnext_jupyter.install.download import DownloadCancelled

            raise DownloadCancelled("downloads have stopped")
        return tracked.fetched.result()

    def local(self, file: IndexFile) -> FetchedFile | None:
        """`file` if it is here without waiting: downloaded already, or in the caches."""
        with self._lock:
            tracked = self._files.get(file.url)
        if tracked is not None and tracked.fetched.done():
            return None if tracked.fetched.exception() else tracked.fetched.result()
        return self._downloader.local(file)

    def _start(
        self, file: IndexFile, source: str, requested: bool, *, urgent: bool = False
    ) -> _Tracked | None:
        if self._closed or file.url in self._files:
            return None
        if self._make_area is not None:
            # Made on a thread of its own: making it imports the installer's modules, and the
            # resolver or the lookahead, whose pin or guess this is, need not wait for that.
            make, self._make_area = self._make_area, None
            self._area_made = threading.Event()
            start_thread(threading.Thread(target=self._make, args=(make,), name="wheelnext-area"))
        tracked = _Tracked()
        self._files[file.url] = tracked
        self._queue(tracked, file, source, requested, urgent=urgent)
        return tracked

    def _make(self, make: Callable[[], StagingArea]) -> None:
        assert self._area_made is not None
        try:
            self._area = make()
        except BaseException:
            # An area that cannot be made leaves the wheels downloaded only; the install makes
            # its own and reports what stands in the way.
            self._area = None
        finally:
            self._area_made.set()

    @property
    def area(self) -> StagingArea | None:
        """The staging area, waited for while it is being made; None before the first pin,
        without staging, or when it could not be made."""
        made = self._area_made
        if made is not None:
            made.wait()
        return self._area

    def _queue(
        self, tracked: _Tracked, file: IndexFile, source: str, requested: bool, *, urgent: bool
    ) -> None:
        # A file someone waits for goes first; a file queued again for that reason is taken
        # by whichever of its two entries comes up first, and the other is skipped.
        size = _URGENT if urgent else file.size or 0
        heapq.heappush(self._pending, (-size, next(self._order), tracked, file, source, requested))
        # One task per entry; each takes the largest one waiting when it runs.
        self._pool.submit(self._download_next)

    def _download_next(self) -> None:
        with self._lock:
            if not self._pending:
                return
            _, _, tracked, file, source, requested = heapq.heappop(self._pending)
            if tracked.dropped or tracked.started:
                return
            tracked.started = True
        try:
            got = self._downloader.fetch(file, source=source, on_bytes=tracked.on_bytes)
        except BaseException as exc:
            tracked.fetched.set_exception(exc)
            tracked.staged.set_result(None)
            return
        tracked.fetched.set_result(got)
        if self.area is None or self._downloader.cancelled.is_set() or tracked.dropped:
            tracked.staged.set_result(None)
            return
        with self._lock:
            heapq.heappush(self._waiting, (-got.size, next(self._order), tracked, got, requested))
        # One task per waiting wheel; each takes the largest one waiting when it runs. Once
        # closed, `close()` settles what is left waiting.
        with contextlib.suppress(RuntimeError):
            self._unpackers.submit(self._unpack_next)

    def _unpack_next(self) -> None:
        with self._lock:
            if not self._waiting:
                return
            _, _, tracked, got, requested = heapq.heappop(self._waiting)
        area = self.area
        if area is None or self._downloader.cancelled.is_set() or tracked.dropped:
            tracked.staged.set_result(None)
            return
        from wheelnext_jupyter.install.unpacked_cache import StaleEntry
        from wheelnext_jupyter.install.writer import WriteOptions

        try:
            with self.unpacking:
                staged = area.stage_fetched(got, WriteOptions(requested=requested))
        except StaleEntry:
            # The installer fetches the wheel itself.
            tracked.staged.set_result(None)
        except BaseException as exc:
            tracked.staged.set_exception(exc)
        else:
            tracked.staged.set_result(staged)

    def started(self, file: IndexFile) -> bool:
        """Whether `file` is fetched or under way here (never once closed: what was under way
        then was cancelled)."""
        with self._lock:
            return not self._closed and file.url in self._files

    def result(self, file: IndexFile, on_bytes: BytesCallback | None = None) -> FetchedFile:
        """Wait for a started file; its bytes so far go to `on_bytes` at once, the rest as they
        arrive. A failed download raises its error here, as a direct download would."""
        tracked = self._tracked(file)
        tracked.attach(on_bytes)
        return tracked.fetched.result()

    def staged(self, file: IndexFile) -> StagedWheel | None:
        """Wait for a started file's staging: the staged wheel, or None if it was not staged
        here. A wheel that failed its checks raises that error, as staging it again would."""
        return self._tracked(file).staged.result()

    def _tracked(self, file: IndexFile) -> _Tracked:
        with self._lock:
            return self._files[file.url]

    def cancel(self) -> None:
        """Stop the downloads at once (each waiting caller gets `DownloadCancelled`); wheels
        being unpacked are finished, and `close()` is still due."""
        self._downloader.cancel()

    def close(self) -> None:
        """Cancel what has not finished (a download stops at its next chunk, a wheel being
        unpacked is finished), then remove the staging area."""
        with self._lock:
            self._closed = True
        self._downloader.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._unpackers.shutdown(wait=True, cancel_futures=True)
        from wheelnext_jupyter.install.download import DownloadCancelled

        with self._lock:
            pending, self._pending = self._pending, []
            waiting, self._waiting = self._waiting, []
        for _, _, tracked, _, _, _ in pending:
            # A file queued twice (see `_queue`) is settled once; a started one by its thread.
            if not tracked.started and not tracked.fetched.done():
                tracked.fetched.set_exception(DownloadCancelled("download cancelled"))
                tracked.staged.set_result(None)
        for _, _, tracked, _, _ in waiting:
            tracked.staged.set_result(None)
        with self._lock:
            tracked_files = list(self._files.values())
        for tracked in tracked_files:
            # Downloads kept in memory are freed now, not with the plan that refers to them.
            if tracked.fetched.done() and tracked.fetched.exception() is None:
                tracked.fetched.result().release()
        area = self.area  # one being made is waited for, then removed
        if area is not None:
            area.close()


__all__ = ["Prefetcher"]

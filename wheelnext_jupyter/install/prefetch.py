"""Download the files the resolver pins while it is still resolving.

Resolution reads index pages and metadata files; the wheels themselves are needed only by the
installer. A `Prefetcher` starts downloading each wheel as soon as the resolver pins it, so a
large download (a GPU build of a few hundred megabytes) overlaps the rest of the resolution,
and the installer finds the file fetched or under way. A pin that the resolver later replaces
leaves its file in the wheel cache; whatever is still downloading when the install is over (or
when no install follows) is cancelled, its part kept for a later resume.

Byte progress is not lost: bytes received before the installer asks for a file are reported to
it at once, and the rest as they arrive.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelnext_jupyter.index.models import IndexFile
    from wheelnext_jupyter.install.download import BytesCallback, Downloader, FetchedFile


@dataclass
class _Tracked:
    future: Future[FetchedFile] | None = None
    received: int = 0
    sink: BytesCallback | None = None
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
    """Fetches pinned wheels in the background through its own (cancellable) `Downloader`."""

    def __init__(self, downloader: Downloader, *, workers: int = 4) -> None:
        self._downloader = downloader
        self._pool = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="wheelnext-prefetch"
        )
        self._files: dict[str, _Tracked] = {}
        self._lock = threading.Lock()
        self._closed = False

    def pinned(self, file: IndexFile, source: str) -> None:
        """Start fetching `file` (once per URL) unless closed."""
        with self._lock:
            if self._closed or file.url in self._files:
                return
            tracked = _Tracked()
            self._files[file.url] = tracked
            tracked.future = self._pool.submit(
                self._downloader.fetch, file, source=source, on_bytes=tracked.on_bytes
            )

    def started(self, file: IndexFile) -> bool:
        """Whether `file` is fetched or under way here (never once closed: what was under way
        then was cancelled)."""
        with self._lock:
            return not self._closed and file.url in self._files

    def result(self, file: IndexFile, on_bytes: BytesCallback | None = None) -> FetchedFile:
        """Wait for a started file; its bytes so far go to `on_bytes` at once, the rest as they
        arrive. A failed download raises its error here, as a direct download would."""
        with self._lock:
            tracked = self._files[file.url]
        tracked.attach(on_bytes)
        assert tracked.future is not None
        return tracked.future.result()

    def close(self) -> None:
        """Cancel what has not finished; waits only for the chunk each download is writing."""
        with self._lock:
            self._closed = True
        self._downloader.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["Prefetcher"]

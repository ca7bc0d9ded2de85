"""Fetch, ahead of the resolver, what it will most likely ask for next.

The resolver works one project at a time: the page, then the core metadata of the version it
tries, then the pages of that version's dependencies, each a round trip to an index. Here, as
soon as a project is named, a background thread fetches its page, takes the version the resolver
will try first (the newest one admission lets through with a file that fits the target, ranked
exactly as the resolver ranks them), reads that file's core metadata and goes on with the
dependencies it declares for the target. The metadata comes from the index's metadata file or,
where the index publishes none and an install follows, from the wheel's download for the
install, or for a large wheel from its end by range requests (see `MetadataSource.peek`).
Everything lands in the finder's, the HTTP client's and the metadata source's caches, where the
resolver finds it. A wrong guess costs a request, never a different answer: the resolver still
decides everything itself, and any error here is left for it to meet and report. Each guess
also goes to `on_guess`, where the engine starts downloading the file before the resolver gets
to pin it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet

from wheelnext_jupyter.resolve.admission import admit_lazily
from wheelnext_jupyter.resolve.candidates import VersionFile
from wheelnext_jupyter.resolve.metadata_fields import read_fields
from wheelnext_jupyter.resolve.requirements import dependencies, requires_dist_origin
from wheelnext_jupyter.workers import RequestPool

if TYPE_CHECKING:
    from wheelnext_jupyter.resolve.candidates import CandidateFinder, Pick
    from wheelnext_jupyter.resolve.installed import InstalledDistribution
    from wheelnext_jupyter.resolve.metadata_fields import MetadataFields
    from wheelnext_jupyter.resolve.provider import MetadataSource


class Lookahead:
    """Background fetching for one resolution; `close()` stops it. Core metadata is read
    through the resolver's `metadata`, which keeps what it reads for the resolver."""

    def __init__(
        self,
        finder: CandidateFinder,
        metadata: MetadataSource,
        *,
        installed: Mapping[str, InstalledDistribution],
        keep_installed: bool,
        workers: int,
        on_guess: Callable[[Pick], None] | None = None,
    ) -> None:
        self._finder = finder
        self._metadata = metadata
        self._on_guess = on_guess
        self._installed = installed
        self._keep_installed = keep_installed
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._pool = RequestPool(max(1, workers), thread_name_prefix="wheelnext-ahead")

    def __enter__(self) -> Lookahead:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        # Left by an exception (Ctrl-C among them): requests under way end on their own.
        self.close(wait=exc_type is None)

    def start(self, wanted: Iterable[tuple[str, SpecifierSet]]) -> None:
        """Look ahead from these projects (name, specifier); each project is visited once."""
        with self._lock:
            if self._closed:
                return
            for name, specifier in wanted:
                if name not in self._seen:
                    self._seen.add(name)
                    self._pool.submit(self._visit, name, specifier)

    def close(self, *, wait: bool = True) -> None:
        """Drop what has not started and (with `wait`) wait for the requests in flight."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _visit(self, name: str, specifier: SpecifierSet) -> None:
        try:
            headers = self._headers(name, specifier)
        except Exception:  # speculative: the resolver meets the same error and reports it
            return
        if headers is None:
            return
        try:
            requests = dependencies(
                headers.get_all("Requires-Dist", []) or [],
                origin=requires_dist_origin(name, headers.get("Version", "")),
                environment=self._finder.markers,
            )
        except Exception:  # a malformed line is the resolver's to report
            return
        self.start((request.name, request.specifier) for request in requests)

    def _headers(self, name: str, specifier: SpecifierSet) -> MetadataFields | None:
        """The core metadata of the version the resolver will most likely take, or None."""
        dist = self._installed.get(name)
        if self._keep_installed and dist is not None and specifier.contains(dist.version, True):
            return read_fields(dist.metadata_text)
        pick = self._likely_pick(name, specifier)
        if pick is None or pick.candidate is None or pick.is_sdist:
            return None
        if self._on_guess is not None:
            self._on_guess(pick)
        if not pick.candidate.file.core_metadata.available and not self._metadata.reads_download(
            pick
        ):
            return None  # only a whole download of the wheel would tell: not worth a guess
        return self._metadata.peek(pick)

    def _likely_pick(self, name: str, specifier: SpecifierSet) -> Pick | None:
        finder = self._finder
        lookup = finder.ahead(name)
        versions = finder.versions(name, lookup)
        verdicts = admit_lazily(
            [VersionFile(version, lookup, source) for version, source in versions],
            specifier,
            pinned_by_user=False,
        )
        for verdict in verdicts:
            if not verdict.admitted:
                continue
            version_file = verdict.candidate
            assert isinstance(version_file, VersionFile)
            outcome = finder.outcome(name, lookup, version_file.version, version_file.source)
            if outcome.pick is not None:
                return outcome.pick
        return None

"""PEP 766 priority among several sources, name pins, and the dependency-confusion defence.

Strategies (names as uv spells them, without its `unsafe-` prefix):

* `first-index` (default): the first source on which the name exists supplies every candidate;
  later sources are never asked. A public index cannot shadow a private name.
* `first-match`: PEP 766 "index priority" per request — move to the next source only when this
  one has no viable candidate (the caller says what is viable).
* `best-match`: PEP 766 "version priority" — collate every source; the caller picks the best.

Every lookup restarts at the first source. A name pinned to a source is looked up there only;
explicit sources serve pinned names only. An unreachable or failing source aborts the lookup
(PEP 766's default) unless `allow_fallthrough` is set; "not found" (404) just moves on.
"""

from __future__ import annotations

import enum
import logging
from functools import cached_property
from typing import TYPE_CHECKING

from wheelnext_jupyter.index.errors import ConfigError, IndexClientError, MetadataUnavailable
from wheelnext_jupyter.index.models import normalize_project_name
from wheelnext_jupyter.index.redact import redact_url
from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.workers import RequestPool

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from wheelnext_jupyter.index.models import ProjectPage
    from wheelnext_jupyter.index.sources import Candidate, Offer, Source, SourceRef
    from wheelnext_jupyter.variants.metadata import VariantMetadata

logger = logging.getLogger(__name__)


class Strategy(enum.Enum):
    FIRST_INDEX = "first-index"
    FIRST_MATCH = "first-match"
    BEST_MATCH = "best-match"

    @classmethod
    def parse(cls, text: str) -> Strategy:
        cleaned = text.strip().lower().removeprefix("unsafe-")
        try:
            return cls(cleaned)
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ConfigError(f"unknown index strategy {text!r}; choose one of {choices}") from None


class SourceUnavailable(IndexClientError):
    """A higher-priority source failed; continuing could pick a package from the wrong index."""

    def __init__(self, message: str, *, source: SourceRef, name: str) -> None:
        super().__init__(message)
        self.source = source
        self.name = name


class Outcome(enum.Enum):
    SUPPLIED = "supplied"  # this source's candidates are the answer
    COLLATED = "collated"  # best-match: added to the pool
    NOT_FOUND = "not-found"
    NO_VIABLE = "no-viable-candidate"  # first-match: present, nothing usable
    FAILED = "failed"  # network/HTTP/response error, fallen through
    NOT_ASKED = "not-asked"  # an earlier source supplied the name


class Attempt(Record):
    source: SourceRef
    outcome: Outcome
    detail: str | None = None


class Lookup(Record):
    """Which source(s) answered for one name, their offers, and the path taken to them."""

    name: NormalizedName
    strategy: Strategy
    #: The pages that supply the candidates, as candidates (made a version at a time).
    offers: tuple[Offer, ...]
    attempts: tuple[Attempt, ...]
    #: Name of the source the name is pinned to, if any.
    pinned_to: str | None = None
    #: Candidates of sources fallen through (first-match), for "why not" reports.
    passed_over: tuple[Candidate, ...] = ()
    warnings: tuple[str, ...] = ()
    pages: tuple[tuple[SourceRef, ProjectPage], ...] = field(default=(), repr=False)

    def page_for(self, source: SourceRef) -> ProjectPage | None:
        return next((page for ref, page in self.pages if ref == source), None)

    @cached_property
    def candidates(self) -> tuple[Candidate, ...]:
        """Every candidate, source by source in page order (makes every file: the resolver
        asks by version instead)."""
        return tuple(candidate for offer in self.offers for candidate in offer.all())

    @property
    def is_empty(self) -> bool:
        """Whether no source offers a file of the name."""
        return not any(offer.page.files for offer in self.offers)

    def of_version(self, version: Version, source: SourceRef) -> tuple[Candidate, ...]:
        """The candidates of one version from one source, in their order."""
        offer = self._offer(source)
        return () if offer is None else offer.of_version(version)

    def yanked(self, version: Version, source: SourceRef) -> tuple[bool, str | None]:
        """Whether every file of one version from one source is yanked, and the first reason
        given (without making the files)."""
        offer = self._offer(source)
        return (False, None) if offer is None else offer.page.files.yanked(version)

    def _offer(self, source: SourceRef) -> Offer | None:
        # By identity first: the resolver asks with the offers' own references.
        for offer in self.offers:
            if offer.ref is source:
                return offer
        return next((offer for offer in self.offers if offer.ref == source), None)


class SourceSet:
    """An ordered list of sources (highest priority first) with a strategy and pins."""

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        strategy: Strategy = Strategy.FIRST_INDEX,
        pins: Mapping[str, str] | None = None,
        allow_fallthrough: bool = False,
        max_workers: int = 8,
    ) -> None:
        self.sources = tuple(sources)
        self.strategy = strategy
        self.allow_fallthrough = allow_fallthrough
        self.max_workers = max_workers
        self.pins: dict[NormalizedName, Source] = {
            normalize_project_name(name): self._find_source(target)
            for name, target in (pins or {}).items()
        }

    def _find_source(self, target: str) -> Source:
        wanted = target.strip()
        for source in self.sources:
            ref = source.ref
            url = getattr(source, "url", None)
            if wanted in (ref.name, ref.url) or (url is not None and wanted in (url, url + "/")):
                return source
            if redact_url(wanted).rstrip("/") == ref.url.rstrip("/"):
                return source
        known = ", ".join(repr(s.ref.name) for s in self.sources) or "none"
        raise ConfigError(
            f"pin target {redact_url(target)!r} is not a configured source (known: {known}); "
            "add it with --index NAME=URL first"
        )

    def describe(self) -> str:
        """One line for the report: the strategy and the order of the sources."""
        order = " > ".join(str(s.ref) + (" [explicit]" if s.explicit else "") for s in self.sources)
        return f"index strategy {self.strategy.value}: {order}"

    def source(self, ref: SourceRef) -> Source:
        for source in self.sources:
            if source.ref == ref:
                return source
        raise KeyError(ref)

    # --- lookups -----------------------------------------------------------------------------

    def find(
        self,
        name: str,
        *,
        viable: Callable[[Candidate], bool] | None = None,
        refresh: bool = False,
    ) -> Lookup:
        """Candidates for `name` under the strategy.

        `viable` is used by `first-match` only: it says whether a candidate can satisfy the
        current request (specifier, Requires-Python, tags, variants...). Candidates marked
        `unusable` are never viable.
        """
        project = normalize_project_name(name)
        pinned = self.pins.get(project)
        if pinned is not None:
            order: tuple[Source, ...] = (pinned,)
        else:
            order = tuple(s for s in self.sources if not s.explicit)
        attempts: list[Attempt] = []
        warnings: list[str] = []
        chosen: list[Offer] = []
        passed_over: list[Candidate] = []
        pages: list[tuple[SourceRef, ProjectPage]] = []
        page_of = self._page_fetcher(order, project, refresh)
        for index, source in enumerate(order):
            outcome = page_of(index)
            if isinstance(outcome, IndexClientError):
                detail = str(outcome)
                if not self.allow_fallthrough:
                    raise SourceUnavailable(
                        f"cannot look up {project!r}: source {source.ref} failed ({detail}). "
                        "Lower-priority sources were not consulted, because falling through "
                        "could install a same-named package from another index; fix the source "
                        "or allow fall-through explicitly",
                        source=source.ref,
                        name=project,
                    ) from outcome
                warnings.append(f"{source.ref} failed for {project!r}, falling through: {detail}")
                attempts.append(Attempt(source.ref, Outcome.FAILED, detail))
                continue
            if outcome is None:
                attempts.append(Attempt(source.ref, Outcome.NOT_FOUND))
                continue
            page = outcome
            pages.append((source.ref, page))
            warnings.extend(page.warnings)
            offer = source.offer(page)
            warnings.extend(offer.warnings)
            if self.strategy is Strategy.BEST_MATCH and pinned is None:
                chosen.append(offer)
                attempts.append(Attempt(source.ref, Outcome.COLLATED))
                continue
            if self.strategy is Strategy.FIRST_MATCH and pinned is None:
                candidates = offer.all()
                usable = [c for c in candidates if c.unusable is None]
                if viable is not None:
                    usable = [c for c in usable if viable(c)]
                if not usable:
                    passed_over.extend(candidates)
                    attempts.append(Attempt(source.ref, Outcome.NO_VIABLE))
                    continue
            chosen.append(offer)
            attempts.append(Attempt(source.ref, Outcome.SUPPLIED))
            attempts.extend(Attempt(s.ref, Outcome.NOT_ASKED) for s in order[index + 1 :])
            break
        if (
            pinned is not None
            and not chosen
            and attempts
            and attempts[0].outcome is Outcome.NOT_FOUND
        ):
            warnings.append(f"{project!r} is pinned to {pinned.ref}, which does not have it")
        for text in warnings:
            logger.debug("%s", text)
        return Lookup(
            name=project,
            strategy=self.strategy,
            offers=tuple(chosen),
            attempts=tuple(attempts),
            pinned_to=pinned.ref.name if pinned is not None else None,
            passed_over=tuple(passed_over),
            warnings=tuple(dict.fromkeys(warnings)),
            pages=tuple(pages),
        )

    def ask_ahead(self, names: Iterable[str]) -> None:
        """Start requesting, in the background, the pages the lookups of `names` ask first
        (all of them under best-match), so that the lookups find them in the HTTP client's
        memory or under way. Returns at once; failures are left for the lookups to report."""
        asked: list[tuple[Source, NormalizedName]] = []
        for name in dict.fromkeys(normalize_project_name(n) for n in names):
            pinned = self.pins.get(name)
            order = [pinned] if pinned is not None else [s for s in self.sources if not s.explicit]
            if self.strategy is not Strategy.BEST_MATCH:
                order = order[:1]
            asked += [(source, name) for source in order]
        if not asked:
            return
        pool = RequestPool(
            max_workers=min(self.max_workers, len(asked)), thread_name_prefix="wheelnext-ask"
        )
        for source, project in asked:
            pool.submit(source.ask_ahead, project)
        pool.shutdown(wait=False)

    def find_many(self, names: Iterable[str], *, refresh: bool = False) -> dict[str, Lookup]:
        """`find` for several names concurrently (no `viable` predicate: prefetching)."""
        unique = list(dict.fromkeys(normalize_project_name(n) for n in names))
        if len(unique) <= 1:
            return {n: self.find(n, refresh=refresh) for n in unique}
        with RequestPool(max_workers=min(self.max_workers, len(unique))) as pool:
            results = pool.map(lambda n: self.find(n, refresh=refresh), unique)
            return dict(zip(unique, results, strict=True))

    def _page_fetcher(
        self, order: Sequence[Source], name: str, refresh: bool
    ) -> Callable[[int], ProjectPage | IndexClientError | None]:
        """How to get source i's page for `name`.

        best-match needs every page, so they are fetched concurrently up front; the other
        strategies stop at the first source that answers and fetch in order, so later sources
        never even see the name.
        """
        if self.strategy is Strategy.BEST_MATCH and len(order) > 1:
            with RequestPool(max_workers=min(self.max_workers, len(order))) as pool:
                fetched = list(pool.map(lambda s: _page_or_error(s, name, refresh), order))
            return fetched.__getitem__
        return lambda index: _page_or_error(order[index], name, refresh)

    # --- metadata through the candidate's own source ------------------------------------------

    def core_metadata(self, candidate: Candidate) -> bytes:
        return self.source(candidate.source).core_metadata(candidate.file)

    def metadata_from_ranges(self, candidate: Candidate) -> bytes | None:
        """`core_metadata` of a wheel read with range requests, not hash-checked (see
        `IndexSource.metadata_from_ranges`); None where that cannot be done."""
        return self.source(candidate.source).metadata_from_ranges(candidate.file)

    def variant_metadata(self, lookup: Lookup, candidate: Candidate) -> VariantMetadata | None:
        """The variant metadata of the candidate's version, from the candidate's source only
        (PEP 825: metadata of different sources is never combined)."""
        page = lookup.page_for(candidate.source)
        if page is None:
            raise MetadataUnavailable(f"{candidate.file.filename}: no page from {candidate.source}")
        return self.source(candidate.source).variant_metadata(page, candidate.version)


def _page_or_error(
    source: Source, name: str, refresh: bool
) -> ProjectPage | IndexClientError | None:
    try:
        return source.project(name, refresh=refresh)
    except IndexClientError as exc:
        return exc

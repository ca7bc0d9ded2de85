"""The resolvelib provider: requirements, candidates and dependencies, variant-aware at every node.

Identifiers follow resolvelib's extras pattern: `name` is the distribution itself, `name[a,b]` the
distribution with those extras (it depends on `name==version`), and `name[@defaults]` a bare
occurrence, which installs the package's PEP 771 default extras. Because every bare occurrence maps
to the same identifier, "defaults apply when any occurrence is bare" falls out of the graph, and
`name[]` (an explicit empty set) maps to the plain `name` and so opts out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from resolvelib import AbstractProvider

from wheelnext_jupyter.index.models import FileKind
from wheelnext_jupyter.record import MutableRecord, Record, field
from wheelnext_jupyter.resolve.admission import admit_lazily, is_exact_pin
from wheelnext_jupyter.resolve.build import BuildError
from wheelnext_jupyter.resolve.candidates import FileVerdict, Pick, VersionFile
from wheelnext_jupyter.resolve.default_extras import ExtrasMetadata, read_extras_metadata
from wheelnext_jupyter.resolve.metadata_fields import MetadataFields, read_fields
from wheelnext_jupyter.resolve.requirements import (
    Request,
    dependencies,
    requires_dist_origin,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from packaging.version import Version
    from resolvelib.structs import Matches, RequirementInformation

    from wheelnext_jupyter.index.sources import Candidate as IndexCandidate
    from wheelnext_jupyter.resolve.build import SourceBuilder
    from wheelnext_jupyter.resolve.candidates import CandidateFinder
    from wheelnext_jupyter.resolve.installed import InstalledDistribution
    from wheelnext_jupyter.resolve.lookahead import Lookahead

DEFAULTS = "@defaults"
#: The identifier of the target's Python itself: Requires-Python becomes an ordinary edge to it, so
#: a conflict with it is explained like any other.
PYTHON = "<python>"


class Requirement(Record):
    """One requirement edge: the request it came from and the identifier it constrains."""

    name: NormalizedName
    #: None: bare (default extras); empty: the distribution itself; else these extras.
    extras: frozenset[str] | None
    specifier: SpecifierSet
    request: Request
    #: The edge from `name[extras]` to `name==version` that keeps both at one version: not a
    #: reason anyone gave, so it is left out of "passed over" explanations.
    same_version_pin: bool = False
    #: `is_satisfied_by` answers per candidate version: resolvelib asks the same pairs over and
    #: over while it backtracks, and hashing a SpecifierSet is costlier than the check itself.
    satisfied: dict[Version, bool] = field(default_factory=dict, compare=False, repr=False)

    @property
    def identifier(self) -> str:
        return identifier_for(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.request.text} (from {self.request.comes_from})"


def identifier_for(name: str, extras: frozenset[str] | None) -> str:
    if name == PYTHON:
        return PYTHON
    if extras is None:
        return f"{name}[{DEFAULTS}]"
    if not extras:
        return name
    return f"{name}[{','.join(sorted(extras))}]"


class ResolverCandidate(Record):
    """A pick, seen under one identifier (the distribution, or it with extras)."""

    pick: Pick
    extras: frozenset[str] | None = frozenset()

    @property
    def name(self) -> NormalizedName:
        return self.pick.name

    @property
    def version(self) -> Version:
        return self.pick.version

    @property
    def identifier(self) -> str:
        return identifier_for(self.name, self.extras)


class ResolveOptions(MutableRecord):
    pre: bool = False
    no_deps: bool = False
    #: Names to upgrade (`-U NAME`); `upgrade_all` for every package.
    upgrade: frozenset[str] = frozenset()
    upgrade_all: bool = False
    #: Reinstall even what is installed at the right version.
    force_reinstall: bool = False
    no_default_extras: bool = False


#: Wheels from this size on (or of unknown size) are read from their ends for guesses: a range
#: request or two cost a few round trips, against the time a whole download of that size takes
#: even on a fast link (for wheels of ten megabytes, reading the ends measured no faster).
PEEK_BY_RANGES_FROM = 32 << 20

#: Reads the core metadata of a remote wheel from the download the install will use, waiting
#: for it or (False) only if it is here already; None when it cannot (the metadata then comes
#: from the index as without it).
WheelMetadataReader = Callable[[Pick, bool], "bytes | None"]


class MetadataSource:
    """Core metadata of a pick, read once (from the index's metadata file, the wheel, or the
    installed `*.dist-info`).

    An index that publishes no metadata file for a wheel leaves only the wheel to read. With
    `from_downloads` (an install follows, its downloads already running), such a wheel is
    read from its download for the install, started now if it has not been: one download,
    not one for the resolver and another for the installer, and the lookahead can follow
    the wheel's dependencies ahead of the resolver as it does with metadata files. The
    lookahead and the resolver share what is read here, from any thread: a pick is read
    once, whoever asks first.
    """

    def __init__(
        self,
        finder: CandidateFinder,
        build: SourceBuilder | None = None,
        *,
        from_downloads: WheelMetadataReader | None = None,
    ) -> None:
        self.finder = finder
        self._cache: dict[tuple[str, str, str], str] = {}
        self._headers: dict[tuple[str, str, str], MetadataFields] = {}
        self._extras: dict[tuple[str, str, str], ExtrasMetadata] = {}
        self.build = build
        self._from_downloads = from_downloads
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, str, str], threading.Lock] = {}

    def reads_download(self, pick: Pick) -> bool:
        """Whether `pick`'s metadata is read from its download for the install: a remote
        wheel with no metadata file, with `from_downloads` given."""
        candidate = pick.candidate
        if self._from_downloads is None or candidate is None:
            return False
        file = candidate.file
        return (
            file.kind is FileKind.WHEEL
            and not file.core_metadata.available
            and file.url.startswith(("https:", "http:"))
        )

    def text(self, pick: Pick) -> str:
        key = pick.key
        found = self._cache.get(key)
        if found is not None:
            return found
        # One read per pick: the lookahead and the resolver often ask at the same time.
        with self._lock:
            reading = self._reading.setdefault(key, threading.Lock())
        with reading:
            if key not in self._cache:
                self._cache[key] = self._read(pick)
        return self._cache[key]

    def _read(self, pick: Pick) -> str:
        if pick.candidate is None:
            assert pick.installed is not None
            return pick.installed.metadata_text
        if pick.is_sdist:
            if self.build is None:
                raise BuildError(
                    f"{pick.name} {pick.version} has only a source distribution, and source "
                    "builds are not available here"
                )
            return self.build.metadata(pick)
        raw = None
        if self._from_downloads is not None and self.reads_download(pick):
            raw = self._from_downloads(pick, True)
        if raw is None:
            raw = self.finder.sources.core_metadata(pick.candidate)
        return raw.decode("utf-8", errors="replace")

    def peek(self, pick: Pick) -> MetadataFields:
        """Fields to guess from: for a large wheel read from its download (`reads_download`)
        that is not here yet, what the end of the file gives by range requests, which is not
        hash-checked and so never kept for the resolver; otherwise `headers`. The lookahead
        then follows a large wheel's dependencies without waiting for the whole download."""
        key = pick.key
        if key not in self._cache and self.reads_download(pick):
            assert pick.candidate is not None and self._from_downloads is not None
            here = self._from_downloads(pick, False)
            size = pick.candidate.file.size
            if here is not None:  # downloaded already: as the resolver would read it
                self._cache.setdefault(key, here.decode("utf-8", errors="replace"))
            elif size is None or size >= PEEK_BY_RANGES_FROM:
                raw = self.finder.sources.metadata_from_ranges(pick.candidate)
                if raw is not None:
                    return read_fields(raw.decode("utf-8", errors="replace"))
        return self.headers(pick)

    def headers(self, pick: Pick) -> MetadataFields:
        """The metadata's header fields, parsed once per pick."""
        key = pick.key
        if key not in self._headers:
            self._headers[key] = read_fields(self.text(pick))
        return self._headers[key]

    def extras(self, pick: Pick) -> ExtrasMetadata:
        """Provides-Extra and Default-Extra of the pick (PEP 771), read once."""
        key = pick.key
        if key not in self._extras:
            self._extras[key] = read_extras_metadata(self.headers(pick))
        return self._extras[key]

    def requires_dist(self, pick: Pick) -> list[str]:
        return self.headers(pick).get_all("Requires-Dist", []) or []


class Provider(AbstractProvider[Requirement, ResolverCandidate, str]):
    def __init__(
        self,
        finder: CandidateFinder,
        metadata: MetadataSource,
        *,
        options: ResolveOptions,
        installed: Mapping[str, InstalledDistribution],
        constraints: Mapping[str, Sequence[Request]],
        user_requests: Mapping[str, Sequence[Request]],
        lookahead: Lookahead | None = None,
    ) -> None:
        self.finder = finder
        self.lookahead = lookahead
        self.metadata = metadata
        self.options = options
        self.installed = installed
        self.constraints = constraints
        self.user_requests = user_requests
        #: Per name: every version-level verdict, for the report's decision record.
        self.rejections: dict[str, dict[str, tuple[FileVerdict, ...]]] = {}
        self.version_reasons: dict[str, dict[str, str]] = {}
        self.warnings: list[str] = []
        self.extras_reasons: dict[str, list[str]] = {}

    # -- resolvelib interface ----------------------------------------------------------------

    def identify(self, requirement_or_candidate: Requirement | ResolverCandidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, ResolverCandidate],
        candidates: Mapping[str, Iterator[ResolverCandidate]],
        information: Mapping[str, Iterator[RequirementInformation[Requirement, ResolverCandidate]]],
        backtrack_causes: Sequence[RequirementInformation[Requirement, ResolverCandidate]],
    ) -> Any:
        infos = list(information[identifier])
        pinned = any(is_exact_pin(info.requirement.specifier) for info in infos)
        requested = any(info.parent is None for info in infos)
        causes = {cause.requirement.name for cause in backtrack_causes}
        # Work on conflicting names first, then pins, then what the user asked for directly.
        return (
            identifier.split("[")[0] not in causes,
            not pinned,
            not requested,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[ResolverCandidate]],
    ) -> Matches[ResolverCandidate]:
        reqs = list(requirements[identifier])
        if not reqs:
            return []
        if identifier == PYTHON:
            version = self.finder.python_version
            if not all(r.specifier.contains(version, prereleases=True) for r in reqs):
                return []
            return [ResolverCandidate(Pick(NormalizedName(PYTHON), version, candidate=None))]
        name = reqs[0].name
        extras = reqs[0].extras
        specifier = SpecifierSet()
        #: Without the same-version pins: what people and packages asked for.
        stated = SpecifierSet()
        for req in reqs:
            specifier &= req.specifier
            if not req.same_version_pin:
                stated &= req.specifier
        for constraint in self.constraints.get(name, ()):
            specifier &= constraint.specifier
            stated &= constraint.specifier
        bad = {c.pick.key for c in incompatibilities[identifier]}

        # A factory: resolvelib iterates lazily, so a version's files (and its variant metadata)
        # are only examined when the resolver gets that far down the list.
        def matches() -> Iterator[ResolverCandidate]:
            for pick in self._picks(name, specifier, stated):
                if pick.key not in bad:
                    yield ResolverCandidate(pick, extras)

        return matches

    def is_satisfied_by(self, requirement: Requirement, candidate: ResolverCandidate) -> bool:
        found = requirement.satisfied.get(candidate.version)
        if found is None:
            found = requirement.satisfied[candidate.version] = requirement.specifier.contains(
                candidate.version, prereleases=True
            )
        return found

    def get_dependencies(self, candidate: ResolverCandidate) -> Iterable[Requirement]:
        pick = candidate.pick
        if pick.name == PYTHON:
            return []
        if candidate.extras is not None and not candidate.extras:
            # The distribution itself: Requires-Python, then its base dependencies.
            python = self._requires_python(pick)
            if self.options.no_deps:
                return python
            dependencies = self._dependencies(pick, frozenset())
            # The resolver will ask for these one at a time: fetch their pages together now
            # (in the background when looking ahead, which also follows their dependencies).
            if self.lookahead is not None:
                self.lookahead.start((r.name, r.specifier) for r in dependencies)
            else:
                self.finder.prefetch(r.name for r in dependencies)
            return python + dependencies
        chosen = self.extras_for(candidate)
        # The extras identifier always pins the distribution itself to the same version.
        base_request = Request(
            name=pick.name,
            extras=frozenset(),
            specifier=SpecifierSet(f"=={pick.version}"),
            marker=None,
            comes_from=f"{identifier_for(pick.name, candidate.extras)}",
            text=f"{pick.name}=={pick.version}",
        )
        edges = [
            Requirement(
                pick.name, frozenset(), base_request.specifier, base_request, same_version_pin=True
            )
        ]
        if self.options.no_deps or not chosen:
            return edges
        base = {r.request.text for r in self._dependencies(pick, frozenset())}
        extra_deps = [r for r in self._dependencies(pick, chosen) if r.request.text not in base]
        return edges + extra_deps

    def extras_for(self, candidate: ResolverCandidate) -> frozenset[str]:
        """The extras installed with `candidate`: those asked for that it declares, or its PEP 771
        default extras when it was asked for without extras."""
        pick = candidate.pick
        declared = self.metadata.extras(pick)
        shown = f"{pick.name} {pick.version}"
        if candidate.extras is None:
            if self.options.no_default_extras or not declared.defaults:
                return frozenset()
            defaults = frozenset(e for e in declared.defaults if e in declared.provides)
            reason = (
                f"{shown}: default extras {', '.join(sorted(defaults))} (PEP 771), because it "
                "was requested without extras"
            )
            self._note_extras(pick.name, reason)
            return defaults
        unknown = candidate.extras - declared.provides
        if unknown:
            warning = f"{shown} does not provide the extra(s) {', '.join(sorted(unknown))}; ignored"
            if warning not in self.warnings:
                self.warnings.append(warning)
        return candidate.extras & declared.provides

    # -- helpers -----------------------------------------------------------------------------

    def _note_extras(self, name: str, reason: str) -> None:
        reasons = self.extras_reasons.setdefault(name, [])
        if reason not in reasons:
            reasons.append(reason)

    def _requires_python(self, pick: Pick) -> list[Requirement]:
        """The metadata's Requires-Python as an edge to the target's Python (the index page may
        not announce it, and installed distributions never do)."""
        if pick.candidate is None:
            return []
        text = self.metadata.headers(pick).get("Requires-Python")
        if not text:
            return []
        try:
            specifier = SpecifierSet(str(text))
        except InvalidSpecifier:
            warning = f"{pick.name} {pick.version} has an invalid Requires-Python {text!r}; ignored"
            if warning not in self.warnings:
                self.warnings.append(warning)
            return []
        if not specifier.contains(self.finder.python_version, prereleases=True):
            # Final: the target's Python cannot change, so this version is out for good.
            self.version_reasons.setdefault(pick.name, {})[str(pick.version)] = (
                f"requires Python {specifier} (its metadata); the target runs "
                f"Python {self.finder.python_version}"
            )
        request = Request(
            name=NormalizedName(PYTHON),
            extras=frozenset(),
            specifier=specifier,
            marker=None,
            comes_from=f"{pick.name} {pick.version} (Requires-Python)",
            text=f"Python {specifier}",
        )
        return [Requirement(request.name, frozenset(), specifier, request)]

    def _dependencies(self, pick: Pick, extras: frozenset[str]) -> list[Requirement]:
        origin = requires_dist_origin(pick.name, pick.version)
        requests = dependencies(
            self.metadata.requires_dist(pick),
            origin=origin,
            extras=extras,
            environment=self.finder.markers,
            variant=pick.marker_variant(),
        )
        return [Requirement(req.name, req.extras, req.specifier, req) for req in requests]

    def _installed_pick(self, name: str, specifier: SpecifierSet) -> Pick | None:
        dist = self.installed.get(name)
        if dist is None or self.options.force_reinstall:
            return None
        if self.options.upgrade_all or name in self.options.upgrade:
            return None
        if not specifier.contains(dist.version, prereleases=True):
            return None
        return Pick(
            name=dist.name,
            version=dist.version,
            candidate=None,
            installed=dist,
            notes=(
                f"{dist.name} {dist.version} is already installed and satisfies {specifier or 'the request'}",
            ),
        )

    def _picks(
        self, name: NormalizedName, specifier: SpecifierSet, stated: SpecifierSet
    ) -> Iterator[Pick]:
        installed = self._installed_pick(name, specifier)
        if installed is not None:
            yield installed

        def viable(candidate: IndexCandidate) -> bool:
            # PEP 766 first-match falls through only when nothing here could be installed: the
            # version must match and the file must fit the target (Python, tags).
            return specifier.contains(
                candidate.version, prereleases=True
            ) and self.finder.fits_target(candidate)

        lookup = self.finder.lookup(name, viable, specifier=specifier)
        versions = self.finder.versions(name, lookup)
        pinned_by_user = any(
            is_exact_pin(req.specifier) for req in self.user_requests.get(name, ())
        )
        verdicts = admit_lazily(
            [VersionFile(version, lookup, source) for version, source in versions],
            specifier,
            pre=self.options.pre,
            pinned_by_user=pinned_by_user,
        )
        reasons = self.version_reasons.setdefault(name, {})
        rejected = self.rejections.setdefault(name, {})
        for verdict in verdicts:
            version_file = verdict.candidate
            assert isinstance(version_file, VersionFile)
            key = str(version_file.version)
            if not verdict.admitted:
                only_pinned_out = not specifier.contains(
                    version_file.version, prereleases=True
                ) and stated.contains(version_file.version, prereleases=True)
                if not only_pinned_out:
                    reasons.setdefault(key, verdict.reason)
                continue
            outcome = self.finder.outcome(name, lookup, version_file.version, version_file.source)
            if outcome.pick is None:
                if key not in reasons:  # asked again at every match: said once
                    reasons[key] = _no_file_fits(outcome.files)
                rejected[key] = outcome.files
                continue
            if verdict.warning and verdict.warning not in self.warnings:
                self.warnings.append(verdict.warning)
            if installed is not None and installed.version == outcome.pick.version:
                continue
            yield outcome.pick


def canonical(name: str) -> NormalizedName:
    return canonicalize_name(name)


def _no_file_fits(files: Sequence[FileVerdict]) -> str:
    """Why no file of a version was taken: the files' reasons, each said once (their hash,
    their Python, their tags, their variant), a few at most."""
    why = list(dict.fromkeys(f.reasons[0] for f in files if f.reasons))
    if not why:
        return "no file of this version fits the target"
    shown = "; ".join(why[:3]) + (f"; and {len(why) - 3} more" if len(why) > 3 else "")
    return f"no file of this version fits: {shown}"

"""The installable files of a package, one per version, chosen for the target, with a verdict for
every file considered.

Per version: drop files whose Requires-Python or tags do not fit the target; judge variant wheels
against the target's supported properties (PEP 825 order, each source's metadata on its own); take
the best wheel (variants, then the null variant, then non-variant wheels; tags; build number);
fall back to the sdist only when no wheel fits.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, NamedTuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from wheelnext_jupyter.index.models import FileKind
from wheelnext_jupyter.index.priority import Strategy
from wheelnext_jupyter.record import MutableRecord, Record, field
from wheelnext_jupyter.resolve.hash_checking import NOT_HASHED_AS_GIVEN, HashRules, verdict
from wheelnext_jupyter.variants.abi_dependency import abi_dependency_configs
from wheelnext_jupyter.variants.markers import VariantMarkerEnvironment
from wheelnext_jupyter.variants.ordering import (
    Selection,
    SelectionOptions,
    order_variants,
    order_wheels,
    supported_properties,
)
from wheelnext_jupyter.variants.properties import ABI_DEPENDENCY_NAMESPACE, Variant
from wheelnext_jupyter.variants.support import resolve_support

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from packaging.utils import NormalizedName

    from wheelnext_jupyter.index.priority import Lookup, SourceSet
    from wheelnext_jupyter.index.sources import Candidate, SourceRef
    from wheelnext_jupyter.install.target import TargetEnvironment
    from wheelnext_jupyter.resolve.installed import InstalledDistribution
    from wheelnext_jupyter.variants.filename import WheelFilename
    from wheelnext_jupyter.variants.metadata import VariantMetadata
    from wheelnext_jupyter.variants.properties import SupportedConfigs, VariantProperty

    #: Given a version's metadata: configs answered by external plugins, and for the namespaces
    #: without an answer, why.
    ExternalAnswers = Callable[[VariantMetadata], tuple[SupportedConfigs, Mapping[str, str]]]


class VersionFile(NamedTuple):
    """One version as admission sees it (yanked only when every file of it is yanked). A
    tuple: admission is given one for every version of a project, on PyPI often hundreds."""

    version: Version
    lookup: Lookup
    source: SourceRef

    @property
    def filename(self) -> str:
        return f"{self.lookup.name} {self.version}"

    @property
    def yanked(self) -> bool:
        return self.lookup.yanked(self.version, self.source)[0]

    @property
    def yanked_reason(self) -> str | None:
        return self.lookup.yanked(self.version, self.source)[1]


class FileVerdict(Record):
    """One file's outcome for the report."""

    filename: str
    source: str
    #: "chosen", "usable" (fits, but another file of the version is better) or "rejected".
    verdict: str
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "source": self.source,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
        }


class Pick(Record):
    """The file that would be installed for one version of a package (or the installed copy)."""

    name: NormalizedName
    version: Version
    #: The index file chosen; None when the installed distribution is used as it is.
    candidate: Candidate | None
    installed: InstalledDistribution | None = None
    variant: Variant | None = None
    #: The variant's properties the target supports (PEP 825 marker narrowing).
    narrowed: frozenset[VariantProperty] = frozenset()
    selection: Selection | None = None
    files: tuple[FileVerdict, ...] = ()
    #: Why this version is usable at all, beyond its files (e.g. "already installed").
    notes: tuple[str, ...] = ()

    @property
    def source(self) -> SourceRef | None:
        return self.candidate.source if self.candidate is not None else None

    @property
    def wheel(self) -> WheelFilename | None:
        return self.candidate.file.wheel if self.candidate is not None else None

    @property
    def is_sdist(self) -> bool:
        return self.candidate is not None and self.candidate.file.kind is FileKind.SDIST

    @property
    def label(self) -> str | None:
        if self.candidate is None:
            return self.installed.variant_label if self.installed else None
        return self.variant.label if self.variant is not None else None

    def marker_variant(self) -> VariantMarkerEnvironment | None:
        """The variant marker values for `Requires-Dist` (None for a non-variant wheel)."""
        if self.variant is None:
            return None
        return VariantMarkerEnvironment.for_wheel(
            self.variant.label, self.variant.properties, lambda p: p in self.narrowed
        )

    @property
    def key(self) -> tuple[str, str, str]:
        filename = self.candidate.file.filename if self.candidate else "installed"
        return (self.name, str(self.version), filename)


class VersionOutcome(Record):
    """Every file of one version from one source, and the pick if any file fits."""

    version: Version
    source: SourceRef
    pick: Pick | None
    files: tuple[FileVerdict, ...]


class VariantPolicy(MutableRecord):
    """How variants are judged for this resolution: the target's support and the user's switches."""

    supported_for: Callable[[Iterable[str]], SupportedConfigs]
    environment: Mapping[str, str]
    enabled_optional: frozenset[str] = frozenset()
    #: Per package (normalised name): the user's exclude / select / prefer options.
    options: Mapping[str, SelectionOptions] = field(default_factory=dict)
    #: For packages without options of their own (global preferences).
    default_options: SelectionOptions = field(default_factory=SelectionOptions)
    #: Providers we do not build in (trusted external plugins): given the metadata, the configs
    #: they answered, and for the others why there is no answer (untrusted, failed).
    external: ExternalAnswers | None = None
    #: Versions installed in the target, for `abi_dependency` variants.
    installed_versions: Mapping[str, Version] = field(default_factory=dict)
    no_variants: bool = False

    def select(self, name: str, metadata: VariantMetadata) -> Selection:
        namespaces = set(metadata.namespace_priorities)
        for variant in metadata.variants.values():
            namespaces.update(variant.namespaces)
        supported = dict(self.supported_for(sorted(namespaces - {ABI_DEPENDENCY_NAMESPACE})))
        unavailable: Mapping[str, str] = {}
        if self.external is not None:
            answered, unavailable = self.external(metadata)
            for ns, configs in answered.items():
                supported.setdefault(ns, configs)
        if ABI_DEPENDENCY_NAMESPACE in namespaces:
            supported[ABI_DEPENDENCY_NAMESPACE] = tuple(
                abi_dependency_configs(self.installed_versions)
            )
        support = resolve_support(
            metadata,
            supported,
            environment=self.environment,
            enabled_optional=self.enabled_optional,
            unavailable=unavailable,
        )
        return order_variants(metadata, support, self.options.get(name, self.default_options))


def _python_version(target: TargetEnvironment) -> Version:
    return Version(".".join(map(str, target.version)))


class CandidateFinder:
    """Per package: the versions on offer, each with its best file for the target (cached)."""

    def __init__(
        self,
        sources: SourceSet,
        target: TargetEnvironment,
        policy: VariantPolicy,
        *,
        refresh: bool = False,
        only_binary: bool = False,
        python_version: Version | None = None,
        hashes: HashRules | None = None,
    ) -> None:
        self.sources = sources
        #: pip's hash-checking mode: files whose published hash matches no --hash are passed over.
        self.hashes = hashes or HashRules()
        self.target = target
        self.policy = policy
        self.refresh = refresh
        self.only_binary = only_binary
        self.python_version = python_version or _python_version(target)
        markers = dict(target.markers)
        if python_version is not None:
            # Resolving for another Python than the target interpreter's (e.g. a lock for 3.12).
            markers["python_version"] = f"{python_version.major}.{python_version.minor}"
            markers["python_full_version"] = str(python_version)
        #: The marker environment dependencies are evaluated in.
        self.markers: Mapping[str, str] = markers
        self._lookups: dict[str, Lookup] = {}
        self._by_request: dict[tuple[str, str], Lookup] = {}
        self._outcomes: dict[tuple[str, str, str], VersionOutcome] = {}
        self._ranked: dict[int, tuple[Lookup, tuple[tuple[Version, SourceRef], ...]]] = {}
        self._selections: dict[
            tuple[str, str, str], tuple[Selection | None, VariantMetadata | None]
        ] = {}
        self._lock = threading.RLock()
        #: Pages being fetched by `ahead`, set when they are in.
        self._pending: dict[str, threading.Event] = {}
        self.warnings: list[str] = []

    # -- lookups -----------------------------------------------------------------------------

    def lookup(
        self,
        name: str,
        viable: Callable[[Candidate], bool] | None = None,
        *,
        specifier: SpecifierSet | None = None,
    ) -> Lookup:
        """The candidates of `name`. Under `first-match` the answer depends on what is viable,
        so it is kept per `specifier` (the one `viable` tests); otherwise per name."""
        key = (name, str(specifier) if self._per_specifier else "")
        pending = self._pending.get(name)
        if pending is not None:
            # Being fetched ahead: wait for that answer (or the HTTP cache) instead of asking twice.
            pending.wait()
        with self._lock:
            found = self._by_request.get(key)
            if found is None:
                found = self.sources.find(name, viable=viable, refresh=self.refresh)
                self._by_request[key] = found
            # Also for answers fetched ahead (`prefetch`, `ahead`), which keep their warnings.
            self.warnings.extend(w for w in found.warnings if w not in self.warnings)
            # The latest answer per name, for explanations.
            self._lookups[name] = found
            return found

    def ahead(self, name: str) -> Lookup:
        """The page of `name` for looking ahead of the resolver, fetched without holding the
        finder's lock (the resolver goes on meanwhile) and kept for it where the answer does
        not depend on the request."""
        with self._lock:
            found = self._by_request.get((name, ""))
            if found is not None:
                return found
            done = self._pending[name] = threading.Event()
        try:
            found = self.sources.find(name, refresh=self.refresh)
            if not self._per_specifier:
                with self._lock:
                    found = self._by_request.setdefault((name, ""), found)
                    self._lookups.setdefault(name, found)
        finally:
            with self._lock:
                self._pending.pop(name, None)
            done.set()
        return found

    def latest_lookup(self, name: str) -> Lookup | None:
        """The latest answer for `name`, None when it was never looked up (for explanations)."""
        return self._lookups.get(name)

    @property
    def _per_specifier(self) -> bool:
        return self.sources.strategy is Strategy.FIRST_MATCH

    def prefetch(self, names: Iterable[str]) -> None:
        """Fetch several project pages concurrently.

        Under `first-match` the answers are not kept (no viability test applies here); the
        fetch still warms the HTTP client's cache for the lookups that follow.
        """
        wanted = [n for n in dict.fromkeys(names) if n not in self._lookups]
        if len(wanted) < 2:
            return
        found = self.sources.find_many(wanted, refresh=self.refresh)
        if self._per_specifier:
            return
        for name, lookup in found.items():
            with self._lock:
                self._by_request.setdefault((name, ""), lookup)
                self._lookups.setdefault(name, lookup)

    def versions(self, name: str, lookup: Lookup) -> tuple[tuple[Version, SourceRef], ...]:
        """(version, source) pairs on offer, newest first; for equal versions the earlier source.
        Sorted once per lookup: the resolver and the lookahead ask at every admission."""
        known = self._ranked.get(id(lookup))
        if known is not None and known[0] is lookup:
            return known[1]
        order = {ref: index for index, ref in enumerate(s.ref for s in self.sources.sources)}
        seen: dict[Version, SourceRef] = {}
        for offer in sorted(lookup.offers, key=lambda o: order.get(o.ref, len(order))):
            for version in offer.versions():
                seen.setdefault(version, offer.ref)
        ranked = tuple(sorted(seen.items(), key=lambda item: item[0], reverse=True))
        # Keyed by identity, holding the lookup so that its id is not reused meanwhile.
        self._ranked[id(lookup)] = (lookup, ranked)
        return ranked

    def fits_target(self, candidate: Candidate) -> bool:
        """Whether a file could be installed on the target at all (Requires-Python, wheel tags)."""
        file = candidate.file
        if candidate.unusable:
            return False
        if file.requires_python:
            try:
                if not SpecifierSet(file.requires_python).contains(
                    self.python_version, prereleases=True
                ):
                    return False
            except InvalidSpecifier:
                return False
        if file.kind is FileKind.WHEEL and file.wheel is not None:
            return any(tag in self.target.supported_tags() for tag in file.wheel.tags)
        return not (file.kind is FileKind.SDIST and self.only_binary)

    # -- one version -------------------------------------------------------------------------

    def outcome(
        self, name: str, lookup: Lookup, version: Version, source: SourceRef
    ) -> VersionOutcome:
        key = (name, str(version), source.url)
        with self._lock:
            found = self._outcomes.get(key)
            if found is None:
                files = list(lookup.of_version(version, source))
                found = self._decide(name, lookup, version, source, files)
                self._outcomes[key] = found
            return found

    def _selection(
        self, name: str, lookup: Lookup, candidate: Candidate
    ) -> tuple[Selection | None, VariantMetadata | None]:
        key = (name, str(candidate.version), candidate.source.url)
        if key not in self._selections:
            metadata = self.sources.variant_metadata(lookup, candidate)
            selection = self.policy.select(name, metadata) if metadata is not None else None
            self._selections[key] = (selection, metadata)
        return self._selections[key]

    def _decide(
        self,
        name: str,
        lookup: Lookup,
        version: Version,
        source: SourceRef,
        files: list[Candidate],
    ) -> VersionOutcome:
        verdicts: dict[str, FileVerdict] = {}
        shown_source = str(source)

        def reject(candidate: Candidate, *reasons: str) -> None:
            verdicts[candidate.file.filename] = FileVerdict(
                candidate.file.filename, shown_source, "rejected", tuple(reasons)
            )

        wheels: list[Candidate] = []
        sdists: list[Candidate] = []
        hashed = self.hashes.for_project(name)
        for candidate in files:
            file = candidate.file
            if candidate.unusable:
                reject(candidate, candidate.unusable)
                continue
            if hashed and verdict(hashed, file.hashes) is False:
                reject(candidate, NOT_HASHED_AS_GIVEN.format(name=name))
                continue
            if file.requires_python:
                try:
                    allowed = SpecifierSet(file.requires_python)
                except InvalidSpecifier:
                    reject(candidate, f"invalid Requires-Python {file.requires_python!r}")
                    continue
                if not allowed.contains(self.python_version, prereleases=True):
                    reject(
                        candidate,
                        f"requires Python {file.requires_python}; the target runs "
                        f"Python {self.python_version}",
                    )
                    continue
            if file.kind is FileKind.WHEEL and file.wheel is not None:
                if not any(tag in self.target.supported_tags() for tag in file.wheel.tags):
                    reject(
                        candidate,
                        f"its tags ({file.wheel.python_tag}-{file.wheel.abi_tag}-"
                        f"{file.wheel.platform_tag}) do not fit the target interpreter",
                    )
                    continue
                wheels.append(candidate)
            elif file.kind is FileKind.SDIST:
                sdists.append(candidate)

        plain = [c for c in wheels if c.file.wheel is not None and not c.file.wheel.is_variant]
        variant_wheels = [c for c in wheels if c.file.wheel is not None and c.file.wheel.is_variant]
        selection: Selection | None = None
        metadata: VariantMetadata | None = None
        if variant_wheels and self.policy.no_variants:
            for candidate in variant_wheels:
                reject(candidate, "variant wheels are switched off (--no-variants)")
            variant_wheels = []
        elif variant_wheels:
            selection, metadata = self._selection(name, lookup, variant_wheels[0])
            if selection is None:
                for candidate in variant_wheels:
                    reject(candidate, "no variant metadata for this version")
                variant_wheels = []

        aliases = metadata.label_aliases if metadata is not None else {}
        usable_variants: list[Candidate] = []
        for candidate in variant_wheels:
            assert candidate.file.wheel is not None and selection is not None
            label = aliases.get(candidate.file.wheel.label or "", candidate.file.wheel.label or "")
            if label in selection.order:
                usable_variants.append(candidate)
                continue
            try:
                reasons = selection.verdict(label).reasons
            except KeyError:
                reasons = (f"label `{label}` is not in the version's variant metadata",)
            reject(candidate, *(f"variant `{label}`: {r}" for r in reasons))

        ordered_wheels = order_wheels(
            [c.file.wheel for c in usable_variants + plain if c.file.wheel is not None],
            selection,
            self.target.tag_ranks,
            aliases,
        )
        by_wheel = {id(c.file.wheel): c for c in usable_variants + plain}
        ranked = [by_wheel[id(w)] for w in ordered_wheels]

        chosen: Candidate | None = None
        if ranked:
            chosen = ranked[0]
            for other in ranked[1:]:
                verdicts[other.file.filename] = FileVerdict(
                    other.file.filename,
                    shown_source,
                    "usable",
                    (f"fits, but {chosen.file.filename} ranks higher",),
                )
            for sdist in sdists:
                verdicts[sdist.file.filename] = FileVerdict(
                    sdist.file.filename, shown_source, "usable", ("a wheel fits, so no build",)
                )
        elif sdists and not self.only_binary:
            chosen = sdists[0]
        else:
            for sdist in sdists:
                reject(sdist, "source builds are off (--only-binary)")

        if chosen is None:
            return VersionOutcome(version, source, None, tuple(verdicts.values()))

        variant: Variant | None = None
        narrowed: frozenset[VariantProperty] = frozenset()
        why = ["best file for the target"]
        wheel = chosen.file.wheel
        if (
            wheel is not None
            and wheel.is_variant
            and selection is not None
            and metadata is not None
        ):
            label = aliases.get(wheel.label or "", wheel.label or "")
            variant = metadata.variants[label]
            narrowed = supported_properties(variant, selection.namespaces)
            why = [r for r in selection.verdict(label).reasons]
        elif wheel is not None and selection is not None:
            why = ["no variant of this version fits the target; the non-variant wheel is used"]
        elif chosen.file.kind is FileKind.SDIST:
            why = ["no wheel fits the target; built from source"]
        verdicts[chosen.file.filename] = FileVerdict(
            chosen.file.filename, shown_source, "chosen", tuple(why)
        )
        ordered = [verdicts[c.file.filename] for c in files if c.file.filename in verdicts]
        pick = Pick(
            name=chosen.file.name,
            version=version,
            candidate=chosen,
            variant=variant,
            narrowed=narrowed,
            selection=selection,
            files=tuple(ordered),
        )
        return VersionOutcome(version, source, pick, tuple(ordered))

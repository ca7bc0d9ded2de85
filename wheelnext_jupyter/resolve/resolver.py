"""Requests in, an exact plan out: which file of which version from which source, and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.resolve.hash_checking import NOT_HASHED_AS_GIVEN
from wheelnext_jupyter.resolve.lookahead import Lookahead
from wheelnext_jupyter.resolve.provider import (
    PYTHON,
    MetadataSource,
    Provider,
    Requirement,
    ResolveOptions,
    ResolverCandidate,
)
from wheelnext_jupyter.resolve.requirements import request_applies

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName
    from packaging.version import Version

    from wheelnext_jupyter.resolve.candidates import CandidateFinder, FileVerdict, Pick
    from wheelnext_jupyter.resolve.installed import InstalledDistribution
    from wheelnext_jupyter.resolve.requirements import Request

#: resolvelib's bound on resolution rounds; pip uses the same order of magnitude.
MAX_ROUNDS = 200_000


class ResolutionError(Exception):
    """The requests cannot be satisfied; the message says which requirements conflict and who
    asked for them."""


class PlannedPackage(Record):
    pick: Pick
    #: Extras installed with it (explicit, and PEP 771 defaults).
    extras: frozenset[str]
    #: Named by the user (command line, requirements file), not only a dependency.
    requested: bool
    #: "install", "upgrade", "downgrade", "reinstall" or "keep" (already installed, unchanged).
    action: str
    replaces: InstalledDistribution | None
    #: Who asked for it: request texts with their origin.
    requested_by: tuple[str, ...]
    #: Versions considered and passed over, with the reason.
    passed_over: Mapping[str, str] = field(default_factory=dict)
    #: Files of passed-over versions that did not fit.
    rejected_files: Mapping[str, tuple[FileVerdict, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> NormalizedName:
        return self.pick.name

    @property
    def version(self) -> Version:
        return self.pick.version

    @property
    def changes(self) -> bool:
        return self.action != "keep"


class Plan(Record):
    packages: tuple[PlannedPackage, ...]
    warnings: tuple[str, ...] = ()

    @property
    def to_install(self) -> tuple[PlannedPackage, ...]:
        return tuple(p for p in self.packages if p.changes)


def _action(pick: Pick, installed: InstalledDistribution | None, force: bool) -> str:
    if pick.candidate is None:
        return "keep"
    if installed is None:
        return "install"
    if installed.version == pick.version:
        return "reinstall" if force or installed.variant_label != pick.label else "keep"
    return "upgrade" if pick.version > installed.version else "downgrade"


def _explain(exc: ResolutionImpossible[Requirement, ResolverCandidate], provider: Provider) -> str:
    by_name: dict[str, list[str]] = {}
    for cause in exc.causes:
        requirement = cause.requirement
        parent = cause.parent
        who = requirement.request.comes_from
        if parent is not None:
            who = f"{parent.name} {parent.version}"
        line = f"{requirement.request.text}  (requested by {who})"
        if requirement.name == PYTHON:
            line += f"; the target runs Python {provider.finder.python_version}"
        lines = by_name.setdefault(requirement.name, [])
        if line not in lines:
            lines.append(line)
    # Two requirements on one name disagree: a conflict. Otherwise each failing requirement
    # fails alone (a name no source has, a version no release satisfies), and the way out is
    # another name, index or version, not loosening anything against anything else.
    conflict = any(len(lines) > 1 for lines in by_name.values())
    parts = [f"the requested packages cannot be installed{' together' if conflict else ''}:"]
    missing: list[str] = []
    hash_refused = False
    for name, lines in by_name.items():
        parts.append(f"  {'Python' if name == PYTHON else name}:")
        parts.extend(f"    {line}" for line in lines)
        reasons = provider.version_reasons.get(name, {})
        lookup = provider.finder.latest_lookup(name)
        if lookup is not None and lookup.is_empty:
            where = ", ".join(f"{a.source.name}: {a.outcome.value}" for a in lookup.attempts)
            parts.append(f"    no source has {name} ({where or 'no sources configured'})")
            missing.append(name)
        elif reasons:
            passed_over = NOT_HASHED_AS_GIVEN.format(name=name)
            hash_refused = hash_refused or any(passed_over in why for why in reasons.values())
            shown = list(reasons.items())[:6]
            parts.append("    versions passed over:")
            parts.extend(f"      {version}: {why}" for version, why in shown)
            if len(reasons) > len(shown):
                parts.append(f"      … and {len(reasons) - len(shown)} more")
    if missing:
        parts.append(
            f"No source has {', '.join(missing)}: check the name, or add the index or "
            "directory that has it (`--extra-index-url URL`, `--find-links PATH`)."
        )
    if conflict:
        parts.append(
            "Loosen one of the conflicting requirements, or pick versions that agree "
            "(`wheelnext-jupyter explain NAME` shows what each version offers)."
        )
    elif hash_refused:
        parts.append(
            "The files the sources have match none of the --hash values given: write the "
            "hashes again for them (`pip-compile --generate-hashes`), or find out where a file "
            "changed."
        )
    elif len(missing) < len(by_name):
        parts.append(
            "Change or leave out the version asked for, or pick another version of the package "
            "that asks for it (`wheelnext-jupyter explain NAME` shows what each version offers)."
        )
    return "\n".join(parts)


def _applicable(
    requests: Sequence[Request], finder: CandidateFinder
) -> tuple[list[Request], list[str]]:
    """The requests whose markers hold for the target, and a note for each one left out."""
    kept: list[Request] = []
    notes: list[str] = []
    for request in requests:
        if request_applies(request, environment=finder.markers):
            kept.append(request)
        else:
            notes.append(
                f"ignoring {request.text} ({request.comes_from}): its marker does not match "
                "the target environment"
            )
    return kept, notes


class _PinReporter(BaseReporter[Requirement, ResolverCandidate, str]):
    def __init__(self, on_pin: Callable[[Pick], None]) -> None:
        super().__init__()
        self._on_pin = on_pin

    def pinning(self, candidate: ResolverCandidate) -> None:
        self._on_pin(candidate.pick)


def resolve(
    requests: Sequence[Request],
    *,
    finder: CandidateFinder,
    installed: Mapping[str, InstalledDistribution],
    options: ResolveOptions | None = None,
    constraints: Sequence[Request] = (),
    metadata: MetadataSource | None = None,
    on_pin: Callable[[Pick], None] | None = None,
    on_guess: Callable[[Pick], None] | None = None,
) -> Plan:
    """Resolve `requests` against the finder's sources for its target environment.

    `on_pin` is called with every pick the resolver pins, as it pins it (it may still be
    replaced by backtracking); the engine starts downloads from there. `on_guess` is called
    earlier, with the pick the lookahead expects the resolver to make for a project.
    """
    options = options or ResolveOptions()
    # As pip: a request whose marker does not hold for the target is ignored, with a note.
    requests, skipped = _applicable(requests, finder)
    constraints, _ = _applicable(constraints, finder)
    by_name: dict[str, list[Request]] = {}
    for request in requests:
        by_name.setdefault(request.name, []).append(request)
    constraint_map: dict[str, list[Request]] = {}
    for constraint in constraints:
        constraint_map.setdefault(constraint.name, []).append(constraint)
    metadata = metadata or MetadataSource(finder)
    lookahead = Lookahead(
        finder,
        metadata,
        installed=installed,
        keep_installed=not (options.upgrade_all or options.force_reinstall),
        workers=finder.sources.max_workers,
        on_guess=on_guess,
    )
    lookahead.start((r.name, r.specifier) for r in requests)
    provider = Provider(
        finder,
        metadata,
        options=options,
        installed=installed,
        constraints=constraint_map,
        user_requests=by_name,
        lookahead=lookahead,
    )
    roots = [Requirement(r.name, r.extras, r.specifier, r) for r in requests]
    try:
        # Closed when resolution ends; when it fails (Ctrl-C among the ways), without waiting
        # for the requests under way.
        with lookahead:
            reporter = _PinReporter(on_pin) if on_pin is not None else BaseReporter()
            result = Resolver(provider, reporter).resolve(roots, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise ResolutionError(_explain(exc, provider)) from None
    except ResolutionTooDeep:
        raise ResolutionError(
            "resolution took too many rounds of backtracking; pin some versions "
            "(e.g. name==1.2) to narrow the search"
        ) from None

    extras: dict[str, set[str]] = {}
    for identifier, candidate in result.mapping.items():
        if "[" in identifier:
            # Declared extras only: unknown ones were warned about and are not installed.
            extras.setdefault(candidate.name, set()).update(provider.extras_for(candidate))
    requested_by: dict[str, list[str]] = {}
    for identifier, criterion in result.criteria.items():
        name = identifier.split("[")[0]
        for info in criterion.information:
            who = info.requirement.request.comes_from
            text = f"{info.requirement.request.text} ({who})"
            if info.parent is not None and info.parent.name == name:
                continue
            requested_by.setdefault(name, [])
            if text not in requested_by[name]:
                requested_by[name].append(text)
    packages: list[PlannedPackage] = []
    for identifier, candidate in result.mapping.items():
        if "[" in identifier or identifier == PYTHON:
            continue
        pick = candidate.pick
        current = installed.get(pick.name)
        packages.append(
            PlannedPackage(
                pick=pick,
                extras=frozenset(extras.get(pick.name, ())),
                requested=pick.name in by_name,
                action=_action(pick, current, options.force_reinstall),
                replaces=current if pick.candidate is not None else None,
                requested_by=tuple(requested_by.get(pick.name, ())),
                passed_over=dict(provider.version_reasons.get(pick.name, {})),
                rejected_files=dict(provider.rejections.get(pick.name, {})),
                notes=tuple(provider.extras_reasons.get(pick.name, ())) + pick.notes,
            )
        )
    packages.sort(key=lambda p: p.name)
    warnings = list(dict.fromkeys([*skipped, *finder.warnings, *provider.warnings]))
    return Plan(tuple(packages), tuple(warnings))

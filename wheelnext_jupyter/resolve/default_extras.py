"""PEP 771 default extras: which extras a package is installed with, given every request for it.

The rules, over all occurrences of one package in the dependency graph:

* an occurrence without brackets (`pkg`) asks for the package's default extras;
* an occurrence with extras (`pkg[cpu]`) asks for exactly those, and no defaults;
* `pkg[]` asks for no extras and no defaults;
* an occurrence whose extras are all unknown counts as `pkg[]` (unknown extras are warned about
  and ignored, so it would otherwise silently turn into a bare request);
* the defaults are installed when *any* occurrence is bare, together with the explicit extras of
  the others.

`Default-Extra` is accepted under any Metadata-Version: the PEP's "2.5" was taken by other PEPs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from packaging.utils import canonicalize_name

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.resolve.metadata_fields import MetadataFields, read_fields


class ExtrasOccurrence(Protocol):
    """What the rules need of one occurrence; `requirements.Request` is one."""

    @property
    def extras(self) -> frozenset[str] | None: ...

    @property
    def comes_from(self) -> str: ...


class Occurrence(Record):
    """A plain occurrence, for callers without a `Request` (e.g. a lock file entry)."""

    extras: frozenset[str] | None
    comes_from: str


class ExtrasMetadata(Record):
    """The extras a distribution declares (normalised, PEP 685)."""

    provides: frozenset[str] = frozenset()
    #: `Default-Extra` values in metadata order.
    defaults: tuple[str, ...] = ()


class ExtrasChoice(Record):
    """The extras to install for one package, and why."""

    extras: frozenset[str]
    #: Whether the package's default extras were applied (some occurrence was bare).
    defaults_applied: bool
    #: One sentence per decision, for the report.
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]


def read_extras_metadata(metadata: str | MetadataFields) -> ExtrasMetadata:
    """`Provides-Extra` and `Default-Extra` from a METADATA (or PKG-INFO) text, or its fields.

    packaging's metadata reader does not know `Default-Extra`, so the fields are read directly.
    """
    headers = read_fields(metadata) if isinstance(metadata, str) else metadata
    provides = frozenset(
        canonicalize_name(v.strip()) for v in headers.get_all("Provides-Extra", []) or []
    )
    defaults: list[str] = []
    for value in headers.get_all("Default-Extra", []) or []:
        extra = canonicalize_name(value.strip())
        if extra not in defaults:
            defaults.append(extra)
    return ExtrasMetadata(provides=provides, defaults=tuple(defaults))


def _quoted(extras: Iterable[str]) -> str:
    return ", ".join(f"`{extra}`" for extra in sorted(extras))


def _plural(extras: frozenset[str] | tuple[str, ...] | list[str]) -> str:
    return "extra" if len(extras) == 1 else "extras"


def choose_extras(
    name: str,
    occurrences: Iterable[ExtrasOccurrence],
    metadata: ExtrasMetadata,
    *,
    no_default_extras: bool = False,
) -> ExtrasChoice:
    """The extras to install `name` with (PEP 771), with reasons and warnings.

    The result does not depend on the order of `occurrences`. `no_default_extras` is the opt-in
    global switch the PEP allows: defaults are never applied.
    """
    provides = frozenset(canonicalize_name(e) for e in metadata.provides)
    warnings: list[str] = []
    defaults: list[str] = []
    for extra in metadata.defaults:
        normalised = canonicalize_name(extra)
        if normalised in provides:
            if normalised not in defaults:
                defaults.append(normalised)
        else:
            warnings.append(
                f"{name} declares default extra `{normalised}` but does not provide it "
                "(no Provides-Extra); it is ignored"
            )

    bare: list[str] = []
    opted_out: list[str] = []
    explicit: dict[str, list[str]] = {}
    for occurrence in occurrences:
        if occurrence.extras is None:
            bare.append(occurrence.comes_from)
            continue
        asked = frozenset(canonicalize_name(e) for e in occurrence.extras)
        unknown = asked - provides
        known = asked & provides
        if unknown:
            warnings.append(
                f"{name} does not provide the {_plural(sorted(unknown))} {_quoted(unknown)} "
                f"requested by {occurrence.comes_from}; ignored"
            )
        if not known:
            if asked:
                warnings.append(
                    f"every extra of {name}[{','.join(sorted(asked))}] requested by "
                    f"{occurrence.comes_from} is unknown, so it counts as {name}[] "
                    "(no default extras)"
                )
            opted_out.append(occurrence.comes_from)
            continue
        for extra in known:
            explicit.setdefault(extra, []).append(occurrence.comes_from)

    reasons: list[str] = []
    chosen: set[str] = set()
    for extra in sorted(explicit):
        chosen.add(extra)
        reasons.append(f"extra `{extra}` requested by {', '.join(sorted(set(explicit[extra])))}")

    applied = bool(bare) and bool(defaults) and not no_default_extras
    requesters = ", ".join(sorted(set(bare)))
    if applied:
        for extra in defaults:
            chosen.add(extra)
            reasons.append(f"default extra `{extra}` from bare `{name}` requested by {requesters}")
    elif defaults:
        if bare:
            reasons.append(
                f"default {_plural(defaults)} {_quoted(defaults)} of {name} not installed: "
                "default extras are switched off"
            )
        else:
            written = sorted(set(opted_out) | {c for cs in explicit.values() for c in cs})
            reasons.append(
                f"default {_plural(defaults)} {_quoted(defaults)} of {name} not installed: "
                f"every request names its extras ({', '.join(written)})"
            )
    return ExtrasChoice(
        extras=frozenset(chosen),
        defaults_applied=applied,
        reasons=tuple(reasons),
        warnings=tuple(sorted(set(warnings))),
    )

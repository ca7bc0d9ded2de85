"""Which candidate files a specifier admits: pre-releases (PEP 440) and yanked files (PEP 592).

Pre-releases follow pip (packaging's `SpecifierSet.filter` with no explicit choice):

* `--pre` admits every pre-release that matches;
* a specifier that names a pre-release (`>=2.0b1`, `==2.0rc1`) admits matching pre-releases;
* otherwise a pre-release is admitted only when no final release matches the specifier at all,
  yanked files included (pip counts those too, so a yanked final release still blocks the
  fallback).

Yanked files are admitted only when the request is an exact pin (`==` without `.*`, or `===`)
made by the user (command line, requirements file, lock) and nothing that is not yanked
matches; each admitted one carries a warning with the yank reason. PEP 592 and the packse
scenarios limit this to the user's own pins; pip 26.3 also honours a pin from a dependency's
metadata, which `pinned_by_user=True` reproduces when a caller wants it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from wheelnext_jupyter.record import Record


class CandidateFile(Protocol):
    """What admission needs of a file; `index.models.IndexFile` is one."""

    @property
    def filename(self) -> str: ...

    @property
    def version(self) -> Version: ...

    @property
    def yanked(self) -> bool: ...

    @property
    def yanked_reason(self) -> str | None: ...


class Verdict(Record):
    """Admit or reject one candidate file, and why (one sentence for the report)."""

    candidate: CandidateFile
    admitted: bool
    reason: str
    #: Set when the file is admitted but the user should know something (a yanked file).
    warning: str | None = None


def is_exact_pin(specifier: SpecifierSet) -> bool:
    """Whether a clause pins one version: `==` without a `.*` suffix, or `===` (as pip)."""
    for clause in specifier:
        if clause.operator == "===":
            return True
        if clause.operator == "==" and not clause.version.endswith(".*"):
            return True
    return False


def names_prerelease(specifier: SpecifierSet) -> bool:
    """Whether the specifier itself names a pre-release, which opts in to pre-releases."""
    return specifier.prereleases is True


def _spec_text(specifier: SpecifierSet) -> str:
    return str(specifier) or "(any version)"


def admit(
    candidates: Iterable[CandidateFile],
    specifier: SpecifierSet,
    *,
    pre: bool = False,
    pinned_by_user: bool,
) -> list[Verdict]:
    """One verdict per candidate, in the given order.

    `pre` is `--pre` (for this package). `pinned_by_user` says whether `specifier`'s exact pin,
    if any, comes from the user rather than only from a dependency's metadata.
    """
    return list(admit_lazily(candidates, specifier, pre=pre, pinned_by_user=pinned_by_user))


def admit_lazily(
    candidates: Iterable[CandidateFile],
    specifier: SpecifierSet,
    *,
    pre: bool = False,
    pinned_by_user: bool,
) -> Iterator[Verdict]:
    """`admit`'s verdicts, each worked out when it is asked for. A resolver takes the first
    version it can use, and a project on PyPI lists a hundred or more: what a verdict needs of
    the other candidates (whether a final release matches, whether an unyanked file is left) is
    looked up only when that verdict needs it."""
    files: Sequence[CandidateFile] = (
        candidates if isinstance(candidates, Sequence) else list(candidates)
    )
    shown = _spec_text(specifier)
    opted_in_by_specifier = names_prerelease(specifier)
    pinned = is_exact_pin(specifier)

    @functools.cache
    def matching(position: int) -> bool:
        return specifier.contains(files[position].version, prereleases=True)

    @functools.cache
    def finals_match() -> bool:
        return any(matching(p) and not files[p].version.is_prerelease for p in range(len(files)))

    def version_rule(position: int) -> tuple[bool, str]:
        """Whether the version rules admit the file, and why (or why not)."""
        version = files[position].version
        if not matching(position):
            return False, f"{version} does not satisfy {shown}"
        if not version.is_prerelease:
            return True, f"{version} satisfies {shown}"
        if pre:
            return True, f"pre-release {version} satisfies {shown} and --pre is given"
        if opted_in_by_specifier:
            return True, f"pre-release {version} satisfies {shown}, which names a pre-release"
        if not finals_match():
            return (
                True,
                f"pre-release {version} admitted because no final release satisfies {shown}",
            )
        return (
            False,
            f"{version} is a pre-release; pass --pre or name a pre-release in the "
            "specifier (e.g. >=2.0b1) to allow it",
        )

    # Yanks are judged after the version rules: PEP 592 falls back to a yanked file only when
    # no file the rules admit is unyanked.
    @functools.cache
    def unyanked_left() -> bool:
        return any(not files[p].yanked and version_rule(p)[0] for p in range(len(files)))

    for position, file in enumerate(files):
        admitted, reason = version_rule(position)
        if not admitted:
            yield Verdict(file, False, reason)
            continue
        if not file.yanked:
            yield Verdict(file, True, reason)
            continue
        yank = file.yanked_reason or "no reason given"
        if unyanked_left():
            yield Verdict(
                file,
                False,
                f"{file.filename} is yanked ({yank}) and files that are not yanked also match",
            )
        elif not pinned:
            yield Verdict(
                file,
                False,
                f"{file.filename} is yanked ({yank}); a yanked file is used only when an exact "
                f"pin (== or ===) names its version, and {shown} is not one",
            )
        elif not pinned_by_user:
            yield Verdict(
                file,
                False,
                f"{file.filename} is yanked ({yank}); only a pin you write yourself (command "
                "line, requirements file, lock) selects a yanked file, not a dependency's pin",
            )
        else:
            yield Verdict(
                file,
                True,
                f"{reason}; yanked, but {shown} pins it and nothing else matches",
                warning=f"installing yanked file {file.filename}: {yank}",
            )


def admitted(verdicts: Iterable[Verdict]) -> list[CandidateFile]:
    """The admitted candidates of `admit`'s verdicts, in order."""
    return [verdict.candidate for verdict in verdicts if verdict.admitted]

"""pip's hash-checking mode: the `--hash` values of requirements files, and `--require-hashes`.

Once a requirement carries a hash, or `--require-hashes` is given (on the command line or in a
file), every requirement asked for must be pinned to one version (`==` without a wildcard,
`===`, or a direct file or URL), and every package the install writes must have hashes given for
it; a file is installed only when one of them matches its content. The resolver passes over the
files whose hash the index publishes and matches none (another file of the same version may
match); a file whose hash the index does not publish is checked once it has arrived.

Pure logic: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wheelnext_jupyter.resolve.requirements import Request

#: The algorithms a `--hash` may name (as pip allows).
ALGORITHMS = ("sha256", "sha384", "sha512")
#: Why the resolver passes over a file (its verdict's reason), and how that reason starts.
NOT_HASHED_AS_GIVEN = "its hash is not among the --hash values given for {name}"


@dataclass(frozen=True)
class HashRules:
    """Whether hash-checking mode is on, and the hashes given for each project."""

    active: bool = False
    #: Normalised project name -> `algorithm:hexdigest` values given for it.
    allowed: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def for_project(self, name: str) -> frozenset[str] | None:
        """The hashes a file of `name` must match; None when the mode is off."""
        if not self.active:
            return None
        return self.allowed.get(name, frozenset())


def hash_rules(
    requests: Iterable[Request], constraints: Iterable[Request] = (), *, require_hashes: bool
) -> HashRules:
    """The rules for requirements and constraints as read from the command line and files."""
    allowed: dict[str, set[str]] = {}
    for request in (*requests, *constraints):
        if request.hashes:
            allowed.setdefault(request.name, set()).update(request.hashes)
    active = require_hashes or bool(allowed)
    return HashRules(active, {name: frozenset(hashes) for name, hashes in allowed.items()})


def is_pinned(request: Request) -> bool:
    """Whether the request names one version exactly (or one file)."""
    if request.url is not None:
        return True
    specs = list(request.specifier)
    if len(specs) != 1:
        return False
    spec = specs[0]
    return spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*"))


def unpinned_message(requests: Iterable[Request]) -> str | None:
    """What to say when hash-checking mode meets requirements not pinned; None if all are."""
    loose = [request for request in requests if not is_pinned(request)]
    if not loose:
        return None
    shown = "; ".join(f"{r.text} ({r.comes_from})" for r in loose)
    return (
        f"hash-checking mode needs every requirement pinned with == (one version): {shown}. "
        "Pin them, with a --hash for each file (`pip-compile --generate-hashes` writes both)"
    )


def unhashed_message(names: Iterable[str]) -> str | None:
    """What to say when packages the install would write have no hashes; None if none."""
    missing = sorted(set(names))
    if not missing:
        return None
    return (
        f"hash-checking mode needs a --hash for every package installed; none is given for "
        f"{', '.join(missing)} (dependencies included). Add them, pinned, with their hashes to "
        "the requirements file (`pip-compile --generate-hashes` writes them)"
    )


def verdict(allowed: frozenset[str], digests: Mapping[str, str]) -> bool | None:
    """Whether a file with these digests (algorithm -> hex) is one the hashes allow: True when
    one matches, False when digests of the hashes' algorithms are known and none matches, None
    when none of their algorithms is among the digests (the content must then be hashed)."""
    known = {algorithm.lower(): value.lower() for algorithm, value in digests.items()}
    comparable = False
    for given in allowed:
        algorithm, _, value = given.partition(":")
        if algorithm in known:
            comparable = True
            if known[algorithm] == value:
                return True
    return False if comparable else None


def needed_algorithms(allowed: frozenset[str]) -> tuple[str, ...]:
    """The algorithms of the hashes, in `ALGORITHMS` order."""
    named = {given.partition(":")[0] for given in allowed}
    return tuple(algorithm for algorithm in ALGORITHMS if algorithm in named)


def mismatch_message(name: str, filename: str, where: str, digests: Mapping[str, str]) -> str:
    """What to say when a file's content matches none of the hashes given for its project."""
    shown = ", ".join(f"{algorithm}:{value}" for algorithm, value in sorted(digests.items()))
    return (
        f"{filename} from {where} ({shown}) matches none of the --hash values given for {name}; "
        "the file changed since the hashes were written, or the hashes are out of date — "
        "nothing was installed"
    )


__all__ = [
    "ALGORITHMS",
    "NOT_HASHED_AS_GIVEN",
    "HashRules",
    "hash_rules",
    "is_pinned",
    "mismatch_message",
    "needed_algorithms",
    "unhashed_message",
    "unpinned_message",
    "verdict",
]

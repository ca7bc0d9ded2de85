"""One requirement as the user, a requirements file or a package's metadata wrote it.

A `Request` keeps what packaging's `Requirement` loses: whether extras brackets were written at
all (`pkg` and `pkg[]` differ under PEP 771), who asked for it, and a form of the text that is safe
to show. Markers may use the PEP 825 variant names, so they are split off and evaluated by
`variants.markers`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from wheelnext_jupyter.index.redact import redact_text, redact_url
from wheelnext_jupyter.record import Record, field
from wheelnext_jupyter.variants.filename import InvalidWheelFilename, parse_wheel_filename
from wheelnext_jupyter.variants.markers import (
    Environment,
    VariantMarkerEnvironment,
    evaluate_marker,
    parse_requires_dist,
)

COMMAND_LINE = "command line"

#: A PEP 508 name at the start of a requirement, and whatever follows it.
_NAME_RE = re.compile(r"\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*")
#: `[extras]` written after a path or URL (pip accepts `./dist/x.whl[cuda]`).
_TRAILING_EXTRAS_RE = re.compile(r"^(?P<location>.*?)\[(?P<extras>[^\[\]]*)\]$")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


class InvalidRequest(ValueError):
    """A requirement that cannot be used; the message names the text, who asked and the way out."""


class Request(Record):
    """One occurrence of a requirement in the graph (the command line, a file, a Requires-Dist).

    `extras` is None when no brackets were written and an empty set for `pkg[]`; PEP 771 default
    extras depend on that difference. Extras are normalised (PEP 685).
    """

    name: NormalizedName
    extras: frozenset[str] | None
    specifier: SpecifierSet
    #: The marker text (may use variant names), or None.
    marker: str | None
    #: Who asked: "command line", "-r reqs.txt (line 3)", "torch 2.9.0 (Requires-Dist)".
    comes_from: str
    #: The requirement as written, with credentials redacted: safe for messages and reports.
    text: str
    #: A direct reference (`name @ url`, a wheel path or URL); may carry credentials, so it is
    #: left out of the repr. Use `shown_url` in messages.
    url: str | None = field(default=None, repr=False)
    #: `--hash` values from a requirements file, as `algorithm:hexdigest`.
    hashes: frozenset[str] = frozenset()
    #: Given as a wheel path or URL without `name @`: the name was read from the filename.
    name_from_filename: bool = False

    @property
    def shown_url(self) -> str | None:
        return None if self.url is None else redact_url(self.url)

    @property
    def bare(self) -> bool:
        """Written without extras brackets (PEP 771: default extras apply)."""
        return self.extras is None

    def __str__(self) -> str:
        return self.text


def _invalid(text: str, comes_from: str, problem: str) -> InvalidRequest:
    return InvalidRequest(
        f"invalid requirement {redact_text(text)!r} (from {comes_from}): {problem}"
    )


def _normalise_extras(extras: Iterable[str]) -> frozenset[str]:
    return frozenset(canonicalize_name(extra) for extra in extras)


def _brackets_written(requirement_part: str) -> bool:
    """Whether `[...]` follows the name; packaging parses `foo[]` exactly like `foo`."""
    match = _NAME_RE.match(requirement_part)
    return match is not None and requirement_part[match.end() :].startswith("[")


def _looks_like_location(text: str) -> bool:
    """A path or URL rather than a PEP 508 requirement (pip accepts both on its command line)."""
    head = text.split(";", 1)[0].strip()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", head) or head.startswith("file:"):
        return True
    if head.startswith((".", "/", "~")) or "/" in head or "\\" in head:
        # `name @ url` also contains a slash; it is a requirement when an `@` precedes the URL.
        return not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@", head)
    return head.endswith((".whl", *_SDIST_SUFFIXES))


def _split_marker(text: str) -> tuple[str, str | None]:
    """`location ; marker` → (location, marker). pip needs `; ` with a space after paths/URLs."""
    location, sep, marker = text.partition("; ")
    if not sep:
        return text.strip(), None
    return location.strip(), marker.strip() or None


def _parse_location(text: str, comes_from: str, shown: str) -> Request:
    """A wheel given by path or URL, with optional `[extras]` and `; marker`."""
    location, marker = _split_marker(text)
    extras: frozenset[str] | None = None
    match = _TRAILING_EXTRAS_RE.match(location)
    if match is not None:
        location = match.group("location")
        extras = _normalise_extras(e.strip() for e in match.group("extras").split(",") if e.strip())
    if marker is not None:
        try:
            evaluate_marker(marker, None, None)
        except InvalidMarker as exc:
            raise _invalid(shown, comes_from, f"bad marker: {exc}") from None
        except (UndefinedComparison, UndefinedEnvironmentName):
            pass  # Well-formed; evaluation belongs to the resolver.
    scheme = urlsplit(location).scheme.lower()
    if len(scheme) > 1:  # One letter is a Windows drive, not a scheme.
        url = location
        if scheme == "file":
            path = Path(unquote(urlsplit(location).path))
            if not path.exists():
                raise _invalid(shown, comes_from, f"the file {path} does not exist")
        filename = unquote(urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1])
    else:
        path = Path(location).expanduser()
        if not path.exists():
            raise _invalid(
                shown,
                comes_from,
                f"the path {location} does not exist; check the path, or give a package name "
                "such as 'torch' or 'torch==2.9.0'",
            )
        if path.is_dir():
            raise _invalid(
                shown,
                comes_from,
                "installing a source directory needs a build, which is not supported; "
                "build a wheel first (`python -m build --wheel`) and install that file",
            )
        url = path.resolve().as_uri()
        filename = path.name
    if filename.endswith(_SDIST_SUFFIXES):
        raise _invalid(
            shown,
            comes_from,
            "source distributions are not installed (no builds); give a wheel (.whl) instead",
        )
    try:
        wheel = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise _invalid(
            shown,
            comes_from,
            f"{exc}; a path or URL must name a wheel file, or write `name @ URL`",
        ) from None
    return Request(
        name=wheel.name,
        extras=extras,
        specifier=SpecifierSet(),
        marker=marker,
        comes_from=comes_from,
        text=redact_text(shown),
        url=url,
        name_from_filename=True,
    )


def parse_request(
    text: str,
    comes_from: str = COMMAND_LINE,
    *,
    shown: str | None = None,
    pep508_only: bool = False,
) -> Request:
    """Parse one requirement: PEP 508 (markers may use variant names), or a wheel path or URL.

    `shown` is the text to put in messages and reports when `text` had environment variables
    expanded into it (it is the line as written, so no expanded secret is ever shown).
    `pep508_only` refuses paths and bare URLs (for `Requires-Dist` values, which are PEP 508).
    Raises `InvalidRequest` for malformed text, editables, sources that need a build, and paths
    that do not exist.
    """
    stripped = text.strip()
    shown = (shown if shown is not None else text).strip()
    if not stripped:
        raise _invalid(shown, comes_from, "it is empty")
    if stripped.startswith(("-e ", "-e\t", "--editable")) or stripped == "-e":
        raise _invalid(
            shown,
            comes_from,
            "editable installs (-e) are not supported: they need a build; install the "
            "project with `pip install -e` instead, or install a built wheel",
        )
    if stripped.startswith("-"):
        raise _invalid(shown, comes_from, "an option where a requirement was expected")
    if not pep508_only and _looks_like_location(stripped):
        return _parse_location(stripped, comes_from, shown)
    try:
        requirement, marker = parse_requires_dist(stripped)
    except (InvalidRequirement, InvalidMarker) as exc:
        raise _invalid(shown, comes_from, redact_text(str(exc))) from None
    # The name comes first, so brackets right after it are the requirement's own, never the
    # marker's.
    extras = _normalise_extras(requirement.extras) if _brackets_written(stripped) else None
    return Request(
        name=canonicalize_name(requirement.name),
        extras=extras,
        specifier=requirement.specifier,
        marker=marker,
        comes_from=comes_from,
        text=redact_text(shown),
        url=requirement.url,
    )


def requires_dist_origin(name: str, version: object) -> str:
    """The `comes_from` of a dependency: `"torch 2.9.0 (Requires-Dist)"`."""
    return f"{name} {version} (Requires-Dist)"


def marker_applies(
    marker: str | None,
    *,
    extras: AbstractSet[str] = frozenset(),
    environment: Mapping[str, str] | None = None,
    variant: VariantMarkerEnvironment | None = None,
) -> bool:
    """Whether a dependency with `marker` applies to a distribution installed with `extras`.

    The marker is evaluated once with `extra == ""` (the base dependencies) and once per
    requested extra; it applies if any holds. `environment` overrides entries of the running
    interpreter's marker environment (packaging's semantics); `variant` is the selected wheel's
    variant values (None for a non-variant wheel).
    """
    if marker is None:
        return True
    base: dict[str, str] = dict(environment or {})
    for extra in ("", *sorted(extras)):
        env: Environment = {**base, "extra": extra}
        if evaluate_marker(marker, env, variant):
            return True
    return False


def request_applies(
    request: Request,
    *,
    extras: AbstractSet[str] = frozenset(),
    environment: Mapping[str, str] | None = None,
    variant: VariantMarkerEnvironment | None = None,
) -> bool:
    """`marker_applies` for a parsed request."""
    return marker_applies(request.marker, extras=extras, environment=environment, variant=variant)


def dependencies(
    requires_dist: Iterable[str],
    *,
    origin: str,
    extras: AbstractSet[str] = frozenset(),
    environment: Mapping[str, str] | None = None,
    variant: VariantMarkerEnvironment | None = None,
) -> list[Request]:
    """The `Requires-Dist` lines that apply, as requests from `origin` (see `requires_dist_origin`).

    Raises `InvalidRequest` naming the line and `origin` for a malformed line. A line whose
    marker is only `extra == "..."`, for an extra not asked for, is passed over unparsed:
    most lines of a data-science stack's metadata are such (230 of 282), and parsing them
    was most of the cost. A malformed one is reported when its extra is asked for.
    """
    asked = {canonicalize_name(extra) for extra in extras}
    result = []
    for line in requires_dist:
        only = _ONLY_EXTRA.search(line)
        if (
            only is not None
            and line.count(";") == 1
            and "@" not in line
            and canonicalize_name(only[2]) not in asked
        ):
            continue
        request = _requires_dist_request(line, origin)
        if request_applies(request, extras=extras, environment=environment, variant=variant):
            result.append(request)
    return result


# A marker of one clause, `extra == "name"`, after the line's only `;` (a URL requirement,
# which could hold a `;` of its own, is always parsed).
_ONLY_EXTRA = re.compile(r""";\s*extra\s*==\s*(["'])([^"']+)\1\s*$""")


# Each version's lines are parsed twice, by the lookahead and by the resolver, and parsing is
# most of the cost: the requests (immutable) are kept, a bounded number.
@functools.lru_cache(maxsize=4096)
def _requires_dist_request(line: str, origin: str) -> Request:
    return parse_request(line, origin, pep508_only=True)

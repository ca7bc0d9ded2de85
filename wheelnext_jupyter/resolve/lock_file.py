"""Install exactly what a PEP 751 lock file (`pylock.toml`) lists.

`-r pylock.toml` (or `pylock.NAME.toml`) reads a lock as a requirements file whose every line is
pinned and hashed: each package whose `marker` holds for the target becomes `name==version` with
the hashes of its wheels. Hash-checking mode then takes exactly the locked files (among a
package's wheels, the one that fits the target, its variant included), and nothing else is
resolved: the lock lists every package, so dependencies are not followed. Where the files come
from: wheels given by `url` are taken from there, before any index (with the variant metadata
the lock inlines, PEP 825); the directory of a wheel given by `path` (relative to the lock's
directory), or by a `file:` URL, is read as a find-links source; each package's `index` joins
the extra indexes; a package whose wheels have neither `url` nor `path` is looked up on the
configured indexes (PyPI, for the locks written here). The hashes make any source safe: only the
locked file is installed.

A lock whose `environments` all exclude the target, or whose `requires-python` it does not
satisfy, is refused, and so are packages that are not wheels (source distributions, VCS,
directories, archives), each with the way out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.index.sources import LockedFile, LockedWheels
from wheelnext_jupyter.paths import file_url_path
from wheelnext_jupyter.record import replace
from wheelnext_jupyter.resolve.requirements import InvalidRequest, Request, parse_request
from wheelnext_jupyter.toml_text import load_toml
from wheelnext_jupyter.variants.filename import InvalidWheelFilename, parse_wheel_filename

_LOCK_NAME = re.compile(r"^pylock\.([^.]+\.)?toml$")
_HASH = re.compile(r"^[0-9a-fA-F]+$")


class LockFileError(ValueError):
    """A lock file that cannot be installed; the message names the file and the way out."""


@dataclass(frozen=True)
class LockedRequirements:
    """What a lock file asks for: pinned, hashed requests and the sources of their files."""

    requests: tuple[Request, ...]
    extra_index_urls: tuple[str, ...]
    find_links: tuple[str, ...]
    #: The wheels the lock names by URL, with the variant metadata it inlines.
    wheels: LockedWheels


def is_lock_file(path: str | Path) -> bool:
    """Whether the file is named as PEP 751 names lock files."""
    return bool(_LOCK_NAME.match(Path(path).name))


def read_lock_file(
    path: str | Path, *, markers: Mapping[str, str], python_version: Version
) -> LockedRequirements:
    """The requests of the lock at `path` for a target with these markers and Python."""
    location = Path(path)
    try:
        document = load_toml(location.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LockFileError(f"cannot open lock file {location}: {exc.strerror or exc}") from None
    except ValueError as exc:  # the parser's TOMLDecodeError, or UnicodeDecodeError
        raise LockFileError(f"lock file {location} is not valid TOML: {exc}") from None
    _check_version(location, document.get("lock-version"))
    _check_environments(location, document.get("environments"), markers)
    _check_python(location, document.get("requires-python"), python_version)
    packages = document.get("packages")
    if not isinstance(packages, list) or not packages:
        raise LockFileError(f"lock file {location} lists no [[packages]]")
    requests: list[Request] = []
    indexes: dict[str, None] = {}
    links: dict[str, None] = {}
    files: list[LockedFile] = []
    variants: dict[tuple[str, str], dict[str, Any]] = {}
    for position, package in enumerate(packages, start=1):
        locked = _package(location, position, package)
        requests.append(locked.request)
        if locked.index is not None:
            indexes[locked.index] = None
        links.update(dict.fromkeys(locked.directories))
        files += locked.files
        if locked.variants is not None:
            variants[(locked.request.name, locked.version)] = locked.variants
    wheels = LockedWheels(str(location), tuple(files), MappingProxyType(variants))
    return LockedRequirements(tuple(requests), tuple(indexes), tuple(links), wheels)


def _check_version(location: Path, version: object) -> None:
    if not isinstance(version, str):
        raise LockFileError(f"lock file {location} has no lock-version; is it a PEP 751 lock?")
    try:
        major = Version(version).major
    except ValueError:
        major = -1
    if major != 1:
        raise LockFileError(
            f"lock file {location} has lock-version {version!r}; this installer reads version 1 "
            "locks: write the lock again with a tool of the same version"
        )


def _check_environments(location: Path, environments: object, markers: Mapping[str, str]) -> None:
    if environments is None:
        return
    if not isinstance(environments, list) or not all(isinstance(e, str) for e in environments):
        raise LockFileError(f"lock file {location}: environments must be a list of markers")
    try:
        fits = any(Marker(text).evaluate(dict(markers)) for text in environments)
    except InvalidMarker as exc:
        raise LockFileError(f"lock file {location}: invalid environment marker: {exc}") from None
    if environments and not fits:
        shown = "; ".join(environments)
        raise LockFileError(
            f"lock file {location} is for other environments ({shown}); lock again for this one"
        )


def _check_python(location: Path, requires: object, python_version: Version) -> None:
    if requires is None:
        return
    try:
        allowed = SpecifierSet(str(requires))
    except InvalidSpecifier:
        raise LockFileError(f"lock file {location}: invalid requires-python {requires!r}") from None
    if not allowed.contains(python_version, prereleases=True):
        raise LockFileError(
            f"lock file {location} requires Python {requires}; the target runs Python "
            f"{python_version}: lock again for it, or install into another interpreter"
        )


@dataclass(frozen=True)
class _Package:
    request: Request
    #: The version, normalised.
    version: str
    index: str | None
    directories: list[str]
    files: list[LockedFile]
    variants: dict[str, Any] | None


def _package(location: Path, position: int, package: Any) -> _Package:
    where = f"lock file {location}, package {position}"
    if not isinstance(package, dict) or not isinstance(package.get("name"), str):
        raise LockFileError(f"{where}: a package needs a name")
    name = package["name"]
    where = f"lock file {location}, package {name}"
    version = package.get("version")
    wheels = package.get("wheels")
    if not isinstance(wheels, list) or not wheels:
        kinds = [key for key in ("sdist", "vcs", "directory", "archive") if key in package]
        what = f"only a {' or '.join(kinds)}" if kinds else "no wheels"
        raise LockFileError(
            f"{where}: {what}; only wheels are installed from a lock — lock a wheel of it"
        )
    if not isinstance(version, str):
        raise LockFileError(f"{where}: a package installed from wheels needs its version")
    try:
        normalized = str(Version(version))
    except InvalidVersion:
        raise LockFileError(f"{where}: {version!r} is not a version") from None
    hashes: set[str] = set()
    directories: list[str] = []
    files: list[LockedFile] = []
    for wheel in wheels:
        if not isinstance(wheel, dict) or not isinstance(wheel.get("hashes"), dict):
            raise LockFileError(f"{where}: every wheel needs its hashes")
        own = {
            str(algorithm).lower(): digest.lower()
            for algorithm, digest in wheel["hashes"].items()
            if isinstance(digest, str) and _HASH.match(digest)
        }
        hashes.update(f"{algorithm}:{digest}" for algorithm, digest in own.items())
        file_path = wheel.get("path")
        url = wheel.get("url")
        if not isinstance(file_path, str) and isinstance(url, str):
            if urlsplit(url).scheme == "file":
                file_path = str(file_url_path(url))
            else:
                files.append(_locked_file(where, name, wheel, url, own))
        if isinstance(file_path, str):
            found = Path(file_path)
            if not found.is_absolute():
                found = location.parent / found
            directories.append(str(found.parent))
    if not hashes:
        raise LockFileError(f"{where}: no wheel has a hash it can be checked against")
    marker = package.get("marker")
    text = f"{name}=={version}" + (f" ; {marker}" if isinstance(marker, str) and marker else "")
    try:
        request = parse_request(text, f"-r {location}")
    except InvalidRequest as exc:
        raise LockFileError(f"{where}: {exc}") from None
    index = package.get("index")
    variants = package.get("variants-json")
    return _Package(
        replace(request, hashes=frozenset(hashes)),
        normalized,
        index if isinstance(index, str) else None,
        directories,
        files,
        variants if isinstance(variants, dict) else None,
    )


def _locked_file(
    where: str, name: str, wheel: dict[str, Any], url: str, hashes: dict[str, str]
) -> LockedFile:
    """A wheel the lock names by an http(s) URL; its file name, where not given, is the URL's."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise LockFileError(
            f"{where}: wheel URL {url!r} is neither http(s) nor file; give the wheel's URL on an "
            "index or web server, or its path"
        )
    filename = wheel.get("name")
    if not isinstance(filename, str):
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    try:
        parsed = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        raise LockFileError(
            f"{where}: {filename!r} is not a wheel's file name; name the wheel in the entry's "
            "`name`"
        ) from None
    if parsed.name != canonicalize_name(name):
        raise LockFileError(f"{where}: the wheel {filename} is not one of {name}")
    size = wheel.get("size")
    upload = wheel.get("upload-time")
    return LockedFile(
        project=canonicalize_name(name),
        filename=filename,
        url=url,
        hashes=MappingProxyType(hashes),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        upload_time=upload.isoformat() if isinstance(upload, datetime) else None,
    )


__all__ = ["LockFileError", "LockedRequirements", "is_lock_file", "read_lock_file"]

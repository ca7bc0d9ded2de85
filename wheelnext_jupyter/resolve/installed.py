"""Distributions already installed in the target environment.

Read straight from each `*.dist-info` directory: `importlib.metadata` parses METADATA with
`email` again for every field asked (name, version, requirements), about a millisecond per
distribution, which in a notebook's environment (a hundred distributions or more) is a tenth of
a second at every install, and at every listing of the sidebar. Its rules stay: the same entries
in the same order (each directory's entries grouped by the name in their file name, the groups in
the order they first appear), and the first distribution found of a name wins. `*.egg-info`
entries, and the odd `*.dist-info` that is a file or states its requirements only in an
egg-style `requires.txt`, are rare and read through `importlib.metadata` itself.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.record import Record
from wheelnext_jupyter.resolve.metadata_fields import read_fields

if TYPE_CHECKING:
    from collections.abc import Iterable
    from importlib.metadata import Distribution


class InstalledDistribution(Record):
    name: NormalizedName
    version: Version
    #: The variant label from `*.dist-info/variant.json`, or None for a non-variant install.
    variant_label: str | None
    requires_dist: tuple[str, ...]
    #: The raw METADATA text (for Provides-Extra / Default-Extra).
    metadata_text: str
    #: The `*.dist-info` directory.
    path: Path | None
    installer: str | None


#: Runs of separators in the name part of an entry's file name (grouped as `importlib.metadata`
#: groups them).
_SEPARATORS = re.compile(r"[-_.]+")


def installed_distributions(paths: Iterable[Path]) -> dict[str, InstalledDistribution]:
    """Distributions found on `paths` (a target's purelib and platlib), first one wins per name."""
    found: dict[str, InstalledDistribution] = {}
    for directory in dict.fromkeys(Path(p) for p in paths):
        for entry in _entries(directory):
            dist = _read_entry(entry)
            if dist is not None and dist.name not in found:
                found[dist.name] = dist
    return found


def _entries(directory: Path) -> list[Path]:
    """The metadata entries of `directory`, in the order `importlib.metadata` yields them."""
    try:
        children = list(directory.iterdir())
    except OSError:
        return []
    groups: dict[str, list[Path]] = {}
    for child in children:
        low = child.name.lower()
        if low.endswith((".dist-info", ".egg-info")):
            name = low.rpartition(".")[0].partition("-")[0]
            groups.setdefault(_SEPARATORS.sub("_", name), []).append(child)
    return [child for group in groups.values() for child in group]


def _read(directory: Path, name: str) -> str | None:
    try:
        return (directory / name).read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None


def _read_entry(entry: Path) -> InstalledDistribution | None:
    if not entry.name.lower().endswith(".dist-info") or not entry.is_dir():
        return _through_importlib(entry)
    metadata_text = _read(entry, "METADATA")
    text = metadata_text or _read(entry, "PKG-INFO")
    if text is None:
        return None  # no metadata, so no name
    fields = read_fields(text)
    requires = fields.get_all("Requires-Dist")
    if not requires and (entry / "requires.txt").exists():
        return _through_importlib(entry)
    return _record(
        entry,
        fields.get("Name"),
        fields.get("Version"),
        requires,
        metadata_text,
        variant_json=_read(entry, "variant.json"),
        installer=_read(entry, "INSTALLER"),
    )


def _through_importlib(entry: Path) -> InstalledDistribution | None:
    from importlib.metadata import PathDistribution

    dist: Distribution = PathDistribution(entry)
    return _record(
        entry,
        dist.metadata["Name"],
        dist.metadata["Version"],
        dist.requires,
        dist.read_text("METADATA"),
        variant_json=dist.read_text("variant.json"),
        installer=dist.read_text("INSTALLER"),
    )


def _record(
    entry: Path,
    raw_name: str | None,
    version_text: str | None,
    requires: list[str] | None,
    metadata_text: str | None,
    *,
    variant_json: str | None,
    installer: str | None,
) -> InstalledDistribution | None:
    """The record of an entry read either way; None without a name or a valid version."""
    version = _version(version_text)
    if not raw_name or version is None:
        return None
    return InstalledDistribution(
        name=canonicalize_name(raw_name),
        version=version,
        variant_label=_variant_label(variant_json),
        requires_dist=tuple(requires or ()),
        metadata_text=metadata_text or "",
        path=entry,
        installer=(installer or "").strip() or None,
    )


def _version(text: str | None) -> Version | None:
    if text is None:
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _variant_label(text: str | None) -> str | None:
    if not text:
        return None
    try:
        variants = json.loads(text).get("variants", {})
    except (ValueError, AttributeError):
        return None
    # A wheel's variant.json lists exactly its own label.
    return next(iter(variants), None) if isinstance(variants, dict) else None

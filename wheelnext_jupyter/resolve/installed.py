"""Distributions already installed in the target environment."""

from __future__ import annotations

import json
from importlib import metadata as importlib_metadata
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from wheelnext_jupyter.record import Record

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


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


def _variant_label(dist: importlib_metadata.Distribution) -> str | None:
    text = dist.read_text("variant.json")
    if not text:
        return None
    try:
        variants = json.loads(text).get("variants", {})
    except (ValueError, AttributeError):
        return None
    # A wheel's variant.json lists exactly its own label.
    return next(iter(variants), None) if isinstance(variants, dict) else None


def installed_distributions(paths: Iterable[Path]) -> dict[str, InstalledDistribution]:
    """Distributions found on `paths` (a target's purelib and platlib), first one wins per name."""
    found: dict[str, InstalledDistribution] = {}
    search = list(dict.fromkeys(str(p) for p in paths))
    for dist in importlib_metadata.distributions(path=search):
        raw_name = dist.metadata["Name"]
        if not raw_name:
            continue
        name = canonicalize_name(raw_name)
        if name in found:
            continue
        try:
            version = Version(dist.version)
        except InvalidVersion:
            continue
        path = getattr(dist, "_path", None)
        found[name] = InstalledDistribution(
            name=name,
            version=version,
            variant_label=_variant_label(dist),
            requires_dist=tuple(dist.requires or ()),
            metadata_text=dist.read_text("METADATA") or "",
            path=path,
            installer=(dist.read_text("INSTALLER") or "").strip() or None,
        )
    return found

"""Find installed distributions and the files they own, by their RECORD.

Removal itself goes through a transaction (`transaction.py`), which moves the files aside first,
so an upgrade that fails half way can put the old version back.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from wheelnext_jupyter.install.target import TargetEnvironment
from wheelnext_jupyter.record import Record


class UninstallError(RuntimeError):
    """A distribution that cannot be removed safely (e.g. no RECORD); names it and the way out."""


class InstalledRecord(Record):
    """One installed distribution as found on disk."""

    name: NormalizedName
    display_name: str
    version: str
    dist_info: Path

    @property
    def installer(self) -> str | None:
        try:
            return (self.dist_info / "INSTALLER").read_text(encoding="utf-8").strip() or None
        except OSError:
            return None


def iter_installed(target: TargetEnvironment) -> Iterator[InstalledRecord]:
    """Every `*.dist-info` in the target's purelib and platlib."""
    seen: set[Path] = set()
    for directory in (target.scheme.purelib, target.scheme.platlib):
        if directory in seen or not directory.is_dir():
            continue
        seen.add(directory)
        for dist_info in sorted(directory.glob("*.dist-info")):
            try:
                metadata = (dist_info / "METADATA").read_text(encoding="utf-8")
            except OSError:
                continue
            # Imported at the first distribution found: a new environment has none.
            from email.parser import HeaderParser

            headers = HeaderParser().parsestr(metadata, headersonly=True)
            name, version = headers.get("Name"), headers.get("Version")
            if name and version:
                yield InstalledRecord(canonicalize_name(name), name, version, dist_info)


def find_installed(target: TargetEnvironment, name: str) -> InstalledRecord | None:
    wanted = canonicalize_name(name)
    return next((d for d in iter_installed(target) if d.name == wanted), None)


def owned_files(dist: InstalledRecord) -> list[Path]:
    """Files of `dist`: RECORD's entries, the bytecode of its `.py` files, RECORD itself.

    Only existing files, each once; paths that resolve outside the environment are refused,
    since a RECORD is data and could point anywhere.
    """
    record = dist.dist_info / "RECORD"
    try:
        text = record.read_text(encoding="utf-8")
    except OSError:
        raise UninstallError(
            f"{dist.display_name} {dist.version} has no RECORD ({record}), so its files are "
            "unknown; it was not installed from a wheel — remove it with the tool that installed it"
        ) from None
    base = dist.dist_info.parent
    files: dict[Path, None] = {}
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(base / row[0]))
        files[path] = None
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                files.update(dict.fromkeys(sorted(cache.glob(f"{path.stem}.*.pyc"))))
    files[record] = None
    return [path for path in files if path.is_file() or path.is_symlink()]


def top_level_modules(dist: InstalledRecord) -> set[str]:
    """Import names `dist` provides: `top_level.txt` if present, else derived from RECORD."""
    top_level = dist.dist_info / "top_level.txt"
    if top_level.is_file():
        names = {line.strip() for line in top_level.read_text(encoding="utf-8").splitlines()}
        return {name.replace("/", ".") for name in names if name}
    modules: set[str] = set()
    try:
        text = (dist.dist_info / "RECORD").read_text(encoding="utf-8")
    except OSError:
        return modules
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0] or row[0].startswith(".."):
            continue
        first = row[0].split("/", 1)[0]
        if first.endswith((".dist-info", ".data")) or first == "__pycache__":
            continue
        if "/" in row[0]:
            modules.add(first)
        elif first.endswith((".py", ".so", ".pyd")):
            modules.add(first.split(".", 1)[0])
    return modules

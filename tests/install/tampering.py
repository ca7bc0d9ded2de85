"""Make broken copies of good wheels: changed members, with or without a matching RECORD."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Mapping
from pathlib import Path


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def rewrite_wheel(
    source: Path,
    destination: Path,
    *,
    replace: Mapping[str, bytes] | None = None,
    add: Mapping[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    fix_record: bool = True,
) -> Path:
    """Copy `source` to `destination` with members replaced, added or dropped.

    With `fix_record` the RECORD is rewritten to match (so only the named defect remains);
    without, the original RECORD is kept and no longer matches.
    """
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    record_name = next(name for name in members if name.endswith(".dist-info/RECORD"))
    for name in drop:
        del members[name]
    members.update(replace or {})
    members.update(add or {})
    if fix_record:
        rows = [
            f"{name},{_digest(data)},{len(data)}"
            for name, data in members.items()
            if name != record_name
        ]
        members[record_name] = ("\n".join([*rows, f"{record_name},,"]) + "\n").encode()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return destination


def break_local_header(wheel: Path, member: str) -> None:
    """Overwrite `member`'s local header signature in place; the central directory still
    points there."""
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo(member)
    data = bytearray(wheel.read_bytes())
    data[info.header_offset : info.header_offset + 4] = b"XXXX"
    wheel.write_bytes(bytes(data))

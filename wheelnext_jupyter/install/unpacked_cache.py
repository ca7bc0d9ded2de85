"""Unpacked wheels kept in the cache, so installing a wheel a second time is hard links only.

An entry is the members of one wheel file (keyed by the wheel's sha256) as plain files, named by
number (256 to a subdirectory), with a manifest of each member's number, sha256, size and executable
bit. Entries are made from a staging directory after a wheel has been unpacked and checked
there (a hard link per file, no copying) and used only when the cache and the target
environment are on one file system.

The installed files and the cache share inodes. A file changed in place in an environment would
change the cache too, so every file is checked against the manifest (size, and a modification
time not after the entry was made) before it is linked; an entry that fails is removed and the
wheel is unpacked from its archive again.
"""

# Thousands of files per install pass through here: plain strings and `os` calls on that path.
# ruff: noqa: PTH103, PTH104, PTH116, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
_FORMAT = 2
#: Members per subdirectory of an entry: creating a file in a directory of thousands costs about
#: twice as much as in a small one (the native unpacker uses the same layout).
_PER_DIRECTORY = 256


def member_path(directory: str, number: int) -> str:
    """Where member `number` of an entry in `directory` is kept."""
    return os.path.join(directory, str(number // _PER_DIRECTORY), str(number))


class StaleEntry(Exception):
    """A cached file differs from its manifest: the entry was removed, unpack the wheel."""


@dataclass(frozen=True)
class CachedMember:
    number: int
    #: urlsafe base64 sha256 without padding, as RECORD writes it.
    sha256: str
    size: int
    executable: bool


@dataclass(frozen=True)
class CachedWheel:
    """One usable entry: the members of a wheel, ready to be linked."""

    directory: Path
    created_ns: int
    members: dict[str, CachedMember]

    def link(self, member: str, destination: str) -> CachedMember:
        """Hard-link one member to `destination`; raises `StaleEntry` if it was changed."""
        entry = self.members[member]
        source = member_path(str(self.directory), entry.number)
        try:
            facts = os.stat(source)
        except FileNotFoundError:
            raise self.stale() from None
        if facts.st_size != entry.size or facts.st_mtime_ns > self.created_ns:
            raise self.stale()
        os.link(source, destination)
        return entry

    def read(self, member: str) -> bytes:
        entry = self.members[member]
        with open(member_path(str(self.directory), entry.number), "rb") as file:
            data = file.read()
        if len(data) != entry.size:
            raise self.stale()
        return data

    def stale(self) -> StaleEntry:
        """The error for a changed entry, which is removed (the wheel is unpacked again)."""
        shutil.rmtree(self.directory, ignore_errors=True)
        return StaleEntry(f"cached files of {self.directory.name} were changed")


class EntryDraft:
    """An entry being made in a `.part` directory beside its final place, from the files of a
    wheel that is being staged; `publish()` renames it into place, `discard()` removes it.

    Members are files named by number: hard links to staged files, written data, or files a
    caller placed there itself (the native unpacker links as it writes) and only `record`s.
    Any refused link spoils the draft (it is only a cache): it is discarded at `publish()`.
    """

    def __init__(self, final: Path, part: Path) -> None:
        self._final = final
        self._part = part
        self.directory = str(part)
        self._listed: dict[str, list[object]] = {}
        self._made: set[str] = set()
        self._usable = True

    def record(self, member: str, number: int, sha256: str, size: int, executable: bool) -> None:
        """List a member whose file `number` is already in the draft."""
        self._listed[member] = [number, sha256, size, executable]

    def link(
        self, member: str, number: int, path: str, sha256: str, size: int, executable: bool
    ) -> None:
        if not self._usable:
            return
        try:
            os.link(path, self._place(number))
        except OSError:
            self._usable = False
            return
        self.record(member, number, sha256, size, executable)

    def write(self, member: str, number: int, data: bytes, sha256: str, executable: bool) -> None:
        if not self._usable:
            return
        try:
            with open(self._place(number), "xb") as file:
                file.write(data)
        except OSError:
            self._usable = False
            return
        self.record(member, number, sha256, len(data), executable)

    def _place(self, number: int) -> str:
        path = member_path(self.directory, number)
        parent = os.path.dirname(path)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        return path

    def spoil(self) -> None:
        self._usable = False

    def publish(self) -> None:
        """Put the entry in place; any failure leaves no entry."""
        try:
            if self._usable and not self._final.exists():
                # Taken after every file exists: a file modified later has a newer time.
                document = {
                    "format": _FORMAT,
                    "created_ns": time.time_ns(),
                    "members": self._listed,
                }
                # `dumps`, not `dump`: only a one-shot encoding uses the C encoder.
                text = json.dumps(document, separators=(",", ":"))
                with open(self._part / MANIFEST, "x", encoding="utf-8") as file:
                    file.write(text)
                os.rename(self._part, self._final)
        except OSError:
            pass
        finally:
            self.discard()

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            if self._part.exists():
                shutil.rmtree(self._part, ignore_errors=True)


class UnpackedCache:
    """The unpacked-wheel cache in `root`, used for targets on the same file system."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._devices: dict[str, bool] = {}

    def usable_for(self, directory: Path) -> bool:
        """Whether files under `directory` can be hard links to this cache's files."""
        key = str(directory)
        if key not in self._devices:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
                self._devices[key] = os.stat(self.root).st_dev == os.stat(directory).st_dev
            except OSError:
                self._devices[key] = False
        return self._devices[key]

    def lookup(self, wheel_sha256: str) -> CachedWheel | None:
        directory = self.root / wheel_sha256
        try:
            with open(directory / MANIFEST, encoding="utf-8") as file:
                document = json.load(file)
            if document.get("format") != _FORMAT:
                return None
            members = {
                name: CachedMember(int(number), str(digest), int(size), bool(executable))
                for name, (number, digest, size, executable) in document["members"].items()
            }
            return CachedWheel(directory, int(document["created_ns"]), members)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def draft(self, wheel_sha256: str) -> EntryDraft | None:
        """A new entry to fill while the wheel is staged; None if there is one already or
        none can be made."""
        final = self.root / wheel_sha256
        if final.exists():
            return None
        part = self.root / f"{wheel_sha256}.{uuid.uuid4().hex}.part"
        try:
            part.mkdir(parents=True)
        except OSError:
            return None
        return EntryDraft(final, part)


__all__ = ["CachedMember", "CachedWheel", "EntryDraft", "StaleEntry", "UnpackedCache"]
